/* processor.c - binds records to integrations and turns them into events or
 * dead letters. */
#include "pipeline/processor.h"

#include <stdio.h>
#include <string.h>

#include "consumer/record.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/str.h"
#include "core/timefmt.h"
#include "pipeline/integ_set.h"
#include "pipeline/tracing.h"
#include "transform/integration.h"
#include "transform/transform.h"

/* Mapping-buffer bytes a job keeps between records; typical alert
 * payloads need a few KiB. */
#define AB_PROCESSOR_JOB_KEEP (256 * 1024)

/* What ab_processor_bind() decided for a record. */
enum job_kind {
        JOB_REJECT,    /* a dead letter for `err` (no value, no integration) */
        JOB_ACTION,    /* an operator action */
        JOB_TRANSFORM, /* alerts to map with `integ` */
        JOB_FAIL,      /* binding failed for a reason other than the
                          data (`err` says why): the record stops */
};

struct ab_processor_job {
        enum job_kind kind;
        const struct ab_integration *integ;
        struct ab_error err; /* JOB_REJECT or JOB_FAIL, or why mapping
                                failed */
        ab_err_t rc;         /* mapping: AB_OK or why it failed */
        struct ab_transform *tf;
        struct ab_lifecycle_hasher *hasher;
        const struct ab_alert *alerts; /* borrowed from tf */
        size_t nalerts;
        /* fp[i] is alert i's fingerprint if fp_ok, else the lifecycle
         * computes it (and reports why it cannot). */
        unsigned char (*fp)[AB_LIFECYCLE_FP_LEN];
        size_t capfp;
        bool fp_ok;
        struct ab_trace_ctx trace; /* the record's valid trace context */
};

/* The metric series of one integration name. */
struct integ_series {
        char *name; /* owned */
        struct ab_pipeline_metrics_integ m;
};

struct ab_processor {
        const struct ab_pipeline_config *cfg;
        const struct ab_pipeline_metrics *pm;
        struct ab_processor_opts opts;
        struct ab_processor_job *job; /* for ab_processor_handle() */
        struct ab_lifecycle *lc;
        struct ab_integ_set set;
        /* Integrations a reload replaced: open alerts may still point at
         * them (ab_processor_reload()), so they live as long as p. */
        struct ab_integ_set retired;
        /* The metric series of every integration name ever loaded. */
        struct integ_series **series;
        size_t nseries, capseries;
        struct ab_buf out;              /* serialized event, reused */
        struct ab_lifecycle_stats last; /* for metric deltas */
        uint64_t merged_unflushed;      /* ab_processor_flush_counts() */
        /* Per-call context for the lifecycle's emit callback. */
        ab_output_fn fn;
        void *arg;
        const char *integration_name;
        const struct ab_pipeline_metrics_integ *cur; /* its series */
        /* The integration the last ALERT record named, and its series:
         * the records of a batch mostly name one. Forgotten on reload. */
        const struct ab_integration *applied;
        const struct ab_pipeline_metrics_integ *applied_cur;
        ab_err_t emit_rc; /* the first failed emit of the call */
        /* The trace context of the record the call handles: its events
         * carry it, except an auto-clear or eviction it set off. */
        struct ab_trace_ctx trace;
        struct ab_tracing tracing;
};

/* The series of records without an integration; all NULL handles when
 * the processor has no metrics. */
static const struct ab_pipeline_metrics_integ no_metrics;

static const struct ab_pipeline_metrics_integ *
none_metrics(const struct ab_processor *p)
{
        return p->pm ? &p->pm->none : &no_metrics;
}

/* The series of \p integ, or else of the integration called \p name (an
 * event's): a scan of a handful of names. Only after an allocation
 * failure can a loaded integration lack its own: it then counts as none. */
static const struct ab_pipeline_metrics_integ *
metrics_of(const struct ab_processor *p, const struct ab_integration *integ,
           const char *name)
{
        if (integ)
                name = ab_integration_name(integ);
        for (size_t i = 0; name && i < p->nseries; i++)
                if (!strcmp(p->series[i]->name, name))
                        return &p->series[i]->m;
        return none_metrics(p);
}

