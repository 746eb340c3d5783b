/* check_ingest.c - unit tests for ingest/: config checks and every answer
 * that needs no broker (Kafka unreachable gives 503). */
#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "ingest/ingest.h"

static char dir[] = "/tmp/check_ingest.XXXXXX";

static const char *write_file(const char *name, const char *text)
{
        static char path[256];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        fclose(f);
        return path;
}

/* Loads \p yaml (under "ingest:" with an unreachable broker). @returns
 * the error's path, or "" when it loads and checks. */
static const char *load_with(const char *settings, const char *integrations,
                             struct ab_ingest_file *f, struct ab_error *err)
{
        static char text[2048];
        const char *path;

        snprintf(text, sizeof(text),
                 "kafka: {brokers: \"127.0.0.1:1\"}\n"
                 "ingest:\n  listen: 127.0.0.1:0\n  max_body: 64\n"
                 "  retry_after: 7s\n%s  integrations:\n%s\n",
                 settings, integrations);
        path = write_file("ingest.yaml", text);
        ab_error_clear(err);
        if (ab_ingest_file_load(path, f, err) ||
            ab_ingest_check(&f->ingest, path, err))
                return err->path[0] ? err->path : err->text;
        return "";
}

static const char *load(const char *integrations, struct ab_ingest_file *f,
                        struct ab_error *err)
{
        return load_with("", integrations, f, err);
}

START_TEST(config_errors)
{
        static const struct {
                const char *integrations;
                const char *path;
        } cases[] = {
            {"    - {name: a, topic: t}", "ingest.integrations[0]"},
            {"    - {name: 'a/b', topic: t, tokens: [x]}",
             "ingest.integrations[0]"},
            {"    - {name: a, topic: t, tokens: [x]}\n"
             "    - {name: a, topic: u, tokens: [y]}",
             "ingest.integrations[1]"},
            {"    - {name: a, topic: t, tokens: [x], validate: true}",
             "ingest.integrations[0]"},
            {"    - {name: a, topic: t, tokens: [x], format: xml}",
             "ingest.integrations[0].format"},
            {"    - {name: a, topic: t, tokens: [x], integration: nope}",
             "ingest.integrations[0].integration"},
            {"    - {name: a, topic: t, token_file: missing.txt}",
             "ingest.integrations[0]"},
            {"    - {name: a, topic: t, tokens: [x], rate_limit: {burst: 3}}",
             "ingest.integrations[0]"},
            {"    - {name: a, topic: t, tokens: [x]}", ""},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                struct ab_ingest_file f;
                struct ab_error err;

                ck_assert_msg(!strcmp(load(cases[i].integrations, &f, &err),
                                      cases[i].path),
                              "case %zu: got \"%s\" (%s), want \"%s\"", i,
                              err.path, err.text, cases[i].path);
                ab_ingest_file_free(&f);
        }
}
END_TEST

struct reply {
        long status;
        char retry_after[16];
        char auth[32];
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

        if (len > 12 && !strncasecmp(p, "Retry-After:", 12))
                snprintf(r->retry_after, sizeof(r->retry_after), "%.*s",
                         (int)strcspn(p + 13, "\r\n"), p + 13);
        if (len > 17 && !strncasecmp(p, "WWW-Authenticate:", 17))
                snprintf(r->auth, sizeof(r->auth), "%.*s",
                         (int)strcspn(p + 18, "\r\n"), p + 18);
        return len;
}

static long request(uint16_t port, const char *method, const char *path,
                    const char *ctype, const char *body, struct reply *r)
{
        struct curl_slist *h = NULL;
        CURL *c              = curl_easy_init();
        char url[256], line[128];

        ab_buf_fini(&r->body); /* the previous answer's */
        memset(r, 0, sizeof(*r));
        ab_buf_init(&r->body, 1 << 20);
        snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", (unsigned)port,
                 path);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        if (!strcmp(method, "HEAD"))
                curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        if (body) {
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
                curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        }
        snprintf(line, sizeof(line), "Content-Type: %s", ctype ? ctype : "");
        h = curl_slist_append(h, line);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
        ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
        curl_slist_free_all(h);
        curl_easy_cleanup(c);
        ab_buf_append_char(&r->body, '\0');
        return r->status;
}

