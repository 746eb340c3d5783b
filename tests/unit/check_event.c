/* check_event.c - tests of the CloudEvent writer and stateless event ids. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "transform/event.h"

/* 2021-08-23T07:15:22.000Z, the seed-001 trigger time. */
#define T_START 1629702922000LL
#define T_END   1629703822500LL
#define T_NOW   1700000000123LL

static struct ab_kv kv(const char *k, const char *v)
{
        struct ab_kv e = {ab_str_c(k), ab_str_c(v)};
        return e;
}

/* Sorted by key, as the engine hands them out. */
static struct ab_kv fixture_labels[4];
static struct ab_kv fixture_annotations[2];

static const char fixture_payload[] = "{\"trigger-type\":\"network\"}";

static void fixture_alert(struct ab_alert *a, enum ab_alert_status status)
{
        fixture_labels[0] = kv("alertname", "network_package errors > 5%");
        fixture_labels[1] = kv("check", "tcp package error percentage");
        fixture_labels[2] = kv("severity", "P1");
        fixture_labels[3] = kv("source", "141.219.0.1");
        fixture_annotations[0] =
            kv("message", "inbound tcp package errors is 20%");
        fixture_annotations[1] = kv("value", "20");

        memset(a, 0, sizeof(*a));
        a->status                    = status;
        a->severity                  = 1;
        a->field[AB_FIELD_ALERTNAME] = fixture_labels[0].val;
        a->field[AB_FIELD_SEVERITY]  = fixture_labels[2].val;
        a->starts_ms                 = T_START;
        a->has_starts                = true;
        a->ends_ms                   = T_END;
        a->has_ends                  = status == AB_ALERT_RESOLVED;
        a->labels                    = fixture_labels;
        a->nlabels                   = 4;
        a->annotations               = fixture_annotations;
        a->nannotations              = 2;
}

/* Serialize \p ev and parse it back; the output must be valid JSON. */
static json_t *write_parse(const struct ab_event *ev)
{
        struct ab_buf b;
        json_error_t jerr;
        json_t *root;

        ab_buf_init(&b, 0);
        ck_assert_int_eq(ab_event_write(&b, ev), AB_OK);
        root = json_loadb(b.data, b.len, 0, &jerr);
        ck_assert_msg(root != NULL, "invalid JSON (%s): %s", jerr.text, b.data);
        ab_buf_fini(&b);
        return root;
}

static const char *jstr(const json_t *root, const char *path)
{
        const json_t *v = root;
        char key[64];
        const char *p = path;

        while (*p) {
                size_t n = strcspn(p, ".");
                ck_assert_uint_lt(n, sizeof(key));
                memcpy(key, p, n);
                key[n] = '\0';
                v      = json_object_get(v, key);
                ck_assert_msg(v != NULL, "missing %s", path);
                p += n + (p[n] == '.');
        }
        ck_assert_msg(json_is_string(v), "%s is not a string", path);
        return json_string_value(v);
}

static const json_t *jdata(const json_t *root)
{
        return json_object_get(root, "data");
}

static const json_t *jalert0(const json_t *root)
{
        return json_array_get(
            json_object_get(json_object_get(jdata(root), "data"), "alerts"), 0);
}

START_TEST(test_type_names)
{
        ck_assert_str_eq(ab_event_type_name(AB_EVENT_CREATE),
                         "aliyun:arms:alarm:create");
        ck_assert_str_eq(ab_event_type_name(AB_EVENT_CLAIM),
                         "aliyun:arms:alarm:claim");
        ck_assert_str_eq(ab_event_type_name(AB_EVENT_COMMENT),
                         "aliyun:arms:alarm:comment");
        ck_assert_str_eq(ab_event_type_name(AB_EVENT_CLOSE),
                         "aliyun:arms:alarm:close");
        ck_assert_str_eq(ab_event_type_short(AB_EVENT_CREATE), "create");
        ck_assert_str_eq(ab_event_type_short(AB_EVENT_CLAIM), "claim");
        ck_assert_str_eq(ab_event_type_short(AB_EVENT_COMMENT), "comment");
        ck_assert_str_eq(ab_event_type_short(AB_EVENT_CLOSE), "close");
        ck_assert_str_eq(ab_event_type_name(AB_EVENT__COUNT), "unknown");
        ck_assert_str_eq(ab_event_type_short((enum ab_event_type) - 1),
                         "unknown");
}
END_TEST

