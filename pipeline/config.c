/* config.c - the pipeline configuration, driven by one descriptor table. */
#include "pipeline/config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/mem.h"
#include "ingest/ingest_config.h"
#include "service/conftab.h"
#include "service/http.h"
#include "transform/integration.h"

/*
 * The configuration is the descriptor tables below (root_table, and the
 * tables of an input and of a policy), loaded by conftab.c; the checks
 * here add what a type cannot say (topic names, integrations, listen
 * addresses), and check_cross() the rules that span keys. The `kafka`
 * block is the shared one of kafka/kafka_config.h.
 */

struct load {
        const char *base_dir; /* for relative integration paths */
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

_Static_assert(sizeof(enum ab_pipeline_binding) == sizeof(int),
               "enums are stored as int");
_Static_assert(sizeof(enum ab_log_level) == sizeof(int),
               "enums are stored as int");
_Static_assert(sizeof(enum ab_log_format) == sizeof(int),
               "enums are stored as int");
_Static_assert(sizeof(enum ab_pipeline_guarantee) == sizeof(int),
               "enums are stored as int");
_Static_assert(sizeof(enum ab_pipeline_store) == sizeof(int),
               "enums are stored as int");

/* ---- checks ---- */

/* Kafka's rule: 1..249 characters of [a-zA-Z0-9._-], not "." or "..". */
static ab_err_t check_topic_name(const char *t, const char *path,
                                 struct ab_error *err)
{
        size_t n = strlen(t);

        if (n > 249 || !strcmp(t, ".") || !strcmp(t, ".."))
                return ab_error_set(err, AB_ERR_CONFIG, path,
                                    "invalid topic name \"%s\"", t);
        for (size_t i = 0; i < n; i++) {
                char c = t[i];

                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                      c == '-'))
                        return ab_error_set(
                            err, AB_ERR_CONFIG, path,
                            "invalid topic name \"%s\": use letters, digits, "
                            "'.', '_' and '-'",
                            t);
        }
        return AB_OK;
}

static ab_err_t check_topic(const void *ctx, const struct ab_conftab_prop *p,
                            void *obj, const char *path, struct ab_error *err)
{
        char sub[AB_CONFTAB_PATH_SIZE];
        char **items;
        size_t n;
        ab_err_t rc = AB_OK;

        if (p->type == AB_CONFTAB_STRING) {
                const char *t = *(char **)((char *)obj + p->offset);
                return t ? check_topic_name(t, path, err) : AB_OK;
        }
        items = *(char ***)((char *)obj + p->offset);
        n     = *(size_t *)((char *)obj + p->count_offset);
        for (size_t i = 0; i < n && !rc; i++) {
                ab_conf_path_index(sub, sizeof(sub), path, i);
                rc = check_topic_name(items[i], sub, err);
        }
        return rc;
}

/* The same rule as ab_integration_load(). */
static bool looks_like_path(const char *s)
{
        static const char *const exts[] = {".yaml", ".yml", ".json"};
        size_t n                        = strlen(s);

        if (strchr(s, '/'))
                return true;
        for (size_t i = 0; i < NELEM(exts); i++) {
                size_t e = strlen(exts[i]);
                if (n >= e && !strcmp(s + n - e, exts[i]))
                        return true;
        }
        return false;
}

static ab_err_t check_integration(const void *ctx,
                                  const struct ab_conftab_prop *p, void *obj,
                                  const char *path, struct ab_error *err)
{
        const struct load *ld = ctx;
        char **field          = (char **)((char *)obj + p->offset);
        const char *const *names;
        struct ab_buf list;
        char *joined;
        size_t n;

        if (!*field)
                return AB_OK;
        if (looks_like_path(*field)) {
                if ((*field)[0] == '/' || !ld->base_dir)
                        return AB_OK;
                n      = strlen(ld->base_dir) + strlen(*field) + 2;
                joined = ab_malloc(n);
                if (!joined)
                        return ab_error_set(err, AB_ERR_NOMEM, path,
                                            "out of memory");
                snprintf(joined, n, "%s/%s", ld->base_dir, *field);
                ab_free(*field);
                *field = joined;
                return AB_OK;
        }
        names = ab_integration_builtin_names();
        for (size_t i = 0; names[i]; i++) {
                if (!strcmp(names[i], *field))
                        return AB_OK;
        }
        ab_buf_init(&list, 512);
        for (size_t i = 0; names[i]; i++)
                ab_buf_appendf(&list, "%s%s", i ? ", " : "", names[i]);
        ab_error_set(err, AB_ERR_CONFIG, path,
                     "unknown built-in integration \"%s\" (built-ins: %s; a "
                     "file path needs a '/' or a .yaml/.yml/.json name)",
                     *field, list.data ? list.data : "");
        ab_buf_fini(&list);
        return AB_ERR_CONFIG;
}

