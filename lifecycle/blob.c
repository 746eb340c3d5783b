/* blob.c - the compact encoding that stores an open alert's latest firing
 * content, and the bounds-checked reader that decodes it. */
#include "lifecycle/blob.h"

#include <string.h>

#include "core/mem.h"
#include "core/varint.h"
#include "lifecycle/lifecycle_int.h"

/*
 * Layout (integers little-endian, lengths and counts as LEB128 varints):
 *   u8 flags (1 has_starts, 2 has_ends, 4 message_truncated), u8 severity,
 *   [i64 starts_ms], [i64 ends_ms], varint index,
 *   varint nlabels, nlabels x (str key, str value), same for annotations,
 *   varint field mask (bit f = field f present), then per present field a
 *   varint ref: 0 = a str follows, k > 0 = same text as label (LABEL
 *   fields) or annotation (ANNOTATION fields) number k - 1.
 * str = varint length + bytes.
 * In memory the claimer's name and its NUL follow the blob in the same
 * block of the store's arena (lc_alert.claimed); entries and snapshots
 * store it apart. The block's size is not stored whole: it is what the
 * two take (blob_held) and lc_alert.spare more (blob_block).
 */

/* The largest blob with its claimer (lc_alert.blob_len has 31 bits). */
#define LC_BLOB_MAX ((size_t)INT32_MAX)

#define LC_FLAG_STARTS    1u
#define LC_FLAG_ENDS      2u
#define LC_FLAG_TRUNCATED 4u

_Static_assert(LC_ARENA_SPLIT + LC_ARENA_GRAIN - 1 <= UINT8_MAX,
               "lc_alert.spare holds what a block has beyond its request");

static unsigned char *put_u64(unsigned char *p, uint64_t v)
{
        int i;

        for (i = 0; i < 8; i++)
                *p++ = (unsigned char)(v >> (8 * i));
        return p;
}

static unsigned char *put_str(unsigned char *p, struct ab_str s)
{
        return ab_varint_put_bytes(p, s.ptr, s.len);
}

static size_t str_size(struct ab_str s)
{
        return ab_varint_bytes_len(s.len);
}

/* Bytes of al's block in use: the blob and the claimer's name with its
 * NUL. */
static size_t blob_held(const struct lc_alert *al)
{
        return al->blob_len + (al->claimed ? strlen(ab_lc_handler(al)) + 1 : 0);
}

/* Bytes of al's block. */
static size_t blob_block(const struct lc_alert *al)
{
        return blob_held(al) + al->spare;
}

void ab_lc_blob_free(struct lc_arena *ar, struct lc_alert *al)
{
        if (al->blob)
                ab_lc_arena_free(ar, al->blob, blob_block(al));
        al->blob  = NULL;
        al->spare = 0;
}

/* Store \p a into al's blob, the claimer's name kept: in its block when
 * it fits with less than LC_ARENA_SPLIT bytes to spare, else in a new
 * block of arena \p ar. */
