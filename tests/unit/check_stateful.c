/* check_stateful.c - unit tests for the two-stage pipeline's pieces that
 * need no broker: the processor's map stage and lifecycle stage, and the
 * per-partition store registry. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/mem.h"
#include "lifecycle/lifecycle.h"
#include "pipeline/alert_record.h"
#include "pipeline/config.h"
#include "pipeline/processor.h"
#include "pipeline/stores.h"

static const char config_text[] = "kafka: {brokers: '127.0.0.1:9'}\n"
                                  "inputs:\n"
                                  "  - {topics: [raw], integration: generic}\n"
                                  "output: {topic: events}\n"
                                  "dead_letter_topic: dlq\n"
                                  "actions_topic: actions\n";

#define T0 1795316400000LL

static struct ab_pipeline_config *cfg;

/* What the map stage handed over: the last ALERT or ACTION record as
 * bytes, and the outputs of either stage. */
struct sink {
        struct ab_buf record;
        unsigned char prefix[AB_ALERT_RECORD_ROUTE_LEN];
        char fp[AB_EVENT_ID_LEN + 1];
        int alerts, actions, events, dead_letters;
        char dlq_code[40];
        char dlq_value[200];
        char last_type[40];
        char last_alert_id[AB_EVENT_ID_LEN + 1];
};

static ab_err_t collect(void *arg, const struct ab_output *o)
{
        struct sink *s = arg;

        if (o->kind == AB_OUTPUT_DEAD_LETTER) {
                s->dead_letters++;
                snprintf(s->dlq_code, sizeof(s->dlq_code), "%s",
                         ab_err_code(o->error->code));
                snprintf(s->dlq_value, sizeof(s->dlq_value), "%.*s",
                         (int)o->value.len, o->value.ptr);
                return AB_OK;
        }
        s->events++;
        snprintf(s->last_type, sizeof(s->last_type), "%s",
                 ab_event_type_short(o->event->type));
        snprintf(s->last_alert_id, sizeof(s->last_alert_id), "%s",
                 o->event->alert_id);
        return AB_OK;
}

static ab_err_t on_alert(void *arg, const struct ab_mapped_alert *m)
{
        struct sink *s = arg;
        struct ab_alert_record_alert a;
        struct ab_error err;

        memset(&a, 0, sizeof(a));
        a.integration = ab_str_c(ab_integration_name(m->integration));
        memcpy(a.fp, m->digest, sizeof(a.fp));
        a.event_ms     = m->time_ms;
        a.origin.topic = ab_str_c(m->input->topic);
        a.alert        = m->alert;
        snprintf(s->fp, sizeof(s->fp), "%s", m->fingerprint);
        s->alerts++;
        ab_buf_reset(&s->record);
        return ab_alert_record_encode_alert(&a, &s->record, &err);
}

static ab_err_t on_action(void *arg, const struct ab_input *in,
                          const unsigned char *prefix)
{
        struct sink *s = arg;
        struct ab_alert_record_action a;
        struct ab_error err;

        memset(&a, 0, sizeof(a));
        a.origin.topic = ab_str_c(in->topic);
        a.timestamp_ms = in->timestamp_ms;
        a.key          = in->key;
        a.value        = in->value;
        memcpy(s->prefix, prefix, sizeof(s->prefix));
        s->actions++;
        ab_buf_reset(&s->record);
        return ab_alert_record_encode_action(&a, &s->record, &err);
}

static void input(struct ab_input *in, const char *topic, const char *value,
                  int64_t ts)
{
        memset(in, 0, sizeof(*in));
        in->topic        = topic;
        in->timestamp_ms = ts;
        in->value        = ab_str_c(value);
}

static struct ab_processor *map_processor_of(const struct ab_pipeline_config *c,
                                             struct sink *s)
{
        struct ab_processor_opts o;
        struct ab_processor *p = NULL;
        struct ab_error err;

        memset(&o, 0, sizeof(o));
        o.mode         = AB_PROCESSOR_MAP;
        o.on_alert     = on_alert;
        o.on_action    = on_action;
        o.on_alert_arg = s;
        ab_error_clear(&err);
        ck_assert_int_eq(ab_processor_new_opts(c, NULL, &o, &p, &err), AB_OK);
        ck_assert_ptr_null(ab_processor_lifecycle(p));
        return p;
}

static struct ab_processor *map_processor(struct sink *s)
{
        return map_processor_of(cfg, s);
}

static struct ab_lifecycle *new_store(void)
{
        struct ab_lifecycle_config c;

