/* check_transform_pool.c - unit tests for pipeline/transform_pool.c, the
 * processor's bind/prepare/finish split it drives, and the processor's
 * options (alert observer, stateless mode, event clock). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "lifecycle/lifecycle.h"
#include "pipeline/config.h"
#include "pipeline/processor.h"
#include "pipeline/transform_pool.h"
#include "transform/event.h"
#include "transform/integration.h"
#include "transform/transform.h"

/*
 * Every test feeds the same record stream through the processor twice:
 * once with ab_processor_handle() (the reference) and once through a pool,
 * and asserts that the two output streams are byte for byte the same. The
 * stream opens, merges and closes alerts and has malformed records, so a
 * record applied out of order or prepared against the wrong input shows
 * up as a different event or dead letter.
 */

#define NRECORDS 3000

static const char config_text[] =
    "kafka: {brokers: '127.0.0.1:9'}\n"
    "inputs:\n"
    "  - {topics: [am], integration: alertmanager}\n"
    "  - {topics: [cm], integration: cloudmonitor}\n"
    "output: {topic: events}\n"
    "dead_letter_topic: dlq\n";

struct record {
        char topic[8];
        char value[1024];
        size_t len;
        int64_t ts;
};

static struct ab_pipeline_config *cfg;
static struct record *recs;

/* Record i: mostly Alertmanager pushes over 40 instances, firing or
 * resolved, some form-encoded CloudMonitor callbacks, and every 97th
 * record cut short (a dead letter). */
static void make_record(struct record *r, unsigned i)
{
        unsigned key = (i * 7919u) % 40u;
        int resolved = (i % 11u) == 5u;
        int n;

        r->ts = 1795316400000LL + (int64_t)i * 250;
        if (i % 5u == 3u) {
                snprintf(r->topic, sizeof(r->topic), "cm");
                n = snprintf(
                    r->value, sizeof(r->value),
                    "alertName=cpu_total&alertState=%s&curValue=%u"
                    "&dimensions=%%7B%%22instanceId%%22%%3A%%22i-%u%%22%%7D"
                    "&expression=%%24Average%%3E90&metricName=cpu_total"
                    "&metricProject=acs_ecs_dashboard&namespace=acs_ecs"
                    "&preTriggerLevel=WARN&ruleId=r-%u&timestamp=%lld"
                    "&triggerLevel=%s&userId=12345",
                    resolved ? "OK" : "ALERT", 90 + i % 10, key, key % 3,
                    (long long)r->ts, resolved ? "OK" : "CRITICAL");
        } else {
                snprintf(r->topic, sizeof(r->topic), "am");
                n = snprintf(
                    r->value, sizeof(r->value),
                    "{\"version\":\"4\",\"status\":\"%s\",\"receiver\":\"r\","
                    "\"alerts\":[{\"status\":\"%s\",\"labels\":{"
                    "\"alertname\":\"HighLatency\",\"instance\":\"host-%u\","
                    "\"severity\":\"%s\",\"job\":\"api\"},\"annotations\":{"
                    "\"summary\":\"latency %u ms\"},"
                    "\"startsAt\":\"2026-11-22T05:00:00Z\"}]}",
                    resolved ? "resolved" : "firing",
                    resolved ? "resolved" : "firing", key,
                    key % 2 ? "critical" : "warning", 100 + i % 50);
        }
        r->len = (size_t)n;
        if (i % 97u == 13u)
                r->len /= 2;
}

static void fill(struct ab_input *in, const struct record *r)
{
        memset(in, 0, sizeof(*in));
        in->topic        = r->topic;
        in->partition    = 0;
        in->offset       = 0;
        in->timestamp_ms = r->ts;
        in->value        = ab_str_make(r->value, r->len);
}

/* Output sink: every output as one line "kind topic key value". */
static ab_err_t collect(void *arg, const struct ab_output *o)
{
        struct ab_buf *b = arg;

        return ab_buf_appendf(b, "%d %s %.*s %.*s\n", (int)o->kind, o->topic,
                              (int)o->key.len, o->key.ptr ? o->key.ptr : "",
                              (int)o->value.len, o->value.ptr);
}

