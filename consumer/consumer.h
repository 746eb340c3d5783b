/* consumer.h - a Kafka consumer group member committing only finished work. */
#ifndef AB_CONSUMER_H
#define AB_CONSUMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consumer/offsets.h"
#include "consumer/record.h"
#include "core/err.h"
#include "kafka/kafka_offsets.h"

/*
 * A member of a consumer group (librdkafka's balanced consumer). Offsets
 * are never stored automatically when a record is handed out
 * (enable.auto.offset.store=false): they come from the offset tracker,
 * which only advances over records whose outputs were all delivered. The
 * stored offsets are committed by librdkafka's auto commit (every
 * auto.commit.interval.ms), on every revocation and on close, so a crash
 * replays at most the uncommitted tail: at-least-once.
 *
 * Not thread-safe: one thread polls, and every callback below runs on it,
 * inside ab_consumer_poll() or ab_consumer_close(). librdkafka's own log
 * lines go to core/log.h with comp=rdkafka.
 */
struct ab_consumer;

/* One partition of a topic (topic borrowed). */
struct ab_consumer_partition {
        const char *topic;
        int32_t partition;
};

struct ab_consumer_conf {
        const char *brokers;   /* bootstrap.servers; required */
        const char *group;     /* group.id; required */
        const char *client_id; /* client.id; NULL = "alertbridge" */
        /*
         * Any librdkafka properties (SASL, SSL, timeouts, ...) as a
         * NULL-terminated list of name, value pairs applied after our
         * defaults, so they win; NULL = none. Defaults:
         * auto.offset.reset=earliest, enable.auto.commit=true,
         * enable.partition.eof=false, log.connection.close=false.
         * enable.auto.offset.store must stay false.
         */
        const char *const *properties;
        /* Tracker whose committable offsets are stored before each poll,
         * commit and revocation. Borrowed; must outlive the consumer. NULL
         * = the caller stores nothing, so nothing is committed. */
        struct ab_offsets *offsets;
        /* Partitions are about to be revoked (rebalance or close): finish
         * what can be finished (e.g. flush the producer so in-flight
         * records complete) before their offsets are committed. Records
         * that do not complete are consumed again by the next owner. */
        void (*on_revoke)(void *arg);
        /* A statistics JSON document (set statistics.interval.ms). */
        void (*on_stats)(void *arg, const char *json, size_t len);
        /*
         * Stateful owners (docs/stateful-pipeline.md). Partitions were
         * assigned: exactly the new ones under the cooperative protocol,
         * the whole assignment under the eager one. They are assigned
         * already, and paused when the owner asked (see
         * ab_consumer_pause_partition()), before the call; no record of
         * theirs has been returned yet. \p parts is borrowed for the call.
         */
        void (*on_assigned)(void *arg,
                            const struct ab_consumer_partition *parts,
                            size_t n);
        /*
         * Partitions are being revoked (after on_revoke): commit what
         * must be committed for them and drop their state. \p lost: they
         * were taken away (session timeout, fenced), so a commit would
         * fail: drop, do not commit. The tracker's offsets are committed
         * and the partitions unassigned after the call.
         */
        void (*on_revoked)(void *arg, const struct ab_consumer_partition *parts,
                           size_t n, bool lost);
        /*
         * partition.assignment.strategy=cooperative-sticky: a rebalance
         * moves only the partitions that change owner and the others keep
         * flowing (incremental assign and unassign). false = librdkafka's
         * eager default (every rebalance revokes everything). All members
         * of a group must agree.
         */
        bool cooperative;
        /* group.instance.id (static membership: a restart within
         * session.timeout.ms keeps the assignment); NULL = dynamic. */
        const char *instance_id;
        void *arg;
};

/* The prefetch bound a consumer gets by default (docs/performance.md,
 * *Peak RSS and librdkafka's prefetch*). */
struct ab_consumer_prefetch {
        const char *max_kbytes; /* queued.max.messages.kbytes */
        const char *backoff_ms; /* fetch.queue.backoff.ms; NULL: none */
};

/**
 * The default prefetch bound for librdkafka \p version (as
 * rd_kafka_version() returns it). librdkafka before 2.1 refetches a
 * partition whose queue filled only a second later, so the queue must
 * hold more than a second of processing: 256 MiB. 2.1 added
 * fetch.queue.backoff.ms: with 10 ms, a 16 MiB queue keeps up, and peak
 * RSS stays near 100 MiB instead of 450-600 MiB.
 */
