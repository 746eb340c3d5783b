/* consumer.c - consumer group member over librdkafka's balanced consumer. */
#include "consumer/consumer.h"

#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "core/log.h"
#include "core/mem.h"
#include "kafka/kafka_conf.h"

struct ab_consumer {
        rd_kafka_t *rk;
        struct ab_offsets *offsets; /* borrowed */
        void (*on_revoke)(void *arg);
        void (*on_stats)(void *arg, const char *json, size_t len);
        void *arg;
        bool paused;
        bool closed;
        bool fatal;
        rd_kafka_resp_err_t revoke_err; /* of the last revocation commit */
        char fatal_text[256];
};

/* "topic[0,1] other[3]" (truncated) for log lines. */
static const char *parts_text(const rd_kafka_topic_partition_list_t *parts,
                              char *out, size_t size)
{
        size_t n = 0;

        out[0] = '\0';
        for (int i = 0; i < parts->cnt && n < size; i++) {
                const rd_kafka_topic_partition_t *p = &parts->elems[i];
                bool same =
                    i > 0 && !strcmp(parts->elems[i - 1].topic, p->topic);
                int w;

                if (same)
                        w = snprintf(out + n - 1, size - n + 1, ",%d]",
                                     (int)p->partition) -
                            1;
                else
                        w = snprintf(out + n, size - n, "%s%s[%d]",
                                     i ? " " : "", p->topic, (int)p->partition);
                if (w < 0)
                        break;
                n += (size_t)w;
        }
        return out;
}

static void error_cb(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
        struct ab_consumer *c = opaque;
        char quoted[300];

        if (code == RD_KAFKA_RESP_ERR__FATAL) {
                rd_kafka_resp_err_t ferr = rd_kafka_fatal_error(
                    rk, c->fatal_text, sizeof(c->fatal_text));

                c->fatal = true;
                AB_ERROR("consumer", "fatal kafka error", "error=%s reason=%s",
                         rd_kafka_err2name(ferr),
                         ab_log_quote(c->fatal_text, quoted, sizeof(quoted)));
                return;
        }
        AB_WARN("consumer", "kafka error", "error=%s reason=%s",
                rd_kafka_err2name((rd_kafka_resp_err_t)code),
                ab_log_quote(reason, quoted, sizeof(quoted)));
}

static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
        struct ab_consumer *c = opaque;

        if (c->on_stats)
                c->on_stats(c->arg, json, len);
        return 0;
}

static void commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
        char text[256];

        if (err == RD_KAFKA_RESP_ERR__NO_OFFSET)
                return;
        if (err) {
                AB_WARN("consumer", "offset commit failed", "error=%s",
                        rd_kafka_err2name(err));
                return;
        }
        for (int i = 0; offsets && i < offsets->cnt; i++) {
                const rd_kafka_topic_partition_t *p = &offsets->elems[i];

                if (p->err)
                        AB_WARN("consumer", "offset commit failed",
                                "topic=%s partition=%d offset=%lld error=%s",
                                p->topic, (int)p->partition,
                                (long long)p->offset,
                                rd_kafka_err2name(p->err));
        }
        if (offsets)
                AB_DEBUG("consumer", "offsets committed", "partitions=\"%s\"",
                         parts_text(offsets, text, sizeof(text)));
}

/* Drain callback: add one advanced offset to the list, created on the
 * first call so that a drain with nothing to report allocates nothing. */
static void store_one(void *arg, const char *topic, int32_t partition,
                      int64_t next_offset)
{
        rd_kafka_topic_partition_list_t **list = arg;

        if (!*list)
                *list = rd_kafka_topic_partition_list_new(4);
        rd_kafka_topic_partition_list_add(*list, topic, partition)->offset =
            next_offset;
}

