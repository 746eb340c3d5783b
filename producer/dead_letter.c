/* dead_letter.c - reduce a dead letter to the producer's size limit. */
#include "producer/dead_letter.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The record and batch framing around key, value and headers: a v2
 * record's varints (at most 36 bytes) and a batch header (61 bytes),
 * rounded up. Each header adds two length varints (at most 10 bytes). */
#define RECORD_OVERHEAD 128
#define HEADER_OVERHEAD 10

/* The dead-letter headers the reduced form keeps whatever their size. */
static const char *const dlq_names[] = {
    AB_DLQ_HDR_ERROR_CODE, AB_DLQ_HDR_ERROR_MESSAGE, AB_DLQ_HDR_TOPIC,
    AB_DLQ_HDR_PARTITION,  AB_DLQ_HDR_OFFSET,        AB_DLQ_HDR_INTEGRATION,
};
#define NDLQ (sizeof(dlq_names) / sizeof(*dlq_names))

/* Caps tried in turn on each kept dead-letter header value. */
static const size_t value_caps[] = {1024, 256, 64};

static size_t header_size(const char *name, struct ab_str value)
{
        return HEADER_OVERHEAD + strlen(name) + value.len;
}

static size_t headers_size(const struct ab_headers *h)
{
        const char *name;
        struct ab_str value;
        size_t n = 0;

        for (size_t i = 0; h && !ab_headers_at(h, i, &name, &value); i++)
                n += header_size(name, value);
        return n;
}

size_t ab_dead_letter_size(struct ab_str key, struct ab_str value,
                           const struct ab_headers *headers)
{
        return RECORD_OVERHEAD + key.len + value.len + headers_size(headers);
}

/* \p s cut to at most \p max bytes, never inside a UTF-8 sequence. */
static struct ab_str utf8_prefix(struct ab_str s, size_t max)
{
        size_t n = max;

        if (s.len <= max)
                return s;
        while (n > 0 && ((unsigned char)s.ptr[n] & 0xC0) == 0x80)
                n--;
        return ab_str_make(s.ptr, n);
}

/* Fill \p last with the index of the last header named like each
 * dead-letter header (SIZE_MAX when absent): one pass, so a record with
 * a great many headers costs linear time. */
static void find_dlq_headers(const struct ab_headers *h, size_t last[NDLQ])
{
        const char *name;
        struct ab_str v;

        for (size_t k = 0; k < NDLQ; k++)
                last[k] = SIZE_MAX;
        for (size_t i = 0; !ab_headers_at(h, i, &name, &v); i++)
                for (size_t k = 0; k < NDLQ; k++)
                        if (!strcmp(name, dlq_names[k]))
                                last[k] = i;
}

static bool is_dlq_header(const size_t last[NDLQ], size_t idx)
{
        for (size_t k = 0; k < NDLQ; k++)
                if (last[k] == idx)
                        return true;
        return false;
}

static ab_err_t sha256_hex(struct ab_str value, char hex[65])
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;

        if (!EVP_Digest(value.ptr ? value.ptr : "", value.len, md, &mdlen,
                        EVP_sha256(), NULL) ||
            mdlen != 32)
                return AB_ERR_NOMEM;
        for (unsigned int i = 0; i < mdlen; i++)
                snprintf(hex + 2 * i, 3, "%02x", md[i]);
        return AB_OK;
}

/*
 * Build the reduced headers of \p in into \p out: dead-letter values cut
 * at \p cap, the record's own headers that fit in \p budget bytes in all,
 * then the size and hash (\p sha) of the original \p value and, when the
 * key was cut, its original length \p orig_keylen.
 */
static ab_err_t reduce_headers(const struct ab_headers *in,
                               struct ab_headers *out, size_t cap,
                               size_t budget, struct ab_str value,
                               const char *sha, size_t orig_keylen,
                               bool key_cut)
{
        const char *name;
        struct ab_str v;
        size_t last[NDLQ];
        int64_t dropped = 0;
        ab_err_t rc     = AB_OK;

        find_dlq_headers(in, last);
        ab_headers_reset(out);
        for (size_t i = 0; !rc && !ab_headers_at(in, i, &name, &v); i++) {
                if (is_dlq_header(last, i)) {
                        rc = ab_headers_add(out, name, utf8_prefix(v, cap));
                } else if (header_size(name, v) <= budget) {
                        budget -= header_size(name, v);
                        rc = ab_headers_add(out, name, v);
                } else {
                        dropped++;
                }
        }
        if (!rc)
                rc = ab_headers_add_str(out, AB_DLQ_HDR_TRUNCATED, "true");
        if (!rc)
                rc = ab_headers_add_i64(out, AB_DLQ_HDR_ORIGINAL_SIZE,
                                        (int64_t)value.len);
        if (!rc)
                rc = ab_headers_add_str(out, AB_DLQ_HDR_ORIGINAL_SHA256, sha);
        if (!rc && key_cut)
                rc = ab_headers_add_i64(out, AB_DLQ_HDR_ORIGINAL_KEYSIZE,
                                        (int64_t)orig_keylen);
        if (!rc && dropped)
                rc = ab_headers_add_i64(out, AB_DLQ_HDR_HEADERS_DROPPED,
                                        dropped);
        return rc;
}

/* Copy \p from over \p to. */
static ab_err_t copy_headers(struct ab_headers *to,
                             const struct ab_headers *from)
{
        const char *name;
        struct ab_str v;
        ab_err_t rc = AB_OK;

        ab_headers_reset(to);
        for (size_t i = 0; !rc && !ab_headers_at(from, i, &name, &v); i++)
                rc = ab_headers_add(to, name, v);
        return rc;
}

/*
 * HOW IT WORKS: the reduced headers are built into a scratch list, with
 * the dead-letter values capped at 1024 bytes, then 256, then 64 until
 * the headers and the cut key leave room under the limit; the value gets
 * what room is left, possibly none. Only then is the caller's list
 * overwritten, so a failure leaves it as it was (except out of memory
 * while copying back).
 */
ab_err_t ab_dead_letter_fit(struct ab_headers *headers, struct ab_str *key,
                            struct ab_str *value, size_t max_bytes,
                            bool *reduced)
{
        struct ab_headers *tmp = NULL;
        struct ab_str k        = *key;
        char sha[65];
        bool key_cut;
        ab_err_t rc;

        *reduced = false;
        if (ab_dead_letter_size(*key, *value, headers) <= max_bytes)
                return AB_OK;
        key_cut = k.len > max_bytes / 16;
        if (key_cut)
                k.len = max_bytes / 16;
        rc = sha256_hex(*value, sha);
        if (rc)
                return rc;
        tmp = ab_headers_new();
        if (!tmp)
                return AB_ERR_NOMEM;
        rc = AB_ERR_TOO_LARGE;
        for (size_t c = 0; c < sizeof(value_caps) / sizeof(*value_caps); c++) {
                size_t used;

                rc = reduce_headers(headers, tmp, value_caps[c], max_bytes / 4,
                                    *value, sha, key->len, key_cut);
                if (rc)
                        break;
                used = ab_dead_letter_size(k, AB_STR_NULL, tmp);
                if (used > max_bytes) {
                        rc = AB_ERR_TOO_LARGE;
                        continue;
                }
                rc = copy_headers(headers, tmp);
                if (rc)
                        break;
                if (value->len > max_bytes - used)
                        value->len = max_bytes - used;
                *key     = k;
                *reduced = true;
                break;
        }
        ab_headers_destroy(tmp);
        return rc;
}
