/* producer.c - idempotent librdkafka producer with delivery reports. */
#include "producer/producer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "kafka/kafka_conf.h"

/* Transactional calls: how often a retriable error is retried, and the
 * first backoff (doubled each time), spent serving events. */
#define TXN_ATTEMPTS   4
#define TXN_BACKOFF_MS 100
/* librdkafka's message.max.bytes when it cannot be read back. */
#define DEFAULT_MAX_MESSAGE_BYTES 1000000

struct ab_producer {
        rd_kafka_t *rk;
        char *transactional_id; /* owned; NULL = not transactional */
        ab_producer_dr_fn on_delivery;
        void *arg;
        size_t inflight; /* accepted messages whose report is not served */
        rd_kafka_topic_t **topics; /* ab_producer_topic_props(), owned */
        size_t ntopics;
        /* ab_producer_txn_commit_step(): its first call timed out, the
         * commit is resumed (blocking) from then on (ab_time_mono_ms());
         * 0: none */
        int64_t commit_resume_ms;
};

static ab_err_t map_err(rd_kafka_resp_err_t rc)
{
        switch (rc) {
        case RD_KAFKA_RESP_ERR_NO_ERROR:
                return AB_OK;
        case RD_KAFKA_RESP_ERR__QUEUE_FULL:
                return AB_ERR_RETRY;
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
                return AB_ERR_TOO_LARGE;
        default:
                return AB_ERR_KAFKA;
        }
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
        struct ab_producer *p = opaque;
        struct ab_error err;
        ab_err_t status = map_err(m->err);

        ab_error_clear(&err);
        if (status) {
                ab_error_set(&err, status, rd_kafka_topic_name(m->rkt),
                             "delivery failed: %s (%s)",
                             rd_kafka_err2str(m->err),
                             rd_kafka_err2name(m->err));
                AB_DEBUG("producer", "delivery failed", "topic=%s error=%s",
                         rd_kafka_topic_name(m->rkt),
                         rd_kafka_err2name(m->err));
        }
        p->inflight--;
        p->on_delivery(p->arg, m->_private, status, &err);
}

static void error_cb(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
        char quoted[300];

        if (code == RD_KAFKA_RESP_ERR__FATAL) {
                char text[256];
                rd_kafka_resp_err_t ferr =
                    rd_kafka_fatal_error(rk, text, sizeof(text));

                AB_ERROR("producer", "fatal kafka error", "error=%s reason=%s",
                         rd_kafka_err2name(ferr),
                         ab_log_quote(text, quoted, sizeof(quoted)));
                return;
        }
        AB_LOG(ab_kafka_error_level(code), "producer", "kafka error",
               "error=%s reason=%s",
               rd_kafka_err2name((rd_kafka_resp_err_t)code),
               ab_log_quote(reason, quoted, sizeof(quoted)));
}

ab_err_t ab_producer_new(const struct ab_producer_conf *conf,
                         struct ab_producer **out, struct ab_error *err)
{
        static const char *const locked[] = {"enable.idempotence", "true",
                                             NULL};
        const char *client_id =
            conf->client_id ? conf->client_id : "alertbridge";
        /* Name, value pairs. */
        /* clang-format off */
        const char *defaults[] = {
                "bootstrap.servers",          conf->brokers,
                "client.id",                  client_id,
                "enable.idempotence",         "true",
                "acks",                       "all",
                "message.timeout.ms",         "0",
                "queue.buffering.max.kbytes", "65536",
                "log.connection.close",       "false",
                NULL,
        };
        /* clang-format on */
        struct ab_producer *p  = NULL;
        rd_kafka_conf_t *kconf = NULL;
        char errstr[512];
        ab_err_t rc;