/* The series of event \p ev: its integration's, which is the current
 * call's except for events of expiry and actions. */
static const struct ab_pipeline_metrics_integ *
event_metrics(const struct ab_processor *p, const struct ab_event *ev)
{
        if (!ev->integration || ev->integration == p->integration_name ||
            (p->integration_name &&
             !strcmp(ev->integration, p->integration_name)))
                return p->cur;
        return metrics_of(p, NULL, ev->integration);
}

/* Make \p integ (NULL: none) the integration of the current call. */
static void set_current(struct ab_processor *p,
                        const struct ab_integration *integ)
{
        p->integration_name = integ ? ab_integration_name(integ) : NULL;
        p->cur              = metrics_of(p, integ, NULL);
}

/* Create the series of \p name unless it has them. Series are made once
 * per name and outlive reloads, so counters never restart. */
static ab_err_t add_series(struct ab_processor *p, const char *name)
{
        struct integ_series *is;

        if (!p->pm || metrics_of(p, NULL, name) != none_metrics(p))
                return AB_OK;
        if (p->nseries == p->capseries) {
                size_t cap = p->capseries ? p->capseries * 2 : 8;
                struct integ_series **v =
                    ab_realloc(p->series, cap * sizeof(*v));

                if (!v)
                        return AB_ERR_NOMEM;
                p->series    = v;
                p->capseries = cap;
        }
        is = ab_calloc(1, sizeof(*is));
        if (!is || !(is->name = ab_strdup(name)) ||
            ab_pipeline_metrics_integ(p->pm, name, &is->m, NULL)) {
                if (is)
                        ab_free(is->name);
                ab_free(is);
                return AB_ERR_NOMEM;
        }
        p->series[p->nseries++] = is;
        return AB_OK;
}

/* The series of every integration of \p s. */
static ab_err_t add_set_series(struct ab_processor *p,
                               const struct ab_integ_set *s)
{
        ab_err_t rc = AB_OK;

        for (size_t i = 0; i < s->ninteg && !rc; i++)
                rc = add_series(p, ab_integration_name(s->integs[i]));
        return rc;
}

ab_err_t ab_processor_reload(struct ab_processor *p,
                             const struct ab_pipeline_config *cfg,
                             struct ab_error *err)
{
        struct ab_integ_set next;
        ab_err_t rc;

        memset(&next, 0, sizeof(next));
        rc = ab_integ_set_load(&next, cfg, err);
        if (!rc && ((rc = add_set_series(p, &next)) ||
                    (rc = ab_integ_set_swap(&p->set, &next, &p->retired))))
                ab_error_set(err, rc, NULL, "out of memory");
        ab_integ_set_fini(&next);
        if (!rc) {
                p->cfg     = cfg;
                p->applied = NULL;
        }
        return rc;
}

ab_err_t ab_processor_new(const struct ab_pipeline_config *cfg,
                          const struct ab_pipeline_metrics *metrics,
                          struct ab_processor **out, struct ab_error *err)
{
        return ab_processor_new_opts(cfg, metrics, NULL, out, err);
}

/* The lifecycle store of a new processor; NULL when stateless. */
static struct ab_lifecycle *new_lifecycle(const struct ab_processor *p)
{
        struct ab_lifecycle_config lconf;

        if (p->opts.mode != AB_PROCESSOR_LIFECYCLE)
                return NULL;
        memset(&lconf, 0, sizeof(lconf));
        lconf.max_open              = (size_t)p->cfg->lifecycle.max_open_alerts;
        lconf.close_orphan_recovery = p->cfg->lifecycle.close_orphan_recovery;
        lconf.max_action_field = (size_t)p->cfg->lifecycle.max_action_field;
        return ab_lifecycle_new(&lconf);
}

ab_err_t ab_processor_new_opts(const struct ab_pipeline_config *cfg,
                               const struct ab_pipeline_metrics *metrics,
                               const struct ab_processor_opts *opts,
                               struct ab_processor **out, struct ab_error *err)
{
        struct ab_processor *p;
        ab_err_t rc = AB_ERR_NOMEM;

