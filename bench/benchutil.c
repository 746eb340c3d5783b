/* benchutil.c - clocks, memory figures and medians shared by the benchmark
 * programs. */
#include "bench/benchutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static int64_t clock_ns(clockid_t id)
{
        struct timespec ts;

        clock_gettime(id, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t ab_bench_wall_ns(void)
{
        return clock_ns(CLOCK_MONOTONIC);
}

int64_t ab_bench_cpu_ns(void)
{
        return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

long ab_bench_peak_rss_kb(void)
{
        struct rusage ru;

        if (getrusage(RUSAGE_SELF, &ru))
                return 0;
        return ru.ru_maxrss;
}

long ab_bench_rss_kb(void)
{
        FILE *f   = fopen("/proc/self/statm", "r");
        long size = 0, resident = 0;

        if (!f)
                return 0;
        if (fscanf(f, "%ld %ld", &size, &resident) != 2)
                resident = 0;
        fclose(f);
        return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

double ab_bench_median(double *v, size_t n)
{
        if (!n)
                return 0;
        qsort(v, n, sizeof(*v), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void ab_bench_range(const double *v, size_t n, double *lo, double *hi)
{
        *lo = *hi = n ? v[0] : 0;
        for (size_t i = 1; i < n; i++) {
                if (v[i] < *lo)
                        *lo = v[i];
                if (v[i] > *hi)
                        *hi = v[i];
        }
}

int ab_bench_parse_u64(const char *s, uint64_t *out)
{
        char *end;
        unsigned long long v;

        errno = 0;
        v     = strtoull(s, &end, 10);
        if (errno || end == s || *end || *s == '-')
                return -1;
        *out = v;
        return 0;
}

int ab_bench_parse_double(const char *s, double *out)
{
        char *end;
        double v;

        errno = 0;
        v     = strtod(s, &end);
        if (errno || end == s || *end)
                return -1;
        *out = v;
        return 0;
}
