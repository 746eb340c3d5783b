/* e2e_latency.c - the latency benchmark on a real broker: raw record to
 * event through the two-stage pipeline at half its maximum rate (issue 16),
 * in at_least_once and exactly_once. */
#define _GNU_SOURCE /* memmem */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/benchutil.h"
#include "bench/e2e_int.h"
#include "core/mem.h"
#include "pipeline/config.h"

/*
 * HOW IT WORKS
 * 1. The corpus is Alertmanager webhooks only (e2e.c, --latency), loaded
 *    once to the run's alertmanager raw topic. Per guarantee, first the
 *    maximum: `alertbridge run` (state.store changelog, a fresh group)
 *    over the whole loaded corpus, measured by e2e_run_subject() exactly
 *    as the end-to-end benchmark measures it (input records over the
 *    broker-time span of the outputs).
 * 2. Then the paced phase, in a fresh group with fresh raw, events and
 *    dead-letter topics, all with message.timestamp.type=LogAppendTime.
 *    The harness produces corpus records (repeated from the start when
 *    the phase needs more) with a W3C `traceparent` header whose trace-id
 *    is a run nonce followed by the record's sequence number.
 *    alertbridge carries an input record's trace context to every event
 *    the record causes, across <group>.alerts (pipeline/alert_record.c):
 *    the structured event's "traceparent" member names its input record.
 * 3. Both times come from the broker. The input record's: the delivery
 *    report, which for a LogAppendTime topic carries the broker's append
 *    time (librdkafka takes it from the produce response; every report's
 *    timestamp type is checked to be RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME,
 *    and the first and last record's are compared with the append times
 *    read back from the raw topic). The event's: its own append time, read
 *    by a consumer thread (read_committed) that tails the events and
 *    dead-letter topics from the start. That thread also notes when it
 *    received each event (the harness's clock, the broker's host for the
 *    local broker): "visible" latency, what a read_committed consumer
 *    waits. In exactly_once an event is appended when produced, but
 *    visible only once its transaction commits, every commit interval.
 * 4. Start-up: probe records, one every 200 ms, until the reader sees the
 *    first output (the subject has joined, been assigned and processes);
 *    one second later the paced phase starts at --rate-share (default
 *    0.5, issue 16's half) of the maximum of step 1, record i due at
 *    start + i / rate (absolute sleeps in ticks of 1 ms: the records due
 *    within a tick leave together; a late record goes at once), for
 *    --seconds. Probes are left out.
 * 5. The harness predicts the outputs of every prefix of the input with
 *    the pipeline's own processor (e2e_predict()) and waits until the
 *    reader has seen exactly that many events and dead letters, then
 *    stops the subject. Latency is per event: an input record that caused
 *    no event (a repeat of an open alert, which the lifecycle merges, or a
 *    dead letter) has nothing to match; one that closed or opened two
 *    alerts counts twice. Each matched event is also written to
 *    <work>/latency-<subject>.tsv.
 * 6. With --passthrough, bench_passthrough runs steps 2 to 5 too, between
 *    the two, at at_least_once's rate: a floor of the harness, the broker
 *    and a plain consume-and-produce (it copies each record with its
 *    headers, so the copy's "traceparent" header names the input).
 */

#define GOAL_MS      10      /* issue 16: at_least_once p99 */
#define PROBE_MS     200     /* between start-up probes */
#define PACE_TICK_NS 1000000 /* pace(): records this close leave together */
#define MAX_PROBES   300     /* one minute of probes */
#define SPAN_ID      "00f067aa0ba902b7"

enum { ALO, PASS, EOS, NSUBJ };

/* In the order they run; the pass-through (only with --passthrough) at
 * at_least_once's rate. */
static const struct {
        const char *tag;
        const char *guarantee; /* NULL: the pass-through */
        const char *name;
} subjects[NSUBJ] = {
    {"alo", "at_least_once", "at_least_once"},
    {"passthrough", NULL, "pass-through (at_least_once's rate)"},
    {"eos", "exactly_once", "exactly_once"}};

/* One event read back: the input record that caused it (its sequence
 * number), its append time, and when the reader received it. */
struct seen {
        uint64_t seq;
        int64_t append_ms, got_ms;
};

