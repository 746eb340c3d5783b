/* check_sink_config.c - the sink's configuration, credentials and filters. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/log.h"
#include "sink/sink.h"

#define FIX AB_FIXTURES "/sink/"

START_TEST(test_load_full)
{
        struct ab_sink_config cfg;
        struct ab_error err;

        ck_assert_int_eq(ab_sink_config_load(FIX "sink.yaml", &cfg, &err),
                         AB_OK);
        ck_assert_str_eq(cfg.kafka.group, "alertbridge-sink");
        ck_assert_uint_eq(cfg.input.ntopics, 2);
        ck_assert_str_eq(cfg.eventbridge.bus, "alerts-bus");
        ck_assert_int_eq(cfg.eventbridge.max_in_flight, 8);
        ck_assert_int_eq(cfg.eventbridge.request_timeout_ms, 10000);
        ck_assert_int_eq(cfg.eventbridge.backoff_max_ms, 60000);
        ck_assert_int_eq(cfg.eventbridge.max_events, 16);
        ck_assert_int_eq(cfg.eventbridge.max_request_bytes, 262144);
        ck_assert_int_eq(cfg.eventbridge.max_event_bytes, 65536);
        ck_assert_int_eq(cfg.on_permanent, AB_SINK_DLQ);
        ck_assert_uint_eq(cfg.filters.severity_mask, 3);
        ck_assert_uint_eq(cfg.filters.ntypes, 2);
        ab_sink_config_free(&cfg);
}
END_TEST

START_TEST(test_load_errors_name_the_key)
{
        struct ab_sink_config cfg;
        struct ab_error err;

        ck_assert_int_eq(
            ab_sink_config_load(FIX "missing_bus.yaml", &cfg, &err),
            AB_ERR_CONFIG);
        ck_assert_str_eq(err.path, "eventbridge.bus");
        ab_sink_config_free(&cfg);
        /* Secrets have no key in the file: an inline one is rejected. */
        ck_assert_int_eq(ab_sink_config_load(FIX "bad_key.yaml", &cfg, &err),
                         AB_ERR_CONFIG);
        ck_assert_str_eq(err.path, "eventbridge.access_key_secret");
        ab_sink_config_free(&cfg);
}
END_TEST

/* Load a sink config whose eventbridge.source is \p source. */
static ab_err_t load_source(const char *source, struct ab_sink_config *cfg,
                            struct ab_error *err)
{
        char path[] = "/tmp/ab-sink-src-XXXXXX";
        int fd      = mkstemp(path);
        FILE *f     = fdopen(fd, "w");
        ab_err_t rc;

        ck_assert_ptr_nonnull(f);
        fprintf(f,
                "kafka: {brokers: 127.0.0.1:9092, topics: [alerts.events]}\n"
                "dead_letter_topic: alerts.sink.dlq\n"
                "eventbridge: {endpoint: http://127.0.0.1:1, bus: b,\n"
                "              source: \"%s\"}\n",
                source);
        fclose(f);
        rc = ab_sink_config_load(path, cfg, err);
        unlink(path);
        return rc;
}

START_TEST(test_source_is_a_uri_reference)
{
        static const char *const ok[]  = {"alertbridge", "/a/b",
                                          "https://x.example/a?b#c", "urn:x:y"};
        static const char *const bad[] = {"alert bridge", "a^b", "a\\x01b",
                                          "a\\tb"};
        struct ab_sink_config cfg;
        struct ab_error err;

        for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
                ck_assert_msg(load_source(ok[i], &cfg, &err) == AB_OK, "%s: %s",
                              ok[i], err.text);
                ck_assert_str_eq(cfg.eventbridge.source, ok[i]);
                ab_sink_config_free(&cfg);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                ck_assert_int_eq(load_source(bad[i], &cfg, &err),
                                 AB_ERR_CONFIG);
                ck_assert_str_eq(err.path, "eventbridge.source");
                ck_assert_msg(strstr(err.text, "is not a URI-reference"), "%s",
                              err.text);
                ab_sink_config_free(&cfg);
        }
}
END_TEST

