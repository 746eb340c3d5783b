/* check_kafka_producer.c - Kafka edge tests of the producer: records and
 * CloudEvents bindings read back by kcat, size errors reported. */
#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "producer/cloudevents_kafka.h"
#include "producer/headers.h"
#include "tests/integration/check_kafka_edges.h"
#include "tests/integration/kafka_edges_fixture.h"

static void wait_reports(struct ab_producer *p, struct reports *r, int n)
{
        double end = now_s() + DEADLINE_S;

        while (r->n < n && now_s() < end)
                ab_producer_poll(p, 100);
        ck_assert_int_eq(r->n, n);
}

START_TEST(producer_records_read_back_by_kcat)
{
        struct reports r      = {0};
        struct ab_producer *p = producer(&r, NULL);
        struct ab_headers *h  = ab_headers_new();
        char topic[128], key[16], value[32], want[128], got[256];
        struct ab_error err;
        json_t *recs;

        unique_name(topic, sizeof(topic), "produce");
        create_topic(topic, 1);
        for (int i = 0; i < 20; i++) {
                snprintf(key, sizeof(key), "k%d", i);
                snprintf(value, sizeof(value), "value %d", i);
                ab_headers_reset(h);
                ab_headers_add_i64(h, "seq", i);
                ab_headers_add_str(h, "dup", "first");
                ab_headers_add_str(h, "dup", "second");
                ck_assert_int_eq(ab_producer_send(p, topic, ab_str_c(key),
                                                  ab_str_c(value), h,
                                                  (void *)(intptr_t)i, &err),
                                 AB_OK);
        }
        /* A record without key, headers or value. */
        ck_assert_int_eq(ab_producer_send(p, topic, AB_STR_NULL, AB_STR_NULL,
                                          NULL, (void *)(intptr_t)20, &err),
                         AB_OK);
        ck_assert_int_eq(ab_producer_flush(p, DEADLINE_S * 1000, &err), AB_OK);
        ck_assert_int_eq(r.n, 21);
        for (int i = 0; i < 21; i++) {
                ck_assert_int_eq(r.ok[i], 1);
                ck_assert_int_eq(r.failed[i], 0);
        }
        ck_assert_uint_eq(ab_producer_inflight(p), 0);

        recs = kcat_read(topic, 21);
        for (int i = 0; i < 20; i++) {
                json_t *rec = json_array_get(recs, (size_t)i);

                snprintf(key, sizeof(key), "k%d", i);
                snprintf(value, sizeof(value), "value %d", i);
                ck_assert_str_eq(jstr(rec, "key"), key);
                ck_assert_str_eq(jstr(rec, "payload"), value);
                jheaders(rec, got, sizeof(got));
                snprintf(want, sizeof(want), "seq=%d;dup=first;dup=second", i);
                ck_assert_str_eq(got, want);
        }
        ck_assert(
            json_is_null(json_object_get(json_array_get(recs, 20), "payload")));
        ck_assert(
            json_is_null(json_object_get(json_array_get(recs, 20), "key")));
        json_decref(recs);
        ab_headers_destroy(h);
        ab_producer_destroy(p);
}
END_TEST

static const char event[] =
    "{\"specversion\":\"1.0\",\"id\":\"0123456789abcdef0123456789abcdef\","
    "\"source\":\"alertbridge\",\"type\":\"aliyun:arms:alarm:create\","
    "\"subject\":\"HostDown\",\"time\":\"2024-05-01T10:00:00.000Z\","
    "\"datacontenttype\":\"application/json; charset=utf-8\","
    "\"alertid\":\"fedcba9876543210fedcba9876543210\","
    "\"integration\":\"network-monitor\",\"alertcount\":2,"
    "\"data\":{\"owner\":\"ops-oncall\",\"data\":{\"status\":\"firing\","
    "\"level\":\"P1\"}}}";

