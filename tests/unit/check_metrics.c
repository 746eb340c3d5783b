/* check_metrics.c - unit tests for pipeline/metrics.c. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline/pipeline_metrics.h"

static struct ab_metrics *reg;
static struct ab_buf out;
static struct ab_error err;

static void setup(void)
{
        reg = ab_metrics_new();
        ck_assert_ptr_nonnull(reg);
        ab_buf_init(&out, 0);
        ab_error_clear(&err);
}

static void teardown(void)
{
        ab_buf_fini(&out);
        ab_metrics_destroy(reg);
}

static const char *render(void)
{
        ab_buf_reset(&out);
        ck_assert_int_eq(ab_metrics_render(reg, &out), AB_OK);
        return out.data ? out.data : "";
}

static struct ab_metric *one(enum ab_metrics_type type, const char *name,
                             const char *help)
{
        struct ab_metrics_desc d = {type, name, help, NULL, NULL, 0};
        struct ab_metric *m      = NULL;

        ck_assert_int_eq(ab_metrics_register_one(reg, &d, &m, &err), AB_OK);
        ck_assert_ptr_nonnull(m);
        return m;
}

START_TEST(test_counter_and_gauge_exposition)
{
        struct ab_metric *c =
            one(AB_METRICS_COUNTER, "things_total", "Things seen.");
        struct ab_metric *g = one(AB_METRICS_GAUGE, "queue_depth", "Depth.");

        ab_metrics_inc(c);
        ab_metrics_add(c, 4);
        ab_metrics_set(g, 10);
        ab_metrics_gauge_add(g, -13);
        ck_assert_int_eq(ab_metrics_value(c), 5);
        ck_assert_int_eq(ab_metrics_value(g), -3);
        ck_assert_str_eq(render(),
                         "# HELP alertbridge_things_total Things seen.\n"
                         "# TYPE alertbridge_things_total counter\n"
                         "alertbridge_things_total 5\n"
                         "# HELP alertbridge_queue_depth Depth.\n"
                         "# TYPE alertbridge_queue_depth gauge\n"
                         "alertbridge_queue_depth -3\n");
}
END_TEST

START_TEST(test_labels_and_escaping)
{
        static const char *const labels[] = {"code", "path", NULL};
        struct ab_metrics_desc d          = {AB_METRICS_COUNTER,
                                             "errors_total",
                                             "Errors\\by \"code\"\nsecond line",
                                             labels,
                                             NULL,
                                             0};
        const char *v1[]                  = {"x", "a\"b\\c\nd"};
        const char *v2[]                  = {"y", ""};
        struct ab_metrics_family *fam;
        struct ab_metric *a, *b, *again;

        ck_assert_int_eq(ab_metrics_register(reg, &d, &fam, &err), AB_OK);
        ck_assert_int_eq(ab_metrics_series(fam, v1, &a, &err), AB_OK);
        ck_assert_int_eq(ab_metrics_series(fam, v2, &b, &err), AB_OK);
        ck_assert_int_eq(ab_metrics_series(fam, v1, &again, &err), AB_OK);
        ck_assert_ptr_eq(a, again);
        ck_assert_ptr_ne(a, b);
        ab_metrics_add(a, 2);
        ck_assert_str_eq(
            render(),
            "# HELP alertbridge_errors_total Errors\\\\by \"code\"\\nsecond "
            "line\n"
            "# TYPE alertbridge_errors_total counter\n"
            "alertbridge_errors_total{code=\"x\",path=\"a\\\"b\\\\c\\nd\"} 2\n"
            "alertbridge_errors_total{code=\"y\",path=\"\"} 0\n");
}
END_TEST

START_TEST(test_labelled_family_without_series_has_no_samples)
{
        static const char *const labels[] = {"topic", NULL};
        struct ab_metrics_desc d          = {AB_METRICS_GAUGE, "lag", "Lag.",
                                             labels,           NULL,  0};

        ck_assert_int_eq(ab_metrics_register(reg, &d, NULL, &err), AB_OK);
        ck_assert_str_eq(render(), "# HELP alertbridge_lag Lag.\n"
                                   "# TYPE alertbridge_lag gauge\n");
}
END_TEST

START_TEST(test_histogram_buckets_are_cumulative)
{
        static const double buckets[] = {0.125, 1};
        struct ab_metrics_desc d      = {AB_METRICS_HISTOGRAM,
                                         "latency_seconds",
                                         "Latency.",
                                         NULL,
                                         buckets,
                                         2};
        struct ab_metric *h;

        ck_assert_int_eq(ab_metrics_register_one(reg, &d, &h, &err), AB_OK);
        ab_metrics_observe(h, 0.0625);
        ab_metrics_observe(h, 0.125); /* upper bounds are inclusive */
        ab_metrics_observe(h, 0.5);
        ab_metrics_observe(h, 4);
        ab_metrics_observe(h, NAN); /* not an observation */
        ck_assert_int_eq(ab_metrics_value(h), 4);
        ck_assert_str_eq(render(),
                         "# HELP alertbridge_latency_seconds Latency.\n"
                         "# TYPE alertbridge_latency_seconds histogram\n"
                         "alertbridge_latency_seconds_bucket{le=\"0.125\"} 2\n"
                         "alertbridge_latency_seconds_bucket{le=\"1\"} 3\n"
                         "alertbridge_latency_seconds_bucket{le=\"+Inf\"} 4\n"
                         "alertbridge_latency_seconds_sum 4.6875\n"
                         "alertbridge_latency_seconds_count 4\n");
}
END_TEST

