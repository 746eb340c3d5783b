/* kafka_edges_fixture.c - the broker, names, shell commands, kcat and client
 * setup shared by the Kafka edge tests. */
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

#include "core/timefmt.h"
#include "tests/integration/kafka_edges_fixture.h"

const char *brokers;

double now_s(void)
{
        return (double)ab_time_mono_ns() / 1e9;
}

void unique_name(char *out, size_t size, const char *what)
{
        static unsigned seq;
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(out, size, "ab-it-%s-%ld-%ld%03ld-%u", what, (long)getpid(),
                 (long)ts.tv_sec, ts.tv_nsec / 1000000, seq++);
}

/* Run a shell command, return its stdout (malloc'd) and require exit 0. */
char *run(const char *fmt, ...)
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
void create_topic(const char *topic, int partitions)
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
int64_t committed(const char *group, const char *topic, int32_t partition)
{
        return committed_meta(group, topic, partition, NULL, 0);
}

/* committed(), and its metadata string into \p meta (may be NULL). */
int64_t committed_meta(const char *group, const char *topic, int32_t partition,
                       char *meta, size_t size)
{
        char errstr[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_topic_partition_list_t *list;
        const rd_kafka_topic_partition_t *p;
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
        p   = &list->elems[0];
        off = p->offset;
        if (meta)
                snprintf(meta, size, "%.*s", (int)p->metadata_size,
                         p->metadata ? (const char *)p->metadata : "");
        rd_kafka_topic_partition_list_destroy(list);
        rd_kafka_destroy(rk);
        return off;
}

/* Records read back by kcat as JSON envelopes, in partition order. */
json_t *kcat_read(const char *topic, size_t expect)
{
        char *out =
            run("kcat -C -b %s -t %s -o beginning -e -q -J", brokers, topic);
        json_t *all = json_array();
        char *line, *nl;

        for (line = out; *line; line = nl ? nl + 1 : line + strlen(line)) {
                json_error_t jerr;
                json_t *rec;

                nl = strchr(line, '\n');
                if (nl)
                        *nl = '\0';
                if (!*line)
                        continue;
                rec = json_loads(line, 0, &jerr);
                ck_assert_msg(rec != NULL, "kcat line: %s", jerr.text);
                json_array_append_new(all, rec);
        }
        free(out);
        ck_assert_uint_eq(json_array_size(all), expect);
        return all;
}

const char *jstr(json_t *obj, const char *key)
{
        json_t *v = json_object_get(obj, key);

        return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The kcat envelope's headers as "name=value;name=value". */
void jheaders(json_t *rec, char *out, size_t size)
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

struct ab_producer *producer(struct reports *r, const char *const *props)
{
        return txn_producer(r, props, NULL);
}

struct ab_producer *txn_producer(struct reports *r, const char *const *props,
                                 const char *transactional_id)
{
        struct ab_producer_conf conf = {.brokers          = brokers,
                                        .properties       = props,
                                        .on_delivery      = on_delivery,
                                        .transactional_id = transactional_id,
                                        .arg              = r};
        struct ab_producer *p;
        struct ab_error err;

        ck_assert_msg(ab_producer_new(&conf, &p, &err) == AB_OK, "%s",
                      err.text);
        return p;
}

const char *const manual_commit_props[] = {"session.timeout.ms",
                                           "6000",
                                           "heartbeat.interval.ms",
                                           "500",
                                           "enable.auto.commit",
                                           "false",
                                           NULL};

const char *const consumer_props[] = {"session.timeout.ms", "6000",
                                      "heartbeat.interval.ms", "500", NULL};

struct ab_consumer *consumer(const char *group, const char *topic,
                             struct ab_offsets *t, const char *const *props)
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
