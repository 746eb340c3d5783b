/* selector.h - compiled JSONPath selectors ($, .key, ['key'], [N], [*]) over a
 * token tape. */
#ifndef AB_SELECTOR_H
#define AB_SELECTOR_H

#include <stdbool.h>
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
/** Append token \p i. @returns AB_OK or AB_ERR_NOMEM. */
ab_err_t ab_matches_push(struct ab_matches *m, uint32_t i);

/*
 * Key paths: the selectors of one integration that are only object keys
 * after their start (`$.a.b`, or `.labels.severity` after the batch
 * element) are interned into one table of (parent path, key) nodes, so
 * that the mapping engine can look up each distinct path once per batch
 * element, however many fields, conditions and entries name it. Node 0
 * is the start itself; a node's parent always has a smaller id. Keys are
 * borrowed from the selectors they came from, which must outlive the
 * table.
 */
struct ab_selpath {
        uint32_t parent; /* 0: the start (the element, or the root) */
        bool relative;   /* starts at the batch element, not the root */
        const char *key;
        size_t keylen;
};

struct ab_selpaths {
        struct ab_selpath *v; /* v[0] is the start and unused */
        uint32_t n;           /* nodes including the start */
        uint32_t cap;
};

void ab_selpaths_init(struct ab_selpaths *t);
void ab_selpaths_fini(struct ab_selpaths *t);

/**
 * Intern \p sel after its first \p skip steps. Sets *id to the node of
 * the whole path, or to 0 when those steps are not all object keys (or
 * there are none): such selectors are evaluated step by step.
 * @returns AB_OK or AB_ERR_NOMEM.
 */
ab_err_t ab_selpaths_add(struct ab_selpaths *t, const struct ab_selector *sel,
                         size_t skip, bool relative, uint32_t *id);

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
