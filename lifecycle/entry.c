/* entry.c - one open alert's state as bytes: the codec that snapshots and
 * changelog entries share, and the changelog entry itself. */
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/mem.h"
#include "lifecycle/blob.h"
#include "lifecycle/lifecycle_int.h"

#define LC_ENTRY_MAGIC     "ABLE"
#define LC_ENTRY_HEAD      5 /* magic, version */
#define LC_ENTRY_CHECK_LEN LC_KEY_LEN

/*
 * The fields of an alert, integers little-endian (ab_lc_fields_put):
 *   fp[16], id[16], i64 start_ms, i64 first_ms, i64 last_ms, u64 count,
 *   u32 seq, u64 touch, u32 handler length + 1 (0 = none) + handler,
 *   u32 blob length + blob (the layout in blob.c).
 * A changelog entry:
 *   "ABLE", u8 version, u32 integration name length + name, the fields,
 *   then a 16-byte checksum over everything before: in versions 2 and 3
 *   the canonical (big-endian) XXH3-128, in version 1 the first 16 bytes
 *   of SHA-256. Versions 1 and 2 carry the blob str-coded (no flag 8),
 *   version 3 as the store keeps it. The checksum catches corruption, not
 *   forgery (Kafka's record batches carry a CRC32C as well); one entry is
 *   written per changed alert per commit cycle, and SHA-256 took about 2 %
 *   of the process there.
 * A snapshot (snapshot.c) holds the same fields after an index into its
 * table of integration names.
 */

ab_err_t ab_lc_put_u32(struct ab_buf *b, uint32_t v)
{
        unsigned char p[4];
        int i;

        for (i = 0; i < 4; i++)
                p[i] = (unsigned char)(v >> (8 * i));
        return ab_buf_append(b, p, sizeof(p));
}

ab_err_t ab_lc_put_u64(struct ab_buf *b, uint64_t v)
{
        unsigned char p[8];
        int i;

        for (i = 0; i < 8; i++)
                p[i] = (unsigned char)(v >> (8 * i));
        return ab_buf_append(b, p, sizeof(p));
}

ab_err_t ab_lc_fields_put(struct ab_lifecycle *lc, struct ab_buf *b,
                          const struct lc_alert *al, bool legacy)
{
        const char *handler = ab_lc_handler(al);
        uint32_t hl         = handler ? (uint32_t)strlen(handler) + 1 : 0;
        unsigned char id[LC_KEY_LEN];
        ab_err_t rc;

        ab_lc_alert_id_get(al, id);
        if ((rc = ab_buf_append(b, al->fp, LC_KEY_LEN)) ||
            (rc = ab_buf_append(b, id, LC_KEY_LEN)) ||
            (rc = ab_lc_put_u64(b, (uint64_t)al->start_ms)) ||
            (rc = ab_lc_put_u64(b, (uint64_t)al->first_ms)) ||
            (rc = ab_lc_put_u64(b, (uint64_t)al->last_ms)) ||
            (rc = ab_lc_put_u64(b, al->count)) ||
            (rc = ab_lc_put_u32(b, al->seq)) ||
            (rc = ab_lc_put_u64(b, al->touch)) || (rc = ab_lc_put_u32(b, hl)))
                return rc;
        if (hl && (rc = ab_buf_append(b, handler, hl - 1)))
                return rc;
        return ab_lc_blob_put(lc, b, al, legacy);
}

static ab_err_t bad(struct ab_error *err, const char *what, const char *why)
{
        return ab_error_set(err, AB_ERR_STATE, NULL, "invalid %s: %s", what,
                            why);
}

ab_err_t ab_lc_fields_get(struct ab_lifecycle *lc, struct lc_state *st,
                          struct lc_rd *r, const char *what, bool legacy,
                          struct lc_alert **out, struct ab_error *err)
{
        struct lc_alert *al = ab_lc_alert_new(st);
        const unsigned char *p, *handler = NULL;
        struct ab_alert v;
        uint64_t hl, bl;
        size_t cap;
        ab_err_t rc = AB_ERR_NOMEM;

