/* check_selector.c - selector compile errors and evaluation over the token
 * tape. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "transform/selector.h"

static struct ab_json_doc doc;
static struct ab_matches m;

static void setup(void)
{
        ab_json_doc_init(&doc);
        ab_matches_init(&m);
}

static void teardown(void)
{
        ab_json_doc_fini(&doc);
        ab_matches_fini(&m);
}

/* Evaluate `sel` on `json`; returns the matches' texts joined by '|'. */
static const char *eval(const char *json, const char *sel_text)
{
        static char out[1024];
        struct ab_selector *sel = NULL;
        size_t o                = 0;

        ck_assert_int_eq(ab_json_parse(&doc, json, strlen(json), NULL), AB_OK);
        ck_assert_int_eq(ab_selector_compile(sel_text, &sel, NULL), AB_OK);
        m.n = 0;
        ck_assert_int_eq(ab_selector_eval(sel, 0, &doc, 0, &m), AB_OK);
        out[0] = '\0';
        for (size_t i = 0; i < m.n; i++) {
                struct ab_str s = ab_json_text(&doc, m.idx[i]);
                if (i)
                        out[o++] = '|';
                memcpy(out + o, s.ptr, s.len);
                o += s.len;
                out[o] = '\0';
        }
        ab_selector_destroy(sel);
        return out;
}

START_TEST(keys_with_dashes_and_quotes)
{
        const char *j = "{\"trigger-type\":\"network\",\"a b\":{\"c'd\":1}}";
        ck_assert_str_eq(eval(j, "$.trigger-type"), "network");
        ck_assert_str_eq(eval(j, "$['trigger-type']"), "network");
        ck_assert_str_eq(eval(j, "$['a b']['c\\'d']"), "1");
        ck_assert_str_eq(eval(j, "$[\"a b\"][\"c'd\"]"), "1");
        ck_assert_str_eq(eval(j, "$.missing"), "");
}
END_TEST

START_TEST(index_and_wildcard)
{
        const char *j =
            "{\"metadata\":[{\"ip\":\"1.1.1.1\"},{\"ip\":\"2.2.2.2\"},"
            "{\"x\":1},{\"ip\":null}]}";
        ck_assert_str_eq(eval(j, "$.metadata[0].ip"), "1.1.1.1");
        ck_assert_str_eq(eval(j, "$.metadata[1].ip"), "2.2.2.2");
        ck_assert_str_eq(eval(j, "$.metadata[7].ip"), "");
        /* null counts as absent */
        ck_assert_str_eq(eval(j, "$.metadata[*].ip"), "1.1.1.1|2.2.2.2");
        ck_assert_str_eq(eval("{\"o\":{\"a\":1,\"b\":2}}", "$.o[*]"), "1|2");
        ck_assert_str_eq(eval("{\"o\":{\"a\":1,\"b\":2}}", "$.o.*"), "1|2");
        ck_assert_str_eq(eval("[[1,2],[3]]", "$[*][*]"), "1|2|3");
}
END_TEST

START_TEST(root_and_types)
{
        ck_assert_str_eq(eval("\"x\"", "$"), "x");
        ck_assert_str_eq(eval("{\"a\":true}", "$.a"), "true");
        /* indexing an object or keying an array matches nothing */
        ck_assert_str_eq(eval("{\"a\":[1]}", "$.a.b"), "");
        ck_assert_str_eq(eval("{\"a\":{\"0\":1}}", "$.a[0]"), "");
        /* the last duplicate key wins */
        ck_assert_str_eq(eval("{\"a\":1,\"a\":2}", "$.a"), "2");
}
END_TEST

START_TEST(compile_errors_name_position)
{
        static const struct {
                const char *text;
                size_t offset;
        } bad[] = {
            {"metadata.ip", 0}, {"$.", 2},        {"$[", 2},
            {"$['x", 4},        {"$[1", 3},       {"$[x]", 2},
            {"$.a b", 3},       {"$['a\\q']", 4}, {"$[99999999999]", 11},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                struct ab_selector *sel = NULL;
                struct ab_error err;
                ab_error_clear(&err);
                ck_assert_msg(ab_selector_compile(bad[i].text, &sel, &err) ==
                                  AB_ERR_CONFIG,
                              "%s compiled", bad[i].text);
                ck_assert_ptr_null(sel);
                ck_assert_int_eq(err.has_offset, 1);
                ck_assert_msg(err.offset == bad[i].offset,
                              "%s: offset %zu, expected %zu", bad[i].text,
                              err.offset, bad[i].offset);
                ck_assert_ptr_nonnull(strstr(err.text, bad[i].text));
        }
}
END_TEST

START_TEST(batch_prefix)
{
        struct ab_selector *root, *a, *b, *c;

        ck_assert_int_eq(ab_selector_compile("$.metadata", &root, NULL), 0);
        ck_assert_int_eq(ab_selector_compile("$.metadata[*].ip", &a, NULL), 0);
        ck_assert_int_eq(ab_selector_compile("$.metadata[0].ip", &b, NULL), 0);
        ck_assert_int_eq(ab_selector_compile("$.other[*].ip", &c, NULL), 0);
        ck_assert_uint_eq(ab_selector_batch_prefix(a, root), 2);
        ck_assert_uint_eq(ab_selector_batch_prefix(b, root), 0);
        ck_assert_uint_eq(ab_selector_batch_prefix(c, root), 0);
        ck_assert_int_eq(ab_selector_has_wildcard(a), 1);
        ck_assert_int_eq(ab_selector_has_wildcard(b), 0);
        /* evaluate relative to element 1 */
        {
                const char *j =
                    "{\"metadata\":[{\"ip\":\"a\"},{\"ip\":\"b\"}]}";
                uint32_t arr, el1;
                ck_assert_int_eq(ab_json_parse(&doc, j, strlen(j), NULL), 0);
                arr = ab_json_get(&doc, 0, "metadata", 8);
                el1 = ab_json_index(&doc, arr, 1);
                m.n = 0;
                ck_assert_int_eq(ab_selector_eval(a, 2, &doc, el1, &m), 0);
                ck_assert_uint_eq(m.n, 1);
                ck_assert(ab_str_eq_c(ab_json_text(&doc, m.idx[0]), "b"));
        }
        ab_selector_destroy(root);
        ab_selector_destroy(a);
        ab_selector_destroy(b);
        ab_selector_destroy(c);
}
END_TEST

static Suite *selector_suite(void)
{
        Suite *s   = suite_create("selector");
        TCase *tc  = tcase_create("eval");
        TCase *tc2 = tcase_create("compile");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, keys_with_dashes_and_quotes);
        tcase_add_test(tc, index_and_wildcard);
        tcase_add_test(tc, root_and_types);
        tcase_add_checked_fixture(tc2, setup, teardown);
        tcase_add_test(tc2, compile_errors_name_position);
        tcase_add_test(tc2, batch_prefix);
        suite_add_tcase(s, tc);
        suite_add_tcase(s, tc2);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(selector_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