        memset(&c, 0, sizeof(c));
        c.capture_changes = true;
        return ab_lifecycle_new(&c);
}

/* Map \p value read from \p topic, then apply the record the map stage
 * made to \p lc through \p p; @returns what applying returned. */
static ab_err_t map_and_apply(struct ab_processor *p, struct ab_lifecycle *lc,
                              struct sink *s, const char *topic,
                              const char *value, int64_t ts)
{
        struct ab_alert_record_scratch scratch;
        struct ab_alert_record r;
        struct ab_input in;
        struct ab_error err;
        ab_err_t rc;

        input(&in, topic, value, ts);
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, s), AB_OK);
        memset(&scratch, 0, sizeof(scratch));
        ab_error_clear(&err);
        ck_assert_int_eq(ab_alert_record_decode(s->record.data, s->record.len,
                                                &scratch, &r, &err),
                         AB_OK);
        if (r.kind == AB_ALERT_RECORD_ACTION) {
                in.key   = r.action.key;
                in.value = r.action.value;
        }
        rc = ab_processor_apply(p, lc, &r, &in, collect, s);
        ab_alert_record_scratch_fini(&scratch);
        return rc;
}

static void setup(void)
{
        struct ab_error err;

        ab_error_clear(&err);
        ck_assert_int_eq(
            ab_pipeline_config_load_string(config_text, strlen(config_text),
                                           "test", NULL, &cfg, &err),
            AB_OK);
}

static void teardown(void)
{
        ab_pipeline_config_destroy(cfg);
}

/* The map stage hands alerts and routable actions over, emits no event,
 * and dead-letters what cannot be mapped or routed. */
START_TEST(test_map_stage_outputs)
{
        struct sink s = {0};
        struct ab_processor *p;
        struct ab_input in;

        ab_buf_init(&s.record, 0);
        p = map_processor(&s);
        input(&in, "raw", "{\"alertname\":\"disk\",\"severity\":\"P2\"}", T0);
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, &s), AB_OK);
        ck_assert_int_eq(s.alerts, 1);
        ck_assert_int_eq(s.events, 0);
        input(&in, "raw", "{\"severity\":\"P2\"}", T0);
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, &s), AB_OK);
        ck_assert_str_eq(s.dlq_code, "no_alertname");
        input(&in, "actions", "{\"action\":\"claim\",\"operator\":\"x\"}", T0);
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, &s), AB_OK);
        ck_assert_str_eq(s.dlq_code, "action_invalid");
        ck_assert_int_eq(s.actions, 0);
        input(&in, "actions",
              "{\"action\":\"claim\",\"operator\":\"x\",\"alert_id\":"
              "\"0123456789abcdef0123456789abcdef\"}",
              T0);
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, &s), AB_OK);
        ck_assert_int_eq(s.actions, 1);
        ck_assert_int_eq(s.prefix[0], 0x01);
        ck_assert_int_eq(s.prefix[7], 0xef);
        ck_assert_int_eq(s.dead_letters, 2);
        ck_assert_int_eq(s.events, 0);
        ab_processor_destroy(p);
        ab_buf_fini(&s.record);
}
END_TEST

/* The lifecycle stage applies ALERT and ACTION records to the store it
 * is given: a create, a merge, a claim by alert id; an action on an
 * unknown alert dead-letters the original action. */
START_TEST(test_lifecycle_stage_applies_to_the_given_store)
{
        struct sink s           = {0};
        struct ab_lifecycle *lc = new_store(), *other = new_store();
        struct ab_processor *p;
        const char *firing = "{\"alertname\":\"disk\",\"severity\":\"P2\"}";
        char action[200], alert_id[AB_EVENT_ID_LEN + 1];

        ab_buf_init(&s.record, 0);
        p = map_processor(&s);
        ck_assert_int_eq(map_and_apply(p, lc, &s, "raw", firing, T0), AB_OK);
        ck_assert_int_eq(s.events, 1);
        ck_assert_str_eq(s.last_type, "create");
        snprintf(alert_id, sizeof(alert_id), "%s", s.last_alert_id);
        ck_assert_int_eq(map_and_apply(p, lc, &s, "raw", firing, T0 + 1000),
                         AB_OK);
        ck_assert_int_eq(s.events, 1); /* merged */
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 1);
        ck_assert_uint_eq(ab_lifecycle_pending_changes(lc), 1);
        snprintf(action, sizeof(action),
                 "{\"action\":\"claim\",\"operator\":\"x\",\"alert_id\":"
                 "\"%s\"}",
                 alert_id);
        ck_assert_int_eq(map_and_apply(p, lc, &s, "actions", action, T0 + 2000),
                         AB_OK);
        ck_assert_int_eq(s.events, 2);
        ck_assert_str_eq(s.last_type, "claim");
        /* The same action on a store that does not hold the alert. */
        ck_assert_int_eq(
            map_and_apply(p, other, &s, "actions", action, T0 + 3000), AB_OK);
        ck_assert_int_eq(s.events, 2);
        ck_assert_int_eq(s.dead_letters, 1);
        ck_assert_str_eq(s.dlq_code, "action_unknown_alert");
        ck_assert_str_eq(s.dlq_value, action);
        ab_processor_destroy(p);
        ab_lifecycle_destroy(lc);
        ab_lifecycle_destroy(other);
        ab_buf_fini(&s.record);
}
END_TEST

