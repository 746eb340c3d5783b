/* lifecycle_int.h - declarations shared by the lifecycle module's files
 * (not a public interface). */
#ifndef AB_LIFECYCLE_INT_H
#define AB_LIFECYCLE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/json.h"
#include "lifecycle/lifecycle.h"
#include "lifecycle/store.h"
#include "transform/alert.h"

struct lc_changes;
struct lc_rd;

struct ab_lifecycle {
        struct ab_lifecycle_config conf;
        struct ab_lifecycle_stats stats;
        struct lc_state st;
        struct lc_changes *chg; /* owned; NULL without capture_changes */
        struct ab_buf entry;    /* a changelog entry being drained */
        struct ab_buf name;     /* an integration name being resolved */
        struct ab_lifecycle_hasher *hasher; /* owned, for every hash */
        struct ab_json_doc doc;             /* action records */
        struct ab_buf operator_name;        /* action strings, NUL-terminated */
        struct ab_buf text;
        struct ab_kv *kv; /* owned scratch for alert views */
        size_t kv_cap;
        struct ab_alert view; /* a stored alert, ab_lc_view_build() */
};

struct lc_emit {
        ab_lifecycle_emit_cb fn;
        void *opaque;
};

/**
 * The smallest of \p names (bytewise) that sorts after \p prev (NULL: the
 * smallest of all), or NULL. Walking with it visits dedup.fields sorted
 * and without repeats, the order the fingerprint hashes them in.
 */
const char *ab_lifecycle_dedup_next(const char *const *names, size_t n,
                                    const char *prev);

/**
 * The value dedup field \p name selects in \p a: the label of that name,
 * else the alert field of that name, else AB_STR_NULL (absent).
 */
struct ab_str ab_lifecycle_dedup_value(const struct ab_alert *a,
                                       const char *name);

/* The state machine (lifecycle.c), for actions.c. */

/** The stored alert as a firing or resolved ab_alert in lc->view (valid
 * until the next call). */
ab_err_t ab_lc_view_build(struct ab_lifecycle *lc, const struct lc_alert *al,
                          bool resolved, int64_t end_ms);

/** Fill \p ev for event number \p seq of type \p type of \p al, an alert
 * of integration \p integ. */
ab_err_t ab_lc_event_init(struct ab_lifecycle *lc, struct ab_event *ev,
                          const struct lc_alert *al,
                          const struct ab_integration *integ,
                          enum ab_event_type type, int64_t time_ms,
                          uint32_t seq);

/**
 * Close \p al at \p time_ms and forget it. \p incoming is the recovery
 * alert that closes it (NULL: the event shows the stored alert). The
 * state changes even when the emit callback fails; its error is returned.
 */
ab_err_t ab_lc_alert_close(struct ab_lifecycle *lc, struct lc_alert *al,
                           enum lc_why why, int64_t time_ms,
                           const struct ab_alert *incoming,
                           const char *operator_name, const char *solution,
                           const struct lc_emit *em);

/** Auto-clear every alert whose deadline is <= now_ms, in deadline
 * order. */
ab_err_t ab_lc_expire_until(struct ab_lifecycle *lc, int64_t now_ms,
                            const struct lc_emit *em);

/* Change capture (changes.c). */

/** A new, empty set of changed fingerprints, or NULL. */
struct lc_changes *ab_lc_changes_new(void);

/** NULL-safe. */
void ab_lc_changes_destroy(struct lc_changes *c);

/** Bytes the set holds (for ab_lifecycle_get_mem); 0 for NULL. */
size_t ab_lc_changes_mem(const struct lc_changes *c);

/** Remember that the alert with fingerprint \p fp changed (a no-op
 * without capture_changes). */
void ab_lc_changed(struct ab_lifecycle *lc, const unsigned char *fp);

/** Forget every pending change (the state was replaced). */
void ab_lc_changes_clear(struct ab_lifecycle *lc);

/* The entry codec (entry.c), shared by snapshots and changelog entries. */

/** Append \p v little-endian. */
ab_err_t ab_lc_put_u32(struct ab_buf *b, uint32_t v);
ab_err_t ab_lc_put_u64(struct ab_buf *b, uint64_t v);

/**
 * Append the fields of \p al that a snapshot alert and a changelog entry
 * share (everything but the integration): fp, id, times, count, seq,
 * touch, handler, blob (str-coded when \p legacy: blob.c).
 */
ab_err_t ab_lc_fields_put(struct ab_lifecycle *lc, struct ab_buf *b,
                          const struct lc_alert *al, bool legacy);

/**
 * Read the fields ab_lc_fields_put() wrote into a new record of \p st's
 * slab (no integration yet) in \p *out. Every length is checked and the blob
 * decoded; when \p legacy (a format from before the shared coding) it must
 * be str-coded.
 * @returns AB_ERR_STATE with "invalid <what>: <reason>" in \p err, or
 *          AB_ERR_NOMEM.
 */
ab_err_t ab_lc_fields_get(struct ab_lifecycle *lc, struct lc_state *st,
                          struct lc_rd *r, const char *what, bool legacy,
                          struct lc_alert **out, struct ab_error *err);

#endif