struct ab_consumer_prefetch ab_consumer_prefetch_for(int version);

/**
 * Create the consumer (it joins the group on ab_consumer_subscribe()).
 * @returns AB_OK with \p *out set, or AB_ERR_CONFIG / AB_ERR_KAFKA /
 *          AB_ERR_NOMEM with \p err filled.
 */
ab_err_t ab_consumer_new(const struct ab_consumer_conf *conf,
                         struct ab_consumer **out, struct ab_error *err);

/**
 * Subscribe to \p n topics (a name starting with '^' is a regex).
 * Replaces any previous subscription.
 */
ab_err_t ab_consumer_subscribe(struct ab_consumer *c, const char *const *topics,
                               size_t n, struct ab_error *err);

/**
 * Deliver the records of \p topic first: its assigned partitions feed a
 * queue of their own that ab_consumer_poll() empties before the shared
 * one, so that they do not wait behind records of other topics fetched
 * before them (the two-stage loop's <group>.alerts behind its input).
 * Order within a partition is kept. Call once, before subscribing.
 * @returns AB_OK, or AB_ERR_NOMEM / AB_ERR_INTERNAL (called twice).
 */
ab_err_t ab_consumer_prefer_topic(struct ab_consumer *c, const char *topic,
                                  struct ab_error *err);

/**
 * Store the tracker's advanced offsets, then wait up to \p timeout_ms for
 * the next record, serving rebalances and callbacks meanwhile.
 * @returns AB_OK with \p *out set to a record (caller owns it:
 *          ab_record_destroy()) or to NULL (timeout, or a transient error
 *          that was logged); AB_ERR_KAFKA on a fatal consumer error.
 */
ab_err_t ab_consumer_poll(struct ab_consumer *c, int timeout_ms,
                          struct ab_record **out, struct ab_error *err);

/**
 * Store the tracker's advanced offsets now (also done by every poll).
 * Offsets of partitions no longer assigned are dropped.
 */
ab_err_t ab_consumer_store(struct ab_consumer *c, struct ab_error *err);

/**
 * Store, then commit every stored offset synchronously.
 * @returns AB_OK (also when there was nothing to commit) or AB_ERR_KAFKA.
 */
ab_err_t ab_consumer_commit(struct ab_consumer *c, struct ab_error *err);

/**
 * Stop delivering records from every assigned partition (backpressure),
 * including partitions assigned later, until ab_consumer_resume().
 * Records librdkafka had prefetched are dropped, and fetched again after
 * resume from the position after the last record returned. Keep polling
 * while paused: rebalances and callbacks are served there.
 */
ab_err_t ab_consumer_pause(struct ab_consumer *c, struct ab_error *err);
ab_err_t ab_consumer_resume(struct ab_consumer *c, struct ab_error *err);
bool ab_consumer_paused(const struct ab_consumer *c);

/**
 * Stop delivering records of one partition until
 * ab_consumer_resume_partition(), whether it is assigned now or later:
 * a partition assigned while the owner wants it paused is paused before
 * any record of it is returned (e.g. while its state is restored). The
 * wish survives revocation. Prefetched records are dropped as for
 * ab_consumer_pause().
 */
ab_err_t ab_consumer_pause_partition(struct ab_consumer *c, const char *topic,
                                     int32_t partition, struct ab_error *err);

/** Undo ab_consumer_pause_partition(); the partition stays paused while
 *  the whole consumer is (ab_consumer_pause()). */
ab_err_t ab_consumer_resume_partition(struct ab_consumer *c, const char *topic,
                                      int32_t partition, struct ab_error *err);

/**
 * Commit \p n explicit offsets (with their metadata strings), beside the
 * tracker; for owners that set enable.auto.commit=false. \p async: queue
 * the commit and return at once (a failure is logged when the result is
 * served by a later poll); otherwise wait for the coordinator.
 * @returns AB_OK or AB_ERR_KAFKA naming the first partition that failed.
 */
ab_err_t ab_consumer_commit_offsets(struct ab_consumer *c,
                                    const struct ab_kafka_offset *offsets,
                                    size_t n, bool async, struct ab_error *err);

