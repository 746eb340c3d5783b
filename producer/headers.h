/* headers.h - a reusable list of Kafka record headers to produce with. */
#ifndef AB_HEADERS_H
#define AB_HEADERS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/str.h"

/*
 * Owned by the caller and reused across records: build it, hand it to
 * ab_producer_send() (which copies it), ab_headers_reset(), build the next.
 * Names and values are copied in; values are bytes. Order and duplicate
 * names are kept, as Kafka does.
 */
struct ab_headers;

/** @returns an empty list, or NULL when out of memory. */
struct ab_headers *ab_headers_new(void);
/** NULL-safe. */
void ab_headers_destroy(struct ab_headers *h);
/** Remove every header. */
void ab_headers_reset(struct ab_headers *h);
/** @returns how many headers the list holds. */
size_t ab_headers_count(const struct ab_headers *h);

/** Append header \p name with \p value (ptr NULL = a null value). */
ab_err_t ab_headers_add(struct ab_headers *h, const char *name,
                        struct ab_str value);
/** Append a NUL-terminated string value. */
ab_err_t ab_headers_add_str(struct ab_headers *h, const char *name,
                            const char *value);
/** Append a decimal integer value. */
ab_err_t ab_headers_add_i64(struct ab_headers *h, const char *name,
                            int64_t value);

/**
 * Header \p idx in order. @returns 0 with \p name and \p value set
 * (borrowed until the list changes; value ptr NULL for a null value), or
 * -1 past the end.
 */
int ab_headers_at(const struct ab_headers *h, size_t idx, const char **name,
                  struct ab_str *value);

/**
 * The last header named \p name. @returns its value (borrowed until the
 * list changes; a null value reads as empty), ptr NULL when absent.
 */
struct ab_str ab_headers_get(const struct ab_headers *h, const char *name);

/* The dead-letter headers: why a record could not become events and where
 * it came from. Values are UTF-8 text; numbers are decimal. */
#define AB_DLQ_HDR_ERROR_CODE    "alertbridge.error.code"
#define AB_DLQ_HDR_ERROR_MESSAGE "alertbridge.error.message"
#define AB_DLQ_HDR_TOPIC         "alertbridge.source.topic"
#define AB_DLQ_HDR_PARTITION     "alertbridge.source.partition"
#define AB_DLQ_HDR_OFFSET        "alertbridge.source.offset"
#define AB_DLQ_HDR_INTEGRATION   "alertbridge.integration"

/* Where a dead-lettered record came from and why. Borrowed strings. */
struct ab_dlq_info {
        const struct ab_error *error; /* code -> error.code; path, text
                                         and offset -> error.message */
        const char *topic;
        int32_t partition;
        int64_t offset;
        const char *integration; /* NULL when none was bound: omitted */
};

/**
 * Append the dead-letter headers for \p info (after the record's own
 * headers, which the caller copies first so the record stays unchanged).
 */
ab_err_t ab_headers_add_dlq(struct ab_headers *h,
                            const struct ab_dlq_info *info);

#endif