/* Write an integration "probe" with \p auto_clear to \p path. */
static void write_probe(const char *path, const char *auto_clear)
{
        FILE *f = fopen(path, "w");

        ck_assert_ptr_nonnull(f);
        fprintf(f,
                "name: probe\n"
                "auto_clear: %s\n"
                "fields:\n"
                "  alertname: {direct: $.alertname}\n"
                "  severity: {direct: $.severity}\n",
                auto_clear);
        ck_assert_int_eq(fclose(f), 0);
}

/* The lifecycle stage applies a record with the integration its name
 * means now: after a reload that changed "probe", an alert opened by a
 * record naming it takes the new auto_clear, one opened before keeps
 * the old one. */
START_TEST(test_lifecycle_stage_follows_reload)
{
        struct sink s                     = {0};
        struct ab_lifecycle *lc           = new_store();
        struct ab_pipeline_config *before = NULL, *after = NULL;
        struct ab_processor *p;
        struct ab_error err;
        char dir[] = "/tmp/ab-stateful-XXXXXX", path[64], text[256];

        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/probe.yaml", dir);
        snprintf(text, sizeof(text),
                 "kafka: {brokers: '127.0.0.1:9'}\n"
                 "inputs:\n"
                 "  - {topics: [raw], integration: %s}\n"
                 "output: {topic: events}\n"
                 "dead_letter_topic: dlq\n",
                 path);
        ab_buf_init(&s.record, 0);
        ab_error_clear(&err);
        write_probe(path, "1h");
        ck_assert_int_eq(ab_pipeline_config_load_string(
                             text, strlen(text), "test", NULL, &before, &err),
                         AB_OK);
        p = map_processor_of(before, &s);
        ck_assert_int_eq(map_and_apply(p, lc, &s, "raw",
                                       "{\"alertname\":\"old\","
                                       "\"severity\":\"P2\"}",
                                       T0),
                         AB_OK);
        write_probe(path, "1m");
        ck_assert_int_eq(ab_pipeline_config_load_string(
                             text, strlen(text), "test", NULL, &after, &err),
                         AB_OK);
        ck_assert_int_eq(ab_processor_reload(p, after, &err), AB_OK);
        ck_assert_int_eq(map_and_apply(p, lc, &s, "raw",
                                       "{\"alertname\":\"new\","
                                       "\"severity\":\"P2\"}",
                                       T0),
                         AB_OK);
        ck_assert_int_eq(s.events, 2);
        ck_assert_int_eq(
            ab_processor_expire_store(p, lc, T0 + 2 * 60000, collect, &s),
            AB_OK);
        ck_assert_int_eq(s.events, 3);
        ck_assert_str_eq(s.last_type, "close");
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 1);
        ab_processor_destroy(p);
        ab_lifecycle_destroy(lc);
        ab_pipeline_config_destroy(after);
        ab_pipeline_config_destroy(before);
        ab_buf_fini(&s.record);
        ck_assert_int_eq(unlink(path), 0);
        ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* Changelog entries of a store, as (key, value) pairs. */
struct entries {
        char key[8][AB_EVENT_ID_LEN + 1];
        struct ab_buf value[8];
        bool tombstone[8];
        int n;
};

static ab_err_t keep_entry(void *opaque,
                           const unsigned char fp[AB_LIFECYCLE_FP_LEN],
                           const void *entry, size_t len)
{
        struct entries *e = opaque;

        ab_hex(fp, AB_LIFECYCLE_FP_LEN, e->key[e->n]);
        ab_buf_init(&e->value[e->n], 0);
        e->tombstone[e->n] = entry == NULL;
        if (entry)
                ab_buf_append(&e->value[e->n], entry, len);
        e->n++;
        return AB_OK;
}

