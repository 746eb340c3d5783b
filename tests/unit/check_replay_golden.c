/* check_replay_golden.c - unit tests of replay's golden files: grouping by
 * record, errors, long lines, regular files only, stop requests. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mem.h"
#include "replay/ndjson.h"
#include "tests/unit/check_replay.h"
#include "transform/event.h"

static const char *temp_file(const char *text)
{
        static char path[64];
        int fd;

        snprintf(path, sizeof(path), "/tmp/check_replay_XXXXXX");
        fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        return path;
}

#define GL(p, o, ts, i, body)                                                  \
        "{\"partition\":" #p ",\"offset\":" #o ",\"ts\":" #ts ",\"index\":" #i \
        ",\"key\":\"k" #o "\",\"event\":" body "}"

#define CREATE "{\"type\":\"aliyun:arms:alarm:create\"}"
#define CLOSE  "{\"type\":\"aliyun:arms:alarm:close\"}"

START_TEST(test_golden_groups)
{
        /* Two lines of one record, a blank line, a CRLF line, and a last
         * line without a newline. */
        static const char *const lines[] = {
            GL(0, 1, 100, 0, CREATE) "\n",   GL(0, 1, 100, 1, CLOSE) "\n", "\n",
            GL(1, 1, 100, 0, CREATE) "\r\n", GL(0, 2, 150, 0, CREATE),
        };
        char text[2048] = "";
        const char *path;
        const struct ab_replay_item *items;
        const struct ab_replay_pos *head;
        struct ab_replay_golden *g;
        struct ab_replay_pos pos;
        struct ab_error err;
        size_t n;

        for (size_t i = 0, len = 0; i < sizeof(lines) / sizeof(*lines); i++)
                len += (size_t)snprintf(text + len, sizeof(text) - len, "%s",
                                        lines[i]);
        path = temp_file(text);
        ab_error_clear(&err);
        ck_assert_int_eq(ab_replay_golden_open(path, &g, &err), AB_OK);
        ck_assert_int_eq(ab_replay_golden_peek(g, &head, &err), AB_OK);
        ck_assert_ptr_nonnull(head);
        ck_assert_int_eq(head->offset, 1);
        ck_assert_int_eq(ab_replay_golden_take(g, &items, &n, &pos, &err),
                         AB_OK);
        ck_assert_int_eq(n, 2);
        ck_assert_int_eq(pos.partition, 0);
        ck_assert_int_eq(items[0].type, AB_EVENT_CREATE);
        ck_assert_int_eq(items[1].type, AB_EVENT_CLOSE);
        ck_assert_int_eq(items[1].index, 1);
        ck_assert(ab_str_eq_c(items[1].key, "k1"));
        ck_assert(ab_str_eq_c(items[1].body, CLOSE));
        ck_assert_int_eq(ab_replay_golden_take(g, &items, &n, &pos, &err),
                         AB_OK);
        ck_assert_int_eq(n, 1);
        ck_assert_int_eq(pos.partition, 1);
        ck_assert_int_eq(ab_replay_golden_take(g, &items, &n, &pos, &err),
                         AB_OK);
        ck_assert_int_eq(n, 1);
        ck_assert_int_eq(pos.offset, 2);
        ck_assert_int_eq(pos.ts, 150);
        ck_assert_int_eq(ab_replay_golden_take(g, &items, &n, &pos, &err),
                         AB_OK);
        ck_assert_int_eq(n, 0);
        ck_assert_int_eq(ab_replay_golden_peek(g, &head, &err), AB_OK);
        ck_assert_ptr_null(head);
        ab_replay_golden_destroy(g);
        unlink(path);
}
END_TEST

static void golden_fails(const char *text, const char *needle)
{
        const char *path = temp_file(text);
        const struct ab_replay_item *items;
        struct ab_replay_golden *g;
        struct ab_replay_pos pos;
        struct ab_error err;
        ab_err_t rc = AB_OK;
        size_t n    = 1;

        ab_error_clear(&err);
        ck_assert_int_eq(ab_replay_golden_open(path, &g, &err), AB_OK);
        while (!rc && n)
                rc = ab_replay_golden_take(g, &items, &n, &pos, &err);
        ck_assert_int_eq(rc, AB_ERR_CONFIG);
        ck_assert_msg(strstr(err.text, needle), "%s", err.text);
        ab_replay_golden_destroy(g);
        unlink(path);
}

START_TEST(test_golden_errors)
{
        struct ab_replay_golden *g = NULL;
        struct ab_error err;

        golden_fails(GL(0, 2, 100, 0, "{}") "\n" GL(0, 1, 100, 0, "{}") "\n",
                     ":2: lines are not in replay order");
        golden_fails(GL(0, 2, 100, 1, "{}") "\n" GL(0, 2, 100, 1, "{}") "\n",
                     ":2: lines are not in replay order");
        golden_fails(GL(0, 2, 100, 0, "{}") "\nnot json\n", ":2: ");
        ab_error_clear(&err);
        ck_assert_int_eq(
            ab_replay_golden_open("/nonexistent/golden.ndjson", &g, &err),
            AB_ERR_CONFIG);
        ck_assert_ptr_null(g);
        ck_assert_msg(strstr(err.text, "cannot open /nonexistent"), "%s",
                      err.text);
}
END_TEST