/* ---- the tables ---- */

static const char *const binding_names[]    = {"structured", "binary", NULL};
static const char *const log_level_names[]  = {"error", "warn", "info", "debug",
                                               NULL};
static const char *const log_format_names[] = {"logfmt", "json", NULL};
static const char *const guarantee_names[]  = {"at_least_once", "exactly_once",
                                               NULL};
static const char *const store_names[]      = {"changelog", "memory", NULL};
static const char *const compression_names[] = {"lz4",    "none", "gzip",
                                                "snappy", "zstd", NULL};
static const char *const severity_names[]    = {"P1", "P2", "P3", "P4", NULL};
static const char *const kafka_defaults[]    = {"group", "alertbridge", NULL};

#define IN(f)  offsetof(struct ab_pipeline_input, f)
#define POL(f) offsetof(struct ab_pipeline_policy, f)
#define CFG(f) offsetof(struct ab_pipeline_config, f)

static const struct ab_conftab_prop input_props[] = {
    {.key          = "topics",
     .type         = AB_CONFTAB_LIST,
     .offset       = IN(topics),
     .count_offset = IN(ntopics),
     .min          = 1,
     .flags        = AB_CONFTAB_REQUIRED,
     .check        = check_topic,
     .desc         = "Topics to consume, by exact name."},
    {.key    = "integration",
     .type   = AB_CONFTAB_STRING,
     .offset = IN(integration),
     .min    = 1,
     .check  = check_integration,
     .desc   = "Integration that maps these topics' records: a built-in "
               "name (see docs/integrations.md) or the path of an "
               "integration file (a name with a `/` or a `.yaml`, `.yml`, "
               "`.json` extension; relative paths are relative to this "
               "file's directory). Unset: every record must name its "
               "integration in the `integration_header` header."},
};

static const struct ab_conftab input_table = {input_props, NELEM(input_props),
                                              sizeof(struct ab_pipeline_input)};

static const struct ab_conftab_prop policy_props[] = {
    {.key    = "name",
     .type   = AB_CONFTAB_STRING,
     .offset = POL(name),
     .min    = 1,
     .flags  = AB_CONFTAB_REQUIRED,
     .desc   = "Policy name; becomes the event's "
               "`data.data.dispatchRuleName`."},
    {.key    = "owner",
     .type   = AB_CONFTAB_STRING,
     .offset = POL(owner),
     .min    = 1,
     .desc   = "Contact that owns the matching alerts; becomes the event's "
               "`data.owner`."},
    {.key    = "topic",
     .type   = AB_CONFTAB_STRING,
     .offset = POL(topic),
     .min    = 1,
     .check  = check_topic,
     .desc   = "Topic for the matching alerts' events instead of "
               "`output.topic`."},
    {.key    = "when.severity",
     .type   = AB_CONFTAB_LIST,
     .offset = POL(severity_mask),
     .names  = severity_names,
     .desc   = "Match alerts of these severities. Empty: any."},
    {.key          = "when.integration",
     .type         = AB_CONFTAB_LIST,
     .offset       = POL(integrations),
     .count_offset = POL(nintegrations),
     .desc         = "Match alerts mapped by these integrations (their "
                     "`name:`). Empty: any."},
    {.key          = "when.labels",
     .type         = AB_CONFTAB_MAP,
     .offset       = POL(labels),
     .count_offset = POL(nlabels),
     .desc         = "Match alerts that have all these labels with exactly "
                     "these values. Empty: any."},
};

static const struct ab_conftab policy_table = {
    policy_props, NELEM(policy_props), sizeof(struct ab_pipeline_policy)};

