/* offsets.h - at-least-once offset tracking with out-of-order completion. */
#ifndef AB_OFFSETS_H
#define AB_OFFSETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/*
 * A tracker decides which offset of each partition may be committed.
 *
 * Every consumed record is registered and gets an entry holding one
 * reference, the caller's. The caller takes one more reference per output
 * it produces (an event, a dead-letter copy) and drops one per delivery
 * acknowledgement, then drops its own once it has produced every output.
 * When the last reference is dropped the record is complete. A record with
 * no output is complete as soon as the caller drops its reference.
 *
 * The committable offset of a partition is the offset after the last record
 * of its longest completed prefix: records complete in any order, but the
 * offset only moves over a contiguous run of completed records, so a
 * commit never skips a record whose outputs are still in flight.
 *
 * Memory is bounded: each partition holds at most `window` unfinished
 * records (register fails with AB_ERR_RETRY beyond that, and the caller
 * pauses consumption until deliveries catch up). Every operation is O(1)
 * amortized, and nothing is allocated per record.
 *
 * Not thread-safe: register, hold, release and drain all run on one thread
 * (the pipeline's, which also serves the producer's delivery reports).
 */
struct ab_offsets;

/* One registered record; the pointer is the ticket passed as the
 * producer's per-message opaque. Valid until its last reference is
 * dropped (and never after ab_offsets_destroy()). */
struct ab_offsets_entry;

/**
 * @param window how many unfinished records one partition may hold;
 *               rounded up to a power of two, at least 1.
 * @returns a new tracker, or NULL when out of memory.
 */
struct ab_offsets *ab_offsets_new(uint32_t window);

/** Free the tracker and every entry, finished or not. NULL-safe. */
void ab_offsets_destroy(struct ab_offsets *t);

/**
 * Register the record at \p offset of \p topic / \p partition, in
 * consumption order. Offsets of one partition must increase; an offset at
 * or below the previous one of a partition with unfinished records means
 * the consumer went back (a seek, an offset reset): the tracker then
 * starts that partition afresh as if it had been revoked.
 *
 * @returns AB_OK with \p *out set (one reference held by the caller);
 *          AB_ERR_RETRY when the partition already holds `window`
 *          unfinished records; AB_ERR_NOMEM.
 */
ab_err_t ab_offsets_register(struct ab_offsets *t, const char *topic,
                             int32_t partition, int64_t offset,
                             struct ab_offsets_entry **out,
                             struct ab_error *err);

/** Take one more reference on \p e (one per output about to be produced). */
void ab_offsets_hold(struct ab_offsets_entry *e);

/**
 * Drop one reference on \p e. When it was the last one the record is
 * complete, and \p e must not be used again. If that completes the prefix
 * of its partition, the committable offset advances.
 * @returns true when this completed the record.
 */
bool ab_offsets_release(struct ab_offsets_entry *e);

/** @returns the offset of record \p e. */
int64_t ab_offsets_entry_offset(const struct ab_offsets_entry *e);

/**
 * Note when record \p e was received (monotonic ns) and its timestamp (ms
 * since the epoch, -1 if none), for its latency once it completes; both
 * are 0 until set.
 */
void ab_offsets_entry_set_times(struct ab_offsets_entry *e, int64_t received_ns,
                                int64_t timestamp_ms);

/** Read back what ab_offsets_entry_set_times() noted. */
void ab_offsets_entry_times(const struct ab_offsets_entry *e,
                            int64_t *received_ns, int64_t *timestamp_ms);

/**
 * Called by ab_offsets_drain() for each partition whose committable offset
 * advanced; \p next_offset is the offset to commit (the next to consume).
 */
typedef void (*ab_offsets_fn)(void *arg, const char *topic, int32_t partition,
                              int64_t next_offset);

/**
 * Report every partition whose committable offset advanced since the
 * previous drain, once each. @returns how many were reported.
 */
size_t ab_offsets_drain(struct ab_offsets *t, ab_offsets_fn fn, void *arg);

/**
 * @returns the committable offset of \p topic / \p partition (the next
 *          offset to consume), or -1 if no record of it completed since it
 *          was assigned.
 */
int64_t ab_offsets_committable(const struct ab_offsets *t, const char *topic,
                               int32_t partition);

/**
 * Forget \p topic / \p partition (revoked by a rebalance). Its unfinished
 * entries stay valid and may still be released, but no longer move any
 * offset; if the partition comes back, it starts afresh.
 */
void ab_offsets_revoke(struct ab_offsets *t, const char *topic,
                       int32_t partition);

/** @returns how many registered records are not complete, all partitions
 *           together (revoked ones included). */
size_t ab_offsets_pending(const struct ab_offsets *t);

#endif
