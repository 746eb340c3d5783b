/* integ_set.h - the integrations of one pipeline configuration: topic
 * bindings and every integration loaded, and how a reload replaces them. */
#ifndef AB_INTEG_SET_H
#define AB_INTEG_SET_H

#include <stddef.h>

#include "core/err.h"
#include "pipeline/config.h"
#include "transform/integration.h"

/* A topic bound to an integration (NULL: records must name theirs). */
struct ab_integ_binding {
        const char *topic; /* borrowed from the config */
        struct ab_integration *integ;
};

/* Zero-initialised: empty. Owns its integrations. */
struct ab_integ_set {
        struct ab_integ_binding *bindings;
        size_t nbindings;
        struct ab_integration **integs; /* configured and loaded on demand */
        size_t ninteg, capinteg;
};

/**
 * Load every integration \p cfg (borrowed: the bindings point at its
 * topics) binds into the empty \p s; ab_integ_set_fini() it either way.
 * @returns AB_OK, or the first integration's load error (its file, key
 *          path and message in \p err).
 */
ab_err_t ab_integ_set_load(struct ab_integ_set *s,
                           const struct ab_pipeline_config *cfg,
                           struct ab_error *err);

/** Add \p integ (ownership passes on success). @returns AB_ERR_NOMEM. */
ab_err_t ab_integ_set_keep(struct ab_integ_set *s,
                           struct ab_integration *integ);

/** The integration named \p name in \p s, or NULL. */
struct ab_integration *ab_integ_set_find(const struct ab_integ_set *s,
                                         const char *name);

/**
 * A reload: make \p next (loaded) the current set \p cur, keeping the
 * objects of \p cur that did not change so open alerts stay with them.
 * An integration of \p cur whose name \p next loads from an identical
 * config tree replaces the new copy; a built-in \p cur loaded on demand
 * (bound to no topic) whose name \p next does not load carries over;
 * every other one of \p cur moves to \p retired, because open alerts may
 * still point at it. Leaves \p next empty. All or nothing.
 * @returns AB_OK, or AB_ERR_NOMEM with nothing changed.
 */
ab_err_t ab_integ_set_swap(struct ab_integ_set *cur, struct ab_integ_set *next,
                           struct ab_integ_set *retired);

/** Free everything \p s holds and empty it. NULL-safe. */
void ab_integ_set_fini(struct ab_integ_set *s);

#endif