        *out = NULL;
        if (!al)
                goto out;
        if ((p = ab_lc_rd_bytes(r, LC_KEY_LEN)))
                memcpy(al->fp, p, LC_KEY_LEN);
        if ((p = ab_lc_rd_bytes(r, LC_KEY_LEN)) && ab_lc_alert_id_set(al, p)) {
                rc = bad(err, what,
                         "the alert id does not start with the "
                         "fingerprint's route");
                goto out;
        }
        al->start_ms = (int64_t)ab_lc_rd_uint(r, 8);
        al->first_ms = (int64_t)ab_lc_rd_uint(r, 8);
        al->last_ms  = (int64_t)ab_lc_rd_uint(r, 8);
        al->count    = ab_lc_rd_uint(r, 8);
        al->seq      = (uint32_t)ab_lc_rd_uint(r, 4);
        al->touch    = ab_lc_rd_uint(r, 8);
        hl           = ab_lc_rd_uint(r, 4);
        if (hl && (handler = ab_lc_rd_bytes(r, (size_t)(hl - 1))) &&
            memchr(handler, '\0', (size_t)(hl - 1))) {
                rc = bad(err, what, "NUL inside a handler name");
                goto out;
        }
        bl = ab_lc_rd_uint(r, 4);
        p  = ab_lc_rd_bytes(r, (size_t)bl);
        if (r->bad) {
                rc = bad(err, what, "truncated alert record");
                goto out;
        }
        if (al->touch == UINT64_MAX) {
                rc = bad(err, what, "touch counter out of range");
                goto out;
        }
        if (bl + hl > INT32_MAX) {
                rc = bad(err, what, "alert record too large");
                goto out;
        }
        /* The claimer's name follows the blob, NUL-terminated (blob.c). */
        al->blob = ab_lc_arena_alloc(&st->arena, (size_t)(bl + hl), &cap);
        if (!al->blob)
                goto out;
        if (bl)
                memcpy(al->blob, p, (size_t)bl);
        if (hl) {
                memcpy(al->blob + bl, handler, (size_t)(hl - 1));
                al->blob[bl + hl - 1] = '\0';
        }
        al->blob_len = (uint32_t)bl;
        al->claimed  = hl > 0;
        al->spare    = (uint8_t)(cap - bl - hl);
        rc           = ab_lc_blob_decode(lc, al->blob, bl, &v);
        if (rc == AB_ERR_STATE)
                rc = bad(err, what, "malformed alert content");
        else if (!rc && legacy && ab_lc_blob_opt(al))
                rc = bad(err, what,
                         "alert content in the coding of a later version");
        if (rc)
                goto out;
        *out = al;
        al   = NULL;
out:
        ab_lc_alert_free(st, al);
        if (rc == AB_ERR_NOMEM)
                ab_error_set(err, rc, NULL, "out of memory");
        return rc;
}

/* The checksum of entry version \p version over \p len bytes at \p d. */
static ab_err_t entry_check(struct ab_lifecycle *lc, unsigned version,
                            const void *d, size_t len,
                            unsigned char out[LC_ENTRY_CHECK_LEN])
{
        XXH128_canonical_t c;

        if (version == 1)
                return ab_lc_checksum(lc, d, len, out);
        _Static_assert(sizeof(c.digest) == LC_ENTRY_CHECK_LEN,
                       "a version 2 checksum is one canonical XXH128");
        XXH128_canonicalFromHash(&c, XXH3_128bits(d, len));
        memcpy(out, c.digest, LC_ENTRY_CHECK_LEN);
        return AB_OK;
}

ab_err_t ab_lifecycle_entry_encode(const struct ab_lifecycle *lc,
                                   const unsigned char fp[AB_LIFECYCLE_FP_LEN],
                                   struct ab_buf *out)
{
        struct ab_lifecycle *mut = (struct ab_lifecycle *)lc;
        const struct lc_alert *al;
        const char *name;
        unsigned char check[LC_ENTRY_CHECK_LEN];
        size_t start = out->len;
        unsigned version;
        unsigned char vbyte;
        ab_err_t rc;

        if (!lc || !fp || lc->conf.entry_version > AB_LIFECYCLE_ENTRY_VERSION)
                return AB_ERR_INTERNAL;
        version = lc->conf.entry_version ? lc->conf.entry_version
                                         : AB_LIFECYCLE_ENTRY_VERSION;
        vbyte   = (unsigned char)version;
        al      = ab_lc_find_fp(&lc->st, fp);
        if (!al)
                return AB_ERR_NOT_FOUND;
        name = ab_lc_integ_name(ab_lc_alert_integ(&lc->st, al));
        if ((rc = ab_buf_append(out, LC_ENTRY_MAGIC, 4)) ||
            (rc = ab_buf_append(out, &vbyte, 1)) ||
            (rc = ab_lc_put_u32(out, (uint32_t)strlen(name))) ||
            (rc = ab_buf_append_str(out, name)) ||
            (rc = ab_lc_fields_put(mut, out, al, version < 3)) ||
            (rc = entry_check(mut, version, out->data + start, out->len - start,
                              check)) ||
            (rc = ab_buf_append(out, check, sizeof(check))))
                ab_buf_truncate(out, start);
        return rc;
}