START_TEST(test_hex)
{
        const unsigned char d[] = {0x00, 0x01, 0xab, 0xff, 0x7e};
        char out[11];

        memset(out, 'x', sizeof(out));
        ab_hex(d, sizeof(d), out);
        ck_assert_str_eq(out, "0001abff7e");
        ab_hex(d, 0, out);
        ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_from_alert_firing)
{
        struct ab_alert a;
        struct ab_event ev;

        fixture_alert(&a, AB_ALERT_FIRING);
        memset(&ev, 0x5a, sizeof(ev));
        ab_event_from_alert(&ev, &a, "network-monitor", fixture_payload,
                            strlen(fixture_payload), T_NOW);
        ck_assert_int_eq(ev.type, AB_EVENT_CREATE);
        ck_assert(!ev.resolved);
        ck_assert_uint_eq(strlen(ev.id), AB_EVENT_ID_LEN);
        ck_assert_uint_eq(strspn(ev.id, "0123456789abcdef"), AB_EVENT_ID_LEN);
        ck_assert_str_eq(ev.alert_id, "");
        ck_assert_str_eq(ev.fingerprint, "");
        ck_assert_str_eq(ev.integration, "network-monitor");
        ck_assert_ptr_eq(ev.alert, &a);
        ck_assert_int_eq(ev.time_ms, T_NOW);
        ck_assert_int_eq(ev.start_ms, T_START);
        ck_assert_uint_eq(ev.count, 0);
        ck_assert_ptr_null(ev.source);
        ck_assert_ptr_null(ev.owner);
        ck_assert_ptr_null(ev.solution);

        a.has_starts = false;
        ab_event_from_alert(&ev, &a, "network-monitor", fixture_payload,
                            strlen(fixture_payload), T_NOW);
        ck_assert_int_eq(ev.start_ms, T_NOW);
}
END_TEST

START_TEST(test_from_alert_resolved)
{
        struct ab_alert a;
        struct ab_event ev;

        fixture_alert(&a, AB_ALERT_RESOLVED);
        ab_event_from_alert(&ev, &a, "network-monitor", fixture_payload,
                            strlen(fixture_payload), T_NOW);
        ck_assert_int_eq(ev.type, AB_EVENT_CLOSE);
        ck_assert(ev.resolved);
        ck_assert_int_eq(ev.start_ms, T_START);
        ck_assert_int_eq(ev.end_ms, T_END);
        ck_assert_ptr_nonnull(ev.solution);

        a.has_ends = false;
        ab_event_from_alert(&ev, &a, "network-monitor", fixture_payload,
                            strlen(fixture_payload), T_NOW);
        ck_assert_int_eq(ev.end_ms, T_NOW);

        /* No start: the clock, but never after the end. */
        a.has_starts = false;
        ab_event_from_alert(&ev, &a, "network-monitor", fixture_payload,
                            strlen(fixture_payload), T_NOW);
        ck_assert_int_eq(ev.start_ms, T_NOW);
        a.has_ends = true;
        ab_event_from_alert(&ev, &a, "network-monitor", fixture_payload,
                            strlen(fixture_payload), T_NOW);
        ck_assert_int_eq(ev.start_ms, T_END);
        ck_assert_int_eq(ev.end_ms, T_END);

        /* A start the source gave is kept as it is. */
        a.has_starts = true;
        a.starts_ms  = T_END + 1;
        ab_event_from_alert(&ev, &a, "network-monitor", fixture_payload,
                            strlen(fixture_payload), T_NOW);
        ck_assert_int_eq(ev.start_ms, T_END + 1);
}
END_TEST

/* The documented id encoding (version 2), computed independently of
 * event.c by tests/fixtures/event/stateless_id_vectors.py. The payload is
 * `len` bytes of fixture_payload, or of 'x' when it is longer. */
static const struct id_vector {
        const char *integration;
        size_t len;
        uint32_t index;
        const char *tshort;
        const char *id;
} id_vectors[] = {
    {"network-monitor", 26, 258, "create", "52887c9dfb57eea0588dea3189b56d1b"},
    {"", 0, 0, "close", "f2d773a0e293efc027232fa5da303787"},
    {"alertmanager", 1237, 1, "close", "707d4a18ef6afa9ef0c5cafcec3291c4"},
};

