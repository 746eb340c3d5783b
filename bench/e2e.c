/* e2e.c - end to end on a real broker: alertbridge run against a pass-through
 * baseline, same records, same run. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "benchconf.h"
#include "benchutil.h"
#include "corpus.h"
#include "mem.h"
#include "processor.h"
#include "timefmt.h"

/*
 * HOW IT WORKS
 * 1. Topics: one raw topic per integration (<run>.raw.<integration>, one
 *    partition each, as examples/pipeline.yaml binds them), and per round
 *    fresh output topics whose messages carry the broker's append time
 *    (message.timestamp.type=LogAppendTime).
 * 2. The mixed corpus is produced once to the raw topics, record i with
 *    timestamp load-time + i ms.
 * 3. The harness reads every record once (warm_up()), so no subject meets
 *    a cold broker. The expected output is computed in-process by the
 *    pipeline's own processor over the same records and timestamps: E
 *    events and D dead letters (the lifecycle merges duplicates, so E is
 *    not a multiple of the records). Integrations keep separate state and
 * nothing expires or is evicted during a run (lifecycle.expire_interval is 1h,
 *    max_open_alerts unlimited), so the consumption order across topics
 *    does not change E.
 * 4. Each round runs three subjects, each in a fresh consumer group that
 *    reads all records from the start, the first one rotating by round:
 *    `bench_passthrough` (raw -> one output topic, N records), `alertbridge
 *    run` (raw -> events + dead letters, E + D records), and `alertbridge
 *    run` with transform.threads 1 (mapping on a thread of its own). Each
 *    subject starts once the broker is quiet (settle()). The harness
 *    polls the output high watermarks every 20 ms until all
 *    expected records are there, reads the subject's CPU times and peak
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
#define POLL_MS    20
#define NRAW       5 /* integrations, one raw topic each */

static const char *const raw_integrations[NRAW] = {
    "alertmanager", "cloudmonitor", "cloudmonitor-event", "generic",
    "network-monitor"};

enum subject {
        SUBJ_PASSTHROUGH = 0,
        SUBJ_ALERTBRIDGE,        /* the default configuration */
        SUBJ_ALERTBRIDGE_THREAD, /* transform.threads: 1 */
        SUBJ__COUNT
};

static const char *const subject_names[SUBJ__COUNT] = {
    "pass-through", "alertbridge", "alertbridge, transform.threads 1"};

/* Names of its consumer group and topics. */
static const char *const subject_tags[SUBJ__COUNT] = {
    "passthrough", "alertbridge", "alertbridge-thread"};

struct opts {
        uint64_t repeat;
        double timeout_s;
        struct ab_bench_corpus_conf corpus;
        const char *work;
        const char *alertbridge;
        const char *passthrough;
        const char *source_dir;
        int keep;
        int smoke;
        int threads;     /* transform.threads of "alertbridge"; -1: default */
        uint64_t warmup; /* rounds run first and left out of the medians */
};

struct run {
        const struct opts *o;
        const char *brokers;
        char id[64];
        char raw[NRAW][160];
        rd_kafka_t *admin; /* producer handle: loads, admin, watermarks */
        struct ab_bench_corpus corpus;
        size_t bytes;
        int64_t base_ms; /* timestamp of record 0 */
        uint64_t expect_events, expect_dead;
        char **created; /* topics to delete at the end */
        size_t ncreated;
};

struct outcome {
        double rps_broker;
        double rps_wall;
        double seconds_broker;
        double seconds_wall;
        double cpu_s;    /* user + system time of the subject */
        double main_s;   /* of its main thread, the one that processes */
        double broker_s; /* of the local broker meanwhile, if known */
        long rss_kb;
        int64_t outputs;
};

/* ---------------------------------------------------------------- kafka */

static int conf_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
        char errstr[256];

        if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) ==
            RD_KAFKA_CONF_OK)
                return 0;
        fprintf(stderr, "bench_e2e: %s: %s\n", name, errstr);
        return -1;
}

static rd_kafka_t *client(rd_kafka_type_t type, const char *brokers,
                          const char *group)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char errstr[256];
        rd_kafka_t *rk;

        if (conf_set(conf, "bootstrap.servers", brokers) ||
            conf_set(conf, "client.id", "bench-e2e") ||
            (type == RD_KAFKA_PRODUCER &&
             (conf_set(conf, "enable.idempotence", "true") ||
              conf_set(conf, "linger.ms", "20"))) ||
            (group && (conf_set(conf, "group.id", group) ||
                       conf_set(conf, "enable.auto.commit", "false")))) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "bench_e2e: client: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
        }
        return rk;
}

