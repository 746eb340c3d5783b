/* processor.h - turns one input record into output records: events or a
 * dead-letter copy. */
#ifndef AB_PROCESSOR_H
#define AB_PROCESSOR_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/str.h"
#include "core/trace.h"
#include "lifecycle/lifecycle.h"
#include "pipeline/alert_record.h"
#include "pipeline/config.h"
#include "pipeline/pipeline_metrics.h"
#include "transform/event.h"

/*
 * The processor is the pipeline without Kafka: it binds records to
 * integrations, runs the mapping engine and the lifecycle, applies the
 * notification policies and serializes events, and decides what goes to
 * the dead-letter topic. It is the only code that turns a record into
 * events: the live pipeline, `alertbridge demo`, replay and `alertbridge
 * test` drive it with records from their own sources and hand its outputs
 * to their own sinks, so the Kafka edges can change without touching it.
 *
 * Not thread-safe: one processor per thread of work.
 *
 * THE ERROR RULE (the classes are in core/err.h):
 *   - A REJECT from binding (no integration), mapping (a bad payload) or
 *     the lifecycle (an action on an unknown or closed alert, an invalid
 *     action) makes the record a dead letter: the call returns what
 *     handing the dead letter over returned, AB_OK when it went through.
 *     A record some of whose alerts were applied before one was rejected
 *     keeps their events and is dead-lettered as a whole.
 *   - Anything else stops the record and is returned: a RETRY or FATAL
 *     error (out of memory, an internal error, a built-in integration
 *     that cannot be loaded), and any error the output callback returned,
 *     whatever its class, for an event of a mapped alert, of an operator
 *     action (claim, comment, close) or of an auto-clear. The processor
 *     never dead-letters its own failed output: the record is not lost.
 * A caller that gets an error must not complete (commit) the record: it
 * is handled again, in place or after a restart from the last commit
 * (the live pipeline stops without committing, replay stops, `test`
 * exits). The lifecycle state the record changed before the failure is
 * not rolled back: handled again by the same processor, a claim or
 * comment emits its event again under a new id, and a close whose event
 * failed is not repeated (the alert is closed already).
 *
 * TRACE CONTEXT: a record's W3C trace context (ab_input.trace, from its
 * `traceparent`/`tracestate` headers) is checked once, when the record is
 * bound (core/trace.h): an invalid header is dropped, counted
 * (traceparent_invalid_total, tracestate_invalid_total) and logged, never
 * a rejection. Every event emitted while the record is handled carries
 * what is valid (the CloudEvents distributed-tracing extension): a create,
 * merge or close of a mapped alert and an action's claim, comment or
 * close. An auto-clear close (ab_processor_expire*(), or due when a
 * record arrives) and an eviction close are no record's doing and carry
 * none. In the two-stage pipeline the trace context travels in the ALERT
 * record (version 2), an action's in the ACTION record's headers.
 */
struct ab_processor;

/* One input record, borrowed for the duration of the call. */
struct ab_input {
        const char *topic;
        int32_t partition;
        int64_t offset;
        int64_t timestamp_ms;      /* -1: unknown (wall clock is used) */
        struct ab_str key;         /* ptr NULL: no key */
        struct ab_str value;       /* ptr NULL: null value */
        struct ab_str integration; /* the integration header; ptr NULL: none */
        struct ab_trace_ctx trace; /* its trace context headers as given
                                      (checked here); absent: none */
};

struct ab_record;

/** \p in as a view of the consumed record \p rec (borrowed from it), the
 *  integration taken from its header named \p integration_header. */
void ab_input_from_record(struct ab_input *in, const struct ab_record *rec,
                          const char *integration_header);

/** ab_input_from_record() without reading any header (no integration, no
 *  trace context): for records whose value carries what they need. */
void ab_input_from_record_value(struct ab_input *in,
                                const struct ab_record *rec);

enum ab_output_kind {
        AB_OUTPUT_EVENT = 0,
        AB_OUTPUT_DEAD_LETTER,
};

/*
 * One output record, borrowed for the duration of the callback.
 * Events: `value` is the structured CloudEvent JSON, `key` the alert's
 * fingerprint (so one alert's events stay in order on one partition), and
 * `event` the event itself (for binary-mode headers), which carries the
 * trace context of the record that caused it (see TRACE CONTEXT below).
 * Dead letters: `key`
 * and `value` are the input's, unchanged; `error` says why and
 * `integration` names the integration that rejected it (NULL when none
 * was bound); the caller keeps the input's own headers and adds the
 * dead-letter headers (producer/headers.h).
 */
struct ab_output {
        enum ab_output_kind kind;
        const char *topic;
        struct ab_str key;
        struct ab_str value;
        const struct ab_event *event; /* events only */
        const struct ab_error *error; /* dead letters only */
        const char *integration;      /* dead letters only; may be NULL */
};

