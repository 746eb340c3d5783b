/* check_sink_batch.c - event encoding, the size rule and request limits. */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "sink/batch.h"

static struct ab_batch_limits lim;
static struct ab_json_doc doc;
static struct ab_buf out;

static void setup(void)
{
        ab_batch_limits_default(&lim);
        ab_json_doc_init(&doc);
        ab_buf_init(&out, 0);
}

static void teardown(void)
{
        ab_buf_fini(&out);
        ab_json_doc_fini(&doc);
}

static ab_err_t encode(const char *json, struct ab_batch_event_info *info,
                       struct ab_error *err)
{
        return ab_batch_encode_event(&out, &doc, json, strlen(json), "bus-1",
                                     NULL, &lim, info, err);
}

START_TEST(test_encode_adds_bus_keeps_members)
{
        const char *ev = "{\"specversion\":\"1.0\",\"id\":\"abc-1\","
                         "\"source\":\"alertbridge\",\"type\":\"t\","
                         "\"data\":{\"x\": [1, 2.50, \"\\u00e9\"]}}";
        struct ab_batch_event_info info;

        ck_assert_int_eq(encode(ev, &info, NULL), AB_OK);
        ck_assert_str_eq(info.id, "abc-1");
        /* Members and values byte for byte, the bus appended last. */
        ck_assert_str_eq(out.data, "{\"specversion\":\"1.0\",\"id\":\"abc-1\","
                                   "\"source\":\"alertbridge\",\"type\":\"t\","
                                   "\"data\":{\"x\": [1, 2.50, \"\\u00e9\"]},"
                                   "\"aliyuneventbusname\":\"bus-1\"}");
}
END_TEST

START_TEST(test_encode_replaces_bus)
{
        const char *ev =
            "{\"aliyuneventbusname\":\"other\",\"specversion\":"
            "\"1.0\",\"id\":\"i\",\"source\":\"s\",\"type\":\"t\"}";
        struct ab_batch_event_info info;
        json_t *j;

        ck_assert_int_eq(encode(ev, &info, NULL), AB_OK);
        j = json_loads(out.data, JSON_REJECT_DUPLICATES, NULL);
        ck_assert_ptr_nonnull(j);
        ck_assert_str_eq(
            json_string_value(json_object_get(j, "aliyuneventbusname")),
            "bus-1");
        ck_assert_uint_eq(json_object_size(j), 5);
        json_decref(j);
}
END_TEST

START_TEST(test_encode_source_override)
{
        const char *ev = "{\"specversion\":\"1.0\",\"id\":\"i\","
                         "\"source\":\"alertbridge\",\"type\":\"t\"}";
        struct ab_batch_event_info info;

        ck_assert_int_eq(ab_batch_encode_event(&out, &doc, ev, strlen(ev), "b",
                                               "my.source", &lim, &info, NULL),
                         AB_OK);
        ck_assert_str_eq(out.data, "{\"specversion\":\"1.0\",\"id\":\"i\","
                                   "\"source\":\"my.source\",\"type\":\"t\","
                                   "\"aliyuneventbusname\":\"b\"}");
        ck_assert_uint_eq(info.counted, 3 + 1 + 9 + 1 + 18 + 1);
}
END_TEST

/* The size rule: time 36, listed attributes by value bytes, data by raw
 * bytes, extensions by name and value (our conservative addition). */
START_TEST(test_counted_size)
{
        const char *ev = "{\"specversion\":\"1.0\",\"id\":\"abcd\","
                         "\"source\":\"src\",\"type\":\"ty\","
                         "\"time\":\"2021-02-22T07:18:15.578Z\","
                         "\"subject\":\"caf\\u00e9\","
                         "\"datacontenttype\":\"application/json\","
                         "\"alertid\":\"x1\",\"alertcount\":12,"
                         "\"data\":{\"a\":1}}";
        struct ab_batch_event_info info;
        size_t want = 3 + 4 + 3 + 2 + 36 + 5 /* café in UTF-8 */ + 16 +
                      (7 + 2) + (10 + 2) + 7 /* {"a":1} */ +
                      (18 + 5) /* aliyuneventbusname bus-1 */;

        ck_assert_int_eq(encode(ev, &info, NULL), AB_OK);
        ck_assert_uint_eq(info.counted, want);
}
END_TEST

