/* check_timefmt.c - unit tests for timestamp parsing and formatting. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/timefmt.h"

static int parse(const char *s, int64_t *ms)
{
        return ab_time_parse(s, strlen(s), ms);
}

START_TEST(test_real_formats)
{
        /* The timestamps of the payloads in formats.md section 3. */
        static const struct {
                const char *s;
                int64_t ms;
        } cases[] = {
            {"2021-02-22T07:18:15.578000000Z", 1613978295578LL},
            {"2021-02-22T07:27:15.404000000Z", 1613978835404LL},
            {"1685646149981", 1685646149981LL},
            {"1685614196421", 1685614196421LL},
            {"1508136760", 1508136760000LL},
            {"1629702922000", 1629702922000LL},
            {"20190409T121826.922+0800", 1554783506922LL},
            {"2019-09-27T16:27:56.612666101Z", 1569601676612LL},
            {"0001-01-01T00:00:00Z", AB_TIME_GO_ZERO_MS},
            {"2019-04-09T04:18:26Z", 1554783506000LL},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int64_t ms = 0;
                ck_assert_msg(parse(cases[i].s, &ms) == 0, "%s", cases[i].s);
                ck_assert_msg(ms == cases[i].ms, "%s: %lld != %lld", cases[i].s,
                              (long long)ms, (long long)cases[i].ms);
        }
        ck_assert(AB_TIME_IS_ZERO_GO(AB_TIME_GO_ZERO_MS));
        ck_assert(!AB_TIME_IS_ZERO_GO(0));
}
END_TEST

START_TEST(test_rfc3339_variants)
{
        static const struct {
                const char *s;
                int64_t ms;
        } cases[] = {
            {"2023-11-02T10:15:30.123456789+08:00", 1698891330123LL},
            {"2023-11-02 10:15:30.123+08:00", 1698891330123LL},
            {"2023-11-02t10:15:30.123+0800", 1698891330123LL},
            {"2023-11-02T02:15:30.123z", 1698891330123LL},
            {"2023-11-02T02:15:30.1Z", 1698891330100LL},
            {"2023-11-02T02:15:30.12Z", 1698891330120LL},
            {"2023-11-02T02:15:30.1239Z", 1698891330123LL},
            {"2023-11-02T02:15:30.12345678901234567890123456789Z",
             1698891330123LL},
            {"2020-02-29T23:59:59-05:30", 1583040599000LL},
            {"2000-02-29T00:00:00Z", 951782400000LL},
            {"1970-01-01T00:00:00Z", 0},
            {"1969-12-31T23:59:59.999Z", -1},
            {"1970-01-01T08:00:00+08:00", 0},
            {"2016-12-31T23:59:60Z", 1483228800000LL},
            {"9999-12-31T23:59:59.999Z", 253402300799999LL},
            {"0000-01-01T00:00:00Z", -62167219200000LL},
            {"20190409T041826Z", 1554783506000LL},
            {"20190409T121826+08:00", 1554783506000LL},
            {"20190409T041826.9Z", 1554783506900LL},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int64_t ms = 0;
                ck_assert_msg(parse(cases[i].s, &ms) == 0, "%s", cases[i].s);
                ck_assert_msg(ms == cases[i].ms, "%s: %lld != %lld", cases[i].s,
                              (long long)ms, (long long)cases[i].ms);
        }
}
END_TEST

START_TEST(test_epoch_rule)
{
        int64_t ms = 0;

        /* Below 1e11: seconds; from 1e11 on: milliseconds. */
        ck_assert_int_eq(parse("99999999999", &ms), 0);
        ck_assert_int_eq(ms, 99999999999000LL);
        ck_assert_int_eq(parse("100000000000", &ms), 0);
        ck_assert_int_eq(ms, 100000000000LL);
        ck_assert_int_eq(parse("0", &ms), 0);
        ck_assert_int_eq(ms, 0);
        ck_assert_int_eq(parse("1508136760.5", &ms), 0);
        ck_assert_int_eq(ms, 1508136760500LL);
        ck_assert_int_eq(parse("1508136760.123999", &ms), 0);
        ck_assert_int_eq(ms, 1508136760123LL);
        ck_assert_int_eq(parse("1685646149981.7", &ms), 0);
        ck_assert_int_eq(ms, 1685646149981LL);
        ck_assert_int_eq(parse("0001508136760", &ms), 0);
        ck_assert_int_eq(ms, 1508136760000LL);
        ck_assert_int_eq(parse("253402300799999", &ms), 0);
        ck_assert_int_eq(ms, 253402300799999LL);
        /* Past year 9999 is not a timestamp. */
        ck_assert_int_eq(parse("253402300800000", &ms), -1);
        ck_assert_int_eq(parse("99999999999999999999999999999999", &ms), -1);
}
END_TEST

