/* store.c - the open alerts: two hash tables, the auto_clear classes that
 * keep them in expiry and eviction order, and the ring of recent closes. */
#include "lifecycle/store.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

/*
 * HOW IT WORKS
 *
 * Every open alert is one `struct lc_alert` record plus one block of the
 * state's arena (arena.c), the "blob", holding the latest firing alert's
 * content (labels, annotations and alert fields, length-prefixed, see blob.c)
 * and its claimer's name. Records live in the state's slab: chunks of
 * LC_SLAB_CHUNK records that never move, so a record is named by a 32-bit index
 * (`self`, 1-based) as well as by its address; closed records go on a free list
 * and are handed out again, and the chunks are freed with the state. Structures
 * that point at records (table slots, run links, heap entries) hold that
 * index: half the bytes of a pointer. A record names its integration
 * by a 16-bit index into the state's table of them (`integ`), whose entry
 * also holds the class of its auto_clear; an entry counts the records
 * naming it and is reused once none does. One open-addressing hash table
 * with linear probing holds every record. Fingerprints are
 * SHA-256 prefixes, and an alert id starts with the first 8 bytes of its
 * fingerprint (its route), so those 8 bytes are the hash of both: a
 * lookup by id probes from the same slot as one by fingerprint and
 * compares the id instead. Removal shifts the rest of the probe
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
 * An alert is in one of the two, so its heap position takes the place of
 * its backward run link (`in_heap` says which).
 * The first alert of a class is the smaller of the run's head and the
 * heap's top. There are as many classes as distinct auto_clear values (a
 * handful), so each event costs O(classes) on top of that.
 *
 * Closed alerts leave the store, but the last LC_CLOSED_RING closes are
 * remembered (id, fingerprint, time, reason) so an action on a recently
 * closed alert is told so instead of "unknown".
 */

static int64_t add_sat(int64_t a, int64_t b)
{
        if (b > 0 && a > INT64_MAX - b)
                return INT64_MAX;
        return a + b;
}

/* ---- hash tables ------------------------------------------------------- */

/* The hash of a fingerprint or an alert id: its route (SHA-256 bytes). */
static size_t thash(const unsigned char *key)
{
        uint64_t h;

        memcpy(&h, key, sizeof(h));
        return (size_t)h;
}

void ab_lc_alert_id_get(const struct lc_alert *al, unsigned char *out)
{
        memcpy(out, al->fp, LC_ROUTE_LEN);
        memcpy(out + LC_ROUTE_LEN, al->id_tail, sizeof(al->id_tail));
}

int ab_lc_alert_id_set(struct lc_alert *al, const unsigned char *id)
{
        if (memcmp(id, al->fp, LC_ROUTE_LEN))
                return -1;
        memcpy(al->id_tail, id + LC_ROUTE_LEN, sizeof(al->id_tail));
        return 0;
}

/* ---- the slab ---------------------------------------------------------- */

_Static_assert(sizeof(struct lc_alert) == 96, "the record is 96 bytes");

static struct lc_alert *slab_at(const struct lc_slab *sl, uint32_t self)
{
        size_t i = (size_t)self - 1;

        return &sl->chunk[i >> LC_SLAB_SHIFT][i & (LC_SLAB_CHUNK - 1)];
}

struct lc_alert *ab_lc_alert_new(struct lc_state *st)
{
        struct lc_slab *sl = &st->slab;
        struct lc_alert *al;
        uint32_t self;

        if (sl->free) {
                self     = sl->free;
                al       = slab_at(sl, self);
                sl->free = al->next;
        } else {
                if (sl->top == (size_t)UINT32_MAX)
                        return NULL;
                if (sl->top == sl->nchunk * LC_SLAB_CHUNK) {
                        if (sl->nchunk == sl->capchunk) {
                                size_t cap =
                                    sl->capchunk ? sl->capchunk * 2 : 16;
                                struct lc_alert **v =
                                    ab_realloc(sl->chunk, cap * sizeof(*v));

                                if (!v)
                                        return NULL;
                                sl->chunk    = v;
                                sl->capchunk = cap;
                        }
                        sl->chunk[sl->nchunk] =
                            ab_malloc(LC_SLAB_CHUNK * sizeof(struct lc_alert));
                        if (!sl->chunk[sl->nchunk])
                                return NULL;
                        sl->nchunk++;
                }
                self = (uint32_t)++sl->top;
                al   = slab_at(sl, self);
        }
        memset(al, 0, sizeof(*al));
        al->self = self;
        return al;
}

