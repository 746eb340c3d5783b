/* check_reload.c - unit tests for hot reload (pipeline/reload.c): which
 * keys reload, validate-then-swap, a bad file keeps the old config, open
 * alerts across a reload. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/mem.h"
#include "pipeline/config.h"
#include "pipeline/pipeline_metrics.h"
#include "pipeline/processor.h"
#include "pipeline/reload.h"

#define T0 1795316400000LL

static char dir[64];
static char cfg_path[128], integ_path[128];
static struct ab_pipeline_config *cfg;
static struct ab_metrics *reg;
static struct ab_pipeline_metrics pm;
static struct ab_reload *rl;
static struct ab_processor *proc;

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");

        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        ck_assert_int_eq(fclose(f), 0);
}

/* The integration with label mapping=\p mapping, deduplicated by \p dedup
 * (a YAML list's items); \p method replaces `value` to break it. */
static void write_integration(const char *mapping, const char *dedup,
                              const char *method)
{
        char text[1024];

        snprintf(text, sizeof(text),
                 "name: rt\n"
                 "auto_clear: 1m\n"
                 "recovery:\n"
                 "  when: {field: $.status, in: [resolved]}\n"
                 "fields:\n"
                 "  alertname: {direct: $.alertname}\n"
                 "  severity: {direct: $.severity}\n"
                 "  source: {direct: $.source}\n"
                 "labels:\n"
                 "  mapping: {%s: %s}\n"
                 "dedup: {fields: [%s]}\n",
                 method, mapping, dedup);
        write_file(integ_path, text);
}

static void write_config(const char *group, const char *owner)
{
        char text[1024];

        snprintf(text, sizeof(text),
                 "kafka: {brokers: '127.0.0.1:9', group: %s}\n"
                 "inputs:\n"
                 "  - {topics: [raw], integration: integ.yaml}\n"
                 "output:\n"
                 "  topic: events\n"
                 "  policies: [{name: p, owner: %s}]\n"
                 "dead_letter_topic: dlq\n",
                 group, owner);
        write_file(cfg_path, text);
}

/* What one record produced: events and the last event's JSON. */
struct sink {
        int events, dead_letters;
        char last[4096];
        char last_key[80];
        char last_type[16];
};

static ab_err_t collect(void *arg, const struct ab_output *o)
{
        struct sink *s = arg;

        if (o->kind == AB_OUTPUT_DEAD_LETTER) {
                s->dead_letters++;
                return AB_OK;
        }
        s->events++;
        snprintf(s->last, sizeof(s->last), "%.*s", (int)o->value.len,
                 o->value.ptr);
        snprintf(s->last_key, sizeof(s->last_key), "%.*s", (int)o->key.len,
                 o->key.ptr);
        snprintf(s->last_type, sizeof(s->last_type), "%s",
                 ab_event_type_short(o->event->type));
        return AB_OK;
}

static struct sink handle(const char *value)
{
        struct sink s;
        struct ab_input in;

        memset(&s, 0, sizeof(s));
        memset(&in, 0, sizeof(in));
        in.topic        = "raw";
        in.timestamp_ms = T0;
        in.value        = ab_str_c(value);
        ck_assert_int_eq(ab_processor_handle(proc, &in, collect, &s), AB_OK);
        return s;
}

static ab_err_t reload(struct ab_error *err)
{
        ab_reload_request(rl);
        ck_assert(ab_reload_pending(rl));
        return ab_reload_apply(rl, proc, err);
}

static int64_t metric(struct ab_metric *m)
{
        return ab_metrics_value(m);
}

