/* lifecycle_fixture.c - integrations, alerts, an event collector and
 * shorthands shared by the lifecycle suite's files. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/lifecycle_fixture.h"

/* ---- fixtures ----------------------------------------------------------- */

/* An integration named \p name with auto_clear \p auto_clear (NULL: none)
 * and dedup.fields \p dedup (a JSON array text, NULL: none). */
struct ab_integration *integ_make(const char *name, const char *auto_clear,
                                  const char *dedup)
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

static struct ab_str s_(const char *s)
{
        return ab_str_c(s);
}

/* \p source or \p message NULL leaves that field unmapped. */
const struct ab_alert *talert_make(struct talert *t,
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

ab_err_t collect(void *opaque, const struct ab_event *ev)
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

void col_init(struct collector *c)
{
        memset(c, 0, sizeof(*c));
        ab_buf_init(&c->log, 0);
}

void col_fini(struct collector *c)
{
        ab_buf_fini(&c->log);
        ab_lifecycle_report_destroy(c->report);
}

/* ---- shorthands --------------------------------------------------------- */

struct ab_lifecycle *lc_make(size_t max_open, bool orphan_close)
{
        struct ab_lifecycle_config conf = {max_open, orphan_close, false, 0, 0};
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

void fire(struct ab_lifecycle *lc, const struct ab_integration *integ,
          struct collector *c, const char *source, const char *message,
          int64_t t)
{
        feed(lc, integ, c, AB_ALERT_FIRING, source, message, t);
}

void recover(struct ab_lifecycle *lc, const struct ab_integration *integ,
             struct collector *c, const char *source, int64_t t)
{
        feed(lc, integ, c, AB_ALERT_RESOLVED, source, NULL, t);
}

/* Apply an action; @returns its result code, err filled. */
ab_err_t act(struct ab_lifecycle *lc, struct collector *c, const char *json,
             int64_t t, struct ab_error *err)
{
        ab_error_clear(err);
        return ab_lifecycle_action(lc, json, strlen(json), t, collect, c, err);
}

void act_ok(struct ab_lifecycle *lc, struct collector *c, const char *json,
            int64_t t)
{
        struct ab_error err;

        ck_assert_msg(act(lc, c, json, t, &err) == AB_OK, "action %s: %s", json,
                      err.text);
}

struct ab_lifecycle_stats stats_of(const struct ab_lifecycle *lc)
{
        struct ab_lifecycle_stats s;

        ab_lifecycle_get_stats(lc, &s);
        return s;
}

void fp_of(const struct ab_integration *integ, const char *source, char *out)
{
        struct talert ta;

        ab_lifecycle_fingerprint(
            integ,
            talert_make(&ta, AB_ALERT_FIRING, "HighCPU", source, "cpu", 2, "x"),
            out);
}
