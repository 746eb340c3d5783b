/* check_processor.c - unit tests for the processor's error rule: what
 * becomes a dead letter and what stops the record. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "pipeline/config.h"
#include "pipeline/processor.h"
#include "transform/integration.h"

static const char config_text[] = "kafka: {brokers: '127.0.0.1:9'}\n"
                                  "inputs:\n"
                                  "  - {topics: [raw], integration: generic}\n"
                                  "  - {topics: [named]}\n"
                                  "output: {topic: events}\n"
                                  "dead_letter_topic: dlq\n"
                                  "actions_topic: actions\n";

/* No integration loaded up front: the first one a header names is the
 * first the processor keeps. */
static const char named_config_text[] = "kafka: {brokers: '127.0.0.1:9'}\n"
                                        "inputs:\n"
                                        "  - {topics: [named]}\n"
                                        "output: {topic: events}\n"
                                        "dead_letter_topic: dlq\n";

#define T0 1795316400000LL

static struct ab_pipeline_config *cfg;

/* What the processor handed over; events fail with `fail_events` (as a
 * producer that cannot deliver would) while it is set. */
struct sink {
        ab_err_t fail_events;
        int events, dead_letters;
        char last_key[80];
        char dlq_code[40];
        char dlq_integration[40];
        char dlq_text[480];
        char last_type[40];
        char last_value[4096];
};

static ab_err_t collect(void *arg, const struct ab_output *o)
{
        struct sink *s = arg;

        if (o->kind == AB_OUTPUT_DEAD_LETTER) {
                s->dead_letters++;
                snprintf(s->dlq_code, sizeof(s->dlq_code), "%s",
                         ab_err_code(o->error->code));
                snprintf(s->dlq_text, sizeof(s->dlq_text), "%s",
                         o->error->text);
                snprintf(s->dlq_integration, sizeof(s->dlq_integration), "%s",
                         o->integration ? o->integration : "");
                return AB_OK;
        }
        if (s->fail_events)
                return s->fail_events;
        s->events++;
        snprintf(s->last_key, sizeof(s->last_key), "%.*s", (int)o->key.len,
                 o->key.ptr);
        snprintf(s->last_type, sizeof(s->last_type), "%s",
                 ab_event_type_short(o->event->type));
        snprintf(s->last_value, sizeof(s->last_value), "%.*s",
                 (int)o->value.len, o->value.ptr);
        return AB_OK;
}

static void input(struct ab_input *in, const char *topic, const char *value,
                  int64_t ts)
{
        memset(in, 0, sizeof(*in));
        in->topic        = topic;
        in->timestamp_ms = ts;
        in->value        = ab_str_c(value);
}

static struct ab_processor *new_processor(void)
{
        struct ab_processor *p = NULL;
        struct ab_error err;

        ab_error_clear(&err);
        ck_assert_int_eq(ab_processor_new(cfg, NULL, &p, &err), AB_OK);
        return p;
}

/* Open one alert; @returns its fingerprint in \p fp. */
static void open_alert(struct ab_processor *p, char *fp, size_t n)
{
        struct sink s = {0};
        struct ab_input in;

        input(&in, "raw", "{\"alertname\":\"disk\",\"severity\":\"P2\"}", T0);
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, &s), AB_OK);
        ck_assert_int_eq(s.events, 1);
        snprintf(fp, n, "%s", s.last_key);
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

/* REJECT from mapping: a dead letter, and the call succeeds. */
START_TEST(test_mapping_rejection_is_a_dead_letter)
{
        struct ab_processor *p = new_processor();
        struct sink s          = {0};
        struct ab_input in;

        input(&in, "raw", "{\"severity\":\"P2\"}", T0);
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, &s), AB_OK);
        ck_assert_int_eq(s.dead_letters, 1);
        ck_assert_str_eq(s.dlq_code, "no_alertname");
        ck_assert_str_eq(s.dlq_integration, "generic");
        ab_processor_destroy(p);
}
END_TEST

