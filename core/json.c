/* json.c - the hot-path JSON reader: a single-pass validating tape parser. */
#include "core/json.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/mem.h"

/*
 * HOW IT WORKS
 * The parser is one loop over the bytes with three entry points: `value`
 * (a value is expected), `key` (an object key is expected) and `after` (a
 * value just ended; a ',' or a closing bracket must follow). Open
 * containers live on a fixed stack of token indices (no recursion), so a
 * container's `next`, `size` and source range are filled in when its
 * closing bracket is seen.
 *
 * Strings are scanned 16 bytes at a time (SSE2) for the four kinds of byte
 * that need attention: '"', '\\', control characters and non-ASCII bytes.
 * Non-ASCII sequences are validated in place. The first escape of a string
 * switches to a decoding loop that writes into doc->strs; that buffer is
 * reserved once per parse for the rest of the input (escapes only shrink
 * text), so decoding writes without bounds checks and never reallocates
 * mid-parse. The tape doubles through ab_realloc() when full. Both keep
 * their capacity across parses, so a warmed-up document allocates nothing.
 */

struct parser {
        struct ab_json_doc *doc;
        ab_err_t code; /* why the parse failed */
        const unsigned char *base;
        const unsigned char *end;
        struct ab_error *err;
        int reserved; /* doc->strs holds room for the rest of the input */
};

static inline int is_ws(unsigned char c)
{
        return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static inline const unsigned char *skip_ws(const unsigned char *p,
                                           const unsigned char *end)
{
        while (p < end && *p <= ' ' && is_ws(*p))
                p++;
        return p;
}

static inline int is_digit(unsigned char c)
{
        return (unsigned char)(c - '0') < 10;
}

/* True for bytes that end a run of plain string content. */
static inline int is_special(unsigned char c)
{
        return (unsigned char)(c - 0x20) >= 0x60 || c == '"' || c == '\\';
}

/* The first byte at or after p that is '"', '\\', < 0x20 or >= 0x80. */
static inline const unsigned char *scan_plain(const unsigned char *p,
                                              const unsigned char *end)
{
#if defined(__SSE2__)
        const __m128i quote  = _mm_set1_epi8('"');
        const __m128i bslash = _mm_set1_epi8('\\');
        const __m128i space  = _mm_set1_epi8(0x20);

        while (end - p >= 16) {
                __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
                /* Signed compare: bytes >= 0x80 are negative, so < 0x20. */
                __m128i m =
                    _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote),
                                              _mm_cmpeq_epi8(v, bslash)),
                                 _mm_cmplt_epi8(v, space));
                unsigned mask = (unsigned)_mm_movemask_epi8(m);

                if (mask)
                        return p + __builtin_ctz(mask);
                p += 16;
        }
#endif
        while (p < end && !is_special(*p))
                p++;
        return p;
}

/* Length of the well-formed UTF-8 sequence at p (lead byte >= 0x80), or 0:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static inline size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
        size_t avail    = (size_t)(end - p);
        unsigned char c = p[0], lo = 0x80, hi = 0xBF;

        if (c < 0xC2)
                return 0;
        if (c < 0xE0)
                return avail >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
        if (c < 0xF0) {
                if (c == 0xE0)
                        lo = 0xA0;
                else if (c == 0xED)
                        hi = 0x9F;
                if (avail < 3 || p[1] < lo || p[1] > hi ||
                    (p[2] & 0xC0) != 0x80)
                        return 0;
                return 3;
        }
        if (c < 0xF5) {
                if (c == 0xF0)
                        lo = 0x90;
                else if (c == 0xF4)
                        hi = 0x8F;
                if (avail < 4 || p[1] < lo || p[1] > hi ||
                    (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
                        return 0;
                return 4;
        }
        return 0;
}

static inline int hexval(unsigned char c)
{
        if (is_digit(c))
                return c - '0';
        c |= 0x20;
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

/* The code unit of the "\uXXXX" at p (p[0] == '\\'), or -1. */
static long hex4(const unsigned char *p, const unsigned char *end)
{
        long v = 0;

        if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
                return -1;
        for (int i = 2; i < 6; i++) {
                int h = hexval(p[i]);
                if (h < 0)
                        return -1;
                v = v * 16 + h;
        }
        return v;
}

