/* ingest.c - the ingest service's setup, Kafka side and graceful stop. */
#include "ingest/ingest.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "ingest/ingest_int.h"
#include "kafka/kafka_conf.h"
#include "service/http.h"
#include "service/process_metrics.h"

#define COMP "ingest"

#define PROBE_INTERVAL_S 1
#define PROBE_TIMEOUT_MS 1000
/* At shutdown, after the requests waiting for Kafka: how long open
 * connections get to be answered and closed. */
#define ANSWER_GRACE_MS 2000
/* libmicrohttpd's memory per connection (its default is 32 KiB): the
 * request line, the headers and the answer's headers live in it, and the
 * read buffer takes half. The body does not: ab_ingest_handle() copies
 * each chunk out as it arrives, so a 1 MiB body streams through the
 * buffer. The pool is zeroed for every request, so its size is CPU per
 * request. Request headers over about 15 KiB get 431. */
#define CONN_MEMORY (16 * 1024)

/* ---- scratch pool ---- */

struct ingest_scratch *ab_ingest_scratch_get(struct ab_ingest *ing)
{
        struct ingest_scratch *s;

        pthread_mutex_lock(&ing->scratch_lock);
        s = ing->scratch;
        if (s)
                ing->scratch = s->next;
        pthread_mutex_unlock(&ing->scratch_lock);
        if (s)
                return s;
        s = ab_calloc(1, sizeof(*s));
        if (!s)
                return NULL;
        ab_json_doc_init(&s->doc);
        s->tf = ab_transform_new();
        if (!s->tf) {
                ab_json_doc_fini(&s->doc);
                ab_free(s);
                return NULL;
        }
        return s;
}

void ab_ingest_scratch_put(struct ab_ingest *ing, struct ingest_scratch *s)
{
        if (!s)
                return;
        pthread_mutex_lock(&ing->scratch_lock);
        s->next      = ing->scratch;
        ing->scratch = s;
        pthread_mutex_unlock(&ing->scratch_lock);
}

static void free_ingest(struct ab_ingest *ing)
{
        struct ingest_scratch *s;

        if (!ing)
                return;
        ab_ingest_free_routes(ing);
        while ((s = ing->scratch)) {
                ing->scratch = s->next;
                ab_json_doc_fini(&s->doc);
                ab_transform_destroy(s->tf);
                ab_free(s);
        }
        if (ing->tls_key)
                OPENSSL_cleanse(ing->tls_key, strlen(ing->tls_key));
        ab_free(ing->tls_key);
        ab_free(ing->tls_cert);
        ab_metrics_destroy(ing->metrics);
        pthread_mutex_destroy(&ing->scratch_lock);
        pthread_mutex_destroy(&ing->stop_lock);
        pthread_cond_destroy(&ing->stop_cond);
        ab_free(ing);
}

static struct ab_ingest *alloc_ingest(const struct ab_ingest_config *cfg)
{
        struct ab_ingest *ing = ab_calloc(1, sizeof(*ing));

        if (!ing)
                return NULL;
        ing->cfg       = cfg;
        ing->listen_fd = MHD_INVALID_SOCKET;
        pthread_mutex_init(&ing->scratch_lock, NULL);
        pthread_mutex_init(&ing->stop_lock, NULL);
        pthread_cond_init(&ing->stop_cond, NULL);
        atomic_init(&ing->kafka_up, false);
        atomic_init(&ing->draining, false);
        atomic_init(&ing->closed, false);
        atomic_init(&ing->pending, 0);
        atomic_init(&ing->id_next, 1);
        snprintf(ing->retry_after, sizeof(ing->retry_after), "%lld",
                 (long long)(cfg->retry_after_s / 1000));
        return ing;
}

ab_err_t ab_ingest_check(const struct ab_ingest_config *cfg,
                         const char *config_path, struct ab_error *err)
{
        struct ab_ingest *ing = alloc_ingest(cfg);
        ab_err_t rc;

        if (!ing)
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        rc = ab_ingest_config_check(cfg, err);
        if (!rc)
                rc = ab_ingest_setup_routes(ing, config_path, NULL, err);
        if (!rc)
                rc = ab_ingest_load_tls(ing, config_path, err);
        free_ingest(ing);
        return rc;
}

