/* check_lifecycle_bounds.c - lifecycle tests: the bounds of the store: eviction
 * of the oldest open alert (ties, classes), the memory budget and stored
 * alerts of every size. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/check_lifecycle.h"
#include "tests/unit/lifecycle_fixture.h"

/* ---- eviction ----------------------------------------------------------- */

START_TEST(test_eviction)
{
        struct ab_integration *integ =
            integ_make("net", "1h", "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(2, false);
        struct collector c;

        col_init(&c);
        fire(lc, integ, &c, "a", "m", T0);
        fire(lc, integ, &c, "b", "m", T0 + 10);
        fire(lc, integ, &c, "a", "m", T0 + 20); /* b is now the quietest */
        fire(lc, integ, &c, "c", "m", T0 + 30);
        ck_assert_uint_eq(c.n, 4);
        ck_assert_int_eq(c.ev[2].type, AB_EVENT_CLOSE);
        ck_assert_str_eq(c.ev[2].alert_id, c.ev[1].alert_id);
        ck_assert_int_eq(c.ev[2].time_ms, T0 + 30);
        ck_assert_str_eq(c.ev[2].solution,
                         "evicted: the limit of 2 open alerts was reached "
                         "and this alert was the longest quiet");
        ck_assert_int_eq(c.ev[3].type, AB_EVENT_CREATE);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 2);
        ck_assert_uint_eq(stats_of(lc).evicted, 1);
        /* d arrives late: a (last seen at T0 + 20) goes. */
        fire(lc, integ, &c, "d", "m", T0 + 5);
        ck_assert_str_eq(c.ev[4].alert_id, c.ev[0].alert_id);
        /* d, last seen at T0 + 5, is now the quietest though the newest. */
        fire(lc, integ, &c, "e", "m", T0 + 40);
        ck_assert_int_eq(c.ev[6].type, AB_EVENT_CLOSE);
        ck_assert_str_eq(c.ev[6].alert_id, c.ev[5].alert_id);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 2);
        ck_assert_uint_eq(stats_of(lc).evicted, 3);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

