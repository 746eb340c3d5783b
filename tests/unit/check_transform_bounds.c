/* check_transform_bounds.c - the mapping engine's per-record bounds: alerts
 * per batch (batch.max_alerts), JSON values, built text and labels, each a
 * clear rejection, and the memory a record at the bounds takes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/conf.h"
#include "transform/integration.h"
#include "transform/transform.h"

static struct ab_integration *compile(const char *yaml, ab_err_t want,
                                      const char *msg)
{
        struct ab_integration *integ = NULL;
        struct ab_error err;
        json_t *root;
        ab_err_t rc;

        ab_error_clear(&err);
        root = ab_conf_load_string(yaml, strlen(yaml), "test", &err);
        ck_assert_msg(root != NULL, "yaml: %s", err.text);
        rc = ab_integration_compile(root, NULL, &integ, &err);
        json_decref(root);
        ck_assert_msg(rc == want, "%s: %s", ab_err_code(rc), err.text);
        if (msg)
                ck_assert_msg(strstr(err.text, msg) &&
                                  !strcmp(err.path, "batch."
                                                    "max_alerts"),
                              "%s: %s", err.path, err.text);
        return integ;
}

#define BATCH_YAML(extra)                                                      \
        "name: t\nbatch: {root: $.a" extra "}\n"                               \
        "fields:\n  alertname: {direct: \"$.a[*].n\"}\n"                       \
        "  severity: {value: P2}\n"

/* {"a":[{"n":"x"},...]} with \p n elements into \p b. */
static void elements(struct ab_buf *b, size_t n)
{
        ab_buf_reset(b);
        ck_assert_int_eq(ab_buf_append_str(b, "{\"a\":["), AB_OK);
        for (size_t i = 0; i < n; i++)
                ck_assert_int_eq(ab_buf_append_str(b, i ? ",{\"n\":\"x\"}"
                                                        : "{\"n\":\"x\"}"),
                                 AB_OK);
        ck_assert_int_eq(ab_buf_append_str(b, "]}"), AB_OK);
}

static ab_err_t run(struct ab_transform *tf, const struct ab_integration *in,
                    const struct ab_buf *b, size_t *n, struct ab_error *err)
{
        const struct ab_alert *alerts;

        ab_error_clear(err);
        return ab_transform_run(tf, in, b->data, b->len, AB_CONTENT_JSON,
                                &alerts, n, err);
}

/*
 * Defect: alerts per record were unbounded (a record of 1M elements
 * peaked at 1.04 GB). batch.max_alerts bounds them (default 10,000): a
 * batch with more elements is rejected whole as too_many_alerts.
 */
START_TEST(test_max_alerts)
{
        struct ab_integration *def = compile(BATCH_YAML(""), AB_OK, NULL);
        struct ab_integration *three =
            compile(BATCH_YAML(", max_alerts: 3"), AB_OK, NULL);
        struct ab_transform *tf = ab_transform_new();
        struct ab_error err;
        struct ab_buf b;
        size_t n = 0;

        ck_assert_ptr_nonnull(tf);
        ab_buf_init(&b, 0);
        elements(&b, 3);
        ck_assert_int_eq(run(tf, three, &b, &n, &err), AB_OK);
        ck_assert_uint_eq(n, 3);
        elements(&b, 4);
        ck_assert_int_eq(run(tf, three, &b, &n, &err), AB_ERR_TOO_MANY_ALERTS);
        ck_assert_str_eq(ab_err_code(err.code), "too_many_alerts");
        ck_assert_str_eq(err.path, "batch.max_alerts");
        ck_assert_msg(strstr(err.text, "has 4 elements, more than "
                                       "batch.max_alerts (3)"),
                      "%s", err.text);
        elements(&b, AB_INTEGRATION_MAX_ALERTS);
        ck_assert_int_eq(run(tf, def, &b, &n, &err), AB_OK);
        ck_assert_uint_eq(n, AB_INTEGRATION_MAX_ALERTS);
        elements(&b, AB_INTEGRATION_MAX_ALERTS + 1);
        ck_assert_int_eq(run(tf, def, &b, &n, &err), AB_ERR_TOO_MANY_ALERTS);
        ck_assert_int_eq(ab_err_class(AB_ERR_TOO_MANY_ALERTS),
                         AB_ERR_CLASS_REJECT);
        compile(BATCH_YAML(", max_alerts: 0"), AB_ERR_CONFIG,
                "from 1 to 1000000");
        compile(BATCH_YAML(", max_alerts: 1000001"), AB_ERR_CONFIG,
                "from 1 to 1000000");
        compile(BATCH_YAML(", max_alerts: many"), AB_ERR_CONFIG,
                "from 1 to 1000000");
        ab_buf_fini(&b);
        ab_transform_destroy(tf);
        ab_integration_destroy(def);
        ab_integration_destroy(three);
}
END_TEST

/* More JSON values than the tape may hold: too_large, before any of the
 * record is mapped. */
START_TEST(test_max_values)
{
        struct ab_integration *in = compile(BATCH_YAML(""), AB_OK, NULL);
        struct ab_transform *tf   = ab_transform_new();
        struct ab_error err;
        struct ab_buf b;
        size_t n = 0;

        ab_buf_init(&b, 0);
        ck_assert_int_eq(
            ab_buf_append_str(&b, "{\"a\":[{\"n\":\"x\"}],\"z\":["), AB_OK);
        for (uint32_t i = 0; i < AB_TRANSFORM_MAX_VALUES; i++)
                ck_assert_int_eq(ab_buf_append_str(&b, i ? ",0" : "0"), AB_OK);
        ck_assert_int_eq(ab_buf_append_str(&b, "]}"), AB_OK);
        ck_assert_int_eq(run(tf, in, &b, &n, &err), AB_ERR_TOO_LARGE);
        ck_assert_msg(strstr(err.text, "more than 2097152 values"), "%s",
                      err.text);
        ab_buf_fini(&b);
        ab_transform_destroy(tf);
        ab_integration_destroy(in);
}
END_TEST

