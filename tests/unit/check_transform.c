/* check_transform.c - the mapping engine end to end at the alert level. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/conf.h"
#include "core/mem.h"
#include "transform/transform.h"

static struct ab_transform *tf;

static void setup(void)
{
        tf = ab_transform_new();
        ck_assert_ptr_nonnull(tf);
}

static void teardown(void)
{
        ab_transform_destroy(tf);
}

static struct ab_integration *compile(const char *yaml)
{
        struct ab_integration *integ = NULL;
        struct ab_error err;
        json_t *root;

        ab_error_clear(&err);
        root = ab_conf_load_string(yaml, strlen(yaml), "test", &err);
        ck_assert_msg(root != NULL, "yaml: %s", err.text);
        ck_assert_msg(ab_integration_compile(root, NULL, &integ, &err) == 0,
                      "%s: %s", err.path, err.text);
        json_decref(root);
        return integ;
}

static const char *field(const struct ab_alert *a, enum ab_alert_field f)
{
        static char buf[4][20000];
        static int slot;
        char *b = buf[slot++ % 4];

        if (!a->field[f].ptr)
                return "<absent>";
        snprintf(b, sizeof(buf[0]), "%.*s", (int)a->field[f].len,
                 a->field[f].ptr);
        return b;
}

static const char *label(const struct ab_alert *a, const char *k)
{
        static char b[1024];
        struct ab_str v = ab_alert_label(a, ab_str_c(k));

        if (!v.ptr)
                return "<absent>";
        snprintf(b, sizeof(b), "%.*s", (int)v.len, v.ptr);
        return b;
}

/* The integration config of the issue, for the seed-001 payload. */
static const char *seed_config =
    "name: network-monitor\n"
    "auto_clear: 30m\n"
    "batch: {root: $.metadata}\n"
    "recovery:\n"
    "  when: [{field: $.eventType, equals: resolved}]\n"
    "fields:\n"
    "  alertname: {series: [$.trigger-type, $.trigger-policy], delimiter: "
    "\"_\"}\n"
    "  severity:  {direct: $.trigger-severity, map: {MAX: P1, MID: P2, MIN: "
    "P3}}\n"
    "  message:   {direct: $.trigger-event}\n"
    "  value:     {direct: $.trigger-value}\n"
    "  check:     {direct: $.trigger-check}\n"
    "  source:    {direct: \"$.metadata[*].ip\"}\n"
    "  class:     {direct: $.trigger-type}\n"
    "  service:\n"
    "    condition:\n"
    "      - when: {field: \"$.metadata[*].agent\", equals: CONTAINER}\n"
    "        direct: \"$.metadata[*].microServiceId\"\n"
    "      - when: {field: \"$.metadata[*].agent\", equals: SERVER}\n"
    "        direct: \"$.metadata[*].service\"\n"
    "  startat:   {direct: $.trigger-time}\n"
    "labels: {}\n"
    "annotations: {}\n"
    "dedup: {fields: [source, check]}\n";

static const char *seed_payload =
    "{\"trigger-type\": \"network\", \"trigger-location\": \"cn-hangzhou\","
    " \"trigger-severity\": \"MAX\", \"trigger-policy\": \"package errors > "
    "5%\", \"trigger-event\": \"inbound tcp package errors is 20%\","
    " \"trigger-check\": \"tcp package error percentage\", \"trigger-value\":"
    " \"20\", \"trigger-time\": \"1629702922000\", \"metadata\": ["
    "{\"agent\": \"SERVER\", \"ip\": \"141.219.XX.XX\", \"fqdn\": "
    "\"websrv1.damenport.org\", \"microServiceId\": \"ms-login-2251\", "
    "\"accountId\": \"1504000433993\", \"service\": \"login-0\"},"
    "{\"agent\": \"CONTAINER\", \"ip\": \"172.1.XX.XX\", \"fqdn\": "
    "\"websrv2.damenport.org\", \"microServiceId\": \"ms-login-2252\", "
    "\"accountId\": \"129930302939\", \"service\": \"login-1\"}],"
    " \"equipments\": [{\"equipmentId\": \"112\"}, {\"equipmentId\": "
    "\"113\"}]}";