START_TEST(test_id_encoding)
{
        const struct id_vector *v = &id_vectors[_i];
        static char xs[1237];
        const char *payload = fixture_payload;
        struct ab_alert a;
        struct ab_event ev;

        if (v->len > strlen(fixture_payload)) {
                ck_assert_uint_le(v->len, sizeof(xs));
                memset(xs, 'x', v->len);
                payload = xs;
        } else {
                ck_assert_uint_eq(v->len, v->len ? strlen(fixture_payload) : 0);
        }
        fixture_alert(&a, strcmp(v->tshort, "close") ? AB_ALERT_FIRING
                                                     : AB_ALERT_RESOLVED);
        a.index = v->index;
        ab_event_from_alert(&ev, &a, *v->integration ? v->integration : NULL,
                            payload, v->len, T_NOW);
        ck_assert_str_eq(ev.id, v->id);
}
END_TEST

START_TEST(test_id_determinism)
{
        struct ab_alert a;
        struct ab_event ev;
        char base[AB_EVENT_ID_LEN + 1];
        size_t plen = strlen(fixture_payload);

        fixture_alert(&a, AB_ALERT_FIRING);
        ab_event_from_alert(&ev, &a, "x", fixture_payload, plen, T_NOW);
        memcpy(base, ev.id, sizeof(base));

        /* Same input, same id, whatever the clock says. */
        ab_event_from_alert(&ev, &a, "x", fixture_payload, plen, T_NOW + 5);
        ck_assert_str_eq(ev.id, base);

        /* Each input of the encoding changes the id. */
        ab_event_from_alert(&ev, &a, "y", fixture_payload, plen, T_NOW);
        ck_assert_str_ne(ev.id, base);
        ab_event_from_alert(&ev, &a, "x", fixture_payload, plen - 1, T_NOW);
        ck_assert_str_ne(ev.id, base);
        a.index = 1;
        ab_event_from_alert(&ev, &a, "x", fixture_payload, plen, T_NOW);
        ck_assert_str_ne(ev.id, base);
        a.index  = 0;
        a.status = AB_ALERT_RESOLVED;
        ab_event_from_alert(&ev, &a, "x", fixture_payload, plen, T_NOW);
        ck_assert_str_ne(ev.id, base);

        /* Length prefixes: moving bytes between fields changes the id. */
        a.status = AB_ALERT_FIRING;
        ab_event_from_alert(&ev, &a, "ab", "c", 1, T_NOW);
        memcpy(base, ev.id, sizeof(base));
        ab_event_from_alert(&ev, &a, "a", "bc", 2, T_NOW);
        ck_assert_str_ne(ev.id, base);
}
END_TEST

