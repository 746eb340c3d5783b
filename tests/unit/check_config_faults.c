/* check_config_faults.c - the config reader, the integration loader and the
 * pipeline config loader with every allocation failing in turn
 * (tests/support/fault.h). */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "pipeline/config.h"
#include "tests/support/fault.h"
#include "transform/integration.h"

/*
 * jansson allocates through the project's wrappers here (main() sets its
 * allocation functions), so a failing allocation inside jansson is found
 * too. A loader has nothing to do without an allocation: a call that
 * reaches the fault must return AB_ERR_NOMEM with the error's code set,
 * and the same call right after must succeed.
 */

/* YAML with every kind of node the reader builds: scalars of each type,
 * tags, anchors and aliases, nested lists and mappings. */
static const char conf_text[] = "name: sample\n"
                                "count: 42\n"
                                "ratio: 0.75\n"
                                "on: true\n"
                                "none: ~\n"
                                "tagged: !!str 12\n"
                                "base: &base {a: 1, b: [x, y, {c: 2.5}]}\n"
                                "copy: *base\n"
                                "list:\n"
                                "  - one\n"
                                "  - {k: v, n: -3}\n"
                                "  - [1, 2.0, 'three']\n"
                                "block: |\n"
                                "  line one\n"
                                "  line two\n";

static const char pipeline_fmt[] =
    "kafka:\n"
    "  brokers: '127.0.0.1:9'\n"
    "  properties: {socket.timeout.ms: '5000'}\n"
    "  producer_properties: {linger.ms: '5'}\n"
    "inputs:\n"
    "  - {topics: [am, am2], integration: alertmanager}\n"
    "  - {topics: [web], integration: '%s/replay/web-v2.yaml'}\n"
    "  - {topics: [named]}\n"
    "output:\n"
    "  topic: events\n"
    "  source: test\n"
    "  policies:\n"
    "    - {name: db, owner: dba, topic: db-events,\n"
    "       when: {severity: [P1, P2], integration: [alertmanager],\n"
    "              labels: {team: db}}}\n"
    "    - {name: rest}\n"
    "dead_letter_topic: dlq\n"
    "actions_topic: actions\n"
    "lifecycle: {max_open_alerts: 10, expire_interval: 1s}\n";

/* The call under the fault must have set the error's code too. */
static void check_err(const struct ab_fault_run *fr, ab_err_t rc,
                      const struct ab_error *err)
{
        ck_assert_msg(!fr->absorbed, "a loader went on without allocation %llu",
                      (unsigned long long)fr->n);
        if (rc)
                ck_assert_msg(err->code == AB_ERR_NOMEM,
                              "error code %s (%s) for out of memory at "
                              "allocation %llu",
                              ab_err_code(err->code), err->text,
                              (unsigned long long)fr->n);
}

static ab_err_t conf_load(json_t **out, struct ab_error *err)
{
        *out = ab_conf_load_string(conf_text, strlen(conf_text), "test", err);
        return *out ? AB_OK : err->code ? err->code : AB_ERR_INTERNAL;
}

static void conf_scenario(void *arg, uint64_t n, struct ab_fault_run *fr)
{
        const char *want = arg;
        struct ab_error err;
        json_t *root = NULL;
        char *dump;
        ab_err_t rc;

        ab_error_clear(&err);
        ab_mem_fail_after(n);
        AB_FAULT_STEP(*fr, rc = conf_load(&root, &err));
        ab_fault_end(fr);
        check_err(fr, rc, &err);
        json_decref(root);
        ck_assert_int_eq(conf_load(&root, &err), AB_OK);
        dump = json_dumps(root, JSON_SORT_KEYS | JSON_COMPACT);
        ck_assert_str_eq(dump, want);
        free(dump);
        json_decref(root);
}

START_TEST(test_conf_with_every_allocation_failing)
{
        struct ab_error err;
        json_t *root = NULL;
        char *want;

        ab_error_clear(&err);
        ck_assert_int_eq(conf_load(&root, &err), AB_OK);
        want = json_dumps(root, JSON_SORT_KEYS | JSON_COMPACT);
        json_decref(root);
        ck_assert_uint_gt(ab_fault_loop(conf_scenario, want), 20);
        free(want);
}
END_TEST

static void integration_scenario(void *arg, uint64_t n, struct ab_fault_run *fr)
{
        const char *name             = arg;
        struct ab_integration *integ = NULL;
        struct ab_error err;
        ab_err_t rc;

        ab_error_clear(&err);
        ab_mem_fail_after(n);
        AB_FAULT_STEP(*fr, rc = ab_integration_load(name, &integ, &err));
        ab_fault_end(fr);
        check_err(fr, rc, &err);
        if (!integ)
                ck_assert_int_eq(ab_integration_load(name, &integ, &err),
                                 AB_OK);
        ck_assert_ptr_nonnull(ab_integration_name(integ));
        ab_integration_destroy(integ);
}

START_TEST(test_integrations_with_every_allocation_failing)
{
        char path[512];

        for (const char *const *n = ab_integration_builtin_names(); *n; n++)
                ck_assert_uint_gt(
                    ab_fault_loop(integration_scenario, (void *)*n), 20);
        snprintf(path, sizeof(path), "%s/replay/web-v2.yaml", AB_FIXTURES);
        ck_assert_uint_gt(ab_fault_loop(integration_scenario, path), 20);
}
END_TEST

static void pipeline_scenario(void *arg, uint64_t n, struct ab_fault_run *fr)
{
        const char *text               = arg;
        struct ab_pipeline_config *cfg = NULL;
        struct ab_error err;
        ab_err_t rc;

        ab_error_clear(&err);
        ab_mem_fail_after(n);
        AB_FAULT_STEP(*fr, rc = ab_pipeline_config_load_string(
                               text, strlen(text), "test", NULL, &cfg, &err));
        ab_fault_end(fr);
        check_err(fr, rc, &err);
        if (!cfg)
                ck_assert_int_eq(
                    ab_pipeline_config_load_string(text, strlen(text), "test",
                                                   NULL, &cfg, &err),
                    AB_OK);
        ck_assert_uint_eq(cfg->ninputs, 3);
        ck_assert_uint_eq(cfg->output.npolicies, 2);
        ck_assert_str_eq(cfg->output.policies[0].owner, "dba");
        ab_pipeline_config_destroy(cfg);
}

START_TEST(test_pipeline_config_with_every_allocation_failing)
{
        char text[2048];

        snprintf(text, sizeof(text), pipeline_fmt, AB_FIXTURES);
        ck_assert_uint_gt(ab_fault_loop(pipeline_scenario, text), 20);
}
END_TEST

static Suite *config_faults_suite(void)
{
        Suite *s = suite_create("config faults");
        TCase *tc;

        tc = tcase_create("allocation faults");
        tcase_set_timeout(tc, 240);
        tcase_add_test(tc, test_conf_with_every_allocation_failing);
        tcase_add_test(tc, test_integrations_with_every_allocation_failing);
        tcase_add_test(tc, test_pipeline_config_with_every_allocation_failing);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr;
        int failed;

        json_set_alloc_funcs(ab_malloc, ab_free);
        sr = srunner_create(config_faults_suite());
        srunner_set_fork_status(sr, CK_NOFORK);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