/* `--expect` reads only regular files: /dev/zero used to be read forever
 * (one endless line) and a FIFO blocked the open. */
START_TEST(test_golden_only_regular_files)
{
        char dir[]                 = "/tmp/ab_check_golden_XXXXXX";
        struct ab_replay_golden *g = NULL;
        struct ab_error err;
        char fifo[64];

        ck_assert_int_eq(ab_replay_golden_open("/dev/zero", &g, &err),
                         AB_ERR_CONFIG);
        ck_assert_ptr_null(g);
        ck_assert_msg(strstr(err.text, "/dev/zero: it is a character device"),
                      "%s", err.text);
        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
        ck_assert_int_eq(mkfifo(fifo, 0600), 0);
        ck_assert_int_eq(ab_replay_golden_open(fifo, &g, &err), AB_ERR_CONFIG);
        ck_assert_ptr_null(g);
        ck_assert_msg(strstr(err.text, "it is a FIFO"), "%s", err.text);
        unlink(fifo);
        rmdir(dir);
}
END_TEST

/* The stop flag ends reading, even through a run of blank lines (which the
 * reader skips without returning). */
START_TEST(test_golden_stop)
{
        enum { BLANK = 1 << 20 };
        volatile sig_atomic_t stop = 1;
        const struct ab_replay_pos *head;
        char *text = malloc(BLANK + 200);
        struct ab_replay_golden *g;
        struct ab_error err;
        const char *path;
        int n;

        ck_assert_ptr_nonnull(text);
        memset(text, '\n', BLANK);
        n = snprintf(text + BLANK, 200, "%s\n", GL(0, 2, 100, 0, "{}"));
        ck_assert_int_gt(n, 0);
        path = temp_file(text);
        free(text);
        ab_error_clear(&err);
        ck_assert_int_eq(ab_replay_golden_open(path, &g, &err), AB_OK);
        ab_replay_golden_set_stop(g, &stop);
        ck_assert_int_eq(ab_replay_golden_peek(g, &head, &err), AB_ERR_RETRY);
        ck_assert_str_eq(err.text, "interrupted");
        stop = 0;
        ck_assert_int_eq(ab_replay_golden_peek(g, &head, &err), AB_OK);
        ck_assert_ptr_nonnull(head);
        ck_assert_int_eq(head->offset, 2);
        ab_replay_golden_destroy(g);
        unlink(path);
}
END_TEST

/* A golden file of many lines longer than one read chunk. */
START_TEST(test_golden_long_lines)
{
        enum { LINES = 40, PAD = 30000 };
        size_t size = (size_t)LINES * (PAD + 200);
        char *text  = malloc(size);
        const struct ab_replay_item *items;
        struct ab_replay_golden *g;
        struct ab_replay_pos pos;
        struct ab_error err;
        size_t len = 0, n, groups = 0;
        const char *path;

        ck_assert_ptr_nonnull(text);
        for (int i = 0; i < LINES; i++) {
                len += (size_t)snprintf(text + len, size - len,
                                        "{\"partition\":0,\"offset\":%d,"
                                        "\"ts\":1,\"index\":0,\"error\":{"
                                        "\"code\":\"decode\",\"message\":\"",
                                        i);
                memset(text + len, 'x', PAD);
                len += PAD;
                len += (size_t)snprintf(text + len, size - len, "\"}}\n");
        }
        path = temp_file(text);
        free(text);
        ab_error_clear(&err);
        ck_assert_int_eq(ab_replay_golden_open(path, &g, &err), AB_OK);
        for (;;) {
                ck_assert_int_eq(
                    ab_replay_golden_take(g, &items, &n, &pos, &err), AB_OK);
                if (!n)
                        break;
                ck_assert_int_eq(pos.offset, (int64_t)groups);
                ck_assert_int_eq(items[0].type, AB_ERR_DECODE);
                ck_assert_uint_gt(items[0].body.len, PAD);
                groups++;
        }
        ck_assert_uint_eq(groups, LINES);
        ab_replay_golden_destroy(g);
        unlink(path);
}
END_TEST

/* ---------------------------------------------------------------- progress */

TCase *replay_golden_tcase(void)
{
        TCase *t = tcase_create("golden");

        tcase_add_test(t, test_golden_groups);
        tcase_add_test(t, test_golden_errors);
        tcase_add_test(t, test_golden_long_lines);
        tcase_add_test(t, test_golden_only_regular_files);
        tcase_add_test(t, test_golden_stop);
        return t;
}