void ab_lc_alert_free(struct lc_state *st, struct lc_alert *al)
{
        uint32_t self;

        if (!al)
                return;
        self = al->self;
        if (al->integ) {
                struct lc_integ *e = &st->integ[al->integ - 1];

                if (!--e->refs)
                        e->integ = NULL;
        }
        ab_lc_blob_free(&st->arena, al);
        memset(al, 0, sizeof(*al));
        al->self      = self;
        al->next      = st->slab.free;
        st->slab.free = self;
}

static void slab_fini(struct lc_slab *sl)
{
        for (size_t i = 0; i < sl->nchunk; i++)
                ab_free(sl->chunk[i]);
        ab_free(sl->chunk);
        memset(sl, 0, sizeof(*sl));
}

/* ---- the table --------------------------------------------------------- */

/* The alert whose fingerprint (\p by_id false) or id is \p key. */
static struct lc_alert *table_find(const struct lc_state *st,
                                   const unsigned char *key, bool by_id)
{
        const struct lc_table *t = &st->table;
        size_t mask, i;

        if (!t->cap)
                return NULL;
        mask = t->cap - 1;
        for (i = thash(key) & mask; t->slot[i]; i = (i + 1) & mask) {
                struct lc_alert *al = slab_at(&st->slab, t->slot[i]);

                if (by_id ? !memcmp(al->fp, key, LC_ROUTE_LEN) &&
                                !memcmp(al->id_tail, key + LC_ROUTE_LEN,
                                        sizeof(al->id_tail))
                          : !memcmp(al->fp, key, LC_KEY_LEN))
                        return al;
        }
        return NULL;
}

struct lc_alert *ab_lc_find_fp(const struct lc_state *st,
                               const unsigned char *fp)
{
        return table_find(st, fp, false);
}

struct lc_alert *ab_lc_find_id(const struct lc_state *st,
                               const unsigned char *id)
{
        return table_find(st, id, true);
}

/* The home slot of slab record \p self. */
static size_t table_home(const struct lc_state *st, uint32_t self)
{
        return thash(slab_at(&st->slab, self)->fp) & (st->table.cap - 1);
}

static void table_place(struct lc_state *st, uint32_t self)
{
        struct lc_table *t = &st->table;
        size_t mask        = t->cap - 1;
        size_t i           = table_home(st, self);

        while (t->slot[i])
                i = (i + 1) & mask;
        t->slot[i] = self;
}

/* Make room for \p n entries at a load factor of at most 3/4. */
static ab_err_t table_reserve(struct lc_state *st, size_t n)
{
        struct lc_table *t = &st->table;
        uint32_t *old      = t->slot;
        size_t oldcap      = t->cap;
        size_t cap         = t->cap ? t->cap : 16;
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
                        table_place(st, old[i]);
        ab_free(old);
        return AB_OK;
}

/* The caller reserved room. */
static void table_insert(struct lc_state *st, const struct lc_alert *al)
{
        table_place(st, al->self);
        st->table.n++;
}

