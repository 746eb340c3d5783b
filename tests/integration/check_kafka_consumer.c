/* check_kafka_edges.c - consumer, producer, binding on a real broker. */
#include <check.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "cloudevents_kafka.h"
#include "consumer.h"
#include "headers.h"
#include "producer.h"

/*
 * Every test talks to the broker named by AB_KAFKA_BROKERS (started by
 * scripts/kafka-broker.sh) and uses topics and groups of its own, named
 * after the test, the process and the time, so runs never see each
 * other's records. kcat is the independent client on the other side:
 * it produces what our consumer reads and reads what our producer wrote.
 * The "restart" suite also needs AB_KAFKA_DIR and stops and restarts the
 * broker in the middle of a stream.
 */

static const char *brokers;

/* Bounded waits: a condition is polled until it holds or this runs out. */
#define DEADLINE_S 60

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void unique_name(char *out, size_t size, const char *what)
{
        static unsigned seq;
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(out, size, "ab-it-%s-%ld-%ld%03ld-%u", what, (long)getpid(),
                 (long)ts.tv_sec, ts.tv_nsec / 1000000, seq++);
}

/* Run a shell command, return its stdout (malloc'd) and require exit 0. */
static char *run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *run(const char *fmt, ...)
{
        char cmd[4096];
        char *out  = NULL;
        size_t len = 0, cap = 0;
        va_list ap;
        FILE *f;
        int status;

        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        f = popen(cmd, "r");
        ck_assert_msg(f != NULL, "popen %s", cmd);
        for (;;) {
                size_t n;

                if (cap - len < 4096) {
                        cap = cap ? cap * 2 : 8192;
                        out = realloc(out, cap);
                        ck_assert_ptr_nonnull(out);
                }
                n = fread(out + len, 1, cap - len - 1, f);
                if (!n)
                        break;
                len += n;
        }
        out[len] = '\0';
        status   = pclose(f);
        ck_assert_msg(status == 0, "command failed (%d): %s", status, cmd);
        return out;
}

/* Create \p topic with \p partitions through the admin API. */
static void create_topic(const char *topic, int partitions)
{
        char errstr[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;
        rd_kafka_NewTopic_t *nt;
        rd_kafka_queue_t *q;
        rd_kafka_event_t *ev;
        const rd_kafka_CreateTopics_result_t *res;
        const rd_kafka_topic_result_t **results;
        size_t n;

        rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr,
                          sizeof(errstr));
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        ck_assert_msg(rk != NULL, "%s", errstr);
        nt =
            rd_kafka_NewTopic_new(topic, partitions, 1, errstr, sizeof(errstr));
        ck_assert_msg(nt != NULL, "%s", errstr);
        q = rd_kafka_queue_new(rk);
        rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
        ev = rd_kafka_queue_poll(q, DEADLINE_S * 1000);
        ck_assert_msg(ev != NULL, "CreateTopics timed out");
        ck_assert_msg(!rd_kafka_event_error(ev), "CreateTopics: %s",
                      rd_kafka_event_error_string(ev));
        res     = rd_kafka_event_CreateTopics_result(ev);
        results = rd_kafka_CreateTopics_result_topics(res, &n);
        ck_assert_uint_eq(n, 1);
        ck_assert_msg(!rd_kafka_topic_result_error(results[0]), "create %s: %s",
                      topic, rd_kafka_topic_result_error_string(results[0]));
        rd_kafka_event_destroy(ev);
        rd_kafka_queue_destroy(q);
        rd_kafka_NewTopic_destroy(nt);
        rd_kafka_destroy(rk);
}

/* The offset committed by \p group for \p topic / \p partition (-1001
 * when none), asked from the group coordinator by a separate client. */
static int64_t committed(const char *group, const char *topic,
                         int32_t partition)
{
        char errstr[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_topic_partition_list_t *list;
        rd_kafka_resp_err_t rc;
        rd_kafka_t *rk;
        int64_t off;

        rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr,
                          sizeof(errstr));
        rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof(errstr));
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        ck_assert_msg(rk != NULL, "%s", errstr);
        list = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(list, topic, partition);
        rc = rd_kafka_committed(rk, list, DEADLINE_S * 1000);
        ck_assert_msg(!rc, "committed: %s", rd_kafka_err2str(rc));
        off = list->elems[0].offset;
        rd_kafka_topic_partition_list_destroy(list);
        rd_kafka_destroy(rk);
        return off;
}

