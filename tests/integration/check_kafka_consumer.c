/* check_kafka_consumer.c - Kafka edge tests of the consumer: records from
 * kcat, commits, pause, hooks, lag and dead-letter copies. */
#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "producer/headers.h"
#include "tests/integration/check_kafka_edges.h"
#include "tests/integration/kafka_edges_fixture.h"

/* Poll until a record arrives; fail after the deadline. */
static struct ab_record *next_record(struct ab_consumer *c)
{
        double end          = now_s() + DEADLINE_S;
        struct ab_record *r = NULL;
        struct ab_error err;

        while (!r && now_s() < end)
                ck_assert_int_eq(ab_consumer_poll(c, 200, &r, &err), AB_OK);
        ck_assert_msg(r != NULL, "no record within %d s", DEADLINE_S);
        return r;
}

static void kcat_produce(const char *topic, int partition, const char *lines,
                         const char *flags)
{
        free(run("printf '%s' | kcat -P -b %s -t %s -p %d -K: %s", lines,
                 brokers, topic, partition, flags));
}

START_TEST(consumer_reads_records_from_kcat)
{
        char topic[128], key[16], value[32];
        struct ab_consumer *c;
        struct ab_str v;
        const char *name;

        unique_name(topic, sizeof(topic), "consume");
        create_topic(topic, 1);
        kcat_produce(topic, 0, "k0:v0\\nk1:v1\\nk2:v2\\nk3:v3\\nk4:v4\\n",
                     "-H src=kcat -H trace=abc -H trace=def");
        c = consumer(topic, topic, NULL, consumer_props);
        for (int i = 0; i < 5; i++) {
                struct ab_record *r = next_record(c);

                snprintf(key, sizeof(key), "k%d", i);
                snprintf(value, sizeof(value), "v%d", i);
                ck_assert_str_eq(ab_record_topic(r), topic);
                ck_assert_int_eq(ab_record_partition(r), 0);
                ck_assert_int_eq(ab_record_offset(r), i);
                ck_assert_int_gt(ab_record_timestamp(r), 1500000000000LL);
                ck_assert(ab_str_eq_c(ab_record_key(r), key));
                ck_assert(ab_str_eq_c(ab_record_value(r), value));
                ck_assert(ab_str_eq_c(ab_record_header(r, "src"), "kcat"));
                ck_assert(ab_str_eq_c(ab_record_header(r, "trace"), "def"));
                ck_assert_ptr_null(ab_record_header(r, "none").ptr);
                ck_assert_int_eq(ab_record_header_at(r, 1, &name, &v), 0);
                ck_assert_str_eq(name, "trace");
                ck_assert(ab_str_eq_c(v, "abc"));
                ck_assert_int_eq(ab_record_header_at(r, 3, &name, &v), -1);
                ck_assert_ptr_nonnull(ab_record_headers(r));
                ck_assert(ab_str_eq_c(
                    ab_record_headers_get(ab_record_headers(r), "trace"),
                    "def"));
                ab_record_destroy(r);
        }
        ck_assert_uint_eq(ab_consumer_assigned(c), 1);
        ck_assert_int_eq(ab_consumer_close(c, NULL), AB_OK);
        ab_consumer_destroy(c);
}
END_TEST

/* Headers taken once (ab_record_headers) answer like the per-name
 * lookups, for a record with trace context headers and one without any
 * header (NULL, every lookup absent). */
