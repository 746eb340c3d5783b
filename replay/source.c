/* source.c - the replay's Kafka input: librdkafka's simple consumer over
 * explicit offset ranges, merged across partitions by order timestamp. */
#include "replay/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "kafka/kafka_conf.h"

#define BATCH       64  /* records taken from librdkafka at once */
#define WAIT_MS     100 /* longest blocking wait, to notice `stop` */
#define PREFETCH_KB "4096"
/* Longest blocking lookup (metadata, offsets, watermarks) at once. */
#define LOOKUP_SLICE_MS 1000

/* One partition being read. */
struct part {
        struct ab_replay_partition info;
        rd_kafka_message_t *buf[BATCH]; /* fetched, not yet looked at */
        size_t nbuf;
        size_t pos;
        rd_kafka_message_t *head; /* its next record in order, or NULL */
        int64_t head_order;
        int64_t max_ts; /* largest timestamp seen; INT64_MIN: none yet */
        bool started;   /* consume_start succeeded */
        bool done;
        bool warned_eof; /* told the user we wait below the range end */
};

struct ab_replay_source {
        rd_kafka_t *rk;
        rd_kafka_topic_t *rkt;
        struct part *parts;                /* owned, sorted by partition */
        struct ab_replay_partition *infos; /* snapshot for callers */
        size_t nparts;
        size_t *heap; /* indices into parts, ordered by head */
        size_t nheap;
        struct part *out; /* whose head was handed out last */
        volatile sig_atomic_t *stop;
        char topic[256];
};

static void error_cb(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
        char quoted[300];

        AB_LOG(ab_kafka_error_level(code), "replay", "kafka error",
               "error=%s reason=%s",
               rd_kafka_err2name((rd_kafka_resp_err_t)code),
               ab_log_quote(reason, quoted, sizeof(quoted)));
}

static ab_err_t kafka_error(struct ab_error *err, const char *what,
                            rd_kafka_resp_err_t code)
{
        ab_err_t rc = code == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                              code == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
                              code == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION
                          ? AB_ERR_NOT_FOUND
                          : AB_ERR_KAFKA;

        return ab_error_set(err, rc, NULL, "%s: %s", what,
                            rd_kafka_err2str(code));
}

/* ---------------------------------------------------------------- setup */

static ab_err_t make_client(struct ab_replay_source *src,
                            const struct ab_replay_source_conf *c,
                            struct ab_error *err)
{
        /* clang-format off */
        static const char *const defaults[] = {
                "client.id",                  "alertbridge-replay",
                "enable.partition.eof",       "true",
                "enable.auto.commit",         "false",
                "enable.auto.offset.store",   "false",
                "auto.offset.reset",          "error",
                "queued.max.messages.kbytes", PREFETCH_KB,
                "log.connection.close",       "false",
                NULL,
        };
        /* clang-format on */
        /* Our guarantees: never commit, never store offsets. */
        static const char *const locked[] = {"enable.auto.commit", "false",
                                             "enable.auto.offset.store",
                                             "false", NULL};
        rd_kafka_conf_t *conf;
        char errstr[512];
        ab_err_t rc;

        for (const char *const *kv = c->properties; kv && kv[0]; kv += 2)
                if (!strcmp(kv[0], "group.id"))
                        return ab_error_set(err, AB_ERR_CONFIG, "group.id",
                                            "a replay joins no consumer "
                                            "group: remove group.id");
        conf = ab_kafka_conf_new();
        if (!conf)
                return AB_ERR_NOMEM;
        rd_kafka_conf_set_error_cb(conf, error_cb);
        rc = ab_kafka_conf_set(conf, "bootstrap.servers", c->brokers, err);
        if (!rc)
                rc = ab_kafka_conf_apply(conf, defaults, NULL, err);
        if (!rc)
                rc = ab_kafka_conf_apply(conf, c->properties, locked, err);
        if (rc) {
                rd_kafka_conf_destroy(conf);
                return rc;
        }
        src->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        if (!src->rk) {
                rd_kafka_conf_destroy(conf);
                return ab_error_set(err, AB_ERR_KAFKA, NULL,
                                    "cannot create the kafka client: %s",
                                    errstr);
        }
        src->rkt = rd_kafka_topic_new(src->rk, c->topic, NULL);
        if (!src->rkt)
                return kafka_error(err, "cannot use the topic",
                                   rd_kafka_last_error());
        return AB_OK;
}