/* Records read back by kcat as JSON envelopes, in partition order. */
static json_t *kcat_read(const char *topic, size_t expect)
{
        char *out =
            run("kcat -C -b %s -t %s -o beginning -e -q -J", brokers, topic);
        json_t *all = json_array();
        char *line, *save = NULL;

        for (line = strtok_r(out, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                json_error_t jerr;
                json_t *rec = json_loads(line, 0, &jerr);

                ck_assert_msg(rec != NULL, "kcat line: %s", jerr.text);
                json_array_append_new(all, rec);
        }
        free(out);
        ck_assert_uint_eq(json_array_size(all), expect);
        return all;
}

static const char *jstr(json_t *obj, const char *key)
{
        json_t *v = json_object_get(obj, key);

        return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The kcat envelope's headers as "name=value;name=value". */
static void jheaders(json_t *rec, char *out, size_t size)
{
        json_t *h = json_object_get(rec, "headers");
        size_t n  = 0;

        out[0] = '\0';
        for (size_t i = 0; h && i + 1 < json_array_size(h); i += 2) {
                json_t *v = json_array_get(h, i + 1);

                n += (size_t)snprintf(
                    out + n, size - n, "%s%s=%s", i ? ";" : "",
                    json_string_value(json_array_get(h, i)),
                    json_is_string(v) ? json_string_value(v) : "(null)");
                ck_assert_uint_lt(n, size);
        }
}

/* --- producer side ------------------------------------------------------ */

struct reports {
        int n;
        int ok[64];
        int failed[64];
        ab_err_t last_status;
};

static void on_delivery(void *arg, void *opaque, ab_err_t status,
                        const struct ab_error *err)
{
        struct reports *r = arg;
        int i             = (int)(intptr_t)opaque;

        ck_assert_int_lt(i, 64);
        r->n++;
        r->last_status = status;
        if (status)
                r->failed[i]++;
        else
                r->ok[i]++;
}

static struct ab_producer *producer(struct reports *r, const char *const *props)
{
        struct ab_producer_conf conf = {.brokers     = brokers,
                                        .properties  = props,
                                        .on_delivery = on_delivery,
                                        .arg         = r};
        struct ab_producer *p;
        struct ab_error err;

        ck_assert_msg(ab_producer_new(&conf, &p, &err) == AB_OK, "%s",
                      err.text);
        return p;
}

static void wait_reports(struct ab_producer *p, struct reports *r, int n)
{
        double end = now_s() + DEADLINE_S;

        while (r->n < n && now_s() < end)
                ab_producer_poll(p, 100);
        ck_assert_int_eq(r->n, n);
}

START_TEST(producer_records_read_back_by_kcat)
{
        struct reports r      = {0};
        struct ab_producer *p = producer(&r, NULL);
        struct ab_headers *h  = ab_headers_new();
        char topic[128], key[16], value[32], want[128], got[256];
        struct ab_error err;
        json_t *recs;

        unique_name(topic, sizeof(topic), "produce");
        create_topic(topic, 1);
        for (int i = 0; i < 20; i++) {
                snprintf(key, sizeof(key), "k%d", i);
                snprintf(value, sizeof(value), "value %d", i);
                ab_headers_reset(h);
                ab_headers_add_i64(h, "seq", i);
                ab_headers_add_str(h, "dup", "first");
                ab_headers_add_str(h, "dup", "second");
                ck_assert_int_eq(ab_producer_send(p, topic, ab_str_c(key),
                                                  ab_str_c(value), h,
                                                  (void *)(intptr_t)i, &err),
                                 AB_OK);
        }
        /* A record without key, headers or value. */
        ck_assert_int_eq(ab_producer_send(p, topic, AB_STR_NULL, AB_STR_NULL,
                                          NULL, (void *)(intptr_t)20, &err),
                         AB_OK);
        ck_assert_int_eq(ab_producer_flush(p, DEADLINE_S * 1000, &err), AB_OK);
        ck_assert_int_eq(r.n, 21);
        for (int i = 0; i < 21; i++) {
                ck_assert_int_eq(r.ok[i], 1);
                ck_assert_int_eq(r.failed[i], 0);
        }
        ck_assert_uint_eq(ab_producer_inflight(p), 0);

        recs = kcat_read(topic, 21);
        for (int i = 0; i < 20; i++) {
                json_t *rec = json_array_get(recs, (size_t)i);

                snprintf(key, sizeof(key), "k%d", i);
                snprintf(value, sizeof(value), "value %d", i);
                ck_assert_str_eq(jstr(rec, "key"), key);
                ck_assert_str_eq(jstr(rec, "payload"), value);
                jheaders(rec, got, sizeof(got));
                snprintf(want, sizeof(want), "seq=%d;dup=first;dup=second", i);
                ck_assert_str_eq(got, want);
        }
        ck_assert(
            json_is_null(json_object_get(json_array_get(recs, 20), "payload")));
        ck_assert(
            json_is_null(json_object_get(json_array_get(recs, 20), "key")));
        json_decref(recs);
        ab_headers_destroy(h);
        ab_producer_destroy(p);
}
END_TEST

static const char event[] =
    "{\"specversion\":\"1.0\",\"id\":\"0123456789abcdef0123456789abcdef\","
    "\"source\":\"alertbridge\",\"type\":\"aliyun:arms:alarm:create\","
    "\"subject\":\"HostDown\",\"time\":\"2024-05-01T10:00:00.000Z\","
    "\"datacontenttype\":\"application/json; charset=utf-8\","
    "\"alertid\":\"fedcba9876543210fedcba9876543210\","
    "\"integration\":\"network-monitor\",\"alertcount\":2,"
    "\"data\":{\"owner\":\"ops-oncall\",\"data\":{\"status\":\"firing\","
    "\"level\":\"P1\"}}}";

START_TEST(cloudevents_bindings_on_the_wire)
{
        struct reports r        = {0};
        struct ab_producer *p   = producer(&r, NULL);
        struct ab_headers *h    = ab_headers_new();
        struct ab_ce_kafka *enc = ab_ce_kafka_new();
        char topic[128], got[1024];
        struct ab_error err;
        struct ab_str value;
        json_t *recs, *rec, *payload, *want;

        unique_name(topic, sizeof(topic), "bindings");
        create_topic(topic, 1);
        ck_assert_int_eq(ab_ce_kafka_encode(enc, AB_CE_STRUCTURED, event,
                                            strlen(event), h, &value, &err),
                         AB_OK);
        ck_assert_int_eq(ab_producer_send(p, topic, ab_str_c("fp1"), value, h,
                                          (void *)(intptr_t)0, &err),
                         AB_OK);
        ab_headers_reset(h);
        ck_assert_int_eq(ab_ce_kafka_encode(enc, AB_CE_BINARY, event,
                                            strlen(event), h, &value, &err),
                         AB_OK);
        ck_assert_int_eq(ab_producer_send(p, topic, ab_str_c("fp1"), value, h,
                                          (void *)(intptr_t)1, &err),
                         AB_OK);
        ck_assert_int_eq(ab_producer_flush(p, DEADLINE_S * 1000, &err), AB_OK);
        ck_assert_int_eq(r.ok[0] + r.ok[1], 2);

        recs = kcat_read(topic, 2);
        /* Structured: one content-type header, the event as the value. */
        rec = json_array_get(recs, 0);
        jheaders(rec, got, sizeof(got));
        ck_assert_str_eq(got, "content-type=application/cloudevents+json; "
                              "charset=UTF-8");
        ck_assert_str_eq(jstr(rec, "payload"), event);
        ck_assert_str_eq(jstr(rec, "key"), "fp1");
        /* Binary: ce_ headers, content-type, the data as the value. */
        rec = json_array_get(recs, 1);
        jheaders(rec, got, sizeof(got));
        ck_assert_str_eq(got, "ce_specversion=1.0;"
                              "ce_id=0123456789abcdef0123456789abcdef;"
                              "ce_source=alertbridge;"
                              "ce_type=aliyun:arms:alarm:create;"
                              "ce_subject=HostDown;"
                              "ce_time=2024-05-01T10:00:00.000Z;"
                              "ce_alertid=fedcba9876543210fedcba9876543210;"
                              "ce_integration=network-monitor;"
                              "ce_alertcount=2;"
                              "content-type=application/json; charset=utf-8");
        payload = json_loads(jstr(rec, "payload"), 0, NULL);
        want    = json_pack("{s:s,s:{s:s,s:s}}", "owner", "ops-oncall", "data",
                            "status", "firing", "level", "P1");
        ck_assert(json_equal(payload, want));
        json_decref(payload);
        json_decref(want);
        json_decref(recs);
        ab_ce_kafka_destroy(enc);
        ab_headers_destroy(h);
        ab_producer_destroy(p);
}
END_TEST

START_TEST(producer_reports_size_errors)
{
        static const char *const props[] = {"message.max.bytes", "3000000",
                                            NULL};
        struct reports r                 = {0};
        struct ab_producer *p            = producer(&r, props);
        size_t big  = 1500000; /* over the broker's 1 MiB limit */
        char *value = malloc(3100000);
        char topic[128];
        struct ab_error err;

        ck_assert_ptr_nonnull(value);
        memset(value, 'x', 3100000);
        unique_name(topic, sizeof(topic), "size");
        create_topic(topic, 1);
        /* Over our own limit: refused at once, no report follows. */
        ck_assert_int_eq(ab_producer_send(p, topic, AB_STR_NULL,
                                          ab_str_make(value, 3100000), NULL,
                                          (void *)(intptr_t)0, &err),
                         AB_ERR_TOO_LARGE);
        ck_assert_int_eq(err.code, AB_ERR_TOO_LARGE);
        /* Over the broker's limit: accepted here, refused by the broker,
         * reported as a failed delivery. */
        ck_assert_int_eq(ab_producer_send(p, topic, AB_STR_NULL,
                                          ab_str_make(value, big), NULL,
                                          (void *)(intptr_t)1, &err),
                         AB_OK);
        ck_assert_int_eq(ab_producer_send(p, topic, AB_STR_NULL,
                                          ab_str_c("small"), NULL,
                                          (void *)(intptr_t)2, &err),
                         AB_OK);
        wait_reports(p, &r, 2);
        ck_assert_int_eq(r.failed[1], 1);
        ck_assert_int_eq(r.ok[2], 1);
        ck_assert_int_eq(r.ok[0] + r.failed[0], 0);
        ck_assert(!ab_producer_fatal(p, NULL));
        free(value);
        ab_producer_destroy(p);
}
END_TEST

/* --- consumer side ------------------------------------------------------ */

static const char *const consumer_props[] = {
    "session.timeout.ms", "6000", "heartbeat.interval.ms", "500", NULL};

static const char *const manual_commit_props[] = {"session.timeout.ms",
                                                  "6000",
                                                  "heartbeat.interval.ms",
                                                  "500",
                                                  "enable.auto.commit",
                                                  "false",
                                                  NULL};

static struct ab_consumer *consumer(const char *group, const char *topic,
                                    struct ab_offsets *t,
                                    const char *const *props)
{
        struct ab_consumer_conf conf = {.brokers    = brokers,
                                        .group      = group,
                                        .properties = props,
                                        .offsets    = t};
        struct ab_consumer *c;
        struct ab_error err;

        ck_assert_msg(ab_consumer_new(&conf, &c, &err) == AB_OK, "%s",
                      err.text);
        ck_assert_int_eq(ab_consumer_subscribe(c, &topic, 1, &err), AB_OK);
        return c;
}

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
                ab_record_destroy(r);
        }
        ck_assert_uint_eq(ab_consumer_assigned(c), 1);
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

/* --- broker restart ----------------------------------------------------- */

static void broker_script(const char *verb)
{
        free(run("%s/scripts/kafka-broker.sh %s >&2", AB_SOURCE_DIR, verb));
}

/* Consume until \p want distinct values of 0..N-1 were seen, registering
 * and completing each record so the tracker's offsets move. */
static void consume_values(struct ab_consumer *c, struct ab_offsets *t,
                           int *seen, int n, int want)
{
        double end   = now_s() + 2 * DEADLINE_S;
        int distinct = 0;
        struct ab_error err;

        for (int i = 0; i < n; i++)
                distinct += seen[i] > 0;
        while (distinct < want && now_s() < end) {
                struct ab_record *r = NULL;
                struct ab_offsets_entry *e;
                int i;

                ck_assert_int_eq(ab_consumer_poll(c, 200, &r, &err), AB_OK);
                if (!r)
                        continue;
                i = atoi(ab_record_value(r).ptr);
                ck_assert_int_lt(i, n);
                if (!seen[i]++)
                        distinct++;
                ck_assert_int_eq(ab_offsets_register(t, ab_record_topic(r), 0,
                                                     ab_record_offset(r), &e,
                                                     &err),
                                 AB_OK);
                ab_offsets_release(e);
                ab_record_destroy(r);
        }
        ck_assert_int_eq(distinct, want);
}

START_TEST(broker_restart_loses_nothing)
{
        enum { N = 40 };
        struct reports rep = {0};
        struct ab_producer *p;
        struct ab_offsets *t = ab_offsets_new(128);
        struct ab_consumer *c;
        struct ab_error err;
        char topic[128], value[32];
        int seen[N] = {0};

        ck_assert_msg(getenv("AB_KAFKA_DIR"), "AB_KAFKA_DIR is not set");
        unique_name(topic, sizeof(topic), "restart");
        create_topic(topic, 1);
        p = producer(&rep, NULL);
        c = consumer(topic, topic, t, consumer_props);

        /* The first half flows through before the outage. */
        for (int i = 0; i < N; i++) {
                if (i == N / 2) {
                        ck_assert_int_eq(
                            ab_producer_flush(p, DEADLINE_S * 1000, &err),
                            AB_OK);
                        consume_values(c, t, seen, N, N / 2);
                        ck_assert_int_eq(ab_consumer_commit(c, &err), AB_OK);
                        broker_script("stop");
                }
                snprintf(value, sizeof(value), "%d", i);
                ck_assert_int_eq(ab_producer_send(p, topic, AB_STR_NULL,
                                                  ab_str_c(value), NULL,
                                                  (void *)(intptr_t)i, &err),
                                 AB_OK);
        }
        /* The second half waits in the producer while the broker is down;
         * both clients keep polling through the outage. */
        for (int i = 0; i < 10; i++) {
                struct ab_record *r = NULL;

                ab_producer_poll(p, 100);
                ck_assert_int_eq(ab_consumer_poll(c, 100, &r, &err), AB_OK);
                ck_assert_ptr_null(r);
        }
        ck_assert_int_eq(rep.n, N / 2);
        broker_script("restart");

        /* Every message is delivered once the broker is back, and the
         * same consumer reads the rest. */
        ck_assert_int_eq(ab_producer_flush(p, 2 * DEADLINE_S * 1000, &err),
                         AB_OK);
        for (int i = 0; i < N; i++) {
                ck_assert_int_eq(rep.ok[i], 1);
                ck_assert_int_eq(rep.failed[i], 0);
        }
        consume_values(c, t, seen, N, N);
        ck_assert_int_eq(ab_consumer_close(c, &err), AB_OK);
        ab_consumer_destroy(c);
        ck_assert_int_eq(committed(topic, topic, 0), N);
        ab_producer_destroy(p);
        ab_offsets_destroy(t);
}
END_TEST

static Suite *edges_suite(void)
{
        Suite *s = suite_create("kafka_edges");
        TCase *tc;

        tc = tcase_create("producer");
        tcase_set_timeout(tc, 180);
        tcase_add_test(tc, producer_records_read_back_by_kcat);
        tcase_add_test(tc, cloudevents_bindings_on_the_wire);
        tcase_add_test(tc, producer_reports_size_errors);
        suite_add_tcase(s, tc);

        tc = tcase_create("consumer");
        tcase_set_timeout(tc, 180);
        tcase_add_test(tc, consumer_reads_records_from_kcat);
        tcase_add_test(tc, only_the_completed_prefix_is_committed);
        tcase_add_test(tc, auto_commit_commits_stored_offsets);
        tcase_add_test(tc, pause_stops_delivery_until_resume);
        tcase_add_test(tc, lag_is_high_watermark_minus_position);
        tcase_add_test(tc, dead_letter_copy_keeps_the_record);
        tcase_add_test(tc, revoke_and_stats_hooks_run_on_the_polling_thread);
        suite_add_tcase(s, tc);
        return s;
}

static Suite *restart_suite(void)
{
        Suite *s  = suite_create("kafka_restart");
        TCase *tc = tcase_create("restart");

        tcase_set_timeout(tc, 400);
        tcase_add_test(tc, broker_restart_loses_nothing);
        suite_add_tcase(s, tc);
        return s;
}

int main(int argc, char **argv)
{
        int restart = argc > 1 && !strcmp(argv[1], "restart");
        SRunner *sr;
        int failed;

        brokers = getenv("AB_KAFKA_BROKERS");
        if (!brokers || !*brokers) {
                fprintf(stderr, "AB_KAFKA_BROKERS is not set: start the "
                                "broker with scripts/kafka-broker.sh start "
                                "(or run tests/integration/run.sh)\n");
                return EXIT_FAILURE;
        }
        sr = srunner_create(restart ? restart_suite() : edges_suite());
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