ab_err_t ab_consumer_store(struct ab_consumer *c, struct ab_error *err)
{
        rd_kafka_topic_partition_list_t *list = NULL;
        rd_kafka_resp_err_t rc;

        if (!c->offsets || !ab_offsets_drain(c->offsets, store_one, &list))
                return AB_OK;
        rc = rd_kafka_offsets_store(c->rk, list);
        for (int i = 0; i < list->cnt; i++) {
                const rd_kafka_topic_partition_t *p = &list->elems[i];

                if (p->err)
                        AB_DEBUG("consumer", "offset not stored",
                                 "topic=%s partition=%d offset=%lld error=%s",
                                 p->topic, (int)p->partition,
                                 (long long)p->offset,
                                 rd_kafka_err2name(p->err));
        }
        rd_kafka_topic_partition_list_destroy(list);
        if (rc == RD_KAFKA_RESP_ERR__INVALID_ARG)
                return ab_error_set(err, AB_ERR_KAFKA, NULL,
                                    "storing offsets: %s",
                                    rd_kafka_err2str(rc));
        return AB_OK;
}

static rd_kafka_resp_err_t commit_sync(struct ab_consumer *c)
{
        rd_kafka_resp_err_t rc = rd_kafka_commit(c->rk, NULL, 0);

        return rc == RD_KAFKA_RESP_ERR__NO_OFFSET ? RD_KAFKA_RESP_ERR_NO_ERROR
                                                  : rc;
}

static void assign(struct ab_consumer *c, rd_kafka_t *rk, bool cooperative,
                   rd_kafka_topic_partition_list_t *parts)
{
        rd_kafka_resp_err_t rc = RD_KAFKA_RESP_ERR_NO_ERROR;
        char text[512];

        if (cooperative) {
                rd_kafka_error_t *e = rd_kafka_incremental_assign(rk, parts);

                if (e) {
                        rc = rd_kafka_error_code(e);
                        rd_kafka_error_destroy(e);
                }
        } else {
                rc = rd_kafka_assign(rk, parts);
        }
        if (rc) {
                AB_ERROR("consumer", "assign failed", "error=%s",
                         rd_kafka_err2name(rc));
                return;
        }
        if (c->paused)
                rd_kafka_pause_partitions(rk, parts);
        AB_INFO("consumer", "partitions assigned", "partitions=\"%s\"%s",
                parts_text(parts, text, sizeof(text)),
                c->paused ? " paused=true" : "");
}

static void revoke(struct ab_consumer *c, rd_kafka_t *rk, bool cooperative,
                   rd_kafka_topic_partition_list_t *parts)
{
        bool lost = rd_kafka_assignment_lost(rk);
        struct ab_error err;
        char text[512];

        if (c->on_revoke)
                c->on_revoke(c->arg);
        c->revoke_err = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (!lost) {
                if (ab_consumer_store(c, &err))
                        AB_WARN("consumer", "storing offsets on revoke failed",
                                "error=%s", ab_err_code(err.code));
                c->revoke_err = commit_sync(c);
                if (c->revoke_err)
                        AB_WARN("consumer", "commit on revoke failed",
                                "error=%s", rd_kafka_err2name(c->revoke_err));
        }
        for (int i = 0; c->offsets && i < parts->cnt; i++)
                ab_offsets_revoke(c->offsets, parts->elems[i].topic,
                                  parts->elems[i].partition);
        if (cooperative) {
                rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);

                if (e)
                        rd_kafka_error_destroy(e);
        } else {
                rd_kafka_assign(rk, NULL);
        }
        AB_INFO("consumer", "partitions revoked", "partitions=\"%s\" lost=%s",
                parts_text(parts, text, sizeof(text)), lost ? "true" : "false");
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
        struct ab_consumer *c = opaque;
        bool cooperative =
            !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");

        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                assign(c, rk, cooperative, parts);
        } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
                revoke(c, rk, cooperative, parts);
        } else {
                AB_ERROR("consumer", "rebalance failed", "error=%s",
                         rd_kafka_err2name(err));
                revoke(c, rk, cooperative, parts);
        }
}

