/* check_offsets.c - unit tests of the at-least-once offset tracker. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/offsets.h"
#include "core/mem.h"

static struct ab_offsets_entry *reg(struct ab_offsets *t, const char *topic,
                                    int32_t partition, int64_t offset)
{
        struct ab_offsets_entry *e = NULL;
        struct ab_error err;

        ck_assert_int_eq(
            ab_offsets_register(t, topic, partition, offset, &e, &err), AB_OK);
        ck_assert_ptr_nonnull(e);
        ck_assert_int_eq(ab_offsets_entry_offset(e), offset);
        return e;
}

/* Drain results, in call order. */
struct drained {
        int n;
        char topic[8][32];
        int32_t partition[8];
        int64_t offset[8];
};

static void collect(void *arg, const char *topic, int32_t partition,
                    int64_t next_offset)
{
        struct drained *d = arg;

        ck_assert_int_lt(d->n, 8);
        snprintf(d->topic[d->n], sizeof(d->topic[d->n]), "%s", topic);
        d->partition[d->n] = partition;
        d->offset[d->n]    = next_offset;
        d->n++;
}

START_TEST(in_order_completion_advances_each_time)
{
        struct ab_offsets *t = ab_offsets_new(16);
        struct ab_offsets_entry *e[5];

        for (int i = 0; i < 5; i++)
                e[i] = reg(t, "a", 0, i);
        ck_assert_int_eq(ab_offsets_committable(t, "a", 0), -1);
        for (int i = 0; i < 5; i++) {
                ab_offsets_release(e[i]);
                ck_assert_int_eq(ab_offsets_committable(t, "a", 0), i + 1);
        }
        ck_assert_uint_eq(ab_offsets_pending(t), 0);
        ab_offsets_destroy(t);
}
END_TEST

START_TEST(out_of_order_completion_waits_for_prefix)
{
        struct ab_offsets *t = ab_offsets_new(16);
        struct ab_offsets_entry *e[5];

        for (int i = 0; i < 5; i++)
                e[i] = reg(t, "a", 0, 100 + i);
        ab_offsets_release(e[3]);
        ab_offsets_release(e[1]);
        ck_assert_int_eq(ab_offsets_committable(t, "a", 0), -1);
        ck_assert_uint_eq(ab_offsets_pending(t), 3);
        ab_offsets_release(e[0]);
        ck_assert_int_eq(ab_offsets_committable(t, "a", 0), 102);
        ab_offsets_release(e[2]);
        ck_assert_int_eq(ab_offsets_committable(t, "a", 0), 104);
        ab_offsets_release(e[4]);
        ck_assert_int_eq(ab_offsets_committable(t, "a", 0), 105);
        ab_offsets_destroy(t);
}
END_TEST

START_TEST(record_completes_after_all_outputs)
{
        struct ab_offsets *t       = ab_offsets_new(16);
        struct ab_offsets_entry *e = reg(t, "a", 0, 7);

        ab_offsets_hold(e);    /* output 1 */
        ab_offsets_hold(e);    /* output 2 */
        ab_offsets_release(e); /* all outputs produced */
        ck_assert_int_eq(ab_offsets_committable(t, "a", 0), -1);
        ab_offsets_release(e); /* output 2 delivered first */
        ck_assert_int_eq(ab_offsets_committable(t, "a", 0), -1);
        ck_assert_uint_eq(ab_offsets_pending(t), 1);
        ab_offsets_release(e); /* output 1 delivered */
        ck_assert_int_eq(ab_offsets_committable(t, "a", 0), 8);
        ck_assert_uint_eq(ab_offsets_pending(t), 0);
        ab_offsets_destroy(t);
}
END_TEST

START_TEST(record_without_outputs_completes_on_release)
{
        struct ab_offsets *t       = ab_offsets_new(16);
        struct ab_offsets_entry *a = reg(t, "a", 0, 0);
        struct ab_offsets_entry *b = reg(t, "a", 0, 1);

        ab_offsets_hold(a);
        ab_offsets_release(a);
        ab_offsets_release(b); /* b: zero outputs, done; a still in flight */
        ck_assert_int_eq(ab_offsets_committable(t, "a", 0), -1);
        ab_offsets_release(a);
        ck_assert_int_eq(ab_offsets_committable(t, "a", 0), 2);
        ab_offsets_destroy(t);
}
END_TEST

