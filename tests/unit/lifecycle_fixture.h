/* lifecycle_fixture.h - what the lifecycle suite's files share: integrations
 * and alerts built by hand, an event collector, and shorthands for feeding
 * alerts and actions to a lifecycle. */
#ifndef AB_TEST_LIFECYCLE_FIXTURE_H
#define AB_TEST_LIFECYCLE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "lifecycle/lifecycle.h"
#include "lifecycle/report.h"
#include "transform/alert.h"
#include "transform/event.h"
#include "transform/integration.h"

/* 2023-11-14T22:13:20.000Z: event times are offsets from here. */
#define T0     1700000000000LL
#define MIN_MS 60000LL

/* ---- fixtures ----------------------------------------------------------- */

/* An integration named \p name with auto_clear \p auto_clear (NULL: none)
 * and dedup.fields \p dedup (a JSON array text, NULL: none). */
struct ab_integration *integ_make(const char *name, const char *auto_clear,
                                  const char *dedup);

/* One hand-built normalized alert, labels sorted as the engine sorts. */
struct talert {
        struct ab_kv labels[5];
        struct ab_kv annotations[1];
        char sev[3];
        struct ab_alert a;
};

/* \p source or \p message NULL leaves that field unmapped. */
const struct ab_alert *talert_make(struct talert *t,
                                   enum ab_alert_status status,
                                   const char *name, const char *source,
                                   const char *check, int severity,
                                   const char *message);

/* ---- event collector ---------------------------------------------------- */

struct tev {
        enum ab_event_type type;
        char id[AB_EVENT_ID_LEN + 1];
        char alert_id[AB_EVENT_ID_LEN + 1];
        char fp[AB_EVENT_ID_LEN + 1];
        int64_t time_ms;
        int64_t start_ms;
        int64_t end_ms;
        uint64_t count;
        bool resolved;
        char handler[64];
        char op[64];
        char comment[128];
        char solution[200];
        char message[128]; /* the alert's message annotation */
        char severity[8];  /* the alert's severity label */
        int alert_status;
};

struct collector {
        struct tev ev[64];
        size_t n;
        struct ab_buf log; /* every event, every field, one line each */
        ab_err_t fail;     /* returned by the callback when set */
        struct ab_lifecycle_report *report;
};

/* The event callback: logs \p ev into the collector \p opaque, keeps its
 * first events, and returns the collector's `fail`. */
ab_err_t collect(void *opaque, const struct ab_event *ev);
void col_init(struct collector *c);
void col_fini(struct collector *c);

/* ---- shorthands --------------------------------------------------------- */

struct ab_lifecycle *lc_make(size_t max_open, bool orphan_close);

/* A HighCPU alert of check "cpu", severity 2, firing or resolved. */
void fire(struct ab_lifecycle *lc, const struct ab_integration *integ,
          struct collector *c, const char *source, const char *message,
          int64_t t);
void recover(struct ab_lifecycle *lc, const struct ab_integration *integ,
             struct collector *c, const char *source, int64_t t);

/* Apply an action; @returns its result code, err filled. */
ab_err_t act(struct ab_lifecycle *lc, struct collector *c, const char *json,
             int64_t t, struct ab_error *err);
void act_ok(struct ab_lifecycle *lc, struct collector *c, const char *json,
            int64_t t);

struct ab_lifecycle_stats stats_of(const struct ab_lifecycle *lc);

/* The fingerprint of the HighCPU alert from \p source. */
void fp_of(const struct ab_integration *integ, const char *source, char *out);

#endif