START_TEST(test_rejects)
{
        static const char *const bad[] = {
            "",
            "abc",
            "-1",
            "+1",
            "1e12",
            "1.",
            ".5",
            "12 34",
            " 1508136760",
            "1508136760 ",
            "2021-02-22",
            "2021-02-22T07:18:15",
            "2021-02-22T07:18:15.Z",
            "2021-02-22T07:18:15.578",
            "2021-02-22T07:18Z",
            "2021-02-22X07:18:15Z",
            "2021-2-22T07:18:15Z",
            "2021-13-01T00:00:00Z",
            "2021-00-01T00:00:00Z",
            "2021-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2021-04-31T00:00:00Z",
            "2021-02-00T00:00:00Z",
            "2021-02-22T24:00:00Z",
            "2021-02-22T23:60:00Z",
            "2021-02-22T23:59:61Z",
            "2021-02-22T07:18:15+8:00",
            "2021-02-22T07:18:15+08",
            "2021-02-22T07:18:15+24:00",
            "2021-02-22T07:18:15+08:60",
            "2021-02-22T07:18:15+08:00:00",
            "2021-02-22T07:18:15ZZ",
            "2021-02-22T07:18:15Z ",
            "2021-02-22T07:18:15UTC",
            "20190409T121826.922+08",
            "20190409 121826Z",
            "2019040T121826Z",
            "20190409T12182Z",
            "2019-04-09T12:18:26.922+0800x",
            "\xEF\xBC\x92\xEF\xBC\x90",
        };
        int64_t ms = 42;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                ck_assert_msg(parse(bad[i], &ms) == -1, "accepted '%s'",
                              bad[i]);
        ck_assert_int_eq(ms, 42);
        ck_assert_int_eq(ab_time_parse(NULL, 0, &ms), -1);
        /* Length is respected: no reading past it. */
        ck_assert_int_eq(ab_time_parse("1508136760999", 10, &ms), 0);
        ck_assert_int_eq(ms, 1508136760000LL);
        ck_assert_int_eq(ab_time_parse("2021-02-22T07:18:15Z", 19, &ms), -1);
}
END_TEST

START_TEST(test_format)
{
        static const struct {
                int64_t ms;
                const char *s;
        } cases[] = {
            {0, "1970-01-01T00:00:00.000Z"},
            {-1, "1969-12-31T23:59:59.999Z"},
            {1613978295578LL, "2021-02-22T07:18:15.578Z"},
            {1629702922000LL, "2021-08-23T07:15:22.000Z"},
            {951782400000LL, "2000-02-29T00:00:00.000Z"},
            {AB_TIME_GO_ZERO_MS, "0001-01-01T00:00:00.000Z"},
            {253402300799999LL, "9999-12-31T23:59:59.999Z"},
            {-62167219200000LL, "0000-01-01T00:00:00.000Z"},
            /* Clamped to what RFC 3339 can write. */
            {253402300800000LL, "9999-12-31T23:59:59.999Z"},
            {INT64_MAX, "9999-12-31T23:59:59.999Z"},
            {INT64_MIN, "0000-01-01T00:00:00.000Z"},
        };
        char out[AB_TIME_RFC3339_LEN];

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                memset(out, 'x', sizeof(out));
                ck_assert_uint_eq(ab_time_format(cases[i].ms, out), 24);
                ck_assert_str_eq(out, cases[i].s);
        }
}
END_TEST

/* Compare with the C library's UTC conversion and round-trip. */
START_TEST(test_format_matches_gmtime_and_round_trips)
{
        uint64_t x = 0x853C49E6748FEA9BULL;
        char out[AB_TIME_RFC3339_LEN], want[64];

        for (int i = 0; i < 200000; i++) {
                int64_t ms, back;
                time_t secs;
                struct tm tm;

                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                ms = (int64_t)(x % 315537897600000ULL) - 62167219200000LL;
                ab_time_format(ms, out);
                ck_assert_int_eq(ab_time_parse(out, strlen(out), &back), 0);
                ck_assert_int_eq(back, ms);
                secs = (time_t)((ms - (((ms % 1000) + 1000) % 1000)) / 1000);
                ck_assert_ptr_nonnull(gmtime_r(&secs, &tm));
                snprintf(
                    want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                    tm.tm_min, tm.tm_sec, (int)(((ms % 1000) + 1000) % 1000));
                ck_assert_str_eq(out, want);
        }
}
END_TEST

START_TEST(test_no_timezone_dependence)
{
        int64_t a = 0, b = 0;
        char out[AB_TIME_RFC3339_LEN];

        ck_assert_int_eq(parse("2021-02-22T07:18:15.578+08:00", &a), 0);
        setenv("TZ", "America/St_Johns", 1);
        tzset();
        ck_assert_int_eq(parse("2021-02-22T07:18:15.578+08:00", &b), 0);
        ck_assert_int_eq(a, b);
        ab_time_format(a, out);
        ck_assert_str_eq(out, "2021-02-21T23:18:15.578Z");
}
END_TEST

START_TEST(test_now)
{
        int64_t a = ab_time_now_ms(), b = ab_time_now_ms();

        /* After 2020-01-01 and monotone across two close calls. */
        ck_assert_int_gt(a, 1577836800000LL);
        ck_assert_int_ge(b, a);
}
END_TEST

/* Arbitrary bytes: never crashes, and accepted values format sanely. */
START_TEST(test_garbage_is_safe)
{
        static const char alphabet[] = "0123456789-+:.TtZz ";
        uint64_t x                   = 42;
        char s[40], out[AB_TIME_RFC3339_LEN];

        for (int i = 0; i < 200000; i++) {
                size_t n;
                int64_t ms;

                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                n = (size_t)(x % sizeof(s));
                for (size_t k = 0; k < n; k++)
                        s[k] =
                            alphabet[(x >> (k % 50)) % (sizeof(alphabet) - 1)];
                if (ab_time_parse(s, n, &ms) == 0)
                        ck_assert_uint_eq(ab_time_format(ms, out), 24);
        }
}
END_TEST

static Suite *timefmt_suite(void)
{
        Suite *s = suite_create("timefmt");
        TCase *tc;

        tc = tcase_create("parse");
        tcase_add_test(tc, test_real_formats);
        tcase_add_test(tc, test_rfc3339_variants);
        tcase_add_test(tc, test_epoch_rule);
        tcase_add_test(tc, test_rejects);
        tcase_add_test(tc, test_no_timezone_dependence);
        tcase_add_test(tc, test_garbage_is_safe);
        suite_add_tcase(s, tc);

        tc = tcase_create("format");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_format);
        tcase_add_test(tc, test_format_matches_gmtime_and_round_trips);
        tcase_add_test(tc, test_now);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(timefmt_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
