/* check_producer.c - headers, CloudEvents binding, producer config. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "producer/cloudevents_kafka.h"
#include "producer/headers.h"
#include "producer/producer.h"

/* Assert that the last header \p name of \p h equals \p want. */
static void assert_header(const struct ab_headers *h, const char *name,
                          const char *want)
{
        struct ab_str v = ab_headers_get(h, name);

        ck_assert_msg(v.ptr != NULL, "header %s missing", name);
        ck_assert_msg(ab_str_eq_c(v, want),
                      "header %s is \"%.*s\", want \"%s\"", name, (int)v.len,
                      v.ptr, want);
}

static void assert_no_header(const struct ab_headers *h, const char *name)
{
        ck_assert_msg(ab_headers_get(h, name).ptr == NULL, "header %s present",
                      name);
}

START_TEST(headers_keep_order_duplicates_and_nulls)
{
        struct ab_headers *h = ab_headers_new();
        const char *name;
        struct ab_str v;

        ck_assert_int_eq(ab_headers_add_str(h, "a", "1"), AB_OK);
        ck_assert_int_eq(ab_headers_add(h, "bin", ab_str_make("x\0y", 3)),
                         AB_OK);
        ck_assert_int_eq(ab_headers_add(h, "nul", AB_STR_NULL), AB_OK);
        ck_assert_int_eq(ab_headers_add_str(h, "empty", ""), AB_OK);
        ck_assert_int_eq(ab_headers_add_i64(h, "a", -42), AB_OK);
        ck_assert_uint_eq(ab_headers_count(h), 5);

        ck_assert_int_eq(ab_headers_at(h, 0, &name, &v), 0);
        ck_assert_str_eq(name, "a");
        ck_assert(ab_str_eq_c(v, "1"));
        ck_assert_int_eq(ab_headers_at(h, 1, &name, &v), 0);
        ck_assert_uint_eq(v.len, 3);
        ck_assert(!memcmp(v.ptr, "x\0y", 3));
        ck_assert_int_eq(ab_headers_at(h, 2, &name, &v), 0);
        ck_assert_str_eq(name, "nul");
        ck_assert_ptr_null(v.ptr);
        ck_assert_int_eq(ab_headers_at(h, 3, &name, &v), 0);
        ck_assert_ptr_nonnull(v.ptr);
        ck_assert_uint_eq(v.len, 0);
        ck_assert_int_eq(ab_headers_at(h, 5, &name, &v), -1);

        assert_header(h, "a", "-42"); /* the last one */
        assert_header(h, "nul", "");
        assert_no_header(h, "missing");

        ab_headers_reset(h);
        ck_assert_uint_eq(ab_headers_count(h), 0);
        assert_no_header(h, "a");
        ab_headers_destroy(h);
        ab_headers_destroy(NULL);
}
END_TEST

START_TEST(headers_grow_and_stop_allocating)
{
        struct ab_headers *h = ab_headers_new();
        char name[16];
        uint64_t before;

        for (int i = 0; i < 100; i++) {
                snprintf(name, sizeof(name), "h%d", i);
                ck_assert_int_eq(ab_headers_add_i64(h, name, i), AB_OK);
        }
        for (int i = 0; i < 100; i++) {
                const char *n;
                struct ab_str v;
                char want[16];

                ck_assert_int_eq(ab_headers_at(h, (size_t)i, &n, &v), 0);
                snprintf(want, sizeof(want), "h%d", i);
                ck_assert_str_eq(n, want);
                snprintf(want, sizeof(want), "%d", i);
                ck_assert(ab_str_eq_c(v, want));
        }
        before = ab_mem_allocations();
        for (int round = 0; round < 50; round++) {
                ab_headers_reset(h);
                for (int i = 0; i < 100; i++)
                        ab_headers_add_str(h, "name", "value");
        }
        ck_assert_uint_eq(ab_mem_allocations(), before);
        ab_headers_destroy(h);
}
END_TEST