        *out = NULL;
        if (!conf->brokers || !*conf->brokers || !conf->on_delivery)
                return ab_error_set(err, AB_ERR_CONFIG, "kafka",
                                    "brokers and a delivery callback are "
                                    "required");
        p     = ab_calloc(1, sizeof(*p));
        kconf = ab_kafka_conf_new();
        if (!p || !kconf) {
                rc = ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
                goto out;
        }
        p->on_delivery = conf->on_delivery;
        p->arg         = conf->arg;
        rc             = ab_kafka_conf_apply(kconf, defaults, NULL, err);
        if (!rc && conf->transactional_id) {
                /* clang-format off */
                const char *txn[] = {
                        "transactional.id",       conf->transactional_id,
                        "transaction.timeout.ms", "10000",
                        "message.timeout.ms",     "10000",
                        /* AddOffsetsToTxn right after a commit is often
                         * answered CONCURRENT_TRANSACTIONS (the markers
                         * are still being written) and retried after
                         * this; send_offsets_to_transaction blocks the
                         * loop meanwhile, a cycle per retry (librdkafka:
                         * 100 ms; it uses 20 for AddPartitionsToTxn). */
                        "retry.backoff.ms",       "20",
                        NULL,
                };
                /* clang-format on */

                p->transactional_id = ab_strdup(conf->transactional_id);
                rc                  = p->transactional_id
                                          ? ab_kafka_conf_apply(kconf, txn, NULL, err)
                                          : ab_error_set(err, AB_ERR_NOMEM, NULL,
                                                         "out of memory");
        }
        if (!rc)
                rc = ab_kafka_conf_apply(kconf, conf->properties, locked, err);
        if (rc)
                goto out;
        rd_kafka_conf_set_opaque(kconf, p);
        rd_kafka_conf_set_dr_msg_cb(kconf, dr_cb);
        rd_kafka_conf_set_error_cb(kconf, error_cb);
        p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kconf, errstr, sizeof(errstr));
        if (!p->rk) {
                rc = ab_error_set(err, AB_ERR_KAFKA, NULL,
                                  "creating producer: %s", errstr);
                goto out;
        }
        kconf = NULL; /* owned by p->rk now */
        *out  = p;
        p     = NULL;
out:
        if (kconf)
                rd_kafka_conf_destroy(kconf);
        if (p)
                ab_free(p->transactional_id);
        ab_free(p);
        return rc;
}

/* Keep \p rkt (owned from now on) until ab_producer_destroy(). */
static ab_err_t keep_topic(struct ab_producer *p, rd_kafka_topic_t *rkt,
                           const char *topic, struct ab_error *err)
{
        rd_kafka_topic_t **v;

        if (!rkt)
                return ab_error_set(err, AB_ERR_KAFKA, topic, "%s",
                                    rd_kafka_err2str(rd_kafka_last_error()));
        v = ab_realloc(p->topics, (p->ntopics + 1) * sizeof(*v));
        if (!v) {
                rd_kafka_topic_destroy(rkt);
                return ab_error_set(err, AB_ERR_NOMEM, topic, "out of memory");
        }
        p->topics               = v;
        p->topics[p->ntopics++] = rkt;
        return AB_OK;
}

static rd_kafka_topic_t *kept_topic(const struct ab_producer *p,
                                    const char *topic)
{
        for (size_t i = 0; i < p->ntopics; i++)
                if (!strcmp(rd_kafka_topic_name(p->topics[i]), topic))
                        return p->topics[i];
        return NULL;
}

ab_err_t ab_producer_topic_props(struct ab_producer *p, const char *topic,
                                 const char *const *props, struct ab_error *err)
{
        rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
        char errstr[256];

        if (!tconf)
                return ab_error_set(err, AB_ERR_NOMEM, topic, "out of memory");
        for (; props && props[0]; props += 2) {
                if (rd_kafka_topic_conf_set(tconf, props[0], props[1], errstr,
                                            sizeof(errstr)) !=
                    RD_KAFKA_CONF_OK) {
                        rd_kafka_topic_conf_destroy(tconf);
                        return ab_error_set(err, AB_ERR_CONFIG, props[0], "%s",
                                            errstr);
                }
        }
        /* librdkafka finds this handle, with its configuration, for every
         * later send naming the topic. */
        return keep_topic(p, rd_kafka_topic_new(p->rk, topic, tconf), topic,
                          err);
}

/*
 * librdkafka 2.0.2 learns where a topic it has not sent to lives only
 * from a metadata request, and for a record to such a topic it sends none
 * at once: its periodic topic scan (every second) asks. A first dead
 * letter, or the first event of a policy's topic, then waited up to a
 * second, and with it every outstanding output of its commit cycle (in
 * exactly_once the whole transaction: nothing of it visible). Asking here,
 * at start, keeps that wait out of the records.
 */
ab_err_t ab_producer_prepare_topic(struct ab_producer *p, const char *topic,
                                   int timeout_ms, struct ab_error *err)
{
        rd_kafka_topic_t *rkt              = kept_topic(p, topic);
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t krc;
        ab_err_t rc;

        if (!rkt) {
                rc = keep_topic(p, rd_kafka_topic_new(p->rk, topic, NULL),
                                topic, err);
                if (rc)
                        return rc;
                rkt = p->topics[p->ntopics - 1];
        }
        krc = rd_kafka_metadata(p->rk, 0, rkt, &md, timeout_ms);
        if (md)
                rd_kafka_metadata_destroy(md);
        if (krc)
                return ab_error_set(err, AB_ERR_RETRY, topic,
                                    "looking up %s: %s", topic,
                                    rd_kafka_err2str(krc));
        return AB_OK;
}

