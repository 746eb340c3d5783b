/* e2e_peers.c - the peer comparison on a real broker: alertbridge's two-stage
 * pipeline against another stream processor doing the same mapping and
 * lifecycle (bench/peers/), on the same input topic, rounds interleaved. */
#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include "bench/benchutil.h"
#include "bench/e2e_int.h"

/*
 * HOW IT WORKS
 * 1. The corpus is Alertmanager webhooks only (e2e.c, --peer), loaded
 *    once to the alertmanager raw topic (one partition); the other raw
 *    topics stay empty. The harness predicts alertbridge's output with
 *    its own processor (e2e.c): E events, D dead letters, and the events'
 *    tally (creates, closes, a checksum of their (type, fingerprint)
 *    pairs).
 * 2. The peer is a program called as
 *      PEER run --bootstrap-servers B --application-id ID --input TOPIC
 *               --events TOPIC --dead-letters TOPIC
 *               --guarantee exactly_once|at_least_once --state-dir DIR
 *    that writes one event per create and close with alertbridge's
 *    CloudEvents "type" and "fingerprint" members, rejected payloads to the
 *    dead-letter topic, and exits 0 on SIGTERM (bench/peers/README.md).
 * 3. Each round runs four subjects, the first rotating by round:
 *    alertbridge (state.store changelog) and the peer, each in
 *    exactly_once and at_least_once, each with a fresh group or
 *    application id, so fresh internal topics (all topics of the run are
 *    deleted at the end). e2e_run_subject() measures each exactly as the
 *    end-to-end benchmark measures alertbridge: broker-time records/s, CPU
 *    of the process from /proc and wait4() (for the peer: the JVM), peak
 *    resident set; it fails unless the subject writes exactly E + D
 *    records.
 * 4. Then the subject's events topic is read back and tallied: its
 *    creates, closes and checksum must equal the prediction, so both
 *    programs opened and closed the same alerts. A subject that differs
 *    fails the run.
 * 5. Ratios pair the subjects of one guarantee within a round:
 *    alertbridge's records/s over the peer's, and the peer's CPU per
 *    record over alertbridge's (alertbridge's records per CPU-second over
 *    the peer's); the medians over the rounds are reported against issue
 *    16's goal (>= 8 per CPU-second in exactly_once).
 */

#define MAX_ROUNDS 16
#define GOAL       8.0 /* issue 16: records per CPU-second, exactly_once */

enum subject { AB_EOS, PEER_EOS, AB_ALO, PEER_ALO, NSUBJ };

static const struct {
        const char *tag; /* of its group, topics and files */
        const char *guarantee;
        int peer;
} subjects[NSUBJ] = {{"ab-eos", "exactly_once", 0},
                     {"peer-eos", "exactly_once", 1},
                     {"ab-alo", "at_least_once", 0},
                     {"peer-alo", "at_least_once", 1}};

struct peer_round {
        struct outcome out[NSUBJ];
        struct e2e_tally tally[NSUBJ];
};

static uint64_t fnv1a(uint64_t h, const char *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
        return h;
}

void e2e_tally_add(struct e2e_tally *t, const char *type, size_t type_len,
                   const char *fp, size_t fp_len)
{
        static const char create_type[] = "aliyun:arms:alarm:create";
        static const char close_type[]  = "aliyun:arms:alarm:close";
        uint64_t h                      = 0xcbf29ce484222325ULL;

        if (type_len == sizeof(create_type) - 1 &&
            !memcmp(type, create_type, type_len))
                t->creates++;
        else if (type_len == sizeof(close_type) - 1 &&
                 !memcmp(type, close_type, type_len))
                t->closes++;
        else
                t->other++;
        h = fnv1a(h, type, type_len);
        h = fnv1a(h, "", 1); /* a 0 byte between the two */
        h = fnv1a(h, fp, fp_len);
        /* A sum of well-mixed hashes does not depend on the order. */
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
        t->sum += h;
}

/* What the report calls subject \p s. */
static void subject_label(const char *peer, int s, char *out, size_t n)
{
        snprintf(out, n, "%s, %s", subjects[s].peer ? peer : "alertbridge",
                 subjects[s].guarantee);
}

/* Read back the events of \p s and compare them with the prediction.
 * @returns 0, or -1 (with a loud message) if they differ. */
static int check_events(struct run *r, const char *label, const char *events,
                        struct e2e_tally *t)
{
        const struct e2e_tally *x = &r->expect;
        int64_t n = e2e_tally_events(r, events, (int64_t)r->expect_events,
                                     ab_bench_wall_ns() + 120000000000LL, t);

