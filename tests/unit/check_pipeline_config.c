/* check_pipeline_config.c - unit tests for pipeline/config.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mem.h"
#include "pipeline/config.h"
#include "transform/integration.h"

#define EXAMPLES AB_SOURCE_DIR "/examples/"

/* The keys without defaults that every valid file needs. */
static const char *const base[] = {
    "kafka: {brokers: 'b:9092'}\n",
    "inputs: [{topics: [in], integration: alertmanager}]\n",
    "output: {topic: out}\n",
    "dead_letter_topic: dlq\n",
};

static struct ab_pipeline_config *cfg;
static struct ab_error err;

static void setup(void)
{
        cfg = NULL;
        ab_error_clear(&err);
}

static void teardown(void)
{
        ab_pipeline_config_destroy(cfg);
}

/*
 * The base file with the top-level keys of \p override replaced by its
 * own (a YAML file cannot repeat a key). Returns a static buffer.
 */
static const char *with(const char *override)
{
        static char text[4096];
        size_t n = 0;

        for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
                char key[40];
                const char *hit;

                snprintf(key, sizeof(key), "%.*s",
                         (int)(strchr(base[i], ':') - base[i] + 1), base[i]);
                hit = strstr(override, key);
                if (hit && (hit == override || hit[-1] == '\n'))
                        continue;
                n +=
                    (size_t)snprintf(text + n, sizeof(text) - n, "%s", base[i]);
        }
        snprintf(text + n, sizeof(text) - n, "%s", override);
        return text;
}

static ab_err_t load(const char *text)
{
        ab_pipeline_config_destroy(cfg);
        cfg = NULL;
        ab_error_clear(&err);
        return ab_pipeline_config_load_string(text, strlen(text), "test.yaml",
                                              "/etc/ab", &cfg, &err);
}

static void load_ok(const char *text)
{
        ab_err_t rc = load(text);

        ck_assert_msg(rc == AB_OK, "%s: %s", err.path, err.text);
        ck_assert_ptr_nonnull(cfg);
}

START_TEST(test_example_config)
{
        const struct ab_pipeline_policy *p;
        struct ab_integration *integ = NULL;

        ck_assert_msg(ab_pipeline_config_load(EXAMPLES "pipeline.yaml", &cfg,
                                              &err) == AB_OK,
                      "%s: %s", err.path, err.text);
        ck_assert_str_eq(cfg->path, EXAMPLES "pipeline.yaml");
        ck_assert_str_eq(cfg->kafka.brokers, "127.0.0.1:9092");
        ck_assert_str_eq(cfg->kafka.group, "alertbridge");
        ck_assert_uint_eq(cfg->kafka.nproperties, 0);
        ck_assert_int_eq(cfg->loop.poll_timeout_ms, 100);
        ck_assert_int_eq(cfg->loop.flush_timeout_ms, 30000);
        ck_assert_int_eq(cfg->loop.max_pending_records, 100000);
        ck_assert_int_eq(cfg->loop.max_pending_bytes, 64 << 20);

        ck_assert_uint_eq(cfg->ninputs, 2);
        ck_assert_uint_eq(cfg->inputs[0].ntopics, 1);
        ck_assert_str_eq(cfg->inputs[0].topics[0], "alerts.raw.network");
        /* Relative to the config file's directory, and really there. */
        ck_assert_str_eq(cfg->inputs[0].integration,
                         EXAMPLES "integrations/network-monitor.yaml");
        ck_assert_msg(ab_integration_load(cfg->inputs[0].integration, &integ,
                                          &err) == AB_OK,
                      "%s: %s", err.path, err.text);
        ck_assert_str_eq(ab_integration_name(integ), "network-monitor");
        ab_integration_destroy(integ);
        ck_assert_str_eq(cfg->inputs[1].topics[0], "alerts.raw.alertmanager");
        ck_assert_str_eq(cfg->inputs[1].integration, "alertmanager");
        ck_assert_str_eq(cfg->integration_header, "alertbridge-integration");

        ck_assert_str_eq(cfg->output.topic, "alerts.events");
        ck_assert_int_eq(cfg->output.binding, AB_PIPELINE_BINDING_STRUCTURED);
        ck_assert_str_eq(cfg->output.source, "alertbridge");
        ck_assert_uint_eq(cfg->output.npolicies, 3);
        p = &cfg->output.policies[0];
        ck_assert_str_eq(p->name, "O&M team");
        ck_assert_str_eq(p->owner, "ops-oncall");
        ck_assert_str_eq(p->topic, "alerts.events.urgent");
        ck_assert_uint_eq(p->severity_mask, 0x3);
        ck_assert_uint_eq(p->nintegrations, 0);
        p = &cfg->output.policies[1];
        ck_assert_str_eq(p->name, "Network team");
        ck_assert_ptr_null(p->topic);
        ck_assert_uint_eq(p->nintegrations, 1);
        ck_assert_str_eq(p->integrations[0], "network-monitor");
        p = &cfg->output.policies[2];
        ck_assert_uint_eq(p->severity_mask, 0);
        ck_assert_uint_eq(p->nintegrations + p->nlabels, 0);

        ck_assert_str_eq(cfg->dead_letter_topic, "alerts.dlq");
        ck_assert_str_eq(cfg->actions_topic, "alerts.actions");
        ck_assert_str_eq(cfg->http.listen, "127.0.0.1:9464");
        ck_assert_int_eq(cfg->http.stall_timeout_ms, 60000);
        ck_assert_int_eq(cfg->lifecycle.max_open_alerts, 100000);
        ck_assert(!cfg->lifecycle.close_orphan_recovery);
        ck_assert_int_eq(cfg->lifecycle.expire_interval_ms, 10000);
        ck_assert_int_eq(cfg->log_level, AB_LOG_INFO);
        ck_assert_int_eq(cfg->state.compression, AB_PIPELINE_COMPRESSION_LZ4);
        ck_assert_str_eq(ab_pipeline_compression_name(cfg->state.compression),
                         "lz4");
}
END_TEST

