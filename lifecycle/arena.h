/* arena.h - the allocator of a store's alert blobs: blocks in 4-byte size
 * classes carved from large pages, with no header per block (internal to
 * the lifecycle module). */
#ifndef AB_LC_ARENA_H
#define AB_LC_ARENA_H

#include <stddef.h>
#include <stdint.h>

#define LC_ALLOC_OVERHEAD 16 /* assumed allocator bytes per allocation */

#define LC_ARENA_GRAIN   4    /* block sizes are multiples of it */
#define LC_ARENA_MIN     8    /* the smallest block: a free one holds a link */
#define LC_ARENA_LARGEST 2048 /* larger blocks are allocated one by one */
#define LC_ARENA_CLASSES (LC_ARENA_LARGEST / LC_ARENA_GRAIN)
#define LC_ARENA_SPLIT                                                         \
        128 /* a larger free block is cut when the rest                        \
               would be at least this */
#define LC_ARENA_PAGE ((size_t)64 * 1024)

struct lc_arena {
        void *free[LC_ARENA_CLASSES]; /* per class, the blocks given back,
                                         chained through their first bytes */
        uint64_t held[LC_ARENA_CLASSES / 64]; /* bit c: free[c] is not empty */
        unsigned char **page;                 /* owned pages of LC_ARENA_PAGE */
        size_t npage, cappage;
        unsigned char *top; /* the newest page's bytes not handed out yet */
        size_t left;
        size_t large; /* bytes of the blocks above LC_ARENA_LARGEST, with
                         their allocator's bytes */
};

/**
 * A block of at least \p n bytes from \p a (an arena zeroed or finished is
 * empty), its size in \p *size: \p n rounded up to LC_ARENA_GRAIN (at
 * least LC_ARENA_MIN), or up to LC_ARENA_SPLIT + LC_ARENA_GRAIN - 1 bytes
 * more when it is a free block taken whole. @returns NULL when out of
 * memory.
 */
void *ab_lc_arena_alloc(struct lc_arena *a, size_t n, size_t *size);

/** Give back \p p, a block of \p a of \p size bytes (as allocated);
 * NULL-safe. */
void ab_lc_arena_free(struct lc_arena *a, void *p, size_t size);

/** Bytes \p a holds: its pages, its large blocks and its page array, with
 * the allocator's bytes of each (for ab_lifecycle_get_mem). */
size_t ab_lc_arena_mem(const struct lc_arena *a);

/** Free the pages of \p a and empty it. Its large blocks must have been
 * given back. */
void ab_lc_arena_fini(struct lc_arena *a);

#endif