static void setup(void)
{
        struct ab_error err;

        ab_error_clear(&err);
        ck_assert_int_eq(
            ab_pipeline_config_load_string(config_text, strlen(config_text),
                                           "test", NULL, &cfg, &err),
            AB_OK);
        recs = calloc(NRECORDS, sizeof(*recs));
        ck_assert_ptr_nonnull(recs);
        for (unsigned i = 0; i < NRECORDS; i++)
                make_record(&recs[i], i);
}

static void teardown(void)
{
        free(recs);
        ab_pipeline_config_destroy(cfg);
}

static void reference(struct ab_buf *out)
{
        struct ab_processor *p = NULL;
        struct ab_error err;
        struct ab_input in;

        ab_error_clear(&err);
        ck_assert_int_eq(ab_processor_new(cfg, NULL, &p, &err), AB_OK);
        for (unsigned i = 0; i < NRECORDS; i++) {
                fill(&in, &recs[i]);
                ck_assert_int_eq(ab_processor_handle(p, &in, collect, out),
                                 AB_OK);
        }
        ab_processor_destroy(p);
}

/* Finish the oldest slot and check it carries record \p *next. */
static void finish_one(struct ab_processor *p, struct ab_transform_pool *tp,
                       struct ab_transform_pool_slot *s, unsigned *next,
                       struct ab_buf *out)
{
        ck_assert_ptr_eq(s->record, &recs[*next]);
        ck_assert_int_eq(ab_processor_finish(p, s->job, &s->in, collect, out),
                         AB_OK);
        ab_transform_pool_pop(tp);
        (*next)++;
}

/*
 * Drive a pool the way the pipeline does: bursts of submissions of
 * varying size, then finish what is ready; a full pool waits for the
 * oldest. At the end, drain everything.
 */
static void through_pool(unsigned threads, size_t slots, struct ab_buf *out)
{
        struct ab_processor *p       = NULL;
        struct ab_transform_pool *tp = NULL;
        struct ab_transform_pool_slot *s;
        struct ab_error err;
        unsigned sent = 0, next = 0;

        ab_error_clear(&err);
        ck_assert_int_eq(ab_processor_new(cfg, NULL, &p, &err), AB_OK);
        ck_assert_int_eq(ab_transform_pool_new(threads, slots, &tp, &err),
                         AB_OK);
        while (sent < NRECORDS) {
                unsigned burst = 1 + (sent * 31u) % 23u;

                for (unsigned b = 0; b < burst && sent < NRECORDS; b++) {
                        s = ab_transform_pool_reserve(tp);
                        if (!s)
                                break;
                        ck_assert_ptr_eq(ab_transform_pool_reserve(tp), s);
                        fill(&s->in, &recs[sent]);
                        s->record = &recs[sent];
                        ab_processor_bind(p, s->job, &s->in);
                        ab_transform_pool_submit(tp);
                        sent++;
                }
                ab_transform_pool_kick(tp);
                while ((s = ab_transform_pool_oldest(
                            tp, ab_transform_pool_full(tp) ? -1 : 0)))
                        finish_one(p, tp, s, &next, out);
        }
        while ((s = ab_transform_pool_oldest(tp, -1)))
                finish_one(p, tp, s, &next, out);
        ck_assert_uint_eq(next, NRECORDS);
        ck_assert_uint_eq(ab_transform_pool_pending(tp), 0);
        ab_transform_pool_destroy(tp);
        ab_processor_destroy(p);
}

static void check_same(unsigned threads, size_t slots)
{
        struct ab_buf want, got;

        ab_buf_init(&want, 0);
        ab_buf_init(&got, 0);
        reference(&want);
        through_pool(threads, slots, &got);
        /* The stream is not trivial: creates, closes and dead letters. */
        ck_assert_ptr_nonnull(strstr(want.data, "alarm:create"));
        ck_assert_ptr_nonnull(strstr(want.data, "alarm:close"));
        ck_assert_ptr_nonnull(strstr(want.data, "\n1 dlq "));
        ck_assert_uint_eq(got.len, want.len);
        ck_assert_int_eq(memcmp(got.data, want.data, want.len), 0);
        ab_buf_fini(&want);
        ab_buf_fini(&got);
}

