/* check_replay.c - unit tests of the parts of replay/ that need no Kafka:
 * range bounds, the record diff, the NDJSON format, and progress
 * formatting (golden files: check_replay_golden.c). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mem.h"
#include "replay/diff.h"
#include "replay/ndjson.h"
#include "replay/progress.h"
#include "replay/range.h"
#include "tests/unit/check_replay.h"
#include "transform/event.h"

/* ---------------------------------------------------------------- bounds */

static struct ab_replay_bound bound(const char *s)
{
        struct ab_replay_bound b;
        struct ab_error err;

        ab_error_clear(&err);
        ck_assert_msg(ab_replay_bound_parse(s, &b, &err) == AB_OK, "%s: %s", s,
                      err.text);
        return b;
}

static void bound_fails(const char *s, const char *needle)
{
        struct ab_replay_bound b;
        struct ab_error err;

        ab_error_clear(&err);
        ck_assert_msg(ab_replay_bound_parse(s, &b, &err) == AB_ERR_USAGE,
                      "'%s' was accepted", s);
        ck_assert_msg(strstr(err.text, needle), "'%s': %s", s, err.text);
}

START_TEST(test_bound_parse)
{
        struct ab_replay_bound b;

        ck_assert_int_eq(bound("earliest").kind, AB_REPLAY_EARLIEST);
        ck_assert_int_eq(bound("latest").kind, AB_REPLAY_LATEST);
        b = bound("0");
        ck_assert_int_eq(b.kind, AB_REPLAY_OFFSET);
        ck_assert_int_eq(b.value, 0);
        b = bound("123456");
        ck_assert_int_eq(b.kind, AB_REPLAY_OFFSET);
        ck_assert_int_eq(b.value, 123456);
        b = bound("999999999999");
        ck_assert_int_eq(b.kind, AB_REPLAY_OFFSET);
        b = bound("@1714564800000");
        ck_assert_int_eq(b.kind, AB_REPLAY_TIME);
        ck_assert_int_eq(b.value, 1714564800000LL);
        /* '@' is always milliseconds, even for small numbers. */
        b = bound("@1500");
        ck_assert_int_eq(b.kind, AB_REPLAY_TIME);
        ck_assert_int_eq(b.value, 1500);
        b = bound("2024-05-01T12:00:00Z");
        ck_assert_int_eq(b.kind, AB_REPLAY_TIME);
        ck_assert_int_eq(b.value, 1714564800000LL);
        b = bound("2024-05-01T14:00:00.250+02:00");
        ck_assert_int_eq(b.kind, AB_REPLAY_TIME);
        ck_assert_int_eq(b.value, 1714564800250LL);
}
END_TEST

START_TEST(test_bound_errors)
{
        /* An epoch in ms without '@' is almost surely not an offset. */
        bound_fails("1714564800000", "@1714564800000");
        bound_fails("", "expected earliest");
        bound_fails("soon", "expected earliest");
        bound_fails("-5", "expected earliest");
        bound_fails("12x", "expected earliest");
        bound_fails("2024-05-01T12:00:00", "expected earliest"); /* no zone */
        bound_fails("@", "epoch milliseconds");
        bound_fails("@12a", "epoch milliseconds");
        bound_fails("@999999999999999999", "epoch milliseconds");
        bound_fails("99999999999999999999999", "expected earliest");
}
END_TEST

START_TEST(test_bound_format)
{
        char buf[64];
        struct ab_replay_bound b = bound("2024-05-01T12:00:00Z");

        ck_assert_str_eq(ab_replay_bound_format(&b, buf, sizeof(buf)),
                         "2024-05-01T12:00:00.000Z");
        b = bound("17");
        ck_assert_str_eq(ab_replay_bound_format(&b, buf, sizeof(buf)),
                         "offset 17");
        b = bound("latest");
        ck_assert_str_eq(ab_replay_bound_format(&b, buf, sizeof(buf)),
                         "latest");
}
END_TEST

