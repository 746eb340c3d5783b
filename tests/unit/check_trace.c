/* check_trace.c - W3C Trace Context validation of traceparent and
 * tracestate. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/trace.h"

#define TP "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

static const char *const good_parents[] = {
    TP,
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00",
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-ff",
    /* a future version: the version 00 fields, then the end or '-' */
    "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-the-future",
    "fe-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-09-",
};

static const char *const bad_parents[] = {
    "",
    "00",
    /* version 00 is exactly 55 characters */
    TP "-",
    TP "0",
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1",
    /* version ff is invalid */
    "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    /* upper-case hex */
    "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
    "00-0af7651916cd43dd8448eb211c80319c-B7AD6B7169203331-01",
    "0A-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0F",
    /* all-zero ids */
    "00-00000000000000000000000000000000-b7ad6b7169203331-01",
    "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
    "01-00000000000000000000000000000000-b7ad6b7169203331-01",
    /* separators and field lengths */
    "00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "00-0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331-01",
    "00-0af7651916cd43dd8448eb211c80319cb-7ad6b7169203331-01",
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331_01",
    "0g-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    " 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    /* a future version: '-' after the flags, visible ASCII after */
    "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x",
    "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-a b",
    "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-\x01",
};

START_TEST(traceparent_valid)
{
        for (size_t i = 0; i < sizeof(good_parents) / sizeof(*good_parents);
             i++)
                ck_assert_msg(ab_traceparent_valid(ab_str_c(good_parents[i])),
                              "refused \"%s\"", good_parents[i]);
}
END_TEST

START_TEST(traceparent_invalid)
{
        for (size_t i = 0; i < sizeof(bad_parents) / sizeof(*bad_parents); i++)
                ck_assert_msg(!ab_traceparent_valid(ab_str_c(bad_parents[i])),
                              "accepted \"%s\"", bad_parents[i]);
        ck_assert(!ab_traceparent_valid(AB_STR_NULL));
        /* an embedded NUL is a byte like any other */
        ck_assert(!ab_traceparent_valid(
            ab_str_make("00-0af7651916cd43dd8448eb211c80319c-b7ad6b71692\0"
                        "3331-01",
                        55)));
}
END_TEST

START_TEST(traceparent_future_version_bounded)
{
        char s[AB_TRACEPARENT_MAX + 2];

        memset(s, 'a', sizeof(s));
        memcpy(s, TP, AB_TRACEPARENT_LEN);
        s[1]                  = '1'; /* version 01 */
        s[AB_TRACEPARENT_LEN] = '-';
        ck_assert(ab_traceparent_valid(ab_str_make(s, AB_TRACEPARENT_MAX)));
        ck_assert(
            !ab_traceparent_valid(ab_str_make(s, AB_TRACEPARENT_MAX + 1)));
}
END_TEST

static const char *const good_states[] = {
    "",
    "congo=t61rcWkgMzE",
    "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
    " rojo=00f067aa0ba902b7 ,\tcongo=t61rcWkgMzE\t",
    "a=1,,b=2,",
    ", ,",
    "tenant1@vendor=x",
    "0tenant@v=x",
    "k_-*/9=v a+l~ue!",
    "k= leading-space-is-a-chr",
};

static const char *const bad_states[] = {
    "rojo",                /* no '=' */
    "=x",                  /* empty key */
    "k=",                  /* empty value */
    "Rojo=1",              /* upper-case key */
    "1abc=1",              /* a simple key starts with a letter */
    "k!=1",                /* key character */
    "k=a=b",               /* '=' in a value */
    "k=\x01",              /* control character */
    "k=caf\xc3\xa9",       /* not ASCII */
    "@v=x",                /* empty tenant */
    "t@=x",                /* empty system */
    "t@V=x",               /* system starts with a letter */
    "t@v@w=x",             /* two '@' */
    "t@abcdefghijklmno=x", /* system id over 14 */
};

START_TEST(tracestate_valid)
{
        for (size_t i = 0; i < sizeof(good_states) / sizeof(*good_states); i++)
                ck_assert_msg(ab_tracestate_valid(ab_str_c(good_states[i])),
                              "refused \"%s\"", good_states[i]);
}
END_TEST