static const struct ab_conftab_prop root_props[] = {
    {.key      = "kafka",
     .type     = AB_CONFTAB_TABLE,
     .offset   = CFG(kafka),
     .sub      = &ab_kafka_conftab,
     .defaults = kafka_defaults},
    {.key    = "kafka.poll_timeout",
     .type   = AB_CONFTAB_DURATION,
     .offset = CFG(loop.poll_timeout_ms),
     .def    = "100ms",
     .min    = 1,
     .max    = 10000,
     .desc   = "Longest wait of one consumer poll: bounds how soon the loop "
               "sees a shutdown request, delivery reports and timers."},
    {.key    = "kafka.flush_timeout",
     .type   = AB_CONFTAB_DURATION,
     .offset = CFG(loop.flush_timeout_ms),
     .def    = "30s",
     .min    = 0,
     .max    = 3600000,
     .desc   = "On shutdown, the time the whole stop may take: finishing "
               "consumed records, waiting for in-flight deliveries, the final "
               "commit (leaving the group gets at least 1s). Records still "
               "unacknowledged then are not committed, are read again after "
               "a restart, and `run` exits 75."},
    {.key    = "kafka.max_pending_records",
     .type   = AB_CONFTAB_INT,
     .offset = CFG(loop.max_pending_records),
     .def    = "100000",
     .min    = 1,
     .max    = 10000000,
     .desc   = "Input records whose outputs are not all acknowledged yet. At "
               "this limit consumption pauses until deliveries catch up "
               "(backpressure instead of memory growth)."},
    {.key    = "kafka.max_pending_bytes",
     .type   = AB_CONFTAB_SIZE,
     .offset = CFG(loop.max_pending_bytes),
     .def    = "64MiB",
     .min    = 65536,
     .max    = 4LL << 30,
     .desc   = "Bytes of produced records (events and dead letters) waiting "
               "for acknowledgement: the producer's queue bound "
               "(queue.buffering.max.kbytes; a value in "
               "kafka.producer_properties wins). When it is full the "
               "pipeline waits for deliveries before it produces more."},
    {.key          = "inputs",
     .type         = AB_CONFTAB_OBJECTS,
     .offset       = CFG(inputs),
     .count_offset = CFG(ninputs),
     .min          = 1,
     .flags        = AB_CONFTAB_REQUIRED,
     .sub          = &input_table,
     .desc         = "Where raw alerts come from: each entry binds topics to "
                     "an integration. A topic may appear in one input "
                     "only."},
    {.key    = "integration_header",
     .type   = AB_CONFTAB_STRING,
     .offset = CFG(integration_header),
     .def    = "alertbridge-integration",
     .min    = 1,
     .desc   = "Record header that names the integration of one record (a "
               "built-in name or the `name:` of a configured integration "
               "file); it wins over the input's `integration`."},
    {.key    = "output.topic",
     .type   = AB_CONFTAB_STRING,
     .offset = CFG(output.topic),
     .min    = 1,
     .flags  = AB_CONFTAB_REQUIRED,
     .check  = check_topic,
     .desc   = "Topic that receives the CloudEvents. Records are keyed by "
               "alert fingerprint, so one alert's events stay in order on "
               "one partition."},
    {.key    = "output.binding",
     .type   = AB_CONFTAB_ENUM,
     .offset = CFG(output.binding),
     .def    = "structured",
     .names  = binding_names,
     .desc   = "CloudEvents Kafka protocol binding: `structured` (the whole "
               "event as JSON, `content-type: "
               "application/cloudevents+json`) or `binary` (the event's "
               "`data` as the value, attributes as `ce_*` headers)."},
    {.key    = "output.source",
     .type   = AB_CONFTAB_STRING,
     .offset = CFG(output.source),
     .def    = "alertbridge",
     .min    = 1,
     .check  = ab_conftab_check_uri_reference,
     .desc   = "CloudEvents `source` attribute of every event: a "
               "URI-reference (RFC 3986), e.g. `alertbridge`, "
               "`/alerts/prod` or `urn:example:alerts`."},
    {.key          = "output.policies",
     .type         = AB_CONFTAB_OBJECTS,
     .offset       = CFG(output.policies),
     .count_offset = CFG(output.npolicies),
     .sub          = &policy_table,
     .desc         = "Notification policies, tried in order: the first whose "
                     "`when` matches an alert sets the event's owner and "
                     "dispatchRuleName and may send it to another topic. "
                     "No match: no owner, `output.topic`."},
    {.key    = "dead_letter_topic",
     .type   = AB_CONFTAB_STRING,
     .offset = CFG(dead_letter_topic),
     .min    = 1,
     .flags  = AB_CONFTAB_REQUIRED,
     .check  = check_topic,
     .desc   = "Topic that receives every record that cannot become events, "
               "unchanged, with headers naming the error, the source topic, "
               "partition and offset, and the integration."},
    {.key    = "actions_topic",
     .type   = AB_CONFTAB_STRING,
     .offset = CFG(actions_topic),
     .min    = 1,
     .check  = check_topic,
     .desc   = "Topic of action records (claim, comment, close) applied to "
               "open alerts. Unset: no actions are consumed."},
    {.key    = "http.listen",
     .type   = AB_CONFTAB_STRING,
     .offset = CFG(http.listen),
     .def    = "127.0.0.1:9464",
     .check  = ab_http_check_listen,
     .desc   = "Address of the HTTP server for `/metrics`, `/healthz` and "
               "`/readyz`: `HOST:PORT`, `[IPv6]:PORT`, `:PORT` (every IPv4 "
               "interface), or an empty string for no server."},
    {.key    = "http.stall_timeout",
     .type   = AB_CONFTAB_DURATION,
     .offset = CFG(http.stall_timeout_ms),
     .def    = "60s",
     .min    = 0,
     .max    = 3600000,
     .desc   = "`/healthz` fails once the pipeline loop has made no progress "
               "for this long. 0: never."},
    {.key    = "http.reload.enabled",
     .type   = AB_CONFTAB_BOOL,
     .offset = CFG(http.reload.enabled),
     .def    = "false",
     .desc   = "Serve `POST /-/reload` (docs/reloading.md): re-read the "
               "integrations and policies like SIGHUP does. Needs "
               "`http.listen` and a token; false: the route answers 404."},
    {.key    = "http.reload.token",
     .type   = AB_CONFTAB_STRING,
     .offset = CFG(http.reload.token),
     .min    = 16,
     .desc   = "Bearer token `POST /-/reload` must present (`Authorization: "
               "Bearer TOKEN`), at least 16 characters; write it as "
               "`${ENV_VAR}` to keep it out of the file. Exclusive with "
               "`http.reload.token_file`."},
    {.key    = "http.reload.token_file",
     .type   = AB_CONFTAB_STRING,
     .offset = CFG(http.reload.token_file),
     .min    = 1,
     .desc   = "File holding the bearer token (trailing newlines ignored; a "
               "Kubernetes Secret mounted as a file), read at start."},
    {.key    = "transform.threads",
     .type   = AB_CONFTAB_INT,
     .offset = CFG(transform.threads),
     .def    = "0",
     .min    = 0,
     .max    = 64,
     .desc   = "Threads that decode, map and fingerprint records ahead of "
               "the consumer thread, which keeps the lifecycle and the "
               "outputs, so records still change alerts in input order. 0: "
               "all work on the consumer thread, the least CPU per record. "
               "Raise it (1 or 2) when the consumer thread is the "
               "bottleneck and the machine has cores to spare; on 2 vCPUs "
               "shared with a broker it did not help "
               "(docs/performance.md)."},
    {.key    = "processing.guarantee",
     .type   = AB_CONFTAB_ENUM,
     .offset = CFG(processing.guarantee),
     .def    = "at_least_once",
     .names  = guarantee_names,
     .desc   = "`at_least_once`: after a crash the records since the last "
               "commit are handled again, and a repeated event carries the "
               "id of the original. `exactly_once`: Kafka transactions "
               "commit each stage's outputs with its input offsets; "
               "consumers of the output (and `alertbridge sink`) must read "
               "committed. Only with `state.store: changelog`."},
    {.key    = "processing.commit_interval",
     .type   = AB_CONFTAB_DURATION,
     .offset = CFG(processing.commit_interval_ms),
     .def    = "100ms",
     .min    = 10,
     .max    = 600000,
     .desc   = "How often the changelog is written and the offsets "
               "committed (a transaction in `exactly_once`)."},
    {.key    = "state.store",
     .type   = AB_CONFTAB_ENUM,
     .offset = CFG(state.store),
     .def    = "changelog",
     .names  = store_names,
     .desc   = "`changelog`: alerts are repartitioned by fingerprint "
               "through `<group>.alerts`, each partition has its own "
               "lifecycle store backed by the compacted "
               "`<group>.lifecycle-changelog`, so state survives restarts "
               "and the group scales out. `memory`: one store in process "
               "memory, no internal topics; for one member only, state is "
               "lost on restart (what `alertbridge demo` uses)."},
    {.key    = "state.partitions",
     .type   = AB_CONFTAB_INT,
     .offset = CFG(state.partitions),
     .def    = "0",
     .min    = 0,
     .max    = 10000,
     .desc   = "Partitions of the internal topics, created at start. 0: the "
               "largest partition count of the input topics. An existing "
               "internal topic with another count stops the start."},
    {.key    = "state.replication_factor",
     .type   = AB_CONFTAB_INT,
     .offset = CFG(state.replication_factor),
     .def    = "-1",
     .min    = -1,
     .max    = 32,
     .desc   = "Replication factor of the internal topics when they are "
               "created. -1: the broker's default."},
    {.key    = "state.compression",
     .type   = AB_CONFTAB_ENUM,
     .offset = CFG(state.compression),
     .def    = "lz4",
     .names  = compression_names,
     .desc   = "How the records of `<group>.alerts` and the changelog are "
               "compressed (librdkafka's `compression.type` for these "
               "topics only; the outputs follow "
               "`kafka.producer_properties`). The normalized alerts repeat "
               "their labels and annotations from record to record: `lz4` "
               "shrinks them several times for little CPU, which saves the "
               "broker more work than it costs (docs/performance.md)."},
    {.key    = "state.batch_max_bytes",
     .type   = AB_CONFTAB_SIZE,
     .offset = CFG(state.batch_max_bytes),
     .def    = "64KiB",
     .min    = 0,
     .max    = 16LL << 20,
     .desc   = "The map stage writes the alerts and actions bound for one "
               "partition of `<group>.alerts` as one batch record of up to "
               "this many bytes (at most the producer's "
               "`message.max.bytes`; a single larger record travels "
               "alone), which saves the producer and the consumer their "
               "per-record work on the second hop (docs/performance.md). "
               "0: one record per alert or action, which readers before "
               "batching (version 3 records) also read: set it while a "
               "group is upgraded member by member from such a release."},
    {.key    = "state.batch_linger",
     .type   = AB_CONFTAB_DURATION,
     .offset = CFG(state.batch_linger_ms),
     .def    = "5ms",
     .min    = 0,
     .max    = 1000,
     .desc   = "Longest a mapped alert waits in a batch. A batch is also "
               "written as soon as the consumer has no more records at "
               "hand, at every commit and when it is full, so under light "
               "load nothing waits."},
    {.key    = "state.changelog_version",
     .type   = AB_CONFTAB_INT,
     .offset = CFG(state.changelog_version),
     .def    = "3",
     .min    = 1,
     .max    = 3,
     .desc   = "Version of the changelog entries written (docs/lifecycle.md, "
               "*Changelog*); every member reads all three. 3 carries an "
               "alert in the coding the store keeps it in, 2 re-encodes it "
               "the way releases before version 3 read it, 1 also seals "
               "with SHA-256 instead of XXH3-128. Set the version the "
               "oldest member reads while a group is upgraded member by "
               "member from such a release (a member of it skips the "
               "entries it cannot read, and loses those alerts' state), "
               "then remove it."},
    {.key    = "lifecycle.max_open_alerts",
     .type   = AB_CONFTAB_INT,
     .offset = CFG(lifecycle.max_open_alerts),
     .def    = "100000",
     .min    = 0,
     .max    = 100000000,
     .desc   = "Most alerts kept open at once; beyond it the lifecycle "
               "evicts alerts (counted in "
               "`alertbridge_evicted_alerts_total`). 0: unlimited."},
    {.key    = "lifecycle.close_orphan_recovery",
     .type   = AB_CONFTAB_BOOL,
     .offset = CFG(lifecycle.close_orphan_recovery),
     .def    = "false",
     .desc   = "Emit a close event for a recovery that matches no open alert "
               "(for example one that opened before a restart)."},
    {.key    = "lifecycle.max_action_field",
     .type   = AB_CONFTAB_SIZE,
     .offset = CFG(lifecycle.max_action_field),
     .def    = "4KiB",
     .min    = 64,
     .max    = 1LL << 20,
     .desc   = "Longest `operator`, `comment` or `solution` an action may "
               "carry, in bytes; a longer one, or one with a control "
               "character other than newline and tab, is rejected "
               "(`action_invalid`) and never reaches an event."},
    {.key    = "lifecycle.expire_interval",
     .type   = AB_CONFTAB_DURATION,
     .offset = CFG(lifecycle.expire_interval_ms),
     .def    = "10s",
     .min    = 100,
     .max    = 3600000,
     .desc   = "How often open alerts are checked against their "
               "integration's auto-clear period."},
    {.key    = "ingest",
     .type   = AB_CONFTAB_TABLE,
     .offset = CFG(ingest),
     .sub    = &ab_ingest_conftab},
    {.key    = "log_level",
     .type   = AB_CONFTAB_ENUM,
     .offset = CFG(log_level),
     .def    = "info",
     .names  = log_level_names,
     .desc   = "Least severe log level written to stderr."},
    {.key    = "log_format",
     .type   = AB_CONFTAB_ENUM,
     .offset = CFG(log_format),
     .def    = "logfmt",
     .names  = log_format_names,
     .desc   = "Format of the log lines on stderr: `logfmt` "
               "(`ts=... level=... comp=... msg=\"...\" key=value`) or "
               "`json` (one object per line with the same members, every "
               "value a string)."},
};

