/* batch.h - packs CloudEvents into PutEvents bodies within the limits. */
#ifndef AB_SINK_BATCH_H
#define AB_SINK_BATCH_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"

/*
 * A PutEvents body is a JSON array of CloudEvents in the JSON format
 * (content type application/cloudevents-batch+json; charset=utf-8). Each
 * event carries the `aliyuneventbusname` extension naming the target bus.
 *
 * Limits (formats.md 1.7, the PutEvents API page; configurable because the
 * product limits page allows more):
 *   - at most `max_events` (16) events per request;
 *   - at most `max_request_bytes` (256 KiB) per request, checked twice: the
 *     sum of the events' counted sizes and the body's actual byte length
 *     must both stay within it;
 *   - at most `max_event_bytes` (64 KiB) per event, counted by the
 *     service's rule: `time` counts 36 bytes; specversion, id, type,
 *     source, subject, dataschema and datacontenttype count the UTF-8 bytes
 *     of their values; `data` counts its raw bytes (a JSON string: its
 *     decoded bytes; any other JSON value: its JSON text; `data_base64`:
 *     the decoded bytes). The rule does not mention extensions; we count
 *     each extension's name and value bytes too (aliyuneventbusname
 *     included), so our count is never below the service's.
 * An event over its limit, or one the service would refuse (no string id,
 * source, type; specversion other than "1.0"; id longer than 128, source
 * longer than 128, type longer than 64, subject longer than 512 bytes) is
 * rejected with a reason instead of being sent.
 */

struct ab_batch_limits {
        size_t max_events;
        size_t max_request_bytes;
        size_t max_event_bytes;
};

#define AB_BATCH_MAX_EVENTS        16
#define AB_BATCH_MAX_REQUEST_BYTES 262144
#define AB_BATCH_MAX_EVENT_BYTES   65536
#define AB_BATCH_ID_MAX            128

/** The documented defaults: 16 events, 256 KiB, 64 KiB. */
void ab_batch_limits_default(struct ab_batch_limits *lim);

/* What encoding one event found out. */
struct ab_batch_event_info {
        char id[AB_BATCH_ID_MAX + 1]; /* the event id, unchanged */
        size_t counted;               /* size by the rule above */
};

/**
 * Append structured-mode CloudEvent \p json (\p len bytes, one JSON object)
 * to \p out as it goes into a request: the same members in the same order
 * with their values byte for byte, except that `aliyuneventbusname` is
 * set to \p bus (appended last, replacing any existing value) and, when
 * \p source is not NULL, `source` is replaced by it (the EventBridge
 * event source name). \p doc is scratch space reused across calls.
 * @returns AB_OK with \p info filled; AB_ERR_DECODE (not a JSON object, a
 *          required attribute missing or invalid) or AB_ERR_TOO_LARGE (over
 *          a limit), with the reason in \p err, and \p out unchanged;
 *          AB_ERR_NOMEM.
 */
ab_err_t ab_batch_encode_event(struct ab_buf *out, struct ab_json_doc *doc,
                               const char *json, size_t len, const char *bus,
                               const char *source,
                               const struct ab_batch_limits *lim,
                               struct ab_batch_event_info *info,
                               struct ab_error *err);

/* A binary-mode context attribute (Kafka header ce_<name>, name without
 * the prefix); values are UTF-8 strings of `len` bytes. */
struct ab_batch_attr {
        const char *name;
        size_t name_len;
        const char *value;
        size_t len;
};

/**
 * Like ab_batch_encode_event() for a binary-mode event (CloudEvents Kafka
 * binding): the attributes from the ce_* headers, \p content_type from the
 * content-type header (NULL if absent) and the record value as data. JSON
 * content types (absent, or a media type ending in "/json" or "+json")
 * whose value parses as JSON give `"data": <value>`; everything else gives
 * `data_base64`, as the SDK's serializer does.
 */
ab_err_t
ab_batch_encode_binary(struct ab_buf *out, struct ab_json_doc *doc,
                       const struct ab_batch_attr *attrs, size_t n,
                       const char *content_type, size_t content_type_len,
                       const char *data, size_t data_len, const char *bus,
                       const char *source, const struct ab_batch_limits *lim,
                       struct ab_batch_event_info *info, struct ab_error *err);

/* One request body under construction. */
struct ab_batch {
        struct ab_buf body; /* "[e1,e2" while open, "[e1,e2]" when done */
        size_t nevents;
        size_t counted;
        int finished;
        struct ab_batch_limits lim;
};

void ab_batch_init(struct ab_batch *b, const struct ab_batch_limits *lim);
/** Free the body. NULL-safe. */
void ab_batch_fini(struct ab_batch *b);
/** Start a new, empty body (keeps the allocation). */
void ab_batch_reset(struct ab_batch *b);

/**
 * Add one encoded event (from ab_batch_encode_event()) of \p counted size.
 * @returns AB_OK, or AB_ERR_TOO_LARGE when it does not fit the request's
 *          limits (the batch is unchanged: send it and start another),
 *          AB_ERR_NOMEM.
 */
ab_err_t ab_batch_add(struct ab_batch *b, const char *event, size_t len,
                      size_t counted);

/** Close the array. @returns the body (borrowed until the next reset),
 *  or NULL when out of memory. */
const char *ab_batch_finish(struct ab_batch *b, size_t *len);

#endif