static void resolve(const char *from, const char *to, int64_t low, int64_t high,
                    int64_t from_time, int64_t to_time, int64_t want_start,
                    int64_t want_end)
{
        struct ab_replay_bound f = bound(from), t = bound(to);
        struct ab_replay_marks m = {low, high, from_time, to_time};
        int64_t start = -7, end = -7;

        ab_replay_range_resolve(&f, &t, &m, &start, &end);
        ck_assert_msg(start == want_start && end == want_end,
                      "%s..%s in [%lld,%lld): [%lld,%lld), want [%lld,%lld)",
                      from, to, (long long)low, (long long)high,
                      (long long)start, (long long)end, (long long)want_start,
                      (long long)want_end);
}

START_TEST(test_range_resolve)
{
        resolve("earliest", "latest", 0, 10, -1, -1, 0, 10);
        resolve("earliest", "latest", 5, 10, -1, -1, 5, 10);
        resolve("3", "7", 0, 10, -1, -1, 3, 7);
        /* Offsets are clamped to the log. */
        resolve("2", "7", 5, 10, -1, -1, 5, 7);
        resolve("3", "70", 0, 10, -1, -1, 3, 10);
        resolve("30", "latest", 0, 10, -1, -1, 10, 10);
        /* An end before the start is an empty range at the start. */
        resolve("7", "3", 0, 10, -1, -1, 7, 7);
        resolve("latest", "earliest", 0, 10, -1, -1, 10, 10);
        /* Times resolve through offsetsForTimes; -1 means "after the
         * last record": the high watermark. */
        resolve("@1000", "@2000", 0, 10, 4, 8, 4, 8);
        resolve("@1000", "@2000", 0, 10, 4, -1, 4, 10);
        resolve("@1000", "@2000", 0, 10, -1, -1, 10, 10);
        resolve("@1000", "latest", 0, 10, 2, 9, 2, 10);
        resolve("earliest", "@2000", 3, 10, -1, 6, 3, 6);
        /* An empty log. */
        resolve("earliest", "latest", 0, 0, -1, -1, 0, 0);
        resolve("earliest", "latest", 42, 42, -1, -1, 42, 42);
}
END_TEST

/* ---------------------------------------------------------------- fields */

struct field_log {
        char text[2048];
        size_t n;
};

static ab_err_t log_field(void *arg, const char *path, struct ab_str old,
                          struct ab_str new_)
{
        struct field_log *l = arg;
        size_t len          = strlen(l->text);

        snprintf(l->text + len, sizeof(l->text) - len, "%s: %.*s -> %.*s\n",
                 path, old.ptr ? (int)old.len : 1, old.ptr ? old.ptr : "-",
                 new_.ptr ? (int)new_.len : 1, new_.ptr ? new_.ptr : "-");
        l->n++;
        return AB_OK;
}

static const char *fields(const char *a, const char *b, size_t *n)
{
        static struct field_log l;

        memset(&l, 0, sizeof(l));
        ck_assert_int_eq(
            ab_replay_json_diff(a, strlen(a), b, strlen(b), log_field, &l),
            AB_OK);
        if (n)
                *n = l.n;
        return l.text;
}