START_TEST(headers_taken_once)
{
        char topic[128];
        struct ab_consumer *c;
        struct ab_record *r;
        const struct ab_record_headers *h;
        struct ab_trace_ctx t;

        unique_name(topic, sizeof(topic), "headers");
        create_topic(topic, 1);
        kcat_produce(
            topic, 0, "k0:v0\n",
            "-H traceparent=tp1 -H ce_traceparent=ce -H tracestate=ts");
        kcat_produce(topic, 0, "k1:v1\n", "");
        c = consumer(topic, topic, NULL, consumer_props);

        r = next_record(c);
        h = ab_record_headers(r);
        ck_assert_ptr_nonnull(h);
        t = ab_record_headers_trace(h);
        ck_assert(ab_str_eq_c(t.traceparent, "tp1"));
        ck_assert(ab_str_eq_c(t.tracestate, "ts"));
        t = ab_record_headers_trace(ab_record_headers(r));
        ck_assert(ab_str_eq_c(t.traceparent, "tp1"));
        ck_assert_ptr_null(ab_record_headers_get(h, "none").ptr);
        ab_record_destroy(r);

        r = next_record(c);
        ck_assert(ab_str_eq_c(ab_record_value(r), "v1"));
        h = ab_record_headers(r);
        ck_assert_ptr_null(h);
        ck_assert_ptr_null(ab_record_headers_get(h, "traceparent").ptr);
        t = ab_record_headers_trace(h);
        ck_assert_ptr_null(t.traceparent.ptr);
        ck_assert_ptr_null(t.tracestate.ptr);
        ab_record_destroy(r);

        ck_assert_int_eq(ab_consumer_close(c, NULL), AB_OK);
        ab_consumer_destroy(c);
}
END_TEST

START_TEST(only_the_completed_prefix_is_committed)
{
        char topic[128];
        struct ab_offsets *t = ab_offsets_new(64);
        struct ab_offsets_entry *e[2][5];
        struct ab_consumer *c;
        struct ab_error err;
        int got[2] = {0, 0};

        unique_name(topic, sizeof(topic), "prefix");
        create_topic(topic, 2);
        kcat_produce(topic, 0, "a:0\\na:1\\na:2\\na:3\\na:4\\n", "");
        kcat_produce(topic, 1, "b:0\\nb:1\\nb:2\\nb:3\\nb:4\\n", "");

        /* Manual commits only: whatever is committed, we committed. */
        c = consumer(topic, topic, t, manual_commit_props);
        while (got[0] + got[1] < 10) {
                struct ab_record *r = next_record(c);
                int p               = ab_record_partition(r);

                ck_assert_int_eq(ab_record_offset(r), got[p]);
                ck_assert_int_eq(ab_offsets_register(t, ab_record_topic(r), p,
                                                     ab_record_offset(r),
                                                     &e[p][got[p]], &err),
                                 AB_OK);
                got[p]++;
                ab_record_destroy(r);
        }
        /* Partition 0: records 0, 1, 3 done (2 still in flight).
         * Partition 1: records 1..4 done, 0 waits for two outputs. */
        ab_offsets_release(e[0][0]);
        ab_offsets_release(e[0][1]);
        ab_offsets_release(e[0][3]);
        ab_offsets_hold(e[1][0]);
        ab_offsets_hold(e[1][0]);
        ab_offsets_release(e[1][0]);
        for (int i = 1; i < 5; i++)
                ab_offsets_release(e[1][i]);
        ab_offsets_release(e[1][0]); /* one output delivered, one not */
        ck_assert_int_eq(ab_consumer_commit(c, &err), AB_OK);
        ck_assert_int_eq(committed(topic, topic, 0), 2);
        ck_assert_int_eq(committed(topic, topic, 1), RD_KAFKA_OFFSET_INVALID);

        /* The last output of partition 1's record 0 is delivered; record
         * 2 of partition 0 never completes before close. Close commits. */
        ab_offsets_release(e[1][0]);
        ck_assert_int_eq(ab_consumer_close(c, &err), AB_OK);
        ab_consumer_destroy(c);
        ck_assert_int_eq(committed(topic, topic, 0), 2);
        ck_assert_int_eq(committed(topic, topic, 1), 5);
        ck_assert_uint_eq(ab_offsets_pending(t), 2); /* revoked, in flight */
        ab_offsets_destroy(t);

        /* The next member of the group resumes at the first unfinished
         * record: nothing is lost, records 2 and 3 come again. */
        t = ab_offsets_new(64);
        c = consumer(topic, topic, t, manual_commit_props);
        for (int want = 2; want < 5; want++) {
                struct ab_record *r = next_record(c);
                struct ab_offsets_entry *x;

                ck_assert_int_eq(ab_record_partition(r), 0);
                ck_assert_int_eq(ab_record_offset(r), want);
                ck_assert_int_eq(ab_offsets_register(t, ab_record_topic(r), 0,
                                                     want, &x, &err),
                                 AB_OK);
                ab_offsets_release(x);
                ab_record_destroy(r);
        }
        ck_assert_int_eq(ab_consumer_close(c, &err), AB_OK);
        ab_consumer_destroy(c);
        ab_offsets_destroy(t);
        ck_assert_int_eq(committed(topic, topic, 0), 5);
        ck_assert_int_eq(committed(topic, topic, 1), 5);
}
END_TEST

