/* e2e.c - end to end on a real broker: alertbridge run in its state stores
 * and guarantees against a pass-through baseline, same records, same run. */
#include <errno.h>
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/benchconf.h"
#include "bench/benchutil.h"
#include "bench/corpus.h"
#include "bench/e2e_int.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "pipeline/processor.h"
#include "transform/event.h"

/*
 * HOW IT WORKS
 * 1. Topics: one raw topic per integration (<run>.raw.<integration>, one
 *    partition each, as examples/pipeline.yaml binds them), and per round
 *    fresh output topics whose messages carry the broker's append time
 *    (message.timestamp.type=LogAppendTime).
 * 2. The mixed corpus is produced once to the raw topics, record i with
 *    timestamp load-time + i ms.
 * 3. The harness reads every record once (e2e_warm_up()), so no subject meets
 *    a cold broker. The expected output is computed in-process by the
 *    pipeline's own processor over the same records and timestamps: E
 *    events and D dead letters (the lifecycle merges duplicates, so E is
 *    not a multiple of the records). Integrations keep separate state and
 * nothing expires or is evicted during a run (lifecycle.expire_interval is 1h,
 *    max_open_alerts unlimited), so the consumption order across topics
 *    does not change E.
 * 4. Each round runs four subjects, each in a fresh consumer group that
 *    reads all records from the start, the first one rotating by round:
 *    `bench_passthrough` (raw -> one output topic, N records), and
 *    `alertbridge run` (raw -> events + dead letters, E + D records) with
 *    state.store memory (the single-stage loop), with state.store
 *    changelog in at_least_once and in exactly_once (the two-stage loop of
 *    docs/stateful-pipeline.md: its internal topics <group>.alerts and
 *    <group>.lifecycle-changelog are new with each fresh group, and
 *    deleted at the end). Each subject starts once the broker is quiet
 *    (e2e_settle()). The harness polls the output high watermarks every
 *    20 ms until all expected records are there (for exactly_once, whose
 *    offsets also count commit markers, until they reach E + D, then it
 *    reads the committed records), reads the subject's CPU times and peak
 *    resident set (VmHWM) from /proc, and stops it with SIGTERM.
 * 5. Throughput is N input records divided by the time between the first
 *    and the last output record as the broker appended them, so start-up
 *    and the consumer group join do not count; the wall time from start
 *    to completion is reported beside it. The per-round ratio pairs the
 *    subjects of one round, which ran minutes apart at most.
 * 6. One warm-up round (--warmup-rounds) runs first and is printed but left
 *    out of the medians: even after the warm-up read and with a quiet
 *    broker, the first round's subjects ran up to twice as slow as later
 *    ones (the pass-through at 72.7k records/s against 165k-174k, with
 *    2.2 times the broker CPU), whichever subject went first.
 */

#define MAX_REPEAT 16

const char *const e2e_raw_integrations[NRAW] = {"alertmanager", "cloudmonitor",
                                                "cloudmonitor-event", "generic",
                                                "network-monitor"};

enum subject {
        SUBJ_PASSTHROUGH = 0,
        SUBJ_MEMORY, /* state.store: memory, the single-stage loop */
        SUBJ_ALO,    /* changelog, at_least_once (the default) */
        SUBJ_EOS,    /* changelog, exactly_once */
        SUBJ__COUNT
};

static const char *const subject_names[SUBJ__COUNT] = {
    "pass-through", "alertbridge, state.store memory",
    "alertbridge, changelog, at_least_once",
    "alertbridge, changelog, exactly_once"};

/* Names of its consumer group and topics. */
static const char *const subject_tags[SUBJ__COUNT] = {"passthrough", "memory",
                                                      "alo", "eos"};

/* state.store and processing.guarantee of each alertbridge subject. */
static const char *const subject_store[SUBJ__COUNT] = {
    NULL, "memory", "changelog", "changelog"};
static const char *const subject_guarantee[SUBJ__COUNT] = {
    NULL, "at_least_once", "at_least_once", "exactly_once"};

/* ---------------------------------------------------------------- steps */

/* Consumer group (and output topic prefix) of \p subject in \p round. */
static void subject_name(const struct run *r, uint64_t round, int subject,
                         char *out, size_t n)
{
        snprintf(out, n, "%s.r%llu.%s", r->id, (unsigned long long)round,
                 subject_tags[subject]);
}

