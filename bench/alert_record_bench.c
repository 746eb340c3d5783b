/* alert_record_bench.c - single-core cost of encoding and decoding the
 * <group>.alerts records of the reference Alertmanager payload's alerts. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/benchutil.h"
#include "bench/corpus.h"
#include "core/mem.h"
#include "lifecycle/lifecycle.h"
#include "pipeline/alert_record.h"
#include "transform/integration.h"
#include "transform/transform.h"

/*
 * HOW IT WORKS
 * The reference payload (two firing alerts) and its resolved twin are
 * mapped once with the built-in alertmanager integration and
 * fingerprinted: four alerts, what the map stage hands to the encoder.
 * Each row then cycles over the four for --seconds on this thread:
 *   encode          ab_alert_record_encode_alert() into a reused buffer;
 *   decode          ab_alert_record_decode() of the encoded record into a
 *                   reused scratch;
 *   encode+decode   both, what one alert costs crossing <group>.alerts
 *                   (Kafka's produce and consume not included).
 * Rows report the median of --repeat measurements of thread CPU ns per
 * alert, and the heap allocations the measured loops made per alert
 * (none once the buffer and the scratch have grown).
 */

#define NALERTS    4
#define MAX_REPEAT 64

enum mode { MODE_ENCODE = 0, MODE_DECODE, MODE_BOTH, MODE__COUNT };

static const char *const mode_names[MODE__COUNT] = {"encode", "decode",
                                                    "encode+decode"};

struct bench {
        struct ab_alert_record_alert in[NALERTS];
        struct ab_buf rec[NALERTS]; /* each alert's record, for decode */
        struct ab_buf out;
        struct ab_alert_record_scratch scratch;
        uint64_t sink; /* keeps the work observable */
};

static int run_one(struct bench *b, enum mode m, size_t i)
{
        struct ab_alert_record r;
        const struct ab_buf *src = &b->rec[i];

        if (m != MODE_DECODE) {
                ab_buf_reset(&b->out);
                if (ab_alert_record_encode_alert(&b->in[i], &b->out, NULL))
                        return -1;
                src = &b->out;
        }
        if (m != MODE_ENCODE) {
                if (ab_alert_record_decode(src->data, src->len, &b->scratch, &r,
                                           NULL))
                        return -1;
                b->sink += r.alert.alert->nlabels;
        }
        b->sink += src->len;
        return 0;
}

/* Thread CPU ns per alert over \p seconds of mode \p m; allocations per
 * alert into \p allocs. */
static int measure(struct bench *b, enum mode m, double seconds, double *ns_per,
                   double *allocs)
{
        int64_t wall0 = ab_bench_wall_ns(), cpu0 = ab_bench_cpu_ns();
        int64_t limit = (int64_t)(seconds * 1e9);
        uint64_t mem0 = ab_mem_allocations(), n = 0;

        do {
                for (int k = 0; k < 1024; k++, n++)
                        if (run_one(b, m, n % NALERTS))
                                return -1;
        } while (ab_bench_wall_ns() - wall0 < limit);
        *ns_per = (double)(ab_bench_cpu_ns() - cpu0) / (double)n;
        *allocs = (double)(ab_mem_allocations() - mem0) / (double)n;
        return 0;
}

/* Map and fingerprint the reference payloads into b->in; the alerts stay
 * valid as long as \p tf does. */
static int prepare(struct bench *b, struct ab_transform *tf[2],
                   const struct ab_integration *integ,
                   struct ab_lifecycle_hasher *h)
{
        const struct ab_alert *alerts;
        struct ab_error err;
        size_t n, k = 0;