ab_err_t ab_lc_blob_encode(struct lc_arena *ar, struct lc_alert *al,
                           const struct ab_alert *a)
{
        size_t hl  = al->claimed ? strlen(ab_lc_handler(al)) + 1 : 0;
        size_t cap = al->blob ? blob_block(al) : 0;
        size_t ref[AB_FIELD__COUNT];
        unsigned flags = 0;
        uint64_t mask  = 0;
        size_t need    = 2, i;
        unsigned char *p;

        if (a->has_starts) {
                flags |= LC_FLAG_STARTS;
                need += 8;
        }
        if (a->has_ends) {
                flags |= LC_FLAG_ENDS;
                need += 8;
        }
        if (a->message_truncated)
                flags |= LC_FLAG_TRUNCATED;
        need += ab_varint_len(a->index) + ab_varint_len(a->nlabels) +
                ab_varint_len(a->nannotations);
        for (i = 0; i < a->nlabels; i++)
                need += str_size(a->labels[i].key) + str_size(a->labels[i].val);
        for (i = 0; i < a->nannotations; i++)
                need += str_size(a->annotations[i].key) +
                        str_size(a->annotations[i].val);
        for (i = 0; i < AB_FIELD__COUNT; i++) {
                if (!a->field[i].ptr)
                        continue;
                mask |= 1u << i;
                ref[i] = ab_alert_field_ref(a, (enum ab_alert_field)i);
                need += ab_varint_len(ref[i]);
                if (!ref[i])
                        need += str_size(a->field[i]);
        }
        need += ab_varint_len(mask);
        if (need > LC_BLOB_MAX - hl)
                return AB_ERR_TOO_LARGE;
        if (need + hl > cap || cap - (need + hl) >= LC_ARENA_SPLIT) {
                p = ab_lc_arena_alloc(ar, need + hl, &cap);
                if (!p)
                        return AB_ERR_NOMEM;
                if (hl)
                        memcpy(p + need, al->blob + al->blob_len, hl);
                ab_lc_blob_free(ar, al);
                al->blob = p;
        } else if (hl && need != al->blob_len) {
                memmove(al->blob + need, al->blob + al->blob_len, hl);
        }
        p    = al->blob;
        *p++ = (unsigned char)flags;
        *p++ = (unsigned char)(a->severity < 0     ? 0
                               : a->severity > 255 ? 255
                                                   : a->severity);
        if (a->has_starts)
                p = put_u64(p, (uint64_t)a->starts_ms);
        if (a->has_ends)
                p = put_u64(p, (uint64_t)a->ends_ms);
        p = ab_varint_put(p, a->index);
        p = ab_varint_put(p, a->nlabels);
        for (i = 0; i < a->nlabels; i++) {
                p = put_str(p, a->labels[i].key);
                p = put_str(p, a->labels[i].val);
        }
        p = ab_varint_put(p, a->nannotations);
        for (i = 0; i < a->nannotations; i++) {
                p = put_str(p, a->annotations[i].key);
                p = put_str(p, a->annotations[i].val);
        }
        p = ab_varint_put(p, mask);
        for (i = 0; i < AB_FIELD__COUNT; i++) {
                if (!a->field[i].ptr)
                        continue;
                p = ab_varint_put(p, ref[i]);
                if (!ref[i])
                        p = put_str(p, a->field[i]);
        }
        al->blob_len = (uint32_t)(p - al->blob);
        al->spare    = (uint8_t)(cap - need - hl);
        return AB_OK;
}

const char *ab_lc_handler(const struct lc_alert *al)
{
        return al->claimed ? (const char *)al->blob + al->blob_len : NULL;
}

ab_err_t ab_lc_handler_set(struct lc_arena *ar, struct lc_alert *al,
                           const char *name, size_t len)
{
        size_t cap;
        unsigned char *p;

        if (len > LC_BLOB_MAX - 1 - al->blob_len)
                return AB_ERR_TOO_LARGE;
        p = ab_lc_arena_alloc(ar, al->blob_len + len + 1, &cap);
        if (!p)
                return AB_ERR_NOMEM;
        memcpy(p, al->blob, al->blob_len);
        if (len)
                memcpy(p + al->blob_len, name, len);
        p[al->blob_len + len] = '\0';
        ab_lc_blob_free(ar, al);
        al->blob    = p;
        al->claimed = 1;
        al->spare   = (uint8_t)(cap - al->blob_len - len - 1);
        return AB_OK;
}

const unsigned char *ab_lc_rd_bytes(struct lc_rd *r, size_t n)
{
        const unsigned char *p = r->p;

        if (r->bad || (size_t)(r->end - r->p) < n) {
                r->bad = 1;
                return NULL;
        }
        r->p += n;
        return p;
}

uint64_t ab_lc_rd_uint(struct lc_rd *r, size_t n)
{
        const unsigned char *p = ab_lc_rd_bytes(r, n);
        uint64_t v             = 0;
        size_t i;

        for (i = 0; p && i < n; i++)
                v |= (uint64_t)p[i] << (8 * i);
        return v;
}

static uint64_t rd_varint(struct lc_rd *r)
{
        uint64_t v = 0;
        unsigned shift;

        for (shift = 0; shift < 64; shift += 7) {
                const unsigned char *p = ab_lc_rd_bytes(r, 1);

                if (!p)
                        return 0;
                v |= (uint64_t)(*p & 0x7f) << shift;
                if (!(*p & 0x80))
                        return v;
        }
        r->bad = 1;
        return 0;
}

static struct ab_str rd_str(struct lc_rd *r)
{
        uint64_t n             = rd_varint(r);
        const unsigned char *p = ab_lc_rd_bytes(r, (size_t)n);

        if (!p)
                return ab_str_make("", 0);
        return ab_str_make((const char *)p, (size_t)n);
}

static ab_err_t kv_reserve(struct ab_lifecycle *lc, size_t n)
{
        struct ab_kv *kv;

        if (n <= lc->kv_cap)
                return AB_OK;
        kv = ab_realloc(lc->kv, n * sizeof(*kv));
        if (!kv)
                return AB_ERR_NOMEM;
        lc->kv     = kv;
        lc->kv_cap = n;
        return AB_OK;
}

