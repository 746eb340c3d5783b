/* check_lifecycle.c - unit tests for the alert lifecycle: dedup, auto-clear,
 * recovery, actions, eviction, snapshots. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "event.h"
#include "integration.h"
#include "lifecycle.h"
#include "mem.h"
#include "report.h"

/* 2023-11-14T22:13:20.000Z: event times are offsets from here. */
#define T0     1700000000000LL
#define MIN_MS 60000LL

/* From tests/fixtures/lifecycle/fingerprint_vectors.py. */
#define GOLDEN_FP_FIELDS "a5a52ded1e0c30cc5cdbea600de5d4c9"
#define GOLDEN_FP_LABELS "856e95a5a3fc3f002a8756424aeef486"

/* ---- fixtures ----------------------------------------------------------- */

/* An integration named \p name with auto_clear \p auto_clear (NULL: none)
 * and dedup.fields \p dedup (a JSON array text, NULL: none). */
static struct ab_integration *
integ_make(const char *name, const char *auto_clear, const char *dedup)
{
        struct ab_integration *integ = NULL;
        struct ab_error err;
        json_error_t jerr;
        char text[1024];
        json_t *root;

        snprintf(text, sizeof(text),
                 "{\"name\": \"%s\", %s%s%s"
                 "\"fields\": {\"alertname\": {\"direct\": \"$.name\"},"
                 " \"severity\": {\"direct\": \"$.sev\"},"
                 " \"message\": {\"direct\": \"$.msg\"},"
                 " \"check\": {\"direct\": \"$.check\"},"
                 " \"source\": {\"direct\": \"$.ip\"}},"
                 " \"labels\": {\"team\": {\"direct\": \"$.team\"}}"
                 "%s%s%s}",
                 name, auto_clear ? "\"auto_clear\": \"" : "",
                 auto_clear ? auto_clear : "", auto_clear ? "\", " : "",
                 dedup ? ", \"dedup\": {\"fields\": " : "", dedup ? dedup : "",
                 dedup ? "}" : "");
        root = json_loads(text, 0, &jerr);
        ck_assert_msg(root != NULL, "fixture JSON: %s", jerr.text);
        ab_error_clear(&err);
        ck_assert_msg(ab_integration_compile(root, "test", &integ, &err) ==
                          AB_OK,
                      "compile: %s", err.text);
        json_decref(root);
        return integ;
}

/* One hand-built normalized alert, labels sorted as the engine sorts. */
struct talert {
        struct ab_kv labels[5];
        struct ab_kv annotations[1];
        char sev[3];
        struct ab_alert a;
};

static struct ab_str s_(const char *s)
{
        return ab_str_c(s);
}

/* \p source or \p message NULL leaves that field unmapped. */
static const struct ab_alert *talert_make(struct talert *t,
                                          enum ab_alert_status status,
                                          const char *name, const char *source,
                                          const char *check, int severity,
                                          const char *message)
{
        size_t n = 0;

        memset(t, 0, sizeof(*t));
        snprintf(t->sev, sizeof(t->sev), "P%d", severity);
        t->labels[n++] = (struct ab_kv){s_("alertname"), s_(name)};
        t->labels[n++] = (struct ab_kv){s_("check"), s_(check)};
        t->labels[n++] = (struct ab_kv){s_("severity"), s_(t->sev)};
        if (source)
                t->labels[n++] = (struct ab_kv){s_("source"), s_(source)};
        t->labels[n++]                 = (struct ab_kv){s_("team"), s_("noc")};
        t->a.status                    = status;
        t->a.severity                  = severity;
        t->a.labels                    = t->labels;
        t->a.nlabels                   = n;
        t->a.field[AB_FIELD_ALERTNAME] = s_(name);
        t->a.field[AB_FIELD_SEVERITY]  = s_(t->sev);
        t->a.field[AB_FIELD_CHECK]     = s_(check);
        if (source)
                t->a.field[AB_FIELD_SOURCE] = s_(source);
        if (message) {
                t->annotations[0] = (struct ab_kv){s_("message"), s_(message)};
                t->a.annotations  = t->annotations;
                t->a.nannotations = 1;
                t->a.field[AB_FIELD_MESSAGE] = s_(message);
        }
        return &t->a;
}

/* ---- event collector ---------------------------------------------------- */

struct tev {
        enum ab_event_type type;
        char id[AB_EVENT_ID_LEN + 1];
        char alert_id[AB_EVENT_ID_LEN + 1];
        char fp[AB_EVENT_ID_LEN + 1];
        int64_t time_ms;
        int64_t start_ms;
        int64_t end_ms;
        uint64_t count;
        bool resolved;
        char handler[64];
        char op[64];
        char comment[128];
        char solution[200];
        char message[128]; /* the alert's message annotation */
        char severity[8];  /* the alert's severity label */
        int alert_status;
};

struct collector {
        struct tev ev[64];
        size_t n;
        struct ab_buf log; /* every event, every field, one line each */
        ab_err_t fail;     /* returned by the callback when set */
        struct ab_lifecycle_report *report;
};

static void copy_opt(char *dst, size_t n, const char *src)
{
        snprintf(dst, n, "%s", src ? src : "");
}

static void log_str(struct ab_buf *b, struct ab_str key, struct ab_str s)
{
        ab_buf_append_char(b, ' ');
        ab_buf_append(b, key.ptr, key.len);
        ab_buf_append_char(b, '=');
        if (s.ptr)
                ab_buf_append_json_str(b, s.ptr, s.len);
        else
                ab_buf_append_str(b, "-");
}

/* A canonical line with every field of the event and of its alert, so
 * comparing logs compares everything the serializer could print. */
static void log_event(struct ab_buf *b, const struct ab_event *ev)
{
        const struct ab_alert *a = ev->alert;
        size_t i;

        ab_buf_appendf(b,
                       "%d id=%s alert=%s fp=%s integ=%s t=%lld res=%d "
                       "start=%lld end=%lld count=%llu",
                       (int)ev->type, ev->id, ev->alert_id, ev->fingerprint,
                       ev->integration ? ev->integration : "-",
                       (long long)ev->time_ms, (int)ev->resolved,
                       (long long)ev->start_ms, (long long)ev->end_ms,
                       (unsigned long long)ev->count);
        log_str(b, ab_str_c("handler"), ab_str_c(ev->handler));
        log_str(b, ab_str_c("op"), ab_str_c(ev->operator_name));
        log_str(b, ab_str_c("comment"), ab_str_c(ev->comment));
        log_str(b, ab_str_c("solution"), ab_str_c(ev->solution));
        ab_buf_appendf(b, " | st=%d sev=%d idx=%u trunc=%d", (int)a->status,
                       a->severity, (unsigned)a->index,
                       (int)a->message_truncated);
        if (a->has_starts)
                ab_buf_appendf(b, " starts=%lld", (long long)a->starts_ms);
        if (a->has_ends)
                ab_buf_appendf(b, " ends=%lld", (long long)a->ends_ms);
        for (i = 0; i < a->nlabels; i++)
                log_str(b, a->labels[i].key, a->labels[i].val);
        ab_buf_append_str(b, " |");
        for (i = 0; i < a->nannotations; i++)
                log_str(b, a->annotations[i].key, a->annotations[i].val);
        ab_buf_append_str(b, " |");
        for (i = 0; i < AB_FIELD__COUNT; i++)
                if (a->field[i].ptr)
                        log_str(b,
                                ab_str_c(ab_alert_field_name(
                                    (enum ab_alert_field)i)),
                                a->field[i]);
        ab_buf_append_char(b, '\n');
}

