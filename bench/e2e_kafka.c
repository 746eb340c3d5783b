/* e2e_kafka.c - the end-to-end benchmark's Kafka side: clients, topics, the
 * corpus load, the warm-up read, watermarks, append times and event tallies.
 */
#define _GNU_SOURCE /* memmem */
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench/benchutil.h"
#include "bench/e2e_int.h"
#include "core/mem.h"

static int conf_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
        char errstr[256];

        if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) ==
            RD_KAFKA_CONF_OK)
                return 0;
        fprintf(stderr, "bench_e2e: %s: %s\n", name, errstr);
        return -1;
}

rd_kafka_t *e2e_client(rd_kafka_type_t type, const char *brokers,
                       const char *group)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char errstr[256];
        rd_kafka_t *rk;

        if (conf_set(conf, "bootstrap.servers", brokers) ||
            conf_set(conf, "client.id", "bench-e2e") ||
            (type == RD_KAFKA_PRODUCER &&
             (conf_set(conf, "enable.idempotence", "true") ||
              conf_set(conf, "linger.ms", "20"))) ||
            (group && (conf_set(conf, "group.id", group) ||
                       conf_set(conf, "enable.auto.commit", "false")))) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "bench_e2e: client: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
        }
        return rk;
}

int e2e_remember_topic(struct run *r, const char *name)
{
        char **v = ab_realloc(r->created, (r->ncreated + 1) * sizeof(*v));

        if (!v)
                return -1;
        r->created     = v;
        v[r->ncreated] = ab_strdup(name);
        if (!v[r->ncreated])
                return -1;
        r->ncreated++;
        return 0;
}

/* Create \p n single-partition topics; \p append_time: broker timestamps. */
int e2e_create_topics(struct run *r, const char (*names)[160], size_t n,
                      int append_time)
{
        rd_kafka_NewTopic_t *nt[8];
        rd_kafka_queue_t *q = rd_kafka_queue_new(r->admin);
        const rd_kafka_CreateTopics_result_t *res;
        const rd_kafka_topic_result_t **tr;
        rd_kafka_event_t *ev = NULL;
        char errstr[256];
        size_t ntr, made = 0;
        int rc = -1;

        for (; made < n && made < 8; made++) {
                nt[made] = rd_kafka_NewTopic_new(names[made], 1, 1, errstr,
                                                 sizeof(errstr));
                if (!nt[made]) {
                        fprintf(stderr, "bench_e2e: topic %s: %s\n",
                                names[made], errstr);
                        goto out;
                }
                if (append_time &&
                    rd_kafka_NewTopic_set_config(
                        nt[made], "message.timestamp.type", "LogAppendTime"))
                        goto out;
        }
        rd_kafka_CreateTopics(r->admin, nt, made, NULL, q);
        ev  = rd_kafka_queue_poll(q, 30000);
        res = ev ? rd_kafka_event_CreateTopics_result(ev) : NULL;
        if (!res) {
                fprintf(stderr, "bench_e2e: creating topics: %s\n",
                        ev ? rd_kafka_event_error_string(ev) : "timed out");
                goto out;
        }
        tr = rd_kafka_CreateTopics_result_topics(res, &ntr);
        for (size_t i = 0; i < ntr; i++) {
                if (rd_kafka_topic_result_error(tr[i])) {
                        fprintf(stderr, "bench_e2e: creating %s: %s\n",
                                rd_kafka_topic_result_name(tr[i]),
                                rd_kafka_topic_result_error_string(tr[i]));
                        goto out;
                }
                if (e2e_remember_topic(r, rd_kafka_topic_result_name(tr[i])))
                        goto out;
        }
        rc = 0;
out:
        if (ev)
                rd_kafka_event_destroy(ev);
        for (size_t i = 0; i < made; i++)
                rd_kafka_NewTopic_destroy(nt[i]);
        rd_kafka_queue_destroy(q);
        return rc;
}

int e2e_remember_prefixed(struct run *r, const char *prefix)
{
        const struct rd_kafka_metadata *md = NULL;
        size_t plen                        = strlen(prefix);
        int rc                             = 0;

        if (rd_kafka_metadata(r->admin, 1, NULL, &md, 10000)) {
                fprintf(stderr, "bench_e2e: cannot list the topics\n");
                return -1;
        }
        for (int i = 0; i < md->topic_cnt && !rc; i++) {
                const char *name = md->topics[i].topic;
                int known        = 0;

                if (strncmp(name, prefix, plen))
                        continue;
                for (size_t k = 0; k < r->ncreated && !known; k++)
                        known = !strcmp(r->created[k], name);
                if (!known)
                        rc = e2e_remember_topic(r, name);
        }
        rd_kafka_metadata_destroy(md);
        return rc;
}

