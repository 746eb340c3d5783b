/* range.h - the bounds of a replay (--from, --to) and their resolution to
 * offsets. */
#ifndef AB_REPLAY_RANGE_H
#define AB_REPLAY_RANGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/*
 * A replay reads the half-open offset range [start, end) of each
 * partition. The bounds are given as:
 *
 *   earliest        the partition's first offset still in the log
 *   latest          its high watermark when the replay starts, so records
 *                   appended during the replay are not read
 *   OFFSET          decimal digits: that offset
 *   TIME            RFC 3339 ("2024-05-01T12:00:00Z") or '@' and epoch
 *                   milliseconds ("@1714564800000"): the first offset whose
 *                   record timestamp is >= TIME (Kafka's time index)
 *
 * Plain digits of 10^12 and more are refused: they are almost certainly
 * an epoch in milliseconds meant as a time, not an offset.
 */
enum ab_replay_bound_kind {
        AB_REPLAY_EARLIEST = 0,
        AB_REPLAY_LATEST,
        AB_REPLAY_OFFSET,
        AB_REPLAY_TIME,
};

struct ab_replay_bound {
        enum ab_replay_bound_kind kind;
        int64_t value; /* the offset, or the time in epoch ms */
};

/** Largest plain number accepted as an offset (exclusive). */
#define AB_REPLAY_OFFSET_LIMIT 1000000000000LL

/**
 * Parse \p s into \p out.
 * @returns AB_OK, or AB_ERR_USAGE with \p err saying what is accepted.
 */
ab_err_t ab_replay_bound_parse(const char *s, struct ab_replay_bound *out,
                               struct ab_error *err);

/** "earliest", "latest", "offset 17" or "2024-05-01T12:00:00.000Z". */
const char *ab_replay_bound_format(const struct ab_replay_bound *b, char *out,
                                   size_t size);

/*
 * What the broker said about one partition: the log holds [low, high);
 * \p from_time / \p to_time are the offsets returned by offsetsForTimes
 * for TIME bounds (the first offset whose timestamp is >= the time), or
 * -1 when no record is that recent (ignored for other bounds).
 */
struct ab_replay_marks {
        int64_t low;
        int64_t high;
        int64_t from_time;
        int64_t to_time;
};

/**
 * The range [*start, *end) of one partition: the bounds, clamped to the
 * log. An empty range has *start == *end.
 */
void ab_replay_range_resolve(const struct ab_replay_bound *from,
                             const struct ab_replay_bound *to,
                             const struct ab_replay_marks *m, int64_t *start,
                             int64_t *end);

#endif