static const struct ab_conftab root_table = {root_props, NELEM(root_props),
                                             sizeof(struct ab_pipeline_config)};

/* ---- rules across keys ---- */

/* Where topic \p t is read from, as a key path into \p where; or false. */
static bool find_input_topic(const struct ab_pipeline_config *cfg,
                             const char *t, size_t before_input,
                             size_t before_topic, char *where, size_t size)
{
        for (size_t i = 0; i < cfg->ninputs; i++) {
                const struct ab_pipeline_input *in = &cfg->inputs[i];

                for (size_t j = 0; j < in->ntopics; j++) {
                        if (i == before_input && j == before_topic)
                                return false;
                        if (!strcmp(in->topics[j], t)) {
                                snprintf(where, size, "inputs[%zu].topics[%zu]",
                                         i, j);
                                return true;
                        }
                }
        }
        return false;
}

/* An output that is also an input would feed the pipeline its own output. */
static ab_err_t check_not_input(const struct ab_pipeline_config *cfg,
                                const char *t, const char *path,
                                struct ab_error *err)
{
        char where[64];

        if (t && find_input_topic(cfg, t, (size_t)-1, 0, where, sizeof(where)))
                return ab_error_set(err, AB_ERR_CONFIG, path,
                                    "topic \"%s\" is also an input (%s)", t,
                                    where);
        return AB_OK;
}

