/* consumer.c - consumer group member over librdkafka's balanced consumer. */
#include "consumer/consumer.h"

#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include <librdkafka/rdkafka.h>

#include "consumer/consumer_int.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "kafka/kafka_conf.h"

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
        AB_LOG(ab_kafka_error_level(code), "consumer", "kafka error",
               "error=%s reason=%s",
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
        struct ab_consumer *c = opaque;
        char text[256];

        if (err == RD_KAFKA_RESP_ERR__NO_OFFSET)
                return;
        /* The revocation's commit, asynchronous in a bounded close (only
         * a consumer with an offsets tracker commits on revocation). */
        if (err && c->close_bounded && c->offsets)
                c->revoke_err = err;
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

/* Synchronous, except in a bounded close: there the close itself waits
 * for the commit, within its deadline, and the result goes to
 * commit_cb. */
static rd_kafka_resp_err_t commit_sync(struct ab_consumer *c)
{
        rd_kafka_resp_err_t rc = rd_kafka_commit(c->rk, NULL, c->close_bounded);

        return rc == RD_KAFKA_RESP_ERR__NO_OFFSET ? RD_KAFKA_RESP_ERR_NO_ERROR
                                                  : rc;
}

static ssize_t wish_find(const struct ab_consumer *c, const char *topic,
                         int32_t partition)
{
        for (size_t i = 0; i < c->nwishes; i++)
                if (c->wishes[i].partition == partition &&
                    !strcmp(c->wishes[i].topic, topic))
                        return (ssize_t)i;
        return -1;
}

/* The elements of \p parts the owner wants paused (\p want) or not
 * (!\p want); NULL when there is none. */
static rd_kafka_topic_partition_list_t *
wished(const struct ab_consumer *c,
       const rd_kafka_topic_partition_list_t *parts, bool want)
{
        rd_kafka_topic_partition_list_t *list = NULL;

        for (int i = 0; i < parts->cnt; i++) {
                const rd_kafka_topic_partition_t *p = &parts->elems[i];

                if ((wish_find(c, p->topic, p->partition) >= 0) != want)
                        continue;
                if (!list)
                        list = rd_kafka_topic_partition_list_new(parts->cnt);
                rd_kafka_topic_partition_list_add(list, p->topic, p->partition);
        }
        return list;
}

/* Hand \p parts to an owner's callback as an array. */
static void notify(struct ab_consumer *c,
                   const rd_kafka_topic_partition_list_t *parts, bool assigned,
                   bool lost)
{
        struct ab_consumer_partition *arr;

        /* A cooperative rebalance also assigns empty lists: no news. */
        if (!parts->cnt || (assigned ? !c->on_assigned : !c->on_revoked))
                return;
        arr = ab_calloc((size_t)parts->cnt, sizeof(*arr));
        if (!arr) {
                c->fatal = true;
                snprintf(c->fatal_text, sizeof(c->fatal_text),
                         "out of memory in a rebalance");
                return;
        }
        for (int i = 0; i < parts->cnt; i++) {
                arr[i].topic     = parts->elems[i].topic;
                arr[i].partition = parts->elems[i].partition;
        }
        if (assigned)
                c->on_assigned(c->arg, arr, (size_t)parts->cnt);
        else
                c->on_revoked(c->arg, arr, (size_t)parts->cnt, lost);
        ab_free(arr);
}

/*
 * HOW IT WORKS (ab_consumer_prefer_topic): librdkafka gives each assigned
 * partition a fetch queue, normally forwarded to the consumer's shared
 * queue. A newly assigned partition of the preferred topic is forwarded
 * to c->preferq instead; librdkafka marks an application's forwarding
 * and keeps it when the partition starts fetching, and a stopped
 * partition loses it, so every assignment forwards again. Records of a
 * revoked partition left in c->preferq are outdated by librdkafka's
 * version barrier and never returned. A poll takes from c->preferq
 * before the shared queue, but serves the shared one at least every
 * PREFER_RUN records (rebalances, liveness and the other topics go
 * through it); a record arriving in the empty c->preferq while a poll
 * waits on the shared queue wakes it (queue_woken()).
 */
/* Release the preferred queue and its wake-up; records still in it are
 * dropped (their partitions are being closed). NULL-safe members. */
static void drop_preferred(struct ab_consumer *c)
{
        if (c->preferq) {
                rd_kafka_queue_cb_event_enable(c->preferq, NULL, NULL);
                rd_kafka_queue_destroy(c->preferq);
        }
        if (c->sharedq)
                rd_kafka_queue_destroy(c->sharedq);
        ab_free(c->prefer);
        c->preferq = c->sharedq = NULL;
        c->prefer               = NULL;
}

static void forward_preferred(struct ab_consumer *c, rd_kafka_t *rk,
                              const rd_kafka_topic_partition_list_t *parts)
{
        for (int i = 0; c->preferq && i < parts->cnt; i++) {
                const rd_kafka_topic_partition_t *p = &parts->elems[i];
                rd_kafka_queue_t *q;

                if (strcmp(p->topic, c->prefer))
                        continue;
                q = rd_kafka_queue_get_partition(rk, p->topic, p->partition);
                if (!q) {
                        AB_WARN("consumer",
                                "partition queue missing: its records are "
                                "not preferred",
                                "topic=%s partition=%d", p->topic,
                                (int)p->partition);
                        continue;
                }
                rd_kafka_queue_forward(q, c->preferq);
                rd_kafka_queue_destroy(q);
        }
}

static void assign(struct ab_consumer *c, rd_kafka_t *rk, bool cooperative,
                   rd_kafka_topic_partition_list_t *parts)
{
        rd_kafka_resp_err_t rc = RD_KAFKA_RESP_ERR_NO_ERROR;
        char text[512];

        c->joined = true;
        if (cooperative) {
                rd_kafka_error_t *e = rd_kafka_incremental_assign(rk, parts);

                if (e) {
                        rc = rd_kafka_error_code(e);
                        rd_kafka_error_destroy(e);
                }
        } else {
                rc = rd_kafka_assign(rk, parts);
        }
        ab_consumer_assignment_forget(c);
        if (rc) {
                AB_ERROR("consumer", "assign failed", "error=%s",
                         rd_kafka_err2name(rc));
                return;
        }
        if (c->paused) {
                rd_kafka_pause_partitions(rk, parts);
        } else {
                rd_kafka_topic_partition_list_t *w = wished(c, parts, true);

                if (w) {
                        rd_kafka_pause_partitions(rk, w);
                        AB_INFO("consumer", "partitions kept paused",
                                "partitions=\"%s\"",
                                parts_text(w, text, sizeof(text)));
                        rd_kafka_topic_partition_list_destroy(w);
                }
        }
        forward_preferred(c, rk, parts);
        AB_INFO("consumer", "partitions assigned", "partitions=\"%s\"%s",
                parts_text(parts, text, sizeof(text)),
                c->paused ? " paused=true" : "");
        notify(c, parts, true, false);
}

static void revoke(struct ab_consumer *c, rd_kafka_t *rk, bool cooperative,
                   rd_kafka_topic_partition_list_t *parts)
{
        bool lost = rd_kafka_assignment_lost(rk);
        struct ab_error err;
        char text[512];

        if (c->on_revoke)
                c->on_revoke(c->arg);
        notify(c, parts, false, lost);
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
        ab_consumer_assignment_forget(c);
        AB_INFO("consumer", "partitions revoked", "partitions=\"%s\" lost=%s",
                parts_text(parts, text, sizeof(text)), lost ? "true" : "false");
}

/* The group's rebalance protocol. librdkafka answers the query through
 * the group handler, and with NULL once that has terminated, which a
 * rebalance served by a closing consumer meets: the protocol cannot have
 * changed since, so the last answer (first: what the configured
 * assignment strategy implies) stands. */
static bool cooperative_protocol(struct ab_consumer *c, rd_kafka_t *rk)
{
        const char *protocol = rd_kafka_rebalance_protocol(rk);

        if (protocol && strcmp(protocol, "NONE"))
                c->cooperative = !strcmp(protocol, "COOPERATIVE");
        return c->cooperative;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
        struct ab_consumer *c = opaque;
        bool cooperative      = cooperative_protocol(c, rk);

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

/* Whether the configured partition.assignment.strategy makes the
 * protocol cooperative (librdkafka refuses to mix the two kinds). */
static bool strategy_cooperative(const rd_kafka_conf_t *kconf)
{
        char value[256];
        size_t size = sizeof(value);

        return rd_kafka_conf_get(kconf, "partition.assignment.strategy", value,
                                 &size) == RD_KAFKA_CONF_OK &&
               strstr(value, "cooperative") != NULL;
}

/* The first librdkafka with fetch.queue.backoff.ms (rd_kafka_version()
 * layout: 0xMMmmrrxx). */
#define RDKAFKA_FETCH_BACKOFF_VERSION 0x02010000

struct ab_consumer_prefetch ab_consumer_prefetch_for(int version)
{
        struct ab_consumer_prefetch pf = {"262144", NULL};

        if (version >= RDKAFKA_FETCH_BACKOFF_VERSION) {
                pf.max_kbytes = "16384";
                pf.backoff_ms = "10";
        }
        return pf;
}

ab_err_t ab_consumer_new(const struct ab_consumer_conf *conf,
                         struct ab_consumer **out, struct ab_error *err)
{
        static const char *const locked[] = {"enable.auto.offset.store",
                                             "false", NULL};
        const char *client_id =
            conf->client_id ? conf->client_id : "alertbridge";
        struct ab_consumer_prefetch pf =
            ab_consumer_prefetch_for(rd_kafka_version());
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
                 * (docs/performance.md). The queue is bounded by bytes:
                 * 256 MiB with 2.0, filled only while a backlog is being
                 * caught up; 16 MiB with a 10 ms refetch from 2.1 on
                 * (ab_consumer_prefetch_for()). The message-count bound
                 * (100,000 by default, shared by every assigned partition)
                 * would cut it to a third of that with 1 KB records. */
                "queued.max.messages.kbytes", pf.max_kbytes,
                "queued.min.messages",        "10000000",
                pf.backoff_ms ? "fetch.queue.backoff.ms" : NULL,
                pf.backoff_ms,
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
        c->offsets     = conf->offsets;
        c->on_revoke   = conf->on_revoke;
        c->on_stats    = conf->on_stats;
        c->on_assigned = conf->on_assigned;
        c->on_revoked  = conf->on_revoked;
        c->arg         = conf->arg;
        rc             = ab_kafka_conf_apply(kconf, defaults, NULL, err);
        if (!rc && conf->cooperative)
                rc = ab_kafka_conf_set(kconf, "partition.assignment.strategy",
                                       "cooperative-sticky", err);
        if (!rc && conf->instance_id)
                rc = ab_kafka_conf_set(kconf, "group.instance.id",
                                       conf->instance_id, err);
        if (!rc)
                rc = ab_kafka_conf_apply(kconf, conf->properties, locked, err);
        if (rc)
                goto out;
        c->cooperative = strategy_cooperative(kconf);
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

/* Preferred records returned in a row before the shared queue is served
 * once (with no wait) in between. */
#define PREFER_RUN 256

/* A record arrived in the empty preferred queue (a librdkafka thread):
 * end the poll waiting on the shared queue. */
static void queue_woken(rd_kafka_t *rk, void *opaque)
{
        struct ab_consumer *c = opaque;

        (void)rk;
        rd_kafka_queue_yield(c->sharedq);
}

ab_err_t ab_consumer_prefer_topic(struct ab_consumer *c, const char *topic,
                                  struct ab_error *err)
{
        if (c->prefer)
                return ab_error_set(err, AB_ERR_INTERNAL, NULL,
                                    "a preferred topic is already set");
        c->prefer  = ab_strdup(topic);
        c->preferq = rd_kafka_queue_new(c->rk);
        c->sharedq = rd_kafka_queue_get_consumer(c->rk);
        if (!c->prefer || !c->preferq || !c->sharedq) {
                drop_preferred(c);
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        }
        rd_kafka_queue_cb_event_enable(c->preferq, queue_woken, c);
        return AB_OK;
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
        /* The shared queue is served at least once every PREFER_RUN
         * records: rebalances and the group's liveness go through it. */
        m = c->preferq && c->nprefer < PREFER_RUN
                ? rd_kafka_consume_queue(c->preferq, 0)
                : NULL;
        if (m) {
                c->nprefer++;
        } else {
                c->nprefer = 0;
                m          = rd_kafka_consumer_poll(c->rk, timeout_ms);
                if (!m && c->preferq) /* woken by the preferred queue */
                        m = rd_kafka_consume_queue(c->preferq, 0);
        }
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
        /* Borrowed: the cached assignment; pausing writes only the
         * elements' error codes, which nothing reads from the cache. */
        rd_kafka_topic_partition_list_t *list = ab_consumer_assignment(c);
        rd_kafka_resp_err_t rc =
            list ? RD_KAFKA_RESP_ERR_NO_ERROR : RD_KAFKA_RESP_ERR__STATE;

        if (!rc && paused) {
                rc = rd_kafka_pause_partitions(c->rk, list);
        } else if (!rc) {
                /* Partitions the owner paused one by one stay paused. */
                rd_kafka_topic_partition_list_t *rest = wished(c, list, false);

                if (rest)
                        rc = rd_kafka_resume_partitions(c->rk, rest);
                if (rest)
                        rd_kafka_topic_partition_list_destroy(rest);
        }
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

/* Pause or resume one partition in librdkafka; a partition that is not
 * assigned is not known to it, which is fine: assign() applies the wish. */
static ab_err_t pause_one(struct ab_consumer *c, const char *topic,
                          int32_t partition, bool paused, struct ab_error *err)
{
        rd_kafka_topic_partition_list_t *list =
            rd_kafka_topic_partition_list_new(1);
        rd_kafka_resp_err_t rc;

        if (!list)
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        rd_kafka_topic_partition_list_add(list, topic, partition);
        rc = paused ? rd_kafka_pause_partitions(c->rk, list)
                    : rd_kafka_resume_partitions(c->rk, list);
        rd_kafka_topic_partition_list_destroy(list);
        if (rc)
                return ab_error_set(err, AB_ERR_KAFKA, topic, "%s %s[%d]: %s",
                                    paused ? "pause" : "resume", topic,
                                    (int)partition, rd_kafka_err2str(rc));
        return AB_OK;
}

ab_err_t ab_consumer_pause_partition(struct ab_consumer *c, const char *topic,
                                     int32_t partition, struct ab_error *err)
{
        if (wish_find(c, topic, partition) < 0) {
                struct wish w = {ab_strdup(topic), partition};

                if (c->nwishes == c->capwishes) {
                        size_t cap = c->capwishes ? 2 * c->capwishes : 8;
                        struct wish *grown =
                            ab_realloc(c->wishes, cap * sizeof(*grown));

                        if (!grown) {
                                ab_free(w.topic);
                                w.topic = NULL;
                        } else {
                                c->wishes    = grown;
                                c->capwishes = cap;
                        }
                }
                if (!w.topic)
                        return ab_error_set(err, AB_ERR_NOMEM, NULL,
                                            "out of memory");
                c->wishes[c->nwishes++] = w;
        }
        return pause_one(c, topic, partition, true, err);
}

ab_err_t ab_consumer_resume_partition(struct ab_consumer *c, const char *topic,
                                      int32_t partition, struct ab_error *err)
{
        ssize_t i = wish_find(c, topic, partition);

        if (i >= 0) {
                ab_free(c->wishes[i].topic);
                c->wishes[i] = c->wishes[--c->nwishes];
        }
        if (c->paused)
                return AB_OK;
        return pause_one(c, topic, partition, false, err);
}

/* The first partition error of \p list, or \p rc. */
static rd_kafka_resp_err_t
first_error(const rd_kafka_topic_partition_list_t *list, rd_kafka_resp_err_t rc,
            const rd_kafka_topic_partition_t **at)
{
        *at = NULL;
        for (int i = 0; !rc && list && i < list->cnt; i++)
                if (list->elems[i].err) {
                        *at = &list->elems[i];
                        return list->elems[i].err;
                }
        return rc;
}

ab_err_t ab_consumer_commit_offsets(struct ab_consumer *c,
                                    const struct ab_kafka_offset *offsets,
                                    size_t n, bool async, struct ab_error *err)
{
        rd_kafka_topic_partition_list_t *list = NULL;
        const rd_kafka_topic_partition_t *at;
        rd_kafka_resp_err_t krc;
        ab_err_t rc;

        if (!n)
                return AB_OK;
        rc = ab_kafka_offsets_list(offsets, n, &list, err);
        if (rc)
                return rc;
        krc = first_error(list, rd_kafka_commit(c->rk, list, async), &at);
        if (krc && at)
                rc = ab_error_set(err, AB_ERR_KAFKA, at->topic,
                                  "commit %s[%d] at %lld: %s", at->topic,
                                  (int)at->partition, (long long)at->offset,
                                  rd_kafka_err2str(krc));
        else if (krc)
                rc = ab_error_set(err, AB_ERR_KAFKA, NULL, "commit: %s",
                                  rd_kafka_err2str(krc));
        rd_kafka_topic_partition_list_destroy(list);
        return rc;
}

ab_err_t ab_consumer_group_metadata(struct ab_consumer *c,
                                    struct ab_kafka_group_meta **out,
                                    struct ab_error *err)
{
        rd_kafka_consumer_group_metadata_t *md =
            rd_kafka_consumer_group_metadata(c->rk);

        *out = NULL;
        if (!md)
                return ab_error_set(err, AB_ERR_KAFKA, NULL,
                                    "the consumer has no group metadata");
        *out = ab_kafka_group_meta_wrap(md);
        if (!*out)
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        return AB_OK;
}

ab_err_t ab_consumer_rewind(struct ab_consumer *c, int timeout_ms,
                            struct ab_error *err)
{
        /* Borrowed: the cached assignment. Its offsets are scratch space
         * (every reader writes them first), so the committed offsets and
         * the seek targets can land there. */
        rd_kafka_topic_partition_list_t *list = ab_consumer_assignment(c);
        const rd_kafka_topic_partition_t *at;
        rd_kafka_error_t *e = NULL;
        rd_kafka_resp_err_t krc =
            list ? RD_KAFKA_RESP_ERR_NO_ERROR : RD_KAFKA_RESP_ERR__STATE;

        for (int i = 0; list && i < list->cnt; i++)
                list->elems[i].err = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (!krc)
                krc = first_error(
                    list, rd_kafka_committed(c->rk, list, timeout_ms), &at);
        if (!krc) {
                for (int i = 0; i < list->cnt; i++)
                        if (list->elems[i].offset < 0)
                                list->elems[i].offset =
                                    RD_KAFKA_OFFSET_BEGINNING;
                e   = rd_kafka_seek_partitions(c->rk, list, timeout_ms);
                krc = e ? rd_kafka_error_code(e) : first_error(list, krc, &at);
        }
        if (e)
                rd_kafka_error_destroy(e);
        if (krc)
                return ab_error_set(err, AB_ERR_KAFKA, NULL,
                                    "rewinding to the committed offsets: %s",
                                    rd_kafka_err2str(krc));
        return AB_OK;
}

bool ab_consumer_joined(const struct ab_consumer *c)
{
        return c->joined;
}

ab_err_t ab_consumer_close(struct ab_consumer *c, struct ab_error *err)
{
        return ab_consumer_close_within(c, -1, err);
}

/* One event of the close queue: rebalances and commit results go to the
 * callbacks rd_kafka_consumer_close() would call; the rest is dropped. */
static void close_event(struct ab_consumer *c, rd_kafka_event_t *ev)
{
        rd_kafka_topic_partition_list_t *parts =
            rd_kafka_event_topic_partition_list(ev);

        switch (rd_kafka_event_type(ev)) {
        case RD_KAFKA_EVENT_REBALANCE:
                rebalance_cb(c->rk, rd_kafka_event_error(ev), parts, c);
                break;
        case RD_KAFKA_EVENT_OFFSET_COMMIT:
                commit_cb(c->rk, rd_kafka_event_error(ev), parts, c);
                break;
        default:
                break;
        }
        rd_kafka_event_destroy(ev);
}

/* HOW IT WORKS: rd_kafka_consumer_close() is rd_kafka_consumer_close_queue()
 * followed by serving the close queue (the rebalance callback, hence the
 * revocation path, runs there) until rd_kafka_consumer_closed(); serving
 * it ourselves, as events (serving it with callbacks asserts on the ops
 * that have none), lets the wait stop at a deadline. What is left of the
 * close is then skipped at destroy (RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE). */
static rd_kafka_resp_err_t close_bounded(struct ab_consumer *c, int timeout_ms)
{
        int64_t until       = ab_time_mono_ms() + timeout_ms;
        rd_kafka_queue_t *q = rd_kafka_queue_new(c->rk);
        rd_kafka_event_t *ev;
        rd_kafka_error_t *e;
        rd_kafka_resp_err_t rc;

        c->close_bounded = true;
        e                = rd_kafka_consumer_close_queue(c->rk, q);
        if (e) {
                rc = rd_kafka_error_code(e);
                rd_kafka_error_destroy(e);
                rd_kafka_queue_destroy(q);
                c->close_unfinished = true;
                return rc;
        }
        while (!rd_kafka_consumer_closed(c->rk)) {
                int64_t left = until - ab_time_mono_ms();

                if (left <= 0) {
                        c->close_unfinished = true;
                        break;
                }
                ev = rd_kafka_queue_poll(q, left < 100 ? (int)left : 100);
                if (ev)
                        close_event(c, ev);
        }
        rd_kafka_queue_destroy(q);
        return c->close_unfinished ? RD_KAFKA_RESP_ERR__TIMED_OUT
                                   : RD_KAFKA_RESP_ERR_NO_ERROR;
}

ab_err_t ab_consumer_close_within(struct ab_consumer *c, int timeout_ms,
                                  struct ab_error *err)
{
        rd_kafka_resp_err_t rc;

        if (c->closed)
                return AB_OK;
        c->closed     = true;
        c->revoke_err = RD_KAFKA_RESP_ERR_NO_ERROR;
        /* The close waits for the partitions' queues, which the preferred
         * queue would keep forwarded (and hang it): records are not read
         * any more anyway. */
        drop_preferred(c);
        rc = timeout_ms < 0 ? rd_kafka_consumer_close(c->rk)
                            : close_bounded(c, timeout_ms);
        if (!rc)
                rc = c->revoke_err;
        if (rc == RD_KAFKA_RESP_ERR__TIMED_OUT)
                return ab_error_set(err, AB_ERR_RETRY, NULL,
                                    "closing consumer: not done within "
                                    "%d ms; offsets not committed",
                                    timeout_ms);
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
        if (c->close_unfinished)
                rd_kafka_destroy_flags(c->rk,
                                       RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
        else
                rd_kafka_destroy(c->rk);
        ab_consumer_assignment_forget(c);
        for (size_t i = 0; i < c->nwishes; i++)
                ab_free(c->wishes[i].topic);
        ab_free(c->wishes);
        ab_free(c);
}
