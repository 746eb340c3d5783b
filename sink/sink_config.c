/* sink_config.c - the sink's configuration, driven by one descriptor table. */
#include "sink/sink_config.h"

#include <string.h>

#include "core/conf.h"
#include "core/mem.h"
#include "service/conftab.h"
#include "service/http.h"

#define NELEM(a) (sizeof(a) / sizeof(*(a)))

static const char *const on_permanent_names[] = {"stop", "dlq", NULL};
static const char *const log_level_names[]  = {"error", "warn", "info", "debug",
                                               NULL};
static const char *const log_format_names[] = {"logfmt", "json", NULL};
static const char *const severity_names[]   = {"P1", "P2", "P3", "P4", NULL};
static const char *const kafka_defaults[] = {"group", "alertbridge-sink", NULL};

#define CFG(f) offsetof(struct ab_sink_config, f)

static const struct ab_conftab_prop props[] = {
    {.key      = "kafka",
     .type     = AB_CONFTAB_TABLE,
     .offset   = CFG(kafka),
     .sub      = &ab_kafka_conftab,
     .defaults = kafka_defaults},
    {.key          = "kafka.topics",
     .type         = AB_CONFTAB_LIST,
     .offset       = CFG(input.topics),
     .count_offset = CFG(input.ntopics),
     .min          = 1,
     .flags        = AB_CONFTAB_REQUIRED,
     .desc         = "Output topics of the pipeline to publish (exact names, "
                     "or a regex starting with `^`)."},
    {.key    = "kafka.poll_timeout",
     .type   = AB_CONFTAB_DURATION,
     .offset = CFG(input.poll_timeout_ms),
     .def    = "100ms",
     .min    = 1,
     .max    = 10000,
     .desc   = "Longest wait for a record while nothing is in flight."},
    {.key    = "kafka.offset_window",
     .type   = AB_CONFTAB_INT,
     .offset = CFG(input.offset_window),
     .def    = "65536",
     .min    = 1,
     .max    = 1 << 24,
     .desc   = "Unfinished records one partition may hold before "
               "consumption pauses."},
    {.key    = "dead_letter_topic",
     .type   = AB_CONFTAB_STRING,
     .offset = CFG(dead_letter_topic),
     .min    = 1,
     .flags  = AB_CONFTAB_REQUIRED,
     .desc   = "The sink's dead-letter topic: events EventBridge can never "
               "take (invalid, over the size limits) and, with "
               "`on_permanent: dlq`, permanently rejected ones, with "
               "`alertbridge.error.*` and `alertbridge.source.*` headers."},
    {.key    = "eventbridge.endpoint",
     .type   = AB_CONFTAB_STRING,
     .offset = CFG(eventbridge.endpoint),
     .min    = 1,
     .flags  = AB_CONFTAB_REQUIRED,
     .desc   = "`https://<account>.eventbridge.<region>.aliyuncs.com`, or "
               "the VPC form `http://<account>.eventbridge.<region>-vpc."
               "aliyuncs.com`; a bare host means https."},
    {.key    = "eventbridge.region",
     .type   = AB_CONFTAB_STRING,
     .offset = CFG(eventbridge.region),
     .min    = 1,
     .desc   = "Region id, sent as `x-eventbridge-regionId` like the SDK "
               "does when one is configured."},
    {.key    = "eventbridge.bus",
     .type   = AB_CONFTAB_STRING,
     .offset = CFG(eventbridge.bus),
     .min    = 1,
     .flags  = AB_CONFTAB_REQUIRED,
     .desc   = "Event bus name, set as each event's `aliyuneventbusname`."},
    {.key    = "eventbridge.source",
     .type   = AB_CONFTAB_STRING,
     .offset = CFG(eventbridge.source),
     .min    = 1,
     .max    = 128,
     .check  = ab_conftab_check_uri_reference,
     .desc   = "Event source name: replaces each event's `source`; a "
               "URI-reference (RFC 3986) like `output.source`. Unset: "
               "events keep the pipeline's `output.source`."},
    {.key    = "eventbridge.access_key_id_env",
     .type   = AB_CONFTAB_STRING,
     .offset = CFG(eventbridge.access_key_id_env),
     .def    = "ALIBABA_CLOUD_ACCESS_KEY_ID",
     .min    = 1,
     .desc   = "Environment variable holding the AccessKey ID."},
    {.key    = "eventbridge.access_key_secret_env",
     .type   = AB_CONFTAB_STRING,
     .offset = CFG(eventbridge.access_key_secret_env),
     .def    = "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
     .min    = 1,
     .desc   = "Environment variable holding the AccessKey secret."},
    {.key    = "eventbridge.security_token_env",
     .type   = AB_CONFTAB_STRING,
     .offset = CFG(eventbridge.security_token_env),
     .def    = "ALIBABA_CLOUD_SECURITY_TOKEN",
     .min    = 1,
     .desc   = "Environment variable holding an optional STS token."},
    {.key    = "eventbridge.credentials_file",
     .type   = AB_CONFTAB_STRING,
     .offset = CFG(eventbridge.credentials_file),
     .min    = 1,
     .desc   = "YAML or JSON file with `access_key_id`, `access_key_secret` "
               "and optionally `security_token`; when set it is used "
               "instead of the environment."},
    {.key    = "eventbridge.ca_file",
     .type   = AB_CONFTAB_STRING,
     .offset = CFG(eventbridge.ca_file),
     .min    = 1,
     .desc   = "CA bundle for https. Unset: the system store."},
    {.key    = "eventbridge.max_in_flight",
     .type   = AB_CONFTAB_INT,
     .offset = CFG(eventbridge.max_in_flight),
     .def    = "4",
     .min    = 1,
     .max    = 64,
     .desc   = "PutEvents requests in flight at once (kept-alive "
               "connections)."},
    {.key    = "eventbridge.connect_timeout",
     .type   = AB_CONFTAB_DURATION,
     .offset = CFG(eventbridge.connect_timeout_ms),
     .def    = "5s",
     .min    = 1,
     .desc   = "Connection timeout; a timeout is retried."},
    {.key    = "eventbridge.request_timeout",
     .type   = AB_CONFTAB_DURATION,
     .offset = CFG(eventbridge.request_timeout_ms),
     .def    = "30s",
     .min    = 1,
     .desc   = "Whole-request timeout; a timeout is retried."},
    {.key    = "eventbridge.retry.initial_backoff",
     .type   = AB_CONFTAB_DURATION,
     .offset = CFG(eventbridge.backoff_initial_ms),
     .def    = "200ms",
     .min    = 1,
     .desc   = "First retry delay; doubles per attempt, with jitter."},
    {.key    = "eventbridge.retry.max_backoff",
     .type   = AB_CONFTAB_DURATION,
     .offset = CFG(eventbridge.backoff_max_ms),
     .def    = "30s",
     .min    = 1,
     .desc   = "Longest retry delay."},
    {.key    = "eventbridge.retry.max_attempts",
     .type   = AB_CONFTAB_INT,
     .offset = CFG(eventbridge.max_attempts),
     .def    = "0",
     .min    = 0,
     .desc   = "Attempts per event before it counts as permanently failed "
               "(`retries_exhausted`). 0: retry forever; Kafka holds the "
               "backlog."},
    {.key          = "eventbridge.permanent_entry_codes",
     .type         = AB_CONFTAB_LIST,
     .offset       = CFG(eventbridge.permanent_entry_codes),
     .count_offset = CFG(eventbridge.npermanent_entry_codes),
     .desc         = "Per-entry `ErrorCode`s of a partial failure that are "
                     "permanent; other failed entries are retried."},
    {.key    = "eventbridge.limits.max_events",
     .type   = AB_CONFTAB_INT,
     .offset = CFG(eventbridge.max_events),
     .def    = "16",
     .min    = 1,
     .max    = 64,
     .desc   = "Events per PutEvents request."},
    {.key    = "eventbridge.limits.max_request_bytes",
     .type   = AB_CONFTAB_SIZE,
     .offset = CFG(eventbridge.max_request_bytes),
     .def    = "256KiB",
     .min    = 1024,
     .desc   = "Bytes per request (body, and the events' counted sizes)."},
    {.key    = "eventbridge.limits.max_event_bytes",
     .type   = AB_CONFTAB_SIZE,
     .offset = CFG(eventbridge.max_event_bytes),
     .def    = "64KiB",
     .min    = 256,
     .desc   = "Counted size of one event (docs/sink.md); larger events "
               "are dead-lettered."},
    {.key    = "on_permanent",
     .type   = AB_CONFTAB_ENUM,
     .offset = CFG(on_permanent),
     .def    = "stop",
     .names  = on_permanent_names,
     .desc   = "A permanent failure (4xx other than 408/429, a permanent "
               "entry code, retries exhausted): `stop` logs it and exits 1 "
               "without committing past the event; `dlq` dead-letters the "
               "event and goes on."},
    {.key          = "filters.types",
     .type         = AB_CONFTAB_LIST,
     .offset       = CFG(filters.types),
     .count_offset = CFG(filters.ntypes),
     .desc         = "Publish only these event types (`create` or "
                     "`aliyun:arms:alarm:create`). Empty: all."},
    {.key    = "filters.severities",
     .type   = AB_CONFTAB_LIST,
     .offset = CFG(filters.severity_mask),
     .names  = severity_names,
     .desc   = "Publish only these levels (`data.data.level`). Empty: all."},
    {.key          = "filters.policies",
     .type         = AB_CONFTAB_LIST,
     .offset       = CFG(filters.policies),
     .count_offset = CFG(filters.npolicies),
     .desc         = "Publish only events of these notification policies "
                     "(`data.data.dispatchRuleName`). Empty: all."},
    {.key          = "filters.integrations",
     .type         = AB_CONFTAB_LIST,
     .offset       = CFG(filters.integrations),
     .count_offset = CFG(filters.nintegrations),
     .desc         = "Publish only events of these integrations (the "
                     "`integration` extension). Empty: all."},
    {.key    = "max_pending",
     .type   = AB_CONFTAB_INT,
     .offset = CFG(max_pending),
     .def    = "10000",
     .min    = 1,
     .desc   = "Events handed to EventBridge but not accepted yet; at this "
               "many, consumption pauses."},
    {.key    = "shutdown_timeout",
     .type   = AB_CONFTAB_DURATION,
     .offset = CFG(shutdown_timeout_ms),
     .def    = "30s",
     .min    = 0,
     .desc   = "On SIGTERM, how long to wait for in-flight events before "
               "committing what was accepted and exiting."},
    {.key    = "http.listen",
     .type   = AB_CONFTAB_STRING,
     .offset = CFG(http_listen),
     .check  = ab_http_check_listen,
     .desc   = "Address of /metrics, /healthz and /readyz, e.g. "
               "`127.0.0.1:9465`. Unset or an empty string: no HTTP "
               "server."},
    {.key    = "log_level",
     .type   = AB_CONFTAB_ENUM,
     .offset = CFG(log_level),
     .def    = "info",
     .names  = log_level_names,
     .desc   = "Log threshold."},
    {.key    = "log_format",
     .type   = AB_CONFTAB_ENUM,
     .offset = CFG(log_format),
     .def    = "logfmt",
     .names  = log_format_names,
     .desc   = "Format of the log lines on stderr: `logfmt` or `json` "
               "(one object per line)."},
};

