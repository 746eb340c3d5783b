/* check_lifecycle.c - unit tests for the alert lifecycle: dedup, auto-clear,
 * recovery, actions, eviction, snapshots. This file runs the suite and holds
 * its "state" test case; the others have a file each (check_lifecycle.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/check_lifecycle.h"
#include "tests/unit/lifecycle_fixture.h"

/* ---- open, merge, close ------------------------------------------------- */

START_TEST(test_open_merge_close)
{
        struct ab_integration *integ =
            integ_make("net", NULL, "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct collector c;
        char fp[AB_EVENT_ID_LEN + 1], json[256];
        struct ab_lifecycle_stats s;

        col_init(&c);
        fp_of(integ, "10.0.0.1", fp);
        fire(lc, integ, &c, "10.0.0.1", "cpu 91%", T0);
        ck_assert_uint_eq(c.n, 1);
        ck_assert_int_eq(c.ev[0].type, AB_EVENT_CREATE);
        ck_assert_str_eq(c.ev[0].fp, fp);
        ck_assert_uint_eq(strlen(c.ev[0].id), AB_EVENT_ID_LEN);
        ck_assert_uint_eq(strlen(c.ev[0].alert_id), AB_EVENT_ID_LEN);
        ck_assert_int_eq(c.ev[0].time_ms, T0);
        ck_assert_int_eq(c.ev[0].start_ms, T0);
        ck_assert_uint_eq(c.ev[0].count, 1);
        ck_assert(!c.ev[0].resolved);
        ck_assert_str_eq(c.ev[0].message, "cpu 91%");
        ck_assert_str_eq(c.ev[0].handler, "");
        ck_assert_str_eq(c.ev[0].op, "");

        fire(lc, integ, &c, "10.0.0.1", "cpu 95%", T0 + MIN_MS);
        fire(lc, integ, &c, "10.0.0.1", "cpu 97%", T0 + 2 * MIN_MS);
        ck_assert_uint_eq(c.n, 1);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 1);

        /* The stored alert shows the latest firing's message. */
        snprintf(json, sizeof(json),
                 "{\"action\":\"claim\",\"alert_id\":\"%s\","
                 "\"operator\":\"alice\"}",
                 c.ev[0].alert_id);
        act_ok(lc, &c, json, T0 + 2 * MIN_MS + 1);
        ck_assert_uint_eq(c.n, 2);
        ck_assert_str_eq(c.ev[1].message, "cpu 97%");
        ck_assert_uint_eq(c.ev[1].count, 3);

        recover(lc, integ, &c, "10.0.0.1", T0 + 3 * MIN_MS);
        ck_assert_uint_eq(c.n, 3);
        ck_assert_int_eq(c.ev[2].type, AB_EVENT_CLOSE);
        ck_assert_str_eq(c.ev[2].alert_id, c.ev[0].alert_id);
        ck_assert_str_eq(c.ev[2].fp, fp);
        ck_assert(c.ev[2].resolved);
        ck_assert_int_eq(c.ev[2].time_ms, T0 + 3 * MIN_MS);
        ck_assert_int_eq(c.ev[2].end_ms, T0 + 3 * MIN_MS);
        ck_assert_int_eq(c.ev[2].start_ms, T0);
        ck_assert_uint_eq(c.ev[2].count, 3);
        ck_assert_str_eq(c.ev[2].solution,
                         "recovered: the source reported recovery");
        ck_assert_str_eq(c.ev[2].handler, "alice");
        ck_assert_str_eq(c.ev[2].op, "alertbridge");
        ck_assert_int_eq(c.ev[2].alert_status, AB_ALERT_RESOLVED);
        ck_assert_str_ne(c.ev[0].id, c.ev[1].id);
        ck_assert_str_ne(c.ev[1].id, c.ev[2].id);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 0);

        s = stats_of(lc);
        ck_assert_uint_eq(s.opened, 1);
        ck_assert_uint_eq(s.merged, 2);
        ck_assert_uint_eq(s.closed_recovered, 1);
        ck_assert_uint_eq(s.closed_auto + s.closed_action + s.evicted, 0);

        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(test_dedup_fields_separate)
{
        struct ab_integration *integ =
            integ_make("net", NULL, "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct collector c;

        col_init(&c);
        fire(lc, integ, &c, "10.0.0.1", "a", T0);
        fire(lc, integ, &c, "10.0.0.2", "b", T0 + 1);
        fire(lc, integ, &c, "10.0.0.1", "c", T0 + 2);
        ck_assert_uint_eq(c.n, 2);
        ck_assert_str_ne(c.ev[0].fp, c.ev[1].fp);
        ck_assert_str_ne(c.ev[0].alert_id, c.ev[1].alert_id);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 2);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

/* ---- reopen, orphans, out of order ------------------------------------- */

START_TEST(test_reopen_after_close)
{
        struct ab_integration *integ =
            integ_make("net", NULL, "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct collector c;

        col_init(&c);
        fire(lc, integ, &c, "a", "m", T0);
        recover(lc, integ, &c, "a", T0 + 10);
        fire(lc, integ, &c, "a", "m", T0 + 20);
        /* Same millisecond twice: ids depend only on the input
         * (integration, fingerprint, open time), so the third episode,
         * opened in the millisecond the second one was, shares its id. */
        recover(lc, integ, &c, "a", T0 + 20);
        fire(lc, integ, &c, "a", "m", T0 + 20);
        ck_assert_uint_eq(c.n, 5);
        ck_assert_int_eq(c.ev[2].type, AB_EVENT_CREATE);
        ck_assert_str_eq(c.ev[2].fp, c.ev[0].fp);
        ck_assert_str_ne(c.ev[2].alert_id, c.ev[0].alert_id);
        ck_assert_int_eq(c.ev[2].start_ms, T0 + 20);
        ck_assert_uint_eq(c.ev[2].count, 1);
        ck_assert_int_eq(c.ev[4].type, AB_EVENT_CREATE);
        ck_assert_str_eq(c.ev[4].alert_id, c.ev[2].alert_id);
        ck_assert_uint_eq(stats_of(lc).opened, 3);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(test_orphan_recovery_dropped)
{
        struct ab_integration *integ =
            integ_make("net", NULL, "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct collector c;

        col_init(&c);
        recover(lc, integ, &c, "a", T0);
        ck_assert_uint_eq(c.n, 0);
        ck_assert_uint_eq(stats_of(lc).orphan_recoveries, 1);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 0);
        /* A later firing still opens normally. */
        fire(lc, integ, &c, "a", "m", T0 + 1);
        ck_assert_uint_eq(c.n, 1);
        ck_assert_int_eq(c.ev[0].type, AB_EVENT_CREATE);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(test_orphan_recovery_closes)
{
        struct ab_integration *integ =
            integ_make("net", NULL, "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, true);
        char fp[AB_EVENT_ID_LEN + 1];
        struct collector c;

        col_init(&c);
        fp_of(integ, "a", fp);
        recover(lc, integ, &c, "a", T0);
        ck_assert_uint_eq(c.n, 1);
        ck_assert_int_eq(c.ev[0].type, AB_EVENT_CLOSE);
        ck_assert(c.ev[0].resolved);
        ck_assert_str_eq(c.ev[0].fp, fp);
        ck_assert_uint_eq(strlen(c.ev[0].alert_id), AB_EVENT_ID_LEN);
        ck_assert_int_eq(c.ev[0].time_ms, T0);
        ck_assert_int_eq(c.ev[0].end_ms, T0);
        ck_assert_uint_eq(c.ev[0].count, 0);
        ck_assert_str_eq(c.ev[0].solution,
                         "recovered: the source reported recovery (no open "
                         "alert matched)");
        ck_assert_str_eq(c.ev[0].op, "alertbridge");
        ck_assert_str_eq(c.ev[0].handler, "alertbridge");
        ck_assert_uint_eq(stats_of(lc).orphan_recoveries, 1);
        ck_assert_uint_eq(stats_of(lc).closed_recovered, 0);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 0);
        /* The next firing is a new alert with another id. */
        fire(lc, integ, &c, "a", "m", T0 + 1);
        ck_assert_str_ne(c.ev[1].alert_id, c.ev[0].alert_id);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(test_out_of_order)
{
        struct ab_integration *integ =
            integ_make("net", NULL, "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct collector c;
        char json[256];

        col_init(&c);
        fire(lc, integ, &c, "a", "newer", T0 + 100);
        /* A late firing merges but does not replace newer values. */
        fire(lc, integ, &c, "a", "older", T0 + 50);
        ck_assert_uint_eq(c.n, 1);
        snprintf(json, sizeof(json),
                 "{\"action\":\"comment\",\"fingerprint\":\"%s\","
                 "\"operator\":\"bob\",\"comment\":\"looking\"}",
                 c.ev[0].fp);
        act_ok(lc, &c, json, T0 + 110);
        ck_assert_str_eq(c.ev[1].message, "newer");
        ck_assert_uint_eq(c.ev[1].count, 2);
        /* A recovery older than the latest firing is stale: dropped. */
        recover(lc, integ, &c, "a", T0 + 80);
        ck_assert_uint_eq(c.n, 2);
        ck_assert_uint_eq(stats_of(lc).stale_recoveries, 1);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 1);
        /* At the latest firing's time it closes (ties: arrival order). */
        recover(lc, integ, &c, "a", T0 + 100);
        ck_assert_uint_eq(c.n, 3);
        ck_assert_int_eq(c.ev[2].type, AB_EVENT_CLOSE);
        ck_assert_uint_eq(c.ev[2].count, 2);
        ck_assert_int_eq(c.ev[2].end_ms, T0 + 100);
        /* A late event at equal time overwrites (arrival order wins). */
        fire(lc, integ, &c, "b", "first", T0 + 200);
        fire(lc, integ, &c, "b", "second", T0 + 200);
        snprintf(json, sizeof(json),
                 "{\"action\":\"claim\",\"fingerprint\":\"%s\","
                 "\"operator\":\"bob\"}",
                 c.ev[3].fp);
        act_ok(lc, &c, json, T0 + 210);
        ck_assert_str_eq(c.ev[4].message, "second");
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

/* ---- emit failures, report, serialization ------------------------------ */

START_TEST(test_emit_failure)
{
        struct ab_integration *integ =
            integ_make("net", NULL, "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct ab_error err;
        struct collector c;
        struct talert ta;

        col_init(&c);
        c.fail = AB_ERR_RETRY;
        ck_assert_int_eq(
            ab_lifecycle_process(
                lc, integ,
                talert_make(&ta, AB_ALERT_FIRING, "X", "a", "cpu", 1, "m"), T0,
                collect, &c, &err),
            AB_ERR_RETRY);
        /* The transition happened; only the event was lost. */
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 1);
        ck_assert_int_eq(
            ab_lifecycle_process(
                lc, integ,
                talert_make(&ta, AB_ALERT_RESOLVED, "X", "a", "cpu", 1, NULL),
                T0 + 1, collect, &c, &err),
            AB_ERR_RETRY);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 0);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

static Suite *lifecycle_suite(void)
{
        Suite *s = suite_create("lifecycle");
        TCase *tc;

        tc = tcase_create("state");
        tcase_add_test(tc, test_open_merge_close);
        tcase_add_test(tc, test_dedup_fields_separate);
        tcase_add_test(tc, test_reopen_after_close);
        tcase_add_test(tc, test_orphan_recovery_dropped);
        tcase_add_test(tc, test_orphan_recovery_closes);
        tcase_add_test(tc, test_out_of_order);
        tcase_add_test(tc, test_emit_failure);
        suite_add_tcase(s, tc);

        suite_add_tcase(s, lifecycle_fingerprint_tcase());
        suite_add_tcase(s, lifecycle_time_tcase());
        suite_add_tcase(s, lifecycle_actions_tcase());
        suite_add_tcase(s, lifecycle_bounds_tcase());
        suite_add_tcase(s, lifecycle_replay_tcase());
        suite_add_tcase(s, lifecycle_output_tcase());
        suite_add_tcase(s, lifecycle_changelog_tcase());
        suite_add_tcase(s, lifecycle_arena_tcase());
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(lifecycle_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
