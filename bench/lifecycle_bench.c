/* lifecycle_bench.c - memory per open alert at scale, events/s through open,
 * merge and close, and entries/s rebuilding a store from its changelog. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/benchutil.h"
#include "core/mem.h"
#include "lifecycle/lifecycle.h"
#include "transform/integration.h"

/*
 * HOW IT WORKS
 * The alerts are built in place, shaped exactly like the alertmanager
 * integration's output for a Prometheus alert (7 labels: alertname, env,
 * instance, job, severity, source, team; 3 annotations: description,
 * message, summary; fields alertname, severity, message, source and a
 * start time), alert i differing from the others by its instance. With
 * the alertmanager integration the fingerprint covers the full label set.
 *
 * One round on a fresh store: `open` feeds N firing alerts with distinct
 * fingerprints (N create events), `merge` feeds the same N again with a
 * new value (merged, no event), `merge, 5 partitions` once more the way a
 * consumer of five partitions sees them: alert i belongs to partition
 * i mod 5, each partition's events are in time order, and the partitions
 * take turns in batches of 500 records, so every batch is older than the
 * four before it. `close` feeds N recoveries (N close events). Event
 * times only grow within a partition. The emit callback only counts:
 * serializing events is measured
 * by bench_transform. After `open` the store holds N open alerts, and its
 * memory is read two ways: ab_lifecycle_get_mem() (the store's own
 * accounting: records, hash slots, blob framing, 16 allocator bytes per
 * allocation, apart from label strings) and the growth of the process's
 * resident set.
 *
 * `--restore` instead measures what a member does when it is assigned a
 * partition: a store with change capture opens N alerts (default 100000),
 * its changes are drained into an in-memory changelog (one entry per
 * alert, as compaction leaves it), and each round rebuilds a fresh store
 * from those entries with ab_lifecycle_entry_apply(). No Kafka: this is
 * the store's share of a restore.
 */

#define MAX_REPEAT 16
#define PHASES     4
#define PARTITIONS 5
#define BATCH      500

enum phase { PH_OPEN = 0, PH_MERGE, PH_INTERLEAVED, PH_CLOSE };

static const char *const phase_names[PHASES] = {
    "open", "merge", "merge, 5 partitions interleaved", "close"};

struct opts {
        uint64_t alerts;
        uint64_t repeat;
        int smoke;
        int restore;
};

/* One alert under construction; the strings point into `text`. */
struct maker {
        struct ab_alert a;
        struct ab_kv labels[7];
        struct ab_kv ann[3];
        char instance[32];
        char desc[64];
};

static struct ab_str s(const char *c)
{
        return ab_str_c(c);
}

static void make_alert(struct maker *m, uint64_t i, int round, bool resolved)
{
        int n = snprintf(m->instance, sizeof(m->instance), "10.%u.%u.%u:9100",
                         (unsigned)(i >> 16) & 255u, (unsigned)(i >> 8) & 255u,
                         (unsigned)i & 255u);
        int d = snprintf(m->desc, sizeof(m->desc),
                         "checkout returns %d.%d%% errors over 5m", 5 + round,
                         (int)(i % 10));
        struct ab_str inst = ab_str_make(m->instance, (size_t)n);
        struct ab_str desc = ab_str_make(m->desc, (size_t)d);

        memset(&m->a, 0, sizeof(m->a));
        m->labels[0] = (struct ab_kv){s("alertname"), s("HighErrorRate")};
        m->labels[1] = (struct ab_kv){s("env"), s("production")};
        m->labels[2] = (struct ab_kv){s("instance"), inst};
        m->labels[3] = (struct ab_kv){s("job"), s("checkout")};
        m->labels[4] = (struct ab_kv){s("severity"), s("P1")};
        m->labels[5] = (struct ab_kv){s("source"), inst};
        m->labels[6] = (struct ab_kv){s("team"), s("payments")};
        m->ann[0]    = (struct ab_kv){s("description"), desc};
        m->ann[1] =
            (struct ab_kv){s("message"), s("5xx ratio above 5% on checkout")};
        m->ann[2] =
            (struct ab_kv){s("summary"), s("5xx ratio above 5% on checkout")};
        m->a.status   = resolved ? AB_ALERT_RESOLVED : AB_ALERT_FIRING;
        m->a.severity = 1;
        m->a.field[AB_FIELD_ALERTNAME] = m->labels[0].val;
        m->a.field[AB_FIELD_SEVERITY]  = m->labels[4].val;
        m->a.field[AB_FIELD_SOURCE]    = inst;
        m->a.field[AB_FIELD_MESSAGE]   = m->ann[1].val;
        m->a.starts_ms                 = 1795316400000LL - (int64_t)i;
        m->a.has_starts                = true;
        m->a.labels                    = m->labels;
        m->a.nlabels                   = 7;
        m->a.annotations               = m->ann;
        m->a.nannotations              = 3;
        if (resolved) {
                m->a.ends_ms  = 1795316400000LL + 600000;
                m->a.has_ends = true;
        }
}

