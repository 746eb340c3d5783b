/* transform_bench.c - single-core throughput of payload -> serialized
 * CloudEvents, per integration and mixed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/benchconf.h"
#include "bench/benchutil.h"
#include "bench/corpus.h"
#include "core/mem.h"
#include "pipeline/processor.h"
#include "transform/event.h"
#include "transform/transform.h"

/*
 * HOW IT WORKS
 * A workload is a list of payloads (the reference payload alone, one
 * corpus shape, or the mixed corpus), cycled through in order. Each row
 * runs one mode over one workload on this thread:
 *
 *   transform  ab_transform_run(): decode, map, labels sorted; no output.
 *   stateless  transform, then the event ids' hash over the payload
 *              (once per payload, ab_event_idbase_init(), as the
 *              processor's stateless mode does), ab_event_from_alert_base()
 *              and ab_event_write() for every alert: every alert
 *              serialized.
 *   processor  ab_processor_handle() with the pipeline's own code:
 *              integration binding, transform, lifecycle (SHA-256
 *              fingerprint, open / merge / close, alert and event ids),
 *              notification policy, ab_event_write(). Only Kafka is
 *              missing. Merged duplicates produce no event, so events per
 *              payload depend on the corpus. Each row starts with a fresh
 *              processor, so rows share no open alerts.
 *
 * Before measuring, one pass over the workload (at least 2000 payloads)
 * warms caches and lets every reused buffer reach its size; the measured
 * loop then counts heap allocations through ab_mem_allocations(). Each
 * measurement runs for --seconds (or --iterations payloads); rows report
 * the median of --repeat measurements of wall-clock throughput and of
 * thread CPU time per payload (which excludes time spent waiting for a
 * core on a busy machine).
 */

#define WARMUP_MIN 2000
#define MAX_REPEAT 64

enum mode { MODE_TRANSFORM = 0, MODE_STATELESS, MODE_PROCESSOR, MODE__COUNT };

static const char *const mode_names[MODE__COUNT] = {"transform", "stateless",
                                                    "processor"};

struct opts {
        double seconds;
        uint64_t repeat;
        uint64_t iterations; /* 0: run for `seconds` */
        uint64_t records;
        struct ab_bench_corpus_conf corpus;
        const char *only;
        unsigned modes;
        const char *source_dir;
        int smoke;
};

/* One payload of a workload. */
struct item {
        const char *data;
        size_t len;
        enum ab_bench_kind kind;
};

struct workload {
        char name[64];
        struct item *items;
        size_t n;
        size_t bytes;
        double alerts_per; /* alerts per payload, rejected ones count 0 */
        struct ab_bench_corpus corpus; /* owns the bytes, when generated */
};

struct bench {
        const struct opts *o;
        struct ab_transform *tf;
        struct ab_integration *integ[AB_BENCH__COUNT];
        struct ab_pipeline_config *cfg;
        struct ab_processor *proc;
        char *topic[AB_BENCH__COUNT];
        struct ab_buf out;
        int64_t clock_ms; /* record timestamps of the processor mode */
        int64_t offset;   /* record offsets of the processor mode */
        /* Per measurement. */
        uint64_t alerts, events, out_bytes;
};

struct result {
        double pps[MAX_REPEAT];
        double ns_cpu[MAX_REPEAT];
        size_t n;
        double allocs_per, events_per, out_per_event;
};

static void usage(FILE *f)
{
        fprintf(f,
                "usage: bench_transform [--smoke] [--seconds S] [--repeat R]\n"
                "       [--iterations N] [--records N] [--keys K]\n"
                "       [--recovery-share F] [--malformed-share F] "
                "[--seed S]\n"
                "       [--only WORKLOAD] [--mode transform|stateless|"
                "processor]\n"
                "       [--source DIR]\n\n"
                "Single-core throughput from payload bytes to serialized "
                "CloudEvents for the\n"
                "reference Alertmanager payload, each corpus shape and the "
                "mixed corpus.\n"
                "Prints a Markdown table; see docs/performance.md.\n");
}

/* ---------------------------------------------------------------- setup */