/* state.compression names librdkafka's codecs; others are errors. */
START_TEST(test_state_compression)
{
        static const char *const names[] = {"none", "gzip", "snappy", "zstd",
                                            "lz4"};

        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                char text[64];

                snprintf(text, sizeof(text), "state: {compression: %s}\n",
                         names[i]);
                load_ok(with(text));
                ck_assert_str_eq(
                    ab_pipeline_compression_name(cfg->state.compression),
                    names[i]);
        }
        ck_assert_int_eq(load(with("state: {compression: brotli}\n")),
                         AB_ERR_CONFIG);
        ck_assert_str_eq(err.path, "state.compression");
}
END_TEST

START_TEST(test_compose_example_config)
{
        unsetenv("KAFKA_BROKERS");
        ck_assert_msg(ab_pipeline_config_load(EXAMPLES "pipeline.compose.yaml",
                                              &cfg, &err) == AB_OK,
                      "%s: %s", err.path, err.text);
        ck_assert_str_eq(cfg->kafka.brokers, "kafka:9092");
        ck_assert_str_eq(cfg->http.listen, "0.0.0.0:9464");
        ck_assert_str_eq(cfg->inputs[1].integration,
                         EXAMPLES "integrations/network-monitor.yaml");
}
END_TEST

START_TEST(test_defaults)
{
        load_ok(with(""));
        ck_assert_str_eq(cfg->kafka.group, "alertbridge");
        ck_assert_uint_eq(cfg->kafka.nproperties +
                              cfg->kafka.nconsumer_properties +
                              cfg->kafka.nproducer_properties,
                          0);
        ck_assert_int_eq(cfg->loop.poll_timeout_ms, 100);
        ck_assert_int_eq(cfg->loop.flush_timeout_ms, 30000);
        ck_assert_int_eq(cfg->loop.max_pending_records, 100000);
        ck_assert_int_eq(cfg->loop.max_pending_bytes, 64LL << 20);
        ck_assert_str_eq(cfg->integration_header, "alertbridge-integration");
        ck_assert_int_eq(cfg->output.binding, AB_PIPELINE_BINDING_STRUCTURED);
        ck_assert_str_eq(cfg->output.source, "alertbridge");
        ck_assert_uint_eq(cfg->output.npolicies, 0);
        ck_assert_ptr_null(cfg->output.policies);
        ck_assert_ptr_null(cfg->actions_topic);
        ck_assert_str_eq(cfg->http.listen, "127.0.0.1:9464");
        ck_assert_int_eq(cfg->http.stall_timeout_ms, 60000);
        ck_assert_int_eq(cfg->lifecycle.max_open_alerts, 100000);
        ck_assert(!cfg->lifecycle.close_orphan_recovery);
        ck_assert_int_eq(cfg->lifecycle.expire_interval_ms, 10000);
        ck_assert_int_eq(cfg->log_level, AB_LOG_INFO);
}
END_TEST

