/* handler.c - the ingest service's HTTP side: routes, checks and answers. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "ingest/ingest_int.h"

#define COMP "ingest"

#define PREFIX       "/api/v1/integrations/"
#define JSON_TYPE    "application/json"
#define FORM_TYPE    "application/x-www-form-urlencoded"
#define TEXT_TYPE    "text/plain; charset=utf-8"
#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* ARMS answers a payload its mapping rejects with this code. */
#define ARMS_INVALID_INCIDENT 601

/* Extra headers of one answer. */
enum {
        HDR_RETRY = 1u << 0, /* Retry-After */
        HDR_CLOSE = 1u << 1, /* Connection: close */
        HDR_AUTH  = 1u << 2, /* WWW-Authenticate: Bearer */
        HDR_ALLOW = 1u << 3, /* Allow (405) */
};

static int status_index(unsigned status)
{
        switch (status) {
#define AB__CASE(c)                                                            \
        case c:                                                                \
                return AB_INGEST_ST_##c;
                AB_INGEST_STATUSES(AB__CASE)
#undef AB__CASE
        default:
                return -1;
        }
}

static void count(struct ingest_route *route, unsigned status)
{
        int i = status_index(status);

        if (route && i >= 0)
                ab_metrics_inc(route->status[i]);
}

static enum MHD_Result respond(struct ab_ingest *ing,
                               struct MHD_Connection *conn, unsigned status,
                               struct MHD_Response *resp, const char *type,
                               unsigned extra, const char *id)
{
        enum MHD_Result ret;

        if (!resp)
                return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                                "no-store");
        if (id)
                MHD_add_response_header(resp, "X-Request-Id", id);
        if (extra & HDR_RETRY)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER,
                                        ing->retry_after);
        if (extra & HDR_CLOSE)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
                                        "close");
        if (extra & HDR_AUTH)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                        "Bearer");
        if (extra & HDR_ALLOW)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
                                        "GET, HEAD, POST");
        ret = MHD_queue_response(conn, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

static enum MHD_Result send_text(struct ab_ingest *ing,
                                 struct MHD_Connection *conn, unsigned status,
                                 const char *body)
{
        return respond(ing, conn, status,
                       MHD_create_response_from_buffer(
                           strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT),
                       TEXT_TYPE, 0, NULL);
}

/*
 * Every webhook answer is JSON: {"code": N, "message": "...",
 * "requestId": "..."}; code is the HTTP status, or 601 for a payload the
 * integration rejects (what ARMS answers).
 */
static enum MHD_Result answer(struct ab_ingest *ing,
                              struct MHD_Connection *conn,
                              struct ingest_route *route, unsigned status,
                              int code, const char *message, unsigned extra,
                              const char *id)
{
        struct MHD_Response *resp;
        struct ab_buf b;
        char *data;
        size_t len;

        count(route, status);
        if (atomic_load(&ing->draining))
                extra |= HDR_CLOSE;
        if (status == MHD_HTTP_SERVICE_UNAVAILABLE ||
            status == MHD_HTTP_TOO_MANY_REQUESTS)
                extra |= HDR_RETRY;
        ab_buf_init(&b, 0);
        ab_buf_appendf(&b, "{\"code\":%d,\"message\":", code);
        ab_buf_append_json_str(&b, message, strlen(message));
        if (id)
                ab_buf_appendf(&b, ",\"requestId\":\"%s\"", id);
        if (ab_buf_append_str(&b, "}\n")) {
                ab_buf_fini(&b);
                return MHD_NO;
        }
        data = ab_buf_take(&b, &len);
        resp = MHD_create_response_from_buffer_with_free_callback(len, data,
                                                                  ab_free);
        if (!resp)
                ab_free(data);
        return respond(ing, conn, status, resp, JSON_TYPE, extra, id);
}

/*
 * The 200 answer, the one on the hot path: the same JSON as answer()
 * gives, but a fixed text around the request id, without formatting or
 * a growing buffer; libmicrohttpd copies it into the response.
 */
static enum MHD_Result answer_ok(struct ab_ingest *ing,
                                 struct ingest_request *rq)
{
        static const char head[] = "{\"code\":200,\"message\":\"ok\","
                                   "\"requestId\":\"";
        static const char tail[] = "\"}\n";
        char body[sizeof(head) + sizeof(rq->id) + sizeof(tail)];
        size_t idlen = strlen(rq->id);
        size_t n     = sizeof(head) - 1;

        count(rq->route, MHD_HTTP_OK);
        memcpy(body, head, n);
        memcpy(body + n, rq->id, idlen);
        n += idlen;
        memcpy(body + n, tail, sizeof(tail) - 1);
        n += sizeof(tail) - 1;
        return respond(
            ing, rq->conn, MHD_HTTP_OK,
            MHD_create_response_from_buffer(n, body, MHD_RESPMEM_MUST_COPY),
            JSON_TYPE, atomic_load(&ing->draining) ? HDR_CLOSE : 0, rq->id);
}

/* ---- /metrics, /healthz, /readyz ---- */

static enum MHD_Result serve_service(struct ab_ingest *ing,
                                     struct MHD_Connection *conn,
                                     const char *url, const char *method)
{
        struct MHD_Response *resp;
        struct ab_buf body;
        char *data;
        size_t len;

        if (strcmp(method, MHD_HTTP_METHOD_GET) &&
            strcmp(method, MHD_HTTP_METHOD_HEAD))
                return send_text(ing, conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                                 "method not allowed\n");
        if (!strcmp(url, "/healthz"))
                return send_text(ing, conn, MHD_HTTP_OK, "ok\n");
        if (!strcmp(url, "/readyz")) {
                if (atomic_load(&ing->draining))
                        return send_text(ing, conn,
                                         MHD_HTTP_SERVICE_UNAVAILABLE,
                                         "not ready: shutting down\n");
                if (!atomic_load(&ing->kafka_up))
                        return send_text(ing, conn,
                                         MHD_HTTP_SERVICE_UNAVAILABLE,
                                         "not ready: kafka unreachable\n");
                return send_text(ing, conn, MHD_HTTP_OK, "ready\n");
        }
        ab_buf_init(&body, 0);
        if (ab_metrics_render(ing->metrics, &body) ||
            ab_buf_append_str(&body, "")) {
                ab_buf_fini(&body);
                return send_text(ing, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                 "cannot render metrics\n");
        }
        data = ab_buf_take(&body, &len);
        resp = data ? MHD_create_response_from_buffer_with_free_callback(
                          len, data, ab_free)
                    : MHD_create_response_from_buffer(0, (void *)"",
                                                      MHD_RESPMEM_PERSISTENT);
        if (!resp)
                ab_free(data);
        return respond(ing, conn, MHD_HTTP_OK, resp, METRICS_TYPE, 0, NULL);
}

/* ---- the first call: route, method, auth, limits ---- */

static struct ingest_route *find_route(struct ab_ingest *ing, const char *name,
                                       size_t len)
{
        for (size_t i = 0; i < ing->nroutes; i++) {
                const char *n = ing->routes[i].cfg->name;

                if (strlen(n) == len && !memcmp(n, name, len))
                        return &ing->routes[i];
        }
        return NULL;
}

/* The media type of \p value equals \p type (case-insensitive). */
static bool media_is(const char *value, const char *type)
{
        size_t n = strlen(type);

        return !strncasecmp(value, type, n) &&
               (value[n] == '\0' || value[n] == ';' || value[n] == ' ');
}

static bool content_ok(const struct ingest_route *route, const char *ctype)
{
        const char *plus;

        if (!ctype || !*ctype || route->cfg->format == AB_INGEST_FORMAT_ANY)
                return true;
        if (route->cfg->format == AB_INGEST_FORMAT_FORM)
                return media_is(ctype, FORM_TYPE);
        if (media_is(ctype, JSON_TYPE))
                return true;
        /* application/<something>+json */
        plus = strstr(ctype, "+json");
        return !strncasecmp(ctype, "application/", 12) && plus &&
               media_is(plus, "+json");
}

/* The token in the URL, else the Authorization header's Bearer token. */
static const char *find_token(struct MHD_Connection *conn, const char *url_tok,
                              size_t *len)
{
        const char *auth;

        if (url_tok && *url_tok) {
                *len = strlen(url_tok);
                return url_tok;
        }
        auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                           MHD_HTTP_HEADER_AUTHORIZATION);
        if (auth && !strncasecmp(auth, "Bearer ", 7)) {
                auth += 7;
                while (*auth == ' ')
                        auth++;
                *len = strlen(auth);
                return auth;
        }
        *len = 0;
        return "";
}

