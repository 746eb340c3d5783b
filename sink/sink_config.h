/* sink_config.h - the sink's configuration (`alertbridge sink --config`). */
#ifndef AB_SINK_CONFIG_H
#define AB_SINK_CONFIG_H

#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "kafka/kafka_config.h"
#include "sink/filter.h"

enum ab_sink_on_permanent {
        AB_SINK_STOP = 0, /* log the error, stop consuming, exit 1 */
        AB_SINK_DLQ,      /* dead-letter the event and go on */
};

/* Loaded from sink.yaml by one descriptor table (sink_config.c); read-only
 * after. */
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
        int log_level;  /* enum ab_log_level */
        int log_format; /* enum ab_log_format */
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

#endif