        *out = NULL;
        if (opts && opts->mode == AB_PROCESSOR_STATELESS && cfg->actions_topic)
                return ab_error_set(err, AB_ERR_CONFIG, "actions_topic",
                                    "a stateless processor applies no "
                                    "actions");
        if (opts && opts->mode == AB_PROCESSOR_MAP &&
            (!opts->on_alert || !opts->on_action))
                return ab_error_set(err, AB_ERR_INTERNAL, NULL,
                                    "a map-stage processor needs on_alert "
                                    "and on_action");
        p = ab_calloc(1, sizeof(*p));
        if (!p)
                return ab_error_set(err, rc, NULL, "out of memory");
        p->cfg        = cfg;
        p->pm         = metrics;
        p->tracing.pm = metrics;
        p->cur        = none_metrics(p);
        if (opts)
                p->opts = *opts;
        ab_buf_init(&p->out, 0);
        p->job = ab_processor_job_new();
        p->lc  = new_lifecycle(p);
        if (!p->job || (!p->lc && p->opts.mode == AB_PROCESSOR_LIFECYCLE)) {
                ab_error_set(err, rc, NULL, "out of memory");
                goto fail;
        }
        rc = ab_integ_set_load(&p->set, cfg, err);
        if (!rc && (rc = add_set_series(p, &p->set)))
                ab_error_set(err, rc, NULL, "out of memory");
        if (rc)
                goto fail;
        *out = p;
        return AB_OK;
fail:
        ab_processor_destroy(p);
        return rc;
}

void ab_processor_destroy(struct ab_processor *p)
{
        if (!p)
                return;
        ab_processor_job_destroy(p->job);
        ab_lifecycle_destroy(p->lc);
        ab_integ_set_fini(&p->set);
        ab_integ_set_fini(&p->retired);
        for (size_t i = 0; i < p->nseries; i++) {
                ab_free(p->series[i]->name);
                ab_free(p->series[i]);
        }
        ab_free(p->series);
        ab_buf_fini(&p->out);
        ab_free(p);
}

struct ab_lifecycle *ab_processor_lifecycle(struct ab_processor *p)
{
        return p->lc;
}

/* ---------------------------------------------------------------- binding */

/*
 * The integration called \p name: one loaded already (by its `name:`) or
 * a built-in, loaded once and kept. NULL: \p err says why
 * (AB_ERR_NO_INTEGRATION when there is none, or the load's failure).
 */
static struct ab_integration *by_name(struct ab_processor *p, const char *name,
                                      struct ab_error *err)
{
        struct ab_integration *integ = NULL;
        ab_err_t rc;

        integ = ab_integ_set_find(&p->set, name);
        if (integ)
                return integ;
        if (!ab_integration_builtin_text(name)) {
                ab_error_set(err, AB_ERR_NO_INTEGRATION, NULL,
                             "'%s' is neither a configured nor a built-in "
                             "integration",
                             name);
                return NULL;
        }
        rc = ab_integration_load(name, &integ, err);
        if (!rc && ((rc = add_series(p, name)) ||
                    (rc = ab_integ_set_keep(&p->set, integ))))
                ab_error_set(err, rc, NULL,
                             "keeping the integration '%s' failed: %s", name,
                             ab_err_desc(rc));
        if (rc) {
                ab_integration_destroy(integ);
                return NULL;
        }
        return integ;
}

const struct ab_integration *ab_processor_resolve(void *ctx, const char *name)
{
        struct ab_error err;

        ab_error_clear(&err);
        return by_name(ctx, name, &err);
}

/*
 * The integration of a record: its header wins over the topic binding.
 * A header names an integration already loaded (by its `name:`) or a
 * built-in, which is loaded once and kept. NULL: \p err says why, with a
 * rejection (no such integration) or the failure that stops the record.
 */