        if (n == (int64_t)r->expect_events && t->creates == x->creates &&
            t->closes == x->closes && !t->other && t->sum == x->sum)
                return 0;
        fprintf(stderr,
                "bench_e2e: MISMATCH: %s wrote %lld events: %lld creates, "
                "%lld closes, %lld others, checksum %016llx; alertbridge's "
                "processor predicts %lld creates, %lld closes, checksum "
                "%016llx\n",
                label, (long long)n, (long long)t->creates,
                (long long)t->closes, (long long)t->other,
                (unsigned long long)t->sum, (long long)x->creates,
                (long long)x->closes, (unsigned long long)x->sum);
        return -1;
}

static int run_round(struct run *r, const char *peer, uint64_t round,
                     struct peer_round *res)
{
        const struct opts *o = r->o;
        char name[NSUBJ][120], outs[2 * NSUBJ][160], cfg[NSUBJ][1200];
        char log[NSUBJ][1200], state[NSUBJ][1200], label[96];
        const char *out_names[NSUBJ][2];
        char *argv[NSUBJ][18];

        for (int s = 0; s < NSUBJ; s++) {
                snprintf(name[s], sizeof(name[s]), "%s.r%llu.%s", r->id,
                         (unsigned long long)round, subjects[s].tag);
                snprintf(outs[2 * s], sizeof(outs[0]), "%.119s.events",
                         name[s]);
                snprintf(outs[2 * s + 1], sizeof(outs[0]), "%.119s.dlq",
                         name[s]);
                out_names[s][0] = outs[2 * s];
                out_names[s][1] = outs[2 * s + 1];
                snprintf(log[s], sizeof(log[s]), "%s/%s.r%llu.log", o->work,
                         subjects[s].tag, (unsigned long long)round);
                if (subjects[s].peer) {
                        int n = 0;

                        snprintf(state[s], sizeof(state[s]),
                                 "%s/%s.r%llu.state", o->work, subjects[s].tag,
                                 (unsigned long long)round);
                        argv[s][n++] = (char *)o->peer;
                        argv[s][n++] = "run";
                        argv[s][n++] = "--bootstrap-servers";
                        argv[s][n++] = (char *)r->brokers;
                        argv[s][n++] = "--application-id";
                        argv[s][n++] = name[s];
                        argv[s][n++] = "--input";
                        argv[s][n++] = r->raw[0]; /* alertmanager */
                        argv[s][n++] = "--events";
                        argv[s][n++] = outs[2 * s];
                        argv[s][n++] = "--dead-letters";
                        argv[s][n++] = outs[2 * s + 1];
                        argv[s][n++] = "--guarantee";
                        argv[s][n++] = (char *)subjects[s].guarantee;
                        argv[s][n++] = "--state-dir";
                        argv[s][n++] = state[s];
                        argv[s][n]   = NULL;
                        continue;
                }
                snprintf(cfg[s], sizeof(cfg[s]), "%s/%s.r%llu.yaml", o->work,
                         subjects[s].tag, (unsigned long long)round);
                if (e2e_write_config(r, cfg[s], name[s], outs[2 * s],
                                     outs[2 * s + 1], o->threads, "changelog",
                                     subjects[s].guarantee))
                        return -1;
                argv[s][0] = (char *)o->alertbridge;
                argv[s][1] = "run";
                argv[s][2] = "--config";
                argv[s][3] = cfg[s];
                argv[s][4] = NULL;
        }
        if (e2e_create_topics(r, (const char(*)[160])outs, 2 * NSUBJ, 1))
                return -1;
        for (int i = 0; i < NSUBJ; i++) {
                int s               = (int)((round + (uint64_t)i) % NSUBJ);
                struct outcome *out = &res->out[s];

                subject_label(peer, s, label, sizeof(label));
                e2e_settle(r);
                if (e2e_run_subject(
                        r, argv[s], log[s], out_names[s], 2,
                        (int64_t)(r->expect_events + r->expect_dead),
                        !strcmp(subjects[s].guarantee, "exactly_once"), out) ||
                    check_events(r, label, outs[2 * s], &res->tally[s]))
                        return -1;
                printf("| %s%llu | %s | %zu | %lld | %lld | %lld | %.0f | "
                       "%.2f | %.0f | %.2f | %.2f | %.1f | %.2f | %.1f |\n",
                       round < o->warmup ? "warm-up " : "",
                       (unsigned long long)(round < o->warmup
                                                ? round + 1
                                                : round - o->warmup + 1),
                       label, r->corpus.n, (long long)res->tally[s].creates,
                       (long long)res->tally[s].closes,
                       (long long)r->expect_dead, out->rps_broker,
                       out->seconds_broker, out->rps_wall, out->seconds_wall,
                       out->cpu_s, out->cpu_s * 1e6 / (double)r->corpus.n,
                       out->broker_s, (double)out->rss_kb / 1024);
                fflush(stdout);
        }
        return 0;
}

