/* json.h - the hot-path JSON reader: validates a payload into a reused token
 * tape. */
#ifndef AB_JSON_H
#define AB_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/str.h"

/*
 * HOW IT WORKS
 * ab_json_parse() validates one JSON text (RFC 8259, any top-level value)
 * and records every value as a token in a flat array ("tape") in document
 * order. Nothing is copied: a token is a byte range of the source, except
 * strings that contain escapes, which are decoded once into the document's
 * own string buffer. The tape and the string buffer are reused by the next
 * parse, so after warm-up a parse does no heap allocation at all.
 *
 * Layout: a container token is followed by its children. An object's
 * children alternate key (a STRING token) and value. `next` is the index
 * of the first token after a value's whole subtree, so siblings are found
 * in O(1): first child = i + 1, following sibling = tok[i].next.
 *
 * Semantics match jansson's json_loadb(..., JSON_DECODE_ANY) so the two
 * can be compared by the differential test: invalid UTF-8 and "\u0000"
 * are rejected, lone surrogates are rejected, trailing bytes other than
 * white space are rejected, nesting is limited to AB_JSON_MAX_DEPTH.
 * Duplicate keys are kept; lookups return the last one, as jansson does;
 * ab_json_check_unique_keys() lets a caller refuse them instead.
 * Numbers are validated but not converted (jansson rejects integers that
 * overflow 64 bits; we accept them as text). A NUL byte outside strings is
 * always an error (jansson's lexer skips one right after a number or a
 * literal; tests/unit/check_json_diff.c checks both differences).
 */

#define AB_JSON_MAX_DEPTH 2048
#define AB_JSON_NONE      UINT32_MAX

enum ab_json_type {
        AB_JSON_NULL = 0,
        AB_JSON_FALSE,
        AB_JSON_TRUE,
        AB_JSON_NUMBER,
        AB_JSON_STRING,
        AB_JSON_ARRAY,
        AB_JSON_OBJECT,
};

struct ab_json_tok {
        uint32_t start;  /* value: byte offset in the source; decoded strings:
                            offset in the document's string buffer */
        uint32_t len;    /* byte length (strings: without quotes, decoded) */
        uint32_t next;   /* index of the token after this subtree */
        uint32_t size;   /* arrays: elements; objects: members */
        uint8_t type;    /* enum ab_json_type */
        uint8_t decoded; /* strings: text lives in the string buffer */
        uint32_t src_start; /* byte offset of the value's first byte in the
                               source (the quote for strings) */
        uint32_t src_len;   /* byte length of the value's text in the source */
};

/* A document owns its tape and string buffer; the source stays the
 * caller's and must outlive every use of the document's tokens. */
struct ab_json_doc {
        const char *src;
        size_t srclen;
        struct ab_json_tok *toks;
        uint32_t ntoks;
        uint32_t cap;
        uint32_t max_toks; /* most values (tokens) a parse may produce, to
                              bound the tape's memory; 0: no limit */
        struct ab_buf strs;
};

void ab_json_doc_init(struct ab_json_doc *doc);
/** Free the tape and string buffer. NULL-safe. */
void ab_json_doc_fini(struct ab_json_doc *doc);

/**
 * Parse \p len bytes at \p src into \p doc (previous content is dropped).
 * Sources larger than 4 GiB - 1, and sources of more than doc->max_toks
 * values (members, elements and keys each count) when it is set, are
 * rejected with AB_ERR_TOO_LARGE.
 * @returns AB_OK, or AB_ERR_DECODE with \p err (may be NULL) naming the
 *          problem and its byte offset ("unexpected character 'x'",
 *          "unterminated string", "invalid UTF-8", ...).
 */
ab_err_t ab_json_parse(struct ab_json_doc *doc, const char *src, size_t len,
                       struct ab_error *err);

static inline const struct ab_json_tok *
ab_json_at(const struct ab_json_doc *doc, uint32_t i)
{
        return &doc->toks[i];
}

static inline enum ab_json_type ab_json_type_of(const struct ab_json_doc *doc,
                                                uint32_t i)
{
        return (enum ab_json_type)doc->toks[i].type;
}

/** The decoded content of string token \p i (borrowed, valid until the next
 *  parse). For other tokens: their source text. */
static inline struct ab_str ab_json_text(const struct ab_json_doc *doc,
                                         uint32_t i)
{
        const struct ab_json_tok *t = &doc->toks[i];

        return ab_str_make((t->decoded ? doc->strs.data : doc->src) + t->start,
                           t->len);
}

/** The source text of any token's value (for strings: with quotes and
 *  escapes, exactly as in the input). */
struct ab_str ab_json_raw(const struct ab_json_doc *doc, uint32_t i);

/** Value of member \p key (\p keylen bytes, decoded form) of object \p obj,
 *  the last one if repeated; AB_JSON_NONE if absent or \p obj is no object. */
uint32_t ab_json_get(const struct ab_json_doc *doc, uint32_t obj,
                     const char *key, size_t keylen);

/** ab_json_get() that stops at the first member named \p key: the same
 *  answer, in half the time on average, for documents that
 *  ab_json_check_unique_keys() has accepted. */
uint32_t ab_json_get_first(const struct ab_json_doc *doc, uint32_t obj,
                           const char *key, size_t keylen);

/**
 * Check that no object in \p doc repeats a member name (compared in decoded
 * form, so "a" and "\u0061" are the same name). O(members): small objects
 * are compared pairwise, larger ones through a hash table kept in
 * \p scratch (a caller's reusable buffer, or NULL for a temporary one).
 * @returns AB_OK; AB_ERR_DECODE with \p err (may be NULL) naming the
 *          repeated key in `path` and `text` (escaped, long keys shortened)
 *          and the byte offset of its second occurrence; AB_ERR_NOMEM.
 */
ab_err_t ab_json_check_unique_keys(const struct ab_json_doc *doc,
                                   struct ab_buf *scratch,
                                   struct ab_error *err);

/** Element \p n of array \p arr, or AB_JSON_NONE. O(n). */
uint32_t ab_json_index(const struct ab_json_doc *doc, uint32_t arr, uint32_t n);

/**
 * Parse number token \p i as an integer (no fraction, no exponent, fits
 * int64) into \p out. @returns 0, or -1 if it is not such a number.
 */
int ab_json_int64(const struct ab_json_doc *doc, uint32_t i, int64_t *out);

/** Parse number token \p i as a double. @returns 0 or -1. */
int ab_json_double(const struct ab_json_doc *doc, uint32_t i, double *out);

/**
 * Append subtree \p i to \p out as compact JSON: objects keep member order,
 * strings are re-escaped canonically (only '"', '\\' and control
 * characters), numbers are copied as written.
 */
ab_err_t ab_json_write(const struct ab_json_doc *doc, uint32_t i,
                       struct ab_buf *out);

#endif