/* The consumer thread of step 3. */
struct reader {
        rd_kafka_t *c;
        const char *events; /* topic name; the other one is dead letters */
        uint64_t nonce;
        pthread_t thread;
        atomic_int stop;
        atomic_llong outputs; /* events and dead letters read */
        struct seen *seen;    /* owned by the thread until it is joined */
        size_t nseen, cap;
        long long unmatched; /* events without one of our trace-ids */
        long long bad_type;  /* outputs without a log-append time */
        int nomem;
};

/* The producer of step 2; its delivery reports run in rd_kafka_poll(). */
struct feed {
        rd_kafka_t *p;
        uint64_t nonce;
        int64_t *in_ms; /* append time of each sequence number */
        size_t cap;
        long long delivered, failed, bad_type;
};

/* What one guarantee measured. */
struct result {
        double max_rps, rate, achieved;
        int64_t commit_ms;
        uint64_t records, events, with_event;
        int64_t append[4], visible[4]; /* p50, p99, p99.9, max in ms */
};

static int64_t real_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int conf_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
        char errstr[256];

        if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) ==
            RD_KAFKA_CONF_OK)
                return 0;
        fprintf(stderr, "bench_e2e: %s: %s\n", name, errstr);
        return -1;
}

/* The sequence number in traceparent \p p, if its trace-id starts with
 * \p nonce. @returns 0, or -1. */
static int trace_seq(const char *p, size_t len, uint64_t nonce, uint64_t *seq)
{
        char hex[17];

        if (len < 3 + 32 || memcmp(p, "00-", 3))
                return -1;
        memcpy(hex, p + 3, 16);
        hex[16] = '\0';
        if (strtoull(hex, NULL, 16) != nonce)
                return -1;
        memcpy(hex, p + 3 + 16, 16);
        *seq = strtoull(hex, NULL, 16);
        return 0;
}

/* The sequence number an output names: by its "traceparent" header (the
 * pass-through copies the input's headers), else by the "traceparent"
 * member of the structured event. @returns 0, or -1. */
static int output_seq(const rd_kafka_message_t *m, uint64_t nonce,
                      uint64_t *seq)
{
        static const char pat[] = "\"traceparent\":\"";
        rd_kafka_headers_t *hdrs;
        const void *val;
        const char *v = m->payload, *p;
        size_t size;

        if (!rd_kafka_message_headers(m, &hdrs) &&
            !rd_kafka_header_get_last(hdrs, "traceparent", &val, &size))
                return val ? trace_seq(val, size, nonce, seq) : -1;
        p = v ? memmem(v, m->len, pat, sizeof(pat) - 1) : NULL;
        if (!p)
                return -1;
        p += sizeof(pat) - 1;
        return trace_seq(p, m->len - (size_t)(p - v), nonce, seq);
}

static void note_event(struct reader *rd, const rd_kafka_message_t *m,
                       int64_t got)
{
        rd_kafka_timestamp_type_t type;
        int64_t t = rd_kafka_message_timestamp(m, &type);
        uint64_t seq;

        if (type != RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME)
                rd->bad_type++;
        if (output_seq(m, rd->nonce, &seq)) {
                rd->unmatched++;
                return;
        }
        if (rd->nseen == rd->cap) {
                size_t cap         = rd->cap ? 2 * rd->cap : 4096;
                struct seen *grown = ab_realloc(rd->seen, cap * sizeof(*grown));

                if (!grown) {
                        rd->nomem = 1;
                        return;
                }
                rd->seen = grown;
                rd->cap  = cap;
        }
        rd->seen[rd->nseen++] = (struct seen){seq, t, got};
}

static void *read_outputs(void *arg)
{
        struct reader *rd = arg;

        while (!atomic_load(&rd->stop)) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rd->c, 100);
                int64_t got           = real_ms();

                if (!m)
                        continue;
                if (!m->err) {
                        if (!strcmp(rd_kafka_topic_name(m->rkt), rd->events))
                                note_event(rd, m, got);
                        atomic_fetch_add(&rd->outputs, 1);
                }
                rd_kafka_message_destroy(m);
        }
        return NULL;
}

