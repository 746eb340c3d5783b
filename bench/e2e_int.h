/* e2e_int.h - the state the end-to-end benchmark's files share: e2e.c (the
 * rounds and main), e2e_kafka.c (topics, load, reads), e2e_subject.c (one
 * subject's process and its measurements), e2e_restore.c and e2e_peers.c
 * (the restore and peer benchmarks). Not a public interface. */
#ifndef AB_BENCH_E2E_INT_H
#define AB_BENCH_E2E_INT_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bench/corpus.h"

#define NRAW 5 /* integrations, one raw topic each */

/* The integration of each raw topic, in r->raw order (e2e.c). */
extern const char *const e2e_raw_integrations[NRAW];

#define E2E_MAX_CPROPS 8

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
        int threads;      /* transform.threads of "alertbridge"; -1: default */
        uint64_t warmup;  /* rounds run first and left out of the medians */
        int restore;      /* --restore: the restore benchmark instead */
        const char *peer; /* --peer: the peer comparison with this program */
        /* --consumer-property KEY=VALUE: kafka.consumer_properties of
         * every alertbridge subject */
        const char *cprops[E2E_MAX_CPROPS];
        size_t ncprops;
        int latency;       /* --latency: the latency benchmark instead */
        double seconds;    /* --seconds: its paced phase, per guarantee */
        double rate_share; /* --rate-share: its rate over the maximum */
        double rate;       /* --rate: a fixed rate instead (0: none) */
};

/* Events counted by type, and an order-independent checksum of their
 * (type, fingerprint) pairs: two outputs with equal tallies hold the same
 * creates and closes of the same alerts (up to 64-bit collisions). */
struct e2e_tally {
        int64_t creates, closes, other;
        uint64_t sum;
};

/** Count one event of CloudEvents type \p type (e.g.
 *  "aliyun:arms:alarm:create") for the alert with fingerprint \p fp. */
void e2e_tally_add(struct e2e_tally *t, const char *type, size_t type_len,
                   const char *fp, size_t fp_len);

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
        struct e2e_tally expect; /* the events by type (e2e_tally_add()) */
        char predict_cfg[1200];  /* the configuration e2e_predict() reads */
        char **created;          /* topics to delete at the end */
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

/* Kafka (e2e_kafka.c). */

/** A client of \p type; \p group: a consumer group without auto-commit. */
rd_kafka_t *e2e_client(rd_kafka_type_t type, const char *brokers,
                       const char *group);

/** Delete \p name with the topics created at the end. @returns 0 or -1. */
int e2e_remember_topic(struct run *r, const char *name);

/** Create \p n single-partition topics; \p append_time: broker timestamps.
 *  They are deleted by e2e_delete_topics(). @returns 0 or -1. */
int e2e_create_topics(struct run *r, const char (*names)[160], size_t n,
                      int append_time);
void e2e_delete_topics(struct run *r);

/** Delete, with the topics created at the end, every topic whose name
 *  starts with \p prefix (what the subjects created). @returns 0 or -1. */
int e2e_remember_prefixed(struct run *r, const char *prefix);

/** The high watermark of partition 0 of \p topic, or -1. */
int64_t e2e_high_watermark(struct run *r, const char *topic);

/** The append time of message \p offset of \p topic, or -1. */
int64_t e2e_message_time(struct run *r, const char *topic, int64_t offset);

/** Read every raw record once (see step 3). @returns the records, or -1. */
long long e2e_warm_up(struct run *r);

/**
 * Read \p nouts single-partition topics from their start, committed
 * records only, until they hold \p expect records in all or
 * \p deadline_ns (ab_bench_wall_ns()) passes; \p first and \p last get
 * the earliest and the latest append time. @returns the records read, or
 * -1.
 */
int64_t e2e_read_committed(struct run *r, const char *const *outs, size_t nouts,
                           int64_t expect, int64_t deadline_ns, int64_t *first,
                           int64_t *last);

/** Read \p topic (one partition, committed records only) from its start
 *  until \p expect records or \p deadline_ns, tallying each value as an
 *  event by its "type" and first "fingerprint" member (alertbridge's
 *  CloudEvents and the peers' events alike). @returns the records read,
 *  or -1. */
int64_t e2e_tally_events(struct run *r, const char *topic, int64_t expect,
                         int64_t deadline_ns, struct e2e_tally *out);

/** Produce the corpus to the raw topics (step 2). @returns 0 or -1. */
int e2e_load(struct run *r);

/* Subjects (e2e_subject.c). */

/** Wait until the broker is quiet, unless \p r is a smoke run.
 *  @returns the seconds waited, 0 for a smoke run, or -1 when the broker
 *  is not ours to watch. */
int e2e_settle(const struct run *r);

/** Start \p argv with stdout and stderr to \p log. @returns its pid, or
 *  -1. */
pid_t e2e_spawn(char *const argv[], const char *log);

/** Run one subject until its output topics hold \p expect records in all;
 *  \p committed: it writes in transactions, so its outputs are counted
 *  by reading them (offsets also count the commit markers).
 *  @returns 0 with \p out filled, or -1. */
int e2e_run_subject(struct run *r, char *const argv[], const char *log,
                    const char *const *outs, size_t nouts, int64_t expect,
                    int committed, struct outcome *out);

/* The rounds (e2e.c) and the restore benchmark (e2e_restore.c). */

/** Write the configuration of one alertbridge subject to \p path;
 *  \p store, \p guarantee: NULL for the defaults. @returns 0 or -1. */
int e2e_write_config(const struct run *r, const char *path, const char *group,
                     const char *events, const char *dlq, int transform_threads,
                     const char *store, const char *guarantee);

/** e2e_write_config() with raw topics <prefix><integration> instead of
 *  the run's. @returns 0 or -1. */
int e2e_write_config_at(const struct run *r, const char *path,
                        const char *prefix, const char *group,
                        const char *events, const char *dlq,
                        int transform_threads, const char *store,
                        const char *guarantee);

/**
 * What alertbridge writes for the first \p count records of the corpus
 * repeated (record i is corpus record i mod n), computed in-process by the
 * pipeline's own processor with the configuration at \p config_path:
 * \p events and \p dead letters, the events' \p tally (may be NULL), and
 * with \p cum (may be NULL) cum[i], the outputs of records 0..i.
 * @returns 0 or -1.
 */
int e2e_predict(const struct run *r, const char *config_path, size_t count,
                uint32_t *cum, uint64_t *events, uint64_t *dead,
                struct e2e_tally *tally);

/** The latency benchmark (e2e_latency.c): record-to-event latency of the
 *  two-stage pipeline at half its measured maximum rate, at_least_once
 *  and exactly_once. @returns 0 or -1. */
int e2e_latency_bench(struct run *r);

/** The peer comparison (e2e_peers.c): alertbridge against the --peer
 *  program, rounds interleaved. @returns 0, or -1 (also when their
 *  outputs differ). */
int e2e_peers_bench(struct run *r);

/** Fill one changelog partition with the corpus's alerts, then time
 *  restarts that restore it (see e2e_restore.c). @returns 0 or -1. */
int e2e_restore_bench(struct run *r);

#endif