START_TEST(test_json_diff_paths)
{
        size_t n;

        ck_assert_str_eq(fields("{\"a\":1}", "{\"a\":1}", &n), "");
        /* Formatting and member order are not differences. */
        ck_assert_str_eq(fields("{\"a\":1,\"b\":[1,2]}",
                                "{ \"b\" : [1, 2],\n \"a\" : 1 }", &n),
                         "");
        ck_assert_str_eq(fields("{\"s\":\"a\\u0062\"}", "{\"s\":\"ab\"}", &n),
                         "");
        ck_assert_str_eq(fields("{\"a\":{\"b\":{\"c\":\"x\"}}}",
                                "{\"a\":{\"b\":{\"c\":\"y\"}}}", &n),
                         "a.b.c: \"x\" -> \"y\"\n");
        ck_assert_str_eq(
            fields("{\"a\":1,\"gone\":true}", "{\"a\":1,\"new\":null}", &n),
            "gone: true -> -\nnew: - -> null\n");
        ck_assert_str_eq(fields("{\"l\":[1,2,3]}", "{\"l\":[1,5]}", &n),
                         "l[1]: 2 -> 5\nl[2]: 3 -> -\n");
        ck_assert_str_eq(fields("{\"x\":{\"k\":1}}", "{\"x\":[1]}", &n),
                         "x: {\"k\":1} -> [1]\n");
        ck_assert_str_eq(fields("{\"labels\":{\"k8s.io/app\":\"a\"}}",
                                "{\"labels\":{\"k8s.io/app\":\"b\"}}", &n),
                         "labels[\"k8s.io/app\"]: \"a\" -> \"b\"\n");
        ck_assert_str_eq(fields("1", "2", &n), "(root): 1 -> 2\n");
        ck_assert_int_eq(n, 1);
}
END_TEST

START_TEST(test_json_diff_not_json)
{
        struct field_log l;

        memset(&l, 0, sizeof(l));
        ck_assert_int_eq(ab_replay_json_diff("{", 1, "{}", 2, log_field, &l),
                         AB_ERR_DECODE);
}
END_TEST

/* ---------------------------------------------------------------- records */

static const struct ab_replay_pos POS = {1714564800000LL, 0, 17};

static struct ab_replay_item event_item(enum ab_event_type type, const char *fp,
                                        const char *body, uint32_t index)
{
        struct ab_replay_item it;

        memset(&it, 0, sizeof(it));
        it.kind  = AB_REPLAY_ITEM_EVENT;
        it.type  = (int)type;
        it.index = index;
        it.key   = ab_str_c(fp);
        it.body  = ab_str_c(body);
        return it;
}

static struct ab_replay_item rejection_item(ab_err_t code, const char *body,
                                            uint32_t index)
{
        struct ab_replay_item it;

        memset(&it, 0, sizeof(it));
        it.kind  = AB_REPLAY_ITEM_REJECTION;
        it.type  = (int)code;
        it.index = index;
        it.body  = ab_str_c(body);
        return it;
}

static char *render(const struct ab_replay_diff *d)
{
        struct ab_buf b;
        size_t len;

        ab_buf_init(&b, 0);
        ck_assert_int_eq(ab_replay_diff_render(d, "old", "new", &b), AB_OK);
        return ab_buf_take(&b, &len);
}

#define EV(level, name)                                                        \
        "{\"type\":\"aliyun:arms:alarm:create\",\"data\":{\"data\":{"          \
        "\"level\":\"" level                                                   \
        "\",\"alerts\":[{\"labels\":{\"alertname\":\"" name "\"}}]}}}"

START_TEST(test_diff_same)
{
        struct ab_replay_diff *d = ab_replay_diff_new(5);
        struct ab_replay_item a[2], b[2];
        char *text;

        a[0] = event_item(AB_EVENT_CREATE, "fp1", EV("P1", "cpu"), 0);
        a[1] = rejection_item(AB_ERR_DECODE, "{\"code\":\"decode\"}", 1);
        b[0] = event_item(AB_EVENT_CREATE, "fp1", EV("P1", "cpu"), 0);
        b[1] = rejection_item(AB_ERR_DECODE, "{ \"code\" : \"decode\" }", 1);
        ck_assert_int_eq(ab_replay_diff_record(d, &POS, a, 2, b, 2), AB_OK);
        ck_assert(!ab_replay_diff_found(d));
        ck_assert_int_eq(
            ab_replay_diff_count(d, AB_REPLAY_ITEM_EVENT, AB_REPLAY_SAME), 1);
        ck_assert_int_eq(
            ab_replay_diff_count(d, AB_REPLAY_ITEM_REJECTION, AB_REPLAY_SAME),
            1);
        text = render(d);
        ck_assert_msg(strstr(text, "old vs new: no differences"), "%s", text);
        ab_free(text);
        ab_replay_diff_destroy(d);
}
END_TEST