/* Start the reader on \p outs (events first). @returns 0 or -1. */
static int reader_start(struct run *r, struct reader *rd,
                        const char (*outs)[160], uint64_t nonce)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_topic_partition_list_t *list;
        char errstr[256], group[200];
        int rc = -1;

        memset(rd, 0, sizeof(*rd));
        rd->events = outs[0];
        rd->nonce  = nonce;
        snprintf(group, sizeof(group), "%s.latency-reader", r->id);
        if (conf_set(conf, "bootstrap.servers", r->brokers) ||
            conf_set(conf, "client.id", "bench-e2e-latency") ||
            conf_set(conf, "group.id", group) ||
            conf_set(conf, "enable.auto.commit", "false") ||
            conf_set(conf, "isolation.level", "read_committed") ||
            conf_set(conf, "fetch.wait.max.ms", "10")) {
                rd_kafka_conf_destroy(conf);
                return -1;
        }
        rd->c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        if (!rd->c) {
                fprintf(stderr, "bench_e2e: reader: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
                return -1;
        }
        list = rd_kafka_topic_partition_list_new(2);
        for (int i = 0; i < 2; i++)
                rd_kafka_topic_partition_list_add(list, outs[i], 0)->offset =
                    RD_KAFKA_OFFSET_BEGINNING;
        if (!rd_kafka_assign(rd->c, list) &&
            !pthread_create(&rd->thread, NULL, read_outputs, rd))
                rc = 0;
        rd_kafka_topic_partition_list_destroy(list);
        if (rc) {
                rd_kafka_destroy(rd->c);
                rd->c = NULL;
        }
        return rc;
}

/* Stop and join the thread, close the consumer; the results stay. */
static void reader_stop(struct reader *rd)
{
        if (!rd->c)
                return;
        atomic_store(&rd->stop, 1);
        pthread_join(rd->thread, NULL);
        rd_kafka_consumer_close(rd->c);
        rd_kafka_destroy(rd->c);
        rd->c = NULL;
}

static void delivered(rd_kafka_t *rk, const rd_kafka_message_t *m, void *op)
{
        struct feed *f = op;
        uint64_t seq   = (uint64_t)(uintptr_t)m->_private;
        rd_kafka_timestamp_type_t type;
        int64_t t;

        (void)rk;
        if (m->err || seq >= f->cap) {
                f->failed++;
                return;
        }
        t = rd_kafka_message_timestamp(m, &type);
        if (type != RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME)
                f->bad_type++;
        f->in_ms[seq] = t;
        f->delivered++;
}

static rd_kafka_t *feed_producer(struct run *r, struct feed *f)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char errstr[256];
        rd_kafka_t *p;

        /* linger.ms 0: each record leaves when it is due, not in batches. */
        if (conf_set(conf, "bootstrap.servers", r->brokers) ||
            conf_set(conf, "client.id", "bench-e2e-latency") ||
            conf_set(conf, "enable.idempotence", "true") ||
            conf_set(conf, "linger.ms", "0")) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        rd_kafka_conf_set_dr_msg_cb(conf, delivered);
        rd_kafka_conf_set_opaque(conf, f);
        p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!p) {
                fprintf(stderr, "bench_e2e: producer: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
        }
        return p;
}

/* Produce record \p seq (corpus record seq mod n) to its raw topic among
 * \p raw, with its traceparent. @returns 0 or -1. */
static int produce_one(struct run *r, struct feed *f, const char (*raw)[160],
                       uint64_t seq)
{
        size_t j                          = (size_t)(seq % r->corpus.n);
        const struct ab_bench_record *rec = &r->corpus.recs[j];
        const char *topic                 = raw[0];
        rd_kafka_resp_err_t err;
        char tp[64];

        for (int k = 0; k < NRAW; k++)
                if (!strcmp(e2e_raw_integrations[k],
                            ab_bench_kind_integration(rec->kind)))
                        topic = raw[k];
        snprintf(tp, sizeof(tp),
                 "00-%016" PRIx64 "%016" PRIx64 "-" SPAN_ID "-01", f->nonce,
                 seq);
        do {
                err = rd_kafka_producev(
                    f->p, RD_KAFKA_V_TOPIC(topic),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_VALUE(
                        (void *)ab_bench_record_data(&r->corpus, j), rec->len),
                    RD_KAFKA_V_HEADER("traceparent", tp, -1),
                    RD_KAFKA_V_OPAQUE((void *)(uintptr_t)seq), RD_KAFKA_V_END);
                if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        rd_kafka_poll(f->p, 10);
        } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
        if (err) {
                fprintf(stderr, "bench_e2e: produce: %s\n",
                        rd_kafka_err2str(err));
                return -1;
        }
        return 0;
}