START_TEST(test_write_create)
{
        struct ab_alert a;
        struct ab_event ev;
        json_t *root;
        const json_t *d, *g, *al;

        fixture_alert(&a, AB_ALERT_FIRING);
        ab_event_from_alert(&ev, &a, "network-monitor", fixture_payload,
                            strlen(fixture_payload), T_NOW);
        root = write_parse(&ev);

        ck_assert_str_eq(jstr(root, "specversion"), "1.0");
        ck_assert_str_eq(jstr(root, "id"), ev.id);
        ck_assert_str_eq(jstr(root, "source"), "alertbridge");
        ck_assert_str_eq(jstr(root, "type"), "aliyun:arms:alarm:create");
        ck_assert_ptr_null(json_object_get(root, "subject"));
        ck_assert_ptr_null(json_object_get(root, "alertid"));
        ck_assert_ptr_null(json_object_get(root, "alertcount"));
        ck_assert_str_eq(jstr(root, "integration"), "network-monitor");
        ck_assert_str_eq(jstr(root, "time"), "2023-11-14T22:13:20.123Z");
        ck_assert_str_eq(jstr(root, "datacontenttype"), "application/json");
        ck_assert_uint_eq(json_object_size(root), 8);

        d = jdata(root);
        ck_assert_uint_eq(json_object_size(d), 3);
        ck_assert_str_eq(jstr(d, "owner"), "");
        ck_assert_int_eq(json_integer_value(json_object_get(d, "timestamp")),
                         T_NOW);

        g = json_object_get(d, "data");
        ck_assert_str_eq(jstr(g, "status"), "firing");
        ck_assert_str_eq(jstr(g, "level"), "P1");
        ck_assert_str_eq(jstr(g, "dispatchRuleName"), "");
        ck_assert_str_eq(jstr(g, "externalURL"), "");
        ck_assert_str_eq(jstr(g, "receiver"), "");
        ck_assert_str_eq(jstr(g, "startTime"), "2021-08-23T07:15:22.000Z");
        ck_assert_ptr_null(json_object_get(g, "endTime"));
        ck_assert_uint_eq(json_array_size(json_object_get(g, "alerts")), 1);

        al = jalert0(root);
        ck_assert_str_eq(jstr(al, "fingerprint"), "");
        ck_assert_str_eq(jstr(al, "status"), "firing");
        ck_assert_str_eq(jstr(al, "startsAt"), "2021-08-23T07:15:22.000Z");
        ck_assert_str_eq(jstr(al, "endsAt"), "0001-01-01T00:00:00Z");
        ck_assert_str_eq(jstr(al, "labels.alertname"),
                         "network_package errors > 5%");
        ck_assert_str_eq(jstr(al, "labels.severity"), "P1");
        ck_assert_uint_eq(json_object_size(json_object_get(al, "labels")), 4);
        ck_assert_str_eq(jstr(al, "annotations.value"), "20");
        ck_assert_uint_eq(json_object_size(json_object_get(al, "annotations")),
                          2);
        ck_assert(json_equal(json_object_get(al, "labels"),
                             json_object_get(g, "commonLabels")));
        ck_assert(json_equal(json_object_get(al, "annotations"),
                             json_object_get(g, "commonAnnotations")));
        ck_assert_uint_eq(json_object_size(json_object_get(g, "groupLabels")),
                          1);
        ck_assert_str_eq(jstr(g, "groupLabels.alertname"),
                         "network_package errors > 5%");
        json_decref(root);
}
END_TEST

START_TEST(test_write_close)
{
        struct ab_alert a;
        struct ab_event ev;
        json_t *root;
        const json_t *d, *g, *al;

        fixture_alert(&a, AB_ALERT_RESOLVED);
        ab_event_from_alert(&ev, &a, "network-monitor", fixture_payload,
                            strlen(fixture_payload), T_NOW);
        root = write_parse(&ev);
        ck_assert_str_eq(jstr(root, "type"), "aliyun:arms:alarm:close");

        d = jdata(root);
        ck_assert_uint_eq(json_object_size(d), 6);
        ck_assert_str_eq(jstr(d, "owner"), "");
        ck_assert_str_eq(jstr(d, "handler"), "");
        ck_assert_str_eq(jstr(d, "operator"), "");
        ck_assert_str_eq(jstr(d, "solution"),
                         "recovered: the alert source reported recovery");
        ck_assert_ptr_null(json_object_get(d, "comment"));

        g = json_object_get(d, "data");
        ck_assert_str_eq(jstr(g, "status"), "resolved");
        ck_assert_str_eq(jstr(g, "endTime"), "2021-08-23T07:30:22.500Z");
        al = jalert0(root);
        ck_assert_str_eq(jstr(al, "status"), "resolved");
        ck_assert_str_eq(jstr(al, "endsAt"), "2021-08-23T07:30:22.500Z");
        json_decref(root);
}
END_TEST

/* A lifecycle-style event: every caller-set field lands where seed 000
 * says, and only for the types that carry it. */
static void fill_actions(struct ab_event *ev, enum ab_event_type t)
{
        ev->type          = t;
        ev->resolved      = t == AB_EVENT_CLOSE;
        ev->source        = "arms";
        ev->owner         = "ops-oncall";
        ev->handler       = "alice";
        ev->operator_name = "bob";
        ev->comment       = "looking into it";
        ev->solution      = "restarted the service";
        ev->dispatch_rule = "O & M team";
        ev->receiver      = "eventbridge";
        ev->external_url  = "https://alerts.example/#/alarm/42";
        ev->count         = 7;
        snprintf(ev->alert_id, sizeof(ev->alert_id), "%s",
                 "0123456789abcdef0123456789abcdef");
        snprintf(ev->fingerprint, sizeof(ev->fingerprint), "%s",
                 "fedcba9876543210fedcba9876543210");
}

