/* check_dead_letter.c - dead letters reduced to the producer's limit. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "producer/dead_letter.h"
#include "producer/headers.h"
#include "producer/producer.h"

/* sha256 of 5000 bytes 'v'. */
#define SHA_5000V                                                              \
        "917a40db715a90af25bfa24eec0d26fb090c9d89104a2e7abc9bc2900f670ddd"

static void assert_header(const struct ab_headers *h, const char *name,
                          const char *want)
{
        struct ab_str v = ab_headers_get(h, name);

        ck_assert_msg(v.ptr != NULL, "header %s missing", name);
        ck_assert_msg(ab_str_eq_c(v, want),
                      "header %s is \"%.*s\", want \"%s\"", name, (int)v.len,
                      v.ptr, want);
}

/* The dead-letter headers of a record from topic t, partition 2,
 * offset 7, after the record's own \p own headers of \p own_size bytes. */
static struct ab_headers *dlq_headers(int own, size_t own_size,
                                      const char *message)
{
        struct ab_headers *h = ab_headers_new();
        struct ab_error e;
        struct ab_dlq_info info = {.error       = &e,
                                   .topic       = "t",
                                   .partition   = 2,
                                   .offset      = 7,
                                   .integration = "am"};
        char *big               = ab_malloc(own_size + 1);

        ck_assert_ptr_nonnull(big);
        memset(big, 'h', own_size);
        big[own_size] = '\0';
        for (int i = 0; i < own; i++)
                ck_assert_int_eq(ab_headers_add_str(h, "own", big), AB_OK);
        ab_free(big);
        ab_error_set(&e, AB_ERR_DECODE, NULL, "%s", message);
        ck_assert_int_eq(ab_headers_add_dlq(h, &info), AB_OK);
        return h;
}

static char *filled(size_t n, char c)
{
        char *p = ab_malloc(n ? n : 1);

        ck_assert_ptr_nonnull(p);
        memset(p, c, n);
        return p;
}

START_TEST(fitting_dead_letter_is_unchanged)
{
        struct ab_headers *h = dlq_headers(1, 10, "bad json");
        struct ab_str key = ab_str_c("k"), value = ab_str_c("{");
        size_t before = ab_headers_count(h);
        bool reduced  = true;

        ck_assert_int_eq(ab_dead_letter_fit(h, &key, &value, 1000, &reduced),
                         AB_OK);
        ck_assert(!reduced);
        ck_assert(ab_str_eq_c(key, "k"));
        ck_assert(ab_str_eq_c(value, "{"));
        ck_assert_uint_eq(ab_headers_count(h), before);
        ck_assert_ptr_null(ab_headers_get(h, AB_DLQ_HDR_TRUNCATED).ptr);
        ab_headers_destroy(h);
}
END_TEST

START_TEST(oversize_value_is_cut_with_size_and_hash)
{
        char *v              = filled(5000, 'v');
        struct ab_headers *h = dlq_headers(2, 20, "undecodable");
        struct ab_str key = ab_str_c("key"), value = ab_str_make(v, 5000);
        bool reduced;

        ck_assert_uint_gt(ab_dead_letter_size(key, value, h), 4000);
        ck_assert_int_eq(ab_dead_letter_fit(h, &key, &value, 4000, &reduced),
                         AB_OK);
        ck_assert(reduced);
        ck_assert_uint_le(ab_dead_letter_size(key, value, h), 4000);
        ck_assert(ab_str_eq_c(key, "key"));
        ck_assert_ptr_eq(value.ptr, v);
        ck_assert_uint_gt(value.len, 3000); /* the room left, used */
        assert_header(h, AB_DLQ_HDR_TRUNCATED, "true");
        assert_header(h, AB_DLQ_HDR_ORIGINAL_SIZE, "5000");
        assert_header(h, AB_DLQ_HDR_ORIGINAL_SHA256, SHA_5000V);
        assert_header(h, AB_DLQ_HDR_ERROR_CODE, "decode");
        assert_header(h, AB_DLQ_HDR_ERROR_MESSAGE, "undecodable");
        assert_header(h, AB_DLQ_HDR_TOPIC, "t");
        assert_header(h, AB_DLQ_HDR_PARTITION, "2");
        assert_header(h, AB_DLQ_HDR_OFFSET, "7");
        assert_header(h, AB_DLQ_HDR_INTEGRATION, "am");
        /* The record's own small headers stay, in order, first. */
        {
                const char *name;
                struct ab_str hv;

                ck_assert_int_eq(ab_headers_at(h, 0, &name, &hv), 0);
                ck_assert_str_eq(name, "own");
                ck_assert_int_eq(ab_headers_at(h, 1, &name, &hv), 0);
                ck_assert_str_eq(name, "own");
        }
        ck_assert_ptr_null(ab_headers_get(h, AB_DLQ_HDR_HEADERS_DROPPED).ptr);
        ck_assert_ptr_null(ab_headers_get(h, AB_DLQ_HDR_ORIGINAL_KEYSIZE).ptr);
        ab_headers_destroy(h);
        ab_free(v);
}
END_TEST

