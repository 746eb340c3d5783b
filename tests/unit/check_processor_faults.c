/* check_processor_faults.c - the processor and the lifecycle under it, with
 * every allocation failing in turn (tests/support/fault.h). */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "pipeline/config.h"
#include "pipeline/processor.h"
#include "tests/support/fault.h"

/*
 * The scenario: a monitor integration with auto-clear, at most three open
 * alerts and orphan recoveries closed. Its records open, merge, evict and
 * close alerts, are dead-lettered, name a built-in integration by header
 * (loaded on demand), and act on alerts (claim, comment, close, and ones
 * the lifecycle rejects); then wall-clock expiry and a snapshot. The
 * actions need the fingerprints, which the reference run (no fault)
 * learns.
 */

#define T0 1795316400000LL

static const char config_fmt[] =
    "kafka: {brokers: '127.0.0.1:9'}\n"
    "inputs:\n"
    "  - {topics: [web], integration: '%s/replay/web-v2.yaml'}\n"
    "  - {topics: [named]}\n"
    "output: {topic: events}\n"
    "dead_letter_topic: dlq\n"
    "actions_topic: actions\n"
    "lifecycle: {max_open_alerts: 3, close_orphan_recovery: true}\n";

#define NSTEPS 16

struct scenario {
        struct ab_pipeline_config *cfg;
        char fp_h1[64], fp_h3[64];
        struct {
                const char *topic;
                const char *integration; /* header; NULL: none */
                char value[256];
        } rec[NSTEPS];
        size_t nrec;
        struct ab_buf want; /* the reference run's outputs */
};

static void add(struct scenario *sc, const char *topic, const char *integ,
                const char *value)
{
        ck_assert_uint_lt(sc->nrec, NSTEPS);
        sc->rec[sc->nrec].topic       = topic;
        sc->rec[sc->nrec].integration = integ;
        snprintf(sc->rec[sc->nrec].value, sizeof(sc->rec[0].value), "%s",
                 value);
        sc->nrec++;
}

static void monitor(struct scenario *sc, const char *host, const char *state)
{
        char v[256];

        snprintf(v, sizeof(v),
                 "{\"check\":\"disk\",\"level\":\"critical\",\"host\":\"%s\","
                 "\"state\":\"%s\",\"text\":\"disk on %s\"}",
                 host, state, host);
        add(sc, "web", NULL, v);
}

static void action(struct scenario *sc, const char *what, const char *fp,
                   const char *extra)
{
        char v[256];

        snprintf(v, sizeof(v),
                 "{\"action\":\"%s\",\"operator\":\"alice\","
                 "\"fingerprint\":\"%s\"%s}",
                 what, fp, extra);
        add(sc, "actions", NULL, v);
}

/* Outputs as lines "kind topic key value". */
static ab_err_t collect(void *arg, const struct ab_output *o)
{
        return ab_buf_appendf(arg, "%d %s %.*s %.*s\n", (int)o->kind, o->topic,
                              (int)o->key.len, o->key.ptr ? o->key.ptr : "",
                              (int)o->value.len, o->value.ptr);
}

static void input(struct ab_input *in, const struct scenario *sc, size_t i)
{
        memset(in, 0, sizeof(*in));
        in->topic        = sc->rec[i].topic;
        in->timestamp_ms = T0 + (int64_t)i * 1000;
        in->value        = ab_str_c(sc->rec[i].value);
        if (sc->rec[i].integration)
                in->integration = ab_str_c(sc->rec[i].integration);
}

/* The records; the actions on h1 and h3 once their fingerprints are
 * known. */