/* Records \p from .. from + n - 1 at \p rate per second (step 4). A
 * sleep per record (with the kernel's timer slack, 50 us) held the
 * harness to about 26k records/s; it now sleeps only for a record due at
 * least PACE_TICK_NS ahead, and the records due within that tick leave
 * together, as a producer's batch would.
 * @returns the rate achieved, or -1. */
static double pace(struct run *r, struct feed *f, const char (*raw)[160],
                   uint64_t from, uint64_t n, double rate)
{
        int64_t start = ab_bench_wall_ns(), end;

        for (uint64_t i = 0; i < n; i++) {
                int64_t due = start + (int64_t)((double)i * 1e9 / rate);

                if (due - ab_bench_wall_ns() >= PACE_TICK_NS) {
                        struct timespec ts = {(time_t)(due / 1000000000),
                                              (long)(due % 1000000000)};

                        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
                                        NULL);
                }
                if (produce_one(r, f, raw, from + i))
                        return -1;
                rd_kafka_poll(f->p, 0);
        }
        end = ab_bench_wall_ns();
        return n > 1 && end > start
                   ? (double)(n - 1) * 1e9 / (double)(end - start)
                   : rate;
}

static int cmp_i64(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

        return (x > y) - (x < y);
}

/* p50, p99, p99.9 and max of \p n sorted values (nearest rank). */
static void percentiles(const int64_t *v, size_t n, int64_t out[4])
{
        static const double q[3] = {0.50, 0.99, 0.999};

        memset(out, 0, 4 * sizeof(*out));
        if (!n)
                return;
        for (int i = 0; i < 3; i++) {
                size_t rank = (size_t)(q[i] * (double)n + 0.999999);

                out[i] = v[rank ? rank - 1 : 0];
        }
        out[3] = v[n - 1];
}

/* The figures of step 5 from the reader's events and the input times;
 * each matched event is also written to \p tsv, one line each: sequence
 * number, input append ms, event append ms, receipt ms (for a closer look
 * at the tail, e.g. over time). */
static int summarize(const struct reader *rd, const struct feed *f,
                     uint64_t probes, const char *tsv, struct result *res)
{
        int64_t *app = ab_calloc(rd->nseen + 1, sizeof(*app));
        int64_t *vis = ab_calloc(rd->nseen + 1, sizeof(*vis));
        uint8_t *hit = ab_calloc(f->cap, 1);
        FILE *out    = fopen(tsv, "w");
        size_t n     = 0;
        int rc       = -1;

        if (!app || !vis || !hit || !out)
                goto out;
        res->with_event = 0;
        for (size_t i = 0; i < rd->nseen; i++) {
                const struct seen *s = &rd->seen[i];

                if (s->seq >= f->cap) {
                        fprintf(stderr,
                                "bench_e2e: an event names record "
                                "%" PRIu64 ", never produced\n",
                                s->seq);
                        goto out;
                }
                if (s->seq < probes)
                        continue;
                app[n] = s->append_ms - f->in_ms[s->seq];
                vis[n] = s->got_ms - f->in_ms[s->seq];
                n++;
                fprintf(out, "%" PRIu64 "\t%lld\t%lld\t%lld\n", s->seq,
                        (long long)f->in_ms[s->seq], (long long)s->append_ms,
                        (long long)s->got_ms);
                res->with_event += !hit[s->seq];
                hit[s->seq] = 1;
        }
        qsort(app, n, sizeof(*app), cmp_i64);
        qsort(vis, n, sizeof(*vis), cmp_i64);
        percentiles(app, n, res->append);
        percentiles(vis, n, res->visible);
        res->events = n;
        rc          = ferror(out) ? -1 : 0;
out:
        if (out && fclose(out))
                rc = -1;
        if (rc)
                fprintf(stderr, "bench_e2e: cannot summarize into %s\n", tsv);
        ab_free(app);
        ab_free(vis);
        ab_free(hit);
        return rc;
}