static inline size_t off(const struct parser *ps, const unsigned char *p)
{
        return (size_t)(p - ps->base);
}

/* Record a decode error at p. @returns NULL, for `return fail(...);`. */
static const unsigned char *fail(struct parser *ps, const unsigned char *p,
                                 const char *what)
{
        ps->code = AB_ERR_DECODE;
        ab_error_set_at(ps->err, AB_ERR_DECODE, off(ps, p), "%s", what);
        return NULL;
}

/* "unexpected character 'x'" (or byte 0xNN / end of input) + context. */
static void fail_char(struct parser *ps, const unsigned char *p,
                      const char *expected)
{
        const char *sep = expected ? ", expected " : "";

        ps->code = AB_ERR_DECODE;
        if (!expected)
                expected = "";
        if (p >= ps->end)
                ab_error_set_at(ps->err, AB_ERR_DECODE, off(ps, p),
                                "unexpected end of input%s%s", sep, expected);
        else if (*p > ' ' && *p < 0x7F)
                ab_error_set_at(ps->err, AB_ERR_DECODE, off(ps, p),
                                "unexpected character '%c'%s%s", *p, sep,
                                expected);
        else
                ab_error_set_at(ps->err, AB_ERR_DECODE, off(ps, p),
                                "unexpected byte 0x%02x%s%s", *p, sep,
                                expected);
}

static inline unsigned char *put_utf8(unsigned char *w, unsigned long cp)
{
        if (cp < 0x80) {
                *w++ = (unsigned char)cp;
        } else if (cp < 0x800) {
                *w++ = (unsigned char)(0xC0 | (cp >> 6));
                *w++ = (unsigned char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
                *w++ = (unsigned char)(0xE0 | (cp >> 12));
                *w++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
                *w++ = (unsigned char)(0x80 | (cp & 0x3F));
        } else {
                *w++ = (unsigned char)(0xF0 | (cp >> 18));
                *w++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
                *w++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
                *w++ = (unsigned char)(0x80 | (cp & 0x3F));
        }
        return w;
}

/*
 * Decode the escape at p (p[0] == '\\', p[1] exists) into w. @returns the
 * byte after the escape, or NULL with the error set.
 */
static const unsigned char *
decode_escape(struct parser *ps, const unsigned char *p, unsigned char **wp)
{
        unsigned char *w = *wp;
        long cp, lo;

        switch (p[1]) {
        case '"':
        case '\\':
        case '/':
                *w++ = p[1];
                break;
        case 'b':
                *w++ = '\b';
                break;
        case 'f':
                *w++ = '\f';
                break;
        case 'n':
                *w++ = '\n';
                break;
        case 'r':
                *w++ = '\r';
                break;
        case 't':
                *w++ = '\t';
                break;
        case 'u':
                cp = hex4(p, ps->end);
                if (cp < 0)
                        return fail(ps, p, "invalid \\u escape in string");
                if (cp == 0)
                        return fail(ps, p, "\\u0000 is not allowed in strings");
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                        return fail(ps, p, "lone low surrogate in string");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                        lo = hex4(p + 6, ps->end);
                        if (lo < 0xDC00 || lo > 0xDFFF)
                                return fail(ps, p,
                                            "high surrogate not followed by a "
                                            "low surrogate in string");
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        p += 6;
                }
                *wp = put_utf8(w, (unsigned long)cp);
                return p + 6;
        default:
                return fail(ps, p, "invalid escape in string");
        }
        *wp = w;
        return p + 2;
}

/*
 * Slow path of parse_string(): the string opened at q + 1 has an escape at
 * p. Decode it whole into doc->strs.
 */
static const unsigned char *parse_escaped(struct parser *ps,
                                          const unsigned char *q,
                                          const unsigned char *p,
                                          struct ab_json_tok *t)
{
        struct ab_buf *strs      = &ps->doc->strs;
        const unsigned char *run = q + 1;
        unsigned char *w, *w0;

