/* check_str.c - unit tests for rendering untrusted bytes in messages. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

static const char *esc(char *out, size_t size, const char *s, size_t n)
{
        return ab_str_escape(out, size, s, n);
}

START_TEST(test_escape_shows_every_byte)
{
        static const char in[] = "gen\0eric\x01\x7f\xff\\'";
        char out[64];

        ck_assert_str_eq(esc(out, sizeof(out), in, sizeof(in) - 1),
                         "gen\\x00eric\\x01\\x7f\\xff\\\\\\'");
        ck_assert_str_eq(esc(out, sizeof(out), "", 0), "");
        ck_assert_str_eq(esc(out, sizeof(out), "plain text", 10), "plain text");
}
END_TEST

/* Too long for the buffer: the rendering says so with "...", never cuts
 * an escape in half, and always fits. */
START_TEST(test_escape_marks_a_cut)
{
        char out[8];

        ck_assert_str_eq(esc(out, sizeof(out), "abcdefg", 7), "abcdefg");
        ck_assert_str_eq(esc(out, sizeof(out), "abcdefgh", 8), "abcd...");
        ck_assert_str_eq(esc(out, sizeof(out), "a\x01\x02", 3), "a...");
        ck_assert_str_eq(esc(out, 4, "abcd", 4), "...");
        ck_assert_str_eq(esc(out, 2, "abcd", 4), "");
        ck_assert_str_eq(esc(out, 2, "a", 1), "a");
}
END_TEST

static Suite *str_suite(void)
{
        Suite *s = suite_create("str");
        TCase *tc;

        tc = tcase_create("escape");
        tcase_add_test(tc, test_escape_shows_every_byte);
        tcase_add_test(tc, test_escape_marks_a_cut);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(str_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
