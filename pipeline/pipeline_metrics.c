/* pipeline_metrics.c - the pipeline's metric set, registered from one table. */
#include "pipeline/pipeline_metrics.h"

#include <stddef.h>
#include <string.h>

#include "core/mem.h"
#include "core/timefmt.h"
#include "service/process_metrics.h"

enum pm_labels {
        PM_NO_LABELS,
        PM_BY_INTEGRATION, /* a family: series per integration */
        PM_BY_TOPIC,       /* a family: one series per topic kind */
};

/* Receipt to acknowledgement: 0.5 ms to 30 s. */
static const double latency_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                         0.025,  0.05,  0.1,    0.25,  0.5,
                                         1,      2.5,   5,      10,    30};
/* Record timestamp to acknowledgement: includes time spent waiting in
 * the topic, so it reaches hours when a backlog is worked off. */
static const double lag_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                     0.5,   1,    2.5,   5,    10,  30,
                                     60,    300,  900,   3600};

static const char *const label_integ[] = {"integration", NULL};
static const char *const label_topic[] = {"topic", NULL};
/* The `topic` label's values, by enum ab_pipeline_topic_kind. */
static const char *const topic_kinds[AB_TOPIC__COUNT] = {"input", "alerts"};
static const char *const label_integ_type[] = {"integration", "type", NULL};
static const char *const label_integ_code[] = {"integration", "code", NULL};

#define PM_FIELD(f)   offsetof(struct ab_pipeline_metrics, f)
#define NELEM(a)      (sizeof(a) / sizeof((a)[0]))
#define PM_NONE_VALUE "none"

/* The one table of pipeline metrics. */
static const struct pm_entry {
        struct ab_metrics_desc desc;
        enum pm_labels by;
        size_t offset; /* of the handle, or of the family */
} pm_table[] = {
    {{AB_METRICS_COUNTER, "records_in_total",
      "Records consumed from the input topics, by integration (\"none\": "
      "actions, and records whose integration cannot be resolved).",
      label_integ, NULL, 0},
     PM_BY_INTEGRATION,
     PM_FIELD(records_in_fam)},
    {{AB_METRICS_COUNTER, "events_out_total",
      "CloudEvents handed to the producer for the output topics, by "
      "integration and event type.",
      label_integ_type, NULL, 0},
     PM_BY_INTEGRATION,
     PM_FIELD(events_out_fam)},
    {{AB_METRICS_COUNTER, "rejections_total",
      "Records or alerts that could not become events and were "
      "dead-lettered, by integration and error code.",
      label_integ_code, NULL, 0},
     PM_BY_INTEGRATION,
     PM_FIELD(rejections_fam)},
    {{AB_METRICS_COUNTER, "dlq_records_total",
      "Records handed to the producer for the dead-letter topic, by "
      "integration.",
      label_integ, NULL, 0},
     PM_BY_INTEGRATION,
     PM_FIELD(dead_letters_fam)},
    {{AB_METRICS_COUNTER, "orphan_recoveries_total",
      "Recoveries that matched no open alert (closed anyway only with "
      "lifecycle.close_orphan_recovery), by integration.",
      label_integ, NULL, 0},
     PM_BY_INTEGRATION,
     PM_FIELD(orphan_recoveries_fam)},
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
      "From an input record's consumption (the poll that returned it) "
      "until every output of it is acknowledged: its events' delivery "
      "reports with state.store memory; with state.store changelog, the "
      "commit that covers its ALERT records (its events follow from the "
      "lifecycle stage).",
      NULL, latency_buckets, NELEM(latency_buckets)},
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
    {{AB_METRICS_HISTOGRAM, "end_to_end_latency_seconds",
      "From an input record's Kafka timestamp until every output of it is "
      "acknowledged (as record_latency_seconds): time in the input topic "
      "included.",
      NULL, lag_buckets, NELEM(lag_buckets)},
     PM_NO_LABELS,
     PM_FIELD(end_to_end_latency)},
    {{AB_METRICS_HISTOGRAM, "consume_delay_seconds",
      "From a consumed record's Kafka timestamp to the poll that returned "
      "it, by topic: \"input\" (input and actions topics: the time in the "
      "topic, fetching and the consumer's queue), \"alerts\" (the "
      "two-stage loop's <group>.alerts: the map stage's send to the "
      "lifecycle stage's poll, the internal hop).",
      label_topic, lag_buckets, NELEM(lag_buckets)},
     PM_BY_TOPIC,
     PM_FIELD(consume_delay_fam)},
};

ab_err_t ab_pipeline_metrics_register(struct ab_metrics *reg,
                                      struct ab_pipeline_metrics *pm,
                                      struct ab_error *err)
{
        ab_err_t rc = AB_OK;

        memset(pm, 0, sizeof(*pm));
        for (size_t i = 0; i < NELEM(pm_table) && !rc; i++) {
                const struct pm_entry *e = &pm_table[i];
                void *slot               = (char *)pm + e->offset;

                if (e->by != PM_NO_LABELS)
                        rc = ab_metrics_register(
                            reg, &e->desc, (struct ab_metrics_family **)slot,
                            err);
                else
                        rc = ab_metrics_register_one(
                            reg, &e->desc, (struct ab_metric **)slot, err);
        }
        for (int k = 0; k < AB_TOPIC__COUNT && !rc; k++) {
                const char *v[] = {topic_kinds[k], NULL};

                rc = ab_metrics_series(pm->consume_delay_fam, v,
                                       &pm->consume_delay[k], err);
        }
        if (!rc)
                rc = ab_pipeline_metrics_integ(pm, PM_NONE_VALUE, &pm->none,
                                               err);
        if (!rc)
                rc = ab_process_metrics_register(reg, err);
        return rc;
}