/* Medians over \p n rounds, the ratios and the verdict. */
static void print_summary(const struct run *r, const char *peer,
                          const struct peer_round *res, uint64_t n)
{
        double rps[NSUBJ][MAX_ROUNDS], cpu[NSUBJ][MAX_ROUNDS];
        double rss[NSUBJ][MAX_ROUNDS], speed[2][MAX_ROUNDS], eff[2][MAX_ROUNDS];
        char label[96];

        for (uint64_t k = 0; k < n; k++) {
                for (int s = 0; s < NSUBJ; s++) {
                        rps[s][k] = res[k].out[s].rps_broker;
                        cpu[s][k] =
                            res[k].out[s].cpu_s * 1e6 / (double)r->corpus.n;
                        rss[s][k] = (double)res[k].out[s].rss_kb / 1024;
                }
                for (int g = 0; g < 2; g++) {
                        speed[g][k] = rps[2 * g][k] / rps[2 * g + 1][k];
                        eff[g][k]   = cpu[2 * g + 1][k] / cpu[2 * g][k];
                }
        }
        printf("\n| subject | records/s (broker time, median) | CPU us/record "
               "(median) | peak RSS MiB (median) |\n|---|---|---|---|\n");
        for (int s = 0; s < NSUBJ; s++) {
                subject_label(peer, s, label, sizeof(label));
                printf("| %s | %.0f | %.2f | %.1f |\n", label,
                       ab_bench_median(rps[s], n), ab_bench_median(cpu[s], n),
                       ab_bench_median(rss[s], n));
        }
        printf("\n| guarantee | alertbridge / %s, records/s (median of "
               "per-round ratios) | alertbridge / %s, records per CPU-second "
               "(median of per-round ratios) |\n|---|---|---|\n",
               peer, peer);
        for (int g = 0; g < 2; g++)
                printf("| %s | %.2f | %.2f |\n", subjects[2 * g].guarantee,
                       ab_bench_median(speed[g], n),
                       ab_bench_median(eff[g], n));
        printf("\n| target (issue 16) | measured | verdict |\n|---|---|---|\n"
               "| >= %.0f x %s per CPU-second, both exactly_once with "
               "changelogs | %.2f | %s |\n",
               GOAL, peer, ab_bench_median(eff[0], n),
               ab_bench_median(eff[0], n) >= GOAL ? "met" : "missed");
}

int e2e_peers_bench(struct run *r)
{
        const struct opts *o = r->o;
        static struct peer_round res[MAX_ROUNDS];
        uint64_t rounds = o->repeat < MAX_ROUNDS ? o->repeat : MAX_ROUNDS;
        char dir[1024];
        const char *peer;
        int rc = -1;

        /* The peer's name is its directory's: bench/peers/<name>/peer.sh. */
        snprintf(dir, sizeof(dir), "%s", o->peer);
        peer = basename(dirname(dir));
        printf("peer: %s (%s); alertbridge's processor predicts %lld creates "
               "and %lld closes\n\n",
               peer, o->peer, (long long)r->expect.creates,
               (long long)r->expect.closes);
        printf("| round | subject | input records | creates | closes | dead "
               "letters | records/s (broker time) | s | records/s (wall, "
               "incl. start-up) | s | CPU s (all threads) | CPU us/record | "
               "broker CPU s | peak RSS MiB |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (uint64_t k = 0; k < o->warmup; k++)
                if (run_round(r, peer, k, &res[0]))
                        goto out;
        for (uint64_t k = 0; k < rounds; k++)
                if (run_round(r, peer, o->warmup + k, &res[k]))
                        goto out;
        print_summary(r, peer, res, rounds);
        rc = 0;
out:
        /* The internal topics both programs created, for deletion. */
        if (e2e_remember_prefixed(r, r->id))
                rc = -1;
        return rc;
}
