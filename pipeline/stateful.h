/* stateful.h - the two-stage run loop of `state.store: changelog`: map
 * stage, lifecycle stage over per-partition stores, commit cycle. */
#ifndef AB_STATEFUL_H
#define AB_STATEFUL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

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

#endif
