/* check_http_reload.c - unit tests for POST /-/reload in service/http.c. */
#include <check.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/timefmt.h"
#include "service/http.h"

#define TOKEN "s3cret-token-0123456789"

static struct ab_http *http;
static atomic_int requests; /* calls of the reload callback */

struct reply {
        long status;
        char allow[64];
        char auth[96];
        struct ab_buf body;
};

static size_t on_body(char *p, size_t size, size_t n, void *opaque)
{
        struct reply *r = opaque;

        return ab_buf_append(&r->body, p, size * n) ? 0 : size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *opaque)
{
        struct reply *r = opaque;
        size_t len      = size * n;

        if (len > 6 && !strncasecmp(p, "Allow:", 6))
                snprintf(r->allow, sizeof(r->allow), "%.*s", (int)(len - 6),
                         p + 6);
        if (len > 17 && !strncasecmp(p, "WWW-Authenticate:", 17))
                snprintf(r->auth, sizeof(r->auth), "%.*s", (int)(len - 17),
                         p + 17);
        return len;
}

/* \p method to \p path with \p token as bearer (NULL: no header). */
static CURLcode request(const char *method, const char *path,
                        const char *token, struct reply *r)
{
        CURL *c                  = curl_easy_init();
        struct curl_slist *hdrs  = NULL;
        char url[256], auth[128];
        CURLcode cc;

        ck_assert_ptr_nonnull(c);
        memset(r, 0, sizeof(*r));
        ab_buf_init(&r->body, 1 << 16);
        snprintf(url, sizeof(url), "http://127.0.0.1:%u%s",
                 (unsigned)ab_http_port(http), path);
        if (token) {
                snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
                         token);
                hdrs = curl_slist_append(hdrs, auth);
        }
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
        if (!strcmp(method, "POST"))
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        else if (strcmp(method, "GET"))
                curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        cc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
        curl_slist_free_all(hdrs);
        curl_easy_cleanup(c);
        return cc;
}

static const char *body(const struct reply *r)
{
        return r->body.data ? r->body.data : "";
}

static void on_reload(void *opaque)
{
        (void)opaque;
        atomic_fetch_add(&requests, 1);
}

static void start(const char *token)
{
        struct ab_http_options opt = {.listen        = "127.0.0.1:0",
                                      .reload_token  = token,
                                      .reload        = on_reload,
                                      .reload_opaque = NULL};
        struct ab_error err;

        atomic_store(&requests, 0);
        ck_assert_msg(ab_http_start(&opt, &http, &err) == AB_OK, "%s",
                      err.text);
}

static void teardown(void)
{
        ab_http_stop(http);
        http = NULL;
}

START_TEST(test_off_without_a_token)
{
        struct reply r;

        start(NULL);
        ck_assert_int_eq(request("POST", "/-/reload", TOKEN, &r), CURLE_OK);
        ck_assert_int_eq(r.status, 404);
        ab_buf_fini(&r.body);
        ck_assert_int_eq(request("GET", "/-/reload", NULL, &r), CURLE_OK);
        ck_assert_int_eq(r.status, 404);
        ab_buf_fini(&r.body);
        ck_assert_int_eq(atomic_load(&requests), 0);
}
END_TEST

START_TEST(test_method_and_token_checked_first)
{
        static const char *const wrong[] = {
            "s3cret-token-0123456788", /* same length, last byte */
            "s3cret-token-012345678",  /* a prefix */
            "s3cret-token-01234567890", "", NULL};
        struct reply r;

        start(TOKEN);
        ck_assert_int_eq(request("GET", "/-/reload", TOKEN, &r), CURLE_OK);
        ck_assert_int_eq(r.status, 405);
        ck_assert_ptr_nonnull(strstr(r.allow, "POST"));
        ab_buf_fini(&r.body);
        for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
                ck_assert_int_eq(request("POST", "/-/reload", wrong[i], &r),
                                 CURLE_OK);
                ck_assert_msg(r.status == 401, "token %s: %ld", wrong[i],
                              r.status);
                ck_assert_ptr_nonnull(strstr(r.auth, "Bearer"));
                ab_buf_fini(&r.body);
        }
        ck_assert_int_eq(atomic_load(&requests), 0);
}
END_TEST

struct client {
        pthread_t thread;
        struct reply r;
        CURLcode cc;
        atomic_int done;
};

static void *post(void *arg)
{
        struct client *c = arg;

        c->cc = request("POST", "/-/reload", TOKEN, &c->r);
        atomic_store(&c->done, 1);
        return NULL;
}

static void wait_requests(int n)
{
        int64_t until = ab_time_mono_ms() + 20000;

        while (atomic_load(&requests) < n && ab_time_mono_ms() < until)
                nanosleep(&(struct timespec){0, 5000000}, NULL);
        ck_assert_int_ge(atomic_load(&requests), n);
}

START_TEST(test_waits_for_the_answer_while_other_routes_answer)
{
        struct client c;
        struct reply r;

        memset(&c, 0, sizeof(c));
        start(TOKEN);
        ck_assert_int_eq(pthread_create(&c.thread, NULL, post, &c), 0);
        wait_requests(1);
        /* Suspended, not blocking the server. */
        ck_assert_int_eq(request("GET", "/healthz", NULL, &r), CURLE_OK);
        ck_assert_int_eq(r.status, 200);
        ab_buf_fini(&r.body);
        ck_assert_int_eq(atomic_load(&c.done), 0);
        ck_assert_uint_eq(ab_http_reload_begin(http), 1);
        ab_http_reload_answer(http, 200, "{\"status\":\"success\"}");
        pthread_join(c.thread, NULL);
        ck_assert_int_eq(c.cc, CURLE_OK);
        ck_assert_int_eq(c.r.status, 200);
        ck_assert_str_eq(body(&c.r), "{\"status\":\"success\"}");
        ab_buf_fini(&c.r.body);
        /* Nothing taken: an answer without a request is a no-op. */
        ck_assert_uint_eq(ab_http_reload_begin(http), 0);
        ab_http_reload_answer(http, 200, "{}");
}
END_TEST

START_TEST(test_stop_answers_waiting_requests)
{
        struct client c;

        memset(&c, 0, sizeof(c));
        start(TOKEN);
        ck_assert_int_eq(pthread_create(&c.thread, NULL, post, &c), 0);
        wait_requests(1);
        ab_http_stop(http);
        http = NULL;
        pthread_join(c.thread, NULL);
        /* 503, or the connection closed by the stop: never a hang. */
        ck_assert_msg(c.cc != CURLE_OK || c.r.status == 503, "%ld",
                      c.r.status);
        ab_buf_fini(&c.r.body);
}
END_TEST

static Suite *reload_suite(void)
{
        Suite *s  = suite_create("http_reload");
        TCase *tc = tcase_create("reload");

        tcase_add_checked_fixture(tc, NULL, teardown);
        tcase_add_test(tc, test_off_without_a_token);
        tcase_add_test(tc, test_method_and_token_checked_first);
        tcase_add_test(tc, test_waits_for_the_answer_while_other_routes_answer);
        tcase_add_test(tc, test_stop_answers_waiting_requests);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr;
        int failed;

        curl_global_init(CURL_GLOBAL_DEFAULT);
        sr = srunner_create(reload_suite());
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        curl_global_cleanup();
        return failed ? 1 : 0;
}
