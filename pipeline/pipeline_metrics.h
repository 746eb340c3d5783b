/* pipeline_metrics.h - the pipeline's metric set in a metrics registry. */
#ifndef AB_PIPELINE_METRICS_H
#define AB_PIPELINE_METRICS_H

#include "core/err.h"
#include "service/metrics.h"
#include "transform/event.h"

/*
 * Every metric the pipeline exports, registered from one table in
 * pipeline_metrics.c (docs/metrics.md lists them).
 *
 * Families labelled by `integration` have one label value per integration
 * the processor loads (the configured ones at startup, a built-in named by
 * a record's header on its first use) plus "none" for records that have
 * no integration (actions, records whose integration cannot be resolved):
 * a bounded set. Each value's series are created together, all at 0,
 * into a struct ab_pipeline_metrics_integ the processor keeps next to the
 * integration, so the hot path indexes handles and never looks a series
 * up or allocates. Error codes label rejections only for the REJECT class
 * of the fixed list in core/err.h.
 */

/* Where a consumed record comes from (the `topic` label of
 * consume_delay_seconds). */
enum ab_pipeline_topic_kind {
        AB_TOPIC_INPUT = 0, /* the input and actions topics */
        AB_TOPIC_ALERTS,    /* <group>.alerts: the two-stage loop's hop */
        AB_TOPIC__COUNT
};

/* The series of one value of the `integration` label. */
struct ab_pipeline_metrics_integ {
        struct ab_metric *records_in;                  /* records consumed */
        struct ab_metric *events_out[AB_EVENT__COUNT]; /* by event type */
        struct ab_metric *rejections[AB_ERR__COUNT];   /* REJECT codes only;
                                                          the rest NULL */
        struct ab_metric *dead_letters;      /* records sent to the DLQ */
        struct ab_metric *orphan_recoveries; /* matched no open alert */
};

struct ab_pipeline_metrics {
        /* The labelled families (ab_pipeline_metrics_integ() fills a
         * value's series from them). */
        struct ab_metrics_family *records_in_fam, *events_out_fam,
            *rejections_fam, *dead_letters_fam, *orphan_recoveries_fam;
        struct ab_pipeline_metrics_integ none; /* integration="none" */
        struct ab_metric *merged_duplicates; /* alerts merged into open ones */
        struct ab_metric *open_alerts;       /* gauge */
        struct ab_metric *consumer_lag;      /* gauge, records */
        struct ab_metric *consumer_paused;   /* gauge, 0 or 1 */
        struct ab_metric *delivery_errors;   /* failed output deliveries */
        struct ab_metric *dlq_reduced;       /* dead letters cut to fit */
        struct ab_metric *evicted_alerts;    /* closed at max_open_alerts */
        struct ab_metric *traceparent_invalid; /* headers dropped */
        struct ab_metric *tracestate_invalid;  /* headers dropped */
        struct ab_metric *reload_failures;     /* failed config reloads */
        struct ab_metric *reload_successful;   /* gauge, 0 or 1 */
        struct ab_metric *reload_success_time; /* gauge, unix seconds */
        /* Histograms, seconds: poll return to the record's outputs being
         * acknowledged, and the record's timestamp to the same moment. */
        struct ab_metric *record_latency;
        struct ab_metric *end_to_end_latency;
        /* Histogram, seconds, by topic kind: a record's timestamp to the
         * poll that returned it. */
        struct ab_metrics_family *consume_delay_fam;
        struct ab_metric *consume_delay[AB_TOPIC__COUNT];
};

/**
 * Register the pipeline's metric set in \p reg and fill \p pm, with the
 * series of integration "none", build info and the process metrics.
 * @returns AB_OK, or the first registration error.
 */
ab_err_t ab_pipeline_metrics_register(struct ab_metrics *reg,
                                      struct ab_pipeline_metrics *pm,
                                      struct ab_error *err);

/**
 * Create (or find) every series of integration \p name into \p out. Takes
 * the registry's mutex and allocates: call it when the integration is
 * loaded, never per record. \p pm NULL: \p out gets NULL handles.
 * @returns AB_OK, or AB_ERR_NOMEM.
 */
ab_err_t ab_pipeline_metrics_integ(const struct ab_pipeline_metrics *pm,
                                   const char *name,
                                   struct ab_pipeline_metrics_integ *out,
                                   struct ab_error *err);

/** Count one dead-lettered record of \p m rejected with \p code. NULL-safe
 *  \p m. */
void ab_pipeline_metrics_reject(const struct ab_pipeline_metrics_integ *m,
                                ab_err_t code);

/**
 * Observe one record's latencies when its outputs are acknowledged at
 * \p now_ns (monotonic) / \p now_ms (wall clock): since it was polled at
 * \p received_ns, and since its timestamp \p timestamp_ms (skipped when
 * negative, i.e. unknown). NULL-safe \p pm.
 */
void ab_pipeline_metrics_done(const struct ab_pipeline_metrics *pm,
                              int64_t received_ns, int64_t timestamp_ms,
                              int64_t now_ns, int64_t now_ms);

/**
 * Note in \p t (a tally of a consume_delay[] series, flushed by the loop
 * after each batch) one record polled at \p now_ms (wall clock) with
 * timestamp \p timestamp_ms (skipped when negative, i.e. unknown): the
 * time it waited in Kafka and in the consumer's queue.
 */
void ab_pipeline_metrics_consumed(struct ab_metrics_tally *t,
                                  int64_t timestamp_ms, int64_t now_ms);

/*
 * The records a commit acknowledges all at once (the two-stage loop): each
 * one's receipt and timestamp noted at its poll, observed when the commit
 * that covers it succeeds. Room is reserved up front (the loop closes a
 * commit cycle at kafka.max_pending_records at the latest, and at most
 * AB_CKPT_MAX cycles wait); a record beyond it is not observed.
 */
struct ab_pipeline_metrics_batch {
        int64_t *received_ns, *timestamp_ms;
        size_t n, cap;
};

/** Reserve room for \p cap records. @returns AB_OK or AB_ERR_NOMEM. */
ab_err_t ab_pipeline_metrics_batch_init(struct ab_pipeline_metrics_batch *b,
                                        size_t cap);
/** Free the room. NULL-safe, idempotent. */
void ab_pipeline_metrics_batch_fini(struct ab_pipeline_metrics_batch *b);
/** Note one record polled now with timestamp \p timestamp_ms. */
void ab_pipeline_metrics_batch_add(struct ab_pipeline_metrics_batch *b,
                                   int64_t timestamp_ms);
/** The noted records are acknowledged: observe them, start afresh. */
void ab_pipeline_metrics_batch_done(const struct ab_pipeline_metrics *pm,
                                    struct ab_pipeline_metrics_batch *b);
/** The first \p n noted records are acknowledged: observe them and keep
 *  the rest, in order. */
void ab_pipeline_metrics_batch_done_first(const struct ab_pipeline_metrics *pm,
                                          struct ab_pipeline_metrics_batch *b,
                                          size_t n);

#endif
