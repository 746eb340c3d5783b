/* pipeline_metrics.h - the pipeline's metric set in a metrics registry. */
#ifndef AB_PIPELINE_METRICS_H
#define AB_PIPELINE_METRICS_H

#include "core/err.h"
#include "service/metrics.h"
#include "transform/event.h"

/*
 * Every metric the pipeline exports, registered from one table in
 * pipeline_metrics.c. Labelled families get all their series at registration
 * (each event type, each error code), so every series is exported from the
 * start, at 0, and the hot path never allocates. The pipeline only
 * increments the handles below.
 */
struct ab_pipeline_metrics {
        struct ab_metric *records_in;                  /* records consumed */
        struct ab_metric *events_out[AB_EVENT__COUNT]; /* by event type */
        struct ab_metric *rejections[AB_ERR__COUNT];   /* by error code;
                                                          [AB_OK] is NULL */
        struct ab_metric *merged_duplicates; /* alerts merged into open ones */
        struct ab_metric *open_alerts;       /* gauge */
        struct ab_metric *consumer_lag;      /* gauge, records */
        struct ab_metric *consumer_paused;   /* gauge, 0 or 1 */
        struct ab_metric *delivery_errors;   /* failed output deliveries */
        struct ab_metric *dlq_records;       /* records sent to the DLQ */
        struct ab_metric *dlq_reduced;       /* dead letters cut to fit */
        struct ab_metric *evicted_alerts;    /* closed at max_open_alerts */
        struct ab_metric *record_latency;    /* histogram, seconds */
        struct ab_metric *traceparent_invalid; /* headers dropped */
        struct ab_metric *tracestate_invalid;  /* headers dropped */
        struct ab_metric *reload_failures;     /* failed config reloads */
        struct ab_metric *reload_successful;   /* gauge, 0 or 1 */
        struct ab_metric *reload_success_time; /* gauge, unix seconds */
};

/**
 * Register the pipeline's metric set in \p reg and fill \p pm.
 * @returns AB_OK, or the first registration error.
 */
ab_err_t ab_pipeline_metrics_register(struct ab_metrics *reg,
                                      struct ab_pipeline_metrics *pm,
                                      struct ab_error *err);

/** Count one rejection of a record with \p code. NULL-safe \p pm. */
void ab_pipeline_metrics_reject(const struct ab_pipeline_metrics *pm,
                                ab_err_t code);

#endif
