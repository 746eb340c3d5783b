/* buf.c - a growable byte buffer that keeps its capacity across resets. */
#include "core/buf.h"

#include <stdio.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/mem.h"

void ab_buf_init(struct ab_buf *b, size_t limit)
{
        b->data  = NULL;
        b->len   = 0;
        b->cap   = 0;
        b->limit = limit;
}

void ab_buf_fini(struct ab_buf *b)
{
        if (!b)
                return;
        ab_free(b->data);
        b->data = NULL;
        b->len  = 0;
        b->cap  = 0;
}

void ab_buf_reset(struct ab_buf *b)
{
        b->len = 0;
        if (b->data)
                b->data[0] = '\0';
}

ab_err_t ab_buf_reserve(struct ab_buf *b, size_t extra)
{
        size_t need = b->len + extra + 1;
        size_t cap;
        char *p;

        if (b->limit && b->len + extra > b->limit)
                return AB_ERR_TOO_LARGE;
        if (need <= b->cap)
                return AB_OK;
        cap = b->cap ? b->cap : 256;
        while (cap < need)
                cap *= 2;
        p = ab_realloc(b->data, cap);
        if (!p)
                return AB_ERR_NOMEM;
        b->data = p;
        b->cap  = cap;
        return AB_OK;
}

ab_err_t ab_buf_append_slow(struct ab_buf *b, const void *p, size_t n)
{
        ab_err_t err = ab_buf_reserve(b, n);

        if (err)
                return err;
        if (n)
                memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return AB_OK;
}

ab_err_t ab_buf_appendf(struct ab_buf *b, const char *fmt, ...)
{
        va_list ap;
        int n;
        ab_err_t err;

        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                return AB_ERR_INTERNAL;
        err = ab_buf_reserve(b, (size_t)n);
        if (err)
                return err;
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t)n;
        return AB_OK;
}

ab_err_t ab_buf_append_i64(struct ab_buf *b, int64_t v)
{
        char tmp[24];
        char *p    = tmp + sizeof(tmp);
        uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

        do {
                *--p = (char)('0' + u % 10);
                u /= 10;
        } while (u);
        if (v < 0)
                *--p = '-';
        return ab_buf_append(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
        unsigned char c = s[0];
        size_t len;
        uint32_t cp;

        if (c < 0x80)
                return 1;
        if (c >= 0xC2 && c <= 0xDF)
                len = 2, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
                len = 3, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
                len = 4, cp = c & 0x07;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xC0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                return 0;
        return len;
}

int ab_utf8_valid(const char *s, size_t n)
{
        const unsigned char *u = (const unsigned char *)s;

        for (size_t i = 0, len; i < n; i += len)
                if (!(len = utf8_seq_len(u + i, n - i)))
                        return 0;
        return 1;
}

/* 1: the byte needs an escape; 2: it starts a multi-byte sequence. */
/* clang-format off */
static const unsigned char json_class[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x10 */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* '\\' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0x80 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};
/* clang-format on */

/* Write the escape of control or quoting byte c at o; returns its length. */
static size_t write_escape(char *o, unsigned char c)
{
        static const char hex[] = "0123456789abcdef";

        o[0] = '\\';
        switch (c) {
        case '"':
                o[1] = '"';
                return 2;
        case '\\':
                o[1] = '\\';
                return 2;
        case '\n':
                o[1] = 'n';
                return 2;
        case '\r':
                o[1] = 'r';
                return 2;
        case '\t':
                o[1] = 't';
                return 2;
        case '\b':
                o[1] = 'b';
                return 2;
        case '\f':
                o[1] = 'f';
                return 2;
        default:
                o[1] = 'u';
                o[2] = '0';
                o[3] = '0';
                o[4] = hex[c >> 4];
                o[5] = hex[c & 0xF];
                return 6;
        }
}

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Bit 7 of byte k is set if byte k of \p x (the k-th in memory) is '"',
 * '\\', < 0x20 or >= 0x80. A borrow only reaches the bytes after a byte
 * that is one of them, so the lowest set bit is exact; higher ones may be
 * false. */
static inline uint64_t special8(uint64_t x)
{
        const uint64_t ones = 0x0101010101010101u;
        uint64_t q          = x ^ (ones * '"');
        uint64_t s          = x ^ (ones * '\\');

        return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) |
                ((s - ones) & ~s) | x) &
               (ones * 0x80);
}

static inline uint64_t load8(const unsigned char *p)
{
        uint64_t x;

        memcpy(&x, p, sizeof(x));
        return x;
}
#endif

/*
 * Copy the plain bytes (json_class 0) at \p s, up to \p n, to \p o and
 * return how many there are; the caller examines the byte that stopped
 * the scan. Bytes after the plain ones, up to o + n, may be written too
 * (the caller overwrites them). Sixteen bytes at a time (eight or four
 * below 16), each block stored whole, the last one overlapping the bytes
 * already found plain (they are not flagged, so its first flag is still
 * the first special byte): short strings, most label names and values,
 * take one or two steps, without a loop byte by byte or a memcpy() call.
 */
