/* buf.h - a growable byte buffer that keeps its capacity across resets. */
#ifndef AB_BUF_H
#define AB_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/err.h"

/*
 * Storage is owned by the buffer. `data` is always NUL-terminated after a
 * successful append (the NUL is not counted in `len`). `limit` (0 = none)
 * bounds `len`: an append past it fails with AB_ERR_TOO_LARGE and leaves
 * the buffer unchanged. Reset keeps the allocation, so a buffer reused per
 * message stops allocating once it has grown to the largest message.
 */
struct ab_buf {
        char *data;
        size_t len;
        size_t cap;
        size_t limit;
};

void ab_buf_init(struct ab_buf *b, size_t limit);
/** Free the storage. NULL-safe; the buffer may be initialized again. */
void ab_buf_fini(struct ab_buf *b);
/** Forget the content, keep the allocation. */
void ab_buf_reset(struct ab_buf *b);
/** Make room for \p extra more bytes. */
ab_err_t ab_buf_reserve(struct ab_buf *b, size_t extra);

ab_err_t ab_buf_append_slow(struct ab_buf *b, const void *p, size_t n);

/* Appends are on every hot path: the common case (room left) is inline. */
static inline ab_err_t ab_buf_append(struct ab_buf *b, const void *p, size_t n)
{
        if (b->len + n < b->cap && (!b->limit || b->len + n <= b->limit)) {
                if (n) /* p may be NULL for an empty append */
                        memcpy(b->data + b->len, p, n);
                b->len += n;
                b->data[b->len] = '\0';
                return AB_OK;
        }
        return ab_buf_append_slow(b, p, n);
}

static inline ab_err_t ab_buf_append_str(struct ab_buf *b, const char *s)
{
        return ab_buf_append(b, s, strlen(s));
}

static inline ab_err_t ab_buf_append_char(struct ab_buf *b, char c)
{
        return ab_buf_append(b, &c, 1);
}
ab_err_t ab_buf_appendf(struct ab_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
ab_err_t ab_buf_append_i64(struct ab_buf *b, int64_t v);

/**
 * Append \p n bytes of UTF-8 \p s as a JSON string literal with quotes.
 * Control characters are escaped; invalid UTF-8 bytes become U+FFFD, so
 * the output is always valid JSON.
 */
ab_err_t ab_buf_append_json_str(struct ab_buf *b, const char *s, size_t n);

/** ab_buf_append_json_str() without the quotes: the content of a JSON
 *  string written in several pieces. */
ab_err_t ab_buf_append_json_chars(struct ab_buf *b, const char *s, size_t n);

/** @returns 1 if the \p n bytes at \p s are valid UTF-8 (NUL included),
 *  else 0: the check jansson applies to strings. */
int ab_utf8_valid(const char *s, size_t n);

/** Drop content past \p len (len <= b->len). */
void ab_buf_truncate(struct ab_buf *b, size_t len);

/** Hand the storage to the caller (free with ab_free); the buffer is reset. */
char *ab_buf_take(struct ab_buf *b, size_t *len);

#endif
