/* producer.h - an idempotent Kafka producer with per-message reports. */
#ifndef AB_PRODUCER_H
#define AB_PRODUCER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/str.h"
#include "kafka/kafka_offsets.h"
#include "producer/headers.h"

/*
 * Idempotent (enable.idempotence=true, acks=all): librdkafka retries until
 * the brokers acknowledge, without duplicates or reordering within a
 * partition. By default a message never expires (message.timeout.ms=0),
 * so a broker outage delays delivery instead of failing it; the bounded
 * send queue then fills and ab_producer_send() answers AB_ERR_RETRY, the
 * caller's signal to pause consumption until deliveries catch up.
 *
 * Every message accepted by ab_producer_send() gets exactly one delivery
 * report, with the opaque given to send. Reports are called on the thread
 * that calls ab_producer_poll(), ab_producer_flush() or
 * ab_producer_destroy(), never from librdkafka's threads, so the caller
 * needs no locking. librdkafka's own log lines go to core/log.h with
 * comp=rdkafka.
 */
struct ab_producer;

/**
 * Delivery report for the message sent with \p opaque: \p status is AB_OK
 * once all in-sync replicas have it; otherwise the message was not written
 * (AB_ERR_TOO_LARGE, or AB_ERR_KAFKA: purged at shutdown, fatal producer
 * error, unknown topic, ...) and \p err says why (borrowed for the call).
 */
typedef void (*ab_producer_dr_fn)(void *arg, void *opaque, ab_err_t status,
                                  const struct ab_error *err);

struct ab_producer_conf {
        const char *brokers;   /* bootstrap.servers; required */
        const char *client_id; /* client.id; NULL = "alertbridge" */
        /*
         * Any librdkafka properties (SASL, SSL, compression, linger, ...)
         * as a NULL-terminated list of name, value pairs applied after our
         * defaults, so they win; NULL = none. Defaults: acks=all,
         * message.timeout.ms=0 (never expire),
         * queue.buffering.max.kbytes=65536, log.connection.close=false.
         * enable.idempotence must stay true.
         */
        const char *const *properties;
        ab_producer_dr_fn on_delivery; /* required */
        /*
         * transactional.id: the producer is transactional (see
         * ab_producer_txn_init()); NULL = not. Defaults then
         * transaction.timeout.ms=10000 (Kafka Streams' value) and
         * message.timeout.ms=10000 (it may not exceed the former).
         */
        const char *transactional_id;
        void *arg;
};

/** @returns AB_OK with \p *out set, or AB_ERR_CONFIG / AB_ERR_KAFKA /
 *           AB_ERR_NOMEM with \p err filled. */
ab_err_t ab_producer_new(const struct ab_producer_conf *conf,
                         struct ab_producer **out, struct ab_error *err);

/**
 * Queue one record for \p topic. Key, value and headers are copied, so
 * the caller may reuse them at once; \p key / \p value ptr NULL means
 * none (a null value). \p headers may be NULL.
 * @returns AB_OK: accepted, its delivery report will follow;
 *          AB_ERR_RETRY: the send queue is full, nothing was queued (poll,
 *          pause consumption, send again later);
 *          AB_ERR_TOO_LARGE: larger than message.max.bytes, never
 *          deliverable; AB_ERR_KAFKA: other refusals (fatal producer
 *          error, invalid topic). No report follows an error.
 */
ab_err_t ab_producer_send(struct ab_producer *p, const char *topic,
                          struct ab_str key, struct ab_str value,
                          const struct ab_headers *headers, void *opaque,
                          struct ab_error *err);

/**
 * Topic-level librdkafka properties (name, value pairs, NULL-terminated)
 * for what \p p sends to \p topic from now on, e.g. compression.type for
 * one topic only. Call before the first send to that topic; the handle
 * is kept until ab_producer_destroy().
 * @returns AB_OK, or AB_ERR_CONFIG / AB_ERR_KAFKA / AB_ERR_NOMEM with
 *          \p err filled.
 */
ab_err_t ab_producer_topic_props(struct ab_producer *p, const char *topic,
                                 const char *const *props,
                                 struct ab_error *err);

/**
 * Look up where \p topic lives (a metadata request, waiting at most
 * \p timeout_ms), so that the first record sent to it does not wait for
 * librdkafka's periodic lookup (up to a second). Call at start for every
 * topic \p p will write; the handle is kept until ab_producer_destroy().
 * @returns AB_OK, AB_ERR_RETRY when the lookup failed or timed out (the
 *          topic is still usable: librdkafka looks it up again), or
 *          AB_ERR_KAFKA / AB_ERR_NOMEM, with \p err filled.
 */
ab_err_t ab_producer_prepare_topic(struct ab_producer *p, const char *topic,
                                   int timeout_ms, struct ab_error *err);

/** @returns the largest record the producer accepts: its effective
 *  message.max.bytes (librdkafka's default 1000000 unless configured).
 *  ab_producer_send() answers AB_ERR_TOO_LARGE above it. */