static inline size_t copy_plain(char *o, const unsigned char *s, size_t n)
{
        size_t i = 0;
#if defined(__SSE2__)
        const __m128i quote  = _mm_set1_epi8('"');
        const __m128i bslash = _mm_set1_epi8('\\');
        const __m128i space  = _mm_set1_epi8(0x20);

        if (n >= 16) {
                for (;;) {
                        size_t at = n - i >= 16 ? i : n - 16;
                        __m128i v = _mm_loadu_si128(
                            (const __m128i *)(const void *)(s + at));
                        /* Signed compare: bytes >= 0x80 are negative, so
                         * < 0x20. */
                        __m128i m = _mm_or_si128(
                            _mm_or_si128(_mm_cmpeq_epi8(v, quote),
                                         _mm_cmpeq_epi8(v, bslash)),
                            _mm_cmplt_epi8(v, space));
                        unsigned mask = (unsigned)_mm_movemask_epi8(m);

                        _mm_storeu_si128((__m128i *)(void *)(o + at), v);
                        if (mask)
                                return at + (size_t)__builtin_ctz(mask);
                        if (at + 16 == n)
                                return n;
                        i = at + 16;
                }
        }
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if (n >= 8) {
                for (;;) {
                        size_t at  = n - i >= 8 ? i : n - 8;
                        uint64_t x = load8(s + at);
                        uint64_t m = special8(x);

                        memcpy(o + at, &x, 8);
                        if (m)
                                return at + (size_t)__builtin_ctzll(m) / 8;
                        if (at + 8 == n)
                                return n;
                        i = at + 8;
                }
        }
        if (n >= 4) {
                /* Bytes 0-3 and n-4..n-1 in one word. */
                uint32_t lo, hi;
                uint64_t m;
                size_t k;

                memcpy(&lo, s, 4);
                memcpy(&hi, s + n - 4, 4);
                memcpy(o, &lo, 4);
                memcpy(o + n - 4, &hi, 4);
                m = special8((uint64_t)hi << 32 | lo);
                if (!m)
                        return n;
                k = (size_t)__builtin_ctzll(m) / 8;
                return k < 4 ? k : n - 8 + k;
        }
#endif
        while (i < n && json_class[s[i]] == 0) {
                o[i] = (char)s[i];
                i++;
        }
        return i;
}

/*
 * Write the escaped \p n bytes at \p u to \p o, which has room for the
 * worst case (every byte escaped as \u00XX, or an invalid byte replaced by
 * the 3-byte U+FFFD), in a single pass that copies runs of plain bytes
 * (copy_plain()) and writes escapes in place. @returns the end of what it
 * wrote.
 */
static inline char *json_escape(char *o, const unsigned char *u, size_t n)
{
        size_t i = 0, run;

        while (i < n) {
                unsigned char cls;
                size_t seq;

                run = copy_plain(o, u + i, n - i);
                o += run;
                i += run;
                if (i == n)
                        break;
                cls = json_class[u[i]];
                if (cls == 1) {
                        o += write_escape(o, u[i]);
                        i++;
                        continue;
                }
                seq = utf8_seq_len(u + i, n - i);
                if (seq) {
                        memcpy(o, u + i, seq);
                        o += seq;
                        i += seq;
                } else {
                        memcpy(o, "\xEF\xBF\xBD", 3);
                        o += 3;
                        i++;
                }
        }
        return o;
}

/* Room for \p extra bytes: ab_buf_reserve(), called only when it has
 * something to do (grow, or refuse what would pass the limit). */
static inline ab_err_t json_reserve(struct ab_buf *b, size_t extra)
{
        if (b->len + extra >= b->cap || (b->limit && b->len + extra > b->limit))
                return ab_buf_reserve(b, extra);
        return AB_OK;
}

ab_err_t ab_buf_append_json_str(struct ab_buf *b, const char *s, size_t n)
{
        ab_err_t err = json_reserve(b, n * 6 + 2);
        char *o;

        if (err)
                return err;
        o               = b->data + b->len;
        *o++            = '"';
        o               = json_escape(o, (const unsigned char *)s, n);
        *o++            = '"';
        b->len          = (size_t)(o - b->data);
        b->data[b->len] = '\0';
        return AB_OK;
}

ab_err_t ab_buf_append_json_chars(struct ab_buf *b, const char *s, size_t n)
{
        ab_err_t err = json_reserve(b, n * 6);
        char *o;

        if (err)
                return err;
        o      = json_escape(b->data + b->len, (const unsigned char *)s, n);
        b->len = (size_t)(o - b->data);
        b->data[b->len] = '\0';
        return AB_OK;
}

void ab_buf_truncate(struct ab_buf *b, size_t len)
{
        if (len < b->len) {
                b->len          = len;
                b->data[b->len] = '\0';
        }
}

char *ab_buf_take(struct ab_buf *b, size_t *len)
{
        char *p = b->data;

        if (len)
                *len = b->len;
        b->data = NULL;
        b->len  = 0;
        b->cap  = 0;
        return p;
}