static int by_partition(const void *a, const void *b)
{
        const struct part *x = a;
        const struct part *y = b;

        return x->info.partition < y->info.partition   ? -1
               : x->info.partition > y->info.partition ? 1
                                                       : 0;
}

/*
 * HOW IT WORKS (lookups that notice `stop`)
 * librdkafka's metadata, offsets-for-times and watermark calls block for
 * their whole timeout when the cluster does not answer. Each is tried
 * with at most LOOKUP_SLICE_MS at a time, again while it times out or
 * finds no broker up (pausing WAIT_MS between tries that failed at once),
 * until it answers, the replay's timeout has passed or `stop` is set, so
 * that SIGTERM ends a replay waiting for an unreachable cluster within
 * about a second, while a cluster that comes back before the timeout is
 * still used. The connections made by one try are kept for the next.
 */
static int64_t lookup_deadline(const struct ab_replay_source_conf *c)
{
        return ab_time_mono_ms() + c->timeout_ms;
}

/* The timeout of the next try; 0: stopped, or the deadline passed. */
static int lookup_slice(const struct ab_replay_source *src, int64_t deadline)
{
        int64_t left = deadline - ab_time_mono_ms();

        if ((src->stop && *src->stop) || left <= 0)
                return 0;
        return left < LOOKUP_SLICE_MS ? (int)left : LOOKUP_SLICE_MS;
}

/*
 * After a try that started at \p tried and failed with \p code: whether to
 * try again, with \p *slice the timeout of the next try.
 */
