/* e2e_restore.c - the restore benchmark on a real broker: how long a member
 * of the stateful pipeline takes to rebuild one partition's store from its
 * changelog (issue 12: 100k open alerts in at most 5 s). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/benchutil.h"
#include "bench/e2e_int.h"

/*
 * HOW IT WORKS
 * 1. The corpus (e2e.c, --restore) is one generic alert per record, each
 *    with a key of its own, none resolved: N records open N alerts. All
 *    input topics have one partition, so the internal topics have one too
 *    (state.partitions 0: the largest input partition count) and the
 *    changelog's partition 0 holds every alert.
 * 2. Fill: `alertbridge run` (state.store changelog, a fresh group) maps
 *    and opens them all; once its outputs are complete it is stopped
 *    (SIGTERM: it commits and leaves the group). Once in at_least_once,
 *    then in exactly_once (another group), whose changelog is written in
 *    transactions and so holds their markers, the last record among them.
 * 3. Each round starts `alertbridge run` again in the same group: it is
 *    assigned the partition, restores its store from the changelog in the
 *    assign callback and logs `store restored partition= records= open=
 *    ms=` (pipeline/commit.c), ms being the time from the restore's start
 *    to the store's readiness. The harness waits for that line, reads it,
 *    and stops the member. The wall time from start-up to the line (group
 *    join included) is printed beside it.
 */

#define MAX_ROUNDS 16
#define POLL_MS    20
#define MARK       "msg=\"store restored\""

struct restored {
        long long records, open, ms;
};

/* The first "store restored" line of \p log, if there is one yet.
 * @returns 1 with \p out filled, 0 if not yet, -1 if unreadable. */
static int find_restored(const char *log, struct restored *out)
{
        char line[2048];
        const char *p, *q, *m;
        int found = 0;
        FILE *f   = fopen(log, "r");

        if (!f)
                return 0;
        while (!found && fgets(line, sizeof(line), f)) {
                if (!strstr(line, MARK))
                        continue;
                p     = strstr(line, " records=");
                q     = strstr(line, " open=");
                m     = strstr(line, " ms=");
                found = p && q && m &&
                                sscanf(p, " records=%lld", &out->records) &&
                                sscanf(q, " open=%lld", &out->open) &&
                                sscanf(m, " ms=%lld", &out->ms)
                            ? 1
                            : -1;
        }
        fclose(f);
        return found;
}

/* One restart: start, wait for the restore line, stop.
 * @returns 0 with \p out and \p wall_s filled, or -1. */
static int restart(struct run *r, char *const argv[], const char *log,
                   struct restored *out, double *wall_s)
{
        int64_t t0       = ab_bench_wall_ns();
        int64_t deadline = t0 + (int64_t)(r->o->timeout_s * 1e9);
        int status = 0, found = 0, exited = 0;
        pid_t pid = e2e_spawn(argv, log);

        if (pid < 0)
                return -1;
        while (!found && ab_bench_wall_ns() < deadline) {
                struct timespec ts = {0, POLL_MS * 1000000L};

                nanosleep(&ts, NULL);
                found = find_restored(log, out);
                if (found < 0)
                        break;
                if (!found && waitpid(pid, &status, WNOHANG) == pid) {
                        exited = 1;
                        break;
                }
        }
        *wall_s = (double)(ab_bench_wall_ns() - t0) / 1e9;
        if (!exited) {
                kill(pid, SIGTERM);
                if (waitpid(pid, &status, 0) != pid)
                        return -1;
        }
        if (found != 1) {
                fprintf(stderr,
                        "bench_e2e: %s: no store restored line (see %s)\n",
                        argv[0], log);
                return -1;
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "bench_e2e: %s failed (see %s)\n", argv[0],
                        log);
                return -1;
        }
        return 0;
}

/* Fill one group's changelog in \p guarantee, then restart it \p rounds
 * times. @returns the median restore ms, or -1. */