void e2e_delete_topics(struct run *r)
{
        rd_kafka_DeleteTopic_t **dt;
        rd_kafka_queue_t *q;
        rd_kafka_event_t *ev;

        if (!r->ncreated || !r->admin)
                return;
        dt = ab_calloc(r->ncreated, sizeof(*dt));
        q  = rd_kafka_queue_new(r->admin);
        if (dt) {
                for (size_t i = 0; i < r->ncreated; i++)
                        dt[i] = rd_kafka_DeleteTopic_new(r->created[i]);
                rd_kafka_DeleteTopics(r->admin, dt, r->ncreated, NULL, q);
                ev = rd_kafka_queue_poll(q, 30000);
                if (ev)
                        rd_kafka_event_destroy(ev);
                for (size_t i = 0; i < r->ncreated; i++)
                        rd_kafka_DeleteTopic_destroy(dt[i]);
        }
        ab_free(dt);
        rd_kafka_queue_destroy(q);
}

/* A topic created a moment ago and not written yet may have no leader in
 * the client's metadata: the query is repeated, for up to 30 s, while it
 * fails. */
int64_t e2e_high_watermark(struct run *r, const char *topic)
{
        int64_t deadline            = ab_bench_wall_ns() + 30000000000LL;
        const struct timespec pause = {0, 100000000};
        int64_t lo = 0, hi = 0;
        rd_kafka_resp_err_t err;

        for (;;) {
                err = rd_kafka_query_watermark_offsets(r->admin, topic, 0, &lo,
                                                       &hi, 5000);
                if (!err)
                        return hi;
                if (ab_bench_wall_ns() >= deadline)
                        break;
                nanosleep(&pause, NULL);
        }
        fprintf(stderr, "bench_e2e: the high watermark of %s: %s\n", topic,
                rd_kafka_err2str(err));
        return -1;
}

/* Called for each record e2e_read_each() reads. */
typedef void (*each_fn)(void *arg, const rd_kafka_message_t *m);

/* Read \p nouts single-partition topics from their start, committed
 * records only, passing each to \p each, until \p expect records in all
 * or \p deadline_ns. @returns the records read, or -1. */
static int64_t read_each(struct run *r, const char *const *outs, size_t nouts,
                         int64_t expect, int64_t deadline_ns, each_fn each,
                         void *arg)
{
        /* librdkafka's default isolation.level is read_committed. */
        rd_kafka_t *c = e2e_client(RD_KAFKA_CONSUMER, r->brokers, r->id);
        rd_kafka_topic_partition_list_t *list;
        int64_t n = 0;

        if (!c)
                return -1;
        list = rd_kafka_topic_partition_list_new((int)nouts);
        for (size_t i = 0; i < nouts; i++)
                rd_kafka_topic_partition_list_add(list, outs[i], 0)->offset =
                    RD_KAFKA_OFFSET_BEGINNING;
        if (rd_kafka_assign(c, list))
                n = -1;
        while (n >= 0 && n < expect && ab_bench_wall_ns() < deadline_ns) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 200);

                if (!m)
                        continue;
                if (!m->err) {
                        n++;
                        each(arg, m);
                }
                rd_kafka_message_destroy(m);
        }
        rd_kafka_topic_partition_list_destroy(list);
        rd_kafka_consumer_close(c);
        rd_kafka_destroy(c);
        return n;
}

struct span {
        int64_t first, last;
};

static void widen_span(void *arg, const rd_kafka_message_t *m)
{
        struct span *s = arg;
        rd_kafka_timestamp_type_t type;
        int64_t t = rd_kafka_message_timestamp(m, &type);

        if (t < s->first)
                s->first = t;
        if (t > s->last)
                s->last = t;
}

int64_t e2e_read_committed(struct run *r, const char *const *outs, size_t nouts,
                           int64_t expect, int64_t deadline_ns, int64_t *first,
                           int64_t *last)
{
        struct span s = {INT64_MAX, -1};
        int64_t n =
            read_each(r, outs, nouts, expect, deadline_ns, widen_span, &s);

        *first = s.first;
        *last  = s.last;
        return n;
}

/* The string value of the first member "name" of the JSON text \p v (no
 * escapes in the values looked for). @returns its length, or 0. */
static size_t json_member(const char *v, size_t len, const char *name,
                          const char **out)
{
        char pat[32];
        int n         = snprintf(pat, sizeof(pat), "\"%s\":\"", name);
        const char *p = memmem(v, len, pat, (size_t)n), *q;

        if (!p)
                return 0;
        p += n;
        q = memchr(p, '"', len - (size_t)(p - v));
        if (!q)
                return 0;
        *out = p;
        return (size_t)(q - p);
}

static void tally_one(void *arg, const rd_kafka_message_t *m)
{
        const char *v = m->payload, *type = "", *fp = "";
        size_t tlen = 0, flen = 0;

        if (v) {
                tlen = json_member(v, m->len, "type", &type);
                flen = json_member(v, m->len, "fingerprint", &fp);
        }
        e2e_tally_add(arg, type, tlen, fp, flen);
}

int64_t e2e_tally_events(struct run *r, const char *topic, int64_t expect,
                         int64_t deadline_ns, struct e2e_tally *out)
{
        memset(out, 0, sizeof(*out));
        return read_each(r, &topic, 1, expect, deadline_ns, tally_one, out);
}

static void dr_count(rd_kafka_t *rk, const rd_kafka_message_t *m, void *op)
{
        (void)rk;
        (void)op;
        if (m->err)
                fprintf(stderr, "bench_e2e: load: %s\n",
                        rd_kafka_err2str(m->err));
}