START_TEST(offset_gaps_commit_after_last_completed)
{
        struct ab_offsets *t       = ab_offsets_new(16);
        struct ab_offsets_entry *a = reg(t, "a", 0, 10);
        struct ab_offsets_entry *b = reg(t, "a", 0, 15);
        struct ab_offsets_entry *c = reg(t, "a", 0, 20);

        ab_offsets_release(a);
        ck_assert_int_eq(ab_offsets_committable(t, "a", 0), 11);
        ab_offsets_release(c);
        ck_assert_int_eq(ab_offsets_committable(t, "a", 0), 11);
        ab_offsets_release(b);
        ck_assert_int_eq(ab_offsets_committable(t, "a", 0), 21);
        ab_offsets_destroy(t);
}
END_TEST

START_TEST(drain_reports_each_advanced_partition_once)
{
        struct ab_offsets *t        = ab_offsets_new(16);
        struct drained d            = {0};
        struct ab_offsets_entry *a0 = reg(t, "a", 0, 0);
        struct ab_offsets_entry *a1 = reg(t, "a", 0, 1);
        struct ab_offsets_entry *b0 = reg(t, "b", 3, 40);
        struct ab_offsets_entry *c0 = reg(t, "a", 1, 5);

        ck_assert_uint_eq(ab_offsets_drain(t, collect, &d), 0);
        ab_offsets_release(a0);
        ab_offsets_release(a1);
        ab_offsets_release(b0);
        ab_offsets_hold(c0);
        ab_offsets_release(c0); /* one output still pending */
        ck_assert_uint_eq(ab_offsets_drain(t, collect, &d), 2);
        ck_assert_int_eq(d.n, 2);
        for (int i = 0; i < 2; i++) {
                if (!strcmp(d.topic[i], "a")) {
                        ck_assert_int_eq(d.partition[i], 0);
                        ck_assert_int_eq(d.offset[i], 2);
                } else {
                        ck_assert_str_eq(d.topic[i], "b");
                        ck_assert_int_eq(d.partition[i], 3);
                        ck_assert_int_eq(d.offset[i], 41);
                }
        }
        d.n = 0;
        ck_assert_uint_eq(ab_offsets_drain(t, collect, &d), 0);
        ab_offsets_release(c0);
        ck_assert_uint_eq(ab_offsets_drain(t, collect, &d), 1);
        ck_assert_str_eq(d.topic[0], "a");
        ck_assert_int_eq(d.partition[0], 1);
        ck_assert_int_eq(d.offset[0], 6);
        ab_offsets_destroy(t);
}
END_TEST

START_TEST(window_bounds_unfinished_records)
{
        struct ab_offsets *t = ab_offsets_new(3); /* rounded up to 4 */
        struct ab_offsets_entry *e[4], *x = NULL;
        struct ab_error err;

        for (int i = 0; i < 4; i++)
                e[i] = reg(t, "a", 0, i);
        ck_assert_int_eq(ab_offsets_register(t, "a", 0, 4, &x, &err),
                         AB_ERR_RETRY);
        ck_assert_int_eq(err.code, AB_ERR_RETRY);
        ck_assert_ptr_null(x);
        /* Other partitions have their own window. */
        x = reg(t, "a", 1, 4);
        ab_offsets_release(x);
        /* Completing a record that is not the head frees nothing. */
        ab_offsets_release(e[2]);
        ck_assert_int_eq(ab_offsets_register(t, "a", 0, 4, &x, NULL),
                         AB_ERR_RETRY);
        ab_offsets_release(e[0]);
        x = reg(t, "a", 0, 4);
        ck_assert_int_eq(ab_offsets_register(t, "a", 0, 5, &x, NULL),
                         AB_ERR_RETRY);
        ab_offsets_destroy(t);
}
END_TEST

START_TEST(ring_wraps_around_many_times)
{
        struct ab_offsets *t = ab_offsets_new(4);
        struct ab_offsets_entry *e[4];

        /* Batches of four, completed in reverse order. */
        for (int64_t base = 0; base < 4000; base += 4) {
                for (int i = 0; i < 4; i++)
                        e[i] = reg(t, "a", 0, base + i);
                for (int i = 3; i > 0; i--) {
                        ab_offsets_release(e[i]);
                        ck_assert_int_eq(ab_offsets_committable(t, "a", 0),
                                         base ? base : -1);
                }
                ab_offsets_release(e[0]);
                ck_assert_int_eq(ab_offsets_committable(t, "a", 0), base + 4);
        }
        ab_offsets_destroy(t);
}
END_TEST

