/* check_conftab.c - descriptor tables that include another table. */
#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "service/conftab.h"

/* A shared block, included by an outer table under "peer". */
struct block {
        char *name;
        int64_t port;
};

struct outer {
        int64_t retries;
        struct block peer;
        char *mode;
};

static const struct ab_conftab_prop block_props[] = {
    {.key    = "name",
     .type   = AB_CONFTAB_STRING,
     .offset = offsetof(struct block, name),
     .min    = 1,
     .flags  = AB_CONFTAB_REQUIRED,
     .desc   = "Name."},
    {.key    = "port",
     .type   = AB_CONFTAB_INT,
     .offset = offsetof(struct block, port),
     .def    = "80",
     .min    = 1,
     .max    = 65535,
     .desc   = "Port."},
};

static const struct ab_conftab block_table = {block_props, 2,
                                              sizeof(struct block)};

static const char *const peer_defaults[] = {"port", "8080", NULL};

static const struct ab_conftab_prop outer_props[] = {
    {.key    = "retries",
     .type   = AB_CONFTAB_INT,
     .offset = offsetof(struct outer, retries),
     .def    = "3",
     .desc   = "Retries."},
    {.key      = "peer",
     .type     = AB_CONFTAB_TABLE,
     .offset   = offsetof(struct outer, peer),
     .sub      = &block_table,
     .defaults = peer_defaults},
    {.key    = "peer.mode",
     .type   = AB_CONFTAB_STRING,
     .offset = offsetof(struct outer, mode),
     .desc   = "Mode, next to the included keys."},
};

static const struct ab_conftab outer_table = {outer_props, 3,
                                              sizeof(struct outer)};

static ab_err_t load(const char *json, struct outer *o, struct ab_error *err)
{
        json_t *v = json_loads(json, 0, NULL);
        ab_err_t rc;

        ck_assert_ptr_nonnull(v);
        memset(o, 0, sizeof(*o));
        ab_error_clear(err);
        rc = ab_conftab_load(&outer_table, v, o, NULL, NULL, err);
        json_decref(v);
        return rc;
}

START_TEST(test_included_keys_load_in_place)
{
        struct ab_error err;
        struct outer o;

        ck_assert_int_eq(
            load("{\"peer\": {\"name\": \"a\", \"mode\": \"m\"}}", &o, &err),
            AB_OK);
        ck_assert_str_eq(o.peer.name, "a");
        ck_assert_int_eq(o.peer.port, 8080); /* the include's default */
        ck_assert_str_eq(o.mode, "m");
        ck_assert_int_eq(o.retries, 3);
        ab_conftab_free(&outer_table, &o);
        ck_assert_ptr_null(o.peer.name);
        ck_assert_ptr_null(o.mode);
}
END_TEST

START_TEST(test_included_errors_name_the_full_path)
{
        struct ab_error err;
        struct outer o;

        ck_assert_int_eq(load("{\"retries\": 1}", &o, &err), AB_ERR_CONFIG);
        ck_assert_str_eq(err.path, "peer.name");
        ck_assert_str_eq(err.text, "is required");
        ab_conftab_free(&outer_table, &o);
        ck_assert_int_eq(
            load("{\"peer\": {\"name\": \"a\", \"port\": 0}}", &o, &err),
            AB_ERR_CONFIG);
        ck_assert_str_eq(err.path, "peer.port");
        ab_conftab_free(&outer_table, &o);
        ck_assert_int_eq(
            load("{\"peer\": {\"name\": \"a\", \"prot\": 1}}", &o, &err),
            AB_ERR_CONFIG);
        ck_assert_str_eq(err.path, "peer.prot");
        ck_assert_ptr_nonnull(strstr(err.text, "did you mean \"port\""));
        ab_conftab_free(&outer_table, &o);
}
END_TEST

START_TEST(test_reference_lists_included_keys)
{
        struct ab_buf b;

        ab_buf_init(&b, 0);
        ck_assert_int_eq(ab_conftab_reference(&outer_table, &b), AB_OK);
        ck_assert_str_eq(
            b.data, "| `retries` | int | `3` | at least 0 | Retries. |\n"
                    "| `peer.name` | string | required | non-empty | Name. |\n"
                    "| `peer.port` | int | `8080` | 1 to 65535 | Port. |\n"
                    "| `peer.mode` | string | unset |  | Mode, next to the "
                    "included keys. |\n");
        ab_buf_fini(&b);
}
END_TEST

int main(void)
{
        Suite *s  = suite_create("conftab");
        TCase *tc = tcase_create("include");
        SRunner *sr;
        int failed;

        tcase_add_test(tc, test_included_keys_load_in_place);
        tcase_add_test(tc, test_included_errors_name_the_full_path);
        tcase_add_test(tc, test_reference_lists_included_keys);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
