/* check_deferred.c - the sends the exactly_once loop holds while a commit
 * is in flight (pipeline/deferred.h): replayed in order with everything
 * they carried, bounded, resumable after a failed send, reused. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/deferred.h"
#include "producer/headers.h"

#define MAX_SEEN 64

/* What a replay handed over, copied. */
struct seen {
        int n;
        int fail_at; /* fail the send with this index (-1 never) */
        char topic[MAX_SEEN][32];
        int32_t partition[MAX_SEEN];
        char key[MAX_SEEN][32], value[MAX_SEEN][64];
        int key_null[MAX_SEEN], value_null[MAX_SEEN];
        int kind[MAX_SEEN];
        int nheaders[MAX_SEEN];
        char headers[MAX_SEEN][128]; /* name=value;... (value ~ for null) */
};

static void copy_str(char *out, size_t cap, struct ab_str s, int *null)
{
        *null = s.ptr == NULL;
        snprintf(out, cap, "%.*s", (int)s.len, s.ptr ? s.ptr : "");
}

static ab_err_t record(void *arg, const struct ab_deferred_send *s)
{
        struct seen *v = arg;
        const char *name;
        struct ab_str value;
        int i = v->n;

        if (i == v->fail_at) {
                v->fail_at = -1;
                return AB_ERR_RETRY;
        }
        ck_assert_int_lt(i, MAX_SEEN);
        snprintf(v->topic[i], sizeof(v->topic[i]), "%s", s->topic);
        v->partition[i] = s->partition;
        copy_str(v->key[i], sizeof(v->key[i]), s->key, &v->key_null[i]);
        copy_str(v->value[i], sizeof(v->value[i]), s->value, &v->value_null[i]);
        v->kind[i]       = s->kind;
        v->headers[i][0] = '\0';
        v->nheaders[i]   = s->headers ? (int)ab_headers_count(s->headers) : 0;
        for (size_t h = 0;
             s->headers && !ab_headers_at(s->headers, h, &name, &value); h++) {
                size_t at = strlen(v->headers[i]);

                if (value.ptr)
                        snprintf(v->headers[i] + at, sizeof(v->headers[i]) - at,
                                 "%s=%.*s;", name, (int)value.len, value.ptr);
                else
                        snprintf(v->headers[i] + at, sizeof(v->headers[i]) - at,
                                 "%s=~;", name);
        }
        v->n++;
        return AB_OK;
}

static struct ab_deferred_send send_of(const char *topic, int32_t partition,
                                       const char *key, const char *value,
                                       const struct ab_headers *h, int kind)
{
        struct ab_deferred_send s;

        memset(&s, 0, sizeof(s));
        s.topic     = topic;
        s.partition = partition;
        s.key       = ab_str_c(key);
        s.value     = ab_str_c(value);
        s.headers   = h;
        s.kind      = kind;
        return s;
}