#define JSON "application/json"
#define FORM "application/x-www-form-urlencoded"

START_TEST(answers_without_kafka)
{
        struct ab_ingest_file f;
        struct ab_ingest *ing = NULL;
        struct ab_error err;
        struct reply r = {0};
        uint16_t p;
        int n429 = 0;

        write_file("tokens.txt", "# comment\nfrom-file\n");
        ck_assert_str_eq(
            load("    - {name: am, topic: t, tokens: [s3cret], token_file: "
                 "tokens.txt}\n"
                 "    - {name: cms, topic: t, tokens: [c], format: form}\n"
                 "    - {name: rl, topic: t, tokens: [r], format: any,\n"
                 "       rate_limit: {rate: 1, burst: 1}}",
                 &f, &err),
            "");
        ck_assert_msg(
            !ab_ingest_start(&f.ingest, &f.kafka, f.path, 0, &ing, &err), "%s",
            err.text);
        p = ab_ingest_port(ing);
        ck_assert_int_gt(p, 0);
#define REQ(m, path, ct, body) request(p, m, path, ct, body, &r)
        /* a valid request: Kafka unreachable, so 503 with Retry-After */
        ck_assert_int_eq(
            REQ("POST", "/api/v1/integrations/am/s3cret", JSON, "{\"a\":1}"),
            503);
        ck_assert_str_eq(r.retry_after, "7");
        ck_assert_ptr_nonnull(strstr(r.body.data, "\"requestId\":\""));
        ck_assert_int_eq(
            REQ("POST", "/api/v1/integrations/am/from-file", JSON, "[]"), 503);
        ck_assert_int_eq(REQ("GET", "/readyz", NULL, NULL), 503);
        ck_assert_int_eq(REQ("GET", "/healthz", NULL, NULL), 200);
        /* 401 missing, wrong, a prefix; the header */
        ck_assert_int_eq(REQ("POST", "/api/v1/integrations/am", JSON, "{}"),
                         401);
        ck_assert_str_eq(r.auth, "Bearer");
        ck_assert_int_eq(
            REQ("POST", "/api/v1/integrations/am/s3cre", JSON, "{}"), 401);
        ck_assert_int_eq(
            REQ("POST", "/api/v1/integrations/am/s3cret2", JSON, "{}"), 401);
        ck_assert_int_eq(REQ("POST", "/api/v1/integrations/am/c", JSON, "{}"),
                         401);
        ck_assert_int_eq(
            REQ("POST", "/api/v1/integrations/x/s3cret", JSON, "{}"), 404);
        ck_assert_int_eq(
            REQ("POST", "/api/v1/integrations/am/s3cret/x", JSON, "{}"), 404);
        ck_assert_int_eq(REQ("POST", "/", JSON, "{}"), 404);
        ck_assert_int_eq(
            REQ("DELETE", "/api/v1/integrations/am/s3cret", NULL, NULL), 405);
        ck_assert_int_eq(
            REQ("GET", "/api/v1/integrations/am/s3cret", NULL, NULL), 200);
        ck_assert_int_eq(
            REQ("HEAD", "/api/v1/integrations/am/s3cret", NULL, NULL), 200);
        /* 413 over max_body (64), 415, 400 */
        ck_assert_int_eq(
            REQ("POST", "/api/v1/integrations/am/s3cret", JSON,
                "{\"a\":\"0123456789012345678901234567890123456789012345678"
                "90123456789\"}"),
            413);
        ck_assert_int_eq(
            REQ("POST", "/api/v1/integrations/am/s3cret", "text/plain", "{}"),
            415);
        ck_assert_int_eq(REQ("POST", "/api/v1/integrations/am/s3cret",
                             "application/alertmanager+json", "{}"),
                         503);
        ck_assert_int_eq(REQ("POST", "/api/v1/integrations/cms/c", JSON, "a=b"),
                         415);
        ck_assert_int_eq(
            REQ("POST", "/api/v1/integrations/am/s3cret", JSON, "{\"a\":"),
            400);
        ck_assert_ptr_nonnull(strstr(r.body.data, "not JSON"));
        ck_assert_int_eq(
            REQ("POST", "/api/v1/integrations/cms/c", FORM, "a=%4"), 400);
        ck_assert_int_eq(
            REQ("POST", "/api/v1/integrations/cms/c", FORM, "a=%41&b=c+d"),
            503);
        /* 429 once the bucket of one is empty */
        for (int i = 0; i < 3; i++)
                n429 +=
                    REQ("POST", "/api/v1/integrations/rl/r", NULL, "x") == 429;
        ck_assert_int_ge(n429, 2);
        ck_assert_int_eq(REQ("GET", "/metrics", NULL, NULL), 200);
        ck_assert_ptr_nonnull(strstr(r.body.data,
                                     "alertbridge_ingest_requests_total{"
                                     "integration=\"am\",code=\"401\"} 4"));
        ck_assert_ptr_nonnull(strstr(r.body.data,
                                     "alertbridge_ingest_requests_total{"
                                     "integration=\"\",code=\"404\"} 3"));
#undef REQ
        ab_buf_fini(&r.body);
        ab_ingest_stop(ing);
        ab_ingest_file_free(&f);
}
END_TEST

