/* check_lifecycle_actions.c - lifecycle tests: operator actions (claim,
 * comment, close), the actions the lifecycle rejects, and actions after an
 * auto-clear. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/check_lifecycle.h"
#include "tests/unit/lifecycle_fixture.h"

/* ---- actions ------------------------------------------------------------ */

START_TEST(test_actions)
{
        struct ab_integration *integ =
            integ_make("net", NULL, "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct collector c;
        char json[512];

        col_init(&c);
        fire(lc, integ, &c, "a", "m", T0);
        fire(lc, integ, &c, "b", "m", T0 + 1);

        /* A comment before any claim: the operator is the handler. */
        snprintf(json, sizeof(json),
                 "{\"action\":\"comment\",\"alert_id\":\"%s\","
                 "\"operator\":\"bob\",\"comment\":\"on it\"}",
                 c.ev[0].alert_id);
        act_ok(lc, &c, json, T0 + 10);
        ck_assert_int_eq(c.ev[2].type, AB_EVENT_COMMENT);
        ck_assert_str_eq(c.ev[2].alert_id, c.ev[0].alert_id);
        ck_assert_str_eq(c.ev[2].fp, c.ev[0].fp);
        ck_assert_str_eq(c.ev[2].handler, "bob");
        ck_assert_str_eq(c.ev[2].op, "bob");
        ck_assert_str_eq(c.ev[2].comment, "on it");
        ck_assert_str_eq(c.ev[2].solution, "");
        ck_assert(!c.ev[2].resolved);
        ck_assert_int_eq(c.ev[2].time_ms, T0 + 10);
        ck_assert_int_eq(c.ev[2].alert_status, AB_ALERT_FIRING);

        snprintf(json, sizeof(json),
                 "{\"action\":\"claim\",\"fingerprint\":\"%s\","
                 "\"integration\":\"net\",\"operator\":\"alice\"}",
                 c.ev[0].fp);
        act_ok(lc, &c, json, T0 + 20);
        ck_assert_int_eq(c.ev[3].type, AB_EVENT_CLAIM);
        ck_assert_str_eq(c.ev[3].handler, "alice");
        ck_assert_str_eq(c.ev[3].op, "alice");
        ck_assert_str_eq(c.ev[3].comment, "");

        /* Merges that grow and shrink the stored alert keep the claimer
         * (it is stored behind the alert's content) and emit nothing. */
        fire(lc, integ, &c, "a", "a message much longer than the first",
             T0 + 25);
        fire(lc, integ, &c, "a", "m", T0 + 26);
        ck_assert_uint_eq(c.n, 4);

        /* After the claim, the claimer stays the handler. */
        snprintf(json, sizeof(json),
                 "{\"action\":\"comment\",\"alert_id\":\"%s\","
                 "\"operator\":\"bob\",\"comment\":\"\\u00e9 \\\"q\\\"\"}",
                 c.ev[0].alert_id);
        act_ok(lc, &c, json, T0 + 30);
        ck_assert_str_eq(c.ev[4].handler, "alice");
        ck_assert_str_eq(c.ev[4].op, "bob");
        ck_assert_str_eq(c.ev[4].comment, "\xc3\xa9 \"q\"");

        snprintf(json, sizeof(json),
                 "{\"action\":\"close\",\"alert_id\":\"%s\","
                 "\"fingerprint\":\"%s\",\"operator\":\"carol\","
                 "\"solution\":\"rebooted\"}",
                 c.ev[0].alert_id, c.ev[0].fp);
        act_ok(lc, &c, json, T0 + 40);
        ck_assert_int_eq(c.ev[5].type, AB_EVENT_CLOSE);
        ck_assert_str_eq(c.ev[5].handler, "alice");
        ck_assert_str_eq(c.ev[5].op, "carol");
        ck_assert_str_eq(c.ev[5].solution, "rebooted");
        ck_assert(c.ev[5].resolved);
        ck_assert_int_eq(c.ev[5].end_ms, T0 + 40);
        ck_assert_int_eq(c.ev[5].alert_status, AB_ALERT_RESOLVED);
        ck_assert_uint_eq(stats_of(lc).closed_action, 1);

        /* Close without a solution, upper-case hex id accepted. */
        {
                char up[AB_EVENT_ID_LEN + 1];
                size_t i;

                for (i = 0; i <= AB_EVENT_ID_LEN; i++)
                        up[i] = (char)(c.ev[1].alert_id[i] >= 'a'
                                           ? c.ev[1].alert_id[i] - 32
                                           : c.ev[1].alert_id[i]);
                snprintf(json, sizeof(json),
                         "{\"action\":\"close\",\"alert_id\":\"%s\","
                         "\"operator\":\"dave\",\"comment\":null}",
                         up);
        }
        act_ok(lc, &c, json, T0 + 50);
        ck_assert_int_eq(c.ev[6].type, AB_EVENT_CLOSE);
        ck_assert_str_eq(c.ev[6].alert_id, c.ev[1].alert_id);
        ck_assert_str_eq(c.ev[6].handler, "dave");
        ck_assert_str_eq(c.ev[6].solution, "closed by dave");
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 0);
        ck_assert_uint_eq(stats_of(lc).actions_rejected, 0);

        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

struct rejection {
        const char *json; /* %s = the open alert's id, %f = its fingerprint */
        ab_err_t code;
        const char *path;
        const char *text;
};

START_TEST(test_action_rejections)
{
        static const struct rejection cases[] = {
            {"not json", AB_ERR_ACTION_INVALID, "", "must be JSON"},
            {"[1]", AB_ERR_ACTION_INVALID, "", "must be a JSON object"},
            {"{\"alert_id\":\"%s\",\"operator\":\"x\"}", AB_ERR_ACTION_INVALID,
             "action", "is required"},
            {"{\"action\":\"ack\",\"alert_id\":\"%s\",\"operator\":\"x\"}",
             AB_ERR_ACTION_INVALID, "action", "not \"ack\""},
            {"{\"action\":7,\"alert_id\":\"%s\",\"operator\":\"x\"}",
             AB_ERR_ACTION_INVALID, "action", "must be a string"},
            {"{\"action\":\"claim\",\"operator\":\"x\"}", AB_ERR_ACTION_INVALID,
             "", "alert_id or fingerprint"},
            {"{\"action\":\"claim\",\"alert_id\":\"%s\",\"operator\":\"x\","
             "\"action\":\"close\",\"solution\":\"s\"}",
             AB_ERR_ACTION_INVALID, "action",
             "must not repeat a key: duplicate key \"action\""},
            {"{\"action\":\"claim\",\"alert_id\":\"xyz\",\"operator\":\"x\"}",
             AB_ERR_ACTION_INVALID, "alert_id", "32 hexadecimal"},
            {"{\"action\":\"claim\",\"alert_id\":\"%s\"}",
             AB_ERR_ACTION_INVALID, "operator", "is required"},
            {"{\"action\":\"claim\",\"alert_id\":\"%s\",\"operator\":\"\"}",
             AB_ERR_ACTION_INVALID, "operator", "is required"},
            {"{\"action\":\"comment\",\"alert_id\":\"%s\",\"operator\":\"x\"}",
             AB_ERR_ACTION_INVALID, "comment", "is required"},
            {"{\"action\":\"claim\",\"alert_id\":"
             "\"00000000000000000000000000000000\",\"operator\":\"x\"}",
             AB_ERR_ACTION_UNKNOWN, "alert_id", "no open alert has alert_id"},
            {"{\"action\":\"claim\",\"fingerprint\":"
             "\"00000000000000000000000000000000\",\"operator\":\"x\"}",
             AB_ERR_ACTION_UNKNOWN, "fingerprint", "no open alert"},
            {"{\"action\":\"claim\",\"fingerprint\":\"%f\","
             "\"integration\":\"other\",\"operator\":\"x\"}",
             AB_ERR_ACTION_UNKNOWN, "integration",
             "belongs to integration net, not other"},
        };
        struct ab_integration *integ =
            integ_make("net", NULL, "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        char json[512], id[AB_EVENT_ID_LEN + 1], fp[AB_EVENT_ID_LEN + 1];
        struct ab_error err;
        struct collector c;
        size_t i;

        col_init(&c);
        fire(lc, integ, &c, "a", "m", T0);
        memcpy(id, c.ev[0].alert_id, sizeof(id));
        memcpy(fp, c.ev[0].fp, sizeof(fp));
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const char *p = cases[i].json;
                char *o       = json;

                for (; *p; p++) {
                        if (p[0] == '%' && (p[1] == 's' || p[1] == 'f')) {
                                memcpy(o, p[1] == 's' ? id : fp,
                                       AB_EVENT_ID_LEN);
                                o += AB_EVENT_ID_LEN;
                                p++;
                        } else {
                                *o++ = *p;
                        }
                }
                *o = '\0';
                ck_assert_msg(act(lc, &c, json, T0 + 1, &err) == cases[i].code,
                              "case %zu: got %s (%s)", i, ab_err_code(err.code),
                              err.text);
                ck_assert_msg(!strcmp(err.path, cases[i].path),
                              "case %zu: path %s", i, err.path);
                ck_assert_msg(strstr(err.text, cases[i].text) != NULL,
                              "case %zu: text %s", i, err.text);
        }
        ck_assert_uint_eq(c.n, 1);
        ck_assert_uint_eq(stats_of(lc).actions_rejected,
                          sizeof(cases) / sizeof(cases[0]));

        /* Closed alerts are told apart from unknown ones. */
        recover(lc, integ, &c, "a", T0 + 2);
        snprintf(json, sizeof(json),
                 "{\"action\":\"claim\",\"alert_id\":\"%s\","
                 "\"operator\":\"x\"}",
                 id);
        ck_assert_int_eq(act(lc, &c, json, T0 + 3, &err), AB_ERR_ACTION_CLOSED);
        ck_assert_ptr_nonnull(strstr(err.text, "was closed at "
                                               "2023-11-14T22:13:20.002Z "
                                               "(recovered)"));
        snprintf(json, sizeof(json),
                 "{\"action\":\"comment\",\"fingerprint\":\"%s\","
                 "\"operator\":\"x\",\"comment\":\"late\"}",
                 fp);
        ck_assert_int_eq(act(lc, &c, json, T0 + 3, &err), AB_ERR_ACTION_CLOSED);
        ck_assert_str_eq(err.path, "fingerprint");
        ck_assert_uint_eq(c.n, 2);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(test_action_after_auto_clear)
{
        struct ab_integration *integ =
            integ_make("net", "1m", "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct ab_error err;
        struct collector c;
        char json[256];

        col_init(&c);
        fire(lc, integ, &c, "a", "m", T0);
        snprintf(json, sizeof(json),
                 "{\"action\":\"claim\",\"alert_id\":\"%s\","
                 "\"operator\":\"x\"}",
                 c.ev[0].alert_id);
        /* The action's own time passes the deadline: the alert closes
         * first, then the action is rejected. */
        ck_assert_int_eq(act(lc, &c, json, T0 + MIN_MS, &err),
                         AB_ERR_ACTION_CLOSED);
        ck_assert_ptr_nonnull(strstr(err.text, "(auto-cleared)"));
        ck_assert_uint_eq(c.n, 2);
        ck_assert_int_eq(c.ev[1].type, AB_EVENT_CLOSE);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

/* A claim, comment or close of the alert \p id whose \p key (operator,
 * comment or solution) is \p text; the other fields are short. */
static void action_with(char *json, size_t n, const char *id, const char *type,
                        const char *key, const char *text)
{
        bool op = !strcmp(key, "operator"), cm = !strcmp(key, "comment");

        snprintf(json, n,
                 "{\"action\":\"%s\",\"alert_id\":\"%s\",\"operator\":\"%s\","
                 "\"comment\":\"%s\"%s%s%s}",
                 type, id, op ? text : "x", cm ? text : "c",
                 op || cm ? "" : ",\"solution\":\"", op || cm ? "" : text,
                 op || cm ? "" : "\"");
}

/*
 * Defect: action fields had no bound (a 10 MB comment became a 10 MB
 * event) and a 1 MB operator with control characters became the alert's
 * handler in every later event. Operator, comment and solution are now
 * bounded (lifecycle.max_action_field, here 100 bytes) and refuse control
 * characters other than newline and tab, as action_invalid naming the
 * field; a rejected claim leaves the handler as it was.
 */
START_TEST(test_action_text_bounds)
{
        static const struct {
                const char *type, *key, *text, *msg;
        } bad[] = {
            {"claim", "operator", "bad\\u0001op", "U+0001 at byte 3"},
            {"claim", "operator", "esc\\u001b[31m", "U+001B"},
            {"comment", "comment", "del\\u007f", "U+007F"},
            {"close", "solution", "nel\\u0085", "U+0085"},
            {"comment", "comment", "cr\\r", "U+000D"},
        };
        struct ab_lifecycle_config conf = {.max_action_field = 100};
        struct ab_integration *integ =
            integ_make("net", NULL, "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = ab_lifecycle_new(&conf);
        char json[1024], id[AB_EVENT_ID_LEN + 1], text[256];
        struct ab_error err;
        struct collector c;

        col_init(&c);
        fire(lc, integ, &c, "a", "m", T0);
        memcpy(id, c.ev[0].alert_id, sizeof(id));
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                action_with(json, sizeof(json), id, bad[i].type, bad[i].key,
                            bad[i].text);
                ck_assert_int_eq(act(lc, &c, json, T0 + 1, &err),
                                 AB_ERR_ACTION_INVALID);
                ck_assert_str_eq(err.path, bad[i].key);
                ck_assert_msg(strstr(err.text, bad[i].msg), "%zu: %s", i,
                              err.text);
        }
        /* One byte over the bound, in each field. */
        memset(text, 'x', 101);
        text[101] = '\0';
        action_with(json, sizeof(json), id, "claim", "operator", text);
        ck_assert_int_eq(act(lc, &c, json, T0 + 1, &err),
                         AB_ERR_ACTION_INVALID);
        ck_assert_str_eq(err.path, "operator");
        ck_assert_ptr_nonnull(strstr(err.text, "operator is 101 bytes, more "
                                               "than the 100 bytes"));
        action_with(json, sizeof(json), id, "comment", "comment", text);
        ck_assert_int_eq(act(lc, &c, json, T0 + 1, &err),
                         AB_ERR_ACTION_INVALID);
        ck_assert_str_eq(err.path, "comment");
        action_with(json, sizeof(json), id, "close", "solution", text);
        ck_assert_int_eq(act(lc, &c, json, T0 + 1, &err),
                         AB_ERR_ACTION_INVALID);
        ck_assert_str_eq(err.path, "solution");
        ck_assert_uint_eq(c.n, 1);

        /* At the bound, with newline and tab: accepted. */
        text[100] = '\0';
        action_with(json, sizeof(json), id, "claim", "operator", text);
        act_ok(lc, &c, json, T0 + 2);
        ck_assert_uint_eq(c.n, 2);
        ck_assert_int_eq(c.ev[1].handler[0], 'x');
        action_with(json, sizeof(json), id, "comment", "comment",
                    "line 1\\n\\tline 2");
        act_ok(lc, &c, json, T0 + 3);
        ck_assert_str_eq(c.ev[2].comment, "line 1\n\tline 2");
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

/* Without a configured bound, the default one applies. */
START_TEST(test_action_text_default_bound)
{
        struct ab_integration *integ =
            integ_make("net", NULL, "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        size_t n                = AB_LIFECYCLE_MAX_ACTION_FIELD + 1;
        char *json              = malloc(n + 256);
        char *text              = malloc(n + 1);
        char id[AB_EVENT_ID_LEN + 1];
        struct ab_error err;
        struct collector c;

        ck_assert_ptr_nonnull(json);
        ck_assert_ptr_nonnull(text);
        col_init(&c);
        fire(lc, integ, &c, "a", "m", T0);
        memcpy(id, c.ev[0].alert_id, sizeof(id));
        memset(text, 'y', n);
        text[n] = '\0';
        action_with(json, n + 256, id, "comment", "comment", text);
        ck_assert_int_eq(act(lc, &c, json, T0 + 1, &err),
                         AB_ERR_ACTION_INVALID);
        ck_assert_str_eq(err.path, "comment");
        text[n - 1] = '\0';
        action_with(json, n + 256, id, "comment", "comment", text);
        ck_assert_int_eq(act(lc, &c, json, T0 + 1, &err), AB_OK);
        ck_assert_uint_eq(c.n, 2);
        free(json);
        free(text);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

TCase *lifecycle_actions_tcase(void)
{
        TCase *tc = tcase_create("actions");

        tcase_add_test(tc, test_actions);
        tcase_add_test(tc, test_action_rejections);
        tcase_add_test(tc, test_action_after_auto_clear);
        tcase_add_test(tc, test_action_text_bounds);
        tcase_add_test(tc, test_action_text_default_bound);
        return tc;
}