START_TEST(test_order_and_content)
{
        struct ab_deferred d;
        struct ab_headers *h = ab_headers_new();
        struct ab_deferred_send s;
        struct seen v;
        char key[16], value[32];

        memset(&v, 0, sizeof(v));
        v.fail_at = -1;
        ck_assert_ptr_nonnull(h);
        ck_assert_int_eq(ab_deferred_init(&d, 1 << 20, 100), AB_OK);
        /* Events with headers (a duplicate name and a null value kept). */
        ck_assert_int_eq(ab_headers_add_str(h, "ce_type", "create"), AB_OK);
        ck_assert_int_eq(ab_headers_add_str(h, "ce_type", "again"), AB_OK);
        ck_assert_int_eq(ab_headers_add(h, "empty", ab_str_make("", 0)), AB_OK);
        ck_assert_int_eq(ab_headers_add(h, "null", ab_str_make(NULL, 0)),
                         AB_OK);
        for (int i = 0; i < 10; i++) {
                snprintf(key, sizeof(key), "k%d", i % 3);
                snprintf(value, sizeof(value), "v%d", i);
                s = send_of(i % 2 ? "events" : "g.alerts", i % 2 ? -1 : i, key,
                            value, i % 2 ? h : NULL, 1 + i % 3);
                ck_assert_int_eq(ab_deferred_add(&d, &s), AB_OK);
        }
        /* A tombstone (NULL value), an empty value, no key. */
        s = send_of("g.lifecycle-changelog", 3, "fp", NULL, NULL, 3);
        ck_assert_int_eq(ab_deferred_add(&d, &s), AB_OK);
        s = send_of("dlq", -1, NULL, "", NULL, 2);
        ck_assert_int_eq(ab_deferred_add(&d, &s), AB_OK);
        /* What was held is a copy: the caller's headers change now. */
        ab_headers_reset(h);
        ck_assert_uint_eq(ab_deferred_count(&d), 12);

        ck_assert_int_eq(ab_deferred_replay(&d, record, &v), AB_OK);
        ck_assert_int_eq(v.n, 12);
        ck_assert_uint_eq(ab_deferred_count(&d), 0);
        for (int i = 0; i < 10; i++) {
                snprintf(key, sizeof(key), "k%d", i % 3);
                snprintf(value, sizeof(value), "v%d", i);
                ck_assert_str_eq(v.topic[i], i % 2 ? "events" : "g.alerts");
                ck_assert_int_eq(v.partition[i], i % 2 ? -1 : i);
                ck_assert_str_eq(v.key[i], key);
                ck_assert_str_eq(v.value[i], value);
                ck_assert_int_eq(v.kind[i], 1 + i % 3);
                ck_assert_int_eq(v.nheaders[i], i % 2 ? 4 : 0);
                ck_assert_str_eq(v.headers[i],
                                 i % 2 ? "ce_type=create;ce_type=again;"
                                         "empty=;null=~;"
                                       : "");
        }
        ck_assert_str_eq(v.topic[10], "g.lifecycle-changelog");
        ck_assert_int_eq(v.partition[10], 3);
        ck_assert_int_eq(v.value_null[10], 1);
        ck_assert_int_eq(v.key_null[10], 0);
        ck_assert_int_eq(v.key_null[11], 1);
        ck_assert_int_eq(v.value_null[11], 0);
        ck_assert_str_eq(v.value[11], "");
        /* Nothing left to replay. */
        ck_assert_int_eq(ab_deferred_replay(&d, record, &v), AB_OK);
        ck_assert_int_eq(v.n, 12);
        ab_deferred_fini(&d);
        ab_headers_destroy(h);
}
END_TEST

START_TEST(test_bounds)
{
        struct ab_deferred d;
        struct ab_deferred_send s = send_of("t", 0, "k", "0123456789", NULL, 1);
        size_t one                = ab_deferred_size(&s);
        struct ab_deferred_send big =
            send_of("t", 0, "k", "0123456789012345678901234567890", NULL, 1);
        struct seen v;

        memset(&v, 0, sizeof(v));
        v.fail_at = -1;
        /* Room for three by bytes, five by count. */
        ck_assert_int_eq(ab_deferred_init(&d, 3 * one, 5), AB_OK);
        for (int i = 0; i < 3; i++)
                ck_assert_int_eq(ab_deferred_add(&d, &s), AB_OK);
        ck_assert_int_eq(ab_deferred_add(&d, &s), AB_ERR_TOO_LARGE);
        ck_assert_uint_eq(ab_deferred_count(&d), 3);
        ck_assert_int_eq(ab_deferred_replay(&d, record, &v), AB_OK);
        ck_assert_int_eq(v.n, 3);
        /* Emptied by the replay: the room is back. A send larger than
         * the whole bound is never held. */
        ck_assert_int_eq(ab_deferred_add(&d, &s), AB_OK);
        ab_deferred_fini(&d);

        ck_assert_int_eq(ab_deferred_init(&d, 100 * one, 5), AB_OK);
        for (int i = 0; i < 5; i++)
                ck_assert_int_eq(ab_deferred_add(&d, &s), AB_OK);
        ck_assert_int_eq(ab_deferred_add(&d, &s), AB_ERR_TOO_LARGE);
        ab_deferred_reset(&d);
        ck_assert_uint_eq(ab_deferred_count(&d), 0);
        ck_assert_int_eq(ab_deferred_add(&d, &big), AB_OK);
        ab_deferred_fini(&d);

        ck_assert_int_eq(ab_deferred_init(&d, one, 5), AB_OK);
        ck_assert_int_eq(ab_deferred_add(&d, &big), AB_ERR_TOO_LARGE);
        ck_assert_uint_eq(ab_deferred_count(&d), 0);
        ab_deferred_fini(&d);
}
END_TEST