START_TEST(test_every_value_kind)
{
        load_ok(with("kafka:\n"
                     "  brokers: a:1,b:2\n"
                     "  properties: {retries: 5, enable.idempotence: true,"
                     " client.id: x}\n"
                     "  consumer_properties: {session.timeout.ms: '6000'}\n"
                     "  producer_properties: {linger.ms: 5}\n"
                     "  poll_timeout: 250ms\n"
                     "  flush_timeout: 2\n" /* bare number: seconds */
                     "  max_pending_records: 1\n"
                     "  max_pending_bytes: 1048576\n"
                     "output: {topic: out, binding: binary, source: src}\n"
                     "http: {listen: '', stall_timeout: 0}\n"
                     "lifecycle: {max_open_alerts: 0, "
                     "close_orphan_recovery: true, expire_interval: 1m30s}\n"
                     "log_level: debug\n"
                     "actions_topic: ~\n"));
        ck_assert_str_eq(cfg->kafka.brokers, "a:1,b:2");
        ck_assert_uint_eq(cfg->kafka.nproperties, 3);
        ck_assert_str_eq(cfg->kafka.properties[0].key, "retries");
        ck_assert_str_eq(cfg->kafka.properties[0].value, "5");
        ck_assert_str_eq(cfg->kafka.properties[1].key, "enable.idempotence");
        ck_assert_str_eq(cfg->kafka.properties[1].value, "true");
        ck_assert_str_eq(cfg->kafka.properties[2].value, "x");
        ck_assert_str_eq(cfg->kafka.consumer_properties[0].value, "6000");
        ck_assert_str_eq(cfg->kafka.producer_properties[0].value, "5");
        ck_assert_int_eq(cfg->loop.poll_timeout_ms, 250);
        ck_assert_int_eq(cfg->loop.flush_timeout_ms, 2000);
        ck_assert_int_eq(cfg->loop.max_pending_records, 1);
        ck_assert_int_eq(cfg->loop.max_pending_bytes, 1048576);
        ck_assert_int_eq(cfg->output.binding, AB_PIPELINE_BINDING_BINARY);
        ck_assert_str_eq(cfg->output.source, "src");
        ck_assert_ptr_null(cfg->http.listen); /* "" switches it off */
        ck_assert_int_eq(cfg->http.stall_timeout_ms, 0);
        ck_assert_int_eq(cfg->lifecycle.max_open_alerts, 0);
        ck_assert(cfg->lifecycle.close_orphan_recovery);
        ck_assert_int_eq(cfg->lifecycle.expire_interval_ms, 90000);
        ck_assert_int_eq(cfg->log_level, AB_LOG_DEBUG);
        ck_assert_ptr_null(cfg->actions_topic);
}
END_TEST

START_TEST(test_empty_sections_keep_defaults)
{
        load_ok(with("lifecycle:\nhttp:\noutput: {topic: out, policies: }\n"));
        ck_assert_int_eq(cfg->lifecycle.max_open_alerts, 100000);
        ck_assert_str_eq(cfg->http.listen, "127.0.0.1:9464");
        ck_assert_uint_eq(cfg->output.npolicies, 0);
}
END_TEST

/* A file, the key path its error must name, and a piece of the message. */
struct bad_case {
        const char *text; /* an override of the base file */
        const char *path;
        const char *msg;
};

