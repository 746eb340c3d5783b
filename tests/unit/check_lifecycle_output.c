/* check_lifecycle_output.c - lifecycle tests: the lifecycle report and the
 * CloudEvents the lifecycle's events serialize to. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/check_lifecycle.h"
#include "tests/unit/lifecycle_fixture.h"

START_TEST(test_report)
{
        struct ab_integration *integ =
            integ_make("net", NULL, "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct ab_error err;
        struct collector c;
        struct talert t[3];
        struct ab_buf out;
        char fp[AB_EVENT_ID_LEN + 1], want[256];
        const struct ab_alert *in[4];
        const size_t input[4] = {0, 1, 1, 2};
        const size_t nal[4]   = {1, 2, 2, 1};
        size_t i;

        col_init(&c);
        ab_buf_init(&out, 0);
        c.report = ab_lifecycle_report_new();
        ck_assert_ptr_nonnull(c.report);
        in[0] =
            talert_make(&t[0], AB_ALERT_FIRING, "X", "10.0.0.1", "cpu", 1, "m");
        in[1] =
            talert_make(&t[1], AB_ALERT_FIRING, "X", "10.0.0.2", "cpu", 1, "m");
        in[2] = talert_make(&t[2], AB_ALERT_RESOLVED, "X", "10.0.0.1", "cpu", 1,
                            NULL);
        t[2].a.index = 1;
        in[3]        = in[0];
        for (i = 0; i < 4; i++) {
                ab_lifecycle_fingerprint(integ, in[i], fp);
                ck_assert_int_eq(ab_lifecycle_report_input(c.report, integ,
                                                           in[i], fp, input[i],
                                                           nal[i]),
                                 AB_OK);
                ck_assert_int_eq(ab_lifecycle_process(lc, integ, in[i],
                                                      T0 + (int64_t)i, collect,
                                                      &c, &err),
                                 AB_OK);
        }
        ck_assert_int_eq(ab_lifecycle_report_render(c.report, &out), AB_OK);
        ck_assert_ptr_nonnull(strstr(out.data, "dedup report: 4 alerts from 3 "
                                               "inputs in 2 groups, 4 "
                                               "events\n"));
        fp_of(integ, "10.0.0.1", fp);
        snprintf(want, sizeof(want),
                 "group 1 fingerprint %s (check=\"cpu\", "
                 "source=\"10.0.0.1\")\n"
                 "  inputs (3): 0, 1[1], 2\n"
                 "  events (3): create, close, create\n",
                 fp);
        ck_assert_msg(strstr(out.data, want) != NULL, "report:\n%s", out.data);
        ck_assert_ptr_nonnull(strstr(out.data, "  inputs (1): 1[0]\n"
                                               "  events (1): create\n"));
        ab_buf_fini(&out);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

/* Events of the lifecycle serialize as CloudEvents with the seed-000
 * data fields of their type. */
static ab_err_t write_check(void *opaque, const struct ab_event *ev)
{
        static const char *const want[AB_EVENT__COUNT][4] = {
            {NULL},
            {"handler", "operator", NULL},
            {"handler", "operator", "comment", NULL},
            {"handler", "operator", "solution", NULL},
        };
        static const char *const all[] = {"handler", "operator", "comment",
                                          "solution"};
        struct ab_event copy           = *ev;
        struct ab_buf b;
        json_error_t jerr;
        json_t *root, *data;
        size_t i, j;

        (void)opaque;
        copy.owner = "ops-oncall";
        ab_buf_init(&b, 0);
        ck_assert_int_eq(ab_event_write(&b, &copy), AB_OK);
        root = json_loads(b.data, 0, &jerr);
        ck_assert_msg(root != NULL, "%s: %s", jerr.text, b.data);
        data = json_object_get(root, "data");
        ck_assert_str_eq(json_string_value(json_object_get(data, "owner")),
                         "ops-oncall");
        for (i = 0; i < 4; i++) {
                bool expected = false;

                for (j = 0; want[ev->type][j]; j++)
                        expected |= !strcmp(want[ev->type][j], all[i]);
                ck_assert_msg((json_object_get(data, all[i]) != NULL) ==
                                  expected,
                              "%s in %s", all[i], b.data);
        }
        ck_assert_str_eq(json_string_value(json_object_get(root, "alertid")),
                         ev->alert_id);
        json_decref(root);
        ab_buf_fini(&b);
        return AB_OK;
}

START_TEST(test_event_serialization)
{
        struct ab_integration *integ =
            integ_make("net", "1m", "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct ab_error err;
        struct talert ta;
        char json[256], fp[AB_EVENT_ID_LEN + 1];

        ck_assert_int_eq(
            ab_lifecycle_process(
                lc, integ,
                talert_make(&ta, AB_ALERT_FIRING, "X", "a", "cpu", 1, "m"), T0,
                write_check, NULL, &err),
            AB_OK);
        fp_of(integ, "a", fp);
        snprintf(json, sizeof(json),
                 "{\"action\":\"claim\",\"fingerprint\":\"%s\","
                 "\"operator\":\"x\"}",
                 fp);
        ck_assert_int_eq(ab_lifecycle_action(lc, json, strlen(json), T0 + 1,
                                             write_check, NULL, &err),
                         AB_OK);
        snprintf(json, sizeof(json),
                 "{\"action\":\"comment\",\"fingerprint\":\"%s\","
                 "\"operator\":\"y\",\"comment\":\"c\"}",
                 fp);
        ck_assert_int_eq(ab_lifecycle_action(lc, json, strlen(json), T0 + 2,
                                             write_check, NULL, &err),
                         AB_OK);
        ck_assert_int_eq(
            ab_lifecycle_expire(lc, T0 + MIN_MS, write_check, NULL), AB_OK);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 0);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

TCase *lifecycle_output_tcase(void)
{
        TCase *tc = tcase_create("output");

        tcase_add_test(tc, test_report);
        tcase_add_test(tc, test_event_serialization);
        return tc;
}
