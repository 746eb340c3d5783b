/* arena.c - the allocator of a store's alert blobs: size classes carved
 * from large pages, no header per block. */
#include "lifecycle/arena.h"

#include <string.h>

#include "core/mem.h"

/*
 * HOW IT WORKS
 *
 * Every open alert owns one blob, a few hundred bytes whose size its
 * record knows (blob.c). The C allocator would add a header of about 16
 * bytes to each and keep its own size; this arena keeps none, because the
 * caller passes the size back when it frees a block.
 *
 * Sizes are rounded up to LC_ARENA_GRAIN bytes, which makes
 * LC_ARENA_LARGEST / LC_ARENA_GRAIN size classes. A class keeps the blocks
 * given back in a free list chained through their first bytes, and hands
 * them out again first, newest first. Otherwise blocks are cut from the
 * newest page (LC_ARENA_PAGE bytes, one allocation) in address order; when
 * the rest of that page is too short for a block, the rest goes on the
 * free list of its own size and a new page is allocated. Blocks above
 * LC_ARENA_LARGEST (rare: an alert with kilobytes of labels) are allocated
 * one by one from the C allocator.
 *
 * Pages are only freed with the arena, that is with the store (a restore
 * builds a new store from a snapshot, packed). A free block serves only
 * its own class, so the arena holds, per class, the most blocks its alerts
 * needed at one time: under a steady mix of alert sizes that is the peak
 * of open alerts. When sizes shift (an integration whose alerts grew), the
 * blocks of the classes left behind wait for alerts of their size.
 * ab_lifecycle_get_mem() counts all of it, free blocks included.
 */

size_t ab_lc_arena_block(size_t n)
{
        if (n > LC_ARENA_LARGEST)
                return n;
        if (!n)
                return LC_ARENA_GRAIN;
        return (n + LC_ARENA_GRAIN - 1) & ~(size_t)(LC_ARENA_GRAIN - 1);
}

/* Put block \p p of \p b bytes (a class size) on its class's free list. */
static void push(struct lc_arena *a, void *p, size_t b)
{
        void **head = &a->free[b / LC_ARENA_GRAIN - 1];

        memcpy(p, head, sizeof(*head));
        *head = p;
}

/* Start a new page, the rest of the current one on a free list.
 * @returns 0, or -1 when out of memory (nothing changed). */
static int page_add(struct lc_arena *a)
{
        unsigned char *pg;

        if (a->npage == a->cappage) {
                size_t cap        = a->cappage ? a->cappage * 2 : 16;
                unsigned char **v = ab_realloc(a->page, cap * sizeof(*v));

                if (!v)
                        return -1;
                a->page    = v;
                a->cappage = cap;
        }
        pg = ab_malloc(LC_ARENA_PAGE);
        if (!pg)
                return -1;
        if (a->left)
                push(a, a->top, a->left);
        a->page[a->npage++] = pg;
        a->top              = pg;
        a->left             = LC_ARENA_PAGE;
        return 0;
}

void *ab_lc_arena_alloc(struct lc_arena *a, size_t n)
{
        size_t b = ab_lc_arena_block(n);
        void **head;
        void *p;

        if (b > LC_ARENA_LARGEST) {
                p = ab_malloc(b);
                if (p)
                        a->large += b + LC_ALLOC_OVERHEAD;
                return p;
        }
        head = &a->free[b / LC_ARENA_GRAIN - 1];
        if (*head) {
                p = *head;
                memcpy(head, p, sizeof(*head));
                return p;
        }
        if (a->left < b && page_add(a))
                return NULL;
        p = a->top;
        a->top += b;
        a->left -= b;
        return p;
}

void ab_lc_arena_free(struct lc_arena *a, void *p, size_t n)
{
        size_t b = ab_lc_arena_block(n);

        if (!p)
                return;
        if (b > LC_ARENA_LARGEST) {
                ab_free(p);
                a->large -= b + LC_ALLOC_OVERHEAD;
                return;
        }
        push(a, p, b);
}

size_t ab_lc_arena_mem(const struct lc_arena *a)
{
        size_t n = a->large + a->npage * (LC_ARENA_PAGE + LC_ALLOC_OVERHEAD);

        if (a->page)
                n += a->cappage * sizeof(*a->page) + LC_ALLOC_OVERHEAD;
        return n;
}

void ab_lc_arena_fini(struct lc_arena *a)
{
        for (size_t i = 0; i < a->npage; i++)
                ab_free(a->page[i]);
        ab_free(a->page);
        memset(a, 0, sizeof(*a));
}