/* The request id: the process's random prefix and a counter, in hex
 * (8 + 16 digits), what "%08x%016llx" gives, without printf. */
static void format_id(char out[AB_INGEST_ID_LEN + 1], uint32_t prefix,
                      uint64_t n)
{
        static const char hex[] = "0123456789abcdef";

        for (int i = 7; i >= 0; i--, prefix >>= 4)
                out[i] = hex[prefix & 0xf];
        for (int i = 23; i >= 8; i--, n >>= 4)
                out[i] = hex[n & 0xf];
        out[AB_INGEST_ID_LEN] = '\0';
}

static enum MHD_Result first_call(struct ab_ingest *ing,
                                  struct MHD_Connection *conn, const char *url,
                                  const char *method, void **req_cls)
{
        struct ingest_route *route;
        struct ingest_request *rq;
        const char *name, *slash, *token, *clen, *ctype;
        bool body_less = !strcmp(method, MHD_HTTP_METHOD_GET) ||
                         !strcmp(method, MHD_HTTP_METHOD_HEAD);
        size_t toklen;

        if (!strcmp(url, "/metrics") || !strcmp(url, "/healthz") ||
            !strcmp(url, "/readyz"))
                return serve_service(ing, conn, url, method);
        if (strncmp(url, PREFIX, sizeof(PREFIX) - 1))
                return answer(ing, conn, &ing->unrouted, MHD_HTTP_NOT_FOUND,
                              MHD_HTTP_NOT_FOUND, "not found", 0, NULL);
        name  = url + sizeof(PREFIX) - 1;
        slash = strchr(name, '/');
        route = find_route(ing, name,
                           slash ? (size_t)(slash - name) : strlen(name));
        if (!route || (slash && strchr(slash + 1, '/')))
                return answer(ing, conn, &ing->unrouted, MHD_HTTP_NOT_FOUND,
                              MHD_HTTP_NOT_FOUND, "unknown integration", 0,
                              NULL);
        if (!body_less && strcmp(method, MHD_HTTP_METHOD_POST))
                return answer(ing, conn, route, MHD_HTTP_METHOD_NOT_ALLOWED,
                              MHD_HTTP_METHOD_NOT_ALLOWED,
                              "use POST (GET and HEAD answer a probe)",
                              HDR_ALLOW, NULL);
        token = find_token(conn, slash ? slash + 1 : NULL, &toklen);
        if (!ab_ingest_auth(route, token, toklen))
                return answer(ing, conn, route, MHD_HTTP_UNAUTHORIZED,
                              MHD_HTTP_UNAUTHORIZED,
                              toklen ? "invalid token" : "missing token",
                              HDR_AUTH, NULL);
        if (body_less)
                return answer(ing, conn, route, MHD_HTTP_OK, MHD_HTTP_OK,
                              "ok: POST alerts to this URL", 0, NULL);
        if (!ab_ingest_rate_take(route))
                return answer(ing, conn, route, MHD_HTTP_TOO_MANY_REQUESTS,
                              MHD_HTTP_TOO_MANY_REQUESTS, "rate limit exceeded",
                              0, NULL);
        ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                            MHD_HTTP_HEADER_CONTENT_TYPE);
        if (!content_ok(route, ctype))
                return answer(ing, conn, route, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                              MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                              route->cfg->format == AB_INGEST_FORMAT_FORM
                                  ? "send " FORM_TYPE
                                  : "send " JSON_TYPE,
                              0, NULL);
        clen = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                           MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (clen &&
            strtoull(clen, NULL, 10) > (unsigned long long)ing->cfg->max_body)
                return answer(ing, conn, route, MHD_HTTP_CONTENT_TOO_LARGE,
                              MHD_HTTP_CONTENT_TOO_LARGE,
                              "body over ingest.max_body", HDR_CLOSE, NULL);
        rq = ab_calloc(1, sizeof(*rq));
        if (!rq)
                return MHD_NO;
        rq->ing      = ing;
        rq->route    = route;
        rq->conn     = conn;
        rq->start_ns = ab_time_mono_ns();
        if (clen) {
                rq->cap  = (size_t)strtoull(clen, NULL, 10);
                rq->body = ab_malloc(rq->cap ? rq->cap : 1);
                if (!rq->body) {
                        ab_free(rq);
                        return MHD_NO;
                }
        }
        atomic_init(&rq->result, 0);
        format_id(rq->id, ing->id_prefix, atomic_fetch_add(&ing->id_next, 1));
        *req_cls = rq;
        return MHD_YES;
}

