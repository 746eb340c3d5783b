/* selector.h - compiled JSONPath selectors ($, .key, ['key'], [N], [*]) over a
 * token tape. */
#ifndef AB_SELECTOR_H
#define AB_SELECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/json.h"

/*
 * Grammar: `$` followed by steps, each one of
 *   .key        key characters are anything but '.', '[' and white space
 *               (so `trigger-type` works);
 *   ['k'] ["k"] any key, with \' \" \\ escapes;
 *   [N]         array element N (0-based);
 *   [*]         every element of an array (or every member value of an
 *               object).
 * Selectors are immutable after compile and shareable between threads.
 */
struct ab_selector;

/** A growable array of token indexes, reused across evaluations. */
struct ab_matches {
        uint32_t *idx;
        size_t n;
        size_t cap;
};

void ab_matches_init(struct ab_matches *m);
void ab_matches_fini(struct ab_matches *m);

/**
 * Compile \p text. @returns AB_OK with *out set (caller owns), or
 * AB_ERR_CONFIG with \p err naming the problem and its character offset.
 */
ab_err_t ab_selector_compile(const char *text, struct ab_selector **out,
                             struct ab_error *err);

/** NULL-safe. */
void ab_selector_destroy(struct ab_selector *sel);

/** The source text (borrowed). */
const char *ab_selector_text(const struct ab_selector *sel);

/** True when the selector contains a [*] step. */
int ab_selector_has_wildcard(const struct ab_selector *sel);

/**
 * If \p sel starts with the steps of \p root followed by [*], return the
 * number of steps that prefix covers (so evaluation can start at the
 * current batch element with the remaining steps), else 0. \p root must
 * contain no wildcard.
 */
size_t ab_selector_batch_prefix(const struct ab_selector *sel,
                                const struct ab_selector *root);

/**
 * Append to \p out every token matched by \p sel, starting from \p start
 * and skipping the first \p skip steps. Matches that are JSON null are
 * left out (null counts as absent). @returns AB_OK or AB_ERR_NOMEM.
 */
ab_err_t ab_selector_eval(const struct ab_selector *sel, size_t skip,
                          const struct ab_json_doc *doc, uint32_t start,
                          struct ab_matches *out);

#endif
