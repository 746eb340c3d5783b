/* check_err.c - unit tests for the error list: stable codes and classes. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

/*
 * Every entry of AB_ERR_MAP, pinned: its stable code (written into
 * dead-letter headers and metrics, so it may never change) and its class
 * (which decides whether a record becomes a dead letter, is retried or
 * stops the process). A new entry fails the count check until it is
 * pinned here too.
 */
static const struct {
        ab_err_t err;
        const char *code;
        enum ab_err_class cls;
} pinned[] = {
    {AB_ERR_OK, "ok", AB_ERR_CLASS_NONE},
    {AB_ERR_NOMEM, "nomem", AB_ERR_CLASS_FATAL},
    {AB_ERR_IO, "io", AB_ERR_CLASS_FATAL},
    {AB_ERR_USAGE, "usage", AB_ERR_CLASS_FATAL},
    {AB_ERR_CONFIG, "config", AB_ERR_CLASS_FATAL},
    {AB_ERR_NOT_FOUND, "not_found", AB_ERR_CLASS_FATAL},
    {AB_ERR_DECODE, "decode", AB_ERR_CLASS_REJECT},
    {AB_ERR_TOO_LARGE, "too_large", AB_ERR_CLASS_REJECT},
    {AB_ERR_NO_ALERTNAME, "no_alertname", AB_ERR_CLASS_REJECT},
    {AB_ERR_NO_SEVERITY, "no_severity", AB_ERR_CLASS_REJECT},
    {AB_ERR_SEVERITY_UNMAPPED, "severity_unmapped", AB_ERR_CLASS_REJECT},
    {AB_ERR_BAD_TIME, "bad_time", AB_ERR_CLASS_REJECT},
    {AB_ERR_BATCH_ROOT, "batch_root", AB_ERR_CLASS_REJECT},
    {AB_ERR_NO_INTEGRATION, "no_integration", AB_ERR_CLASS_REJECT},
    {AB_ERR_ACTION_INVALID, "action_invalid", AB_ERR_CLASS_REJECT},
    {AB_ERR_ACTION_UNKNOWN, "action_unknown_alert", AB_ERR_CLASS_REJECT},
    {AB_ERR_ACTION_CLOSED, "action_closed_alert", AB_ERR_CLASS_REJECT},
    {AB_ERR_STATE, "state", AB_ERR_CLASS_FATAL},
    {AB_ERR_KAFKA, "kafka", AB_ERR_CLASS_RETRY},
    {AB_ERR_HTTP, "http", AB_ERR_CLASS_RETRY},
    {AB_ERR_RETRY, "retry", AB_ERR_CLASS_RETRY},
    {AB_ERR_IN_FLIGHT, "in_flight", AB_ERR_CLASS_RETRY},
    {AB_ERR_PERMANENT, "permanent", AB_ERR_CLASS_REJECT},
    {AB_ERR_INTERNAL, "internal", AB_ERR_CLASS_FATAL},
    {AB_ERR_REGEX_LIMIT, "regex_limit", AB_ERR_CLASS_REJECT},
    {AB_ERR_BAD_RECORD, "bad_record", AB_ERR_CLASS_REJECT},
    {AB_ERR_TXN_ABORT, "txn_abort", AB_ERR_CLASS_RETRY},
    {AB_ERR_KAFKA_FATAL, "kafka_fatal", AB_ERR_CLASS_FATAL},
    {AB_ERR_TOO_MANY_ALERTS, "too_many_alerts", AB_ERR_CLASS_REJECT},
};

#define NPINNED (sizeof(pinned) / sizeof(pinned[0]))

START_TEST(test_every_entry_is_pinned)
{
        ck_assert_uint_eq(NPINNED, AB_ERR__COUNT);
        for (size_t i = 0; i < NPINNED; i++)
                ck_assert_int_eq(pinned[i].err, (ab_err_t)i);
}
END_TEST

START_TEST(test_codes_are_stable)
{
        for (size_t i = 0; i < NPINNED; i++)
                ck_assert_str_eq(ab_err_code(pinned[i].err), pinned[i].code);
        ck_assert_str_eq(ab_err_code(AB_ERR__COUNT), "unknown");
}
END_TEST

START_TEST(test_classes)
{
        for (size_t i = 0; i < NPINNED; i++)
                ck_assert_msg(ab_err_class(pinned[i].err) == pinned[i].cls,
                              "%s has class %d, expected %d", pinned[i].code,
                              (int)ab_err_class(pinned[i].err),
                              (int)pinned[i].cls);
        /* Only success has no class; an unknown value cannot be handled. */
        for (int e = 1; e < AB_ERR__COUNT; e++)
                ck_assert_int_ne(ab_err_class((ab_err_t)e), AB_ERR_CLASS_NONE);
        ck_assert_int_eq(ab_err_class(AB_ERR__COUNT), AB_ERR_CLASS_FATAL);
        ck_assert_int_eq(ab_err_class((ab_err_t)-1), AB_ERR_CLASS_FATAL);
}
END_TEST

static Suite *err_suite(void)
{
        Suite *s = suite_create("err");
        TCase *tc;

        tc = tcase_create("list");
        tcase_add_test(tc, test_every_entry_is_pinned);
        tcase_add_test(tc, test_codes_are_stable);
        tcase_add_test(tc, test_classes);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(err_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
