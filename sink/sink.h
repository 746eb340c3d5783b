/* sink.h - `alertbridge sink`: output topics to EventBridge, then commit. */
#ifndef AB_SINK_H
#define AB_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "conftab.h"
#include "err.h"
#include "kafka_config.h"

/*
 * HOW IT WORKS
 * The sink is its own consumer group on the pipeline's output topics, so
 * EventBridge trouble never stalls normalization. Each consumed record is
 * registered with the offset tracker (consumer/offsets.h) and becomes one
 * CloudEvent (structured or binary Kafka binding, told apart by the
 * content-type header). Filtered-out records complete at once. An event
 * the service cannot take (invalid, over the size limits) goes to the
 * sink's dead-letter topic with the reason. Every other event is handed
 * to the PutEvents client (eventbridge.h) keyed by the record key (the
 * alert's fingerprint), holding a reference on its record's tracker entry
 * that is dropped only when EventBridge accepted the event (or, for a
 * permanent failure with on_permanent: dlq, when its dead-letter copy is
 * acknowledged by Kafka). Offsets therefore advance only over records
 * whose events were all accepted, and a crash replays at most the
 * uncommitted tail, with the same event ids.
 *
 * Backpressure: when the client holds `max_pending` events, or the
 * tracker's per-partition window is full, consumption pauses until
 * deliveries catch up; with no retry limit (the default) Kafka holds the
 * backlog during an EventBridge outage.
 */

enum ab_sink_on_permanent {
        AB_SINK_STOP = 0, /* log the error, stop consuming, exit 1 */
        AB_SINK_DLQ,      /* dead-letter the event and go on */
};

/* Filters; an empty list or mask means "any". */
struct ab_sink_filters {
        char **types; /* full ("aliyun:arms:alarm:create") or short
                         ("create") event types */
        size_t ntypes;
        unsigned severity_mask; /* bit n-1: level Pn */
        char **policies;        /* data.data.dispatchRuleName */
        size_t npolicies;
        char **integrations; /* the `integration` extension */
        size_t nintegrations;
};

/* Loaded from sink.yaml by one descriptor table (sink.c); read-only after. */
struct ab_sink_config {
        char *path;
        struct ab_kafka_config kafka; /* the shared kafka block */
        struct {
                /* kafka.topics, kafka.poll_timeout, kafka.offset_window */
                char **topics;
                size_t ntopics;
                int64_t poll_timeout_ms;
                int64_t offset_window;
        } input;
        char *dead_letter_topic;
        struct {
                char *endpoint;
                char *region;
                char *bus;
                char *source;
                char *access_key_id_env;
                char *access_key_secret_env;
                char *security_token_env;
                char *credentials_file;
                char *ca_file;
                int64_t max_in_flight;
                int64_t connect_timeout_ms;
                int64_t request_timeout_ms;
                int64_t backoff_initial_ms;
                int64_t backoff_max_ms;
                int64_t max_attempts;
                char **permanent_entry_codes;
                size_t npermanent_entry_codes;
                int64_t max_events;
                int64_t max_request_bytes;
                int64_t max_event_bytes;
        } eventbridge;
        int on_permanent; /* enum ab_sink_on_permanent */
        struct ab_sink_filters filters;
        int64_t max_pending;
        int64_t shutdown_timeout_ms;
        char *http_listen;
        int log_level; /* enum ab_log_level */
};

/**
 * Load and check \p path. @returns AB_OK with \p cfg filled (free with
 * ab_sink_config_free() in every case), or AB_ERR_CONFIG / AB_ERR_IO /
 * AB_ERR_NOMEM with the key path in \p err.
 */
ab_err_t ab_sink_config_load(const char *path, struct ab_sink_config *cfg,
                             struct ab_error *err);

/** Free what the loader stored. NULL-safe. */
void ab_sink_config_free(struct ab_sink_config *cfg);

/** Append the configuration reference (one Markdown table row per key). */
ab_err_t ab_sink_config_reference(struct ab_buf *out);

/**
 * Decide whether an event passes \p f. \p event is the structured JSON
 * (binary: NULL, with \p type and \p integration from the ce_ headers and
 * \p data the record value). @returns true when it passes.
 */
bool ab_sink_filter_match(const struct ab_sink_filters *f, const char *event,
                          size_t len, const char *type, size_t type_len,
                          const char *integration, size_t integration_len,
                          const char *data, size_t data_len);

/**
 * `alertbridge sink --config FILE [--check]`: run until SIGTERM or SIGINT
 * (drain, commit, exit 0), or until a permanent failure with
 * on_permanent: stop (exit 1). --check only loads the configuration and
 * the credentials. argv[0] is the subcommand name. Bad usage or
 * configuration exits 2.
 */
int ab_sink_main(int argc, char **argv);

#endif
