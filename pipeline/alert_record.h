/* alert_record.h - the records of the internal topic <group>.alerts: one
 * mapped alert (ALERT), one original action record (ACTION), or a batch
 * of them for one partition (BATCH). */
#ifndef AB_ALERT_RECORD_H
#define AB_ALERT_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/str.h"
#include "core/trace.h"
#include "transform/alert.h"

/*
 * The map stage encodes, the lifecycle stage decodes
 * (docs/stateful-pipeline.md, "Record formats"; the byte layout is in
 * alert_record.c). A decoded record is a view: its strings borrow from
 * the record bytes, its arrays and its alert from a caller-owned scratch
 * that grows only when a record needs more than any before, so decoding
 * does not allocate after warm-up. A BATCH decodes to its entries'
 * bytes, each then decoded on its own. Anything that is not a record of a
 * version this one reads (1, 2 and 3) is AB_ERR_BAD_RECORD (a REJECT: a dead
 * letter) with the byte offset of the problem; decoding never reads past the
 * record.
 */

#define AB_ALERT_RECORD_MAGIC "ABAR"
/* The newest version of an ALERT or ACTION: 2 adds an ALERT's trace
 * context. A writer writes version 1 for every record that has none (so a
 * version 1 reader still reads it) and version 2 only for an ALERT that
 * carries one. */
#define AB_ALERT_RECORD_VERSION 2
/* A BATCH is version 3 and nothing else is: a reader of versions 1 and 2
 * rejects it rather than misreading it. */
#define AB_ALERT_RECORD_BATCH_VERSION 3
/* A binary fingerprint (AB_LIFECYCLE_FP_LEN). */
#define AB_ALERT_RECORD_FP_LEN 16
/* The routing prefix of an action: the bytes an alert id shares with its
 * fingerprint. */
#define AB_ALERT_RECORD_ROUTE_LEN 8

enum ab_alert_record_kind {
        AB_ALERT_RECORD_ALERT  = 1,
        AB_ALERT_RECORD_ACTION = 2,
        AB_ALERT_RECORD_BATCH  = 3,
};

/* Where a record of the map stage's input came from. */
struct ab_alert_record_origin {
        struct ab_str topic;
        int32_t partition;
        int64_t offset;
};

/* ALERT: one alert the map stage mapped and fingerprinted. */
struct ab_alert_record_alert {
        struct ab_str integration; /* the integration's name, not empty */
        unsigned char fp[AB_ALERT_RECORD_FP_LEN];
        int64_t event_ms; /* the event time the lifecycle applies it at */
        struct ab_alert_record_origin origin;
        const struct ab_alert *alert; /* severity 1..4 */
        /* Decoded: alert's content in the lifecycle's alert coding, the
         * record's own bytes (lifecycle.h); NULL when encoding. */
        const unsigned char *coded;
        size_t coded_len;
        /* The input record's trace context (core/trace.h), valid or
         * absent; decoded records are checked again. */
        struct ab_trace_ctx trace;
};

/* ACTION: the action record exactly as it arrived. Header values, the
 * key and the value may be absent (ptr NULL), which differs from empty. */
struct ab_alert_record_action {
        struct ab_alert_record_origin origin;
        int64_t timestamp_ms;
        struct ab_str key;
        struct ab_str value;
        const struct ab_kv *headers; /* key = name, val = value, in order */
        size_t nheaders;
};

/* BATCH: ALERT and ACTION records of one partition, in the order they
 * are applied. A decoded batch has been walked once: every entry is a
 * record of version 1 or 2 and kind ALERT or ACTION by its head (its
 * content is checked when it is decoded), and there is at least one. */
struct ab_alert_record_batch {
        struct ab_str body; /* the entries, borrowed from the record */
        size_t count;
};

/* A decoded record: `alert` is set for kind ALERT, `action` for ACTION,
 * `batch` for BATCH. */