START_TEST(everything_oversize_fits_librdkafkas_minimum)
{
        /* A huge key, huge own headers and a long message: still fits
         * the smallest limit. */
        char *k              = filled(500000, 'k');
        char *msg            = filled(470, 'm');
        struct ab_headers *h = NULL;
        struct ab_str key = ab_str_make(k, 500000), value = AB_STR_NULL;
        bool reduced;

        msg[469] = '\0';
        h        = dlq_headers(50, 2000, msg);
        ck_assert_int_eq(ab_dead_letter_fit(h, &key, &value, 1000, &reduced),
                         AB_OK);
        ck_assert(reduced);
        ck_assert_uint_le(ab_dead_letter_size(key, value, h), 1000);
        ck_assert_uint_eq(value.len, 0);
        ck_assert_uint_eq(key.len, 1000 / 16);
        assert_header(h, AB_DLQ_HDR_ORIGINAL_KEYSIZE, "500000");
        assert_header(h, AB_DLQ_HDR_HEADERS_DROPPED, "50");
        assert_header(h, AB_DLQ_HDR_ORIGINAL_SIZE, "0");
        assert_header(h, AB_DLQ_HDR_ERROR_CODE, "decode");
        assert_header(h, AB_DLQ_HDR_TOPIC, "t");
        ck_assert_uint_le(ab_headers_get(h, AB_DLQ_HDR_ERROR_MESSAGE).len, 256);
        ab_headers_destroy(h);
        ab_free(k);
        ab_free(msg);
}
END_TEST

START_TEST(forged_dead_letter_headers_are_dropped)
{
        char *v              = filled(3000, 'v');
        struct ab_headers *h = ab_headers_new();
        struct ab_str key = AB_STR_NULL, value = ab_str_make(v, 3000);
        struct ab_error e;
        struct ab_dlq_info info = {.error = &e, .topic = "t"};
        bool reduced;

        for (int i = 0; i < 2000; i++)
                ck_assert_int_eq(
                    ab_headers_add_str(h, AB_DLQ_HDR_ERROR_CODE, "forged"),
                    AB_OK);
        ab_error_set(&e, AB_ERR_TOO_LARGE, NULL, "too big");
        ck_assert_int_eq(ab_headers_add_dlq(h, &info), AB_OK);
        ck_assert_int_eq(ab_dead_letter_fit(h, &key, &value, 2000, &reduced),
                         AB_OK);
        ck_assert(reduced);
        ck_assert_uint_le(ab_dead_letter_size(key, value, h), 2000);
        assert_header(h, AB_DLQ_HDR_ERROR_CODE, "too_large");
        ab_headers_destroy(h);
        ab_free(v);
}
END_TEST

START_TEST(many_headers_take_linear_time)
{
        /* 300,000 small headers (a record of about 3 MB): reduced in one
         * pass each, not one scan of the list per header. */
        struct ab_headers *h = ab_headers_new();
        struct ab_str key = AB_STR_NULL, value = ab_str_c("v");
        struct ab_error e;
        struct ab_dlq_info info = {.error = &e, .topic = "t"};
        bool reduced;

        for (int i = 0; i < 300000; i++)
                ck_assert_int_eq(ab_headers_add_str(h, "h", ""), AB_OK);
        ab_error_set(&e, AB_ERR_DECODE, NULL, "bad");
        ck_assert_int_eq(ab_headers_add_dlq(h, &info), AB_OK);
        ck_assert_int_eq(ab_dead_letter_fit(h, &key, &value, 1000000, &reduced),
                         AB_OK);
        ck_assert(reduced);
        ck_assert_uint_le(ab_dead_letter_size(key, value, h), 1000000);
        ck_assert(ab_str_eq_c(value, "v"));
        assert_header(h, AB_DLQ_HDR_ERROR_CODE, "decode");
        ck_assert_ptr_nonnull(
            ab_headers_get(h, AB_DLQ_HDR_HEADERS_DROPPED).ptr);
        ab_headers_destroy(h);
}
END_TEST

START_TEST(cut_values_stay_utf8)
{
        /* 400 three-byte characters: cut to 341 of them, not at 1024. */
        char msg[1201];
        char *v              = filled(3000, 'v');
        struct ab_headers *h = ab_headers_new();
        struct ab_str key = AB_STR_NULL, value = ab_str_make(v, 3000);
        struct ab_str m;
        bool reduced;

        for (int i = 0; i < 400; i++)
                memcpy(msg + 3 * i, "\xe2\x82\xac", 3);
        msg[1200] = '\0';
        ck_assert_int_eq(ab_headers_add_str(h, AB_DLQ_HDR_ERROR_MESSAGE, msg),
                         AB_OK);
        ck_assert_int_eq(ab_dead_letter_fit(h, &key, &value, 2000, &reduced),
                         AB_OK);
        ck_assert(reduced);
        m = ab_headers_get(h, AB_DLQ_HDR_ERROR_MESSAGE);
        ck_assert_uint_eq(m.len, 1023);
        ck_assert_uint_le(ab_dead_letter_size(key, value, h), 2000);
        ab_headers_destroy(h);
        ab_free(v);
}
END_TEST