START_TEST(auto_commit_commits_stored_offsets)
{
        static const char *const props[] = {"session.timeout.ms", "6000",
                                            "auto.commit.interval.ms", "100",
                                            NULL};
        char topic[128];
        struct ab_offsets *t = ab_offsets_new(64);
        struct ab_offsets_entry *e[8];
        struct ab_consumer *c;
        struct ab_record *r;
        struct ab_error err;
        double end;

        unique_name(topic, sizeof(topic), "autocommit");
        create_topic(topic, 1);
        kcat_produce(topic, 0,
                     "k:0\\nk:1\\nk:2\\nk:3\\nk:4\\nk:5\\nk:6\\nk:7\\n", "");
        c = consumer(topic, topic, t, props);
        for (int i = 0; i < 8; i++) {
                r = next_record(c);
                ck_assert_int_eq(
                    ab_offsets_register(t, topic, 0, i, &e[i], &err), AB_OK);
                ab_record_destroy(r);
        }
        for (int i = 0; i < 4; i++)
                ab_offsets_release(e[i]);
        ab_offsets_release(e[6]);
        /* librdkafka's timer commits what poll stored: wait for it. */
        end = now_s() + DEADLINE_S;
        while (committed(topic, topic, 0) != 4 && now_s() < end) {
                ck_assert_int_eq(ab_consumer_poll(c, 100, &r, &err), AB_OK);
                ck_assert_ptr_null(r);
        }
        ck_assert_int_eq(committed(topic, topic, 0), 4);
        ab_offsets_release(e[4]);
        ab_offsets_release(e[5]);
        ab_offsets_release(e[7]);
        ck_assert_int_eq(ab_consumer_close(c, &err), AB_OK);
        ck_assert_int_eq(committed(topic, topic, 0), 8);
        ab_consumer_destroy(c);
        ab_offsets_destroy(t);
}
END_TEST

START_TEST(pause_stops_delivery_until_resume)
{
        char topic[128];
        struct ab_consumer *c;
        struct ab_record *r;
        struct ab_error err;
        double end;

        unique_name(topic, sizeof(topic), "pause");
        create_topic(topic, 1);
        kcat_produce(topic, 0, "k:0\\nk:1\\nk:2\\nk:3\\n", "");
        c = consumer(topic, topic, NULL, consumer_props);
        for (int i = 0; i < 2; i++)
                ab_record_destroy(next_record(c));
        /* Records 2 and 3 are prefetched by now; pausing drops them. */
        ck_assert_int_eq(ab_consumer_pause(c, &err), AB_OK);
        ck_assert(ab_consumer_paused(c));
        kcat_produce(topic, 0, "k:4\\nk:5\\n", "");
        /* Paused for a while: nothing is delivered, old or new. */
        end = now_s() + 3;
        while (now_s() < end) {
                ck_assert_int_eq(ab_consumer_poll(c, 100, &r, &err), AB_OK);
                ck_assert_msg(r == NULL, "record %lld while paused",
                              (long long)ab_record_offset(r));
        }
        /* Resumed: delivery continues after the last record returned. */
        ck_assert_int_eq(ab_consumer_resume(c, &err), AB_OK);
        ck_assert(!ab_consumer_paused(c));
        for (int i = 2; i < 6; i++) {
                r = next_record(c);
                ck_assert_int_eq(ab_record_offset(r), i);
                ab_record_destroy(r);
        }
        ab_consumer_destroy(c);
}
END_TEST

