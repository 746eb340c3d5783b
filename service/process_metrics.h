/* process_metrics.h - build info and the standard process_* metrics. */
#ifndef AB_PROCESS_METRICS_H
#define AB_PROCESS_METRICS_H

#include "core/err.h"
#include "service/metrics.h"

/*
 * What every Prometheus client library exports for a process, under the
 * same names, so existing dashboards and alerts apply:
 *   alertbridge_build_info{version,commit}  gauge, always 1
 *   process_cpu_seconds_total      user + system CPU time
 *   process_resident_memory_bytes  RSS
 *   process_virtual_memory_bytes   virtual size
 *   process_open_fds, process_max_fds
 *   process_start_time_seconds     since the Unix epoch
 * The process_* values are read from /proc at every scrape; where /proc
 * is missing they are left out.
 */

/**
 * Register build info and the process collector in \p reg.
 * @returns AB_OK, or a registration error.
 */
ab_err_t ab_process_metrics_register(struct ab_metrics *reg,
                                     struct ab_error *err);

#endif