static int bench_init(struct bench *b, const struct opts *o)
{
        struct ab_bench_conf bc = {
            "127.0.0.1:9", "bench",       "bench.", "bench.events",
            "bench.dlq",   o->source_dir, -1,       NULL,
            NULL,          NULL,          0};
        struct ab_buf yaml;
        struct ab_error err;
        char line[700];
        int rc = -1;

        memset(b, 0, sizeof(*b));
        b->o        = o;
        b->clock_ms = 1795316400000LL;
        ab_buf_init(&b->out, 0);
        ab_buf_init(&yaml, 0);
        ab_error_clear(&err);
        b->tf = ab_transform_new();
        if (!b->tf)
                goto out;
        if (ab_bench_integrations_load(o->source_dir, b->integ, &err)) {
                fprintf(stderr, "bench_transform: %s\n",
                        ab_error_format(&err, line, sizeof(line)));
                goto out;
        }
        for (int k = 0; k < AB_BENCH__COUNT; k++) {
                struct ab_buf t;

                ab_buf_init(&t, 0);
                if (ab_bench_topic(&bc, k, &t))
                        goto out;
                b->topic[k] = ab_buf_take(&t, NULL);
        }
        if (ab_bench_config_yaml(&bc, &yaml) ||
            ab_pipeline_config_load_string(yaml.data, yaml.len, "bench", NULL,
                                           &b->cfg, &err) ||
            ab_processor_new(b->cfg, NULL, &b->proc, &err)) {
                fprintf(stderr, "bench_transform: pipeline config: %s\n",
                        ab_error_format(&err, line, sizeof(line)));
                goto out;
        }
        rc = 0;
out:
        ab_buf_fini(&yaml);
        return rc;
}

static void bench_fini(struct bench *b)
{
        ab_processor_destroy(b->proc);
        ab_pipeline_config_destroy(b->cfg);
        ab_transform_destroy(b->tf);
        ab_bench_integrations_free(b->integ);
        for (int k = 0; k < AB_BENCH__COUNT; k++)
                ab_free(b->topic[k]);
        ab_buf_fini(&b->out);
}

static int workload_corpus(struct workload *w, const struct opts *o,
                           const char *name, unsigned kinds)
{
        struct ab_bench_corpus_conf cc = o->corpus;

        memset(w, 0, sizeof(*w));
        snprintf(w->name, sizeof(w->name), "%s", name);
        cc.count = o->records;
        cc.kinds = kinds;
        if (ab_bench_corpus_generate(&cc, &w->corpus))
                return -1;
        w->items = ab_calloc(w->corpus.n ? w->corpus.n : 1, sizeof(*w->items));
        if (!w->items)
                return -1;
        for (size_t i = 0; i < w->corpus.n; i++) {
                w->items[i].data = ab_bench_record_data(&w->corpus, i);
                w->items[i].len  = w->corpus.recs[i].len;
                w->items[i].kind = w->corpus.recs[i].kind;
                w->bytes += w->items[i].len;
        }
        w->n = w->corpus.n;
        return 0;
}

/* The reference payload alone (\p cycle 0), or alternating with its
 * resolved twin (\p cycle 1), so that in the processor every payload
 * opens or closes both alerts and every alert is serialized. */
static int workload_reference(struct workload *w, int cycle)
{
        memset(w, 0, sizeof(*w));
        w->n     = cycle ? 2 : 1;
        w->items = ab_calloc(w->n, sizeof(*w->items));
        if (!w->items)
                return -1;
        for (size_t i = 0; i < w->n; i++) {
                w->items[i].data = ab_bench_reference_payload(i == 1);
                w->items[i].len  = strlen(w->items[i].data);
                w->items[i].kind = AB_BENCH_ALERTMANAGER;
                w->bytes += w->items[i].len;
        }
        snprintf(w->name, sizeof(w->name), "reference%s (%zu B, 2 alerts)",
                 cycle ? " open/close" : "", w->items[0].len);
        return 0;
}

static void workload_fini(struct workload *w)
{
        ab_bench_corpus_fini(&w->corpus);
        ab_free(w->items);
        memset(w, 0, sizeof(*w));
}

/* ---------------------------------------------------------------- modes */

static ab_err_t on_output(void *arg, const struct ab_output *o)
{
        struct bench *b = arg;

        /* Dead letters are the input's own bytes: nothing to count. */
        if (o->kind == AB_OUTPUT_EVENT) {
                b->events++;
                b->out_bytes += o->value.len;
        }
        return AB_OK;
}