static int remember_topic(struct run *r, const char *name)
{
        char **v = ab_realloc(r->created, (r->ncreated + 1) * sizeof(*v));

        if (!v)
                return -1;
        r->created     = v;
        v[r->ncreated] = ab_strdup(name);
        if (!v[r->ncreated])
                return -1;
        r->ncreated++;
        return 0;
}

/* Create \p n single-partition topics; \p append_time: broker timestamps. */
static int create_topics(struct run *r, const char (*names)[160], size_t n,
                         int append_time)
{
        rd_kafka_NewTopic_t *nt[8];
        rd_kafka_queue_t *q = rd_kafka_queue_new(r->admin);
        const rd_kafka_CreateTopics_result_t *res;
        const rd_kafka_topic_result_t **tr;
        rd_kafka_event_t *ev = NULL;
        char errstr[256];
        size_t ntr, made = 0;
        int rc = -1;

        for (; made < n && made < 8; made++) {
                nt[made] = rd_kafka_NewTopic_new(names[made], 1, 1, errstr,
                                                 sizeof(errstr));
                if (!nt[made]) {
                        fprintf(stderr, "bench_e2e: topic %s: %s\n",
                                names[made], errstr);
                        goto out;
                }
                if (append_time &&
                    rd_kafka_NewTopic_set_config(
                        nt[made], "message.timestamp.type", "LogAppendTime"))
                        goto out;
        }
        rd_kafka_CreateTopics(r->admin, nt, made, NULL, q);
        ev  = rd_kafka_queue_poll(q, 30000);
        res = ev ? rd_kafka_event_CreateTopics_result(ev) : NULL;
        if (!res) {
                fprintf(stderr, "bench_e2e: creating topics: %s\n",
                        ev ? rd_kafka_event_error_string(ev) : "timed out");
                goto out;
        }
        tr = rd_kafka_CreateTopics_result_topics(res, &ntr);
        for (size_t i = 0; i < ntr; i++) {
                if (rd_kafka_topic_result_error(tr[i])) {
                        fprintf(stderr, "bench_e2e: creating %s: %s\n",
                                rd_kafka_topic_result_name(tr[i]),
                                rd_kafka_topic_result_error_string(tr[i]));
                        goto out;
                }
                if (remember_topic(r, rd_kafka_topic_result_name(tr[i])))
                        goto out;
        }
        rc = 0;
out:
        if (ev)
                rd_kafka_event_destroy(ev);
        for (size_t i = 0; i < made; i++)
                rd_kafka_NewTopic_destroy(nt[i]);
        rd_kafka_queue_destroy(q);
        return rc;
}

static void delete_topics(struct run *r)
{
        rd_kafka_DeleteTopic_t **dt;
        rd_kafka_queue_t *q;
        rd_kafka_event_t *ev;

        if (!r->ncreated || !r->admin)
                return;
        dt = ab_calloc(r->ncreated, sizeof(*dt));
        q  = rd_kafka_queue_new(r->admin);
        if (dt) {
                for (size_t i = 0; i < r->ncreated; i++)
                        dt[i] = rd_kafka_DeleteTopic_new(r->created[i]);
                rd_kafka_DeleteTopics(r->admin, dt, r->ncreated, NULL, q);
                ev = rd_kafka_queue_poll(q, 30000);
                if (ev)
                        rd_kafka_event_destroy(ev);
                for (size_t i = 0; i < r->ncreated; i++)
                        rd_kafka_DeleteTopic_destroy(dt[i]);
        }
        ab_free(dt);
        rd_kafka_queue_destroy(q);
}

static int64_t high_watermark(struct run *r, const char *topic)
{
        int64_t lo = 0, hi = 0;

        if (rd_kafka_query_watermark_offsets(r->admin, topic, 0, &lo, &hi,
                                             5000))
                return -1;
        return hi;
}

static void dr_count(rd_kafka_t *rk, const rd_kafka_message_t *m, void *op)
{
        (void)rk;
        (void)op;
        if (m->err)
                fprintf(stderr, "bench_e2e: load: %s\n",
                        rd_kafka_err2str(m->err));
}

