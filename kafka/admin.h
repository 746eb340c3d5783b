/* admin.h - the Kafka Admin API calls the stateful pipeline needs: internal
 * topics, partition counts, purging consumed records. */
#ifndef AB_KAFKA_ADMIN_H
#define AB_KAFKA_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/*
 * One admin client (a librdkafka producer handle that never produces).
 * Every call waits for the brokers' answer, up to the timeout given to it.
 * Not thread-safe: one thread uses a handle.
 */
struct ab_kafka_admin;

/** A topic that must exist. */
struct ab_kafka_topic_spec {
        const char *name;
        int partitions;         /* > 0 */
        int replication_factor; /* -1 = the broker's default */
        /* Topic configs as a NULL-terminated list of name, value pairs
         * (e.g. "cleanup.policy", "compact"), used when the topic is
         * created; NULL = none. */
        const char *const *configs;
};

/**
 * Create the admin client. \p properties: librdkafka properties as a
 * NULL-terminated list of name, value pairs (SASL, SSL, ...); NULL = none.
 * @returns AB_OK with \p *out set, or AB_ERR_CONFIG / AB_ERR_KAFKA /
 *          AB_ERR_NOMEM with \p err filled.
 */
ab_err_t ab_kafka_admin_new(const char *brokers, const char *const *properties,
                            struct ab_kafka_admin **out, struct ab_error *err);

/**
 * Make sure the \p n topics exist: the missing ones are created with
 * their spec (one CreateTopics request); the existing ones, and those
 * another client created meanwhile (TOPIC_ALREADY_EXISTS), must have the
 * spec's partition count. Configs of existing topics are not checked.
 * @returns AB_OK; AB_ERR_CONFIG naming the topic, its partition count and
 *          the expected one when they differ, or when the brokers refuse
 *          the spec (invalid config or replication factor); AB_ERR_KAFKA
 *          (RETRY class) when the brokers did not answer in time.
 */
ab_err_t ab_kafka_admin_ensure_topics(struct ab_kafka_admin *a,
                                      const struct ab_kafka_topic_spec *topics,
                                      size_t n, int timeout_ms,
                                      struct ab_error *err);

/**
 * The partition count of each of the \p n existing topics, from the
 * cluster metadata, into \p counts[i].
 * @returns AB_OK; AB_ERR_NOT_FOUND naming the first topic that does not
 *          exist; AB_ERR_KAFKA when the metadata could not be read.
 */
ab_err_t ab_kafka_admin_partitions(struct ab_kafka_admin *a,
                                   const char *const *topics, size_t n,
                                   int *counts, int timeout_ms,
                                   struct ab_error *err);

/**
 * Delete the records of \p topic / \p partition before \p offset (the
 * log start moves to \p offset), e.g. consumed and committed records of
 * an internal topic. @returns AB_OK, or AB_ERR_KAFKA naming the partition.
 */
ab_err_t ab_kafka_admin_delete_records(struct ab_kafka_admin *a,
                                       const char *topic, int32_t partition,
                                       int64_t offset, int timeout_ms,
                                       struct ab_error *err);

/** Free the client. NULL-safe. */
void ab_kafka_admin_destroy(struct ab_kafka_admin *a);

#endif
