/* pipeline_metrics.c - the pipeline's metric set, registered from one table. */
#include "pipeline/pipeline_metrics.h"

#include <stddef.h>
#include <string.h>

enum pm_labels {
        PM_NO_LABELS,
        PM_BY_EVENT_TYPE, /* one series per enum ab_event_type */
        PM_BY_ERROR_CODE, /* one series per ab_err_t except AB_OK */
};

/* Per-record latency: 0.5 ms to 30 s. */
static const double latency_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                         0.025,  0.05,  0.1,    0.25,  0.5,
                                         1,      2.5,   5,      10,    30};

static const char *const label_type[] = {"type", NULL};
static const char *const label_code[] = {"code", NULL};

#define PM_FIELD(f) offsetof(struct ab_pipeline_metrics, f)

/* The one table of pipeline metrics. */
static const struct pm_entry {
        struct ab_metrics_desc desc;
        enum pm_labels by;
        size_t offset; /* of the handle, or of the handle array */
} pm_table[] = {
    {{AB_METRICS_COUNTER, "records_in_total",
      "Records consumed from the input topics.", NULL, NULL, 0},
     PM_NO_LABELS,
     PM_FIELD(records_in)},
    {{AB_METRICS_COUNTER, "events_out_total",
      "CloudEvents handed to the producer for the output topics, by "
      "event type.",
      label_type, NULL, 0},
     PM_BY_EVENT_TYPE,
     PM_FIELD(events_out)},
    {{AB_METRICS_COUNTER, "rejections_total",
      "Records or alerts that could not become events, by error code.",
      label_code, NULL, 0},
     PM_BY_ERROR_CODE,
     PM_FIELD(rejections)},
    {{AB_METRICS_COUNTER, "merged_duplicates_total",
      "Alerts merged into an already open alert.", NULL, NULL, 0},
     PM_NO_LABELS,
     PM_FIELD(merged_duplicates)},
    {{AB_METRICS_GAUGE, "open_alerts", "Alerts currently open.", NULL, NULL, 0},
     PM_NO_LABELS,
     PM_FIELD(open_alerts)},
    {{AB_METRICS_GAUGE, "consumer_lag",
      "Records behind the high watermark, summed over assigned partitions.",
      NULL, NULL, 0},
     PM_NO_LABELS,
     PM_FIELD(consumer_lag)},
    {{AB_METRICS_GAUGE, "consumer_paused",
      "1 while consumption is paused because too many records are in "
      "flight.",
      NULL, NULL, 0},
     PM_NO_LABELS,
     PM_FIELD(consumer_paused)},
    {{AB_METRICS_COUNTER, "delivery_errors_total",
      "Output records whose delivery failed.", NULL, NULL, 0},
     PM_NO_LABELS,
     PM_FIELD(delivery_errors)},
    {{AB_METRICS_COUNTER, "dlq_records_total",
      "Records handed to the producer for the dead-letter topic.", NULL, NULL,
      0},
     PM_NO_LABELS,
     PM_FIELD(dlq_records)},
    {{AB_METRICS_COUNTER, "dlq_reduced_total",
      "Dead letters written in reduced form (first bytes, original size and "
      "SHA-256) because the full record exceeded message.max.bytes.",
      NULL, NULL, 0},
     PM_NO_LABELS,
     PM_FIELD(dlq_reduced)},
    {{AB_METRICS_COUNTER, "evicted_alerts_total",
      "Open alerts evicted because lifecycle.max_open_alerts was reached.",
      NULL, NULL, 0},
     PM_NO_LABELS,
     PM_FIELD(evicted_alerts)},
    {{AB_METRICS_HISTOGRAM, "record_latency_seconds",
      "Time spent processing one input record (decode, mapping, "
      "lifecycle, handing its outputs to the producer).",
      NULL, latency_buckets,
      sizeof(latency_buckets) / sizeof(latency_buckets[0])},
     PM_NO_LABELS,
     PM_FIELD(record_latency)},
    {{AB_METRICS_COUNTER, "traceparent_invalid_total",
      "Input records whose traceparent header (or ce_traceparent) is not "
      "a valid W3C traceparent: processed without a trace context.",
      NULL, NULL, 0},
     PM_NO_LABELS,
     PM_FIELD(traceparent_invalid)},
    {{AB_METRICS_COUNTER, "tracestate_invalid_total",
      "Input records whose tracestate header is not a valid W3C tracestate "
      "(or longer than 512 characters): their events carry the "
      "traceparent alone.",
      NULL, NULL, 0},
     PM_NO_LABELS,
     PM_FIELD(tracestate_invalid)},
    {{AB_METRICS_COUNTER, "config_reload_failures_total",
      "Configuration reloads (SIGHUP, POST /-/reload) that failed or were "
      "refused; the running configuration was kept.",
      NULL, NULL, 0},
     PM_NO_LABELS,
     PM_FIELD(reload_failures)},
    {{AB_METRICS_GAUGE, "config_last_reload_successful",
      "1 when the last configuration reload succeeded (or none was tried), "
      "0 when it failed.",
      NULL, NULL, 0},
     PM_NO_LABELS,
     PM_FIELD(reload_successful)},
    {{AB_METRICS_GAUGE, "config_last_reload_success_timestamp_seconds",
      "Unix time of the last successful configuration load (the start, "
      "then each successful reload).",
      NULL, NULL, 0},
     PM_NO_LABELS,
     PM_FIELD(reload_success_time)},
};

static ab_err_t pm_register_entry(struct ab_metrics *reg,
                                  const struct pm_entry *e,
                                  struct ab_pipeline_metrics *pm,
                                  struct ab_error *err)
{
        struct ab_metric **slot = (struct ab_metric **)((char *)pm + e->offset);
        struct ab_metrics_family *fam;
        ab_err_t rc;

        rc = ab_metrics_register(reg, &e->desc, &fam, err);
        if (rc)
                return rc;
        if (e->by == PM_NO_LABELS)
                return ab_metrics_series(fam, NULL, slot, err);
        if (e->by == PM_BY_EVENT_TYPE) {
                for (int t = 0; t < AB_EVENT__COUNT && !rc; t++) {
                        const char *v[] = {
                            ab_event_type_short((enum ab_event_type)t)};
                        rc = ab_metrics_series(fam, v, &slot[t], err);
                }
                return rc;
        }
        for (int c = AB_OK + 1; c < AB_ERR__COUNT && !rc; c++) {
                const char *v[] = {ab_err_code((ab_err_t)c)};
                rc              = ab_metrics_series(fam, v, &slot[c], err);
        }
        return rc;
}

ab_err_t ab_pipeline_metrics_register(struct ab_metrics *reg,
                                      struct ab_pipeline_metrics *pm,
                                      struct ab_error *err)
{
        ab_err_t rc = AB_OK;

        memset(pm, 0, sizeof(*pm));
        for (size_t i = 0; i < sizeof(pm_table) / sizeof(pm_table[0]) && !rc;
             i++)
                rc = pm_register_entry(reg, &pm_table[i], pm, err);
        return rc;
}

void ab_pipeline_metrics_reject(const struct ab_pipeline_metrics *pm,
                                ab_err_t code)
{
        if (pm && code > AB_OK && code < AB_ERR__COUNT)
                ab_metrics_inc(pm->rejections[code]);
}
