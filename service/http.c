/* http.c - the observability HTTP server on libmicrohttpd. */
#include "service/http.h"

#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "service/conftab.h"

/*
 * Limits chosen so /healthz and /readyz keep answering while slow or hostile
 * clients hold connections open (a probe that times out restarts the pod):
 * - one internal polling thread on epoll (MHD_USE_AUTO): a slow client costs
 *   a socket and a few KiB, never a thread, and cannot block the others;
 * - a per-client (per source address) limit far above what a prober and a
 *   scraper need, so one client cannot take every slot;
 * - a total limit several times that, still well inside the default 1024
 *   file descriptors left after Kafka's sockets;
 * - a short inactivity timeout: probes and scrapes send their request at
 *   once, so a connection silent for 3 s is dropped. (libmicrohttpd has no
 *   whole-request deadline: a client trickling a byte per second stays until
 *   the per-client limit stops its next connection.)
 * The slow-client test in tests/unit/check_http.c holds these to account.
 */
#define HTTP_CONNECTION_LIMIT   256
#define HTTP_PER_CLIENT_LIMIT   16
#define HTTP_CONNECTION_TIMEOUT 3 /* seconds of inactivity */

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define TEXT_CONTENT_TYPE    "text/plain; charset=utf-8"
#define JSON_CONTENT_TYPE    "application/json"

/* POST /-/reload requests waiting for the owner at most. */
#define RELOAD_MAX_WAITING 16

/* One authorised POST /-/reload: suspended until the owner answers. */
struct reload_wait {
        struct MHD_Connection *conn;
        struct reload_wait *next;
        bool queued;     /* on http->waiting or http->taken */
        unsigned status; /* 0 until answered */
        char *body;      /* the answer (JSON) */
};

struct ab_http {
        struct MHD_Daemon *daemon;
        struct ab_metrics *metrics;
        ab_http_ready_fn ready_fn;
        void *ready_opaque;
        int64_t stall_timeout_ms;
        uint16_t port;
        atomic_bool ready;
        _Atomic int64_t heartbeat_ms; /* monotonic; 0 = none yet */
        atomic_bool starting;         /* capture MHD's messages */
        char start_error[256];        /* written only while starting */
        /* POST /-/reload; every field below reload_fn under `lock`. */
        char *reload_token; /* NULL: the route is off */
        size_t reload_token_len;
        ab_http_reload_fn reload_fn;
        void *reload_opaque;
        pthread_mutex_t lock;
        struct reload_wait *waiting; /* not taken by the owner yet */
        struct reload_wait *taken;   /* the reload running answers these */
        size_t nwaiting;
};

/* ---- listen address ---- */

static ab_err_t parse_port(const char *s, const char *listen, char *out,
                           size_t outsize, struct ab_error *err)
{
        unsigned long port = 0;
        size_t n           = 0;

        for (; s[n]; n++) {
                if (s[n] < '0' || s[n] > '9' || n >= 5)
                        break;
                port = port * 10 + (unsigned long)(s[n] - '0');
        }
        if (n == 0 || s[n] || port > 65535)
                return ab_error_set(err, AB_ERR_CONFIG, NULL,
                                    "\"%s\": the port must be 0..65535",
                                    listen);
        snprintf(out, outsize, "%lu", port);
        return AB_OK;
}

