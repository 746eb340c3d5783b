/* benchconf.h - the pipeline configuration the transform and end-to-end
 * benchmarks share. */
#ifndef AB_BENCH_CONF_H
#define AB_BENCH_CONF_H

#include <stdio.h>

#include "bench/corpus.h"
#include "core/buf.h"
#include "core/err.h"
#include "transform/integration.h"
#include "transform/transform.h"

/*
 * One input per integration, on topic <prefix><integration name> (the
 * seed-001 shape's integration is examples/integrations/network-monitor.yaml),
 * two notification policies (P1/P2 to "O&M team", the rest to "Default")
 * writing to one events topic, unlimited open alerts, wall-clock expiry
 * checked only hourly (a benchmark run never triggers it), no HTTP server,
 * and log level info (start-up, assignment and backpressure lines).
 */
struct ab_bench_conf {
        const char *brokers;
        const char *group;
        const char *topic_prefix;
        const char *events_topic;
        const char *dlq_topic;
        const char *source_dir;  /* the source tree */
        int transform_threads;   /* transform.threads; -1: the default */
        const char *state_store; /* state.store; NULL: the default */
        const char *guarantee;   /* processing.guarantee; NULL: default */
        /* kafka.consumer_properties as "key=value" strings */
        const char *const *consumer_properties;
        size_t nconsumer_properties;
};

/** Append the YAML text to \p out. */
ab_err_t ab_bench_config_yaml(const struct ab_bench_conf *c,
                              struct ab_buf *out);

/** Append the input topic of records of shape \p k to \p out. */
ab_err_t ab_bench_topic(const struct ab_bench_conf *c, enum ab_bench_kind k,
                        struct ab_buf *out);

/**
 * Load the integration of every corpus shape into \p out (indexed by
 * shape; ARMS and Alertmanager each get their own copy of alertmanager).
 * On failure, \p out holds no integration and \p err says why.
 */
ab_err_t ab_bench_integrations_load(const char *source_dir,
                                    struct ab_integration *out[AB_BENCH__COUNT],
                                    struct ab_error *err);

void ab_bench_integrations_free(struct ab_integration *v[AB_BENCH__COUNT]);

/**
 * Check that the corpus means what its flags say: every malformed record
 * is rejected, every other one maps, a recovery resolves all its alerts
 * and a firing record fires all of them. A change to an integration that
 * breaks this would silently change what the benchmarks measure.
 * @returns 0, or -1 after describing the first mismatch on \p log.
 */
int ab_bench_corpus_verify(const struct ab_bench_corpus *c,
                           struct ab_integration *const integ[AB_BENCH__COUNT],
                           struct ab_transform *tf, FILE *log);

#endif