START_TEST(test_diff_changed_added_removed)
{
        struct ab_replay_diff *d = ab_replay_diff_new(5);
        struct ab_replay_item old[3], new_[3];
        struct ab_buf json;
        char *text;

        /* old: create fp1 P3, close fp9; new: close fp7, create fp1 P2,
         * a rejection. create fp1 pairs by fingerprint despite its new
         * position; close fp9 / close fp7 pair by type. */
        old[0] = event_item(AB_EVENT_CREATE, "fp1", EV("P3", "cpu"), 0);
        old[1] =
            event_item(AB_EVENT_CLOSE, "fp9",
                       "{\"type\":\"aliyun:arms:alarm:close\",\"id\":1}", 1);
        new_[0] =
            event_item(AB_EVENT_CLOSE, "fp7",
                       "{\"type\":\"aliyun:arms:alarm:close\",\"id\":1}", 0);
        new_[1] = event_item(AB_EVENT_CREATE, "fp1", EV("P2", "cpu"), 1);
        new_[2] = rejection_item(AB_ERR_NO_ALERTNAME,
                                 "{\"code\":\"no_alertname\",\"message\":"
                                 "\"labels.alertname is required\"}",
                                 2);
        ck_assert_int_eq(ab_replay_diff_record(d, &POS, old, 2, new_, 3),
                         AB_OK);
        /* An event only in the old mapping, a bit later. */
        old[2] = event_item(AB_EVENT_CREATE, "fp5", EV("P4", "disk"), 0);
        ck_assert_int_eq(ab_replay_diff_record(d, &POS, &old[2], 1, NULL, 0),
                         AB_OK);
        ck_assert(ab_replay_diff_found(d));
        ck_assert_int_eq(
            ab_replay_diff_count(d, AB_REPLAY_ITEM_EVENT, AB_REPLAY_CHANGED),
            1);
        ck_assert_int_eq(
            ab_replay_diff_count(d, AB_REPLAY_ITEM_EVENT, AB_REPLAY_SAME), 1);
        ck_assert_int_eq(
            ab_replay_diff_count(d, AB_REPLAY_ITEM_EVENT, AB_REPLAY_REMOVED),
            1);
        ck_assert_int_eq(
            ab_replay_diff_count(d, AB_REPLAY_ITEM_REJECTION, AB_REPLAY_ADDED),
            1);
        text = render(d);
        ck_assert_msg(strstr(text, "old vs new: DIFFERENT"), "%s", text);
        ck_assert_msg(strstr(text, "events      1 same, 1 changed, 0 added, "
                                   "1 removed"),
                      "%s", text);
        ck_assert_msg(strstr(text, "       1  data.data.level"), "%s", text);
        ck_assert_msg(strstr(text, "partition 0 offset 17 "
                                   "(2024-05-01T12:00:00.000Z) output 1: "
                                   "create event, alertname \"cpu\", "
                                   "fingerprint fp1\n"
                                   "      data.data.level: \"P3\" -> "
                                   "\"P2\"\n"),
                      "%s", text);
        ck_assert_msg(strstr(text, "removed (1, only in old):\n  partition 0 "
                                   "offset 17 (2024-05-01T12:00:00.000Z) "
                                   "output 0: create event, alertname "
                                   "\"disk\", fingerprint fp5\n"),
                      "%s", text);
        ck_assert_msg(strstr(text, "added (1, only in new):\n  partition 0 "
                                   "offset 17 (2024-05-01T12:00:00.000Z) "
                                   "output 2: rejection no_alertname: "
                                   "labels.alertname is required\n"),
                      "%s", text);
        ab_free(text);
        ab_buf_init(&json, 0);
        ck_assert_int_eq(ab_replay_diff_json(d, &json), AB_OK);
        ck_assert_str_eq(json.data,
                         "{\"different\":true,\"events\":{\"same\":1,"
                         "\"changed\":1,\"added\":0,\"removed\":1},"
                         "\"rejections\":{\"same\":0,\"changed\":0,"
                         "\"added\":1,\"removed\":0},\"fields\":[{\"path\":"
                         "\"data.data.level\",\"count\":1}],"
                         "\"other_fields\":0}");
        ab_buf_fini(&json);
        ab_replay_diff_destroy(d);
}
END_TEST