static ab_err_t count_event(void *opaque, const struct ab_event *ev)
{
        uint64_t *n = opaque;

        (void)ev;
        (*n)++;
        return AB_OK;
}

struct phase_result {
        double eps[MAX_REPEAT];    /* alerts per second, wall */
        double ns_cpu[MAX_REPEAT]; /* CPU ns per alert */
        uint64_t events;
};

/* Feed alert \p i; its event time follows i, so time grows within a
 * partition. */
static int feed(struct ab_lifecycle *lc, const struct ab_integration *in,
                uint64_t i, int phase, int64_t base, uint64_t *events)
{
        struct maker m;
        struct ab_error err;

        make_alert(&m, i, phase, phase == PH_CLOSE);
        if (ab_lifecycle_process(lc, in, &m.a, base + (int64_t)i, count_event,
                                 events, &err)) {
                fprintf(stderr, "bench_lifecycle: %s\n", err.text);
                return -1;
        }
        return 0;
}

static int run_phase(struct ab_lifecycle *lc, const struct ab_integration *in,
                     uint64_t n, int phase, int64_t *clock_ms,
                     struct phase_result *r, size_t round)
{
        uint64_t events = 0, per = (n + PARTITIONS - 1) / PARTITIONS;
        int64_t base = *clock_ms;
        int64_t wall0, cpu0, wall, cpu;

        wall0 = ab_bench_wall_ns();
        cpu0  = ab_bench_cpu_ns();
        if (phase != PH_INTERLEAVED) {
                for (uint64_t i = 0; i < n; i++)
                        if (feed(lc, in, i, phase, base, &events))
                                return -1;
        } else {
                /* Partition p holds alerts p, p + 5, p + 10, ...; each turn
                 * reads the next BATCH records of one partition. */
                for (uint64_t b = 0; b * BATCH < per; b++)
                        for (uint64_t p = 0; p < PARTITIONS; p++)
                                for (uint64_t j = 0; j < BATCH; j++) {
                                        uint64_t i =
                                            (b * BATCH + j) * PARTITIONS + p;

                                        if (i >= n)
                                                break;
                                        if (feed(lc, in, i, phase, base,
                                                 &events))
                                                return -1;
                                }
        }
        *clock_ms        = base + (int64_t)n;
        wall             = ab_bench_wall_ns() - wall0;
        cpu              = ab_bench_cpu_ns() - cpu0;
        r->eps[round]    = (double)n / ((double)wall / 1e9);
        r->ns_cpu[round] = (double)cpu / (double)n;
        r->events        = events;
        return 0;
}

static void usage(FILE *f)
{
        fprintf(f, "usage: bench_lifecycle [--smoke] [--restore] [--alerts N] "
                   "[--repeat R]\n\n"
                   "Memory per open alert with N open alerts (default "
                   "1000000) and alerts/s\n"
                   "through open, merge and close; with --restore, "
                   "changelog entries/s rebuilding\n"
                   "a store of N open alerts (default 100000). Prints "
                   "Markdown; see\ndocs/performance.md.\n");
}

static int parse_args(int argc, char **argv, struct opts *o)
{
        static const struct option longopts[] = {
            {"smoke", no_argument, NULL, 'S'},
            {"restore", no_argument, NULL, 'R'},
            {"alerts", required_argument, NULL, 'n'},
            {"repeat", required_argument, NULL, 'r'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0}};
        int c;

        uint64_t alerts = 0;

        o->repeat  = 3;
        o->smoke   = 0;
        o->restore = 0;
        while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
                switch (c) {
                case 'S':
                        o->smoke = 1;
                        break;
                case 'R':
                        o->restore = 1;
                        break;
                case 'n':
                        if (ab_bench_parse_u64(optarg, &alerts) || !alerts ||
                            alerts > 16777215)
                                return -1;
                        break;
                case 'r':
                        if (ab_bench_parse_u64(optarg, &o->repeat) ||
                            !o->repeat || o->repeat > MAX_REPEAT)
                                return -1;
                        break;
                case 'h':
                        usage(stdout);
                        exit(0);
                default:
                        return -1;
                }
        }
        o->alerts = alerts ? alerts : o->restore ? 100000 : 1000000;
        if (o->smoke) {
                o->alerts = 20000;
                o->repeat = 1;
        }
        return optind == argc ? 0 : -1;
}