static const struct bad_case bad_cases[] = {
    /* unknown keys, with a hint when one is close */
    {"kafak: {}\n", "kafak", "unknown key (did you mean \"kafka\"?)"},
    {"kafka: {brokers: x, brokerz: y}\n", "kafka.brokerz",
     "did you mean \"brokers\""},
    {"inputs: [{topics: [a]}, {topic: [b]}]\n", "inputs[1].topic",
     "did you mean \"topics\""},
    {"output: {topic: o, policies: [{name: n, when: {sev: [P1]}}]}\n",
     "output.policies[0].when.sev", "unknown key"},
    {"zzzzzz: 1\n", "zzzzzz", "unknown key"},
    {"http: {listen: ':1', port: 2}\n", "http.port", "unknown key"},
    {"kafka.group: g\n", "['kafka.group']", "unknown key"},
    /* wrong types */
    {"kafka: [a]\n", "kafka", "must be a mapping, not a list"},
    {"kafka: {brokers: x, group: 5}\n", "kafka.group",
     "must be a string, not an integer"},
    {"inputs: {topics: [a]}\n", "inputs", "must be a list"},
    {"inputs: [a]\n", "inputs[0]", "must be a mapping"},
    {"inputs: [{topics: a}]\n", "inputs[0].topics", "must be a list"},
    {"inputs: [{topics: [[a]]}]\n", "inputs[0].topics[0]", "must be a string"},
    {"lifecycle: {close_orphan_recovery: 'yes'}\n",
     "lifecycle.close_orphan_recovery", "must be true or false"},
    {"lifecycle: {max_open_alerts: '10'}\n", "lifecycle.max_open_alerts",
     "must be an integer"},
    {"lifecycle: {max_open_alerts: 1.5}\n", "lifecycle.max_open_alerts",
     "not a number"},
    {"kafka: {brokers: x, properties: [a]}\n", "kafka.properties",
     "must be a mapping"},
    {"kafka: {brokers: x, properties: {client.id: [a]}}\n",
     "kafka.properties['client.id']", "must be a string"},
    {"kafka: {brokers: x, poll_timeout: [1]}\n", "kafka.poll_timeout",
     "must be a duration"},
    /* ranges and formats */
    {"kafka: {brokers: x, max_pending_records: 0}\n",
     "kafka.max_pending_records", "must be between 1 and 10000000"},
    {"lifecycle: {max_open_alerts: -1}\n", "lifecycle.max_open_alerts",
     "must be between 0 and 100000000"},
    {"kafka: {brokers: x, poll_timeout: 20s}\n", "kafka.poll_timeout",
     "must be between 1ms and 10s"},
    {"kafka: {brokers: x, poll_timeout: 0}\n", "kafka.poll_timeout",
     "must be between 1ms and 10s"},
    {"kafka: {brokers: x, flush_timeout: soon}\n", "kafka.flush_timeout",
     "invalid duration \"soon\""},
    {"kafka: {brokers: x, flush_timeout: -5}\n", "kafka.flush_timeout",
     "must not be negative"},
    {"kafka: {brokers: x, max_pending_bytes: lots}\n",
     "kafka.max_pending_bytes", "invalid size \"lots\""},
    {"kafka: {brokers: x, max_pending_bytes: 1KiB}\n",
     "kafka.max_pending_bytes", "must be between 64KiB and 4GiB"},
    {"output: {topic: o, binding: json}\n", "output.binding",
     "invalid value \"json\" (expected one of: structured, binary)"},
    {"log_level: verbose\n", "log_level", "expected one of"},
    {"output: {topic: o, policies: [{name: n, when: {severity: [P1, "
     "P5]}}]}\n",
     "output.policies[0].when.severity[1]", "invalid value \"P5\""},
    {"output: {topic: o, policies: [{name: n, when: {severity: [P2, "
     "P2]}}]}\n",
     "output.policies[0].when.severity[1]", "duplicate value \"P2\""},
    /* required keys and empty values */
    {"kafka: {group: g}\n", "kafka.brokers", "is required"},
    {"inputs: ~\n", "inputs", "is required"},
    {"output: {source: s}\n", "output.topic", "is required"},
    {"dead_letter_topic:\n", "dead_letter_topic", "is required"},
    {"inputs: []\n", "inputs", "must have at least 1 entry"},
    {"inputs: [{integration: alertmanager}]\n", "inputs[0].topics",
     "is required"},
    {"inputs: [{topics: []}]\n", "inputs[0].topics",
     "must have at least 1 entry"},
    {"inputs: [{topics: ['']}]\n", "inputs[0].topics[0]", "must not be empty"},
    {"output: {topic: o, policies: [{owner: x}]}\n", "output.policies[0].name",
     "is required"},
    {"output: {topic: ''}\n", "output.topic", "must not be empty"},
    {"kafka: {brokers: ~}\n", "kafka.brokers", "is required"},
    /* topics */
    {"output: {topic: 'bad topic'}\n", "output.topic",
     "invalid topic name \"bad topic\""},
    {"inputs: [{topics: [a, b, a]}]\n", "inputs[0].topics[2]",
     "duplicate value \"a\""},
    {"inputs: [{topics: [a]}, {topics: [b, a]}]\n", "inputs[1].topics[1]",
     "already read by inputs[0].topics[0]"},
    {"output: {topic: in}\n", "output.topic",
     "topic \"in\" is also an input (inputs[0].topics[0])"},
    {"dead_letter_topic: in\n", "dead_letter_topic", "also an input"},
    {"actions_topic: in\n", "actions_topic", "also an input"},
    {"dead_letter_topic: out\n", "dead_letter_topic",
     "must differ from output.topic"},
    {"actions_topic: dlq\n", "actions_topic",
     "must differ from output.topic and dead_letter_topic"},
    {"output: {topic: o, policies: [{name: n}, {name: m, topic: "
     "in}]}\n",
     "output.policies[1].topic", "also an input"},
    {"output: {topic: o, policies: [{name: n, topic: dlq}]}\n",
     "output.policies[0].topic", "must not go to the dead-letter topic"},
    /* CloudEvents source: a non-empty URI-reference */
    {"output: {topic: o, source: 'alert bridge'}\n", "output.source",
     "\"alert bridge\" is not a URI-reference (RFC 3986), which CloudEvents "
     "requires of `source`: byte 5 (0x20) is not allowed there; "
     "percent-encode it (%20)"},
    {"output: {topic: o, source: 'a^b'}\n", "output.source",
     "byte 1 (0x5e) is not allowed"},
    {"output: {topic: o, source: ''}\n", "output.source", "must not be empty"},
    {"output: {topic: o, source: \"a\\x01b\"}\n", "output.source",
     "byte 1 (0x01) is not allowed"},
    {"output: {topic: o, source: \"a\\tb\"}\n", "output.source",
     "byte 1 (0x09) is not allowed"},
    {"output: {topic: o, source: \"a\\x7f\"}\n", "output.source",
     "byte 1 (0x7f) is not allowed"},
    {"output: {topic: o, source: 'a%2'}\n", "output.source",
     "it ends too early"},
    /* integrations */
    {"inputs: [{topics: [a], integration: nosuch}]\n", "inputs[0].integration",
     "unknown built-in integration \"nosuch\""},
    /* http */
    {"http: {listen: nope}\n", "http.listen", "expected HOST:PORT"},
    {"http: {listen: '127.0.0.1:99999'}\n", "http.listen",
     "the port must be 0..65535"},
    /* librdkafka properties */
    {"kafka: {brokers: x, properties: {bootstrap.servers: y}}\n",
     "kafka.properties['bootstrap.servers']", "set kafka.brokers instead"},
    {"kafka: {brokers: x, consumer_properties: {group.id: g}}\n",
     "kafka.consumer_properties['group.id']", "set kafka.group instead"},
    {"kafka: {brokers: x, consumer_properties: "
     "{enable.auto.offset.store: true}}\n",
     "kafka.consumer_properties['enable.auto.offset.store']",
     "stores offsets itself"},
    {"kafka: {brokers: x, producer_properties: {no.such.thing: 1}}\n",
     "kafka.producer_properties['no.such.thing']",
     "No such configuration property"},
    {"kafka: {brokers: x, properties: {acks: sometimes}}\n",
     "kafka.properties.acks", "Invalid value"},
    /* environment */
    {"kafka: {brokers: x, properties: {sasl.password: "
     "'${AB_TEST_UNSET_VARIABLE}'}}\n",
     "kafka.properties['sasl.password']",
     "environment variable AB_TEST_UNSET_VARIABLE is not set"},
    {"output: {topic: '${AB_TEST_UNSET_VARIABLE}'}\n", "output.topic",
     "AB_TEST_UNSET_VARIABLE is not set"},
};

