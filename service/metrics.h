/* metrics.h - a Prometheus metrics registry. */
#ifndef AB_METRICS_H
#define AB_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

/*
 * A registry holds metric families (one name, one HELP text, one TYPE,
 * fixed label names), each with one or more series (one set of label
 * values). Families and series are created at startup; afterwards the hot
 * path only updates series through the handles it got, which are lock-free
 * atomic operations, safe from any thread. Rendering (the HTTP thread) and
 * registration take the registry's mutex, so a late registration is safe,
 * but it allocates: do it before the work starts.
 *
 * Every name is given without the `alertbridge_` prefix, which the
 * registry adds: "records_in_total" is exposed as
 * "alertbridge_records_in_total".
 */
#define AB_METRICS_PREFIX "alertbridge_"

/* Label names per family, and buckets per histogram, are bounded. */
#define AB_METRICS_MAX_LABELS  4
#define AB_METRICS_MAX_BUCKETS 32

struct ab_metrics;
struct ab_metrics_family;
/* One series: the handle the hot path updates. */
struct ab_metric;

enum ab_metrics_type {
        AB_METRICS_COUNTER = 0,
        AB_METRICS_GAUGE,
        AB_METRICS_HISTOGRAM,
};

/*
 * Describes one family. All strings are copied.
 *   name     [a-zA-Z_:][a-zA-Z0-9_:]*, without the prefix; counters
 *            should end in "_total", histograms in a unit ("_seconds").
 *   labels   NULL-terminated label names ([a-zA-Z_][a-zA-Z0-9_]*, not
 *            starting with "__", not "le" on a histogram), or NULL.
 *   buckets  histogram upper bounds, strictly ascending, finite; the
 *            +Inf bucket is implicit. Ignored for other types.
 */
struct ab_metrics_desc {
        enum ab_metrics_type type;
        const char *name;
        const char *help;
        const char *const *labels;
        const double *buckets;
        size_t nbuckets;
};

/** @returns an empty registry, or NULL when out of memory. */
struct ab_metrics *ab_metrics_new(void);

/** Free the registry and every family and series in it. NULL-safe. */
void ab_metrics_destroy(struct ab_metrics *reg);

/**
 * Register a family described by \p desc. A family without labels gets
 * its only series at once (see ab_metrics_series()).
 * @returns AB_OK with \p *out set (owned by the registry; \p out may be
 *          NULL), AB_ERR_INTERNAL for an invalid description or a name
 *          already registered, or AB_ERR_NOMEM.
 */
ab_err_t ab_metrics_register(struct ab_metrics *reg,
                             const struct ab_metrics_desc *desc,
                             struct ab_metrics_family **out,
                             struct ab_error *err);

/**
 * The series of \p fam with \p values (one per label name, in order; NULL
 * for a family without labels), created on first use; the same values give
 * the same handle. Label values may hold any bytes except NUL.
 * @returns AB_OK with \p *out set (owned by the registry), or AB_ERR_NOMEM.
 */
ab_err_t ab_metrics_series(struct ab_metrics_family *fam,
                           const char *const *values, struct ab_metric **out,
                           struct ab_error *err);

/**
 * Register a family without labels and return its series: the common case
 * in one call. Same errors as ab_metrics_register().
 */
ab_err_t ab_metrics_register_one(struct ab_metrics *reg,
                                 const struct ab_metrics_desc *desc,
                                 struct ab_metric **out, struct ab_error *err);

/*
 * Updates. All are lock-free, thread-safe and accept a NULL handle (then
 * they do nothing), so code can run with metrics switched off.
 */

/** Counter: add 1. */
void ab_metrics_inc(struct ab_metric *m);
/** Counter: add \p n. */
void ab_metrics_add(struct ab_metric *m, uint64_t n);
/** Gauge: set to \p v. */
void ab_metrics_set(struct ab_metric *m, int64_t v);
/** Gauge: add \p delta (may be negative). */
void ab_metrics_gauge_add(struct ab_metric *m, int64_t delta);
/** Histogram: record one observation of \p v (e.g. seconds). */
void ab_metrics_observe(struct ab_metric *m, double v);

/*
 * A histogram's observations gathered by one thread without atomics and
 * added to the series in one go: for per-record observations in a loop
 * (one atomic add per bucket used at a flush instead of three per
 * observation). The owner flushes it as often as the series should be
 * fresh, e.g. once per batch of records.
 */
struct ab_metrics_tally {
        struct ab_metric *m; /* NULL: observations are dropped */
        const double *buckets;
        size_t nbuckets;
        uint64_t counts[AB_METRICS_MAX_BUCKETS + 1];
        uint64_t n;
        double sum;
};

/** Start an empty tally for histogram \p m (NULL-safe). */
void ab_metrics_tally_init(struct ab_metrics_tally *t, struct ab_metric *m);
/** Note one observation of \p v. */
void ab_metrics_tally_observe(struct ab_metrics_tally *t, double v);
/** Add the noted observations to the series and start afresh. */
void ab_metrics_tally_flush(struct ab_metrics_tally *t);

/**
 * @returns the current value of a counter or gauge (0 for NULL); for a
 *          histogram, the number of observations.
 */
int64_t ab_metrics_value(const struct ab_metric *m);

/**
 * Appends families of its own to \p out at every render, after the
 * registered ones, in the exposition format (HELP, TYPE, samples): for
 * values read at scrape time, such as the process_* metrics.
 */
typedef ab_err_t (*ab_metrics_collect_fn)(void *arg, struct ab_buf *out);

/**
 * Add a collector, called (under the registry's mutex) at every render.
 * @returns AB_OK or AB_ERR_NOMEM.
 */
ab_err_t ab_metrics_add_collector(struct ab_metrics *reg,
                                  ab_metrics_collect_fn fn, void *arg,
                                  struct ab_error *err);

/**
 * Append every family in the Prometheus text exposition format 0.0.4
 * (HELP and TYPE lines, families and series in registration order) to
 * \p out. Takes the registry's mutex, so it can run in any thread.
 * @returns AB_OK, or the buffer's error (AB_ERR_NOMEM, AB_ERR_TOO_LARGE).
 */
ab_err_t ab_metrics_render(struct ab_metrics *reg, struct ab_buf *out);

#endif