int e2e_write_config(const struct run *r, const char *path, const char *group,
                     const char *events, const char *dlq, int transform_threads,
                     const char *store, const char *guarantee)
{
        char prefix[160];

        snprintf(prefix, sizeof(prefix), "%s.raw.", r->id);
        return e2e_write_config_at(r, path, prefix, group, events, dlq,
                                   transform_threads, store, guarantee);
}

int e2e_write_config_at(const struct run *r, const char *path,
                        const char *prefix, const char *group,
                        const char *events, const char *dlq,
                        int transform_threads, const char *store,
                        const char *guarantee)
{
        struct ab_bench_conf bc = {r->brokers,
                                   group,
                                   prefix,
                                   events,
                                   dlq,
                                   r->o->source_dir,
                                   transform_threads,
                                   store,
                                   guarantee,
                                   r->o->cprops,
                                   r->o->ncprops};
        struct ab_buf yaml;
        FILE *f;
        int rc = -1;

        ab_buf_init(&yaml, 0);
        if (ab_bench_config_yaml(&bc, &yaml))
                goto out;
        f = fopen(path, "w");
        if (!f)
                goto out;
        fwrite(yaml.data, 1, yaml.len, f);
        rc = fclose(f) ? -1 : 0;
out:
        ab_buf_fini(&yaml);
        if (rc)
                fprintf(stderr, "bench_e2e: cannot write %s\n", path);
        return rc;
}

struct counts {
        uint64_t events, dead;
        struct e2e_tally tally;
};

static ab_err_t count_output(void *arg, const struct ab_output *o)
{
        struct counts *c = arg;
        const char *type;

        if (o->kind != AB_OUTPUT_EVENT) {
                c->dead++;
                return AB_OK;
        }
        c->events++;
        type = ab_event_type_name(o->event->type);
        e2e_tally_add(&c->tally, type, strlen(type), o->event->fingerprint,
                      strlen(o->event->fingerprint));
        return AB_OK;
}

int e2e_predict(const struct run *r, const char *config_path, size_t count,
                uint32_t *cum, uint64_t *events, uint64_t *dead,
                struct e2e_tally *tally)
{
        struct ab_pipeline_config *cfg = NULL;
        struct ab_processor *proc      = NULL;
        struct counts c;
        struct ab_error err;
        char line[700];
        int rc = -1;

        memset(&c, 0, sizeof(c));
        ab_error_clear(&err);
        if (ab_pipeline_config_load(config_path, &cfg, &err) ||
            ab_processor_new(cfg, NULL, &proc, &err)) {
                fprintf(stderr, "bench_e2e: %s: %s\n", config_path,
                        ab_error_format(&err, line, sizeof(line)));
                goto out;
        }
        for (size_t i = 0; i < count; i++) {
                size_t j                          = i % r->corpus.n;
                const struct ab_bench_record *rec = &r->corpus.recs[j];
                struct ab_input in;

                memset(&in, 0, sizeof(in));
                for (int k = 0; k < NRAW; k++)
                        if (!strcmp(e2e_raw_integrations[k],
                                    ab_bench_kind_integration(rec->kind)))
                                in.topic = r->raw[k];
                in.offset       = (int64_t)i;
                in.timestamp_ms = r->base_ms + (int64_t)i;
                in.value =
                    ab_str_make(ab_bench_record_data(&r->corpus, j), rec->len);
                if (ab_processor_handle(proc, &in, count_output, &c))
                        goto out;
                if (cum)
                        cum[i] = (uint32_t)(c.events + c.dead);
        }
        *events = c.events;
        *dead   = c.dead;
        if (tally)
                *tally = c.tally;
        rc = 0;
out:
        ab_processor_destroy(proc);
        ab_pipeline_config_destroy(cfg);
        return rc;
}

static int run_round(struct run *r, uint64_t round,
                     struct outcome res[SUBJ__COUNT])
{
        char name[SUBJ__COUNT][160], outs[SUBJ__COUNT][2][176];
        char topics[2 * SUBJ__COUNT][160], internal[200];
        char cfg[SUBJ__COUNT][1200], log[SUBJ__COUNT][1200];
        const char *out_names[SUBJ__COUNT][2];
        char *argv[SUBJ__COUNT][8 + NRAW];
        size_t nt = 0;
        int n     = 0;

