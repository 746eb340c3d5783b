/* check_sink_eventbridge.c - the PutEvents client against the fake. */
#include <check.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "sink/batch.h"
#include "sink/eventbridge.h"
#include "tests/support/fake_eb.h"

#define MAX_EVENTS 256

/* What the done callback saw, per event index (the cookie). */
static struct {
        int calls;
        struct ab_eb_result r;
        char id[AB_BATCH_ID_MAX + 1];
} seen[MAX_EVENTS];

static struct fake_eb fake;
static struct ab_eb_config cfg;
static struct ab_eb_client *client;
static char ids[MAX_EVENTS][40];

static void on_done(void *opaque, void *cookie, const char *id,
                    const struct ab_eb_result *r)
{
        size_t i = (size_t)(uintptr_t)cookie;

        ck_assert_uint_lt(i, MAX_EVENTS);
        seen[i].calls++;
        seen[i].r = *r;
        snprintf(seen[i].id, sizeof(seen[i].id), "%s", id);
}

static void start_fake(const char *const *extra)
{
        ck_assert_int_eq(fake_eb_start(&fake, extra), 0);
        ab_eb_config_default(&cfg);
        cfg.endpoint                = fake.endpoint;
        cfg.creds.access_key_id     = "testAccessKeyId";
        cfg.creds.access_key_secret = "testSecret";
        cfg.backoff_initial_ms      = 10;
        cfg.backoff_max_ms          = 80;
}

static void setup(void)
{
        memset(seen, 0, sizeof(seen));
        start_fake(NULL);
}

static void teardown(void)
{
        ab_eb_destroy(client);
        client = NULL;
        fake_eb_stop(&fake);
}

static void new_client(void)
{
        struct ab_error err;

        client = ab_eb_new(&cfg, on_done, NULL, &err);
        ck_assert_msg(client != NULL, "ab_eb_new: %s", err.text);
}

/* Submit events 0..n-1 with ordering key "key-<i % nkeys>". */
static void submit(size_t from, size_t n, size_t nkeys)
{
        struct ab_batch_limits lim;
        struct ab_json_doc doc;
        struct ab_buf out;

        ab_batch_limits_default(&lim);
        ab_json_doc_init(&doc);
        ab_buf_init(&out, 0);
        for (size_t i = from; i < from + n; i++) {
                struct ab_batch_event_info info;
                char ev[256], key[32];
                int len;

                snprintf(ids[i], sizeof(ids[i]), "ev-%04zu", i);
                snprintf(key, sizeof(key), "key-%zu", i % nkeys);
                len = snprintf(ev, sizeof(ev),
                               "{\"specversion\":\"1.0\",\"id\":\"%s\","
                               "\"source\":\"alertbridge\",\"type\":"
                               "\"aliyun:arms:alarm:create\",\"data\":"
                               "{\"n\":%zu}}",
                               ids[i], i);
                ab_buf_reset(&out);
                ck_assert_int_eq(ab_batch_encode_event(
                                     &out, &doc, ev, (size_t)len, "alerts-bus",
                                     NULL, &lim, &info, NULL),
                                 AB_OK);
                ck_assert_int_eq(ab_eb_submit(client, out.data, out.len,
                                              info.counted, info.id, key,
                                              strlen(key),
                                              (void *)(uintptr_t)i),
                                 AB_OK);
        }
        ab_buf_fini(&out);
        ab_json_doc_fini(&doc);
}

/* Poll until every event has its outcome; the deadline only guards
 * against a hang. */
static void run(void)
{
        time_t deadline = time(NULL) + 120;

        while (ab_eb_pending(client) && time(NULL) < deadline)
                ck_assert_int_eq(ab_eb_poll(client, 200), AB_OK);
        ck_assert_uint_eq(ab_eb_pending(client), 0);
}

static void assert_all_delivered_once(size_t n)
{
        json_t *st = fake_eb_state(&fake);

        ck_assert_ptr_nonnull(st);
        for (size_t i = 0; i < n; i++) {
                ck_assert_int_eq(seen[i].calls, 1);
                ck_assert_int_eq(seen[i].r.outcome, AB_EB_DELIVERED);
                ck_assert_str_eq(seen[i].id, ids[i]);
                ck_assert_int_eq(fake_eb_count(st, ids[i]), 1);
        }
        ck_assert_uint_eq(json_array_size(json_object_get(st, "order")), n);
        json_decref(st);
}

