/* dead_letter.h - dead letters reduced to fit the producer's size limit. */
#ifndef AB_DEAD_LETTER_H
#define AB_DEAD_LETTER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/str.h"
#include "producer/headers.h"

/*
 * A dead letter is the input record (key, value, its own headers) plus the
 * dead-letter headers, so it can be larger than the producer accepts
 * (message.max.bytes) while the input was not: then it could never be
 * written and the record would stop its service on every restart. Such a
 * dead letter is written in a reduced form instead, marked by these
 * headers (values are decimal or lower-case hex text):
 */
#define AB_DLQ_HDR_TRUNCATED        "alertbridge.truncated"       /* "true" */
#define AB_DLQ_HDR_ORIGINAL_SIZE    "alertbridge.original.size"   /* value */
#define AB_DLQ_HDR_ORIGINAL_SHA256  "alertbridge.original.sha256" /* value */
#define AB_DLQ_HDR_ORIGINAL_KEYSIZE "alertbridge.original.key.size"
#define AB_DLQ_HDR_HEADERS_DROPPED  "alertbridge.original.headers.dropped"

/*
 * Bytes a record takes against message.max.bytes, counted conservatively:
 * key, value, every header's name and value, and a fixed allowance for
 * the record and batch framing (librdkafka counts less).
 */
size_t ab_dead_letter_size(struct ab_str key, struct ab_str value,
                           const struct ab_headers *headers);

/**
 * Make the dead letter \p *key, \p *value, \p headers (the record's own
 * headers followed by ab_headers_add_dlq()'s) fit in \p max_bytes, the
 * producer's limit (ab_producer_max_message_bytes()).
 *
 * When it fits already, nothing changes and \p *reduced is false.
 * Otherwise \p *reduced is true and the dead letter is rewritten in place:
 * - \p headers keeps, in their order, the dead-letter headers (the last
 *   of each name; values over a cap are cut at a UTF-8 boundary) and
 *   those of the record's own headers that fit, in order, within a
 *   quarter of the limit (the others are dropped and counted in
 *   AB_DLQ_HDR_HEADERS_DROPPED), then gains
 *   AB_DLQ_HDR_TRUNCATED, AB_DLQ_HDR_ORIGINAL_SIZE and
 *   AB_DLQ_HDR_ORIGINAL_SHA256 of the original value;
 * - \p *key becomes its first bytes when it exceeds a sixteenth of the
 *   limit (AB_DLQ_HDR_ORIGINAL_KEYSIZE then gives its size);
 * - \p *value becomes its first bytes, as many as the limit leaves.
 * \p *key and \p *value still point into the caller's buffers. The
 * dead-letter topic's max.message.bytes (broker default 1048588) must not
 * be below the producer's limit, or the broker refuses what fits here.
 *
 * @returns AB_OK; AB_ERR_NOMEM (the headers may then be incomplete);
 *          AB_ERR_TOO_LARGE when \p max_bytes is too small even for the
 *          reduced form (not for librdkafka's minimum, 1000).
 */
ab_err_t ab_dead_letter_fit(struct ab_headers *headers, struct ab_str *key,
                            struct ab_str *value, size_t max_bytes,
                            bool *reduced);

#endif
