/* transform.h - the mapping engine: one raw payload in, normalized alerts out.
 */
#ifndef AB_TRANSFORM_H
#define AB_TRANSFORM_H

#include <stddef.h>

#include "core/err.h"
#include "transform/alert.h"
#include "transform/integration.h"

/*
 * An engine holds the reusable per-message state (token tape, decoded
 * strings, output arena, alert array). It is not thread-safe: use one per
 * thread. Integrations are shared and read-only.
 */
struct ab_transform;

enum ab_content {
        AB_CONTENT_AUTO = 0, /* JSON if the first non-blank byte is { or [ */
        AB_CONTENT_JSON,
        AB_CONTENT_FORM, /* application/x-www-form-urlencoded */
};

/*
 * Per-record bounds of the engine's working memory. Besides the payload
 * itself and its decoded strings, a run holds the JSON tape (28 bytes a
 * value), the text it builds (joins, series, objects rendered as JSON),
 * the labels and annotations of all alerts (about 72 bytes each) and the
 * alerts (bounded by the integration's batch.max_alerts). A payload that
 * needs more than one of these is rejected with too_large, naming the
 * bound; docs/performance.md gives the peak it allows.
 */
#define AB_TRANSFORM_MAX_VALUES ((uint32_t)2 << 20) /* JSON values */
#define AB_TRANSFORM_MAX_TEXT   ((size_t)32 << 20)  /* built text, bytes */
#define AB_TRANSFORM_MAX_KVS    ((size_t)1 << 20)   /* labels+annotations */

/** @returns a new engine, or NULL when out of memory. */
struct ab_transform *ab_transform_new(void);
/** NULL-safe. */
void ab_transform_destroy(struct ab_transform *tf);

/** @returns the bytes the engine's buffers hold (their capacity). */
size_t ab_transform_held(const struct ab_transform *tf);

/**
 * Free the engine's buffers if together they hold more than \p keep
 * bytes (one unusually large payload grew them), so a long-lived engine
 * does not keep its largest payload's memory forever. The alerts of the
 * last run become invalid. @returns the bytes the buffers held before.
 */
size_t ab_transform_trim(struct ab_transform *tf, size_t keep);

/**
 * Decode \p len bytes of \p payload and map them with \p integ.
 *
 * A payload becomes one alert, or one per element of `batch.root`. It is
 * accepted or rejected as a whole: if any element is rejected, nothing is
 * returned and \p err says which element and why (code, message, and the
 * byte offset for undecodable input).
 *
 * @returns AB_OK with \p *alerts / \p *nalerts set (borrowed, valid until
 *          the next call on \p tf), or the rejection code.
 */
ab_err_t ab_transform_run(struct ab_transform *tf,
                          const struct ab_integration *integ,
                          const char *payload, size_t len,
                          enum ab_content content,
                          const struct ab_alert **alerts, size_t *nalerts,
                          struct ab_error *err);

#endif
