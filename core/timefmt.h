/* timefmt.h - parses alert timestamps, formats RFC 3339 UTC, and reads the
 * wall and monotonic clocks. */
#ifndef AB_TIMEFMT_H
#define AB_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Accepted inputs (all to milliseconds since the Unix epoch, UTC):
 *  - epoch seconds or milliseconds, as digits (optionally with a fraction
 *    for seconds); values >= 1e11 are taken as milliseconds (1e11 s is the
 *    year 5138, 1e11 ms is 1973);
 *  - RFC 3339 / ISO 8601: 2021-02-22T07:18:15.578000000Z, any fraction
 *    length (truncated to ms), 'T' or ' ' separator, 'Z' or +hh:mm/+hhmm;
 *  - CloudMonitor's compact form 20190409T121826.922+0800.
 * Go's zero time "0001-01-01T00:00:00Z" parses (to a negative value);
 * callers treat it as "not set" via AB_TIME_IS_ZERO_GO.
 * Fields are range-checked (month, day of month, 23:59:60 at most); a time
 * without a zone is rejected rather than guessed. Epoch milliseconds past
 * 9999-12-31T23:59:59.999Z are rejected. Nothing depends on the process's
 * locale or TZ.
 */
#define AB_TIME_GO_ZERO_MS     (-62135596800000LL)
#define AB_TIME_IS_ZERO_GO(ms) ((ms) == AB_TIME_GO_ZERO_MS)

/** @returns 0 with \p ms set, or -1 if \p s is not a timestamp. */
int ab_time_parse(const char *s, size_t len, int64_t *ms);

/**
 * Format \p ms as RFC 3339 UTC with milliseconds,
 * "2021-08-23T07:15:22.000Z". \p out must hold AB_TIME_RFC3339_LEN bytes.
 * Values outside years 0000..9999 are clamped to that range.
 * @returns the length written (24), without the NUL.
 */
#define AB_TIME_RFC3339_LEN 32
size_t ab_time_format(int64_t ms, char *out);

/** Current wall-clock time in milliseconds. */
int64_t ab_time_now_ms(void);

/**
 * The monotonic clock (CLOCK_MONOTONIC) in nanoseconds and milliseconds:
 * for timeouts, intervals and durations, which must not jump when the
 * wall clock is set. Its zero is arbitrary.
 */
int64_t ab_time_mono_ns(void);
int64_t ab_time_mono_ms(void);

#endif
