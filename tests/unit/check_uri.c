/* check_uri.c - the RFC 3986 URI-reference recognizer. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/uri.h"

static const char *const valid[] = {
    "alertbridge",
    "/a/b",
    "https://x.example/a?b#c",
    "urn:x:y",
    "",
    "a/b:c",
    "./a:b",
    "//host",
    "//user:pw@host:8080/p",
    "http://[::1]:9/x",
    "http://[2001:db8::7]",
    "http://[::ffff:192.0.2.1]/",
    "http://[v7.a:b]/",
    "http://127.0.0.1",
    "http://h:/",
    "mailto:ops@example.com",
    "a?",
    "#frag",
    "?q=1&r=%2F",
    "a%20b",
    "x+y-z.w:rest",
    "https://x.example/a?b/c?d#e/f?g",
    "tag:example.com,2026:alerts",
    "/sub-delims/!$&'()*+,;=",
    "~user/_x",
};

/* Each with the offset of the first bad byte. */
static const struct {
        const char *s;
        size_t at;
} invalid[] = {
    {"alert bridge", 5},  {"a^b", 1},
    {"a\x01", 1},         {"a\tb", 1},
    {"a\nb", 1},          {"\x7f", 0},
    {"1a:b", 2},          {":x", 0},
    {"a%2", 3},           {"a%zz", 2},
    {"a%4g", 3},          {"http://h:8x/", 10},
    {"http://[::1/", 7},  {"http://[zz::1]/", 7},
    {"http://[v.x]/", 7}, {"http://a@b@c/", 10},
    {"http://h<>/", 8},   {"a#b#c", 3},
    {"a b#c", 1},         {"caf\xc3\xa9", 3},
    {"a\"b", 1},          {"a\\b", 1},
    {"a{b}", 1},          {"a|b", 1},
    {"a`b", 1},           {"x:a[b]", 3},
};

START_TEST(valid_references)
{
        for (size_t i = 0; i < sizeof(valid) / sizeof(*valid); i++)
                ck_assert_msg(
                    ab_uri_reference_check(valid[i], strlen(valid[i])) ==
                        AB_URI_OK,
                    "\"%s\" refused at %zu", valid[i],
                    ab_uri_reference_check(valid[i], strlen(valid[i])));
}
END_TEST

START_TEST(invalid_references)
{
        for (size_t i = 0; i < sizeof(invalid) / sizeof(*invalid); i++) {
                const char *s = invalid[i].s;
                size_t at     = ab_uri_reference_check(s, strlen(s));

                ck_assert_msg(at == invalid[i].at, "\"%s\": %zu, want %zu", s,
                              at, invalid[i].at);
        }
}
END_TEST

START_TEST(embedded_nul_is_refused)
{
        ck_assert_uint_eq(ab_uri_reference_check("a\0b", 3), 1);
        ck_assert_uint_eq(ab_uri_reference_check("http://[::1\0]/", 14), 7);
}
END_TEST

int main(void)
{
        Suite *s    = suite_create("uri");
        TCase *tc   = tcase_create("reference");
        SRunner *sr = NULL;
        int failed;

        tcase_add_test(tc, valid_references);
        tcase_add_test(tc, invalid_references);
        tcase_add_test(tc, embedded_nul_is_refused);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