static int connect_to(uint16_t port)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
        int fd               = socket(AF_INET, SOCK_STREAM, 0);

        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        return fd;
}

/* @returns true when \p fd is readable within \p ms. */
static bool readable_within(int fd, int ms)
{
        struct pollfd p = {.fd = fd, .events = POLLIN};

        return poll(&p, 1, ms) == 1;
}

/* Slow clients cannot pin the server: a half-sent request is dropped
 * after request_timeout, and a connection beyond max_connections waits
 * (unread, in the listen backlog) until one of them closes. */
START_TEST(slow_clients_and_the_connection_limit)
{
        static const char partial[] = "POST /api/v1/integrations/am/t HTTP/1.1"
                                      "\r\nHost: x\r\nContent-Len";
        static const char probe[]   = "GET /healthz HTTP/1.1\r\nHost: x\r\n"
                                      "Connection: close\r\n\r\n";
        struct ab_ingest_file f;
        struct ab_ingest *ing = NULL;
        struct ab_error err;
        int slow, idle, third;
        char buf[64] = "";
        uint16_t p;

        ck_assert_str_eq(load_with("  request_timeout: 1s\n"
                                   "  max_connections: 2\n"
                                   "  threads: 1\n",
                                   "    - {name: am, topic: t, tokens: [t]}",
                                   &f, &err),
                         "");
        ck_assert_msg(
            !ab_ingest_start(&f.ingest, &f.kafka, f.path, 0, &ing, &err), "%s",
            err.text);
        p    = ab_ingest_port(ing);
        slow = connect_to(p);
        ck_assert_int_eq(send(slow, partial, sizeof(partial) - 1, 0),
                         (ssize_t)sizeof(partial) - 1);
        idle  = connect_to(p);
        third = connect_to(p);
        ck_assert_int_eq(send(third, probe, sizeof(probe) - 1, 0),
                         (ssize_t)sizeof(probe) - 1);
        ck_assert_msg(!readable_within(third, 300),
                      "served beyond max_connections");
        ck_assert_msg(readable_within(slow, 10000),
                      "a half-sent request kept its connection");
        ck_assert_int_le(recv(slow, buf, sizeof(buf), 0), 0);
        ck_assert_msg(readable_within(third, 10000),
                      "not served once a connection closed");
        ck_assert_int_gt(recv(third, buf, sizeof(buf) - 1, 0), 12);
        ck_assert_msg(!strncmp(buf, "HTTP/1.1 200", 12), "%s", buf);
        close(slow);
        close(idle);
        close(third);
        ab_ingest_stop(ing);
        ab_ingest_file_free(&f);
}
END_TEST

int main(void)
{
        Suite *s  = suite_create("ingest");
        TCase *tc = tcase_create("core");
        SRunner *sr;
        int failed;

        if (!mkdtemp(dir))
                return EXIT_FAILURE;
        ab_log_threshold = AB_LOG_ERROR;
        curl_global_init(CURL_GLOBAL_DEFAULT);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, config_errors);
        tcase_add_test(tc, answers_without_kafka);
        tcase_add_test(tc, slow_clients_and_the_connection_limit);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_set_fork_status(sr, CK_NOFORK);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        curl_global_cleanup();
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