/* ---- the body ---- */

static bool append(struct ingest_request *rq, const char *data, size_t n)
{
        size_t max = (size_t)rq->ing->cfg->max_body;
        size_t cap;
        char *grown;

        if (rq->too_large || n > max - rq->len) {
                rq->too_large = true; /* read on, answer 413 at the end */
                return true;
        }
        if (rq->len + n > rq->cap) {
                cap = rq->cap ? rq->cap : 4096;
                while (cap < rq->len + n)
                        cap *= 2;
                if (cap > max)
                        cap = max;
                grown = ab_realloc(rq->body, cap);
                if (!grown)
                        return false;
                rq->body = grown;
                rq->cap  = cap;
        }
        memcpy(rq->body + rq->len, data, n);
        rq->len += n;
        return true;
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char)(c | 0x20);
        return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* application/x-www-form-urlencoded: printable, %XX escapes complete. */
static bool form_ok(const char *s, size_t n, char *why, size_t size)
{
        if (!n) {
                snprintf(why, size, "empty body");
                return false;
        }
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];

                if (c == '%' && (i + 2 >= n + 0 || hexval(s[i + 1]) < 0 ||
                                 hexval(s[i + 2]) < 0)) {
                        snprintf(why, size,
                                 "body is not form-encoded: bad %% escape at "
                                 "byte %zu",
                                 i);
                        return false;
                }
                if (c <= ' ' || c >= 0x7f) {
                        snprintf(why, size,
                                 "body is not form-encoded: byte 0x%02x at "
                                 "%zu",
                                 c, i);
                        return false;
                }
        }
        return true;
}