/* Restore from a list of entries; only a restored store is handed out
 * (so expiry, which walks ab_stores_at(), never runs on one that is
 * not); dropping forgets it. */
START_TEST(test_store_registry)
{
        struct sink s           = {0};
        struct ab_lifecycle *lc = new_store(), *got;
        struct ab_lifecycle_config c;
        struct ab_processor *p;
        struct ab_stores *st;
        struct entries e;
        struct ab_error err;
        int32_t part;
        char value[100];

        memset(&e, 0, sizeof(e));
        ab_buf_init(&s.record, 0);
        p = map_processor(&s);
        for (int i = 0; i < 3; i++) {
                snprintf(value, sizeof(value),
                         "{\"alertname\":\"a%d\",\"severity\":\"P2\"}", i);
                ck_assert_int_eq(map_and_apply(p, lc, &s, "raw", value, T0),
                                 AB_OK);
        }
        ck_assert_int_eq(
            map_and_apply(p, lc, &s, "raw",
                          "{\"alertname\":\"a1\",\"severity\":\"P2\","
                          "\"status\":\"resolved\"}",
                          T0 + 1),
            AB_OK);
        ck_assert_int_eq(ab_lifecycle_drain_changes(lc, keep_entry, &e), AB_OK);
        ck_assert_int_eq(e.n, 3); /* a1 opened and closed: a tombstone */

        memset(&c, 0, sizeof(c));
        st = ab_stores_new(&c, ab_processor_resolve, p);
        ck_assert_ptr_nonnull(st);
        ck_assert(!ab_stores_unrestored(st, &part));
        ck_assert_int_eq(ab_stores_add(st, 4), AB_OK);
        ck_assert(ab_stores_unrestored(st, &part));
        ck_assert_int_eq(part, 4);
        ck_assert_ptr_null(ab_stores_get(st, 4));
        ck_assert_ptr_null(ab_stores_at(st, 0, &part));
        ab_error_clear(&err);
        for (int i = 0; i < e.n; i++)
                ck_assert_int_eq(
                    ab_stores_restore_record(
                        st, 4, ab_str_c(e.key[i]),
                        e.tombstone[i]
                            ? ab_str_make(NULL, 0)
                            : ab_str_make(e.value[i].data, e.value[i].len),
                        &err),
                    AB_OK);
        /* A record that is no entry is skipped, never fatal. */
        ck_assert_int_eq(ab_stores_restore_record(st, 4, ab_str_c("zz"),
                                                  ab_str_c("junk"), &err),
                         AB_OK);
        ck_assert_uint_eq(ab_stores_skipped(st), 1);
        ck_assert_int_eq(ab_stores_restore_record(st, 5, ab_str_c(e.key[0]),
                                                  ab_str_make(NULL, 0), &err),
                         AB_ERR_NOT_FOUND);
        ck_assert_uint_eq(ab_stores_open_count(st), 0); /* not restored */
        ab_stores_set_restored(st, 4);
        ck_assert(!ab_stores_unrestored(st, &part));
        got = ab_stores_get(st, 4);
        ck_assert_ptr_nonnull(got);
        ck_assert_ptr_eq(ab_stores_at(st, 0, &part), got);
        ck_assert_uint_eq(ab_lifecycle_open_count(got), 2);
        ck_assert_uint_eq(ab_stores_open_count(st), 2);
        /* Restoring records no change to write back. */
        ck_assert_uint_eq(ab_lifecycle_pending_changes(got), 0);
        /* A rebuild starts over, unrestored. */
        ck_assert_int_eq(ab_stores_add(st, 4), AB_OK);
        ck_assert_ptr_null(ab_stores_get(st, 4));
        ck_assert_uint_eq(ab_stores_count(st), 1);
        ab_stores_drop(st, 4);
        ck_assert_uint_eq(ab_stores_count(st), 0);
        ck_assert_ptr_null(ab_stores_get(st, 4));
        for (int i = 0; i < e.n; i++)
                ab_buf_fini(&e.value[i]);
        ab_stores_destroy(st);
        ab_processor_destroy(p);
        ab_lifecycle_destroy(lc);
        ab_buf_fini(&s.record);
}
END_TEST

static Suite *stateful_suite(void)
{
        Suite *s = suite_create("stateful");
        TCase *tc;

        tc = tcase_create("stages");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_map_stage_outputs);
        tcase_add_test(tc, test_lifecycle_stage_applies_to_the_given_store);
        tcase_add_test(tc, test_lifecycle_stage_follows_reload);
        tcase_add_test(tc, test_store_registry);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(stateful_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