START_TEST(test_labelled_histogram_puts_le_last)
{
        static const double buckets[]     = {0.25};
        static const char *const labels[] = {"status", NULL};
        struct ab_metrics_desc d          = {AB_METRICS_HISTOGRAM,
                                             "request_seconds",
                                             "Requests.",
                                             labels,
                                             buckets,
                                             1};
        const char *v[]                   = {"200"};
        struct ab_metrics_family *fam;
        struct ab_metric *h;

        ck_assert_int_eq(ab_metrics_register(reg, &d, &fam, &err), AB_OK);
        ck_assert_int_eq(ab_metrics_series(fam, v, &h, &err), AB_OK);
        ab_metrics_observe(h, 3);
        ck_assert_ptr_nonnull(strstr(
            render(),
            "alertbridge_request_seconds_bucket{status=\"200\",le=\"0.25\"} "
            "0\n"
            "alertbridge_request_seconds_bucket{status=\"200\",le=\"+Inf\"} "
            "1\n"
            "alertbridge_request_seconds_sum{status=\"200\"} 3\n"
            "alertbridge_request_seconds_count{status=\"200\"} 1\n"));
}
END_TEST

START_TEST(test_invalid_descriptions_are_rejected)
{
        static const double unsorted[]       = {1, 0.5};
        static const double ok_buckets[]     = {1};
        static const char *const reserved[]  = {"__name", NULL};
        static const char *const le[]        = {"le", NULL};
        static const char *const dup[]       = {"a", "a", NULL};
        static const char *const bad[]       = {"a-b", NULL};
        static const char *const five[]      = {"a", "b", "c", "d", "e", NULL};
        const struct ab_metrics_desc cases[] = {
            {AB_METRICS_COUNTER, "1abc", "h", NULL, NULL, 0},
            {AB_METRICS_COUNTER, "", "h", NULL, NULL, 0},
            {AB_METRICS_COUNTER, "a b", "h", NULL, NULL, 0},
            {AB_METRICS_COUNTER, "no_help", NULL, NULL, NULL, 0},
            {AB_METRICS_COUNTER, "c", "h", reserved, NULL, 0},
            {AB_METRICS_COUNTER, "c", "h", dup, NULL, 0},
            {AB_METRICS_COUNTER, "c", "h", bad, NULL, 0},
            {AB_METRICS_COUNTER, "c", "h", five, NULL, 0},
            {AB_METRICS_HISTOGRAM, "h", "h", le, ok_buckets, 1},
            {AB_METRICS_HISTOGRAM, "h", "h", NULL, unsorted, 2},
            {AB_METRICS_HISTOGRAM, "h", "h", NULL, NULL, 0},
        };
        struct ab_metrics_desc first = {
            AB_METRICS_GAUGE, "taken", "h", NULL, NULL, 0};

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                ab_error_clear(&err);
                ck_assert_msg(ab_metrics_register(reg, &cases[i], NULL, &err) ==
                                  AB_ERR_INTERNAL,
                              "case %zu accepted", i);
                ck_assert_str_ne(err.text, "");
        }
        ck_assert_int_eq(ab_metrics_register(reg, &first, NULL, &err), AB_OK);
        ck_assert_int_eq(ab_metrics_register(reg, &first, NULL, &err),
                         AB_ERR_INTERNAL);
        ck_assert_ptr_nonnull(strstr(err.text, "already registered"));
        /* Nothing half-registered shows up. */
        ck_assert_str_eq(render(), "# HELP alertbridge_taken h\n"
                                   "# TYPE alertbridge_taken gauge\n"
                                   "alertbridge_taken 0\n");
}
END_TEST