/* Process one payload. @returns 0, or -1 on an unexpected failure. */
static int run_one(struct bench *b, enum mode m, const struct item *it)
{
        const struct ab_alert *alerts;
        struct ab_event_idbase base;
        const char *name;
        size_t nalerts;
        struct ab_input in;
        struct ab_event ev;
        ab_err_t rc;

        switch (m) {
        case MODE_TRANSFORM:
        case MODE_STATELESS:
                rc = ab_transform_run(b->tf, b->integ[it->kind], it->data,
                                      it->len, AB_CONTENT_AUTO, &alerts,
                                      &nalerts, NULL);
                if (rc == AB_ERR_NOMEM)
                        return -1;
                if (rc)
                        return 0; /* a malformed record: rejected */
                b->alerts += nalerts;
                if (m == MODE_TRANSFORM)
                        return 0;
                name = ab_integration_name(b->integ[it->kind]);
                ab_event_idbase_init(&base, name, it->data, it->len);
                for (size_t i = 0; i < nalerts; i++) {
                        ab_event_from_alert_base(&ev, &alerts[i], name, &base,
                                                 b->clock_ms);
                        ab_buf_reset(&b->out);
                        if (ab_event_write(&b->out, &ev))
                                return -1;
                        b->events++;
                        b->out_bytes += b->out.len;
                }
                return 0;
        case MODE_PROCESSOR:
                memset(&in, 0, sizeof(in));
                in.topic        = b->topic[it->kind];
                in.offset       = b->offset++;
                in.timestamp_ms = b->clock_ms++;
                in.value        = ab_str_make(it->data, it->len);
                return ab_processor_handle(b->proc, &in, on_output, b) ? -1 : 0;
        default:
                return -1;
        }
}

/* Run \p m over \p w for the configured time or count; add to \p r. */
static int measure(struct bench *b, enum mode m, const struct workload *w,
                   struct result *r)
{
        const struct opts *o = b->o;
        uint64_t count       = 0, allocs;
        int64_t wall0, cpu0, wall_end, wall, cpu;
        size_t i = 0;

        b->alerts = b->events = b->out_bytes = 0;
        allocs                               = ab_mem_allocations();
        wall0                                = ab_bench_wall_ns();
        cpu0                                 = ab_bench_cpu_ns();
        wall_end = wall0 + (int64_t)(o->seconds * 1e9);
        for (;;) {
                for (int k = 0; k < 64; k++) {
                        if (run_one(b, m, &w->items[i]))
                                return -1;
                        if (++i == w->n)
                                i = 0;
                        count++;
                        if (o->iterations && count >= o->iterations)
                                break;
                }
                if (o->iterations ? count >= o->iterations
                                  : ab_bench_wall_ns() >= wall_end)
                        break;
        }
        wall   = ab_bench_wall_ns() - wall0;
        cpu    = ab_bench_cpu_ns() - cpu0;
        allocs = ab_mem_allocations() - allocs;
        if (r->n < MAX_REPEAT) {
                r->pps[r->n]    = (double)count / ((double)wall / 1e9);
                r->ns_cpu[r->n] = (double)cpu / (double)count;
                r->n++;
        }
        /* The counts are the same every round; keep the last. */
        r->allocs_per = (double)allocs / (double)count;
        r->events_per = (double)b->events / (double)count;
        r->out_per_event =
            b->events ? (double)b->out_bytes / (double)b->events : 0;
        return 0;
}

static int run_row(struct bench *b, enum mode m, const struct workload *w)
{
        const struct opts *o = b->o;
        size_t warm          = w->n > WARMUP_MIN ? w->n : WARMUP_MIN;
        double avg           = (double)w->bytes / (double)w->n;
        struct result r;
        double pps, ns, lo, hi;

        memset(&r, 0, sizeof(r));
        if (m == MODE_PROCESSOR) {
                /* A fresh lifecycle per row: rows do not share alerts. */
                ab_processor_destroy(b->proc);
                b->proc = NULL;
                if (ab_processor_new(b->cfg, NULL, &b->proc, NULL))
                        return -1;
        }
        for (size_t i = 0; i < warm; i++)
                if (run_one(b, m, &w->items[i % w->n]))
                        return -1;
        for (uint64_t k = 0; k < o->repeat; k++)
                if (measure(b, m, w, &r))
                        return -1;
        ab_bench_range(r.pps, r.n, &lo, &hi);
        pps = ab_bench_median(r.pps, r.n);
        ns  = ab_bench_median(r.ns_cpu, r.n);
        printf("| %s | %s | %.0f | %.2f | %.2f | %.0f | %.0f-%.0f | %.1f | "
               "%.0f | %.0f | %.3f | %.0f |\n",
               w->name, mode_names[m], avg, w->alerts_per, r.events_per, pps,
               lo, hi, pps * avg / 1e6, ns, 1e9 / ns, r.allocs_per,
               r.out_per_event);
        fflush(stdout);
        return 0;
}

/* --only names one workload exactly: "reference", "reference open/close",
 * a shape, or "mixed". */
static int wanted(const struct opts *o, const char *name)
{
        return !o->only || !strcmp(name, o->only);
}

/* Alerts per payload of \p w, by one transform pass. */
static int count_alerts(struct bench *b, struct workload *w)
{
        b->alerts = 0;
        for (size_t i = 0; i < w->n; i++)
                if (run_one(b, MODE_TRANSFORM, &w->items[i]))
                        return -1;
        w->alerts_per = (double)b->alerts / (double)w->n;
        return 0;
}

