/* stores.h - the lifecycle stores of the assigned partitions of
 * <group>.alerts: created on assign, restored from the changelog, dropped
 * on revoke. */
#ifndef AB_STORES_H
#define AB_STORES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/str.h"
#include "lifecycle/lifecycle.h"

/*
 * One store per partition p of <group>.alerts (docs/stateful-pipeline.md,
 * "Assignment and restore"). A store is added when p is assigned, empty
 * and not restored: the run loop keeps p paused, feeds the store the
 * records of changelog partition p from its start with
 * ab_stores_restore_record(), marks it restored and resumes p. Only a
 * restored store is handed out for records and expiry (ab_stores_get(),
 * ab_stores_at()), so auto-clear never runs over a partition whose state
 * is not all there. Every store captures its changes for the changelog.
 * Not thread-safe.
 */
struct ab_stores;

/**
 * An empty registry whose stores are made with \p conf (copied;
 * capture_changes is forced on) and resolve integrations with
 * \p resolve / \p ctx. @returns NULL when out of memory.
 */
struct ab_stores *ab_stores_new(const struct ab_lifecycle_config *conf,
                                ab_lifecycle_resolve_cb resolve, void *ctx);

/** NULL-safe. */
void ab_stores_destroy(struct ab_stores *s);

/**
 * A new empty, unrestored store for \p partition, replacing any store it
 * had (a rebuild). @returns AB_OK or AB_ERR_NOMEM.
 */
ab_err_t ab_stores_add(struct ab_stores *s, int32_t partition);

/** Drop the store of \p partition, if any. */
void ab_stores_drop(struct ab_stores *s, int32_t partition);

/**
 * Apply one changelog record of \p partition (key = the fingerprint in
 * hex, \p value.ptr NULL = a tombstone) to its unrestored store. A record
 * that is not a valid entry is skipped and counted (a warning, never a
 * lost partition). @returns AB_OK, AB_ERR_NOT_FOUND (no such store) or
 * AB_ERR_NOMEM.
 */
ab_err_t ab_stores_restore_record(struct ab_stores *s, int32_t partition,
                                  struct ab_str key, struct ab_str value,
                                  struct ab_error *err);

/** The store of \p partition is complete: hand it out from now on. */
void ab_stores_set_restored(struct ab_stores *s, int32_t partition);

/** The first partition whose store is not restored yet into \p *partition.
 *  @returns false when every store is restored. */
bool ab_stores_unrestored(const struct ab_stores *s, int32_t *partition);

/** The restored store of \p partition, or NULL. */
struct ab_lifecycle *ab_stores_get(const struct ab_stores *s,
                                   int32_t partition);

/** Number of stores (restored or not). */
size_t ab_stores_count(const struct ab_stores *s);

/** Store \p i (< ab_stores_count()) with its partition in \p *partition;
 *  NULL while it is not restored. */
struct ab_lifecycle *ab_stores_at(const struct ab_stores *s, size_t i,
                                  int32_t *partition);

/** Open alerts over every restored store. */
size_t ab_stores_open_count(const struct ab_stores *s);

/** Changelog records skipped as invalid since the registry was made. */
uint64_t ab_stores_skipped(const struct ab_stores *s);

#endif
