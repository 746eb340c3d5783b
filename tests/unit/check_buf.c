/* check_buf.c - unit tests for the JSON string writers of the byte buffer. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

/*
 * The writers scan 16, 8 or 4 bytes at a time with an overlapping last
 * block, so a special byte is put at every position of strings of every
 * length around those sizes, and the result compared with the escaping
 * done one byte at a time below.
 */

/* The reference: JSON string content of \p n bytes of \p s, one byte (or
 * one UTF-8 sequence) at a time; \p s holds only ASCII, the special bytes
 * and the sequences the tests put there. */
static void reference(const unsigned char *s, size_t n, char *out)
{
        size_t o = 0;

        for (size_t i = 0; i < n; i++) {
                unsigned char c = s[i];

                if (c == '"' || c == '\\') {
                        out[o++] = '\\';
                        out[o++] = (char)c;
                } else if (c == '\n') {
                        memcpy(out + o, "\\n", 2);
                        o += 2;
                } else if (c < 0x20) {
                        o += (size_t)snprintf(out + o, 7, "\\u%04x", c);
                } else if (c == 0xC3 && i + 1 < n && s[i + 1] == 0xA9) {
                        memcpy(out + o, "\xC3\xA9", 2);
                        o += 2;
                        i++;
                } else if (c >= 0x80) {
                        memcpy(out + o, "\xEF\xBF\xBD", 3);
                        o += 3;
                } else {
                        out[o++] = (char)c;
                }
        }
        out[o] = '\0';
}

static void check_one(const unsigned char *s, size_t n)
{
        char want[64 * 6 + 3];
        struct ab_buf b;
        size_t len;

        want[0] = '"';
        reference(s, n, want + 1);
        len = strlen(want);
        memcpy(want + len, "\"", 2);
        ab_buf_init(&b, 0);
        ck_assert_int_eq(ab_buf_append_json_str(&b, (const char *)s, n), AB_OK);
        ck_assert_str_eq(b.data, want);
        ab_buf_reset(&b);
        want[len] = '\0';
        ck_assert_int_eq(ab_buf_append_json_chars(&b, (const char *)s, n),
                         AB_OK);
        ck_assert_str_eq(b.data, want + 1);
        ab_buf_fini(&b);
}

START_TEST(test_special_byte_at_every_position)
{
        static const unsigned char special[] = {'"',  '\\', '\n', 0x01,
                                                0x1F, 0x80, 0xFF, 0xC3};
        unsigned char s[40]                  = {0}; /* n = 0 passes it unread */

        for (size_t n = 0; n <= sizeof(s); n++) {
                for (size_t i = 0; i < n; i++)
                        s[i] = (unsigned char)('a' + i % 26);
                check_one(s, n);
                for (size_t k = 0; k < sizeof(special); k++)
                        for (size_t at = 0; at < n; at++) {
                                unsigned char keep = s[at];

                                s[at] = special[k];
                                check_one(s, n);
                                s[at] = keep;
                        }
        }
}
END_TEST

/* Bytes >= 0x80 in valid UTF-8 are copied; a sequence may straddle the
 * blocks of the scan. */
START_TEST(test_utf8_across_blocks)
{
        unsigned char s[40] = {0}; /* n = 0 passes it unread */

        for (size_t n = 2; n <= sizeof(s); n++)
                for (size_t at = 0; at + 1 < n; at++) {
                        memset(s, 'x', n);
                        s[at]     = 0xC3;
                        s[at + 1] = 0xA9;
                        check_one(s, n);
                }
}
END_TEST

/* The worst case is reserved first, so a limit refuses a string whose
 * escaped form could pass it, and the buffer is left as it was. */
START_TEST(test_limit)
{
        struct ab_buf b;

        ab_buf_init(&b, 16);
        ck_assert_int_eq(ab_buf_append_json_str(&b, "ab", 2), AB_OK);
        ck_assert_int_eq(ab_buf_append_json_str(&b, "abc", 3),
                         AB_ERR_TOO_LARGE);
        ck_assert_int_eq(ab_buf_append_json_chars(&b, "ab", 2), AB_OK);
        ck_assert_int_eq(ab_buf_append_json_chars(&b, "ab", 2),
                         AB_ERR_TOO_LARGE);
        ck_assert_str_eq(b.data, "\"ab\"ab");
        ab_buf_fini(&b);
}
END_TEST

static Suite *buf_suite(void)
{
        Suite *s = suite_create("buf");
        TCase *tc;

        tc = tcase_create("json");
        tcase_add_test(tc, test_special_byte_at_every_position);
        tcase_add_test(tc, test_utf8_across_blocks);
        tcase_add_test(tc, test_limit);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(buf_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
