/* ident.c - the hashes that identify alerts and events: fingerprints,
 * alert ids and event ids. */

/* SHA256_Init() and friends (see lc_hash below). */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "lifecycle/ident.h"

#include <string.h>

#include <openssl/sha.h>

#include "core/mem.h"
#include "lifecycle/lifecycle_int.h"

/*
 * HOW IT WORKS
 *
 * Ids are hashes of what identifies them (docs/lifecycle.md), so the same
 * input gives the same ids on every machine and run, in any processing
 * order, and after a rebuild from a snapshot or a changelog. An alert id
 * starts with the first half of its fingerprint, so both route to the same
 * partition (ab_lifecycle_route()).
 */

/*
 * The hash input is a stream of many small pieces (length prefixes, tags,
 * short label strings). They are gathered in `pend` and handed to SHA-256
 * in large updates, because each update call costs far more than hashing
 * a few bytes. The digest depends only on the byte stream, so the
 * buffering never changes a fingerprint or an id.
 *
 * The hashes are small (one to five blocks) and many: every opened alert
 * takes three (fingerprint, alert id, event id), every close two. At that
 * size OpenSSL 3.0's EVP interface costs about as much as the hashing:
 * EVP_DigestInit_ex() frees and allocates the provider's context and looks
 * for an engine on every call. The low-level SHA256_Init(), _Update() and
 * _Final(), deprecated since 3.0 but in every 3.x release, run the same
 * SHA-256 code (the CPU's SHA extensions included) on a context held here,
 * with no allocation (docs/performance.md, "Mapping engine (issue 16)").
 */
#define LC_HASH_PEND 512

struct lc_hash {
        SHA256_CTX sha;
        int bad;
        size_t npend;
        unsigned char pend[LC_HASH_PEND];
};

static void h_begin(struct lc_hash *h)
{
        h->npend = 0;
        h->bad   = SHA256_Init(&h->sha) != 1;
}

static void h_flush(struct lc_hash *h)
{
        if (!h->bad && h->npend &&
            SHA256_Update(&h->sha, h->pend, h->npend) != 1)
                h->bad = 1;
        h->npend = 0;
}

/* Where the next \p n bytes go in `pend`, flushing it first when they do
 * not fit; NULL when \p n is more than `pend` holds. */
static inline unsigned char *h_room(struct lc_hash *h, size_t n)
{
        if (n > LC_HASH_PEND - h->npend) {
                h_flush(h);
                if (n > LC_HASH_PEND)
                        return NULL;
        }
        return h->pend + h->npend;
}

static void h_bytes(struct lc_hash *h, const void *p, size_t n)
{
        unsigned char *o = h_room(h, n);

        if (!o) {
                if (!h->bad && SHA256_Update(&h->sha, p, n) != 1)
                        h->bad = 1;
                return;
        }
        if (n)
                memcpy(o, p, n);
        h->npend += n;
}

static inline unsigned char *put_be32(unsigned char *o, uint32_t v)
{
        o[0] = (unsigned char)(v >> 24);
        o[1] = (unsigned char)(v >> 16);
        o[2] = (unsigned char)(v >> 8);
        o[3] = (unsigned char)v;
        return o + 4;
}

static void h_u32(struct lc_hash *h, uint32_t v)
{
        put_be32(h_room(h, 4), v);
        h->npend += 4;
}

static void h_u64(struct lc_hash *h, uint64_t v)
{
        h_u32(h, (uint32_t)(v >> 32));
        h_u32(h, (uint32_t)v);
}

/* A string: its length as 4 bytes big-endian, then its bytes. Every alert
 * string comes from a payload the JSON reader caps below 4 GiB. */
static void h_str(struct lc_hash *h, const char *p, size_t n)
{
        h_u32(h, (uint32_t)n);
        h_bytes(h, p, n);
}

static void h_cstr(struct lc_hash *h, const char *s)
{
        h_str(h, s, strlen(s));
}

