/* record.c - accessors over a consumed librdkafka message. */
#include "consumer/record.h"

#include <librdkafka/rdkafka.h>

/* An ab_record is a librdkafka message returned by rd_kafka_consumer_poll()
 * and handed to the caller as is (see consumer.c); no copy is made. */
static const rd_kafka_message_t *msg(const struct ab_record *r)
{
        return (const rd_kafka_message_t *)r;
}

const char *ab_record_topic(const struct ab_record *r)
{
        return rd_kafka_topic_name(msg(r)->rkt);
}

int32_t ab_record_partition(const struct ab_record *r)
{
        return msg(r)->partition;
}

int64_t ab_record_offset(const struct ab_record *r)
{
        return msg(r)->offset;
}

int64_t ab_record_timestamp(const struct ab_record *r)
{
        rd_kafka_timestamp_type_t type;

        return rd_kafka_message_timestamp(msg(r), &type);
}

struct ab_str ab_record_key(const struct ab_record *r)
{
        return ab_str_make(msg(r)->key, msg(r)->key_len);
}

struct ab_str ab_record_value(const struct ab_record *r)
{
        return ab_str_make(msg(r)->payload, msg(r)->len);
}

static struct ab_str header_value(const void *value, size_t size)
{
        return ab_str_make(value ? value : "", size);
}

const struct ab_record_headers *ab_record_headers(const struct ab_record *r)
{
        rd_kafka_headers_t *hdrs;

        if (rd_kafka_message_headers(msg(r), &hdrs))
                return NULL;
        return (const struct ab_record_headers *)hdrs;
}

struct ab_str ab_record_headers_get(const struct ab_record_headers *h,
                                    const char *name)
{
        const void *value;
        size_t size;

        if (!h || rd_kafka_header_get_last((const rd_kafka_headers_t *)h, name,
                                           &value, &size))
                return AB_STR_NULL;
        return header_value(value, size);
}

struct ab_trace_ctx ab_record_headers_trace(const struct ab_record_headers *h)
{
        return ab_trace_pick(
            ab_record_headers_get(h, AB_TRACE_HEADER_PARENT),
            ab_record_headers_get(h, AB_TRACE_HEADER_STATE),
            ab_record_headers_get(h, AB_TRACE_HEADER_CE_PARENT),
            ab_record_headers_get(h, AB_TRACE_HEADER_CE_STATE));
}

struct ab_str ab_record_header(const struct ab_record *r, const char *name)
{
        return ab_record_headers_get(ab_record_headers(r), name);
}

int ab_record_header_at(const struct ab_record *r, size_t idx,
                        const char **name, struct ab_str *value)
{
        rd_kafka_headers_t *hdrs;
        const void *v;
        size_t size;

        if (rd_kafka_message_headers(msg(r), &hdrs) ||
            rd_kafka_header_get_all(hdrs, idx, name, &v, &size))
                return -1;
        *value = header_value(v, size);
        return 0;
}

void ab_record_destroy(struct ab_record *r)
{
        if (r)
                rd_kafka_message_destroy((rd_kafka_message_t *)r);
}
