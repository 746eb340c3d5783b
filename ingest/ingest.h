/* ingest.h - the webhook ingest service: HTTP bodies in, raw Kafka records out.
 */
#ifndef AB_INGEST_H
#define AB_INGEST_H

#include <stdint.h>

#include "core/err.h"
#include "ingest/ingest_config.h"
#include "kafka/kafka_config.h"

/*
 * Alert sources POST to `/api/v1/integrations/<name>/<token>` (or to
 * `/api/v1/integrations/<name>` with `Authorization: Bearer <token>`); the
 * body goes unchanged to the integration's topic through an idempotent
 * producer (acks=all) with the headers below, and the answer waits for
 * Kafka's acknowledgement: 200 with the request id once the record is
 * written, 503 with Retry-After when it cannot be (queue full, delivery
 * failed or timed out, no broker reachable). A 200 always means one
 * record. docs/ingest.md gives every answer.
 *
 * Record headers: alertbridge-integration (the mapping's name, when the
 * integration names one), content-type (as sent), alertbridge-received-at
 * (RFC 3339 UTC, ms), alertbridge-request-id (also the answer's
 * X-Request-Id).
 */
#define AB_INGEST_HDR_INTEGRATION "alertbridge-integration"
#define AB_INGEST_HDR_CONTENT     "content-type"
#define AB_INGEST_HDR_RECEIVED    "alertbridge-received-at"
#define AB_INGEST_HDR_REQUEST_ID  "alertbridge-request-id"

struct ab_ingest;

/**
 * Check what the service would read at start without opening anything:
 * token files, integrations and TLS files (relative paths against the
 * directory of \p config_path; NULL: the current directory).
 * @returns AB_OK, or AB_ERR_CONFIG / AB_ERR_IO naming the key in \p err.
 */
ab_err_t ab_ingest_check(const struct ab_ingest_config *cfg,
                         const char *config_path, struct ab_error *err);

/** Flags of ab_ingest_start(). */
enum {
        /* Also serve alertbridge_build_info and process_* on /metrics: for
         * `alertbridge ingest`, the process's only metrics listener (inside
         * `run` the pipeline's listener has them). */
        AB_INGEST_PROCESS_METRICS = 1u << 0,
};

/**
 * Start serving \p cfg->listen with its own producer built from \p kafka
 * (producer properties; both borrowed, they must outlive the service).
 * \p flags: AB_INGEST_* bits.
 * @returns AB_OK with \p *out set, or AB_ERR_CONFIG / AB_ERR_IO /
 *          AB_ERR_HTTP (cannot listen) / AB_ERR_KAFKA / AB_ERR_NOMEM.
 */
ab_err_t ab_ingest_start(const struct ab_ingest_config *cfg,
                         const struct ab_kafka_config *kafka,
                         const char *config_path, unsigned flags,
                         struct ab_ingest **out, struct ab_error *err);

/** The bound port (the real one when the address asked for port 0). */
uint16_t ab_ingest_port(const struct ab_ingest *ing);

/**
 * Graceful stop, then free: stop accepting, answer 503 (Connection:
 * close) to new requests on open connections, wait up to
 * shutdown_timeout for the requests waiting on Kafka, fail the rest with
 * 503, close every connection. Every accepted request gets an answer or
 * its connection closed before it was read. NULL-safe.
 */
void ab_ingest_stop(struct ab_ingest *ing);

#endif