        for (int s = 0; s < SUBJ__COUNT; s++) {
                subject_name(r, round, s, name[s], sizeof(name[s]));
                snprintf(log[s], sizeof(log[s]), "%s/%s.r%llu.log", r->o->work,
                         subject_tags[s], (unsigned long long)round);
                snprintf(cfg[s], sizeof(cfg[s]), "%s/%s.r%llu.yaml", r->o->work,
                         subject_tags[s], (unsigned long long)round);
                snprintf(outs[s][0], sizeof(outs[s][0]), "%s.%s", name[s],
                         s == SUBJ_PASSTHROUGH ? "out" : "events");
                snprintf(outs[s][1], sizeof(outs[s][1]), "%s.dlq", name[s]);
                out_names[s][0] = outs[s][0];
                out_names[s][1] = outs[s][1];
                memcpy(topics[nt++], outs[s][0], sizeof(topics[0]));
                if (s != SUBJ_PASSTHROUGH)
                        memcpy(topics[nt++], outs[s][1], sizeof(topics[0]));
        }
        if (e2e_create_topics(r, (const char(*)[160])topics, nt, 1))
                return -1;
        for (int s = SUBJ_MEMORY; s < SUBJ__COUNT; s++) {
                if (e2e_write_config(r, cfg[s], name[s], outs[s][0], outs[s][1],
                                     r->o->threads, subject_store[s],
                                     subject_guarantee[s]))
                        return -1;
                if (strcmp(subject_store[s], "changelog"))
                        continue;
                /* The subject creates its internal topics (a fresh group:
                 * fresh topics); the harness deletes them at the end. */
                snprintf(internal, sizeof(internal), "%s.alerts", name[s]);
                if (e2e_remember_topic(r, internal))
                        return -1;
                snprintf(internal, sizeof(internal), "%s.lifecycle-changelog",
                         name[s]);
                if (e2e_remember_topic(r, internal))
                        return -1;
        }
        argv[SUBJ_PASSTHROUGH][n++] = (char *)r->o->passthrough;
        argv[SUBJ_PASSTHROUGH][n++] = "--brokers";
        argv[SUBJ_PASSTHROUGH][n++] = (char *)r->brokers;
        argv[SUBJ_PASSTHROUGH][n++] = "--group";
        argv[SUBJ_PASSTHROUGH][n++] = name[SUBJ_PASSTHROUGH];
        argv[SUBJ_PASSTHROUGH][n++] = "--to";
        argv[SUBJ_PASSTHROUGH][n++] = outs[SUBJ_PASSTHROUGH][0];
        for (int k = 0; k < NRAW; k++)
                argv[SUBJ_PASSTHROUGH][n++] = r->raw[k];
        argv[SUBJ_PASSTHROUGH][n] = NULL;
        for (int s = SUBJ_MEMORY; s < SUBJ__COUNT; s++) {
                argv[s][0] = (char *)r->o->alertbridge;
                argv[s][1] = "run";
                argv[s][2] = "--config";
                argv[s][3] = cfg[s];
                argv[s][4] = NULL;
        }
        /* Each round starts with the next subject, so none always runs
         * first (or last) on a machine whose load drifts. */
        for (int i = 0; i < SUBJ__COUNT; i++) {
                int s = (int)((round + (uint64_t)i) % SUBJ__COUNT);
                int64_t expect =
                    s == SUBJ_PASSTHROUGH
                        ? (int64_t)r->corpus.n
                        : (int64_t)(r->expect_events + r->expect_dead);

                e2e_settle(r);
                if (e2e_run_subject(r, argv[s], log[s], out_names[s],
                                    s == SUBJ_PASSTHROUGH ? 1 : 2, expect,
                                    s == SUBJ_EOS, &res[s]))
                        return -1;
                printf("| %s%llu | %s | %zu | %lld | %.0f | %.2f | %.0f | "
                       "%.2f | %.2f | %.1f | %.2f | %.2f | %.1f |\n",
                       round < r->o->warmup ? "warm-up " : "",
                       (unsigned long long)(round < r->o->warmup
                                                ? round + 1
                                                : round - r->o->warmup + 1),
                       subject_names[s], r->corpus.n, (long long)res[s].outputs,
                       res[s].rps_broker, res[s].seconds_broker,
                       res[s].rps_wall, res[s].seconds_wall, res[s].cpu_s,
                       res[s].cpu_s * 1e6 / (double)r->corpus.n, res[s].main_s,
                       res[s].broker_s, (double)res[s].rss_kb / 1024);
                fflush(stdout);
        }
        return 0;
}