/* REJECT from binding and from an action: dead letters too. */
START_TEST(test_binding_and_action_rejections_are_dead_letters)
{
        struct ab_processor *p = new_processor();
        struct sink s          = {0};
        struct ab_input in;

        input(&in, "named", "{}", T0);
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, &s), AB_OK);
        ck_assert_str_eq(s.dlq_code, "no_integration");
        input(&in, "actions",
              "{\"action\":\"claim\",\"operator\":\"alice\","
              "\"fingerprint\":\"00000000000000000000000000000000\"}",
              T0);
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, &s), AB_OK);
        ck_assert_str_eq(s.dlq_code, "action_unknown_alert");
        ck_assert_int_eq(s.dead_letters, 2);
        ck_assert_int_eq(s.events, 0);
        ab_processor_destroy(p);
}
END_TEST

/* A header with a NUL or other unprintable bytes is rejected, and the
 * message shows every byte of it, escaped (it printed 'gen' for
 * "gen\0eric"). */
START_TEST(test_header_name_is_escaped_not_cut)
{
        static const char name[] = "gen\0eric\x01'";
        struct ab_processor *p   = new_processor();
        struct sink s            = {0};
        struct ab_input in;

        input(&in, "named", "{\"alertname\":\"a\",\"severity\":\"P2\"}", T0);
        in.integration = ab_str_make(name, sizeof(name) - 1);
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, &s), AB_OK);
        ck_assert_int_eq(s.dead_letters, 1);
        ck_assert_str_eq(s.dlq_code, "no_integration");
        ck_assert_msg(strstr(s.dlq_text, "'gen\\x00eric\\x01\\''"), "%s",
                      s.dlq_text);
        ab_processor_destroy(p);
}
END_TEST

/* lifecycle.max_action_field reaches the lifecycle: an operator over it
 * is a dead letter (action_invalid) and no claim is emitted. */
START_TEST(test_max_action_field_is_configured)
{
        static const char text[]         = "kafka: {brokers: '127.0.0.1:9'}\n"
                                           "inputs:\n"
                                           "  - {topics: [raw], integration: generic}\n"
                                           "output: {topic: events}\n"
                                           "dead_letter_topic: dlq\n"
                                           "actions_topic: actions\n"
                                           "lifecycle: {max_action_field: 64}\n";
        struct ab_pipeline_config *small = NULL;
        struct ab_processor *p           = NULL;
        struct sink s                    = {0};
        char fp[80], claim[512], op[80];
        struct ab_error err;
        struct ab_input in;

        ab_error_clear(&err);
        ck_assert_int_eq(ab_pipeline_config_load_string(
                             text, strlen(text), "test", NULL, &small, &err),
                         AB_OK);
        ck_assert_int_eq(small->lifecycle.max_action_field, 64);
        ck_assert_int_eq(ab_processor_new(small, NULL, &p, &err), AB_OK);
        open_alert(p, fp, sizeof(fp));
        memset(op, 'o', 65);
        op[65] = '\0';
        snprintf(claim, sizeof(claim),
                 "{\"action\":\"claim\",\"operator\":\"%s\","
                 "\"fingerprint\":\"%s\"}",
                 op, fp);
        input(&in, "actions", claim, T0 + 1);
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, &s), AB_OK);
        ck_assert_int_eq(s.dead_letters, 1);
        ck_assert_int_eq(s.events, 0);
        ck_assert_str_eq(s.dlq_code, "action_invalid");
        ck_assert_ptr_nonnull(strstr(s.dlq_text, "operator is 65 bytes"));
        ab_processor_destroy(p);
        ab_pipeline_config_destroy(small);
}
END_TEST

/*
 * Defect: Alertmanager's externalURL, receiver, generatorURL and own
 * fingerprint were dropped and its severity label replaced by the P-level.
 * They are kept through the lifecycle: the claim of an alert (built from
 * the stored alert, not the payload) still carries them.
 */