/* Step 1: the subject's records/s over the loaded corpus, or -1. */
static double max_rate(struct run *r, int s)
{
        char group[120], outs[2][160], internal[200], cfg[1200], log[1200];
        const char *out_names[2] = {outs[0], outs[1]};
        char *argv[5];
        struct outcome res;

        snprintf(group, sizeof(group), "%s.latmax-%s", r->id, subjects[s].tag);
        snprintf(outs[0], sizeof(outs[0]), "%s.events", group);
        snprintf(outs[1], sizeof(outs[1]), "%s.dlq", group);
        snprintf(cfg, sizeof(cfg), "%s/latency-max-%s.yaml", r->o->work,
                 subjects[s].tag);
        snprintf(log, sizeof(log), "%s/latency-max-%s.log", r->o->work,
                 subjects[s].tag);
        if (e2e_create_topics(r, outs, 2, 1) ||
            e2e_write_config(r, cfg, group, outs[0], outs[1], r->o->threads,
                             "changelog", subjects[s].guarantee))
                return -1;
        snprintf(internal, sizeof(internal), "%s.alerts", group);
        if (e2e_remember_topic(r, internal))
                return -1;
        snprintf(internal, sizeof(internal), "%s.lifecycle-changelog", group);
        if (e2e_remember_topic(r, internal))
                return -1;
        argv[0] = (char *)r->o->alertbridge;
        argv[1] = "run";
        argv[2] = "--config";
        argv[3] = cfg;
        argv[4] = NULL;
        e2e_settle(r);
        if (e2e_run_subject(r, argv, log, out_names, 2,
                            (int64_t)(r->expect_events + r->expect_dead),
                            s == EOS, &res))
                return -1;
        return res.rps_broker;
}

/* The commit interval of the configuration at \p path, or -1. */
static int64_t commit_interval_ms(const char *path)
{
        struct ab_pipeline_config *cfg = NULL;
        struct ab_error err;
        int64_t ms = -1;

        ab_error_clear(&err);
        if (!ab_pipeline_config_load(path, &cfg, &err))
                ms = cfg->processing.commit_interval_ms;
        ab_pipeline_config_destroy(cfg);
        return ms;
}

/* Check the delivery report's time of record \p seq, at \p offset of
 * \p topic, against the log. @returns 0 or -1. */
static int check_in_time(struct run *r, const struct feed *f, const char *topic,
                         uint64_t seq)
{
        int64_t t = e2e_message_time(r, topic, (int64_t)seq);

        if (t == f->in_ms[seq])
                return 0;
        fprintf(stderr,
                "bench_e2e: record %" PRIu64 ": delivery report time %lld, "
                "append time in the log %lld\n",
                seq, (long long)f->in_ms[seq], (long long)t);
        return -1;
}