        if (!ps->reserved) {
                /* Decoded text is never longer than its source, and this
                 * string starts the rest of the input. */
                if (ab_buf_reserve(strs, (size_t)(ps->end - run))) {
                        ps->code = AB_ERR_NOMEM;
                        ab_error_set(ps->err, AB_ERR_NOMEM, NULL,
                                     "out of memory decoding strings");
                        return NULL;
                }
                ps->reserved = 1;
        }
        w0 = (unsigned char *)strs->data + strs->len;
        w  = w0;
        for (;;) {
                unsigned char c;

                p = scan_plain(p, ps->end);
                if (p < ps->end && *p >= 0x80) {
                        size_t n = utf8_len(p, ps->end);
                        if (!n)
                                return fail(ps, p, "invalid UTF-8 in string");
                        p += n;
                        continue;
                }
                memcpy(w, run, (size_t)(p - run));
                w += p - run;
                if (p == ps->end)
                        return fail(ps, q, "unterminated string");
                c = *p;
                if (c == '"')
                        break;
                if (c != '\\')
                        return fail(ps, p,
                                    c == '\n' ? "newline in string"
                                              : "control character in string");
                if (ps->end - p < 2)
                        return fail(ps, q, "unterminated string");
                p = decode_escape(ps, p, &w);
                if (!p)
                        return NULL;
                run = p;
        }
        t->start   = (uint32_t)strs->len;
        t->len     = (uint32_t)(w - w0);
        t->decoded = 1;
        strs->len += (size_t)(w - w0);
        strs->data[strs->len] = '\0';
        return p + 1;
}

/* Parse the string whose opening quote is at q into t. @returns the byte
 * after the closing quote, or NULL with the error set. */
static inline const unsigned char *
parse_string(struct parser *ps, const unsigned char *q, struct ab_json_tok *t)
{
        const unsigned char *p = q + 1;

        for (;;) {
                unsigned char c;

                p = scan_plain(p, ps->end);
                if (p == ps->end)
                        return fail(ps, q, "unterminated string");
                c = *p;
                if (c == '"') {
                        t->start   = (uint32_t)off(ps, q + 1);
                        t->len     = (uint32_t)(p - q - 1);
                        t->decoded = 0;
                        return p + 1;
                }
                if (c == '\\')
                        return parse_escaped(ps, q, p, t);
                if (c < 0x80)
                        return fail(ps, p,
                                    c == '\n' ? "newline in string"
                                              : "control character in string");
                do {
                        size_t n = utf8_len(p, ps->end);
                        if (!n)
                                return fail(ps, p, "invalid UTF-8 in string");
                        p += n;
                } while (p < ps->end && *p >= 0x80);
        }
}

/* Validate the number at p. @returns the byte after it, or NULL. */
static inline const unsigned char *parse_number(struct parser *ps,
                                                const unsigned char *p)
{
        const unsigned char *end = ps->end;

        if (*p == '-')
                p++;
        if (p < end && *p == '0') {
                p++;
                if (p < end && is_digit(*p))
                        return fail(ps, p, "invalid number (leading zero)");
        } else if (p < end && is_digit(*p)) {
                do
                        p++;
                while (p < end && is_digit(*p));
        } else {
                return fail(ps, p, "invalid number");
        }
        if (p < end && *p == '.') {
                p++;
                if (p == end || !is_digit(*p))
                        return fail(ps, p, "invalid number");
                do
                        p++;
                while (p < end && is_digit(*p));
        }
        if (p < end && (*p | 0x20) == 'e') {
                p++;
                if (p < end && (*p == '+' || *p == '-'))
                        p++;
                if (p == end || !is_digit(*p))
                        return fail(ps, p, "invalid number");
                do
                        p++;
                while (p < end && is_digit(*p));
        }
        return p;
}