/**
 * The group metadata for a transaction's offsets
 * (ab_producer_txn_send_offsets()), as of now: take it at each commit.
 * @returns AB_OK with \p *out set (caller owns it:
 *          ab_kafka_group_meta_destroy()) or AB_ERR_KAFKA / AB_ERR_NOMEM.
 */
ab_err_t ab_consumer_group_metadata(struct ab_consumer *c,
                                    struct ab_kafka_group_meta **out,
                                    struct ab_error *err);

/**
 * The position of an assigned partition: the offset of the next record
 * poll would return (the last returned + 1), -1 when none was returned
 * yet. @returns AB_OK, or AB_ERR_NOT_FOUND when it is not assigned.
 */
ab_err_t ab_consumer_position(struct ab_consumer *c, const char *topic,
                              int32_t partition, int64_t *offset,
                              struct ab_error *err);

/**
 * The end (high watermark) of \p topic / \p partition as the broker
 * knows it now, waiting up to \p timeout_ms.
 * @returns AB_OK or AB_ERR_KAFKA.
 */
ab_err_t ab_consumer_end_offset(struct ab_consumer *c, const char *topic,
                                int32_t partition, int timeout_ms, int64_t *end,
                                struct ab_error *err);

/** The group's committed offset of \p topic / \p partition (-1: none),
 *  waiting up to \p timeout_ms. @returns AB_OK or AB_ERR_KAFKA. */
ab_err_t ab_consumer_committed_offset(struct ab_consumer *c, const char *topic,
                                      int32_t partition, int timeout_ms,
                                      int64_t *offset, struct ab_error *err);

/**
 * Seek every assigned partition back to its committed offset (the
 * beginning when none is committed), e.g. after a transaction was
 * aborted; waits up to \p timeout_ms for the coordinator.
 * @returns AB_OK or AB_ERR_KAFKA.
 */
ab_err_t ab_consumer_rewind(struct ab_consumer *c, int timeout_ms,
                            struct ab_error *err);

/** @returns true once the group gave this member an assignment, even an
 *  empty one (a standby member). */
bool ab_consumer_joined(const struct ab_consumer *c);

/** @returns how many partitions are assigned to this member. */
size_t ab_consumer_assigned(struct ab_consumer *c);

/** Called by ab_consumer_lag() per assigned partition; \p lag is -1 when
 *  not known yet (nothing consumed or no fetch response seen). */
typedef void (*ab_consumer_lag_fn)(void *arg, const char *topic,
                                   int32_t partition, int64_t lag);

/**
 * Consumer lag from cached state (no broker round trip): the high
 * watermark of the last fetch minus the position of the next record to
 * consume. \p fn may be NULL. @returns the sum of the known lags.
 */
int64_t ab_consumer_lag(struct ab_consumer *c, ab_consumer_lag_fn fn,
                        void *arg);

/**
 * @returns true when no assigned partition is known to have records left
 * to consume (cached state, as ab_consumer_lag()): the backlog is read,
 * so wall-clock work such as auto-clear may run.
 */
bool ab_consumer_caught_up(struct ab_consumer *c);

/**
 * Leave the group: the revocation path runs (on_revoke, store, commit),
 * then the consumer is closed. Call once, before ab_consumer_destroy().
 * @returns AB_OK, or AB_ERR_KAFKA if the final commit or close failed.
 */
ab_err_t ab_consumer_close(struct ab_consumer *c, struct ab_error *err);

/**
 * ab_consumer_close() that gives up after \p timeout_ms (negative: no
 * bound), e.g. when the broker is down: the commit on revocation is then
 * asynchronous and waited for by the close. @returns AB_OK;
 * AB_ERR_RETRY when the time ran out (the offsets may not be committed;
 * ab_consumer_destroy() then skips the rest of the close); AB_ERR_KAFKA
 * if the final commit or the close failed.
 */
ab_err_t ab_consumer_close_within(struct ab_consumer *c, int timeout_ms,
                                  struct ab_error *err);

/** Free the consumer, closing it first if needed. NULL-safe. Records it
 *  returned must have been destroyed. */
void ab_consumer_destroy(struct ab_consumer *c);

#endif
