/* e2e_subject.c - runs one end-to-end benchmark subject as a child process
 * and measures it: output progress, CPU times from /proc, peak memory. */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/benchutil.h"
#include "bench/e2e_int.h"

#define POLL_MS 20

/* User + system seconds of a process (\p tid 0) or one of its threads,
 * from /proc; -1 if unknown. */
static double proc_cpu_s(pid_t pid, pid_t tid)
{
        char path[96], buf[1024], *p;
        unsigned long long ut = 0, st = 0;
        FILE *f;
        size_t n;

        if (tid)
                snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid,
                         (int)tid);
        else
                snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        f = fopen(path, "r");
        if (!f)
                return -1;
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        /* Fields 14 and 15, counted after the ")" that ends the name. */
        p = strrchr(buf, ')');
        if (!p || sscanf(p + 2,
                         "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu "
                         "%llu",
                         &ut, &st) != 2)
                return -1;
        return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/*
 * Peak resident set of process \p pid since its exec, in KiB (VmHWM), or 0.
 * wait4()'s ru_maxrss would not do: Linux carries the high-water mark of
 * the image before exec over, and a forked child starts with the
 * harness's pages, corpus included.
 */
static long proc_hwm_kb(pid_t pid)
{
        char path[64], line[256];
        long kb = 0;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        f = fopen(path, "r");
        if (!f)
                return 0;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
                        break;
        fclose(f);
        return kb;
}

/* The pid of the broker of scripts/kafka-broker.sh, or 0. */
static pid_t broker_pid(void)
{
        const char *dir = getenv("AB_KAFKA_DIR");
        char path[1024];
        int pid = 0;
        FILE *f;

        if (!dir)
                return 0;
        snprintf(path, sizeof(path), "%s/broker.pid", dir);
        f = fopen(path, "r");
        if (!f)
                return 0;
        if (fscanf(f, "%d", &pid) != 1)
                pid = 0;
        fclose(f);
        return (pid_t)pid;
}

/*
 * Wait until the broker is quiet: under 0.05 s of CPU in a second, for at
 * most 60 s. Right after the corpus load, and after each subject, the
 * broker is still busy for a few seconds, and without this the subject
 * that came next paid for it: the first pass-through of every run used
 * 1.7-2.2 times the broker CPU of the later ones and ran 20-30 % slower.
 * A smoke run measures nothing, so it does not wait: right after a
 * broker's start, or after the integration tests, the broker stays busy
 * for most of the 60 s, and the smoke of --latency, which waits five
 * times, took 113-132 s; without the waits it takes about 17.
 * @returns the seconds waited, 0 for a smoke run, or -1 when the broker
 * is not ours to watch.
 */
int e2e_settle(const struct run *r)
{
        pid_t broker;
        double prev, cur;
        int waited;

        if (r->o->smoke)
                return 0;
        broker = broker_pid();
        if (!broker || (prev = proc_cpu_s(broker, 0)) < 0)
                return -1;
        for (waited = 1; waited <= 60; waited++) {
                sleep(1);
                cur = proc_cpu_s(broker, 0);
                if (cur - prev < 0.05)
                        break;
                prev = cur;
        }
        return waited;
}

pid_t e2e_spawn(char *const argv[], const char *log_path)
{
        pid_t pid = fork();

        if (pid == 0) {
                int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

                if (fd >= 0) {
                        dup2(fd, STDOUT_FILENO);
                        dup2(fd, STDERR_FILENO);
                        close(fd);
                }
                execv(argv[0], argv);
                _exit(127);
        }
        return pid;
}

/* The output records and their first and last append times, from the
 * high watermarks and two reads. @returns 0, or -1. */
static int count_outputs(struct run *r, const char *const *outs, size_t nouts,
                         int64_t *count, int64_t *first, int64_t *last)
{
        *count = 0;
        *first = INT64_MAX;
        *last  = -1;
        for (size_t i = 0; i < nouts; i++) {
                int64_t hw = e2e_high_watermark(r, outs[i]);
                int64_t a, b;

                if (hw <= 0)
                        continue;
                *count += hw;
                a = e2e_message_time(r, outs[i], 0);
                b = e2e_message_time(r, outs[i], hw - 1);
                if (a < 0 || b < 0) {
                        fprintf(stderr, "bench_e2e: cannot read %s\n", outs[i]);
                        return -1;
                }
                if (a < *first)
                        *first = a;
                if (b > *last)
                        *last = b;
        }
        return 0;
}