static int grow(struct ab_json_doc *doc, struct parser *ps)
{
        size_t max = doc->max_toks ? doc->max_toks : UINT32_MAX - 1;
        size_t cap = doc->cap ? (size_t)doc->cap * 2 : 64;
        struct ab_json_tok *toks;

        if (doc->cap >= max) {
                ps->code = AB_ERR_TOO_LARGE;
                ab_error_set(ps->err, AB_ERR_TOO_LARGE, NULL,
                             "the JSON input has more than %zu values, the "
                             "limit for one record",
                             max);
                return -1;
        }
        if (cap > max)
                cap = max;
        toks = ab_realloc(doc->toks, cap * sizeof(*toks));
        if (!toks) {
                ps->code = AB_ERR_NOMEM;
                ab_error_set(ps->err, AB_ERR_NOMEM, NULL,
                             "out of memory growing the JSON tape");
                return -1;
        }
        doc->toks = toks;
        doc->cap  = (uint32_t)cap;
        return 0;
}

void ab_json_doc_init(struct ab_json_doc *doc)
{
        doc->src      = NULL;
        doc->srclen   = 0;
        doc->toks     = NULL;
        doc->ntoks    = 0;
        doc->cap      = 0;
        doc->max_toks = 0;
        ab_buf_init(&doc->strs, 0);
}

void ab_json_doc_fini(struct ab_json_doc *doc)
{
        if (!doc)
                return;
        ab_free(doc->toks);
        ab_buf_fini(&doc->strs);
        ab_json_doc_init(doc);
}

ab_err_t ab_json_parse(struct ab_json_doc *doc, const char *src, size_t len,
                       struct ab_error *err)
{
        struct parser ps;
        const unsigned char *p, *end;
        uint32_t stack[AB_JSON_MAX_DEPTH];
        uint32_t depth = 0, n = 0;
        struct ab_json_tok *t, *ct;