static const struct ab_integration *
resolve(struct ab_processor *p, const struct ab_input *in, struct ab_error *err)
{
        if (in->integration.ptr) {
                char name[128];
                struct ab_integration *integ;

                if (in->integration.len == 0 ||
                    in->integration.len >= sizeof(name)) {
                        ab_error_set(err, AB_ERR_NO_INTEGRATION, NULL,
                                     "the %s header is empty or too long",
                                     p->cfg->integration_header);
                        return NULL;
                }
                memcpy(name, in->integration.ptr, in->integration.len);
                name[in->integration.len] = '\0';
                /* A NUL would cut the name: no integration has one. */
                integ = memchr(name, '\0', in->integration.len)
                            ? NULL
                            : by_name(p, name, err);
                if (!integ && (err->code == AB_ERR_NO_INTEGRATION ||
                               err->code == AB_OK)) {
                        char shown[4 * sizeof(name)];

                        ab_error_set(err, AB_ERR_NO_INTEGRATION, NULL,
                                     "the %s header names '%s', which is "
                                     "neither a configured nor a built-in "
                                     "integration",
                                     p->cfg->integration_header,
                                     ab_str_escape(shown, sizeof(shown),
                                                   in->integration.ptr,
                                                   in->integration.len));
                }
                return integ;
        }
        for (size_t i = 0; i < p->set.nbindings; i++) {
                if (strcmp(p->set.bindings[i].topic, in->topic))
                        continue;
                if (p->set.bindings[i].integ)
                        return p->set.bindings[i].integ;
                break;
        }
        ab_error_set(err, AB_ERR_NO_INTEGRATION, NULL,
                     "no integration is bound to topic '%s' and the record "
                     "has no %s header",
                     in->topic, p->cfg->integration_header);
        return NULL;
}

/* ---------------------------------------------------------------- outputs */

static ab_err_t dead_letter(struct ab_processor *p, const struct ab_input *in,
                            const struct ab_error *e, const char *integration,
                            ab_output_fn fn, void *arg)
{
        struct ab_output o;

        memset(&o, 0, sizeof(o));
        o.kind        = AB_OUTPUT_DEAD_LETTER;
        o.topic       = p->cfg->dead_letter_topic;
        o.key         = in->key;
        o.value       = in->value;
        o.error       = e;
        o.integration = integration;
        ab_pipeline_metrics_reject(p->cur, e->code);
        return fn(arg, &o);
}

/* Lifecycle emit callback: apply the policy, serialize, hand over. */
static ab_err_t emit(void *opaque, const struct ab_event *ev)
{
        struct ab_processor *p = opaque;
        const struct ab_pipeline_policy *pol;
        struct ab_event e = *ev;
        struct ab_output o;
        ab_err_t rc;

        pol      = ab_pipeline_policy_match(p->cfg, ev->alert,
                                       ev->integration ? ev->integration
                                                            : p->integration_name);
        e.source = p->cfg->output.source;
        e.trace  = ev->by_system ? AB_TRACE_NONE : p->trace;
        if (pol) {
                e.owner         = pol->owner;
                e.dispatch_rule = pol->name;
        }
        ab_buf_reset(&p->out);
        rc = ab_event_write(&p->out, &e);
        if (!rc) {
                memset(&o, 0, sizeof(o));
                o.kind  = AB_OUTPUT_EVENT;
                o.topic = ab_pipeline_policy_topic(p->cfg, pol);
                o.key   = ab_str_c(e.fingerprint);
                o.value = ab_str_make(p->out.data, p->out.len);
                o.event = &e;
                ab_metrics_inc(event_metrics(p, ev)->events_out[e.type]);
                rc = p->fn(p->arg, &o);
        }
        /* The lifecycle reports this error as its own: remember that it
         * was the output's, which is never dead-lettered. */
        if (rc && !p->emit_rc)
                p->emit_rc = rc;
        return rc;
}

static void update_gauges(struct ab_processor *p)
{
        struct ab_lifecycle_stats st;

        if (!p->pm || !p->lc)
                return;
        ab_lifecycle_get_stats(p->lc, &st);
        ab_metrics_add(p->pm->merged_duplicates, st.merged - p->last.merged);
        ab_metrics_add(p->pm->evicted_alerts, st.evicted - p->last.evicted);
        ab_metrics_add(p->cur->orphan_recoveries,
                       st.orphan_recoveries - p->last.orphan_recoveries);
        ab_metrics_set(p->pm->open_alerts,
                       (int64_t)ab_lifecycle_open_count(p->lc));
        p->last = st;
}