/* The append time of message \p offset of \p topic, or -1. */
static int64_t message_time(struct run *r, const char *topic, int64_t offset)
{
        rd_kafka_t *c = client(RD_KAFKA_CONSUMER, r->brokers, r->id);
        rd_kafka_topic_partition_list_t *list;
        int64_t t = -1, deadline = ab_bench_wall_ns() + 30000000000LL;

        if (!c)
                return -1;
        list = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(list, topic, 0)->offset = offset;
        if (!rd_kafka_assign(c, list)) {
                while (t < 0 && ab_bench_wall_ns() < deadline) {
                        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 500);
                        rd_kafka_timestamp_type_t type;

                        if (!m)
                                continue;
                        if (!m->err && m->offset == offset)
                                t = rd_kafka_message_timestamp(m, &type);
                        rd_kafka_message_destroy(m);
                }
        }
        rd_kafka_topic_partition_list_destroy(list);
        rd_kafka_consumer_close(c);
        rd_kafka_destroy(c);
        return t;
}

/* ---------------------------------------------------------------- steps */

/*
 * Read every raw record once before the first round. The first reader of
 * freshly written topics finds the broker cold (its fetch path not yet
 * compiled by the JIT, the segments' indexes not yet in memory), and
 * without this pass the first subject of round 1 ran 20-40 % slower than
 * the same subject in later rounds, whichever subject it was.
 * @returns the records read, or -1.
 */
static long long warm_up(struct run *r)
{
        rd_kafka_t *c = client(RD_KAFKA_CONSUMER, r->brokers, r->id);
        rd_kafka_topic_partition_list_t *list;
        int64_t deadline = ab_bench_wall_ns() + 120000000000LL;
        long long n      = 0;

        if (!c)
                return -1;
        list = rd_kafka_topic_partition_list_new(NRAW);
        for (int k = 0; k < NRAW; k++)
                rd_kafka_topic_partition_list_add(list, r->raw[k], 0)->offset =
                    RD_KAFKA_OFFSET_BEGINNING;
        if (!rd_kafka_assign(c, list)) {
                while (n < (long long)r->corpus.n &&
                       ab_bench_wall_ns() < deadline) {
                        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 500);

                        if (!m)
                                continue;
                        if (!m->err)
                                n++;
                        rd_kafka_message_destroy(m);
                }
        }
        rd_kafka_topic_partition_list_destroy(list);
        rd_kafka_consumer_close(c);
        rd_kafka_destroy(c);
        return n == (long long)r->corpus.n ? n : -1;
}

static int load(struct run *r)
{
        rd_kafka_t *p;
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char errstr[256];
        int64_t t0 = ab_bench_wall_ns();
        int rc     = -1;

        if (conf_set(conf, "bootstrap.servers", r->brokers) ||
            conf_set(conf, "enable.idempotence", "true") ||
            conf_set(conf, "linger.ms", "20")) {
                rd_kafka_conf_destroy(conf);
                return -1;
        }
        rd_kafka_conf_set_dr_msg_cb(conf, dr_count);
        p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!p) {
                rd_kafka_conf_destroy(conf);
                return -1;
        }
        for (size_t i = 0; i < r->corpus.n; i++) {
                const struct ab_bench_record *rec = &r->corpus.recs[i];
                const char *topic                 = r->raw[0];
                rd_kafka_resp_err_t err;

                for (int k = 0; k < NRAW; k++)
                        if (!strcmp(raw_integrations[k],
                                    ab_bench_kind_integration(rec->kind)))
                                topic = r->raw[k];
                do {
                        err = rd_kafka_producev(
                            p, RD_KAFKA_V_TOPIC(topic),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_VALUE(
                                (void *)ab_bench_record_data(&r->corpus, i),
                                rec->len),
                            RD_KAFKA_V_TIMESTAMP(r->base_ms + (int64_t)i),
                            RD_KAFKA_V_END);
                        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                                rd_kafka_poll(p, 100);
                } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
                if (err) {
                        fprintf(stderr, "bench_e2e: load: %s\n",
                                rd_kafka_err2str(err));
                        goto out;
                }
                rd_kafka_poll(p, 0);
        }
        if (rd_kafka_flush(p, 120000)) {
                fprintf(stderr, "bench_e2e: load did not complete\n");
                goto out;
        }
        {
                int64_t total = 0;

                for (int k = 0; k < NRAW; k++)
                        total += high_watermark(r, r->raw[k]);
                if (total != (int64_t)r->corpus.n) {
                        fprintf(stderr,
                                "bench_e2e: the raw topics hold %lld records, "
                                "not %zu\n",
                                (long long)total, r->corpus.n);
                        goto out;
                }
        }
        printf("loaded %zu records (%.1f MB) in %.1f s\n", r->corpus.n,
               (double)r->bytes / 1e6, (double)(ab_bench_wall_ns() - t0) / 1e9);
        rc = 0;