/*
 * The body's checks: its format, then (validate: true) the mapping.
 * @returns 0 when it may be written, else the HTTP status with \p *code
 *          and \p why set.
 */
static unsigned check_body(struct ab_ingest *ing, struct ingest_request *rq,
                           int *code, char *why, size_t size)
{
        const struct ab_ingest_integration *in = rq->route->cfg;
        struct ingest_scratch *s               = NULL;
        const struct ab_alert *alerts;
        struct ab_error err;
        char line[600];
        size_t nalerts;
        unsigned status = 0;

        *code = MHD_HTTP_BAD_REQUEST;
        if (in->format == AB_INGEST_FORMAT_ANY)
                return 0;
        if (in->format == AB_INGEST_FORMAT_FORM &&
            !form_ok(rq->body, rq->len, why, size))
                return MHD_HTTP_BAD_REQUEST;
        if (in->format == AB_INGEST_FORMAT_JSON || in->validate) {
                s = ab_ingest_scratch_get(ing);
                if (!s) {
                        snprintf(why, size, "out of memory");
                        *code = MHD_HTTP_SERVICE_UNAVAILABLE;
                        return MHD_HTTP_SERVICE_UNAVAILABLE;
                }
        }
        ab_error_clear(&err);
        if (in->format == AB_INGEST_FORMAT_JSON &&
            ab_json_parse(&s->doc, rq->body ? rq->body : "", rq->len, &err)) {
                snprintf(why, size, "body is not JSON: %s",
                         ab_error_format(&err, line, sizeof(line)));
                status = MHD_HTTP_BAD_REQUEST;
        } else if (in->validate &&
                   ab_transform_run(s->tf, rq->route->integ,
                                    rq->body ? rq->body : "", rq->len,
                                    in->format == AB_INGEST_FORMAT_FORM
                                        ? AB_CONTENT_FORM
                                        : AB_CONTENT_JSON,
                                    &alerts, &nalerts, &err)) {
                snprintf(why, size, "Invalid incident, %s",
                         ab_error_format(&err, line, sizeof(line)));
                *code  = ARMS_INVALID_INCIDENT;
                status = MHD_HTTP_BAD_REQUEST;
        }
        ab_ingest_scratch_put(ing, s);
        return status;
}

static enum MHD_Result body_done(struct ab_ingest *ing,
                                 struct ingest_request *rq)
{
        const char *ctype = MHD_lookup_connection_value(
            rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        unsigned status;
        char why[700];
        int code;

        if (rq->too_large)
                return answer(ing, rq->conn, rq->route,
                              MHD_HTTP_CONTENT_TOO_LARGE,
                              MHD_HTTP_CONTENT_TOO_LARGE,
                              "body over ingest.max_body", HDR_CLOSE, rq->id);
        status = check_body(ing, rq, &code, why, sizeof(why));
        if (status)
                return answer(ing, rq->conn, rq->route, status, code, why, 0,
                              rq->id);
        if (!ab_ingest_produce(ing, rq, ctype, &status))
                return answer(ing, rq->conn, rq->route, status, (int)status,
                              atomic_load(&ing->draining) ? "shutting down"
                                                          : "kafka unavailable",
                              0, rq->id);
        return MHD_YES;
}

/* Called again after the delivery report resumed the connection. */
static enum MHD_Result answer_delivery(struct ab_ingest *ing,
                                       struct ingest_request *rq)
{
        rd_kafka_resp_err_t rc = (rd_kafka_resp_err_t)atomic_load(&rq->result);
        char why[300];