START_TEST(test_inline_matches_handle)
{
        check_same(0, 16);
}
END_TEST

START_TEST(test_one_thread_matches_handle)
{
        check_same(1, 256);
}
END_TEST

/* Three workers finish slots out of order; the owner still applies them
 * in order. A ring of 8 keeps the pool full most of the time. */
START_TEST(test_three_threads_small_ring_match_handle)
{
        check_same(3, 8);
}
END_TEST

START_TEST(test_empty_and_full)
{
        struct ab_processor *p       = NULL;
        struct ab_transform_pool *tp = NULL;
        struct ab_transform_pool_slot *s, *first = NULL;
        struct ab_error err;
        size_t n = 0;

        ab_error_clear(&err);
        ck_assert_int_eq(ab_processor_new(cfg, NULL, &p, &err), AB_OK);
        /* 5 slots round up to 8. */
        ck_assert_int_eq(ab_transform_pool_new(2, 5, &tp, &err), AB_OK);
        ck_assert_ptr_null(ab_transform_pool_oldest(tp, 0));
        ck_assert_ptr_null(ab_transform_pool_oldest(tp, 50));
        ck_assert_ptr_null(ab_transform_pool_oldest(tp, -1));
        while ((s = ab_transform_pool_reserve(tp))) {
                if (!first)
                        first = s;
                fill(&s->in, &recs[n]);
                s->record = &recs[n];
                ab_processor_bind(p, s->job, &s->in);
                ab_transform_pool_submit(tp);
                n++;
        }
        ck_assert_uint_eq(n, 8);
        ck_assert(ab_transform_pool_full(tp));
        ck_assert_uint_eq(ab_transform_pool_pending(tp), 8);
        /* Not kicked yet: waiting publishes the slots itself. */
        s = ab_transform_pool_oldest(tp, -1);
        ck_assert_ptr_eq(s, first);
        ab_transform_pool_pop(tp);
        ck_assert(!ab_transform_pool_full(tp));
        ck_assert_ptr_nonnull(ab_transform_pool_reserve(tp));
        while ((s = ab_transform_pool_oldest(tp, -1)))
                ab_transform_pool_pop(tp);
        ck_assert_uint_eq(ab_transform_pool_pending(tp), 0);
        ab_transform_pool_destroy(tp);
        ab_processor_destroy(p);
}
END_TEST

/* ab_transform_pool_finish() hands slots over in order and pops each,
 * stopping at the first error; discard pops the rest unfinished. */
struct finish_log {
        const void *seen[8];
        size_t n, fail_at;
        const void *dropped[8];
        size_t ndropped;
};

static struct finish_log flog;

static ab_err_t log_finish(void *arg, struct ab_transform_pool_slot *s)
{
        struct finish_log *l = arg;

        l->seen[l->n++] = s->record;
        return l->n == l->fail_at ? AB_ERR_INTERNAL : AB_OK;
}

static void log_drop(void *record)
{
        flog.dropped[flog.ndropped++] = record;
}

