/* integration.h - a compiled per-source integration config (mappings, batch,
 * recovery, dedup). */
#ifndef AB_INTEGRATION_H
#define AB_INTEGRATION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Immutable after load; safe to share between threads. */
struct ab_integration;

/**
 * Load an integration by built-in name ("alertmanager", "cloudmonitor",
 * "cloudmonitor-event", "generic") or by path to a YAML/JSON file (any
 * argument containing '/' or ending in .yaml/.yml/.json is a path).
 * @returns AB_OK with *out set (owned by the caller), or an error with
 *          \p err naming the offending key path (AB_ERR_CONFIG), the file
 *          (AB_ERR_IO) or the unknown name (AB_ERR_NOT_FOUND).
 */
ab_err_t ab_integration_load(const char *name_or_path,
                             struct ab_integration **out, struct ab_error *err);

/** Compile a config tree (borrowed). \p origin names it in errors. */
ab_err_t ab_integration_compile(const json_t *root, const char *origin,
                                struct ab_integration **out,
                                struct ab_error *err);

/** NULL-safe. */
void ab_integration_destroy(struct ab_integration *integ);

/* Elements a batch may have by default (`batch.max_alerts`), and the
 * most it may be set to: each alert costs the engine about 1 KiB. */
#define AB_INTEGRATION_MAX_ALERTS     10000
#define AB_INTEGRATION_MAX_ALERTS_CAP 1000000

/** The `name:` of the integration (borrowed). */
const char *ab_integration_name(const struct ab_integration *integ);

/** The auto-clear period in ms, 0 when not configured. */
int64_t ab_integration_auto_clear_ms(const struct ab_integration *integ);

/**
 * The `dedup.fields` list (borrowed), validated at load: each names an
 * alert field the integration maps or one of its `labels:` entries
 * (any label name is accepted when a "*" labels entry copies an object).
 * \p *n is 0 when the integration has no dedup fields.
 */
const char *const *
ab_integration_dedup_fields(const struct ab_integration *integ, size_t *n);

/** The config tree the integration was compiled from (borrowed). */
const json_t *ab_integration_config(const struct ab_integration *integ);

/** NULL-terminated list of built-in integration names. */
const char *const *ab_integration_builtin_names(void);

/** Source text of built-in \p name (borrowed), or NULL. */
const char *ab_integration_builtin_text(const char *name);

#endif