ab_err_t ab_http_parse_listen(const char *listen, struct sockaddr_storage *addr,
                              socklen_t *len, struct ab_error *err)
{
        struct addrinfo hints = {0};
        struct addrinfo *res  = NULL;
        const char *colon;
        const char *hstart = listen;
        size_t hlen;
        char host[256];
        char port[8];
        ab_err_t rc;
        int gai;

        if (listen[0] == '[') {
                const char *close = strchr(listen, ']');

                if (!close || close[1] != ':')
                        return ab_error_set(err, AB_ERR_CONFIG, NULL,
                                            "\"%s\": expected [IPv6]:PORT",
                                            listen);
                hstart          = listen + 1;
                hlen            = (size_t)(close - hstart);
                colon           = close + 1;
                hints.ai_family = AF_INET6;
                hints.ai_flags  = AI_NUMERICHOST;
        } else {
                colon = strrchr(listen, ':');
                if (!colon)
                        return ab_error_set(err, AB_ERR_CONFIG, NULL,
                                            "\"%s\": expected HOST:PORT",
                                            listen);
                hlen = (size_t)(colon - listen);
                if (memchr(listen, ':', hlen))
                        return ab_error_set(err, AB_ERR_CONFIG, NULL,
                                            "\"%s\": write an IPv6 address "
                                            "in brackets: [::1]:9464",
                                            listen);
                hints.ai_family = AF_UNSPEC;
        }
        if (hlen >= sizeof(host))
                return ab_error_set(err, AB_ERR_CONFIG, NULL,
                                    "\"%s\": host name too long", listen);
        rc = parse_port(colon + 1, listen, port, sizeof(port), err);
        if (rc)
                return rc;
        memcpy(host, hstart, hlen);
        host[hlen]        = '\0';
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags |= AI_NUMERICSERV;
        if (hlen == 0 || !strcmp(host, "*")) {
                hints.ai_family = AF_INET;
                hints.ai_flags |= AI_PASSIVE;
                gai = getaddrinfo(NULL, port, &hints, &res);
        } else {
                gai = getaddrinfo(host, port, &hints, &res);
        }
        if (gai != 0 || !res)
                return ab_error_set(err, AB_ERR_CONFIG, NULL,
                                    "\"%s\": cannot resolve \"%s\": %s", listen,
                                    host, gai_strerror(gai));
        memcpy(addr, res->ai_addr, res->ai_addrlen);
        *len = (socklen_t)res->ai_addrlen;
        freeaddrinfo(res);
        return AB_OK;
}

/* An empty listen address switches the server off. */
ab_err_t ab_http_check_listen(const void *ctx, const struct ab_conftab_prop *p,
                              void *obj, const char *path, struct ab_error *err)
{
        char **field = (char **)((char *)obj + p->offset);
        struct sockaddr_storage addr;
        struct ab_error perr;
        socklen_t len;
        ab_err_t rc;

        if (!*field)
                return AB_OK;
        if (!**field) {
                ab_free(*field);
                *field = NULL;
                return AB_OK;
        }
        rc = ab_http_parse_listen(*field, &addr, &len, &perr);
        if (rc)
                ab_error_set(err, rc, path, "%s", perr.text);
        return rc;
}

/* ---- responses ---- */