START_TEST(test_finish_and_discard)
{
        struct ab_processor *p       = NULL;
        struct ab_transform_pool *tp = NULL;
        struct ab_transform_pool_slot *s;
        struct ab_error err;

        ab_error_clear(&err);
        memset(&flog, 0, sizeof(flog));
        flog.fail_at = 3;
        ck_assert_int_eq(ab_processor_new(cfg, NULL, &p, &err), AB_OK);
        ck_assert_int_eq(ab_transform_pool_new(1, 8, &tp, &err), AB_OK);
        ck_assert_int_eq(ab_transform_pool_finish(tp, 0, log_finish, &flog),
                         AB_OK);
        for (size_t i = 0; i < 5; i++) {
                s = ab_transform_pool_reserve(tp);
                fill(&s->in, &recs[i]);
                s->record = &recs[i];
                ab_processor_bind(p, s->job, &s->in);
                ab_transform_pool_submit(tp);
        }
        ck_assert_int_eq(ab_transform_pool_finish(tp, -1, log_finish, &flog),
                         AB_ERR_INTERNAL);
        ck_assert_uint_eq(flog.n, 3);
        for (size_t i = 0; i < 3; i++)
                ck_assert_ptr_eq(flog.seen[i], &recs[i]);
        /* The failed slot was popped too; two are left. */
        ck_assert_uint_eq(ab_transform_pool_pending(tp), 2);
        ab_transform_pool_discard(tp, log_drop);
        ck_assert_uint_eq(ab_transform_pool_pending(tp), 0);
        ck_assert_uint_eq(flog.ndropped, 2);
        ck_assert_ptr_eq(flog.dropped[0], &recs[3]);
        ck_assert_ptr_eq(flog.dropped[1], &recs[4]);
        ab_transform_pool_destroy(tp);
        ab_processor_destroy(p);
}
END_TEST

/* A job remembers why binding failed; finish turns it into the dead
 * letter, exactly as handle does. */
START_TEST(test_bind_rejects)
{
        struct ab_processor *p = NULL;
        struct ab_processor_job *j;
        struct ab_error err;
        struct ab_input in;
        struct ab_buf out;

        ab_error_clear(&err);
        ab_buf_init(&out, 0);
        ck_assert_int_eq(ab_processor_new(cfg, NULL, &p, &err), AB_OK);
        j = ab_processor_job_new();
        ck_assert_ptr_nonnull(j);
        fill(&in, &recs[0]);
        in.topic = "unbound";
        ab_processor_bind(p, j, &in);
        ab_processor_prepare(j, &in);
        ck_assert_int_eq(ab_processor_finish(p, j, &in, collect, &out), AB_OK);
        ck_assert_ptr_eq(strstr(out.data, "1 dlq "), out.data);
        ab_processor_job_destroy(j);
        ab_processor_destroy(p);
        ab_buf_fini(&out);
}
END_TEST

/* ---------------------------------------------------------------- modes */

/* Two alerts: a firing one with a start time, a resolved one without. */
static const char two_alerts[] =
    "{\"version\":\"4\",\"status\":\"firing\",\"receiver\":\"r\","
    "\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\","
    "\"instance\":\"h1\",\"severity\":\"critical\"},"
    "\"startsAt\":\"2026-11-22T05:00:00Z\"},"
    "{\"status\":\"resolved\",\"labels\":{\"alertname\":\"B\","
    "\"instance\":\"h2\",\"severity\":\"warning\"}}]}";

#define OBS_MAX 8

/* What the alert observer saw. */
struct observed {
        size_t n;
        char fp[OBS_MAX][AB_EVENT_ID_LEN + 1];
        size_t index[OBS_MAX];
        size_t nalerts[OBS_MAX];
        int64_t time_ms[OBS_MAX];
        ab_err_t fail; /* returned from the next call */
};

static ab_err_t observe(void *arg, const struct ab_mapped_alert *m)
{
        struct observed *o = arg;
        char fp[AB_EVENT_ID_LEN + 1];

        ck_assert_uint_lt(o->n, OBS_MAX);
        ck_assert_str_eq(ab_integration_name(m->integration), "alertmanager");
        ab_lifecycle_fingerprint(m->integration, m->alert, fp);
        ck_assert_str_eq(m->fingerprint, fp);
        memcpy(o->fp[o->n], fp, sizeof(fp));
        o->index[o->n]   = m->alert->index;
        o->nalerts[o->n] = m->nalerts;
        o->time_ms[o->n] = m->time_ms;
        o->n++;
        return o->fail;
}

static struct ab_processor *make(enum ab_processor_mode mode,
                                 enum ab_processor_clock clock,
                                 struct observed *obs)
{
        struct ab_processor_opts opts = {mode, clock, observe, obs, NULL};
        struct ab_processor *p        = NULL;
        struct ab_error err;

