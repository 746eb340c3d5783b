/* arena.c - the allocator of a store's alert blobs: size classes carved
 * from large pages, no header per block. */
#include "lifecycle/arena.h"

#include <sanitizer/asan_interface.h>
#include <string.h>

#include "core/mem.h"

/*
 * HOW IT WORKS
 *
 * Every open alert owns one blob, a few hundred bytes whose size its
 * record knows (blob.c). The C allocator would add a header of about 16
 * bytes to each and keep its own size; this arena keeps none, because the
 * caller passes the block's size back when it frees it.
 *
 * Sizes are rounded up to LC_ARENA_GRAIN bytes, which makes
 * LC_ARENA_LARGEST / LC_ARENA_GRAIN size classes. Blocks given back go on
 * the free list of their class, chained through their first bytes, and a
 * bitmap marks the classes whose list is not empty. A request takes, in
 * this order:
 *   - a free block of its class;
 *   - else the smallest free block of a larger class (one bitmap scan):
 *     cut in two when the rest would be LC_ARENA_SPLIT bytes or more, the
 *     rest going on the free list of its size, else taken whole (the caller
 *     keeps the block's size);
 *   - else the next bytes of the newest page (LC_ARENA_PAGE bytes, one
 *     allocation). When the page's rest is too short, the rest goes on a
 *     free list and a new page starts.
 * Blocks above LC_ARENA_LARGEST (rare: an alert with kilobytes of labels)
 * come from the C allocator one by one.
 *
 * There is no coalescing: pages are only freed with the arena, that is
 * with the store (a restore builds a new store from a snapshot, packed).
 * Taking larger blocks, cut or whole, is what keeps fragmentation in
 * check when alerts of many sizes come and go: the free space of one
 * class serves the classes below it instead of waiting for its own size.
 * With blocks of 1 to 2,500 bytes replaced at random 20 times over
 * (check_lifecycle_arena.c), the arena holds 58 bytes per block beyond
 * their sizes; with exact classes only, 389.
 * ab_lifecycle_get_mem() counts all of it, free blocks included.
 *
 * Under AddressSanitizer the bytes of a page not handed out and the free
 * blocks are poisoned (ASAN_POISON_MEMORY_REGION, nothing otherwise), so
 * a blob overrun into its neighbour or a read of a blob given back is
 * reported as it would be with malloc.
 */

/* The bytes a block for \p n bytes takes at least. */
static size_t block_size(size_t n)
{
        if (n > LC_ARENA_LARGEST)
                return n;
        if (n < LC_ARENA_MIN)
                return LC_ARENA_MIN;
        return (n + LC_ARENA_GRAIN - 1) & ~(size_t)(LC_ARENA_GRAIN - 1);
}

/* Put block \p p of \p b bytes (a class size) on its class's free list. */
static void push(struct lc_arena *a, void *p, size_t b)
{
        size_t c = b / LC_ARENA_GRAIN - 1;

        ASAN_UNPOISON_MEMORY_REGION(p, b);
        memcpy(p, &a->free[c], sizeof(a->free[c]));
        ASAN_POISON_MEMORY_REGION(p, b);
        a->free[c] = p;
        a->held[c / 64] |= (uint64_t)1 << (c % 64);
}

static void *pop(struct lc_arena *a, size_t c)
{
        void *p = a->free[c];

        ASAN_UNPOISON_MEMORY_REGION(p, (c + 1) * LC_ARENA_GRAIN);
        memcpy(&a->free[c], p, sizeof(a->free[c]));
        if (!a->free[c])
                a->held[c / 64] &= ~((uint64_t)1 << (c % 64));
        return p;
}

/* The smallest class from \p c up with free blocks, or LC_ARENA_CLASSES. */
static size_t first_held(const struct lc_arena *a, size_t c)
{
        size_t w       = c / 64;
        uint64_t links = a->held[w] & (~(uint64_t)0 << (c % 64));

        while (!links) {
                if (++w == LC_ARENA_CLASSES / 64)
                        return LC_ARENA_CLASSES;
                links = a->held[w];
        }
        return w * 64 + (size_t)__builtin_ctzll(links);
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
        ASAN_POISON_MEMORY_REGION(pg, LC_ARENA_PAGE);
        if (a->left >= LC_ARENA_MIN)
                push(a, a->top, a->left);
        a->page[a->npage++] = pg;
        a->top              = pg;
        a->left             = LC_ARENA_PAGE;
        return 0;
}

void *ab_lc_arena_alloc(struct lc_arena *a, size_t n, size_t *size)
{
        size_t b = block_size(n), c;
        unsigned char *p;

        if (b > LC_ARENA_LARGEST) {
                p = ab_malloc(b);
                if (p)
                        a->large += b + LC_ALLOC_OVERHEAD;
                *size = b;
                return p;
        }
        c = first_held(a, b / LC_ARENA_GRAIN - 1);
        if (c < LC_ARENA_CLASSES) {
                size_t have = (c + 1) * LC_ARENA_GRAIN;

                p = pop(a, c);
                if (have - b >= LC_ARENA_SPLIT) {
                        push(a, p + b, have - b);
                        have = b;
                }
                *size = have;
                return p;
        }
        if (a->left < b && page_add(a))
                return NULL;
        p = a->top;
        a->top += b;
        a->left -= b;
        *size = b;
        ASAN_UNPOISON_MEMORY_REGION(p, b);
        return p;
}

void ab_lc_arena_free(struct lc_arena *a, void *p, size_t size)
{
        if (!p)
                return;
        if (size > LC_ARENA_LARGEST) {
                ab_free(p);
                a->large -= size + LC_ALLOC_OVERHEAD;
                return;
        }
        push(a, p, size);
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
        for (size_t i = 0; i < a->npage; i++) {
                ASAN_UNPOISON_MEMORY_REGION(a->page[i], LC_ARENA_PAGE);
                ab_free(a->page[i]);
        }
        ab_free(a->page);
        memset(a, 0, sizeof(*a));
}