START_TEST(revoke_keeps_tickets_valid_but_stops_offsets)
{
        struct ab_offsets *t        = ab_offsets_new(16);
        struct drained d            = {0};
        struct ab_offsets_entry *e0 = reg(t, "a", 0, 0);
        struct ab_offsets_entry *e1 = reg(t, "a", 0, 1);
        struct ab_offsets_entry *e2 = reg(t, "a", 0, 2);
        struct ab_offsets_entry *n0;

        ab_offsets_release(e0);
        ck_assert_int_eq(ab_offsets_committable(t, "a", 0), 1);
        ab_offsets_revoke(t, "a", 0);
        ck_assert_int_eq(ab_offsets_committable(t, "a", 0), -1);
        ck_assert_uint_eq(ab_offsets_drain(t, collect, &d), 0);
        ck_assert_uint_eq(ab_offsets_pending(t), 2);

        /* Reassigned: consumption restarts from the committed offset 1,
         * while the old records are still in flight. */
        n0 = reg(t, "a", 0, 1);
        ab_offsets_release(e2);
        ab_offsets_release(e1);
        ck_assert_int_eq(ab_offsets_committable(t, "a", 0), -1);
        ck_assert_uint_eq(ab_offsets_drain(t, collect, &d), 0);
        ck_assert_uint_eq(ab_offsets_pending(t), 1);
        ab_offsets_release(n0);
        ck_assert_int_eq(ab_offsets_committable(t, "a", 0), 2);
        ck_assert_uint_eq(ab_offsets_drain(t, collect, &d), 1);
        ck_assert_int_eq(d.offset[0], 2);
        /* Revoking an unknown partition is harmless. */
        ab_offsets_revoke(t, "zzz", 9);
        ab_offsets_destroy(t);
}
END_TEST

START_TEST(revoke_of_idle_partition_reuses_it)
{
        struct ab_offsets *t       = ab_offsets_new(4);
        struct ab_offsets_entry *e = reg(t, "a", 0, 0);
        uint64_t before;

        ab_offsets_release(e);
        ab_offsets_revoke(t, "a", 0);
        before = ab_mem_allocations();
        e      = reg(t, "a", 0, 0);
        ab_offsets_release(e);
        ck_assert_uint_eq(ab_mem_allocations(), before);
        ck_assert_int_eq(ab_offsets_committable(t, "a", 0), 1);
        ab_offsets_destroy(t);
}
END_TEST

START_TEST(going_back_restarts_the_partition)
{
        struct ab_offsets *t       = ab_offsets_new(16);
        struct ab_offsets_entry *a = reg(t, "a", 0, 5);
        struct ab_offsets_entry *b = reg(t, "a", 0, 6);
        struct ab_offsets_entry *c;

        ab_offsets_release(a);
        ck_assert_int_eq(ab_offsets_committable(t, "a", 0), 6);
        c = reg(t, "a", 0, 3); /* seek back / offset reset */
        ck_assert_int_eq(ab_offsets_committable(t, "a", 0), -1);
        ab_offsets_release(b); /* old record: moves nothing */
        ck_assert_int_eq(ab_offsets_committable(t, "a", 0), -1);
        ab_offsets_release(c);
        ck_assert_int_eq(ab_offsets_committable(t, "a", 0), 4);
        ck_assert_uint_eq(ab_offsets_pending(t), 0);
        ab_offsets_destroy(t);
}
END_TEST

START_TEST(many_partitions)
{
        struct ab_offsets *t = ab_offsets_new(8);
        struct ab_offsets_entry *e[600];
        char topic[32];

        for (int i = 0; i < 600; i++) {
                snprintf(topic, sizeof(topic), "topic-%d", i % 7);
                e[i] = reg(t, topic, i, 1000 + i);
        }
        ck_assert_uint_eq(ab_offsets_pending(t), 600);
        for (int i = 0; i < 600; i += 2)
                ab_offsets_release(e[i]);
        for (int i = 0; i < 600; i++) {
                snprintf(topic, sizeof(topic), "topic-%d", i % 7);
                ck_assert_int_eq(ab_offsets_committable(t, topic, i),
                                 i % 2 ? -1 : 1001 + i);
                /* Same partition number, other topic: unrelated. */
                ck_assert_int_eq(ab_offsets_committable(t, "other", i), -1);
        }
        ab_offsets_destroy(t); /* with 300 records in flight */
}
END_TEST