/*
 * Text the engine builds and labels it copies grow with alerts times what
 * each alert selects: an object rendered per alert, or a shared object
 * copied into every alert. Both are bounded per record (too_large).
 */
START_TEST(test_max_text_and_labels)
{
        struct ab_integration *text =
            compile(BATCH_YAML("") "labels: {copy: $.big}\n", AB_OK, NULL);
        struct ab_integration *kvs =
            compile(BATCH_YAML("") "labels: {\"*\": $.big}\n", AB_OK, NULL);
        struct ab_transform *tf = ab_transform_new();
        struct ab_error err;
        struct ab_buf b;
        size_t n = 0;

        ab_buf_init(&b, 0);
        /* 200 alerts, each copying an object of 2,000 members (~34 KB):
         * 6.8 MB of text, 400,000 labels: within the bounds. */
        for (int pass = 0; pass < 2; pass++) {
                size_t alerts = pass ? 1100 : 200;

                ab_buf_reset(&b);
                ck_assert_int_eq(ab_buf_append_str(&b, "{\"big\":{"), AB_OK);
                for (int i = 0; i < 2000; i++)
                        ck_assert_int_eq(ab_buf_appendf(&b,
                                                        "%s\"k%04d\":\"v%04d\"",
                                                        i ? "," : "", i, i),
                                         AB_OK);
                ck_assert_int_eq(ab_buf_append_str(&b, "},\"a\":["), AB_OK);
                for (size_t i = 0; i < alerts; i++)
                        ck_assert_int_eq(
                            ab_buf_append_str(&b, i ? ",{\"n\":\"x\"}"
                                                    : "{\"n\":\"x\"}"),
                            AB_OK);
                ck_assert_int_eq(ab_buf_append_str(&b, "]}"), AB_OK);
                if (!pass) {
                        ck_assert_int_eq(run(tf, text, &b, &n, &err), AB_OK);
                        ck_assert_int_eq(run(tf, kvs, &b, &n, &err), AB_OK);
                        continue;
                }
                /* 1,100 alerts: 37 MB of text, 2.2M labels. */
                ck_assert_int_eq(run(tf, text, &b, &n, &err), AB_ERR_TOO_LARGE);
                ck_assert_msg(strstr(err.text, "more than 32 MiB of built "
                                               "text"),
                              "%s", err.text);
                ck_assert_int_eq(run(tf, kvs, &b, &n, &err), AB_ERR_TOO_LARGE);
                ck_assert_msg(strstr(err.text, "1048576 labels"), "%s",
                              err.text);
        }
        ab_buf_fini(&b);
        ab_transform_destroy(tf);
        ab_integration_destroy(text);
        ab_integration_destroy(kvs);
}
END_TEST

/*
 * The engine's memory for the largest record the built-in alertmanager
 * integration admits on its defaults: 10,000 alerts of 100 labels (about
 * 2M JSON values, just under the bound), measured as the bytes the
 * engine's buffers hold afterwards (ab_transform_held()).
 * docs/performance.md has the process's peak RSS for the same record.
 */
START_TEST(test_memory_at_the_bounds)
{
        struct ab_integration *am = NULL;
        struct ab_transform *tf   = ab_transform_new();
        struct ab_error err;
        struct ab_buf b;
        size_t n = 0, held;

        ab_error_clear(&err);
        ck_assert_int_eq(ab_integration_load("alertmanager", &am, &err), AB_OK);
        ab_buf_init(&b, 0);
        ck_assert_int_eq(ab_buf_append_str(&b, "{\"alerts\":["), AB_OK);
        for (int i = 0; i < AB_INTEGRATION_MAX_ALERTS; i++) {
                ck_assert_int_eq(ab_buf_appendf(&b,
                                                "%s{\"status\":\"firing\","
                                                "\"labels\":{\"alertname\":"
                                                "\"a%d\",\"severity\":"
                                                "\"warning\"",
                                                i ? "," : "", i),
                                 AB_OK);
                for (int k = 0; k < 100; k++)
                        ck_assert_int_eq(
                            ab_buf_appendf(&b, ",\"l%02d\":\"v%d\"", k, k),
                            AB_OK);
                ck_assert_int_eq(ab_buf_append_str(&b, "}}"), AB_OK);
        }
        ck_assert_int_eq(ab_buf_append_str(&b, "]}"), AB_OK);
        ck_assert_int_eq(run(tf, am, &b, &n, &err), AB_OK);
        ck_assert_uint_eq(n, AB_INTEGRATION_MAX_ALERTS);
        held = ab_transform_held(tf);
        ck_assert_msg(held < (size_t)192 << 20,
                      "the engine holds %zu MiB for a %zu MiB record",
                      held >> 20, b.len >> 20);
        ab_buf_fini(&b);
        ab_transform_destroy(tf);
        ab_integration_destroy(am);
}
END_TEST

static Suite *bounds_suite(void)
{
        Suite *s = suite_create("transform bounds");
        TCase *tc;

        tc = tcase_create("bounds");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_max_alerts);
        tcase_add_test(tc, test_max_values);
        tcase_add_test(tc, test_max_text_and_labels);
        tcase_add_test(tc, test_memory_at_the_bounds);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(bounds_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
