/* blob.c - the compact encoding that stores an open alert's latest firing
 * content, and the bounds-checked reader that decodes it. */
#include "lifecycle/blob.h"

#include <stdbool.h>
#include <string.h>

#include "core/mem.h"
#include "core/varint.h"
#include "lifecycle/lifecycle_int.h"

/*
 * HOW IT WORKS
 *
 * A blob is the alert coding (lifecycle.h, docs/lifecycle.md *Alert
 * coding*) with flag 8 set in its first byte. Integers are little-endian,
 * lengths and counts LEB128 varints:
 *   u8 flags (1 has_starts, 2 has_ends, 4 message_truncated, 8 the values
 *   are opt-coded), u8 severity, [i64 starts_ms], [i64 ends_ms],
 *   varint index,
 *   varint nlabels, nlabels x (str key, opt value), same for annotations,
 *   varint field mask (bit f = field f present), then per present field a
 *   varint ref: 0 = a str follows, k > 0 = same text as label (LABEL
 *   fields) or annotation (ANNOTATION fields) number k - 1.
 * str = varint length + bytes; opt = varint 0 (absent) or length + 1 and
 * the bytes. The coding is what an ALERT record of <group>.alerts carries
 * after its status, so the lifecycle stage stores an alert by copying it
 * (ab_lc_blob_store()) instead of encoding it again.
 *
 * Without flag 8 the values are str-coded, which is how blobs were written
 * before the coding was shared (changelog entries and snapshots up to
 * version 2): such blobs are still read, absent values reading as empty,
 * and ab_lc_blob_put() writes one for an entry of version 1 or 2.
 *
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
#define LC_FLAG_OPT       8u /* the values are opt-coded */
#define LC_FLAGS_CODING   (LC_FLAG_STARTS | LC_FLAG_ENDS | LC_FLAG_TRUNCATED)

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

static unsigned char *put_opt(unsigned char *p, struct ab_str s)
{
        return ab_varint_put_opt(p, s.ptr, s.len);
}

static size_t str_size(struct ab_str s)
{
        return ab_varint_bytes_len(s.len);
}

static size_t opt_size(struct ab_str s)
{
        return ab_varint_opt_len(s.ptr, s.len);
}

static size_t kvs_size(const struct ab_kv *kv, size_t n)
{
        size_t sz = ab_varint_len(n);

        for (size_t i = 0; i < n; i++)
                sz += str_size(kv[i].key) + opt_size(kv[i].val);
        return sz;
}

void ab_lifecycle_code_plan(const struct ab_alert *a,
                            struct ab_lifecycle_code_plan *pl)
{
        size_t sz = 2 + ab_varint_len(a->index) +
                    kvs_size(a->labels, a->nlabels) +
                    kvs_size(a->annotations, a->nannotations);

        if (a->has_starts)
                sz += 8;
        if (a->has_ends)
                sz += 8;
        pl->mask = 0;
        for (size_t f = 0; f < AB_FIELD__COUNT; f++) {
                if (!a->field[f].ptr)
                        continue;
                pl->mask |= (uint64_t)1 << f;
                pl->ref[f] = ab_alert_field_ref(a, (enum ab_alert_field)f);
                sz += ab_varint_len(pl->ref[f]);
                if (!pl->ref[f])
                        sz += str_size(a->field[f]);
        }
        pl->size = sz + ab_varint_len(pl->mask);
}

/* Write the coding of \p a with the values coded by \p val (put_opt, or
 * put_str for a blob without flag 8). */
static unsigned char *code_write(unsigned char *p, const struct ab_alert *a,
                                 const struct ab_lifecycle_code_plan *pl,
                                 unsigned char *(*val)(unsigned char *,
                                                       struct ab_str))
{
        size_t i;

        *p++ = (unsigned char)((a->has_starts ? LC_FLAG_STARTS : 0) |
                               (a->has_ends ? LC_FLAG_ENDS : 0) |
                               (a->message_truncated ? LC_FLAG_TRUNCATED : 0));
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
                p = val(p, a->labels[i].val);
        }
        p = ab_varint_put(p, a->nannotations);
        for (i = 0; i < a->nannotations; i++) {
                p = put_str(p, a->annotations[i].key);
                p = val(p, a->annotations[i].val);
        }
        p = ab_varint_put(p, pl->mask);
        for (i = 0; i < AB_FIELD__COUNT; i++) {
                if (!a->field[i].ptr)
                        continue;
                p = ab_varint_put(p, pl->ref[i]);
                if (!pl->ref[i])
                        p = put_str(p, a->field[i]);
        }
        return p;
}

