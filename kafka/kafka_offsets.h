/* kafka_offsets.h - what the consumer hands the producer for a transaction:
 * offset lists and the consumer group's metadata. */
#ifndef AB_KAFKA_OFFSETS_H
#define AB_KAFKA_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "core/err.h"

/*
 * The consumer (consumer/) and the producer (producer/) are siblings: the
 * types one gives the other live here. An offset is the next one to
 * consume (the last processed record's offset + 1), as Kafka commits it.
 */
struct ab_kafka_offset {
        const char *topic; /* borrowed */
        int32_t partition;
        int64_t offset;       /* the next record to consume */
        const char *metadata; /* committed with the offset; NULL = none */
};

/*
 * A consumer's group metadata (group id, generation, member id, instance
 * id) at one moment, as a transaction's offsets need it so the group
 * coordinator can refuse a member that is no longer part of the group.
 * Made by ab_consumer_group_metadata(); owned by the caller.
 */
struct ab_kafka_group_meta;

/** Wrap \p md (ownership moves in). @returns NULL when out of memory
 *  (\p md is destroyed then). */
struct ab_kafka_group_meta *
ab_kafka_group_meta_wrap(rd_kafka_consumer_group_metadata_t *md);

/** @returns the wrapped librdkafka object (borrowed). */
const rd_kafka_consumer_group_metadata_t *
ab_kafka_group_meta_rd(const struct ab_kafka_group_meta *m);

/** Free \p m. NULL-safe. */
void ab_kafka_group_meta_destroy(struct ab_kafka_group_meta *m);

/**
 * A librdkafka list of \p n offsets with their metadata (caller owns it:
 * rd_kafka_topic_partition_list_destroy()). @returns AB_OK, or
 * AB_ERR_NOMEM with \p err filled.
 */
ab_err_t ab_kafka_offsets_list(const struct ab_kafka_offset *offsets, size_t n,
                               rd_kafka_topic_partition_list_t **out,
                               struct ab_error *err);

#endif