START_TEST(test_write_each_type)
{
        static const char *const want[AB_EVENT__COUNT][4] = {
            {"owner", NULL},
            {"owner", "handler", "operator", NULL},
            {"owner", "handler", "operator", "comment"},
            {"owner", "handler", "operator", "solution"},
        };
        static const char *const all[] = {"owner", "handler", "operator",
                                          "comment", "solution"};
        struct ab_alert a;
        struct ab_event ev;
        json_t *root;
        const json_t *d;
        enum ab_event_type t = (enum ab_event_type)_i;

        fixture_alert(&a, t == AB_EVENT_CLOSE ? AB_ALERT_RESOLVED
                                              : AB_ALERT_FIRING);
        ab_event_from_alert(&ev, &a, "network-monitor", fixture_payload,
                            strlen(fixture_payload), T_NOW);
        fill_actions(&ev, t);
        root = write_parse(&ev);

        ck_assert_str_eq(jstr(root, "type"), ab_event_type_name(t));
        ck_assert_str_eq(jstr(root, "source"), "arms");
        ck_assert_str_eq(jstr(root, "alertid"),
                         "0123456789abcdef0123456789abcdef");
        ck_assert_str_eq(jstr(root, "subject"),
                         "network-monitor/0123456789abcdef0123456789abcdef");
        ck_assert_int_eq(
            json_integer_value(json_object_get(root, "alertcount")), 7);
        d = jdata(root);
        for (size_t i = 0; i < sizeof(all) / sizeof(*all); i++) {
                int expect = 0;
                for (int k = 0; k < 4 && want[t][k]; k++)
                        expect |= !strcmp(want[t][k], all[i]);
                ck_assert_msg((json_object_get(d, all[i]) != NULL) == expect,
                              "%s: data.%s %s", ab_event_type_short(t), all[i],
                              expect ? "missing" : "unexpected");
        }
        ck_assert_str_eq(jstr(d, "owner"), "ops-oncall");
        if (t != AB_EVENT_CREATE) {
                ck_assert_str_eq(jstr(d, "handler"), "alice");
                ck_assert_str_eq(jstr(d, "operator"), "bob");
        }
        if (t == AB_EVENT_COMMENT)
                ck_assert_str_eq(jstr(d, "comment"), "looking into it");
        if (t == AB_EVENT_CLOSE)
                ck_assert_str_eq(jstr(d, "solution"), "restarted the service");
        ck_assert_str_eq(jstr(d, "data.dispatchRuleName"), "O & M team");
        ck_assert_str_eq(jstr(d, "data.receiver"), "eventbridge");
        ck_assert_str_eq(jstr(d, "data.externalURL"),
                         "https://alerts.example/#/alarm/42");
        ck_assert_str_eq(jstr(jalert0(root), "fingerprint"),
                         "fedcba9876543210fedcba9876543210");
        ck_assert((json_object_get(json_object_get(d, "data"), "endTime") !=
                   NULL) == (t == AB_EVENT_CLOSE));
        json_decref(root);
}
END_TEST

START_TEST(test_subject)
{
        struct ab_alert a;
        struct ab_event ev;
        json_t *root;

        fixture_alert(&a, AB_ALERT_FIRING);
        ab_event_from_alert(&ev, &a, "we\"ird/name", "{}", 2, T_NOW);
        snprintf(ev.fingerprint, sizeof(ev.fingerprint), "%s",
                 "00112233445566778899aabbccddeeff");
        root = write_parse(&ev);
        ck_assert_str_eq(jstr(root, "subject"),
                         "we\"ird/name/00112233445566778899aabbccddeeff");
        ck_assert_str_eq(jstr(root, "integration"), "we\"ird/name");
        json_decref(root);

        ev.integration = NULL;
        root           = write_parse(&ev);
        ck_assert_str_eq(jstr(root, "subject"),
                         "00112233445566778899aabbccddeeff");
        ck_assert_ptr_null(json_object_get(root, "integration"));
        json_decref(root);
}
END_TEST