static ab_err_t collect(void *opaque, const struct ab_event *ev)
{
        struct collector *c = opaque;
        struct tev *t;
        struct ab_str msg, sev = AB_STR_NULL;
        size_t i;

        ck_assert_ptr_nonnull(ev->alert);
        log_event(&c->log, ev);
        if (c->report)
                ck_assert_int_eq(ab_lifecycle_report_event(c->report, ev),
                                 AB_OK);
        /* Long workloads only compare logs: keep the first events. */
        if (c->n++ >= sizeof(c->ev) / sizeof(c->ev[0]))
                return c->fail;
        t = &c->ev[c->n - 1];
        memset(t, 0, sizeof(*t));
        t->type = ev->type;
        memcpy(t->id, ev->id, sizeof(t->id));
        memcpy(t->alert_id, ev->alert_id, sizeof(t->alert_id));
        memcpy(t->fp, ev->fingerprint, sizeof(t->fp));
        t->time_ms  = ev->time_ms;
        t->start_ms = ev->start_ms;
        t->end_ms   = ev->end_ms;
        t->count    = ev->count;
        t->resolved = ev->resolved;
        copy_opt(t->handler, sizeof(t->handler), ev->handler);
        copy_opt(t->op, sizeof(t->op), ev->operator_name);
        copy_opt(t->comment, sizeof(t->comment), ev->comment);
        copy_opt(t->solution, sizeof(t->solution), ev->solution);
        msg = ev->alert->field[AB_FIELD_MESSAGE];
        snprintf(t->message, sizeof(t->message), "%.*s", (int)msg.len,
                 msg.ptr ? msg.ptr : "");
        for (i = 0; i < ev->alert->nlabels; i++)
                if (ab_str_eq_c(ev->alert->labels[i].key, "severity"))
                        sev = ev->alert->labels[i].val;
        snprintf(t->severity, sizeof(t->severity), "%.*s", (int)sev.len,
                 sev.ptr ? sev.ptr : "");
        t->alert_status = (int)ev->alert->status;
        return c->fail;
}

static void col_init(struct collector *c)
{
        memset(c, 0, sizeof(*c));
        ab_buf_init(&c->log, 0);
}

static void col_fini(struct collector *c)
{
        ab_buf_fini(&c->log);
        ab_lifecycle_report_destroy(c->report);
}

/* ---- shorthands --------------------------------------------------------- */

static struct ab_lifecycle *lc_make(size_t max_open, bool orphan_close)
{
        struct ab_lifecycle_config conf = {max_open, orphan_close};
        struct ab_lifecycle *lc         = ab_lifecycle_new(&conf);

        ck_assert_ptr_nonnull(lc);
        return lc;
}

static void feed(struct ab_lifecycle *lc, const struct ab_integration *integ,
                 struct collector *c, enum ab_alert_status st,
                 const char *source, const char *message, int64_t t)
{
        struct ab_error err;
        struct talert ta;
        const struct ab_alert *a =
            talert_make(&ta, st, "HighCPU", source, "cpu", 2, message);

        ab_error_clear(&err);
        ck_assert_msg(ab_lifecycle_process(lc, integ, a, t, collect, c, &err) ==
                          AB_OK,
                      "process: %s", err.text);
}

static void fire(struct ab_lifecycle *lc, const struct ab_integration *integ,
                 struct collector *c, const char *source, const char *message,
                 int64_t t)
{
        feed(lc, integ, c, AB_ALERT_FIRING, source, message, t);
}

static void recover(struct ab_lifecycle *lc, const struct ab_integration *integ,
                    struct collector *c, const char *source, int64_t t)
{
        feed(lc, integ, c, AB_ALERT_RESOLVED, source, NULL, t);
}

/* Apply an action; @returns its result code, err filled. */
static ab_err_t act(struct ab_lifecycle *lc, struct collector *c,
                    const char *json, int64_t t, struct ab_error *err)
{
        ab_error_clear(err);
        return ab_lifecycle_action(lc, json, strlen(json), t, collect, c, err);
}

static void act_ok(struct ab_lifecycle *lc, struct collector *c,
                   const char *json, int64_t t)
{
        struct ab_error err;

        ck_assert_msg(act(lc, c, json, t, &err) == AB_OK, "action %s: %s", json,
                      err.text);
}

static struct ab_lifecycle_stats stats_of(const struct ab_lifecycle *lc)
{
        struct ab_lifecycle_stats s;

        ab_lifecycle_get_stats(lc, &s);
        return s;
}

static void fp_of(const struct ab_integration *integ, const char *source,
                  char *out)
{
        struct talert ta;

        ab_lifecycle_fingerprint(
            integ,
            talert_make(&ta, AB_ALERT_FIRING, "HighCPU", source, "cpu", 2, "x"),
            out);
}

/* ---- open, merge, close ------------------------------------------------- */