START_TEST(no_allocation_per_record_once_warm)
{
        struct ab_offsets *t = ab_offsets_new(64);
        struct drained d;
        uint64_t before;

        ab_offsets_release(reg(t, "a", 0, 0));
        ab_offsets_release(reg(t, "b", 1, 0));
        before = ab_mem_allocations();
        for (int64_t i = 1; i < 10000; i++) {
                struct ab_offsets_entry *x = reg(t, "a", 0, i);
                struct ab_offsets_entry *y = reg(t, "b", 1, i);

                ab_offsets_hold(x);
                ab_offsets_release(y);
                ab_offsets_release(x);
                ab_offsets_release(x);
                d.n = 0;
                ab_offsets_drain(t, collect, &d);
        }
        ck_assert_uint_eq(ab_mem_allocations(), before);
        ck_assert_int_eq(ab_offsets_committable(t, "a", 0), 10000);
        ck_assert_int_eq(ab_offsets_committable(t, "b", 1), 10000);
        ab_offsets_destroy(t);
}
END_TEST

/* A simple model: the committable offset of a partition is the offset
 * after the longest prefix of completed records. */
struct model_rec {
        struct ab_offsets_entry *e;
        int64_t offset;
        int refs;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rng(void)
{
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return (uint32_t)(rng_state >> 16);
}

START_TEST(random_interleavings_match_model)
{
        enum { NPART = 3, NREC = 3000, WINDOW = 32 };
        struct ab_offsets *t = ab_offsets_new(WINDOW);
        static struct model_rec recs[NPART][NREC];
        int nreg[NPART] = {0}, prefix[NPART] = {0};
        int64_t next_off[NPART] = {0};
        size_t live             = 0;

        for (int step = 0; step < 60000; step++) {
                int p       = (int)(rng() % NPART);
                uint32_t op = rng() % 4;

                if (op == 0 && nreg[p] < NREC) {
                        struct ab_offsets_entry *e = NULL;
                        ab_err_t rc;

                        next_off[p] += 1 + rng() % 3;
                        rc = ab_offsets_register(t, "m", p, next_off[p], &e,
                                                 NULL);
                        if (nreg[p] - prefix[p] >= WINDOW) {
                                ck_assert_int_eq(rc, AB_ERR_RETRY);
                                continue;
                        }
                        ck_assert_int_eq(rc, AB_OK);
                        recs[p][nreg[p]].e      = e;
                        recs[p][nreg[p]].offset = next_off[p];
                        recs[p][nreg[p]].refs   = 1;
                        if (rng() % 2) {
                                int outputs = (int)(rng() % 4);

                                for (int k = 0; k < outputs; k++)
                                        ab_offsets_hold(e);
                                recs[p][nreg[p]].refs += outputs;
                        }
                        nreg[p]++;
                        live++;
                } else if (nreg[p] > prefix[p]) {
                        /* Release a random unfinished record. */
                        int i = prefix[p] +
                                (int)(rng() % (uint32_t)(nreg[p] - prefix[p]));
                        int64_t want;

                        if (recs[p][i].refs == 0)
                                continue;
                        ab_offsets_release(recs[p][i].e);
                        if (--recs[p][i].refs == 0)
                                live--;
                        while (prefix[p] < nreg[p] &&
                               recs[p][prefix[p]].refs == 0)
                                prefix[p]++;
                        want =
                            prefix[p] ? recs[p][prefix[p] - 1].offset + 1 : -1;
                        ck_assert_int_eq(ab_offsets_committable(t, "m", p),
                                         want);
                        ck_assert_uint_eq(ab_offsets_pending(t), live);
                }
        }
        ab_offsets_destroy(t);
}
END_TEST

START_TEST(destroy_is_null_safe)
{
        ab_offsets_destroy(NULL);
}
END_TEST

static Suite *offsets_suite(void)
{
        Suite *s  = suite_create("offsets");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, in_order_completion_advances_each_time);
        tcase_add_test(tc, out_of_order_completion_waits_for_prefix);
        tcase_add_test(tc, record_completes_after_all_outputs);
        tcase_add_test(tc, record_without_outputs_completes_on_release);
        tcase_add_test(tc, offset_gaps_commit_after_last_completed);
        tcase_add_test(tc, drain_reports_each_advanced_partition_once);
        tcase_add_test(tc, window_bounds_unfinished_records);
        tcase_add_test(tc, ring_wraps_around_many_times);
        tcase_add_test(tc, revoke_keeps_tickets_valid_but_stops_offsets);
        tcase_add_test(tc, revoke_of_idle_partition_reuses_it);
        tcase_add_test(tc, going_back_restarts_the_partition);
        tcase_add_test(tc, many_partitions);
        tcase_add_test(tc, no_allocation_per_record_once_warm);
        tcase_add_test(tc, random_interleavings_match_model);
        tcase_add_test(tc, destroy_is_null_safe);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(offsets_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