static void setup(void)
{
        struct ab_error err;

        snprintf(dir, sizeof(dir), "/tmp/ab-reload-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(cfg_path, sizeof(cfg_path), "%s/pipeline.yaml", dir);
        snprintf(integ_path, sizeof(integ_path), "%s/integ.yaml", dir);
        write_integration("v1", "alertname", "value");
        write_config("g1", "team-a");
        ck_assert_int_eq(ab_pipeline_config_load(cfg_path, &cfg, &err), AB_OK);
        reg = ab_metrics_new();
        ck_assert_int_eq(ab_pipeline_metrics_register(reg, &pm, &err), AB_OK);
        ck_assert_int_eq(ab_reload_new(cfg, &pm, &rl, &err), AB_OK);
        ck_assert_int_eq(ab_processor_new(cfg, &pm, &proc, &err), AB_OK);
}

static void teardown(void)
{
        ab_processor_destroy(proc);
        ab_reload_destroy(rl);
        ab_metrics_destroy(reg);
        ab_pipeline_config_destroy(cfg);
        unlink(cfg_path);
        unlink(integ_path);
        rmdir(dir);
}

START_TEST(test_good_reload_swaps_mapping_and_policies)
{
        struct ab_error err;
        struct sink s;

        ck_assert_int_eq(metric(pm.reload_successful), 1);
        ck_assert_int_gt(metric(pm.reload_success_time), 0);
        ck_assert(!ab_reload_pending(rl));
        s = handle("{\"alertname\":\"a\",\"severity\":\"P2\"}");
        ck_assert_ptr_nonnull(strstr(s.last, "\"mapping\":\"v1\""));
        ck_assert_ptr_nonnull(strstr(s.last, "team-a"));

        write_integration("v2", "alertname", "value");
        write_config("g1", "team-b");
        ck_assert_int_eq(reload(&err), AB_OK);
        ck_assert(!ab_reload_pending(rl));
        s = handle("{\"alertname\":\"b\",\"severity\":\"P2\"}");
        ck_assert_ptr_nonnull(strstr(s.last, "\"mapping\":\"v2\""));
        ck_assert_ptr_nonnull(strstr(s.last, "team-b"));
        ck_assert_int_eq(metric(pm.reload_successful), 1);
        ck_assert_int_eq(metric(pm.reload_failures), 0);
}
END_TEST

START_TEST(test_bad_file_keeps_the_running_config)
{
        struct ab_error err;
        struct sink s;

        write_integration("v2", "alertname", "valu");
        write_config("g1", "team-b");
        ck_assert_int_eq(reload(&err), AB_ERR_CONFIG);
        ck_assert_str_eq(err.path, "labels.mapping.valu");
        ck_assert_ptr_nonnull(strstr(err.text, "integ.yaml"));
        ck_assert_int_eq(metric(pm.reload_failures), 1);
        ck_assert_int_eq(metric(pm.reload_successful), 0);
        /* Nothing of the new config applies, not even the good policy. */
        s = handle("{\"alertname\":\"a\",\"severity\":\"P2\"}");
        ck_assert_ptr_nonnull(strstr(s.last, "\"mapping\":\"v1\""));
        ck_assert_ptr_nonnull(strstr(s.last, "team-a"));

        /* A broken config file: the loader's offset comes through. */
        write_file(cfg_path, "kafka: {brokers: [}\n");
        ck_assert_int_eq(reload(&err), AB_ERR_CONFIG);
        ck_assert_int_eq(metric(pm.reload_failures), 2);

        write_integration("v3", "alertname", "value");
        write_config("g1", "team-a");
        ck_assert_int_eq(reload(&err), AB_OK);
        ck_assert_int_eq(metric(pm.reload_successful), 1);
        s = handle("{\"alertname\":\"b\",\"severity\":\"P2\"}");
        ck_assert_ptr_nonnull(strstr(s.last, "\"mapping\":\"v3\""));
}
END_TEST

START_TEST(test_restart_needed_refuses_the_whole_reload)
{
        struct ab_error err;
        struct sink s;

        write_integration("v2", "alertname", "value");
        write_config("g2", "team-b");
        ck_assert_int_eq(reload(&err), AB_ERR_CONFIG);
        ck_assert_str_eq(err.path, "kafka.group");
        ck_assert_ptr_nonnull(strstr(err.text, "need a restart"));
        s = handle("{\"alertname\":\"a\",\"severity\":\"P2\"}");
        ck_assert_ptr_nonnull(strstr(s.last, "\"mapping\":\"v1\""));
        ck_assert_ptr_nonnull(strstr(s.last, "team-a"));
        ck_assert_int_eq(metric(pm.reload_failures), 1);
}
END_TEST

static ab_err_t note(void *arg, const char *path)
{
        struct ab_buf *b = arg;

        return ab_buf_append(b, path, strlen(path)) || ab_buf_append(b, ";", 1)
                   ? AB_ERR_NOMEM
                   : AB_OK;
}

static struct ab_pipeline_config *load(const char *text)
{
        struct ab_pipeline_config *c = NULL;
        struct ab_error err;

        ck_assert_msg(ab_pipeline_config_load_string(text, strlen(text), "t",
                                                     NULL, &c, &err) == AB_OK,
                      "%s", err.text);
        return c;
}

START_TEST(test_diff_names_every_changed_key)
{
        struct ab_pipeline_config *a = load(
            "kafka: {brokers: 'b:9', group: g, properties: {client.rack: a}}\n"
            "inputs: [{topics: [r1], integration: generic}]\n"
            "output: {topic: o, policies: [{name: p, owner: a}]}\n"
            "dead_letter_topic: d\n");
        struct ab_pipeline_config *b = load(
            "kafka: {brokers: 'b:9', group: h, properties: {client.rack: b}}\n"
            "inputs: [{topics: [r1], integration: alertmanager}]\n"
            "output: {topic: o, policies: [{name: p, owner: b}]}\n"
            "dead_letter_topic: d\n"
            "http: {listen: ''}\n");
        struct ab_pipeline_config *c = load(
            "kafka: {brokers: 'b:9', group: g, properties: {client.rack: a}}\n"
            "inputs: [{topics: [r1]}, {topics: [r2]}]\n"
            "output: {topic: o, policies: [{name: p, owner: a}]}\n"
            "dead_letter_topic: d\n");
        struct ab_buf out;

        ab_buf_init(&out, 0);
        ck_assert_int_eq(ab_pipeline_config_diff(a, a, note, &out), AB_OK);
        ck_assert_uint_eq(out.len, 0);
        ck_assert_int_eq(ab_pipeline_config_diff(a, b, note, &out), AB_OK);
        ck_assert_int_eq(ab_buf_append(&out, "", 1), AB_OK);
        ck_assert_str_eq(out.data,
                         "kafka.group;kafka.properties;inputs[0].integration;"
                         "output.policies[0].owner;http.listen;");
        ab_buf_reset(&out);
        ck_assert_int_eq(ab_pipeline_config_diff(a, c, note, &out), AB_OK);
        ck_assert_int_eq(ab_buf_append(&out, "", 1), AB_OK);
        ck_assert_str_eq(out.data, "inputs;");
        ab_buf_fini(&out);
        ab_pipeline_config_destroy(a);
        ab_pipeline_config_destroy(b);
        ab_pipeline_config_destroy(c);
}
END_TEST

START_TEST(test_open_alert_survives_when_dedup_fields_stay)
{
        struct ab_error err;
        struct sink open, s;

        open = handle("{\"alertname\":\"a\",\"severity\":\"P2\"}");
        ck_assert_str_eq(open.last_type, "create");
        write_integration("v2", "alertname", "value");
        ck_assert_int_eq(reload(&err), AB_OK);
        /* Same fingerprint: merged into the open alert, no new event. */
        s = handle("{\"alertname\":\"a\",\"severity\":\"P2\"}");
        ck_assert_int_eq(s.events, 0);
        s = handle("{\"alertname\":\"a\",\"severity\":\"P2\","
                   "\"status\":\"resolved\"}");
        ck_assert_str_eq(s.last_type, "close");
        ck_assert_str_eq(s.last_key, open.last_key);
        ck_assert_uint_eq(ab_lifecycle_open_count(ab_processor_lifecycle(proc)),
                          0);
}
END_TEST

START_TEST(test_changed_dedup_fields_open_new_alerts)
{
        struct ab_lifecycle *lc = ab_processor_lifecycle(proc);
        struct ab_error err;
        struct sink open, s;

        open = handle("{\"alertname\":\"a\",\"severity\":\"P2\","
                      "\"source\":\"h1\"}");
        write_integration("v2", "alertname, source", "value");
        ck_assert_int_eq(reload(&err), AB_OK);
        /* A new fingerprint: a new alert; the old one stays open. */
        s = handle("{\"alertname\":\"a\",\"severity\":\"P2\","
                   "\"source\":\"h1\"}");
        ck_assert_str_eq(s.last_type, "create");
        ck_assert_str_ne(s.last_key, open.last_key);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 2);
        /* A recovery matches the new alert only. */
        s = handle("{\"alertname\":\"a\",\"severity\":\"P2\","
                   "\"source\":\"h1\",\"status\":\"resolved\"}");
        ck_assert_str_eq(s.last_type, "close");
        ck_assert_str_ne(s.last_key, open.last_key);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 1);
        /* The old alert auto-clears under the integration it was opened
         * with, which the reload kept alive. */
        memset(&s, 0, sizeof(s));
        ck_assert_int_eq(ab_processor_expire(proc, T0 + 3600000, collect, &s),
                         AB_OK);
        ck_assert_str_eq(s.last_type, "close");
        ck_assert_str_eq(s.last_key, open.last_key);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 0);
}
END_TEST

static Suite *reload_suite(void)
{
        Suite *s  = suite_create("reload");
        TCase *tc = tcase_create("reload");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_good_reload_swaps_mapping_and_policies);
        tcase_add_test(tc, test_bad_file_keeps_the_running_config);
        tcase_add_test(tc, test_restart_needed_refuses_the_whole_reload);
        tcase_add_test(tc, test_diff_names_every_changed_key);
        tcase_add_test(tc, test_open_alert_survives_when_dedup_fields_stay);
        tcase_add_test(tc, test_changed_dedup_fields_open_new_alerts);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(reload_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}