/* Handles one output; an error other than AB_OK stops the record and is
 * returned by the processor call, whatever its class (see the rule). */
typedef ab_err_t (*ab_output_fn)(void *arg, const struct ab_output *out);

/*
 * One alert the processor mapped, borrowed for the duration of the
 * callback: the record it came from, the integration that mapped it, the
 * alert (alert->index is its element in the record), its fingerprint and
 * its event time. Reports that follow alerts (the dedup report of
 * `alertbridge test --dedup` and replay) read them here instead of mapping
 * the record a second time. It is called on the processor's thread, from
 * ab_processor_finish() (or _handle()), in input order.
 */
struct ab_mapped_alert {
        const struct ab_input *input;
        const struct ab_integration *integration;
        const struct ab_alert *alert;
        const char *fingerprint;     /* hex, AB_EVENT_ID_LEN characters */
        const unsigned char *digest; /* the same in binary
                                        (AB_LIFECYCLE_FP_LEN bytes) */
        size_t nalerts;              /* alerts the record mapped to */
        int64_t time_ms;           /* the event time the alert is applied at */
        struct ab_trace_ctx trace; /* the record's valid trace context, or
                                      absent */
};

/* Observes one mapped alert; an error other than AB_OK stops the record. */
typedef ab_err_t (*ab_mapped_alert_fn)(void *arg,
                                       const struct ab_mapped_alert *m);

/* Takes one action record of the map stage (AB_PROCESSOR_MAP), routed
 * by \p prefix (AB_ALERT_RECORD_ROUTE_LEN bytes); an error other than
 * AB_OK stops the record. */
typedef ab_err_t (*ab_routed_action_fn)(void *arg, const struct ab_input *in,
                                        const unsigned char *prefix);

enum ab_processor_mode {
        /* Alerts go through the lifecycle: dedup, recovery, auto-clear,
         * actions (the live pipeline, demo, replay, `test --dedup`). */
        AB_PROCESSOR_LIFECYCLE = 0,
        /* No lifecycle: every mapped alert becomes one event on its own
         * (CREATE when firing, CLOSE when resolved) whose alert id is its
         * fingerprint (`alertbridge test`). No actions topic. */
        AB_PROCESSOR_STATELESS,
        /* The map stage of the two-stage pipeline
         * (docs/stateful-pipeline.md): no store; every mapped alert goes
         * to `on_alert` (which must be set) and every action record that
         * names a routable alert to `on_action`; the rest are dead
         * letters under the error rule. The lifecycle stage applies the
         * alerts and actions to a store of its own with
         * ab_processor_apply(). */
        AB_PROCESSOR_MAP,
};

enum ab_processor_clock {
        /* Every alert at the record's timestamp (wall clock when -1). */
        AB_PROCESSOR_CLOCK_RECORD = 0,
        /* An alert at its mapped start time when it has one, else at the
         * record's timestamp_ms taken as given, whatever its value: the
         * caller's clock, for reproducible output (`alertbridge test`). */
        AB_PROCESSOR_CLOCK_ALERT_START,
};

/* How a processor runs; all zero: the live pipeline's defaults. */
struct ab_processor_opts {
        enum ab_processor_mode mode;
        enum ab_processor_clock clock;
        ab_mapped_alert_fn on_alert; /* called for each mapped alert before
                                        it is applied; may be NULL */
        void *on_alert_arg;
        ab_routed_action_fn on_action; /* AB_PROCESSOR_MAP only; gets
                                          on_alert_arg */
};

/**
 * Build a processor for \p cfg (borrowed; must outlive it): loads every
 * input's integration. \p metrics may be NULL. Same as
 * ab_processor_new_opts() with default options.
 * @returns AB_OK with \p *out set, or the integration's load error.
 */
ab_err_t ab_processor_new(const struct ab_pipeline_config *cfg,
                          const struct ab_pipeline_metrics *metrics,
                          struct ab_processor **out, struct ab_error *err);

/**
 * ab_processor_new() with \p opts (copied; NULL: the defaults).
 * @returns AB_OK with \p *out set, AB_ERR_CONFIG for a stateless
 *          processor whose \p cfg has an actions topic, or the
 *          integration's load error.
 */
ab_err_t ab_processor_new_opts(const struct ab_pipeline_config *cfg,
                               const struct ab_pipeline_metrics *metrics,
                               const struct ab_processor_opts *opts,
                               struct ab_processor **out, struct ab_error *err);