START_TEST(test_register_one_refuses_labelled_families)
{
        static const char *const labels[] = {"a", NULL};
        struct ab_metrics_desc d          = {
                     AB_METRICS_COUNTER, "x_total", "h", labels, NULL, 0};
        struct ab_metric *m;

        ck_assert_int_eq(ab_metrics_register_one(reg, &d, &m, &err),
                         AB_ERR_INTERNAL);
}
END_TEST

START_TEST(test_null_handles_are_ignored)
{
        ab_metrics_inc(NULL);
        ab_metrics_add(NULL, 3);
        ab_metrics_set(NULL, 3);
        ab_metrics_gauge_add(NULL, 3);
        ab_metrics_observe(NULL, 3);
        ck_assert_int_eq(ab_metrics_value(NULL), 0);
        ab_pipeline_metrics_reject(NULL, AB_ERR_DECODE);
}
END_TEST

#define THREADS    4
#define PER_THREAD 100000

static struct ab_metric *shared_counter, *shared_hist;

static void *hammer(void *arg)
{
        for (int i = 0; i < PER_THREAD; i++) {
                ab_metrics_inc(shared_counter);
                ab_metrics_observe(shared_hist, 0.5);
        }
        return arg;
}

START_TEST(test_concurrent_updates_are_not_lost)
{
        static const double buckets[] = {1};
        struct ab_metrics_desc h      = {
                 AB_METRICS_HISTOGRAM, "h_seconds", "h", NULL, buckets, 1};
        pthread_t t[THREADS];
        char line[128];

        shared_counter = one(AB_METRICS_COUNTER, "c_total", "c");
        ck_assert_int_eq(ab_metrics_register_one(reg, &h, &shared_hist, &err),
                         AB_OK);
        for (int i = 0; i < THREADS; i++)
                ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, NULL), 0);
        for (int i = 0; i < THREADS; i++)
                pthread_join(t[i], NULL);
        ck_assert_int_eq(ab_metrics_value(shared_counter),
                         THREADS * PER_THREAD);
        render();
        snprintf(line, sizeof(line), "alertbridge_h_seconds_sum %d\n",
                 THREADS * PER_THREAD / 2);
        ck_assert_ptr_nonnull(strstr(out.data, line));
        snprintf(line, sizeof(line), "alertbridge_h_seconds_count %d\n",
                 THREADS * PER_THREAD);
        ck_assert_ptr_nonnull(strstr(out.data, line));
}
END_TEST

