/* check_processor_trace.c - unit tests for the processor's trace context:
 * which events carry an input record's traceparent and tracestate, in
 * the single-store loop and across the two stages, and what an invalid
 * header costs (a counter, not the record). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "pipeline/alert_record.h"
#include "pipeline/config.h"
#include "pipeline/pipeline_metrics.h"
#include "pipeline/processor.h"
#include "producer/cloudevents_kafka.h"
#include "service/metrics.h"

static const char config_text[] = "kafka: {brokers: '127.0.0.1:9'}\n"
                                  "inputs:\n"
                                  "  - {topics: [raw], integration: generic}\n"
                                  "output: {topic: events}\n"
                                  "dead_letter_topic: dlq\n"
                                  "actions_topic: actions\n";

#define T0           1795316400000LL
#define TP           "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
#define TS           "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
#define TP2          "00-11111111111111111111111111111111-2222222222222222-00"
#define FIRING(name) "{\"alertname\":\"" name "\",\"severity\":\"P2\"}"
#define RESOLVED(name)                                                         \
        "{\"alertname\":\"" name "\",\"severity\":\"P2\",\"status\":"          \
        "\"resolved\"}"

#define WEB(check) "{\"check\":\"" check "\",\"level\":\"critical\"}"

static struct ab_pipeline_config *cfg;
static struct ab_metrics *reg;
static struct ab_pipeline_metrics pm;

/* The events handed over: type, fingerprint and trace context. */
struct sink {
        int n, dead_letters;
        char type[8][16], fp[8][AB_EVENT_ID_LEN + 1], tp[8][80], ts[8][80];
        char json[8][4096];
        struct ab_buf record; /* the map stage's last record */
        char last_fp[AB_EVENT_ID_LEN + 1];
};

static void copy(char *out, size_t n, struct ab_str s)
{
        snprintf(out, n, "%s%.*s", s.ptr ? "" : "-", (int)s.len,
                 s.ptr ? s.ptr : "");
}

static ab_err_t collect(void *arg, const struct ab_output *o)
{
        struct sink *s = arg;

        if (o->kind == AB_OUTPUT_DEAD_LETTER) {
                s->dead_letters++;
                return AB_OK;
        }
        ck_assert_int_lt(s->n, 8);
        snprintf(s->type[s->n], 16, "%s", ab_event_type_short(o->event->type));
        snprintf(s->fp[s->n], sizeof(s->fp[0]), "%s", o->event->fingerprint);
        copy(s->tp[s->n], 80, o->event->trace.traceparent);
        copy(s->ts[s->n], 80, o->event->trace.tracestate);
        snprintf(s->json[s->n], 4096, "%.*s", (int)o->value.len, o->value.ptr);
        s->n++;
        return AB_OK;
}

static void input(struct ab_input *in, const char *topic, const char *value,
                  int64_t ts, const char *tp, const char *tstate)
{
        memset(in, 0, sizeof(*in));
        in->topic             = topic;
        in->timestamp_ms      = ts;
        in->value             = ab_str_c(value);
        in->trace.traceparent = tp ? ab_str_c(tp) : AB_STR_NULL;
        in->trace.tracestate  = tstate ? ab_str_c(tstate) : AB_STR_NULL;
}

static void setup(void)
{
        struct ab_error err;

        ab_error_clear(&err);
        ck_assert_int_eq(
            ab_pipeline_config_load_string(config_text, strlen(config_text),
                                           "test", NULL, &cfg, &err),
            AB_OK);
        reg = ab_metrics_new();
        ck_assert_ptr_nonnull(reg);
        ck_assert_int_eq(ab_pipeline_metrics_register(reg, &pm, &err), AB_OK);
}

static void teardown(void)
{
        ab_metrics_destroy(reg);
        ab_pipeline_config_destroy(cfg);
}

static struct ab_processor *memory_processor(void)
{
        struct ab_processor *p = NULL;
        struct ab_error err;

        ck_assert_int_eq(ab_processor_new(cfg, &pm, &p, &err), AB_OK);
        return p;
}

static void handle(struct ab_processor *p, struct sink *s, const char *topic,
                   const char *value, int64_t ts, const char *tp,
                   const char *tstate)
{
        struct ab_input in;

        input(&in, topic, value, ts, tp, tstate);
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, s), AB_OK);
}

/* A create and a close carry their own record's trace context, in the
 * event and in its JSON; a record without one gives events without. */