/* The medians over the rounds, and issue 12's targets: at_least_once at
 * least 50 % of the pass-through, exactly_once at least 80 % of
 * at_least_once, CPU per input record within 1.5 times the single-stage
 * loop's. The issue means the single-stage loop of its day (commit
 * 2174702), which is not in this build; the CPU rows compare with this
 * build's memory loop, which has become cheaper than that one, so they
 * are the stricter check. Ratios are medians of per-round ratios. */
static void print_summary(uint64_t n, double rps[][MAX_REPEAT],
                          double ratio[][MAX_REPEAT], double cpu[][MAX_REPEAT],
                          double cpu_ratio[][MAX_REPEAT],
                          double rss[][MAX_REPEAT], double eos_alo[])
{
        double alo_pt  = ab_bench_median(ratio[SUBJ_ALO], n);
        double eos     = ab_bench_median(eos_alo, n);
        double cpu_alo = ab_bench_median(cpu_ratio[SUBJ_ALO], n);
        double cpu_eos = ab_bench_median(cpu_ratio[SUBJ_EOS], n);

        printf("\n| subject | records/s (broker time, median) | / "
               "pass-through (median of per-round ratios) | CPU us/record "
               "(median) | CPU / memory's (median of per-round ratios) | "
               "peak RSS MiB (median) |\n|---|---|---|---|---|---|\n");
        for (int s = 0; s < SUBJ__COUNT; s++)
                printf("| %s | %.0f | %.2f | %.2f | %.2f | %.1f |\n",
                       subject_names[s], ab_bench_median(rps[s], n),
                       ab_bench_median(ratio[s], n), ab_bench_median(cpu[s], n),
                       ab_bench_median(cpu_ratio[s], n),
                       ab_bench_median(rss[s], n));
        printf("\n| target (issue 12) | measured | verdict |\n|---|---|---|\n"
               "| at_least_once >= 0.50 x pass-through | %.2f | %s |\n"
               "| exactly_once >= 0.80 x at_least_once | %.2f | %s |\n"
               "| CPU/record, at_least_once <= 1.5 x this build's memory "
               "loop | %.2f | %s |\n"
               "| CPU/record, exactly_once <= 1.5 x this build's memory "
               "loop | %.2f | %s |\n"
               "\nIssue 12's CPU limit is against the single-stage loop of "
               "its day (commit 2174702), which used more CPU per record "
               "than this build's memory loop; docs/performance.md compares "
               "the two in alternating runs.\n",
               alo_pt, alo_pt >= 0.5 ? "met" : "missed", eos,
               eos >= 0.8 ? "met" : "missed", cpu_alo,
               cpu_alo <= 1.5 ? "met" : "missed", cpu_eos,
               cpu_eos <= 1.5 ? "met" : "missed");
}

/* ---------------------------------------------------------------- main */