        doc->src    = src;
        doc->srclen = len;
        doc->ntoks  = 0;
        ab_buf_reset(&doc->strs);
        if (len > UINT32_MAX)
                return ab_error_set(err, AB_ERR_TOO_LARGE, NULL,
                                    "JSON input of %zu bytes exceeds 4 GiB",
                                    len);
        ps.doc      = doc;
        ps.base     = (const unsigned char *)src;
        ps.end      = ps.base + len;
        ps.err      = err;
        ps.reserved = 0;
        ps.code     = AB_OK;
        p           = skip_ws(ps.base, ps.end);
        end         = ps.end;
        if (p == end) {
                fail(&ps, p, "empty input");
                goto error;
        }

value:
        if (depth == AB_JSON_MAX_DEPTH) {
                fail(&ps, p, "nesting too deep");
                goto error;
        }
        if (n == doc->cap && grow(doc, &ps))
                goto error;
        t            = &doc->toks[n];
        t->src_start = (uint32_t)off(&ps, p);
        t->size      = 0;
        t->decoded   = 0;
        if (p == end) {
                fail_char(&ps, p, "a value");
                goto error;
        }
        switch (*p) {
        case '"':
                t->type = AB_JSON_STRING;
                p       = parse_string(&ps, p, t);
                if (!p)
                        goto error;
                t->next    = ++n;
                t->src_len = (uint32_t)off(&ps, p) - t->src_start;
                goto after;
        case '{':
        case '[':
                t->type        = *p == '{' ? AB_JSON_OBJECT : AB_JSON_ARRAY;
                stack[depth++] = n++;
                p              = skip_ws(p + 1, end);
                if (p < end && *p == (t->type == AB_JSON_OBJECT ? '}' : ']'))
                        goto close;
                if (t->type == AB_JSON_OBJECT)
                        goto key;
                goto value;
        case 't':
                if (end - p < 4 || memcmp(p, "true", 4))
                        goto bad_literal;
                t->type = AB_JSON_TRUE;
                p += 4;
                break;
        case 'f':
                if (end - p < 5 || memcmp(p, "false", 5))
                        goto bad_literal;
                t->type = AB_JSON_FALSE;
                p += 5;
                break;
        case 'n':
                if (end - p < 4 || memcmp(p, "null", 4))
                        goto bad_literal;
                t->type = AB_JSON_NULL;
                p += 4;
                break;
        case '-':
        case '0':
        case '1':
        case '2':
        case '3':
        case '4':
        case '5':
        case '6':
        case '7':
        case '8':
        case '9':
                t->type = AB_JSON_NUMBER;
                p       = parse_number(&ps, p);
                if (!p)
                        goto error;
                break;
        default:
                fail_char(&ps, p, NULL);
                goto error;
        }
        t->start   = t->src_start;
        t->len     = (uint32_t)off(&ps, p) - t->src_start;
        t->src_len = t->len;
        t->next    = ++n;

after:
        if (depth == 0)
                goto done;
        p  = skip_ws(p, end);
        ct = &doc->toks[stack[depth - 1]];
        ct->size++;
        if (p < end && *p == ',') {
                p = skip_ws(p + 1, end);
                if (ct->type == AB_JSON_OBJECT)
                        goto key;
                goto value;
        }
        if (p < end && *p == (ct->type == AB_JSON_OBJECT ? '}' : ']'))
                goto close;
        fail_char(&ps, p,
                  ct->type == AB_JSON_OBJECT ? "',' or '}'" : "',' or ']'");
        goto error;

close:
        ct          = &doc->toks[stack[--depth]];
        ct->next    = n;
        ct->src_len = (uint32_t)off(&ps, p + 1) - ct->src_start;
        ct->start   = ct->src_start;
        ct->len     = ct->src_len;
        p++;
        goto after;

key:
        if (p == end || *p != '"') {
                fail_char(&ps, p, "a string key");
                goto error;
        }
        if (n == doc->cap && grow(doc, &ps))
                goto error;
        t            = &doc->toks[n];
        t->type      = AB_JSON_STRING;
        t->size      = 0;
        t->src_start = (uint32_t)off(&ps, p);
        p            = parse_string(&ps, p, t);
        if (!p)
                goto error;
        t->next    = ++n;
        t->src_len = (uint32_t)off(&ps, p) - t->src_start;
        p          = skip_ws(p, end);
        if (p == end || *p != ':') {
                fail_char(&ps, p, "':' after the object key");
                goto error;
        }
        p = skip_ws(p + 1, end);
        goto value;

bad_literal:
        fail(&ps, p, "invalid literal");
        goto error;

done:
        p = skip_ws(p, end);
        if (p != end) {
                fail(&ps, p, "trailing data after JSON value");
                goto error;
        }
        doc->ntoks = n;
        return AB_OK;

error:
        doc->ntoks = 0;
        ab_buf_reset(&doc->strs);
        return ps.code;
}

struct ab_str ab_json_raw(const struct ab_json_doc *doc, uint32_t i)
{
        const struct ab_json_tok *t = &doc->toks[i];

        return ab_str_make(doc->src + t->src_start, t->src_len);
}

/* Whether key token \p kt reads \p key. */
static inline int key_is(const struct ab_json_doc *doc,
                         const struct ab_json_tok *kt, const char *key,
                         size_t keylen)
{
        const char *text;

        if (kt->len != keylen)
                return 0;
        if (keylen == 0)
                return 1;
        text = kt->decoded ? doc->strs.data + kt->start : doc->src + kt->start;
        /* Most keys of a length differ in their first byte: skip the
         * memcmp() call. */
        return text[0] == key[0] && !memcmp(text, key, keylen);
}

/* Member lookup: the last member named \p key, or with \p first the
 * first. */
static inline uint32_t get_member(const struct ab_json_doc *doc, uint32_t obj,
                                  const char *key, size_t keylen, int first)
{
        const struct ab_json_tok *toks = doc->toks;
        uint32_t found                 = AB_JSON_NONE, k, m;

        if (obj >= doc->ntoks || toks[obj].type != AB_JSON_OBJECT)
                return AB_JSON_NONE;
        k = obj + 1;
        for (m = 0; m < toks[obj].size; m++) {
                if (key_is(doc, &toks[k], key, keylen)) {
                        found = k + 1;
                        if (first)
                                break;
                }
                k = toks[k + 1].next;
        }
        return found;
}