static double restore_rounds(struct run *r, const char *guarantee,
                             const char *suffix, uint64_t rounds,
                             long long *open)
{
        const struct opts *o = r->o;
        char group[120], outs[2][160], internal[2][160], cfg[1200], log[1200];
        const char *out_names[2] = {outs[0], outs[1]};
        double ms[MAX_ROUNDS], wall[MAX_ROUNDS];
        char *argv[5];
        struct outcome fill;
        struct restored rs;

        snprintf(group, sizeof(group), "%s.restore%s", r->id, suffix);
        snprintf(outs[0], sizeof(outs[0]), "%s.events", group);
        snprintf(outs[1], sizeof(outs[1]), "%s.dlq", group);
        snprintf(internal[0], sizeof(internal[0]), "%s.alerts", group);
        snprintf(internal[1], sizeof(internal[1]), "%s.lifecycle-changelog",
                 group);
        snprintf(cfg, sizeof(cfg), "%s/restore%s.yaml", o->work, suffix);
        if (e2e_create_topics(r, outs, 2, 1) ||
            e2e_remember_topic(r, internal[0]) ||
            e2e_remember_topic(r, internal[1]) ||
            e2e_write_config(r, cfg, group, outs[0], outs[1], o->threads,
                             "changelog", guarantee))
                return -1;
        argv[0] = (char *)o->alertbridge;
        argv[1] = "run";
        argv[2] = "--config";
        argv[3] = cfg;
        argv[4] = NULL;
        snprintf(log, sizeof(log), "%s/restore%s.fill.log", o->work, suffix);
        e2e_settle(r);
        if (e2e_run_subject(r, argv, log, out_names, 2,
                            (int64_t)(r->expect_events + r->expect_dead),
                            !strcmp(guarantee, "exactly_once"), &fill))
                return -1;
        printf("%s fill: %zu records in %.2f s (%.0f records/s, broker "
               "time); the changelog holds %lld records\n\n",
               guarantee, r->corpus.n, fill.seconds_broker, fill.rps_broker,
               (long long)e2e_high_watermark(r, internal[1]));
        printf("| guarantee | round | changelog records read | open alerts "
               "restored | restore ms (assignment to ready, from the log) | "
               "s from start-up to restored (wall, incl. group join) |\n"
               "|---|---|---|---|---|---|\n");
        for (uint64_t k = 0; k < rounds; k++) {
                snprintf(log, sizeof(log), "%s/restore%s.r%llu.log", o->work,
                         suffix, (unsigned long long)k + 1);
                e2e_settle(r);
                if (restart(r, argv, log, &rs, &wall[k]))
                        return -1;
                ms[k] = (double)rs.ms;
                printf("| %s | %llu | %lld | %lld | %lld | %.2f |\n", guarantee,
                       (unsigned long long)k + 1, rs.records, rs.open, rs.ms,
                       wall[k]);
                fflush(stdout);
        }
        printf("\n");
        *open = rs.open;
        return ab_bench_median(ms, rounds);
}

int e2e_restore_bench(struct run *r)
{
        static const char *const guarantees[] = {"at_least_once",
                                                 "exactly_once"};
        static const char *const suffixes[]   = {"", "-eos"};
        uint64_t rounds = r->o->repeat < MAX_ROUNDS ? r->o->repeat : MAX_ROUNDS;
        double med[2];
        long long open[2];

        for (int g = 0; g < 2; g++) {
                med[g] = restore_rounds(r, guarantees[g], suffixes[g], rounds,
                                        &open[g]);
                if (med[g] < 0)
                        return -1;
        }
        printf("| target (issue 12) | measured (median) | verdict |\n"
               "|---|---|---|\n");
        for (int g = 0; g < 2; g++)
                printf("| restore of 100k open alerts of one partition <= 5 "
                       "s, %s | %.0f ms for %lld open alerts | %s |\n",
                       guarantees[g], med[g], open[g],
                       med[g] <= 5000 ? "met" : "missed");
        return 0;
}