/**
 * Switch \p p to \p cfg (borrowed; must outlive it or the next reload):
 * its integrations, topic bindings and policies. Loads every integration
 * of \p cfg first; on any error \p p is unchanged. Integrations whose
 * config tree did not change stay the same objects; replaced ones are kept
 * until \p p is destroyed, because open alerts may refer to them. Call it
 * between records, with no job bound (the pool drained). Keys the
 * processor read at creation (lifecycle.*, the actions topic) are not
 * re-read: the caller refuses a reload that changes them.
 * @returns AB_OK, or the integration's load error.
 */
ab_err_t ab_processor_reload(struct ab_processor *p,
                             const struct ab_pipeline_config *cfg,
                             struct ab_error *err);

/** NULL-safe. */
void ab_processor_destroy(struct ab_processor *p);

/**
 * Process one record: every output goes through \p fn, in order.
 * Bad data (a REJECT) never fails the call: it becomes a dead-letter
 * output.
 * @returns AB_OK; the first error \p fn returned; or a RETRY or FATAL
 *          error (AB_ERR_NOMEM, AB_ERR_INTERNAL, ...) that stopped the
 *          record. On error the caller must not complete the record.
 */
ab_err_t ab_processor_handle(struct ab_processor *p, const struct ab_input *in,
                             ab_output_fn fn, void *arg);

/*
 * The same work in three parts, for callers that map records on other
 * threads (pipeline/transform_pool.h):
 *   ab_processor_bind()     on the processor's thread, in input order:
 *                           chooses the record's integration;
 *   ab_processor_prepare()  on any thread: decodes, maps and fingerprints
 *                           the record, touching only the job and the
 *                           (read-only) integration;
 *   ab_processor_finish()   on the processor's thread, in input order:
 *                           lifecycle, policies, outputs.
 * ab_processor_handle() is the three in a row. A job holds the mapping
 * engine's buffers and is reused from record to record; the input must
 * stay valid from bind to finish.
 */
struct ab_processor_job;

/** @returns a job, or NULL when out of memory. */
struct ab_processor_job *ab_processor_job_new(void);
/** NULL-safe. */
void ab_processor_job_destroy(struct ab_processor_job *j);

/** Start \p j for \p in. */
void ab_processor_bind(struct ab_processor *p, struct ab_processor_job *j,
                       const struct ab_input *in);

/** Decode, map and fingerprint \p in as bound into \p j. Thread-safe for
 * distinct jobs. */
void ab_processor_prepare(struct ab_processor_job *j,
                          const struct ab_input *in);

/**
 * Apply the prepared \p j: like ab_processor_handle(), every output goes
 * through \p fn, in order.
 */
ab_err_t ab_processor_finish(struct ab_processor *p, struct ab_processor_job *j,
                             const struct ab_input *in, ab_output_fn fn,
                             void *arg);

/**
 * Close alerts whose auto-clear deadline passed by wall clock \p now_ms
 * (a quiet partition still closes its alerts).
 */
ab_err_t ab_processor_expire(struct ab_processor *p, int64_t now_ms,
                             ab_output_fn fn, void *arg);

/**
 * The lifecycle stage: apply the decoded record \p r of <group>.alerts
 * (pipeline/alert_record.h) to the store \p lc, with the policies,
 * serialization and metrics of ab_processor_finish(): an ALERT at its
 * event time under the integration it names, an ACTION at its original
 * timestamp. The error rule holds; a rejection (an action on an unknown
 * or closed alert, an unknown integration) dead-letters \p in, which the
 * caller fills with what must be dead-lettered (for an ACTION the
 * original action record's key and value).
 */
ab_err_t ab_processor_apply(struct ab_processor *p, struct ab_lifecycle *lc,
                            const struct ab_alert_record *r,
                            const struct ab_input *in, ab_output_fn fn,
                            void *arg);

/**
 * Add the merged duplicates that ab_processor_apply() counted since the
 * last call to their counter. apply() counts them in a plain integer:
 * a locked add right after the merge's stores waits for all of them
 * (docs/performance.md). The caller flushes once per batch of records,
 * as with ab_metrics_tally.
 */
void ab_processor_flush_counts(struct ab_processor *p);

/** ab_processor_expire() on the store \p lc. */
ab_err_t ab_processor_expire_store(struct ab_processor *p,
                                   struct ab_lifecycle *lc, int64_t now_ms,
                                   ab_output_fn fn, void *arg);

/**
 * The integration called \p name: a configured one, or a built-in loaded
 * and kept; NULL when there is none (an ab_lifecycle_resolve_cb with the
 * processor as \p ctx, for restoring stores).
 */
const struct ab_integration *ab_processor_resolve(void *ctx, const char *name);

/** The lifecycle store (for snapshots, stats and tests); NULL for a
 * stateless or map-stage processor. */
struct ab_lifecycle *ab_processor_lifecycle(struct ab_processor *p);

#endif