/* Every line is a HELP, a TYPE or a sample of the text format 0.0.4. */
static void assert_exposition_syntax(const char *text)
{
        static const char *const pattern =
            "^(# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*"
            "|# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram)"
            "|[a-zA-Z_:][a-zA-Z0-9_:]*"
            "(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\""
            "(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\")*\\})?"
            " (-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?|[+-]Inf|NaN))$";
        const char *line = text;
        regex_t re;

        ck_assert_int_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
        while (*line) {
                const char *nl = strchr(line, '\n');
                char buf[512];
                size_t n;

                ck_assert_ptr_nonnull(nl);
                n = (size_t)(nl - line);
                ck_assert_uint_lt(n, sizeof(buf));
                memcpy(buf, line, n);
                buf[n] = '\0';
                ck_assert_msg(regexec(&re, buf, 0, NULL, 0) == 0,
                              "bad exposition line: %s", buf);
                if (buf[0] != '#')
                        ck_assert_msg(!strncmp(buf, AB_METRICS_PREFIX,
                                               strlen(AB_METRICS_PREFIX)) ||
                                          !strncmp(buf, "process_", 8),
                                      "unprefixed: %s", buf);
                line = nl + 1;
        }
        regfree(&re);
}

START_TEST(test_pipeline_metric_set)
{
        static const char *const families[] = {
            "alertbridge_records_in_total counter",
            "alertbridge_events_out_total counter",
            "alertbridge_rejections_total counter",
            "alertbridge_orphan_recoveries_total counter",
            "alertbridge_merged_duplicates_total counter",
            "alertbridge_open_alerts gauge",
            "alertbridge_consumer_lag gauge",
            "alertbridge_consumer_paused gauge",
            "alertbridge_delivery_errors_total counter",
            "alertbridge_dlq_records_total counter",
            "alertbridge_dlq_reduced_total counter",
            "alertbridge_evicted_alerts_total counter",
            "alertbridge_record_latency_seconds histogram",
            "alertbridge_end_to_end_latency_seconds histogram",
            "alertbridge_consume_delay_seconds histogram",
            "alertbridge_traceparent_invalid_total counter",
            "alertbridge_tracestate_invalid_total counter",
            "alertbridge_config_reload_failures_total counter",
            "alertbridge_config_last_reload_successful gauge",
            "alertbridge_config_last_reload_success_timestamp_seconds gauge",
            "alertbridge_build_info gauge",
            "process_cpu_seconds_total counter",
            "process_resident_memory_bytes gauge",
            "process_virtual_memory_bytes gauge",
            "process_open_fds gauge",
            "process_max_fds gauge",
            "process_start_time_seconds gauge"};
        struct ab_pipeline_metrics pm;
        struct ab_pipeline_metrics again;
        struct ab_pipeline_metrics_integ am, am2;
        struct ab_metrics_tally in, hop, off;
        const char *text;

        ck_assert_int_eq(ab_pipeline_metrics_register(reg, &pm, &err), AB_OK);
        ck_assert_ptr_nonnull(pm.none.records_in);
        ck_assert_ptr_nonnull(pm.record_latency);
        ck_assert_ptr_nonnull(pm.dlq_reduced);
        ck_assert_ptr_nonnull(pm.traceparent_invalid);
        ck_assert_ptr_nonnull(pm.tracestate_invalid);
        ck_assert_ptr_nonnull(pm.end_to_end_latency);
        ck_assert_int_eq(
            ab_pipeline_metrics_integ(&pm, "alertmanager", &am, &err), AB_OK);
        /* The same name gives the same series. */
        ck_assert_int_eq(
            ab_pipeline_metrics_integ(&pm, "alertmanager", &am2, &err), AB_OK);
        ck_assert_ptr_eq(am.records_in, am2.records_in);
        ck_assert_ptr_ne(am.records_in, pm.none.records_in);
        for (int t = 0; t < AB_EVENT__COUNT; t++)
                ck_assert_ptr_nonnull(am.events_out[t]);
        /* Only the REJECT class labels rejections. */
        for (int c = AB_OK; c < AB_ERR__COUNT; c++)
                ck_assert_int_eq(am.rejections[c] != NULL,
                                 ab_err_class((ab_err_t)c) ==
                                     AB_ERR_CLASS_REJECT);

        ab_metrics_inc(am.records_in);
        ab_metrics_inc(am.events_out[AB_EVENT_CLOSE]);
        ab_pipeline_metrics_reject(&am, AB_ERR_NO_ALERTNAME);
        ab_pipeline_metrics_reject(&am, AB_ERR_NO_ALERTNAME);
        ab_pipeline_metrics_reject(&pm.none, AB_ERR_NO_INTEGRATION);
        ab_pipeline_metrics_reject(&am, AB_OK);
        ab_pipeline_metrics_reject(&am, AB_ERR__COUNT);
        ab_pipeline_metrics_reject(NULL, AB_ERR_DECODE);
        ab_metrics_set(pm.open_alerts, 7);
        ab_pipeline_metrics_done(&pm, 1000000000, 5000, 1003000000, 6500);
        /* 40 ms in the input topic; 300 ms on the internal hop; a
         * timestamp ahead of the clock counts as 0; an unknown one is not
         * observed. */
        ab_metrics_tally_init(&in, pm.consume_delay[AB_TOPIC_INPUT]);
        ab_metrics_tally_init(&hop, pm.consume_delay[AB_TOPIC_ALERTS]);
        ab_metrics_tally_init(&off, NULL);
        ab_pipeline_metrics_consumed(&in, 10000, 10040);
        ab_pipeline_metrics_consumed(&hop, 10000, 10300);
        ab_pipeline_metrics_consumed(&hop, 20000, 19990);
        ab_pipeline_metrics_consumed(&in, -1, 10000);
        ab_pipeline_metrics_consumed(&off, 0, 1);
        /* Nothing reaches the series before a flush. */
        ck_assert_int_eq(ab_metrics_value(pm.consume_delay[AB_TOPIC_ALERTS]),
                         0);
        ab_metrics_tally_flush(&in);
        ab_metrics_tally_flush(&hop);
        ab_metrics_tally_flush(&hop); /* an empty flush adds nothing */
        ab_metrics_tally_flush(&off);
        ck_assert_int_eq(ab_metrics_value(pm.consume_delay[AB_TOPIC_INPUT]), 1);
        ck_assert_int_eq(ab_metrics_value(pm.consume_delay[AB_TOPIC_ALERTS]),
                         2);
        ck_assert_int_eq(ab_metrics_value(am.rejections[AB_ERR_NO_ALERTNAME]),
                         2);
        ck_assert_int_eq(ab_metrics_value(am.dead_letters), 4);

        text = render();
        assert_exposition_syntax(text);
        ck_assert_ptr_nonnull(
            strstr(text, "\nalertbridge_records_in_total{integration="
                         "\"alertmanager\"} 1\n"));
        ck_assert_ptr_nonnull(strstr(
            text, "\nalertbridge_records_in_total{integration=\"none\"} 0\n"));
        ck_assert_ptr_nonnull(
            strstr(text, "\nalertbridge_events_out_total{integration="
                         "\"alertmanager\",type=\"close\"} 1\n"));
        ck_assert_ptr_nonnull(
            strstr(text, "\nalertbridge_events_out_total{integration="
                         "\"alertmanager\",type=\"create\"} 0\n"));
        ck_assert_ptr_nonnull(
            strstr(text, "\nalertbridge_rejections_total{integration="
                         "\"alertmanager\",code=\"no_alertname\"} 2\n"));
        ck_assert_ptr_nonnull(
            strstr(text, "\nalertbridge_rejections_total{integration="
                         "\"none\",code=\"no_integration\"} 1\n"));
        ck_assert_ptr_nonnull(
            strstr(text, "\nalertbridge_dlq_records_total{integration="
                         "\"none\"} 1\n"));
        ck_assert_ptr_null(strstr(text, "code=\"ok\""));
        ck_assert_ptr_null(strstr(text, "code=\"nomem\""));
        ck_assert_ptr_nonnull(strstr(text, "\nalertbridge_open_alerts 7\n"));
        /* 3 ms from receipt, 1.5 s from the record's timestamp. */
        ck_assert_ptr_nonnull(strstr(
            text, "\nalertbridge_record_latency_seconds_bucket{le=\"0.005\"} "
                  "1\n"));
        ck_assert_ptr_nonnull(strstr(
            text, "\nalertbridge_record_latency_seconds_bucket{le=\"0.0025\"} "
                  "0\n"));
        ck_assert_ptr_nonnull(strstr(
            text, "\nalertbridge_end_to_end_latency_seconds_bucket{le=\"1\"} "
                  "0\n"));
        ck_assert_ptr_nonnull(strstr(
            text, "\nalertbridge_end_to_end_latency_seconds_bucket{le=\"2.5\"} "
                  "1\n"));
        ck_assert_ptr_nonnull(strstr(
            text, "\nalertbridge_consume_delay_seconds_bucket{topic=\"input\","
                  "le=\"0.025\"} 0\n"));
        ck_assert_ptr_nonnull(strstr(
            text, "\nalertbridge_consume_delay_seconds_bucket{topic=\"input\","
                  "le=\"0.05\"} 1\n"));
        ck_assert_ptr_nonnull(strstr(
            text, "\nalertbridge_consume_delay_seconds_bucket{topic=\"alerts\","
                  "le=\"0.005\"} 1\n"));
        ck_assert_ptr_nonnull(strstr(
            text, "\nalertbridge_consume_delay_seconds_bucket{topic=\"alerts\","
                  "le=\"0.25\"} 1\n"));
        ck_assert_ptr_nonnull(strstr(
            text, "\nalertbridge_consume_delay_seconds_bucket{topic=\"alerts\","
                  "le=\"0.5\"} 2\n"));
        ck_assert_ptr_nonnull(strstr(
            text, "\nalertbridge_consume_delay_seconds_sum{topic=\"alerts\"} "
                  "0.3\n"));
        ck_assert_ptr_nonnull(
            strstr(text, "\nalertbridge_build_info{version="));
        for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
                char type[96];

                snprintf(type, sizeof(type), "# TYPE %s\n", families[i]);
                ck_assert_msg(strstr(text, type), "missing %s", type);
        }
        /* The same set cannot be registered twice in one registry. */
        ck_assert_int_eq(ab_pipeline_metrics_register(reg, &again, &err),
                         AB_ERR_INTERNAL);
}
END_TEST