/* ---- Kafka ---- */

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
                        void *opaque)
{
        struct ingest_request *rq = m->_private;
        struct ab_ingest *ing     = opaque;

        (void)rk;
        if (atomic_load(&ing->closed))
                return; /* only after a failed purge: nothing to answer */
        atomic_store(&rq->result, (int)m->err);
        if (!m->err)
                atomic_store(&ing->kafka_up, true);
        MHD_resume_connection(rq->conn);
}

static void on_error(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
        struct ab_ingest *ing = opaque;
        char quoted[300];

        (void)rk;
        if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
                atomic_store(&ing->kafka_up, false);
        AB_WARN(COMP, "kafka error", "error=%s reason=%s",
                rd_kafka_err2name((rd_kafka_resp_err_t)code),
                ab_log_quote(reason, quoted, sizeof(quoted)));
}

/* Waits up to \p ms for ab_ingest_stop(). @returns true when stopping. */
static bool wait_stop(struct ab_ingest *ing, int64_t ms)
{
        struct timespec ts;
        bool stop;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += (time_t)(ms / 1000);
        ts.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&ing->stop_lock);
        if (!ing->stopping)
                pthread_cond_timedwait(&ing->stop_cond, &ing->stop_lock, &ts);
        stop = ing->stopping;
        pthread_mutex_unlock(&ing->stop_lock);
        return stop;
}

static bool stopping(struct ab_ingest *ing)
{
        bool stop;

        pthread_mutex_lock(&ing->stop_lock);
        stop = ing->stopping;
        pthread_mutex_unlock(&ing->stop_lock);
        return stop;
}

/* Serves delivery reports until the stop. */
static void *poller_main(void *arg)
{
        struct ab_ingest *ing = arg;

        while (!stopping(ing))
                rd_kafka_poll(ing->rk, 100);
        return NULL;
}

/* Readiness: a metadata request answered by a broker, every second. */
static bool probe(struct ab_ingest *ing)
{
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t rc =
            rd_kafka_metadata(ing->rk, 0, NULL, &md, PROBE_TIMEOUT_MS);
        bool up = !rc && md && md->broker_cnt > 0;

        if (md)
                rd_kafka_metadata_destroy(md);
        return up;
}

static void *prober_main(void *arg)
{
        struct ab_ingest *ing = arg;

        do {
                bool up  = probe(ing);
                bool was = atomic_exchange(&ing->kafka_up, up);

                if (up != was)
                        AB_INFO(COMP,
                                up ? "kafka reachable: ready"
                                   : "kafka unreachable: answering 503",
                                "ready=%s", up ? "true" : "false");
        } while (!wait_stop(ing, PROBE_INTERVAL_S * 1000));
        return NULL;
}

static ab_err_t start_producer(struct ab_ingest *ing,
                               const struct ab_kafka_config *kafka,
                               struct ab_error *err)
{
        static const char *const locked[] = {"enable.idempotence", "true",
                                             "acks", "all", NULL};
        char timeout[24];
        /* clang-format off */
        const char *defaults[] = {
                "bootstrap.servers",    kafka->brokers,
                "client.id",            "alertbridge-ingest",
                "enable.idempotence",   "true",
                "acks",                 "all",
                "message.timeout.ms",   timeout,
                "linger.ms",            "2",
                "log.connection.close", "false",
                NULL,
        };
        /* clang-format on */
        const char **props = NULL;
        rd_kafka_conf_t *conf;
        char errstr[512];
        ab_err_t rc;

        snprintf(timeout, sizeof(timeout), "%lld",
                 (long long)ing->cfg->delivery_timeout_ms);
        conf  = ab_kafka_conf_new();
        props = ab_kafka_client_props(kafka, AB_KAFKA_PRODUCER, defaults, NULL,
                                      NULL);
        if (!conf || !props) {
                rc = ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
                goto out;
        }
        rc = ab_kafka_conf_apply(conf, props, locked, err);
        if (rc)
                goto out;
        rd_kafka_conf_set_opaque(conf, ing);
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        rd_kafka_conf_set_error_cb(conf, on_error);
        ing->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!ing->rk) {
                rc = ab_error_set(err, AB_ERR_KAFKA, NULL,
                                  "creating the producer: %s", errstr);
                goto out;
        }
        conf = NULL;
        atomic_store(&ing->kafka_up, probe(ing));