/* A librdkafka copy of \p h (owned by the message once produced). */
static rd_kafka_headers_t *rd_headers(const struct ab_headers *h)
{
        size_t n                = ab_headers_count(h);
        rd_kafka_headers_t *hdr = rd_kafka_headers_new(n);
        const char *name;
        struct ab_str value;

        for (size_t i = 0; hdr && !ab_headers_at(h, i, &name, &value); i++)
                rd_kafka_header_add(hdr, name, -1, value.ptr,
                                    (ssize_t)value.len);
        return hdr;
}

ab_err_t ab_producer_send(struct ab_producer *p, const char *topic,
                          struct ab_str key, struct ab_str value,
                          const struct ab_headers *headers, void *opaque,
                          struct ab_error *err)
{
        return ab_producer_send_to(p, topic, RD_KAFKA_PARTITION_UA, key, value,
                                   headers, opaque, err);
}

ab_err_t ab_producer_send_to(struct ab_producer *p, const char *topic,
                             int32_t partition, struct ab_str key,
                             struct ab_str value,
                             const struct ab_headers *headers, void *opaque,
                             struct ab_error *err)
{
        rd_kafka_headers_t *hdrs = NULL;
        rd_kafka_resp_err_t rc;

        if (headers && ab_headers_count(headers)) {
                hdrs = rd_headers(headers);
                if (!hdrs)
                        return ab_error_set(err, AB_ERR_NOMEM, topic,
                                            "out of memory");
        }
        rc = rd_kafka_producev(p->rk, RD_KAFKA_V_TOPIC(topic),
                               RD_KAFKA_V_PARTITION(partition),
                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                               RD_KAFKA_V_KEY((void *)key.ptr, key.len),
                               RD_KAFKA_V_VALUE((void *)value.ptr, value.len),
                               RD_KAFKA_V_HEADERS(hdrs),
                               RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
        if (!rc) {
                p->inflight++;
                return AB_OK; /* the message owns hdrs */
        }
        if (hdrs)
                rd_kafka_headers_destroy(hdrs);
        return ab_error_set(err, map_err(rc), topic, "produce: %s (%s)",
                            rd_kafka_err2str(rc), rd_kafka_err2name(rc));
}

size_t ab_producer_max_message_bytes(const struct ab_producer *p)
{
        char text[32];
        size_t size = sizeof(text);
        unsigned long long v;
        char *end;

        if (rd_kafka_conf_get(rd_kafka_conf(p->rk), "message.max.bytes", text,
                              &size) != RD_KAFKA_CONF_OK)
                return DEFAULT_MAX_MESSAGE_BYTES;
        v = strtoull(text, &end, 10);
        return end != text && !*end && v ? (size_t)v
                                         : DEFAULT_MAX_MESSAGE_BYTES;
}

int ab_producer_poll(struct ab_producer *p, int timeout_ms)
{
        return rd_kafka_poll(p->rk, timeout_ms);
}

ab_err_t ab_producer_flush(struct ab_producer *p, int timeout_ms,
                           struct ab_error *err)
{
        if (rd_kafka_flush(p->rk, timeout_ms))
                return ab_error_set(err, AB_ERR_RETRY, NULL,
                                    "%zu messages still in flight",
                                    p->inflight);
        return AB_OK;
}

size_t ab_producer_inflight(const struct ab_producer *p)
{
        return p->inflight;
}

bool ab_producer_fatal(struct ab_producer *p, struct ab_error *err)
{
        char text[256];
        rd_kafka_resp_err_t rc =
            rd_kafka_fatal_error(p->rk, text, sizeof(text));

        if (!rc)
                return false;
        ab_error_set(err, AB_ERR_KAFKA, NULL, "fatal producer error: %s (%s)",
                     text, rd_kafka_err2name(rc));
        return true;
}

enum txn_op { TXN_INIT, TXN_BEGIN, TXN_SEND_OFFSETS, TXN_COMMIT, TXN_ABORT };

static const char *const txn_names[] = {
    "init_transactions", "begin_transaction", "send_offsets_to_transaction",
    "commit_transaction", "abort_transaction"};

static rd_kafka_error_t *txn_call(struct ab_producer *p, enum txn_op op,
                                  const rd_kafka_topic_partition_list_t *list,
                                  const struct ab_kafka_group_meta *meta)
{
        /* -1: librdkafka's own bound (a multiple of the transaction
         * timeout); a shorter one risks desynchronizing its state. */
        switch (op) {
        case TXN_INIT:
                return rd_kafka_init_transactions(p->rk, -1);
        case TXN_BEGIN:
                return rd_kafka_begin_transaction(p->rk);
        case TXN_SEND_OFFSETS:
                return rd_kafka_send_offsets_to_transaction(
                    p->rk, list, ab_kafka_group_meta_rd(meta), -1);
        case TXN_COMMIT:
                return rd_kafka_commit_transaction(p->rk, -1);
        case TXN_ABORT:
                return rd_kafka_abort_transaction(p->rk, -1);
        }
        return NULL;
}

/* The class of a transactional error (stateful-streams reference table):
 * fatal, abortable, or retriable left after the retries; anything else
 * is fatal. */
static ab_err_t txn_error(const struct ab_producer *p, enum txn_op op,
                          const rd_kafka_error_t *e, struct ab_error *err)
{
        rd_kafka_resp_err_t code = rd_kafka_error_code(e);
        const char *what         = txn_names[op];

        if (code == RD_KAFKA_RESP_ERR__FENCED ||
            code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
            code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH)
                return ab_error_set(err, AB_ERR_KAFKA_FATAL, NULL,
                                    "%s: producer fenced: another producer "
                                    "with transactional.id %s took over: %s",
                                    what, p->transactional_id,
                                    rd_kafka_error_string(e));
        if (rd_kafka_error_is_fatal(e))
                return ab_error_set(
                    err, AB_ERR_KAFKA_FATAL, NULL, "%s: fatal: %s (%s)", what,
                    rd_kafka_error_string(e), rd_kafka_err2name(code));
        if (rd_kafka_error_txn_requires_abort(e))
                return ab_error_set(err, AB_ERR_TXN_ABORT, NULL,
                                    "%s: the transaction must be aborted: "
                                    "%s (%s)",
                                    what, rd_kafka_error_string(e),
                                    rd_kafka_err2name(code));
        if (rd_kafka_error_is_retriable(e))
                return ab_error_set(err, AB_ERR_KAFKA, NULL,
                                    "%s: still failing after %d attempts: "
                                    "%s (%s)",
                                    what, TXN_ATTEMPTS,
                                    rd_kafka_error_string(e),
                                    rd_kafka_err2name(code));
        return ab_error_set(err, AB_ERR_KAFKA_FATAL, NULL, "%s: %s (%s)", what,
                            rd_kafka_error_string(e), rd_kafka_err2name(code));
}

/* Make one transactional call, retrying it while its error is retriable
 * and only retriable. */
static ab_err_t txn_run(struct ab_producer *p, enum txn_op op,
                        const rd_kafka_topic_partition_list_t *list,
                        const struct ab_kafka_group_meta *meta,
                        struct ab_error *err)
{
        int backoff_ms = TXN_BACKOFF_MS;

