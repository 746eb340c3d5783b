/* record.h - read-only view of one consumed Kafka record. */
#ifndef AB_RECORD_H
#define AB_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "core/str.h"
#include "core/trace.h"

/*
 * A record handed out by ab_consumer_poll(). It is owned by the caller
 * until ab_record_destroy(); every string it returns is borrowed from it
 * and valid until then. Keys, values and header values are bytes, not
 * NUL-terminated. A record may outlive its consumer's poll loop but not
 * the consumer itself.
 */
struct ab_record;

const char *ab_record_topic(const struct ab_record *r);
int32_t ab_record_partition(const struct ab_record *r);
int64_t ab_record_offset(const struct ab_record *r);
/** @returns the record's timestamp in ms since the epoch, or -1. */
int64_t ab_record_timestamp(const struct ab_record *r);
/** @returns the key; ptr NULL when the record has none. */
struct ab_str ab_record_key(const struct ab_record *r);
/** @returns the value; ptr NULL for a null value (tombstone). */
struct ab_str ab_record_value(const struct ab_record *r);

/**
 * The last header named \p name (case-sensitive, as Kafka compares).
 * @returns its value; ptr NULL when absent; an empty value with a non-NULL
 *          ptr for a header whose value is null or empty.
 */
struct ab_str ab_record_header(const struct ab_record *r, const char *name);

/*
 * A record's headers, taken once for several lookups. librdkafka parses
 * them on first access and keeps the result, but a record without any is
 * parsed again (a buffer allocated and freed) on every access, so code
 * on the per-record path that reads several headers takes them here once.
 */
struct ab_record_headers;

/** The headers of \p r, borrowed from it; NULL when it has none. */
const struct ab_record_headers *ab_record_headers(const struct ab_record *r);

/** ab_record_header() on headers taken once (\p h may be NULL). */
struct ab_str ab_record_headers_get(const struct ab_record_headers *h,
                                    const char *name);

/**
 * The trace context headers of \p h (may be NULL), unvalidated
 * (core/trace.h): the last `traceparent` and `tracestate`, else the last
 * `ce_traceparent` and `ce_tracestate`. Borrowed like ab_record_header().
 */
struct ab_trace_ctx ab_record_headers_trace(const struct ab_record_headers *h);

/**
 * Header \p idx in record order, for copying all headers (dead-letter
 * copies). @returns 0 with \p name / \p value set, or -1 past the end.
 */
int ab_record_header_at(const struct ab_record *r, size_t idx,
                        const char **name, struct ab_str *value);

/** Free the record. NULL-safe. */
void ab_record_destroy(struct ab_record *r);

#endif
