/* ingest_int.h - what ingest.c (setup, Kafka) and handler.c (HTTP) share. */
#ifndef AB_INGEST_INT_H
#define AB_INGEST_INT_H

#include <librdkafka/rdkafka.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "core/json.h"
#include "ingest/ingest.h"
#include "service/metrics.h"
#include "transform/integration.h"
#include "transform/transform.h"

#define AB_INGEST_DIGEST_LEN 32 /* SHA-256 */
#define AB_INGEST_ID_LEN     24 /* a request id's hex digits */

/* The answers counted per integration, in this order. */
#define AB_INGEST_STATUSES(XX)                                                 \
        XX(200) XX(400) XX(401) XX(404) XX(405) XX(413) XX(415) XX(429) XX(503)
enum {
#define AB__ST(c) AB_INGEST_ST_##c,
        AB_INGEST_STATUSES(AB__ST)
#undef AB__ST
            AB_INGEST_NSTATUS
};

/* One integration's endpoint: read-only after start but its bucket. */
struct ingest_route {
        const struct ab_ingest_integration *cfg;
        struct ab_integration *integ; /* NULL: none configured */
        unsigned char (*digests)[AB_INGEST_DIGEST_LEN];
        size_t ndigests;
        pthread_mutex_t bucket_lock; /* guards tokens and refill_ns */
        double tokens;
        int64_t refill_ns;
        struct ab_metric *status[AB_INGEST_NSTATUS];
        struct ab_metric *bytes;
        struct ab_metric *latency;
};

/* Per-thread working memory for body checks, pooled (see scratch_get). */
struct ingest_scratch {
        struct ab_json_doc doc;
        struct ab_transform *tf;
        struct ingest_scratch *next;
};

struct ab_ingest {
        const struct ab_ingest_config *cfg;
        struct ingest_route *routes;
        size_t nroutes;
        struct ingest_route unrouted; /* metrics of 404s (no integration) */
        rd_kafka_t *rk;
        struct MHD_Daemon *daemon;
        MHD_socket listen_fd; /* after quiesce: closed after the daemon */
        uint16_t port;
        struct ab_metrics *metrics;
        struct ab_metric *pending_gauge;
        char *tls_cert; /* PEM contents */
        char *tls_key;
        char retry_after[24];
        /* Kafka side: the poller serves delivery reports, the prober
         * keeps kafka_up (readiness) current. */
        pthread_t poller, prober;
        bool threads_started;
        pthread_mutex_t stop_lock;
        pthread_cond_t stop_cond;
        bool stopping; /* guarded by stop_lock */
        atomic_bool kafka_up;
        atomic_bool draining;
        atomic_bool closed;  /* the daemon is stopped: no connection left */
        atomic_long pending; /* requests produced, answer not yet done */
        /* Request ids: a random prefix per process and a counter. */
        uint32_t id_prefix;
        atomic_uint_fast64_t id_next;
        pthread_mutex_t scratch_lock;
        struct ingest_scratch *scratch;
};

/* One request with a body, from its headers to its completion. */
struct ingest_request {
        struct ab_ingest *ing;
        struct ingest_route *route;
        struct MHD_Connection *conn;
        int64_t start_ns;
        char *body;
        size_t len, cap;
        bool too_large;
        bool produced;     /* counted in ing->pending */
        bool waiting;      /* suspended until the delivery report */
        atomic_int result; /* rd_kafka_resp_err_t of the report */
        char id[AB_INGEST_ID_LEN + 1];
};

/** The access handler and completion callback given to libmicrohttpd. */
enum MHD_Result ab_ingest_handle(void *cls, struct MHD_Connection *conn,
                                 const char *url, const char *method,
                                 const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **req_cls);
void ab_ingest_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe);

/** Queue \p rq's body (suspending its connection first). Returns false
 *  with \p *status set when the answer is already known (503). */
bool ab_ingest_produce(struct ab_ingest *ing, struct ingest_request *rq,
                       const char *content_type, unsigned *status);

/** @returns true when one of \p route's tokens equals \p token (the same
 *  work for every token of any length). */
bool ab_ingest_auth(const struct ingest_route *route, const char *token,
                    size_t len);

/** Take one request from \p route's bucket. @returns false when empty. */
bool ab_ingest_rate_take(struct ingest_route *route);

/* routes.c: the integrations' setup (\p fam NULL: no metrics, for
 * ab_ingest_check()), and the TLS files. */
ab_err_t ab_ingest_register_metrics(struct ab_ingest *ing,
                                    struct ab_metrics_family **fam,
                                    struct ab_error *err);
ab_err_t ab_ingest_setup_routes(struct ab_ingest *ing, const char *config_path,
                                struct ab_metrics_family **fam,
                                struct ab_error *err);
void ab_ingest_free_routes(struct ab_ingest *ing);
ab_err_t ab_ingest_load_tls(struct ab_ingest *ing, const char *config_path,
                            struct ab_error *err);

/** Borrow working memory for body checks; give it back with put. */
struct ingest_scratch *ab_ingest_scratch_get(struct ab_ingest *ing);
void ab_ingest_scratch_put(struct ab_ingest *ing, struct ingest_scratch *s);

#endif