START_TEST(cloudevents_bindings_on_the_wire)
{
        struct reports r        = {0};
        struct ab_producer *p   = producer(&r, NULL);
        struct ab_headers *h    = ab_headers_new();
        struct ab_ce_kafka *enc = ab_ce_kafka_new();
        char topic[128], got[1024];
        struct ab_error err;
        struct ab_str value;
        json_t *recs, *rec, *payload, *want;

        unique_name(topic, sizeof(topic), "bindings");
        create_topic(topic, 1);
        ck_assert_int_eq(ab_ce_kafka_encode(enc, AB_CE_STRUCTURED, event,
                                            strlen(event), h, &value, &err),
                         AB_OK);
        ck_assert_int_eq(ab_producer_send(p, topic, ab_str_c("fp1"), value, h,
                                          (void *)(intptr_t)0, &err),
                         AB_OK);
        ab_headers_reset(h);
        ck_assert_int_eq(ab_ce_kafka_encode(enc, AB_CE_BINARY, event,
                                            strlen(event), h, &value, &err),
                         AB_OK);
        ck_assert_int_eq(ab_producer_send(p, topic, ab_str_c("fp1"), value, h,
                                          (void *)(intptr_t)1, &err),
                         AB_OK);
        ck_assert_int_eq(ab_producer_flush(p, DEADLINE_S * 1000, &err), AB_OK);
        ck_assert_int_eq(r.ok[0] + r.ok[1], 2);

        recs = kcat_read(topic, 2);
        /* Structured: one content-type header, the event as the value. */
        rec = json_array_get(recs, 0);
        jheaders(rec, got, sizeof(got));
        ck_assert_str_eq(got, "content-type=application/cloudevents+json; "
                              "charset=UTF-8");
        ck_assert_str_eq(jstr(rec, "payload"), event);
        ck_assert_str_eq(jstr(rec, "key"), "fp1");
        /* Binary: ce_ headers, content-type, the data as the value. */
        rec = json_array_get(recs, 1);
        jheaders(rec, got, sizeof(got));
        ck_assert_str_eq(got, "ce_specversion=1.0;"
                              "ce_id=0123456789abcdef0123456789abcdef;"
                              "ce_source=alertbridge;"
                              "ce_type=aliyun:arms:alarm:create;"
                              "ce_subject=HostDown;"
                              "ce_time=2024-05-01T10:00:00.000Z;"
                              "ce_alertid=fedcba9876543210fedcba9876543210;"
                              "ce_integration=network-monitor;"
                              "ce_alertcount=2;"
                              "content-type=application/json; charset=utf-8");
        payload = json_loads(jstr(rec, "payload"), 0, NULL);
        want    = json_pack("{s:s,s:{s:s,s:s}}", "owner", "ops-oncall", "data",
                            "status", "firing", "level", "P1");
        ck_assert(json_equal(payload, want));
        json_decref(payload);
        json_decref(want);
        json_decref(recs);
        ab_ce_kafka_destroy(enc);
        ab_headers_destroy(h);
        ab_producer_destroy(p);
}
END_TEST

START_TEST(producer_reports_size_errors)
{
        static const char *const props[] = {"message.max.bytes", "3000000",
                                            NULL};
        struct reports r                 = {0};
        struct ab_producer *p            = producer(&r, props);
        size_t big  = 1500000; /* over the broker's 1 MiB limit */
        char *value = malloc(3100000);
        char topic[128];
        struct ab_error err;

        ck_assert_ptr_nonnull(value);
        memset(value, 'x', 3100000);
        unique_name(topic, sizeof(topic), "size");
        create_topic(topic, 1);
        /* Over our own limit: refused at once, no report follows. */
        ck_assert_int_eq(ab_producer_send(p, topic, AB_STR_NULL,
                                          ab_str_make(value, 3100000), NULL,
                                          (void *)(intptr_t)0, &err),
                         AB_ERR_TOO_LARGE);
        ck_assert_int_eq(err.code, AB_ERR_TOO_LARGE);
        /* Over the broker's limit: accepted here, refused by the broker,
         * reported as a failed delivery. */
        ck_assert_int_eq(ab_producer_send(p, topic, AB_STR_NULL,
                                          ab_str_make(value, big), NULL,
                                          (void *)(intptr_t)1, &err),
                         AB_OK);
        ck_assert_int_eq(ab_producer_send(p, topic, AB_STR_NULL,
                                          ab_str_c("small"), NULL,
                                          (void *)(intptr_t)2, &err),
                         AB_OK);
        wait_reports(p, &r, 2);
        ck_assert_int_eq(r.failed[1], 1);
        ck_assert_int_eq(r.ok[2], 1);
        ck_assert_int_eq(r.ok[0] + r.failed[0], 0);
        ck_assert(!ab_producer_fatal(p, NULL));
        free(value);
        ab_producer_destroy(p);
}
END_TEST

TCase *kafka_producer_tcase(void)
{
        TCase *tc = tcase_create("producer");

        tcase_set_timeout(tc, 180);
        tcase_add_test(tc, producer_records_read_back_by_kcat);
        tcase_add_test(tc, cloudevents_bindings_on_the_wire);
        tcase_add_test(tc, producer_reports_size_errors);
        return tc;
}