out:
        rd_kafka_destroy(p);
        return rc;
}

/* Consumer group (and output topic prefix) of \p subject in \p round. */
static void subject_name(const struct run *r, uint64_t round, int subject,
                         char *out, size_t n)
{
        snprintf(out, n, "%s.r%llu.%s", r->id, (unsigned long long)round,
                 subject_tags[subject]);
}

static int write_config(const struct run *r, const char *path,
                        const char *group, const char *events, const char *dlq,
                        int transform_threads)
{
        char prefix[160];
        struct ab_bench_conf bc = {r->brokers,       group, prefix,
                                   events,           dlq,   r->o->source_dir,
                                   transform_threads};
        struct ab_buf yaml;
        FILE *f;
        int rc = -1;

        snprintf(prefix, sizeof(prefix), "%s.raw.", r->id);
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
};

static ab_err_t count_output(void *arg, const struct ab_output *o)
{
        struct counts *c = arg;

        if (o->kind == AB_OUTPUT_EVENT)
                c->events++;
        else
                c->dead++;
        return AB_OK;
}

/* What alertbridge must write for the loaded records (see step 3). */
static int predict(struct run *r, const char *config_path)
{
        struct ab_pipeline_config *cfg = NULL;
        struct ab_processor *proc      = NULL;
        struct counts c                = {0, 0};
        struct ab_error err;
        char line[700];
        int rc = -1;

        ab_error_clear(&err);
        if (ab_pipeline_config_load(config_path, &cfg, &err) ||
            ab_processor_new(cfg, NULL, &proc, &err)) {
                fprintf(stderr, "bench_e2e: %s: %s\n", config_path,
                        ab_error_format(&err, line, sizeof(line)));
                goto out;
        }
        for (size_t i = 0; i < r->corpus.n; i++) {
                const struct ab_bench_record *rec = &r->corpus.recs[i];
                struct ab_input in;

                memset(&in, 0, sizeof(in));
                for (int k = 0; k < NRAW; k++)
                        if (!strcmp(raw_integrations[k],
                                    ab_bench_kind_integration(rec->kind)))
                                in.topic = r->raw[k];
                in.offset       = (int64_t)i;
                in.timestamp_ms = r->base_ms + (int64_t)i;
                in.value =
                    ab_str_make(ab_bench_record_data(&r->corpus, i), rec->len);
                if (ab_processor_handle(proc, &in, count_output, &c))
                        goto out;
        }
        r->expect_events = c.events;
        r->expect_dead   = c.dead;
        rc               = 0;
out:
        ab_processor_destroy(proc);
        ab_pipeline_config_destroy(cfg);
        return rc;
}

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
 * @returns the seconds waited, or -1 when the broker is not ours to watch.
 */
static int settle(void)
{
        pid_t broker = broker_pid();
        double prev, cur;
        int waited;

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

static pid_t spawn(char *const argv[], const char *log_path)
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

/*
 * Run one subject until its output topics hold \p expect records in all.
 * @returns 0 with \p out filled, or -1.
 */
static int run_subject(struct run *r, char *const argv[], const char *log,
                       const char *const *outs, size_t nouts, int64_t expect,
                       struct outcome *out)
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
        pid      = spawn(argv, log);
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
                        int64_t hw = high_watermark(r, outs[i]);

                        total += hw > 0 ? hw : 0;
                }
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
        out->outputs = 0;
        for (size_t i = 0; i < nouts; i++) {
                int64_t hw = high_watermark(r, outs[i]);
                int64_t a, b;

                if (hw <= 0)
                        continue;
                out->outputs += hw;
                a = message_time(r, outs[i], 0);
                b = message_time(r, outs[i], hw - 1);
                if (a < 0 || b < 0) {
                        fprintf(stderr, "bench_e2e: cannot read %s\n", outs[i]);
                        return -1;
                }
                if (a < first)
                        first = a;
                if (b > last)
                        last = b;
        }
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