START_TEST(test_errors_name_the_key_path)
{
        const struct bad_case *c = &bad_cases[_i];

        unsetenv("AB_TEST_UNSET_VARIABLE");
        ck_assert_msg(load(with(c->text)) == AB_ERR_CONFIG,
                      "case %d was accepted:\n%s", _i, c->text);
        ck_assert_ptr_null(cfg);
        ck_assert_msg(!strcmp(err.path, c->path),
                      "case %d: path \"%s\", want \"%s\" (%s)", _i, err.path,
                      c->path, err.text);
        ck_assert_msg(strstr(err.text, c->msg), "case %d: \"%s\" lacks \"%s\"",
                      _i, err.text, c->msg);
}
END_TEST

START_TEST(test_source_uri_references)
{
        static const char *const ok[] = {"alertbridge", "/a/b",
                                         "https://x.example/a?b#c", "urn:x:y"};
        char text[200];

        for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
                snprintf(text, sizeof(text),
                         "output: {topic: o, source: '%s'}\n", ok[i]);
                load_ok(with(text));
                ck_assert_str_eq(cfg->output.source, ok[i]);
        }
}
END_TEST

START_TEST(test_syntax_and_file_errors)
{
        ck_assert_int_eq(load("- a\n- b\n"), AB_ERR_CONFIG);
        ck_assert_str_eq(err.path, "");
        ck_assert_str_eq(err.text, "must be a mapping, not a list");
        ck_assert_int_eq(load(""), AB_ERR_CONFIG);
        ck_assert_str_eq(err.text, "test.yaml: the configuration is empty");
        ck_assert_int_eq(load("kafka: {brokers: [\n"), AB_ERR_CONFIG);
        ck_assert_ptr_nonnull(strstr(err.text, "test.yaml:"));
        ck_assert_int_eq(
            ab_pipeline_config_load(EXAMPLES "no-such-file.yaml", &cfg, &err),
            AB_ERR_IO);
        ck_assert_ptr_null(cfg);
        /* A NULL error detail is allowed. */
        ck_assert_int_eq(
            ab_pipeline_config_load_string("x: 1", 4, "t", NULL, &cfg, NULL),
            AB_ERR_CONFIG);
        ck_assert_int_eq(
            ab_pipeline_config_load(EXAMPLES "no-such-file.yaml", &cfg, NULL),
            AB_ERR_IO);
}
END_TEST

START_TEST(test_secrets_are_not_echoed)
{
        setenv("AB_TEST_SECRET", "hunter2", 1);
        ck_assert_int_eq(load(with("kafka: {brokers: x, properties: "
                                   "{sasl.password: '${AB_TEST_SECRET}', "
                                   "bad.key: '${AB_TEST_SECRET}'}}\n")),
                         AB_ERR_CONFIG);
        ck_assert_str_eq(err.path, "kafka.properties['bad.key']");
        ck_assert_ptr_null(strstr(err.text, "hunter2"));
}
END_TEST