static void table_remove(struct lc_state *st, const struct lc_alert *al)
{
        struct lc_table *t = &st->table;
        size_t mask        = t->cap - 1;
        size_t i           = thash(al->fp) & mask;
        size_t j;

        while (t->slot[i] != al->self)
                i = (i + 1) & mask;
        t->slot[i] = 0;
        /* Shift back every later entry of the cluster whose probe path
         * crosses the hole, i.e. whose home is not in (i, j]. */
        for (j = (i + 1) & mask; t->slot[j]; j = (j + 1) & mask) {
                size_t h = table_home(st, t->slot[j]);
                int stay = i < j ? (h > i && h <= j) : (h > i || h <= j);

                if (stay)
                        continue;
                t->slot[i] = t->slot[j];
                t->slot[j] = 0;
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

size_t ab_lc_state_mem(const struct lc_state *st)
{
        size_t n = st->table.cap * sizeof(*st->table.slot) +
                   ab_lc_arena_mem(&st->arena);

        if (st->table.slot)
                n += LC_ALLOC_OVERHEAD;
        if (st->slab.chunk)
                n += st->slab.capchunk * sizeof(*st->slab.chunk) +
                     LC_ALLOC_OVERHEAD;
        return n + st->slab.nchunk * (LC_SLAB_CHUNK * sizeof(struct lc_alert) +
                                      LC_ALLOC_OVERHEAD);
}

/* ---- classes: the run and the heap --------------------------------------- */

/* The order of a class: last_ms, then touch. */
static int quieter(const struct lc_alert *a, const struct lc_alert *b)
{
        return a->last_ms < b->last_ms ||
               (a->last_ms == b->last_ms && a->touch < b->touch);
}

/* The record of slab index \p self, NULL for 0. */
static struct lc_alert *rec(const struct lc_state *st, uint32_t self)
{
        return self ? slab_at(&st->slab, self) : NULL;
}

static struct lc_alert *heap_at(const struct lc_state *st,
                                const struct lc_class *c, size_t i)
{
        return slab_at(&st->slab, c->heap[i]);
}

static void heap_set(struct lc_class *c, size_t i, struct lc_alert *al)
{
        c->heap[i]  = al->self;
        al->hpos    = (uint32_t)i;
        al->in_heap = 1;
}

static void heap_up(const struct lc_state *st, struct lc_class *c, size_t i)
{
        struct lc_alert *al = heap_at(st, c, i);

        while (i > 0 && quieter(al, heap_at(st, c, (i - 1) / 2))) {
                heap_set(c, i, heap_at(st, c, (i - 1) / 2));
                i = (i - 1) / 2;
        }
        heap_set(c, i, al);
}

static void heap_down(const struct lc_state *st, struct lc_class *c, size_t i)
{
        struct lc_alert *al = heap_at(st, c, i);

        for (;;) {
                size_t k = 2 * i + 1;

                if (k >= c->nheap)
                        break;
                if (k + 1 < c->nheap &&
                    quieter(heap_at(st, c, k + 1), heap_at(st, c, k)))
                        k++;
                if (!quieter(heap_at(st, c, k), al))
                        break;
                heap_set(c, i, heap_at(st, c, k));
                i = k;
        }
        heap_set(c, i, al);
}

/* @returns 0, or -1 when the heap cannot grow. */
static int heap_push(const struct lc_state *st, struct lc_class *c,
                     struct lc_alert *al)
{
        if (c->nheap == c->capheap) {
                size_t cap  = c->capheap ? c->capheap * 2 : 64;
                uint32_t *h = ab_realloc(c->heap, cap * sizeof(*h));

                if (!h || cap > UINT32_MAX - 1) {
                        if (h)
                                c->heap = h;
                        return -1;
                }
                c->heap    = h;
                c->capheap = cap;
        }
        c->heap[c->nheap] = al->self;
        heap_up(st, c, c->nheap++);
        return 0;
}

static void heap_remove(const struct lc_state *st, struct lc_class *c, size_t i)
{
        struct lc_alert *last = heap_at(st, c, --c->nheap);

        heap_at(st, c, i)->in_heap = 0;
        if (i == c->nheap)
                return;
        heap_set(c, i, last);
        heap_down(st, c, i);
        heap_up(st, c, last->hpos);
}

/* Insert into the run after the last alert not after it in the order:
 * O(1) when it belongs at the tail. */
static void run_insert(const struct lc_state *st, struct lc_class *c,
                       struct lc_alert *al)
{
        struct lc_alert *p = rec(st, c->tail);
        struct lc_alert *n;

        while (p && quieter(al, p))
                p = rec(st, p->prev);
        al->in_heap = 0;
        al->prev    = p ? p->self : 0;
        al->next    = p ? p->next : c->head;
        n           = rec(st, al->next);
        if (n)
                n->prev = al->self;
        else
                c->tail = al->self;
        if (p)
                p->next = al->self;
        else
                c->head = al->self;
}

/* Place \p al (last_ms and touch set) in class \p c. When the heap cannot
 * grow, the run takes it anyway, only slower. */
static void class_insert(const struct lc_state *st, struct lc_class *c,
                         struct lc_alert *al)
{
        if (!c->tail || !quieter(al, rec(st, c->tail)) || heap_push(st, c, al))
                run_insert(st, c, al);
}

/* Give \p al (last_ms set) its place in class \p c as the newest touch. */
void ab_lc_class_place(struct lc_state *st, struct lc_class *c,
                       struct lc_alert *al)
{
        al->touch = st->touch++;
        class_insert(st, c, al);
}

void ab_lc_class_unplace(const struct lc_state *st, struct lc_class *c,
                         struct lc_alert *al)
{
        struct lc_alert *p, *n;

        if (al->in_heap) {
                heap_remove(st, c, al->hpos);
                return;
        }
        p = rec(st, al->prev);
        n = rec(st, al->next);
        if (p)
                p->next = al->next;
        else
                c->head = al->next;
        if (n)
                n->prev = al->prev;
        else
                c->tail = al->prev;
        al->prev = al->next = 0;
}

/* The quietest alert of \p c, or NULL. */
static struct lc_alert *class_first(const struct lc_state *st,
                                    const struct lc_class *c)
{
        struct lc_alert *top  = c->nheap ? heap_at(st, c, 0) : NULL;
        struct lc_alert *head = rec(st, c->head);

        if (!head || (top && quieter(top, head)))
                return top;
        return head;
}

static int cmp_quiet(const void *a, const void *b)
{
        const struct lc_alert *x = *(const struct lc_alert *const *)a;
        const struct lc_alert *y = *(const struct lc_alert *const *)b;

        return quieter(x, y) ? -1 : quieter(y, x) ? 1 : 0;
}

/* Every alert of \p c, quietest first, in a new array (free with ab_free)
 * of \p *n; *out is NULL when the class is empty. */
ab_err_t ab_lc_class_sorted(const struct lc_state *st, const struct lc_class *c,
                            struct lc_alert ***out, size_t *n)
{
        const struct lc_alert *al;
        struct lc_alert **v;
        size_t k = 0;

        *out = NULL;
        *n   = c->nheap;
        for (al = rec(st, c->head); al; al = rec(st, al->next))
                (*n)++;
        if (!*n)
                return AB_OK;
        v = ab_malloc(*n * sizeof(*v));
        if (!v)
                return AB_ERR_NOMEM;
        for (al = rec(st, c->head); al; al = rec(st, al->next))
                v[k++] = (struct lc_alert *)al;
        if (c->nheap) {
                for (size_t i = 0; i < c->nheap; i++)
                        v[k++] = heap_at(st, c, i);
                qsort(v, *n, sizeof(*v), cmp_quiet);
        }
        *out = v;
        return AB_OK;
}

struct lc_alert *ab_lc_state_next(const struct lc_state *st, size_t *cursor)
{
        while (*cursor < st->slab.top) {
                struct lc_alert *al = slab_at(&st->slab, (uint32_t)++ * cursor);

                if (al->blob)
                        return al;
        }
        return NULL;
}

/* Index of the first class of \p st whose period is not below \p ms. */
static size_t class_pos(const struct lc_state *st, int64_t ms)
{
        size_t i;

        for (i = 0; i < st->ncls; i++)
                if (st->cls[i]->auto_clear_ms >= ms)
                        break;
        return i;
}

static int64_t class_period(const struct ab_integration *integ)
{
        int64_t ms = ab_integration_auto_clear_ms(integ);

        return ms < 0 ? 0 : ms;
}

struct lc_class *ab_lc_class_of(const struct lc_state *st,
                                const struct lc_alert *al)
{
        return st->integ[al->integ - 1].cls;
}

/* The class of period \p ms, created when new; NULL when out of memory. */
static struct lc_class *class_get(struct lc_state *st, int64_t ms)
{
        struct lc_class **grown, *c;
        size_t i = class_pos(st, ms);

        if (i < st->ncls && st->cls[i]->auto_clear_ms == ms)
                return st->cls[i];
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
        c->auto_clear_ms = ms;
        st->cls[i]       = c;
        st->ncls++;
        return c;
}

/* ---- integrations ------------------------------------------------------ */

const struct ab_integration *ab_lc_alert_integ(const struct lc_state *st,
                                               const struct lc_alert *al)
{
        return al->integ ? st->integ[al->integ - 1].integ : NULL;
}

/* The entry of \p integ in \p st, entered when new (in a free entry if
 * there is one), or NULL with \p *rc set. */
static struct lc_integ *integ_enter(struct lc_state *st,
                                    const struct ab_integration *integ,
                                    ab_err_t *rc)
{
        struct lc_integ *e = NULL;
        struct lc_class *cls;
        size_t i;

        for (i = 0; i < st->ninteg; i++) {
                if (st->integ[i].integ == integ)
                        return &st->integ[i];
                if (!e && !st->integ[i].integ)
                        e = &st->integ[i];
        }
        *rc = AB_ERR_NOMEM;
        cls = class_get(st, class_period(integ));
        if (!cls)
                return NULL;
        if (!e && st->ninteg == LC_INTEG_MAX) {
                *rc = AB_ERR_TOO_LARGE;
                return NULL;
        }
        if (!e && st->ninteg == st->capinteg) {
                size_t cap = st->capinteg ? st->capinteg * 2 : 4;
                struct lc_integ *v;

                if (cap > LC_INTEG_MAX)
                        cap = LC_INTEG_MAX;
                v = ab_realloc(st->integ, cap * sizeof(*v));
                if (!v)
                        return NULL;
                st->integ    = v;
                st->capinteg = cap;
        }
        if (!e)
                e = &st->integ[st->ninteg++];
        e->integ = integ;
        e->cls   = cls;
        e->refs  = 0;
        return e;
}

ab_err_t ab_lc_alert_integ_set(struct lc_state *st, struct lc_alert *al,
                               const struct ab_integration *integ)
{
        ab_err_t rc        = AB_OK;
        struct lc_integ *e = integ_enter(st, integ, &rc);

        if (!e)
                return rc;
        e->refs++;
        al->integ = (uint16_t)(e - st->integ + 1);
        return AB_OK;
}

void ab_lc_state_init(struct lc_state *st)
{
        memset(st, 0, sizeof(*st));
}

void ab_lc_state_fini(struct lc_state *st)
{
        size_t i;

        struct lc_alert *al;
        size_t at = 0;

        while ((al = ab_lc_state_next(st, &at)))
                ab_lc_blob_free(&st->arena, al);
        for (i = 0; i < st->ncls; i++) {
                ab_free(st->cls[i]->heap);
                ab_free(st->cls[i]);
        }
        ab_free(st->cls);
        ab_free(st->integ);
        ab_free(st->closed);
        table_fini(&st->table);
        slab_fini(&st->slab);
        ab_lc_arena_fini(&st->arena);
        ab_lc_state_init(st);
}

/* Reserve room for \p al in \p st's table.
 * @returns its class, or NULL when out of memory. */
static struct lc_class *store_reserve(struct lc_state *st,
                                      const struct lc_alert *al)
{
        if (table_reserve(st, st->open + 1))
                return NULL;
        return ab_lc_class_of(st, al);
}

ab_err_t ab_lc_store_add(struct lc_state *st, struct lc_alert *al)
{
        struct lc_class *cls = store_reserve(st, al);

        if (!cls)
                return AB_ERR_NOMEM;
        table_insert(st, al);
        ab_lc_class_place(st, cls, al);
        st->open++;
        return AB_OK;
}

ab_err_t ab_lc_store_load(struct lc_state *st, struct lc_alert *al)
{
        struct lc_class *cls = store_reserve(st, al);

        if (!cls)
                return AB_ERR_NOMEM;
        table_insert(st, al);
        class_insert(st, cls, al);
        if (al->touch >= st->touch)
                st->touch = al->touch + 1;
        st->open++;
        return AB_OK;
}

void ab_lc_store_drop(struct lc_state *st, struct lc_alert *al)
{
        ab_lc_class_unplace(st, ab_lc_class_of(st, al), al);
        table_remove(st, al);
        st->open--;
        ab_lc_alert_free(st, al);
}
/* The next alert whose auto-clear deadline is <= now_ms; ties go to the
 * class with the shorter period, then list order. */
struct lc_alert *ab_lc_store_next_due(const struct lc_state *st, int64_t now_ms,
                                      int64_t *deadline)
{
        struct lc_alert *best = NULL;
        size_t i;

        for (i = 0; i < st->ncls; i++) {
                const struct lc_class *c = st->cls[i];
                struct lc_alert *first   = class_first(st, c);
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

/* Ties go to the class with the shorter auto_clear, then list order. */
struct lc_alert *ab_lc_store_quietest(const struct lc_state *st)
{
        struct lc_alert *best = NULL;
        size_t i;

        for (i = 0; i < st->ncls; i++) {
                struct lc_alert *h = class_first(st, st->cls[i]);

                if (h && (!best || h->last_ms < best->last_ms))
                        best = h;
        }
        return best;
}

/* ---- closed ring ------------------------------------------------------- */

void ab_lc_closed_remember(struct lc_state *st, const struct lc_alert *al,
                           int64_t end_ms, enum lc_why why)
{
        struct lc_closed *c;

        if (!st->closed) {
                st->closed = ab_calloc(LC_CLOSED_RING, sizeof(*st->closed));
                if (!st->closed)
                        return; /* only costs a less precise rejection */
        }
        c = &st->closed[st->closed_next];
        ab_lc_alert_id_get(al, c->id);
        memcpy(c->fp, al->fp, LC_KEY_LEN);
        c->end_ms       = end_ms;
        c->why          = (uint8_t)why;
        st->closed_next = (st->closed_next + 1) % LC_CLOSED_RING;
        if (st->nclosed < LC_CLOSED_RING)
                st->nclosed++;
}

/* The most recent remembered close of \p key (an id, or a fingerprint when
 * \p by_fp), or NULL. */
const struct lc_closed *ab_lc_closed_find(const struct lc_state *st,
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