        if (!p->transactional_id)
                return ab_error_set(err, AB_ERR_CONFIG, "transactional_id",
                                    "%s: the producer is not transactional",
                                    txn_names[op]);
        for (int attempt = 1;; attempt++) {
                rd_kafka_error_t *e = txn_call(p, op, list, meta);
                ab_err_t rc;

                if (!e)
                        return AB_OK;
                if (attempt < TXN_ATTEMPTS && rd_kafka_error_is_retriable(e) &&
                    !rd_kafka_error_is_fatal(e) &&
                    !rd_kafka_error_txn_requires_abort(e)) {
                        AB_WARN("producer", "transaction call failed, retrying",
                                "call=%s attempt=%d error=%s", txn_names[op],
                                attempt, rd_kafka_error_name(e));
                        rd_kafka_error_destroy(e);
                        rd_kafka_poll(p->rk, backoff_ms);
                        backoff_ms *= 2;
                        continue;
                }
                rc = txn_error(p, op, e, err);
                AB_WARN("producer", "transaction call failed",
                        "call=%s error=%s class=%s", txn_names[op],
                        rd_kafka_error_name(e), ab_err_code(rc));
                rd_kafka_error_destroy(e);
                return rc;
        }
}

ab_err_t ab_producer_txn_init(struct ab_producer *p, struct ab_error *err)
{
        return txn_run(p, TXN_INIT, NULL, NULL, err);
}

ab_err_t ab_producer_txn_begin(struct ab_producer *p, struct ab_error *err)
{
        return txn_run(p, TXN_BEGIN, NULL, NULL, err);
}

ab_err_t ab_producer_txn_send_offsets(struct ab_producer *p,
                                      const struct ab_kafka_offset *offsets,
                                      size_t n,
                                      const struct ab_kafka_group_meta *meta,
                                      struct ab_error *err)
{
        rd_kafka_topic_partition_list_t *list = NULL;
        ab_err_t rc;

