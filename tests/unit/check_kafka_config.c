/* check_kafka_config.c - the shared kafka block: one set of checks for the
 * pipeline and the sink, and the properties each client gets. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/mem.h"
#include "kafka/kafka_config.h"
#include "pipeline/config.h"
#include "sink/sink.h"

static const char pipeline_base[] =
    "inputs: [{topics: [in], integration: alertmanager}]\n"
    "output: {topic: out}\n"
    "dead_letter_topic: dlq\n";

static const char sink_base[] =
    "dead_letter_topic: sink.dlq\n"
    "eventbridge: {endpoint: 'https://eb.example', bus: b}\n";

/* Load the pipeline file made of \p kafka and the base; returns the code. */
static ab_err_t load_pipeline(const char *kafka, struct ab_error *err)
{
        struct ab_pipeline_config *cfg = NULL;
        char text[2048];
        ab_err_t rc;

        snprintf(text, sizeof(text), "%s%s", kafka, pipeline_base);
        ab_error_clear(err);
        rc = ab_pipeline_config_load_string(text, strlen(text), "test", NULL,
                                            &cfg, err);
        ab_pipeline_config_destroy(cfg);
        return rc;
}

/* The same for a sink file (it has no string loader: a temporary file). */
static ab_err_t load_sink(const char *kafka, struct ab_error *err)
{
        char path[] = "/tmp/ab-kafka-config-XXXXXX";
        int fd      = mkstemp(path);
        struct ab_sink_config cfg;
        FILE *f;
        ab_err_t rc;

        ck_assert_int_ge(fd, 0);
        f = fdopen(fd, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "%s  topics: [out]\n%s", kafka, sink_base);
        fclose(f);
        ab_error_clear(err);
        rc = ab_sink_config_load(path, &cfg, err);
        ab_sink_config_free(&cfg);
        unlink(path);
        return rc;
}

/* `alertbridge sink --check` and `check-config` reject the same way. */
static void same_rejection(const char *kafka, const char *path,
                           const char *text)
{
        struct ab_error pe, se;

        ck_assert_int_eq(load_pipeline(kafka, &pe), AB_ERR_CONFIG);
        ck_assert_int_eq(load_sink(kafka, &se), AB_ERR_CONFIG);
        ck_assert_str_eq(pe.path, path);
        ck_assert_str_eq(se.path, path);
        ck_assert_str_eq(pe.text, se.text);
        ck_assert_msg(strstr(pe.text, text), "%s", pe.text);
}

START_TEST(test_both_reject_unknown_properties)
{
        same_rejection("kafka:\n  brokers: b:9092\n"
                       "  properties: {no.such.property: 1}\n",
                       "kafka.properties['no.such.property']",
                       "No such configuration property");
}
END_TEST

START_TEST(test_both_reject_owned_properties)
{
        same_rejection("kafka:\n  brokers: b:9092\n"
                       "  properties: {bootstrap.servers: x:1}\n",
                       "kafka.properties['bootstrap.servers']",
                       "set kafka.brokers instead");
        same_rejection("kafka:\n  brokers: b:9092\n"
                       "  producer_properties: {group.id: g}\n",
                       "kafka.producer_properties['group.id']",
                       "set kafka.group instead");
        same_rejection("kafka:\n  brokers: b:9092\n"
                       "  consumer_properties: "
                       "{enable.auto.offset.store: true}\n",
                       "kafka.consumer_properties['enable.auto.offset."
                       "store']",
                       "alertbridge stores offsets itself");
}
END_TEST

START_TEST(test_both_accept_valid_properties)
{
        struct ab_error err;
        const char *kafka = "kafka:\n  brokers: b:9092\n"
                            "  properties: {client.rack: r1}\n"
                            "  consumer_properties: {fetch.wait.max.ms: 50}\n"
                            "  producer_properties: {linger.ms: 5}\n";

        ck_assert_int_eq(load_pipeline(kafka, &err), AB_OK);
        ck_assert_int_eq(load_sink(kafka, &err), AB_OK);
}
END_TEST

START_TEST(test_client_props_order_and_skip)
{
        struct ab_pipeline_kv common[] = {{"a", "1"}, {"skip.me", "x"}};
        struct ab_pipeline_kv cons[]   = {{"b", "2"}};
        struct ab_pipeline_kv prod[]   = {{"c", "3"}};
        struct ab_kafka_config kc      = {.properties           = common,
                                          .nproperties          = 2,
                                          .consumer_properties  = cons,
                                          .nconsumer_properties = 1,
                                          .producer_properties  = prod,
                                          .nproducer_properties = 1};
        const char *const before[]     = {"d", "0", NULL};
        const char *const after[]      = {"e", "9", NULL};
        const char **v;

        v = ab_kafka_client_props(&kc, AB_KAFKA_CONSUMER, before, after,
                                  "skip.me");
        ck_assert_ptr_nonnull(v);
        ck_assert_str_eq(v[0], "d");
        ck_assert_str_eq(v[2], "a");
        ck_assert_str_eq(v[4], "b");
        ck_assert_str_eq(v[5], "2");
        ck_assert_str_eq(v[6], "e");
        ck_assert_ptr_null(v[8]);
        ab_free(v);
        v = ab_kafka_client_props(&kc, AB_KAFKA_PRODUCER, NULL, NULL, NULL);
        ck_assert_ptr_nonnull(v);
        ck_assert_str_eq(v[0], "a");
        ck_assert_str_eq(v[2], "skip.me");
        ck_assert_str_eq(v[4], "c");
        ck_assert_ptr_null(v[6]);
        ab_free(v);
}
END_TEST

int main(void)
{
        Suite *s  = suite_create("kafka_config");
        TCase *tc = tcase_create("kafka");
        SRunner *sr;
        int failed;

        tcase_add_test(tc, test_both_reject_unknown_properties);
        tcase_add_test(tc, test_both_reject_owned_properties);
        tcase_add_test(tc, test_both_accept_valid_properties);
        tcase_add_test(tc, test_client_props_order_and_skip);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
