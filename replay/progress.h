/* progress.h - the replay's progress report: records done, rate and time
 * left, as a terminal bar or a plain log line. */
#ifndef AB_REPLAY_PROGRESS_H
#define AB_REPLAY_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

struct ab_replay_progress {
        uint64_t done;      /* records processed */
        uint64_t total;     /* records in the range (an upper bound) */
        int64_t elapsed_ms; /* since the first record was asked for */
        bool final;         /* the last report of the replay */
};

/** Records per second so far (0 before any time passed). */
double ab_replay_progress_rate(const struct ab_replay_progress *p);

/** Estimated ms left at the current rate, or -1 when unknown. */
int64_t ab_replay_progress_eta_ms(const struct ab_replay_progress *p);

/**
 * Append one report to \p out, without a newline:
 *   bar:   "[#########-----------]  45%  12345/27000 records  5321/s  ETA 3s"
 *          (\p width columns at most, for a terminal; the caller returns
 *          the cursor with '\r')
 *   plain: "replay: 12345/27000 records (45%), 5321 records/s, ETA 3s"
 */
ab_err_t ab_replay_progress_format(const struct ab_replay_progress *p, bool bar,
                                   int width, struct ab_buf *out);

/** "2.4s", "13s", "4m05s", "2h10m", or "?" for a negative value. */
const char *ab_replay_duration_format(int64_t ms, char *out, size_t size);

#endif