struct ab_alert_record {
        enum ab_alert_record_kind kind;
        struct ab_alert_record_alert alert;
        struct ab_alert_record_action action;
        struct ab_alert_record_batch batch;
};

/* What a decoded record borrows besides its bytes: the alert and the
 * label, annotation or header array. Zero-initialized is ready. */
struct ab_alert_record_scratch {
        struct ab_alert alert;
        struct ab_kv *kv;
        size_t kv_cap;
};

/** Free the scratch's arrays. NULL-safe; zero-initialized again. */
void ab_alert_record_scratch_fini(struct ab_alert_record_scratch *s);

/**
 * Append the ALERT record of \p in to \p out.
 * @returns AB_OK; AB_ERR_NOMEM or AB_ERR_TOO_LARGE (out's limit), then
 *          \p out is unchanged; AB_ERR_INTERNAL for an alert no mapping
 *          produces (severity outside 1..4, empty integration name) or
 *          an invalid trace context (a tracestate without a traceparent
 *          too).
 */
ab_err_t ab_alert_record_encode_alert(const struct ab_alert_record_alert *in,
                                      struct ab_buf *out, struct ab_error *err);

/** Append the ACTION record of \p in to \p out; errors as above. */
ab_err_t ab_alert_record_encode_action(const struct ab_alert_record_action *in,
                                       struct ab_buf *out,
                                       struct ab_error *err);

/**
 * Append the ALERT or ACTION record of \p len bytes at \p rec (as the
 * encoders above wrote it) to the BATCH record in \p out, which an empty
 * \p out starts.
 * @returns AB_OK; AB_ERR_NOMEM or AB_ERR_TOO_LARGE (out's limit), then
 *          \p out is unchanged; AB_ERR_INTERNAL when \p rec is no such
 *          record by its head.
 */
ab_err_t ab_alert_record_batch_add(struct ab_buf *out, const void *rec,
                                   size_t len, struct ab_error *err);

/** The bytes ab_alert_record_batch_add() adds to a batch of \p used bytes
 * (0: none yet) for a record of \p len bytes. */
size_t ab_alert_record_batch_cost(size_t used, size_t len);

/**
 * The entry of \p b at \p *at (0: the first) in \p rec, and \p *at moved
 * past it. A view into the batch's record.
 * @returns false after the last entry.
 */
bool ab_alert_record_batch_next(const struct ab_alert_record_batch *b,
                                size_t *at, struct ab_str *rec);

/**
 * Decode the \p len bytes at \p data into \p out. The view borrows from
 * \p data and \p s until either changes or \p s decodes again.
 * @returns AB_OK, AB_ERR_BAD_RECORD with the byte offset in \p err, or
 *          AB_ERR_NOMEM (growing the scratch).
 */
ab_err_t ab_alert_record_decode(const void *data, size_t len,
                                struct ab_alert_record_scratch *s,
                                struct ab_alert_record *out,
                                struct ab_error *err);

/**
 * The partition of <group>.alerts that owns \p prefix (a fingerprint or
 * a routing prefix, at least 4 bytes) among \p n > 0: its first four
 * bytes big-endian, modulo \p n. 0 when \p n <= 0.
 */
int32_t ab_alert_record_route(const unsigned char *prefix, int32_t n);

/**
 * The routing prefix of the action record \p json (\p len bytes): the
 * first AB_ALERT_RECORD_ROUTE_LEN bytes of its `alert_id` (which starts
 * with its fingerprint's), else of its `fingerprint`.
 * @returns AB_OK, AB_ERR_ACTION_INVALID when the record is no JSON
 *          object, names neither or names one that is not 32 hex
 *          characters, or AB_ERR_NOMEM.
 */
ab_err_t
ab_alert_record_action_route(const char *json, size_t len,
                             unsigned char prefix[AB_ALERT_RECORD_ROUTE_LEN],
                             struct ab_error *err);

#endif