ab_err_t ab_consumer_new(const struct ab_consumer_conf *conf,
                         struct ab_consumer **out, struct ab_error *err)
{
        static const char *const locked[] = {"enable.auto.offset.store",
                                             "false", NULL};
        const char *client_id =
            conf->client_id ? conf->client_id : "alertbridge";
        /* Name, value pairs. */
        /* clang-format off */
        const char *defaults[] = {
                "bootstrap.servers",        conf->brokers,
                "group.id",                 conf->group,
                "client.id",                client_id,
                "enable.auto.offset.store", "false",
                "enable.auto.commit",       "true",
                "auto.offset.reset",        "earliest",
                "enable.partition.eof",     "false",
                "log.connection.close",     "false",
                /* librdkafka 2.0 stops fetching a partition whose prefetch
                 * queue is full and looks again only about a second later,
                 * so a queue that holds less than a second of processing
                 * leaves the pipeline idle for the rest of that second
                 * (docs/performance.md). 256 MiB instead of 64. */
                "queued.max.messages.kbytes", "262144",
                NULL,
        };
        /* clang-format on */
        struct ab_consumer *c  = NULL;
        rd_kafka_conf_t *kconf = NULL;
        char errstr[512];
        ab_err_t rc;

        *out = NULL;
        if (!conf->brokers || !*conf->brokers || !conf->group || !*conf->group)
                return ab_error_set(err, AB_ERR_CONFIG, "kafka",
                                    "brokers and group are required");
        c     = ab_calloc(1, sizeof(*c));
        kconf = ab_kafka_conf_new();
        if (!c || !kconf) {
                rc = ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
                goto out;
        }
        c->offsets   = conf->offsets;
        c->on_revoke = conf->on_revoke;
        c->on_stats  = conf->on_stats;
        c->arg       = conf->arg;
        rc           = ab_kafka_conf_apply(kconf, defaults, NULL, err);
        if (!rc)
                rc = ab_kafka_conf_apply(kconf, conf->properties, locked, err);
        if (rc)
                goto out;
        rd_kafka_conf_set_opaque(kconf, c);
        rd_kafka_conf_set_error_cb(kconf, error_cb);
        rd_kafka_conf_set_stats_cb(kconf, stats_cb);
        rd_kafka_conf_set_offset_commit_cb(kconf, commit_cb);
        rd_kafka_conf_set_rebalance_cb(kconf, rebalance_cb);
        c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, kconf, errstr, sizeof(errstr));
        if (!c->rk) {
                rc = ab_error_set(err, AB_ERR_KAFKA, NULL,
                                  "creating consumer: %s", errstr);
                goto out;
        }
        kconf = NULL; /* owned by c->rk now */
        rd_kafka_poll_set_consumer(c->rk);
        *out = c;
        c    = NULL;
out:
        if (kconf)
                rd_kafka_conf_destroy(kconf);
        ab_free(c);
        return rc;
}

ab_err_t ab_consumer_subscribe(struct ab_consumer *c, const char *const *topics,
                               size_t n, struct ab_error *err)
{
        rd_kafka_topic_partition_list_t *list =
            rd_kafka_topic_partition_list_new((int)n);
        rd_kafka_resp_err_t rc;

        if (!list)
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        for (size_t i = 0; i < n; i++)
                rd_kafka_topic_partition_list_add(list, topics[i],
                                                  RD_KAFKA_PARTITION_UA);
        rc = rd_kafka_subscribe(c->rk, list);
        rd_kafka_topic_partition_list_destroy(list);
        if (rc)
                return ab_error_set(err, AB_ERR_KAFKA, NULL, "subscribe: %s",
                                    rd_kafka_err2str(rc));
        return AB_OK;
}

static ab_err_t fatal_error(const struct ab_consumer *c, struct ab_error *err)
{
        return ab_error_set(err, AB_ERR_KAFKA, NULL, "fatal consumer error: %s",
                            c->fatal_text);
}

ab_err_t ab_consumer_poll(struct ab_consumer *c, int timeout_ms,
                          struct ab_record **out, struct ab_error *err)
{
        rd_kafka_message_t *m;
        char quoted[300];
        ab_err_t rc;

        *out = NULL;
        rc   = ab_consumer_store(c, err);
        if (rc)
                return rc;
        if (c->fatal)
                return fatal_error(c, err);
        m = rd_kafka_consumer_poll(c->rk, timeout_ms);
        if (c->fatal) {
                if (m)
                        rd_kafka_message_destroy(m);
                return fatal_error(c, err);
        }
        if (!m)
                return AB_OK;
        if (m->err) {
                AB_WARN("consumer", "consume error", "error=%s reason=%s",
                        rd_kafka_err2name(m->err),
                        ab_log_quote(rd_kafka_message_errstr(m), quoted,
                                     sizeof(quoted)));
                rd_kafka_message_destroy(m);
                return AB_OK;
        }
        *out = (struct ab_record *)m;
        return AB_OK;
}

