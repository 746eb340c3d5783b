/* check_mem.c - unit tests for the allocation wrappers' counter and fault
 * hook. */
#include <check.h>
#include <stdlib.h>

#include "core/mem.h"

START_TEST(test_fails_the_nth_allocation_once)
{
        uint64_t before = ab_mem_allocations();
        void *a, *b, *c, *d;

        ab_mem_fail_after(3);
        ck_assert(ab_mem_fail_pending());
        a = ab_malloc(8);
        b = ab_calloc(2, 8);
        ck_assert_ptr_nonnull(a);
        ck_assert_ptr_nonnull(b);
        ck_assert(ab_mem_fail_pending());
        c = ab_realloc(a, 64); /* the third: fails, a stays valid */
        ck_assert_ptr_null(c);
        ck_assert(!ab_mem_fail_pending());
        d = ab_strdup("once only");
        ck_assert_ptr_nonnull(d);
        ck_assert_uint_eq(ab_mem_allocations() - before, 4);
        ab_free(a);
        ab_free(b);
        ab_free(d);
}
END_TEST

START_TEST(test_zero_disarms)
{
        void *p;

        ab_mem_fail_after(1);
        ab_mem_fail_after(0);
        ck_assert(!ab_mem_fail_pending());
        p = ab_malloc(1);
        ck_assert_ptr_nonnull(p);
        ab_free(p);
}
END_TEST

START_TEST(test_strdup_fails_cleanly)
{
        char *p;

        ab_mem_fail_after(1);
        ck_assert_ptr_null(ab_strdup("x"));
        p = ab_strndup("xy", 1);
        ck_assert_str_eq(p, "x");
        ab_free(p);
}
END_TEST

static Suite *mem_suite(void)
{
        Suite *s = suite_create("mem");
        TCase *tc;

        tc = tcase_create("fault hook");
        tcase_add_test(tc, test_fails_the_nth_allocation_once);
        tcase_add_test(tc, test_zero_disarms);
        tcase_add_test(tc, test_strdup_fails_cleanly);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(mem_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