static ab_err_t check_cross(const struct ab_pipeline_config *cfg,
                            struct ab_error *err)
{
        char where[64];
        char path[AB_CONFTAB_PATH_SIZE];
        ab_err_t rc;

        for (size_t i = 0; i < cfg->ninputs; i++) {
                for (size_t j = 0; j < cfg->inputs[i].ntopics; j++) {
                        const char *t = cfg->inputs[i].topics[j];

                        if (!find_input_topic(cfg, t, i, j, where,
                                              sizeof(where)))
                                continue;
                        snprintf(path, sizeof(path), "inputs[%zu].topics[%zu]",
                                 i, j);
                        return ab_error_set(err, AB_ERR_CONFIG, path,
                                            "topic \"%s\" is already read by "
                                            "%s",
                                            t, where);
                }
        }
        rc = ab_ingest_config_check(&cfg->ingest, err);
        if (!rc)
                rc = check_not_input(cfg, cfg->actions_topic, "actions_topic",
                                     err);
        if (!rc)
                rc = check_not_input(cfg, cfg->output.topic, "output.topic",
                                     err);
        if (!rc)
                rc = check_not_input(cfg, cfg->dead_letter_topic,
                                     "dead_letter_topic", err);
        for (size_t i = 0; i < cfg->output.npolicies && !rc; i++) {
                const char *t = cfg->output.policies[i].topic;

                snprintf(path, sizeof(path), "output.policies[%zu].topic", i);
                rc = check_not_input(cfg, t, path, err);
                if (!rc && t && !strcmp(t, cfg->dead_letter_topic))
                        rc = ab_error_set(err, AB_ERR_CONFIG, path,
                                          "events must not go to the "
                                          "dead-letter topic");
                if (!rc && t && cfg->actions_topic &&
                    !strcmp(t, cfg->actions_topic))
                        rc = ab_error_set(err, AB_ERR_CONFIG, path,
                                          "events must not go to the "
                                          "actions topic");
        }
        if (!rc && !strcmp(cfg->dead_letter_topic, cfg->output.topic))
                rc = ab_error_set(err, AB_ERR_CONFIG, "dead_letter_topic",
                                  "must differ from output.topic");
        if (!rc && cfg->actions_topic &&
            (!strcmp(cfg->actions_topic, cfg->output.topic) ||
             !strcmp(cfg->actions_topic, cfg->dead_letter_topic)))
                rc = ab_error_set(err, AB_ERR_CONFIG, "actions_topic",
                                  "must differ from output.topic and "
                                  "dead_letter_topic");
        if (!rc && cfg->http.reload.enabled && !cfg->http.listen)
                rc = ab_error_set(err, AB_ERR_CONFIG, "http.reload.enabled",
                                  "needs http.listen");
        if (!rc && cfg->http.reload.enabled &&
            !cfg->http.reload.token == !cfg->http.reload.token_file)
                rc = ab_error_set(err, AB_ERR_CONFIG, "http.reload.enabled",
                                  "needs exactly one of http.reload.token "
                                  "and http.reload.token_file");
        if (!rc && cfg->processing.guarantee == AB_PIPELINE_EXACTLY_ONCE &&
            cfg->state.store == AB_PIPELINE_STORE_MEMORY)
                rc = ab_error_set(err, AB_ERR_CONFIG, "processing.guarantee",
                                  "exactly_once needs state.store: "
                                  "changelog");
        return rc;
}

