/* position.c - where a consumer stands: its positions, committed and end
 * offsets, its assignment and its lag (queries; consumer.c moves it). */
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "consumer/consumer.h"
#include "consumer/consumer_int.h"

rd_kafka_topic_partition_list_t *ab_consumer_assignment(struct ab_consumer *c)
{
        if (!c->assignment && rd_kafka_assignment(c->rk, &c->assignment))
                ab_consumer_assignment_forget(c);
        return c->assignment;
}

void ab_consumer_assignment_forget(struct ab_consumer *c)
{
        if (c->assignment)
                rd_kafka_topic_partition_list_destroy(c->assignment);
        c->assignment = NULL;
}

ab_err_t ab_consumer_position(struct ab_consumer *c, const char *topic,
                              int32_t partition, int64_t *offset,
                              struct ab_error *err)
{
        rd_kafka_topic_partition_list_t *list = ab_consumer_assignment(c);
        bool found                            = false;

        *offset = -1;
        for (int i = 0; list && !found && i < list->cnt; i++)
                found = list->elems[i].partition == partition &&
                        !strcmp(list->elems[i].topic, topic);
        if (!found)
                return ab_error_set(err, AB_ERR_NOT_FOUND, topic,
                                    "%s[%d] is not assigned", topic,
                                    (int)partition);
        list = rd_kafka_topic_partition_list_new(1);
        if (!list)
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        rd_kafka_topic_partition_list_add(list, topic, partition);
        if (!rd_kafka_position(c->rk, list) && list->elems[0].offset >= 0)
                *offset = list->elems[0].offset;
        rd_kafka_topic_partition_list_destroy(list);
        return AB_OK;
}

ab_err_t ab_consumer_end_offset(struct ab_consumer *c, const char *topic,
                                int32_t partition, int timeout_ms, int64_t *end,
                                struct ab_error *err)
{
        int64_t low = 0, high = 0;
        rd_kafka_resp_err_t rc = rd_kafka_query_watermark_offsets(
            c->rk, topic, partition, &low, &high, timeout_ms);

        if (rc)
                return ab_error_set(err, AB_ERR_KAFKA, topic,
                                    "%s[%d]: end offset: %s", topic,
                                    (int)partition, rd_kafka_err2str(rc));
        *end = high;
        return AB_OK;
}

ab_err_t ab_consumer_committed_offset(struct ab_consumer *c, const char *topic,
                                      int32_t partition, int timeout_ms,
                                      int64_t *offset, struct ab_error *err)
{
        rd_kafka_topic_partition_list_t *list =
            rd_kafka_topic_partition_list_new(1);
        rd_kafka_resp_err_t rc;

        if (!list)
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        rd_kafka_topic_partition_list_add(list, topic, partition);
        rc = rd_kafka_committed(c->rk, list, timeout_ms);
        if (!rc)
                rc = list->elems[0].err;
        *offset =
            !rc && list->elems[0].offset >= 0 ? list->elems[0].offset : -1;
        rd_kafka_topic_partition_list_destroy(list);
        if (rc)
                return ab_error_set(err, AB_ERR_KAFKA, topic,
                                    "%s[%d]: committed offset: %s", topic,
                                    (int)partition, rd_kafka_err2str(rc));
        return AB_OK;
}

size_t ab_consumer_assigned(struct ab_consumer *c)
{
        rd_kafka_topic_partition_list_t *list = ab_consumer_assignment(c);

        return list ? (size_t)list->cnt : 0;
}

int64_t ab_consumer_lag(struct ab_consumer *c, ab_consumer_lag_fn fn, void *arg)
{
        rd_kafka_topic_partition_list_t *list = ab_consumer_assignment(c);
        int64_t total                         = 0;

        /* The positions land in the cached list's offsets, which every
         * user of the list writes before reading. */
        if (!list || rd_kafka_position(c->rk, list))
                return 0;
        for (int i = 0; i < list->cnt; i++) {
                const rd_kafka_topic_partition_t *p = &list->elems[i];
                int64_t low = -1, high = -1, lag = -1;

                if (p->offset >= 0 &&
                    !rd_kafka_get_watermark_offsets(
                        c->rk, p->topic, p->partition, &low, &high) &&
                    high >= 0) {
                        lag = high > p->offset ? high - p->offset : 0;
                        total += lag;
                }
                if (fn)
                        fn(arg, p->topic, p->partition, lag);
        }
        return total;
}

static void note_behind(void *arg, const char *topic, int32_t partition,
                        int64_t lag)
{
        bool *behind = arg;

        (void)topic;
        (void)partition;
        if (lag > 0)
                *behind = true;
}

bool ab_consumer_caught_up(struct ab_consumer *c)
{
        bool behind = false;

        ab_consumer_lag(c, note_behind, &behind);
        return !behind;
}
