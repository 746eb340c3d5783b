/* kafka_offsets.c - offset lists and group metadata shared by the edges. */
#include "kafka/kafka_offsets.h"

#include <string.h>

#include "core/mem.h"

struct ab_kafka_group_meta {
        rd_kafka_consumer_group_metadata_t *md; /* owned */
};

struct ab_kafka_group_meta *
ab_kafka_group_meta_wrap(rd_kafka_consumer_group_metadata_t *md)
{
        struct ab_kafka_group_meta *m = ab_calloc(1, sizeof(*m));

        if (!m) {
                rd_kafka_consumer_group_metadata_destroy(md);
                return NULL;
        }
        m->md = md;
        return m;
}

const rd_kafka_consumer_group_metadata_t *
ab_kafka_group_meta_rd(const struct ab_kafka_group_meta *m)
{
        return m->md;
}

void ab_kafka_group_meta_destroy(struct ab_kafka_group_meta *m)
{
        if (!m)
                return;
        rd_kafka_consumer_group_metadata_destroy(m->md);
        ab_free(m);
}

ab_err_t ab_kafka_offsets_list(const struct ab_kafka_offset *offsets, size_t n,
                               rd_kafka_topic_partition_list_t **out,
                               struct ab_error *err)
{
        rd_kafka_topic_partition_list_t *list =
            rd_kafka_topic_partition_list_new(n ? (int)n : 1);

        *out = NULL;
        if (!list)
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        for (size_t i = 0; i < n; i++) {
                const struct ab_kafka_offset *o = &offsets[i];
                rd_kafka_topic_partition_t *p =
                    rd_kafka_topic_partition_list_add(list, o->topic,
                                                      o->partition);

                p->offset = o->offset;
                if (!o->metadata)
                        continue;
                /* librdkafka frees it with the list. */
                p->metadata_size = strlen(o->metadata);
                p->metadata      = ab_malloc(p->metadata_size + 1);
                if (!p->metadata) {
                        rd_kafka_topic_partition_list_destroy(list);
                        return ab_error_set(err, AB_ERR_NOMEM, NULL,
                                            "out of memory");
                }
                memcpy(p->metadata, o->metadata, p->metadata_size + 1);
        }
        *out = list;
        return AB_OK;
}
