/* http.h - the observability HTTP server: /metrics, /healthz, /readyz. */
#ifndef AB_HTTP_H
#define AB_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/err.h"
#include "service/metrics.h"

/*
 * A libmicrohttpd daemon with its own thread. Routes (GET or HEAD only;
 * other methods get 405 with an Allow header, unknown paths 404):
 *   /metrics  200, text/plain; version=0.0.4: the registry's exposition.
 *   /healthz  200 "ok" while the server runs and the pipeline loop keeps
 *             calling ab_http_heartbeat(); 503 once no heartbeat came for
 *             `stall_timeout_ms` (the loop is stuck).
 *   /readyz   200 "ready" when the readiness callback (or, without one,
 *             the flag set with ab_http_set_ready()) says so, else 503
 *             with the reason.
 *   /-/reload POST only, when a reload token is set (else 404 for every
 *             method; 405 for other methods): `Authorization: Bearer
 *             TOKEN` (compared in constant time; 401 otherwise) asks the
 *             owner to reload through the `reload` callback; the request
 *             waits (suspended: the other routes keep answering) until the
 *             owner answers it with ab_http_reload_answer().
 * libmicrohttpd's own error messages go to core/log.h (comp=http).
 */
struct ab_http;

/**
 * Readiness probe, called in the server's thread for each /readyz request:
 * must be thread-safe. @returns true when ready; when not, may write a
 * short reason into \p reason (NUL-terminated, \p size bytes).
 */
typedef bool (*ab_http_ready_fn)(void *opaque, char *reason, size_t size);

/** Asks the owner to reload (called in the server's thread). */
typedef void (*ab_http_reload_fn)(void *opaque);

struct ab_http_options {
        const char *listen;         /* "127.0.0.1:9464", "[::1]:0", ... */
        struct ab_metrics *metrics; /* borrowed; NULL: /metrics is 404 */
        ab_http_ready_fn ready;     /* NULL: use ab_http_set_ready() */
        void *ready_opaque;
        int64_t stall_timeout_ms; /* 0: /healthz never reports a stall */
        const char *reload_token; /* copied; NULL: /-/reload is 404 */
        ab_http_reload_fn reload;
        void *reload_opaque;
};

struct ab_conftab_prop;

/**
 * The one rule for an `http.listen` config key (pipeline and sink), as an
 * ab_conftab check: unset or "" means no HTTP server (the field is left
 * NULL); anything else must parse as ab_http_parse_listen() says.
 * @returns AB_OK, or AB_ERR_CONFIG naming \p path.
 */
ab_err_t ab_http_check_listen(const void *ctx, const struct ab_conftab_prop *p,
                              void *obj, const char *path,
                              struct ab_error *err);

/**
 * Parse a listen address "HOST:PORT": HOST is an IPv4 address, an IPv6
 * address in brackets, a host name, or empty or "*" for every IPv4
 * interface; PORT is 0..65535 (0 picks a free port).
 * @returns AB_OK with \p *addr and \p *len filled, or AB_ERR_CONFIG.
 */
ab_err_t ab_http_parse_listen(const char *listen, struct sockaddr_storage *addr,
                              socklen_t *len, struct ab_error *err);

/**
 * Bind \p opt->listen and start serving in a new thread. \p opt is copied;
 * the metrics registry must outlive the server.
 * @returns AB_OK with \p *out set (stop with ab_http_stop()),
 *          AB_ERR_CONFIG for a bad address, AB_ERR_HTTP when the address
 *          cannot be bound, or AB_ERR_NOMEM.
 */
ab_err_t ab_http_start(const struct ab_http_options *opt, struct ab_http **out,
                       struct ab_error *err);

/**
 * Stop serving: closes the listening socket, finishes or drops the open
 * connections, joins the thread and frees \p http. NULL-safe.
 */
void ab_http_stop(struct ab_http *http);

/** The bound port (the real one when the address asked for port 0). */
uint16_t ab_http_port(const struct ab_http *http);

/** Set the readiness flag used when no callback was given. Thread-safe. */
void ab_http_set_ready(struct ab_http *http, bool ready);

/**
 * The owner starts a reload: the POST /-/reload requests waiting now get
 * the next ab_http_reload_answer(); later ones call `reload` again.
 * Thread-safe. @returns how many requests it took.
 */
size_t ab_http_reload_begin(struct ab_http *http);

/** Answer the requests taken by ab_http_reload_begin() with \p status and
 * the JSON \p body (copied). Thread-safe. */
void ab_http_reload_answer(struct ab_http *http, unsigned status,
                           const char *body);

/** Record that the pipeline loop made progress (now). Thread-safe. */
void ab_http_heartbeat(struct ab_http *http);

#endif