static int run_round(struct run *r, uint64_t round,
                     struct outcome res[SUBJ__COUNT])
{
        char name[SUBJ__COUNT][160], outs[SUBJ__COUNT][2][176];
        char topics[5][160], cfg[SUBJ__COUNT][1200], log[SUBJ__COUNT][1200];
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
        if (create_topics(r, (const char(*)[160])topics, nt, 1) ||
            write_config(r, cfg[SUBJ_ALERTBRIDGE], name[SUBJ_ALERTBRIDGE],
                         outs[SUBJ_ALERTBRIDGE][0], outs[SUBJ_ALERTBRIDGE][1],
                         r->o->threads) ||
            write_config(r, cfg[SUBJ_ALERTBRIDGE_THREAD],
                         name[SUBJ_ALERTBRIDGE_THREAD],
                         outs[SUBJ_ALERTBRIDGE_THREAD][0],
                         outs[SUBJ_ALERTBRIDGE_THREAD][1], 1))
                return -1;
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
        for (int s = SUBJ_ALERTBRIDGE; s < SUBJ__COUNT; s++) {
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

                settle();
                if (run_subject(r, argv[s], log[s], out_names[s],
                                s == SUBJ_PASSTHROUGH ? 1 : 2, expect, &res[s]))
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
                "       [--warmup-rounds N]\n\n"
                "Needs AB_KAFKA_BROKERS (scripts/kafka-broker.sh start; eval "
                "\"$(scripts/kafka-broker.sh env)\").\n"
                "Loads the mixed corpus, then per round runs the "
                "pass-through baseline and\n"
                "`alertbridge run` over it and prints a Markdown table.\n");
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
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0}};
        int c;

        memset(o, 0, sizeof(*o));
        ab_bench_corpus_defaults(&o->corpus);
        *records      = 200000;
        o->repeat     = 3;
        o->timeout_s  = 600;
        o->work       = "bench-e2e";
        o->threads    = -1;
        o->warmup     = 1;
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
        if (o->smoke) {
                *records     = 2000;
                o->repeat    = 1;
                o->warmup    = 0;
                o->timeout_s = 300;
        }
        if (!o->alertbridge || !o->passthrough || optind != argc || !*records)
                return -1;
        return 0;
}

int main(int argc, char **argv)
{
        struct outcome res[MAX_REPEAT][SUBJ__COUNT];
        double rps[SUBJ__COUNT][MAX_REPEAT], ratio[SUBJ__COUNT][MAX_REPEAT];
        char cfg0[1200], group[160], events[160], dlq[160];
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
                         raw_integrations[k]);
        o.corpus.count = (size_t)records;
        if (ab_bench_corpus_generate(&o.corpus, &r.corpus)) {
                fprintf(stderr, "bench_e2e: invalid corpus settings\n");
                return 2;
        }
        for (size_t i = 0; i < r.corpus.n; i++)
                r.bytes += r.corpus.recs[i].len;
        r.admin = client(RD_KAFKA_PRODUCER, r.brokers, NULL);
        if (!r.admin || create_topics(&r, r.raw, NRAW, 0))
                goto out;
        printf("broker %s, run %s\n", r.brokers, r.id);
        r.base_ms = ab_time_now_ms();
        if (load(&r))
                goto out;
        snprintf(group, sizeof(group), "%s.predict", r.id);
        snprintf(events, sizeof(events), "%s.predict.events", r.id);
        snprintf(dlq, sizeof(dlq), "%s.predict.dlq", r.id);
        snprintf(cfg0, sizeof(cfg0), "%s/alertbridge.predict.yaml", o.work);
        if (write_config(&r, cfg0, group, events, dlq, -1) || predict(&r, cfg0))
                goto out;
        t_warm = ab_bench_wall_ns();
        if (warm_up(&r) < 0) {
                fprintf(stderr, "bench_e2e: the warm-up read did not see "
                                "every record\n");
                goto out;
        }
        printf("warm-up: read all records once in %.1f s\n",
               (double)(ab_bench_wall_ns() - t_warm) / 1e9);
        printf("expected from alertbridge: %llu events, %llu dead letters\n\n",
               (unsigned long long)r.expect_events,
               (unsigned long long)r.expect_dead);
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
                }
        }
        printf("\n| subject | records/s (broker time, median) | / "
               "pass-through (median of per-round ratios) |\n|---|---|---|\n");
        for (int s = 0; s < SUBJ__COUNT; s++)
                printf("| %s | %.0f | %.2f |\n", subject_names[s],
                       ab_bench_median(rps[s], o.repeat),
                       ab_bench_median(ratio[s], o.repeat));
        rc = 0;
out:
        if (rc)
                fprintf(stderr, "bench_e2e: failed\n");
        if (!o.keep)
                delete_topics(&r);
        for (size_t i = 0; i < r.ncreated; i++)
                ab_free(r.created[i]);
        ab_free(r.created);
        if (r.admin)
                rd_kafka_destroy(r.admin);
        ab_bench_corpus_fini(&r.corpus);
        return rc;
}