/* Accepted order of each key's events equals submission order. */
static void assert_per_key_order(size_t n, size_t nkeys)
{
        json_t *st    = fake_eb_state(&fake);
        json_t *order = json_object_get(st, "order");
        long last[64];

        ck_assert_uint_le(nkeys, 64);
        for (size_t k = 0; k < nkeys; k++)
                last[k] = -1;
        for (size_t j = 0; j < json_array_size(order); j++) {
                long i = strtol(json_string_value(json_array_get(order, j)) + 3,
                                NULL, 10);

                ck_assert_int_gt(i, last[(size_t)i % nkeys]);
                last[(size_t)i % nkeys] = i;
        }
        ck_assert_uint_eq(json_array_size(order), n);
        json_decref(st);
}

static uint64_t failures(const char *code)
{
        struct ab_eb_stats st;

        ab_eb_get_stats(client, &st);
        for (unsigned i = 0; i < st.nfailures; i++)
                if (!strcmp(st.failures[i].code, code))
                        return st.failures[i].count;
        return 0;
}

START_TEST(test_exactly_once_keepalive)
{
        struct ab_eb_stats st;
        json_t *state;

        new_client();
        submit(0, 200, 50);
        run();
        assert_all_delivered_once(200);
        assert_per_key_order(200, 50);
        ab_eb_get_stats(client, &st);
        ck_assert_uint_eq(st.events_published, 200);
        ck_assert_uint_eq(st.batch_sum, 200);
        ck_assert_uint_lt(st.requests, 200); /* batched */
        ck_assert_uint_eq(st.retries, 0);
        state = fake_eb_state(&fake);
        /* Connections are kept alive and reused: no more than the
         * requests that can be in flight at once. */
        ck_assert_int_le(
            json_integer_value(json_object_get(state, "connections")),
            (json_int_t)cfg.max_in_flight + 1);
        ck_assert_int_gt(
            (json_int_t)st.requests,
            json_integer_value(json_object_get(state, "connections")));
        json_decref(state);
}
END_TEST

START_TEST(test_requests_in_parallel)
{
        json_t *state;

        /* 64 independent events fill 4 requests of 16 at once; the fake
         * holds each answer, so all 4 are open together. */
        ck_assert_int_eq(fake_eb_script(&fake, "[{\"kind\": \"slow\", "
                                               "\"seconds\": 1.0, "
                                               "\"repeat\": 4}]"),
                         0);
        new_client();
        submit(0, 64, 64);
        run();
        assert_all_delivered_once(64);
        state = fake_eb_state(&fake);
        ck_assert_int_eq(
            json_integer_value(json_object_get(state, "max_concurrent")), 4);
        ck_assert_uint_eq(json_array_size(json_object_get(state, "requests")),
                          4);
        json_decref(state);
}
END_TEST

/* Events 0..39 over 8 keys, all delivered once and in key order despite
 * the scripted failures; @returns how often \p code was counted. */
static uint64_t retry_case(const char *script, const char *code)
{
        struct ab_eb_stats st;

        ck_assert_int_eq(fake_eb_script(&fake, script), 0);
        new_client();
        submit(0, 40, 8);
        run();
        assert_all_delivered_once(40);
        assert_per_key_order(40, 8);
        ab_eb_get_stats(client, &st);
        ck_assert_uint_gt(st.retries, 0);
        return failures(code);
}

START_TEST(test_retry_429)
{
        ck_assert_uint_eq(retry_case("[{\"kind\": \"status\", \"status\": "
                                     "429, \"code\": \"TooManyRequests\", "
                                     "\"repeat\": 3}]",
                                     "TooManyRequests"),
                          3);
}
END_TEST

START_TEST(test_retry_500)
{
        ck_assert_uint_eq(retry_case("[{\"kind\": \"status\", \"status\": "
                                     "500, \"code\": \"InternalError\", "
                                     "\"repeat\": 3}, {\"kind\": \"status\", "
                                     "\"status\": 503, \"repeat\": 2}]",
                                     "InternalError"),
                          3);
        ck_assert_uint_eq(failures("Scripted"), 2);
}
END_TEST

START_TEST(test_retry_timeout)
{
        cfg.request_timeout_ms = 300;
        ck_assert_uint_eq(retry_case("[{\"kind\": \"slow\", \"seconds\": "
                                     "1.5, \"accept\": false, \"repeat\": "
                                     "2}]",
                                     "timeout"),
                          2);
}
END_TEST