        rq->waiting = false;
        if (!rc) {
                ab_metrics_observe(rq->route->latency,
                                   (double)(ab_time_mono_ns() - rq->start_ns) *
                                       1e-9);
                ab_metrics_add(rq->route->bytes, rq->len);
                return answer_ok(ing, rq);
        }
        AB_DEBUG(COMP, "not written", "integration=%s request_id=%s error=%s",
                 rq->route->cfg->name, rq->id, rd_kafka_err2name(rc));
        snprintf(why, sizeof(why), "kafka unavailable: %s",
                 rd_kafka_err2str(rc));
        return answer(ing, rq->conn, rq->route, MHD_HTTP_SERVICE_UNAVAILABLE,
                      MHD_HTTP_SERVICE_UNAVAILABLE, why, 0, rq->id);
}

enum MHD_Result ab_ingest_handle(void *cls, struct MHD_Connection *conn,
                                 const char *url, const char *method,
                                 const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **req_cls)
{
        struct ab_ingest *ing     = cls;
        struct ingest_request *rq = *req_cls;

        (void)version;
        if (!rq)
                return first_call(ing, conn, url, method, req_cls);
        if (rq->waiting)
                return answer_delivery(ing, rq);
        if (*upload_data_size) {
                if (!append(rq, upload_data, *upload_data_size))
                        return MHD_NO;
                *upload_data_size = 0;
                return MHD_YES;
        }
        return body_done(ing, rq);
}

void ab_ingest_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
        struct ingest_request *rq = *req_cls;
        struct ab_ingest *ing     = cls;

        (void)conn;
        (void)toe;
        if (!rq)
                return;
        if (rq->produced) {
                atomic_fetch_sub(&ing->pending, 1);
                ab_metrics_gauge_add(ing->pending_gauge, -1);
        }
        ab_free(rq->body);
        ab_free(rq);
        *req_cls = NULL;
}

/* ---- Kafka ---- */

static rd_kafka_headers_t *record_headers(const struct ingest_request *rq,
                                          const char *ctype)
{
        rd_kafka_headers_t *h = rd_kafka_headers_new(4);
        char received[AB_TIME_RFC3339_LEN];
        size_t n = ab_time_format(ab_time_now_ms(), received);

        if (!h)
                return NULL;
        if (rq->route->integ)
                rd_kafka_header_add(h, AB_INGEST_HDR_INTEGRATION, -1,
                                    ab_integration_name(rq->route->integ), -1);
        if (ctype)
                rd_kafka_header_add(h, AB_INGEST_HDR_CONTENT, -1, ctype, -1);
        rd_kafka_header_add(h, AB_INGEST_HDR_RECEIVED, -1, received,
                            (ssize_t)n);
        rd_kafka_header_add(h, AB_INGEST_HDR_REQUEST_ID, -1, rq->id, -1);
        return h;
}

bool ab_ingest_produce(struct ab_ingest *ing, struct ingest_request *rq,
                       const char *ctype, unsigned *status)
{
        rd_kafka_headers_t *h;
        rd_kafka_resp_err_t rc;

        *status = MHD_HTTP_SERVICE_UNAVAILABLE;
        /* Counted before `draining` is read: see ab_ingest_stop(). */
        atomic_fetch_add(&ing->pending, 1);
        rq->produced = true;
        ab_metrics_gauge_add(ing->pending_gauge, 1);
        if (atomic_load(&ing->draining) || !atomic_load(&ing->kafka_up))
                return false;
        h = record_headers(rq, ctype);
        if (!h)
                return false;
        /* Suspended first: the report may come before producev returns.
         * The body is not copied; it lives until the request completes,
         * which is after the report. */
        rq->waiting = true;
        MHD_suspend_connection(rq->conn);
        rc = rd_kafka_producev(
            ing->rk, RD_KAFKA_V_TOPIC(rq->route->cfg->topic),
            RD_KAFKA_V_MSGFLAGS(0),
            RD_KAFKA_V_VALUE(rq->body ? rq->body : (char *)"", rq->len),
            RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(rq), RD_KAFKA_V_END);
        if (rc) {
                rd_kafka_headers_destroy(h);
                atomic_store(&rq->result, (int)rc);
                MHD_resume_connection(rq->conn);
        }
        return true;
}