static void print_mem(const char *when, const struct ab_lifecycle_mem *mem,
                      long rss_kb)
{
        double n = mem->open ? (double)mem->open : 1;

        printf("| %s | %zu | %.1f | %.1f | %.0f | %.1f | %.1f |\n", when,
               mem->open, (double)mem->overhead / n, (double)mem->strings / n,
               (double)mem->shared, (double)rss_kb * 1024 / n,
               ((double)rss_kb * 1024 - (double)mem->strings) / n);
}

/* A changelog in memory: entries back to back in `data`, entry i of
 * len[i] bytes with key fp[i]. */
struct changelog {
        struct ab_buf data;
        unsigned char (*fp)[AB_LIFECYCLE_FP_LEN];
        size_t *len;
        size_t n, cap;
};

static ab_err_t log_change(void *opaque,
                           const unsigned char fp[AB_LIFECYCLE_FP_LEN],
                           const void *entry, size_t len)
{
        struct changelog *l = opaque;

        if (l->n == l->cap)
                return AB_ERR_INTERNAL; /* sized for one entry per alert */
        memcpy(l->fp[l->n], fp, AB_LIFECYCLE_FP_LEN);
        l->len[l->n++] = len;
        return ab_buf_append(&l->data, entry, len);
}

static const struct ab_integration *g_in;

static const struct ab_integration *resolve(void *ctx, const char *name)
{
        (void)ctx;
        return strcmp(name, "alertmanager") ? NULL : g_in;
}

/* The --restore measurement; @returns 0 or 1. */
static int run_restore(const struct opts *o, const struct ab_integration *in)
{
        struct ab_lifecycle_config conf = {0, false, true, 0, 0};
        struct ab_lifecycle *lc = ab_lifecycle_new(&conf), *re = NULL;
        double eps[MAX_REPEAT], ns[MAX_REPEAT], lo, hi;
        struct changelog l;
        struct phase_result pr;
        struct ab_error err;
        int64_t clock_ms = 1795316400000LL, wall0, cpu0, drain_ns;
        int rc           = 1;

        memset(&l, 0, sizeof(l));
        ab_buf_init(&l.data, 0);
        g_in  = in;
        l.cap = o->alerts;
        l.fp  = ab_malloc(l.cap * sizeof(*l.fp));
        l.len = ab_malloc(l.cap * sizeof(*l.len));
        if (!lc || !l.fp || !l.len ||
            run_phase(lc, in, o->alerts, PH_OPEN, &clock_ms, &pr, 0))
                goto out;
        wall0 = ab_bench_wall_ns();
        if (ab_lifecycle_drain_changes(lc, log_change, &l) || l.n != o->alerts)
                goto out;
        drain_ns = ab_bench_wall_ns() - wall0;
        for (uint64_t round = 0; round < o->repeat; round++) {
                size_t off = 0;

                ab_lifecycle_destroy(re);
                re = ab_lifecycle_new(NULL);
                if (!re)
                        goto out;
                wall0 = ab_bench_wall_ns();
                cpu0  = ab_bench_cpu_ns();
                for (size_t i = 0; i < l.n; i++) {
                        if (ab_lifecycle_entry_apply(
                                re, l.fp[i], l.data.data + off, l.len[i],
                                resolve, NULL, &err)) {
                                fprintf(stderr, "bench_lifecycle: %s\n",
                                        err.text);
                                goto out;
                        }
                        off += l.len[i];
                }
                eps[round] =
                    (double)l.n / ((double)(ab_bench_wall_ns() - wall0) / 1e9);
                ns[round] = (double)(ab_bench_cpu_ns() - cpu0) / (double)l.n;
                if (ab_lifecycle_open_count(re) != o->alerts)
                        goto out;
        }
        ab_bench_range(eps, o->repeat, &lo, &hi);
        printf("### Rebuilding a store from its changelog (median of %llu "
               "rounds)\n\n",
               (unsigned long long)o->repeat);
        printf("| open alerts | changelog bytes | bytes/entry | drain "
               "entries/s | apply entries/s (wall, median) | range | "
               "ns/entry (CPU, median) | time to rebuild |\n"
               "|---|---|---|---|---|---|---|---|\n");
        printf("| %zu | %zu | %.1f | %.0f | %.0f | %.0f-%.0f | %.0f | "
               "%.3f s |\n",
               l.n, l.data.len, (double)l.data.len / (double)l.n,
               (double)l.n / ((double)drain_ns / 1e9),
               ab_bench_median(eps, o->repeat), lo, hi,
               ab_bench_median(ns, o->repeat),
               (double)l.n / ab_bench_median(eps, o->repeat));
        printf("\npeak RSS: %ld KiB\n", ab_bench_peak_rss_kb());
        rc = 0;
out:
        if (rc)
                fprintf(stderr, "bench_lifecycle: restore failed\n");
        ab_lifecycle_destroy(lc);
        ab_lifecycle_destroy(re);
        ab_buf_fini(&l.data);
        ab_free(l.fp);
        ab_free(l.len);
        return rc;
}

