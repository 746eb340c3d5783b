/* check_lifecycle_faults.c - the lifecycle store, its snapshots and the
 * grouping report with every allocation failing in turn
 * (tests/support/fault.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "lifecycle/lifecycle.h"
#include "lifecycle/report.h"
#include "tests/support/fault.h"
#include "transform/integration.h"
#include "transform/transform.h"

/*
 * The scenario feeds a store (at most three open alerts, orphan
 * recoveries closed) the alerts of a monitor integration with auto-clear:
 * opens, merges, an eviction, recoveries, operator actions, wall-clock
 * expiry; every event also goes into a grouping report. Then the store
 * is snapshot and restored into a second store, its changes are drained
 * into a third (rebuilt from changelog entries), and the report rendered.
 * The alerts are mapped once, before any fault is armed.
 */

#define T0      1795316400000LL
#define NALERTS 8

static const char *const payloads[NALERTS] = {
    "{\"check\":\"disk\",\"level\":\"critical\",\"host\":\"h1\"}",
    "{\"check\":\"disk\",\"level\":\"critical\",\"host\":\"h2\"}",
    "{\"check\":\"disk\",\"level\":\"warning\",\"host\":\"h1\","
    "\"text\":\"newer\"}",
    "{\"check\":\"disk\",\"level\":\"critical\",\"host\":\"h3\"}",
    "{\"check\":\"disk\",\"level\":\"critical\",\"host\":\"h4\"}",
    "{\"check\":\"disk\",\"state\":\"ok\",\"host\":\"h4\"}",
    "{\"check\":\"disk\",\"state\":\"ok\",\"host\":\"h2\"}",
    "{\"check\":\"cpu\",\"level\":\"warning\",\"host\":\"h5\","
    "\"text\":\"a longer message that the store keeps as it is\"}",
};

struct fixture {
        struct ab_integration *integ;
        struct ab_transform *tf[NALERTS];
        const struct ab_alert *alert[NALERTS];
        char fp[NALERTS][AB_EVENT_ID_LEN + 1]; /* alert[i]'s fingerprint */
        struct ab_lifecycle *rebuilt; /* per run: from the drained changes */
};

/* Per run: the report the events go to, and whether one failed. */
struct run {
        struct ab_lifecycle_report *report;
        size_t events;
};

static ab_err_t on_event(void *opaque, const struct ab_event *ev)
{
        struct run *r = opaque;

        r->events++;
        return ab_lifecycle_report_event(r->report, ev);
}

static const struct ab_integration *resolve(void *ctx, const char *name)
{
        struct fixture *fx = ctx;

        return strcmp(name, ab_integration_name(fx->integ)) ? NULL : fx->integ;
}

/* The change callback: apply each change to the store \p opaque. */
static ab_err_t apply_change(void *opaque,
                             const unsigned char fp[AB_LIFECYCLE_FP_LEN],
                             const void *entry, size_t len)
{
        struct fixture *fx = opaque;

        return ab_lifecycle_entry_apply(fx->rebuilt, fp, entry, len, resolve,
                                        fx, NULL);
}

static struct ab_lifecycle *new_store(void)
{
        struct ab_lifecycle_config conf = {3, true, true, 0, 0};
        struct ab_lifecycle *lc         = ab_lifecycle_new(&conf);

        ck_assert_ptr_nonnull(lc);
        return lc;
}

static ab_err_t action(struct ab_lifecycle *lc, const char *json, int64_t t,
                       struct run *r)
{
        struct ab_error err;
        ab_err_t rc;

        ab_error_clear(&err);
        rc = ab_lifecycle_action(lc, json, strlen(json), t, on_event, r, &err);
        /* Rejections are the scenario's own: only NOMEM may differ. */
        if (rc && rc != AB_ERR_NOMEM)
                ck_assert_int_eq(ab_err_class(rc), AB_ERR_CLASS_REJECT);
        ck_assert(rc == AB_OK || err.code == rc);
        return rc == AB_ERR_NOMEM ? rc : AB_OK;
}