static int check_config(const char *file)
{
        char *argv[] = {"sink", "--config", (char *)file, "--check", NULL};

        return ab_cmd_sink(4, argv);
}

START_TEST(test_credentials_from_env_and_file)
{
        char logpath[] = "/tmp/ab-sink-cfg-XXXXXX";
        int fd         = mkstemp(logpath);
        int saved      = dup(2);
        char buf[8192] = {0};
        FILE *f;

        unsetenv("SINK_TEST_AK");
        setenv("SINK_TEST_SECRET", "ENV-SEKRIT", 1);
        dup2(fd, 2);
        /* A valid file without credentials here: ok, with a warning. */
        ck_assert_int_eq(check_config(FIX "sink.yaml"), 0);
        setenv("SINK_TEST_AK", "id", 1);
        ck_assert_int_eq(check_config(FIX "sink.yaml"), 0);
        ck_assert_int_eq(check_config(FIX "with_file.yaml"), 0);
        ck_assert_int_eq(check_config(FIX "missing_bus.yaml"), 2);
        dup2(saved, 2);
        f = fdopen(fd, "r");
        rewind(f);
        ck_assert_uint_gt(fread(buf, 1, sizeof(buf) - 1, f), 0);
        fclose(f);
        unlink(logpath);
        ck_assert_ptr_nonnull(strstr(buf, "$SINK_TEST_AK"));
        ck_assert_ptr_nonnull(strstr(buf, "without credentials"));
        ck_assert_ptr_null(strstr(buf, "SEKRIT"));
}
END_TEST

/* Loads sink.yaml with its http: line replaced by \p http. */
static ab_err_t load_with_http(const char *http, struct ab_sink_config *cfg,
                               struct ab_error *err)
{
        char path[] = "/tmp/ab-sink-http-XXXXXX";
        int fd      = mkstemp(path);
        FILE *in    = fopen(FIX "sink.yaml", "r");
        FILE *out   = fdopen(fd, "w");
        char line[512];
        ab_err_t rc;

        ck_assert_ptr_nonnull(in);
        ck_assert_ptr_nonnull(out);
        while (fgets(line, sizeof(line), in))
                fputs(strncmp(line, "http:", 5) ? line : http, out);
        fclose(in);
        fclose(out);
        rc = ab_sink_config_load(path, cfg, err);
        unlink(path);
        return rc;
}

/* One rule with `run`: an empty http.listen means no HTTP server. */
START_TEST(test_http_listen_empty_means_none)
{
        struct ab_sink_config cfg;
        struct ab_error err;

        ab_error_clear(&err);
        ck_assert_msg(load_with_http("http: {listen: \"\"}\n", &cfg, &err) ==
                          AB_OK,
                      "%s: %s", err.path, err.text);
        ck_assert_ptr_null(cfg.http_listen);
        ab_sink_config_free(&cfg);
        ck_assert_int_eq(
            load_with_http("http: {listen: \"nohost\"}\n", &cfg, &err),
            AB_ERR_CONFIG);
        ck_assert_str_eq(err.path, "http.listen");
        ab_sink_config_free(&cfg);
        ck_assert_int_eq(
            load_with_http("http: {listen: 127.0.0.1:0}\n", &cfg, &err), AB_OK);
        ck_assert_str_eq(cfg.http_listen, "127.0.0.1:0");
        ab_sink_config_free(&cfg);
}
END_TEST

static const char *ev_json =
    "{\"specversion\":\"1.0\",\"id\":\"i\",\"source\":\"s\","
    "\"type\":\"aliyun:arms:alarm:create\",\"integration\":\"alertmanager\","
    "\"data\":{\"owner\":\"o\",\"data\":{\"level\":\"P2\","
    "\"dispatchRuleName\":\"O&M team\"}}}";

