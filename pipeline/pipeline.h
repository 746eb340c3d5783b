/* pipeline.h - the live service: consume raw alerts, produce CloudEvents and
 * dead letters. */
#ifndef AB_PIPELINE_H
#define AB_PIPELINE_H

#include <signal.h>
#include <stdint.h>

#include "core/err.h"
#include "pipeline/config.h"

/*
 * One pipeline is one consumer group member, one idempotent producer and
 * one processor (transform + lifecycle), driven from one thread; records
 * are mapped ahead on `transform.threads` threads and applied in order on
 * the driving thread. The metrics and health endpoints run in the HTTP
 * server's own thread. Scale out by running more processes in the same
 * group.
 */
struct ab_pipeline;

struct ab_pipeline_stats {
        uint64_t records;      /* input records consumed */
        uint64_t completed;    /* input records whose outputs were all
                                  acknowledged */
        uint64_t events;       /* events produced (acknowledged) */
        uint64_t dead_letters; /* dead-letter records acknowledged */
        uint64_t pending;      /* records not complete yet */
        int paused;            /* consumption paused for backpressure */
};

/**
 * Create the clients, load the integrations, subscribe, and start the
 * HTTP server when `http.listen` is set. \p cfg is borrowed and must
 * outlive the pipeline.
 */
ab_err_t ab_pipeline_new(const struct ab_pipeline_config *cfg,
                         struct ab_pipeline **out, struct ab_error *err);

/**
 * One iteration: serve deliveries, take a burst of records (waiting up to
 * \p timeout_ms when none is pending), finish every record mapped so far
 * in input order (waiting up to \p timeout_ms for the oldest when nothing
 * new came), expire alerts when due, apply backpressure.
 * @returns AB_OK, or a fatal error (the producer lost its guarantees, a
 *          delivery failed, the consumer failed): stop, and let a restart
 *          resume from the committed offsets.
 */
ab_err_t ab_pipeline_step(struct ab_pipeline *pl, int timeout_ms,
                          struct ab_error *err);

/**
 * Run ab_pipeline_step() until \p *stop becomes non-zero (a signal
 * handler sets it), then ab_pipeline_shutdown().
 */
ab_err_t ab_pipeline_run(struct ab_pipeline *pl, volatile sig_atomic_t *stop,
                         struct ab_error *err);

/**
 * Graceful stop: wait for in-flight deliveries (up to
 * kafka.flush_timeout), then leave the group committing the offsets of
 * every completed record. Idempotent.
 */
ab_err_t ab_pipeline_shutdown(struct ab_pipeline *pl, struct ab_error *err);

void ab_pipeline_get_stats(const struct ab_pipeline *pl,
                           struct ab_pipeline_stats *out);

/**
 * Reload the integrations and policies (pipeline/reload.h) whenever
 * \p flag (a SIGHUP handler's) becomes non-zero; the loop clears it.
 */
void ab_pipeline_watch_reload(struct ab_pipeline *pl,
                              volatile sig_atomic_t *flag);

/** The port the HTTP server bound, or 0 when it is off. */
int ab_pipeline_http_port(const struct ab_pipeline *pl);

/** Shut down if needed and free everything. NULL-safe. */
void ab_pipeline_destroy(struct ab_pipeline *pl);

#endif
