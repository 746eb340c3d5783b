/* check_transform_pool.c - unit tests for pipeline/transform_pool.c and the
 * processor's bind/prepare/finish split it drives. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "processor.h"
#include "transform_pool.h"

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

static Suite *suite(void)
{
        Suite *s   = suite_create("transform_pool");
        TCase *tc  = tcase_create("order");
        TCase *api = tcase_create("api");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_inline_matches_handle);
        tcase_add_test(tc, test_one_thread_matches_handle);
        tcase_add_test(tc, test_three_threads_small_ring_match_handle);
        tcase_add_checked_fixture(api, setup, teardown);
        tcase_add_test(api, test_empty_and_full);
        tcase_add_test(api, test_bind_rejects);
        suite_add_tcase(s, tc);
        suite_add_tcase(s, api);
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