/* The append time of message \p offset of \p topic, or -1. */
int64_t e2e_message_time(struct run *r, const char *topic, int64_t offset)
{
        rd_kafka_t *c = e2e_client(RD_KAFKA_CONSUMER, r->brokers, r->id);
        rd_kafka_topic_partition_list_t *list;
        int64_t t = -1, deadline = ab_bench_wall_ns() + 30000000000LL;

        if (!c)
                return -1;
        list = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(list, topic, 0)->offset = offset;
        if (!rd_kafka_assign(c, list)) {
                while (t < 0 && ab_bench_wall_ns() < deadline) {
                        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 500);
                        rd_kafka_timestamp_type_t type;

                        if (!m)
                                continue;
                        if (!m->err && m->offset == offset)
                                t = rd_kafka_message_timestamp(m, &type);
                        rd_kafka_message_destroy(m);
                }
        }
        rd_kafka_topic_partition_list_destroy(list);
        rd_kafka_consumer_close(c);
        rd_kafka_destroy(c);
        return t;
}

/*
 * Read every raw record once before the first round. The first reader of
 * freshly written topics finds the broker cold (its fetch path not yet
 * compiled by the JIT, the segments' indexes not yet in memory), and
 * without this pass the first subject of round 1 ran 20-40 % slower than
 * the same subject in later rounds, whichever subject it was.
 * @returns the records read, or -1.
 */
long long e2e_warm_up(struct run *r)
{
        rd_kafka_t *c = e2e_client(RD_KAFKA_CONSUMER, r->brokers, r->id);
        rd_kafka_topic_partition_list_t *list;
        int64_t deadline = ab_bench_wall_ns() + 120000000000LL;
        long long n      = 0;

        if (!c)
                return -1;
        list = rd_kafka_topic_partition_list_new(NRAW);
        for (int k = 0; k < NRAW; k++)
                rd_kafka_topic_partition_list_add(list, r->raw[k], 0)->offset =
                    RD_KAFKA_OFFSET_BEGINNING;
        if (!rd_kafka_assign(c, list)) {
                while (n < (long long)r->corpus.n &&
                       ab_bench_wall_ns() < deadline) {
                        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 500);

                        if (!m)
                                continue;
                        if (!m->err)
                                n++;
                        rd_kafka_message_destroy(m);
                }
        }
        rd_kafka_topic_partition_list_destroy(list);
        rd_kafka_consumer_close(c);
        rd_kafka_destroy(c);
        return n == (long long)r->corpus.n ? n : -1;
}

int e2e_load(struct run *r)
{
        rd_kafka_t *p;
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char errstr[256];
        int64_t t0 = ab_bench_wall_ns();
        int rc     = -1;

        if (conf_set(conf, "bootstrap.servers", r->brokers) ||
            conf_set(conf, "enable.idempotence", "true") ||
            conf_set(conf, "linger.ms", "20")) {
                rd_kafka_conf_destroy(conf);
                return -1;
        }
        rd_kafka_conf_set_dr_msg_cb(conf, dr_count);
        p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!p) {
                rd_kafka_conf_destroy(conf);
                return -1;
        }
        for (size_t i = 0; i < r->corpus.n; i++) {
                const struct ab_bench_record *rec = &r->corpus.recs[i];
                const char *topic                 = r->raw[0];
                rd_kafka_resp_err_t err;

                for (int k = 0; k < NRAW; k++)
                        if (!strcmp(e2e_raw_integrations[k],
                                    ab_bench_kind_integration(rec->kind)))
                                topic = r->raw[k];
                do {
                        err = rd_kafka_producev(
                            p, RD_KAFKA_V_TOPIC(topic),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_VALUE(
                                (void *)ab_bench_record_data(&r->corpus, i),
                                rec->len),
                            RD_KAFKA_V_TIMESTAMP(r->base_ms + (int64_t)i),
                            RD_KAFKA_V_END);
                        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                                rd_kafka_poll(p, 100);
                } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
                if (err) {
                        fprintf(stderr, "bench_e2e: load: %s\n",
                                rd_kafka_err2str(err));
                        goto out;
                }
                rd_kafka_poll(p, 0);
        }
        if (rd_kafka_flush(p, 120000)) {
                fprintf(stderr, "bench_e2e: load did not complete\n");
                goto out;
        }
        {
                int64_t total = 0, hw;

                for (int k = 0; k < NRAW; k++) {
                        if ((hw = e2e_high_watermark(r, r->raw[k])) < 0)
                                goto out;
                        total += hw;
                }
                if (total != (int64_t)r->corpus.n) {
                        fprintf(stderr,
                                "bench_e2e: the raw topics hold %lld records, "
                                "not %zu\n",
                                (long long)total, r->corpus.n);
                        goto out;
                }
        }
        printf("loaded %zu records (%.1f MB) in %.1f s\n", r->corpus.n,
               (double)r->bytes / 1e6, (double)(ab_bench_wall_ns() - t0) / 1e9);
        rc = 0;
out:
        rd_kafka_destroy(p);
        return rc;
}
