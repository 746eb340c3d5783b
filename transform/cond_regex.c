/* cond_regex.c - regular expressions with a bounded cost, for integration
 * conditions (PCRE2 with JIT when available). */
#include "transform/cond_regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>

#include "core/mem.h"

struct ab_cond_regex {
        pcre2_code *code;
        char *path; /* the pattern's key path, for match-time messages */
};

struct ab_cond_regex_matcher {
        pcre2_match_data *md;
        pcre2_match_context *mc;
        pcre2_jit_stack *jit;
};

/* PCRE2 allocates through the project's allocator. */
static void *rx_malloc(PCRE2_SIZE size, void *data)
{
        (void)data;
        return ab_malloc(size);
}

static void rx_free(void *p, void *data)
{
        (void)data;
        ab_free(p);
}

ab_err_t ab_cond_regex_compile(const char *pattern, size_t len,
                               const char *path, struct ab_cond_regex **out,
                               struct ab_error *err)
{
        pcre2_general_context *gc = NULL;
        pcre2_compile_context *cc = NULL;
        struct ab_cond_regex *re  = NULL;
        ab_err_t rc               = AB_ERR_NOMEM;
        PCRE2_UCHAR msg[160];
        PCRE2_SIZE eoff;
        size_t size = 0;
        int ecode;

        *out = NULL;
        if (len > AB_REGEX_MAX_PATTERN)
                return ab_error_set(err, AB_ERR_CONFIG, path,
                                    "regular expression of %zu bytes exceeds "
                                    "the limit of %d bytes",
                                    len, AB_REGEX_MAX_PATTERN);
        gc = pcre2_general_context_create(rx_malloc, rx_free, NULL);
        cc = gc ? pcre2_compile_context_create(gc) : NULL;
        re = ab_calloc(1, sizeof(*re));
        if (!cc || !re)
                goto out;
        re->path = ab_strdup(path ? path : "");
        if (!re->path)
                goto out;
        pcre2_set_parens_nest_limit(cc, AB_REGEX_MAX_NESTING);
        re->code = pcre2_compile((PCRE2_SPTR)pattern, len, PCRE2_UTF, &ecode,
                                 &eoff, cc);
        if (!re->code) {
                if (ecode == PCRE2_ERROR_NOMEMORY)
                        goto out;
                pcre2_get_error_message(ecode, msg, sizeof(msg));
                rc = ab_error_set(err, AB_ERR_CONFIG, path,
                                  "invalid regular expression: %s at "
                                  "offset %zu",
                                  (const char *)msg, (size_t)eoff);
                goto out;
        }
        pcre2_pattern_info(re->code, PCRE2_INFO_SIZE, &size);
        if (size > AB_REGEX_MAX_COMPILED) {
                rc = ab_error_set(err, AB_ERR_CONFIG, path,
                                  "regular expression compiles to %zu bytes, "
                                  "over the limit of %d bytes",
                                  size, AB_REGEX_MAX_COMPILED);
                goto out;
        }
        /* Without JIT (not built in, or no executable memory) the
         * interpreter runs under the same limits. */
        pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);
        *out = re;
        re   = NULL;
        rc   = AB_OK;
out:
        if (rc == AB_ERR_NOMEM)
                ab_error_set(err, AB_ERR_NOMEM, path,
                             "out of memory compiling a regular expression");
        ab_cond_regex_free(re);
        pcre2_compile_context_free(cc);
        pcre2_general_context_free(gc);
        return rc;
}

void ab_cond_regex_free(struct ab_cond_regex *re)
{
        if (!re)
                return;
        pcre2_code_free(re->code);
        ab_free(re->path);
        ab_free(re);
}

struct ab_cond_regex_matcher *ab_cond_regex_matcher_new(void)
{
        struct ab_cond_regex_matcher *m = ab_calloc(1, sizeof(*m));
        pcre2_general_context *gc       = NULL;

        if (!m)
                return NULL;
        gc     = pcre2_general_context_create(rx_malloc, rx_free, NULL);
        m->md  = gc ? pcre2_match_data_create(1, gc) : NULL;
        m->mc  = gc ? pcre2_match_context_create(gc) : NULL;
        m->jit = gc ? pcre2_jit_stack_create(32 * 1024, AB_REGEX_JIT_STACK, gc)
                    : NULL;
        pcre2_general_context_free(gc);
        if (!m->md || !m->mc) {
                ab_cond_regex_matcher_free(m);
                return NULL;
        }
        pcre2_set_match_limit(m->mc, AB_REGEX_MATCH_LIMIT);
        pcre2_set_depth_limit(m->mc, AB_REGEX_DEPTH_LIMIT);
        pcre2_set_heap_limit(m->mc, AB_COND_REGEX_HEAP_LIMIT / 1024);
        /* Without a stack of its own JIT uses 32 KiB of the machine stack. */
        if (m->jit)
                pcre2_jit_stack_assign(m->mc, NULL, m->jit);
        return m;
}

void ab_cond_regex_matcher_free(struct ab_cond_regex_matcher *m)
{
        if (!m)
                return;
        pcre2_match_data_free(m->md);
        pcre2_match_context_free(m->mc);
        pcre2_jit_stack_free(m->jit);
        ab_free(m);
}

/* The limit a match error code stands for, or NULL for another error. */
static const char *limit_name(int rc)
{
        switch (rc) {
        case PCRE2_ERROR_MATCHLIMIT:
                return "match step";
        case PCRE2_ERROR_DEPTHLIMIT:
                return "backtracking depth";
        case PCRE2_ERROR_HEAPLIMIT:
                return "heap";
        case PCRE2_ERROR_JIT_STACKLIMIT:
                return "JIT stack";
        default:
                return NULL;
        }
}

ab_err_t ab_cond_regex_match(const struct ab_cond_regex *re,
                             struct ab_cond_regex_matcher *m,
                             const char *subject, size_t len, int *hit,
                             struct ab_error *err)
{
        PCRE2_UCHAR msg[160];
        const char *limit;
        int rc;

        *hit = 0;
        rc = pcre2_match(re->code, (PCRE2_SPTR)(subject ? subject : ""), len, 0,
                         0, m->md, m->mc);
        if (rc >= 0) {
                *hit = 1;
                return AB_OK;
        }
        if (rc == PCRE2_ERROR_NOMATCH)
                return AB_OK;
        limit = limit_name(rc);
        if (limit)
                return ab_error_set(err, AB_ERR_REGEX_LIMIT, re->path,
                                    "regular expression reached its %s limit "
                                    "on a value of %zu bytes",
                                    limit, len);
        if (rc == PCRE2_ERROR_NOMEMORY)
                return ab_error_set(err, AB_ERR_NOMEM, re->path,
                                    "out of memory matching a regular "
                                    "expression");
        pcre2_get_error_message(rc, msg, sizeof(msg));
        return ab_error_set(err,
                            rc <= PCRE2_ERROR_UTF8_ERR1 &&
                                    rc >= PCRE2_ERROR_UTF8_ERR21
                                ? AB_ERR_DECODE
                                : AB_ERR_INTERNAL,
                            re->path, "cannot match a regular expression: %s",
                            (const char *)msg);
}
