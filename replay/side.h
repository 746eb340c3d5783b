/* side.h - one integration being replayed: its processor and the outputs of
 * the current record kept for the comparison. */
#ifndef AB_REPLAY_SIDE_H
#define AB_REPLAY_SIDE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "pipeline/config.h"
#include "pipeline/processor.h"
#include "replay/diff.h"
#include "replay/summary.h"
#include "transform/integration.h"

/*
 * A replay has one side for the integration under test and, with
 * --compare, one for the old integration. Each runs its own processor
 * over the same records; the outputs of the current record are copied
 * here so the two sides (or the new side and a golden file) can be
 * compared once the record is done. Internal to replay/: replay.c reads
 * and writes the fields directly.
 */

/* Where an item's strings are in a side's text buffer (which may move). */
struct ab_replay_item_ref {
        struct ab_replay_item it;
        size_t key_off;
        size_t body_off;
};

struct ab_replay_side {
        struct ab_pipeline_config cfg; /* the base config, our input */
        struct ab_pipeline_input input;
        char *topics[1];              /* owned */
        char *integration;            /* owned: the argument */
        struct ab_integration *integ; /* owned copy: its name */
        struct ab_processor *proc;
        uint32_t nout; /* outputs of the current record */
        /* The current record's outputs, kept for the comparison. */
        struct ab_buf text;
        struct ab_replay_item_ref *refs;
        struct ab_replay_item *items;
        size_t cap;
        struct ab_replay_counts counts;
};

/**
 * Set up zeroed \p s (its text buffer initialized) to replay \p topic with
 * \p integration over the \p base config (borrowed; must outlive \p s):
 * \p opts are the processor's (may be NULL); errors are prefixed with
 * \p flag. ab_replay_side_fini() it in every case.
 */
ab_err_t ab_replay_side_init(struct ab_replay_side *s,
                             const struct ab_pipeline_config *base,
                             const char *topic, const char *integration,
                             const struct ab_processor_opts *opts,
                             const char *flag, struct ab_error *err);

/** Free what \p s owns. */
void ab_replay_side_fini(struct ab_replay_side *s);

/** Forget the current record's outputs. */
void ab_replay_side_reset(struct ab_replay_side *s);

/** Keep a copy of \p it for the comparison of the current record. */
ab_err_t ab_replay_side_keep(struct ab_replay_side *s,
                             const struct ab_replay_item *it);

/** The kept items of the current record (s->nout of them), pointing into
 * s->text: valid until the next keep or reset. */
const struct ab_replay_item *ab_replay_side_items(struct ab_replay_side *s);

/** The integration's name, "?" before it is loaded. */
const char *ab_replay_side_name(const struct ab_replay_side *s);

#endif