        if (!n)
                return AB_OK;
        rc = ab_kafka_offsets_list(offsets, n, &list, err);
        if (!rc)
                rc = txn_run(p, TXN_SEND_OFFSETS, list, meta, err);
        if (list)
                rd_kafka_topic_partition_list_destroy(list);
        return rc;
}

ab_err_t ab_producer_txn_commit(struct ab_producer *p, struct ab_error *err)
{
        ab_err_t rc;

        p->commit_resume_ms = 0;
        rc                  = txn_run(p, TXN_COMMIT, NULL, NULL, err);

        rd_kafka_poll(p->rk, 0); /* the reports of the transaction */
        return rc;
}

ab_err_t ab_producer_txn_commit_step(struct ab_producer *p, int timeout_ms,
                                     int resume_ms, struct ab_error *err)
{
        rd_kafka_error_t *e;
        ab_err_t rc;

        if (!p->transactional_id)
                return ab_error_set(err, AB_ERR_CONFIG, "transactional_id",
                                    "commit_transaction: the producer is not "
                                    "transactional");
        /* Its records first, their reports served here as by a poll: then
         * the call's own flush returns at once and the call waits only
         * for the coordinator. */
        rd_kafka_poll(p->rk, 0);
        if (p->inflight)
                return AB_ERR_RETRY;
        if (p->commit_resume_ms) {
                /*
                 * The first call timed out: the commit goes on in the
                 * background (EndTxn may be on its way). librdkafka 2.0.2
                 * takes an EndTxn answer that arrives while no commit call
                 * is current for an abort's (and asserts), and a short
                 * resumed call can return in a phase that is not
                 * resumable: so the commit is resumed once, by the
                 * blocking call, after resume_ms, when it has most likely
                 * finished.
                 */
                if (ab_time_mono_ms() < p->commit_resume_ms)
                        return AB_ERR_RETRY;
                p->commit_resume_ms = 0;
                return ab_producer_txn_commit(p, err);
        }
        e = rd_kafka_commit_transaction(p->rk, timeout_ms);
        if (!e) {
                rd_kafka_poll(p->rk, 0);
                return AB_OK;
        }
        if (rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR__TIMED_OUT &&
            rd_kafka_error_is_retriable(e) && !rd_kafka_error_is_fatal(e) &&
            !rd_kafka_error_txn_requires_abort(e)) {
                rd_kafka_error_destroy(e);
                p->commit_resume_ms = ab_time_mono_ms() + resume_ms;
                if (!p->commit_resume_ms)
                        p->commit_resume_ms = 1;
                return AB_ERR_RETRY;
        }
        if (!rd_kafka_error_is_fatal(e) &&
            !rd_kafka_error_txn_requires_abort(e)) {
                /* Retriable otherwise, or a state error: the blocking
                 * call retries (as ab_producer_txn_commit() does) and its
                 * answer counts. */
                AB_DEBUG("producer",
                         "commit step failed; committing in one "
                         "call",
                         "error=%s", rd_kafka_error_name(e));
                rd_kafka_error_destroy(e);
                return ab_producer_txn_commit(p, err);
        }
        rc = txn_error(p, TXN_COMMIT, e, err);
        AB_WARN("producer", "transaction call failed",
                "call=%s error=%s class=%s", txn_names[TXN_COMMIT],
                rd_kafka_error_name(e), ab_err_code(rc));
        rd_kafka_error_destroy(e);
        rd_kafka_poll(p->rk, 0);
        return rc;
}

ab_err_t ab_producer_txn_abort(struct ab_producer *p, struct ab_error *err)
{
        ab_err_t rc = txn_run(p, TXN_ABORT, NULL, NULL, err);

        rd_kafka_poll(p->rk, 0); /* the purged records' reports */
        return rc;
}

void ab_producer_destroy(struct ab_producer *p)
{
        if (!p)
                return;
        if (p->inflight) {
                /* The owner reports what was left (one line, not one per
                 * message: their reports fail quietly). */
                AB_DEBUG("producer", "purging undelivered messages",
                         "count=%zu", p->inflight);
                rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE |
                                          RD_KAFKA_PURGE_F_INFLIGHT);
                rd_kafka_flush(p->rk, 5000);
        }
        for (size_t i = 0; i < p->ntopics; i++)
                rd_kafka_topic_destroy(p->topics[i]);
        ab_free(p->topics);
        rd_kafka_destroy(p->rk);
        ab_free(p->transactional_id);
        ab_free(p);
}