        for (int p = 0; p < 2; p++) {
                const char *payload = ab_bench_reference_payload(p == 1);

                if (ab_transform_run(tf[p], integ, payload, strlen(payload),
                                     AB_CONTENT_AUTO, &alerts, &n, &err)) {
                        fprintf(stderr, "bench_alert_record: %s\n", err.text);
                        return -1;
                }
                for (size_t i = 0; i < n && k < NALERTS; i++, k++) {
                        struct ab_alert_record_alert *in = &b->in[k];

                        in->integration  = ab_str_c(ab_integration_name(integ));
                        in->event_ms     = 1795316400000LL + (int64_t)k;
                        in->origin.topic = ab_str_c("alerts-in");
                        in->origin.partition = (int32_t)k;
                        in->origin.offset    = 1000000 + (int64_t)k;
                        in->alert            = &alerts[i];
                        if (ab_lifecycle_hasher_digest(h, integ, &alerts[i],
                                                       in->fp) ||
                            ab_alert_record_encode_alert(in, &b->rec[k], NULL))
                                return -1;
                }
        }
        return k == NALERTS ? 0 : -1;
}

static void usage(void)
{
        fprintf(stderr, "usage: bench_alert_record [--seconds S] [--repeat N] "
                        "[--smoke]\n");
}

int main(int argc, char **argv)
{
        static const struct option longopts[] = {
            {"seconds", required_argument, NULL, 't'},
            {"repeat", required_argument, NULL, 'r'},
            {"smoke", no_argument, NULL, 'S'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0}};
        struct ab_transform *tf[2]    = {NULL, NULL};
        struct ab_integration *integ  = NULL;
        struct ab_lifecycle_hasher *h = NULL;
        double seconds                = 1.0, ns[MAX_REPEAT], allocs, lo, hi;
        uint64_t repeat               = 5;
        struct ab_error err;
        struct bench b;
        size_t bytes = 0;
        int c, rc = EXIT_FAILURE;

        while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
                if (c == 't' && !ab_bench_parse_double(optarg, &seconds) &&
                    seconds > 0)
                        continue;
                if (c == 'r' && !ab_bench_parse_u64(optarg, &repeat) &&
                    repeat >= 1 && repeat <= MAX_REPEAT)
                        continue;
                if (c == 'S') {
                        seconds = 0.05;
                        repeat  = 1;
                        continue;
                }
                usage();
                return c == 'h' ? 0 : 2;
        }
        memset(&b, 0, sizeof(b));
        ab_buf_init(&b.out, 0);
        for (int i = 0; i < NALERTS; i++)
                ab_buf_init(&b.rec[i], 0);
        tf[0] = ab_transform_new();
        tf[1] = ab_transform_new();
        h     = ab_lifecycle_hasher_new();
        if (!tf[0] || !tf[1] || !h)
                goto out;
        if (ab_integration_load("alertmanager", &integ, &err)) {
                fprintf(stderr, "bench_alert_record: %s\n", err.text);
                goto out;
        }
        if (prepare(&b, tf, integ, h))
                goto out;
        for (int i = 0; i < NALERTS; i++)
                bytes += b.rec[i].len;
        printf("reference Alertmanager alerts: %d, %.0f B per record "
               "(payload %zu B for 2 alerts)\n",
               NALERTS, (double)bytes / NALERTS,
               strlen(ab_bench_reference_payload(false)));
        printf("%-14s %12s %12s %16s\n", "mode", "ns/alert", "range",
               "allocs/alert");
        for (int m = 0; m < MODE__COUNT; m++) {
                if (measure(&b, (enum mode)m, 0.05, &ns[0], &allocs))
                        goto out; /* warm-up */
                for (uint64_t r = 0; r < repeat; r++)
                        if (measure(&b, (enum mode)m, seconds, &ns[r], &allocs))
                                goto out;
                ab_bench_range(ns, repeat, &lo, &hi);
                printf("%-14s %12.1f %5.0f..%-6.0f %16.4f\n", mode_names[m],
                       ab_bench_median(ns, repeat), lo, hi, allocs);
        }
        rc = b.sink ? EXIT_SUCCESS : EXIT_FAILURE;
out:
        ab_alert_record_scratch_fini(&b.scratch);
        ab_buf_fini(&b.out);
        for (int i = 0; i < NALERTS; i++)
                ab_buf_fini(&b.rec[i]);
        ab_lifecycle_hasher_destroy(h);
        ab_integration_destroy(integ);
        ab_transform_destroy(tf[0]);
        ab_transform_destroy(tf[1]);
        return rc;
}