START_TEST(test_counted_size_base64_and_string_data)
{
        struct ab_batch_event_info info;

        ck_assert_int_eq(encode("{\"specversion\":\"1.0\",\"id\":\"i\","
                                "\"source\":\"s\",\"type\":\"t\","
                                "\"data_base64\":\"eyJ0ZXN0Ijoib2sifQ==\"}",
                                &info, NULL),
                         AB_OK);
        ck_assert_uint_eq(info.counted, 3 + 1 + 1 + 1 + 13 + 23);
        ab_buf_reset(&out);
        ck_assert_int_eq(encode("{\"specversion\":\"1.0\",\"id\":\"i\","
                                "\"source\":\"s\",\"type\":\"t\","
                                "\"data\":\"a\\nb\"}",
                                &info, NULL),
                         AB_OK);
        ck_assert_uint_eq(info.counted, 3 + 1 + 1 + 1 + 3 + 23);
}
END_TEST

static char *event_with_data(size_t data_bytes)
{
        const char *head = "{\"specversion\":\"1.0\",\"id\":\"big\","
                           "\"source\":\"s\",\"type\":\"t\",\"data\":\"";
        size_t hl        = strlen(head);
        char *s          = malloc(hl + data_bytes + 3);

        memcpy(s, head, hl);
        memset(s + hl, 'x', data_bytes);
        memcpy(s + hl + data_bytes, "\"}", 3);
        return s;
}

START_TEST(test_oversize_rejected_with_reason)
{
        /* 3+3+1+1 attributes + 23 bus extension = 31 bytes besides data. */
        char *fits = event_with_data(65536 - 31);
        char *over = event_with_data(65536 - 30);
        struct ab_batch_event_info info;
        struct ab_error err;

        ck_assert_int_eq(encode(fits, &info, NULL), AB_OK);
        ck_assert_uint_eq(info.counted, 65536);
        ab_buf_reset(&out);
        ab_buf_append_str(&out, "keep");
        ck_assert_int_eq(encode(over, &info, &err), AB_ERR_TOO_LARGE);
        ck_assert_str_eq(out.data, "keep");
        ck_assert_ptr_nonnull(strstr(err.text, "65537 bytes"));
        ck_assert_ptr_nonnull(strstr(err.text, "limit 65536"));
        free(fits);
        free(over);
}
END_TEST

START_TEST(test_invalid_events)
{
        static const struct {
                const char *json;
                ab_err_t rc;
                const char *path;
        } cases[] = {
            {"[1]", AB_ERR_DECODE, ""},
            {"{\"id\":", AB_ERR_DECODE, ""},
            {"{\"specversion\":\"1.0\",\"source\":\"s\",\"type\":\"t\"}",
             AB_ERR_DECODE, "id"},
            {"{\"specversion\":\"1.0\",\"id\":7,\"source\":\"s\",\"type\":"
             "\"t\"}",
             AB_ERR_DECODE, "id"},
            {"{\"specversion\":\"0.3\",\"id\":\"i\",\"source\":\"s\","
             "\"type\":\"t\"}",
             AB_ERR_DECODE, "specversion"},
            {"{\"specversion\":\"1.0\",\"id\":\"i\",\"source\":\"s\"}",
             AB_ERR_DECODE, "type"},
            {"{\"specversion\":\"1.0\",\"id\":\"i\",\"source\":\"s\","
             "\"type\":\"0123456789012345678901234567890123456789012345678901"
             "234567890123456789\"}",
             AB_ERR_TOO_LARGE, "type"},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                struct ab_batch_event_info info;
                struct ab_error err;

                ab_error_clear(&err);
                ck_assert_int_eq(encode(cases[i].json, &info, &err),
                                 cases[i].rc);
                ck_assert_str_eq(err.path, cases[i].path);
                ck_assert_uint_eq(out.len, 0);
        }
}
END_TEST