static enum MHD_Result send_response(struct MHD_Connection *conn,
                                     unsigned status, struct MHD_Response *resp,
                                     const char *content_type)
{
        enum MHD_Result ret;

        if (!resp)
                return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                content_type);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                                "no-store");
        if (status == MHD_HTTP_METHOD_NOT_ALLOWED &&
            !MHD_get_response_header(resp, MHD_HTTP_HEADER_ALLOW))
                MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
                                        "GET, HEAD");
        ret = MHD_queue_response(conn, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

/* A body that lives as long as the program (a string literal). */
static enum MHD_Result send_static(struct MHD_Connection *conn, unsigned status,
                                   const char *body)
{
        return send_response(
            conn, status,
            MHD_create_response_from_buffer(strlen(body), (void *)body,
                                            MHD_RESPMEM_PERSISTENT),
            TEXT_CONTENT_TYPE);
}

static enum MHD_Result send_copy(struct MHD_Connection *conn, unsigned status,
                                 const char *body)
{
        return send_response(
            conn, status,
            MHD_create_response_from_buffer(strlen(body), (void *)body,
                                            MHD_RESPMEM_MUST_COPY),
            TEXT_CONTENT_TYPE);
}

static enum MHD_Result serve_metrics(struct ab_http *http,
                                     struct MHD_Connection *conn)
{
        struct MHD_Response *resp;
        struct ab_buf body;
        char *data;
        size_t len;

        ab_buf_init(&body, 0);
        if (ab_metrics_render(http->metrics, &body)) {
                ab_buf_fini(&body);
                AB_ERROR("http", "cannot render metrics", "path=%s",
                         "/metrics");
                return send_static(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                   "cannot render metrics\n");
        }
        data = ab_buf_take(&body, &len);
        if (!data)
                return send_response(conn, MHD_HTTP_OK,
                                     MHD_create_response_from_buffer(
                                         0, (void *)"", MHD_RESPMEM_PERSISTENT),
                                     METRICS_CONTENT_TYPE);
        resp = MHD_create_response_from_buffer_with_free_callback(len, data,
                                                                  ab_free);
        if (!resp)
                ab_free(data);
        return send_response(conn, MHD_HTTP_OK, resp, METRICS_CONTENT_TYPE);
}

static enum MHD_Result serve_healthz(struct ab_http *http,
                                     struct MHD_Connection *conn)
{
        int64_t last = atomic_load(&http->heartbeat_ms);
        int64_t idle;
        char body[96];

        if (http->stall_timeout_ms <= 0 || last == 0)
                return send_static(conn, MHD_HTTP_OK, "ok\n");
        idle = ab_time_mono_ms() - last;
        if (idle <= http->stall_timeout_ms)
                return send_static(conn, MHD_HTTP_OK, "ok\n");
        snprintf(body, sizeof(body), "stalled: no progress for %lld ms\n",
                 (long long)idle);
        return send_copy(conn, MHD_HTTP_SERVICE_UNAVAILABLE, body);
}

static enum MHD_Result serve_readyz(struct ab_http *http,
                                    struct MHD_Connection *conn)
{
        char reason[200] = "";
        char body[232];
        bool ready;

        if (http->ready_fn)
                ready =
                    http->ready_fn(http->ready_opaque, reason, sizeof(reason));
        else
                ready = atomic_load(&http->ready);
        if (ready)
                return send_static(conn, MHD_HTTP_OK, "ready\n");
        reason[sizeof(reason) - 1] = '\0';
        snprintf(body, sizeof(body), "not ready%s%s\n", reason[0] ? ": " : "",
                 reason);
        return send_copy(conn, MHD_HTTP_SERVICE_UNAVAILABLE, body);
}

/* ---- POST /-/reload ---- */

static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned status,
                                 const char *body)
{
        struct MHD_Response *resp = MHD_create_response_from_buffer(
            strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);

        if (resp && status == MHD_HTTP_METHOD_NOT_ALLOWED)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "POST");
        if (resp && status == MHD_HTTP_UNAUTHORIZED)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                        "Bearer realm=\"alertbridge\"");
        return send_response(conn, status, resp, JSON_CONTENT_TYPE);
}

/* `Authorization: Bearer TOKEN` with our token, compared in time that
 * does not depend on where they differ. */
