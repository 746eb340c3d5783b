/* trace.h - W3C Trace Context headers (traceparent, tracestate): strict
 * validation of what an input record carries. */
#ifndef AB_TRACE_H
#define AB_TRACE_H

#include <stdbool.h>

#include "core/str.h"

/*
 * https://www.w3.org/TR/trace-context/ (Level 1). alertbridge does not
 * trace; it carries an input record's trace context to the events made
 * from it (the CloudEvents distributed-tracing extension), unchanged, so
 * the only thing it decides is whether a header is valid.
 *
 * traceparent, version 00: "vv-<trace-id>-<parent-id>-ff", exactly 55
 * characters, lower-case hex only; version ff is invalid; a trace id of
 * 32 or a parent id of 16 zeros is invalid. A higher version (01..fe) is
 * read by the spec's rule for versions it does not know: at least 55
 * characters, the version 00 fields at their places, then either the
 * end or '-' and more; alertbridge bounds it at AB_TRACEPARENT_MAX
 * visible ASCII characters and carries it as received.
 *
 * tracestate: the list grammar of the spec (list members `key=value`
 * separated by ',' with optional spaces and tabs; keys `simple-key` or
 * `tenant@system` of the allowed characters and lengths; values of 1 to
 * 256 printable characters other than ',' and '=', not ending in a
 * space), at most AB_TRACESTATE_MAX_MEMBERS members and, as the spec lets
 * a vendor choose, at most AB_TRACESTATE_MAX characters: a longer one is
 * invalid (dropped whole, never cut).
 */

#define AB_TRACEPARENT_LEN        55  /* version 00, exactly */
#define AB_TRACEPARENT_MAX        256 /* a future version, at most */
#define AB_TRACESTATE_MAX         512
#define AB_TRACESTATE_MAX_MEMBERS 32

/* A record's trace context: borrowed views, ptr NULL = absent. A
 * tracestate is only ever present with a traceparent. */
struct ab_trace_ctx {
        struct ab_str traceparent;
        struct ab_str tracestate;
};

#define AB_TRACE_NONE ((struct ab_trace_ctx){AB_STR_NULL, AB_STR_NULL})

/* The Kafka header names a record's trace context is read from: the W3C
 * names, and the CloudEvents Kafka binding's (an input that is itself a
 * binary-mode CloudEvent). */
#define AB_TRACE_HEADER_PARENT    "traceparent"
#define AB_TRACE_HEADER_STATE     "tracestate"
#define AB_TRACE_HEADER_CE_PARENT "ce_traceparent"
#define AB_TRACE_HEADER_CE_STATE  "ce_tracestate"

/**
 * The trace context a record's headers name, unvalidated: the W3C pair
 * (\p tp, \p ts) when it has a traceparent, else the CloudEvents pair
 * (\p ce_tp, \p ce_ts); never a mix of the two.
 */
struct ab_trace_ctx ab_trace_pick(struct ab_str tp, struct ab_str ts,
                                  struct ab_str ce_tp, struct ab_str ce_ts);

enum ab_trace_verdict {
        AB_TRACE_OK = 0,     /* carried as given, or there was none */
        AB_TRACE_BAD_PARENT, /* an invalid traceparent: nothing carried */
        AB_TRACE_BAD_STATE,  /* an invalid tracestate: the traceparent
                                alone carried */
};

/**
 * Check the record's trace context \p raw and set \p out to what is
 * carried: nothing without a traceparent (a tracestate alone means
 * nothing, as the spec says) or with an invalid one; the traceparent
 * without its tracestate when that is empty (the same as none) or
 * invalid. \p out borrows from \p raw.
 * @returns AB_TRACE_OK, or which header was invalid and dropped.
 */
enum ab_trace_verdict ab_trace_check(struct ab_trace_ctx raw,
                                     struct ab_trace_ctx *out);

/** @returns whether \p s is a valid traceparent (above). */
bool ab_traceparent_valid(struct ab_str s);

/** @returns whether \p s is a valid tracestate (above); "" is valid. */
bool ab_tracestate_valid(struct ab_str s);

#endif
