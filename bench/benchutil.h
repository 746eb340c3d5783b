/* benchutil.h - clocks, memory figures and medians shared by the benchmark
 * programs. */
#ifndef AB_BENCH_UTIL_H
#define AB_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/** Monotonic wall clock in nanoseconds. */
int64_t ab_bench_wall_ns(void);

/** CPU time of the calling thread in nanoseconds: unlike the wall clock,
 *  it does not count time the thread waited for a core. */
int64_t ab_bench_cpu_ns(void);

/** Peak resident set size of this process so far, in KiB. */
long ab_bench_peak_rss_kb(void);

/** Current resident set size of this process in KiB (0 if unknown). */
long ab_bench_rss_kb(void);

/** Median of \p n values (\p v is reordered). 0 when \p n is 0. */
double ab_bench_median(double *v, size_t n);

/** Smallest and largest of \p n values. */
void ab_bench_range(const double *v, size_t n, double *lo, double *hi);

/** Parse a decimal into \p out. @returns 0, or -1 if \p s is not one. */
int ab_bench_parse_u64(const char *s, uint64_t *out);
int ab_bench_parse_double(const char *s, double *out);

#endif