static void build(struct scenario *sc)
{
        sc->nrec = 0;
        monitor(sc, "h1", "bad");
        monitor(sc, "h2", "bad");
        monitor(sc, "h3", "bad");
        monitor(sc, "h1", "bad"); /* a merge */
        monitor(sc, "h4", "bad"); /* evicts h2, the quietest */
        monitor(sc, "h2", "ok");  /* an orphan recovery */
        monitor(sc, "h4", "ok");
        add(sc, "web", NULL, "{\"check\":");
        add(sc, "named", "generic",
            "{\"alertname\":\"cpu\",\"severity\":\"P2\"}");
        add(sc, "named", "no-such-integration", "{}");
        if (!sc->fp_h1[0])
                return;
        action(sc, "claim", sc->fp_h1, "");
        action(sc, "comment", sc->fp_h1, ",\"comment\":\"looking\"");
        action(sc, "close", sc->fp_h3, ",\"solution\":\"fixed\"");
        action(sc, "claim", "00000000000000000000000000000000", "");
        add(sc, "actions", NULL, "{\"action\":\"ack\"}");
}

/* The key (32 hex digits) of the first event line about \p host in
 * \p out. */
static void find_fp(const struct ab_buf *out, const char *host, char fp[64])
{
        char needle[32];
        const char *hit, *line;

        snprintf(needle, sizeof(needle), "disk on %s", host);
        hit = strstr(out->data, needle);
        ck_assert_ptr_nonnull(hit);
        for (line = hit; line > out->data && line[-1] != '\n'; line--)
                ;
        ck_assert_int_eq(sscanf(line, "%*d %*s %63s", fp), 1);
}

static struct ab_processor *new_processor(const struct scenario *sc)
{
        struct ab_processor *p = NULL;
        struct ab_error err;

        ab_error_clear(&err);
        ck_assert_int_eq(ab_processor_new(sc->cfg, NULL, &p, &err), AB_OK);
        return p;
}

/* Every record, expiry and a snapshot; with \p fr, under the fault. */
static void run_all(struct scenario *sc, struct ab_processor *p,
                    struct ab_buf *out, struct ab_fault_run *fr)
{
        struct ab_fault_run none = {0, false, false, false};
        struct ab_buf snap;
        struct ab_input in;

        if (!fr)
                fr = &none;
        ab_buf_init(&snap, 0);
        for (size_t i = 0; i < sc->nrec; i++) {
                input(&in, sc, i);
                AB_FAULT_STEP(*fr, ab_processor_handle(p, &in, collect, out));
        }
        AB_FAULT_STEP(*fr, ab_processor_expire(p, T0 + 3600000, collect, out));
        AB_FAULT_STEP(*fr,
                      ab_lifecycle_snapshot(ab_processor_lifecycle(p), &snap));
        ab_buf_fini(&snap);
}

static void setup(struct scenario *sc)
{
        char text[1024];
        struct ab_processor *p;
        struct ab_error err;

        memset(sc, 0, sizeof(*sc));
        snprintf(text, sizeof(text), config_fmt, AB_FIXTURES);
        ab_error_clear(&err);
        ck_assert_msg(ab_pipeline_config_load_string(text, strlen(text), "test",
                                                     NULL, &sc->cfg,
                                                     &err) == AB_OK,
                      "config: %s", err.text);
        ab_buf_init(&sc->want, 0);
        build(sc);
        p = new_processor(sc);
        run_all(sc, p, &sc->want, NULL);
        ab_processor_destroy(p);
        find_fp(&sc->want, "h1", sc->fp_h1);
        find_fp(&sc->want, "h3", sc->fp_h3);
        build(sc);
        ab_buf_reset(&sc->want);
        p = new_processor(sc);
        run_all(sc, p, &sc->want, NULL);
        ab_processor_destroy(p);
        /* The scenario does what it says. */
        ck_assert_ptr_nonnull(strstr(sc->want.data, "evicted"));
        ck_assert_ptr_nonnull(strstr(sc->want.data, "no open alert matched"));
        ck_assert_ptr_nonnull(strstr(sc->want.data, "alarm:claim"));
        ck_assert_ptr_nonnull(strstr(sc->want.data, "alarm:comment"));
        ck_assert_ptr_nonnull(strstr(sc->want.data, "fixed"));
        ck_assert_ptr_nonnull(strstr(sc->want.data, "auto-cleared"));
        ck_assert_ptr_nonnull(strstr(sc->want.data, "\n1 dlq "));
}

static void teardown(struct scenario *sc)
{
        ab_buf_fini(&sc->want);
        ab_pipeline_config_destroy(sc->cfg);
}