START_TEST(test_escaping_utf8)
{
        const struct ab_kv labels[] = {
            kv("alertname", "quote \" backslash \\ slash /"),
            kv("ctl", "nl\n tab\t cr\r bell\x07 del\x7f"),
            kv("severity", "P3"),
            kv("zh", "容器内存使用率大于80%"),
            kv("\xe2\x9c\x93key", "emoji \xf0\x9f\x94\xa5"),
        };
        const struct ab_kv annotations[] = {
            kv("bad", "cut \xe5\xae"),
            kv("lone", "x\x80y\xff"),
        };
        struct ab_alert a;
        struct ab_event ev;
        struct ab_buf b;
        json_t *root;
        const json_t *al;

        fixture_alert(&a, AB_ALERT_FIRING);
        a.severity                  = 3;
        a.field[AB_FIELD_ALERTNAME] = labels[0].val;
        a.labels                    = labels;
        a.nlabels                   = sizeof(labels) / sizeof(*labels);
        a.annotations               = annotations;
        a.nannotations = sizeof(annotations) / sizeof(*annotations);
        ab_event_from_alert(&ev, &a, "i", "{}", 2, T_NOW);

        ab_buf_init(&b, 0);
        ck_assert_int_eq(ab_event_write(&b, &ev), AB_OK);
        /* Control characters never appear raw. */
        for (size_t i = 0; i < b.len; i++)
                ck_assert_uint_ge((unsigned char)b.data[i], 0x20);
        ck_assert_ptr_nonnull(strstr(b.data, "\\u0007"));
        ck_assert_ptr_nonnull(strstr(b.data, "\\n tab\\t cr\\r"));
        ab_buf_fini(&b);

        root = write_parse(&ev);
        al   = jalert0(root);
        ck_assert_str_eq(jstr(al, "labels.alertname"),
                         "quote \" backslash \\ slash /");
        ck_assert_str_eq(jstr(al, "labels.ctl"),
                         "nl\n tab\t cr\r bell\x07 del\x7f");
        ck_assert_str_eq(jstr(al, "labels.zh"), "容器内存使用率大于80%");
        ck_assert_str_eq(json_string_value(json_object_get(
                             json_object_get(al, "labels"), "\xe2\x9c\x93key")),
                         "emoji \xf0\x9f\x94\xa5");
        /* Invalid UTF-8 becomes U+FFFD, so the event stays valid JSON. */
        ck_assert_str_eq(jstr(al, "annotations.bad"),
                         "cut \xef\xbf\xbd\xef\xbf\xbd");
        ck_assert_str_eq(jstr(al, "annotations.lone"),
                         "x\xef\xbf\xbdy\xef\xbf\xbd");
        ck_assert_str_eq(jstr(root, "data.data.level"), "P3");
        json_decref(root);
}
END_TEST

START_TEST(test_write_data_matches)
{
        struct ab_alert a;
        struct ab_event ev;
        struct ab_buf b;
        json_t *root, *data;
        json_error_t jerr;

        fixture_alert(&a, AB_ALERT_RESOLVED);
        ab_event_from_alert(&ev, &a, "i", "{}", 2, T_NOW);
        fill_actions(&ev, AB_EVENT_CLOSE);
        root = write_parse(&ev);

        ab_buf_init(&b, 0);
        ab_buf_append_str(&b, "prefix:");
        ck_assert_int_eq(ab_event_write_data(&b, &ev), AB_OK);
        ck_assert_mem_eq(b.data, "prefix:", 7);
        data = json_loadb(b.data + 7, b.len - 7, 0, &jerr);
        ck_assert_msg(data != NULL, "%s", jerr.text);
        ck_assert(json_equal(data, json_object_get(root, "data")));
        json_decref(data);
        json_decref(root);
        ab_buf_fini(&b);
}
END_TEST

