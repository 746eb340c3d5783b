/* check_lifecycle_fingerprint.c - lifecycle tests: fingerprints: which alert
 * fields and labels identify an alert, and the values pinned by
 * tests/fixtures/lifecycle/fingerprint_vectors.py. */
#include <check.h>
#include <string.h>

#include "tests/unit/check_lifecycle.h"
#include "tests/unit/lifecycle_fixture.h"

/* From tests/fixtures/lifecycle/fingerprint_vectors.py. */
#define GOLDEN_FP_FIELDS "a5a52ded1e0c30cc5cdbea600de5d4c9"
#define GOLDEN_FP_LABELS "856e95a5a3fc3f002a8756424aeef486"
/* The alert GOLDEN_FP_FIELDS opened at T0, and its create event. */
#define GOLDEN_ALERT_ID  "a5a52ded1e0c30cc56c4470b63c9ab48"
#define GOLDEN_CREATE_ID "b7064588576182417b18dcdac4ddbfcb"

/* ---- fingerprints ------------------------------------------------------- */

START_TEST(test_fingerprint_rules)
{
        struct ab_integration *a     = integ_make("net", NULL,
                                                  "[\"source\", "
                                                      "\"check\"]");
        struct ab_integration *b     = integ_make("net", NULL,
                                                  "[\"check\", "
                                                      "\"source\", "
                                                      "\"check\"]");
        struct ab_integration *other = integ_make("other", NULL,
                                                  "[\"source\", "
                                                  "\"check\"]");
        struct ab_integration *full  = integ_make("net", NULL, NULL);
        char f1[AB_EVENT_ID_LEN + 1], f2[AB_EVENT_ID_LEN + 1];
        struct talert t1, t2;

        /* Order and repetition of dedup.fields do not matter. */
        fp_of(a, "10.0.0.1", f1);
        fp_of(b, "10.0.0.1", f2);
        ck_assert_str_eq(f1, f2);
        /* Scoped by integration. */
        fp_of(other, "10.0.0.1", f2);
        ck_assert_str_ne(f1, f2);
        /* A dedup field's value matters; a field outside dedup does not. */
        ab_lifecycle_fingerprint(
            a,
            talert_make(&t1, AB_ALERT_FIRING, "X", "10.0.0.1", "cpu", 1, "m1"),
            f1);
        ab_lifecycle_fingerprint(
            a,
            talert_make(&t2, AB_ALERT_FIRING, "Y", "10.0.0.1", "cpu", 3, "m2"),
            f2);
        ck_assert_str_eq(f1, f2);
        ab_lifecycle_fingerprint(
            a,
            talert_make(&t2, AB_ALERT_FIRING, "X", "10.0.0.1", "mem", 1, "m1"),
            f2);
        ck_assert_str_ne(f1, f2);
        /* Absent and empty differ. */
        ab_lifecycle_fingerprint(
            a, talert_make(&t1, AB_ALERT_FIRING, "X", NULL, "cpu", 1, "m"), f1);
        ab_lifecycle_fingerprint(
            a, talert_make(&t2, AB_ALERT_FIRING, "X", "", "cpu", 1, "m"), f2);
        ck_assert_str_ne(f1, f2);
        /* Without dedup.fields: the full label set, annotations excluded,
         * recovery and firing alike. */
        ab_lifecycle_fingerprint(
            full,
            talert_make(&t1, AB_ALERT_FIRING, "X", "10.0.0.1", "cpu", 1, "m1"),
            f1);
        ab_lifecycle_fingerprint(full,
                                 talert_make(&t2, AB_ALERT_RESOLVED, "X",
                                             "10.0.0.1", "cpu", 1, "m2"),
                                 f2);
        ck_assert_str_eq(f1, f2);
        ab_lifecycle_fingerprint(
            full,
            talert_make(&t2, AB_ALERT_FIRING, "X", "10.0.0.1", "cpu", 2, "m1"),
            f2);
        ck_assert_str_ne(f1, f2);

        ab_integration_destroy(a);
        ab_integration_destroy(b);
        ab_integration_destroy(other);
        ab_integration_destroy(full);
}
END_TEST

/*
 * The algorithm is a compatibility promise (docs/lifecycle.md): these
 * values were computed independently from the documented encoding
 * (tests/fixtures/lifecycle/fingerprint_vectors.py) and must never change.
 */
START_TEST(test_fingerprint_golden)
{
        struct ab_integration *fields =
            integ_make("net", NULL, "[\"source\", \"check\"]");
        struct ab_integration *labels = integ_make("net", NULL, NULL);
        char fp[AB_EVENT_ID_LEN + 1];
        struct talert t;
        const struct ab_alert *a = talert_make(&t, AB_ALERT_FIRING, "HighCPU",
                                               "10.0.0.1", "cpu", 2, "x");

        ab_lifecycle_fingerprint(fields, a, fp);
        ck_assert_str_eq(fp, GOLDEN_FP_FIELDS);
        ab_lifecycle_fingerprint(labels, a, fp);
        ck_assert_str_eq(fp, GOLDEN_FP_LABELS);
        ab_integration_destroy(fields);
        ab_integration_destroy(labels);
}
END_TEST

/* Ids are a compatibility promise too, pinned the same way. */
START_TEST(test_ids_golden)
{
        struct ab_integration *net =
            integ_make("net", NULL, "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct collector c;

        col_init(&c);
        fire(lc, net, &c, "10.0.0.1", "x", T0);
        ck_assert_uint_eq(c.n, 1);
        ck_assert_str_eq(c.ev[0].fp, GOLDEN_FP_FIELDS);
        ck_assert_str_eq(c.ev[0].alert_id, GOLDEN_ALERT_ID);
        ck_assert_str_eq(c.ev[0].id, GOLDEN_CREATE_ID);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(net);
}
END_TEST

TCase *lifecycle_fingerprint_tcase(void)
{
        TCase *tc = tcase_create("fingerprint");

        tcase_add_test(tc, test_fingerprint_rules);
        tcase_add_test(tc, test_fingerprint_golden);
        tcase_add_test(tc, test_ids_golden);
        return tc;
}