START_TEST(test_env_expansion)
{
        setenv("AB_TEST_PASSWORD", "s3cret", 1);
        setenv("AB_TEST_BROKERS", "k1:9092,k2:9092", 1);
        unsetenv("AB_TEST_UNSET_VARIABLE");
        load_ok(
            with("kafka:\n"
                 "  brokers: ${AB_TEST_BROKERS}\n"
                 "  group: ${AB_TEST_UNSET_VARIABLE:-fallback}\n"
                 "  properties: {sasl.password: 'pre-${AB_TEST_PASSWORD}',\n"
                 "               sasl.username: '$${NOT_EXPANDED}'}\n"
                 "output: {topic: out}\n"));
        ck_assert_str_eq(cfg->kafka.brokers, "k1:9092,k2:9092");
        ck_assert_str_eq(cfg->kafka.group, "fallback");
        ck_assert_str_eq(cfg->kafka.properties[0].value, "pre-s3cret");
        ck_assert_str_eq(cfg->kafka.properties[1].value, "${NOT_EXPANDED}");
}
END_TEST

/* ${...} in durations, sizes, integers, booleans and enums, nested
 * defaults included; a value of the wrong type names the key. */
START_TEST(test_env_expansion_typed)
{
        setenv("AB_TEST_PENDING", "7", 1);
        setenv("AB_TEST_BOOL", "true", 1);
        setenv("AB_TEST_LEVEL", "debug", 1);
        unsetenv("AB_TEST_UNSET_VARIABLE");
        unsetenv("AB_TEST_UNSET_2");
        load_ok(
            with("kafka:\n"
                 "  brokers: b:9092\n"
                 "  group: ${AB_TEST_UNSET_VARIABLE:-${AB_TEST_UNSET_2:-g}}\n"
                 "  poll_timeout: ${AB_TEST_UNSET_VARIABLE:-250ms}\n"
                 "  flush_timeout: ${AB_TEST_UNSET_VARIABLE:-2}\n"
                 "  max_pending_records: ${AB_TEST_PENDING}\n"
                 "  max_pending_bytes: ${AB_TEST_UNSET_VARIABLE:-1MiB}\n"
                 "output: {topic: out, binding: "
                 "'${AB_TEST_UNSET_VARIABLE:-binary}'}\n"
                 "lifecycle: {close_orphan_recovery: '${AB_TEST_BOOL}'}\n"
                 "log_level: ${AB_TEST_LEVEL}\n"));
        ck_assert_str_eq(cfg->kafka.group, "g");
        ck_assert_int_eq(cfg->loop.poll_timeout_ms, 250);
        ck_assert_int_eq(cfg->loop.flush_timeout_ms, 2000);
        ck_assert_int_eq(cfg->loop.max_pending_records, 7);
        ck_assert_int_eq(cfg->loop.max_pending_bytes, 1048576);
        ck_assert_int_eq(cfg->output.binding, AB_PIPELINE_BINDING_BINARY);
        ck_assert(cfg->lifecycle.close_orphan_recovery);
        ck_assert_int_eq(cfg->log_level, AB_LOG_DEBUG);
        ck_assert_int_eq(
            load(with("kafka: {brokers: b:9092, "
                      "max_pending_records: '${AB_TEST_BOOL}'}\n")),
            AB_ERR_CONFIG);
        ck_assert_str_eq(err.path, "kafka.max_pending_records");
        ck_assert_msg(strstr(err.text, "must be an integer, not a boolean"),
                      "%s", err.text);
        ck_assert_int_eq(
            load(with("kafka: {brokers: b:9092, "
                      "flush_timeout: '${AB_TEST_UNSET_VARIABLE}'}\n")),
            AB_ERR_CONFIG);
        ck_assert_str_eq(err.path, "kafka.flush_timeout");
        ck_assert_msg(strstr(err.text, "AB_TEST_UNSET_VARIABLE is not set"),
                      "%s", err.text);
}
END_TEST

START_TEST(test_relative_integration_paths)
{
        load_ok(with("inputs:\n"
                     "  - {topics: [a], integration: integrations/x.yaml}\n"
                     "  - {topics: [b], integration: custom.yml}\n"
                     "  - {topics: [c], integration: /abs/y.json}\n"
                     "  - {topics: [d], integration: ./z.yaml}\n"
                     "  - {topics: [e], integration: cloudmonitor}\n"
                     "  - {topics: [f]}\n"));
        ck_assert_str_eq(cfg->inputs[0].integration,
                         "/etc/ab/integrations/x.yaml");
        ck_assert_str_eq(cfg->inputs[1].integration, "/etc/ab/custom.yml");
        ck_assert_str_eq(cfg->inputs[2].integration, "/abs/y.json");
        ck_assert_str_eq(cfg->inputs[3].integration, "/etc/ab/./z.yaml");
        ck_assert_str_eq(cfg->inputs[4].integration, "cloudmonitor");
        ck_assert_ptr_null(cfg->inputs[5].integration);
}
END_TEST

