/* check_decode.c - form-encoded CloudMonitor callbacks to JSON. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transform/decode.h"

static json_t *decode(const char *form)
{
        struct ab_buf out, scratch;
        struct ab_error err;
        json_t *j;

        ab_buf_init(&out, 0);
        ab_buf_init(&scratch, 0);
        ab_error_clear(&err);
        ck_assert_int_eq(
            ab_decode_form(form, strlen(form), &out, &scratch, &err), AB_OK);
        j = json_loadb(out.data, out.len, 0, NULL);
        ck_assert_msg(j != NULL, "not JSON: %s", out.data);
        ab_buf_fini(&out);
        ab_buf_fini(&scratch);
        return j;
}

START_TEST(real_capture)
{
        /* The URL-encoded real capture from formats.md section 3c. */
        const char *form =
            "lastTime=0%E5%88%86%E9%92%9F&rawMetricName=code5XX_stage&"
            "expression=%24Value+%3E%3D+5&instanceName=null&curValue=9&"
            "alertName=API%E7%BD%91%E5%85%B3_%E8%BF%94%E5%9B%9E%E7%A0%815XX%"
            "E4%B8%AA%E6%95%B0&triggerLevel=INFO&alertState=ALERT&"
            "preTriggerLevel=null&dimensions=%7BapiStageName%3DRELEASE%2C+"
            "apiUid%3D42df3c02c3124cc3becd911e9495cc25%2C+region%3Dcn-"
            "shenzhen%2C+userId%3D1273560756088235%7D&timestamp=1685646149981";
        json_t *j = decode(form);

        ck_assert_str_eq(json_string_value(json_object_get(j, "expression")),
                         "$Value >= 5");
        ck_assert_str_eq(json_string_value(json_object_get(j, "lastTime")),
                         "0\xE5\x88\x86\xE9\x92\x9F");
        /* literal null means absent */
        ck_assert_ptr_null(json_object_get(j, "instanceName"));
        ck_assert_ptr_null(json_object_get(j, "preTriggerLevel"));
        {
                json_t *d = json_object_get(j, "dimensions");
                ck_assert(json_is_object(d));
                ck_assert_str_eq(
                    json_string_value(json_object_get(d, "apiStageName")),
                    "RELEASE");
                ck_assert_str_eq(
                    json_string_value(json_object_get(d, "region")),
                    "cn-shenzhen");
                ck_assert_str_eq(
                    json_string_value(json_object_get(d, "userId")),
                    "1273560756088235");
        }
        ck_assert_str_eq(json_string_value(json_object_get(j, "timestamp")),
                         "1685646149981");
        json_decref(j);
}
END_TEST

START_TEST(doc_sample_with_stray_paren)
{
        json_t *j = decode("alertState=ALERT&dimensions={userId=12****), "
                           "instanceId=i-12****}&timestamp=1508136760\n");
        json_t *d = json_object_get(j, "dimensions");

        ck_assert_str_eq(json_string_value(json_object_get(d, "userId")),
                         "12****");
        ck_assert_str_eq(json_string_value(json_object_get(d, "instanceId")),
                         "i-12****");
        json_decref(j);
}
END_TEST

/* Plain runs are copied whole: an escape or a '+' at every position of
 * values up to 40 bytes, at the start, in the middle and at the end. */
START_TEST(escapes_at_every_position)
{
        static const char *const esc[] = {"%41", "+", "%2b", "%e4%b8%aa"};
        static const char *const dec[] = {"A", " ", "+", "\xe4\xb8\xaa"};

        for (size_t e = 0; e < sizeof(esc) / sizeof(esc[0]); e++) {
                for (size_t len = 0; len <= 40; len++) {
                        for (size_t at = 0; at <= len; at++) {
                                char form[128], want[128];
                                json_t *j;

                                snprintf(
                                    form, sizeof(form), "k=%.*s%s%.*s&z=1",
                                    (int)at,
                                    "abcdefghijklmnopqrstuvwxyz0123456789ABCD",
                                    esc[e], (int)(len - at),
                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd");
                                snprintf(
                                    want, sizeof(want), "%.*s%s%.*s", (int)at,
                                    "abcdefghijklmnopqrstuvwxyz0123456789ABCD",
                                    dec[e], (int)(len - at),
                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd");
                                j = decode(form);
                                ck_assert_str_eq(
                                    json_string_value(json_object_get(j, "k")),
                                    want);
                                ck_assert_str_eq(
                                    json_string_value(json_object_get(j, "z")),
                                    "1");
                                json_decref(j);
                        }
                }
        }
}
END_TEST

START_TEST(errors_name_offsets)
{
        struct ab_buf out, scratch;
        struct ab_error err;

        ab_buf_init(&out, 0);
        ab_buf_init(&scratch, 0);
        ab_error_clear(&err);
        ck_assert_int_eq(ab_decode_form("a=1&b=%zz", 9, &out, &scratch, &err),
                         AB_ERR_DECODE);
        ck_assert_uint_eq(err.offset, 6);
        ab_buf_reset(&out);
        ck_assert_int_eq(ab_decode_form("a=1&b%", 6, &out, &scratch, &err),
                         AB_ERR_DECODE);
        ck_assert_uint_eq(err.offset, 4);
        ab_buf_reset(&out);
        ck_assert_int_eq(ab_decode_form("a=%4", 4, &out, &scratch, &err),
                         AB_ERR_DECODE);
        ck_assert_uint_eq(err.offset, 2);
        /* NUL cannot be carried into JSON, raw or escaped */
        ab_buf_reset(&out);
        ck_assert_int_eq(
            ab_decode_form("a=1&b=x%00y", 11, &out, &scratch, &err),
            AB_ERR_DECODE);
        ck_assert_uint_eq(err.offset, 7);
        ab_buf_reset(&out);
        ck_assert_int_eq(ab_decode_form("a=x\0y", 5, &out, &scratch, &err),
                         AB_ERR_DECODE);
        ck_assert_uint_eq(err.offset, 3);
        ab_buf_fini(&out);
        ab_buf_fini(&scratch);
}
END_TEST

START_TEST(invalid_utf8_becomes_replacement)
{
        json_t *j = decode("a=%FF%FEx");
        ck_assert_str_eq(json_string_value(json_object_get(j, "a")),
                         "\xEF\xBF\xBD\xEF\xBF\xBDx");
        json_decref(j);
}
END_TEST

START_TEST(detection)
{
        ck_assert(ab_decode_is_form("a=b", 3));
        ck_assert(!ab_decode_is_form(" {\"a\":\"b=c\"}", 12));
        ck_assert(!ab_decode_is_form("[1]", 3));
        ck_assert(!ab_decode_is_form("hello", 5));
        ck_assert(!ab_decode_is_form("", 0));
}
END_TEST

int main(void)
{
        Suite *s  = suite_create("decode");
        TCase *tc = tcase_create("form");
        SRunner *sr;
        int failed;

        tcase_add_test(tc, real_capture);
        tcase_add_test(tc, doc_sample_with_stray_paren);
        tcase_add_test(tc, escapes_at_every_position);
        tcase_add_test(tc, errors_name_offsets);
        tcase_add_test(tc, invalid_utf8_becomes_replacement);
        tcase_add_test(tc, detection);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