struct hooks {
        int revokes;
        int stats;
        int stats_json;
};

static void on_revoke_hook(void *arg)
{
        ((struct hooks *)arg)->revokes++;
}

static void on_stats_hook(void *arg, const char *json, size_t len)
{
        struct hooks *h = arg;

        h->stats++;
        h->stats_json += len > 2 && json[0] == '{' && json[len - 1] == '}';
}

START_TEST(revoke_and_stats_hooks_run_on_the_polling_thread)
{
        static const char *const props[] = {"session.timeout.ms", "6000",
                                            "statistics.interval.ms", "100",
                                            NULL};
        struct hooks h                   = {0};
        struct ab_consumer_conf conf     = {.brokers    = brokers,
                                            .properties = props,
                                            .on_revoke  = on_revoke_hook,
                                            .on_stats   = on_stats_hook,
                                            .arg        = &h};
        char topic[128];
        const char *topics[1] = {topic};
        struct ab_consumer *c;
        struct ab_record *r;
        struct ab_error err;
        double end;

        unique_name(topic, sizeof(topic), "hooks");
        create_topic(topic, 1);
        conf.group = topic;
        ck_assert_int_eq(ab_consumer_new(&conf, &c, &err), AB_OK);
        ck_assert_int_eq(ab_consumer_subscribe(c, topics, 1, &err), AB_OK);
        end = now_s() + DEADLINE_S;
        while ((h.stats < 2 || !ab_consumer_assigned(c)) && now_s() < end) {
                ck_assert_int_eq(ab_consumer_poll(c, 100, &r, &err), AB_OK);
                ck_assert_ptr_null(r);
        }
        ck_assert_int_ge(h.stats, 2);
        ck_assert_int_eq(h.stats_json, h.stats);
        ck_assert_uint_eq(ab_consumer_assigned(c), 1);
        ck_assert_int_eq(h.revokes, 0);
        ck_assert_int_eq(ab_consumer_close(c, &err), AB_OK);
        ck_assert_int_eq(h.revokes, 1);
        ab_consumer_destroy(c);
}
END_TEST

struct lag_seen {
        int calls;
        int64_t lag;
        char topic[128];
};

static void on_lag(void *arg, const char *topic, int32_t partition, int64_t lag)
{
        struct lag_seen *s = arg;

        s->calls++;
        s->lag = lag;
        snprintf(s->topic, sizeof(s->topic), "%s", topic);
        ck_assert_int_eq(partition, 0);
}

START_TEST(lag_is_high_watermark_minus_position)
{
        char topic[128];
        struct lag_seen seen = {0};
        struct ab_consumer *c;

        unique_name(topic, sizeof(topic), "lag");
        create_topic(topic, 1);
        kcat_produce(topic, 0,
                     "k:0\\nk:1\\nk:2\\nk:3\\nk:4\\nk:5\\nk:6\\nk:7\\n"
                     "k:8\\nk:9\\n",
                     "");
        c = consumer(topic, topic, NULL, consumer_props);
        for (int i = 0; i < 3; i++)
                ab_record_destroy(next_record(c));
        ck_assert_int_eq(ab_consumer_lag(c, on_lag, &seen), 7);
        ck_assert_int_eq(seen.calls, 1);
        ck_assert_int_eq(seen.lag, 7);
        ck_assert_str_eq(seen.topic, topic);
        ab_consumer_destroy(c);
}
END_TEST

