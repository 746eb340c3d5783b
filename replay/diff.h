/* diff.h - compares two sets of replay outputs record by record: outputs
 * added, removed and changed, and which fields changed. */
#ifndef AB_REPLAY_DIFF_H
#define AB_REPLAY_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/str.h"

/*
 * `--expect` compares a replay with a golden file and `--compare` one
 * mapping with another. Both feed this module one input record at a
 * time, in replay order, with the outputs each side produced for it, so
 * memory does not grow with the range: only the counters, the per-field
 * statistics and a bounded number of rendered examples are kept.
 *
 * Within a record, outputs are paired before they are compared: first an
 * event with an event of the same type and fingerprint, then with one of
 * the same type, in order; a rejection with a rejection of the same code,
 * then with any rejection. A pair whose bodies differ is "changed" (with
 * the JSON paths that differ); what is left over is "removed" (only on
 * the old side) or "added" (only on the new side). Two bodies that differ
 * only in formatting compare equal.
 */

enum ab_replay_item_kind {
        AB_REPLAY_ITEM_EVENT = 0,
        AB_REPLAY_ITEM_REJECTION,
        AB_REPLAY_ITEM__COUNT
};

/* An input record's place in replay order (see replay.h). */
struct ab_replay_pos {
        int64_t ts; /* order timestamp, ms */
        int32_t partition;
        int64_t offset;
};

/** Order of positions: by ts, then partition, then offset. */
int ab_replay_pos_cmp(const struct ab_replay_pos *a,
                      const struct ab_replay_pos *b);

/* One output of one record. Strings are borrowed for the call. */
struct ab_replay_item {
        enum ab_replay_item_kind kind;
        int type;           /* events: enum ab_event_type; rejections:
                               ab_err_t */
        uint32_t index;     /* its place among the record's outputs */
        struct ab_str key;  /* events: the fingerprint */
        struct ab_str body; /* the event JSON, or the rejection JSON */
};

enum ab_replay_change {
        AB_REPLAY_SAME = 0,
        AB_REPLAY_CHANGED,
        AB_REPLAY_ADDED,
        AB_REPLAY_REMOVED,
        AB_REPLAY_CHANGE__COUNT
};

struct ab_replay_diff;

/**
 * @returns a new comparison keeping at most \p max_examples rendered
 *          examples of each change, or NULL when out of memory.
 */
struct ab_replay_diff *ab_replay_diff_new(size_t max_examples);
/** NULL-safe. */
void ab_replay_diff_destroy(struct ab_replay_diff *d);

/**
 * Compare the outputs of the record at \p pos: \p old (the golden file or
 * the old mapping) with \p new_ (this replay). Either list may be empty.
 * @returns AB_OK or AB_ERR_NOMEM.
 */
ab_err_t ab_replay_diff_record(struct ab_replay_diff *d,
                               const struct ab_replay_pos *pos,
                               const struct ab_replay_item *old, size_t nold,
                               const struct ab_replay_item *new_, size_t nnew);

/** How many outputs of \p kind had \p change so far. */
uint64_t ab_replay_diff_count(const struct ab_replay_diff *d,
                              enum ab_replay_item_kind kind,
                              enum ab_replay_change change);

/** @returns true when any output was changed, added or removed. */
bool ab_replay_diff_found(const struct ab_replay_diff *d);

/**
 * Append the readable report: the counts, the fields that changed most
 * often, then the examples of each change. \p old_name / \p new_name
 * label the sides ("expected (golden.ndjson)", "replay").
 */
ab_err_t ab_replay_diff_render(const struct ab_replay_diff *d,
                               const char *old_name, const char *new_name,
                               struct ab_buf *out);

/** Append the counts and field statistics as a JSON object. */
ab_err_t ab_replay_diff_json(const struct ab_replay_diff *d,
                             struct ab_buf *out);

/*
 * Called for each JSON path whose value differs: "data.data.level",
 * "data.data.alerts[0].labels[\"k8s.io/app\"]". \p old / \p new_ are the
 * values' JSON texts; ptr NULL when the member is absent on that side.
 */
typedef ab_err_t (*ab_replay_field_fn)(void *arg, const char *path,
                                       struct ab_str old, struct ab_str new_);

/**
 * Walk two JSON texts and report every differing leaf (objects member by
 * member, arrays element by element; a value whose type changed is one
 * difference).
 * @returns AB_OK, AB_ERR_DECODE when a text is not JSON, AB_ERR_NOMEM, or
 *          the first error \p fn returned.
 */
ab_err_t ab_replay_json_diff(const char *a, size_t alen, const char *b,
                             size_t blen, ab_replay_field_fn fn, void *arg);

#endif