static bool lookup_again(const struct ab_replay_source *src,
                         rd_kafka_resp_err_t code, int64_t deadline,
                         int64_t tried, int *slice)
{
        int64_t spent = ab_time_mono_ms() - tried;

        if (code != RD_KAFKA_RESP_ERR__TIMED_OUT &&
            code != RD_KAFKA_RESP_ERR__TRANSPORT &&
            code != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
                return false;
        if (spent < WAIT_MS && lookup_slice(src, deadline)) {
                struct timespec ts = {0, (long)(WAIT_MS - spent) * 1000000L};

                nanosleep(&ts, NULL); /* a signal ends it early */
        }
        *slice = lookup_slice(src, deadline);
        return *slice > 0;
}

/* Why a lookup failed: the stop flag, else librdkafka's \p code. */
static ab_err_t lookup_error(const struct ab_replay_source *src,
                             struct ab_error *err, const char *what,
                             rd_kafka_resp_err_t code)
{
        if (src->stop && *src->stop)
                return ab_error_set(err, AB_ERR_RETRY, NULL, "interrupted");
        return kafka_error(err, what, code);
}

/* The topic's partitions (or the one asked for) from the metadata. */
static ab_err_t list_partitions(struct ab_replay_source *src,
                                const struct ab_replay_source_conf *c,
                                struct ab_error *err)
{
        const struct rd_kafka_metadata *md = NULL;
        const struct rd_kafka_metadata_topic *t;
        int64_t deadline = lookup_deadline(c);
        int slice        = lookup_slice(src, deadline);
        rd_kafka_resp_err_t code;
        ab_err_t rc = AB_OK;
        size_t n    = 0;
        int64_t tried;

        do {
                tried = ab_time_mono_ms();
                code  = rd_kafka_metadata(src->rk, 0, src->rkt, &md, slice);
        } while (lookup_again(src, code, deadline, tried, &slice));
        if (code)
                return lookup_error(src, err,
                                    "cannot read the topic's metadata", code);
        t = md->topic_cnt == 1 ? &md->topics[0] : NULL;
        if (!t || t->err || t->partition_cnt == 0) {
                rc = kafka_error(
                    err, "cannot replay the topic",
                    t && t->err ? t->err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC);
                goto out;
        }
        src->parts = ab_calloc((size_t)t->partition_cnt, sizeof(*src->parts));
        src->infos = ab_calloc((size_t)t->partition_cnt, sizeof(*src->infos));
        src->heap  = ab_calloc((size_t)t->partition_cnt, sizeof(*src->heap));
        if (!src->parts || !src->infos || !src->heap) {
                rc = AB_ERR_NOMEM;
                goto out;
        }
        for (int i = 0; i < t->partition_cnt; i++) {
                int32_t id = t->partitions[i].id;

                if (c->partition >= 0 && id != c->partition)
                        continue;
                src->parts[n].info.partition = id;
                src->parts[n].max_ts         = INT64_MIN;
                n++;
        }
        if (!n) {
                rc =
                    ab_error_set(err, AB_ERR_NOT_FOUND, NULL,
                                 "topic %s has no partition %d (it has %d)",
                                 c->topic, (int)c->partition, t->partition_cnt);
                goto out;
        }
        qsort(src->parts, n, sizeof(*src->parts), by_partition);
        src->nparts = n;
out:
        rd_kafka_metadata_destroy(md);
        return rc;
}

/* offsetsForTimes for every partition at \p ms into \p out (-1: none). */
static ab_err_t offsets_for_time(struct ab_replay_source *src, int64_t ms,
                                 int64_t deadline, int64_t *out,
                                 struct ab_error *err)
{
        int slice = lookup_slice(src, deadline);
        rd_kafka_topic_partition_list_t *l;
        rd_kafka_resp_err_t code;
        ab_err_t rc = AB_OK;
        int64_t tried;

        l = rd_kafka_topic_partition_list_new((int)src->nparts);
        if (!l)
                return AB_ERR_NOMEM;
        for (size_t i = 0; i < src->nparts; i++)
                rd_kafka_topic_partition_list_add(l, src->topic,
                                                  src->parts[i].info.partition);
        do {
                for (int i = 0; i < l->cnt; i++)
                        l->elems[i].offset = ms;
                tried = ab_time_mono_ms();
                code  = rd_kafka_offsets_for_times(src->rk, l, slice);
        } while (lookup_again(src, code, deadline, tried, &slice));
        if (code)
                rc = lookup_error(src, err, "cannot look up offsets by time",
                                  code);
        for (int i = 0; !rc && i < l->cnt; i++) {
                if (l->elems[i].err)
                        rc = kafka_error(err, "cannot look up offsets by time",
                                         l->elems[i].err);
                out[i] = l->elems[i].offset < 0 ? -1 : l->elems[i].offset;
        }
        rd_kafka_topic_partition_list_destroy(l);
        return rc;
}

static ab_err_t resolve_ranges(struct ab_replay_source *src,
                               const struct ab_replay_source_conf *c,
                               struct ab_error *err)
{
        int64_t *from_t  = ab_calloc(src->nparts, sizeof(*from_t));
        int64_t *to_t    = ab_calloc(src->nparts, sizeof(*to_t));
        int64_t deadline = lookup_deadline(c);
        ab_err_t rc      = AB_OK;

        if (!from_t || !to_t) {
                rc = AB_ERR_NOMEM;
                goto out;
        }
        if (c->from.kind == AB_REPLAY_TIME)
                rc =
                    offsets_for_time(src, c->from.value, deadline, from_t, err);
        if (!rc && c->to.kind == AB_REPLAY_TIME)
                rc = offsets_for_time(src, c->to.value, deadline, to_t, err);
        for (size_t i = 0; !rc && i < src->nparts; i++) {
                struct ab_replay_partition *p = &src->parts[i].info;
                int slice                     = lookup_slice(src, deadline);
                struct ab_replay_marks m;
                rd_kafka_resp_err_t code;

                int64_t tried;

                do {
                        tried = ab_time_mono_ms();
                        code  = rd_kafka_query_watermark_offsets(
                             src->rk, src->topic, p->partition, &m.low, &m.high,
                             slice);
                } while (lookup_again(src, code, deadline, tried, &slice));
                if (code) {
                        rc = lookup_error(src, err,
                                          "cannot read the watermarks", code);
                        break;
                }
                m.from_time = from_t[i];
                m.to_time   = to_t[i];
                p->low      = m.low;
                p->high     = m.high;
                ab_replay_range_resolve(&c->from, &c->to, &m, &p->start,
                                        &p->end);
        }
out:
        ab_free(from_t);
        ab_free(to_t);
        return rc;
}

static ab_err_t start_fetching(struct ab_replay_source *src,
                               struct ab_error *err)
{
        for (size_t i = 0; i < src->nparts; i++) {
                struct part *p = &src->parts[i];

                if (p->info.start >= p->info.end) {
                        p->done = true;
                        continue;
                }
                if (rd_kafka_consume_start(src->rkt, p->info.partition,
                                           p->info.start) == -1)
                        return kafka_error(err, "cannot start fetching",
                                           rd_kafka_last_error());
                p->started = true;
        }
        return AB_OK;
}

/* ---------------------------------------------------------------- merge */

static bool head_less(const struct part *a, const struct part *b)
{
        if (a->head_order != b->head_order)
                return a->head_order < b->head_order;
        if (a->info.partition != b->info.partition)
                return a->info.partition < b->info.partition;
        return a->head->offset < b->head->offset;
}

static void heap_swap(struct ab_replay_source *src, size_t i, size_t j)
{
        size_t t     = src->heap[i];
        src->heap[i] = src->heap[j];
        src->heap[j] = t;
}

static void heap_up(struct ab_replay_source *src, size_t i)
{
        while (i > 0) {
                size_t up = (i - 1) / 2;

                if (!head_less(&src->parts[src->heap[i]],
                               &src->parts[src->heap[up]]))
                        break;
                heap_swap(src, i, up);
                i = up;
        }
}

static void heap_down(struct ab_replay_source *src, size_t i)
{
        for (;;) {
                size_t l = 2 * i + 1, r = l + 1, m = i;

                if (l < src->nheap && head_less(&src->parts[src->heap[l]],
                                                &src->parts[src->heap[m]]))
                        m = l;
                if (r < src->nheap && head_less(&src->parts[src->heap[r]],
                                                &src->parts[src->heap[m]]))
                        m = r;
                if (m == i)
                        return;
                heap_swap(src, i, m);
                i = m;
        }
}

static void part_finish(struct ab_replay_source *src, struct part *p)
{
        while (p->pos < p->nbuf)
                rd_kafka_message_destroy(p->buf[p->pos++]);
        p->nbuf = p->pos = 0;
        p->done          = true;
        if (p->started) {
                /* Frees the partition's prefetched records now. */
                rd_kafka_consume_stop(src->rkt, p->info.partition);
                p->started = false;
        }
}

/* Take fetched messages into p->buf, waiting up to WAIT_MS for one. */
static void part_fetch(struct ab_replay_source *src, struct part *p)
{
        ssize_t n;

        rd_kafka_poll(src->rk, 0);
        n = rd_kafka_consume_batch(src->rkt, p->info.partition, 0, p->buf,
                                   BATCH);
        if (n <= 0) {
                p->buf[0] =
                    rd_kafka_consume(src->rkt, p->info.partition, WAIT_MS);
                n = p->buf[0] ? 1 : 0;
        }
        p->nbuf = (size_t)n;
        p->pos  = 0;
}

/* Make p->head the partition's next record in range, or finish it. */
static ab_err_t part_advance(struct ab_replay_source *src, struct part *p,
                             struct ab_error *err)
{
        while (!p->done) {
                rd_kafka_message_t *m;
                int64_t ts;

                if (p->pos == p->nbuf) {
                        if (src->stop && *src->stop)
                                return ab_error_set(err, AB_ERR_RETRY, NULL,
                                                    "interrupted");
                        part_fetch(src, p);
                        continue;
                }
                m = p->buf[p->pos++];
                if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        int64_t at = m->offset;

                        rd_kafka_message_destroy(m);
                        if (at >= p->info.end) {
                                part_finish(src, p);
                        } else if (!p->warned_eof) {
                                p->warned_eof = true;
                                AB_WARN("replay",
                                        "the partition ends before "
                                        "the range does; waiting for the "
                                        "records (an open transaction?)",
                                        "partition=%d at=%lld end=%lld",
                                        (int)p->info.partition, (long long)at,
                                        (long long)p->info.end);
                        }
                        continue;
                }
                if (m->err) {
                        char what[320];

                        snprintf(what, sizeof(what),
                                 "fetching partition %d of %s failed (%s)",
                                 (int)p->info.partition, src->topic,
                                 rd_kafka_message_errstr(m));
                        ab_error_set(err, AB_ERR_KAFKA, NULL, "%s", what);
                        rd_kafka_message_destroy(m);
                        return AB_ERR_KAFKA;
                }
                if (m->offset >= p->info.end) {
                        rd_kafka_message_destroy(m);
                        part_finish(src, p);
                        break;
                }
                ts = rd_kafka_message_timestamp(m, NULL);
                if (ts > p->max_ts)
                        p->max_ts = ts;
                p->head       = m;
                p->head_order = p->max_ts < 0 ? 0 : p->max_ts;
                return AB_OK;
        }
        return AB_OK;
}