START_TEST(dead_letter_copy_keeps_the_record)
{
        struct reports rep    = {0};
        struct ab_producer *p = producer(&rep, NULL);
        struct ab_headers *h  = ab_headers_new();
        char topic[128], dlq[128], got[1024], want[1024];
        struct ab_consumer *c;
        struct ab_record *r;
        struct ab_error err, why;
        struct ab_str v;
        const char *name;
        json_t *recs;

        unique_name(topic, sizeof(topic), "dlqin");
        unique_name(dlq, sizeof(dlq), "dlq");
        create_topic(topic, 1);
        create_topic(dlq, 1);
        kcat_produce(topic, 0, "key-1:not json {\\n", "-H integration=x");
        c = consumer(topic, topic, NULL, consumer_props);
        r = next_record(c);
        ab_error_set_at(&why, AB_ERR_DECODE, 9, "unexpected end of input");
        for (size_t i = 0; !ab_record_header_at(r, i, &name, &v); i++)
                ck_assert_int_eq(ab_headers_add(h, name, v), AB_OK);
        ck_assert_int_eq(
            ab_headers_add_dlq(
                h, &(struct ab_dlq_info){.error       = &why,
                                         .topic       = ab_record_topic(r),
                                         .partition   = ab_record_partition(r),
                                         .offset      = ab_record_offset(r),
                                         .integration = "x"}),
            AB_OK);
        ck_assert_int_eq(ab_producer_send(p, dlq, ab_record_key(r),
                                          ab_record_value(r), h,
                                          (void *)(intptr_t)0, &err),
                         AB_OK);
        ab_record_destroy(r);
        ck_assert_int_eq(ab_producer_flush(p, DEADLINE_S * 1000, &err), AB_OK);
        ck_assert_int_eq(rep.ok[0], 1);

        recs = kcat_read(dlq, 1);
        ck_assert_str_eq(jstr(json_array_get(recs, 0), "key"), "key-1");
        ck_assert_str_eq(jstr(json_array_get(recs, 0), "payload"),
                         "not json {");
        jheaders(json_array_get(recs, 0), got, sizeof(got));
        snprintf(want, sizeof(want),
                 "integration=x;alertbridge.error.code=decode;"
                 "alertbridge.error.message=unexpected end of input (at "
                 "byte 9);alertbridge.source.topic=%s;"
                 "alertbridge.source.partition=0;"
                 "alertbridge.source.offset=0;alertbridge.integration=x",
                 topic);
        ck_assert_str_eq(got, want);
        json_decref(recs);
        ab_consumer_destroy(c);
        ab_headers_destroy(h);
        ab_producer_destroy(p);
}
END_TEST

/* A consumer of \p in and \p hop that prefers \p hop. */
static struct ab_consumer *preferring(const char *group, const char *in,
                                      const char *hop)
{
        struct ab_consumer_conf conf = {
            .brokers = brokers, .group = group, .properties = consumer_props};
        const char *topics[2] = {in, hop};
        struct ab_consumer *c;
        struct ab_error err;

        ck_assert_int_eq(ab_consumer_new(&conf, &c, &err), AB_OK);
        ck_assert_int_eq(ab_consumer_prefer_topic(c, hop, &err), AB_OK);
        ck_assert_int_eq(ab_consumer_prefer_topic(c, hop, &err),
                         AB_ERR_INTERNAL);
        ck_assert_int_eq(ab_consumer_subscribe(c, topics, 2, &err), AB_OK);
        return c;
}