        ab_error_clear(&err);
        ck_assert_int_eq(ab_processor_new_opts(cfg, NULL, &opts, &p, &err),
                         AB_OK);
        return p;
}

static void input_of(struct ab_input *in, const char *value, int64_t ts)
{
        memset(in, 0, sizeof(*in));
        in->topic        = "am";
        in->timestamp_ms = ts;
        in->value        = ab_str_c(value);
}

/* The observer sees every mapped alert, with its fingerprint, before the
 * lifecycle applies it; nothing for a dead letter; its error stops the
 * record. */
START_TEST(test_observer)
{
        struct observed obs;
        struct ab_processor *p;
        struct ab_input in;
        struct ab_buf out;
        char want[64];

        memset(&obs, 0, sizeof(obs));
        ab_buf_init(&out, 0);
        p = make(AB_PROCESSOR_LIFECYCLE, AB_PROCESSOR_CLOCK_RECORD, &obs);
        input_of(&in, two_alerts, 1795316400000LL);
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, &out), AB_OK);
        ck_assert_uint_eq(obs.n, 2);
        for (size_t i = 0; i < 2; i++) {
                ck_assert_uint_eq(obs.index[i], i);
                ck_assert_uint_eq(obs.nalerts[i], 2);
                ck_assert_int_eq(obs.time_ms[i], 1795316400000LL);
        }
        /* The firing alert opened: its event is keyed by that fingerprint. */
        snprintf(want, sizeof(want), "0 events %s ", obs.fp[0]);
        ck_assert_ptr_eq(strstr(out.data, want), out.data);

        in.value.len /= 2;
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, &out), AB_OK);
        ck_assert_uint_eq(obs.n, 2);
        ck_assert_ptr_nonnull(strstr(out.data, "\n1 dlq "));

        ab_buf_reset(&out);
        obs.fail     = AB_ERR_INTERNAL;
        in.value.len = strlen(two_alerts);
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, &out),
                         AB_ERR_INTERNAL);
        ck_assert_uint_eq(obs.n, 3);
        ck_assert_uint_eq(out.len, 0);
        ab_processor_destroy(p);
        ab_buf_fini(&out);
}
END_TEST

/* The event `alertbridge test` printed for alert \p a before the processor
 * had a stateless mode: ab_event_from_alert() with the fingerprint as the
 * alert id, and the configured source. */
static void stateless_event(const struct ab_alert *a, const struct ab_str v,
                            int64_t at, struct ab_buf *out)
{
        struct ab_integration *integ = NULL;
        struct ab_event ev;

        ck_assert_int_eq(ab_integration_load("alertmanager", &integ, NULL),
                         AB_OK);
        ab_event_from_alert(&ev, a, "alertmanager", v.ptr, v.len, at);
        ab_lifecycle_fingerprint(integ, a, ev.fingerprint);
        memcpy(ev.alert_id, ev.fingerprint, sizeof(ev.alert_id));
        ev.source = cfg->output.source;
        ck_assert_int_eq(ab_buf_appendf(out, "0 events %s ", ev.fingerprint),
                         AB_OK);
        ck_assert_int_eq(ab_event_write(out, &ev), AB_OK);
        ck_assert_int_eq(ab_buf_append_char(out, '\n'), AB_OK);
        ab_integration_destroy(integ);
}

/* Stateless: one event per alert, every time (no dedup), at the alert's
 * start or else the record's timestamp as given (even negative), byte for
 * byte the event `alertbridge test` prints. */
