/* check_lifecycle_replay.c - lifecycle tests: determinism and snapshots: the
 * same workload gives the same events, a restored snapshot continues as if
 * never stopped, and bad snapshots are rejected. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/check_lifecycle.h"
#include "tests/unit/lifecycle_fixture.h"

/* ---- determinism and snapshots ------------------------------------------ */

static struct ab_integration *g_net, *g_fast;

static const struct ab_integration *resolve(void *ctx, const char *name)
{
        (void)ctx;
        if (!strcmp(name, "net"))
                return g_net;
        if (!strcmp(name, "fast"))
                return g_fast;
        return NULL;
}

static const struct ab_integration *resolve_net_only(void *ctx,
                                                     const char *name)
{
        (void)ctx;
        return strcmp(name, "net") ? NULL : g_net;
}

/* Apply {"action": action, "fingerprint": fp, <rest>} and log the result:
 * rejections are part of the compared behaviour. */
static void action_log(struct ab_lifecycle *lc, struct collector *c,
                       const char *action, const char *fp, const char *rest,
                       int64_t t)
{
        struct ab_error err;
        char json[512];

        snprintf(json, sizeof(json),
                 "{\"action\":\"%s\",\"fingerprint\":\"%s\",%s}", action, fp,
                 rest);
        ab_buf_appendf(&c->log, "action %d\n", (int)act(lc, c, json, t, &err));
        ab_buf_appendf(&c->log, "  %s %s\n", err.path, err.text);
}

/* Part one of a mixed workload: two integrations, merges, claims, closes
 * of every kind (so the closed ring has entries), one eviction. */
static void workload_one(struct ab_lifecycle *lc, struct collector *c)
{
        char fp[AB_EVENT_ID_LEN + 1];
        int i;

        for (i = 0; i < 6; i++) {
                char src[16];

                snprintf(src, sizeof(src), "10.0.0.%d", i);
                fire(lc, g_net, c, src, "first", T0 + i * 1000);
                fire(lc, g_fast, c, src, "fast", T0 + i * 1000 + 1);
        }
        fire(lc, g_net, c, "10.0.0.1", "second", T0 + 7000);
        fire(lc, g_net, c, "10.0.0.1", "late", T0 + 6500);
        recover(lc, g_net, c, "10.0.0.2", T0 + 7100);
        recover(lc, g_net, c, "10.0.0.1", T0 + 6900); /* stale */
        fp_of(g_net, "10.0.0.1", fp);
        action_log(lc, c, "claim", fp, "\"operator\":\"alice\"", T0 + 7200);
        fp_of(g_net, "10.0.0.3", fp);
        action_log(lc, c, "close", fp,
                   "\"operator\":\"bob\",\"solution\":\"fixed\"", T0 + 7300);
        fire(lc, g_net, c, "10.0.0.9", "new", T0 + 7400);
        ck_assert_int_eq(ab_lifecycle_expire(lc, T0 + 7500, collect, c), AB_OK);
}

/* Part two: everything that depends on restored state. */
static void workload_two(struct ab_lifecycle *lc, struct collector *c)
{
        char fp[AB_EVENT_ID_LEN + 1];
        int i;

        fp_of(g_net, "10.0.0.1", fp);
        action_log(lc, c, "comment", fp,
                   "\"operator\":\"carol\",\"comment\":\"still\"", T0 + 40000);
        fp_of(g_net, "10.0.0.3", fp);
        action_log(lc, c, "claim", fp, "\"operator\":\"carol\"", T0 + 40001);
        fp_of(g_fast, "10.0.0.0", fp);
        action_log(lc, c, "claim", fp, "\"operator\":\"carol\"", T0 + 40002);
        for (i = 0; i < 12; i++) {
                char src[16];

                snprintf(src, sizeof(src), "10.0.0.%d", i % 8);
                fire(lc, i % 3 ? g_net : g_fast, c, src, "two",
                     T0 + 41000 + i * 10);
        }
        recover(lc, g_net, c, "10.0.0.1", T0 + 42000);
        recover(lc, g_net, c, "10.0.0.4", T0 + 42001);
        recover(lc, g_net, c, "10.0.0.77", T0 + 42001); /* orphan */
        fire(lc, g_net, c, "10.0.0.4", "back", T0 + 42002);
        ck_assert_int_eq(ab_lifecycle_expire(lc, T0 + 7200000, collect, c),
                         AB_OK);
}

/* Compare two event logs, naming the first line that differs. */
static void assert_same_log(const struct ab_buf *a, const struct ab_buf *b)
{
        size_t i = 0, line = 1, start = 0;

        while (i < a->len && i < b->len && a->data[i] == b->data[i]) {
                if (a->data[i] == '\n') {
                        line++;
                        start = i + 1;
                }
                i++;
        }
        ck_assert_msg(i == a->len && i == b->len,
                      "logs differ at line %zu:\n%.300s\nvs\n%.300s", line,
                      a->data + start, b->data + start);
}

static struct ab_lifecycle *workload_store(void)
{
        return lc_make(10, true);
}