ab_err_t ab_consumer_commit(struct ab_consumer *c, struct ab_error *err)
{
        ab_err_t rc = ab_consumer_store(c, err);
        rd_kafka_resp_err_t krc;

        if (rc)
                return rc;
        krc = commit_sync(c);
        if (krc)
                return ab_error_set(err, AB_ERR_KAFKA, NULL, "commit: %s",
                                    rd_kafka_err2str(krc));
        return AB_OK;
}

static ab_err_t set_paused(struct ab_consumer *c, bool paused,
                           struct ab_error *err)
{
        rd_kafka_topic_partition_list_t *list = NULL;
        rd_kafka_resp_err_t rc;

        rc = rd_kafka_assignment(c->rk, &list);
        if (!rc)
                rc = paused ? rd_kafka_pause_partitions(c->rk, list)
                            : rd_kafka_resume_partitions(c->rk, list);
        if (list)
                rd_kafka_topic_partition_list_destroy(list);
        if (rc)
                return ab_error_set(err, AB_ERR_KAFKA, NULL, "%s: %s",
                                    paused ? "pause" : "resume",
                                    rd_kafka_err2str(rc));
        c->paused = paused;
        return AB_OK;
}

ab_err_t ab_consumer_pause(struct ab_consumer *c, struct ab_error *err)
{
        return set_paused(c, true, err);
}

ab_err_t ab_consumer_resume(struct ab_consumer *c, struct ab_error *err)
{
        return set_paused(c, false, err);
}

bool ab_consumer_paused(const struct ab_consumer *c)
{
        return c->paused;
}

size_t ab_consumer_assigned(struct ab_consumer *c)
{
        rd_kafka_topic_partition_list_t *list = NULL;
        size_t n                              = 0;

        if (!rd_kafka_assignment(c->rk, &list))
                n = (size_t)list->cnt;
        if (list)
                rd_kafka_topic_partition_list_destroy(list);
        return n;
}

int64_t ab_consumer_lag(struct ab_consumer *c, ab_consumer_lag_fn fn, void *arg)
{
        rd_kafka_topic_partition_list_t *list = NULL;
        int64_t total                         = 0;

        if (rd_kafka_assignment(c->rk, &list) ||
            rd_kafka_position(c->rk, list)) {
                if (list)
                        rd_kafka_topic_partition_list_destroy(list);
                return 0;
        }
        for (int i = 0; i < list->cnt; i++) {
                const rd_kafka_topic_partition_t *p = &list->elems[i];
                int64_t low = -1, high = -1, lag = -1;

                if (p->offset >= 0 &&
                    !rd_kafka_get_watermark_offsets(
                        c->rk, p->topic, p->partition, &low, &high) &&
                    high >= 0) {
                        lag = high > p->offset ? high - p->offset : 0;
                        total += lag;
                }
                if (fn)
                        fn(arg, p->topic, p->partition, lag);
        }
        rd_kafka_topic_partition_list_destroy(list);
        return total;
}

ab_err_t ab_consumer_close(struct ab_consumer *c, struct ab_error *err)
{
        rd_kafka_resp_err_t rc;

        if (c->closed)
                return AB_OK;
        c->closed     = true;
        c->revoke_err = RD_KAFKA_RESP_ERR_NO_ERROR;
        rc            = rd_kafka_consumer_close(c->rk);
        if (!rc)
                rc = c->revoke_err;
        if (rc)
                return ab_error_set(err, AB_ERR_KAFKA, NULL,
                                    "closing consumer: %s",
                                    rd_kafka_err2str(rc));
        AB_INFO("consumer", "consumer closed", NULL);
        return AB_OK;
}

void ab_consumer_destroy(struct ab_consumer *c)
{
        if (!c)
                return;
        if (!c->closed)
                ab_consumer_close(c, NULL);
        rd_kafka_destroy(c->rk);
        ab_free(c);
}
