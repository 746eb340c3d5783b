/* lifecycle.c - the alert state machine: fingerprints, open, merge, close,
 * auto-clear, actions and snapshots. */
#include "lifecycle.h"

#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "lifecycle_int.h"
#include "log.h"
#include "mem.h"
#include "timefmt.h"

/*
 * HOW IT WORKS
 *
 * Every open alert is one `struct lc_alert` record plus one allocation, the
 * "blob", holding the latest firing alert's content (labels, annotations
 * and alert fields, length-prefixed, see blob_encode()). Two open-addressing
 * hash tables with linear probing point at the records, one keyed by
 * fingerprint and one by alert id. Both keys are SHA-256 prefixes, so their
 * first 8 bytes serve as the hash. Removal shifts the rest of the probe
 * cluster back instead of leaving tombstones, so lookups stay short however
 * many alerts come and go.
 *
 * Auto-clear and eviction need "the alert that has been quiet longest".
 * Alerts are grouped into classes by their integration's auto_clear period.
 * Within a class, alerts are ordered by last_ms, the latest firing event
 * time, ties in the order they were touched (`touch`, a counter). Inside
 * one class the deadline last_ms + auto_clear follows the same order, so
 * the first alert of each class is the next of that class to expire, and
 * expiry only looks at those; the longest-quiet alert overall is the first
 * with the smallest last_ms. A class holds its alerts in two places:
 *   - the run: a doubly linked list in that order. A firing event whose
 *     time is not older than the run's tail appends its alert there, O(1):
 *     the whole story when event times arrive in order;
 *   - the heap: a binary min-heap in the same order for the alerts whose
 *     event came out of order (older than the tail), O(log n). Records
 *     consumed from several partitions interleave, so each one's times
 *     jump back and forth; walking a sorted list back to the right place
 *     would cost O(n) per event there.
 * The first alert of a class is the smaller of the run's head and the
 * heap's top. There are as many classes as distinct auto_clear values (a
 * handful), so each event costs O(classes) on top of that.
 *
 * Closed alerts leave the store, but the last LC_CLOSED_RING closes are
 * remembered (id, fingerprint, time, reason) so an action on a recently
 * closed alert is told so instead of "unknown".
 *
 * Ids are hashes of what identifies them (docs/lifecycle.md), so the same
 * input gives the same ids on every machine and run; the one counter they
 * use, open_seq, is part of the snapshot.
 */

#define LC_KEY_LEN            (AB_EVENT_ID_LEN / 2) /* binary id/fingerprint */
#define LC_CLOSED_RING        1024
#define LC_SYSTEM             "alertbridge" /* operator of automatic closes */
#define LC_ALLOC_OVERHEAD     16 /* assumed allocator bytes per allocation */
#define LC_SNAP_MAGIC         "ABLC"
#define LC_SNAP_VERSION       1u
#define LC_SNAP_CHECK_LEN     16
#define LC_SOLUTION_RECOVERED "recovered: the source reported recovery"

enum lc_why {
        LC_WHY_RECOVERED = 1,
        LC_WHY_AUTO,
        LC_WHY_ACTION,
        LC_WHY_EVICTED,
        LC_WHY__MAX = LC_WHY_EVICTED,
};

struct lc_class;

struct lc_alert {
        struct lc_alert *prev; /* the run of `cls`, when hpos == LC_IN_RUN */
        struct lc_alert *next;
        struct lc_class *cls;
        const struct ab_integration *integ; /* borrowed, outlives alert */
        unsigned char *blob;                /* owned: the latest firing alert */
        char *handler;                      /* owned: who claimed it, or NULL */
        int64_t start_ms;                   /* startTime */
        int64_t first_ms;                   /* earliest firing event time */
        int64_t last_ms;                    /* latest firing event time */
        uint64_t count; /* firing events, the opening one included */
        uint32_t blob_len;
        uint32_t blob_cap;
        uint32_t seq;   /* sequence number of the next event */
        uint32_t hpos;  /* index in cls->heap, or LC_IN_RUN */
        uint64_t touch; /* when it took its place: orders equal last_ms */
        unsigned char fp[LC_KEY_LEN];
        unsigned char id[LC_KEY_LEN];
};

#define LC_IN_RUN UINT32_MAX

/* Alerts sharing one auto_clear period; 0 never expires. */
struct lc_class {
        int64_t auto_clear_ms;
        struct lc_alert *head; /* the run, quietest first */
        struct lc_alert *tail;
        struct lc_alert **heap; /* owned: min-heap of the other alerts */
        size_t nheap, capheap;
};

/* Open addressing, linear probing; slots point at records, keyed by the
 * LC_KEY_LEN bytes at `key_off` inside the record. */
struct lc_table {
        struct lc_alert **slot; /* owned; cap entries, NULL = free */
        size_t cap;             /* 0 or a power of two */
        size_t n;
        size_t key_off;
};

struct lc_closed {
        unsigned char id[LC_KEY_LEN];
        unsigned char fp[LC_KEY_LEN];
        int64_t end_ms;
        uint8_t why; /* enum lc_why */
};

/* Everything a snapshot holds; restore builds a new one and swaps it in. */
struct lc_state {
        struct lc_table by_fp;
        struct lc_table by_id;
        struct lc_class **cls; /* owned, sorted by auto_clear_ms */
        size_t ncls;
        struct lc_closed *closed; /* owned ring of LC_CLOSED_RING, or NULL */
        size_t nclosed;
        size_t closed_next; /* ring slot written next */
        size_t open;
        uint64_t open_seq; /* alerts opened so far: feeds alert ids */
        uint64_t touch;    /* placements so far: feeds lc_alert.touch */
};

struct ab_lifecycle {
        struct ab_lifecycle_config conf;
        struct ab_lifecycle_stats stats;
        struct lc_state st;
        EVP_MD *md;                  /* owned SHA-256 */
        EVP_MD_CTX *md_ctx;          /* owned, reused for every hash */
        struct ab_json_doc doc;      /* action records */
        struct ab_buf operator_name; /* action strings, NUL-terminated */
        struct ab_buf text;
        struct ab_kv *kv; /* owned scratch for alert views */
        size_t kv_cap;
        struct ab_alert view; /* view of a stored alert, see view_build() */
};

struct lc_emit {
        ab_lifecycle_emit_cb fn;
        void *opaque;
};

/* Stable names hashed into event ids (never change them). */
static const char *const type_names[AB_EVENT__COUNT] = {
    "create",
    "claim",
    "comment",
    "close",
};

static const char *const why_names[] = {
    "", "recovered", "auto-cleared", "closed by an action", "evicted",
};

static int64_t add_sat(int64_t a, int64_t b)
{
        if (b > 0 && a > INT64_MAX - b)
                return INT64_MAX;
        return a + b;
}

/* ---- hashing ----------------------------------------------------------- */

/*
 * The hash input is a stream of many small pieces (length prefixes, tags,
 * short label strings). They are gathered in `pend` and handed to OpenSSL
 * in large updates, because each EVP_DigestUpdate() call costs far more
 * than hashing a few bytes. The digest depends only on the byte stream, so
 * the buffering never changes a fingerprint or an id.
 */
#define LC_HASH_PEND 512

struct lc_hash {
        EVP_MD_CTX *ctx;
        int bad;
        size_t npend;
        unsigned char pend[LC_HASH_PEND];
};

static void h_begin(struct lc_hash *h, EVP_MD_CTX *ctx, const EVP_MD *md)
{
        h->ctx   = ctx;
        h->npend = 0;
        h->bad   = EVP_DigestInit_ex(ctx, md, NULL) != 1;
}

static void h_flush(struct lc_hash *h)
{
        if (!h->bad && h->npend &&
            EVP_DigestUpdate(h->ctx, h->pend, h->npend) != 1)
                h->bad = 1;
        h->npend = 0;
}

static void h_bytes(struct lc_hash *h, const void *p, size_t n)
{
        if (n > LC_HASH_PEND - h->npend) {
                h_flush(h);
                if (n >= LC_HASH_PEND) {
                        if (!h->bad && EVP_DigestUpdate(h->ctx, p, n) != 1)
                                h->bad = 1;
                        return;
                }
        }
        if (n)
                memcpy(h->pend + h->npend, p, n);
        h->npend += n;
}