static void add_n(struct ab_batch *b, size_t n, size_t *added)
{
        char ev[128];

        *added = 0;
        for (size_t i = 0; i < n; i++) {
                int len = snprintf(ev, sizeof(ev), "{\"id\":\"e%zu\"}", i);

                if (ab_batch_add(b, ev, (size_t)len, 10) != AB_OK)
                        break;
                (*added)++;
        }
}

START_TEST(test_batch_event_limit)
{
        struct ab_batch b;
        const char *body;
        size_t added, len;
        json_t *j;

        ab_batch_init(&b, &lim);
        add_n(&b, 20, &added);
        ck_assert_uint_eq(added, 16);
        body = ab_batch_finish(&b, &len);
        j    = json_loadb(body, len, 0, NULL);
        ck_assert_ptr_nonnull(j);
        ck_assert_uint_eq(json_array_size(j), 16);
        ck_assert_str_eq(
            json_string_value(json_object_get(json_array_get(j, 15), "id")),
            "e15");
        json_decref(j);
        /* A finished batch takes nothing more; reset starts afresh. */
        ck_assert_int_eq(ab_batch_add(&b, "{}", 2, 1), AB_ERR_TOO_LARGE);
        ab_batch_reset(&b);
        body = ab_batch_finish(&b, &len);
        ck_assert_str_eq(body, "[]");
        ab_batch_fini(&b);
}
END_TEST

START_TEST(test_batch_byte_limits)
{
        struct ab_batch b;
        const char *body;
        size_t len;

        lim.max_request_bytes = 20;
        ab_batch_init(&b, &lim);
        /* body "[" + 8 + "," + 8 + "]" = 19 bytes fits; a third does not */
        ck_assert_int_eq(ab_batch_add(&b, "{\"a\":11}", 8, 1), AB_OK);
        ck_assert_int_eq(ab_batch_add(&b, "{\"b\":22}", 8, 1), AB_OK);
        ck_assert_int_eq(ab_batch_add(&b, "{}", 2, 1), AB_ERR_TOO_LARGE);
        body = ab_batch_finish(&b, &len);
        ck_assert_str_eq(body, "[{\"a\":11},{\"b\":22}]");
        ck_assert_uint_eq(len, 19);
        /* the counted sum is limited too */
        ab_batch_reset(&b);
        ck_assert_int_eq(ab_batch_add(&b, "{}", 2, 15), AB_OK);
        ck_assert_int_eq(ab_batch_add(&b, "{}", 2, 6), AB_ERR_TOO_LARGE);
        ck_assert_int_eq(ab_batch_add(&b, "{}", 2, 5), AB_OK);
        ab_batch_fini(&b);
}
END_TEST

/* The distributed-tracing extension reaches EventBridge unchanged, from
 * a structured and from a binary-mode event (ce_traceparent and
 * ce_tracestate headers). */
START_TEST(test_trace_attributes_pass_through)
{
#define TP "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
#define TS "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
        const char *ev =
            "{\"specversion\":\"1.0\",\"id\":\"t-1\","
            "\"source\":\"alertbridge\",\"type\":\"t\","
            "\"traceparent\":\"" TP "\",\"tracestate\":\"" TS "\",\"data\":{}}";
        struct ab_batch_attr attrs[] = {{"specversion", 11, "1.0", 3},
                                        {"id", 2, "t-2", 3},
                                        {"source", 6, "alertbridge", 11},
                                        {"type", 4, "t", 1},
                                        {"traceparent", 11, TP, sizeof(TP) - 1},
                                        {"tracestate", 10, TS, sizeof(TS) - 1}};
        struct ab_batch_event_info info;
        json_t *root;

        ck_assert_int_eq(encode(ev, &info, NULL), AB_OK);
        ck_assert_ptr_nonnull(strstr(out.data,
                                     ",\"traceparent\":\"" TP
                                     "\",\"tracestate\":\"" TS "\","));
        ab_buf_reset(&out);
        ck_assert_int_eq(ab_batch_encode_binary(&out, &doc, attrs, 6, NULL, 0,
                                                "{}", 2, "bus-1", NULL, &lim,
                                                &info, NULL),
                         AB_OK);
        root = json_loads(out.data, 0, NULL);
        ck_assert_ptr_nonnull(root);
        ck_assert_str_eq(
            json_string_value(json_object_get(root, "traceparent")), TP);
        ck_assert_str_eq(json_string_value(json_object_get(root, "tracestate")),
                         TS);
        json_decref(root);
#undef TP
#undef TS
}
END_TEST