static void usage(FILE *f)
{
        fprintf(f,
                "usage: bench_e2e --alertbridge PATH --passthrough PATH "
                "[--smoke]\n"
                "       [--records N] [--repeat R] [--keys K] "
                "[--recovery-share F]\n"
                "       [--malformed-share F] [--seed S] [--work DIR] "
                "[--timeout S]\n"
                "       [--source DIR] [--keep-topics] "
                "[--transform-threads N]\n"
                "       [--warmup-rounds N] [--restore] [--peer PATH]\n"
                "       [--consumer-property KEY=VALUE]... [--kind NAME]...\n"
                "       [--latency [--seconds S] [--rate-share F | --rate "
                "N]]\n\n"
                "Needs AB_KAFKA_BROKERS (scripts/kafka-broker.sh start; eval "
                "\"$(scripts/kafka-broker.sh env)\").\n"
                "Loads the mixed corpus, then per round runs the "
                "pass-through baseline and\n"
                "`alertbridge run` over it and prints a Markdown table.\n"
                "--restore: fill one changelog partition with N open alerts "
                "(--records,\n"
                "default 100000) and time --repeat restarts restoring it.\n"
                "--peer: Alertmanager payloads only; per round alertbridge "
                "(changelog) and the\n"
                "peer program (bench/peers/README.md), each in exactly_once "
                "and at_least_once;\n"
                "their creates and closes must match. --passthrough is not "
                "needed.\n"
                "--consumer-property: a librdkafka property for the "
                "consumer of every alertbridge\n"
                "subject (kafka.consumer_properties), e.g. "
                "queued.max.messages.kbytes=65536.\n"
                "--kind: only this payload shape in the corpus "
                "(repeatable; alertmanager, arms,\n"
                "cloudmonitor, cloudmonitor-event, generic, "
                "network-monitor); default all.\n"
                "--latency: Alertmanager payloads only; per guarantee "
                "(at_least_once,\n"
                "exactly_once) the maximum rate of alertbridge (changelog) "
                "over the corpus, then\n"
                "S seconds (default 30) of input paced at F (default 0.5) "
                "of that rate: "
                "record-to-event\n"
                "latency p50/p99/p99.9/max from broker append times; "
                "with --passthrough,\n"
                "the pass-through at at_least_once's rate as a floor.\n"
                "--rate: pace at N records/s instead, skipping the maximum "
                "(runs comparable\n"
                "across builds and busy moments).\n");
}