out:
        if (conf)
                rd_kafka_conf_destroy(conf);
        ab_free(props);
        return rc;
}

/* ---- HTTP ---- */

__attribute__((format(printf, 2, 0))) static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
        char msg[512];
        size_t n;

        (void)cls;
        vsnprintf(msg, sizeof(msg), fmt, ap);
        n = strlen(msg);
        while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
                msg[--n] = '\0';
        AB_WARN(COMP, msg, "lib=%s", "libmicrohttpd");
}

static ab_err_t start_daemon(struct ab_ingest *ing, struct ab_error *err)
{
        const struct ab_ingest_config *cfg = ing->cfg;
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
                         MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
        struct MHD_OptionItem ops[16];
        const union MHD_DaemonInfo *info;
        struct sockaddr_storage addr;
        socklen_t addrlen;
        size_t n = 0;
        ab_err_t rc;

        rc = ab_http_parse_listen(cfg->listen, &addr, &addrlen, err);
        if (rc)
                return rc;
        if (addr.ss_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        if (ing->tls_cert)
                flags |= MHD_USE_TLS;
#define OPT(o, v, p) ops[n++] = (struct MHD_OptionItem){(o), (intptr_t)(v), (p)}
        OPT(MHD_OPTION_EXTERNAL_LOGGER, mhd_log, ing);
        OPT(MHD_OPTION_SOCK_ADDR, 0, &addr);
        OPT(MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections, NULL);
        OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY, NULL);
        OPT(MHD_OPTION_CONNECTION_TIMEOUT, cfg->request_timeout_ms / 1000,
            NULL);
        OPT(MHD_OPTION_NOTIFY_COMPLETED, ab_ingest_completed, ing);
        if (cfg->max_client_connections)
                OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                    cfg->max_client_connections, NULL);
        if (cfg->threads > 1)
                OPT(MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, NULL);
        if (ing->tls_cert) {
                OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, ing->tls_cert);
                OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, ing->tls_key);
        }
        OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
        ing->daemon =
            MHD_start_daemon(flags, 0, NULL, NULL, ab_ingest_handle, ing,
                             MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
        if (!ing->daemon)
                return ab_error_set(err, AB_ERR_HTTP, "ingest.listen",
                                    "cannot serve %s (see the log above)",
                                    cfg->listen);
        info      = MHD_get_daemon_info(ing->daemon, MHD_DAEMON_INFO_BIND_PORT);
        ing->port = info ? info->port : 0;
        return AB_OK;
}

ab_err_t ab_ingest_start(const struct ab_ingest_config *cfg,
                         const struct ab_kafka_config *kafka,
                         const char *config_path, unsigned flags,
                         struct ab_ingest **out, struct ab_error *err)
{
        struct ab_metrics_family *fam[3];
        struct ab_ingest *ing = alloc_ingest(cfg);
        uint32_t prefix       = 0;
        ab_err_t rc;

        *out = NULL;
        if (!ing)
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        if (getrandom(&prefix, sizeof(prefix), 0) != sizeof(prefix))
                prefix = (uint32_t)ab_time_now_ms() ^ (uint32_t)getpid();
        ing->id_prefix = prefix;
        ing->metrics   = ab_metrics_new();
        rc             = ing->metrics
                             ? ab_ingest_config_check(cfg, err)
                             : ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        if (!rc)
                rc = ab_ingest_register_metrics(ing, fam, err);
        if (!rc && (flags & AB_INGEST_PROCESS_METRICS))
                rc = ab_process_metrics_register(ing->metrics, err);
        if (!rc)
                rc = ab_ingest_setup_routes(ing, config_path, fam, err);
        if (!rc)
                rc = ab_ingest_load_tls(ing, config_path, err);
        if (!rc)
                rc = start_producer(ing, kafka, err);
        if (rc)
                goto fail;
        if (pthread_create(&ing->poller, NULL, poller_main, ing)) {
                rc = ab_error_set(err, AB_ERR_INTERNAL, NULL,
                                  "cannot start the delivery thread");
                goto fail;
        }
        if (pthread_create(&ing->prober, NULL, prober_main, ing)) {
                ing->stopping = true;
                pthread_join(ing->poller, NULL);
                rc = ab_error_set(err, AB_ERR_INTERNAL, NULL,
                                  "cannot start the probe thread");
                goto fail;
        }
        ing->threads_started = true;
        rc                   = start_daemon(ing, err);
        if (rc)
                goto fail;
        AB_INFO(COMP, "serving webhooks",
                "listen=%s port=%u tls=%s integrations=%zu kafka_up=%s",
                cfg->listen, (unsigned)ing->port,
                ing->tls_cert ? "true" : "false", ing->nroutes,
                atomic_load(&ing->kafka_up) ? "true" : "false");
        *out = ing;
        return AB_OK;
fail:
        ab_ingest_stop(ing);
        return rc;
}

