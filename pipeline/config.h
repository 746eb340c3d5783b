/* config.h - the pipeline configuration (`alertbridge run --config FILE`). */
#ifndef AB_PIPELINE_CONFIG_H
#define AB_PIPELINE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "ingest/ingest_config.h"
#include "kafka/kafka_config.h"
#include "service/conftab.h"
#include "transform/alert.h"

/*
 * One descriptor table in config.c (see conftab.h) defines every key: its type,
 * default, range and description. Loading applies the defaults, rejects unknown
 * keys, wrong types and out-of-range values with the exact key path
 * ("output.policies[1].when.severity[0]"), expands ${ENV_VAR} in every
 * string, and resolves relative integration paths against the directory
 * of the config file. ab_pipeline_config_reference() renders the same
 * table as docs/CONFIGURATION.md.
 *
 * The structs below are filled by the loader and read-only afterwards:
 * share them freely between threads. Every string and array is owned by
 * the config and freed by ab_pipeline_config_destroy(). An optional
 * string that is not set is NULL.
 */

/* Maps (kafka.properties, when.labels) are struct ab_pipeline_kv arrays. */

struct ab_pipeline_input {
        char **topics; /* at least one, unique across all inputs */
        size_t ntopics;
        char *integration; /* a built-in name, or a path (relative paths
                              already resolved); NULL: records must name
                              their integration in the header */
};

struct ab_pipeline_policy {
        char *name;  /* becomes the event's dispatchRuleName */
        char *owner; /* becomes the event's owner; may be NULL */
        char *topic; /* output topic override; NULL: output.topic */
        /* when: every condition given must hold; none given matches all */
        unsigned severity_mask; /* bit n-1 set: Pn matches; 0: any */
        char **integrations;    /* integration names; empty: any */
        size_t nintegrations;
        struct ab_pipeline_kv *labels; /* label equalities */
        size_t nlabels;
};

enum ab_pipeline_binding {
        AB_PIPELINE_BINDING_STRUCTURED = 0,
        AB_PIPELINE_BINDING_BINARY,
};

/* processing.guarantee (docs/stateful-pipeline.md, "Commit cycle"). */
enum ab_pipeline_guarantee {
        AB_PIPELINE_AT_LEAST_ONCE = 0,
        AB_PIPELINE_EXACTLY_ONCE,
};

/* state.store: where the lifecycle state lives. */
enum ab_pipeline_store {
        /* One store per partition of <group>.alerts, backed by
         * <group>.lifecycle-changelog (the two-stage pipeline). */
        AB_PIPELINE_STORE_CHANGELOG = 0,
        /* One store in process memory, no internal topics: one member
         * only, state lost on restart (demo). */
        AB_PIPELINE_STORE_MEMORY,
};

/* state.compression: how the internal topics are compressed. */
enum ab_pipeline_compression {
        AB_PIPELINE_COMPRESSION_LZ4 = 0,
        AB_PIPELINE_COMPRESSION_NONE,
        AB_PIPELINE_COMPRESSION_GZIP,
        AB_PIPELINE_COMPRESSION_SNAPPY,
        AB_PIPELINE_COMPRESSION_ZSTD,
};

struct ab_pipeline_config {
        char *path; /* the file it was loaded from, or the origin name */
        struct ab_kafka_config kafka; /* the shared kafka block */
        struct {
                /* kafka.poll_timeout, kafka.flush_timeout, ... */
                int64_t poll_timeout_ms;
                int64_t flush_timeout_ms;
                int64_t max_pending_records; /* backpressure: pause above */
                int64_t max_pending_bytes;
        } loop;
        struct ab_pipeline_input *inputs;
        size_t ninputs;
        char *integration_header; /* record header naming the integration */
        struct {
                char *topic;
                enum ab_pipeline_binding binding;
                char *source; /* CloudEvents source */
                struct ab_pipeline_policy *policies;
                size_t npolicies;
        } output;
        char *dead_letter_topic;
        char *actions_topic; /* NULL: no action records are consumed */
        struct {
                char *listen; /* NULL: no HTTP server */
                int64_t stall_timeout_ms;
                struct {
                        bool enabled;     /* serve POST /-/reload */
                        char *token;      /* exclusive with token_file */
                        char *token_file; /* read at start */
                } reload;
        } http;
        struct {
                int64_t threads; /* 0: map on the consumer thread */
        } transform;
        struct {
                enum ab_pipeline_guarantee guarantee;
                int64_t commit_interval_ms;
        } processing;
        struct {
                enum ab_pipeline_store store;
                int64_t partitions;         /* 0: largest input count */
                int64_t replication_factor; /* -1: the broker's default */
                enum ab_pipeline_compression compression;
                int64_t batch_max_bytes; /* 0: one record per alert */
                int64_t batch_linger_ms;
                int64_t changelog_version; /* entries written: 1 to 3 */
        } state;
        struct {
                int64_t max_open_alerts; /* 0: unlimited */
                bool close_orphan_recovery;
                int64_t max_action_field; /* bytes */
                int64_t expire_interval_ms;
        } lifecycle;
        /* The webhook server `run` starts when integrations are listed
         * (docs/ingest.md). */
        struct ab_ingest_config ingest;
        enum ab_log_level log_level;
        enum ab_log_format log_format;
};

/**
 * Load and validate the YAML or JSON file at \p path.
 * @returns AB_OK with \p *out set (free with ab_pipeline_config_destroy()),
 *          AB_ERR_IO when the file cannot be read, or AB_ERR_CONFIG with
 *          \p err->path naming the offending key.
 */
ab_err_t ab_pipeline_config_load(const char *path,
                                 struct ab_pipeline_config **out,
                                 struct ab_error *err);

/**
 * Same for \p len bytes of \p text; \p origin names it in messages and
 * relative integration paths are resolved against \p base_dir (NULL: the
 * current directory).
 */
ab_err_t ab_pipeline_config_load_string(const char *text, size_t len,
                                        const char *origin,
                                        const char *base_dir,
                                        struct ab_pipeline_config **out,
                                        struct ab_error *err);

/** NULL-safe. */
void ab_pipeline_config_destroy(struct ab_pipeline_config *cfg);

/**
 * Append the configuration reference (Markdown, the content of
 * docs/CONFIGURATION.md) generated from the descriptor table to \p out.
 */
ab_err_t ab_pipeline_config_reference(struct ab_buf *out);

/**
 * The first policy of \p cfg whose `when` matches \p alert, which came
 * through the integration named \p integration (ab_integration_name()).
 * @returns a borrowed policy (valid as long as \p cfg), or NULL when none
 *          matches: then the event has no owner or dispatchRuleName and
 *          goes to output.topic.
 */
const struct ab_pipeline_policy *
ab_pipeline_policy_match(const struct ab_pipeline_config *cfg,
                         const struct ab_alert *alert, const char *integration);

/**
 * Call \p fn with the key path of every key whose value differs between
 * \p a and \p b (ab_conftab_diff()), in table order.
 * @returns AB_OK, or the first error \p fn returned.
 */
ab_err_t ab_pipeline_config_diff(const struct ab_pipeline_config *a,
                                 const struct ab_pipeline_config *b,
                                 ab_conftab_diff_fn fn, void *arg);
/** librdkafka's compression.type for \p c ("lz4", "none", ...). */
const char *ab_pipeline_compression_name(enum ab_pipeline_compression c);

/** The output topic for events routed by \p policy (may be NULL). */
const char *ab_pipeline_policy_topic(const struct ab_pipeline_config *cfg,
                                     const struct ab_pipeline_policy *policy);

#endif