/* Steps 2 to 5 for subject \p s. @returns 0 with \p res filled, or -1. */
static int paced(struct run *r, int s, struct result *res)
{
        char group[120], topics[NRAW + 2][160], internal[200], cfg[1200];
        char log[1200], prefix[128], tsv[1200];
        uint64_t n = (uint64_t)(res->rate * r->o->seconds + 0.5), probes = 0;
        uint64_t nonce  = ((uint64_t)real_ms() << 16) ^ (uint64_t)getpid() ^ 1;
        uint64_t events = 0, dead = 0;
        int64_t deadline, expect;
        uint32_t *cum    = NULL;
        struct reader rd = {0};
        struct feed f    = {0};
        char *argv[8 + NRAW];
        int status = 0, rc = -1, exited = 0, na = 0;
        pid_t pid = -1;

        snprintf(group, sizeof(group), "%s.lat-%s", r->id, subjects[s].tag);
        snprintf(prefix, sizeof(prefix), "%s.raw.", group);
        for (int k = 0; k < NRAW; k++)
                snprintf(topics[k], sizeof(topics[k]), "%s%s", prefix,
                         e2e_raw_integrations[k]);
        snprintf(topics[NRAW], sizeof(topics[0]), "%s.events", group);
        snprintf(topics[NRAW + 1], sizeof(topics[0]), "%s.dlq", group);
        snprintf(cfg, sizeof(cfg), "%s/latency-%s.yaml", r->o->work,
                 subjects[s].tag);
        snprintf(log, sizeof(log), "%s/latency-%s.log", r->o->work,
                 subjects[s].tag);
        snprintf(tsv, sizeof(tsv), "%s/latency-%s.tsv", r->o->work,
                 subjects[s].tag);
        if (n < 2)
                n = 2;
        f.nonce = nonce;
        f.cap   = MAX_PROBES + n;
        f.in_ms = ab_calloc(f.cap, sizeof(*f.in_ms));
        cum     = ab_calloc(f.cap, sizeof(*cum));
        if (!f.in_ms || !cum || e2e_create_topics(r, topics, NRAW + 2, 1))
                goto out;
        if (!subjects[s].guarantee) {
                /* Every record is one output: its copy. */
                for (uint64_t i = 0; i < f.cap; i++)
                        cum[i] = (uint32_t)(i + 1);
                res->commit_ms = -1;
                argv[na++]     = (char *)r->o->passthrough;
                argv[na++]     = "--brokers";
                argv[na++]     = (char *)r->brokers;
                argv[na++]     = "--group";
                argv[na++]     = group;
                argv[na++]     = "--to";
                argv[na++]     = topics[NRAW];
                for (int k = 0; k < NRAW; k++)
                        argv[na++] = topics[k];
        } else {
                if (e2e_predict(r, r->predict_cfg, f.cap, cum, &events, &dead,
                                NULL) ||
                    e2e_write_config_at(r, cfg, prefix, group, topics[NRAW],
                                        topics[NRAW + 1], r->o->threads,
                                        "changelog", subjects[s].guarantee))
                        goto out;
                snprintf(internal, sizeof(internal), "%s.alerts", group);
                if (e2e_remember_topic(r, internal))
                        goto out;
                snprintf(internal, sizeof(internal), "%s.lifecycle-changelog",
                         group);
                if (e2e_remember_topic(r, internal))
                        goto out;
                res->commit_ms = commit_interval_ms(cfg);
                argv[na++]     = (char *)r->o->alertbridge;
                argv[na++]     = "run";
                argv[na++]     = "--config";
                argv[na++]     = cfg;
        }
        argv[na] = NULL;
        f.p      = feed_producer(r, &f);
        if (!f.p || reader_start(r, &rd, topics + NRAW, nonce))
                goto out;
        e2e_settle(r);
        pid      = e2e_spawn(argv, log);
        deadline = ab_bench_wall_ns() + (int64_t)(r->o->timeout_s * 1e9);
        if (pid < 0)
                goto out;
        while (!atomic_load(&rd.outputs)) {
                struct timespec ts = {0, PROBE_MS * 1000000L};

                if (probes == MAX_PROBES ||
                    waitpid(pid, &status, WNOHANG) == pid) {
                        fprintf(stderr,
                                "bench_e2e: no output from %s (see "
                                "%s)\n",
                                argv[0], log);
                        goto out;
                }
                if (produce_one(r, &f, topics, probes++))
                        goto out;
                rd_kafka_poll(f.p, 0);
                nanosleep(&ts, NULL);
        }
        sleep(1);
        res->achieved = pace(r, &f, topics, probes, n, res->rate);
        if (res->achieved < 0 || rd_kafka_flush(f.p, 60000)) {
                fprintf(stderr, "bench_e2e: the paced input did not "
                                "complete\n");
                goto out;
        }
        res->records = n;
        expect       = (int64_t)cum[probes + n - 1];
        while (atomic_load(&rd.outputs) < expect &&
               ab_bench_wall_ns() < deadline) {
                struct timespec ts = {0, 20000000L};

                if (waitpid(pid, &status, WNOHANG) == pid) {
                        exited = 1;
                        break;
                }
                nanosleep(&ts, NULL);
        }
        /* A moment for anything beyond the prediction to show. */
        sleep(1);
        if (!exited) {
                kill(pid, SIGTERM);
                if (waitpid(pid, &status, 0) != pid)
                        goto out;
        }
        pid = -1;
        reader_stop(&rd);
        if (exited || !WIFEXITED(status) || WEXITSTATUS(status)) {
                fprintf(stderr, "bench_e2e: %s failed (see %s)\n", argv[0],
                        log);
                goto out;
        }
        if (atomic_load(&rd.outputs) != expect || rd.unmatched || rd.nomem ||
            rd.bad_type || f.failed || f.bad_type ||
            f.delivered != (long long)(probes + n)) {
                fprintf(stderr,
                        "bench_e2e: %s: %lld outputs (expected %lld), %lld "
                        "events without our trace-id, %lld outputs and %lld "
                        "inputs without a log-append time, %lld of %llu "
                        "inputs delivered (see %s)\n",
                        subjects[s].name, (long long)atomic_load(&rd.outputs),
                        (long long)expect, rd.unmatched, rd.bad_type,
                        f.bad_type, f.delivered,
                        (unsigned long long)(probes + n), log);
                goto out;
        }
        if (check_in_time(r, &f, topics[0], 0) ||
            check_in_time(r, &f, topics[0], probes + n - 1) ||
            summarize(&rd, &f, probes, tsv, res))
                goto out;
        rc = 0;
out:
        if (pid > 0) {
                kill(pid, SIGTERM);
                waitpid(pid, &status, 0);
        }
        reader_stop(&rd);
        if (f.p)
                rd_kafka_destroy(f.p);
        ab_free(rd.seen);
        ab_free(f.in_ms);
        ab_free(cum);
        return rc;
}