static void scenario(void *arg, uint64_t n, struct ab_fault_run *fr)
{
        struct fixture *fx        = arg;
        struct ab_lifecycle *lc   = new_store();
        struct ab_lifecycle *twin = new_store();
        struct run r              = {ab_lifecycle_report_new(), 0};
        struct ab_lifecycle_mem mem;
        struct ab_error err;
        struct ab_buf snap, text;
        char json[256];
        struct ab_buf ea, eb;
        size_t open, closes;
        ab_err_t rc;

        fx->rebuilt = new_store();
        ck_assert_ptr_nonnull(r.report);
        ab_buf_init(&snap, 0);
        ab_buf_init(&text, 0);
        ab_error_clear(&err);
        ab_mem_fail_after(n);
        for (size_t i = 0; i < NALERTS; i++) {
                int64_t t = T0 + (int64_t)i * 1000;

                AB_FAULT_STEP(*fr, ab_lifecycle_report_input(
                                       r.report, fx->integ, fx->alert[i],
                                       fx->fp[i], i, 1));
                AB_FAULT_STEP(*fr,
                              ab_lifecycle_process(lc, fx->integ, fx->alert[i],
                                                   t, on_event, &r, &err));
        }
        snprintf(json, sizeof(json),
                 "{\"action\":\"claim\",\"operator\":\"alice\","
                 "\"fingerprint\":\"%s\"}",
                 fx->fp[0]);
        AB_FAULT_STEP(*fr, action(lc, json, T0 + 10000, &r));
        snprintf(json, sizeof(json),
                 "{\"action\":\"comment\",\"operator\":\"bob\","
                 "\"comment\":\"on it\",\"fingerprint\":\"%s\"}",
                 fx->fp[0]);
        AB_FAULT_STEP(*fr, action(lc, json, T0 + 11000, &r));
        snprintf(json, sizeof(json),
                 "{\"action\":\"close\",\"operator\":\"bob\","
                 "\"fingerprint\":\"%s\"}",
                 fx->fp[3]);
        AB_FAULT_STEP(*fr, action(lc, json, T0 + 12000, &r));
        AB_FAULT_STEP(*fr, action(lc, "{\"action\":", T0 + 13000, &r));
        AB_FAULT_STEP(*fr, rc = ab_lifecycle_snapshot(lc, &snap));
        if (rc == AB_OK)
                AB_FAULT_STEP(*fr,
                              ab_lifecycle_restore(twin, snap.data, snap.len,
                                                   resolve, fx, &err));
        /* A change the store could not remember makes every drain fail
         * with NOMEM, even one that does not reach the fault itself. */
        rc = ab_lifecycle_drain_changes(lc, apply_change, fx);
        ck_assert(rc == AB_OK || rc == AB_ERR_NOMEM);
        AB_FAULT_STEP(*fr, ab_lifecycle_report_render(r.report, &text));
        ab_fault_end(fr);

        /* The changelog is complete, the failed entries still pending,
         * and the rebuilt store holds what the store holds; or the store
         * says that it lost a change. */
        rc = ab_lifecycle_drain_changes(lc, apply_change, fx);
        ck_assert(rc == AB_OK || rc == AB_ERR_NOMEM);
        ab_buf_init(&ea, 0);
        ab_buf_init(&eb, 0);
        for (size_t i = 0; rc == AB_OK && i < NALERTS; i++) {
                unsigned char key[AB_LIFECYCLE_FP_LEN];

                ck_assert_int_eq(
                    ab_lifecycle_key_parse(fx->fp[i], AB_EVENT_ID_LEN, key),
                    AB_OK);
                ab_buf_reset(&ea);
                ab_buf_reset(&eb);
                ck_assert_int_eq(
                    ab_lifecycle_entry_encode(lc, key, &ea),
                    ab_lifecycle_entry_encode(fx->rebuilt, key, &eb));
                ck_assert_uint_eq(ea.len, eb.len);
                ck_assert(!ea.len || !memcmp(ea.data, eb.data, ea.len));
        }
        if (rc == AB_OK)
                ck_assert_uint_eq(ab_lifecycle_open_count(fx->rebuilt),
                                  ab_lifecycle_open_count(lc));
        ab_buf_fini(&ea);
        ab_buf_fini(&eb);
        ab_lifecycle_destroy(fx->rebuilt);
        fx->rebuilt = NULL;

        /* Still consistent: the memory walk sees every open alert, a
         * complete snapshot restores to the same count, and expiry far
         * ahead closes each open alert exactly once. */
        open = ab_lifecycle_open_count(lc);
        ck_assert_uint_le(open, 3);
        ab_lifecycle_get_mem(lc, &mem);
        ck_assert_uint_eq(mem.open, open);
        ab_buf_reset(&snap);
        ck_assert_int_eq(ab_lifecycle_snapshot(lc, &snap), AB_OK);
        ck_assert_int_eq(
            ab_lifecycle_restore(twin, snap.data, snap.len, resolve, fx, &err),
            AB_OK);
        ck_assert_uint_eq(ab_lifecycle_open_count(twin), open);
        closes = r.events;
        ck_assert_int_eq(
            ab_lifecycle_expire(lc, T0 + 365LL * 86400000, on_event, &r),
            AB_OK);
        ck_assert_uint_eq(r.events - closes, open);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 0);
        ab_buf_fini(&snap);
        ab_buf_fini(&text);
        ab_lifecycle_report_destroy(r.report);
        ab_lifecycle_destroy(twin);
        ab_lifecycle_destroy(lc);
}

START_TEST(test_lifecycle_with_every_allocation_failing)
{
        struct fixture fx;
        struct ab_error err;
        char path[512];
        size_t nalerts;

        memset(&fx, 0, sizeof(fx));
        snprintf(path, sizeof(path), "%s/replay/web-v2.yaml", AB_FIXTURES);
        ab_error_clear(&err);
        ck_assert_int_eq(ab_integration_load(path, &fx.integ, &err), AB_OK);
        for (size_t i = 0; i < NALERTS; i++) {
                fx.tf[i] = ab_transform_new();
                ck_assert_ptr_nonnull(fx.tf[i]);
                ck_assert_int_eq(
                    ab_transform_run(fx.tf[i], fx.integ, payloads[i],
                                     strlen(payloads[i]), AB_CONTENT_AUTO,
                                     &fx.alert[i], &nalerts, &err),
                    AB_OK);
                ck_assert_uint_eq(nalerts, 1);
        }
        for (size_t i = 0; i < NALERTS; i++)
                ab_lifecycle_fingerprint(fx.integ, fx.alert[i], fx.fp[i]);
        ck_assert_uint_gt(ab_fault_loop(scenario, &fx), 50);
        for (size_t i = 0; i < NALERTS; i++)
                ab_transform_destroy(fx.tf[i]);
        ab_integration_destroy(fx.integ);
}
END_TEST

static Suite *lifecycle_faults_suite(void)
{
        Suite *s = suite_create("lifecycle faults");
        TCase *tc;

        tc = tcase_create("allocation faults");
        tcase_set_timeout(tc, 240);
        tcase_add_test(tc, test_lifecycle_with_every_allocation_failing);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(lifecycle_faults_suite());
        int failed;

        ab_log_set_level("warn"); /* not a line per restore */
        srunner_set_fork_status(sr, CK_NOFORK);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