START_TEST(test_events_carry_their_record_trace)
{
        struct ab_processor *p = memory_processor();
        struct sink s          = {0};

        handle(p, &s, "raw", FIRING("disk"), T0, TP, TS);
        handle(p, &s, "raw", FIRING("disk"), T0 + 1, TP2, NULL); /* merge */
        handle(p, &s, "raw", RESOLVED("disk"), T0 + 2, TP2, NULL);
        handle(p, &s, "raw", FIRING("cpu"), T0 + 3, NULL, NULL);
        ck_assert_int_eq(s.n, 3);
        ck_assert_str_eq(s.type[0], "create");
        ck_assert_str_eq(s.tp[0], TP);
        ck_assert_str_eq(s.ts[0], TS);
        ck_assert_ptr_nonnull(strstr(s.json[0],
                                     ",\"traceparent\":\"" TP
                                     "\",\"tracestate\":\"" TS "\","));
        ck_assert_str_eq(s.type[1], "close");
        ck_assert_str_eq(s.tp[1], TP2);
        ck_assert_str_eq(s.ts[1], "-");
        ck_assert_ptr_null(strstr(s.json[1], "tracestate"));
        ck_assert_str_eq(s.tp[2], "-");
        ck_assert_ptr_null(strstr(s.json[2], "trace"));
        ck_assert_int_eq(ab_metrics_value(pm.traceparent_invalid), 0);
        ab_processor_destroy(p);
}
END_TEST

/* The header named \p name of \p h as text, or "-". */
static void header_of(const struct ab_headers *h, const char *name, char *out,
                      size_t n)
{
        const char *hn;
        struct ab_str v;

        snprintf(out, n, "-");
        for (size_t i = 0; !ab_headers_at(h, i, &hn, &v); i++)
                if (!strcmp(hn, name))
                        copy(out, n, v);
}

/* The produced record, in either mode of the CloudEvents Kafka binding:
 * the JSON event as the value, or ce_traceparent and ce_tracestate. */
START_TEST(test_both_modes_carry_the_trace)
{
        struct ab_processor *p  = memory_processor();
        struct ab_ce_kafka *enc = ab_ce_kafka_new();
        struct ab_headers *h    = ab_headers_new();
        struct sink s           = {0};
        struct ab_str value;
        char got[80];

        handle(p, &s, "raw", FIRING("disk"), T0, TP, TS);
        ck_assert_int_eq(s.n, 1);
        ck_assert_int_eq(ab_ce_kafka_encode(enc, AB_CE_STRUCTURED, s.json[0],
                                            strlen(s.json[0]), h, &value, NULL),
                         AB_OK);
        ck_assert_ptr_nonnull(strstr(value.ptr, "\"traceparent\":\"" TP "\""));
        ab_headers_reset(h);
        ck_assert_int_eq(ab_ce_kafka_encode(enc, AB_CE_BINARY, s.json[0],
                                            strlen(s.json[0]), h, &value, NULL),
                         AB_OK);
        header_of(h, "ce_traceparent", got, sizeof(got));
        ck_assert_str_eq(got, TP);
        header_of(h, "ce_tracestate", got, sizeof(got));
        ck_assert_str_eq(got, TS);
        ab_headers_destroy(h);
        ab_ce_kafka_destroy(enc);
        ab_processor_destroy(p);
}
END_TEST

/* An invalid header is dropped and counted; the record goes through. */
START_TEST(test_invalid_headers_are_counted_not_rejected)
{
        struct ab_processor *p = memory_processor();
        struct sink s          = {0};

        handle(p, &s, "raw", FIRING("a"), T0,
               "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", TS);
        handle(p, &s, "raw", FIRING("b"), T0, TP, "Rojo=1");
        handle(p, &s, "raw", FIRING("c"), T0, "", NULL);
        handle(p, &s, "raw", FIRING("d"), T0, NULL, TS); /* state alone */
        ck_assert_int_eq(s.dead_letters, 0);
        ck_assert_int_eq(s.n, 4);
        ck_assert_str_eq(s.tp[0], "-");
        ck_assert_str_eq(s.ts[0], "-");
        ck_assert_str_eq(s.tp[1], TP);
        ck_assert_str_eq(s.ts[1], "-");
        ck_assert_str_eq(s.tp[2], "-");
        ck_assert_str_eq(s.tp[3], "-");
        ck_assert_str_eq(s.ts[3], "-");
        ck_assert_int_eq(ab_metrics_value(pm.traceparent_invalid), 2);
        ck_assert_int_eq(ab_metrics_value(pm.tracestate_invalid), 1);
        ab_processor_destroy(p);
}
END_TEST