/* Decode entry \p d of \p len bytes into a new record in \p *out. */
static ab_err_t entry_read(struct ab_lifecycle *lc, const unsigned char *d,
                           size_t len, ab_lifecycle_resolve_cb resolve,
                           void *ctx, struct lc_alert **out,
                           struct ab_error *err)
{
        static const char what[] = "changelog entry";
        const struct ab_integration *integ;
        unsigned char check[LC_ENTRY_CHECK_LEN];
        const unsigned char *p;
        struct lc_rd r;
        uint64_t n;
        ab_err_t rc;

        *out = NULL;
        if (len < LC_ENTRY_HEAD + LC_ENTRY_CHECK_LEN ||
            memcmp(d, LC_ENTRY_MAGIC, 4))
                return bad(err, what, "not a lifecycle changelog entry");
        if (d[4] < 1 || d[4] > AB_LIFECYCLE_ENTRY_VERSION)
                return ab_error_set(err, AB_ERR_STATE, NULL,
                                    "unsupported changelog entry version %u "
                                    "(this build reads versions 1 to %u)",
                                    d[4], AB_LIFECYCLE_ENTRY_VERSION);
        rc = entry_check(lc, d[4], d, len - LC_ENTRY_CHECK_LEN, check);
        if (rc)
                return ab_error_set(err, rc, NULL, "checksum failed");
        if (memcmp(check, d + len - LC_ENTRY_CHECK_LEN, LC_ENTRY_CHECK_LEN))
                return bad(err, what, "checksum mismatch (corrupted)");
        r.p   = d + LC_ENTRY_HEAD;
        r.end = d + len - LC_ENTRY_CHECK_LEN;
        r.bad = 0;
        n     = ab_lc_rd_uint(&r, 4);
        p     = ab_lc_rd_bytes(&r, (size_t)n);
        if (!p)
                return bad(err, what, "truncated integration name");
        if (memchr(p, '\0', (size_t)n))
                return bad(err, what, "NUL inside the integration name");
        ab_buf_reset(&lc->name);
        if (ab_buf_append(&lc->name, p, (size_t)n))
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        integ = resolve(ctx, lc->name.data ? lc->name.data : "");
        if (!integ)
                return ab_error_set(err, AB_ERR_STATE, lc->name.data,
                                    "a changelog entry has an open alert of "
                                    "integration \"%s\", which is not loaded",
                                    lc->name.data ? lc->name.data : "");
        rc = ab_lc_fields_get(lc, &lc->st, &r, what, d[4] < 3, out, err);
        if (rc)
                return rc;
        if (r.p != r.end)
                rc = bad(err, what, "trailing bytes");
        else if ((rc = ab_lc_alert_integ_set(&lc->st, *out, integ)))
                ab_error_set(
                    err, rc, lc->name.data, "entering integration \"%s\": %s",
                    lc->name.data ? lc->name.data : "", ab_err_desc(rc));
        if (rc) {
                ab_lc_alert_free(&lc->st, *out);
                *out = NULL;
        }
        return rc;
}

ab_err_t ab_lifecycle_entry_apply(struct ab_lifecycle *lc,
                                  const unsigned char fp[AB_LIFECYCLE_FP_LEN],
                                  const void *value, size_t len,
                                  ab_lifecycle_resolve_cb resolve, void *ctx,
                                  struct ab_error *err)
{
        struct lc_alert *al = NULL, *old, *other;
        unsigned char id[LC_KEY_LEN];
        ab_err_t rc;

        if (!lc || !fp || (value && len && !resolve))
                return ab_error_set(err, AB_ERR_INTERNAL, NULL,
                                    "lifecycle: missing argument");
        old = ab_lc_find_fp(&lc->st, fp);
        if (!value || !len) {
                if (old)
                        ab_lc_store_drop(&lc->st, old);
                return AB_OK;
        }
        rc = entry_read(lc, value, len, resolve, ctx, &al, err);
        if (rc)
                return rc;
        ab_lc_alert_id_get(al, id);
        other = ab_lc_find_id(&lc->st, id);
        if (memcmp(al->fp, fp, LC_KEY_LEN))
                rc = bad(err, "changelog entry",
                         "its fingerprint differs from its key");
        else if (other && other != old)
                rc = bad(err, "changelog entry",
                         "another open alert has its alert id");
        else if ((rc = ab_lc_store_load(&lc->st, al)))
                ab_error_set(err, rc, NULL, "out of memory");
        if (rc) {
                ab_lc_alert_free(&lc->st, al);
                return rc;
        }
        if (old)
                ab_lc_store_drop(&lc->st, old);
        return AB_OK;
}
