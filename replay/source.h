/* source.h - reads a fixed offset range of one topic, outside any consumer
 * group, in a deterministic order across partitions. */
#ifndef AB_REPLAY_SOURCE_H
#define AB_REPLAY_SOURCE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/str.h"
#include "replay/range.h"

/*
 * The live pipeline is a consumer group member (consumer/); a replay must
 * not join that group, move its offsets or take partitions from it. This
 * source therefore uses librdkafka's simple consumer: each partition is
 * started at an explicit offset, there is no group.id, and nothing is
 * committed anywhere (enable.auto.commit=false,
 * enable.auto.offset.store=false). Deleting records under the replay
 * (retention) is an error (auto.offset.reset=error), not a silent jump.
 *
 * HOW IT WORKS (order)
 * Records of one partition come in offset order. Across partitions they
 * are merged by their order timestamp: the record's timestamp, raised to
 * the largest timestamp seen before it in its partition (producer clocks
 * may step back). Each partition is then ordered by (order ts, offset),
 * and a k-way merge over the partitions' next records (a binary heap
 * keyed by order ts, partition, offset) yields one total order that
 * depends only on the records, not on fetch timing: two replays of the
 * same range see the same sequence, and positions can be compared by
 * that key alone (diff.h). Each partition buffers a few fetched records
 * and librdkafka prefetches at most queued.max.messages.kbytes (4 MiB
 * by default here) per partition, so memory does not grow with the range.
 */
struct ab_replay_source;

struct ab_replay_source_conf {
        const char *brokers; /* required */
        const char *topic;   /* required */
        int32_t partition;   /* -1: every partition of the topic */
        struct ab_replay_bound from;
        struct ab_replay_bound to;
        /* librdkafka properties, NULL-terminated name/value pairs applied
         * after the defaults above (SASL, SSL, ...); NULL: none. */
        const char *const *properties;
        int timeout_ms;              /* metadata and offset lookups */
        volatile sig_atomic_t *stop; /* set: give up waiting; may be NULL */
};

struct ab_replay_partition {
        int32_t partition;
        int64_t low;   /* first offset in the log when the replay started */
        int64_t high;  /* high watermark when the replay started */
        int64_t start; /* the range [start, end) */
        int64_t end;
        uint64_t records; /* handed out so far */
};

/* One record, borrowed until the next ab_replay_source_next(). */
struct ab_replay_record {
        int32_t partition;
        int64_t offset;
        int64_t timestamp; /* the record's, ms; -1 when it has none */
        int64_t order_ts;  /* its order timestamp (never -1) */
        struct ab_str key;
        struct ab_str value; /* ptr NULL: a null value (tombstone) */
};

/**
 * Connect, look the topic up, resolve the range of each partition and
 * start fetching.
 * @returns AB_OK with \p *out set; AB_ERR_CONFIG for a bad property;
 *          AB_ERR_NOT_FOUND for an unknown topic or partition;
 *          AB_ERR_KAFKA when the cluster does not answer in time.
 */
ab_err_t ab_replay_source_open(const struct ab_replay_source_conf *conf,
                               struct ab_replay_source **out,
                               struct ab_error *err);

/** NULL-safe. */
void ab_replay_source_destroy(struct ab_replay_source *src);

/** The partitions being read, sorted by number (borrowed). */
const struct ab_replay_partition *
ab_replay_source_partitions(const struct ab_replay_source *src, size_t *n);

/** Records in all ranges: an upper bound (compaction leaves gaps). */
uint64_t ab_replay_source_total(const struct ab_replay_source *src);

/**
 * The next record in replay order, waiting for it to be fetched.
 * @returns AB_OK with \p *rec set, or with \p *done true after the last
 *          record; AB_ERR_KAFKA on a fetch error (records deleted under
 *          the replay, authorization, ...); AB_ERR_RETRY when the stop
 *          flag was set while waiting.
 */
ab_err_t ab_replay_source_next(struct ab_replay_source *src,
                               struct ab_replay_record *rec, bool *done,
                               struct ab_error *err);

#endif