static bool authorized(const struct ab_http *http, struct MHD_Connection *conn)
{
        const char *h = MHD_lookup_connection_value(
            conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        unsigned char diff;
        size_t n;

        if (!h || strncasecmp(h, "Bearer ", 7))
                return false;
        for (h += 7; *h == ' ';)
                h++;
        n    = strlen(h);
        diff = n != http->reload_token_len;
        for (size_t i = 0; i < http->reload_token_len; i++)
                diff |=
                    (unsigned char)(http->reload_token[i] ^ (i < n ? h[i] : 0));
        return diff == 0;
}

/* Queue \p w for the owner and suspend its connection. */
static enum MHD_Result reload_wait(struct ab_http *http, struct reload_wait *w)
{
        pthread_mutex_lock(&http->lock);
        if (http->nwaiting >= RELOAD_MAX_WAITING) {
                pthread_mutex_unlock(&http->lock);
                return send_json(w->conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                                 "{\"status\":\"error\",\"error\":\"too "
                                 "many reload requests waiting\"}");
        }
        w->queued     = true;
        w->next       = http->waiting;
        http->waiting = w;
        http->nwaiting++;
        MHD_suspend_connection(w->conn);
        pthread_mutex_unlock(&http->lock);
        http->reload_fn(http->reload_opaque);
        return MHD_YES;
}

/*
 * The first call (headers in) checks the method and the token; the body,
 * if any, is read and ignored; the last call queues the request and
 * suspends it; once the owner answered and resumed it, the call after
 * sends the answer.
 */
static enum MHD_Result serve_reload(struct ab_http *http,
                                    struct MHD_Connection *conn,
                                    const char *method,
                                    size_t *upload_data_size, void **req_cls)
{
        struct reload_wait *w = *req_cls;

        if (!http->reload_token)
                return send_static(conn, MHD_HTTP_NOT_FOUND, "not found\n");
        if (!w) {
                if (strcmp(method, MHD_HTTP_METHOD_POST))
                        return send_json(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                                         "{\"status\":\"error\",\"error\":"
                                         "\"use POST\"}");
                if (!authorized(http, conn))
                        return send_json(conn, MHD_HTTP_UNAUTHORIZED,
                                         "{\"status\":\"error\",\"error\":"
                                         "\"a valid bearer token is "
                                         "required\"}");
                w = ab_calloc(1, sizeof(*w));
                if (!w)
                        return MHD_NO;
                w->conn  = conn;
                *req_cls = w;
                return MHD_YES;
        }
        if (*upload_data_size) {
                *upload_data_size = 0;
                return MHD_YES;
        }
        if (w->status)
                return send_json(conn, w->status,
                                 w->body ? w->body : "{\"status\":\"error\"}");
        return w->queued ? MHD_YES : reload_wait(http, w);
}

static void request_done(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
        struct reload_wait *w = *req_cls;

        (void)cls;
        (void)conn;
        (void)toe;
        if (w) {
                ab_free(w->body);
                ab_free(w);
                *req_cls = NULL;
        }
}

/* Answer and resume every request of \p list; under http->lock. */
static void answer_all(struct reload_wait *list, unsigned status,
                       const char *body)
{
        struct reload_wait *next;

        for (struct reload_wait *w = list; w; w = next) {
                next      = w->next;
                w->next   = NULL;
                w->queued = false;
                w->status = status;
                w->body   = ab_strdup(body);
                MHD_resume_connection(w->conn);
        }
}

size_t ab_http_reload_begin(struct ab_http *http)
{
        struct reload_wait *w;
        size_t n;

        pthread_mutex_lock(&http->lock);
        while ((w = http->waiting)) {
                http->waiting = w->next;
                w->next       = http->taken;
                http->taken   = w;
        }
        n              = http->nwaiting;
        http->nwaiting = 0;
        pthread_mutex_unlock(&http->lock);
        return n;
}

void ab_http_reload_answer(struct ab_http *http, unsigned status,
                           const char *body)
{
        pthread_mutex_lock(&http->lock);
        answer_all(http->taken, status, body);
        http->taken = NULL;
        pthread_mutex_unlock(&http->lock);
}

/*
 * Every route answers on the first call, made once the request headers
 * are in: a request with a body (never valid here) gets its answer early
 * and libmicrohttpd discards the body and closes the connection.
 */
static enum MHD_Result handle_request(void *cls, struct MHD_Connection *conn,
                                      const char *url, const char *method,
                                      const char *version,
                                      const char *upload_data,
                                      size_t *upload_data_size, void **req_cls)
{
        struct ab_http *http = cls;

        if (!strcmp(url, "/-/reload"))
                return serve_reload(http, conn, method, upload_data_size,
                                    req_cls);
        if (strcmp(method, MHD_HTTP_METHOD_GET) &&
            strcmp(method, MHD_HTTP_METHOD_HEAD))
                return send_static(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                                   "method not allowed\n");
        if (!strcmp(url, "/metrics") && http->metrics)
                return serve_metrics(http, conn);
        if (!strcmp(url, "/healthz"))
                return serve_healthz(http, conn);
        if (!strcmp(url, "/readyz"))
                return serve_readyz(http, conn);
        return send_static(conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* ---- lifecycle ---- */

__attribute__((format(printf, 2, 0))) static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
        struct ab_http *http = cls;
        char msg[512];
        size_t n;

        vsnprintf(msg, sizeof(msg), fmt, ap);
        n = strlen(msg);
        while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
                msg[--n] = '\0';
        AB_WARN("http", msg, "lib=%s", "libmicrohttpd");
        if (atomic_load(&http->starting)) {
                size_t m = n < sizeof(http->start_error) - 1
                               ? n
                               : sizeof(http->start_error) - 1;
                memcpy(http->start_error, msg, m);
                http->start_error[m] = '\0';
        }
}

ab_err_t ab_http_start(const struct ab_http_options *opt, struct ab_http **out,
                       struct ab_error *err)
{
        struct sockaddr_storage addr;
        struct ab_http *http = NULL;
        const union MHD_DaemonInfo *info;
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
                         MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
        socklen_t addrlen;
        uint16_t port;
        ab_err_t rc;

        *out = NULL;
        rc   = ab_http_parse_listen(opt->listen, &addr, &addrlen, err);
        if (rc)
                goto out;
        http = ab_calloc(1, sizeof(*http));
        if (!http) {
                rc = ab_error_set(err, AB_ERR_NOMEM, NULL,
                                  "cannot allocate the HTTP server");
                goto out;
        }
        http->metrics          = opt->metrics;
        http->ready_fn         = opt->ready;
        http->ready_opaque     = opt->ready_opaque;
        http->stall_timeout_ms = opt->stall_timeout_ms;
        pthread_mutex_init(&http->lock, NULL);
        if (opt->reload_token && opt->reload) {
                http->reload_token     = ab_strdup(opt->reload_token);
                http->reload_token_len = strlen(opt->reload_token);
                http->reload_fn        = opt->reload;
                http->reload_opaque    = opt->reload_opaque;
                if (!http->reload_token) {
                        rc = ab_error_set(err, AB_ERR_NOMEM, NULL,
                                          "out of memory");
                        goto out;
                }
        }
        atomic_init(&http->ready, false);
        atomic_init(&http->heartbeat_ms, 0);
        atomic_init(&http->starting, true);
        if (addr.ss_family == AF_INET6) {
                flags |= MHD_USE_IPv6;
                port = ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
        } else {
                port = ntohs(((struct sockaddr_in *)&addr)->sin_port);
        }
        /* The port only names the socket in libmicrohttpd's messages. */
        http->daemon = MHD_start_daemon(
            flags, port, NULL, NULL, handle_request, http,
            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, http, MHD_OPTION_SOCK_ADDR,
            (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_LIMIT,
            (unsigned)HTTP_CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
            (unsigned)HTTP_CONNECTION_TIMEOUT,
            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_PER_CLIENT_LIMIT,
            MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL, MHD_OPTION_END);
        atomic_store(&http->starting, false);
        if (!http->daemon) {
                rc = ab_error_set(err, AB_ERR_HTTP, NULL,
                                  "cannot listen on %s%s%s", opt->listen,
                                  http->start_error[0] ? ": " : "",
                                  http->start_error);
                goto out;
        }
        info = MHD_get_daemon_info(http->daemon, MHD_DAEMON_INFO_BIND_PORT);
        http->port = info ? info->port : 0;
        AB_INFO("http",
                http->reload_token ? "serving /metrics /healthz /readyz "
                                     "/-/reload"
                                   : "serving /metrics /healthz /readyz",
                "listen=%s port=%u", opt->listen, (unsigned)http->port);
        *out = http;
        http = NULL;
out:
        ab_http_stop(http);
        return rc;
}

void ab_http_stop(struct ab_http *http)
{
        if (!http)
                return;
        if (http->daemon) {
                /* libmicrohttpd wants every connection resumed first. */
                pthread_mutex_lock(&http->lock);
                answer_all(http->waiting, MHD_HTTP_SERVICE_UNAVAILABLE,
                           "{\"status\":\"error\",\"error\":\"stopping\"}");
                answer_all(http->taken, MHD_HTTP_SERVICE_UNAVAILABLE,
                           "{\"status\":\"error\",\"error\":\"stopping\"}");
                http->waiting = http->taken = NULL;
                pthread_mutex_unlock(&http->lock);
                MHD_stop_daemon(http->daemon);
        }
        pthread_mutex_destroy(&http->lock);
        if (http->reload_token)
                memset(http->reload_token, 0, http->reload_token_len);
        ab_free(http->reload_token);
        ab_free(http);
}

uint16_t ab_http_port(const struct ab_http *http)
{
        return http->port;
}

void ab_http_set_ready(struct ab_http *http, bool ready)
{
        atomic_store(&http->ready, ready);
}

void ab_http_heartbeat(struct ab_http *http)
{
        int64_t now = ab_time_mono_ms();

        atomic_store(&http->heartbeat_ms, now > 0 ? now : 1);
}