/* ---- public ---- */

static ab_err_t load_tree(const json_t *root, const char *origin,
                          const char *base_dir, struct ab_pipeline_config **out,
                          struct ab_error *err)
{
        struct load ld = {base_dir};
        struct ab_pipeline_config *cfg;
        ab_err_t rc;

        *out = NULL;
        cfg  = ab_calloc(1, sizeof(*cfg));
        if (!cfg)
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        cfg->path = ab_strdup(origin);
        if (!cfg->path) {
                rc = ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
                goto out;
        }
        if (json_is_null(root)) {
                rc = ab_error_set(err, AB_ERR_CONFIG, NULL,
                                  "%s: the configuration is empty", origin);
                goto out;
        }
        rc = ab_conftab_load(&root_table, root, cfg, NULL, &ld, err);
        if (!rc)
                rc = check_cross(cfg, err);
        if (!rc) {
                *out = cfg;
                cfg  = NULL;
        }
out:
        ab_pipeline_config_destroy(cfg);
        return rc;
}

ab_err_t ab_pipeline_config_load_string(const char *text, size_t len,
                                        const char *origin,
                                        const char *base_dir,
                                        struct ab_pipeline_config **out,
                                        struct ab_error *err)
{
        struct ab_error local;
        json_t *root;
        ab_err_t rc;

