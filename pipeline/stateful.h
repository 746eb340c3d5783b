/* stateful.h - the two-stage run loop of `state.store: changelog`: map
 * stage, lifecycle stage over per-partition stores, commit cycle. */
#ifndef AB_STATEFUL_H
#define AB_STATEFUL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "pipeline/config.h"
#include "pipeline/pipeline.h"
#include "pipeline/pipeline_metrics.h"

/*
 * The loop behind ab_pipeline_*() when cfg->state.store is changelog
 * (docs/stateful-pipeline.md); pipeline.c owns the metrics and the HTTP
 * server and forwards its calls here. Same contract as the pipeline's
 * functions of the same name.
 */
struct ab_stateful;

/** \p cfg and \p pm are borrowed and must outlive it. Creates the
 *  internal topics if needed. */
ab_err_t ab_stateful_new(const struct ab_pipeline_config *cfg,
                         const struct ab_pipeline_metrics *pm,
                         struct ab_stateful **out, struct ab_error *err);

/** The stop flag a full producer queue is waited out against. */
void ab_stateful_set_stop(struct ab_stateful *sf, volatile sig_atomic_t *stop);

ab_err_t ab_stateful_step(struct ab_stateful *sf, int timeout_ms,
                          struct ab_error *err);

ab_err_t ab_stateful_shutdown(struct ab_stateful *sf, struct ab_error *err);

/** Ready: joined the group, every assigned partition's store restored,
 *  no fatal error. Safe from another thread. */
bool ab_stateful_ready(const struct ab_stateful *sf);

void ab_stateful_get_stats(const struct ab_stateful *sf,
                           struct ab_pipeline_stats *out);

/** NULL-safe. */
void ab_stateful_destroy(struct ab_stateful *sf);

/*
 * Shutdown, both loops (docs/operations.md, "Stopping"): it takes at most
 * kafka.flush_timeout from the stop, counted from \p stop_by, plus up to
 * AB_STOP_CLOSE_MIN_MS to leave the group once the flush used it all.
 */
#define AB_STOP_CLOSE_MIN_MS 1000

/** Milliseconds left until \p stop_by (an ab_time_mono_ms() value; 0 = no
 *  stop under way: \p otherwise), never negative. */
int ab_stop_left_ms(int64_t stop_by, int64_t otherwise);

/** The one log line of a stop that left \p messages outputs undelivered,
 *  \p records records unfinished or \p uncommitted: their offsets are not
 *  committed and they will be consumed again. @returns AB_ERR_IN_FLIGHT
 *  (err filled), or AB_OK (nothing logged) when nothing was left. */
ab_err_t ab_stop_report(size_t messages, size_t records, bool uncommitted,
                        struct ab_error *err);

#endif
