/* ingest_config.c - the `ingest:` section's descriptor table and file loader.
 */
#include "ingest/ingest_config.h"

#include <stdio.h>
#include <string.h>

#include "core/conf.h"
#include "core/mem.h"
#include "service/http.h"

#define NELEM(a) (sizeof(a) / sizeof(*(a)))

static const char *const format_names[]    = {"json", "form", "any", NULL};
static const char *const log_level_names[] = {"error", "warn", "info", "debug",
                                              NULL};

#define INT(f) offsetof(struct ab_ingest_integration, f)

static const struct ab_conftab_prop integration_props[] = {
    {.key    = "name",
     .type   = AB_CONFTAB_STRING,
     .offset = INT(name),
     .min    = 1,
     .max    = 64,
     .flags  = AB_CONFTAB_REQUIRED,
     .desc   = "The integration's URL segment: `POST "
               "/api/v1/integrations/<name>/<token>`. Letters, digits, `-`, "
               "`_` and `.`."},
    {.key    = "topic",
     .type   = AB_CONFTAB_STRING,
     .offset = INT(topic),
     .min    = 1,
     .max    = 249,
     .flags  = AB_CONFTAB_REQUIRED,
     .desc   = "Raw topic that receives each accepted body unchanged "
               "(an input topic of the pipeline)."},
    {.key          = "tokens",
     .type         = AB_CONFTAB_LIST,
     .offset       = INT(tokens),
     .count_offset = INT(ntokens),
     .desc         = "Accepted tokens, several for rotation; write them as "
                     "`${ENV}` references. A request carries one in the URL "
                     "or as `Authorization: Bearer <token>`."},
    {.key    = "token_file",
     .type   = AB_CONFTAB_STRING,
     .offset = INT(token_file),
     .min    = 1,
     .desc   = "File with more tokens, one a line (blank lines and `#` "
               "comments ignored), relative to the config file; read at "
               "start."},
    {.key    = "integration",
     .type   = AB_CONFTAB_STRING,
     .offset = INT(integration),
     .min    = 1,
     .desc   = "The mapping of these payloads: a built-in name or a file. "
               "Its `name:` goes into the `alertbridge-integration` header "
               "the pipeline binds records with. Unset: no header."},
    {.key    = "format",
     .type   = AB_CONFTAB_ENUM,
     .offset = INT(format),
     .def    = "json",
     .names  = format_names,
     .desc   = "What requests carry: `json` (Content-Type "
               "`application/json` or none, a JSON text), `form` "
               "(`application/x-www-form-urlencoded` or none, valid form "
               "encoding) or `any`. Other content types get 415, other "
               "bodies 400."},
    {.key    = "validate",
     .type   = AB_CONFTAB_BOOL,
     .offset = INT(validate),
     .def    = "false",
     .desc   = "Map each body with `integration` before writing it; a "
               "rejected body gets 400 with "
               "`{\"code\": 601, \"message\": \"...\"}` and is not "
               "written."},
    {.key    = "rate_limit.rate",
     .type   = AB_CONFTAB_INT,
     .offset = INT(rate),
     .def    = "0",
     .min    = 0,
     .desc   = "Requests per second (token bucket); above it 429 with "
               "`Retry-After`. 0: no limit. Alertmanager does not retry a "
               "429: size it above the sender's bursts."},
    {.key    = "rate_limit.burst",
     .type   = AB_CONFTAB_INT,
     .offset = INT(burst),
     .def    = "0",
     .min    = 0,
     .desc   = "Bucket size: requests allowed at once. 0: `rate`."},
};

static const struct ab_conftab integration_table = {
    integration_props, NELEM(integration_props),
    sizeof(struct ab_ingest_integration)};

#define ING(f) offsetof(struct ab_ingest_config, f)