/* An auto-clear, by the timer or due when a traced record arrives,
 * carries no trace context; an action carries its own record's. */
START_TEST(test_auto_clear_none_actions_their_own)
{
        char conf[400];
        struct ab_pipeline_config *c = NULL;
        struct ab_processor *p       = NULL;
        struct sink s                = {0};
        struct ab_error err;
        char action[200];

        /* web-monitor: auto_clear 10m */
        snprintf(conf, sizeof(conf),
                 "kafka: {brokers: '127.0.0.1:9'}\n"
                 "inputs:\n"
                 "  - {topics: [raw], integration: '%s/replay/web-v1.yaml'}\n"
                 "output: {topic: events}\n"
                 "dead_letter_topic: dlq\n"
                 "actions_topic: actions\n",
                 AB_FIXTURES);
        ab_error_clear(&err);
        ck_assert_msg(ab_pipeline_config_load_string(conf, strlen(conf), "t",
                                                     NULL, &c, &err) == AB_OK,
                      "%s", err.text);
        ck_assert_int_eq(ab_processor_new(c, &pm, &p, &err), AB_OK);
        handle(p, &s, "raw", WEB("old"), T0, TP, NULL);
        handle(p, &s, "raw", WEB("timer"), T0 + 300000, TP, NULL);
        /* "old" is due at T0 + 10 min: closed before "new" is created */
        handle(p, &s, "raw", WEB("new"), T0 + 600000, TP2, NULL);
        ck_assert_int_eq(s.n, 4);
        ck_assert_str_eq(s.type[2], "close");
        ck_assert_str_eq(s.fp[2], s.fp[0]);
        ck_assert_str_eq(s.tp[2], "-");
        ck_assert_str_eq(s.type[3], "create");
        ck_assert_str_eq(s.tp[3], TP2);
        ck_assert_int_eq(ab_processor_expire(p, T0 + 900000, collect, &s),
                         AB_OK);
        ck_assert_int_eq(s.n, 5);
        ck_assert_str_eq(s.fp[4], s.fp[1]);
        ck_assert_str_eq(s.tp[4], "-");
        snprintf(action, sizeof(action),
                 "{\"action\":\"claim\",\"operator\":\"ann\","
                 "\"fingerprint\":\"%s\"}",
                 s.fp[3]);
        handle(p, &s, "actions", action, T0 + 610000, TP, TS);
        ck_assert_int_eq(s.n, 6);
        ck_assert_str_eq(s.type[5], "claim");
        ck_assert_str_eq(s.tp[5], TP);
        ck_assert_str_eq(s.ts[5], TS);
        ab_processor_destroy(p);
        ab_pipeline_config_destroy(c);
}
END_TEST

/* ------------------------------------------------------- two stages */

static ab_err_t on_alert(void *arg, const struct ab_mapped_alert *m)
{
        struct sink *s = arg;
        struct ab_alert_record_alert a;
        struct ab_error err;

        memset(&a, 0, sizeof(a));
        a.integration = ab_str_c(ab_integration_name(m->integration));
        memcpy(a.fp, m->digest, sizeof(a.fp));
        a.event_ms     = m->time_ms;
        a.origin.topic = ab_str_c(m->input->topic);
        a.alert        = m->alert;
        a.trace        = m->trace;
        snprintf(s->last_fp, sizeof(s->last_fp), "%s", m->fingerprint);
        ab_buf_reset(&s->record);
        return ab_alert_record_encode_alert(&a, &s->record, &err);
}

/* The map stage's ACTION record keeps the record's headers as given. */
static const struct ab_kv *action_headers;
static size_t action_nheaders;

static ab_err_t on_action(void *arg, const struct ab_input *in,
                          const unsigned char *prefix)
{
        struct sink *s = arg;
        struct ab_alert_record_action a;
        struct ab_error err;

        (void)prefix;
        memset(&a, 0, sizeof(a));
        a.origin.topic = ab_str_c(in->topic);
        a.timestamp_ms = in->timestamp_ms;
        a.value        = in->value;
        a.headers      = action_headers;
        a.nheaders     = action_nheaders;
        ab_buf_reset(&s->record);
        return ab_alert_record_encode_action(&a, &s->record, &err);
}

