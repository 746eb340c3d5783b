/* event.h - serializes alert lifecycle events as ARMS-shaped CloudEvents 1.0.
 */
#ifndef AB_EVENT_H
#define AB_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/trace.h"
#include "transform/alert.h"

enum ab_event_type {
        AB_EVENT_CREATE = 0,
        AB_EVENT_CLAIM,
        AB_EVENT_COMMENT,
        AB_EVENT_CLOSE,
        AB_EVENT__COUNT
};

/** "aliyun:arms:alarm:create" etc. */
const char *ab_event_type_name(enum ab_event_type t);
/** "create", "claim", "comment", "close". Hashed into lifecycle event ids:
 *  never change them. */
const char *ab_event_type_short(enum ab_event_type t);

#define AB_EVENT_ID_LEN 32 /* hex characters */

/*
 * Everything one CloudEvent says. All pointers are borrowed for the
 * duration of the write call; NULL means "absent".
 *
 * Output (structured mode):
 *   {specversion, id, source, type, subject, time, datacontenttype,
 *    alertid, integration, [alertcount], [traceparent, [tracestate]],
 *    data: {owner, [handler, operator, comment, solution], timestamp,
 *           data: {status, level, dispatchRuleName, startTime, [endTime],
 *                  externalURL, receiver, alerts: [{fingerprint, status,
 *                  startsAt, endsAt, labels, annotations, [generatorURL]}],
 *                  commonLabels, commonAnnotations, groupLabels}}}
 * `alertid`, `integration` and `alertcount` are CloudEvents extension
 * attributes (lower-case, at most 20 characters); `traceparent` and
 * `tracestate` are the CloudEvents distributed-tracing extension, the
 * input record's W3C trace context written as given (the caller
 * validates it, core/trace.h).
 */
struct ab_event {
        enum ab_event_type type;
        char id[AB_EVENT_ID_LEN + 1];
        char alert_id[AB_EVENT_ID_LEN + 1];
        char fingerprint[AB_EVENT_ID_LEN + 1];
        const char *source;      /* CloudEvents source */
        const char *integration; /* integration name */
        int64_t time_ms;         /* CloudEvents time and data.timestamp */
        const struct ab_alert *alert;
        bool resolved;    /* data.data.status */
        int64_t start_ms; /* startTime / startsAt */
        int64_t end_ms;   /* endTime / endsAt when resolved */
        uint64_t count;   /* events merged into the alert; 0 = omit */
        const char *owner;
        const char *handler;
        const char *operator_name;
        const char *comment;
        const char *solution;
        const char *dispatch_rule; /* dispatchRuleName */
        const char *receiver;      /* NULL: the alert's receiver field */
        const char *external_url;  /* NULL: the alert's externalURL field */
        struct ab_trace_ctx trace; /* absent: no tracing attributes */
        bool by_system;            /* an auto-clear or eviction close: no input
                                      record asked for it (not written) */
};

/**
 * Fill \p ev for a stateless transform (no lifecycle): CREATE for a firing
 * alert, CLOSE for a recovery. The id is derived from the integration name,
 * the payload bytes, the element index and the type, so the same input
 * always gives the same id. Strings set on \p ev borrow from \p a and
 * \p integration_name.
 */
void ab_event_from_alert(struct ab_event *ev, const struct ab_alert *a,
                         const char *integration_name, const char *payload,
                         size_t payload_len, int64_t now_ms);

/*
 * What the ids of one record's stateless events share (the integration
 * name and the payload, hashed once): set one per record with
 * ab_event_idbase_init(), then fill each alert's event with
 * ab_event_from_alert_base(). A caller-owned value (on the stack: no
 * allocation per record) that borrows nothing; its bytes are private to
 * event.c.
 */
struct ab_event_idbase {
        unsigned char digest[16];
};

/** Hash \p integration (NULL: empty) and \p payload into \p base. */
void ab_event_idbase_init(struct ab_event_idbase *base, const char *integration,
                          const char *payload, size_t payload_len);

/**
 * ab_event_from_alert() for a record whose payload is hashed in \p base
 * (NULL: no id): the same event and the same id, in time
 * independent of the payload's size.
 */
void ab_event_from_alert_base(struct ab_event *ev, const struct ab_alert *a,
                              const char *integration_name,
                              const struct ab_event_idbase *base,
                              int64_t now_ms);

/**
 * Append the structured-mode CloudEvent JSON (no trailing newline).
 */
ab_err_t ab_event_write(struct ab_buf *out, const struct ab_event *ev);

/** Append only the `data` member's value (binary-mode record value). */
ab_err_t ab_event_write_data(struct ab_buf *out, const struct ab_event *ev);

/** Write \p n bytes of \p digest as lower-case hex into \p out (2n+1). */
void ab_hex(const unsigned char *digest, size_t n, char *out);

#endif