static const struct ab_alert *run(const struct ab_integration *integ,
                                  const char *payload, size_t *n)
{
        const struct ab_alert *alerts;
        struct ab_error err;

        ab_error_clear(&err);
        ck_assert_msg(ab_transform_run(tf, integ, payload, strlen(payload),
                                       AB_CONTENT_AUTO, &alerts, n, &err) == 0,
                      "%s: %s", err.path, err.text);
        return alerts;
}

static ab_err_t reject(const struct ab_integration *integ, const char *payload,
                       struct ab_error *err)
{
        const struct ab_alert *alerts;
        size_t n;

        ab_error_clear(err);
        return ab_transform_run(tf, integ, payload, strlen(payload),
                                AB_CONTENT_AUTO, &alerts, &n, err);
}

START_TEST(seed_001_example)
{
        struct ab_integration *integ = compile(seed_config);
        size_t n;
        const struct ab_alert *a = run(integ, seed_payload, &n);

        ck_assert_uint_eq(n, 2);
        for (size_t i = 0; i < 2; i++) {
                ck_assert_str_eq(field(&a[i], AB_FIELD_ALERTNAME),
                                 "network_package errors > 5%");
                ck_assert_str_eq(field(&a[i], AB_FIELD_SEVERITY), "P1");
                ck_assert_int_eq(a[i].severity, 1);
                ck_assert_str_eq(field(&a[i], AB_FIELD_MESSAGE),
                                 "inbound tcp package errors is 20%");
                ck_assert_str_eq(field(&a[i], AB_FIELD_CLASS), "network");
                ck_assert_int_eq(a[i].status, AB_ALERT_FIRING);
                ck_assert(a[i].has_starts);
                ck_assert_int_eq(a[i].starts_ms, 1629702922000LL);
                ck_assert_uint_eq(a[i].index, i);
                ck_assert_uint_eq(a[i].nlabels, 6);
                ck_assert_uint_eq(a[i].nannotations, 2);
        }
        ck_assert_str_eq(field(&a[0], AB_FIELD_SOURCE), "141.219.XX.XX");
        ck_assert_str_eq(field(&a[0], AB_FIELD_SERVICE), "login-0");
        ck_assert_str_eq(field(&a[1], AB_FIELD_SOURCE), "172.1.XX.XX");
        ck_assert_str_eq(field(&a[1], AB_FIELD_SERVICE), "ms-login-2252");
        ck_assert_str_eq(label(&a[1], "severity"), "P1");
        ck_assert_str_eq(label(&a[1], "check"), "tcp package error percentage");
        /* labels are sorted by key */
        for (size_t i = 1; i < a[0].nlabels; i++)
                ck_assert_int_lt(
                    ab_str_cmp(a[0].labels[i - 1].key, a[0].labels[i].key), 0);
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(without_batch_index_and_wildcard)
{
        struct ab_integration *integ;
        const struct ab_alert *a;
        size_t n;

        integ = compile("name: t\nfields:\n"
                        "  alertname: {direct: $.trigger-type}\n"
                        "  severity: {value: p3}\n"
                        "  source: {direct: \"$.metadata[*].ip\"}\n"
                        "  service: {direct: \"$.metadata[1].service\"}\n");
        a     = run(integ, seed_payload, &n);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(field(a, AB_FIELD_SOURCE),
                         "141.219.XX.XX,172.1.XX.XX");
        ck_assert_str_eq(field(a, AB_FIELD_SERVICE), "login-1");
        ck_assert_str_eq(field(a, AB_FIELD_SEVERITY), "P3");
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(series_skips_missing_and_absent_when_none)
{
        struct ab_integration *integ = compile(
            "name: t\nfields:\n"
            "  alertname: {series: [$.a, $.missing, $.b], delimiter: ' :: '}\n"
            "  severity: {value: P4}\n"
            "  check: {series: [$.x, $.y]}\n"
            "  source: {series: [$.o, $.a]}\n");
        size_t n;
        const struct ab_alert *a =
            run(integ, "{\"a\":\"A\",\"b\":2,\"o\":{\"k\":[1,\"v\"]}}", &n);

        ck_assert_str_eq(field(a, AB_FIELD_ALERTNAME), "A :: 2");
        ck_assert_str_eq(field(a, AB_FIELD_CHECK), "<absent>");
        ck_assert_str_eq(field(a, AB_FIELD_SOURCE), "{\"k\":[1,\"v\"]}_A");
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(conditions)
{
        struct ab_integration *integ = compile(
            "name: t\nfields:\n  alertname: {value: x}\n"
            "  severity:\n    condition:\n"
            "      - when: {all: [{field: $.s, in: [a, b]}, {field: $.t, "
            "not_equals: 3}]}\n        value: P1\n"
            "      - when: {any: [{field: $.r, regex: '^disk-[0-9]+$'}, "
            "{field: $.q, exists: true}]}\n        value: P2\n"
            "      - when: {field: $.n, equals: 5}\n        value: P3\n"
            "      - value: P4\n");
        static const struct {
                const char *payload;
                const char *sev;
        } cases[] = {
            {"{\"s\":\"a\",\"t\":4}", "P1"}, {"{\"s\":\"a\",\"t\":3}", "P4"},
            {"{\"s\":\"a\"}", "P1"},         {"{\"r\":\"disk-12\"}", "P2"},
            {"{\"r\":\"disk-1x\"}", "P4"},   {"{\"q\":0}", "P2"},
            {"{\"q\":null}", "P4"},          {"{\"n\":5}", "P3"},
            {"{\"n\":\"5\"}", "P3"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                size_t n;
                const struct ab_alert *a = run(integ, cases[i].payload, &n);
                ck_assert_msg(
                    !strcmp(field(a, AB_FIELD_SEVERITY), cases[i].sev),
                    "%s: %s", cases[i].payload, field(a, AB_FIELD_SEVERITY));
        }
        ab_integration_destroy(integ);
}
END_TEST

/* A payload of \p n bytes: {"d":"<n - 9 times 'a'><tail>"}. */
static char *long_payload(size_t n, const char *tail)
{
        size_t tl = strlen(tail), fill = n - 9 - tl;
        char *p = malloc(n + 1);

        ck_assert_ptr_nonnull(p);
        memcpy(p, "{\"d\":\"", 6);
        memset(p + 6, 'a', fill);
        memcpy(p + 6 + fill, tail, tl);
        memcpy(p + 6 + fill + tl, "\"}", 3);
        return p;
}

/* Conditions whose regex backtracks catastrophically finish in bounded
 * time with a definite outcome: a non-match, or a regex_limit error naming
 * the pattern's key (the record is dead-lettered), never a hang. */
START_TEST(regex_bounded)
{
        struct ab_integration *nested =
            compile("name: t\nfields:\n  alertname: {value: x}\n"
                    "  severity:\n    condition:\n"
                    "      - when: {field: $.d, regex: '([a-z]+)+\\.com'}\n"
                    "        value: P1\n      - value: P4\n");
        struct ab_integration *alt =
            compile("name: t\nfields:\n  alertname: {value: x}\n"
                    "  severity:\n    condition:\n"
                    "      - when: {field: $.d, regex: '(a|aa)*c'}\n"
                    "        value: P1\n      - value: P4\n");
        struct ab_error err;
        char *p;
        size_t n;

        p = long_payload(1 << 20, "!.com");
        ck_assert_int_eq(reject(nested, p, &err), AB_ERR_REGEX_LIMIT);
        ck_assert_str_eq(ab_err_code(err.code), "regex_limit");
        ck_assert_str_eq(err.path, "fields.severity.condition[0].when.regex");
        ck_assert_msg(strstr(err.text, "limit"), "%s", err.text);
        free(p);
        p = long_payload(60000, "");
        ck_assert_str_eq(field(run(alt, p, &n), AB_FIELD_SEVERITY), "P4");
        free(p);
        p = long_payload(60000, "!c");
        ck_assert_int_eq(reject(alt, p, &err), AB_ERR_REGEX_LIMIT);
        free(p);
        /* Ordinary patterns still match, on UTF-8 text too. */
        ck_assert_str_eq(
            field(run(nested, "{\"d\":\"see www.example.com\"}", &n),
                  AB_FIELD_SEVERITY),
            "P1");
        ck_assert_str_eq(field(run(alt,
                                   "{\"d\":\"\xc3\xa9"
                                   "aac\"}",
                                   &n),
                               AB_FIELD_SEVERITY),
                         "P1");
        ck_assert_str_eq(
            field(run(alt, "{\"d\":\"aab\"}", &n), AB_FIELD_SEVERITY), "P4");
        ab_integration_destroy(nested);
        ab_integration_destroy(alt);
}
END_TEST

/* One rule for repeated keys in payloads: the payload is undecodable,
 * whether the key repeats in JSON (at any depth) or in a form. Before,
 * selectors took the last value while wildcards saw both. */
START_TEST(duplicate_keys_undecodable)
{
        struct ab_integration *integ =
            compile("name: t\nfields:\n  alertname: {direct: $.a}\n"
                    "  severity: {value: P1}\nlabels: {'*': {direct: $.l}}\n");
        struct ab_error err;
        size_t n;

        ck_assert_str_eq(
            label(run(integ, "{\"a\":\"x\",\"l\":{\"k\":\"v\"}}", &n), "k"),
            "v");
        ck_assert_int_eq(reject(integ, "{\"a\":\"x\",\"a\":\"y\"}", &err),
                         AB_ERR_DECODE);
        ck_assert_str_eq(err.path, "a");
        ck_assert_msg(strstr(err.text, "duplicate key \"a\""), "%s", err.text);
        ck_assert_int_eq(reject(integ,
                                "{\"a\":\"x\",\"l\":{\"k\":\"1\",\"k\":\"2\"}}",
                                &err),
                         AB_ERR_DECODE);
        ck_assert_str_eq(err.path, "k");
        ck_assert_int_eq(reject(integ, "a=x&b=1&a=y", &err), AB_ERR_DECODE);
        ck_assert_str_eq(err.path, "a");
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(map_default_and_case)
{
        struct ab_integration *integ = compile(
            "name: t\nfields:\n  alertname: {value: x}\n"
            "  severity: {direct: $.s, map: {critical: P1, warning: P3}, "
            "default: P4}\n"
            "  class: {direct: $.c, map: {h: host}}\n");
        size_t n;
        const struct ab_alert *a =
            run(integ, "{\"s\":\"CRITICAL\",\"c\":\"h\"}", &n);

        ck_assert_str_eq(field(a, AB_FIELD_SEVERITY), "P1");
        ck_assert_str_eq(field(a, AB_FIELD_CLASS), "host");
        a = run(integ, "{\"s\":\"odd\",\"c\":\"vm\"}", &n);
        ck_assert_str_eq(field(a, AB_FIELD_SEVERITY), "P4");
        ck_assert_str_eq(field(a, AB_FIELD_CLASS), "vm");
        a = run(integ, "{}", &n);
        ck_assert_str_eq(field(a, AB_FIELD_SEVERITY), "P4");
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(rejections_are_specific)
{
        struct ab_integration *integ = compile(seed_config);
        struct ab_error err;

        ck_assert_int_eq(reject(integ,
                                "{\"trigger-severity\":\"MAX\","
                                "\"metadata\":[{}]}",
                                &err),
                         AB_ERR_NO_ALERTNAME);
        ck_assert_ptr_nonnull(strstr(err.text, "labels.alertname is required"));
        ck_assert_int_eq(reject(integ,
                                "{\"trigger-type\":\"n\","
                                "\"trigger-severity\":\"HUGE\","
                                "\"metadata\":[{}]}",
                                &err),
                         AB_ERR_SEVERITY_UNMAPPED);
        ck_assert_ptr_nonnull(strstr(err.text, "'HUGE'"));
        ck_assert_ptr_nonnull(strstr(err.text, "MAX, MID, MIN"));
        ck_assert_int_eq(reject(integ, "{\"trigger-type\":\"n\"", &err),
                         AB_ERR_DECODE);
        ck_assert_int_eq(err.has_offset, 1);
        ck_assert_uint_eq(err.offset, 19);
        ck_assert_int_eq(reject(integ, "{\"trigger-type\":\"n\"}", &err),
                         AB_ERR_BATCH_ROOT);
        ck_assert_int_eq(reject(integ, "{\"metadata\":{}}", &err),
                         AB_ERR_BATCH_ROOT);
        ck_assert_ptr_nonnull(strstr(err.text, "not an array"));
        ck_assert_int_eq(reject(integ, "{\"metadata\":[]}", &err),
                         AB_ERR_BATCH_ROOT);
        ck_assert_int_eq(reject(integ,
                                "{\"trigger-type\":\"n\","
                                "\"trigger-severity\":\"MID\","
                                "\"trigger-time\":\"yesterday\","
                                "\"metadata\":[{},{}]}",
                                &err),
                         AB_ERR_BAD_TIME);
        ck_assert_str_eq(err.path, "fields.startat");
        ck_assert_ptr_nonnull(strstr(err.text, "element 0 of $.metadata"));
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(recovery_and_times)
{
        struct ab_integration *integ = compile(
            "name: am\nbatch: {root: $.alerts}\n"
            "recovery: {when: {field: \"$.alerts[*].status\", equals: "
            "resolved}}\n"
            "fields:\n  alertname: \"$.alerts[*].labels.alertname\"\n"
            "  severity: {value: P2}\n"
            "  startat: \"$.alerts[*].startsAt\"\n"
            "  endat: \"$.alerts[*].endsAt\"\n"
            "labels: {'*': {direct: \"$.alerts[*].labels\"}}\n"
            "annotations: {'*': {direct: \"$.alerts[*].annotations\"}}\n");
        size_t n;
        const struct ab_alert *a =
            run(integ,
                "{\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":"
                "\"Up\",\"severity\":\"critical\",\"job\":\"node\"},"
                "\"annotations\":{\"summary\":\"down\",\"n\":3},\"startsAt\":"
                "\"2019-09-27T16:27:56.612666101Z\",\"endsAt\":"
                "\"0001-01-01T00:00:00Z\"},{\"status\":\"resolved\",\"labels\":"
                "{\"alertname\":\"Up\"},\"startsAt\":\"1629702922\",\"endsAt\":"
                "\"20190409T121826.922+0800\"}]}",
                &n);

        ck_assert_uint_eq(n, 2);
        ck_assert_int_eq(a[0].status, AB_ALERT_FIRING);
        ck_assert_int_eq(a[0].starts_ms, 1569601676612LL);
        ck_assert(!a[0].has_ends); /* Go's zero time means "not set" */
        /* the mapped severity wins over the copied label */
        ck_assert_str_eq(label(&a[0], "severity"), "P2");
        ck_assert_str_eq(label(&a[0], "job"), "node");
        ck_assert_uint_eq(a[0].nannotations, 2);
        ck_assert_int_eq(a[1].status, AB_ALERT_RESOLVED);
        ck_assert_int_eq(a[1].starts_ms, 1629702922000LL);
        ck_assert(a[1].has_ends);
        ck_assert_int_eq(a[1].ends_ms, 1554783506922LL);
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(message_truncated_at_utf8_boundary)
{
        struct ab_integration *integ =
            compile("name: t\nfields:\n  alertname: {value: x}\n"
                    "  severity: {value: P1}\n  message: $.m\n");
        size_t len = 16000 * 3, n, chars = 0;
        char *p = malloc(len + 16);
        const struct ab_alert *a;
        struct ab_str m;

        memcpy(p, "{\"m\":\"", 6);
        for (size_t i = 0; i < 16000; i++)
                memcpy(p + 6 + i * 3, "\xE4\xB8\xAD", 3);
        memcpy(p + 6 + 16000 * 3, "\"}", 3);
        a = run(integ, p, &n);
        m = a->field[AB_FIELD_MESSAGE];
        ck_assert(a->message_truncated);
        for (size_t i = 0; i < m.len; i++)
                if (((unsigned char)m.ptr[i] & 0xC0) != 0x80)
                        chars++;
        ck_assert_uint_eq(chars, AB_ALERT_MESSAGE_MAX_CHARS);
        ck_assert(m.len > 14);
        ck_assert_int_eq(
            memcmp(m.ptr + m.len - strlen(AB_ALERT_TRUNCATION_MARK),
                   AB_ALERT_TRUNCATION_MARK, strlen(AB_ALERT_TRUNCATION_MARK)),
            0);
        free(p);
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(form_payload)
{
        struct ab_integration *integ = compile(
            "name: cm\nfields:\n  alertname: $.alertName\n"
            "  severity: {direct: $.triggerLevel, map: {CRITICAL: P1, WARN: "
            "P2, INFO: P4}}\n  source: $.dimensions.instanceId\n");
        size_t n;
        const struct ab_alert *a =
            run(integ,
                "alertName=cpu+high&triggerLevel=WARN&dimensions=%7B"
                "userId%3D1%2C+instanceId%3Di-9%7D",
                &n);

        ck_assert_str_eq(field(a, AB_FIELD_ALERTNAME), "cpu high");
        ck_assert_str_eq(field(a, AB_FIELD_SEVERITY), "P2");
        ck_assert_str_eq(field(a, AB_FIELD_SOURCE), "i-9");
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(no_allocation_after_warm_up)
{
        struct ab_integration *integ = compile(seed_config);
        size_t n;
        uint64_t before;

        for (int i = 0; i < 3; i++)
                run(integ, seed_payload, &n);
        before = ab_mem_allocations();
        for (int i = 0; i < 100; i++)
                run(integ, seed_payload, &n);
        ck_assert_uint_eq(ab_mem_allocations() - before, 0);
        ab_integration_destroy(integ);
}
END_TEST

/* A payload that grew the buffers past the limit lets them go; a normal
 * one keeps them (no allocation on the next run); results are the same
 * either way. */
START_TEST(trim_releases_only_grown_buffers)
{
        struct ab_integration *integ = compile(seed_config);
        struct ab_buf big;
        size_t n, held;
        uint64_t before;
        const struct ab_alert *a;

        run(integ, seed_payload, &n);
        held = ab_transform_trim(tf, 256 * 1024);
        ck_assert_uint_gt(held, 0);
        ck_assert_uint_le(held, 256 * 1024);
        before = ab_mem_allocations();
        run(integ, seed_payload, &n);
        ck_assert_uint_eq(ab_mem_allocations() - before, 0);

        /* seed_payload with 3,000 more metadata elements. */
        ab_buf_init(&big, 0);
        ck_assert_int_eq(
            ab_buf_append(&big, seed_payload,
                          strstr(seed_payload, "\"metadata\"") - seed_payload),
            AB_OK);
        ck_assert_int_eq(ab_buf_append_str(&big, "\"metadata\": ["), AB_OK);
        for (int i = 0; i < 3000; i++)
                ck_assert_int_eq(ab_buf_appendf(&big,
                                                "{\"agent\": \"HOST\", \"ip\": "
                                                "\"10.0.%d.%d\", \"service\": "
                                                "\"svc-%d\"},",
                                                i / 250, i % 250, i),
                                 AB_OK);
        ck_assert_int_eq(
            ab_buf_append_str(&big, strstr(seed_payload, "\"metadata\"") +
                                        strlen("\"metadata\": [")),
            AB_OK);
        run(integ, big.data, &n);
        ck_assert_uint_eq(n, 3002);
        held = ab_transform_trim(tf, 256 * 1024);
        ck_assert_uint_gt(held, 256 * 1024);
        ck_assert_uint_eq(ab_transform_trim(tf, 256 * 1024), 0);

        a = run(integ, seed_payload, &n);
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(field(&a[0], AB_FIELD_ALERTNAME),
                         "network_package errors > 5%");
        ab_buf_fini(&big);
        ab_integration_destroy(integ);
}
END_TEST

/* Label lookup and field references over sorted labels and annotations
 * built by hand: keys that share a first byte, absent values, fields
 * that hold a value of their own, and kinds that never refer. */
START_TEST(field_refs_and_label_lookup)
{
        static const struct ab_kv labels[] = {
            {{"alertname", 9}, {"DiskFull", 8}},
            {{"check", 5}, {"disk", 4}},
            {{"class", 5}, {NULL, 0}},
            {{"service", 7}, {"orders", 6}},
            {{"severity", 8}, {"P2", 2}},
            {{"source", 6}, {"", 0}},
        };
        static const struct ab_kv annotations[] = {
            {{"message", 7}, {"disk full", 9}},
            {{"value", 5}, {"91", 2}},
        };
        struct ab_alert a;

        memset(&a, 0, sizeof(a));
        a.labels       = labels;
        a.nlabels      = sizeof(labels) / sizeof(labels[0]);
        a.annotations  = annotations;
        a.nannotations = sizeof(annotations) / sizeof(annotations[0]);
        ck_assert_str_eq(label(&a, "alertname"), "DiskFull");
        ck_assert_str_eq(label(&a, "severity"), "P2");
        ck_assert_str_eq(label(&a, "source"), "");
        ck_assert_str_eq(label(&a, "class"), "<absent>");
        ck_assert_str_eq(label(&a, "clas"), "<absent>");
        ck_assert_str_eq(label(&a, "zone"), "<absent>");
        ck_assert_str_eq(label(&a, ""), "<absent>");

        a.field[AB_FIELD_ALERTNAME] = ab_str_c("DiskFull");
        a.field[AB_FIELD_CHECK]     = ab_str_c("disk");
        a.field[AB_FIELD_SEVERITY]  = ab_str_c("P3"); /* its own value */
        a.field[AB_FIELD_CLASS]     = ab_str_c("");   /* label absent */
        a.field[AB_FIELD_SOURCE]    = ab_str_c("");   /* label empty */
        a.field[AB_FIELD_MESSAGE]   = ab_str_c("disk full");
        a.field[AB_FIELD_VALUE]     = ab_str_c("92");
        a.field[AB_FIELD_IMAGEURL]  = ab_str_c("x"); /* no annotation */
        a.field[AB_FIELD_STARTAT]   = ab_str_c("DiskFull");
        a.field[AB_FIELD_RECEIVER]  = ab_str_c("disk");
        ck_assert_uint_eq(ab_alert_field_ref(&a, AB_FIELD_ALERTNAME), 1);
        ck_assert_uint_eq(ab_alert_field_ref(&a, AB_FIELD_CHECK), 2);
        ck_assert_uint_eq(ab_alert_field_ref(&a, AB_FIELD_SEVERITY), 0);
        ck_assert_uint_eq(ab_alert_field_ref(&a, AB_FIELD_CLASS), 0);
        ck_assert_uint_eq(ab_alert_field_ref(&a, AB_FIELD_SOURCE), 6);
        ck_assert_uint_eq(ab_alert_field_ref(&a, AB_FIELD_MESSAGE), 1);
        ck_assert_uint_eq(ab_alert_field_ref(&a, AB_FIELD_VALUE), 0);
        ck_assert_uint_eq(ab_alert_field_ref(&a, AB_FIELD_IMAGEURL), 0);
        ck_assert_uint_eq(ab_alert_field_ref(&a, AB_FIELD_STARTAT), 0);
        ck_assert_uint_eq(ab_alert_field_ref(&a, AB_FIELD_RECEIVER), 0);
        ck_assert_uint_eq(ab_alert_field_ref(&a, AB_FIELD_SERVICE), 0);
}
END_TEST

int main(void)
{
        Suite *s  = suite_create("transform");
        TCase *tc = tcase_create("engine");
        SRunner *sr;
        int failed;

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, seed_001_example);
        tcase_add_test(tc, without_batch_index_and_wildcard);
        tcase_add_test(tc, series_skips_missing_and_absent_when_none);
        tcase_add_test(tc, conditions);
        tcase_add_test(tc, regex_bounded);
        tcase_add_test(tc, duplicate_keys_undecodable);
        tcase_add_test(tc, map_default_and_case);
        tcase_add_test(tc, rejections_are_specific);
        tcase_add_test(tc, recovery_and_times);
        tcase_add_test(tc, message_truncated_at_utf8_boundary);
        tcase_add_test(tc, form_payload);
        tcase_add_test(tc, no_allocation_after_warm_up);
        tcase_add_test(tc, trim_releases_only_grown_buffers);
        tcase_add_test(tc, field_refs_and_label_lookup);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