static int parse_args(int argc, char **argv, struct opts *o, uint64_t *records)
{
        static const struct option longopts[] = {
            {"alertbridge", required_argument, NULL, 'a'},
            {"passthrough", required_argument, NULL, 'p'},
            {"smoke", no_argument, NULL, 'S'},
            {"records", required_argument, NULL, 'n'},
            {"repeat", required_argument, NULL, 'r'},
            {"keys", required_argument, NULL, 'k'},
            {"recovery-share", required_argument, NULL, 'R'},
            {"malformed-share", required_argument, NULL, 'M'},
            {"seed", required_argument, NULL, 's'},
            {"work", required_argument, NULL, 'w'},
            {"timeout", required_argument, NULL, 't'},
            {"source", required_argument, NULL, 'd'},
            {"keep-topics", no_argument, NULL, 'K'},
            {"transform-threads", required_argument, NULL, 'T'},
            {"warmup-rounds", required_argument, NULL, 'W'},
            {"restore", no_argument, NULL, 'X'},
            {"peer", required_argument, NULL, 'P'},
            {"consumer-property", required_argument, NULL, 'C'},
            {"kind", required_argument, NULL, 'k' + 256},
            {"latency", no_argument, NULL, 'L'},
            {"seconds", required_argument, NULL, 'e'},
            {"rate-share", required_argument, NULL, 'f'},
            {"rate", required_argument, NULL, 'f' + 256},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0}};
        int c;

        memset(o, 0, sizeof(*o));
        ab_bench_corpus_defaults(&o->corpus);
        *records      = 0;
        o->repeat     = 3;
        o->timeout_s  = 600;
        o->work       = "bench-e2e";
        o->threads    = -1;
        o->warmup     = 1;
        o->seconds    = 30;
        o->rate_share = 0.5;
        o->source_dir = AB_SOURCE_DIR;
        while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
                int bad = 0;

                switch (c) {
                case 'a':
                        o->alertbridge = optarg;
                        break;
                case 'p':
                        o->passthrough = optarg;
                        break;
                case 'S':
                        o->smoke = 1;
                        break;
                case 'n':
                        bad = ab_bench_parse_u64(optarg, records);
                        break;
                case 'r':
                        bad = ab_bench_parse_u64(optarg, &o->repeat) ||
                              !o->repeat || o->repeat > MAX_REPEAT;
                        break;
                case 'k':
                case 'R':
                case 'M':
                case 's':
                        bad = ab_bench_corpus_option(&o->corpus, c, optarg);
                        break;
                case 'k' + 256: {
                        int k = ab_bench_kind_lookup(optarg);

                        bad = k < 0;
                        if (!bad)
                                o->corpus.kinds |= 1u << k;
                        break;
                }
                case 'w':
                        o->work = optarg;
                        break;
                case 't':
                        bad = ab_bench_parse_double(optarg, &o->timeout_s);
                        break;
                case 'd':
                        o->source_dir = optarg;
                        break;
                case 'K':
                        o->keep = 1;
                        break;
                case 'X':
                        o->restore = 1;
                        break;
                case 'P':
                        o->peer = optarg;
                        break;
                case 'C':
                        bad = o->ncprops == E2E_MAX_CPROPS ||
                              !strchr(optarg, '=');
                        if (!bad)
                                o->cprops[o->ncprops++] = optarg;
                        break;
                case 'L':
                        o->latency = 1;
                        break;
                case 'e':
                        bad = ab_bench_parse_double(optarg, &o->seconds) ||
                              !(o->seconds > 0 && o->seconds <= 3600);
                        break;
                case 'f':
                        bad = ab_bench_parse_double(optarg, &o->rate_share) ||
                              !(o->rate_share > 0 && o->rate_share <= 1);
                        break;
                case 'f' + 256:
                        bad = ab_bench_parse_double(optarg, &o->rate) ||
                              !(o->rate >= 1 && o->rate <= 10000000);
                        break;
                case 'W':
                        bad = ab_bench_parse_u64(optarg, &o->warmup) ||
                              o->warmup > MAX_REPEAT;
                        break;
                case 'T': {
                        uint64_t u;

                        bad        = ab_bench_parse_u64(optarg, &u) || u > 64;
                        o->threads = (int)u;
                        break;
                }
                case 'h':
                        usage(stdout);
                        exit(0);
                default:
                        return -1;
                }
                if (bad) {
                        fprintf(stderr, "bench_e2e: bad value '%s'\n", optarg);
                        return -1;
                }
        }
        if (o->restore) {
                /* One generic alert per record, each with a key of its own
                 * (almost surely: 2^32 keys), none resolved or malformed. */
                o->corpus.kinds           = 1u << AB_BENCH_GENERIC;
                o->corpus.keys            = UINT32_MAX;
                o->corpus.recovery_share  = 0;
                o->corpus.malformed_share = 0;
        }
        if (o->peer || o->latency)
                o->corpus.kinds = 1u << AB_BENCH_ALERTMANAGER;
        if (!*records)
                *records = o->restore ? 100000 : 200000;
        if (o->smoke) {
                *records     = 2000;
                o->repeat    = 1;
                o->warmup    = 0;
                o->timeout_s = 300;
                o->seconds   = 1;
        }
        if (!o->alertbridge || (!o->passthrough && !o->peer && !o->latency) ||
            o->restore + !!o->peer + o->latency > 1 || optind != argc ||
            !*records)
                return -1;
        return 0;
}

