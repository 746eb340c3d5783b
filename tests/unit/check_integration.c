/* check_integration.c - the integration compiler: valid configs and errors
 * naming the exact key. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "transform/integration.h"

static ab_err_t compile(const char *yaml, struct ab_integration **out,
                        struct ab_error *err)
{
        json_t *root;
        ab_err_t rc;

        ab_error_clear(err);
        root = ab_conf_load_string(yaml, strlen(yaml), "test", err);
        ck_assert_msg(root != NULL, "yaml: %s", err->text);
        rc = ab_integration_compile(root, NULL, out, err);
        json_decref(root);
        return rc;
}

#define BASE "name: t\nfields:\n  alertname: {direct: $.a}\n"

START_TEST(minimal_and_accessors)
{
        struct ab_integration *integ = NULL;
        struct ab_error err;
        size_t n;

        ck_assert_int_eq(compile(BASE "  severity: {value: P2}\n"
                                      "auto_clear: 30m\n"
                                      "dedup: {fields: [alertname, host]}\n"
                                      "labels: {host: $.h}\n",
                                 &integ, &err),
                         AB_OK);
        ck_assert_str_eq(ab_integration_name(integ), "t");
        ck_assert_int_eq(ab_integration_auto_clear_ms(integ), 30 * 60 * 1000);
        ck_assert_str_eq(ab_integration_dedup_fields(integ, &n)[1], "host");
        ck_assert_uint_eq(n, 2);
        ck_assert_ptr_nonnull(ab_integration_config(integ));
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(errors_name_the_key)
{
        static const struct {
                const char *yaml;
                const char *path;
                const char *text;
        } cases[] = {
            {"fields: {}\n", "name", "required"},
            {"name: t\n", "fields", "required"},
            {BASE, "fields.severity", "required"},
            {"name: t\nfields: {severity: {value: P1}}\n", "fields.alertname",
             "required"},
            {BASE "  severity: {direct: $.s, map: {MAX: P9}}\n",
             "fields.severity.map.MAX", "P1, P2, P3 or P4"},
            {BASE "  severity: {direct: $.s, default: urgent}\n",
             "fields.severity.default", "P1, P2, P3 or P4"},
            {BASE "  severity: {value: P1}\n  colour: {direct: $.c}\n",
             "fields.colour", "unknown alert field"},
            {BASE "  severity: {value: P1}\n  message: {direct: metadata}\n",
             "fields.message.direct", "must start with '$'"},
            {BASE "  severity: {value: P1}\n  message: {direct: $.m, "
                  "series: [$.n]}\n",
             "fields.message", "exactly one of"},
            {BASE "  severity: {value: P1}\n  message: {series: [$.a, $.b], "
                  "delimiter: x}\n",
             "fields.message.delimiter", "special characters"},
            {BASE
             "  severity: {value: P1}\n  service:\n    condition:\n"
             "      - when: {field: $.x, equalz: 1}\n        direct: $.y\n",
             "fields.service.condition[0].when.equalz", "unknown key"},
            {BASE "  severity: {value: P1}\n  service:\n    condition:\n"
                  "      - direct: $.y\n      - when: {field: $.x, exists: "
                  "true}\n        direct: $.z\n",
             "fields.service.condition[0]", "only the last branch"},
            {BASE
             "  severity: {value: P1}\n  service:\n    condition:\n"
             "      - when: {field: $.x, regex: '('}\n        direct: $.y\n",
             "fields.service.condition[0].when.regex",
             "invalid regular expression"},
            {BASE "  severity: {value: P1}\n  service:\n    condition:\n"
                  "      - when: {field: $.x, regex: "
                  "'((a{1,100}){1,100}){1,100}'}\n        direct: $.y\n",
             "fields.service.condition[0].when.regex", "too large"},
            {BASE "  severity: {value: P1}\n  service:\n    condition:\n"
                  "      - when: {field: $.x, regex: '((ab|cd)(ef|gh)){1,800}'}"
                  "\n        direct: $.y\n",
             "fields.service.condition[0].when.regex", "over the limit of"},
            {BASE "  severity: {value: P1}\nrecovery: {when: [{equals: x}]}\n",
             "recovery.when[0].field", "required"},
            {BASE "  severity: {value: P1}\nbatch: {root: \"$.a[*]\"}\n",
             "batch.root", "without [*]"},
            {BASE "  severity: {value: P1}\nauto_clear: soon\n", "auto_clear",
             "duration"},
            {BASE "  severity: {value: P1}\ndedup: {fields: [source]}\n",
             "dedup.fields[0]", "names nothing"},
            {BASE "  severity: {value: P1}\nlabels: {'*': {value: x}}\n",
             "labels.*", "copies an object"},
            {BASE "  severity: {value: P1}\nextra: 1\n", "extra",
             "unknown key"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                struct ab_integration *integ = NULL;
                struct ab_error err;
                ck_assert_msg(compile(cases[i].yaml, &integ, &err) ==
                                  AB_ERR_CONFIG,
                              "case %zu compiled", i);
                ck_assert_ptr_null(integ);
                ck_assert_msg(!strcmp(err.path, cases[i].path),
                              "case %zu: path '%s', expected '%s' (%s)", i,
                              err.path, cases[i].path, err.text);
                ck_assert_msg(strstr(err.text, cases[i].text) != NULL,
                              "case %zu: text '%s' lacks '%s'", i, err.text,
                              cases[i].text);
        }
}
END_TEST

START_TEST(dedup_accepts_any_label_with_wildcard)
{
        struct ab_integration *integ = NULL;
        struct ab_error err;

        ck_assert_int_eq(compile(BASE "  severity: {value: P1}\n"
                                      "labels: {'*': {direct: $.labels}}\n"
                                      "dedup: {fields: [instance, job]}\n",
                                 &integ, &err),
                         AB_OK);
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(builtins_load_by_name)
{
        const char *const *names = ab_integration_builtin_names();
        struct ab_error err;
        size_t n = 0;

        for (; names[n]; n++) {
                struct ab_integration *integ = NULL;
                ab_error_clear(&err);
                ck_assert_msg(ab_integration_load(names[n], &integ, &err) ==
                                  AB_OK,
                              "%s: %s: %s", names[n], err.path, err.text);
                ck_assert_str_eq(ab_integration_name(integ), names[n]);
                ab_integration_destroy(integ);
        }
        ck_assert_uint_ge(n, 4);
        {
                struct ab_integration *integ = NULL;
                ck_assert_int_eq(ab_integration_load("nagios", &integ, &err),
                                 AB_ERR_NOT_FOUND);
                ck_assert_ptr_nonnull(strstr(err.text, "alertmanager"));
                ck_assert_int_eq(
                    ab_integration_load("/nonexistent/x.yaml", &integ, &err),
                    AB_ERR_IO);
        }
}
END_TEST

int main(void)
{
        Suite *s  = suite_create("integration");
        TCase *tc = tcase_create("compile");
        SRunner *sr;
        int failed;

        tcase_add_test(tc, minimal_and_accessors);
        tcase_add_test(tc, errors_name_the_key);
        tcase_add_test(tc, dedup_accepts_any_label_with_wildcard);
        tcase_add_test(tc, builtins_load_by_name);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
