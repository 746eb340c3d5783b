/* check_sink_sign.c - PutEvents signing against the SDK test vectors. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "sink/sign.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof(*(a)))

static char *sts(const char *method, const char *path,
                 const struct ab_sign_header *h, size_t nh,
                 const struct ab_sign_query *q, size_t nq)
{
        struct ab_buf b;
        char *s;

        ab_buf_init(&b, 0);
        ck_assert_int_eq(ab_sign_string_to_sign(&b, method, path, h, nh, q, nq),
                         AB_OK);
        s = strdup(b.data);
        ab_buf_fini(&b);
        return s;
}

static void assert_sig(const char *data, const char *secret, const char *want)
{
        char sig[AB_SIGN_B64_LEN];

        ck_assert_int_eq(ab_sign_signature(secret, data, strlen(data), sig),
                         AB_OK);
        ck_assert_str_eq(sig, want);
}

/* util/python/tests/test_client.py::test_get_signature */
START_TEST(test_signature_python_vector)
{
        assert_sig("GET\n\n\n\n", "secret", "Mzu+31oD5IDdv3WFBNIi4Y7JZto=");
}
END_TEST

/* util/ts/test/client.spec.ts */
START_TEST(test_signature_ts_vector)
{
        assert_sig("stringtosign", "secret", "OmuTAr79tpI6CRoAdmzKRq5lHs0=");
}
END_TEST

/* util/golang/client/client_test.go asserts only the length: 28. */
START_TEST(test_signature_length)
{
        char sig[AB_SIGN_B64_LEN];

        ck_assert_int_eq(ab_sign_signature("any", "x", 1, sig), AB_OK);
        ck_assert_uint_eq(strlen(sig), 28);
}
END_TEST

/* Python test: no headers, POST, query {test: tests}, empty pathname. */
START_TEST(test_sts_query_only)
{
        struct ab_sign_query q[] = {{"test", "tests"}};
        char *s                  = sts("POST", "", NULL, 0, q, ARRAY_LEN(q));

        ck_assert_str_eq(s, "POST\n\n\n\n?test=tests");
        free(s);
}
END_TEST

/* Python test with headers and a sorted query, and its signature. */
START_TEST(test_sts_headers_and_query)
{
        struct ab_sign_header h[] = {{"x-acs-meta", "user"},
                                     {"accept", "application/json"},
                                     {"content-md5", "md5"},
                                     {"content-type", "application/json"},
                                     {"date", "date"}};
        struct ab_sign_query q[]  = {
             {"test", "tests"}, {"ccp", "ok"}, {"test1", ""}};
        const char *want = "GET\nmd5\napplication/json\ndate\nx-acs-meta:user\n"
                           "Pathname?ccp=ok&test=tests&test1=";
        char *s = sts("GET", "Pathname", h, ARRAY_LEN(h), q, ARRAY_LEN(q));

        ck_assert_str_eq(s, want);
        assert_sig(s, "secret", "IV3RgaRZmXs0XA0EV5Er9tNEY50=");
        free(s);
}
END_TEST

/* TS tests: accept is not signed; x-acs headers are; raw query values. */
START_TEST(test_sts_ts_vectors)
{
        struct ab_sign_header accept[] = {{"accept", "application/json"}};
        struct ab_sign_header full[]   = {{"accept", "application/json"},
                                          {"content-md5", "md5"},
                                          {"content-type", "application/json"},
                                          {"date", "date"},
                                          {"x-acs-custom-key", "any value"}};
        struct ab_sign_query q[]       = {{"key", "val ue with space"}};
        char *s;

        s = sts("GET", "/", accept, ARRAY_LEN(accept), NULL, 0);
        ck_assert_str_eq(s, "GET\n\n\n\n/");
        free(s);
        s = sts("GET", "/", full, ARRAY_LEN(full), NULL, 0);
        ck_assert_str_eq(s, "GET\nmd5\napplication/json\ndate\n"
                            "x-acs-custom-key:any value\n/");
        free(s);
        s = sts("GET", "/", accept, ARRAY_LEN(accept), q, ARRAY_LEN(q));
        ck_assert_str_eq(s, "GET\n\n\n\n/?key=val ue with space");
        free(s);
}
END_TEST

/* Header names are lower-cased and sorted; x-eventbridge-* not signed;
 * NULL query values are left out. */
START_TEST(test_sts_canonical_headers)
{
        struct ab_sign_header h[] = {{"X-Acs-Zeta", "z"},
                                     {"x-eventbridge-version", "2015-06-06"},
                                     {"X-ACS-alpha", "a"},
                                     {"Content-Type", "text/plain"},
                                     {"x-acsless", "prefix only"}};
        struct ab_sign_query q[]  = {{"b", NULL}, {"a", "1"}};
        char *s = sts("PUT", "/p", h, ARRAY_LEN(h), q, ARRAY_LEN(q));

        ck_assert_str_eq(s, "PUT\n\ntext/plain\n\nx-acs-alpha:a\n"
                            "x-acs-zeta:z\nx-acsless:prefix only\n/p?a=1");
        free(s);
}
END_TEST

static char *putevents(const struct ab_sign_creds *creds, const char *region,
                       const char *ua, char **string_to_sign)
{
        struct ab_sign_putevents req = {creds, "Sat, 18 Apr 2020 05:30:41 GMT",
                                        "f63659d4-10ac-483b-99da-ea8fde610000",
                                        region, ua};
        struct ab_buf out, s;
        char *headers;

        ab_buf_init(&out, 0);
        ab_buf_init(&s, 0);
        ck_assert_int_eq(ab_sign_putevents_headers(&out, &req, &s), AB_OK);
        headers         = strdup(out.data);
        *string_to_sign = strdup(s.data);
        ab_buf_fini(&out);
        ab_buf_fini(&s);
        return headers;
}

