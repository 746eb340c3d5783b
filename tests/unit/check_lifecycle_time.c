/* check_lifecycle_time.c - lifecycle tests: auto-clear at its boundary and per
 * class, and expiry of alerts that arrived out of order. */
#include <check.h>
#include <string.h>

#include "tests/unit/check_lifecycle.h"
#include "tests/unit/lifecycle_fixture.h"

/* ---- auto-clear --------------------------------------------------------- */

START_TEST(test_auto_clear_boundary)
{
        struct ab_integration *integ =
            integ_make("net", "5m", "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        const int64_t gap       = 5 * MIN_MS;
        struct collector c;

        col_init(&c);
        fire(lc, integ, &c, "a", "m", T0);
        /* One millisecond before the deadline: still open. */
        ck_assert_int_eq(ab_lifecycle_expire(lc, T0 + gap - 1, collect, &c),
                         AB_OK);
        fire(lc, integ, &c, "b", "m", T0 + gap - 1);
        ck_assert_uint_eq(c.n, 2);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 2);
        /* At the deadline: closed, with the deadline as its time. */
        ck_assert_int_eq(ab_lifecycle_expire(lc, T0 + gap, collect, &c), AB_OK);
        ck_assert_uint_eq(c.n, 3);
        ck_assert_int_eq(c.ev[2].type, AB_EVENT_CLOSE);
        ck_assert_str_eq(c.ev[2].alert_id, c.ev[0].alert_id);
        ck_assert_int_eq(c.ev[2].time_ms, T0 + gap);
        ck_assert_int_eq(c.ev[2].end_ms, T0 + gap);
        ck_assert(c.ev[2].resolved);
        ck_assert_str_eq(c.ev[2].solution,
                         "auto-cleared: no event for 5m (auto_clear)");
        ck_assert_str_eq(c.ev[2].op, "alertbridge");
        ck_assert_str_eq(c.ev[2].handler, "alertbridge");
        ck_assert_int_eq(c.ev[2].alert_status, AB_ALERT_RESOLVED);
        ck_assert_str_eq(c.ev[2].message, "m");
        ck_assert_uint_eq(stats_of(lc).closed_auto, 1);

        /* An event exactly at b's deadline finds b closed: the close comes
         * first and the event opens a new alert. */
        fire(lc, integ, &c, "b", "again", T0 + 2 * gap - 1);
        ck_assert_uint_eq(c.n, 5);
        ck_assert_int_eq(c.ev[3].type, AB_EVENT_CLOSE);
        ck_assert_str_eq(c.ev[3].alert_id, c.ev[1].alert_id);
        ck_assert_int_eq(c.ev[3].time_ms, T0 + 2 * gap - 1);
        ck_assert_int_eq(c.ev[4].type, AB_EVENT_CREATE);
        ck_assert_str_eq(c.ev[4].fp, c.ev[1].fp);
        ck_assert_str_ne(c.ev[4].alert_id, c.ev[1].alert_id);

        /* A merge one millisecond before the deadline extends it. */
        fire(lc, integ, &c, "b", "more", T0 + 3 * gap - 2);
        ck_assert_int_eq(ab_lifecycle_expire(lc, T0 + 3 * gap, collect, &c),
                         AB_OK);
        ck_assert_uint_eq(c.n, 5);
        ck_assert_int_eq(ab_lifecycle_expire(lc, T0 + 4 * gap - 3, collect, &c),
                         AB_OK);
        ck_assert_uint_eq(c.n, 5);
        ck_assert_int_eq(ab_lifecycle_expire(lc, T0 + 4 * gap - 2, collect, &c),
                         AB_OK);
        ck_assert_uint_eq(c.n, 6);
        ck_assert_int_eq(c.ev[5].time_ms, T0 + 4 * gap - 2);
        ck_assert_uint_eq(c.ev[5].count, 2);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 0);

        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(test_auto_clear_classes)
{
        struct ab_integration *slow = integ_make("slow", "1h", "[\"source\"]");
        struct ab_integration *fast = integ_make("fast", "90s", "[\"source\"]");
        struct ab_integration *never =
            integ_make("never", NULL, "[\"source\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct collector c;

        col_init(&c);
        fire(lc, slow, &c, "s", "m", T0);         /* due T0 + 1h */
        fire(lc, fast, &c, "f1", "m", T0 + 1000); /* due T0 + 91s */
        fire(lc, never, &c, "n", "m", T0 + 2000); /* never */
        fire(lc, fast, &c, "f2", "m", T0 + 3000); /* due T0 + 93s */
        ck_assert_uint_eq(c.n, 4);
        ck_assert_int_eq(
            ab_lifecycle_expire(lc, T0 + 100 * 3600000LL, collect, &c), AB_OK);
        ck_assert_uint_eq(c.n, 7);
        /* Closed in deadline order across integrations. */
        ck_assert_str_eq(c.ev[4].alert_id, c.ev[1].alert_id);
        ck_assert_int_eq(c.ev[4].time_ms, T0 + 91000);
        ck_assert_str_eq(c.ev[4].solution,
                         "auto-cleared: no event for 1m30s (auto_clear)");
        ck_assert_str_eq(c.ev[5].alert_id, c.ev[3].alert_id);
        ck_assert_int_eq(c.ev[5].time_ms, T0 + 93000);
        ck_assert_str_eq(c.ev[6].alert_id, c.ev[0].alert_id);
        ck_assert_int_eq(c.ev[6].time_ms, T0 + 3600000);
        ck_assert_str_eq(c.ev[6].solution,
                         "auto-cleared: no event for 1h (auto_clear)");
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 1);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(slow);
        ab_integration_destroy(fast);
        ab_integration_destroy(never);
}
END_TEST