int main(int argc, char **argv)
{
        struct phase_result pr[PHASES];
        struct ab_integration *in = NULL;
        struct ab_lifecycle *lc   = NULL;
        struct ab_lifecycle_config conf;
        struct ab_lifecycle_mem mem_open, mem_merged;
        struct ab_lifecycle_stats st;
        struct ab_error err;
        long rss0 = 0, rss_open = 0, rss_merged = 0;
        int64_t clock_ms = 1795316400000LL;
        struct opts o;
        int rc = 1;

        if (parse_args(argc, argv, &o)) {
                usage(stderr);
                return 2;
        }
        memset(pr, 0, sizeof(pr));
        memset(&conf, 0, sizeof(conf));
        ab_error_clear(&err);
        if (ab_integration_load("alertmanager", &in, &err)) {
                fprintf(stderr, "bench_lifecycle: %s\n", err.text);
                return 1;
        }
        if (o.restore) {
                rc = run_restore(&o, in);
                ab_integration_destroy(in);
                return rc;
        }
        for (uint64_t round = 0; round < o.repeat; round++) {
                lc = ab_lifecycle_new(&conf);
                if (!lc)
                        goto out;
                if (!round)
                        rss0 = ab_bench_rss_kb();
                for (int p = 0; p < PHASES; p++) {
                        if (run_phase(lc, in, o.alerts, p, &clock_ms, &pr[p],
                                      round))
                                goto out;
                        if (round)
                                continue;
                        if (p == PH_OPEN) {
                                ab_lifecycle_get_mem(lc, &mem_open);
                                rss_open = ab_bench_rss_kb() - rss0;
                        } else if (p == PH_INTERLEAVED) {
                                ab_lifecycle_get_mem(lc, &mem_merged);
                                rss_merged = ab_bench_rss_kb() - rss0;
                        }
                }
                ab_lifecycle_get_stats(lc, &st);
                if (st.opened != o.alerts || st.merged != 2 * o.alerts ||
                    st.closed_recovered != o.alerts ||
                    ab_lifecycle_open_count(lc) != 0) {
                        fprintf(stderr,
                                "bench_lifecycle: unexpected outcome: "
                                "opened %llu merged %llu closed %llu\n",
                                (unsigned long long)st.opened,
                                (unsigned long long)st.merged,
                                (unsigned long long)st.closed_recovered);
                        goto out;
                }
                ab_lifecycle_destroy(lc);
                lc = NULL;
        }
        printf("### Memory with %llu open alerts\n\n",
               (unsigned long long)o.alerts);
        printf("| state | open alerts | bytes/alert beyond strings "
               "(ab_lifecycle_get_mem) | string bytes/alert | shared bytes | "
               "RSS growth bytes/alert | RSS growth beyond strings "
               "bytes/alert |\n|---|---|---|---|---|---|---|\n");
        print_mem("after open", &mem_open, rss_open);
        print_mem("after the merges", &mem_merged, rss_merged);
        printf("\n### Throughput (median of %llu rounds)\n\n",
               (unsigned long long)o.repeat);
        printf("| phase | alerts | events emitted | alerts/s (wall, median) | "
               "range | ns/alert (CPU, median) |\n|---|---|---|---|---|---|\n");
        for (int p = 0; p < PHASES; p++) {
                double lo, hi, eps, ns;

                ab_bench_range(pr[p].eps, o.repeat, &lo, &hi);
                eps = ab_bench_median(pr[p].eps, o.repeat);
                ns  = ab_bench_median(pr[p].ns_cpu, o.repeat);
                printf("| %s | %llu | %llu | %.0f | %.0f-%.0f | %.0f |\n",
                       phase_names[p], (unsigned long long)o.alerts,
                       (unsigned long long)pr[p].events, eps, lo, hi, ns);
        }
        printf("\npeak RSS: %ld KiB\n", ab_bench_peak_rss_kb());
        rc = 0;
out:
        if (rc)
                fprintf(stderr, "bench_lifecycle: failed\n");
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(in);
        return rc;
}
