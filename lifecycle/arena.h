/* arena.h - the allocator of a store's alert blobs: blocks in 8-byte size
 * classes carved from large pages, with no header per block (internal to
 * the lifecycle module). */
#ifndef AB_LC_ARENA_H
#define AB_LC_ARENA_H

#include <stddef.h>

#define LC_ALLOC_OVERHEAD 16 /* assumed allocator bytes per allocation */

#define LC_ARENA_GRAIN   8    /* block sizes are multiples of it */
#define LC_ARENA_LARGEST 2048 /* larger blocks are allocated one by one */
#define LC_ARENA_CLASSES (LC_ARENA_LARGEST / LC_ARENA_GRAIN)
#define LC_ARENA_PAGE    ((size_t)64 * 1024)

struct lc_arena {
        void *free[LC_ARENA_CLASSES]; /* per class, the blocks given back,
                                         chained through their first bytes */
        unsigned char **page;         /* owned pages of LC_ARENA_PAGE */
        size_t npage, cappage;
        unsigned char *top; /* the newest page's bytes not handed out yet */
        size_t left;
        size_t large; /* bytes of the blocks above LC_ARENA_LARGEST, with
                         their allocator's bytes */
};

/** The bytes a block for \p n bytes takes: \p n rounded up to
 * LC_ARENA_GRAIN (at least one grain), or \p n above LC_ARENA_LARGEST.
 * Sizes with the same block size can use the same block. */
size_t ab_lc_arena_block(size_t n);

/** A block for \p n bytes from \p a (an arena zeroed or finished is
 * empty), or NULL when out of memory. */
void *ab_lc_arena_alloc(struct lc_arena *a, size_t n);

/** Give back \p p, a block of \p a allocated for \p n bytes (or any size
 * with the same block size); NULL-safe. */
void ab_lc_arena_free(struct lc_arena *a, void *p, size_t n);

/** Bytes \p a holds: its pages, its large blocks and its page array, with
 * the allocator's bytes of each (for ab_lifecycle_get_mem). */
size_t ab_lc_arena_mem(const struct lc_arena *a);

/** Free the pages of \p a and empty it. Its large blocks must have been
 * given back. */
void ab_lc_arena_fini(struct lc_arena *a);

#endif
