/* check_processor_bounds.c - unit tests for the processor's time and memory
 * per record: linear in the alerts of a batch, bounded by the integration. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/timefmt.h"
#include "pipeline/config.h"
#include "pipeline/processor.h"

static const char config_text[] = "kafka: {brokers: '127.0.0.1:9'}\n"
                                  "inputs:\n"
                                  "  - {topics: [am], integration: "
                                  "alertmanager}\n"
                                  "output: {topic: events}\n"
                                  "dead_letter_topic: dlq\n";

#define T0 1795316400000LL

static struct ab_pipeline_config *cfg;

struct sink {
        size_t events, dead_letters;
        char dlq_code[40];
        char dlq_text[480];
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
                return AB_OK;
        }
        s->events++;
        return AB_OK;
}

/* An Alertmanager message of \p n alerts (distinct label sets) into \p b. */
static void batch(struct ab_buf *b, size_t n)
{
        ab_buf_reset(b);
        ck_assert_int_eq(ab_buf_append_str(b, "{\"alerts\":["), AB_OK);
        for (size_t i = 0; i < n; i++)
                ck_assert_int_eq(
                    ab_buf_appendf(b,
                                   "%s{\"status\":\"firing\",\"labels\":{"
                                   "\"alertname\":\"disk\",\"severity\":"
                                   "\"warning\",\"instance\":\"h%zu\"}}",
                                   i ? "," : "", i),
                    AB_OK);
        ck_assert_int_eq(ab_buf_append_str(b, "]}"), AB_OK);
}

static struct ab_processor *new_stateless(void)
{
        struct ab_processor_opts opts = {.mode = AB_PROCESSOR_STATELESS};
        struct ab_processor *p        = NULL;
        struct ab_error err;

        ab_error_clear(&err);
        ck_assert_int_eq(ab_processor_new_opts(cfg, NULL, &opts, &p, &err),
                         AB_OK);
        return p;
}

/* Handle \p records records of \p n alerts each; @returns the ns taken. */
static int64_t handle_batches(struct ab_processor *p, size_t records, size_t n)
{
        struct sink s = {0};
        struct ab_input in;
        struct ab_buf b;
        int64_t t;

        ab_buf_init(&b, 0);
        batch(&b, n);
        memset(&in, 0, sizeof(in));
        in.topic        = "am";
        in.timestamp_ms = T0;
        in.value        = ab_str_make(b.data, b.len);
        t               = ab_time_mono_ns();
        for (size_t r = 0; r < records; r++)
                ck_assert_int_eq(ab_processor_handle(p, &in, collect, &s),
                                 AB_OK);
        t = ab_time_mono_ns() - t;
        ck_assert_uint_eq(s.dead_letters, 0);
        ck_assert_uint_eq(s.events, records * n);
        ab_buf_fini(&b);
        return t;
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

/*
 * Defect: the stateless path hashed the whole payload once per alert for
 * its event id, so a record of n alerts cost O(n^2) (10k alerts 4.45 s,
 * 40k 26 s). One record of 10,000 alerts must cost about what 10 records
 * of 1,000 alerts cost (the same alerts and events): linear work gives a
 * ratio near 1, the quadratic one near 10. The bound, 4, leaves room for
 * a noisy machine and a sanitizer build.
 */
START_TEST(test_stateless_batch_is_linear)
{
        struct ab_processor *p = new_stateless();
        int64_t one, ten;

        handle_batches(p, 1, 1000); /* warm the buffers */
        ten = handle_batches(p, 10, 1000);
        one = handle_batches(p, 1, 10000);
        ck_assert_msg(one < 4 * ten + 50000000,
                      "one record of 10000 alerts took %lld ms, ten of 1000 "
                      "took %lld ms",
                      (long long)(one / 1000000), (long long)(ten / 1000000));
        ab_processor_destroy(p);
}
END_TEST

/* A batch over batch.max_alerts (10,000 for alertmanager) is one dead
 * letter, too_many_alerts, and no event: nothing of it is mapped. */
START_TEST(test_too_many_alerts_is_a_dead_letter)
{
        struct ab_processor *p = new_stateless();
        struct sink s          = {0};
        struct ab_input in;
        struct ab_buf b;

        ab_buf_init(&b, 0);
        batch(&b, 10001);
        memset(&in, 0, sizeof(in));
        in.topic        = "am";
        in.timestamp_ms = T0;
        in.value        = ab_str_make(b.data, b.len);
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, &s), AB_OK);
        ck_assert_uint_eq(s.events, 0);
        ck_assert_uint_eq(s.dead_letters, 1);
        ck_assert_str_eq(s.dlq_code, "too_many_alerts");
        ck_assert_msg(strstr(s.dlq_text, "10001 elements"), "%s", s.dlq_text);
        ab_buf_fini(&b);
        ab_processor_destroy(p);
}
END_TEST

static Suite *bounds_suite(void)
{
        Suite *s = suite_create("processor bounds");
        TCase *tc;

        tc = tcase_create("time");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_stateless_batch_is_linear);
        tcase_add_test(tc, test_too_many_alerts_is_a_dead_letter);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(bounds_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