START_TEST(dlq_headers)
{
        struct ab_headers *h = ab_headers_new();
        struct ab_error e;
        struct ab_dlq_info info = {
            .error       = &e,
            .topic       = "alerts.raw.network",
            .partition   = 2,
            .offset      = 12345678901LL,
            .integration = "network-monitor",
        };

        ab_error_set_at(&e, AB_ERR_DECODE, 17, "unexpected character 'x'");
        ck_assert_int_eq(ab_headers_add_dlq(h, &info), AB_OK);
        assert_header(h, AB_DLQ_HDR_ERROR_CODE, "decode");
        assert_header(h, AB_DLQ_HDR_ERROR_MESSAGE,
                      "unexpected character 'x' (at byte 17)");
        assert_header(h, AB_DLQ_HDR_TOPIC, "alerts.raw.network");
        assert_header(h, AB_DLQ_HDR_PARTITION, "2");
        assert_header(h, AB_DLQ_HDR_OFFSET, "12345678901");
        assert_header(h, AB_DLQ_HDR_INTEGRATION, "network-monitor");

        ab_headers_reset(h);
        ab_error_set(&e, AB_ERR_NO_SEVERITY, "labels.severity", "missing");
        info.integration = NULL;
        ck_assert_int_eq(ab_headers_add_dlq(h, &info), AB_OK);
        assert_header(h, AB_DLQ_HDR_ERROR_CODE, "no_severity");
        assert_header(h, AB_DLQ_HDR_ERROR_MESSAGE, "labels.severity: missing");
        assert_no_header(h, AB_DLQ_HDR_INTEGRATION);
        ck_assert_uint_eq(ab_headers_count(h), 5);

        ab_headers_reset(h);
        ab_error_clear(&e);
        e.code = AB_ERR_NO_INTEGRATION;
        ck_assert_int_eq(ab_headers_add_dlq(h, &info), AB_OK);
        assert_header(h, AB_DLQ_HDR_ERROR_MESSAGE,
                      "no integration is bound to this record");
        ab_headers_destroy(h);
}
END_TEST

static const char event_json[] =
    "{\"specversion\":\"1.0\",\"id\":\"6f1c0a\",\"source\":\"alertbridge\","
    "\"type\":\"aliyun:arms:alarm:create\",\"subject\":\"a \\\"quoted\\\" "
    "\\u00e9\",\"time\":\"2024-05-01T10:00:00.000Z\","
    "\"datacontenttype\":\"application/json; charset=utf-8\","
    "\"alertid\":\"ab12\",\"integration\":\"network-monitor\","
    "\"alertcount\":3,\"flag\":true,\"gone\":null,"
    "\"data\":{\"owner\":\"ops\",\"data\":{\"status\":\"firing\"}}}";

START_TEST(mode_names)
{
        enum ab_ce_mode m = AB_CE_BINARY;

        ck_assert_int_eq(ab_ce_mode_parse("structured", &m), 0);
        ck_assert_int_eq(m, AB_CE_STRUCTURED);
        ck_assert_int_eq(ab_ce_mode_parse("binary", &m), 0);
        ck_assert_int_eq(m, AB_CE_BINARY);
        ck_assert_int_eq(ab_ce_mode_parse("batch", &m), -1);
        ck_assert_str_eq(ab_ce_mode_name(AB_CE_STRUCTURED), "structured");
        ck_assert_str_eq(ab_ce_mode_name(AB_CE_BINARY), "binary");
}
END_TEST

START_TEST(structured_mode)
{
        struct ab_ce_kafka *enc = ab_ce_kafka_new();
        struct ab_headers *h    = ab_headers_new();
        struct ab_str value;

        ck_assert_int_eq(ab_ce_kafka_encode(enc, AB_CE_STRUCTURED, event_json,
                                            strlen(event_json), h, &value,
                                            NULL),
                         AB_OK);
        ck_assert_uint_eq(ab_headers_count(h), 1);
        assert_header(h, "content-type",
                      "application/cloudevents+json; charset=UTF-8");
        ck_assert_ptr_eq(value.ptr, event_json);
        ck_assert_uint_eq(value.len, strlen(event_json));
        ab_headers_destroy(h);
        ab_ce_kafka_destroy(enc);
}
END_TEST