static void print_result(int s, const struct result *x)
{
        char commit[24], max[24];

        snprintf(commit, sizeof(commit), "%lld", (long long)x->commit_ms);
        snprintf(max, sizeof(max), "%.0f", x->max_rps);
        printf("| %s | %s | %s | %.0f / %.0f | %.1f | %llu | %llu (%llu) | "
               "%lld | %lld | %lld | %lld | %lld | %lld | %lld | %lld |\n",
               subjects[s].name, subjects[s].guarantee ? commit : "-",
               subjects[s].guarantee && x->max_rps > 0 ? max : "-", x->rate,
               x->achieved, (double)x->records / x->achieved,
               (unsigned long long)x->records, (unsigned long long)x->events,
               (unsigned long long)x->with_event, (long long)x->append[0],
               (long long)x->append[1], (long long)x->append[2],
               (long long)x->append[3], (long long)x->visible[0],
               (long long)x->visible[1], (long long)x->visible[2],
               (long long)x->visible[3]);
        fflush(stdout);
}

int e2e_latency_bench(struct run *r)
{
        struct result res[NSUBJ];

        memset(res, 0, sizeof(res));
        printf("Only input records that cause an event can be matched: a "
               "firing repeat of an open alert (merged) or a rejected "
               "record causes none. Probe records before the paced phase "
               "are left out. ms from the input record's broker append "
               "time to the event's (append), and to its receipt by a "
               "read_committed consumer (visible).\n\n"
               "| subject | commit interval ms | max records/s (broker "
               "time) | rate used records/s (target / achieved) | s | input "
               "records | events matched (input records with an event) | "
               "append p50 | p99 | p99.9 | max | visible p50 | p99 | p99.9 "
               "| max |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---"
               "|\n");
        fflush(stdout);
        for (int s = 0; s < NSUBJ; s++) {
                if (!subjects[s].guarantee && !r->o->passthrough)
                        continue;
                if (r->o->rate > 0) {
                        res[s].max_rps = 0; /* not measured */
                        res[s].rate    = r->o->rate;
                } else {
                        res[s].max_rps = subjects[s].guarantee
                                             ? max_rate(r, s)
                                             : res[ALO].max_rps;
                        if (res[s].max_rps <= 0)
                                return -1;
                        res[s].rate = res[s].max_rps * r->o->rate_share;
                }
                /* The smoke checks the harness, not the rate (2,000
                 * records give no meaningful maximum). */
                if (r->o->smoke && res[s].rate > 1000)
                        res[s].rate = 1000;
                if (paced(r, s, &res[s]))
                        return -1;
                print_result(s, &res[s]);
        }
        printf("\n| target (issue 16) | measured | verdict |\n|---|---|---|\n"
               "| at_least_once: p99 <= %d ms (append) | %lld ms | %s |\n"
               "| exactly_once: the commit interval as the floor, p99 "
               "(visible) <= commit interval + %d ms | %lld ms (commit "
               "interval %lld ms) | %s |\n",
               GOAL_MS, (long long)res[ALO].append[1],
               res[ALO].append[1] <= GOAL_MS ? "met" : "missed", GOAL_MS,
               (long long)res[EOS].visible[1], (long long)res[EOS].commit_ms,
               res[EOS].visible[1] <= res[EOS].commit_ms + GOAL_MS ? "met"
                                                                   : "missed");
        return 0;
}