uint32_t ab_json_get(const struct ab_json_doc *doc, uint32_t obj,
                     const char *key, size_t keylen)
{
        return get_member(doc, obj, key, keylen, 0);
}

uint32_t ab_json_get_first(const struct ab_json_doc *doc, uint32_t obj,
                           const char *key, size_t keylen)
{
        return get_member(doc, obj, key, keylen, 1);
}

/* Objects up to this many members are checked pairwise. */
#define UNIQUE_PAIRWISE_MAX 8

static int key_eq(struct ab_str a, struct ab_str b)
{
        return a.len == b.len && (!a.len || !memcmp(a.ptr, b.ptr, a.len));
}

/*
 * The bytes of a key of \p n <= 8 bytes as one word: two keys of the same
 * length have the same word if and only if they have the same bytes (the
 * loads overlap; every byte is in one of them). Fixed-size copies compile
 * to loads; a loop over the bytes is what this replaces.
 */
static inline uint64_t key_word(const char *p, size_t n)
{
        uint32_t lo, hi;
        uint64_t w;

        if (n >= 8) {
                memcpy(&w, p, 8);
                return w;
        }
        if (n >= 4) {
                memcpy(&lo, p, 4);
                memcpy(&hi, p + n - 4, 4);
                return (uint64_t)hi << 32 | lo;
        }
        if (!n)
                return 0;
        return (uint64_t)(unsigned char)p[0] |
               (uint64_t)(unsigned char)p[n / 2] << 8 |
               (uint64_t)(unsigned char)p[n - 1] << 16;
}

/* Spreads keys over the slots of the hash table, a word of 8 bytes per
 * step (the last one overlapping). */
static uint32_t key_hash(struct ab_str k)
{
        const uint64_t mul = 0x9E3779B97F4A7C15u;
        uint64_t h         = (k.len + 1) * mul;
        size_t i           = 0;

        for (; k.len - i > 8; i += 8) {
                h = (h ^ key_word(k.ptr + i, 8)) * mul;
                h ^= h >> 29;
        }
        h = (h ^ key_word(k.ptr + i, k.len - i)) * mul;
        return (uint32_t)(h ^ h >> 32);
}

/* How many bytes of a repeated key a message shows. */
#define KEY_SHOWN 32

/* Report key token \p k as repeated: printable ASCII as is, other bytes
 * (and '"', '\\') as \xNN, at most KEY_SHOWN bytes (then "..."). */
static ab_err_t duplicate(const struct ab_json_doc *doc, uint32_t k,
                          struct ab_error *err)
{
        static const char hex[] = "0123456789abcdef";
        struct ab_str key       = ab_json_text(doc, k);
        char shown[KEY_SHOWN * 4 + 4];
        size_t o = 0;

        for (size_t i = 0; i < key.len && i < KEY_SHOWN; i++) {
                unsigned char c = (unsigned char)key.ptr[i];
                if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
                        shown[o++] = (char)c;
                        continue;
                }
                shown[o++] = '\\';
                shown[o++] = 'x';
                shown[o++] = hex[c >> 4];
                shown[o++] = hex[c & 15];
        }
        if (key.len > KEY_SHOWN) {
                memcpy(shown + o, "...", 3);
                o += 3;
        }
        shown[o] = '\0';
        ab_error_set_at(err, AB_ERR_DECODE, doc->toks[k].src_start,
                        "duplicate key \"%s\" in an object", shown);
        if (err)
                snprintf(err->path, sizeof(err->path), "%s", shown);
        return AB_ERR_DECODE;
}

/* The members of object \p obj through a hash table of key token indexes
 * (AB_JSON_NONE = empty slot) with linear probing. */
static ab_err_t unique_hashed(const struct ab_json_doc *doc, uint32_t obj,
                              struct ab_buf *scratch, struct ab_error *err)
{
        const struct ab_json_tok *toks = doc->toks;
        size_t nslots                  = 16, mask;
        uint32_t *slots, k = obj + 1;