        *out = NULL;
        if (!err)
                err = &local; /* the loader reads codes back from it */
        root = ab_conf_load_string(text, len, origin, err);
        if (!root)
                return err->code;
        rc = load_tree(root, origin, base_dir, out, err);
        json_decref(root);
        return rc;
}

ab_err_t ab_pipeline_config_load(const char *path,
                                 struct ab_pipeline_config **out,
                                 struct ab_error *err)
{
        const char *slash = strrchr(path, '/');
        struct ab_error local;
        json_t *root;
        char *dir = NULL;
        ab_err_t rc;

        *out = NULL;
        if (!err)
                err = &local; /* the loader reads codes back from it */
        root = ab_conf_load_file(path, err);
        if (!root)
                return err->code;
        if (slash) {
                dir = ab_strndup(path,
                                 slash == path ? 1 : (size_t)(slash - path));
                if (!dir) {
                        rc = ab_error_set(err, AB_ERR_NOMEM, NULL,
                                          "out of memory");
                        goto out;
                }
        }
        rc = load_tree(root, path, dir, out, err);
out:
        ab_free(dir);
        json_decref(root);
        return rc;
}

void ab_pipeline_config_destroy(struct ab_pipeline_config *cfg)
{
        if (!cfg)
                return;
        ab_conftab_free(&root_table, cfg);
        ab_free(cfg->path);
        ab_free(cfg);
}