START_TEST(test_deterministic_ids)
{
        struct ab_lifecycle *a = workload_store(), *b = workload_store();
        struct collector ca, cb;

        col_init(&ca);
        col_init(&cb);
        workload_one(a, &ca);
        workload_two(a, &ca);
        workload_one(b, &cb);
        workload_two(b, &cb);
        ck_assert_uint_gt(ca.log.len, 0);
        assert_same_log(&ca.log, &cb.log);
        ck_assert_uint_gt(stats_of(a).evicted, 0);
        ck_assert_uint_gt(stats_of(a).closed_auto, 0);
        ck_assert_uint_gt(stats_of(a).closed_action, 0);
        ck_assert_uint_gt(stats_of(a).stale_recoveries, 0);
        ck_assert_uint_gt(stats_of(a).orphan_recoveries, 0);
        ck_assert_uint_gt(stats_of(a).actions_rejected, 0);
        col_fini(&ca);
        col_fini(&cb);
        ab_lifecycle_destroy(a);
        ab_lifecycle_destroy(b);
}
END_TEST

START_TEST(test_snapshot_restore)
{
        struct ab_lifecycle *a = workload_store(), *b = workload_store();
        struct ab_buf snap, snap2;
        struct ab_error err;
        struct collector ca, cb;

        col_init(&ca);
        col_init(&cb);
        ab_buf_init(&snap, 0);
        ab_buf_init(&snap2, 0);
        workload_one(a, &ca);
        ck_assert_uint_gt(ab_lifecycle_open_count(a), 3);
        ck_assert_int_eq(ab_lifecycle_snapshot(a, &snap), AB_OK);
        ab_error_clear(&err);
        ck_assert_msg(ab_lifecycle_restore(b, snap.data, snap.len, resolve,
                                           NULL, &err) == AB_OK,
                      "restore: %s", err.text);
        ck_assert_uint_eq(ab_lifecycle_open_count(b),
                          ab_lifecycle_open_count(a));
        /* The restored store snapshots to the same bytes. */
        ck_assert_int_eq(ab_lifecycle_snapshot(b, &snap2), AB_OK);
        ck_assert_uint_eq(snap2.len, snap.len);
        ck_assert(!memcmp(snap.data, snap2.data, snap.len));

        ab_buf_reset(&ca.log);
        ca.n = 0;
        workload_two(a, &ca);
        workload_two(b, &cb);
        ck_assert_uint_gt(ca.log.len, 0);
        assert_same_log(&ca.log, &cb.log);
        col_fini(&ca);
        col_fini(&cb);
        ab_buf_fini(&snap);
        ab_buf_fini(&snap2);
        ab_lifecycle_destroy(a);
        ab_lifecycle_destroy(b);
}
END_TEST

START_TEST(test_snapshot_rejects_bad_input)
{
        struct ab_lifecycle *a = workload_store(), *b = workload_store();
        struct ab_buf snap;
        struct ab_error err;
        struct collector ca, cb;
        size_t i, open_b;

        col_init(&ca);
        col_init(&cb);
        ab_buf_init(&snap, 0);
        workload_one(a, &ca);
        fire(b, g_net, &cb, "kept", "m", T0);
        open_b = ab_lifecycle_open_count(b);
        ck_assert_int_eq(ab_lifecycle_snapshot(a, &snap), AB_OK);

        /* Every flipped byte is caught; b keeps its state. */
        for (i = 0; i < snap.len; i += 7) {
                snap.data[i] ^= 0x20;
                ck_assert_int_eq(ab_lifecycle_restore(b, snap.data, snap.len,
                                                      resolve, NULL, &err),
                                 AB_ERR_STATE);
                snap.data[i] ^= 0x20;
        }
        for (i = 0; i < snap.len; i += 13)
                ck_assert_int_eq(
                    ab_lifecycle_restore(b, snap.data, i, resolve, NULL, &err),
                    AB_ERR_STATE);
        ck_assert_int_eq(ab_lifecycle_restore(b, snap.data, snap.len,
                                              resolve_net_only, NULL, &err),
                         AB_ERR_STATE);
        ck_assert_ptr_nonnull(strstr(err.text, "\"fast\""));
        snap.data[4] = 9; /* version */
        ck_assert_int_eq(
            ab_lifecycle_restore(b, snap.data, snap.len, resolve, NULL, &err),
            AB_ERR_STATE);
        ck_assert_ptr_nonnull(strstr(err.text, "version"));
        ck_assert_uint_eq(ab_lifecycle_open_count(b), open_b);

        /* An empty store round-trips too. */
        ab_lifecycle_destroy(a);
        a = workload_store();
        ab_buf_reset(&snap);
        ck_assert_int_eq(ab_lifecycle_snapshot(a, &snap), AB_OK);
        ck_assert_int_eq(
            ab_lifecycle_restore(b, snap.data, snap.len, resolve, NULL, &err),
            AB_OK);
        ck_assert_uint_eq(ab_lifecycle_open_count(b), 0);

        col_fini(&ca);
        col_fini(&cb);
        ab_buf_fini(&snap);
        ab_lifecycle_destroy(a);
        ab_lifecycle_destroy(b);
}
END_TEST

static void workload_setup(void)
{
        g_net  = integ_make("net", "10m", "[\"source\", \"check\"]");
        g_fast = integ_make("fast", "5s", "[\"source\"]");
}

static void workload_teardown(void)
{
        ab_integration_destroy(g_net);
        ab_integration_destroy(g_fast);
        g_net = g_fast = NULL;
}

TCase *lifecycle_replay_tcase(void)
{
        TCase *tc = tcase_create("replay");

        tcase_add_checked_fixture(tc, workload_setup, workload_teardown);
        tcase_add_test(tc, test_deterministic_ids);
        tcase_add_test(tc, test_snapshot_restore);
        tcase_add_test(tc, test_snapshot_rejects_bad_input);
        return tc;
}