START_TEST(binary_mode_maps_every_attribute)
{
        struct ab_ce_kafka *enc = ab_ce_kafka_new();
        struct ab_headers *h    = ab_headers_new();
        struct ab_str value;
        const char *name;
        struct ab_str v;

        ck_assert_int_eq(ab_ce_kafka_encode(enc, AB_CE_BINARY, event_json,
                                            strlen(event_json), h, &value,
                                            NULL),
                         AB_OK);
        assert_header(h, "ce_specversion", "1.0");
        assert_header(h, "ce_id", "6f1c0a");
        assert_header(h, "ce_source", "alertbridge");
        assert_header(h, "ce_type", "aliyun:arms:alarm:create");
        assert_header(h, "ce_subject", "a \"quoted\" \xc3\xa9");
        assert_header(h, "ce_time", "2024-05-01T10:00:00.000Z");
        assert_header(h, "ce_alertid", "ab12");
        assert_header(h, "ce_integration", "network-monitor");
        assert_header(h, "ce_alertcount", "3");
        assert_header(h, "ce_flag", "true");
        assert_header(h, "content-type", "application/json; charset=utf-8");
        assert_no_header(h, "ce_gone");
        assert_no_header(h, "ce_data");
        assert_no_header(h, "ce_datacontenttype");
        ck_assert_uint_eq(ab_headers_count(h), 11);
        /* Attributes first, in event order, then content-type. */
        ck_assert_int_eq(ab_headers_at(h, 0, &name, &v), 0);
        ck_assert_str_eq(name, "ce_specversion");
        ck_assert_int_eq(ab_headers_at(h, 10, &name, &v), 0);
        ck_assert_str_eq(name, "content-type");
        ck_assert(ab_str_eq_c(
            value, "{\"owner\":\"ops\",\"data\":{\"status\":\"firing\"}}"));
        ab_headers_destroy(h);
        ab_ce_kafka_destroy(enc);
}
END_TEST

/* Encode \p json in binary mode into fresh headers; returns the value as a
 * NUL-terminated copy (or NULL for no value) and the content type. */
struct bin {
        ab_err_t rc;
        struct ab_error err;
        char value[256];
        int has_value;
        size_t value_len;
        char ct[128];
        size_t nheaders;
};

static struct bin binary(const char *json)
{
        struct ab_ce_kafka *enc = ab_ce_kafka_new();
        struct ab_headers *h    = ab_headers_new();
        struct ab_str value, ct;
        struct bin b;

        memset(&b, 0, sizeof(b));
        b.rc = ab_ce_kafka_encode(enc, AB_CE_BINARY, json, strlen(json), h,
                                  &value, &b.err);
        if (value.ptr) {
                ck_assert_uint_lt(value.len, sizeof(b.value));
                memcpy(b.value, value.ptr, value.len);
                b.has_value = 1;
                b.value_len = value.len;
        }
        ct = ab_headers_get(h, "content-type");
        if (ct.ptr)
                snprintf(b.ct, sizeof(b.ct), "%.*s", (int)ct.len, ct.ptr);
        b.nheaders = ab_headers_count(h);
        ab_headers_destroy(h);
        ab_ce_kafka_destroy(enc);
        return b;
}

START_TEST(binary_data_by_content_type)
{
        struct bin b;

        /* No datacontenttype: JSON, as the JSON format implies. */
        b = binary("{\"id\":\"1\",\"data\":[1, 2]}");
        ck_assert_int_eq(b.rc, AB_OK);
        ck_assert_str_eq(b.ct, "application/json");
        ck_assert_str_eq(b.value, "[1, 2]");

        /* A string under a JSON type stays a JSON string. */
        b = binary("{\"datacontenttype\":\"text/json\",\"data\":\"hi\"}");
        ck_assert_str_eq(b.value, "\"hi\"");

        /* Structured-syntax suffix, any case, with parameters. */
        b = binary("{\"datacontenttype\":\"Application/Vnd.X+JSON ; v=1\","
                   "\"data\":\"hi\"}");
        ck_assert_str_eq(b.ct, "Application/Vnd.X+JSON ; v=1");
        ck_assert_str_eq(b.value, "\"hi\"");

        /* Any other type: the string itself. */
        b = binary("{\"datacontenttype\":\"text/plain\","
                   "\"data\":\"line\\nnext\"}");
        ck_assert_str_eq(b.ct, "text/plain");
        ck_assert_str_eq(b.value, "line\nnext");

        /* Not a JSON type, yet not a string either: its JSON text. */
        b = binary("{\"datacontenttype\":\"application/jsonx\","
                   "\"data\":{\"a\":1}}");
        ck_assert_str_eq(b.value, "{\"a\":1}");

        /* A null datacontenttype is unset. */
        b = binary("{\"datacontenttype\":null,\"data\":{\"a\":1}}");
        ck_assert_str_eq(b.ct, "application/json");
        ck_assert_uint_eq(b.nheaders, 1);
}
END_TEST

