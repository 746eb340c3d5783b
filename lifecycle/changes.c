/* changes.c - change capture: the set of fingerprints whose state changed
 * since the last drain, and the drain that reports them. */
#include <string.h>

#include "core/mem.h"
#include "lifecycle/lifecycle_int.h"

/*
 * HOW IT WORKS
 *
 * The set is a dense array of fingerprints in the order they first changed
 * plus an open-addressing index over it (linear probing, at most half
 * full). A change looks its fingerprint up in the index and appends it
 * only if it is new, so an alert that changes a thousand times between two
 * drains is reported once, with its state at the drain (the changelog only
 * needs the latest). The drain walks the array, O(changed).
 *
 * Index slots carry the generation they were written in; a slot of an
 * older generation is free. Emptying the set after a drain is then one
 * increment, not a sweep over the index. Both arrays keep their size, so
 * once they have grown to the largest number of keys changed between two
 * drains, a change allocates nothing.
 *
 * A change that cannot be remembered (out of memory) sets `lost`, which
 * the next drain reports: the caller's changelog would be incomplete.
 */

struct lc_slot {
        uint32_t idx; /* into keys */
        uint32_t gen; /* live when equal to the set's gen */
};

struct lc_changes {
        unsigned char (*keys)[LC_KEY_LEN]; /* owned */
        size_t n, cap;
        struct lc_slot *slot; /* owned; nslot entries, a power of two */
        size_t nslot;
        uint32_t gen;
        bool lost;
};

struct lc_changes *ab_lc_changes_new(void)
{
        struct lc_changes *c = ab_calloc(1, sizeof(*c));

        if (c)
                c->gen = 1;
        return c;
}

void ab_lc_changes_destroy(struct lc_changes *c)
{
        if (!c)
                return;
        ab_free(c->keys);
        ab_free(c->slot);
        ab_free(c);
}

size_t ab_lc_changes_mem(const struct lc_changes *c)
{
        if (!c)
                return 0;
        return sizeof(*c) + c->cap * sizeof(*c->keys) +
               c->nslot * sizeof(*c->slot);
}

static size_t key_hash(const unsigned char *key)
{
        uint64_t h;

        memcpy(&h, key, sizeof(h));
        return (size_t)h;
}

/* The slot of \p key, or the free slot where it belongs. */
static struct lc_slot *slot_of(const struct lc_changes *c,
                               const unsigned char *key)
{
        size_t mask = c->nslot - 1;
        size_t i    = key_hash(key) & mask;

        while (c->slot[i].gen == c->gen &&
               memcmp(c->keys[c->slot[i].idx], key, LC_KEY_LEN))
                i = (i + 1) & mask;
        return &c->slot[i];
}

/* Start a new generation: every slot is free. */
static void next_gen(struct lc_changes *c)
{
        if (++c->gen == 0) {
                memset(c->slot, 0, c->nslot * sizeof(*c->slot));
                c->gen = 1;
        }
}

/* Index the first \p n keys again in a fresh generation. */
static void reindex(struct lc_changes *c, size_t n)
{
        size_t i;

        next_gen(c);
        for (i = 0; i < n; i++) {
                struct lc_slot *s = slot_of(c, c->keys[i]);

                s->idx = (uint32_t)i;
                s->gen = c->gen;
        }
}

/* Room for one more key. @returns 0, or -1 when out of memory. */
static int reserve(struct lc_changes *c)
{
        if (c->n == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 64;
                void *k    = cap > UINT32_MAX
                                 ? NULL
                                 : ab_realloc(c->keys, cap * sizeof(*c->keys));

                if (!k)
                        return -1;
                c->keys = k;
                c->cap  = cap;
        }
        if (2 * (c->n + 1) > c->nslot) {
                size_t nslot = c->nslot ? c->nslot * 2 : 128;
                struct lc_slot *s =
                    ab_calloc(nslot, sizeof(*s)); /* gen 0: free */

                if (!s)
                        return -1;
                ab_free(c->slot);
                c->slot  = s;
                c->nslot = nslot;
                c->gen   = 0;
                reindex(c, c->n);
        }
        return 0;
}

void ab_lc_changed(struct ab_lifecycle *lc, const unsigned char *fp)
{
        struct lc_changes *c = lc->chg;
        struct lc_slot *s;

        if (!c)
                return;
        if (c->nslot) {
                s = slot_of(c, fp);
                if (s->gen == c->gen)
                        return;
        }
        if (reserve(c)) {
                c->lost = true;
                return;
        }
        s = slot_of(c, fp);
        memcpy(c->keys[c->n], fp, LC_KEY_LEN);
        s->idx = (uint32_t)c->n++;
        s->gen = c->gen;
}

void ab_lc_changes_clear(struct ab_lifecycle *lc)
{
        if (!lc->chg)
                return;
        lc->chg->n    = 0;
        lc->chg->lost = false;
        if (lc->chg->nslot)
                next_gen(lc->chg);
}

size_t ab_lifecycle_pending_changes(const struct ab_lifecycle *lc)
{
        return lc && lc->chg ? lc->chg->n : 0;
}

ab_err_t ab_lifecycle_drain_changes(struct ab_lifecycle *lc,
                                    ab_lifecycle_change_cb cb, void *opaque)
{
        struct lc_changes *c;
        ab_err_t rc = AB_OK;
        size_t i;

        if (!lc || !cb)
                return AB_ERR_INTERNAL;
        c = lc->chg;
        if (!c)
                return AB_OK;
        if (c->lost)
                return AB_ERR_NOMEM;
        for (i = 0; i < c->n && !rc; i++) {
                const unsigned char *fp = c->keys[i];

                if (!ab_lc_find_fp(&lc->st, fp)) {
                        rc = cb(opaque, fp, NULL, 0);
                        continue;
                }
                ab_buf_reset(&lc->entry);
                rc = ab_lifecycle_entry_encode(lc, fp, &lc->entry);
                if (!rc)
                        rc = cb(opaque, fp, lc->entry.data, lc->entry.len);
        }
        if (!rc) {
                ab_lc_changes_clear(lc);
                return AB_OK;
        }
        /* Key i - 1 failed: it and the ones after it stay pending. */
        i--;
        memmove(c->keys, c->keys + i, (c->n - i) * sizeof(*c->keys));
        c->n -= i;
        reindex(c, c->n);
        return rc;
}