        while (nslots < (size_t)toks[obj].size * 2)
                nslots *= 2;
        mask = nslots - 1;
        ab_buf_reset(scratch);
        if (ab_buf_reserve(scratch, nslots * sizeof(*slots)))
                return ab_error_set(err, AB_ERR_NOMEM, NULL,
                                    "out of memory checking object keys");
        slots = (uint32_t *)(void *)scratch->data;
        memset(slots, 0xff, nslots * sizeof(*slots));
        for (uint32_t m = 0; m < toks[obj].size; m++) {
                struct ab_str key = ab_json_text(doc, k);
                size_t s          = key_hash(key) & mask;

                while (slots[s] != AB_JSON_NONE) {
                        if (key_eq(ab_json_text(doc, slots[s]), key))
                                return duplicate(doc, k, err);
                        s = (s + 1) & mask;
                }
                slots[s] = k;
                k        = toks[k + 1].next;
        }
        return AB_OK;
}

/* A key of a small object: length and key_word() first, so that most
 * pairs differ without looking at the text. */
struct small_key {
        uint64_t head;
        uint32_t len;
        uint32_t tok;
        const char *text;
};

/* The members of object \p obj (at most UNIQUE_PAIRWISE_MAX), pairwise;
 * the repeat reported is the second occurrence of the first key that has
 * one. */
static ab_err_t unique_pairwise(const struct ab_json_doc *doc, uint32_t obj,
                                struct ab_error *err)
{
        const struct ab_json_tok *toks = doc->toks;
        struct small_key keys[UNIQUE_PAIRWISE_MAX];
        uint32_t n = toks[obj].size, k = obj + 1;

        for (uint32_t m = 0; m < n; m++) {
                struct ab_str t = ab_json_text(doc, k);

                keys[m].head = key_word(t.ptr, t.len);
                keys[m].len  = toks[k].len;
                keys[m].tok  = k;
                keys[m].text = t.ptr;
                k            = toks[k + 1].next;
        }
        for (uint32_t a = 0; a < n; a++)
                for (uint32_t b = a + 1; b < n; b++)
                        if (keys[a].head == keys[b].head &&
                            keys[a].len == keys[b].len &&
                            (keys[a].len <= 8 ||
                             !memcmp(keys[a].text + 8, keys[b].text + 8,
                                     keys[a].len - 8)))
                                return duplicate(doc, keys[b].tok, err);
        return AB_OK;
}

ab_err_t ab_json_check_unique_keys(const struct ab_json_doc *doc,
                                   struct ab_buf *scratch, struct ab_error *err)
{
        const struct ab_json_tok *toks = doc->toks;
        struct ab_buf own;
        ab_err_t rc = AB_OK;

        ab_buf_init(&own, 0);
        if (!scratch)
                scratch = &own;
        for (uint32_t i = 0; i < doc->ntoks && !rc; i++) {
                if (toks[i].type != AB_JSON_OBJECT || toks[i].size < 2)
                        continue;
                if (toks[i].size > UNIQUE_PAIRWISE_MAX) {
                        rc = unique_hashed(doc, i, scratch, err);
                        continue;
                }
                rc = unique_pairwise(doc, i, err);
        }
        ab_buf_fini(&own);
        return rc;
}

uint32_t ab_json_index(const struct ab_json_doc *doc, uint32_t arr, uint32_t n)
{
        uint32_t k;

        if (arr >= doc->ntoks || doc->toks[arr].type != AB_JSON_ARRAY ||
            n >= doc->toks[arr].size)
                return AB_JSON_NONE;
        k = arr + 1;
        while (n--)
                k = doc->toks[k].next;
        return k;
}