static int is_actions_topic(const struct ab_processor *p, const char *topic)
{
        return p->cfg->actions_topic && !strcmp(p->cfg->actions_topic, topic);
}

/* The event time of alert \p a of a record read at \p t (opts.clock). */
static int64_t alert_time(const struct ab_processor *p,
                          const struct ab_input *in, const struct ab_alert *a,
                          int64_t t)
{
        if (p->opts.clock != AB_PROCESSOR_CLOCK_ALERT_START)
                return t;
        return a->has_starts ? a->starts_ms : in->timestamp_ms;
}

/* The hex fingerprint of the job's alert \p i into \p out
 * (AB_EVENT_ID_LEN + 1 bytes). */
static ab_err_t alert_fingerprint(const struct ab_processor_job *j, size_t i,
                                  char *out)
{
        if (j->fp_ok)
                ab_hex(j->fp[i], AB_LIFECYCLE_FP_LEN, out);
        else
                ab_lifecycle_fingerprint(j->integ, &j->alerts[i], out);
        return out[0] ? AB_OK : AB_ERR_NOMEM;
}

/* Hand the job's alert \p i, applied at \p at, to the observer. */
static ab_err_t observe(const struct ab_processor *p,
                        const struct ab_processor_job *j,
                        const struct ab_input *in, size_t i, int64_t at)
{
        char fp[AB_EVENT_ID_LEN + 1];
        unsigned char bin[AB_LIFECYCLE_FP_LEN];
        struct ab_mapped_alert m;
        ab_err_t rc;

        if (!p->opts.on_alert)
                return AB_OK;
        rc = alert_fingerprint(j, i, fp);
        if (!rc && !j->fp_ok)
                rc = ab_lifecycle_key_parse(fp, AB_EVENT_ID_LEN, bin) == AB_OK
                         ? AB_OK
                         : AB_ERR_INTERNAL;
        if (rc)
                return rc;
        m.digest      = j->fp_ok ? j->fp[i] : bin;
        m.input       = in;
        m.integration = j->integ;
        m.alert       = &j->alerts[i];
        m.fingerprint = fp;
        m.nalerts     = j->nalerts;
        m.time_ms     = at;
        m.trace       = j->trace;
        return p->opts.on_alert(p->opts.on_alert_arg, &m);
}

/*
 * Stateless mode: each alert of the job becomes one event of its own
 * (ab_event_from_alert_base()), keyed and identified by its fingerprint, and
 * goes out through the same policies and serializer as the lifecycle's.
 */
static ab_err_t emit_stateless(struct ab_processor *p,
                               const struct ab_processor_job *j,
                               const struct ab_input *in, int64_t t)
{
        const char *name = ab_integration_name(j->integ);
        struct ab_event_idbase base;
        struct ab_event ev;
        ab_err_t rc = AB_OK;

        ab_event_idbase_init(&base, name, in->value.ptr, in->value.len);

        for (size_t i = 0; !rc && i < j->nalerts; i++) {
                const struct ab_alert *a = &j->alerts[i];
                int64_t at               = alert_time(p, in, a, t);

                rc = observe(p, j, in, i, at);
                if (rc)
                        break;
                ab_event_from_alert_base(&ev, a, name, &base, at);
                rc = alert_fingerprint(j, i, ev.fingerprint);
                if (rc)
                        break;
                memcpy(ev.alert_id, ev.fingerprint, sizeof(ev.alert_id));
                rc = emit(p, &ev);
        }
        return rc;
}

/* Start a call that emits through \p fn for a record with the trace
 * context \p t. */
static void begin(struct ab_processor *p, ab_output_fn fn, void *arg,
                  struct ab_trace_ctx t)
{
        p->fn  = fn;
        p->arg = arg;
        set_current(p, NULL);
        p->emit_rc = AB_OK;
        p->trace   = t;
}

/* ---------------------------------------------------------------- jobs */