START_TEST(test_alertmanager_fields_are_kept)
{
        static const char payload[] =
            "{\"receiver\":\"team-x\",\"status\":\"firing\","
            "\"externalURL\":\"http://am.example:9093\",\"alerts\":[{"
            "\"status\":\"firing\",\"labels\":{\"alertname\":\"Disk\","
            "\"severity\":\"major\"},\"annotations\":{},"
            "\"generatorURL\":\"http://prom.example/graph\","
            "\"fingerprint\":\"0123456789abcdef\"}]}";
        struct ab_processor *p = new_processor();
        struct sink s          = {0};
        char claim[256], fp[80];
        struct ab_input in;

        input(&in, "named", payload, T0);
        in.integration = ab_str_c("alertmanager");
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, &s), AB_OK);
        ck_assert_int_eq(s.events, 1);
        snprintf(fp, sizeof(fp), "%s", s.last_key);
        snprintf(claim, sizeof(claim),
                 "{\"action\":\"claim\",\"operator\":\"alice\","
                 "\"fingerprint\":\"%s\"}",
                 fp);
        input(&in, "actions", claim, T0 + 1);
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, &s), AB_OK);
        ck_assert_int_eq(s.events, 2);
        ck_assert_str_eq(s.last_type, "claim");
        ck_assert_ptr_nonnull(strstr(s.last_value, "\"level\":\"P2\""));
        ck_assert_msg(strstr(s.last_value, "\"externalURL\":"
                                           "\"http://am.example:9093\""),
                      "%s", s.last_value);
        ck_assert_ptr_nonnull(strstr(s.last_value, "\"receiver\":\"team-x\""));
        ck_assert_ptr_nonnull(strstr(s.last_value, "\"generatorURL\":"
                                                   "\"http://prom.example/"
                                                   "graph\""));
        ck_assert_ptr_nonnull(strstr(s.last_value, "\"source_fingerprint\":"
                                                   "\"0123456789abcdef\""));
        ck_assert_ptr_nonnull(
            strstr(s.last_value, "\"source_severity\":\"major\""));
        ck_assert_ptr_nonnull(strstr(s.last_value, "\"severity\":\"P2\""));
        ab_processor_destroy(p);
}
END_TEST

/* A failed event emit stops the record: the error is returned, nothing is
 * dead-lettered. */
START_TEST(test_failed_mapping_emit_stops_the_record)
{
        struct ab_processor *p = new_processor();
        struct sink s          = {.fail_events = AB_ERR_KAFKA};
        struct ab_input in;

        input(&in, "raw", "{\"alertname\":\"disk\",\"severity\":\"P2\"}", T0);
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, &s),
                         AB_ERR_KAFKA);
        ck_assert_int_eq(s.dead_letters, 0);
        ab_processor_destroy(p);
}
END_TEST

/*
 * Defect: a claim whose event could not be delivered was dead-lettered
 * with code `kafka` and the call reported success, so the record was
 * completed and the claim lost. Now it stops the record like a failed
 * mapping emit, and handling the record again delivers the claim.
 */
START_TEST(test_failed_action_emit_stops_the_record)
{
        struct ab_processor *p = new_processor();
        struct sink s          = {0};
        char fp[80], claim[256];
        struct ab_input in;

        open_alert(p, fp, sizeof(fp));
        snprintf(claim, sizeof(claim),
                 "{\"action\":\"claim\",\"operator\":\"alice\","
                 "\"fingerprint\":\"%s\"}",
                 fp);
        input(&in, "actions", claim, T0 + 1);
        s.fail_events = AB_ERR_KAFKA;
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, &s),
                         AB_ERR_KAFKA);
        ck_assert_int_eq(s.dead_letters, 0);
        ck_assert_int_eq(s.events, 0);
        /* The caller did not complete the record: it comes again. */
        s.fail_events = AB_OK;
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, &s), AB_OK);
        ck_assert_int_eq(s.dead_letters, 0);
        ck_assert_int_eq(s.events, 1);
        ck_assert_str_eq(s.last_type, "claim");
        ab_processor_destroy(p);
}
END_TEST