START_TEST(test_retry_connection_reset)
{
        /* curl reports a reset before any response byte as an empty
         * reply or a receive error, depending on what it read first. */
        /* The first request leaves a kept-alive connection: libcurl
         * resends a request, nonce and all, when a reused connection dies
         * before any answer, and the fake (like the service) refuses the
         * reused nonce; that must be retried, not fail the events. */
        uint64_t n = retry_case("[{\"kind\": \"ok\"}, {\"kind\": \"reset\", "
                                "\"repeat\": 3}]",
                                "empty_reply");

        ck_assert_uint_ge(
            n + failures("recv_error") + failures("SignatureNonceUsed"), 3);
}
END_TEST

START_TEST(test_retry_connection_refused)
{
        /* Nobody listens on port 1: a connection error, retried until the
         * attempt limit. */
        cfg.endpoint     = "http://127.0.0.1:1";
        cfg.max_attempts = 2;
        new_client();
        submit(0, 3, 3);
        run();
        for (size_t i = 0; i < 3; i++) {
                ck_assert_int_eq(seen[i].r.outcome, AB_EB_REJECTED);
                ck_assert_str_eq(seen[i].r.code, "retries_exhausted");
                ck_assert_uint_eq(seen[i].r.attempts, 2);
                ck_assert_ptr_nonnull(
                    strstr(seen[i].r.message, "connect_failed"));
        }
        ck_assert_uint_ge(failures("connect_failed"), 2);
}
END_TEST

START_TEST(test_partial_failure_retries_only_failed)
{
        json_t *st, *reqs, *first, *second;

        ck_assert_int_eq(fake_eb_script(&fake, "[{\"kind\": \"partial\", "
                                               "\"fail_first\": 3, \"code\": "
                                               "\"InternalError\"}]"),
                         0);
        new_client();
        submit(0, 10, 10);
        run();
        assert_all_delivered_once(10);
        st     = fake_eb_state(&fake);
        reqs   = json_object_get(st, "requests");
        first  = json_object_get(json_array_get(reqs, 0), "ids");
        second = json_object_get(json_array_get(reqs, 1), "ids");
        ck_assert_uint_eq(json_array_size(reqs), 2);
        ck_assert_uint_eq(json_array_size(first), 10);
        ck_assert_uint_eq(json_array_size(second), 3);
        for (size_t i = 0; i < 3; i++)
                ck_assert_str_eq(json_string_value(json_array_get(second, i)),
                                 json_string_value(json_array_get(first, i)));
        ck_assert_uint_eq(failures("InternalError"), 3);
        for (size_t i = 0; i < 10; i++)
                ck_assert_uint_eq(seen[i].r.attempts, i < 3 ? 2 : 1);
        json_decref(st);
}
END_TEST

START_TEST(test_partial_failure_keeps_key_order)
{
        /* Every request's first entry fails five times in a row; later
         * events of that key must wait for it. */
        ck_assert_int_eq(fake_eb_script(&fake, "[{\"kind\": \"partial\", "
                                               "\"fail_first\": 1, "
                                               "\"repeat\": 5}]"),
                         0);
        new_client();
        submit(0, 30, 3);
        run();
        assert_all_delivered_once(30);
        assert_per_key_order(30, 3);
}
END_TEST

START_TEST(test_permanent_entry_code)
{
        static const char *const perm[] = {"EventBusNotExist", NULL};

        ck_assert_int_eq(fake_eb_script(&fake, "[{\"kind\": \"partial\", "
                                               "\"fail_first\": 2, \"code\": "
                                               "\"EventBusNotExist\"}]"),
                         0);
        cfg.permanent_entry_codes = perm;
        new_client();
        submit(0, 5, 5);
        run();
        for (size_t i = 0; i < 5; i++) {
                ck_assert_int_eq(seen[i].calls, 1);
                ck_assert_int_eq(seen[i].r.outcome,
                                 i < 2 ? AB_EB_REJECTED : AB_EB_DELIVERED);
        }
        ck_assert_str_eq(seen[0].r.code, "EventBusNotExist");
}
END_TEST

START_TEST(test_bad_signature_is_permanent)
{
        json_t *st;

        cfg.creds.access_key_secret = "wrongSecret";
        new_client();
        submit(0, 5, 5);
        run();
        for (size_t i = 0; i < 5; i++) {
                ck_assert_int_eq(seen[i].calls, 1);
                ck_assert_int_eq(seen[i].r.outcome, AB_EB_REJECTED);
                ck_assert_str_eq(seen[i].r.code, "SignatureDoesNotMatch");
                ck_assert_int_eq(seen[i].r.http_status, 403);
                ck_assert_uint_eq(seen[i].r.attempts, 1);
        }
        st = fake_eb_state(&fake);
        ck_assert_uint_eq(json_array_size(json_object_get(st, "order")), 0);
        json_decref(st);
}
END_TEST