static const struct ab_conftab_prop ingest_props[] = {
    {.key    = "listen",
     .type   = AB_CONFTAB_STRING,
     .offset = ING(listen),
     .def    = "0.0.0.0:8080",
     .check  = ab_http_check_listen,
     .desc   = "Address of the webhook server (which also answers "
               "`/metrics`, `/healthz` and `/readyz`), started when "
               "`integrations` lists any. An empty string: no server."},
    {.key    = "tls.cert_file",
     .type   = AB_CONFTAB_STRING,
     .offset = ING(tls_cert_file),
     .min    = 1,
     .desc   = "PEM certificate (chain) file: serve HTTPS. Relative to the "
               "config file."},
    {.key    = "tls.key_file",
     .type   = AB_CONFTAB_STRING,
     .offset = ING(tls_key_file),
     .min    = 1,
     .desc   = "PEM private key of `tls.cert_file` (unencrypted)."},
    {.key    = "max_body",
     .type   = AB_CONFTAB_SIZE,
     .offset = ING(max_body),
     .def    = "1MiB",
     .min    = 1,
     .max    = 64 << 20,
     .desc   = "Largest request body; larger ones get 413. Keep it at or "
               "below the producer's `message.max.bytes`."},
    {.key    = "max_connections",
     .type   = AB_CONFTAB_INT,
     .offset = ING(max_connections),
     .def    = "1000",
     .min    = 1,
     .max    = 60000,
     .desc   = "Open connections at most; beyond it new ones wait, "
               "unread, in the listen backlog until one closes."},
    {.key    = "max_client_connections",
     .type   = AB_CONFTAB_INT,
     .offset = ING(max_client_connections),
     .def    = "0",
     .min    = 0,
     .desc   = "Open connections per client address. 0: no limit (a load "
               "balancer is one address)."},
    {.key    = "request_timeout",
     .type   = AB_CONFTAB_DURATION,
     .offset = ING(request_timeout_ms),
     .def    = "10s",
     .min    = 1000,
     .max    = 3600000,
     .desc   = "A connection silent this long (a slow client, an idle "
               "keep-alive) is closed. Whole seconds."},
    {.key    = "threads",
     .type   = AB_CONFTAB_INT,
     .offset = ING(threads),
     .def    = "2",
     .min    = 1,
     .max    = 64,
     .desc   = "HTTP worker threads (one epoll loop each)."},
    {.key    = "delivery_timeout",
     .type   = AB_CONFTAB_DURATION,
     .offset = ING(delivery_timeout_ms),
     .def    = "5s",
     .min    = 100,
     .max    = 300000,
     .desc   = "Longest wait for Kafka's acknowledgement of a body "
               "(librdkafka `message.timeout.ms`); past it the request "
               "gets 503. CloudMonitor gives up after 5 s."},
    {.key    = "retry_after",
     .type   = AB_CONFTAB_DURATION,
     .offset = ING(retry_after_s),
     .def    = "5s",
     .min    = 1000,
     .max    = 3600000,
     .desc   = "`Retry-After` of a 503 or 429 answer. Whole seconds."},
    {.key    = "shutdown_timeout",
     .type   = AB_CONFTAB_DURATION,
     .offset = ING(shutdown_timeout_ms),
     .def    = "10s",
     .min    = 0,
     .desc   = "On SIGTERM, how long requests waiting for Kafka may take; "
               "the rest get 503."},
    {.key          = "integrations",
     .type         = AB_CONFTAB_OBJECTS,
     .offset       = ING(integrations),
     .count_offset = ING(nintegrations),
     .sub          = &integration_table,
     .desc         = "The webhook endpoints, one per source."},
};

const struct ab_conftab ab_ingest_conftab = {ingest_props, NELEM(ingest_props),
                                             sizeof(struct ab_ingest_config)};

#define FILE_(f) offsetof(struct ab_ingest_file, f)

static const char *const kafka_defaults[] = {"group", "alertbridge-ingest",
                                             NULL};