/* ---------------------------------------------------------------- API */

ab_err_t ab_replay_source_open(const struct ab_replay_source_conf *conf,
                               struct ab_replay_source **out,
                               struct ab_error *err)
{
        struct ab_replay_source *src;
        ab_err_t rc;

        *out = NULL;
        src  = ab_calloc(1, sizeof(*src));
        if (!src)
                return AB_ERR_NOMEM;
        src->stop = conf->stop;
        snprintf(src->topic, sizeof(src->topic), "%s", conf->topic);
        rc = make_client(src, conf, err);
        if (!rc)
                rc = list_partitions(src, conf, err);
        if (!rc)
                rc = resolve_ranges(src, conf, err);
        if (!rc)
                rc = start_fetching(src, err);
        for (size_t i = 0; !rc && i < src->nparts; i++) {
                struct part *p = &src->parts[i];

                if (p->done)
                        continue;
                rc = part_advance(src, p, err);
                if (!rc && p->head) {
                        src->heap[src->nheap++] = i;
                        heap_up(src, src->nheap - 1);
                }
        }
        if (rc) {
                ab_replay_source_destroy(src);
                return rc;
        }
        *out = src;
        return AB_OK;
}

void ab_replay_source_destroy(struct ab_replay_source *src)
{
        if (!src)
                return;
        for (size_t i = 0; i < src->nparts; i++) {
                if (src->parts[i].head)
                        rd_kafka_message_destroy(src->parts[i].head);
                part_finish(src, &src->parts[i]);
        }
        if (src->rkt)
                rd_kafka_topic_destroy(src->rkt);
        if (src->rk)
                rd_kafka_destroy(src->rk);
        ab_free(src->parts);
        ab_free(src->infos);
        ab_free(src->heap);
        ab_free(src);
}