/* A value that may be absent: 0x00, or 0x01 and the string. */
static void h_opt(struct lc_hash *h, struct ab_str v)
{
        unsigned char tag = v.ptr ? 1 : 0;

        h_bytes(h, &tag, 1);
        if (v.ptr)
                h_str(h, v.ptr, v.len);
}

/* A label: h_str() of its name, then h_opt() of its value; written into
 * `pend` in one step when it fits (labels are short). */
static void h_label(struct lc_hash *h, const struct ab_kv *kv)
{
        size_t n = 4 + kv->key.len + 1 + (kv->val.ptr ? 4 + kv->val.len : 0);
        unsigned char *o = h_room(h, n);

        if (!o) {
                h_str(h, kv->key.ptr, kv->key.len);
                h_opt(h, kv->val);
                return;
        }
        o = put_be32(o, (uint32_t)kv->key.len);
        if (kv->key.len)
                memcpy(o, kv->key.ptr, kv->key.len);
        o += kv->key.len;
        *o++ = kv->val.ptr ? 1 : 0;
        if (kv->val.ptr) {
                o = put_be32(o, (uint32_t)kv->val.len);
                if (kv->val.len)
                        memcpy(o, kv->val.ptr, kv->val.len);
        }
        h->npend += n;
}

static ab_err_t h_end(struct lc_hash *h, unsigned char out[LC_KEY_LEN])
{
        unsigned char d[SHA256_DIGEST_LENGTH];

        h_flush(h);
        if (h->bad || SHA256_Final(d, &h->sha) != 1)
                return AB_ERR_INTERNAL;
        memcpy(out, d, LC_KEY_LEN);
        return AB_OK;
}

const char *ab_lc_integ_name(const struct ab_integration *integ)
{
        const char *n = ab_integration_name(integ);

        return n ? n : "";
}

struct ab_str ab_lifecycle_dedup_value(const struct ab_alert *a,
                                       const char *name)
{
        struct ab_str v = ab_alert_label(a, ab_str_c(name));
        int f;

        if (v.ptr)
                return v;
        f = ab_alert_field_lookup(name, strlen(name));
        if (f >= 0)
                return a->field[f];
        return AB_STR_NULL;
}

/* dedup.fields lists a handful of names: selecting the next larger one
 * each time is cheaper than sorting a copy. */
const char *ab_lifecycle_dedup_next(const char *const *names, size_t n,
                                    const char *prev)
{
        const char *next = NULL;
        size_t i;

        for (i = 0; i < n; i++)
                if ((!prev || strcmp(names[i], prev) > 0) &&
                    (!next || strcmp(names[i], next) < 0))
                        next = names[i];
        return next;
}

/* The binary fingerprint of \p a under \p integ, hashed in \p h. */
static ab_err_t fp_digest(struct lc_hash *h, const struct ab_integration *integ,
                          const struct ab_alert *a,
                          unsigned char out[LC_KEY_LEN])
{
        const char *const *names;
        const char *name;
        uint32_t used = 0;
        size_t n, i;

        names = ab_integration_dedup_fields(integ, &n);
        h_begin(h);
        h_cstr(h, "alertbridge-fingerprint-v1");
        h_cstr(h, ab_lc_integ_name(integ));
        if (!n || !names) {
                h_cstr(h, "labels");
                h_u32(h, (uint32_t)a->nlabels);
                for (i = 0; i < a->nlabels; i++)
                        h_label(h, &a->labels[i]);
                return h_end(h, out);
        }
        for (name = ab_lifecycle_dedup_next(names, n, NULL); name;
             name = ab_lifecycle_dedup_next(names, n, name))
                used++;
        h_cstr(h, "fields");
        h_u32(h, used);
        for (name = ab_lifecycle_dedup_next(names, n, NULL); name;
             name = ab_lifecycle_dedup_next(names, n, name)) {
                h_cstr(h, name);
                h_opt(h, ab_lifecycle_dedup_value(a, name));
        }
        return h_end(h, out);
}

/* The hash state and its gathering buffer, reused by every hash. */
struct ab_lifecycle_hasher {
        struct lc_hash h;
};

struct ab_lifecycle_hasher *ab_lifecycle_hasher_new(void)
{
        return ab_calloc(1, sizeof(struct ab_lifecycle_hasher));
}