static const struct ab_conftab_prop file_props[] = {
    {.key      = "kafka",
     .type     = AB_CONFTAB_TABLE,
     .offset   = FILE_(kafka),
     .sub      = &ab_kafka_conftab,
     .defaults = kafka_defaults},
    {.key    = "ingest",
     .type   = AB_CONFTAB_TABLE,
     .offset = FILE_(ingest),
     .sub    = &ab_ingest_conftab},
    {.key    = "log_level",
     .type   = AB_CONFTAB_ENUM,
     .offset = FILE_(log_level),
     .def    = "info",
     .names  = log_level_names,
     .desc   = "Log threshold."},
};

static const struct ab_conftab file_table = {file_props, NELEM(file_props),
                                             sizeof(struct ab_ingest_file)};

static bool valid_name(const char *s)
{
        for (; *s; s++) {
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
                      *s == '.'))
                        return false;
        }
        return true;
}

ab_err_t ab_ingest_config_check(const struct ab_ingest_config *cfg,
                                struct ab_error *err)
{
        char path[AB_CONFTAB_PATH_SIZE];

        if (!cfg->tls_cert_file != !cfg->tls_key_file)
                return ab_error_set(err, AB_ERR_CONFIG, "ingest.tls",
                                    "set both cert_file and key_file");
        for (size_t i = 0; i < cfg->nintegrations; i++) {
                const struct ab_ingest_integration *in = &cfg->integrations[i];

                snprintf(path, sizeof(path), "ingest.integrations[%zu]", i);
                if (!valid_name(in->name))
                        return ab_error_set(err, AB_ERR_CONFIG, path,
                                            "name \"%s\": use letters, "
                                            "digits, '-', '_' and '.'",
                                            in->name);
                for (size_t j = 0; j < i; j++)
                        if (!strcmp(cfg->integrations[j].name, in->name))
                                return ab_error_set(err, AB_ERR_CONFIG, path,
                                                    "name \"%s\" is used "
                                                    "twice",
                                                    in->name);
                if (!in->ntokens && !in->token_file)
                        return ab_error_set(err, AB_ERR_CONFIG, path,
                                            "give tokens or a token_file");
                for (size_t t = 0; t < in->ntokens; t++)
                        if (!in->tokens[t][0])
                                return ab_error_set(err, AB_ERR_CONFIG, path,
                                                    "tokens[%zu] is empty", t);
                if (in->validate && !in->integration)
                        return ab_error_set(err, AB_ERR_CONFIG, path,
                                            "validate: true needs an "
                                            "integration");
                if (in->validate && in->format == AB_INGEST_FORMAT_ANY)
                        return ab_error_set(err, AB_ERR_CONFIG, path,
                                            "validate: true needs format "
                                            "json or form");
                if (in->burst && !in->rate)
                        return ab_error_set(err, AB_ERR_CONFIG, path,
                                            "rate_limit.burst needs "
                                            "rate_limit.rate");
        }
        return AB_OK;
}

ab_err_t ab_ingest_file_load(const char *path, struct ab_ingest_file *f,
                             struct ab_error *err)
{
        json_t *root;
        ab_err_t rc;

        memset(f, 0, sizeof(*f));
        f->path = ab_strdup(path);
        if (!f->path)
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        root = ab_conf_load_file(path, err);
        if (!root)
                return err->code ? err->code : AB_ERR_CONFIG;
        rc = ab_conftab_load(&file_table, root, f, NULL, NULL, err);
        json_decref(root);
        if (!rc)
                rc = ab_ingest_config_check(&f->ingest, err);
        if (!rc && !f->ingest.listen)
                rc = ab_error_set(err, AB_ERR_CONFIG, "ingest.listen",
                                  "the ingest service needs an address");
        if (!rc && !f->ingest.nintegrations)
                rc = ab_error_set(err, AB_ERR_CONFIG, "ingest.integrations",
                                  "list at least one integration");
        return rc;
}

void ab_ingest_file_free(struct ab_ingest_file *f)
{
        if (!f)
                return;
        ab_conftab_free(&file_table, f);
        ab_free(f->path);
        f->path = NULL;
}

ab_err_t ab_ingest_file_reference(struct ab_buf *out)
{
        return ab_conftab_reference(&file_table, out);
}