START_TEST(test_filters_structured)
{
        char *types[] = {"create"}, *close[] = {"aliyun:arms:alarm:close"};
        char *pol[] = {"O&M team"}, *other[] = {"other"};
        struct ab_sink_filters f = {0};
        size_t n                 = strlen(ev_json);

        ck_assert(ab_sink_filter_match(&f, ev_json, n, 0, 0, 0, 0, 0, 0));
        f.types  = types;
        f.ntypes = 1;
        ck_assert(ab_sink_filter_match(&f, ev_json, n, 0, 0, 0, 0, 0, 0));
        f.types = close;
        ck_assert(!ab_sink_filter_match(&f, ev_json, n, 0, 0, 0, 0, 0, 0));
        f.ntypes        = 0;
        f.severity_mask = 1; /* P1 only */
        ck_assert(!ab_sink_filter_match(&f, ev_json, n, 0, 0, 0, 0, 0, 0));
        f.severity_mask = 2;
        ck_assert(ab_sink_filter_match(&f, ev_json, n, 0, 0, 0, 0, 0, 0));
        f.policies  = pol;
        f.npolicies = 1;
        ck_assert(ab_sink_filter_match(&f, ev_json, n, 0, 0, 0, 0, 0, 0));
        f.integrations  = other;
        f.nintegrations = 1;
        ck_assert(!ab_sink_filter_match(&f, ev_json, n, 0, 0, 0, 0, 0, 0));
}
END_TEST

START_TEST(test_filters_binary)
{
        const char *data = "{\"owner\":\"o\",\"data\":{\"level\":\"P4\"}}";
        char *integ[]    = {"zabbix"};
        struct ab_sink_filters f = {0};

        f.severity_mask = 8;
        ck_assert(ab_sink_filter_match(&f, NULL, 0, "aliyun:arms:alarm:close",
                                       23, "zabbix", 6, data, strlen(data)));
        f.integrations  = integ;
        f.nintegrations = 1;
        ck_assert(ab_sink_filter_match(&f, NULL, 0, "t", 1, "zabbix", 6, data,
                                       strlen(data)));
        ck_assert(!ab_sink_filter_match(&f, NULL, 0, "t", 1, "zabbi", 5, data,
                                        strlen(data)));
        f.severity_mask = 1;
        ck_assert(!ab_sink_filter_match(&f, NULL, 0, "t", 1, "zabbix", 6, data,
                                        strlen(data)));
}
END_TEST

/* docs/sink.md carries the generated reference; regenerate with
 * `build/tests/check_sink_config --write-reference`. */
static char *reference(void)
{
        struct ab_buf b;
        char *s;

        ab_buf_init(&b, 0);
        s = ab_sink_config_reference(&b) ? NULL : strdup(b.data);
        ab_buf_fini(&b);
        return s;
}

START_TEST(test_docs_reference_up_to_date)
{
        char *ref = reference();
        char *doc = calloc(1, 1 << 20);
        FILE *f   = fopen(AB_SOURCE_DIR "/docs/sink.md", "r");

        ck_assert_ptr_nonnull(ref);
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_gt(fread(doc, 1, (1 << 20) - 1, f), 0);
        fclose(f);
        ck_assert_msg(strstr(doc, ref) != NULL,
                      "docs/sink.md lacks the current configuration table");
        free(doc);
        free(ref);
}
END_TEST

int main(int argc, char **argv)
{
        Suite *s  = suite_create("sink_config");
        TCase *tc = tcase_create("config");
        SRunner *sr;
        int failed;

        if (argc == 2 && !strcmp(argv[1], "--write-reference")) {
                char *ref = reference();

                if (ref)
                        fputs(ref, stdout);
                free(ref);
                return ref ? 0 : 1;
        }
        tcase_add_test(tc, test_load_full);
        tcase_add_test(tc, test_load_errors_name_the_key);
        tcase_add_test(tc, test_source_is_a_uri_reference);
        tcase_add_test(tc, test_credentials_from_env_and_file);
        tcase_add_test(tc, test_http_listen_empty_means_none);
        tcase_add_test(tc, test_filters_structured);
        tcase_add_test(tc, test_filters_binary);
        tcase_add_test(tc, test_docs_reference_up_to_date);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