/*
 * Run one subject until its output topics hold \p expect records in all.
 * A transactional subject's high watermarks also count its commit
 * markers: they only say when to start reading its committed outputs,
 * which then give the count and the append times.
 * @returns 0 with \p out filled, or -1.
 */
int e2e_run_subject(struct run *r, char *const argv[], const char *log,
                    const char *const *outs, size_t nouts, int64_t expect,
                    int committed, struct outcome *out)
{
        int64_t t0 = ab_bench_wall_ns(), deadline, total = 0, done = 0;
        int64_t first = INT64_MAX, last = -1;
        pid_t broker   = broker_pid();
        double broker0 = broker ? proc_cpu_s(broker, 0) : -1;
        struct rusage ru;
        int status = 0, exited = 0;
        pid_t pid;

        memset(out, 0, sizeof(*out));
        deadline = t0 + (int64_t)(r->o->timeout_s * 1e9);
        pid      = e2e_spawn(argv, log);
        if (pid < 0) {
                perror("bench_e2e: fork");
                return -1;
        }
        while (total < expect) {
                struct timespec ts = {0, POLL_MS * 1000000L};

                nanosleep(&ts, NULL);
                if (waitpid(pid, &status, WNOHANG) == pid) {
                        exited = 1;
                        fprintf(stderr, "bench_e2e: %s exited early (see %s)\n",
                                argv[0], log);
                        break;
                }
                if (ab_bench_wall_ns() > deadline) {
                        fprintf(stderr,
                                "bench_e2e: %s wrote %lld of %lld records in "
                                "%.0f s (see %s)\n",
                                argv[0], (long long)total, (long long)expect,
                                r->o->timeout_s, log);
                        break;
                }
                total = 0;
                for (size_t i = 0; i < nouts; i++) {
                        int64_t hw = e2e_high_watermark(r, outs[i]);

                        total += hw > 0 ? hw : 0;
                }
        }
        if (committed && total >= expect && !exited) {
                total = e2e_read_committed(r, outs, nouts, expect, deadline,
                                           &first, &last);
                if (total < expect)
                        fprintf(stderr,
                                "bench_e2e: %s committed %lld of %lld records "
                                "(see %s)\n",
                                argv[0], (long long)total, (long long)expect,
                                log);
        }
        done          = ab_bench_wall_ns();
        out->main_s   = proc_cpu_s(pid, pid);
        out->rss_kb   = proc_hwm_kb(pid);
        out->broker_s = broker0 >= 0 ? proc_cpu_s(broker, 0) - broker0 : -1;
        if (!exited) {
                kill(pid, SIGTERM);
                if (wait4(pid, &status, 0, &ru) != pid)
                        return -1;
        } else {
                memset(&ru, 0, sizeof(ru));
        }
        if (total < expect || exited || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0) {
                if (!exited)
                        fprintf(stderr, "bench_e2e: %s failed (see %s)\n",
                                argv[0], log);
                return -1;
        }
        if (committed)
                out->outputs = total;
        else if (count_outputs(r, outs, nouts, &out->outputs, &first, &last))
                return -1;
        if (out->outputs != expect) {
                fprintf(stderr,
                        "bench_e2e: %s wrote %lld records, expected %lld\n",
                        argv[0], (long long)out->outputs, (long long)expect);
                return -1;
        }
        out->seconds_wall = (double)(done - t0) / 1e9;
        out->seconds_broker =
            last > first ? (double)(last - first) / 1e3 : 1e-3;
        out->rps_broker = (double)r->corpus.n / out->seconds_broker;
        out->rps_wall   = (double)r->corpus.n / out->seconds_wall;
        out->cpu_s =
            (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
            (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
        return 0;
}