START_TEST(test_diff_rejection_code_changes)
{
        struct ab_replay_diff *d = ab_replay_diff_new(5);
        struct ab_replay_item a, b;
        char *text;

        /* Rejections pair whatever their codes, and an event never pairs
         * with a rejection. */
        a = rejection_item(AB_ERR_DECODE, "{\"code\":\"decode\"}", 0);
        b = rejection_item(AB_ERR_NO_SEVERITY, "{\"code\":\"no_severity\"}", 0);
        ck_assert_int_eq(ab_replay_diff_record(d, &POS, &a, 1, &b, 1), AB_OK);
        ck_assert_int_eq(ab_replay_diff_count(d, AB_REPLAY_ITEM_REJECTION,
                                              AB_REPLAY_CHANGED),
                         1);
        a = event_item(AB_EVENT_CREATE, "fp", EV("P1", "x"), 0);
        ck_assert_int_eq(ab_replay_diff_record(d, &POS, &a, 1, &b, 1), AB_OK);
        ck_assert_int_eq(
            ab_replay_diff_count(d, AB_REPLAY_ITEM_EVENT, AB_REPLAY_REMOVED),
            1);
        ck_assert_int_eq(
            ab_replay_diff_count(d, AB_REPLAY_ITEM_REJECTION, AB_REPLAY_ADDED),
            1);
        text = render(d);
        ck_assert_msg(strstr(text, "code: \"decode\" -> \"no_severity\""), "%s",
                      text);
        ab_free(text);
        ab_replay_diff_destroy(d);
}
END_TEST

START_TEST(test_diff_examples_bounded)
{
        struct ab_replay_diff *d = ab_replay_diff_new(2);
        struct ab_replay_item it;
        char *text;
        int n;

        it = event_item(AB_EVENT_CREATE, "fp", EV("P1", "x"), 0);
        for (int i = 0; i < 100; i++)
                ck_assert_int_eq(
                    ab_replay_diff_record(d, &POS, NULL, 0, &it, 1), AB_OK);
        ck_assert_int_eq(
            ab_replay_diff_count(d, AB_REPLAY_ITEM_EVENT, AB_REPLAY_ADDED),
            100);
        text = render(d);
        ck_assert_msg(strstr(text, "added (100, only in new, first 2 shown):"),
                      "%s", text);
        /* Exactly two example lines. */
        n = 0;
        for (const char *p = strstr(text, "output 0"); p;
             p             = strstr(p + 1, "output 0"))
                n++;
        ck_assert_int_eq(n, 2);
        ab_free(text);
        ab_replay_diff_destroy(d);
}
END_TEST

START_TEST(test_pos_order)
{
        struct ab_replay_pos a = {100, 0, 5}, b = {100, 1, 2}, c = {101, 0, 1};

        ck_assert_int_lt(ab_replay_pos_cmp(&a, &b), 0);
        ck_assert_int_lt(ab_replay_pos_cmp(&b, &c), 0);
        ck_assert_int_gt(ab_replay_pos_cmp(&c, &a), 0);
        ck_assert_int_eq(ab_replay_pos_cmp(&a, &a), 0);
        b.partition = 0;
        ck_assert_int_lt(ab_replay_pos_cmp(&b, &a), 0);
}
END_TEST

/* ---------------------------------------------------------------- NDJSON */