struct ab_processor_job *ab_processor_job_new(void)
{
        struct ab_processor_job *j = ab_calloc(1, sizeof(*j));

        if (!j)
                return NULL;
        j->tf     = ab_transform_new();
        j->hasher = ab_lifecycle_hasher_new();
        if (!j->tf || !j->hasher) {
                ab_processor_job_destroy(j);
                return NULL;
        }
        return j;
}

void ab_processor_job_destroy(struct ab_processor_job *j)
{
        if (!j)
                return;
        ab_transform_destroy(j->tf);
        ab_lifecycle_hasher_destroy(j->hasher);
        ab_free(j->fp);
        ab_free(j);
}

void ab_processor_bind(struct ab_processor *p, struct ab_processor_job *j,
                       const struct ab_input *in)
{
        j->integ   = NULL;
        j->alerts  = NULL;
        j->nalerts = 0;
        j->rc      = AB_OK;
        j->fp_ok   = false;
        j->trace   = ab_tracing_check(&p->tracing, in);
        ab_error_clear(&j->err);
        if (!in->value.ptr) {
                ab_error_set(&j->err, AB_ERR_DECODE, NULL,
                             "the record has no value");
                j->kind = JOB_REJECT;
                ab_metrics_inc(none_metrics(p)->records_in);
                return;
        }
        if (is_actions_topic(p, in->topic)) {
                j->kind = JOB_ACTION;
                ab_metrics_inc(none_metrics(p)->records_in);
                return;
        }
        j->integ = resolve(p, in, &j->err);
        ab_metrics_inc(metrics_of(p, j->integ, NULL)->records_in);
        if (j->integ)
                j->kind = JOB_TRANSFORM;
        else if (ab_err_class(j->err.code) == AB_ERR_CLASS_REJECT)
                j->kind = JOB_REJECT;
        else
                j->kind = JOB_FAIL;
}

/* Room for \p n fingerprints; only grows, so a warm job never allocates. */
static bool fp_reserve(struct ab_processor_job *j, size_t n)
{
        unsigned char(*v)[AB_LIFECYCLE_FP_LEN];
        size_t cap;

        if (n <= j->capfp)
                return true;
        cap = j->capfp ? j->capfp : 4;
        while (cap < n)
                cap *= 2;
        v = ab_realloc(j->fp, cap * sizeof(*v));
        if (!v)
                return false;
        j->fp    = v;
        j->capfp = cap;
        return true;
}

void ab_processor_prepare(struct ab_processor_job *j, const struct ab_input *in)
{
        if (j->kind != JOB_TRANSFORM)
                return;
        j->rc =
            ab_transform_run(j->tf, j->integ, in->value.ptr, in->value.len,
                             AB_CONTENT_AUTO, &j->alerts, &j->nalerts, &j->err);
        if (j->rc || !fp_reserve(j, j->nalerts))
                return;
        for (size_t i = 0; i < j->nalerts; i++)
                if (ab_lifecycle_hasher_digest(j->hasher, j->integ,
                                               &j->alerts[i], j->fp[i]))
                        return;
        j->fp_ok = true;
}

/*
 * Apply the error rule (processor.h) to \p rc, the result of mapping, an
 * action or the lifecycle, with \p e its detail: a rejection becomes the
 * record's dead letter, unless it is the output's own failure; anything
 * else is returned and stops the record.
 */
static ab_err_t settle(struct ab_processor *p, const struct ab_input *in,
                       ab_err_t rc, struct ab_error *e, const char *integration,
                       ab_output_fn fn, void *arg)
{
        if (!rc || p->emit_rc || ab_err_class(rc) != AB_ERR_CLASS_REJECT)
                return rc;
        if (e->code != rc)
                ab_error_set(e, rc, NULL, "%s", ab_err_desc(rc));
        return dead_letter(p, in, e, integration, fn, arg);
}

/* The map stage's action: routed by the alert it names, else a dead
 * letter (action_invalid). */
