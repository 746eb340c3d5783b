/* filter.h - which events the sink publishes: types, levels, policies. */
#ifndef AB_SINK_FILTER_H
#define AB_SINK_FILTER_H

#include <stdbool.h>
#include <stddef.h>

/* Filters; an empty list or mask means "any". */
struct ab_sink_filters {
        char **types; /* full ("aliyun:arms:alarm:create") or short
                         ("create") event types */
        size_t ntypes;
        unsigned severity_mask; /* bit n-1: level Pn */
        char **policies;        /* data.data.dispatchRuleName */
        size_t npolicies;
        char **integrations; /* the `integration` extension */
        size_t nintegrations;
};

/**
 * Decide whether an event passes \p f. \p event is the structured JSON
 * (binary: NULL, with \p type and \p integration from the ce_ headers and
 * \p data the record value). @returns true when it passes.
 */
bool ab_sink_filter_match(const struct ab_sink_filters *f, const char *event,
                          size_t len, const char *type, size_t type_len,
                          const char *integration, size_t integration_len,
                          const char *data, size_t data_len);

#endif
