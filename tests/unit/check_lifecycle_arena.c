/* check_lifecycle_arena.c - lifecycle tests: the blob arena on its own:
 * blocks that never overlap, their sizes, and its memory under churn. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle/arena.h"
#include "tests/unit/check_lifecycle.h"

#define SLOTS  20000
#define ROUNDS 20

struct slot {
        unsigned char *p;
        size_t n, size;
        unsigned char tag;
};

static uint64_t rnd(uint64_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

/* A block for \p n bytes into \p sl, filled with \p tag. */
static void take(struct lc_arena *a, struct slot *sl, size_t n,
                 unsigned char tag)
{
        sl->p = ab_lc_arena_alloc(a, n, &sl->size);
        ck_assert_ptr_nonnull(sl->p);
        ck_assert_uint_ge(sl->size, n);
        if (n <= LC_ARENA_LARGEST)
                ck_assert_uint_lt(sl->size - n,
                                  LC_ARENA_SPLIT + LC_ARENA_GRAIN);
        else
                ck_assert_uint_eq(sl->size, n);
        sl->n   = n;
        sl->tag = tag;
        memset(sl->p, tag, sl->size);
}

/* Every byte of the block of \p sl still holds its tag. */
static void intact(const struct slot *sl)
{
        size_t i = 0;

        while (i < sl->size && sl->p[i] == sl->tag)
                i++;
        ck_assert_msg(i == sl->size, "block of %zu bytes overwritten at %zu",
                      sl->size, i);
}

/* Blocks replaced at random, sizes 1 to 2,500 bytes (some above the
 * largest class): none overlaps another, and the arena holds at most 80
 * bytes per block beyond what they asked for (58 when written; exact
 * classes without the fit of a larger block held 389). */
START_TEST(test_arena_churn)
{
        struct slot *sl = calloc(SLOTS, sizeof(*sl));
        struct lc_arena a;
        uint64_t seed = 88172645463325252ull;
        size_t live   = 0, i, r;

        ck_assert_ptr_nonnull(sl);
        memset(&a, 0, sizeof(a));
        for (i = 0; i < SLOTS; i++) {
                take(&a, &sl[i], 1 + rnd(&seed) % 2500, (unsigned char)i);
                live += sl[i].n;
        }
        for (r = 0; r < (size_t)SLOTS * ROUNDS; r++) {
                struct slot *s = &sl[rnd(&seed) % SLOTS];

                intact(s);
                live -= s->n;
                ab_lc_arena_free(&a, s->p, s->size);
                take(&a, s, 1 + rnd(&seed) % 2500, (unsigned char)r);
                live += s->n;
        }
        for (i = 0; i < SLOTS; i++)
                intact(&sl[i]);
        ck_assert_msg(ab_lc_arena_mem(&a) - live <= 80 * SLOTS,
                      "%zu bytes per block beyond their sizes",
                      (ab_lc_arena_mem(&a) - live) / SLOTS);
        for (i = 0; i < SLOTS; i++)
                ab_lc_arena_free(&a, sl[i].p, sl[i].size);
        ck_assert_uint_eq(a.large, 0);
        ab_lc_arena_fini(&a);
        ck_assert_uint_eq(ab_lc_arena_mem(&a), 0);
        free(sl);
}
END_TEST

/* A free block much larger than the request is cut, the rest reused; a
 * little larger, it is taken whole. */
START_TEST(test_arena_fit)
{
        struct lc_arena a;
        size_t big, small, rest, whole;
        unsigned char *p, *q, *t;

        memset(&a, 0, sizeof(a));
        p = ab_lc_arena_alloc(&a, 1000, &big);
        ck_assert_uint_eq(big, 1000);
        ab_lc_arena_free(&a, p, big);
        q = ab_lc_arena_alloc(&a, 300, &small);
        ck_assert_ptr_eq(q, p);
        ck_assert_uint_eq(small, 300);
        t = ab_lc_arena_alloc(&a, 650, &rest);
        ck_assert_ptr_eq(t, p + 300);
        ck_assert_uint_eq(rest, 700);
        ab_lc_arena_free(&a, t, rest);
        t = ab_lc_arena_alloc(&a, 5, &whole);
        ck_assert_ptr_eq(t, p + 300);
        ck_assert_uint_eq(whole, 8);
        t = ab_lc_arena_alloc(&a, 600, &whole);
        ck_assert_ptr_eq(t, p + 308);
        ck_assert_uint_eq(whole, 692);
        ck_assert_uint_eq(ab_lc_arena_mem(&a),
                          LC_ARENA_PAGE + 2 * LC_ALLOC_OVERHEAD +
                              16 * sizeof(unsigned char *));
        ab_lc_arena_fini(&a);
}
END_TEST

TCase *lifecycle_arena_tcase(void)
{
        TCase *tc = tcase_create("arena");

        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_arena_churn);
        tcase_add_test(tc, test_arena_fit);
        return tc;
}