static ab_err_t route_action(struct ab_processor *p, const struct ab_input *in,
                             ab_output_fn fn, void *arg)
{
        unsigned char prefix[AB_ALERT_RECORD_ROUTE_LEN];
        struct ab_error err;
        ab_err_t rc;

        ab_error_clear(&err);
        rc = ab_alert_record_action_route(in->value.ptr, in->value.len, prefix,
                                          &err);
        if (rc)
                return settle(p, in, rc, &err, NULL, fn, arg);
        return p->opts.on_action(p->opts.on_alert_arg, in, prefix);
}

static ab_err_t finish(struct ab_processor *p, struct ab_processor_job *j,
                       const struct ab_input *in, ab_output_fn fn, void *arg)
{
        struct ab_error err;
        int64_t t = in->timestamp_ms >= 0 ? in->timestamp_ms : ab_time_now_ms();
        ab_err_t rc = AB_OK;

        begin(p, fn, arg, j->trace);
        ab_error_clear(&err);
        switch (j->kind) {
        case JOB_FAIL:
                return j->err.code;
        case JOB_REJECT:
                return dead_letter(p, in, &j->err, NULL, fn, arg);
        case JOB_ACTION:
                if (p->opts.mode == AB_PROCESSOR_MAP)
                        return route_action(p, in, fn, arg);
                rc = ab_lifecycle_action(p->lc, in->value.ptr, in->value.len, t,
                                         emit, p, &err);
                update_gauges(p);
                return settle(p, in, rc, &err, NULL, fn, arg);
        case JOB_TRANSFORM:
                break;
        }
        set_current(p, j->integ);
        if (j->rc)
                return settle(p, in, j->rc, &j->err, p->integration_name, fn,
                              arg);
        if (p->opts.mode == AB_PROCESSOR_MAP) {
                for (size_t i = 0; !rc && i < j->nalerts; i++)
                        rc = observe(p, j, in, i,
                                     alert_time(p, in, &j->alerts[i], t));
                return rc;
        }
        if (!p->lc)
                return emit_stateless(p, j, in, t);
        for (size_t i = 0; i < j->nalerts; i++) {
                int64_t at = alert_time(p, in, &j->alerts[i], t);

                ab_error_clear(&err);
                rc = observe(p, j, in, i, at);
                if (rc)
                        break;
                rc = j->fp_ok
                         ? ab_lifecycle_process_digest(p->lc, j->integ,
                                                       &j->alerts[i], j->fp[i],
                                                       at, emit, p, &err)
                         : ab_lifecycle_process(p->lc, j->integ, &j->alerts[i],
                                                at, emit, p, &err);
                if (rc)
                        break;
        }
        update_gauges(p);
        return settle(p, in, rc, &err, p->integration_name, fn, arg);
}

ab_err_t ab_processor_finish(struct ab_processor *p, struct ab_processor_job *j,
                             const struct ab_input *in, ab_output_fn fn,
                             void *arg)
{
        ab_err_t rc = finish(p, j, in, fn, arg);

        /* The job's alerts are spent: let one huge payload's buffers go
         * (a pool has hundreds of jobs, each would keep its largest). */
        ab_transform_trim(j->tf, AB_PROCESSOR_JOB_KEEP);
        return rc;
}

ab_err_t ab_processor_handle(struct ab_processor *p, const struct ab_input *in,
                             ab_output_fn fn, void *arg)
{
        ab_processor_bind(p, p->job, in);
        ab_processor_prepare(p->job, in);
        return ab_processor_finish(p, p->job, in, fn, arg);
}

ab_err_t ab_processor_expire(struct ab_processor *p, int64_t now_ms,
                             ab_output_fn fn, void *arg)
{
        ab_err_t rc;

        if (!p->lc)
                return AB_OK;
        begin(p, fn, arg, AB_TRACE_NONE);
        rc = ab_lifecycle_expire(p->lc, now_ms, emit, p);
        update_gauges(p);
        return rc;
}

/* Count what one call changed in \p lc since \p before. */
static void account(struct ab_processor *p, const struct ab_lifecycle *lc,
                    const struct ab_lifecycle_stats *before)
{
        struct ab_lifecycle_stats st;

        if (!p->pm)
                return;
        ab_lifecycle_get_stats(lc, &st);
        p->merged_unflushed += st.merged - before->merged;
        ab_metrics_add(p->pm->evicted_alerts, st.evicted - before->evicted);
        ab_metrics_add(p->cur->orphan_recoveries,
                       st.orphan_recoveries - before->orphan_recoveries);
}