int main(int argc, char **argv)
{
        struct outcome res[MAX_REPEAT][SUBJ__COUNT];
        double rps[SUBJ__COUNT][MAX_REPEAT], ratio[SUBJ__COUNT][MAX_REPEAT];
        double cpu[SUBJ__COUNT][MAX_REPEAT], cpu_ratio[SUBJ__COUNT][MAX_REPEAT];
        double eos_alo[MAX_REPEAT], rss[SUBJ__COUNT][MAX_REPEAT];
        char group[160], events[160], dlq[160];
        int64_t t_warm;
        uint64_t records;
        struct opts o;
        struct run r;
        int rc = 1;

        memset(&r, 0, sizeof(r));
        if (parse_args(argc, argv, &o, &records)) {
                usage(stderr);
                return 2;
        }
        r.o       = &o;
        r.brokers = getenv("AB_KAFKA_BROKERS");
        if (!r.brokers || !*r.brokers) {
                fprintf(stderr,
                        "bench_e2e: AB_KAFKA_BROKERS is not set: start the "
                        "broker with scripts/kafka-broker.sh start and eval "
                        "\"$(scripts/kafka-broker.sh env)\"\n");
                return 1;
        }
        if (mkdir(o.work, 0755) && errno != EEXIST) {
                perror(o.work);
                return 1;
        }
        snprintf(r.id, sizeof(r.id), "abbench-%lld-%d",
                 (long long)ab_time_now_ms(), (int)getpid());
        for (int k = 0; k < NRAW; k++)
                snprintf(r.raw[k], sizeof(r.raw[k]), "%s.raw.%s", r.id,
                         e2e_raw_integrations[k]);
        o.corpus.count = (size_t)records;
        if (ab_bench_corpus_generate(&o.corpus, &r.corpus)) {
                fprintf(stderr, "bench_e2e: invalid corpus settings\n");
                return 2;
        }
        for (size_t i = 0; i < r.corpus.n; i++)
                r.bytes += r.corpus.recs[i].len;
        r.admin = e2e_client(RD_KAFKA_PRODUCER, r.brokers, NULL);
        if (!r.admin || e2e_create_topics(&r, r.raw, NRAW, 0))
                goto out;
        printf("broker %s, run %s\n", r.brokers, r.id);
        r.base_ms = ab_time_now_ms();
        if (e2e_load(&r))
                goto out;
        snprintf(group, sizeof(group), "%s.predict", r.id);
        snprintf(events, sizeof(events), "%s.predict.events", r.id);
        snprintf(dlq, sizeof(dlq), "%s.predict.dlq", r.id);
        snprintf(r.predict_cfg, sizeof(r.predict_cfg),
                 "%s/alertbridge.predict.yaml", o.work);
        if (e2e_write_config(&r, r.predict_cfg, group, events, dlq, -1, NULL,
                             NULL) ||
            e2e_predict(&r, r.predict_cfg, r.corpus.n, NULL, &r.expect_events,
                        &r.expect_dead, &r.expect))
                goto out;
        t_warm = ab_bench_wall_ns();
        if (e2e_warm_up(&r) < 0) {
                fprintf(stderr, "bench_e2e: the warm-up read did not see "
                                "every record\n");
                goto out;
        }
        printf("warm-up: read all records once in %.1f s\n",
               (double)(ab_bench_wall_ns() - t_warm) / 1e9);
        printf("expected from alertbridge: %llu events, %llu dead letters\n\n",
               (unsigned long long)r.expect_events,
               (unsigned long long)r.expect_dead);
        if (o.restore) {
                rc = e2e_restore_bench(&r) ? 1 : 0;
                goto out;
        }
        if (o.peer) {
                rc = e2e_peers_bench(&r) ? 1 : 0;
                goto out;
        }
        if (o.latency) {
                rc = e2e_latency_bench(&r) ? 1 : 0;
                goto out;
        }
        printf("| round | subject | input records | output records | "
               "records/s (broker time) | s | records/s (wall, incl. "
               "start-up) | s | CPU s (all threads) | CPU us/record | "
               "CPU s (main thread) | broker CPU s | peak RSS MiB |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (uint64_t k = 0; k < o.warmup; k++)
                if (run_round(&r, k, res[0]))
                        goto out;
        for (uint64_t k = 0; k < o.repeat; k++) {
                if (run_round(&r, o.warmup + k, res[k]))
                        goto out;
                for (int s = 0; s < SUBJ__COUNT; s++) {
                        rps[s][k]   = res[k][s].rps_broker;
                        ratio[s][k] = res[k][s].rps_broker /
                                      res[k][SUBJ_PASSTHROUGH].rps_broker;
                        cpu[s][k] = res[k][s].cpu_s * 1e6 / (double)r.corpus.n;
                        cpu_ratio[s][k] =
                            res[k][s].cpu_s / res[k][SUBJ_MEMORY].cpu_s;
                        rss[s][k] = (double)res[k][s].rss_kb / 1024;
                }
                eos_alo[k] =
                    res[k][SUBJ_EOS].rps_broker / res[k][SUBJ_ALO].rps_broker;
        }
        print_summary(o.repeat, rps, ratio, cpu, cpu_ratio, rss, eos_alo);
        rc = 0;
out:
        if (rc)
                fprintf(stderr, "bench_e2e: failed\n");
        if (!o.keep)
                e2e_delete_topics(&r);
        for (size_t i = 0; i < r.ncreated; i++)
                ab_free(r.created[i]);
        ab_free(r.created);
        if (r.admin)
                rd_kafka_destroy(r.admin);
        ab_bench_corpus_fini(&r.corpus);
        return rc;
}
