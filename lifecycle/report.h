/* report.h - the deduplication report: which inputs merged into which
 * fingerprint, and the events that resulted. */
#ifndef AB_LIFECYCLE_REPORT_H
#define AB_LIFECYCLE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/err.h"
#include "transform/alert.h"
#include "transform/event.h"
#include "transform/integration.h"

/*
 * Like the ARMS console's "Deduplication Test": one group per fingerprint,
 * with the inputs merged into it and the event types it produced. Used by
 * `alertbridge test --dedup` and replay summaries. Memory grows with the
 * number of groups; per group at most AB_LIFECYCLE_REPORT_KEEP inputs and
 * event types are listed, the rest only counted.
 *
 * Usage: for every alert of input record i, call ab_lifecycle_report_input()
 * and then ab_lifecycle_process() (the processor's alert observer,
 * pipeline/processor.h, is called at that point); from the emit callback
 * call ab_lifecycle_report_event() with each event (actions and expiry
 * too).
 * Finally ab_lifecycle_report_render() or ab_lifecycle_report_write().
 */
struct ab_lifecycle_report;

#define AB_LIFECYCLE_REPORT_KEEP 64

/** @returns a new empty report, or NULL when out of memory. */
struct ab_lifecycle_report *ab_lifecycle_report_new(void);
/** NULL-safe. */
void ab_lifecycle_report_destroy(struct ab_lifecycle_report *r);

/**
 * Record that alert \p a, element a->index of input record \p input (which
 * mapped to \p nalerts alerts), has the fingerprint \p fp under \p integ
 * (hex, as ab_lifecycle_fingerprint() computes it).
 */
ab_err_t ab_lifecycle_report_input(struct ab_lifecycle_report *r,
                                   const struct ab_integration *integ,
                                   const struct ab_alert *a, const char *fp,
                                   size_t input, size_t nalerts);

/** Groups so far: one per distinct fingerprint. */
size_t ab_lifecycle_report_groups(const struct ab_lifecycle_report *r);

/** Has \p r a group for fingerprint \p fp? */
bool ab_lifecycle_report_has(const struct ab_lifecycle_report *r,
                             const char *fp);

/** Record one event emitted by the lifecycle (borrowed, not kept). */
ab_err_t ab_lifecycle_report_event(struct ab_lifecycle_report *r,
                                   const struct ab_event *ev);

/**
 * Append the report as text, groups in order of first appearance:
 *
 *   dedup report: 4 alerts from 3 inputs in 2 groups, 3 events
 *   group 1 fingerprint 3a0c...e1 (check=cpu, source=10.0.0.1)
 *     inputs (2): 0, 2
 *     events (2): create, close
 *
 * An input record with several alerts is shown as input[element].
 */
ab_err_t ab_lifecycle_report_render(const struct ab_lifecycle_report *r,
                                    struct ab_buf *out);

/** Render into \p out. @returns AB_OK, AB_ERR_IO or AB_ERR_NOMEM. */
ab_err_t ab_lifecycle_report_write(const struct ab_lifecycle_report *r,
                                   FILE *out);

#endif