START_TEST(test_other_4xx_is_permanent)
{
        ck_assert_int_eq(fake_eb_script(&fake, "[{\"kind\": \"status\", "
                                               "\"status\": 409, \"code\": "
                                               "\"EventBusNotExist\"}]"),
                         0);
        new_client();
        submit(0, 1, 1);
        run();
        ck_assert_int_eq(seen[0].r.outcome, AB_EB_REJECTED);
        ck_assert_str_eq(seen[0].r.code, "EventBusNotExist");
        ck_assert_int_eq(seen[0].r.http_status, 409);
}
END_TEST

START_TEST(test_max_attempts)
{
        json_t *st;

        ck_assert_int_eq(fake_eb_script(&fake, "[{\"kind\": \"status\", "
                                               "\"status\": 500, "
                                               "\"repeat\": 10}]"),
                         0);
        cfg.max_attempts = 3;
        new_client();
        submit(0, 1, 1);
        run();
        ck_assert_int_eq(seen[0].r.outcome, AB_EB_REJECTED);
        ck_assert_str_eq(seen[0].r.code, "retries_exhausted");
        ck_assert_uint_eq(seen[0].r.attempts, 3);
        st = fake_eb_state(&fake);
        ck_assert_uint_eq(json_array_size(json_object_get(st, "requests")), 3);
        json_decref(st);
}
END_TEST

static const char *const sts_args[] = {"--sts-token", "TOKEN-SEKRIT-123", NULL};

static void setup_sts(void)
{
        memset(seen, 0, sizeof(seen));
        start_fake(sts_args);
}

START_TEST(test_sts_token)
{
        cfg.creds.security_token = "TOKEN-SEKRIT-123";
        new_client();
        submit(0, 3, 3);
        run();
        assert_all_delivered_once(3);
}
END_TEST

START_TEST(test_sts_wrong_token)
{
        cfg.creds.security_token = "another-token";
        new_client();
        submit(0, 1, 1);
        run();
        ck_assert_int_eq(seen[0].r.outcome, AB_EB_REJECTED);
        ck_assert_str_eq(seen[0].r.code, "InvalidSecurityToken");
}
END_TEST

static char *slurp(const char *path)
{
        FILE *f = fopen(path, "r");
        char *s = calloc(1, 1 << 20);
        size_t n;

        ck_assert_ptr_nonnull(f);
        n    = fread(s, 1, (1 << 20) - 1, f);
        s[n] = '\0';
        fclose(f);
        return s;
}

/* The fake echoes its string-to-sign (with the STS token) on a bad
 * signature, like the service; with debug logging on, neither the token
 * nor the secret may reach the log, the results or the metrics. */
START_TEST(test_secrets_never_leak)
{
        char logpath[] = "/tmp/ab-sink-log-XXXXXX";
        int fd         = mkstemp(logpath);
        int saved      = dup(STDERR_FILENO);
        struct ab_eb_stats st;
        char *log;

        ck_assert_int_ge(fd, 0);
        ab_log_set_level("debug");
        dup2(fd, STDERR_FILENO);
        cfg.creds.security_token    = "TOKEN-SEKRIT-123";
        cfg.creds.access_key_secret = "SECRET-SEKRIT-456";
        new_client();
        submit(0, 2, 2);
        run();
        ck_assert_int_eq(fake_eb_script(&fake, "[{\"kind\": \"status\", "
                                               "\"status\": 500}]"),
                         0);
        ab_eb_destroy(client);
        cfg.creds.access_key_secret = "testSecret";
        new_client();
        submit(2, 2, 2);
        run();
        dup2(saved, STDERR_FILENO);
        close(saved);
        close(fd);
        log = slurp(logpath);
        unlink(logpath);
        ck_assert_ptr_nonnull(strstr(log, "SignatureDoesNotMatch"));
        ck_assert_ptr_null(strstr(log, "SEKRIT"));
        ck_assert_ptr_null(strstr(log, "testSecret"));
        for (size_t i = 0; i < 4; i++)
                ck_assert_ptr_null(strstr(seen[i].r.message, "SEKRIT"));
        /* the scrubber had something to do */
        ck_assert_ptr_nonnull(strstr(seen[0].r.message, "[redacted]"));
        ck_assert_int_eq(seen[2].r.outcome, AB_EB_DELIVERED);
        ab_eb_get_stats(client, &st);
        for (unsigned i = 0; i < st.nfailures; i++)
                ck_assert_ptr_null(strstr(st.failures[i].code, "SEKRIT"));
        free(log);
}
END_TEST

