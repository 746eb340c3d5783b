/* check_http.c - unit tests for service/http.c. */
#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/timefmt.h"
#include "service/http.h"
#include "service/metrics.h"

static struct ab_metrics *reg;
static struct ab_metric *counter;
static struct ab_http *http;
static struct ab_error err;

struct reply {
        long status;
        char content_type[128];
        char allow[64];
        char auth[96]; /* WWW-Authenticate */
        struct ab_buf body;
};

static size_t on_body(char *p, size_t size, size_t n, void *opaque)
{
        struct reply *r = opaque;

        if (ab_buf_append(&r->body, p, size * n))
                return 0;
        return size * n;
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

/* One request to the server under test; \p method NULL means GET;
 * \p token, when set, goes in `Authorization: Bearer`. */
static CURLcode request_as(const char *method, const char *path,
                           const char *token, struct reply *r)
{
        CURL *c                 = curl_easy_init();
        struct curl_slist *hdrs = NULL;
        char url[256], auth[128];
        char *ct = NULL;
        CURLcode cc;

        ck_assert_ptr_nonnull(c);
        memset(r, 0, sizeof(*r));
        ab_buf_init(&r->body, 1 << 20);
        snprintf(url, sizeof(url), "http://127.0.0.1:%u%s",
                 (unsigned)ab_http_port(http), path);
        if (token) {
                snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
                hdrs = curl_slist_append(hdrs, auth);
        }
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
        if (method && !strcmp(method, "HEAD"))
                curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        else if (method && !strcmp(method, "POST"))
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, "x=1");
        else if (method)
                curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        cc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
        snprintf(r->content_type, sizeof(r->content_type), "%s", ct ? ct : "");
        curl_slist_free_all(hdrs);
        curl_easy_cleanup(c);
        return cc;
}

static void request(const char *method, const char *path, struct reply *r)
{
        ck_assert_int_eq(request_as(method, path, NULL, r), CURLE_OK);
}

static const char *body(const struct reply *r)
{
        return r->body.data ? r->body.data : "";
}

static void start(const struct ab_http_options *opt)
{
        ab_error_clear(&err);
        ck_assert_msg(ab_http_start(opt, &http, &err) == AB_OK, "%s", err.text);
        ck_assert_uint_ne(ab_http_port(http), 0);
}

static void setup(void)
{
        struct ab_metrics_desc d = {
            AB_METRICS_COUNTER, "hits_total", "Hits.", NULL, NULL, 0};

        reg = ab_metrics_new();
        ck_assert_ptr_nonnull(reg);
        ck_assert_int_eq(ab_metrics_register_one(reg, &d, &counter, &err),
                         AB_OK);
        http = NULL;
}

static void teardown(void)
{
        ab_http_stop(http);
        ab_metrics_destroy(reg);
}

static void start_default(void)
{
        struct ab_http_options opt = {.listen = "127.0.0.1:0", .metrics = reg};

        start(&opt);
}