/* Map, then apply the record the map stage wrote to \p lc. */
static void map_apply(struct ab_processor *p, struct ab_lifecycle *lc,
                      struct sink *s, const char *topic, const char *value,
                      const char *tp, const char *tstate)
{
        struct ab_alert_record_scratch scratch = {0};
        struct ab_alert_record r;
        struct ab_input in;
        struct ab_error err;

        input(&in, topic, value, T0, tp, tstate);
        ck_assert_int_eq(ab_processor_handle(p, &in, collect, s), AB_OK);
        ck_assert_int_eq(ab_alert_record_decode(s->record.data, s->record.len,
                                                &scratch, &r, &err),
                         AB_OK);
        memset(&in, 0, sizeof(in));
        in.topic = "g.alerts";
        ck_assert_int_eq(ab_processor_apply(p, lc, &r, &in, collect, s), AB_OK);
        ab_alert_record_scratch_fini(&scratch);
}

START_TEST(test_trace_survives_the_alerts_topic)
{
        static const struct ab_kv hdrs[] = {
            {{"ce_traceparent", 14}, {TP2, sizeof(TP2) - 1}},
            {{"traceparent", 11}, {"00-bad", 6}},
            {{"traceparent", 11}, {TP, sizeof(TP) - 1}}, /* the last wins */
            {{"tracestate", 10}, {TS, sizeof(TS) - 1}},
        };
        struct ab_lifecycle_config lcc;
        struct ab_processor_opts o;
        struct ab_processor *p = NULL;
        struct ab_lifecycle *lc;
        struct sink s = {0};
        struct ab_error err;
        char action[200];

        ab_buf_init(&s.record, 0);
        memset(&o, 0, sizeof(o));
        o.mode         = AB_PROCESSOR_MAP;
        o.on_alert     = on_alert;
        o.on_action    = on_action;
        o.on_alert_arg = &s;
        ck_assert_int_eq(ab_processor_new_opts(cfg, &pm, &o, &p, &err), AB_OK);
        memset(&lcc, 0, sizeof(lcc));
        lc = ab_lifecycle_new(&lcc);
        ck_assert_ptr_nonnull(lc);

        map_apply(p, lc, &s, "raw", FIRING("disk"), TP, TS);
        ck_assert_uint_eq((unsigned char)s.record.data[4], 2);
        ck_assert_int_eq(s.n, 1);
        ck_assert_str_eq(s.tp[0], TP);
        ck_assert_str_eq(s.ts[0], TS);
        /* an invalid one is counted once, by the map stage */
        map_apply(p, lc, &s, "raw", FIRING("cpu"), "00-bad", NULL);
        ck_assert_uint_eq((unsigned char)s.record.data[4], 1);
        ck_assert_str_eq(s.tp[1], "-");
        ck_assert_int_eq(ab_metrics_value(pm.traceparent_invalid), 1);

        snprintf(action, sizeof(action),
                 "{\"action\":\"close\",\"operator\":\"ann\","
                 "\"fingerprint\":\"%s\"}",
                 s.fp[0]);
        action_headers  = hdrs;
        action_nheaders = 4;
        map_apply(p, lc, &s, "actions", action, NULL, NULL);
        ck_assert_int_eq(s.n, 3);
        ck_assert_str_eq(s.type[2], "close");
        ck_assert_str_eq(s.tp[2], TP);
        ck_assert_str_eq(s.ts[2], TS);
        /* the CloudEvents names when the W3C ones are absent */
        snprintf(action, sizeof(action),
                 "{\"action\":\"claim\",\"operator\":\"ann\","
                 "\"fingerprint\":\"%s\"}",
                 s.fp[1]);
        action_nheaders = 1;
        map_apply(p, lc, &s, "actions", action, NULL, NULL);
        ck_assert_str_eq(s.type[3], "claim");
        ck_assert_str_eq(s.tp[3], TP2);
        ck_assert_str_eq(s.ts[3], "-");
        ck_assert_int_eq(ab_metrics_value(pm.traceparent_invalid), 1);
        ab_lifecycle_destroy(lc);
        ab_processor_destroy(p);
        ab_buf_fini(&s.record);
}
END_TEST

int main(void)
{
        Suite *s    = suite_create("processor_trace");
        TCase *tc   = tcase_create("trace");
        SRunner *sr = NULL;
        int failed;

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_events_carry_their_record_trace);
        tcase_add_test(tc, test_both_modes_carry_the_trace);
        tcase_add_test(tc, test_invalid_headers_are_counted_not_rejected);
        tcase_add_test(tc, test_auto_clear_none_actions_their_own);
        tcase_add_test(tc, test_trace_survives_the_alerts_topic);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