START_TEST(binary_data_base64)
{
        struct bin b;

        b = binary("{\"datacontenttype\":\"application/octet-stream\","
                   "\"data_base64\":\"AAECAwQ=\"}");
        ck_assert_int_eq(b.rc, AB_OK);
        ck_assert_str_eq(b.ct, "application/octet-stream");
        ck_assert_uint_eq(b.value_len, 5);
        ck_assert(!memcmp(b.value, "\0\1\2\3\4", 5));

        b = binary("{\"data_base64\":\"aGVsbG8gd29ybGQ\"}"); /* unpadded */
        ck_assert_int_eq(b.rc, AB_OK);
        ck_assert_str_eq(b.value, "hello world");
        ck_assert_str_eq(b.ct, ""); /* no datacontenttype, no data */

        b = binary("{\"data_base64\":\"\"}");
        ck_assert_int_eq(b.rc, AB_OK);
        ck_assert_int_eq(b.has_value, 1);
        ck_assert_uint_eq(b.value_len, 0);

        b = binary("{\"id\":\"1\",\"data_base64\":\"aGVs*G8=\"}");
        ck_assert_int_eq(b.rc, AB_ERR_DECODE);
        ck_assert_str_eq(b.err.path, "data_base64");
        ck_assert_uint_eq(b.nheaders, 0);

        b = binary("{\"data_base64\":\"aGVsb\"}"); /* 5 characters */
        ck_assert_int_eq(b.rc, AB_ERR_DECODE);

        b = binary("{\"data_base64\":\"aGVsbG9=\"}"); /* stray bits */
        ck_assert_int_eq(b.rc, AB_ERR_DECODE);

        b = binary("{\"data_base64\":7}");
        ck_assert_int_eq(b.rc, AB_ERR_DECODE);
}
END_TEST

START_TEST(binary_without_data_has_no_value)
{
        struct bin b = binary("{\"specversion\":\"1.0\",\"id\":\"x\"}");

        ck_assert_int_eq(b.rc, AB_OK);
        ck_assert_int_eq(b.has_value, 0);
        ck_assert_str_eq(b.ct, "");
        ck_assert_uint_eq(b.nheaders, 2);

        /* data: null under JSON is an explicit null payload. */
        b = binary("{\"id\":\"x\",\"data\":null}");
        ck_assert_str_eq(b.value, "null");
}
END_TEST

START_TEST(binary_rejects_non_events)
{
        struct bin b;

        b = binary("[1,2]");
        ck_assert_int_eq(b.rc, AB_ERR_DECODE);
        b = binary("{\"id\":");
        ck_assert_int_eq(b.rc, AB_ERR_DECODE);
        b = binary("{\"id\":\"1\",\"ext\":{\"a\":1}}");
        ck_assert_int_eq(b.rc, AB_ERR_DECODE);
        ck_assert_uint_eq(b.nheaders, 0);
        ck_assert_ptr_nonnull(strstr(b.err.text, "ext"));
        b = binary("{\"id\":\"1\",\"datacontenttype\":5}");
        ck_assert_int_eq(b.rc, AB_ERR_DECODE);
}
END_TEST

START_TEST(encoder_reuse_does_not_allocate)
{
        struct ab_ce_kafka *enc = ab_ce_kafka_new();
        struct ab_headers *h    = ab_headers_new();
        static const char b64[] = "{\"id\":\"1\",\"data_base64\":\"AAECAwQ=\"}";
        struct ab_str value;
        uint64_t before = 0;

        for (int i = 0; i < 200; i++) {
                if (i == 100)
                        before = ab_mem_allocations();
                ab_headers_reset(h);
                ck_assert_int_eq(
                    ab_ce_kafka_encode(enc, AB_CE_BINARY, event_json,
                                       strlen(event_json), h, &value, NULL),
                    AB_OK);
                ck_assert_int_eq(ab_ce_kafka_encode(enc, AB_CE_BINARY, b64,
                                                    strlen(b64), h, &value,
                                                    NULL),
                                 AB_OK);
        }
        ck_assert_uint_eq(ab_mem_allocations(), before);
        ab_headers_destroy(h);
        ab_ce_kafka_destroy(enc);
        ab_ce_kafka_destroy(NULL);
}
END_TEST

