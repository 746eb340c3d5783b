/* routes.c - the ingest service's integrations: tokens, mappings, rate
 * buckets and metrics, and the files they are read from. */
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "core/file.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "ingest/ingest_int.h"

#define TOKEN_FILE_MAX ((size_t)1 << 20)
#define TLS_FILE_MAX   ((size_t)1 << 20)

static const double latency_buckets[] = {
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

/* ---- files ---- */

/* \p file against the directory of \p config_path; ab_free() the result. */
static char *resolve(const char *config_path, const char *file)
{
        const char *slash = config_path ? strrchr(config_path, '/') : NULL;
        size_t n;
        char *out;

        if (file[0] == '/' || !slash)
                return ab_strdup(file);
        n   = (size_t)(slash - config_path) + strlen(file) + 2;
        out = ab_malloc(n);
        if (out)
                snprintf(out, n, "%.*s/%s", (int)(slash - config_path),
                         config_path, file);
        return out;
}

static ab_err_t read_file(const char *config_path, const char *file,
                          size_t limit, const char *key, char **data,
                          size_t *len, struct ab_error *err)
{
        char *full = resolve(config_path, file);
        struct ab_error ferr;
        ab_err_t rc;

        if (!full)
                return ab_error_set(err, AB_ERR_NOMEM, key, "out of memory");
        rc = ab_file_read(full, limit, data, len, &ferr);
        if (rc)
                ab_error_set(err, rc == AB_ERR_NOMEM ? rc : AB_ERR_IO, key,
                             "%s", ferr.text);
        ab_free(full);
        return rc ? err->code : AB_OK;
}

static void digest(const char *token, size_t len,
                   unsigned char out[AB_INGEST_DIGEST_LEN])
{
        SHA256((const unsigned char *)token, len, out);
}

static ab_err_t add_digest(struct ingest_route *r, const char *token,
                           size_t len, size_t cap, const char *key,
                           struct ab_error *err)
{
        if (r->ndigests == cap)
                return ab_error_set(err, AB_ERR_CONFIG, key, "too many tokens");
        digest(token, len, r->digests[r->ndigests++]);
        return AB_OK;
}

/* The route's token digests: the tokens list, then the token file. */
static ab_err_t load_tokens(struct ingest_route *r, const char *config_path,
                            const char *key, struct ab_error *err)
{
        const struct ab_ingest_integration *in = r->cfg;
        size_t len = 0, cap = in->ntokens;
        char *text  = NULL;
        ab_err_t rc = AB_OK;

        if (in->token_file) {
                rc = read_file(config_path, in->token_file, TOKEN_FILE_MAX, key,
                               &text, &len, err);
                if (rc)
                        return rc;
                for (size_t i = 0; i < len; i++)
                        cap += text[i] == '\n';
                cap++;
        }
        r->digests = ab_calloc(cap, sizeof(*r->digests));
        if (!r->digests) {
                rc = ab_error_set(err, AB_ERR_NOMEM, key, "out of memory");
                goto out;
        }
        for (size_t i = 0; !rc && i < in->ntokens; i++)
                rc = add_digest(r, in->tokens[i], strlen(in->tokens[i]), cap,
                                key, err);
        for (char *line = text; !rc && line && line < text + len;) {
                char *end  = memchr(line, '\n', (size_t)(text + len - line));
                char *stop = end ? end : text + len;
                char *a = line, *b = stop;

                while (a < b && (*a == ' ' || *a == '\t'))
                        a++;
                while (b > a &&
                       (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
                        b--;
                if (a < b && *a != '#')
                        rc = add_digest(r, a, (size_t)(b - a), cap, key, err);
                line = end ? end + 1 : NULL;
        }
        if (!rc && !r->ndigests)
                rc = ab_error_set(err, AB_ERR_CONFIG, key,
                                  "the token file holds no token");
out:
        if (text) {
                OPENSSL_cleanse(text, len);
                ab_free(text);
        }
        return rc;
}

bool ab_ingest_auth(const struct ingest_route *route, const char *token,
                    size_t len)
{
        unsigned char d[AB_INGEST_DIGEST_LEN];
        int match = 0;

        /* Fixed-size digests compared with CRYPTO_memcmp: the time
         * depends neither on the token's length nor on where it differs,
         * and every token is compared. */
        digest(token, len, d);
        for (size_t i = 0; i < route->ndigests; i++)
                match |= !CRYPTO_memcmp(d, route->digests[i], sizeof(d));
        return len > 0 && match;
}

/*
 * Token bucket: `rate` tokens a second up to `burst`, refilled lazily
 * from the monotonic clock on each take.
 */
bool ab_ingest_rate_take(struct ingest_route *route)
{
        const struct ab_ingest_integration *in = route->cfg;
        double burst = (double)(in->burst ? in->burst : in->rate);
        int64_t now;
        bool ok;

        if (!in->rate)
                return true;
        now = ab_time_mono_ns();
        pthread_mutex_lock(&route->bucket_lock);
        route->tokens +=
            (double)(now - route->refill_ns) * 1e-9 * (double)in->rate;
        if (route->tokens > burst)
                route->tokens = burst;
        route->refill_ns = now;
        ok               = route->tokens >= 1.0;
        if (ok)
                route->tokens -= 1.0;
        pthread_mutex_unlock(&route->bucket_lock);
        return ok;
}

/* ---- routes ---- */

/* The route's series: requests by code, bytes, latency. */
static ab_err_t route_metrics(struct ingest_route *r, const char *name,
                              struct ab_metrics_family **fam,
                              struct ab_error *err)
{
        static const char *const codes[] = {
#define AB__NAME(c) #c,
            AB_INGEST_STATUSES(AB__NAME)
#undef AB__NAME
        };
        const char *one[1] = {name};
        ab_err_t rc        = AB_OK;

        for (size_t i = 0; !rc && i < AB_INGEST_NSTATUS; i++) {
                const char *values[2] = {name, codes[i]};
                rc = ab_metrics_series(fam[0], values, &r->status[i], err);
        }
        if (!rc)
                rc = ab_metrics_series(fam[1], one, &r->bytes, err);
        if (!rc)
                rc = ab_metrics_series(fam[2], one, &r->latency, err);
        return rc;
}

ab_err_t ab_ingest_register_metrics(struct ab_ingest *ing,
                                    struct ab_metrics_family **fam,
                                    struct ab_error *err)
{
        static const char *const by_code[]   = {"integration", "code", NULL};
        static const char *const by_integ[]  = {"integration", NULL};
        const struct ab_metrics_desc descs[] = {
            {AB_METRICS_COUNTER, "ingest_requests_total",
             "Webhook requests answered, by integration (empty: none "
             "matched) and status code.",
             by_code, NULL, 0},
            {AB_METRICS_COUNTER, "ingest_bytes_total",
             "Body bytes written to Kafka, by integration.", by_integ, NULL, 0},
            {AB_METRICS_HISTOGRAM, "ingest_ack_seconds",
             "From a request's receipt to Kafka's acknowledgement of its "
             "record, by integration.",
             by_integ, latency_buckets,
             sizeof(latency_buckets) / sizeof(*latency_buckets)},
        };
        const struct ab_metrics_desc pending = {
            AB_METRICS_GAUGE,
            "ingest_pending_requests",
            "Requests waiting for Kafka's acknowledgement.",
            NULL,
            NULL,
            0};
        ab_err_t rc = AB_OK;

        for (size_t i = 0; !rc && i < 3; i++)
                rc = ab_metrics_register(ing->metrics, &descs[i], &fam[i], err);
        if (!rc)
                rc = ab_metrics_register_one(ing->metrics, &pending,
                                             &ing->pending_gauge, err);
        return rc;
}

/* Tokens, integration and (when \p fam) metrics of every route. */
ab_err_t ab_ingest_setup_routes(struct ab_ingest *ing, const char *config_path,
                                struct ab_metrics_family **fam,
                                struct ab_error *err)
{
        const struct ab_ingest_config *cfg = ing->cfg;
        char key[AB_CONFTAB_PATH_SIZE];
        ab_err_t rc = AB_OK;

        ing->routes = ab_calloc(cfg->nintegrations + 1, sizeof(*ing->routes));
        if (!ing->routes)
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        for (size_t i = 0; !rc && i < cfg->nintegrations; i++) {
                struct ingest_route *r                 = &ing->routes[i];
                const struct ab_ingest_integration *in = &cfg->integrations[i];

                r->cfg = in;
                pthread_mutex_init(&r->bucket_lock, NULL);
                r->tokens    = (double)(in->burst ? in->burst : in->rate);
                r->refill_ns = ab_time_mono_ns();
                ing->nroutes++;
                snprintf(key, sizeof(key), "ingest.integrations[%zu]", i);
                rc = load_tokens(r, config_path, key, err);
                if (!rc && in->integration) {
                        char *full = strchr(in->integration, '/') ||
                                             strstr(in->integration, ".y") ||
                                             strstr(in->integration, ".json")
                                         ? resolve(config_path, in->integration)
                                         : ab_strdup(in->integration);

                        rc = full ? ab_integration_load(full, &r->integ, err)
                                  : AB_ERR_NOMEM;
                        if (rc)
                                ab_error_prefix(err, in->integration);
                        if (rc && !err->path[0])
                                snprintf(err->path, sizeof(err->path),
                                         "%.140s.integration", key);
                        ab_free(full);
                }
                if (!rc && fam)
                        rc = route_metrics(r, in->name, fam, err);
        }
        if (!rc && fam)
                rc = route_metrics(&ing->unrouted, "", fam, err);
        return rc;
}

void ab_ingest_free_routes(struct ab_ingest *ing)
{
        for (size_t i = 0; i < ing->nroutes; i++) {
                struct ingest_route *r = &ing->routes[i];

                if (r->digests)
                        OPENSSL_cleanse(r->digests,
                                        r->ndigests * sizeof(*r->digests));
                ab_free(r->digests);
                ab_integration_destroy(r->integ);
                pthread_mutex_destroy(&r->bucket_lock);
        }
        ab_free(ing->routes);
}

ab_err_t ab_ingest_load_tls(struct ab_ingest *ing, const char *config_path,
                            struct ab_error *err)
{
        size_t len;
        ab_err_t rc;

        if (!ing->cfg->tls_cert_file)
                return AB_OK;
        rc = read_file(config_path, ing->cfg->tls_cert_file, TLS_FILE_MAX,
                       "ingest.tls.cert_file", &ing->tls_cert, &len, err);
        if (!rc)
                rc =
                    read_file(config_path, ing->cfg->tls_key_file, TLS_FILE_MAX,
                              "ingest.tls.key_file", &ing->tls_key, &len, err);
        if (!rc && !MHD_is_feature_supported(MHD_FEATURE_TLS))
                rc = ab_error_set(err, AB_ERR_CONFIG, "ingest.tls",
                                  "this libmicrohttpd has no TLS support");
        return rc;
}