START_TEST(test_relative_paths_follow_the_file)
{
        char dir[] = "/tmp/ab-config-XXXXXX";
        char sub[64], file[96], want[128];
        const char *text =
            with("inputs: [{topics: [a], integration: integ/n.yaml}]\n");
        FILE *f;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(sub, sizeof(sub), "%s/conf", dir);
        ck_assert_int_eq(mkdir(sub, 0700), 0);
        snprintf(file, sizeof(file), "%s/p.yaml", sub);
        f = fopen(file, "w");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
        fclose(f);
        ck_assert_int_eq(ab_pipeline_config_load(file, &cfg, &err), AB_OK);
        snprintf(want, sizeof(want), "%s/integ/n.yaml", sub);
        ck_assert_str_eq(cfg->inputs[0].integration, want);
        unlink(file);
        rmdir(sub);
        rmdir(dir);

        /* Without a base directory a relative path stays as written. */
        ab_pipeline_config_destroy(cfg);
        ck_assert_int_eq(ab_pipeline_config_load_string(text, strlen(text), "t",
                                                        NULL, &cfg, &err),
                         AB_OK);
        ck_assert_str_eq(cfg->inputs[0].integration, "integ/n.yaml");
}
END_TEST

/* ---- policies ---- */

static const char policies[] =
    "output:\n"
    "  topic: out\n"
    "  policies:\n"
    "    - name: db-urgent\n"
    "      owner: dba\n"
    "      topic: urgent\n"
    "      when: {severity: [P1, P2], labels: {team: db}}\n"
    "    - name: prom\n"
    "      when: {integration: [alertmanager, other]}\n"
    "    - name: web-p3\n"
    "      when: {severity: [P3], labels: {team: web, env: prod}}\n"
    "    - {name: rest, owner: platform}\n";

static struct ab_alert alert_with(int severity, const struct ab_kv *labels,
                                  size_t n)
{
        struct ab_alert a;

        memset(&a, 0, sizeof(a));
        a.severity = severity;
        a.labels   = labels;
        a.nlabels  = n;
        return a;
}

START_TEST(test_policy_first_match_wins)
{
        /* Sorted by key, as the engine produces them. */
        const struct ab_kv db[]   = {{ab_str_c("alertname"), ab_str_c("x")},
                                     {ab_str_c("team"), ab_str_c("db")}};
        const struct ab_kv web[]  = {{ab_str_c("env"), ab_str_c("prod")},
                                     {ab_str_c("team"), ab_str_c("web")}};
        const struct ab_kv webd[] = {{ab_str_c("env"), ab_str_c("dev")},
                                     {ab_str_c("team"), ab_str_c("web")}};
        const struct ab_kv dbx[]  = {{ab_str_c("team"), ab_str_c("dbx")}};
        const struct ab_pipeline_policy *p;
        struct ab_alert a;

        load_ok(with(policies));
        a = alert_with(1, db, 2);
        p = ab_pipeline_policy_match(cfg, &a, "cloudmonitor");
        ck_assert_ptr_nonnull(p);
        ck_assert_str_eq(p->name, "db-urgent");
        ck_assert_str_eq(p->owner, "dba");
        ck_assert_str_eq(ab_pipeline_policy_topic(cfg, p), "urgent");

        /* Same labels, severity outside the set: the next policies. */
        a = alert_with(3, db, 2);
        p = ab_pipeline_policy_match(cfg, &a, "alertmanager");
        ck_assert_str_eq(p->name, "prom");
        ck_assert_ptr_null(p->owner);
        ck_assert_str_eq(ab_pipeline_policy_topic(cfg, p), "out");

        a = alert_with(3, web, 2);
        ck_assert_str_eq(ab_pipeline_policy_match(cfg, &a, "generic")->name,
                         "web-p3");
        /* Every label must match, exactly. */
        a = alert_with(3, webd, 2);
        ck_assert_str_eq(ab_pipeline_policy_match(cfg, &a, "generic")->name,
                         "rest");
        a = alert_with(2, dbx, 1);
        ck_assert_str_eq(ab_pipeline_policy_match(cfg, &a, NULL)->name, "rest");
        /* An unknown integration never matches an integration list. */
        a = alert_with(4, NULL, 0);
        p = ab_pipeline_policy_match(cfg, &a, NULL);
        ck_assert_str_eq(p->name, "rest");
        ck_assert_str_eq(ab_pipeline_policy_topic(cfg, p), "out");
}
END_TEST