static double sample(const char *text, const char *name)
{
        char key[128];
        const char *p;

        snprintf(key, sizeof(key), "\n%s ", name);
        p = strstr(text, key);
        ck_assert_msg(p != NULL, "no sample %s", name);
        return strtod(p + strlen(key), NULL);
}

START_TEST(test_process_metrics_read_proc)
{
        struct ab_pipeline_metrics pm;
        struct timespec now;
        const char *text;
        double start;

        ck_assert_int_eq(ab_pipeline_metrics_register(reg, &pm, &err), AB_OK);
        text = render();
        assert_exposition_syntax(text);
        clock_gettime(CLOCK_REALTIME, &now);
        start = sample(text, "process_start_time_seconds");
        ck_assert(start > (double)now.tv_sec - 3600 &&
                  start <= (double)now.tv_sec + 1);
        ck_assert(sample(text, "process_resident_memory_bytes") > 1e5);
        ck_assert(sample(text, "process_virtual_memory_bytes") >
                  sample(text, "process_resident_memory_bytes"));
        ck_assert(sample(text, "process_open_fds") >= 3);
        ck_assert(sample(text, "process_max_fds") >=
                  sample(text, "process_open_fds"));
        ck_assert(sample(text, "process_cpu_seconds_total") >= 0);
}
END_TEST

