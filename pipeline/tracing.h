/* tracing.h - an input record's W3C trace context on its way to the
 * events: checked and counted once, and read back from an ACTION record. */
#ifndef AB_TRACING_H
#define AB_TRACING_H

#include <stdint.h>

#include "core/trace.h"
#include "pipeline/alert_record.h"
#include "pipeline/pipeline_metrics.h"

struct ab_input;

/* What one processor keeps to count and log invalid headers. Zero, then
 * `pm` set (or left NULL: no metrics), is ready. */
struct ab_tracing {
        const struct ab_pipeline_metrics *pm;
        int64_t warn_ms;   /* when the last WARN was logged; 0: never */
        uint64_t unlogged; /* invalid headers since, logged at DEBUG */
};

/**
 * The valid trace context of \p in (ab_trace_check()). An invalid
 * traceparent or tracestate is dropped, never a rejection: it counts in
 * traceparent_invalid_total or tracestate_invalid_total and is logged,
 * at WARN at most once a minute (with how many went to DEBUG since), so
 * a producer that sends nothing but bad headers cannot flood the log.
 * The result borrows from \p in.
 */
struct ab_trace_ctx ab_tracing_check(struct ab_tracing *t,
                                     const struct ab_input *in);

/**
 * An ACTION record's trace context headers, unvalidated, picked as
 * ab_record_headers_trace() picks a record's (the last of each name; a header
 * without a value is empty). Borrows from \p a.
 */
struct ab_trace_ctx
ab_tracing_of_action(const struct ab_alert_record_action *a);

#endif