START_TEST(test_metrics_endpoint)
{
        struct reply r;

        start_default();
        ab_metrics_add(counter, 41);
        request(NULL, "/metrics", &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_msg(!strncmp(r.content_type, "text/plain; version=0.0.4",
                               strlen("text/plain; version=0.0.4")),
                      "content type %s", r.content_type);
        ck_assert_str_eq(body(&r), "# HELP alertbridge_hits_total Hits.\n"
                                   "# TYPE alertbridge_hits_total counter\n"
                                   "alertbridge_hits_total 41\n");
        ab_buf_fini(&r.body);

        ab_metrics_inc(counter);
        request(NULL, "/metrics", &r);
        ck_assert_ptr_nonnull(strstr(body(&r), "alertbridge_hits_total 42\n"));
        ab_buf_fini(&r.body);
}
END_TEST

START_TEST(test_metrics_without_registry_is_404)
{
        struct ab_http_options opt = {.listen = "127.0.0.1:0"};
        struct reply r;

        start(&opt);
        request(NULL, "/metrics", &r);
        ck_assert_int_eq(r.status, 404);
        ab_buf_fini(&r.body);
}
END_TEST

START_TEST(test_healthz)
{
        struct reply r;

        start_default();
        request(NULL, "/healthz", &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(body(&r), "ok\n");
        ck_assert_str_eq(r.content_type, "text/plain; charset=utf-8");
        ab_buf_fini(&r.body);

        /* No stall timeout: heartbeats never matter. */
        ab_http_heartbeat(http);
        request(NULL, "/healthz", &r);
        ck_assert_int_eq(r.status, 200);
        ab_buf_fini(&r.body);
}
END_TEST

START_TEST(test_healthz_reports_a_stalled_loop)
{
        struct ab_http_options opt = {
            .listen = "127.0.0.1:0", .metrics = reg, .stall_timeout_ms = 1};
        struct reply r;
        int tries = 0;

        start(&opt);
        /* Before the first heartbeat the loop is starting, not stalled. */
        request(NULL, "/healthz", &r);
        ck_assert_int_eq(r.status, 200);
        ab_buf_fini(&r.body);

        /* One heartbeat and then none: after 1 ms the loop counts as stuck. */
        ab_http_heartbeat(http);
        do {
                request(NULL, "/healthz", &r);
                if (r.status == 503)
                        break;
                ck_assert_int_eq(r.status, 200);
                ab_buf_fini(&r.body);
        } while (++tries < 100000);
        ck_assert_int_eq(r.status, 503);
        ck_assert_msg(!strncmp(body(&r), "stalled: no progress for ", 25), "%s",
                      body(&r));
        ab_buf_fini(&r.body);
}
END_TEST

START_TEST(test_healthz_with_recent_heartbeat)
{
        struct ab_http_options opt = {.listen           = "127.0.0.1:0",
                                      .stall_timeout_ms = 3600000};
        struct reply r;

        start(&opt);
        ab_http_heartbeat(http);
        request(NULL, "/healthz", &r);
        ck_assert_int_eq(r.status, 200);
        ab_buf_fini(&r.body);
}
END_TEST

START_TEST(test_readyz_follows_the_flag)
{
        struct reply r;

        start_default();
        request(NULL, "/readyz", &r);
        ck_assert_int_eq(r.status, 503);
        ck_assert_str_eq(body(&r), "not ready\n");
        ab_buf_fini(&r.body);

        ab_http_set_ready(http, true);
        request(NULL, "/readyz", &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(body(&r), "ready\n");
        ab_buf_fini(&r.body);

        ab_http_set_ready(http, false);
        request(NULL, "/readyz", &r);
        ck_assert_int_eq(r.status, 503);
        ab_buf_fini(&r.body);
}
END_TEST

static atomic_int assigned;

static bool probe(void *opaque, char *reason, size_t size)
{
        ck_assert_ptr_eq(opaque, &assigned);
        if (atomic_load(&assigned))
                return true;
        snprintf(reason, size, "consumer not assigned");
        return false;
}

START_TEST(test_readyz_asks_the_callback)
{
        struct ab_http_options opt = {
            .listen = "127.0.0.1:0", .ready = probe, .ready_opaque = &assigned};
        struct reply r;

        atomic_store(&assigned, 0);
        start(&opt);
        ab_http_set_ready(http, true); /* ignored: the callback decides */
        request(NULL, "/readyz", &r);
        ck_assert_int_eq(r.status, 503);
        ck_assert_str_eq(body(&r), "not ready: consumer not assigned\n");
        ab_buf_fini(&r.body);

        atomic_store(&assigned, 1);
        request(NULL, "/readyz", &r);
        ck_assert_int_eq(r.status, 200);
        ab_buf_fini(&r.body);
}
END_TEST

START_TEST(test_unknown_paths_and_methods)
{
        static const char *const missing[] = {"/", "/metrics/", "/health",
                                              "/readyz/x", "/METRICS"};
        static const char *const methods[] = {"POST", "PUT", "DELETE"};
        struct reply r;

        start_default();
        for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
                request(NULL, missing[i], &r);
                ck_assert_msg(r.status == 404, "%s gave %ld", missing[i],
                              r.status);
                ab_buf_fini(&r.body);
        }
        for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
                request(methods[i], "/metrics", &r);
                ck_assert_msg(r.status == 405, "%s gave %ld", methods[i],
                              r.status);
                ck_assert_ptr_nonnull(strstr(r.allow, "GET, HEAD"));
                ab_buf_fini(&r.body);
        }
        /* The query string is not part of the route. */
        request(NULL, "/healthz?verbose=1", &r);
        ck_assert_int_eq(r.status, 200);
        ab_buf_fini(&r.body);
}
END_TEST

START_TEST(test_head_has_headers_but_no_body)
{
        struct reply r;

        start_default();
        request("HEAD", "/metrics", &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_uint_eq(r.body.len, 0);
        ck_assert_ptr_nonnull(strstr(r.content_type, "version=0.0.4"));
        ab_buf_fini(&r.body);
}
END_TEST

START_TEST(test_port_in_use)
{
        struct ab_http_options opt = {.metrics = reg};
        struct ab_http *second     = NULL;
        char listen[32];

        start_default();
        snprintf(listen, sizeof(listen), "127.0.0.1:%u",
                 (unsigned)ab_http_port(http));
        opt.listen = listen;
        ck_assert_int_eq(ab_http_start(&opt, &second, &err), AB_ERR_HTTP);
        ck_assert_ptr_null(second);
        ck_assert_msg(strstr(err.text, "cannot listen on 127.0.0.1:"), "%s",
                      err.text);
        ck_assert_msg(strstr(err.text, "in use"), "%s", err.text);
}
END_TEST

START_TEST(test_stop_is_null_safe_and_restartable)
{
        struct reply r;

        ab_http_stop(NULL);
        start_default();
        ab_http_stop(http);
        http = NULL;
        start_default();
        request(NULL, "/healthz", &r);
        ck_assert_int_eq(r.status, 200);
        ab_buf_fini(&r.body);
}
END_TEST

START_TEST(test_parse_listen)
{
        struct sockaddr_storage ss;
        const struct sockaddr_in *in4  = (const struct sockaddr_in *)&ss;
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
        static const char *const bad[] = {
            "127.0.0.1",        "127.0.0.1:",    "127.0.0.1:65536",
            "127.0.0.1:-1",     "127.0.0.1:80x", "[::1]",
            "[::1:80",          "::1:80",        "[nothost]:80",
            "127.0.0.1:123456",
        };
        socklen_t len;
        char text[64];

        ck_assert_int_eq(
            ab_http_parse_listen("127.0.0.1:9464", &ss, &len, &err), AB_OK);
        ck_assert_int_eq(ss.ss_family, AF_INET);
        ck_assert_uint_eq(ntohs(in4->sin_port), 9464);
        inet_ntop(AF_INET, &in4->sin_addr, text, sizeof(text));
        ck_assert_str_eq(text, "127.0.0.1");

        ck_assert_int_eq(ab_http_parse_listen("[::1]:0", &ss, &len, &err),
                         AB_OK);
        ck_assert_int_eq(ss.ss_family, AF_INET6);
        ck_assert_uint_eq(ntohs(in6->sin6_port), 0);

        ck_assert_int_eq(ab_http_parse_listen(":80", &ss, &len, &err), AB_OK);
        ck_assert_int_eq(ss.ss_family, AF_INET);
        ck_assert_uint_eq(ntohl(in4->sin_addr.s_addr), INADDR_ANY);
        ck_assert_int_eq(ab_http_parse_listen("*:80", &ss, &len, &err), AB_OK);
        ck_assert_uint_eq(ntohl(in4->sin_addr.s_addr), INADDR_ANY);
        ck_assert_int_eq(ab_http_parse_listen("0.0.0.0:9464", &ss, &len, &err),
                         AB_OK);

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                ab_error_clear(&err);
                ck_assert_msg(ab_http_parse_listen(bad[i], &ss, &len, &err) ==
                                  AB_ERR_CONFIG,
                              "%s accepted", bad[i]);
                ck_assert_ptr_nonnull(strstr(err.text, bad[i]));
        }
}
END_TEST

START_TEST(test_bad_listen_fails_start)
{
        struct ab_http_options opt = {.listen = "localhost"};
        struct ab_http *h          = (struct ab_http *)&opt;

        ck_assert_int_eq(ab_http_start(&opt, &h, &err), AB_ERR_CONFIG);
        ck_assert_ptr_null(h);
}
END_TEST

/* ---- slow clients ---- */

#define SLOW_CLIENTS   64
#define SLOW_TICKS     8 /* one byte per slow client per tick */
#define SLOW_TICK_MS   1000
#define PROBE_BOUND_MS 1000 /* every probe answers within this */
#define SLOW_CLIENT_IP "127.0.0.2"

/* A TCP connection to the server from \p src (another loopback address, so
 * the probes from 127.0.0.1 are a different client); -1 when refused. */
static int slow_connect(const char *src)
{
        struct sockaddr_in a = {.sin_family = AF_INET};
        int fd               = socket(AF_INET, SOCK_STREAM, 0);

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(inet_pton(AF_INET, src, &a.sin_addr), 1);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        a.sin_port = htons(ab_http_port(http));
        ck_assert_int_eq(inet_pton(AF_INET, "127.0.0.1", &a.sin_addr), 1);
        if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
                close(fd);
                return -1;
        }
        return fd;
}