/* After the fault: a new alert opens, bad data is dead-lettered, and a
 * recovery (the generic alert has no auto-clear) and expiry close every
 * open alert. */
static void check_usable(struct ab_processor *p)
{
        struct ab_lifecycle *lc = ab_processor_lifecycle(p);
        struct ab_buf out;
        struct ab_input in;

        ab_buf_init(&out, 0);
        memset(&in, 0, sizeof(in));
        in.topic        = "web";
        in.timestamp_ms = T0 + 7200000;
        in.value = ab_str_c("{\"check\":\"probe\",\"level\":\"warning\"}");
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, &out), AB_OK);
        ck_assert_ptr_nonnull(strstr(out.data, "alarm:create"));
        ck_assert_ptr_nonnull(strstr(out.data, "probe"));
        ab_buf_reset(&out);
        in.value = ab_str_c("not json");
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, &out), AB_OK);
        ck_assert_ptr_eq(strstr(out.data, "1 dlq "), out.data);
        ab_buf_reset(&out);
        in.topic       = "named";
        in.integration = ab_str_c("generic");
        in.value       = ab_str_c("{\"alertname\":\"cpu\",\"severity\":\"P2\","
                                        "\"status\":\"resolved\"}");
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, &out), AB_OK);
        ck_assert_ptr_nonnull(strstr(out.data, "alarm:close"));
        ck_assert_uint_ge(ab_lifecycle_open_count(lc), 1);
        ck_assert_int_eq(
            ab_processor_expire(p, T0 + 365LL * 86400000, collect, &out),
            AB_OK);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 0);
        ab_buf_fini(&out);
}

static void handle_scenario(void *arg, uint64_t n, struct ab_fault_run *fr)
{
        struct scenario *sc    = arg;
        struct ab_processor *p = new_processor(sc);
        struct ab_buf out;

        ab_buf_init(&out, 0);
        ab_mem_fail_after(n);
        run_all(sc, p, &out, fr);
        ab_fault_end(fr);
        /* Nothing failed: the outputs are the reference's, byte for
         * byte, even where an allocation was done without. */
        if (!fr->failed) {
                ck_assert_uint_eq(out.len, sc->want.len);
                ck_assert(!memcmp(out.data, sc->want.data, out.len));
        }
        check_usable(p);
        ab_buf_fini(&out);
        ab_processor_destroy(p);
}

START_TEST(test_handle_with_every_allocation_failing)
{
        struct scenario sc;

        setup(&sc);
        ck_assert_uint_gt(ab_fault_loop(handle_scenario, &sc), 50);
        teardown(&sc);
}
END_TEST

static void new_scenario(void *arg, uint64_t n, struct ab_fault_run *fr)
{
        struct scenario *sc    = arg;
        struct ab_processor *p = NULL;
        struct ab_error err;

        ab_error_clear(&err);
        ab_mem_fail_after(n);
        AB_FAULT_STEP(*fr, ab_processor_new(sc->cfg, NULL, &p, &err));
        ab_fault_end(fr);
        if (!p) {
                ck_assert_int_eq(err.code, AB_ERR_NOMEM);
                return;
        }
        check_usable(p);
        ab_processor_destroy(p);
}

START_TEST(test_new_with_every_allocation_failing)
{
        struct scenario sc;

        setup(&sc);
        ck_assert_uint_gt(ab_fault_loop(new_scenario, &sc), 10);
        teardown(&sc);
}
END_TEST

static Suite *processor_faults_suite(void)
{
        Suite *s = suite_create("processor faults");
        TCase *tc;

        tc = tcase_create("allocation faults");
        tcase_set_timeout(tc, 240);
        tcase_add_test(tc, test_new_with_every_allocation_failing);
        tcase_add_test(tc, test_handle_with_every_allocation_failing);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr;
        int failed;

        /* jansson (integrations loaded on demand) allocates through the
         * wrappers too, so its allocations fail in turn as well. */
        json_set_alloc_funcs(ab_malloc, ab_free);
        sr = srunner_create(processor_faults_suite());
        srunner_set_fork_status(sr, CK_NOFORK);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
