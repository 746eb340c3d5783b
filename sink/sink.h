/* sink.h - `alertbridge sink`: output topics to EventBridge, then commit. */
#ifndef AB_SINK_H
#define AB_SINK_H

#include <signal.h>

#include "core/err.h"
#include "sink/sink_config.h"

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

struct ab_sink;

/**
 * What `alertbridge sink --check` checks beyond the file: that the
 * credentials \p cfg names can be read (never echoing them).
 * @returns AB_OK, or AB_ERR_CONFIG naming the missing one in \p err.
 */
ab_err_t ab_sink_check(const struct ab_sink_config *cfg, struct ab_error *err);

/**
 * Read the credentials, connect the consumer, the dead-letter producer and
 * the PutEvents client, subscribe, and start the HTTP server when
 * configured. \p cfg must outlive the sink.
 * @returns AB_OK with \p *out set (ab_sink_destroy() it), or an error
 *          with \p *out NULL.
 */
ab_err_t ab_sink_new(const struct ab_sink_config *cfg, struct ab_sink **out,
                     struct ab_error *err);

/**
 * Run until \p *stop becomes nonzero (a signal handler sets it), then
 * drain: stop consuming, let the events in flight finish within
 * shutdown_timeout, commit. A permanent failure with on_permanent: stop
 * (or a failure of Kafka) ends the run the same way.
 * @returns AB_OK after a requested stop, or the error that ended the run
 *          (logged, and in \p err).
 */
ab_err_t ab_sink_run(struct ab_sink *s, volatile sig_atomic_t *stop,
                     struct ab_error *err);

/** Stop everything and free the sink, wiping the credentials. NULL-safe. */
void ab_sink_destroy(struct ab_sink *s);

#endif