int ab_json_int64(const struct ab_json_doc *doc, uint32_t i, int64_t *out)
{
        const struct ab_json_tok *t = &doc->toks[i];
        const unsigned char *p, *end;
        uint64_t v = 0, limit = INT64_MAX;
        int neg = 0;

        if (t->type != AB_JSON_NUMBER)
                return -1;
        p   = (const unsigned char *)doc->src + t->start;
        end = p + t->len;
        if (*p == '-') {
                neg   = 1;
                limit = (uint64_t)INT64_MAX + 1;
                p++;
        }
        for (; p < end; p++) {
                unsigned d;

                if (!is_digit(*p))
                        return -1;
                d = (unsigned)(*p - '0');
                if (v > (limit - d) / 10)
                        return -1;
                v = v * 10 + d;
        }
        if (neg)
                *out = v ? -(int64_t)(v - 1) - 1 : 0;
        else
                *out = (int64_t)v;
        return 0;
}

int ab_json_double(const struct ab_json_doc *doc, uint32_t i, double *out)
{
        const struct ab_json_tok *t = &doc->toks[i];
        char tmp[64], *text = tmp, *end, *dot;
        const char *point = localeconv()->decimal_point;
        int rc            = -1;
        double v;

        if (t->type != AB_JSON_NUMBER)
                return -1;
        if (t->len >= sizeof(tmp)) {
                text = ab_malloc((size_t)t->len + 1);
                if (!text)
                        return -1;
        }
        memcpy(text, doc->src + t->start, t->len);
        text[t->len] = '\0';
        /* strtod() reads the locale's decimal point; JSON's is '.'. */
        dot = strchr(text, '.');
        if (dot && point && point[0] && !point[1])
                *dot = point[0];
        v = strtod(text, &end);
        if (*end == '\0' && isfinite(v)) {
                *out = v;
                rc   = 0;
        }
        if (text != tmp)
                ab_free(text);
        return rc;
}

/*
 * HOW IT WORKS
 * The subtree is a contiguous tape range, so it is written in one forward
 * pass. A stack of open containers (with the count of children written)
 * decides the separator before each token: ',' between array elements and
 * object members, ':' between a key and its value. A container is closed
 * when the scan reaches its `next`.
 */
ab_err_t ab_json_write(const struct ab_json_doc *doc, uint32_t i,
                       struct ab_buf *out)
{
        const struct ab_json_tok *toks = doc->toks;
        uint32_t open[AB_JSON_MAX_DEPTH], count[AB_JSON_MAX_DEPTH];
        uint32_t depth = 0, end, k;
        ab_err_t err;

        if (i >= doc->ntoks)
                return AB_ERR_NOT_FOUND;
        end = toks[i].next;
        /* Compact output is never longer than the source it came from, so
         * one reservation usually covers it; the appends check anyway. */
        (void)ab_buf_reserve(out, toks[i].src_len);
        for (k = i; k < end; k++) {
                const struct ab_json_tok *t = &toks[k];
                struct ab_str s;

                while (depth && toks[open[depth - 1]].next == k) {
                        depth--;
                        err = ab_buf_append_char(out, toks[open[depth]].type ==
                                                              AB_JSON_OBJECT
                                                          ? '}'
                                                          : ']');
                        if (err)
                                return err;
                }
                if (depth) {
                        uint32_t c = count[depth - 1]++;
                        int is_obj =
                            toks[open[depth - 1]].type == AB_JSON_OBJECT;
                        char sep = is_obj && (c & 1) ? ':' : ',';

                        if (c) {
                                err = ab_buf_append_char(out, sep);
                                if (err)
                                        return err;
                        }
                }
                switch (t->type) {
                case AB_JSON_STRING:
                        s   = ab_json_text(doc, k);
                        err = ab_buf_append_json_str(out, s.ptr, s.len);
                        break;
                case AB_JSON_OBJECT:
                case AB_JSON_ARRAY:
                        err = ab_buf_append_char(
                            out, t->type == AB_JSON_OBJECT ? '{' : '[');
                        open[depth]    = k;
                        count[depth++] = 0;
                        break;
                default:
                        err = ab_buf_append(out, doc->src + t->start, t->len);
                        break;
                }
                if (err)
                        return err;
        }
        while (depth) {
                depth--;
                err = ab_buf_append_char(
                    out, toks[open[depth]].type == AB_JSON_OBJECT ? '}' : ']');
                if (err)
                        return err;
        }
        return AB_OK;
}