START_TEST(test_write_appends)
{
        struct ab_alert a;
        struct ab_event ev;
        struct ab_buf b;
        json_t *arr;
        json_error_t jerr;

        fixture_alert(&a, AB_ALERT_FIRING);
        ab_event_from_alert(&ev, &a, "i", "{}", 2, T_NOW);
        ab_buf_init(&b, 0);
        ab_buf_append_char(&b, '[');
        ck_assert_int_eq(ab_event_write(&b, &ev), AB_OK);
        ab_buf_append_char(&b, ',');
        ck_assert_int_eq(ab_event_write(&b, &ev), AB_OK);
        ab_buf_append_char(&b, ']');
        ck_assert_ptr_null(memchr(b.data, '\n', b.len));
        arr = json_loadb(b.data, b.len, 0, &jerr);
        ck_assert_msg(arr != NULL, "%s", jerr.text);
        ck_assert_uint_eq(json_array_size(arr), 2);
        ck_assert(json_equal(json_array_get(arr, 0), json_array_get(arr, 1)));
        json_decref(arr);
        ab_buf_fini(&b);
}
END_TEST

START_TEST(test_write_rejects_invalid)
{
        struct ab_alert a;
        struct ab_event ev;
        struct ab_buf b;

        fixture_alert(&a, AB_ALERT_FIRING);
        ab_event_from_alert(&ev, &a, "i", "{}", 2, T_NOW);
        ab_buf_init(&b, 0);
        ab_buf_append_str(&b, "keep");

        a.severity = 0;
        ck_assert_int_eq(ab_event_write(&b, &ev), AB_ERR_INTERNAL);
        a.severity = 5;
        ck_assert_int_eq(ab_event_write_data(&b, &ev), AB_ERR_INTERNAL);
        a.severity = 2;
        ev.id[0]   = '\0';
        ck_assert_int_eq(ab_event_write(&b, &ev), AB_ERR_INTERNAL);
        ev.id[0] = 'a';
        ev.type  = AB_EVENT__COUNT;
        ck_assert_int_eq(ab_event_write(&b, &ev), AB_ERR_INTERNAL);
        ev.type  = AB_EVENT_CREATE;
        ev.alert = NULL;
        ck_assert_int_eq(ab_event_write(&b, &ev), AB_ERR_INTERNAL);
        ck_assert_str_eq(b.data, "keep");
        ab_buf_fini(&b);
}
END_TEST

START_TEST(test_write_limit_leaves_buffer)
{
        struct ab_alert a;
        struct ab_event ev;
        struct ab_buf b;
        size_t full;

        fixture_alert(&a, AB_ALERT_FIRING);
        ab_event_from_alert(&ev, &a, "i", "{}", 2, T_NOW);
        ab_buf_init(&b, 0);
        ck_assert_int_eq(ab_event_write(&b, &ev), AB_OK);
        full = b.len;
        ab_buf_fini(&b);

        /* Every limit short of the full event fails cleanly. */
        for (size_t limit = 4; limit < full + 4; limit += 37) {
                ab_buf_init(&b, limit);
                ab_buf_append_str(&b, "abc");
                ck_assert_int_eq(ab_event_write(&b, &ev),
                                 full + 3 <= limit ? AB_OK : AB_ERR_TOO_LARGE);
                if (full + 3 > limit)
                        ck_assert_str_eq(b.data, "abc");
                ab_buf_fini(&b);
        }
}
END_TEST

START_TEST(test_no_alloc_after_warmup)
{
        struct ab_alert a;
        struct ab_event ev;
        struct ab_buf b;
        uint64_t before;

        fixture_alert(&a, AB_ALERT_RESOLVED);
        ab_event_from_alert(&ev, &a, "network-monitor", fixture_payload,
                            strlen(fixture_payload), T_NOW);
        fill_actions(&ev, AB_EVENT_CLOSE);
        ab_buf_init(&b, 0);
        ck_assert_int_eq(ab_event_write(&b, &ev), AB_OK);
        ab_buf_reset(&b);

        before = ab_mem_allocations();
        for (int i = 0; i < 1000; i++) {
                ab_buf_reset(&b);
                ev.time_ms = T_NOW + i;
                ev.type    = (enum ab_event_type)(i % AB_EVENT__COUNT);
                ck_assert_int_eq(ab_event_write(&b, &ev), AB_OK);
                ab_buf_reset(&b);
                ck_assert_int_eq(ab_event_write_data(&b, &ev), AB_OK);
        }
        ck_assert_uint_eq(ab_mem_allocations(), before);
        ab_buf_fini(&b);
}
END_TEST

#define TRACEPARENT "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
#define TRACESTATE  "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"

/* The distributed-tracing extension: the trace context as given, as two
 * top-level attributes; none without a traceparent. */