static void no_delivery(void *arg, void *opaque, ab_err_t status,
                        const struct ab_error *err)
{
        ck_abort_msg("no message was sent");
}

START_TEST(producer_config_errors)
{
        static const char *const no_idempotence[] = {"enable.idempotence",
                                                     "false", NULL};
        static const char *const unknown[]  = {"no.such.property", "1", NULL};
        static const char *const no_value[] = {"linger.ms", NULL};
        struct ab_producer_conf conf        = {.brokers     = "127.0.0.1:1",
                                               .on_delivery = no_delivery};
        struct ab_producer *p               = (struct ab_producer *)&conf;
        struct ab_error err;

        conf.properties = no_idempotence;
        ck_assert_int_eq(ab_producer_new(&conf, &p, &err), AB_ERR_CONFIG);
        ck_assert_ptr_null(p);
        ck_assert_str_eq(err.path, "enable.idempotence");

        conf.properties = unknown;
        ck_assert_int_eq(ab_producer_new(&conf, &p, &err), AB_ERR_CONFIG);
        ck_assert_str_eq(err.path, "no.such.property");

        conf.properties = no_value;
        ck_assert_int_eq(ab_producer_new(&conf, &p, &err), AB_ERR_CONFIG);

        conf.properties = NULL;
        conf.brokers    = "";
        ck_assert_int_eq(ab_producer_new(&conf, &p, &err), AB_ERR_CONFIG);
        conf.brokers     = "127.0.0.1:1";
        conf.on_delivery = NULL;
        ck_assert_int_eq(ab_producer_new(&conf, &p, &err), AB_ERR_CONFIG);
        ab_producer_destroy(NULL);
}
END_TEST

static void count_report(void *arg, void *opaque, ab_err_t status,
                         const struct ab_error *err)
{
        int *reports = arg;
        int i        = (int)(intptr_t)opaque;

        ck_assert_int_eq(status, AB_ERR_KAFKA);
        ck_assert_int_eq(err->code, AB_ERR_KAFKA);
        ck_assert_str_eq(err->path, "t");
        reports[i]++;
}

START_TEST(producer_queue_full_is_retry)
{
        /* No broker at 127.0.0.1:1: messages stay queued, so the bounded
         * queue fills and the next send reports AB_ERR_RETRY; destroy
         * then purges them and resolves every opaque exactly once. */
        static const char *const small[] = {"queue.buffering.max.messages", "5",
                                            "log_level", "0", NULL};
        int reports[6]                   = {0};
        struct ab_producer_conf conf     = {.brokers     = "127.0.0.1:1",
                                            .properties  = small,
                                            .on_delivery = count_report,
                                            .arg         = reports};
        struct ab_producer *p;
        struct ab_error err;

        ck_assert_int_eq(ab_producer_new(&conf, &p, &err), AB_OK);
        for (int i = 0; i < 5; i++)
                ck_assert_int_eq(ab_producer_send(p, "t", ab_str_c("k"),
                                                  ab_str_c("v"), NULL,
                                                  (void *)(intptr_t)i, &err),
                                 AB_OK);
        ck_assert_int_eq(ab_producer_send(p, "t", AB_STR_NULL, ab_str_c("v"),
                                          NULL, (void *)(intptr_t)5, &err),
                         AB_ERR_RETRY);
        ck_assert_int_eq(err.code, AB_ERR_RETRY);
        ck_assert_uint_eq(ab_producer_inflight(p), 5);
        ck_assert_int_eq(ab_producer_flush(p, 0, &err), AB_ERR_RETRY);
        ck_assert(!ab_producer_fatal(p, &err));
        ab_producer_destroy(p);
        for (int i = 0; i < 5; i++)
                ck_assert_int_eq(reports[i], 1);
        ck_assert_int_eq(reports[5], 0);
}
END_TEST