const struct ab_replay_partition *
ab_replay_source_partitions(const struct ab_replay_source *src, size_t *n)
{
        for (size_t i = 0; i < src->nparts; i++)
                src->infos[i] = src->parts[i].info;
        *n = src->nparts;
        return src->infos;
}

uint64_t ab_replay_source_total(const struct ab_replay_source *src)
{
        uint64_t total = 0;

        for (size_t i = 0; i < src->nparts; i++)
                total += (uint64_t)(src->parts[i].info.end -
                                    src->parts[i].info.start);
        return total;
}

ab_err_t ab_replay_source_next(struct ab_replay_source *src,
                               struct ab_replay_record *rec, bool *done,
                               struct ab_error *err)
{
        struct part *p;
        rd_kafka_message_t *m;
        ab_err_t rc;

        *done = false;
        if (src->out) {
                /* Replace the record handed out last by its successor. */
                p = src->out;
                if (p->head->offset + 1 >= p->info.end)
                        part_finish(src, p); /* no need to wait for EOF */
                rd_kafka_message_destroy(p->head);
                p->head  = NULL;
                src->out = NULL;
                rc       = part_advance(src, p, err);
                if (rc)
                        return rc;
                if (p->head) {
                        heap_down(src, 0);
                } else {
                        src->heap[0] = src->heap[--src->nheap];
                        heap_down(src, 0);
                }
        }
        if (!src->nheap) {
                *done = true;
                return AB_OK;
        }
        p        = &src->parts[src->heap[0]];
        m        = p->head;
        src->out = p;
        p->info.records++;
        rec->partition = p->info.partition;
        rec->offset    = m->offset;
        rec->timestamp = rd_kafka_message_timestamp(m, NULL);
        rec->order_ts  = p->head_order;
        rec->key       = m->key ? ab_str_make(m->key, m->key_len) : AB_STR_NULL;
        rec->value = m->payload ? ab_str_make(m->payload, m->len) : AB_STR_NULL;
        return AB_OK;
}