START_TEST(tracestate_invalid)
{
        for (size_t i = 0; i < sizeof(bad_states) / sizeof(*bad_states); i++)
                ck_assert_msg(!ab_tracestate_valid(ab_str_c(bad_states[i])),
                              "accepted \"%s\"", bad_states[i]);
        ck_assert(!ab_tracestate_valid(AB_STR_NULL));
}
END_TEST

START_TEST(tracestate_bounds)
{
        char s[1024];
        size_t n = 0;

        /* 32 members are fine, 33 are not */
        for (int i = 0; i < 33; i++)
                n += (size_t)snprintf(s + n, sizeof(s) - n, "%sk%d=v",
                                      i ? "," : "", i);
        ck_assert(!ab_tracestate_valid(ab_str_make(s, n)));
        ck_assert(ab_tracestate_valid(ab_str_make(s, strrchr(s, ',') - s)));
        /* one value of 256 characters is fine, 257 are not */
        memset(s, 'v', sizeof(s));
        memcpy(s, "k=", 2);
        ck_assert(ab_tracestate_valid(ab_str_make(s, 2 + 256)));
        ck_assert(!ab_tracestate_valid(ab_str_make(s, 2 + 257)));
        /* the whole header is bounded at AB_TRACESTATE_MAX characters */
        n = 0;
        for (int i = 0; n < AB_TRACESTATE_MAX; i++)
                n += (size_t)snprintf(s + n, sizeof(s) - n, "%sk%d=%0100d",
                                      i ? "," : "", i, 0);
        ck_assert_uint_gt(n, AB_TRACESTATE_MAX);
        ck_assert(!ab_tracestate_valid(ab_str_make(s, n)));
}
END_TEST

START_TEST(pick_and_check)
{
        struct ab_str tp = ab_str_c(TP), ts = ab_str_c("a=1");
        struct ab_str other =
            ab_str_c("00-11111111111111111111111111111111-2222222222222222-00");
        struct ab_trace_ctx raw, t;

        /* the W3C pair wins; the CloudEvents pair stands in for it */
        raw = ab_trace_pick(tp, ts, other, ab_str_c("b=2"));
        ck_assert(raw.traceparent.ptr == tp.ptr &&
                  raw.tracestate.ptr == ts.ptr);
        raw = ab_trace_pick(AB_STR_NULL, ts, other, AB_STR_NULL);
        ck_assert(raw.traceparent.ptr == other.ptr && !raw.tracestate.ptr);
        raw = ab_trace_pick(AB_STR_NULL, ts, AB_STR_NULL, AB_STR_NULL);
        ck_assert(!raw.traceparent.ptr && raw.tracestate.ptr == ts.ptr);

        /* a tracestate alone is nothing, and not an error */
        ck_assert_int_eq(ab_trace_check(raw, &t), AB_TRACE_OK);
        ck_assert(!t.traceparent.ptr && !t.tracestate.ptr);
        raw = ab_trace_pick(tp, ts, AB_STR_NULL, AB_STR_NULL);
        ck_assert_int_eq(ab_trace_check(raw, &t), AB_TRACE_OK);
        ck_assert(t.traceparent.ptr == tp.ptr && t.tracestate.ptr == ts.ptr);
        raw.tracestate = ab_str_make("", 0);
        ck_assert_int_eq(ab_trace_check(raw, &t), AB_TRACE_OK);
        ck_assert(t.traceparent.ptr == tp.ptr && !t.tracestate.ptr);
        raw.tracestate = ab_str_c("A=1");
        ck_assert_int_eq(ab_trace_check(raw, &t), AB_TRACE_BAD_STATE);
        ck_assert(t.traceparent.ptr == tp.ptr && !t.tracestate.ptr);
        raw.traceparent = ab_str_c("00-bad");
        ck_assert_int_eq(ab_trace_check(raw, &t), AB_TRACE_BAD_PARENT);
        ck_assert(!t.traceparent.ptr && !t.tracestate.ptr);
}
END_TEST

int main(void)
{
        Suite *s    = suite_create("trace");
        TCase *tc   = tcase_create("w3c");
        SRunner *sr = NULL;
        int failed;

        tcase_add_test(tc, traceparent_valid);
        tcase_add_test(tc, traceparent_invalid);
        tcase_add_test(tc, traceparent_future_version_bounded);
        tcase_add_test(tc, tracestate_valid);
        tcase_add_test(tc, tracestate_invalid);
        tcase_add_test(tc, tracestate_bounds);
        tcase_add_test(tc, pick_and_check);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
