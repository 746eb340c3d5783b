/* str.h - borrowed string slices (pointer and length, not NUL-terminated). */
#ifndef AB_STR_H
#define AB_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* A borrowed view; whoever hands one out states how long it stays valid.
 * ptr == NULL means "absent", which differs from an empty string. */
struct ab_str {
        const char *ptr;
        size_t len;
};

#define AB_STR_NULL ((struct ab_str){NULL, 0})

static inline struct ab_str ab_str_make(const char *p, size_t n)
{
        struct ab_str s = {p, n};
        return s;
}

static inline struct ab_str ab_str_c(const char *s)
{
        return ab_str_make(s, s ? strlen(s) : 0);
}

static inline bool ab_str_present(struct ab_str s)
{
        return s.ptr != NULL;
}

static inline bool ab_str_eq(struct ab_str a, struct ab_str b)
{
        return a.len == b.len && (a.len == 0 || !memcmp(a.ptr, b.ptr, a.len));
}

static inline bool ab_str_eq_c(struct ab_str a, const char *c)
{
        return ab_str_eq(a, ab_str_c(c));
}

/** Compare bytewise like strcmp: shorter prefix sorts first. */
static inline int ab_str_cmp(struct ab_str a, struct ab_str b)
{
        size_t n = a.len < b.len ? a.len : b.len;
        int c    = n ? memcmp(a.ptr, b.ptr, n) : 0;

        if (c)
                return c;
        return a.len < b.len ? -1 : a.len > b.len ? 1 : 0;
}

/* A rendering buffer for ab_str_escape() that shows 64 plain bytes or 16
 * escaped ones before "...": enough to recognize a value in a message. */
#define AB_SHOWN_SIZE 68

/**
 * Render \p n bytes of \p s (untrusted: any byte, NUL included) into
 * \p out (\p size bytes, always NUL-terminated) for a message: printable
 * ASCII as is, a backslash or quote after a backslash, every other byte as
 * \xNN. Nothing is dropped silently: when \p out is too small, the
 * rendering ends with "...". @returns \p out.
 */
const char *ab_str_escape(char *out, size_t size, const char *s, size_t n);

#endif