START_TEST(test_no_policy_matches)
{
        const struct ab_kv none[] = {{ab_str_c("team"), ab_str_c("db")}};
        struct ab_alert a         = alert_with(1, none, 1);

        load_ok(with(""));
        ck_assert_ptr_null(ab_pipeline_policy_match(cfg, &a, "alertmanager"));
        ck_assert_str_eq(ab_pipeline_policy_topic(cfg, NULL), "out");

        load_ok(with("output: {topic: out, policies: [{name: p, when: "
                     "{severity: [P4]}}]}\n"));
        ck_assert_ptr_null(ab_pipeline_policy_match(cfg, &a, "alertmanager"));
        a = alert_with(0, none, 1); /* out of range never matches a set */
        ck_assert_ptr_null(ab_pipeline_policy_match(cfg, &a, "alertmanager"));
        a = alert_with(4, none, 1);
        ck_assert_str_eq(ab_pipeline_policy_match(cfg, &a, "x")->name, "p");
}
END_TEST

/* ---- the generated reference ---- */

static char *read_file(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        char *data;
        long n;

        if (!f)
                return NULL;
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        fseek(f, 0, SEEK_SET);
        data = ab_malloc((size_t)n + 1);
        ck_assert_ptr_nonnull(data);
        ck_assert_uint_eq(fread(data, 1, (size_t)n, f), (size_t)n);
        data[n] = '\0';
        fclose(f);
        *len = (size_t)n;
        return data;
}

START_TEST(test_reference_is_up_to_date)
{
        struct ab_buf doc;
        size_t len = 0;
        char *committed;

        ab_buf_init(&doc, 0);
        ck_assert_int_eq(ab_pipeline_config_reference(&doc), AB_OK);
        committed = read_file(AB_SOURCE_DIR "/docs/CONFIGURATION.md", &len);
        ck_assert_msg(committed && len == doc.len &&
                          !memcmp(committed, doc.data, len),
                      "docs/CONFIGURATION.md is out of date with the table in "
                      "pipeline/config.c: run `cmake --build <build-dir> "
                      "--target config-reference` and commit the result");
        ab_free(committed);
        ab_buf_fini(&doc);
}
END_TEST

START_TEST(test_reference_lists_every_key)
{
        static const char *const keys[] = {
            "| `kafka.brokers` | string | required |",
            "| `kafka.poll_timeout` | duration | `100ms` | 1ms to 10s |",
            "| `kafka.max_pending_bytes` | size | `64MiB` | 64KiB to 4GiB |",
            "| `inputs` | list of objects | required | at least 1 |",
            "| `inputs[].topics` | list | required | at least 1 |",
            "| `inputs[].integration` | string | unset |",
            "| `output.binding` | enum | `structured` | `structured`, "
            "`binary` |",
            "| `output.policies[].when.severity` | list | `[]` | `P1`, `P2`, "
            "`P3`, `P4` |",
            "| `output.policies[].when.labels` | map | `{}` |",
            "| `http.stall_timeout` | duration | `60s` | 0 to 1h |",
            "| `lifecycle.close_orphan_recovery` | bool | `false` |",
            "| `log_level` | enum | `info` | `error`, `warn`, `info`, "
            "`debug` |",
        };
        struct ab_buf doc;

        ab_buf_init(&doc, 0);
        ck_assert_int_eq(ab_pipeline_config_reference(&doc), AB_OK);
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                ck_assert_msg(strstr(doc.data, keys[i]), "missing row: %s",
                              keys[i]);
        ab_buf_fini(&doc);
}
END_TEST

START_TEST(test_destroy_null)
{
        ab_pipeline_config_destroy(NULL);
}
END_TEST

static Suite *pipeline_config_suite(void)
{
        Suite *s  = suite_create("pipeline_config");
        TCase *tc = tcase_create("load");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_example_config);
        tcase_add_test(tc, test_compose_example_config);
        tcase_add_test(tc, test_defaults);
        tcase_add_test(tc, test_state_compression);
        tcase_add_test(tc, test_every_value_kind);
        tcase_add_test(tc, test_empty_sections_keep_defaults);
        tcase_add_test(tc, test_env_expansion);
        tcase_add_test(tc, test_env_expansion_typed);
        tcase_add_test(tc, test_relative_integration_paths);
        tcase_add_test(tc, test_relative_paths_follow_the_file);
        tcase_add_test(tc, test_destroy_null);
        suite_add_tcase(s, tc);

        tc = tcase_create("errors");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_loop_test(tc, test_errors_name_the_key_path, 0,
                            (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
        tcase_add_test(tc, test_source_uri_references);
        tcase_add_test(tc, test_syntax_and_file_errors);
        tcase_add_test(tc, test_secrets_are_not_echoed);
        suite_add_tcase(s, tc);

        tc = tcase_create("policies");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_policy_first_match_wins);
        tcase_add_test(tc, test_no_policy_matches);
        suite_add_tcase(s, tc);

        tc = tcase_create("reference");
        tcase_add_test(tc, test_reference_is_up_to_date);
        tcase_add_test(tc, test_reference_lists_every_key);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(pipeline_config_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