/* One HEAD of \p path from 127.0.0.1; the status, or 0 on a transport
 * failure, and the time it took in \p *ms. */
static long probe_status(const char *path, int64_t *ms)
{
        CURL *c     = curl_easy_init();
        long status = 0;
        int64_t t0  = ab_time_mono_ms();
        char url[128];

        ck_assert_ptr_nonnull(c);
        snprintf(url, sizeof(url), "http://127.0.0.1:%u%s",
                 (unsigned)ab_http_port(http), path);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 3L * PROBE_BOUND_MS);
        if (curl_easy_perform(c) == CURLE_OK)
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(c);
        *ms = ab_time_mono_ms() - t0;
        return status;
}

/* HOW IT WORKS: 64 clients from 127.0.0.2 open connections and trickle a
 * request line one byte per second each (so no idle timeout ever fires);
 * every second probes from 127.0.0.1 ask /healthz and /readyz (the
 * pipeline ready, so both must say 200). Bounded: 8 ticks, then
 * the sockets are closed. Before the limits were chosen for this (32
 * connections, no per-client limit) the slow clients held every slot and
 * the probes timed out. */
START_TEST(test_health_answers_under_slow_clients)
{
        static const char line[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
        int fds[SLOW_CLIENTS];
        int failed = 0;

        static const char *const paths[] = {"/healthz", "/readyz"};
        int probes                       = 0;

        start_default();
        ab_http_set_ready(http, true);
        for (int i = 0; i < SLOW_CLIENTS; i++)
                fds[i] = slow_connect(SLOW_CLIENT_IP);
        for (int tick = 0; tick < SLOW_TICKS; tick++) {
                int64_t t0 = ab_time_mono_ms();
                int64_t ms = 0;
                long status;
                struct timespec nap;

                for (int i = 0; i < SLOW_CLIENTS; i++)
                        if (fds[i] >= 0)
                                (void)send(fds[i], &line[tick], 1,
                                           MSG_NOSIGNAL | MSG_DONTWAIT);
                for (size_t p = 0; p < sizeof(paths) / sizeof(*paths); p++) {
                        status = probe_status(paths[p], &ms);
                        probes++;
                        if (status != 200 || ms > PROBE_BOUND_MS) {
                                fprintf(stderr,
                                        "probe %d %s: status %ld in %lld ms\n",
                                        tick, paths[p], status, (long long)ms);
                                failed++;
                        }
                }
                ms = SLOW_TICK_MS - (ab_time_mono_ms() - t0);
                if (ms > 0) {
                        nap.tv_sec  = ms / 1000;
                        nap.tv_nsec = (ms % 1000) * 1000000L;
                        nanosleep(&nap, NULL);
                }
        }
        for (int i = 0; i < SLOW_CLIENTS; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        ck_assert_msg(failed == 0,
                      "%d of %d probes failed under %d slow "
                      "clients",
                      failed, probes, SLOW_CLIENTS);
}
END_TEST

/* ---- POST /-/reload ---- */

#define TOKEN "s3cret-token-0123456789"

static atomic_int requests; /* calls of the reload callback */

static void on_reload(void *opaque)
{
        (void)opaque;
        atomic_fetch_add(&requests, 1);
}

static void start_reload(const char *token)
{
        struct ab_http_options opt = {.listen        = "127.0.0.1:0",
                                      .reload_token  = token,
                                      .reload        = on_reload,
                                      .reload_opaque = NULL};

        atomic_store(&requests, 0);
        start(&opt);
}

START_TEST(test_off_without_a_token)
{
        struct reply r;

        start_reload(NULL);
        ck_assert_int_eq(request_as("POST", "/-/reload", TOKEN, &r), CURLE_OK);
        ck_assert_int_eq(r.status, 404);
        ab_buf_fini(&r.body);
        ck_assert_int_eq(request_as(NULL, "/-/reload", NULL, &r), CURLE_OK);
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

        start_reload(TOKEN);
        ck_assert_int_eq(request_as(NULL, "/-/reload", TOKEN, &r), CURLE_OK);
        ck_assert_int_eq(r.status, 405);
        ck_assert_ptr_nonnull(strstr(r.allow, "POST"));
        ab_buf_fini(&r.body);
        for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
                ck_assert_int_eq(request_as("POST", "/-/reload", wrong[i], &r),
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

        c->cc = request_as("POST", "/-/reload", TOKEN, &c->r);
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
        start_reload(TOKEN);
        ck_assert_int_eq(pthread_create(&c.thread, NULL, post, &c), 0);
        wait_requests(1);
        /* Suspended, not blocking the server. */
        request(NULL, "/healthz", &r);
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
        start_reload(TOKEN);
        ck_assert_int_eq(pthread_create(&c.thread, NULL, post, &c), 0);
        wait_requests(1);
        ab_http_stop(http);
        http = NULL;
        pthread_join(c.thread, NULL);
        /* 503, or the connection closed by the stop: never a hang. */
        ck_assert_msg(c.cc != CURLE_OK || c.r.status == 503, "%ld", c.r.status);
        ab_buf_fini(&c.r.body);
}
END_TEST

static Suite *http_suite(void)
{
        Suite *s  = suite_create("http");
        TCase *tc = tcase_create("routes");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_metrics_endpoint);
        tcase_add_test(tc, test_metrics_without_registry_is_404);
        tcase_add_test(tc, test_healthz);
        tcase_add_test(tc, test_healthz_reports_a_stalled_loop);
        tcase_add_test(tc, test_healthz_with_recent_heartbeat);
        tcase_add_test(tc, test_readyz_follows_the_flag);
        tcase_add_test(tc, test_readyz_asks_the_callback);
        tcase_add_test(tc, test_unknown_paths_and_methods);
        tcase_add_test(tc, test_head_has_headers_but_no_body);
        suite_add_tcase(s, tc);

        tc = tcase_create("lifecycle");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_port_in_use);
        tcase_add_test(tc, test_stop_is_null_safe_and_restartable);
        tcase_add_test(tc, test_parse_listen);
        tcase_add_test(tc, test_bad_listen_fails_start);
        suite_add_tcase(s, tc);

        tc = tcase_create("reload");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_off_without_a_token);
        tcase_add_test(tc, test_method_and_token_checked_first);
        tcase_add_test(tc, test_waits_for_the_answer_while_other_routes_answer);
        tcase_add_test(tc, test_stop_answers_waiting_requests);
        suite_add_tcase(s, tc);

        tc = tcase_create("slow clients");
        tcase_set_timeout(tc, 60);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_health_answers_under_slow_clients);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr;
        int failed;

        curl_global_init(CURL_GLOBAL_DEFAULT);
        sr = srunner_create(http_suite());
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        curl_global_cleanup();
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