void ab_lifecycle_hasher_destroy(struct ab_lifecycle_hasher *h)
{
        ab_free(h);
}

ab_err_t ab_lifecycle_hasher_digest(struct ab_lifecycle_hasher *h,
                                    const struct ab_integration *integ,
                                    const struct ab_alert *a,
                                    unsigned char out[AB_LIFECYCLE_FP_LEN])
{
        return fp_digest(&h->h, integ, a, out);
}

void ab_lifecycle_fingerprint(const struct ab_integration *integ,
                              const struct ab_alert *a, char *out)
{
        struct lc_hash h;
        unsigned char d[LC_KEY_LEN];

        out[0] = '\0';
        if (!fp_digest(&h, integ, a, d))
                ab_hex(d, LC_KEY_LEN, out);
}

ab_err_t ab_lc_alert_id(struct ab_lifecycle *lc,
                        const struct ab_integration *integ,
                        const unsigned char fp[LC_KEY_LEN], int64_t open_ms,
                        unsigned char out[LC_KEY_LEN])
{
        struct lc_hash *h = &lc->hasher->h;
        unsigned char d[LC_KEY_LEN];
        ab_err_t rc;

        h_begin(h);
        h_cstr(h, "alertbridge-alert-v2");
        h_cstr(h, ab_lc_integ_name(integ));
        h_bytes(h, fp, LC_KEY_LEN);
        h_u64(h, (uint64_t)open_ms);
        rc = h_end(h, d);
        if (rc)
                return rc;
        memcpy(out, fp, LC_ROUTE_LEN);
        memcpy(out + LC_ROUTE_LEN, d, LC_KEY_LEN - LC_ROUTE_LEN);
        return AB_OK;
}

ab_err_t ab_lc_event_id(struct ab_lifecycle *lc,
                        const unsigned char id[LC_KEY_LEN],
                        enum ab_event_type type, uint32_t seq, char *out)
{
        struct lc_hash *h = &lc->hasher->h;
        unsigned char d[LC_KEY_LEN];
        ab_err_t rc;

        h_begin(h);
        h_cstr(h, "alertbridge-event-v1");
        h_bytes(h, id, LC_KEY_LEN);
        h_cstr(h, ab_event_type_short(type));
        h_u32(h, seq);
        rc = h_end(h, d);
        if (!rc)
                ab_hex(d, LC_KEY_LEN, out);
        return rc;
}

ab_err_t ab_lc_checksum(struct ab_lifecycle *lc, const void *data, size_t len,
                        unsigned char out[LC_KEY_LEN])
{
        struct lc_hash *h = &lc->hasher->h;

        h_begin(h);
        h_bytes(h, data, len);
        return h_end(h, out);
}

uint32_t ab_lifecycle_route(const unsigned char *key, uint32_t npartitions)
{
        uint32_t v = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 |
                     (uint32_t)key[2] << 8 | (uint32_t)key[3];

        return npartitions ? v % npartitions : 0;
}

static int unhex(int c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

ab_err_t ab_lifecycle_key_parse(const char *hex, size_t len,
                                unsigned char out[AB_LIFECYCLE_FP_LEN])
{
        size_t i;

        if (!hex || len != AB_EVENT_ID_LEN)
                return AB_ERR_DECODE;
        for (i = 0; i < LC_KEY_LEN; i++) {
                int hi = unhex((unsigned char)hex[2 * i]);
                int lo = unhex((unsigned char)hex[2 * i + 1]);

                if (hi < 0 || lo < 0)
                        return AB_ERR_DECODE;
                out[i] = (unsigned char)(hi << 4 | lo);
        }
        return AB_OK;
}

ab_err_t ab_lifecycle_route_hex(const char *hex, size_t len,
                                uint32_t npartitions, uint32_t *out)
{
        unsigned char key[LC_KEY_LEN];
        ab_err_t rc = ab_lifecycle_key_parse(hex, len, key);

        if (!rc)
                *out = ab_lifecycle_route(key, npartitions);
        return rc;
}