START_TEST(test_line_round_trip)
{
        struct ab_replay_pos pos = {1714564800123LL, 3, 42}, got;
        struct ab_replay_item it, back;
        struct ab_json_doc doc;
        struct ab_error err, e;
        struct ab_buf line, body;

        ab_buf_init(&line, 0);
        ab_buf_init(&body, 0);
        ab_json_doc_init(&doc);
        it = event_item(AB_EVENT_CLOSE, "abc123",
                        "{\"type\":\"aliyun:arms:alarm:close\",\"x\":[1]}", 7);
        ck_assert_int_eq(ab_replay_line_write(&line, &pos, &it), AB_OK);
        ck_assert_str_eq(line.data,
                         "{\"partition\":3,\"offset\":42,\"ts\":1714564800123,"
                         "\"index\":7,\"key\":\"abc123\",\"event\":{\"type\":"
                         "\"aliyun:arms:alarm:close\",\"x\":[1]}}\n");
        ab_error_clear(&err);
        ck_assert_int_eq(ab_replay_line_parse(&doc, line.data, line.len - 1,
                                              &got, &back, &err),
                         AB_OK);
        ck_assert_int_eq(ab_replay_pos_cmp(&got, &pos), 0);
        ck_assert_int_eq(back.kind, AB_REPLAY_ITEM_EVENT);
        ck_assert_int_eq(back.type, AB_EVENT_CLOSE);
        ck_assert_int_eq(back.index, 7);
        ck_assert(ab_str_eq(back.key, it.key));
        ck_assert(ab_str_eq(back.body, it.body));

        /* A rejection. */
        ab_error_clear(&e);
        ab_error_set_at(&e, AB_ERR_DECODE, 12, "unexpected character '%c'",
                        'x');
        ck_assert_int_eq(ab_replay_rejection_write(&body, &e, "generic"),
                         AB_OK);
        ck_assert_str_eq(body.data,
                         "{\"code\":\"decode\",\"message\":\"unexpected "
                         "character 'x'\",\"byte\":12,\"integration\":"
                         "\"generic\"}");
        it = rejection_item(AB_ERR_DECODE, body.data, 0);
        ab_buf_reset(&line);
        ck_assert_int_eq(ab_replay_line_write(&line, &pos, &it), AB_OK);
        ck_assert_int_eq(ab_replay_line_parse(&doc, line.data, line.len - 1,
                                              &got, &back, &err),
                         AB_OK);
        ck_assert_int_eq(back.kind, AB_REPLAY_ITEM_REJECTION);
        ck_assert_int_eq(back.type, AB_ERR_DECODE);
        ck_assert_ptr_null(back.key.ptr);
        ck_assert(ab_str_eq(back.body, it.body));
        ab_json_doc_fini(&doc);
        ab_buf_fini(&line);
        ab_buf_fini(&body);
}
END_TEST

static void line_fails(const char *line, const char *needle)
{
        struct ab_replay_pos pos;
        struct ab_replay_item it;
        struct ab_json_doc doc;
        struct ab_error err;

        ab_json_doc_init(&doc);
        ab_error_clear(&err);
        ck_assert_int_eq(
            ab_replay_line_parse(&doc, line, strlen(line), &pos, &it, &err),
            AB_ERR_DECODE);
        ck_assert_msg(strstr(err.text, needle), "%s: %s", line, err.text);
        ab_json_doc_fini(&doc);
}

START_TEST(test_line_errors)
{
        line_fails("{", "");
        line_fails("[]", "JSON object");
        line_fails("{\"offset\":1,\"ts\":1,\"index\":0,\"event\":{}}",
                   "integers");
        line_fails("{\"partition\":-1,\"offset\":1,\"ts\":1,\"index\":0,"
                   "\"event\":{}}",
                   "integers");
        line_fails("{\"partition\":0,\"offset\":1,\"ts\":1,\"index\":0}",
                   "exactly one");
        line_fails("{\"partition\":0,\"offset\":1,\"ts\":1,\"index\":0,"
                   "\"event\":{},\"error\":{}}",
                   "exactly one");
        line_fails("{\"partition\":0,\"offset\":1,\"ts\":1,\"index\":0,"
                   "\"event\":\"x\"}",
                   "exactly one");
}
END_TEST