/* A send that fails stops the replay there; the next replay starts with
 * it, and sends held meanwhile come after. */
START_TEST(test_replay_resumes)
{
        struct ab_deferred d;
        struct ab_deferred_send s;
        struct seen v;
        char value[16];

        memset(&v, 0, sizeof(v));
        v.fail_at = 4;
        ck_assert_int_eq(ab_deferred_init(&d, 1 << 16, 1000), AB_OK);
        for (int i = 0; i < 8; i++) {
                snprintf(value, sizeof(value), "v%d", i);
                s = send_of("t", 0, "k", value, NULL, 1);
                ck_assert_int_eq(ab_deferred_add(&d, &s), AB_OK);
        }
        ck_assert_int_eq(ab_deferred_replay(&d, record, &v), AB_ERR_RETRY);
        ck_assert_int_eq(v.n, 4);
        ck_assert_uint_eq(ab_deferred_count(&d), 4);
        /* Enough held after it to make the buffer move its rest down. */
        for (int i = 8; i < 40; i++) {
                snprintf(value, sizeof(value), "v%d", i);
                s = send_of("t", 0, "k", value, NULL, 1);
                ck_assert_int_eq(ab_deferred_add(&d, &s), AB_OK);
        }
        ck_assert_int_eq(ab_deferred_replay(&d, record, &v), AB_OK);
        ck_assert_int_eq(v.n, 40);
        for (int i = 0; i < 40; i++) {
                snprintf(value, sizeof(value), "v%d", i);
                ck_assert_str_eq(v.value[i], value);
        }
        ab_deferred_fini(&d);
}
END_TEST

static ab_err_t add_again(void *arg, const struct ab_deferred_send *s)
{
        return ab_deferred_add(arg, s);
}

/* The buffer is reused: a second cycle of the same size does not grow
 * it; a replay's callback cannot hold more. */
START_TEST(test_reuse)
{
        struct ab_deferred d;
        struct ab_deferred_send s = send_of("t", 1, "k", "value", NULL, 1);
        struct seen v;
        size_t cap;

        memset(&v, 0, sizeof(v));
        v.fail_at = -1;
        ck_assert_int_eq(ab_deferred_init(&d, 1 << 16, 1000), AB_OK);
        for (int i = 0; i < 20; i++)
                ck_assert_int_eq(ab_deferred_add(&d, &s), AB_OK);
        ck_assert_int_eq(ab_deferred_replay(&d, record, &v), AB_OK);
        cap = d.data.cap;
        v.n = 0;
        for (int i = 0; i < 20; i++)
                ck_assert_int_eq(ab_deferred_add(&d, &s), AB_OK);
        ck_assert_uint_eq(d.data.cap, cap);
        ck_assert_int_eq(ab_deferred_replay(&d, add_again, &d),
                         AB_ERR_INTERNAL);
        ck_assert_uint_eq(ab_deferred_count(&d), 20);
        ab_deferred_fini(&d);
        ab_deferred_fini(&d);
}
END_TEST

static Suite *deferred_suite(void)
{
        Suite *s = suite_create("deferred");
        TCase *tc;

        tc = tcase_create("deferred");
        tcase_add_test(tc, test_order_and_content);
        tcase_add_test(tc, test_bounds);
        tcase_add_test(tc, test_replay_resumes);
        tcase_add_test(tc, test_reuse);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(deferred_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