START_TEST(producer_topic_props)
{
        /* Topic-level properties for one topic: a codec librdkafka knows
         * is taken, an unknown one is a configuration error naming the
         * property; sends to the topic go through the kept handle. */
        static const char *const quiet[] = {"log_level", "0", NULL};
        static const char *const lz4[]   = {"compression.type", "lz4", NULL};
        static const char *const bad[]   = {"compression.type", "brotli", NULL};
        int reports[2]                   = {0};
        struct ab_producer_conf conf     = {.brokers     = "127.0.0.1:1",
                                            .properties  = quiet,
                                            .on_delivery = count_report,
                                            .arg         = reports};
        struct ab_producer *p;
        struct ab_error err;

        ck_assert_int_eq(ab_producer_new(&conf, &p, &err), AB_OK);
        ck_assert_int_eq(ab_producer_topic_props(p, "t", lz4, &err), AB_OK);
        ck_assert_int_eq(ab_producer_topic_props(p, "u", bad, &err),
                         AB_ERR_CONFIG);
        ck_assert_str_eq(err.path, "compression.type");
        ck_assert_int_eq(ab_producer_send(p, "t", ab_str_c("k"), ab_str_c("v"),
                                          NULL, (void *)(intptr_t)0, &err),
                         AB_OK);
        ab_producer_destroy(p);
        ck_assert_int_eq(reports[0], 1);
}
END_TEST

static void ok_report(void *arg, void *opaque, ab_err_t status,
                      const struct ab_error *err)
{
        int *reports = arg;

        (void)opaque;
        (void)err;
        ck_assert_int_eq(status, AB_OK);
        (*reports)++;
}

START_TEST(producer_prepare_topic)
{
        /* A lookup that cannot finish is RETRY naming the topic; against
         * librdkafka's in-process mock cluster it succeeds, twice (the
         * handle is kept), and the topic takes records. */
        static const char *const quiet[] = {"log_level", "0", NULL};
        static const char *const mock[]  = {"test.mock.num.brokers", "1",
                                            "log_level", "0", NULL};
        int reports                      = 0;
        struct ab_producer_conf conf     = {.brokers     = "127.0.0.1:1",
                                            .properties  = quiet,
                                            .on_delivery = ok_report,
                                            .arg         = &reports};
        struct ab_producer *p;
        struct ab_error err;

        ck_assert_int_eq(ab_producer_new(&conf, &p, &err), AB_OK);
        ck_assert_int_eq(ab_producer_prepare_topic(p, "t", 100, &err),
                         AB_ERR_RETRY);
        ck_assert_str_eq(err.path, "t");
        ck_assert_ptr_nonnull(strstr(err.text, "looking up t"));
        ab_producer_destroy(p);

        conf.properties = mock;
        ck_assert_int_eq(ab_producer_new(&conf, &p, &err), AB_OK);
        ck_assert_int_eq(ab_producer_prepare_topic(p, "t", 5000, &err), AB_OK);
        ck_assert_int_eq(ab_producer_prepare_topic(p, "t", 5000, &err), AB_OK);
        ck_assert_int_eq(ab_producer_send(p, "t", ab_str_c("k"), ab_str_c("v"),
                                          NULL, NULL, &err),
                         AB_OK);
        ck_assert_int_eq(ab_producer_flush(p, 5000, &err), AB_OK);
        ck_assert_int_eq(reports, 1);
        ab_producer_destroy(p);
}
END_TEST

static Suite *producer_suite(void)
{
        Suite *s  = suite_create("producer");
        TCase *tc = tcase_create("headers");

        tcase_add_test(tc, headers_keep_order_duplicates_and_nulls);
        tcase_add_test(tc, headers_grow_and_stop_allocating);
        tcase_add_test(tc, dlq_headers);
        suite_add_tcase(s, tc);
        tc = tcase_create("cloudevents");
        tcase_add_test(tc, mode_names);
        tcase_add_test(tc, structured_mode);
        tcase_add_test(tc, binary_mode_maps_every_attribute);
        tcase_add_test(tc, binary_data_by_content_type);
        tcase_add_test(tc, binary_data_base64);
        tcase_add_test(tc, binary_without_data_has_no_value);
        tcase_add_test(tc, binary_rejects_non_events);
        tcase_add_test(tc, encoder_reuse_does_not_allocate);
        suite_add_tcase(s, tc);
        tc = tcase_create("producer");
        tcase_add_test(tc, producer_config_errors);
        tcase_add_test(tc, producer_queue_full_is_retry);
        tcase_add_test(tc, producer_topic_props);
        tcase_add_test(tc, producer_prepare_topic);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(producer_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
