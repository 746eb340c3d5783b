/* check_log.c - unit tests for core/log.c: logfmt and JSON lines. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

static char text[65536];

/* Run \p fn with stderr captured into text[]. */
static void capture(void (*fn)(void))
{
        char path[] = "/tmp/ab-log-XXXXXX";
        int fd      = mkstemp(path);
        int saved   = dup(STDERR_FILENO);
        ssize_t n;

        ck_assert_int_ge(fd, 0);
        unlink(path);
        ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
        fn();
        dup2(saved, STDERR_FILENO);
        close(saved);
        n = pread(fd, text, sizeof(text) - 1, 0);
        close(fd);
        text[n > 0 ? n : 0] = '\0';
}

static void write_lines(void)
{
        char quoted[256];

        AB_INFO("test", "plain", NULL);
        AB_WARN("test", "with \"quotes\"\nand a newline", "n=%d topic=%s", 42,
                "alerts.raw");
        AB_ERROR("test", "quoted value", "error=%s",
                 ab_log_quote("a \"b\" \\ c\nd", quoted, sizeof(quoted)));
        AB_INFO("test", "utf-8 and a bad byte", "who=%s bad=%s", "h\xc3\xa9",
                "\xff\xfe");
        AB_INFO("test", "not a pair", "pending=%d (explained in prose)", 3);
        AB_INFO("test", "control", "c=%s", "a\tb");
}

START_TEST(test_json_lines_parse_with_their_members)
{
        json_t *lines[6];
        size_t n = 0;
        char *line, *nl;

        ab_log_format = AB_LOG_JSON;
        capture(write_lines);
        ab_log_format = AB_LOG_LOGFMT;
        for (line = text; (nl = strchr(line, '\n')); line = nl + 1) {
                json_error_t e;

                *nl = '\0';
                ck_assert_uint_lt(n, 6);
                lines[n] = json_loads(line, 0, &e);
                ck_assert_msg(lines[n] && json_is_object(lines[n]),
                              "not a JSON object: %s (%s)", line, e.text);
                n++;
        }
        ck_assert_uint_eq(n, 6);
        ck_assert_str_eq(json_string_value(json_object_get(lines[0], "level")),
                         "info");
        ck_assert_str_eq(json_string_value(json_object_get(lines[0], "comp")),
                         "test");
        ck_assert_ptr_nonnull(json_object_get(lines[0], "ts"));
        ck_assert_str_eq(json_string_value(json_object_get(lines[1], "msg")),
                         "with \"quotes\"\nand a newline");
        ck_assert_str_eq(json_string_value(json_object_get(lines[1], "n")),
                         "42");
        ck_assert_str_eq(json_string_value(json_object_get(lines[1], "topic")),
                         "alerts.raw");
        ck_assert_str_eq(json_string_value(json_object_get(lines[2], "error")),
                         "a \"b\" \\ c\nd");
        ck_assert_str_eq(json_string_value(json_object_get(lines[3], "who")),
                         "h\xc3\xa9");
        ck_assert_str_eq(json_string_value(json_object_get(lines[3], "bad")),
                         "\xef\xbf\xbd\xef\xbf\xbd");
        ck_assert_str_eq(
            json_string_value(json_object_get(lines[4], "pending")), "3");
        ck_assert_str_eq(json_string_value(json_object_get(lines[4], "extra")),
                         "(explained in prose)");
        ck_assert_str_eq(json_string_value(json_object_get(lines[5], "c")),
                         "a\tb");
        for (size_t i = 0; i < n; i++)
                json_decref(lines[i]);
}
END_TEST

static void write_long(void)
{
        static char big[8000];

        memset(big, 'x', sizeof(big) - 1);
        big[100] = '"';
        AB_INFO("test", big, "a=%s b=%s", big, big);
}

/* A line longer than the buffer is cut but stays one valid object. */
START_TEST(test_json_long_line_stays_valid)
{
        json_error_t e;
        json_t *j;

        ab_log_format = AB_LOG_JSON;
        capture(write_long);
        ab_log_format = AB_LOG_LOGFMT;
        /* One line, ending in its newline. */
        ck_assert_ptr_eq(strchr(text, '\n'), text + strlen(text) - 1);
        j = json_loads(text, 0, &e);
        ck_assert_msg(j != NULL, "cut line is not JSON: %s", e.text);
        json_decref(j);
}
END_TEST

START_TEST(test_logfmt_is_the_default)
{
        ck_assert_int_eq(ab_log_format, AB_LOG_LOGFMT);
        capture(write_lines);
        ck_assert_ptr_nonnull(
            strstr(text, "level=warn comp=test msg=\"with \\\"quotes\\\"\\nand "
                         "a newline\" n=42 topic=alerts.raw\n"));
        ck_assert_int_eq(ab_log_set_format("json"), 0);
        ck_assert_int_eq(ab_log_format, AB_LOG_JSON);
        ck_assert_int_eq(ab_log_set_format("xml"), -1);
        ck_assert_int_eq(ab_log_format, AB_LOG_JSON);
        ck_assert_int_eq(ab_log_set_format("logfmt"), 0);
        ck_assert_int_eq(ab_log_format, AB_LOG_LOGFMT);
}
END_TEST

int main(void)
{
        Suite *s  = suite_create("log");
        TCase *tc = tcase_create("formats");
        SRunner *sr;
        int failed;

        tcase_add_test(tc, test_json_lines_parse_with_their_members);
        tcase_add_test(tc, test_json_long_line_stays_valid);
        tcase_add_test(tc, test_logfmt_is_the_default);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