/* Decode a blob into \p v (strings borrowed from the blob, label arrays
 * from lc->kv). @returns AB_ERR_STATE if the blob is malformed. */
ab_err_t ab_lc_blob_decode(struct ab_lifecycle *lc, const unsigned char *b,
                           size_t len, struct ab_alert *v)
{
        struct lc_rd r = {b, b + len, 0};
        uint64_t nl, na, mask, idx;
        unsigned flags;
        size_t i;
        ab_err_t rc;

        memset(v, 0, sizeof(*v));
        flags       = (unsigned)ab_lc_rd_uint(&r, 1);
        v->severity = (int)ab_lc_rd_uint(&r, 1);
        if (flags & ~(LC_FLAG_STARTS | LC_FLAG_ENDS | LC_FLAG_TRUNCATED))
                return AB_ERR_STATE;
        v->has_starts        = flags & LC_FLAG_STARTS;
        v->has_ends          = flags & LC_FLAG_ENDS;
        v->message_truncated = flags & LC_FLAG_TRUNCATED;
        if (v->has_starts)
                v->starts_ms = (int64_t)ab_lc_rd_uint(&r, 8);
        if (v->has_ends)
                v->ends_ms = (int64_t)ab_lc_rd_uint(&r, 8);
        idx = rd_varint(&r);
        nl  = rd_varint(&r);
        /* Every entry takes at least two bytes: reject absurd counts
         * before allocating for them. */
        if (r.bad || idx > UINT32_MAX || nl > (size_t)(r.end - r.p) / 2)
                return AB_ERR_STATE;
        v->index = (uint32_t)idx;
        rc       = kv_reserve(lc, (size_t)nl);
        if (rc)
                return rc;
        for (i = 0; i < nl; i++) {
                lc->kv[i].key = rd_str(&r);
                lc->kv[i].val = rd_str(&r);
        }
        na = rd_varint(&r);
        if (r.bad || na > (size_t)(r.end - r.p) / 2)
                return AB_ERR_STATE;
        rc = kv_reserve(lc, (size_t)(nl + na));
        if (rc)
                return rc;
        for (i = 0; i < na; i++) {
                lc->kv[nl + i].key = rd_str(&r);
                lc->kv[nl + i].val = rd_str(&r);
        }
        v->labels  = lc->kv;
        v->nlabels = (size_t)nl;
        /* lc->kv stays NULL until a blob with labels or annotations. */
        v->annotations  = lc->kv ? lc->kv + nl : NULL;
        v->nannotations = (size_t)na;
        mask            = rd_varint(&r);
        if (mask >> AB_FIELD__COUNT)
                return AB_ERR_STATE;
        for (i = 0; i < AB_FIELD__COUNT; i++) {
                enum ab_field_kind kind =
                    ab_alert_field_kind((enum ab_alert_field)i);
                uint64_t ref;

                if (!(mask & (1u << i)))
                        continue;
                ref = rd_varint(&r);
                if (!ref)
                        v->field[i] = rd_str(&r);
                else if (kind == AB_FIELD_KIND_LABEL && ref <= nl)
                        v->field[i] = v->labels[ref - 1].val;
                else if (kind == AB_FIELD_KIND_ANNOTATION && ref <= na)
                        v->field[i] = v->annotations[ref - 1].val;
                else
                        return AB_ERR_STATE;
        }
        if (r.bad || r.p != r.end)
                return AB_ERR_STATE;
        return AB_OK;
}

/* Bytes the strings of a valid blob take as stored: their text and length
 * prefixes (the prefix plays the part of a C string's terminator). */
static size_t stored_str(struct ab_str s)
{
        return s.len + ab_varint_len(s.len);
}

size_t ab_lc_blob_text(struct ab_lifecycle *lc, const struct lc_alert *al)
{
        struct ab_alert v;
        size_t n = 0, i;

        if (ab_lc_blob_decode(lc, al->blob, al->blob_len, &v))
                return 0;
        for (i = 0; i < v.nlabels; i++)
                n += stored_str(v.labels[i].key) + stored_str(v.labels[i].val);
        for (i = 0; i < v.nannotations; i++)
                n += stored_str(v.annotations[i].key) +
                     stored_str(v.annotations[i].val);
        for (i = 0; i < AB_FIELD__COUNT; i++)
                if (v.field[i].ptr &&
                    !ab_alert_field_ref(&v, (enum ab_alert_field)i))
                        n += stored_str(v.field[i]);
        return n;
}
