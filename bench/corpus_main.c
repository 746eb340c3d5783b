/* corpus_main.c - `bench_corpus`: generate, describe, check or dump the
 * benchmark corpus. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/benchconf.h"
#include "bench/benchutil.h"
#include "bench/corpus.h"
#include "transform/transform.h"

static void usage(FILE *f)
{
        fprintf(f,
                "usage: bench_corpus [--smoke] [--records N] [--keys K]\n"
                "       [--recovery-share F] [--malformed-share F] [--seed S]\n"
                "       [--kind NAME]... [--dump FILE] [--source DIR]\n\n"
                "Generates the benchmark corpus, checks every record against "
                "its integration\n"
                "(malformed ones are rejected, recoveries resolve), and "
                "prints its make-up.\n"
                "--dump writes the payloads one per line (the input format of "
                "`alertbridge test`).\n"
                "--smoke also checks that generation is deterministic.\n");
}

struct opts {
        struct ab_bench_corpus_conf conf;
        const char *dump;
        const char *source_dir;
        int smoke;
};

static int parse_args(int argc, char **argv, struct opts *o)
{
        static const struct option longopts[] = {
            {"smoke", no_argument, NULL, 'S'},
            {"records", required_argument, NULL, 'n'},
            {"keys", required_argument, NULL, 'k'},
            {"recovery-share", required_argument, NULL, 'R'},
            {"malformed-share", required_argument, NULL, 'M'},
            {"seed", required_argument, NULL, 's'},
            {"kind", required_argument, NULL, 'K'},
            {"dump", required_argument, NULL, 'D'},
            {"source", required_argument, NULL, 'd'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0}};
        uint64_t u;
        int c, k;

        memset(o, 0, sizeof(*o));
        ab_bench_corpus_defaults(&o->conf);
        o->conf.count = 10000;
        o->source_dir = AB_SOURCE_DIR;
        while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
                int bad = 0;

                switch (c) {
                case 'S':
                        o->smoke = 1;
                        break;
                case 'n':
                        bad           = ab_bench_parse_u64(optarg, &u);
                        o->conf.count = (size_t)u;
                        break;
                case 'k':
                case 'R':
                case 'M':
                case 's':
                        bad = ab_bench_corpus_option(&o->conf, c, optarg);
                        break;
                case 'K':
                        k   = ab_bench_kind_lookup(optarg);
                        bad = k < 0;
                        if (!bad)
                                o->conf.kinds |= 1u << k;
                        break;
                case 'D':
                        o->dump = optarg;
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
                        fprintf(stderr, "bench_corpus: bad value '%s'\n",
                                optarg);
                        return -1;
                }
        }
        if (o->smoke)
                o->conf.count = 2000;
        return optind == argc ? 0 : -1;
}

static void describe(const struct ab_bench_corpus *c)
{
        size_t n[AB_BENCH__COUNT] = {0}, bytes[AB_BENCH__COUNT] = {0};
        size_t rec = 0, bad = 0, total = 0;

        for (size_t i = 0; i < c->n; i++) {
                n[c->recs[i].kind]++;
                bytes[c->recs[i].kind] += c->recs[i].len;
                total += c->recs[i].len;
                rec += c->recs[i].recovery;
                bad += c->recs[i].malformed;
        }
        printf("| shape | records | average bytes |\n|---|---|---|\n");
        for (int k = 0; k < AB_BENCH__COUNT; k++)
                if (n[k])
                        printf("| %s | %zu | %.0f |\n", ab_bench_kind_name(k),
                               n[k], (double)bytes[k] / (double)n[k]);
        printf("| all | %zu | %.0f |\n\n", c->n,
               c->n ? (double)total / (double)c->n : 0);
        printf("recoveries: %zu, malformed: %zu, bytes: %zu\n", rec, bad,
               total);
}

static int dump(const struct ab_bench_corpus *c, const char *path)
{
        FILE *f = fopen(path, "w");
        int rc  = 0;

        if (!f) {
                perror(path);
                return -1;
        }
        for (size_t i = 0; i < c->n; i++) {
                fwrite(ab_bench_record_data(c, i), 1, c->recs[i].len, f);
                fputc('\n', f);
        }
        if (fclose(f)) {
                perror(path);
                rc = -1;
        }
        return rc;
}

/* The same conf twice must give the same bytes and records. */
static int same_twice(const struct ab_bench_corpus_conf *conf,
                      const struct ab_bench_corpus *c)
{
        struct ab_bench_corpus again;
        int same;

        if (ab_bench_corpus_generate(conf, &again))
                return 0;
        same = again.n == c->n && again.data.len == c->data.len &&
               !memcmp(again.data.data, c->data.data, c->data.len) &&
               !memcmp(again.recs, c->recs, c->n * sizeof(*c->recs));
        ab_bench_corpus_fini(&again);
        return same;
}

int main(int argc, char **argv)
{
        struct ab_integration *integ[AB_BENCH__COUNT] = {NULL};
        struct ab_transform *tf                       = NULL;
        struct ab_bench_corpus c;
        struct ab_error err;
        char line[700];
        struct opts o;
        int rc = 1;

        memset(&c, 0, sizeof(c));
        if (parse_args(argc, argv, &o)) {
                usage(stderr);
                return 2;
        }
        if (ab_bench_corpus_generate(&o.conf, &c)) {
                fprintf(stderr, "bench_corpus: invalid corpus settings\n");
                return 2;
        }
        ab_error_clear(&err);
        tf = ab_transform_new();
        if (!tf || ab_bench_integrations_load(o.source_dir, integ, &err)) {
                fprintf(stderr, "bench_corpus: %s\n",
                        ab_error_format(&err, line, sizeof(line)));
                goto out;
        }
        describe(&c);
        if (ab_bench_corpus_verify(&c, integ, tf, stderr))
                goto out;
        printf("every record maps or is rejected as its flags say\n");
        if (o.smoke) {
                if (!same_twice(&o.conf, &c)) {
                        fprintf(stderr, "bench_corpus: generation is not "
                                        "deterministic\n");
                        goto out;
                }
                printf("generation is deterministic\n");
        }
        if (o.dump && dump(&c, o.dump))
                goto out;
        rc = 0;
out:
        ab_bench_integrations_free(integ);
        ab_transform_destroy(tf);
        ab_bench_corpus_fini(&c);
        return rc;
}