static void h_u32(struct lc_hash *h, uint32_t v)
{
        unsigned char b[4] = {(unsigned char)(v >> 24),
                              (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                              (unsigned char)v};

        h_bytes(h, b, sizeof(b));
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

static ab_err_t h_end(struct lc_hash *h, unsigned char out[LC_KEY_LEN])
{
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned int n = 0;

        h_flush(h);
        if (h->bad || EVP_DigestFinal_ex(h->ctx, d, &n) != 1 || n < LC_KEY_LEN)
                return AB_ERR_INTERNAL;
        memcpy(out, d, LC_KEY_LEN);
        return AB_OK;
}

static const char *integ_name(const struct ab_integration *integ)
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

static ab_err_t fp_digest(EVP_MD_CTX *ctx, const EVP_MD *md,
                          const struct ab_integration *integ,
                          const struct ab_alert *a,
                          unsigned char out[LC_KEY_LEN])
{
        const char *const *names;
        const char *name;
        struct lc_hash h;
        uint32_t used = 0;
        size_t n, i;

        names = ab_integration_dedup_fields(integ, &n);
        h_begin(&h, ctx, md);
        h_cstr(&h, "alertbridge-fingerprint-v1");
        h_cstr(&h, integ_name(integ));
        if (!n || !names) {
                h_cstr(&h, "labels");
                h_u32(&h, (uint32_t)a->nlabels);
                for (i = 0; i < a->nlabels; i++) {
                        h_str(&h, a->labels[i].key.ptr, a->labels[i].key.len);
                        h_opt(&h, a->labels[i].val);
                }
                return h_end(&h, out);
        }
        for (name = ab_lifecycle_dedup_next(names, n, NULL); name;
             name = ab_lifecycle_dedup_next(names, n, name))
                used++;
        h_cstr(&h, "fields");
        h_u32(&h, used);
        for (name = ab_lifecycle_dedup_next(names, n, NULL); name;
             name = ab_lifecycle_dedup_next(names, n, name)) {
                h_cstr(&h, name);
                h_opt(&h, ab_lifecycle_dedup_value(a, name));
        }
        return h_end(&h, out);
}

void ab_lifecycle_fingerprint(const struct ab_integration *integ,
                              const struct ab_alert *a, char *out)
{
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned char d[LC_KEY_LEN];

        out[0] = '\0';
        if (ctx && !fp_digest(ctx, EVP_sha256(), integ, a, d))
                ab_hex(d, LC_KEY_LEN, out);
        EVP_MD_CTX_free(ctx);
}

static ab_err_t alert_id(struct ab_lifecycle *lc,
                         const struct ab_integration *integ,
                         const unsigned char fp[LC_KEY_LEN], int64_t open_ms,
                         uint64_t seq, unsigned char out[LC_KEY_LEN])
{
        struct lc_hash h;

        h_begin(&h, lc->md_ctx, lc->md);
        h_cstr(&h, "alertbridge-alert-v1");
        h_cstr(&h, integ_name(integ));
        h_bytes(&h, fp, LC_KEY_LEN);
        h_u64(&h, (uint64_t)open_ms);
        h_u64(&h, seq);
        return h_end(&h, out);
}

static ab_err_t event_id(struct ab_lifecycle *lc,
                         const unsigned char id[LC_KEY_LEN],
                         enum ab_event_type type, uint32_t seq, char *out)
{
        unsigned char d[LC_KEY_LEN];
        struct lc_hash h;
        ab_err_t rc;

        h_begin(&h, lc->md_ctx, lc->md);
        h_cstr(&h, "alertbridge-event-v1");
        h_bytes(&h, id, LC_KEY_LEN);
        h_cstr(&h, type_names[type]);
        h_u32(&h, seq);
        rc = h_end(&h, d);
        if (!rc)
                ab_hex(d, LC_KEY_LEN, out);
        return rc;
}

/* ---- hash tables ------------------------------------------------------- */

static const unsigned char *tkey(const struct lc_table *t,
                                 const struct lc_alert *al)
{
        return (const unsigned char *)al + t->key_off;
}

static size_t thash(const unsigned char *key)
{
        uint64_t h;

        memcpy(&h, key, sizeof(h));
        return (size_t)h;
}

static struct lc_alert *table_find(const struct lc_table *t,
                                   const unsigned char *key)
{
        size_t mask, i;

        if (!t->cap)
                return NULL;
        mask = t->cap - 1;
        for (i = thash(key) & mask; t->slot[i]; i = (i + 1) & mask)
                if (!memcmp(tkey(t, t->slot[i]), key, LC_KEY_LEN))
                        return t->slot[i];
        return NULL;
}

static void table_place(struct lc_table *t, struct lc_alert *al)
{
        size_t mask = t->cap - 1;
        size_t i    = thash(tkey(t, al)) & mask;

        while (t->slot[i])
                i = (i + 1) & mask;
        t->slot[i] = al;
}

/* Make room for \p n entries at a load factor of at most 3/4. */
static ab_err_t table_reserve(struct lc_table *t, size_t n)
{
        struct lc_alert **old = t->slot;
        size_t oldcap         = t->cap;
        size_t cap            = t->cap ? t->cap : 16;
        size_t i;

        while (n > cap / 4 * 3)
                cap *= 2;
        if (cap == t->cap)
                return AB_OK;
        t->slot = ab_calloc(cap, sizeof(*t->slot));
        if (!t->slot) {
                t->slot = old;
                return AB_ERR_NOMEM;
        }
        t->cap = cap;
        for (i = 0; i < oldcap; i++)
                if (old[i])
                        table_place(t, old[i]);
        ab_free(old);
        return AB_OK;
}

/* The caller reserved room. */
static void table_insert(struct lc_table *t, struct lc_alert *al)
{
        table_place(t, al);
        t->n++;
}

static void table_remove(struct lc_table *t, const struct lc_alert *al)
{
        size_t mask = t->cap - 1;
        size_t i    = thash(tkey(t, al)) & mask;
        size_t j;

        while (t->slot[i] != al)
                i = (i + 1) & mask;
        t->slot[i] = NULL;
        /* Shift back every later entry of the cluster whose probe path
         * crosses the hole, i.e. whose home is not in (i, j]. */
        for (j = (i + 1) & mask; t->slot[j]; j = (j + 1) & mask) {
                size_t h = thash(tkey(t, t->slot[j])) & mask;
                int stay = i < j ? (h > i && h <= j) : (h > i || h <= j);

                if (stay)
                        continue;
                t->slot[i] = t->slot[j];
                t->slot[j] = NULL;
                i          = j;
        }
        t->n--;
}

static void table_fini(struct lc_table *t)
{
        ab_free(t->slot);
        t->slot = NULL;
        t->cap  = 0;
        t->n    = 0;
}

/* ---- classes: the run and the heap --------------------------------------- */

/* The order of a class: last_ms, then touch. */
static int quieter(const struct lc_alert *a, const struct lc_alert *b)
{
        return a->last_ms < b->last_ms ||
               (a->last_ms == b->last_ms && a->touch < b->touch);
}

static void heap_set(struct lc_class *c, size_t i, struct lc_alert *al)
{
        c->heap[i] = al;
        al->hpos   = (uint32_t)i;
}

static void heap_up(struct lc_class *c, size_t i)
{
        struct lc_alert *al = c->heap[i];

        while (i > 0 && quieter(al, c->heap[(i - 1) / 2])) {
                heap_set(c, i, c->heap[(i - 1) / 2]);
                i = (i - 1) / 2;
        }
        heap_set(c, i, al);
}

static void heap_down(struct lc_class *c, size_t i)
{
        struct lc_alert *al = c->heap[i];

        for (;;) {
                size_t k = 2 * i + 1;

                if (k >= c->nheap)
                        break;
                if (k + 1 < c->nheap && quieter(c->heap[k + 1], c->heap[k]))
                        k++;
                if (!quieter(c->heap[k], al))
                        break;
                heap_set(c, i, c->heap[k]);
                i = k;
        }
        heap_set(c, i, al);
}

/* @returns 0, or -1 when the heap cannot grow. */
static int heap_push(struct lc_class *c, struct lc_alert *al)
{
        if (c->nheap == c->capheap) {
                size_t cap          = c->capheap ? c->capheap * 2 : 64;
                struct lc_alert **h = ab_realloc(c->heap, cap * sizeof(*h));

                if (!h || cap > UINT32_MAX - 1) {
                        if (h)
                                c->heap = h;
                        return -1;
                }
                c->heap    = h;
                c->capheap = cap;
        }
        c->heap[c->nheap] = al;
        heap_up(c, c->nheap++);
        return 0;
}

static void heap_remove(struct lc_class *c, size_t i)
{
        struct lc_alert *last = c->heap[--c->nheap];

        c->heap[i]->hpos = LC_IN_RUN;
        if (i == c->nheap)
                return;
        heap_set(c, i, last);
        heap_down(c, i);
        heap_up(c, last->hpos);
}

/* Insert into the run after the last alert not after it in the order
 * (\p al has the newest touch): O(1) when it belongs at the tail. */
static void run_insert(struct lc_class *c, struct lc_alert *al)
{
        struct lc_alert *p = c->tail;

        while (p && p->last_ms > al->last_ms)
                p = p->prev;
        al->hpos = LC_IN_RUN;
        al->prev = p;
        al->next = p ? p->next : c->head;
        if (al->next)
                al->next->prev = al;
        else
                c->tail = al;
        if (p)
                p->next = al;
        else
                c->head = al;
}

/* Give \p al (last_ms set) its place in class \p c as the newest touch.
 * When the heap cannot grow, the run takes it anyway, only slower. */
static void class_place(struct lc_state *st, struct lc_class *c,
                        struct lc_alert *al)
{
        al->cls   = c;
        al->touch = st->touch++;
        if (!c->tail || al->last_ms >= c->tail->last_ms || heap_push(c, al))
                run_insert(c, al);
}

static void class_unplace(struct lc_alert *al)
{
        struct lc_class *c = al->cls;

        if (al->hpos != LC_IN_RUN) {
                heap_remove(c, al->hpos);
                return;
        }
        if (al->prev)
                al->prev->next = al->next;
        else
                c->head = al->next;
        if (al->next)
                al->next->prev = al->prev;
        else
                c->tail = al->prev;
        al->prev = al->next = NULL;
}

/* The quietest alert of \p c, or NULL. */
static struct lc_alert *class_first(const struct lc_class *c)
{
        struct lc_alert *top = c->nheap ? c->heap[0] : NULL;

        if (!c->head || (top && quieter(top, c->head)))
                return top;
        return c->head;
}

static int cmp_quiet(const void *a, const void *b)
{
        const struct lc_alert *x = *(const struct lc_alert *const *)a;
        const struct lc_alert *y = *(const struct lc_alert *const *)b;

        return quieter(x, y) ? -1 : quieter(y, x) ? 1 : 0;
}

/* Every alert of \p c, quietest first, in a new array (free with ab_free)
 * of \p *n; *out is NULL when the class is empty. */
static ab_err_t class_sorted(const struct lc_class *c, struct lc_alert ***out,
                             size_t *n)
{
        const struct lc_alert *al;
        struct lc_alert **v;
        size_t k = 0;

        *out = NULL;
        *n   = c->nheap;
        for (al = c->head; al; al = al->next)
                (*n)++;
        if (!*n)
                return AB_OK;
        v = ab_malloc(*n * sizeof(*v));
        if (!v)
                return AB_ERR_NOMEM;
        for (al = c->head; al; al = al->next)
                v[k++] = (struct lc_alert *)al;
        if (c->nheap) {
                memcpy(v + k, c->heap, c->nheap * sizeof(*v));
                qsort(v, *n, sizeof(*v), cmp_quiet);
        }
        *out = v;
        return AB_OK;
}

static struct lc_class *class_get(struct lc_state *st, int64_t auto_clear_ms)
{
        struct lc_class **grown, *c;
        size_t i;

        if (auto_clear_ms < 0)
                auto_clear_ms = 0;
        for (i = 0; i < st->ncls; i++) {
                if (st->cls[i]->auto_clear_ms == auto_clear_ms)
                        return st->cls[i];
                if (st->cls[i]->auto_clear_ms > auto_clear_ms)
                        break;
        }
        c     = ab_calloc(1, sizeof(*c));
        grown = ab_realloc(st->cls, (st->ncls + 1) * sizeof(*st->cls));
        if (!c || !grown) {
                ab_free(c);
                if (grown)
                        st->cls = grown;
                return NULL;
        }
        st->cls = grown;
        memmove(&st->cls[i + 1], &st->cls[i],
                (st->ncls - i) * sizeof(*st->cls));
        c->auto_clear_ms = auto_clear_ms;
        st->cls[i]       = c;
        st->ncls++;
        return c;
}

/* ---- blob: the stored copy of an alert --------------------------------- */

/*
 * Layout (integers little-endian, lengths and counts as LEB128 varints):
 *   u8 flags (1 has_starts, 2 has_ends, 4 message_truncated), u8 severity,
 *   [i64 starts_ms], [i64 ends_ms], varint index,
 *   varint nlabels, nlabels x (str key, str value), same for annotations,
 *   varint field mask (bit f = field f present), then per present field a
 *   varint ref: 0 = a str follows, k > 0 = same text as label (LABEL
 *   fields) or annotation (ANNOTATION fields) number k - 1.
 * str = varint length + bytes.
 */

#define LC_FLAG_STARTS    1u
#define LC_FLAG_ENDS      2u
#define LC_FLAG_TRUNCATED 4u

static size_t varint_len(uint64_t v)
{
        size_t n = 1;

        while (v >= 0x80) {
                v >>= 7;
                n++;
        }
        return n;
}

static unsigned char *put_varint(unsigned char *p, uint64_t v)
{
        while (v >= 0x80) {
                *p++ = (unsigned char)(v | 0x80);
                v >>= 7;
        }
        *p++ = (unsigned char)v;
        return p;
}

static unsigned char *put_u64(unsigned char *p, uint64_t v)
{
        int i;

        for (i = 0; i < 8; i++)
                *p++ = (unsigned char)(v >> (8 * i));
        return p;
}

static unsigned char *put_str(unsigned char *p, struct ab_str s)
{
        p = put_varint(p, s.len);
        if (s.len)
                memcpy(p, s.ptr, s.len);
        return p + s.len;
}

static size_t str_size(struct ab_str s)
{
        return varint_len(s.len) + s.len;
}

/* Index of the entry with key \p name in sorted \p kv whose value equals
 * \p val, or -1 (then the field is stored on its own). */
static long kv_ref(const struct ab_kv *kv, size_t n, const char *name,
                   struct ab_str val)
{
        struct ab_str key = ab_str_c(name);
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c      = ab_str_cmp(kv[mid].key, key);

                if (!c)
                        return ab_str_eq(kv[mid].val, val) ? (long)mid : -1;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return -1;
}

static long field_ref(const struct ab_alert *a, int f)
{
        enum ab_alert_field id  = (enum ab_alert_field)f;
        enum ab_field_kind kind = ab_alert_field_kind(id);

        if (kind == AB_FIELD_KIND_LABEL)
                return kv_ref(a->labels, a->nlabels, ab_alert_field_name(id),
                              a->field[f]);
        if (kind == AB_FIELD_KIND_ANNOTATION)
                return kv_ref(a->annotations, a->nannotations,
                              ab_alert_field_name(id), a->field[f]);
        return -1;
}

/* Store \p a into al's blob, reusing its allocation when it fits. */
static ab_err_t blob_encode(struct lc_alert *al, const struct ab_alert *a)
{
        long ref[AB_FIELD__COUNT];
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
        need += varint_len(a->index) + varint_len(a->nlabels) +
                varint_len(a->nannotations);
        for (i = 0; i < a->nlabels; i++)
                need += str_size(a->labels[i].key) + str_size(a->labels[i].val);
        for (i = 0; i < a->nannotations; i++)
                need += str_size(a->annotations[i].key) +
                        str_size(a->annotations[i].val);
        for (i = 0; i < AB_FIELD__COUNT; i++) {
                if (!a->field[i].ptr)
                        continue;
                mask |= 1u << i;
                ref[i] = field_ref(a, (int)i);
                need += varint_len((uint64_t)(ref[i] + 1));
                if (ref[i] < 0)
                        need += str_size(a->field[i]);
        }
        need += varint_len(mask);
        if (need > UINT32_MAX)
                return AB_ERR_TOO_LARGE;
        if (need > al->blob_cap || need * 2 < al->blob_cap) {
                p = ab_realloc(al->blob, need);
                if (!p)
                        return AB_ERR_NOMEM;
                al->blob     = p;
                al->blob_cap = (uint32_t)need;
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
        p = put_varint(p, a->index);
        p = put_varint(p, a->nlabels);
        for (i = 0; i < a->nlabels; i++) {
                p = put_str(p, a->labels[i].key);
                p = put_str(p, a->labels[i].val);
        }
        p = put_varint(p, a->nannotations);
        for (i = 0; i < a->nannotations; i++) {
                p = put_str(p, a->annotations[i].key);
                p = put_str(p, a->annotations[i].val);
        }
        p = put_varint(p, mask);
        for (i = 0; i < AB_FIELD__COUNT; i++) {
                if (!a->field[i].ptr)
                        continue;
                p = put_varint(p, (uint64_t)(ref[i] + 1));
                if (ref[i] < 0)
                        p = put_str(p, a->field[i]);
        }
        al->blob_len = (uint32_t)(p - al->blob);
        return AB_OK;
}

/* A bounds-checked reader; `bad` sticks after the first overrun. */
struct lc_rd {
        const unsigned char *p;
        const unsigned char *end;
        int bad;
};

static const unsigned char *rd_bytes(struct lc_rd *r, size_t n)
{
        const unsigned char *p = r->p;

        if (r->bad || (size_t)(r->end - r->p) < n) {
                r->bad = 1;
                return NULL;
        }
        r->p += n;
        return p;
}

static uint64_t rd_uint(struct lc_rd *r, size_t n)
{
        const unsigned char *p = rd_bytes(r, n);
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
                const unsigned char *p = rd_bytes(r, 1);

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
        const unsigned char *p = rd_bytes(r, (size_t)n);

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
static ab_err_t blob_decode(struct ab_lifecycle *lc, const unsigned char *b,
                            size_t len, struct ab_alert *v)
{
        struct lc_rd r = {b, b + len, 0};
        uint64_t nl, na, mask, idx;
        unsigned flags;
        size_t i;
        ab_err_t rc;

        memset(v, 0, sizeof(*v));
        flags       = (unsigned)rd_uint(&r, 1);
        v->severity = (int)rd_uint(&r, 1);
        if (flags & ~(LC_FLAG_STARTS | LC_FLAG_ENDS | LC_FLAG_TRUNCATED))
                return AB_ERR_STATE;
        v->has_starts        = flags & LC_FLAG_STARTS;
        v->has_ends          = flags & LC_FLAG_ENDS;
        v->message_truncated = flags & LC_FLAG_TRUNCATED;
        if (v->has_starts)
                v->starts_ms = (int64_t)rd_uint(&r, 8);
        if (v->has_ends)
                v->ends_ms = (int64_t)rd_uint(&r, 8);
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
        v->labels       = lc->kv;
        v->nlabels      = (size_t)nl;
        v->annotations  = lc->kv + nl;
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
        return s.len + varint_len(s.len);
}

static size_t blob_text(struct ab_lifecycle *lc, const struct lc_alert *al)
{
        struct ab_alert v;
        size_t n = 0, i;

        if (blob_decode(lc, al->blob, al->blob_len, &v))
                return 0;
        for (i = 0; i < v.nlabels; i++)
                n += stored_str(v.labels[i].key) + stored_str(v.labels[i].val);
        for (i = 0; i < v.nannotations; i++)
                n += stored_str(v.annotations[i].key) +
                     stored_str(v.annotations[i].val);
        for (i = 0; i < AB_FIELD__COUNT; i++)
                if (v.field[i].ptr && field_ref(&v, (int)i) < 0)
                        n += stored_str(v.field[i]);
        return n;
}

/* ---- store ------------------------------------------------------------- */

static void state_init(struct lc_state *st)
{
        memset(st, 0, sizeof(*st));
        st->by_fp.key_off = offsetof(struct lc_alert, fp);
        st->by_id.key_off = offsetof(struct lc_alert, id);
}

static void alert_free(struct lc_alert *al)
{
        if (!al)
                return;
        ab_free(al->blob);
        ab_free(al->handler);
        ab_free(al);
}

static void state_fini(struct lc_state *st)
{
        size_t i;

        for (i = 0; i < st->ncls; i++) {
                struct lc_class *c  = st->cls[i];
                struct lc_alert *al = c->head;

                while (al) {
                        struct lc_alert *next = al->next;

                        alert_free(al);
                        al = next;
                }
                for (size_t k = 0; k < c->nheap; k++)
                        alert_free(c->heap[k]);
                ab_free(c->heap);
                ab_free(c);
        }
        ab_free(st->cls);
        ab_free(st->closed);
        table_fini(&st->by_fp);
        table_fini(&st->by_id);
        state_init(st);
}

struct ab_lifecycle *ab_lifecycle_new(const struct ab_lifecycle_config *conf)
{
        struct ab_lifecycle *lc = ab_calloc(1, sizeof(*lc));

        if (!lc)
                return NULL;
        if (conf)
                lc->conf = *conf;
        state_init(&lc->st);
        ab_json_doc_init(&lc->doc);
        ab_buf_init(&lc->operator_name, 0);
        ab_buf_init(&lc->text, 0);
        lc->md     = EVP_MD_fetch(NULL, "SHA256", NULL);
        lc->md_ctx = EVP_MD_CTX_new();
        if (!lc->md || !lc->md_ctx) {
                ab_lifecycle_destroy(lc);
                return NULL;
        }
        return lc;
}

void ab_lifecycle_destroy(struct ab_lifecycle *lc)
{
        if (!lc)
                return;
        state_fini(&lc->st);
        EVP_MD_CTX_free(lc->md_ctx);
        EVP_MD_free(lc->md);
        ab_json_doc_fini(&lc->doc);
        ab_buf_fini(&lc->operator_name);
        ab_buf_fini(&lc->text);
        ab_free(lc->kv);
        ab_free(lc);
}

size_t ab_lifecycle_open_count(const struct ab_lifecycle *lc)
{
        return lc ? lc->st.open : 0;
}

void ab_lifecycle_get_stats(const struct ab_lifecycle *lc,
                            struct ab_lifecycle_stats *out)
{
        if (lc)
                *out = lc->stats;
        else
                memset(out, 0, sizeof(*out));
}

/* Add what alert \p al holds to \p out. */
static void mem_alert(struct ab_lifecycle *lc, const struct lc_alert *al,
                      struct ab_lifecycle_mem *out)
{
        size_t text = blob_text(lc, al);

        out->overhead += sizeof(*al) + LC_ALLOC_OVERHEAD + al->blob_cap - text +
                         LC_ALLOC_OVERHEAD;
        out->strings += text;
        if (al->handler)
                out->strings += strlen(al->handler) + 1 + LC_ALLOC_OVERHEAD;
}

void ab_lifecycle_get_mem(const struct ab_lifecycle *lc,
                          struct ab_lifecycle_mem *out)
{
        struct ab_lifecycle *mut = (struct ab_lifecycle *)lc;
        size_t i;

        memset(out, 0, sizeof(*out));
        if (!lc)
                return;
        out->open = lc->st.open;
        out->overhead =
            (lc->st.by_fp.cap + lc->st.by_id.cap) * sizeof(struct lc_alert *) +
            2 * LC_ALLOC_OVERHEAD;
        out->shared = sizeof(*lc) +
                      lc->st.ncls * (sizeof(struct lc_class) +
                                     sizeof(struct lc_class *)) +
                      lc->kv_cap * sizeof(struct ab_kv) +
                      lc->operator_name.cap + lc->text.cap;
        if (lc->st.closed)
                out->shared += LC_CLOSED_RING * sizeof(struct lc_closed);
        for (i = 0; i < lc->st.ncls; i++) {
                const struct lc_class *c = lc->st.cls[i];
                const struct lc_alert *al;

                if (c->heap)
                        out->overhead +=
                            c->capheap * sizeof(*c->heap) + LC_ALLOC_OVERHEAD;
                for (al = c->head; al; al = al->next)
                        mem_alert(mut, al, out);
                for (size_t k = 0; k < c->nheap; k++)
                        mem_alert(mut, c->heap[k], out);
        }
}

/* ---- events ------------------------------------------------------------ */

/* The stored alert as a firing or resolved ab_alert (valid until the next
 * view_build()). */
static ab_err_t view_build(struct ab_lifecycle *lc, const struct lc_alert *al,
                           bool resolved, int64_t end_ms)
{
        ab_err_t rc = blob_decode(lc, al->blob, al->blob_len, &lc->view);

        if (rc)
                return rc;
        lc->view.status = resolved ? AB_ALERT_RESOLVED : AB_ALERT_FIRING;
        if (resolved) {
                lc->view.has_ends = true;
                lc->view.ends_ms  = end_ms;
        }
        return AB_OK;
}

static ab_err_t event_init(struct ab_lifecycle *lc, struct ab_event *ev,
                           const struct lc_alert *al, enum ab_event_type type,
                           int64_t time_ms, uint32_t seq)
{
        memset(ev, 0, sizeof(*ev));
        ev->type = type;
        ab_hex(al->id, LC_KEY_LEN, ev->alert_id);
        ab_hex(al->fp, LC_KEY_LEN, ev->fingerprint);
        ev->integration = integ_name(al->integ);
        ev->time_ms     = time_ms;
        ev->start_ms    = al->start_ms;
        ev->count       = al->count;
        return event_id(lc, al->id, type, seq, ev->id);
}

static void closed_remember(struct lc_state *st, const struct lc_alert *al,
                            int64_t end_ms, enum lc_why why)
{
        struct lc_closed *c;

        if (!st->closed) {
                st->closed = ab_calloc(LC_CLOSED_RING, sizeof(*st->closed));
                if (!st->closed)
                        return; /* only costs a less precise rejection */
        }
        c = &st->closed[st->closed_next];
        memcpy(c->id, al->id, LC_KEY_LEN);
        memcpy(c->fp, al->fp, LC_KEY_LEN);
        c->end_ms       = end_ms;
        c->why          = (uint8_t)why;
        st->closed_next = (st->closed_next + 1) % LC_CLOSED_RING;
        if (st->nclosed < LC_CLOSED_RING)
                st->nclosed++;
}

/* The most recent remembered close of \p key (an id, or a fingerprint when
 * \p by_fp), or NULL. */
static const struct lc_closed *closed_find(const struct lc_state *st,
                                           const unsigned char *key, bool by_fp)
{
        size_t i;

        for (i = 0; i < st->nclosed; i++) {
                size_t at =
                    (st->closed_next + LC_CLOSED_RING - 1 - i) % LC_CLOSED_RING;
                const struct lc_closed *c = &st->closed[at];

                if (!memcmp(by_fp ? c->fp : c->id, key, LC_KEY_LEN))
                        return c;
        }
        return NULL;
}

static void alert_drop(struct lc_state *st, struct lc_alert *al)
{
        class_unplace(al);
        table_remove(&st->by_fp, al);
        table_remove(&st->by_id, al);
        st->open--;
        alert_free(al);
}

/*
 * Close \p al at \p time_ms and forget it. \p incoming is the recovery
 * alert that closes it (NULL: the event shows the stored alert). The
 * state changes even when the emit callback fails; its error is returned.
 */
static ab_err_t alert_close(struct ab_lifecycle *lc, struct lc_alert *al,
                            enum lc_why why, int64_t time_ms,
                            const struct ab_alert *incoming,
                            const char *operator_name, const char *solution,
                            const struct lc_emit *em)
{
        struct ab_event ev;
        ab_err_t rc;

        rc = event_init(lc, &ev, al, AB_EVENT_CLOSE, time_ms, al->seq++);
        ev.resolved = true;
        ev.end_ms =
            incoming && incoming->has_ends ? incoming->ends_ms : time_ms;
        ev.operator_name = operator_name;
        ev.handler       = al->handler ? al->handler : operator_name;
        ev.solution      = solution;
        if (incoming)
                ev.alert = incoming;
        else if (!rc && !(rc = view_build(lc, al, true, ev.end_ms)))
                ev.alert = &lc->view;
        if (!rc)
                rc = em->fn(em->opaque, &ev);
        closed_remember(&lc->st, al, ev.end_ms, why);
        alert_drop(&lc->st, al);
        switch (why) {
        case LC_WHY_RECOVERED:
                lc->stats.closed_recovered++;
                break;
        case LC_WHY_AUTO:
                lc->stats.closed_auto++;
                break;
        case LC_WHY_ACTION:
                lc->stats.closed_action++;
                break;
        case LC_WHY_EVICTED:
                lc->stats.evicted++;
                break;
        }
        return rc;
}

/* "1h30m", "45s", "2d", "1s500ms". */
static void fmt_duration(int64_t ms, char *out, size_t n)
{
        static const struct {
                int64_t ms;
                const char *unit;
        } units[]  = {{86400000, "d"},
                      {3600000, "h"},
                      {60000, "m"},
                      {1000, "s"},
                      {1, "ms"}};
        size_t len = 0, i;

        out[0] = '\0';
        for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                int64_t q = ms / units[i].ms;

                if (!q)
                        continue;
                ms -= q * units[i].ms;
                len += (size_t)snprintf(out + len, len < n ? n - len : 0,
                                        "%lld%s", (long long)q, units[i].unit);
                if (len >= n)
                        return;
        }
        if (!len)
                snprintf(out, n, "0s");
}

/* The next alert whose auto-clear deadline is <= now_ms; ties go to the
 * class with the shorter period, then list order. */
static struct lc_alert *next_due(const struct lc_state *st, int64_t now_ms,
                                 int64_t *deadline)
{
        struct lc_alert *best = NULL;
        size_t i;

        for (i = 0; i < st->ncls; i++) {
                const struct lc_class *c = st->cls[i];
                struct lc_alert *first   = class_first(c);
                int64_t d;

                if (!c->auto_clear_ms || !first)
                        continue;
                d = add_sat(first->last_ms, c->auto_clear_ms);
                if (d <= now_ms && (!best || d < *deadline)) {
                        best      = first;
                        *deadline = d;
                }
        }
        return best;
}

static ab_err_t expire_until(struct ab_lifecycle *lc, int64_t now_ms,
                             const struct lc_emit *em)
{
        struct lc_alert *al;
        int64_t deadline = 0;
        char solution[96], dur[48];
        ab_err_t rc;

        while ((al = next_due(&lc->st, now_ms, &deadline))) {
                fmt_duration(al->cls->auto_clear_ms, dur, sizeof(dur));
                snprintf(solution, sizeof(solution),
                         "auto-cleared: no event for %s (auto_clear)", dur);
                rc = alert_close(lc, al, LC_WHY_AUTO, deadline, NULL, LC_SYSTEM,
                                 solution, em);
                if (rc)
                        return rc;
        }
        return AB_OK;
}

ab_err_t ab_lifecycle_expire(struct ab_lifecycle *lc, int64_t now_ms,
                             ab_lifecycle_emit_cb emit, void *opaque)
{
        struct lc_emit em = {emit, opaque};

        if (!lc || !emit)
                return AB_ERR_INTERNAL;
        return expire_until(lc, now_ms, &em);
}

/* Close the longest-quiet alert to make room; ties go to the class with
 * the shorter auto_clear, then list order. */
static ab_err_t evict_one(struct ab_lifecycle *lc, int64_t time_ms,
                          const struct lc_emit *em)
{
        struct lc_alert *best = NULL;
        char solution[160];
        size_t i;

        for (i = 0; i < lc->st.ncls; i++) {
                struct lc_alert *h = class_first(lc->st.cls[i]);

                if (h && (!best || h->last_ms < best->last_ms))
                        best = h;
        }
        if (!best)
                return AB_ERR_INTERNAL;
        snprintf(solution, sizeof(solution),
                 "evicted: the limit of %zu open alerts was reached and this "
                 "alert was the longest quiet",
                 lc->conf.max_open);
        return alert_close(lc, best, LC_WHY_EVICTED, time_ms, NULL, LC_SYSTEM,
                           solution, em);
}

static ab_err_t alert_open(struct ab_lifecycle *lc,
                           const struct ab_integration *integ,
                           const struct ab_alert *a,
                           const unsigned char fp[LC_KEY_LEN], int64_t t,
                           const struct lc_emit *em, struct ab_error *err)
{
        struct lc_state *st = &lc->st;
        struct lc_alert *al = NULL;
        struct lc_class *cls;
        struct ab_event ev;
        ab_err_t rc;

        while (lc->conf.max_open && st->open >= lc->conf.max_open) {
                rc = evict_one(lc, t, em);
                if (rc)
                        return ab_error_set(err, rc, NULL,
                                            "evicting an alert failed");
        }
        rc = AB_ERR_NOMEM;
        al = ab_calloc(1, sizeof(*al));
        if (!al)
                goto out;
        al->integ    = integ;
        al->start_ms = a->has_starts ? a->starts_ms : t;
        al->first_ms = al->last_ms = t;
        al->count                  = 1;
        memcpy(al->fp, fp, LC_KEY_LEN);
        rc = alert_id(lc, integ, fp, t, st->open_seq, al->id);
        if (rc)
                goto out;
        rc = blob_encode(al, a);
        if (rc)
                goto out;
        cls = class_get(st, ab_integration_auto_clear_ms(integ));
        if (!cls || table_reserve(&st->by_fp, st->open + 1) ||
            table_reserve(&st->by_id, st->open + 1)) {
                rc = AB_ERR_NOMEM;
                goto out;
        }
        table_insert(&st->by_fp, al);
        table_insert(&st->by_id, al);
        class_place(st, cls, al);
        st->open++;
        st->open_seq++;
        lc->stats.opened++;
        rc = event_init(lc, &ev, al, AB_EVENT_CREATE, t, al->seq++);
        al = NULL;
        if (rc)
                goto out;
        ev.alert = a;
        rc       = em->fn(em->opaque, &ev);
out:
        alert_free(al);
        if (rc)
                return ab_error_set(err, rc, NULL, "opening alert failed: %s",
                                    ab_err_desc(rc));
        return AB_OK;
}

/* A firing event for an open alert: count it; the newest by event time
 * (ties: the later arrival) supplies the stored values. */
static ab_err_t alert_merge(struct ab_lifecycle *lc, struct lc_alert *al,
                            const struct ab_alert *a, int64_t t,
                            struct ab_error *err)
{
        ab_err_t rc;

        al->count++;
        lc->stats.merged++;
        if (t < al->first_ms)
                al->first_ms = t;
        if (t < al->last_ms)
                return AB_OK;
        rc = blob_encode(al, a);
        if (rc)
                return ab_error_set(err, rc, NULL,
                                    "storing the merged alert failed: %s",
                                    ab_err_desc(rc));
        /* The newest touch goes last among equal times: re-placing the
         * last alert of its class leaves the order as it was. */
        class_unplace(al);
        al->last_ms = t;
        class_place(&lc->st, al->cls, al);
        return AB_OK;
}

static ab_err_t orphan_close(struct ab_lifecycle *lc,
                             const struct ab_integration *integ,
                             const struct ab_alert *a,
                             const unsigned char fp[LC_KEY_LEN], int64_t t,
                             const struct lc_emit *em)
{
        struct lc_alert tmp;
        struct ab_event ev;
        ab_err_t rc;

        memset(&tmp, 0, sizeof(tmp));
        tmp.integ    = integ;
        tmp.start_ms = a->has_starts ? a->starts_ms : t;
        memcpy(tmp.fp, fp, LC_KEY_LEN);
        rc = alert_id(lc, integ, fp, t, lc->st.open_seq, tmp.id);
        if (!rc)
                rc = event_init(lc, &ev, &tmp, AB_EVENT_CLOSE, t, 0);
        if (rc)
                return rc;
        lc->st.open_seq++;
        ev.alert         = a;
        ev.resolved      = true;
        ev.end_ms        = a->has_ends ? a->ends_ms : t;
        ev.operator_name = LC_SYSTEM;
        ev.handler       = LC_SYSTEM;
        ev.solution      = LC_SOLUTION_RECOVERED " (no open alert matched)";
        return em->fn(em->opaque, &ev);
}

ab_err_t ab_lifecycle_process(struct ab_lifecycle *lc,
                              const struct ab_integration *integ,
                              const struct ab_alert *a, int64_t event_ms,
                              ab_lifecycle_emit_cb emit, void *opaque,
                              struct ab_error *err)
{
        struct lc_emit em = {emit, opaque};
        unsigned char fp[LC_KEY_LEN];
        struct lc_alert *al;
        ab_err_t rc;

        if (!lc || !integ || !a || !emit)
                return ab_error_set(err, AB_ERR_INTERNAL, NULL,
                                    "lifecycle: missing argument");
        rc = expire_until(lc, event_ms, &em);
        if (rc)
                return ab_error_set(err, rc, NULL,
                                    "emitting an auto-clear close failed");
        rc = fp_digest(lc->md_ctx, lc->md, integ, a, fp);
        if (rc)
                return ab_error_set(err, rc, NULL,
                                    "computing the fingerprint failed");
        al = table_find(&lc->st.by_fp, fp);
        if (a->status == AB_ALERT_FIRING) {
                if (al)
                        return alert_merge(lc, al, a, event_ms, err);
                return alert_open(lc, integ, a, fp, event_ms, &em, err);
        }
        if (al && event_ms < al->last_ms) {
                lc->stats.stale_recoveries++;
                return AB_OK;
        }
        if (al) {
                rc = alert_close(lc, al, LC_WHY_RECOVERED, event_ms, a,
                                 LC_SYSTEM, LC_SOLUTION_RECOVERED, &em);
        } else {
                lc->stats.orphan_recoveries++;
                if (lc->conf.close_orphan_recovery)
                        rc = orphan_close(lc, integ, a, fp, event_ms, &em);
        }
        if (rc)
                return ab_error_set(err, rc, NULL,
                                    "emitting a close failed: %s",
                                    ab_err_desc(rc));
        return AB_OK;
}

/* ---- actions ----------------------------------------------------------- */

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

static int parse_key(struct ab_str s, unsigned char out[LC_KEY_LEN])
{
        size_t i;

        if (s.len != AB_EVENT_ID_LEN)
                return -1;
        for (i = 0; i < LC_KEY_LEN; i++) {
                int hi = unhex((unsigned char)s.ptr[2 * i]);
                int lo = unhex((unsigned char)s.ptr[2 * i + 1]);

                if (hi < 0 || lo < 0)
                        return -1;
                out[i] = (unsigned char)(hi << 4 | lo);
        }
        return 0;
}

/* Member \p key of the action object: AB_OK with *out set or AB_STR_NULL
 * when absent; AB_ERR_ACTION_INVALID when present but not a string. */
static ab_err_t action_str(const struct ab_json_doc *doc, const char *key,
                           struct ab_str *out, struct ab_error *err)
{
        uint32_t i = ab_json_get(doc, 0, key, strlen(key));

        *out = AB_STR_NULL;
        if (i == AB_JSON_NONE || ab_json_type_of(doc, i) == AB_JSON_NULL)
                return AB_OK;
        if (ab_json_type_of(doc, i) != AB_JSON_STRING)
                return ab_error_set(err, AB_ERR_ACTION_INVALID, key,
                                    "must be a string");
        *out = ab_json_text(doc, i);
        return AB_OK;
}

static ab_err_t reject_missing(struct ab_lifecycle *lc, const struct ab_str *id,
                               const unsigned char key[LC_KEY_LEN], bool by_fp,
                               struct ab_error *err)
{
        const struct lc_closed *c = closed_find(&lc->st, key, by_fp);
        const char *what          = by_fp ? "fingerprint" : "alert_id";
        char when[AB_TIME_RFC3339_LEN];

        if (!c)
                return ab_error_set(err, AB_ERR_ACTION_UNKNOWN, what,
                                    "no open alert has %s %.*s", what,
                                    (int)id->len, id->ptr);
        ab_time_format(c->end_ms, when);
        return ab_error_set(err, AB_ERR_ACTION_CLOSED, what,
                            "the alert with %s %.*s was closed at %s (%s)",
                            what, (int)id->len, id->ptr, when,
                            why_names[c->why]);
}

static ab_err_t action_apply(struct ab_lifecycle *lc, int64_t t,
                             const struct lc_emit *em, struct ab_error *err)
{
        const struct ab_json_doc *doc = &lc->doc;
        struct ab_str action, sid, sfp, integ, op, comment, solution;
        unsigned char id[LC_KEY_LEN], fp[LC_KEY_LEN];
        enum ab_event_type type;
        struct lc_alert *al;
        struct ab_event ev;
        ab_err_t rc;

        if (ab_json_type_of(doc, 0) != AB_JSON_OBJECT)
                return ab_error_set(err, AB_ERR_ACTION_INVALID, NULL,
                                    "an action record must be a JSON object");
        if ((rc = action_str(doc, "action", &action, err)) ||
            (rc = action_str(doc, "alert_id", &sid, err)) ||
            (rc = action_str(doc, "fingerprint", &sfp, err)) ||
            (rc = action_str(doc, "integration", &integ, err)) ||
            (rc = action_str(doc, "operator", &op, err)) ||
            (rc = action_str(doc, "comment", &comment, err)) ||
            (rc = action_str(doc, "solution", &solution, err)))
                return rc;
        if (!action.ptr)
                return ab_error_set(err, AB_ERR_ACTION_INVALID, "action",
                                    "is required (claim, comment or close)");
        if (ab_str_eq_c(action, "claim"))
                type = AB_EVENT_CLAIM;
        else if (ab_str_eq_c(action, "comment"))
                type = AB_EVENT_COMMENT;
        else if (ab_str_eq_c(action, "close"))
                type = AB_EVENT_CLOSE;
        else
                return ab_error_set(err, AB_ERR_ACTION_INVALID, "action",
                                    "must be claim, comment or close, not "
                                    "\"%.*s\"",
                                    (int)(action.len > 64 ? 64 : action.len),
                                    action.ptr);
        if (!sid.ptr && !sfp.ptr)
                return ab_error_set(err, AB_ERR_ACTION_INVALID, NULL,
                                    "an action needs alert_id or fingerprint");
        if (sid.ptr && parse_key(sid, id))
                return ab_error_set(err, AB_ERR_ACTION_INVALID, "alert_id",
                                    "must be %d hexadecimal characters",
                                    AB_EVENT_ID_LEN);
        if (sfp.ptr && parse_key(sfp, fp))
                return ab_error_set(err, AB_ERR_ACTION_INVALID, "fingerprint",
                                    "must be %d hexadecimal characters",
                                    AB_EVENT_ID_LEN);
        if (!op.ptr || !op.len)
                return ab_error_set(err, AB_ERR_ACTION_INVALID, "operator",
                                    "is required");
        if (type == AB_EVENT_COMMENT && (!comment.ptr || !comment.len))
                return ab_error_set(err, AB_ERR_ACTION_INVALID, "comment",
                                    "is required for a comment");
        ab_buf_reset(&lc->operator_name);
        ab_buf_reset(&lc->text);
        if (ab_buf_append(&lc->operator_name, op.ptr, op.len))
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        if (type == AB_EVENT_COMMENT)
                rc = ab_buf_append(&lc->text, comment.ptr, comment.len);
        else if (type == AB_EVENT_CLOSE && solution.ptr && solution.len)
                rc = ab_buf_append(&lc->text, solution.ptr, solution.len);
        else if (type == AB_EVENT_CLOSE)
                rc = ab_buf_appendf(&lc->text, "closed by %s",
                                    lc->operator_name.data);
        if (rc)
                return ab_error_set(err, rc, NULL, "out of memory");

        rc = expire_until(lc, t, em);
        if (rc)
                return ab_error_set(err, rc, NULL,
                                    "emitting an auto-clear close failed");
        al = sid.ptr ? table_find(&lc->st.by_id, id)
                     : table_find(&lc->st.by_fp, fp);
        if (!al)
                return sid.ptr ? reject_missing(lc, &sid, id, false, err)
                               : reject_missing(lc, &sfp, fp, true, err);
        if (sid.ptr && sfp.ptr && memcmp(al->fp, fp, LC_KEY_LEN))
                return ab_error_set(err, AB_ERR_ACTION_UNKNOWN, "fingerprint",
                                    "alert %.*s has another fingerprint",
                                    (int)sid.len, sid.ptr);
        if (integ.ptr && !ab_str_eq_c(integ, integ_name(al->integ)))
                return ab_error_set(err, AB_ERR_ACTION_UNKNOWN, "integration",
                                    "the alert belongs to integration %s, "
                                    "not %.*s",
                                    integ_name(al->integ),
                                    (int)(integ.len > 64 ? 64 : integ.len),
                                    integ.ptr);

        if (type == AB_EVENT_CLOSE) {
                rc = alert_close(lc, al, LC_WHY_ACTION, t, NULL,
                                 lc->operator_name.data, lc->text.data, em);
                goto out;
        }
        if (type == AB_EVENT_CLAIM) {
                char *h = ab_strdup(lc->operator_name.data);

                if (!h)
                        return ab_error_set(err, AB_ERR_NOMEM, NULL,
                                            "out of memory");
                ab_free(al->handler);
                al->handler = h;
        }
        rc = event_init(lc, &ev, al, type, t, al->seq++);
        if (!rc)
                rc = view_build(lc, al, false, 0);
        if (rc)
                goto out;
        ev.alert         = &lc->view;
        ev.operator_name = lc->operator_name.data;
        ev.handler       = al->handler ? al->handler : ev.operator_name;
        if (type == AB_EVENT_COMMENT)
                ev.comment = lc->text.data;
        rc = em->fn(em->opaque, &ev);
out:
        if (rc)
                return ab_error_set(err, rc, NULL, "emitting the %s failed",
                                    type_names[type]);
        return AB_OK;
}

ab_err_t ab_lifecycle_action(struct ab_lifecycle *lc, const char *json,
                             size_t len, int64_t event_ms,
                             ab_lifecycle_emit_cb emit, void *opaque,
                             struct ab_error *err)
{
        struct lc_emit em = {emit, opaque};
        struct ab_error perr;
        ab_err_t rc;

        if (!lc || !json || !emit)
                return ab_error_set(err, AB_ERR_INTERNAL, NULL,
                                    "lifecycle: missing argument");
        ab_error_clear(&perr);
        if (ab_json_parse(&lc->doc, json, len, &perr)) {
                lc->stats.actions_rejected++;
                if (perr.has_offset)
                        return ab_error_set_at(
                            err, AB_ERR_ACTION_INVALID, perr.offset,
                            "an action record must be JSON: %s", perr.text);
                return ab_error_set(err, AB_ERR_ACTION_INVALID, NULL,
                                    "an action record must be JSON: %s",
                                    perr.text);
        }
        rc = action_apply(lc, event_ms, &em, err);
        if (rc == AB_ERR_ACTION_INVALID || rc == AB_ERR_ACTION_UNKNOWN ||
            rc == AB_ERR_ACTION_CLOSED)
                lc->stats.actions_rejected++;
        return rc;
}

/* ---- snapshot ---------------------------------------------------------- */

/*
 * Format version 1, integers little-endian:
 *   "ABLC", u32 version, u64 open_seq,
 *   u32 nintegrations, each u32 length + name,
 *   u32 nclosed, each (oldest first) id[16] fp[16] i64 end_ms u8 reason,
 *   u64 nalerts, each (class by class in auto_clear order, quietest first):
 *     u32 integration index, fp[16], id[16], i64 start_ms, i64 first_ms,
 *     i64 last_ms, u64 count, u32 seq, u32 handler length + 1 (0 = none)
 *     + handler, u32 blob length + blob (the layout above blob_encode()),
 *   then the first 16 bytes of SHA-256 over everything before.
 */

static ab_err_t snap_u32(struct ab_buf *b, uint32_t v)
{
        unsigned char p[4];
        int i;

        for (i = 0; i < 4; i++)
                p[i] = (unsigned char)(v >> (8 * i));
        return ab_buf_append(b, p, sizeof(p));
}

static ab_err_t snap_u64(struct ab_buf *b, uint64_t v)
{
        unsigned char p[8];

        put_u64(p, v);
        return ab_buf_append(b, p, sizeof(p));
}

/* Index of \p name in \p names (appending it when new). */
static ab_err_t snap_name(const char ***names, size_t *n, const char *name,
                          uint32_t *idx)
{
        const char **grown;
        size_t i;

        for (i = 0; i < *n; i++)
                if (!strcmp((*names)[i], name))
                        break;
        if (i == *n) {
                grown = ab_realloc(*names, (*n + 1) * sizeof(**names));
                if (!grown)
                        return AB_ERR_NOMEM;
                *names        = grown;
                grown[(*n)++] = name;
        }
        *idx = (uint32_t)i;
        return AB_OK;
}

ab_err_t ab_lifecycle_snapshot(const struct ab_lifecycle *lc,
                               struct ab_buf *out)
{
        struct ab_lifecycle *mut          = (struct ab_lifecycle *)lc;
        const struct lc_state *st         = &lc->st;
        const struct ab_integration *last = NULL;
        const char **names                = NULL;
        size_t nnames = 0, start = out->len, i;
        uint32_t last_idx = 0;
        struct ab_buf body;
        unsigned char check[LC_KEY_LEN];
        struct lc_hash h;
        ab_err_t rc = AB_OK;

        ab_buf_init(&body, 0);
        /* The alerts go to `body` first: the name table precedes them. */
        rc = snap_u64(&body, st->open);
        for (i = 0; !rc && i < st->ncls; i++) {
                struct lc_alert **sorted;
                size_t nsorted;

                rc = class_sorted(st->cls[i], &sorted, &nsorted);
                for (size_t k = 0; !rc && k < nsorted; k++) {
                        const struct lc_alert *al = sorted[k];
                        uint32_t hl =
                            al->handler ? (uint32_t)strlen(al->handler) + 1 : 0;

                        if (al->integ != last) {
                                rc =
                                    snap_name(&names, &nnames,
                                              integ_name(al->integ), &last_idx);
                                last = al->integ;
                        }
                        if (!rc)
                                rc = snap_u32(&body, last_idx);
                        if (!rc)
                                rc = ab_buf_append(&body, al->fp, LC_KEY_LEN);
                        if (!rc)
                                rc = ab_buf_append(&body, al->id, LC_KEY_LEN);
                        if (!rc)
                                rc = snap_u64(&body, (uint64_t)al->start_ms);
                        if (!rc)
                                rc = snap_u64(&body, (uint64_t)al->first_ms);
                        if (!rc)
                                rc = snap_u64(&body, (uint64_t)al->last_ms);
                        if (!rc)
                                rc = snap_u64(&body, al->count);
                        if (!rc)
                                rc = snap_u32(&body, al->seq);
                        if (!rc)
                                rc = snap_u32(&body, hl);
                        if (!rc && hl)
                                rc = ab_buf_append(&body, al->handler, hl - 1);
                        if (!rc)
                                rc = snap_u32(&body, al->blob_len);
                        if (!rc)
                                rc = ab_buf_append(&body, al->blob,
                                                   al->blob_len);
                }
                ab_free(sorted);
        }
        if (!rc)
                rc = ab_buf_append(out, LC_SNAP_MAGIC, 4);
        if (!rc)
                rc = snap_u32(out, LC_SNAP_VERSION);
        if (!rc)
                rc = snap_u64(out, st->open_seq);
        if (!rc)
                rc = snap_u32(out, (uint32_t)nnames);
        for (i = 0; !rc && i < nnames; i++) {
                rc = snap_u32(out, (uint32_t)strlen(names[i]));
                if (!rc)
                        rc = ab_buf_append_str(out, names[i]);
        }
        if (!rc)
                rc = snap_u32(out, (uint32_t)st->nclosed);
        for (i = 0; !rc && i < st->nclosed; i++) {
                const struct lc_closed *c =
                    &st->closed[(st->closed_next + LC_CLOSED_RING -
                                 st->nclosed + i) %
                                LC_CLOSED_RING];

                rc = ab_buf_append(out, c->id, LC_KEY_LEN);
                if (!rc)
                        rc = ab_buf_append(out, c->fp, LC_KEY_LEN);
                if (!rc)
                        rc = snap_u64(out, (uint64_t)c->end_ms);
                if (!rc)
                        rc = ab_buf_append(out, &c->why, 1);
        }
        if (!rc)
                rc = ab_buf_append(out, body.data, body.len);
        if (!rc) {
                h_begin(&h, mut->md_ctx, mut->md);
                h_bytes(&h, out->data + start, out->len - start);
                rc = h_end(&h, check);
        }
        if (!rc)
                rc = ab_buf_append(out, check, sizeof(check));
        if (rc)
                ab_buf_truncate(out, start);
        ab_free(names);
        ab_buf_fini(&body);
        return rc;
}

static ab_err_t bad_snapshot(struct ab_error *err, const char *what)
{
        return ab_error_set(err, AB_ERR_STATE, NULL, "invalid snapshot: %s",
                            what);
}

/* Read one alert record into a new lc_alert in \p st. */
static ab_err_t restore_alert(struct ab_lifecycle *lc, struct lc_state *st,
                              struct lc_rd *r,
                              const struct ab_integration **integs,
                              size_t ninteg, struct ab_error *err)
{
        struct lc_alert *al = NULL;
        const unsigned char *p;
        struct lc_class *cls;
        struct ab_alert v;
        uint64_t idx, hl, bl;
        ab_err_t rc = AB_ERR_NOMEM;

        idx = rd_uint(r, 4);
        al  = ab_calloc(1, sizeof(*al));
        if (!al)
                goto out;
        if (idx >= ninteg) {
                rc = bad_snapshot(err, "integration index out of range");
                goto out;
        }
        al->integ = integs[idx];
        if ((p = rd_bytes(r, LC_KEY_LEN)))
                memcpy(al->fp, p, LC_KEY_LEN);
        if ((p = rd_bytes(r, LC_KEY_LEN)))
                memcpy(al->id, p, LC_KEY_LEN);
        al->start_ms = (int64_t)rd_uint(r, 8);
        al->first_ms = (int64_t)rd_uint(r, 8);
        al->last_ms  = (int64_t)rd_uint(r, 8);
        al->count    = rd_uint(r, 8);
        al->seq      = (uint32_t)rd_uint(r, 4);
        hl           = rd_uint(r, 4);
        if (hl && (p = rd_bytes(r, (size_t)(hl - 1)))) {
                al->handler = ab_strndup((const char *)p, (size_t)(hl - 1));
                if (!al->handler)
                        goto out;
                if (strlen(al->handler) != hl - 1) {
                        rc = bad_snapshot(err, "NUL inside a handler name");
                        goto out;
                }
        }
        bl = rd_uint(r, 4);
        p  = rd_bytes(r, (size_t)bl);
        if (r->bad) {
                rc = bad_snapshot(err, "truncated alert record");
                goto out;
        }
        al->blob = ab_malloc(bl ? (size_t)bl : 1);
        if (!al->blob)
                goto out;
        if (bl)
                memcpy(al->blob, p, (size_t)bl);
        al->blob_len = al->blob_cap = (uint32_t)bl;
        rc                          = blob_decode(lc, al->blob, bl, &v);
        if (rc) {
                if (rc == AB_ERR_STATE)
                        rc = bad_snapshot(err, "malformed alert content");
                goto out;
        }
        if (table_find(&st->by_fp, al->fp) || table_find(&st->by_id, al->id)) {
                rc = bad_snapshot(err, "duplicate alert");
                goto out;
        }
        rc  = AB_ERR_NOMEM;
        cls = class_get(st, ab_integration_auto_clear_ms(al->integ));
        if (!cls || table_reserve(&st->by_fp, st->open + 1) ||
            table_reserve(&st->by_id, st->open + 1))
                goto out;
        table_insert(&st->by_fp, al);
        table_insert(&st->by_id, al);
        class_place(st, cls, al);
        st->open++;
        al = NULL;
        rc = AB_OK;
out:
        alert_free(al);
        if (rc == AB_ERR_NOMEM)
                ab_error_set(err, rc, NULL, "out of memory");
        return rc;
}

ab_err_t ab_lifecycle_restore(
    struct ab_lifecycle *lc, const char *data, size_t len,
    const struct ab_integration *(*resolve)(void *ctx, const char *name),
    void *ctx, struct ab_error *err)
{
        const struct ab_integration **integs = NULL;
        struct lc_rd r;
        struct lc_state st;
        unsigned char check[LC_KEY_LEN];
        struct lc_hash h;
        uint64_t ninteg = 0, nclosed, nalerts, i;
        char *name      = NULL;
        ab_err_t rc;

        state_init(&st);
        if (!lc || !data || !resolve) {
                rc = ab_error_set(err, AB_ERR_INTERNAL, NULL,
                                  "lifecycle: missing argument");
                goto out;
        }
        if (len < 8 + LC_SNAP_CHECK_LEN || memcmp(data, LC_SNAP_MAGIC, 4)) {
                rc = bad_snapshot(err, "not a lifecycle snapshot");
                goto out;
        }
        r.p   = (const unsigned char *)data + 4;
        r.end = (const unsigned char *)data + len - LC_SNAP_CHECK_LEN;
        r.bad = 0;
        if (rd_uint(&r, 4) != LC_SNAP_VERSION) {
                rc = ab_error_set(err, AB_ERR_STATE, NULL,
                                  "unsupported snapshot version (this build "
                                  "reads version %u)",
                                  LC_SNAP_VERSION);
                goto out;
        }
        h_begin(&h, lc->md_ctx, lc->md);
        h_bytes(&h, data, len - LC_SNAP_CHECK_LEN);
        rc = h_end(&h, check);
        if (rc)
                goto out;
        if (memcmp(check, data + len - LC_SNAP_CHECK_LEN, LC_SNAP_CHECK_LEN)) {
                rc = bad_snapshot(err, "checksum mismatch (corrupted)");
                goto out;
        }
        st.open_seq = rd_uint(&r, 8);
        ninteg      = rd_uint(&r, 4);
        if (r.bad || ninteg > (size_t)(r.end - r.p) / 4) {
                rc = bad_snapshot(err, "truncated integration table");
                goto out;
        }
        integs = ab_calloc(ninteg ? (size_t)ninteg : 1, sizeof(*integs));
        rc     = AB_ERR_NOMEM;
        if (!integs)
                goto out;
        for (i = 0; i < ninteg; i++) {
                uint64_t n             = rd_uint(&r, 4);
                const unsigned char *p = rd_bytes(&r, (size_t)n);

                if (!p) {
                        rc = bad_snapshot(err, "truncated integration name");
                        goto out;
                }
                ab_free(name);
                name = ab_strndup((const char *)p, (size_t)n);
                if (!name)
                        goto out;
                integs[i] = resolve(ctx, name);
                if (!integs[i]) {
                        rc = ab_error_set(err, AB_ERR_STATE, name,
                                          "the snapshot has open alerts of "
                                          "integration \"%s\", which is not "
                                          "loaded",
                                          name);
                        goto out;
                }
        }
        nclosed = rd_uint(&r, 4);
        if (r.bad || nclosed > LC_CLOSED_RING) {
                rc = bad_snapshot(err, "bad closed-alert table");
                goto out;
        }
        if (nclosed) {
                st.closed = ab_calloc(LC_CLOSED_RING, sizeof(*st.closed));
                if (!st.closed)
                        goto out;
        }
        for (i = 0; i < nclosed; i++) {
                struct lc_closed *c    = &st.closed[i];
                const unsigned char *p = rd_bytes(&r, 2 * LC_KEY_LEN);

                if (p) {
                        memcpy(c->id, p, LC_KEY_LEN);
                        memcpy(c->fp, p + LC_KEY_LEN, LC_KEY_LEN);
                }
                c->end_ms = (int64_t)rd_uint(&r, 8);
                c->why    = (uint8_t)rd_uint(&r, 1);
                if (r.bad || c->why < LC_WHY_RECOVERED ||
                    c->why > LC_WHY__MAX) {
                        rc = bad_snapshot(err, "bad closed-alert entry");
                        goto out;
                }
        }
        st.nclosed     = (size_t)nclosed;
        st.closed_next = (size_t)nclosed % LC_CLOSED_RING;
        nalerts        = rd_uint(&r, 8);
        if (r.bad) {
                rc = bad_snapshot(err, "truncated alert count");
                goto out;
        }
        for (i = 0; i < nalerts; i++) {
                rc = restore_alert(lc, &st, &r, integs, (size_t)ninteg, err);
                if (rc)
                        goto out;
        }
        if (r.p != r.end) {
                rc = bad_snapshot(err, "trailing bytes");
                goto out;
        }
        state_fini(&lc->st);
        lc->st = st;
        state_init(&st);
        rc = AB_OK;
        AB_INFO("lifecycle", "state restored", "open=%zu", lc->st.open);
out:
        if (rc == AB_ERR_NOMEM)
                ab_error_set(err, rc, NULL, "out of memory");
        state_fini(&st);
        ab_free(integs);
        ab_free(name);
        return rc;
}