START_TEST(test_write_trace)
{
        struct ab_alert a;
        struct ab_event ev;
        json_t *root;

        fixture_alert(&a, AB_ALERT_FIRING);
        ab_event_from_alert(&ev, &a, "network-monitor", fixture_payload,
                            strlen(fixture_payload), T_NOW);
        root = write_parse(&ev);
        ck_assert_ptr_null(json_object_get(root, "traceparent"));
        ck_assert_ptr_null(json_object_get(root, "tracestate"));
        json_decref(root);

        ev.trace.traceparent = ab_str_c(TRACEPARENT);
        root                 = write_parse(&ev);
        ck_assert_str_eq(jstr(root, "traceparent"), TRACEPARENT);
        ck_assert_ptr_null(json_object_get(root, "tracestate"));
        ck_assert_uint_eq(json_object_size(root), 9);
        json_decref(root);

        ev.trace.tracestate = ab_str_c(TRACESTATE);
        root                = write_parse(&ev);
        ck_assert_str_eq(jstr(root, "traceparent"), TRACEPARENT);
        ck_assert_str_eq(jstr(root, "tracestate"), TRACESTATE);
        ck_assert_uint_eq(json_object_size(root), 10);
        json_decref(root);

        /* a tracestate never travels without its traceparent */
        ev.trace.traceparent = AB_STR_NULL;
        root                 = write_parse(&ev);
        ck_assert_ptr_null(json_object_get(root, "tracestate"));
        json_decref(root);
}
END_TEST

/*
 * `check_event --dump` prints one event of each type, one per line, for
 * the event_schema test (the schema must accept every shape the writer
 * can produce, not only the two the golden cases reach).
 */
static int dump_events(void)
{
        struct ab_alert a;
        struct ab_event ev;
        struct ab_buf b;
        int rc = 0;

        ab_buf_init(&b, 0);
        for (int t = 0; t < AB_EVENT__COUNT; t++) {
                fixture_alert(&a, t == AB_EVENT_CLOSE ? AB_ALERT_RESOLVED
                                                      : AB_ALERT_FIRING);
                ab_event_from_alert(&ev, &a, "network-monitor", fixture_payload,
                                    strlen(fixture_payload), T_NOW);
                fill_actions(&ev, (enum ab_event_type)t);
                /* the tracing attributes: absent, traceparent alone, both */
                if (t != AB_EVENT_CREATE)
                        ev.trace.traceparent = ab_str_c(TRACEPARENT);
                if (t == AB_EVENT_CLOSE)
                        ev.trace.tracestate = ab_str_c(TRACESTATE);
                ab_buf_reset(&b);
                if (ab_event_write(&b, &ev) != AB_OK) {
                        rc = 1;
                        break;
                }
                puts(b.data);
        }
        ab_buf_fini(&b);
        return rc;
}

static Suite *event_suite(void)
{
        Suite *s  = suite_create("event");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_type_names);
        tcase_add_test(tc, test_hex);
        tcase_add_test(tc, test_from_alert_firing);
        tcase_add_test(tc, test_from_alert_resolved);
        tcase_add_loop_test(tc, test_id_encoding, 0,
                            (int)(sizeof(id_vectors) / sizeof(id_vectors[0])));
        tcase_add_test(tc, test_id_determinism);
        tcase_add_test(tc, test_write_create);
        tcase_add_test(tc, test_write_close);
        tcase_add_loop_test(tc, test_write_each_type, 0, AB_EVENT__COUNT);
        tcase_add_test(tc, test_subject);
        tcase_add_test(tc, test_escaping_utf8);
        tcase_add_test(tc, test_write_data_matches);
        tcase_add_test(tc, test_write_appends);
        tcase_add_test(tc, test_write_rejects_invalid);
        tcase_add_test(tc, test_write_limit_leaves_buffer);
        tcase_add_test(tc, test_no_alloc_after_warmup);
        tcase_add_test(tc, test_write_trace);
        suite_add_tcase(s, tc);
        return s;
}

int main(int argc, char **argv)
{
        SRunner *sr;
        int failed;

        if (argc > 1 && !strcmp(argv[1], "--dump"))
                return dump_events();
        sr = srunner_create(event_suite());
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