/* The full PutEvents vector computed with the SDK's Python util. */
START_TEST(test_putevents_vector)
{
        struct ab_sign_creds creds = {"testAccessKeyId", "testSecret", NULL};
        char *s;
        char *h = putevents(&creds, NULL, NULL, &s);

        ck_assert_str_eq(
            s, "POST\n\napplication/cloudevents-batch+json; charset=utf-8\n"
               "Sat, 18 Apr 2020 05:30:41 GMT\n"
               "x-acs-signature-method:HMAC-SHA1\n"
               "x-acs-signature-nonce:f63659d4-10ac-483b-99da-ea8fde610000\n"
               "x-acs-signature-version:1.0\n/openapi/putEvents");
        ck_assert_str_eq(
            h, "date: Sat, 18 Apr 2020 05:30:41 GMT\n"
               "accept: application/json\n"
               "x-acs-signature-nonce: f63659d4-10ac-483b-99da-ea8fde610000\n"
               "x-acs-signature-method: HMAC-SHA1\n"
               "x-acs-signature-version: 1.0\n"
               "x-eventbridge-version: 2015-06-06\n"
               "content-type: application/cloudevents-batch+json; "
               "charset=utf-8\n"
               "authorization: acs:testAccessKeyId:"
               "zp2vvDdKhtI6N4/mvZVaDV1BHdI=\n");
        free(h);
        free(s);
}
END_TEST

/* Region and user agent are sent but not signed. */
START_TEST(test_putevents_region_unsigned)
{
        struct ab_sign_creds creds = {"testAccessKeyId", "testSecret", ""};
        char *s;
        char *h = putevents(&creds, "cn-hangzhou", "alertbridge/test", &s);

        ck_assert_ptr_nonnull(
            strstr(h, "x-eventbridge-regionId: cn-hangzhou\n"));
        ck_assert_ptr_nonnull(strstr(h, "user-agent: alertbridge/test\n"));
        ck_assert_ptr_nonnull(strstr(h, "authorization: acs:testAccessKeyId:"
                                        "zp2vvDdKhtI6N4/mvZVaDV1BHdI=\n"));
        ck_assert_ptr_null(strstr(s, "regionId"));
        free(h);
        free(s);
}
END_TEST

/* STS: the key id and token are sent as x-acs headers and signed. */
START_TEST(test_putevents_sts)
{
        struct ab_sign_creds creds = {"STS.ak", "testSecret", "tok"};
        char *s;
        char *h = putevents(&creds, NULL, NULL, &s);

        ck_assert_str_eq(
            s, "POST\n\napplication/cloudevents-batch+json; charset=utf-8\n"
               "Sat, 18 Apr 2020 05:30:41 GMT\n"
               "x-acs-accesskey-id:STS.ak\n"
               "x-acs-security-token:tok\n"
               "x-acs-signature-method:HMAC-SHA1\n"
               "x-acs-signature-nonce:f63659d4-10ac-483b-99da-ea8fde610000\n"
               "x-acs-signature-version:1.0\n/openapi/putEvents");
        ck_assert_ptr_nonnull(strstr(h, "x-acs-accesskey-id: STS.ak\n"
                                        "x-acs-security-token: tok\n"
                                        "authorization: acs:STS.ak:"
                                        "s9rgniMBsr+glVTHvD6Wht5lD64=\n"));
        free(h);
        free(s);
}
END_TEST

START_TEST(test_date_rfc1123)
{
        char d[AB_SIGN_DATE_LEN];

        ab_sign_date(1587187841, d);
        ck_assert_str_eq(d, "Sat, 18 Apr 2020 05:30:41 GMT");
        ab_sign_date(0, d);
        ck_assert_str_eq(d, "Thu, 01 Jan 1970 00:00:00 GMT");
}
END_TEST

START_TEST(test_nonce_fresh)
{
        char a[AB_SIGN_NONCE_LEN], b[AB_SIGN_NONCE_LEN];

        ck_assert_int_eq(ab_sign_nonce(a), AB_OK);
        ck_assert_int_eq(ab_sign_nonce(b), AB_OK);
        ck_assert_uint_eq(strlen(a), 32);
        ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 32);
        ck_assert_str_ne(a, b);
}
END_TEST

static Suite *sign_suite(void)
{
        Suite *s     = suite_create("sink_sign");
        TCase *vec   = tcase_create("sdk_vectors");
        TCase *canon = tcase_create("string_to_sign");
        TCase *put   = tcase_create("putevents");

        tcase_add_test(vec, test_signature_python_vector);
        tcase_add_test(vec, test_signature_ts_vector);
        tcase_add_test(vec, test_signature_length);
        tcase_add_test(canon, test_sts_query_only);
        tcase_add_test(canon, test_sts_headers_and_query);
        tcase_add_test(canon, test_sts_ts_vectors);
        tcase_add_test(canon, test_sts_canonical_headers);
        tcase_add_test(put, test_putevents_vector);
        tcase_add_test(put, test_putevents_region_unsigned);
        tcase_add_test(put, test_putevents_sts);
        tcase_add_test(put, test_date_rfc1123);
        tcase_add_test(put, test_nonce_fresh);
        suite_add_tcase(s, vec);
        suite_add_tcase(s, canon);
        suite_add_tcase(s, put);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(sign_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