size_t ab_producer_max_message_bytes(const struct ab_producer *p);

/** ab_producer_send() to partition \p partition of \p topic (the
 *  partitioner's choice when it is negative). */
ab_err_t ab_producer_send_to(struct ab_producer *p, const char *topic,
                             int32_t partition, struct ab_str key,
                             struct ab_str value,
                             const struct ab_headers *headers, void *opaque,
                             struct ab_error *err);

/** Serve delivery reports and events, waiting up to \p timeout_ms for the
 *  first. @returns how many were served. */
int ab_producer_poll(struct ab_producer *p, int timeout_ms);

/**
 * Wait up to \p timeout_ms until every queued message is delivered or
 * failed, serving their reports. @returns AB_OK when none is left,
 * AB_ERR_RETRY when some are still in flight.
 */
ab_err_t ab_producer_flush(struct ab_producer *p, int timeout_ms,
                           struct ab_error *err);

/** @returns how many accepted messages have not had their report yet. */
size_t ab_producer_inflight(const struct ab_producer *p);

/**
 * @returns true after a fatal error (e.g. the idempotent producer lost
 *          its guarantees); \p err (may be NULL) describes it. A fatal
 *          producer refuses further sends: recreate it.
 */
bool ab_producer_fatal(struct ab_producer *p, struct ab_error *err);

/*
 * Transactions (a producer made with a transactional_id): init once, then
 * begin, send (ab_producer_send()), send the consumed offsets, commit;
 * docs/stateful-pipeline.md "Commit cycle". Every call below blocks until
 * the coordinator answers. Retriable errors (timeouts, transport) are
 * retried in place a few times with a short backoff. The results:
 *   AB_OK;
 *   AB_ERR_TXN_ABORT (RETRY class): the transaction failed (e.g. a
 *       delivery failed, the consumer's generation is stale): call
 *       ab_producer_txn_abort(), drop what the transaction changed, rewind
 *       the consumer to its committed offsets (ab_consumer_rewind()) and
 *       begin again;
 *   AB_ERR_KAFKA (RETRY class): still retriable after the retries: the
 *       same call may be made again later (send_offsets with the same
 *       arguments), or the transaction aborted;
 *   AB_ERR_KAFKA_FATAL (FATAL class): the producer is unusable, e.g.
 *       fenced by a newer producer with the same transactional.id (the
 *       text says "fenced"): destroy it and stop.
 */

/** Register the transactional id with the coordinator, fencing older
 *  producers with the same id and ending their open transaction. Once. */
ab_err_t ab_producer_txn_init(struct ab_producer *p, struct ab_error *err);

/** Open a transaction; sends until the commit or abort belong to it. */
ab_err_t ab_producer_txn_begin(struct ab_producer *p, struct ab_error *err);

/**
 * Add the consumer's \p n offsets (next record to consume, per
 * partition) to the open transaction: they are committed for the group
 * of \p meta (ab_consumer_group_metadata()) if and only if the
 * transaction commits.
 */
ab_err_t ab_producer_txn_send_offsets(struct ab_producer *p,
                                      const struct ab_kafka_offset *offsets,
                                      size_t n,
                                      const struct ab_kafka_group_meta *meta,
                                      struct ab_error *err);

/** Flush, then commit the open transaction: its records become visible
 *  to read_committed consumers, its offsets committed. Delivery reports
 *  of its records are served first. */
ab_err_t ab_producer_txn_commit(struct ab_producer *p, struct ab_error *err);

/**
 * Commit the open transaction with as little waiting as librdkafka
 * allows: one step of ab_producer_txn_commit(). While a record of the
 * transaction still awaits its delivery report (served here) nothing is
 * asked of librdkafka. Then librdkafka's commit_transaction() is called
 * with \p timeout_ms (-1: until done, waiting only for the coordinator);
 * a commit it did not finish in that time goes on in the background and
 * is finished by the first step at least \p resume_ms later, which waits
 * for it (librdkafka 2.0.2 cannot resume it in short calls safely).
 * Until a step answers AB_OK or an error the producer refuses sends and
 * every other transactional call; ab_producer_txn_commit() finishes it
 * at any time.
 * @returns AB_OK: committed; AB_ERR_RETRY: under way, step again;
 *          otherwise the errors of ab_producer_txn_commit(), with the
 *          same meaning.
 */
ab_err_t ab_producer_txn_commit_step(struct ab_producer *p, int timeout_ms,
                                     int resume_ms, struct ab_error *err);

/** Abort the open transaction: its records are purged (their reports
 *  fail) or stay invisible to read_committed consumers. */
ab_err_t ab_producer_txn_abort(struct ab_producer *p, struct ab_error *err);

/**
 * Free the producer. Messages still queued are purged: their reports are
 * served now with AB_ERR_KAFKA ("purged"), so every opaque is resolved.
 * Flush first for a clean shutdown. NULL-safe.
 */
void ab_producer_destroy(struct ab_producer *p);

#endif
