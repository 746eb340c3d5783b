/* tracing.c - checks, counts and logs an input record's trace context
 * headers; reads them back from an ACTION record. */
#include "pipeline/tracing.h"

#include "core/log.h"
#include "core/timefmt.h"
#include "pipeline/processor.h"

#define WARN_INTERVAL_MS 60000

struct ab_trace_ctx ab_tracing_check(struct ab_tracing *t,
                                     const struct ab_input *in)
{
        struct ab_trace_ctx out;
        enum ab_trace_verdict v = ab_trace_check(in->trace, &out);
        const char *header;
        char shown[AB_SHOWN_SIZE];
        struct ab_str bad;
        int64_t now;

        if (v == AB_TRACE_OK)
                return out;
        header = v == AB_TRACE_BAD_PARENT ? "traceparent" : "tracestate";
        bad    = v == AB_TRACE_BAD_PARENT ? in->trace.traceparent
                                          : in->trace.tracestate;
        if (t->pm)
                ab_metrics_inc(v == AB_TRACE_BAD_PARENT
                                   ? t->pm->traceparent_invalid
                                   : t->pm->tracestate_invalid);
        ab_str_escape(shown, sizeof(shown), bad.ptr, bad.len);
        now = ab_time_mono_ms();
        if (t->warn_ms && now - t->warn_ms < WARN_INTERVAL_MS) {
                t->unlogged++;
                AB_DEBUG("pipeline", "invalid trace context header dropped",
                         "header=%s value=\"%s\" topic=%s partition=%d "
                         "offset=%lld",
                         header, shown, in->topic, (int)in->partition,
                         (long long)in->offset);
                return out;
        }
        AB_WARN("pipeline",
                "invalid trace context header dropped, the record is "
                "processed without it",
                "header=%s value=\"%s\" topic=%s partition=%d offset=%lld "
                "unlogged_since=%llu",
                header, shown, in->topic, (int)in->partition,
                (long long)in->offset, (unsigned long long)t->unlogged);
        t->warn_ms  = now;
        t->unlogged = 0;
        return out;
}

struct ab_trace_ctx ab_tracing_of_action(const struct ab_alert_record_action *a)
{
        static const char *const names[4] = {
            AB_TRACE_HEADER_PARENT, AB_TRACE_HEADER_STATE,
            AB_TRACE_HEADER_CE_PARENT, AB_TRACE_HEADER_CE_STATE};
        struct ab_str v[4] = {AB_STR_NULL, AB_STR_NULL, AB_STR_NULL,
                              AB_STR_NULL};

        for (size_t i = 0; i < a->nheaders; i++)
                for (size_t k = 0; k < 4; k++)
                        if (ab_str_eq_c(a->headers[i].key, names[k]))
                                v[k] = a->headers[i].val.ptr
                                           ? a->headers[i].val
                                           : ab_str_make("", 0);
        return ab_trace_pick(v[0], v[1], v[2], v[3]);
}
