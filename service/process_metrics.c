/* process_metrics.c - build info and the process_* metrics from /proc. */
#include "service/process_metrics.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "service/build_info.h"

/* The fields of /proc/self/stat this needs, in seconds and bytes. */
struct proc_stat {
        double cpu_seconds;
        double start_seconds; /* since boot */
        unsigned long long vsize, rss;
};

/* Fields after the `(comm)` one, which may hold spaces and parentheses:
 * utime is field 14, stime 15, starttime 22, vsize 23, rss 24. */
static int read_stat(struct proc_stat *st)
{
        char buf[1024];
        unsigned long long utime, stime, start;
        long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
        FILE *f  = fopen("/proc/self/stat", "r");
        size_t n = 0;
        char *p;

        if (f) {
                n = fread(buf, 1, sizeof(buf) - 1, f);
                fclose(f);
        }
        buf[n] = '\0';
        p      = strrchr(buf, ')');
        if (!p || ticks <= 0 || page <= 0 ||
            sscanf(p + 1,
                   " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
                   "%*d %*d %*d %*d %*d %*d %llu %llu %llu",
                   &utime, &stime, &start, &st->vsize, &st->rss) != 5)
                return -1;
        st->cpu_seconds   = (double)(utime + stime) / (double)ticks;
        st->start_seconds = (double)start / (double)ticks;
        st->rss *= (unsigned long long)page;
        return 0;
}

/* The boot time in seconds since the epoch (`btime` of /proc/stat). */
static long long boot_time(void)
{
        char line[256];
        long long btime = -1;
        FILE *f         = fopen("/proc/stat", "r");

        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "btime %lld", &btime) == 1)
                        break;
        if (f)
                fclose(f);
        return btime;
}

static long open_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *e;
        long n = 0;

        if (!d)
                return -1;
        while ((e = readdir(d)))
                if (e->d_name[0] != '.')
                        n++;
        closedir(d);
        return n - 1; /* the directory's own descriptor */
}

static ab_err_t family(struct ab_buf *out, const char *name, const char *type,
                       const char *help, const char *value)
{
        return ab_buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n%s %s\n", name,
                              help, name, type, name, value);
}

static ab_err_t collect(void *arg, struct ab_buf *out)
{
        struct proc_stat st;
        struct rlimit rl;
        long long btime = boot_time();
        long fds        = open_fds();
        char v[48];
        ab_err_t rc = AB_OK;

        (void)arg;
        if (read_stat(&st) == 0) {
                snprintf(v, sizeof(v), "%.3f", st.cpu_seconds);
                rc = family(out, "process_cpu_seconds_total", "counter",
                            "Total user and system CPU time spent in seconds.",
                            v);
                snprintf(v, sizeof(v), "%llu", st.rss);
                if (!rc)
                        rc = family(out, "process_resident_memory_bytes",
                                    "gauge", "Resident memory size in bytes.",
                                    v);
                snprintf(v, sizeof(v), "%llu", st.vsize);
                if (!rc)
                        rc =
                            family(out, "process_virtual_memory_bytes", "gauge",
                                   "Virtual memory size in bytes.", v);
                snprintf(v, sizeof(v), "%.2f",
                         (double)btime + st.start_seconds);
                if (!rc && btime >= 0)
                        rc = family(out, "process_start_time_seconds", "gauge",
                                    "Start time of the process since unix "
                                    "epoch in seconds.",
                                    v);
        }
        snprintf(v, sizeof(v), "%ld", fds);
        if (!rc && fds >= 0)
                rc = family(out, "process_open_fds", "gauge",
                            "Number of open file descriptors.", v);
        if (!rc && getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
            rl.rlim_cur != RLIM_INFINITY) {
                snprintf(v, sizeof(v), "%llu", (unsigned long long)rl.rlim_cur);
                rc = family(out, "process_max_fds", "gauge",
                            "Maximum number of open file descriptors.", v);
        }
        return rc;
}

ab_err_t ab_process_metrics_register(struct ab_metrics *reg,
                                     struct ab_error *err)
{
        static const char *const labels[] = {"version", "commit", NULL};
        const struct ab_metrics_desc desc = {
            AB_METRICS_GAUGE,
            "build_info",
            "Always 1; its labels name the version and the git commit the "
            "binary was built from.",
            labels,
            NULL,
            0};
        const char *const values[] = {ab_build_version, ab_build_commit};
        struct ab_metrics_family *fam;
        struct ab_metric *one;
        ab_err_t rc;

        rc = ab_metrics_register(reg, &desc, &fam, err);
        if (!rc)
                rc = ab_metrics_series(fam, values, &one, err);
        if (rc)
                return rc;
        ab_metrics_set(one, 1);
        return ab_metrics_add_collector(reg, collect, NULL, err);
}