static const struct ab_conftab table = {props, NELEM(props),
                                        sizeof(struct ab_sink_config)};

/* Resolve a relative \p *file against the directory of \p config. */
static ab_err_t relative_to(const char *config, char **file,
                            struct ab_error *err)
{
        const char *slash = strrchr(config, '/');
        struct ab_buf b;

        if (!*file || (*file)[0] == '/' || !slash)
                return AB_OK;
        ab_buf_init(&b, 0);
        if (ab_buf_appendf(&b, "%.*s/%s", (int)(slash - config), config,
                           *file)) {
                ab_buf_fini(&b);
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        }
        ab_free(*file);
        *file = ab_buf_take(&b, NULL);
        return AB_OK;
}

ab_err_t ab_sink_config_load(const char *path, struct ab_sink_config *cfg,
                             struct ab_error *err)
{
        json_t *root;
        ab_err_t rc;

        memset(cfg, 0, sizeof(*cfg));
        cfg->path = ab_strdup(path);
        if (!cfg->path)
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        root = ab_conf_load_file(path, err);
        if (!root)
                return err->code ? err->code : AB_ERR_CONFIG;
        rc = ab_conftab_load(&table, root, cfg, NULL, NULL, err);
        json_decref(root);
        if (!rc)
                rc = relative_to(path, &cfg->eventbridge.credentials_file, err);
        if (!rc)
                rc = relative_to(path, &cfg->eventbridge.ca_file, err);
        if (!rc && cfg->eventbridge.max_event_bytes >
                       cfg->eventbridge.max_request_bytes)
                rc = ab_error_set(err, AB_ERR_CONFIG,
                                  "eventbridge.limits.max_event_bytes",
                                  "must not exceed max_request_bytes");
        return rc;
}

void ab_sink_config_free(struct ab_sink_config *cfg)
{
        if (!cfg)
                return;
        ab_conftab_free(&table, cfg);
        ab_free(cfg->path);
        cfg->path = NULL;
}

ab_err_t ab_sink_config_reference(struct ab_buf *out)
{
        return ab_conftab_reference(&table, out);
}