/* Write \p text to a new temporary file. @returns its path (static). */
START_TEST(test_progress)
{
        struct ab_replay_progress p = {450, 1000, 2000, false};
        struct ab_buf b;
        char d[32];

        ck_assert(ab_replay_progress_rate(&p) == 225.0);
        ck_assert_int_eq(ab_replay_progress_eta_ms(&p), 2444);
        ab_buf_init(&b, 0);
        ck_assert_int_eq(ab_replay_progress_format(&p, false, 0, &b), AB_OK);
        ck_assert_str_eq(b.data, "replay: 450/1000 records (45%), 225 "
                                 "records/s, ETA 2.4s");
        ab_buf_reset(&b);
        ck_assert_int_eq(ab_replay_progress_format(&p, true, 80, &b), AB_OK);
        ck_assert_str_eq(b.data, "[#################---------------------]"
                                 "  45%  450/1000 records  225/s  ETA 2.4s");
        ck_assert_uint_le(b.len, 80);
        /* A narrow terminal drops the bar rather than wrapping. */
        ab_buf_reset(&b);
        ck_assert_int_eq(ab_replay_progress_format(&p, true, 30, &b), AB_OK);
        ck_assert_str_eq(b.data, "  45%  450/1000 records  225/s  ETA 2.4s");
        p.final = true;
        p.done  = 1000;
        ab_buf_reset(&b);
        ck_assert_int_eq(ab_replay_progress_format(&p, false, 0, &b), AB_OK);
        ck_assert_str_eq(b.data, "replay: 1000/1000 records (100%), 500 "
                                 "records/s, in 2.0s");
        /* Nothing done yet: no rate, no estimate. */
        p = (struct ab_replay_progress){0, 10, 0, false};
        ck_assert_int_eq(ab_replay_progress_eta_ms(&p), -1);
        ab_buf_fini(&b);
        ck_assert_str_eq(ab_replay_duration_format(-1, d, sizeof(d)), "?");
        ck_assert_str_eq(ab_replay_duration_format(0, d, sizeof(d)), "0.0s");
        ck_assert_str_eq(ab_replay_duration_format(12001, d, sizeof(d)), "13s");
        ck_assert_str_eq(ab_replay_duration_format(59001, d, sizeof(d)),
                         "1m00s");
        ck_assert_str_eq(ab_replay_duration_format(245000, d, sizeof(d)),
                         "4m05s");
        ck_assert_str_eq(ab_replay_duration_format(7800000, d, sizeof(d)),
                         "2h10m");
}
END_TEST

static Suite *replay_suite(void)
{
        Suite *s = suite_create("replay");
        TCase *t = tcase_create("range");

        tcase_add_test(t, test_bound_parse);
        tcase_add_test(t, test_bound_errors);
        tcase_add_test(t, test_bound_format);
        tcase_add_test(t, test_range_resolve);
        suite_add_tcase(s, t);
        t = tcase_create("diff");
        tcase_add_test(t, test_json_diff_paths);
        tcase_add_test(t, test_json_diff_not_json);
        tcase_add_test(t, test_diff_same);
        tcase_add_test(t, test_diff_changed_added_removed);
        tcase_add_test(t, test_diff_rejection_code_changes);
        tcase_add_test(t, test_diff_examples_bounded);
        tcase_add_test(t, test_pos_order);
        suite_add_tcase(s, t);
        t = tcase_create("ndjson");
        tcase_add_test(t, test_line_round_trip);
        tcase_add_test(t, test_line_errors);
        suite_add_tcase(s, t);
        suite_add_tcase(s, replay_golden_tcase());
        t = tcase_create("progress");
        tcase_add_test(t, test_progress);
        suite_add_tcase(s, t);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(replay_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