START_TEST(preferred_topic_records_come_first)
{
        char in[128], hop[128], lines[300 * 8 + 1];
        int seen_in = 0, hop_at = -1;
        struct ab_consumer *c;
        size_t n = 0;

        unique_name(in, sizeof(in), "prefer-in");
        unique_name(hop, sizeof(hop), "prefer-hop");
        create_topic(in, 1);
        create_topic(hop, 1);
        for (int i = 0; i < 300; i++)
                n += (size_t)snprintf(lines + n, sizeof(lines) - n, "k:%d\\n",
                                      i);
        kcat_produce(in, 0, lines, "");
        c = preferring(in, in, hop);
        /* The input is fetched in one go with its first record; the
         * preferred record, written and fetched after it, must still come
         * next, ahead of the 299 input records queued before it (in one
         * shared queue it would come last), and the input keeps its
         * order. */
        for (int i = 0; i < 301; i++) {
                struct ab_record *r = next_record(c);

                if (i == 0) {
                        kcat_produce(hop, 0, "h:hop\\n", "");
                        sleep(2);
                }
                if (!strcmp(ab_record_topic(r), hop)) {
                        hop_at = i;
                } else {
                        ck_assert_int_eq(ab_record_offset(r), seen_in);
                        seen_in++;
                }
                ab_record_destroy(r);
        }
        ck_assert_int_eq(seen_in, 300);
        ck_assert_msg(hop_at == 1,
                      "the preferred record came as record %d of 301", hop_at);
        ab_consumer_destroy(c);
}
END_TEST

struct late_produce {
        const char *topic;
};

static void *produce_late(void *arg)
{
        const struct late_produce *lp = arg;

        usleep(500 * 1000);
        kcat_produce(lp->topic, 0, "h:late\\n", "");
        return NULL;
}

START_TEST(preferred_record_wakes_a_waiting_poll)
{
        char in[128], hop[128];
        struct late_produce lp;
        struct ab_consumer *c;
        struct ab_record *r = NULL;
        struct ab_error err;
        pthread_t t;
        double start, end;

        unique_name(in, sizeof(in), "wake-in");
        unique_name(hop, sizeof(hop), "wake-hop");
        create_topic(in, 1);
        create_topic(hop, 1);
        c   = preferring(in, in, hop);
        end = now_s() + DEADLINE_S;
        while (!ab_consumer_joined(c) && now_s() < end) {
                ck_assert_int_eq(ab_consumer_poll(c, 200, &r, &err), AB_OK);
                ck_assert_ptr_null(r);
        }
        ck_assert(ab_consumer_joined(c));
        /* Let the fetchers start on both (empty) partitions. */
        for (int i = 0; i < 5; i++) {
                ck_assert_int_eq(ab_consumer_poll(c, 200, &r, &err), AB_OK);
                ck_assert_ptr_null(r);
        }
        lp.topic = hop;
        ck_assert_int_eq(pthread_create(&t, NULL, produce_late, &lp), 0);
        /* A poll that would wait 20 s on the shared queue returns the
         * preferred record as soon as it is fetched. */
        start = now_s();
        ck_assert_int_eq(ab_consumer_poll(c, 20000, &r, &err), AB_OK);
        ck_assert_int_eq(pthread_join(t, NULL), 0);
        ck_assert_ptr_nonnull(r);
        ck_assert_str_eq(ab_record_topic(r), hop);
        ck_assert_msg(now_s() - start < 10, "the poll returned after %.1f s",
                      now_s() - start);
        ab_record_destroy(r);
        ab_consumer_destroy(c);
}
END_TEST

TCase *kafka_consumer_tcase(void)
{
        TCase *tc = tcase_create("consumer");

        tcase_set_timeout(tc, 180);
        tcase_add_test(tc, consumer_reads_records_from_kcat);
        tcase_add_test(tc, headers_taken_once);
        tcase_add_test(tc, only_the_completed_prefix_is_committed);
        tcase_add_test(tc, auto_commit_commits_stored_offsets);
        tcase_add_test(tc, pause_stops_delivery_until_resume);
        tcase_add_test(tc, lag_is_high_watermark_minus_position);
        tcase_add_test(tc, dead_letter_copy_keeps_the_record);
        tcase_add_test(tc, revoke_and_stats_hooks_run_on_the_polling_thread);
        tcase_add_test(tc, preferred_topic_records_come_first);
        tcase_add_test(tc, preferred_record_wakes_a_waiting_poll);
        return tc;
}