START_TEST(limit_below_the_reduced_form_is_too_large)
{
        char *v              = filled(3000, 'v');
        struct ab_headers *h = dlq_headers(1, 10, "x");
        struct ab_str key = ab_str_c("k"), value = ab_str_make(v, 3000);
        size_t before = ab_headers_count(h);
        bool reduced;

        ck_assert_int_eq(ab_dead_letter_fit(h, &key, &value, 300, &reduced),
                         AB_ERR_TOO_LARGE);
        ck_assert(!reduced);
        ck_assert_uint_eq(value.len, 3000);
        ck_assert_uint_eq(ab_headers_count(h), before);
        ab_headers_destroy(h);
        ab_free(v);
}
END_TEST

static void ignore_report(void *arg, void *opaque, ab_err_t status,
                          const struct ab_error *err)
{
        (void)arg;
        (void)opaque;
        (void)status;
        (void)err;
}

START_TEST(librdkafka_accepts_the_reduced_form)
{
        /* No broker at 127.0.0.1:1: send only checks the size, and
         * destroy purges what was queued. */
        static const char *const props[] = {
            "message.max.bytes", "1000", "batch.size", "1000",
            "log_level",         "0",    NULL};
        struct ab_producer_conf conf = {.brokers     = "127.0.0.1:1",
                                        .properties  = props,
                                        .on_delivery = ignore_report};
        char *v                      = filled(100000, 'v');
        struct ab_headers *h         = dlq_headers(3, 300, "bad");
        struct ab_str key = ab_str_c("k"), value = ab_str_make(v, 100000);
        struct ab_producer *p;
        struct ab_error err;
        bool reduced;

        ck_assert_int_eq(ab_producer_new(&conf, &p, &err), AB_OK);
        ck_assert_uint_eq(ab_producer_max_message_bytes(p), 1000);
        ck_assert_int_eq(ab_producer_send(p, "t", key, value, h, NULL, &err),
                         AB_ERR_TOO_LARGE);
        ck_assert_int_eq(ab_dead_letter_fit(h, &key, &value,
                                            ab_producer_max_message_bytes(p),
                                            &reduced),
                         AB_OK);
        ck_assert(reduced);
        ck_assert_uint_gt(value.len, 0);
        ck_assert_int_eq(ab_producer_send(p, "t", key, value, h, NULL, &err),
                         AB_OK);
        /* librdkafka counts less framing: a few more bytes still pass. */
        value.len += 20;
        ck_assert_int_eq(ab_producer_send(p, "t", key, value, h, NULL, &err),
                         AB_OK);
        ab_producer_destroy(p);
        ab_headers_destroy(h);
        ab_free(v);
}
END_TEST

START_TEST(max_message_bytes_default)
{
        static const char *const quiet[] = {"log_level", "0", NULL};
        struct ab_producer_conf conf     = {.brokers     = "127.0.0.1:1",
                                            .properties  = quiet,
                                            .on_delivery = ignore_report};
        struct ab_producer *p;
        struct ab_error err;

        ck_assert_int_eq(ab_producer_new(&conf, &p, &err), AB_OK);
        ck_assert_uint_eq(ab_producer_max_message_bytes(p), 1000000);
        ab_producer_destroy(p);
}
END_TEST

static Suite *dead_letter_suite(void)
{
        Suite *s  = suite_create("dead_letter");
        TCase *tc = tcase_create("fit");

        /* Check's default of 4 s per test is too tight for 300,000
         * headers (and a producer's start and purge) on a loaded machine
         * under ASan; a quadratic pass would still take far longer. */
        tcase_set_timeout(tc, 60);

        tcase_add_test(tc, fitting_dead_letter_is_unchanged);
        tcase_add_test(tc, oversize_value_is_cut_with_size_and_hash);
        tcase_add_test(tc, everything_oversize_fits_librdkafkas_minimum);
        tcase_add_test(tc, forged_dead_letter_headers_are_dropped);
        tcase_add_test(tc, many_headers_take_linear_time);
        tcase_add_test(tc, cut_values_stay_utf8);
        tcase_add_test(tc, limit_below_the_reduced_form_is_too_large);
        suite_add_tcase(s, tc);
        tc = tcase_create("producer");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, librdkafka_accepts_the_reduced_form);
        tcase_add_test(tc, max_message_bytes_default);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(dead_letter_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