START_TEST(test_stateless)
{
        struct ab_integration *integ = NULL;
        struct ab_transform *tf      = ab_transform_new();
        const struct ab_alert *alerts;
        struct observed obs;
        struct ab_processor *p;
        struct ab_input in;
        struct ab_buf got, want;
        size_t n;

        memset(&obs, 0, sizeof(obs));
        ab_buf_init(&got, 0);
        ab_buf_init(&want, 0);
        p = make(AB_PROCESSOR_STATELESS, AB_PROCESSOR_CLOCK_ALERT_START, &obs);
        ck_assert_ptr_null(ab_processor_lifecycle(p));
        input_of(&in, two_alerts, -5);
        for (int round = 0; round < 2; round++)
                ck_assert_int_eq(ab_processor_handle(p, &in, collect, &got),
                                 AB_OK);
        ck_assert_int_eq(ab_processor_expire(p, INT64_MAX, collect, &got),
                         AB_OK);
        ck_assert_uint_eq(obs.n, 4);
        ck_assert_int_eq(obs.time_ms[0], 1795323600000LL);
        ck_assert_int_eq(obs.time_ms[1], -5);

        ck_assert_ptr_nonnull(tf);
        ck_assert_int_eq(ab_integration_load("alertmanager", &integ, NULL),
                         AB_OK);
        ck_assert_int_eq(ab_transform_run(tf, integ, in.value.ptr, in.value.len,
                                          AB_CONTENT_AUTO, &alerts, &n, NULL),
                         AB_OK);
        ck_assert_uint_eq(n, 2);
        for (int round = 0; round < 2; round++)
                for (size_t i = 0; i < n; i++)
                        stateless_event(&alerts[i], in.value, obs.time_ms[i],
                                        &want);
        ck_assert_ptr_nonnull(strstr(want.data, "alarm:create"));
        ck_assert_ptr_nonnull(strstr(want.data, "alarm:close"));
        ck_assert_msg(!strcmp(got.data, want.data),
                      "stateless events differ:\n%.600s\n%.600s", got.data,
                      want.data);
        ab_transform_destroy(tf);
        ab_integration_destroy(integ);
        ab_processor_destroy(p);
        ab_buf_fini(&got);
        ab_buf_fini(&want);
}
END_TEST

/* A stateless processor has no lifecycle to apply actions to. */
START_TEST(test_stateless_no_actions)
{
        static const char text[]        = "kafka: {brokers: '127.0.0.1:9'}\n"
                                          "inputs: [{topics: [am], integration: "
                                          "alertmanager}]\n"
                                          "output: {topic: events}\n"
                                          "dead_letter_topic: dlq\n"
                                          "actions_topic: actions\n";
        struct ab_processor_opts opts   = {AB_PROCESSOR_STATELESS,
                                           AB_PROCESSOR_CLOCK_RECORD, NULL, NULL,
                                           NULL};
        struct ab_pipeline_config *acfg = NULL;
        struct ab_processor *p          = NULL;
        struct ab_error err;

        ab_error_clear(&err);
        ck_assert_int_eq(ab_pipeline_config_load_string(
                             text, strlen(text), "test", NULL, &acfg, &err),
                         AB_OK);
        ck_assert_int_eq(ab_processor_new_opts(acfg, NULL, &opts, &p, &err),
                         AB_ERR_CONFIG);
        ck_assert_ptr_null(p);
        ck_assert_str_eq(err.path, "actions_topic");
        ab_pipeline_config_destroy(acfg);
}
END_TEST

static Suite *suite(void)
{
        Suite *s   = suite_create("transform_pool");
        TCase *tc  = tcase_create("order");
        TCase *api = tcase_create("api");
        TCase *opt = tcase_create("options");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_inline_matches_handle);
        tcase_add_test(tc, test_one_thread_matches_handle);
        tcase_add_test(tc, test_three_threads_small_ring_match_handle);
        tcase_add_checked_fixture(api, setup, teardown);
        tcase_add_test(api, test_empty_and_full);
        tcase_add_test(api, test_bind_rejects);
        tcase_add_test(api, test_finish_and_discard);
        tcase_add_checked_fixture(opt, setup, teardown);
        tcase_add_test(opt, test_observer);
        tcase_add_test(opt, test_stateless);
        tcase_add_test(opt, test_stateless_no_actions);
        suite_add_tcase(s, tc);
        suite_add_tcase(s, api);
        suite_add_tcase(s, opt);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
