/* ingest_config.h - the `ingest:` section: webhook listener and integrations.
 */
#ifndef AB_INGEST_CONFIG_H
#define AB_INGEST_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "kafka/kafka_config.h"
#include "service/conftab.h"

/*
 * One descriptor sub-table, ab_ingest_conftab, describes the `ingest:`
 * section. `alertbridge ingest --config FILE` reads it next to the shared
 * `kafka:` block (struct ab_ingest_file); `alertbridge run` includes the
 * same table in the pipeline's, so one process can take webhooks and map
 * them. Loaded structs are read-only; every string is owned by them.
 */

/* What an integration's requests must carry (415/400 otherwise). */
enum ab_ingest_format {
        AB_INGEST_FORMAT_JSON = 0, /* application/json, a JSON text */
        AB_INGEST_FORMAT_FORM,     /* x-www-form-urlencoded, valid form */
        AB_INGEST_FORMAT_ANY,      /* any content type, any bytes */
};

struct ab_ingest_integration {
        char *name;    /* the URL segment */
        char *topic;   /* raw topic the bodies go to */
        char **tokens; /* accepted tokens (rotation: several) */
        size_t ntokens;
        char *token_file;  /* more tokens, one a line */
        char *integration; /* mapping (built-in or path); NULL: none */
        int format;        /* enum ab_ingest_format */
        bool validate;     /* map before writing; 400 on rejection */
        int64_t rate;      /* requests/s, token bucket; 0: unlimited */
        int64_t burst;     /* bucket size; 0: = rate */
};

struct ab_ingest_config {
        char *listen; /* NULL: no ingest server */
        char *tls_cert_file;
        char *tls_key_file;
        int64_t max_body; /* bytes */
        int64_t max_connections;
        int64_t max_client_connections;
        int64_t request_timeout_ms;  /* inactivity, per connection */
        int64_t threads;             /* HTTP worker threads */
        int64_t delivery_timeout_ms; /* longest wait for Kafka's ack */
        int64_t retry_after_s;       /* Retry-After of a 503 */
        int64_t shutdown_timeout_ms;
        struct ab_ingest_integration *integrations;
        size_t nintegrations;
};

/* The `ingest` section's table (keys relative to `ingest.`). */
extern const struct ab_conftab ab_ingest_conftab;

/* `alertbridge ingest --config FILE`: kafka, ingest and log_level. */
struct ab_ingest_file {
        char *path;
        struct ab_kafka_config kafka;
        struct ab_ingest_config ingest;
        int log_level; /* enum ab_log_level */
};

/**
 * Load and check \p path: the ingest section must list integrations.
 * @returns AB_OK, or AB_ERR_CONFIG / AB_ERR_IO / AB_ERR_NOMEM with the key
 *          path in \p err. Free \p f with ab_ingest_file_free() either way.
 */
ab_err_t ab_ingest_file_load(const char *path, struct ab_ingest_file *f,
                             struct ab_error *err);

/** Free what the loader stored. NULL-safe. */
void ab_ingest_file_free(struct ab_ingest_file *f);

/** Append the standalone file's reference (one Markdown row per key). */
ab_err_t ab_ingest_file_reference(struct ab_buf *out);

/**
 * Checks across keys (unique names, a topic, tokens or a token file,
 * validate needs an integration, TLS needs both files), for the
 * standalone file and the pipeline's section alike.
 */
ab_err_t ab_ingest_config_check(const struct ab_ingest_config *cfg,
                                struct ab_error *err);

#endif