/* Equal last-seen times: the one touched least recently is the quietest. */
START_TEST(test_eviction_tie)
{
        struct ab_integration *integ = integ_make("net", NULL, "[\"source\"]");
        struct ab_lifecycle *lc      = lc_make(2, false);
        struct collector c;

        col_init(&c);
        fire(lc, integ, &c, "a", "m", T0);
        fire(lc, integ, &c, "b", "m", T0);
        fire(lc, integ, &c, "a", "m", T0);
        fire(lc, integ, &c, "c", "m", T0 + 1);
        ck_assert_uint_eq(c.n, 4);
        ck_assert_str_eq(c.ev[2].alert_id, c.ev[1].alert_id);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

/* The quietest alert overall goes, whatever its auto_clear period. */
START_TEST(test_eviction_across_classes)
{
        struct ab_integration *hour = integ_make("hour", "1h", "[\"source\"]");
        struct ab_integration *day  = integ_make("day", "1d", "[\"source\"]");
        struct ab_integration *none = integ_make("none", NULL, "[\"source\"]");
        struct ab_lifecycle *lc     = lc_make(3, false);
        struct collector c;

        col_init(&c);
        fire(lc, day, &c, "d", "m", T0 + 10);
        fire(lc, none, &c, "n", "m", T0);
        fire(lc, hour, &c, "h", "m", T0 + 20);
        fire(lc, hour, &c, "h2", "m", T0 + 30);
        ck_assert_int_eq(c.ev[3].type, AB_EVENT_CLOSE);
        ck_assert_str_eq(c.ev[3].alert_id, c.ev[1].alert_id);
        fire(lc, none, &c, "n2", "m", T0 + 40);
        ck_assert_int_eq(c.ev[5].type, AB_EVENT_CLOSE);
        ck_assert_str_eq(c.ev[5].alert_id, c.ev[0].alert_id);
        ck_assert_uint_eq(stats_of(lc).evicted, 2);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(hour);
        ab_integration_destroy(day);
        ab_integration_destroy(none);
}
END_TEST

/* ---- memory ------------------------------------------------------------- */

static ab_err_t count_only(void *opaque, const struct ab_event *ev)
{
        size_t *n = opaque;

        (void)ev;
        (*n)++;
        return AB_OK;
}

/* Stored alerts of every size: blobs across the arena's size classes and
 * above its largest one, a claimer behind them, a neighbour reusing the
 * blocks given back. Every comment shows the latest message and the
 * claimer unchanged. */
START_TEST(test_blob_sizes)
{
        static const size_t len[] = {1,    6,    7,    8,    9,  100,  2020,
                                     2030, 2040, 2050, 3000, 17, 2045, 5};
        struct ab_integration *integ =
            integ_make("net", NULL, "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct ab_lifecycle_mem m;
        struct collector c;
        char msg[3001], json[256], alert_id[AB_EVENT_ID_LEN + 1];
        size_t k, i;

        col_init(&c);
        fire(lc, integ, &c, "a", "m", T0);
        snprintf(alert_id, sizeof(alert_id), "%s", c.ev[0].alert_id);
        for (k = 0; k < sizeof(len) / sizeof(len[0]); k++) {
                for (i = 0; i < len[k]; i++)
                        msg[i] = (char)('a' + (i + k) % 26);
                msg[len[k]] = '\0';
                fire(lc, integ, &c, "a", msg, T0 + 1 + (int64_t)k);
                fire(lc, integ, &c, k % 2 ? "b" : "c", msg,
                     T0 + 1 + (int64_t)k);
                if (k == 3) {
                        snprintf(json, sizeof(json),
                                 "{\"action\":\"claim\",\"alert_id\":\"%s\","
                                 "\"operator\":\"alice\"}",
                                 alert_id);
                        act_ok(lc, &c, json, T0 + 1 + (int64_t)k);
                }
                snprintf(json, sizeof(json),
                         "{\"action\":\"comment\",\"alert_id\":\"%s\","
                         "\"operator\":\"bob\",\"comment\":\"c\"}",
                         alert_id);
                c.n = 0;
                act_ok(lc, &c, json, T0 + 1 + (int64_t)k);
                ck_assert_uint_eq(c.n, 1);
                ck_assert_msg(
                    !strncmp(c.ev[0].message, msg, sizeof(c.ev[0].message) - 1),
                    "length %zu", len[k]);
                ck_assert_str_eq(c.ev[0].handler, k >= 3 ? "alice" : "bob");
        }
        ab_lifecycle_get_mem(lc, &m);
        ck_assert_uint_eq(m.open, 3);
        ck_assert_uint_gt(m.strings, 3 * 5);
        ab_lifecycle_destroy(lc);
        col_fini(&c);
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(test_memory_budget)
{
        struct ab_integration *integ =
            integ_make("net", "1h", "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct ab_lifecycle_mem m, first;
        size_t events = 0;
        struct ab_error err;
        struct talert ta;
        size_t i, text = 0;
        const size_t n = 5000;

        for (i = 0; i < 2 * n; i++) {
                char src[32];
                const struct ab_alert *a;

                if (i == n) {
                        /* All closed: the second n reuse their records. */
                        ab_lifecycle_get_mem(lc, &first);
                        ck_assert_int_eq(
                            ab_lifecycle_expire(lc, T0 + 100 * 3600000LL,
                                                count_only, &events),
                            AB_OK);
                        ck_assert_uint_eq(events, 2 * n);
                        text = 0;
                }
                snprintf(src, sizeof(src), "%d.%zu.%zu.1", i < n ? 10 : 11,
                         i % n / 256, i % 256);
                a = talert_make(&ta, AB_ALERT_FIRING, "HighCPU", src, "cpu", 2,
                                "cpu above 90% for 5 minutes");
                /* Every string is shorter than 128 bytes: one length
                 * byte each. */
                for (size_t k = 0; k < a->nlabels; k++)
                        text += a->labels[k].key.len + a->labels[k].val.len + 2;
                text += strlen("message") +
                        strlen("cpu above 90% for 5 minutes") + 2;
                ck_assert_int_eq(
                    ab_lifecycle_process(lc, integ, a,
                                         T0 + (int64_t)i % n +
                                             (i < n ? 0 : 200 * 3600000LL),
                                         count_only, &events, &err),
                    AB_OK);
        }
        ck_assert_uint_eq(events, 3 * n);
        ab_lifecycle_get_mem(lc, &m);
        ck_assert_uint_eq(m.open, n);
        /* Records and blob blocks reused: the store holds what it held. */
        ck_assert_uint_eq(m.overhead + m.strings,
                          first.overhead + first.strings);
        /* Strings are accounted exactly (every field refers to its label or
         * annotation, so none is stored twice), and the rest stays within
         * 144 bytes (records 96, slab, table and arena page slack, blob
         * framing and its rounding to 4 bytes). */
        ck_assert_uint_eq(m.strings, text);
        ck_assert_msg(m.overhead / n <= 144, "%zu bytes per alert",
                      m.overhead / n);
        ck_assert_uint_gt(m.overhead / n, 100); /* accounting is not empty */
        ck_assert_uint_lt(m.shared, 256 * 1024);
        ck_assert_int_eq(
            ab_lifecycle_expire(lc, T0 + 300 * 3600000LL, count_only, &events),
            AB_OK);
        ck_assert_uint_eq(events, 4 * n);
        ab_lifecycle_get_mem(lc, &m);
        ck_assert_uint_eq(m.open, 0);
        ck_assert_uint_eq(m.strings, 0);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

TCase *lifecycle_bounds_tcase(void)
{
        TCase *tc = tcase_create("bounds");

        tcase_add_test(tc, test_eviction);
        tcase_add_test(tc, test_eviction_across_classes);
        tcase_add_test(tc, test_eviction_tie);
        tcase_add_test(tc, test_memory_budget);
        tcase_add_test(tc, test_blob_sizes);
        return tc;
}