START_TEST(test_binary_json_and_base64)
{
        struct ab_batch_attr attrs[] = {{"specversion", 11, "1.0", 3},
                                        {"id", 2, "b1", 2},
                                        {"source", 6, "src", 3},
                                        {"type", 4, "t", 1},
                                        {"alertid", 7, "a\"q", 3}};
        struct ab_batch_event_info info;
        const char *ct = "application/json; charset=utf-8";

        ck_assert_int_eq(ab_batch_encode_binary(&out, &doc, attrs, 5, ct,
                                                strlen(ct), "{\"test\":\"ok\"}",
                                                13, "bus-1", NULL, &lim, &info,
                                                NULL),
                         AB_OK);
        ck_assert_str_eq(out.data,
                         "{\"specversion\":\"1.0\",\"id\":\"b1\",\"source\":"
                         "\"src\",\"type\":\"t\",\"alertid\":\"a\\\"q\","
                         "\"datacontenttype\":\"application/json; "
                         "charset=utf-8\",\"data\":{\"test\":\"ok\"},"
                         "\"aliyuneventbusname\":\"bus-1\"}");
        ck_assert_str_eq(info.id, "b1");
        /* The SDK's Go test vector for a non-JSON content type. */
        ab_buf_reset(&out);
        ck_assert_int_eq(
            ab_batch_encode_binary(&out, &doc, attrs, 4, "text/plain", 10,
                                   "{\"test\":\"ok\"}", 13, "bus-1", NULL, &lim,
                                   &info, NULL),
            AB_OK);
        ck_assert_ptr_nonnull(
            strstr(out.data, "\"data_base64\":\"eyJ0ZXN0Ijoib2sifQ==\""));
        /* JSON content type but not JSON: base64 as well. */
        ab_buf_reset(&out);
        ck_assert_int_eq(ab_batch_encode_binary(&out, &doc, attrs, 4, NULL, 0,
                                                "not json", 8, "bus-1", NULL,
                                                &lim, &info, NULL),
                         AB_OK);
        ck_assert_ptr_nonnull(
            strstr(out.data, "\"data_base64\":\"bm90IGpzb24=\""));
}
END_TEST

static Suite *batch_suite(void)
{
        Suite *s     = suite_create("sink_batch");
        TCase *enc   = tcase_create("encode");
        TCase *batch = tcase_create("batch");

        tcase_add_checked_fixture(enc, setup, teardown);
        tcase_add_checked_fixture(batch, setup, teardown);
        tcase_add_test(enc, test_encode_adds_bus_keeps_members);
        tcase_add_test(enc, test_encode_replaces_bus);
        tcase_add_test(enc, test_encode_source_override);
        tcase_add_test(enc, test_counted_size);
        tcase_add_test(enc, test_counted_size_base64_and_string_data);
        tcase_add_test(enc, test_oversize_rejected_with_reason);
        tcase_add_test(enc, test_invalid_events);
        tcase_add_test(enc, test_binary_json_and_base64);
        tcase_add_test(enc, test_trace_attributes_pass_through);
        tcase_add_test(batch, test_batch_event_limit);
        tcase_add_test(batch, test_batch_byte_limits);
        suite_add_tcase(s, enc);
        suite_add_tcase(s, batch);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(batch_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
