/* replay.h - replays a range of an alert topic through the pipeline's
 * processor in event time, to test mapping changes on real history. */
#ifndef AB_REPLAY_H
#define AB_REPLAY_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/err.h"
#include "replay/progress.h"
#include "replay/range.h"
#include "replay/summary.h"

/*
 * `alertbridge replay` (docs/replay.md). A replay reads the offset range
 * [from, to) of a topic (source.h: no consumer group, nothing committed)
 * and hands every record to a processor (pipeline/processor.h) built for
 * one integration, with the record's timestamp as the event time, so
 * dedup windows, recoveries and auto-clear behave as they did when the
 * records arrived, and two replays of the same range write the same
 * bytes. The record's integration header is ignored: the integration
 * under test maps every record.
 *
 * Outputs: the NDJSON lines of ndjson.h (events and rejections) to a
 * stream, the events to a topic (CloudEvents Kafka binding of the
 * configuration), a summary, and optionally a comparison (diff.h) with a
 * golden file (--expect) or with the same range mapped by another
 * integration (--compare), computed record by record while streaming.
 *
 * Memory: the lifecycle's open alerts, one record's outputs, a dedup
 * report limited to `dedup_groups` fingerprints, and fixed-size
 * statistics; nothing grows with the length of the range.
 */
struct ab_replay;

typedef void (*ab_replay_progress_fn)(void *arg,
                                      const struct ab_replay_progress *p);

struct ab_replay_opts {
        const char *brokers; /* NULL: the config's kafka.brokers */
        const char *topic;   /* required */
        int32_t partition;   /* -1: every partition */
        struct ab_replay_bound from;
        struct ab_replay_bound to;
        const char *integration; /* required: built-in name or file */
        const char *compare;     /* --compare: the old integration, or NULL */
        /* A pipeline config (pipeline/config.h) whose output (source,
         * policies, binding), lifecycle and kafka properties the replay
         * uses; its inputs and actions topic are not. NULL: defaults. */
        const char *config_path;
        /* Extra librdkafka properties, NULL-terminated name/value pairs
         * applied last to both clients; may be NULL. */
        const char *const *properties;
        FILE *events;             /* NDJSON lines, or NULL */
        const char *output_topic; /* produce the events here, or NULL */
        const char *expect_path;  /* --expect golden file, or NULL */
        size_t dedup_groups; /* fingerprints in the dedup report; 0: none */
        size_t max_examples; /* examples per kind of difference */
        int timeout_ms;      /* Kafka lookups and the final flush */
        volatile sig_atomic_t *stop;    /* set: stop early; may be NULL */
        ab_replay_progress_fn progress; /* may be NULL */
        void *progress_arg;
        int64_t progress_interval_ms;
};

/**
 * Check the options, load the configuration and the integrations,
 * connect and resolve the range.
 * @returns AB_OK with \p *out set; AB_ERR_USAGE, AB_ERR_CONFIG,
 *          AB_ERR_NOT_FOUND or AB_ERR_IO for bad options, files, names,
 *          topics or partitions; AB_ERR_KAFKA when the cluster cannot be
 *          reached.
 */
ab_err_t ab_replay_new(const struct ab_replay_opts *opts,
                       struct ab_replay **out, struct ab_error *err);

/**
 * Replay the whole range.
 * @returns AB_OK; AB_ERR_RETRY when the stop flag ended it early;
 *          AB_ERR_CONFIG when the golden file is invalid; AB_ERR_KAFKA,
 *          AB_ERR_IO or AB_ERR_NOMEM when it could not complete. The
 *          summary covers what was replayed in every case.
 */
ab_err_t ab_replay_run(struct ab_replay *r, struct ab_error *err);

/** true after --expect or --compare found a difference. */
bool ab_replay_differs(const struct ab_replay *r);

/**
 * Build the summary of what was replayed so far into \p out, to render
 * with summary.h (text, JSON, the comparison report). It borrows from
 * \p r: render it before \p r runs again or is destroyed.
 */
void ab_replay_summarize(const struct ab_replay *r,
                         struct ab_replay_summary *out);

/** NULL-safe. */
void ab_replay_destroy(struct ab_replay *r);

#endif
