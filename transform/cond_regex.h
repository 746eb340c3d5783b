/* cond_regex.h - regular expressions with a bounded cost, for integration
 * conditions (PCRE2 with JIT when available). */
#ifndef AB_COND_REGEX_H
#define AB_COND_REGEX_H

#include <stddef.h>

#include "core/err.h"

/*
 * The dialect is PCRE2 (Perl-compatible) with UTF-8 on; a pattern is
 * unanchored unless it says `^` or `$`. Every cost is bounded:
 *   - compiling: a pattern of at most AB_REGEX_MAX_PATTERN bytes whose
 *     compiled form takes at most AB_REGEX_MAX_COMPILED bytes, with at
 *     most AB_REGEX_MAX_NESTING nested parentheses; anything bigger is
 *     rejected when the integration is compiled (check-config, test);
 *   - matching: at most AB_REGEX_MATCH_LIMIT backtracking steps, a
 *     backtracking depth of AB_REGEX_DEPTH_LIMIT and AB_COND_REGEX_HEAP_LIMIT
 *     of heap (interpreter) or AB_REGEX_JIT_STACK of JIT stack. A match
 *     that reaches a limit is an error (AB_ERR_REGEX_LIMIT), never a
 *     silent non-match.
 */
#define AB_REGEX_MAX_PATTERN     8192
#define AB_REGEX_MAX_COMPILED    (32 * 1024)
#define AB_REGEX_MAX_NESTING     64
#define AB_REGEX_MATCH_LIMIT     10000000u
#define AB_REGEX_DEPTH_LIMIT     1000000u
#define AB_COND_REGEX_HEAP_LIMIT (64u * 1024 * 1024)
#define AB_REGEX_JIT_STACK       (1024 * 1024)

/* A compiled pattern: immutable once compiled, shared by threads. */
struct ab_cond_regex;

/* What one thread needs to match: match data, limits and JIT stack. */
struct ab_cond_regex_matcher;

/**
 * Compile \p len bytes of \p pattern. \p path names the key in messages.
 * @returns AB_OK with *out (ab_cond_regex_free), or AB_ERR_CONFIG with \p err
 *          saying why (syntax with its offset, or which budget it exceeds),
 *          or AB_ERR_NOMEM.
 */
ab_err_t ab_cond_regex_compile(const char *pattern, size_t len,
                               const char *path, struct ab_cond_regex **out,
                               struct ab_error *err);

/** Free \p re. NULL-safe. */
void ab_cond_regex_free(struct ab_cond_regex *re);

/** @returns a new matcher (ab_cond_regex_matcher_free), or NULL without memory.
 */
struct ab_cond_regex_matcher *ab_cond_regex_matcher_new(void);

/** Free \p m. NULL-safe. */
void ab_cond_regex_matcher_free(struct ab_cond_regex_matcher *m);

/**
 * Does \p re match somewhere in \p len bytes of \p subject (UTF-8)?
 * @returns AB_OK with *hit set; AB_ERR_REGEX_LIMIT with \p err naming the
 *          pattern's key path and the limit reached; AB_ERR_DECODE for a
 *          subject that is not UTF-8; AB_ERR_NOMEM.
 */
ab_err_t ab_cond_regex_match(const struct ab_cond_regex *re,
                             struct ab_cond_regex_matcher *m,
                             const char *subject, size_t len, int *hit,
                             struct ab_error *err);

#endif