static int run_workload(struct bench *b, struct workload *w)
{
        int rc = count_alerts(b, w);

        if (!rc && w->corpus.n &&
            ab_bench_corpus_verify(&w->corpus, b->integ, b->tf, stderr))
                rc = -1;
        for (int m = 0; !rc && m < MODE__COUNT; m++)
                if (b->o->modes & (1u << m))
                        rc = run_row(b, (enum mode)m, w);
        workload_fini(w);
        return rc;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
        static const struct option longopts[] = {
            {"smoke", no_argument, NULL, 'S'},
            {"seconds", required_argument, NULL, 't'},
            {"repeat", required_argument, NULL, 'r'},
            {"iterations", required_argument, NULL, 'i'},
            {"records", required_argument, NULL, 'n'},
            {"keys", required_argument, NULL, 'k'},
            {"recovery-share", required_argument, NULL, 'R'},
            {"malformed-share", required_argument, NULL, 'M'},
            {"seed", required_argument, NULL, 's'},
            {"only", required_argument, NULL, 'o'},
            {"mode", required_argument, NULL, 'm'},
            {"source", required_argument, NULL, 'd'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0}};
        int c;

        memset(o, 0, sizeof(*o));
        ab_bench_corpus_defaults(&o->corpus);
        o->seconds    = 1.0;
        o->repeat     = 5;
        o->records    = 10000;
        o->modes      = (1u << MODE__COUNT) - 1;
        o->source_dir = AB_SOURCE_DIR;
        while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
                int bad = 0;

                switch (c) {
                case 'S':
                        o->smoke = 1;
                        break;
                case 't':
                        bad = ab_bench_parse_double(optarg, &o->seconds);
                        break;
                case 'r':
                        bad = ab_bench_parse_u64(optarg, &o->repeat);
                        break;
                case 'i':
                        bad = ab_bench_parse_u64(optarg, &o->iterations);
                        break;
                case 'n':
                        bad = ab_bench_parse_u64(optarg, &o->records);
                        break;
                case 'k':
                case 'R':
                case 'M':
                case 's':
                        bad = ab_bench_corpus_option(&o->corpus, c, optarg);
                        break;
                case 'o':
                        o->only = optarg;
                        break;
                case 'm':
                        o->modes = 0;
                        for (int m = 0; m < MODE__COUNT; m++)
                                if (!strcmp(optarg, mode_names[m]))
                                        o->modes = 1u << m;
                        bad = !o->modes;
                        break;
                case 'd':
                        o->source_dir = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        exit(0);
                default:
                        return -1;
                }
                if (bad) {
                        fprintf(stderr, "bench_transform: bad value '%s'\n",
                                optarg);
                        return -1;
                }
        }
        if (optind != argc || !o->repeat || o->repeat > MAX_REPEAT ||
            !o->records)
                return -1;
        if (o->smoke) {
                o->seconds    = 0.02;
                o->repeat     = 1;
                o->records    = 300;
                o->iterations = 0;
        }
        return 0;
}

int main(int argc, char **argv)
{
        struct opts o;
        struct bench b;
        struct workload w;
        int rc = 1;

        if (parse_args(argc, argv, &o)) {
                usage(stderr);
                return 2;
        }
        if (bench_init(&b, &o))
                goto out;
        printf("| workload | mode | bytes/payload | alerts/payload | "
               "events/payload | payloads/s (wall, median) | payloads/s "
               "range | MB/s | ns/payload (CPU, median) | payloads/s (CPU) "
               "| allocs/payload | bytes/event |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (int cycle = 0; cycle < 2; cycle++) {
                if (!wanted(&o, cycle ? "reference open/close" : "reference"))
                        continue;
                if (workload_reference(&w, cycle) || run_workload(&b, &w))
                        goto out;
        }
        for (int k = 0; k < AB_BENCH__COUNT; k++) {
                if (!wanted(&o, ab_bench_kind_name(k)))
                        continue;
                if (workload_corpus(&w, &o, ab_bench_kind_name(k), 1u << k) ||
                    run_workload(&b, &w))
                        goto out;
        }
        if (wanted(&o, "mixed")) {
                if (workload_corpus(&w, &o, "mixed", 0) || run_workload(&b, &w))
                        goto out;
        }
        printf("\npeak RSS: %ld KiB\n", ab_bench_peak_rss_kb());
        rc = 0;
out:
        if (rc)
                fprintf(stderr, "bench_transform: failed\n");
        bench_fini(&b);
        return rc;
}