unsigned char *ab_lifecycle_code_write(unsigned char *p,
                                       const struct ab_alert *a,
                                       const struct ab_lifecycle_code_plan *pl)
{
        return code_write(p, a, pl, put_opt);
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

/* Make room for a blob of \p need bytes in al's block, the claimer's name
 * kept after it: in its block when it fits with less than LC_ARENA_SPLIT
 * bytes to spare, else in a new block of arena \p ar. The old blob's bytes
 * are gone once this returns; al->blob_len is \p need. */
static ab_err_t blob_make_room(struct lc_arena *ar, struct lc_alert *al,
                               size_t need)
{
        size_t hl  = al->claimed ? strlen(ab_lc_handler(al)) + 1 : 0;
        size_t cap = al->blob ? blob_block(al) : 0;
        unsigned char *p;

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
        al->blob_len = (uint32_t)need;
        al->spare    = (uint8_t)(cap - need - hl);
        return AB_OK;
}

ab_err_t ab_lc_blob_encode(struct lc_arena *ar, struct lc_alert *al,
                           const struct ab_alert *a)
{
        struct ab_lifecycle_code_plan pl;
        ab_err_t rc;

        ab_lifecycle_code_plan(a, &pl);
        rc = blob_make_room(ar, al, pl.size);
        if (rc)
                return rc;
        code_write(al->blob, a, &pl, put_opt);
        al->blob[0] |= LC_FLAG_OPT;
        return AB_OK;
}

ab_err_t ab_lc_blob_store(struct lc_arena *ar, struct lc_alert *al,
                          const void *coded, size_t len)
{
        ab_err_t rc;

        if (!len || (*(const unsigned char *)coded & ~LC_FLAGS_CODING))
                return AB_ERR_INTERNAL;
        rc = blob_make_room(ar, al, len);
        if (rc)
                return rc;
        memcpy(al->blob, coded, len);
        al->blob[0] |= LC_FLAG_OPT;
        return AB_OK;
}

bool ab_lc_blob_opt(const struct lc_alert *al)
{
        return al->blob_len && (al->blob[0] & LC_FLAG_OPT);
}

ab_err_t ab_lc_blob_put(struct ab_lifecycle *lc, struct ab_buf *out,
                        const struct lc_alert *al, bool legacy)
{
        struct ab_lifecycle_code_plan pl;
        struct ab_alert v;
        unsigned char *p, *end;
        size_t at = out->len, n;
        ab_err_t rc;

        if (!legacy || !ab_lc_blob_opt(al)) {
                rc = ab_lc_put_u32(out, al->blob_len);
                return rc ? rc : ab_buf_append(out, al->blob, al->blob_len);
        }
        rc = ab_lc_blob_decode(lc, al->blob, al->blob_len, &v);
        if (rc)
                return rc;
        /* A str-coded value takes no more bytes than its opt coding. */
        ab_lifecycle_code_plan(&v, &pl);
        if ((rc = ab_lc_put_u32(out, 0)) || (rc = ab_buf_reserve(out, pl.size)))
                return rc;
        p   = (unsigned char *)out->data + out->len;
        end = code_write(p, &v, &pl, put_str);
        n   = (size_t)(end - p);
        out->len += n;
        p = (unsigned char *)out->data + at;
        for (int i = 0; i < 4; i++)
                p[i] = (unsigned char)(n >> (8 * i));
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

/* A value: opt-coded (absent: ptr NULL) in a blob with flag 8, else str. */
static struct ab_str rd_val(struct lc_rd *r, bool opt)
{
        uint64_t n;
        const unsigned char *p;

        if (!opt)
                return rd_str(r);
        n = rd_varint(r);
        if (!n)
                return AB_STR_NULL;
        p = ab_lc_rd_bytes(r, (size_t)(n - 1));
        if (!p)
                return ab_str_make("", 0);
        return ab_str_make((const char *)p, (size_t)(n - 1));
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
        bool opt;
        size_t i;
        ab_err_t rc;

        memset(v, 0, sizeof(*v));
        flags       = (unsigned)ab_lc_rd_uint(&r, 1);
        v->severity = (int)ab_lc_rd_uint(&r, 1);
        if (flags & ~(LC_FLAGS_CODING | LC_FLAG_OPT))
                return AB_ERR_STATE;
        opt                  = flags & LC_FLAG_OPT;
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
                lc->kv[i].val = rd_val(&r, opt);
        }
        na = rd_varint(&r);
        if (r.bad || na > (size_t)(r.end - r.p) / 2)
                return AB_ERR_STATE;
        rc = kv_reserve(lc, (size_t)(nl + na));
        if (rc)
                return rc;
        for (i = 0; i < na; i++) {
                lc->kv[nl + i].key = rd_str(&r);
                lc->kv[nl + i].val = rd_val(&r, opt);
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
                if (!v->field[i].ptr) /* a reference to an absent value */
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

/* The same for a value, opt-coded when \p opt. */
static size_t stored_val(struct ab_str s, bool opt)
{
        return opt ? opt_size(s) : stored_str(s);
}

size_t ab_lc_blob_text(struct ab_lifecycle *lc, const struct lc_alert *al)
{
        bool opt = ab_lc_blob_opt(al);
        struct ab_alert v;
        size_t n = 0, i;

        if (ab_lc_blob_decode(lc, al->blob, al->blob_len, &v))
                return 0;
        for (i = 0; i < v.nlabels; i++)
                n += stored_str(v.labels[i].key) +
                     stored_val(v.labels[i].val, opt);
        for (i = 0; i < v.nannotations; i++)
                n += stored_str(v.annotations[i].key) +
                     stored_val(v.annotations[i].val, opt);
        for (i = 0; i < AB_FIELD__COUNT; i++)
                if (v.field[i].ptr &&
                    !ab_alert_field_ref(&v, (enum ab_alert_field)i))
                        n += stored_str(v.field[i]);
        return n;
}