START_TEST(test_open_merge_close)
{
        struct ab_integration *integ =
            integ_make("net", NULL, "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct collector c;
        char fp[AB_EVENT_ID_LEN + 1], json[256];
        struct ab_lifecycle_stats s;

        col_init(&c);
        fp_of(integ, "10.0.0.1", fp);
        fire(lc, integ, &c, "10.0.0.1", "cpu 91%", T0);
        ck_assert_uint_eq(c.n, 1);
        ck_assert_int_eq(c.ev[0].type, AB_EVENT_CREATE);
        ck_assert_str_eq(c.ev[0].fp, fp);
        ck_assert_uint_eq(strlen(c.ev[0].id), AB_EVENT_ID_LEN);
        ck_assert_uint_eq(strlen(c.ev[0].alert_id), AB_EVENT_ID_LEN);
        ck_assert_int_eq(c.ev[0].time_ms, T0);
        ck_assert_int_eq(c.ev[0].start_ms, T0);
        ck_assert_uint_eq(c.ev[0].count, 1);
        ck_assert(!c.ev[0].resolved);
        ck_assert_str_eq(c.ev[0].message, "cpu 91%");
        ck_assert_str_eq(c.ev[0].handler, "");
        ck_assert_str_eq(c.ev[0].op, "");

        fire(lc, integ, &c, "10.0.0.1", "cpu 95%", T0 + MIN_MS);
        fire(lc, integ, &c, "10.0.0.1", "cpu 97%", T0 + 2 * MIN_MS);
        ck_assert_uint_eq(c.n, 1);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 1);

        /* The stored alert shows the latest firing's message. */
        snprintf(json, sizeof(json),
                 "{\"action\":\"claim\",\"alert_id\":\"%s\","
                 "\"operator\":\"alice\"}",
                 c.ev[0].alert_id);
        act_ok(lc, &c, json, T0 + 2 * MIN_MS + 1);
        ck_assert_uint_eq(c.n, 2);
        ck_assert_str_eq(c.ev[1].message, "cpu 97%");
        ck_assert_uint_eq(c.ev[1].count, 3);

        recover(lc, integ, &c, "10.0.0.1", T0 + 3 * MIN_MS);
        ck_assert_uint_eq(c.n, 3);
        ck_assert_int_eq(c.ev[2].type, AB_EVENT_CLOSE);
        ck_assert_str_eq(c.ev[2].alert_id, c.ev[0].alert_id);
        ck_assert_str_eq(c.ev[2].fp, fp);
        ck_assert(c.ev[2].resolved);
        ck_assert_int_eq(c.ev[2].time_ms, T0 + 3 * MIN_MS);
        ck_assert_int_eq(c.ev[2].end_ms, T0 + 3 * MIN_MS);
        ck_assert_int_eq(c.ev[2].start_ms, T0);
        ck_assert_uint_eq(c.ev[2].count, 3);
        ck_assert_str_eq(c.ev[2].solution,
                         "recovered: the source reported recovery");
        ck_assert_str_eq(c.ev[2].handler, "alice");
        ck_assert_str_eq(c.ev[2].op, "alertbridge");
        ck_assert_int_eq(c.ev[2].alert_status, AB_ALERT_RESOLVED);
        ck_assert_str_ne(c.ev[0].id, c.ev[1].id);
        ck_assert_str_ne(c.ev[1].id, c.ev[2].id);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 0);

        s = stats_of(lc);
        ck_assert_uint_eq(s.opened, 1);
        ck_assert_uint_eq(s.merged, 2);
        ck_assert_uint_eq(s.closed_recovered, 1);
        ck_assert_uint_eq(s.closed_auto + s.closed_action + s.evicted, 0);

        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(test_dedup_fields_separate)
{
        struct ab_integration *integ =
            integ_make("net", NULL, "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct collector c;

        col_init(&c);
        fire(lc, integ, &c, "10.0.0.1", "a", T0);
        fire(lc, integ, &c, "10.0.0.2", "b", T0 + 1);
        fire(lc, integ, &c, "10.0.0.1", "c", T0 + 2);
        ck_assert_uint_eq(c.n, 2);
        ck_assert_str_ne(c.ev[0].fp, c.ev[1].fp);
        ck_assert_str_ne(c.ev[0].alert_id, c.ev[1].alert_id);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 2);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

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

/* ---- auto-clear --------------------------------------------------------- */

START_TEST(test_auto_clear_boundary)
{
        struct ab_integration *integ =
            integ_make("net", "5m", "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        const int64_t gap       = 5 * MIN_MS;
        struct collector c;

        col_init(&c);
        fire(lc, integ, &c, "a", "m", T0);
        /* One millisecond before the deadline: still open. */
        ck_assert_int_eq(ab_lifecycle_expire(lc, T0 + gap - 1, collect, &c),
                         AB_OK);
        fire(lc, integ, &c, "b", "m", T0 + gap - 1);
        ck_assert_uint_eq(c.n, 2);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 2);
        /* At the deadline: closed, with the deadline as its time. */
        ck_assert_int_eq(ab_lifecycle_expire(lc, T0 + gap, collect, &c), AB_OK);
        ck_assert_uint_eq(c.n, 3);
        ck_assert_int_eq(c.ev[2].type, AB_EVENT_CLOSE);
        ck_assert_str_eq(c.ev[2].alert_id, c.ev[0].alert_id);
        ck_assert_int_eq(c.ev[2].time_ms, T0 + gap);
        ck_assert_int_eq(c.ev[2].end_ms, T0 + gap);
        ck_assert(c.ev[2].resolved);
        ck_assert_str_eq(c.ev[2].solution,
                         "auto-cleared: no event for 5m (auto_clear)");
        ck_assert_str_eq(c.ev[2].op, "alertbridge");
        ck_assert_str_eq(c.ev[2].handler, "alertbridge");
        ck_assert_int_eq(c.ev[2].alert_status, AB_ALERT_RESOLVED);
        ck_assert_str_eq(c.ev[2].message, "m");
        ck_assert_uint_eq(stats_of(lc).closed_auto, 1);

        /* An event exactly at b's deadline finds b closed: the close comes
         * first and the event opens a new alert. */
        fire(lc, integ, &c, "b", "again", T0 + 2 * gap - 1);
        ck_assert_uint_eq(c.n, 5);
        ck_assert_int_eq(c.ev[3].type, AB_EVENT_CLOSE);
        ck_assert_str_eq(c.ev[3].alert_id, c.ev[1].alert_id);
        ck_assert_int_eq(c.ev[3].time_ms, T0 + 2 * gap - 1);
        ck_assert_int_eq(c.ev[4].type, AB_EVENT_CREATE);
        ck_assert_str_eq(c.ev[4].fp, c.ev[1].fp);
        ck_assert_str_ne(c.ev[4].alert_id, c.ev[1].alert_id);

        /* A merge one millisecond before the deadline extends it. */
        fire(lc, integ, &c, "b", "more", T0 + 3 * gap - 2);
        ck_assert_int_eq(ab_lifecycle_expire(lc, T0 + 3 * gap, collect, &c),
                         AB_OK);
        ck_assert_uint_eq(c.n, 5);
        ck_assert_int_eq(ab_lifecycle_expire(lc, T0 + 4 * gap - 3, collect, &c),
                         AB_OK);
        ck_assert_uint_eq(c.n, 5);
        ck_assert_int_eq(ab_lifecycle_expire(lc, T0 + 4 * gap - 2, collect, &c),
                         AB_OK);
        ck_assert_uint_eq(c.n, 6);
        ck_assert_int_eq(c.ev[5].time_ms, T0 + 4 * gap - 2);
        ck_assert_uint_eq(c.ev[5].count, 2);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 0);

        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(test_auto_clear_classes)
{
        struct ab_integration *slow = integ_make("slow", "1h", "[\"source\"]");
        struct ab_integration *fast = integ_make("fast", "90s", "[\"source\"]");
        struct ab_integration *never =
            integ_make("never", NULL, "[\"source\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct collector c;

        col_init(&c);
        fire(lc, slow, &c, "s", "m", T0);         /* due T0 + 1h */
        fire(lc, fast, &c, "f1", "m", T0 + 1000); /* due T0 + 91s */
        fire(lc, never, &c, "n", "m", T0 + 2000); /* never */
        fire(lc, fast, &c, "f2", "m", T0 + 3000); /* due T0 + 93s */
        ck_assert_uint_eq(c.n, 4);
        ck_assert_int_eq(
            ab_lifecycle_expire(lc, T0 + 100 * 3600000LL, collect, &c), AB_OK);
        ck_assert_uint_eq(c.n, 7);
        /* Closed in deadline order across integrations. */
        ck_assert_str_eq(c.ev[4].alert_id, c.ev[1].alert_id);
        ck_assert_int_eq(c.ev[4].time_ms, T0 + 91000);
        ck_assert_str_eq(c.ev[4].solution,
                         "auto-cleared: no event for 1m30s (auto_clear)");
        ck_assert_str_eq(c.ev[5].alert_id, c.ev[3].alert_id);
        ck_assert_int_eq(c.ev[5].time_ms, T0 + 93000);
        ck_assert_str_eq(c.ev[6].alert_id, c.ev[0].alert_id);
        ck_assert_int_eq(c.ev[6].time_ms, T0 + 3600000);
        ck_assert_str_eq(c.ev[6].solution,
                         "auto-cleared: no event for 1h (auto_clear)");
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 1);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(slow);
        ab_integration_destroy(fast);
        ab_integration_destroy(never);
}
END_TEST

/* ---- reopen, orphans, out of order ------------------------------------- */

START_TEST(test_reopen_after_close)
{
        struct ab_integration *integ =
            integ_make("net", NULL, "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct collector c;

        col_init(&c);
        fire(lc, integ, &c, "a", "m", T0);
        recover(lc, integ, &c, "a", T0 + 10);
        fire(lc, integ, &c, "a", "m", T0 + 20);
        /* Same millisecond twice: still a different alert id. */
        recover(lc, integ, &c, "a", T0 + 20);
        fire(lc, integ, &c, "a", "m", T0 + 20);
        ck_assert_uint_eq(c.n, 5);
        ck_assert_int_eq(c.ev[2].type, AB_EVENT_CREATE);
        ck_assert_str_eq(c.ev[2].fp, c.ev[0].fp);
        ck_assert_str_ne(c.ev[2].alert_id, c.ev[0].alert_id);
        ck_assert_int_eq(c.ev[2].start_ms, T0 + 20);
        ck_assert_uint_eq(c.ev[2].count, 1);
        ck_assert_int_eq(c.ev[4].type, AB_EVENT_CREATE);
        ck_assert_str_ne(c.ev[4].alert_id, c.ev[2].alert_id);
        ck_assert_uint_eq(stats_of(lc).opened, 3);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(test_orphan_recovery_dropped)
{
        struct ab_integration *integ =
            integ_make("net", NULL, "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct collector c;

        col_init(&c);
        recover(lc, integ, &c, "a", T0);
        ck_assert_uint_eq(c.n, 0);
        ck_assert_uint_eq(stats_of(lc).orphan_recoveries, 1);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 0);
        /* A later firing still opens normally. */
        fire(lc, integ, &c, "a", "m", T0 + 1);
        ck_assert_uint_eq(c.n, 1);
        ck_assert_int_eq(c.ev[0].type, AB_EVENT_CREATE);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(test_orphan_recovery_closes)
{
        struct ab_integration *integ =
            integ_make("net", NULL, "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, true);
        char fp[AB_EVENT_ID_LEN + 1];
        struct collector c;

        col_init(&c);
        fp_of(integ, "a", fp);
        recover(lc, integ, &c, "a", T0);
        ck_assert_uint_eq(c.n, 1);
        ck_assert_int_eq(c.ev[0].type, AB_EVENT_CLOSE);
        ck_assert(c.ev[0].resolved);
        ck_assert_str_eq(c.ev[0].fp, fp);
        ck_assert_uint_eq(strlen(c.ev[0].alert_id), AB_EVENT_ID_LEN);
        ck_assert_int_eq(c.ev[0].time_ms, T0);
        ck_assert_int_eq(c.ev[0].end_ms, T0);
        ck_assert_uint_eq(c.ev[0].count, 0);
        ck_assert_str_eq(c.ev[0].solution,
                         "recovered: the source reported recovery (no open "
                         "alert matched)");
        ck_assert_str_eq(c.ev[0].op, "alertbridge");
        ck_assert_str_eq(c.ev[0].handler, "alertbridge");
        ck_assert_uint_eq(stats_of(lc).orphan_recoveries, 1);
        ck_assert_uint_eq(stats_of(lc).closed_recovered, 0);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 0);
        /* The next firing is a new alert with another id. */
        fire(lc, integ, &c, "a", "m", T0 + 1);
        ck_assert_str_ne(c.ev[1].alert_id, c.ev[0].alert_id);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(test_out_of_order)
{
        struct ab_integration *integ =
            integ_make("net", NULL, "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct collector c;
        char json[256];

        col_init(&c);
        fire(lc, integ, &c, "a", "newer", T0 + 100);
        /* A late firing merges but does not replace newer values. */
        fire(lc, integ, &c, "a", "older", T0 + 50);
        ck_assert_uint_eq(c.n, 1);
        snprintf(json, sizeof(json),
                 "{\"action\":\"comment\",\"fingerprint\":\"%s\","
                 "\"operator\":\"bob\",\"comment\":\"looking\"}",
                 c.ev[0].fp);
        act_ok(lc, &c, json, T0 + 110);
        ck_assert_str_eq(c.ev[1].message, "newer");
        ck_assert_uint_eq(c.ev[1].count, 2);
        /* A recovery older than the latest firing is stale: dropped. */
        recover(lc, integ, &c, "a", T0 + 80);
        ck_assert_uint_eq(c.n, 2);
        ck_assert_uint_eq(stats_of(lc).stale_recoveries, 1);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 1);
        /* At the latest firing's time it closes (ties: arrival order). */
        recover(lc, integ, &c, "a", T0 + 100);
        ck_assert_uint_eq(c.n, 3);
        ck_assert_int_eq(c.ev[2].type, AB_EVENT_CLOSE);
        ck_assert_uint_eq(c.ev[2].count, 2);
        ck_assert_int_eq(c.ev[2].end_ms, T0 + 100);
        /* A late event at equal time overwrites (arrival order wins). */
        fire(lc, integ, &c, "b", "first", T0 + 200);
        fire(lc, integ, &c, "b", "second", T0 + 200);
        snprintf(json, sizeof(json),
                 "{\"action\":\"claim\",\"fingerprint\":\"%s\","
                 "\"operator\":\"bob\"}",
                 c.ev[3].fp);
        act_ok(lc, &c, json, T0 + 210);
        ck_assert_str_eq(c.ev[4].message, "second");
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(test_out_of_order_expiry)
{
        struct ab_integration *integ =
            integ_make("net", "1s", "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct collector c;

        col_init(&c);
        fire(lc, integ, &c, "a", "m", T0 + 500);
        /* b is older than a: it opens at its own time and expires first. */
        fire(lc, integ, &c, "b", "m", T0 + 100);
        fire(lc, integ, &c, "c", "m", T0 + 300);
        /* A late merge of a does not move a's deadline back. */
        fire(lc, integ, &c, "a", "m", T0 + 200);
        ck_assert_uint_eq(c.n, 3);
        ck_assert_int_eq(ab_lifecycle_expire(lc, T0 + 1300, collect, &c),
                         AB_OK);
        ck_assert_uint_eq(c.n, 5);
        ck_assert_str_eq(c.ev[3].alert_id, c.ev[1].alert_id);
        ck_assert_int_eq(c.ev[3].time_ms, T0 + 1100);
        ck_assert_str_eq(c.ev[4].alert_id, c.ev[2].alert_id);
        ck_assert_int_eq(c.ev[4].time_ms, T0 + 1300);
        ck_assert_int_eq(ab_lifecycle_expire(lc, T0 + 1499, collect, &c),
                         AB_OK);
        ck_assert_uint_eq(c.n, 5);
        ck_assert_int_eq(ab_lifecycle_expire(lc, T0 + 1500, collect, &c),
                         AB_OK);
        ck_assert_uint_eq(c.n, 6);
        ck_assert_str_eq(c.ev[5].alert_id, c.ev[0].alert_id);
        ck_assert_uint_eq(c.ev[5].count, 2);
        /* An event older than ones already seen expires nothing more. */
        fire(lc, integ, &c, "d", "m", T0 + 5000);
        fire(lc, integ, &c, "e", "m", T0 + 100);
        ck_assert_uint_eq(c.n, 8);
        ck_assert_int_eq(c.ev[7].type, AB_EVENT_CREATE);
        /* e's deadline has passed in event time: the next event closes it
         * first. */
        fire(lc, integ, &c, "d", "m", T0 + 5001);
        ck_assert_uint_eq(c.n, 9);
        ck_assert_str_eq(c.ev[8].alert_id, c.ev[7].alert_id);
        ck_assert_int_eq(c.ev[8].time_ms, T0 + 1100);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

/* ---- actions ------------------------------------------------------------ */

START_TEST(test_actions)
{
        struct ab_integration *integ =
            integ_make("net", NULL, "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct collector c;
        char json[512];

        col_init(&c);
        fire(lc, integ, &c, "a", "m", T0);
        fire(lc, integ, &c, "b", "m", T0 + 1);

        /* A comment before any claim: the operator is the handler. */
        snprintf(json, sizeof(json),
                 "{\"action\":\"comment\",\"alert_id\":\"%s\","
                 "\"operator\":\"bob\",\"comment\":\"on it\"}",
                 c.ev[0].alert_id);
        act_ok(lc, &c, json, T0 + 10);
        ck_assert_int_eq(c.ev[2].type, AB_EVENT_COMMENT);
        ck_assert_str_eq(c.ev[2].alert_id, c.ev[0].alert_id);
        ck_assert_str_eq(c.ev[2].fp, c.ev[0].fp);
        ck_assert_str_eq(c.ev[2].handler, "bob");
        ck_assert_str_eq(c.ev[2].op, "bob");
        ck_assert_str_eq(c.ev[2].comment, "on it");
        ck_assert_str_eq(c.ev[2].solution, "");
        ck_assert(!c.ev[2].resolved);
        ck_assert_int_eq(c.ev[2].time_ms, T0 + 10);
        ck_assert_int_eq(c.ev[2].alert_status, AB_ALERT_FIRING);

        snprintf(json, sizeof(json),
                 "{\"action\":\"claim\",\"fingerprint\":\"%s\","
                 "\"integration\":\"net\",\"operator\":\"alice\"}",
                 c.ev[0].fp);
        act_ok(lc, &c, json, T0 + 20);
        ck_assert_int_eq(c.ev[3].type, AB_EVENT_CLAIM);
        ck_assert_str_eq(c.ev[3].handler, "alice");
        ck_assert_str_eq(c.ev[3].op, "alice");
        ck_assert_str_eq(c.ev[3].comment, "");

        /* After the claim, the claimer stays the handler. */
        snprintf(json, sizeof(json),
                 "{\"action\":\"comment\",\"alert_id\":\"%s\","
                 "\"operator\":\"bob\",\"comment\":\"\\u00e9 \\\"q\\\"\"}",
                 c.ev[0].alert_id);
        act_ok(lc, &c, json, T0 + 30);
        ck_assert_str_eq(c.ev[4].handler, "alice");
        ck_assert_str_eq(c.ev[4].op, "bob");
        ck_assert_str_eq(c.ev[4].comment, "\xc3\xa9 \"q\"");

        snprintf(json, sizeof(json),
                 "{\"action\":\"close\",\"alert_id\":\"%s\","
                 "\"fingerprint\":\"%s\",\"operator\":\"carol\","
                 "\"solution\":\"rebooted\"}",
                 c.ev[0].alert_id, c.ev[0].fp);
        act_ok(lc, &c, json, T0 + 40);
        ck_assert_int_eq(c.ev[5].type, AB_EVENT_CLOSE);
        ck_assert_str_eq(c.ev[5].handler, "alice");
        ck_assert_str_eq(c.ev[5].op, "carol");
        ck_assert_str_eq(c.ev[5].solution, "rebooted");
        ck_assert(c.ev[5].resolved);
        ck_assert_int_eq(c.ev[5].end_ms, T0 + 40);
        ck_assert_int_eq(c.ev[5].alert_status, AB_ALERT_RESOLVED);
        ck_assert_uint_eq(stats_of(lc).closed_action, 1);

        /* Close without a solution, upper-case hex id accepted. */
        {
                char up[AB_EVENT_ID_LEN + 1];
                size_t i;

                for (i = 0; i <= AB_EVENT_ID_LEN; i++)
                        up[i] = (char)(c.ev[1].alert_id[i] >= 'a'
                                           ? c.ev[1].alert_id[i] - 32
                                           : c.ev[1].alert_id[i]);
                snprintf(json, sizeof(json),
                         "{\"action\":\"close\",\"alert_id\":\"%s\","
                         "\"operator\":\"dave\",\"comment\":null}",
                         up);
        }
        act_ok(lc, &c, json, T0 + 50);
        ck_assert_int_eq(c.ev[6].type, AB_EVENT_CLOSE);
        ck_assert_str_eq(c.ev[6].alert_id, c.ev[1].alert_id);
        ck_assert_str_eq(c.ev[6].handler, "dave");
        ck_assert_str_eq(c.ev[6].solution, "closed by dave");
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 0);
        ck_assert_uint_eq(stats_of(lc).actions_rejected, 0);

        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

struct rejection {
        const char *json; /* %s = the open alert's id, %f = its fingerprint */
        ab_err_t code;
        const char *path;
        const char *text;
};

START_TEST(test_action_rejections)
{
        static const struct rejection cases[] = {
            {"not json", AB_ERR_ACTION_INVALID, "", "must be JSON"},
            {"[1]", AB_ERR_ACTION_INVALID, "", "must be a JSON object"},
            {"{\"alert_id\":\"%s\",\"operator\":\"x\"}", AB_ERR_ACTION_INVALID,
             "action", "is required"},
            {"{\"action\":\"ack\",\"alert_id\":\"%s\",\"operator\":\"x\"}",
             AB_ERR_ACTION_INVALID, "action", "not \"ack\""},
            {"{\"action\":7,\"alert_id\":\"%s\",\"operator\":\"x\"}",
             AB_ERR_ACTION_INVALID, "action", "must be a string"},
            {"{\"action\":\"claim\",\"operator\":\"x\"}", AB_ERR_ACTION_INVALID,
             "", "alert_id or fingerprint"},
            {"{\"action\":\"claim\",\"alert_id\":\"xyz\",\"operator\":\"x\"}",
             AB_ERR_ACTION_INVALID, "alert_id", "32 hexadecimal"},
            {"{\"action\":\"claim\",\"alert_id\":\"%s\"}",
             AB_ERR_ACTION_INVALID, "operator", "is required"},
            {"{\"action\":\"claim\",\"alert_id\":\"%s\",\"operator\":\"\"}",
             AB_ERR_ACTION_INVALID, "operator", "is required"},
            {"{\"action\":\"comment\",\"alert_id\":\"%s\",\"operator\":\"x\"}",
             AB_ERR_ACTION_INVALID, "comment", "is required"},
            {"{\"action\":\"claim\",\"alert_id\":"
             "\"00000000000000000000000000000000\",\"operator\":\"x\"}",
             AB_ERR_ACTION_UNKNOWN, "alert_id", "no open alert has alert_id"},
            {"{\"action\":\"claim\",\"fingerprint\":"
             "\"00000000000000000000000000000000\",\"operator\":\"x\"}",
             AB_ERR_ACTION_UNKNOWN, "fingerprint", "no open alert"},
            {"{\"action\":\"claim\",\"fingerprint\":\"%f\","
             "\"integration\":\"other\",\"operator\":\"x\"}",
             AB_ERR_ACTION_UNKNOWN, "integration",
             "belongs to integration net, not other"},
        };
        struct ab_integration *integ =
            integ_make("net", NULL, "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        char json[512], id[AB_EVENT_ID_LEN + 1], fp[AB_EVENT_ID_LEN + 1];
        struct ab_error err;
        struct collector c;
        size_t i;

        col_init(&c);
        fire(lc, integ, &c, "a", "m", T0);
        memcpy(id, c.ev[0].alert_id, sizeof(id));
        memcpy(fp, c.ev[0].fp, sizeof(fp));
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const char *p = cases[i].json;
                char *o       = json;

                for (; *p; p++) {
                        if (p[0] == '%' && (p[1] == 's' || p[1] == 'f')) {
                                strcpy(o, p[1] == 's' ? id : fp);
                                o += AB_EVENT_ID_LEN;
                                p++;
                        } else {
                                *o++ = *p;
                        }
                }
                *o = '\0';
                ck_assert_msg(act(lc, &c, json, T0 + 1, &err) == cases[i].code,
                              "case %zu: got %s (%s)", i, ab_err_code(err.code),
                              err.text);
                ck_assert_msg(!strcmp(err.path, cases[i].path),
                              "case %zu: path %s", i, err.path);
                ck_assert_msg(strstr(err.text, cases[i].text) != NULL,
                              "case %zu: text %s", i, err.text);
        }
        ck_assert_uint_eq(c.n, 1);
        ck_assert_uint_eq(stats_of(lc).actions_rejected,
                          sizeof(cases) / sizeof(cases[0]));

        /* Closed alerts are told apart from unknown ones. */
        recover(lc, integ, &c, "a", T0 + 2);
        snprintf(json, sizeof(json),
                 "{\"action\":\"claim\",\"alert_id\":\"%s\","
                 "\"operator\":\"x\"}",
                 id);
        ck_assert_int_eq(act(lc, &c, json, T0 + 3, &err), AB_ERR_ACTION_CLOSED);
        ck_assert_ptr_nonnull(strstr(err.text, "was closed at "
                                               "2023-11-14T22:13:20.002Z "
                                               "(recovered)"));
        snprintf(json, sizeof(json),
                 "{\"action\":\"comment\",\"fingerprint\":\"%s\","
                 "\"operator\":\"x\",\"comment\":\"late\"}",
                 fp);
        ck_assert_int_eq(act(lc, &c, json, T0 + 3, &err), AB_ERR_ACTION_CLOSED);
        ck_assert_str_eq(err.path, "fingerprint");
        ck_assert_uint_eq(c.n, 2);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(test_action_after_auto_clear)
{
        struct ab_integration *integ =
            integ_make("net", "1m", "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct ab_error err;
        struct collector c;
        char json[256];

        col_init(&c);
        fire(lc, integ, &c, "a", "m", T0);
        snprintf(json, sizeof(json),
                 "{\"action\":\"claim\",\"alert_id\":\"%s\","
                 "\"operator\":\"x\"}",
                 c.ev[0].alert_id);
        /* The action's own time passes the deadline: the alert closes
         * first, then the action is rejected. */
        ck_assert_int_eq(act(lc, &c, json, T0 + MIN_MS, &err),
                         AB_ERR_ACTION_CLOSED);
        ck_assert_ptr_nonnull(strstr(err.text, "(auto-cleared)"));
        ck_assert_uint_eq(c.n, 2);
        ck_assert_int_eq(c.ev[1].type, AB_EVENT_CLOSE);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

/* ---- eviction ----------------------------------------------------------- */

START_TEST(test_eviction)
{
        struct ab_integration *integ =
            integ_make("net", "1h", "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(2, false);
        struct collector c;

        col_init(&c);
        fire(lc, integ, &c, "a", "m", T0);
        fire(lc, integ, &c, "b", "m", T0 + 10);
        fire(lc, integ, &c, "a", "m", T0 + 20); /* b is now the quietest */
        fire(lc, integ, &c, "c", "m", T0 + 30);
        ck_assert_uint_eq(c.n, 4);
        ck_assert_int_eq(c.ev[2].type, AB_EVENT_CLOSE);
        ck_assert_str_eq(c.ev[2].alert_id, c.ev[1].alert_id);
        ck_assert_int_eq(c.ev[2].time_ms, T0 + 30);
        ck_assert_str_eq(c.ev[2].solution,
                         "evicted: the limit of 2 open alerts was reached "
                         "and this alert was the longest quiet");
        ck_assert_int_eq(c.ev[3].type, AB_EVENT_CREATE);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 2);
        ck_assert_uint_eq(stats_of(lc).evicted, 1);
        /* d arrives late: a (last seen at T0 + 20) goes. */
        fire(lc, integ, &c, "d", "m", T0 + 5);
        ck_assert_str_eq(c.ev[4].alert_id, c.ev[0].alert_id);
        /* d, last seen at T0 + 5, is now the quietest though the newest. */
        fire(lc, integ, &c, "e", "m", T0 + 40);
        ck_assert_int_eq(c.ev[6].type, AB_EVENT_CLOSE);
        ck_assert_str_eq(c.ev[6].alert_id, c.ev[5].alert_id);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 2);
        ck_assert_uint_eq(stats_of(lc).evicted, 3);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

/* Equal last-seen times: the one touched least recently is the quietest. */
START_TEST(test_eviction_tie)
{
        struct ab_integration *integ = integ_make("net", NULL, "[\"source\"]");
        struct ab_lifecycle *lc      = lc_make(2, false);
        struct collector c;

        col_init(&c);
        fire(lc, integ, &c, "a", "m", T0);
        fire(lc, integ, &c, "b", "m", T0);
        fire(lc, integ, &c, "a", "m", T0);
        fire(lc, integ, &c, "c", "m", T0 + 1);
        ck_assert_uint_eq(c.n, 4);
        ck_assert_str_eq(c.ev[2].alert_id, c.ev[1].alert_id);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

/* The quietest alert overall goes, whatever its auto_clear period. */
START_TEST(test_eviction_across_classes)
{
        struct ab_integration *hour = integ_make("hour", "1h", "[\"source\"]");
        struct ab_integration *day  = integ_make("day", "1d", "[\"source\"]");
        struct ab_integration *none = integ_make("none", NULL, "[\"source\"]");
        struct ab_lifecycle *lc     = lc_make(3, false);
        struct collector c;

        col_init(&c);
        fire(lc, day, &c, "d", "m", T0 + 10);
        fire(lc, none, &c, "n", "m", T0);
        fire(lc, hour, &c, "h", "m", T0 + 20);
        fire(lc, hour, &c, "h2", "m", T0 + 30);
        ck_assert_int_eq(c.ev[3].type, AB_EVENT_CLOSE);
        ck_assert_str_eq(c.ev[3].alert_id, c.ev[1].alert_id);
        fire(lc, none, &c, "n2", "m", T0 + 40);
        ck_assert_int_eq(c.ev[5].type, AB_EVENT_CLOSE);
        ck_assert_str_eq(c.ev[5].alert_id, c.ev[0].alert_id);
        ck_assert_uint_eq(stats_of(lc).evicted, 2);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(hour);
        ab_integration_destroy(day);
        ab_integration_destroy(none);
}
END_TEST

/* ---- determinism and snapshots ------------------------------------------ */

static struct ab_integration *g_net, *g_fast;

static const struct ab_integration *resolve(void *ctx, const char *name)
{
        (void)ctx;
        if (!strcmp(name, "net"))
                return g_net;
        if (!strcmp(name, "fast"))
                return g_fast;
        return NULL;
}

static const struct ab_integration *resolve_net_only(void *ctx,
                                                     const char *name)
{
        (void)ctx;
        return strcmp(name, "net") ? NULL : g_net;
}

/* Apply {"action": action, "fingerprint": fp, <rest>} and log the result:
 * rejections are part of the compared behaviour. */
static void action_log(struct ab_lifecycle *lc, struct collector *c,
                       const char *action, const char *fp, const char *rest,
                       int64_t t)
{
        struct ab_error err;
        char json[512];

        snprintf(json, sizeof(json),
                 "{\"action\":\"%s\",\"fingerprint\":\"%s\",%s}", action, fp,
                 rest);
        ab_buf_appendf(&c->log, "action %d\n", (int)act(lc, c, json, t, &err));
        ab_buf_appendf(&c->log, "  %s %s\n", err.path, err.text);
}

/* Part one of a mixed workload: two integrations, merges, claims, closes
 * of every kind (so the closed ring has entries), one eviction. */
static void workload_one(struct ab_lifecycle *lc, struct collector *c)
{
        char fp[AB_EVENT_ID_LEN + 1];
        int i;

        for (i = 0; i < 6; i++) {
                char src[16];

                snprintf(src, sizeof(src), "10.0.0.%d", i);
                fire(lc, g_net, c, src, "first", T0 + i * 1000);
                fire(lc, g_fast, c, src, "fast", T0 + i * 1000 + 1);
        }
        fire(lc, g_net, c, "10.0.0.1", "second", T0 + 7000);
        fire(lc, g_net, c, "10.0.0.1", "late", T0 + 6500);
        recover(lc, g_net, c, "10.0.0.2", T0 + 7100);
        recover(lc, g_net, c, "10.0.0.1", T0 + 6900); /* stale */
        fp_of(g_net, "10.0.0.1", fp);
        action_log(lc, c, "claim", fp, "\"operator\":\"alice\"", T0 + 7200);
        fp_of(g_net, "10.0.0.3", fp);
        action_log(lc, c, "close", fp,
                   "\"operator\":\"bob\",\"solution\":\"fixed\"", T0 + 7300);
        fire(lc, g_net, c, "10.0.0.9", "new", T0 + 7400);
        ck_assert_int_eq(ab_lifecycle_expire(lc, T0 + 7500, collect, c), AB_OK);
}

/* Part two: everything that depends on restored state. */
static void workload_two(struct ab_lifecycle *lc, struct collector *c)
{
        char fp[AB_EVENT_ID_LEN + 1];
        int i;

        fp_of(g_net, "10.0.0.1", fp);
        action_log(lc, c, "comment", fp,
                   "\"operator\":\"carol\",\"comment\":\"still\"", T0 + 40000);
        fp_of(g_net, "10.0.0.3", fp);
        action_log(lc, c, "claim", fp, "\"operator\":\"carol\"", T0 + 40001);
        fp_of(g_fast, "10.0.0.0", fp);
        action_log(lc, c, "claim", fp, "\"operator\":\"carol\"", T0 + 40002);
        for (i = 0; i < 12; i++) {
                char src[16];

                snprintf(src, sizeof(src), "10.0.0.%d", i % 8);
                fire(lc, i % 3 ? g_net : g_fast, c, src, "two",
                     T0 + 41000 + i * 10);
        }
        recover(lc, g_net, c, "10.0.0.1", T0 + 42000);
        recover(lc, g_net, c, "10.0.0.4", T0 + 42001);
        recover(lc, g_net, c, "10.0.0.77", T0 + 42001); /* orphan */
        fire(lc, g_net, c, "10.0.0.4", "back", T0 + 42002);
        ck_assert_int_eq(ab_lifecycle_expire(lc, T0 + 7200000, collect, c),
                         AB_OK);
}

/* Compare two event logs, naming the first line that differs. */
static void assert_same_log(const struct ab_buf *a, const struct ab_buf *b)
{
        size_t i = 0, line = 1, start = 0;

        while (i < a->len && i < b->len && a->data[i] == b->data[i]) {
                if (a->data[i] == '\n') {
                        line++;
                        start = i + 1;
                }
                i++;
        }
        ck_assert_msg(i == a->len && i == b->len,
                      "logs differ at line %zu:\n%.300s\nvs\n%.300s", line,
                      a->data + start, b->data + start);
}

static struct ab_lifecycle *workload_store(void)
{
        return lc_make(10, true);
}

START_TEST(test_deterministic_ids)
{
        struct ab_lifecycle *a = workload_store(), *b = workload_store();
        struct collector ca, cb;

        col_init(&ca);
        col_init(&cb);
        workload_one(a, &ca);
        workload_two(a, &ca);
        workload_one(b, &cb);
        workload_two(b, &cb);
        ck_assert_uint_gt(ca.log.len, 0);
        assert_same_log(&ca.log, &cb.log);
        ck_assert_uint_gt(stats_of(a).evicted, 0);
        ck_assert_uint_gt(stats_of(a).closed_auto, 0);
        ck_assert_uint_gt(stats_of(a).closed_action, 0);
        ck_assert_uint_gt(stats_of(a).stale_recoveries, 0);
        ck_assert_uint_gt(stats_of(a).orphan_recoveries, 0);
        ck_assert_uint_gt(stats_of(a).actions_rejected, 0);
        col_fini(&ca);
        col_fini(&cb);
        ab_lifecycle_destroy(a);
        ab_lifecycle_destroy(b);
}
END_TEST

START_TEST(test_snapshot_restore)
{
        struct ab_lifecycle *a = workload_store(), *b = workload_store();
        struct ab_buf snap, snap2;
        struct ab_error err;
        struct collector ca, cb;

        col_init(&ca);
        col_init(&cb);
        ab_buf_init(&snap, 0);
        ab_buf_init(&snap2, 0);
        workload_one(a, &ca);
        ck_assert_uint_gt(ab_lifecycle_open_count(a), 3);
        ck_assert_int_eq(ab_lifecycle_snapshot(a, &snap), AB_OK);
        ab_error_clear(&err);
        ck_assert_msg(ab_lifecycle_restore(b, snap.data, snap.len, resolve,
                                           NULL, &err) == AB_OK,
                      "restore: %s", err.text);
        ck_assert_uint_eq(ab_lifecycle_open_count(b),
                          ab_lifecycle_open_count(a));
        /* The restored store snapshots to the same bytes. */
        ck_assert_int_eq(ab_lifecycle_snapshot(b, &snap2), AB_OK);
        ck_assert_uint_eq(snap2.len, snap.len);
        ck_assert(!memcmp(snap.data, snap2.data, snap.len));

        ab_buf_reset(&ca.log);
        ca.n = 0;
        workload_two(a, &ca);
        workload_two(b, &cb);
        ck_assert_uint_gt(ca.log.len, 0);
        assert_same_log(&ca.log, &cb.log);
        col_fini(&ca);
        col_fini(&cb);
        ab_buf_fini(&snap);
        ab_buf_fini(&snap2);
        ab_lifecycle_destroy(a);
        ab_lifecycle_destroy(b);
}
END_TEST

START_TEST(test_snapshot_rejects_bad_input)
{
        struct ab_lifecycle *a = workload_store(), *b = workload_store();
        struct ab_buf snap;
        struct ab_error err;
        struct collector ca, cb;
        size_t i, open_b;

        col_init(&ca);
        col_init(&cb);
        ab_buf_init(&snap, 0);
        workload_one(a, &ca);
        fire(b, g_net, &cb, "kept", "m", T0);
        open_b = ab_lifecycle_open_count(b);
        ck_assert_int_eq(ab_lifecycle_snapshot(a, &snap), AB_OK);

        /* Every flipped byte is caught; b keeps its state. */
        for (i = 0; i < snap.len; i += 7) {
                snap.data[i] ^= 0x20;
                ck_assert_int_eq(ab_lifecycle_restore(b, snap.data, snap.len,
                                                      resolve, NULL, &err),
                                 AB_ERR_STATE);
                snap.data[i] ^= 0x20;
        }
        for (i = 0; i < snap.len; i += 13)
                ck_assert_int_eq(
                    ab_lifecycle_restore(b, snap.data, i, resolve, NULL, &err),
                    AB_ERR_STATE);
        ck_assert_int_eq(ab_lifecycle_restore(b, snap.data, snap.len,
                                              resolve_net_only, NULL, &err),
                         AB_ERR_STATE);
        ck_assert_ptr_nonnull(strstr(err.text, "\"fast\""));
        snap.data[4] = 9; /* version */
        ck_assert_int_eq(
            ab_lifecycle_restore(b, snap.data, snap.len, resolve, NULL, &err),
            AB_ERR_STATE);
        ck_assert_ptr_nonnull(strstr(err.text, "version"));
        ck_assert_uint_eq(ab_lifecycle_open_count(b), open_b);

        /* An empty store round-trips too. */
        ab_lifecycle_destroy(a);
        a = workload_store();
        ab_buf_reset(&snap);
        ck_assert_int_eq(ab_lifecycle_snapshot(a, &snap), AB_OK);
        ck_assert_int_eq(
            ab_lifecycle_restore(b, snap.data, snap.len, resolve, NULL, &err),
            AB_OK);
        ck_assert_uint_eq(ab_lifecycle_open_count(b), 0);

        col_fini(&ca);
        col_fini(&cb);
        ab_buf_fini(&snap);
        ab_lifecycle_destroy(a);
        ab_lifecycle_destroy(b);
}
END_TEST

/* ---- memory ------------------------------------------------------------- */

static ab_err_t count_only(void *opaque, const struct ab_event *ev)
{
        size_t *n = opaque;

        (void)ev;
        (*n)++;
        return AB_OK;
}

START_TEST(test_memory_budget)
{
        struct ab_integration *integ =
            integ_make("net", "1h", "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct ab_lifecycle_mem m;
        size_t events = 0;
        struct ab_error err;
        struct talert ta;
        size_t i, text = 0;
        const size_t n = 5000;

        for (i = 0; i < n; i++) {
                char src[32];
                const struct ab_alert *a;

                snprintf(src, sizeof(src), "10.%zu.%zu.1", i / 256, i % 256);
                a = talert_make(&ta, AB_ALERT_FIRING, "HighCPU", src, "cpu", 2,
                                "cpu above 90% for 5 minutes");
                /* Every string is shorter than 128 bytes: one length
                 * byte each. */
                for (size_t k = 0; k < a->nlabels; k++)
                        text += a->labels[k].key.len + a->labels[k].val.len + 2;
                text += strlen("message") +
                        strlen("cpu above 90% for 5 minutes") + 2;
                ck_assert_int_eq(
                    ab_lifecycle_process(lc, integ, a, T0 + (int64_t)i,
                                         count_only, &events, &err),
                    AB_OK);
        }
        ck_assert_uint_eq(events, n);
        ab_lifecycle_get_mem(lc, &m);
        ck_assert_uint_eq(m.open, n);
        /* Strings are accounted exactly (every field refers to its label or
         * annotation, so none is stored twice), and the rest stays within
         * the 256-byte budget. */
        ck_assert_uint_eq(m.strings, text);
        ck_assert_msg(m.overhead / n <= 256, "%zu bytes per alert",
                      m.overhead / n);
        ck_assert_uint_gt(m.overhead / n, 100); /* accounting is not empty */
        ck_assert_uint_lt(m.shared, 256 * 1024);
        ck_assert_int_eq(
            ab_lifecycle_expire(lc, T0 + 100 * 3600000LL, count_only, &events),
            AB_OK);
        ck_assert_uint_eq(events, 2 * n);
        ab_lifecycle_get_mem(lc, &m);
        ck_assert_uint_eq(m.open, 0);
        ck_assert_uint_eq(m.strings, 0);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

/* ---- emit failures, report, serialization ------------------------------ */

START_TEST(test_emit_failure)
{
        struct ab_integration *integ =
            integ_make("net", NULL, "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct ab_error err;
        struct collector c;
        struct talert ta;

        col_init(&c);
        c.fail = AB_ERR_RETRY;
        ck_assert_int_eq(
            ab_lifecycle_process(
                lc, integ,
                talert_make(&ta, AB_ALERT_FIRING, "X", "a", "cpu", 1, "m"), T0,
                collect, &c, &err),
            AB_ERR_RETRY);
        /* The transition happened; only the event was lost. */
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 1);
        ck_assert_int_eq(
            ab_lifecycle_process(
                lc, integ,
                talert_make(&ta, AB_ALERT_RESOLVED, "X", "a", "cpu", 1, NULL),
                T0 + 1, collect, &c, &err),
            AB_ERR_RETRY);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 0);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

START_TEST(test_report)
{
        struct ab_integration *integ =
            integ_make("net", NULL, "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct ab_error err;
        struct collector c;
        struct talert t[3];
        struct ab_buf out;
        char fp[AB_EVENT_ID_LEN + 1], want[256];
        const struct ab_alert *in[4];
        const size_t input[4] = {0, 1, 1, 2};
        const size_t nal[4]   = {1, 2, 2, 1};
        size_t i;

        col_init(&c);
        ab_buf_init(&out, 0);
        c.report = ab_lifecycle_report_new();
        ck_assert_ptr_nonnull(c.report);
        in[0] =
            talert_make(&t[0], AB_ALERT_FIRING, "X", "10.0.0.1", "cpu", 1, "m");
        in[1] =
            talert_make(&t[1], AB_ALERT_FIRING, "X", "10.0.0.2", "cpu", 1, "m");
        in[2] = talert_make(&t[2], AB_ALERT_RESOLVED, "X", "10.0.0.1", "cpu", 1,
                            NULL);
        t[2].a.index = 1;
        in[3]        = in[0];
        for (i = 0; i < 4; i++) {
                ab_lifecycle_fingerprint(integ, in[i], fp);
                ck_assert_int_eq(ab_lifecycle_report_input(c.report, integ,
                                                           in[i], fp, input[i],
                                                           nal[i]),
                                 AB_OK);
                ck_assert_int_eq(ab_lifecycle_process(lc, integ, in[i],
                                                      T0 + (int64_t)i, collect,
                                                      &c, &err),
                                 AB_OK);
        }
        ck_assert_int_eq(ab_lifecycle_report_render(c.report, &out), AB_OK);
        ck_assert_ptr_nonnull(strstr(out.data, "dedup report: 4 alerts from 3 "
                                               "inputs in 2 groups, 4 "
                                               "events\n"));
        fp_of(integ, "10.0.0.1", fp);
        snprintf(want, sizeof(want),
                 "group 1 fingerprint %s (check=\"cpu\", "
                 "source=\"10.0.0.1\")\n"
                 "  inputs (3): 0, 1[1], 2\n"
                 "  events (3): create, close, create\n",
                 fp);
        ck_assert_msg(strstr(out.data, want) != NULL, "report:\n%s", out.data);
        ck_assert_ptr_nonnull(strstr(out.data, "  inputs (1): 1[0]\n"
                                               "  events (1): create\n"));
        ab_buf_fini(&out);
        col_fini(&c);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

/* Events of the lifecycle serialize as CloudEvents with the seed-000
 * data fields of their type. */
static ab_err_t write_check(void *opaque, const struct ab_event *ev)
{
        static const char *const want[AB_EVENT__COUNT][4] = {
            {NULL},
            {"handler", "operator", NULL},
            {"handler", "operator", "comment", NULL},
            {"handler", "operator", "solution", NULL},
        };
        static const char *const all[] = {"handler", "operator", "comment",
                                          "solution"};
        struct ab_event copy           = *ev;
        struct ab_buf b;
        json_error_t jerr;
        json_t *root, *data;
        size_t i, j;

        (void)opaque;
        copy.owner = "ops-oncall";
        ab_buf_init(&b, 0);
        ck_assert_int_eq(ab_event_write(&b, &copy), AB_OK);
        root = json_loads(b.data, 0, &jerr);
        ck_assert_msg(root != NULL, "%s: %s", jerr.text, b.data);
        data = json_object_get(root, "data");
        ck_assert_str_eq(json_string_value(json_object_get(data, "owner")),
                         "ops-oncall");
        for (i = 0; i < 4; i++) {
                bool expected = false;

                for (j = 0; want[ev->type][j]; j++)
                        expected |= !strcmp(want[ev->type][j], all[i]);
                ck_assert_msg((json_object_get(data, all[i]) != NULL) ==
                                  expected,
                              "%s in %s", all[i], b.data);
        }
        ck_assert_str_eq(json_string_value(json_object_get(root, "alertid")),
                         ev->alert_id);
        json_decref(root);
        ab_buf_fini(&b);
        return AB_OK;
}

START_TEST(test_event_serialization)
{
        struct ab_integration *integ =
            integ_make("net", "1m", "[\"source\", \"check\"]");
        struct ab_lifecycle *lc = lc_make(0, false);
        struct ab_error err;
        struct talert ta;
        char json[256], fp[AB_EVENT_ID_LEN + 1];

        ck_assert_int_eq(
            ab_lifecycle_process(
                lc, integ,
                talert_make(&ta, AB_ALERT_FIRING, "X", "a", "cpu", 1, "m"), T0,
                write_check, NULL, &err),
            AB_OK);
        fp_of(integ, "a", fp);
        snprintf(json, sizeof(json),
                 "{\"action\":\"claim\",\"fingerprint\":\"%s\","
                 "\"operator\":\"x\"}",
                 fp);
        ck_assert_int_eq(ab_lifecycle_action(lc, json, strlen(json), T0 + 1,
                                             write_check, NULL, &err),
                         AB_OK);
        snprintf(json, sizeof(json),
                 "{\"action\":\"comment\",\"fingerprint\":\"%s\","
                 "\"operator\":\"y\",\"comment\":\"c\"}",
                 fp);
        ck_assert_int_eq(ab_lifecycle_action(lc, json, strlen(json), T0 + 2,
                                             write_check, NULL, &err),
                         AB_OK);
        ck_assert_int_eq(
            ab_lifecycle_expire(lc, T0 + MIN_MS, write_check, NULL), AB_OK);
        ck_assert_uint_eq(ab_lifecycle_open_count(lc), 0);
        ab_lifecycle_destroy(lc);
        ab_integration_destroy(integ);
}
END_TEST

static void workload_setup(void)
{
        g_net  = integ_make("net", "10m", "[\"source\", \"check\"]");
        g_fast = integ_make("fast", "5s", "[\"source\"]");
}

static void workload_teardown(void)
{
        ab_integration_destroy(g_net);
        ab_integration_destroy(g_fast);
        g_net = g_fast = NULL;
}

static Suite *lifecycle_suite(void)
{
        Suite *s = suite_create("lifecycle");
        TCase *tc;

        tc = tcase_create("state");
        tcase_add_test(tc, test_open_merge_close);
        tcase_add_test(tc, test_dedup_fields_separate);
        tcase_add_test(tc, test_reopen_after_close);
        tcase_add_test(tc, test_orphan_recovery_dropped);
        tcase_add_test(tc, test_orphan_recovery_closes);
        tcase_add_test(tc, test_out_of_order);
        tcase_add_test(tc, test_emit_failure);
        suite_add_tcase(s, tc);

        tc = tcase_create("fingerprint");
        tcase_add_test(tc, test_fingerprint_rules);
        tcase_add_test(tc, test_fingerprint_golden);
        suite_add_tcase(s, tc);

        tc = tcase_create("time");
        tcase_add_test(tc, test_auto_clear_boundary);
        tcase_add_test(tc, test_auto_clear_classes);
        tcase_add_test(tc, test_out_of_order_expiry);
        suite_add_tcase(s, tc);

        tc = tcase_create("actions");
        tcase_add_test(tc, test_actions);
        tcase_add_test(tc, test_action_rejections);
        tcase_add_test(tc, test_action_after_auto_clear);
        suite_add_tcase(s, tc);

        tc = tcase_create("bounds");
        tcase_add_test(tc, test_eviction);
        tcase_add_test(tc, test_eviction_across_classes);
        tcase_add_test(tc, test_eviction_tie);
        tcase_add_test(tc, test_memory_budget);
        suite_add_tcase(s, tc);

        tc = tcase_create("replay");
        tcase_add_checked_fixture(tc, workload_setup, workload_teardown);
        tcase_add_test(tc, test_deterministic_ids);
        tcase_add_test(tc, test_snapshot_restore);
        tcase_add_test(tc, test_snapshot_rejects_bad_input);
        suite_add_tcase(s, tc);

        tc = tcase_create("output");
        tcase_add_test(tc, test_report);
        tcase_add_test(tc, test_event_serialization);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(lifecycle_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
