/* reload.h - hot reload of the pipeline's integrations and policies
 * (SIGHUP, POST /-/reload), validated first and swapped between records. */
#ifndef AB_RELOAD_H
#define AB_RELOAD_H

#include <signal.h>
#include <stdbool.h>

#include "core/err.h"
#include "pipeline/config.h"
#include "pipeline/pipeline_metrics.h"
#include "pipeline/processor.h"
#include "service/http.h"

/*
 * A reload is requested from outside the loop (a signal handler's flag,
 * the HTTP server's thread) and applied by the loop itself at a record
 * boundary, after it finished every record consumed so far
 * (docs/reloading.md):
 *
 *   1. load the config file again, with every check of a start;
 *   2. compare it with the running one key by key: a changed key other
 *      than inputs[].integration, output.policies and output.source needs
 *      a restart, so the whole reload is refused, each such key logged
 *      (Vector and Prometheus also apply a reload whole or not at all);
 *   3. load and compile every integration (ab_processor_reload());
 *   4. only then switch the processor to the new configuration.
 *
 * Any failure keeps the running configuration, logs the error with the
 * file, key path and offset the loader gives, counts
 * alertbridge_config_reload_failures_total and sets
 * alertbridge_config_last_reload_successful to 0. Success sets it to 1 and
 * alertbridge_config_last_reload_success_timestamp_seconds to now.
 *
 * Only the loop's thread calls ab_reload_apply(); ab_reload_pending() is
 * its cheap per-step check; ab_reload_request() is thread-safe.
 */
struct ab_reload;

/** \p cfg (the running configuration) and \p pm are borrowed and must
 * outlive it. Sets the success metrics for the start. Reads the token of
 * http.reload when enabled. @returns AB_OK, AB_ERR_IO (token file),
 * AB_ERR_CONFIG (an empty token file) or AB_ERR_NOMEM. */
ab_err_t ab_reload_new(const struct ab_pipeline_config *cfg,
                       const struct ab_pipeline_metrics *pm,
                       struct ab_reload **out, struct ab_error *err);

/** NULL-safe. */
void ab_reload_destroy(struct ab_reload *r);

/** The bearer token of POST /-/reload, or NULL when it is disabled. */
const char *ab_reload_token(const struct ab_reload *r);

/** Watch \p flag (set by a SIGHUP handler; the loop clears it). */
void ab_reload_watch(struct ab_reload *r, volatile sig_atomic_t *flag);

/** Answer POST /-/reload requests through \p http (borrowed). */
void ab_reload_set_http(struct ab_reload *r, struct ab_http *http);

/** Request a reload (an ab_http_reload_fn). Thread-safe. */
void ab_reload_request(void *r);

/** Whether a reload was requested: the loop's check. NULL-safe. */
bool ab_reload_pending(struct ab_reload *r);

/**
 * Apply the requested reload to \p p, which must have no record bound:
 * answers the HTTP requests taken, logs and counts the outcome.
 * @returns AB_OK when the new configuration runs, else why not (the old
 *          one still runs): never an error for the loop.
 */
ab_err_t ab_reload_apply(struct ab_reload *r, struct ab_processor *p,
                         struct ab_error *err);

struct ab_stateful;

/** ab_reload_apply() for the two-stage loop: finishes its mapped records
 * first; skips the reload (it stays pending) when that fails. */
void ab_reload_stateful(struct ab_reload *r, struct ab_stateful *sf);

#endif