uint16_t ab_ingest_port(const struct ab_ingest *ing)
{
        return ing->port;
}

/* Waits until no request waits for Kafka or \p ms passed. */
static bool wait_pending(struct ab_ingest *ing, int64_t ms)
{
        int64_t deadline = ab_time_mono_ms() + ms;

        while (atomic_load(&ing->pending) > 0) {
                if (ab_time_mono_ms() >= deadline)
                        return false;
                usleep(5000);
        }
        return true;
}

/* Waits until no connection is open or \p ms passed: requests that were
 * being read when the drain began get their 503 and close. */
static void wait_idle(struct ab_ingest *ing, int64_t ms)
{
        int64_t deadline = ab_time_mono_ms() + ms;
        const union MHD_DaemonInfo *info;

        while (ab_time_mono_ms() < deadline) {
                info = MHD_get_daemon_info(ing->daemon,
                                           MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
                if (!info || info->num_connections == 0)
                        return;
                usleep(5000);
        }
}

/*
 * HOW IT WORKS: the order matters. `draining` is set before `pending` is
 * read, and a request is counted in `pending` before it reads `draining`
 * (both sequentially consistent), so a request either sees the drain and
 * answers 503 at once, or is waited for here. Quiescing stops accepting;
 * the wait lets delivery reports answer; a purge fails what is left,
 * whose reports resume their connections with 503s, so no connection is
 * still suspended when the daemon stops (libmicrohttpd requires it).
 * Connections still open (a request being read, an idle keep-alive) get
 * a short grace to finish and close before the daemon closes them.
 */
void ab_ingest_stop(struct ab_ingest *ing)
{
        long left;

        if (!ing)
                return;
        atomic_store(&ing->draining, true);
        if (ing->daemon)
                ing->listen_fd = MHD_quiesce_daemon(ing->daemon);
        if (ing->rk && !wait_pending(ing, ing->cfg->shutdown_timeout_ms)) {
                left = atomic_load(&ing->pending);
                AB_WARN(COMP,
                        "shutdown timeout: failing the requests still "
                        "waiting for kafka with 503",
                        "requests=%ld", left);
                rd_kafka_purge(ing->rk, RD_KAFKA_PURGE_F_QUEUE |
                                            RD_KAFKA_PURGE_F_INFLIGHT);
                wait_pending(ing, ANSWER_GRACE_MS);
        }
        if (ing->daemon) {
                wait_idle(ing, ANSWER_GRACE_MS);
                MHD_stop_daemon(ing->daemon);
        }
        atomic_store(&ing->closed, true);
        if (ing->listen_fd != MHD_INVALID_SOCKET)
                close(ing->listen_fd);
        pthread_mutex_lock(&ing->stop_lock);
        ing->stopping = true;
        pthread_cond_broadcast(&ing->stop_cond);
        pthread_mutex_unlock(&ing->stop_lock);
        if (ing->threads_started) {
                pthread_join(ing->prober, NULL);
                pthread_join(ing->poller, NULL);
        }
        if (ing->rk) {
                rd_kafka_flush(ing->rk, 0);
                rd_kafka_destroy(ing->rk);
        }
        if (ing->daemon)
                AB_INFO(COMP, "stopped", "port=%u", (unsigned)ing->port);
        free_ingest(ing);
}