const struct ab_pipeline_policy *
ab_pipeline_policy_match(const struct ab_pipeline_config *cfg,
                         const struct ab_alert *alert, const char *integration)
{
        for (size_t i = 0; i < cfg->output.npolicies; i++) {
                const struct ab_pipeline_policy *pol = &cfg->output.policies[i];
                bool ok                              = true;

                if (pol->severity_mask &&
                    (alert->severity < 1 || alert->severity > 4 ||
                     !(pol->severity_mask & (1u << (alert->severity - 1)))))
                        continue;
                if (pol->nintegrations) {
                        ok = false;
                        for (size_t j = 0; j < pol->nintegrations && !ok; j++)
                                ok = integration &&
                                     !strcmp(pol->integrations[j], integration);
                }
                for (size_t j = 0; j < pol->nlabels && ok; j++) {
                        struct ab_str v =
                            ab_alert_label(alert, ab_str_c(pol->labels[j].key));

                        ok = ab_str_present(v) &&
                             ab_str_eq_c(v, pol->labels[j].value);
                }
                if (ok)
                        return pol;
        }
        return NULL;
}

const char *ab_pipeline_compression_name(enum ab_pipeline_compression c)
{
        return compression_names[c];
}

const char *ab_pipeline_policy_topic(const struct ab_pipeline_config *cfg,
                                     const struct ab_pipeline_policy *policy)
{
        if (policy && policy->topic)
                return policy->topic;
        return cfg->output.topic;
}

ab_err_t ab_pipeline_config_reference(struct ab_buf *out)
{
        static const char intro[] =
            "# Pipeline configuration reference\n"
            "\n"
            "<!-- Generated from the descriptor table in pipeline/config.c "
            "by\n"
            "     ab_pipeline_config_reference(); do not edit. Regenerate "
            "with\n"
            "     `cmake --build <build-dir> --target config-reference`. "
            "-->\n"
            "\n"
            "`alertbridge run --config pipeline.yaml` reads one YAML (or "
            "JSON) file.\n"
            "[examples/pipeline.yaml](../examples/pipeline.yaml) is a "
            "commented example.\n"
            "\n"
            "- Unknown keys, wrong types and out-of-range values are "
            "errors that name\n"
            "  the key path, e.g. `output.policies[1].when.severity[0]`.\n"
            "- Every value may reference environment variables: `${NAME}`\n"
            "  (an error when unset), `${NAME:-default}` (the default may "
            "nest:\n"
            "  `${A:-${B:-x}}`), and `$${` for a literal `${`. In numbers, "
            "booleans,\n"
            "  durations, sizes and enums the expanded text is read as an "
            "unquoted\n"
            "  YAML value (`max_pending_records: ${N}` with N=7 is the "
            "integer 7);\n"
            "  quote a reference inside `{...}` (`{a: '${X}'}`).\n"
            "  Use them for secrets in `kafka.properties`.\n"
            "- Durations are `500ms`, `30s`, `5m`, `1h30m`, `2d`, or a "
            "number of seconds.\n"
            "- Sizes are `512` (bytes), `64KiB`, `16MiB`, `1GiB` (`KB`, "
            "`MB`, `GB` are\n"
            "  the same powers of 1024).\n"
            "- A key written with no value (`actions_topic:`) keeps its "
            "default.\n"
            "- Keys with `[]` belong to each entry of a list: "
            "`inputs[].topics` is the\n"
            "  `topics` key of every entry of `inputs`.\n"
            "\n"
            "| Key | Type | Default | Values | Description |\n"
            "|---|---|---|---|---|\n";
        ab_err_t rc = ab_buf_append_str(out, intro);

        if (!rc)
                rc = ab_conftab_reference(&root_table, out);
        return rc;
}

ab_err_t ab_pipeline_config_diff(const struct ab_pipeline_config *a,
                                 const struct ab_pipeline_config *b,
                                 ab_conftab_diff_fn fn, void *arg)
{
        return ab_conftab_diff(&root_table, a, b, NULL, fn, arg);
}