ab_err_t ab_pipeline_metrics_integ(const struct ab_pipeline_metrics *pm,
                                   const char *name,
                                   struct ab_pipeline_metrics_integ *out,
                                   struct ab_error *err)
{
        const char *v[] = {name, NULL};
        ab_err_t rc;

        memset(out, 0, sizeof(*out));
        if (!pm)
                return AB_OK;
        rc = ab_metrics_series(pm->records_in_fam, v, &out->records_in, err);
        if (!rc)
                rc = ab_metrics_series(pm->dead_letters_fam, v,
                                       &out->dead_letters, err);
        if (!rc)
                rc = ab_metrics_series(pm->orphan_recoveries_fam, v,
                                       &out->orphan_recoveries, err);
        for (int t = 0; t < AB_EVENT__COUNT && !rc; t++) {
                v[1] = ab_event_type_short((enum ab_event_type)t);
                rc   = ab_metrics_series(pm->events_out_fam, v,
                                         &out->events_out[t], err);
        }
        for (int c = AB_OK + 1; c < AB_ERR__COUNT && !rc; c++) {
                if (ab_err_class((ab_err_t)c) != AB_ERR_CLASS_REJECT)
                        continue;
                v[1] = ab_err_code((ab_err_t)c);
                rc   = ab_metrics_series(pm->rejections_fam, v,
                                         &out->rejections[c], err);
        }
        return rc;
}

void ab_pipeline_metrics_reject(const struct ab_pipeline_metrics_integ *m,
                                ab_err_t code)
{
        if (!m)
                return;
        if (code > AB_OK && code < AB_ERR__COUNT)
                ab_metrics_inc(m->rejections[code]);
        ab_metrics_inc(m->dead_letters);
}

void ab_pipeline_metrics_done(const struct ab_pipeline_metrics *pm,
                              int64_t received_ns, int64_t timestamp_ms,
                              int64_t now_ns, int64_t now_ms)
{
        if (!pm)
                return;
        ab_metrics_observe(pm->record_latency,
                           (double)(now_ns - received_ns) / 1e9);
        if (timestamp_ms >= 0)
                ab_metrics_observe(pm->end_to_end_latency,
                                   (double)(now_ms - timestamp_ms) / 1e3);
}

void ab_pipeline_metrics_consumed(struct ab_metrics_tally *t,
                                  int64_t timestamp_ms, int64_t now_ms)
{
        /* A timestamp ahead of this clock (another host's) counts as 0. */
        if (timestamp_ms >= 0)
                ab_metrics_tally_observe(
                    t, now_ms > timestamp_ms
                           ? (double)(now_ms - timestamp_ms) / 1e3
                           : 0.0);
}

ab_err_t ab_pipeline_metrics_batch_init(struct ab_pipeline_metrics_batch *b,
                                        size_t cap)
{
        b->n            = 0;
        b->cap          = cap;
        b->received_ns  = ab_calloc(cap ? cap : 1, sizeof(int64_t));
        b->timestamp_ms = ab_calloc(cap ? cap : 1, sizeof(int64_t));
        if (b->received_ns && b->timestamp_ms)
                return AB_OK;
        ab_pipeline_metrics_batch_fini(b);
        return AB_ERR_NOMEM;
}

void ab_pipeline_metrics_batch_fini(struct ab_pipeline_metrics_batch *b)
{
        if (!b)
                return;
        ab_free(b->received_ns);
        ab_free(b->timestamp_ms);
        b->received_ns  = NULL;
        b->timestamp_ms = NULL;
        b->n = b->cap = 0;
}

void ab_pipeline_metrics_batch_add(struct ab_pipeline_metrics_batch *b,
                                   int64_t timestamp_ms)
{
        if (b->n == b->cap)
                return;
        b->received_ns[b->n]  = ab_time_mono_ns();
        b->timestamp_ms[b->n] = timestamp_ms;
        b->n++;
}

void ab_pipeline_metrics_batch_done_first(const struct ab_pipeline_metrics *pm,
                                          struct ab_pipeline_metrics_batch *b,
                                          size_t n)
{
        int64_t now_ns = ab_time_mono_ns(), now_ms = ab_time_now_ms();

        if (n > b->n)
                n = b->n;
        for (size_t i = 0; i < n; i++)
                ab_pipeline_metrics_done(pm, b->received_ns[i],
                                         b->timestamp_ms[i], now_ns, now_ms);
        b->n -= n;
        if (n && b->n) {
                memmove(b->received_ns, b->received_ns + n,
                        b->n * sizeof(*b->received_ns));
                memmove(b->timestamp_ms, b->timestamp_ms + n,
                        b->n * sizeof(*b->timestamp_ms));
        }
}

void ab_pipeline_metrics_batch_done(const struct ab_pipeline_metrics *pm,
                                    struct ab_pipeline_metrics_batch *b)
{
        ab_pipeline_metrics_batch_done_first(pm, b, b->n);
}