/* Apply one ALERT record to \p lc. */
static ab_err_t apply_alert(struct ab_processor *p, struct ab_lifecycle *lc,
                            const struct ab_alert_record_alert *a,
                            struct ab_error *err)
{
        const struct ab_integration *integ = p->applied;
        char name[128];

        if (!integ ||
            !ab_str_eq_c(a->integration, ab_integration_name(integ))) {
                if (a->integration.len >= sizeof(name))
                        return ab_error_set(err, AB_ERR_NO_INTEGRATION, NULL,
                                            "integration name too long");
                memcpy(name, a->integration.ptr, a->integration.len);
                name[a->integration.len] = '\0';
                integ                    = by_name(p, name, err);
                if (!integ)
                        return err->code;
                p->applied     = integ;
                p->applied_cur = metrics_of(p, integ, NULL);
        }
        p->integration_name = ab_integration_name(integ);
        p->cur              = p->applied_cur;
        p->trace            = a->trace;
        return ab_lifecycle_process_coded(lc, integ, a->alert, a->coded,
                                          a->coded_len, a->fp, a->event_ms,
                                          emit, p, err);
}

ab_err_t ab_processor_apply(struct ab_processor *p, struct ab_lifecycle *lc,
                            const struct ab_alert_record *r,
                            const struct ab_input *in, ab_output_fn fn,
                            void *arg)
{
        struct ab_lifecycle_stats before;
        struct ab_error err;
        ab_err_t rc;

        ab_lifecycle_get_stats(lc, &before);
        begin(p, fn, arg, AB_TRACE_NONE);
        ab_error_clear(&err);
        if (r->kind == AB_ALERT_RECORD_ACTION) {
                const struct ab_alert_record_action *a = &r->action;
                int64_t t =
                    a->timestamp_ms >= 0 ? a->timestamp_ms : ab_time_now_ms();

                /* checked again, counted by the map stage already */
                ab_trace_check(ab_tracing_of_action(a), &p->trace);
                rc = ab_lifecycle_action(lc, a->value.ptr ? a->value.ptr : "",
                                         a->value.len, t, emit, p, &err);
        } else {
                rc = apply_alert(p, lc, &r->alert, &err);
        }
        account(p, lc, &before);
        return settle(p, in, rc, &err, p->integration_name, fn, arg);
}

void ab_processor_flush_counts(struct ab_processor *p)
{
        if (p->pm)
                ab_metrics_add(p->pm->merged_duplicates, p->merged_unflushed);
        p->merged_unflushed = 0;
}

ab_err_t ab_processor_expire_store(struct ab_processor *p,
                                   struct ab_lifecycle *lc, int64_t now_ms,
                                   ab_output_fn fn, void *arg)
{
        struct ab_lifecycle_stats before;
        ab_err_t rc;

        ab_lifecycle_get_stats(lc, &before);
        begin(p, fn, arg, AB_TRACE_NONE);
        rc = ab_lifecycle_expire(lc, now_ms, emit, p);
        account(p, lc, &before);
        return rc;
}

void ab_input_from_record_value(struct ab_input *in,
                                const struct ab_record *rec)
{
        in->topic        = ab_record_topic(rec);
        in->partition    = ab_record_partition(rec);
        in->offset       = ab_record_offset(rec);
        in->timestamp_ms = ab_record_timestamp(rec);
        in->key          = ab_record_key(rec);
        in->value        = ab_record_value(rec);
        in->integration  = AB_STR_NULL;
        in->trace        = AB_TRACE_NONE;
}

void ab_input_from_record(struct ab_input *in, const struct ab_record *rec,
                          const char *integration_header)
{
        const struct ab_record_headers *h = ab_record_headers(rec);

        ab_input_from_record_value(in, rec);
        in->integration = ab_record_headers_get(h, integration_header);
        in->trace       = ab_record_headers_trace(h);
}