START_TEST(test_batch_observes_at_done_only)
{
        struct ab_pipeline_metrics pm;
        struct ab_pipeline_metrics_batch b;

        ck_assert_int_eq(ab_pipeline_metrics_register(reg, &pm, &err), AB_OK);
        ck_assert_int_eq(ab_pipeline_metrics_batch_init(&b, 2), AB_OK);
        ab_pipeline_metrics_batch_add(&b, -1);
        ab_pipeline_metrics_batch_add(&b, 0);
        ab_pipeline_metrics_batch_add(&b, 0); /* beyond the room: dropped */
        ck_assert_int_eq(ab_metrics_value(pm.record_latency), 0);
        ab_pipeline_metrics_batch_done(&pm, &b);
        ck_assert_int_eq(ab_metrics_value(pm.record_latency), 2);
        /* No timestamp (-1): no end-to-end observation. */
        ck_assert_int_eq(ab_metrics_value(pm.end_to_end_latency), 1);
        ab_pipeline_metrics_batch_done(&pm, &b);
        ck_assert_int_eq(ab_metrics_value(pm.record_latency), 2);
        ab_pipeline_metrics_batch_fini(&b);
        ab_pipeline_metrics_batch_fini(&b);
}
END_TEST

START_TEST(test_a_sink_registers_its_own_metrics_beside_the_pipeline)
{
        static const char *const labels[] = {"status", NULL};
        struct ab_metrics_desc d          = {AB_METRICS_COUNTER,
                                             "eventbridge_requests_total",
                                             "PutEvents requests by status.",
                                             labels,
                                             NULL,
                                             0};
        struct ab_pipeline_metrics pm;
        struct ab_metrics_family *fam;
        struct ab_metric *ok;
        const char *v[] = {"200"};

        ck_assert_int_eq(ab_pipeline_metrics_register(reg, &pm, &err), AB_OK);
        ck_assert_int_eq(ab_metrics_register(reg, &d, &fam, &err), AB_OK);
        ck_assert_int_eq(ab_metrics_series(fam, v, &ok, &err), AB_OK);
        ab_metrics_inc(ok);
        ck_assert_ptr_nonnull(strstr(
            render(),
            "\nalertbridge_eventbridge_requests_total{status=\"200\"} 1\n"));
        assert_exposition_syntax(out.data);
}
END_TEST

static Suite *metrics_suite(void)
{
        Suite *s  = suite_create("metrics");
        TCase *tc = tcase_create("exposition");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_counter_and_gauge_exposition);
        tcase_add_test(tc, test_labels_and_escaping);
        tcase_add_test(tc, test_labelled_family_without_series_has_no_samples);
        tcase_add_test(tc, test_histogram_buckets_are_cumulative);
        tcase_add_test(tc, test_labelled_histogram_puts_le_last);
        suite_add_tcase(s, tc);

        tc = tcase_create("registration");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_invalid_descriptions_are_rejected);
        tcase_add_test(tc, test_register_one_refuses_labelled_families);
        tcase_add_test(tc, test_null_handles_are_ignored);
        suite_add_tcase(s, tc);

        tc = tcase_create("threads");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_concurrent_updates_are_not_lost);
        suite_add_tcase(s, tc);

        tc = tcase_create("pipeline_set");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_pipeline_metric_set);
        tcase_add_test(tc, test_process_metrics_read_proc);
        tcase_add_test(tc, test_batch_observes_at_done_only);
        tcase_add_test(
            tc, test_a_sink_registers_its_own_metrics_beside_the_pipeline);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(metrics_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