/* Any class is returned when the output callback fails, even a REJECT
 * class: the processor never dead-letters its own failed output. */
START_TEST(test_failed_action_emit_is_never_dead_lettered)
{
        struct ab_processor *p = new_processor();
        struct sink s          = {0};
        char fp[80], comment[256];
        struct ab_input in;

        open_alert(p, fp, sizeof(fp));
        snprintf(comment, sizeof(comment),
                 "{\"action\":\"comment\",\"operator\":\"bob\","
                 "\"comment\":\"looking\",\"fingerprint\":\"%s\"}",
                 fp);
        input(&in, "actions", comment, T0 + 1);
        s.fail_events = AB_ERR_TOO_LARGE;
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, &s),
                         AB_ERR_TOO_LARGE);
        ck_assert_int_eq(s.dead_letters, 0);
        ab_processor_destroy(p);
}
END_TEST

/*
 * Defect: when keeping an integration loaded on demand (named by the
 * record's integration header) ran out of memory, the record was
 * dead-lettered with code `ok`. Now the call fails with AB_ERR_NOMEM and
 * the record is handled right when it comes again.
 */
START_TEST(test_nomem_keeping_a_loaded_integration)
{
        struct ab_pipeline_config *named = NULL;
        struct ab_integration *integ     = NULL;
        struct ab_processor *p           = NULL;
        struct sink s                    = {0};
        struct ab_error err;
        struct ab_input in;
        uint64_t before, load;

        ab_error_clear(&err);
        ck_assert_int_eq(ab_pipeline_config_load_string(
                             named_config_text, strlen(named_config_text),
                             "test", NULL, &named, &err),
                         AB_OK);
        ck_assert_int_eq(ab_processor_new(named, NULL, &p, &err), AB_OK);
        /* The allocations of the load itself; the next one keeps it. */
        ab_error_clear(&err);
        before = ab_mem_allocations();
        ck_assert_int_eq(ab_integration_load("alertmanager", &integ, &err),
                         AB_OK);
        load = ab_mem_allocations() - before;
        ab_integration_destroy(integ);

        input(&in, "named",
              "{\"alerts\":[{\"status\":\"firing\",\"labels\":{"
              "\"alertname\":\"disk\",\"severity\":\"critical\"}}]}",
              T0);
        in.integration = ab_str_c("alertmanager");
        ab_mem_fail_after(load + 1);
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, &s),
                         AB_ERR_NOMEM);
        ck_assert(!ab_mem_fail_pending());
        ck_assert_int_eq(s.dead_letters, 0);
        ck_assert_int_eq(s.events, 0);
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, &s), AB_OK);
        ck_assert_int_eq(s.dead_letters, 0);
        ck_assert_int_eq(s.events, 1);
        ab_processor_destroy(p);
        ab_pipeline_config_destroy(named);
}
END_TEST

static Suite *processor_suite(void)
{
        Suite *s = suite_create("processor");
        TCase *tc;

        tc = tcase_create("error rule");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_mapping_rejection_is_a_dead_letter);
        tcase_add_test(tc, test_binding_and_action_rejections_are_dead_letters);
        tcase_add_test(tc, test_failed_mapping_emit_stops_the_record);
        tcase_add_test(tc, test_failed_action_emit_stops_the_record);
        tcase_add_test(tc, test_failed_action_emit_is_never_dead_lettered);
        tcase_add_test(tc, test_nomem_keeping_a_loaded_integration);
        tcase_add_test(tc, test_header_name_is_escaped_not_cut);
        tcase_add_test(tc, test_max_action_field_is_configured);
        tcase_add_test(tc, test_alertmanager_fields_are_kept);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(processor_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