START_TEST(test_abort_reports_every_pending_event)
{
        ck_assert_int_eq(fake_eb_script(&fake, "[{\"kind\": \"status\", "
                                               "\"status\": 503, "
                                               "\"repeat\": 1000}]"),
                         0);
        new_client();
        submit(0, 20, 4);
        /* Poll until the first failures came back: some events now wait
         * in backoff, some may be in flight. */
        while (failures("Scripted") < 2)
                ck_assert_int_eq(ab_eb_poll(client, 100), AB_OK);
        ab_eb_abort(client);
        ck_assert_uint_eq(ab_eb_pending(client), 0);
        for (size_t i = 0; i < 20; i++) {
                ck_assert_int_eq(seen[i].calls, 1);
                ck_assert_int_eq(seen[i].r.outcome, AB_EB_ABORTED);
        }
        /* Nothing left to send or report. */
        ck_assert_int_eq(ab_eb_poll(client, 10), AB_OK);
        for (size_t i = 0; i < 20; i++)
                ck_assert_int_eq(seen[i].calls, 1);
}
END_TEST

START_TEST(test_config_errors)
{
        struct ab_error err;
        struct ab_eb_config bad = cfg;

        bad.creds.access_key_secret = NULL;
        ck_assert_ptr_null(ab_eb_new(&bad, on_done, NULL, &err));
        ck_assert_int_eq(err.code, AB_ERR_CONFIG);
        bad                         = cfg;
        bad.creds.access_key_secret = "line\nbreak";
        ck_assert_ptr_null(ab_eb_new(&bad, on_done, NULL, &err));
        ck_assert_ptr_null(strstr(err.text, "line"));
        bad          = cfg;
        bad.endpoint = "";
        ck_assert_ptr_null(ab_eb_new(&bad, on_done, NULL, &err));
}
END_TEST

START_TEST(test_scrub)
{
        char s[64] = "a SECRET b SECRET";

        cfg.creds.access_key_secret = "SECRET";
        new_client();
        ab_eb_scrub(client, s, sizeof(s));
        ck_assert_str_eq(s, "a [redacted] b [redacted]");
        snprintf(s, 12, "xxxxSECRET");
        ab_eb_scrub(client, s, 12);
        ck_assert_str_eq(s, "xxxx");
}
END_TEST

static Suite *eventbridge_suite(void)
{
        Suite *s      = suite_create("sink_eventbridge");
        TCase *ok     = tcase_create("delivery");
        TCase *retry  = tcase_create("retry");
        TCase *perm   = tcase_create("permanent");
        TCase *secret = tcase_create("secrets");

        tcase_add_checked_fixture(ok, setup, teardown);
        tcase_add_checked_fixture(retry, setup, teardown);
        tcase_add_checked_fixture(perm, setup, teardown);
        tcase_add_checked_fixture(secret, setup_sts, teardown);
        tcase_set_timeout(ok, 120);
        tcase_set_timeout(retry, 120);
        tcase_set_timeout(perm, 120);
        tcase_set_timeout(secret, 120);
        tcase_add_test(ok, test_exactly_once_keepalive);
        tcase_add_test(ok, test_requests_in_parallel);
        tcase_add_test(retry, test_retry_429);
        tcase_add_test(retry, test_retry_500);
        tcase_add_test(retry, test_retry_timeout);
        tcase_add_test(retry, test_retry_connection_reset);
        tcase_add_test(retry, test_retry_connection_refused);
        tcase_add_test(retry, test_partial_failure_retries_only_failed);
        tcase_add_test(retry, test_partial_failure_keeps_key_order);
        tcase_add_test(perm, test_permanent_entry_code);
        tcase_add_test(perm, test_bad_signature_is_permanent);
        tcase_add_test(perm, test_other_4xx_is_permanent);
        tcase_add_test(perm, test_max_attempts);
        tcase_add_test(perm, test_abort_reports_every_pending_event);
        tcase_add_test(perm, test_config_errors);
        tcase_add_test(perm, test_scrub);
        tcase_add_test(secret, test_sts_token);
        tcase_add_test(secret, test_sts_wrong_token);
        tcase_add_test(secret, test_secrets_never_leak);
        suite_add_tcase(s, ok);
        suite_add_tcase(s, retry);
        suite_add_tcase(s, perm);
        suite_add_tcase(s, secret);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(eventbridge_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