START_TEST(test_out_of_order_expiry)
{
        struct ab_integration *integ =
            integ_make("net", "1s", "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct collector c;

        col_init(&c);
        fire(lc, integ, &c, "a", "m", T0 + 500);
        /* b is older than a: it opens at its own time and expires first. */
        fire(lc, integ, &c, "b", "m", T0 + 100);
        fire(lc, integ, &c, "c", "m", T0 + 300);
        /* A late merge of a does not move a's deadline back. */
        fire(lc, integ, &c, "a", "m", T0 + 200);
        ck_assert_uint_eq(c.n, 3);
        ck_assert_int_eq(ab_lifecycle_expire(lc, T0 + 1300, collect, &c),
                         AB_OK);
        ck_assert_uint_eq(c.n, 5);
        ck_assert_str_eq(c.ev[3].alert_id, c.ev[1].alert_id);
        ck_assert_int_eq(c.ev[3].time_ms, T0 + 1100);
        ck_assert_str_eq(c.ev[4].alert_id, c.ev[2].alert_id);
        ck_assert_int_eq(c.ev[4].time_ms, T0 + 1300);
        ck_assert_int_eq(ab_lifecycle_expire(lc, T0 + 1499, collect, &c),
                         AB_OK);
        ck_assert_uint_eq(c.n, 5);
        ck_assert_int_eq(ab_lifecycle_expire(lc, T0 + 1500, collect, &c),
                         AB_OK);
        ck_assert_uint_eq(c.n, 6);
        ck_assert_str_eq(c.ev[5].alert_id, c.ev[0].alert_id);
        ck_assert_uint_eq(c.ev[5].count, 2);
        /* An event older than ones already seen expires nothing more. */
        fire(lc, integ, &c, "d", "m", T0 + 5000);
        fire(lc, integ, &c, "e", "m", T0 + 100);
        ck_assert_uint_eq(c.n, 8);
        ck_assert_int_eq(c.ev[7].type, AB_EVENT_CREATE);
        /* e's deadline has passed in event time: the next event closes it
         * first. */
        fire(lc, integ, &c, "d", "m", T0 + 5001);
        ck_assert_uint_eq(c.n, 9);
        ck_assert_str_eq(c.ev[8].alert_id, c.ev[7].alert_id);
        ck_assert_int_eq(c.ev[8].time_ms, T0 + 1100);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

TCase *lifecycle_time_tcase(void)
{
        TCase *tc = tcase_create("time");

        tcase_add_test(tc, test_auto_clear_boundary);
        tcase_add_test(tc, test_auto_clear_classes);
        tcase_add_test(tc, test_out_of_order_expiry);
        return tc;
}
