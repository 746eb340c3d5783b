/* metrics.c - a Prometheus metrics registry. */
#include "service/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

/*
 * A series is one allocation: its label values and, for a histogram, one
 * counter per bucket plus the +Inf overflow bucket. Bucket counters are
 * not cumulative; rendering adds them up. The histogram sum is a double
 * kept as its bit pattern in an atomic 64-bit word and updated with a
 * compare-and-swap loop.
 */
struct ab_metric {
        struct ab_metric *next;
        struct ab_metrics_family *fam;
        char *values[AB_METRICS_MAX_LABELS];
        _Atomic int64_t value; /* counter, gauge; histogram: observations */
        _Atomic uint64_t sum_bits;
        _Atomic uint64_t counts[]; /* histogram: nbuckets + 1 */
};

struct ab_metrics_family {
        struct ab_metrics_family *next;
        struct ab_metrics *reg;
        enum ab_metrics_type type;
        char *name; /* with the prefix */
        char *help;
        size_t nlabels;
        char *labels[AB_METRICS_MAX_LABELS];
        size_t nbuckets;
        double buckets[AB_METRICS_MAX_BUCKETS];
        struct ab_metric *series;
        struct ab_metric **series_tail;
};

struct collector {
        struct collector *next;
        ab_metrics_collect_fn fn;
        void *arg;
};

struct ab_metrics {
        pthread_mutex_t lock; /* guards the lists, not the values */
        struct ab_metrics_family *families;
        struct ab_metrics_family **families_tail;
        struct collector *collectors, **collectors_tail;
};

static const char *const type_names[] = {"counter", "gauge", "histogram"};

/* ---- registration ---- */

struct ab_metrics *ab_metrics_new(void)
{
        struct ab_metrics *reg = ab_calloc(1, sizeof(*reg));

        if (!reg)
                return NULL;
        pthread_mutex_init(&reg->lock, NULL);
        reg->families_tail   = &reg->families;
        reg->collectors_tail = &reg->collectors;
        return reg;
}

static void series_free(struct ab_metric *m)
{
        for (size_t i = 0; i < AB_METRICS_MAX_LABELS; i++)
                ab_free(m->values[i]);
        ab_free(m);
}

static void family_free(struct ab_metrics_family *fam)
{
        struct ab_metric *m = fam->series;

        while (m) {
                struct ab_metric *next = m->next;
                series_free(m);
                m = next;
        }
        for (size_t i = 0; i < fam->nlabels; i++)
                ab_free(fam->labels[i]);
        ab_free(fam->name);
        ab_free(fam->help);
        ab_free(fam);
}

void ab_metrics_destroy(struct ab_metrics *reg)
{
        struct ab_metrics_family *fam;

        if (!reg)
                return;
        fam = reg->families;
        while (fam) {
                struct ab_metrics_family *next = fam->next;
                family_free(fam);
                fam = next;
        }
        while (reg->collectors) {
                struct collector *next = reg->collectors->next;
                ab_free(reg->collectors);
                reg->collectors = next;
        }
        pthread_mutex_destroy(&reg->lock);
        ab_free(reg);
}

static bool name_char(char c, bool first, bool colon)
{
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
                return true;
        if (colon && c == ':')
                return true;
        return !first && c >= '0' && c <= '9';
}

/* Metric names allow ':', label names do not. */
static bool valid_name(const char *s, bool colon)
{
        if (!s || !*s)
                return false;
        for (size_t i = 0; s[i]; i++) {
                if (!name_char(s[i], i == 0, colon))
                        return false;
        }
        return true;
}

static ab_err_t check_desc(const struct ab_metrics *reg,
                           const struct ab_metrics_desc *d,
                           struct ab_error *err)
{
        const char *name = d->name ? d->name : "";
        size_t n         = 0;

        if ((unsigned)d->type > AB_METRICS_HISTOGRAM)
                return ab_error_set(err, AB_ERR_INTERNAL, name,
                                    "unknown metric type %d", (int)d->type);
        if (!valid_name(d->name, true))
                return ab_error_set(err, AB_ERR_INTERNAL, name,
                                    "invalid metric name");
        if (!d->help)
                return ab_error_set(err, AB_ERR_INTERNAL, name,
                                    "metric has no help text");
        for (const struct ab_metrics_family *f = reg->families; f;
             f                                 = f->next) {
                if (!strcmp(f->name + strlen(AB_METRICS_PREFIX), name))
                        return ab_error_set(err, AB_ERR_INTERNAL, name,
                                            "metric already registered");
        }
        for (; d->labels && d->labels[n]; n++) {
                const char *l = d->labels[n];

                if (n == AB_METRICS_MAX_LABELS)
                        return ab_error_set(err, AB_ERR_INTERNAL, name,
                                            "more than %d labels",
                                            AB_METRICS_MAX_LABELS);
                if (!valid_name(l, false) || !strncmp(l, "__", 2) ||
                    (d->type == AB_METRICS_HISTOGRAM && !strcmp(l, "le")))
                        return ab_error_set(err, AB_ERR_INTERNAL, name,
                                            "invalid label name \"%s\"", l);
                for (size_t j = 0; j < n; j++) {
                        if (!strcmp(d->labels[j], l))
                                return ab_error_set(err, AB_ERR_INTERNAL, name,
                                                    "duplicate label \"%s\"",
                                                    l);
                }
        }
        if (d->type != AB_METRICS_HISTOGRAM)
                return AB_OK;
        if (d->nbuckets == 0 || d->nbuckets > AB_METRICS_MAX_BUCKETS ||
            !d->buckets)
                return ab_error_set(err, AB_ERR_INTERNAL, name,
                                    "a histogram needs 1 to %d buckets",
                                    AB_METRICS_MAX_BUCKETS);
        for (size_t i = 0; i < d->nbuckets; i++) {
                if (!isfinite(d->buckets[i]) ||
                    (i > 0 && !(d->buckets[i] > d->buckets[i - 1])))
                        return ab_error_set(err, AB_ERR_INTERNAL, name,
                                            "buckets must be finite and "
                                            "strictly ascending");
        }
        return AB_OK;
}

/* Called with the registry's mutex held. */
static ab_err_t series_new(struct ab_metrics_family *fam,
                           const char *const *values, struct ab_metric **out,
                           struct ab_error *err)
{
        size_t ncounts =
            fam->type == AB_METRICS_HISTOGRAM ? fam->nbuckets + 1 : 0;
        struct ab_metric *m =
            ab_calloc(1, sizeof(*m) + ncounts * sizeof(m->counts[0]));

        if (!m)
                goto nomem;
        m->fam = fam;
        atomic_init(&m->value, 0);
        atomic_init(&m->sum_bits, 0); /* +0.0 */
        for (size_t i = 0; i < ncounts; i++)
                atomic_init(&m->counts[i], 0);
        for (size_t i = 0; i < fam->nlabels; i++) {
                m->values[i] = ab_strdup(values[i]);
                if (!m->values[i])
                        goto nomem;
        }
        *fam->series_tail = m;
        fam->series_tail  = &m->next;
        *out              = m;
        return AB_OK;
nomem:
        if (m)
                series_free(m);
        return ab_error_set(err, AB_ERR_NOMEM, fam->name,
                            "cannot allocate a series");
}

static struct ab_metric *series_find(const struct ab_metrics_family *fam,
                                     const char *const *values)
{
        for (struct ab_metric *m = fam->series; m; m = m->next) {
                size_t i = 0;

                while (i < fam->nlabels && !strcmp(m->values[i], values[i]))
                        i++;
                if (i == fam->nlabels)
                        return m;
        }
        return NULL;
}

ab_err_t ab_metrics_register(struct ab_metrics *reg,
                             const struct ab_metrics_desc *desc,
                             struct ab_metrics_family **out,
                             struct ab_error *err)
{
        struct ab_metrics_family *fam = NULL;
        struct ab_metric *unused;
        ab_err_t rc;
        size_t namelen;

        pthread_mutex_lock(&reg->lock);
        rc = check_desc(reg, desc, err);
        if (rc)
                goto out;
        rc  = AB_ERR_NOMEM;
        fam = ab_calloc(1, sizeof(*fam));
        if (!fam)
                goto out;
        fam->reg         = reg;
        fam->type        = desc->type;
        fam->series_tail = &fam->series;
        namelen          = strlen(AB_METRICS_PREFIX) + strlen(desc->name);
        fam->name        = ab_malloc(namelen + 1);
        fam->help        = ab_strdup(desc->help);
        if (!fam->name || !fam->help)
                goto out;
        snprintf(fam->name, namelen + 1, "%s%s", AB_METRICS_PREFIX, desc->name);
        for (; desc->labels && desc->labels[fam->nlabels]; fam->nlabels++) {
                fam->labels[fam->nlabels] =
                    ab_strdup(desc->labels[fam->nlabels]);
                if (!fam->labels[fam->nlabels])
                        goto out;
        }
        if (fam->type == AB_METRICS_HISTOGRAM) {
                fam->nbuckets = desc->nbuckets;
                memcpy(fam->buckets, desc->buckets,
                       desc->nbuckets * sizeof(double));
        }
        if (fam->nlabels == 0) {
                rc = series_new(fam, NULL, &unused, err);
                if (rc)
                        goto out;
        }
        *reg->families_tail = fam;
        reg->families_tail  = &fam->next;
        if (out)
                *out = fam;
        fam = NULL;
        rc  = AB_OK;
out:
        pthread_mutex_unlock(&reg->lock);
        if (fam)
                family_free(fam);
        if (rc == AB_ERR_NOMEM)
                ab_error_set(err, rc, desc->name, "cannot register metric");
        return rc;
}

ab_err_t ab_metrics_series(struct ab_metrics_family *fam,
                           const char *const *values, struct ab_metric **out,
                           struct ab_error *err)
{
        ab_err_t rc = AB_OK;

        pthread_mutex_lock(&fam->reg->lock);
        *out = series_find(fam, values);
        if (!*out)
                rc = series_new(fam, values, out, err);
        pthread_mutex_unlock(&fam->reg->lock);
        return rc;
}

ab_err_t ab_metrics_register_one(struct ab_metrics *reg,
                                 const struct ab_metrics_desc *desc,
                                 struct ab_metric **out, struct ab_error *err)
{
        struct ab_metrics_family *fam;
        ab_err_t rc;

        if (desc->labels && desc->labels[0])
                return ab_error_set(err, AB_ERR_INTERNAL, desc->name,
                                    "a labelled family has no single series");
        rc = ab_metrics_register(reg, desc, &fam, err);
        if (rc)
                return rc;
        return ab_metrics_series(fam, NULL, out, err);
}

ab_err_t ab_metrics_add_collector(struct ab_metrics *reg,
                                  ab_metrics_collect_fn fn, void *arg,
                                  struct ab_error *err)
{
        struct collector *c = ab_calloc(1, sizeof(*c));

        if (!c)
                return ab_error_set(err, AB_ERR_NOMEM, NULL,
                                    "cannot add a metrics collector");
        c->fn  = fn;
        c->arg = arg;
        pthread_mutex_lock(&reg->lock);
        *reg->collectors_tail = c;
        reg->collectors_tail  = &c->next;
        pthread_mutex_unlock(&reg->lock);
        return AB_OK;
}

/* ---- updates ---- */

void ab_metrics_inc(struct ab_metric *m)
{
        if (m)
                atomic_fetch_add_explicit(&m->value, 1, memory_order_relaxed);
}

void ab_metrics_add(struct ab_metric *m, uint64_t n)
{
        /* Callers add deltas that are mostly 0; a locked add is not free. */
        if (m && n)
                atomic_fetch_add_explicit(&m->value, (int64_t)n,
                                          memory_order_relaxed);
}

void ab_metrics_set(struct ab_metric *m, int64_t v)
{
        if (m)
                atomic_store_explicit(&m->value, v, memory_order_relaxed);
}

void ab_metrics_gauge_add(struct ab_metric *m, int64_t delta)
{
        if (m)
                atomic_fetch_add_explicit(&m->value, delta,
                                          memory_order_relaxed);
}

static void add_sum(struct ab_metric *m, double v)
{
        uint64_t old, next;

        old = atomic_load_explicit(&m->sum_bits, memory_order_relaxed);
        do {
                double sum;

                memcpy(&sum, &old, sizeof(sum));
                sum += v;
                memcpy(&next, &sum, sizeof(next));
        } while (!atomic_compare_exchange_weak_explicit(
            &m->sum_bits, &old, next, memory_order_relaxed,
            memory_order_relaxed));
}

void ab_metrics_observe(struct ab_metric *m, double v)
{
        const struct ab_metrics_family *fam;
        size_t i = 0;

        if (!m || isnan(v))
                return;
        fam = m->fam;
        while (i < fam->nbuckets && v > fam->buckets[i])
                i++;
        atomic_fetch_add_explicit(&m->counts[i], 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&m->value, 1, memory_order_relaxed);
        add_sum(m, v);
}

void ab_metrics_tally_init(struct ab_metrics_tally *t, struct ab_metric *m)
{
        memset(t, 0, sizeof(*t));
        if (!m || m->fam->type != AB_METRICS_HISTOGRAM)
                return;
        t->m        = m;
        t->buckets  = m->fam->buckets;
        t->nbuckets = m->fam->nbuckets;
}

void ab_metrics_tally_observe(struct ab_metrics_tally *t, double v)
{
        size_t i = 0;

        if (!t->m || isnan(v))
                return;
        while (i < t->nbuckets && v > t->buckets[i])
                i++;
        t->counts[i]++;
        t->n++;
        t->sum += v;
}

void ab_metrics_tally_flush(struct ab_metrics_tally *t)
{
        if (!t->n)
                return;
        for (size_t i = 0; i <= t->nbuckets; i++) {
                if (!t->counts[i])
                        continue;
                atomic_fetch_add_explicit(&t->m->counts[i], t->counts[i],
                                          memory_order_relaxed);
                t->counts[i] = 0;
        }
        atomic_fetch_add_explicit(&t->m->value, (int64_t)t->n,
                                  memory_order_relaxed);
        add_sum(t->m, t->sum);
        t->n   = 0;
        t->sum = 0;
}

int64_t ab_metrics_value(const struct ab_metric *m)
{
        if (!m)
                return 0;
        return atomic_load_explicit(&m->value, memory_order_relaxed);
}

/* ---- rendering ---- */

/* Shortest of %.15g and %.17g that reads back as the same double. */
static void format_double(char *out, size_t size, double v)
{
        if (isnan(v)) {
                snprintf(out, size, "NaN");
                return;
        }
        if (isinf(v)) {
                snprintf(out, size, "%s", v > 0 ? "+Inf" : "-Inf");
                return;
        }
        snprintf(out, size, "%.15g", v);
        if (strtod(out, NULL) != v)
                snprintf(out, size, "%.17g", v);
}

/* HELP text escapes backslash and newline; label values also '"'. */
static ab_err_t append_escaped(struct ab_buf *out, const char *s, bool quote)
{
        ab_err_t rc = AB_OK;

        for (; *s && !rc; s++) {
                if (*s == '\\')
                        rc = ab_buf_append(out, "\\\\", 2);
                else if (*s == '\n')
                        rc = ab_buf_append(out, "\\n", 2);
                else if (quote && *s == '"')
                        rc = ab_buf_append(out, "\\\"", 2);
                else
                        rc = ab_buf_append_char(out, *s);
        }
        return rc;
}

/* `name{a="x",le="0.5"} ` with \p le NULL for no bucket label. */
static ab_err_t append_series_name(struct ab_buf *out,
                                   const struct ab_metric *m,
                                   const char *suffix, const char *le)
{
        const struct ab_metrics_family *fam = m->fam;
        ab_err_t rc;

        rc = ab_buf_appendf(out, "%s%s", fam->name, suffix);
        if (rc || (fam->nlabels == 0 && !le))
                goto out;
        rc = ab_buf_append_char(out, '{');
        for (size_t i = 0; i < fam->nlabels && !rc; i++) {
                rc = ab_buf_appendf(out, "%s%s=\"", i ? "," : "",
                                    fam->labels[i]);
                if (!rc)
                        rc = append_escaped(out, m->values[i], true);
                if (!rc)
                        rc = ab_buf_append_char(out, '"');
        }
        if (!rc && le)
                rc = ab_buf_appendf(out, "%sle=\"%s\"", fam->nlabels ? "," : "",
                                    le);
        if (!rc)
                rc = ab_buf_append_char(out, '}');
out:
        if (!rc)
                rc = ab_buf_append_char(out, ' ');
        return rc;
}

/*
 * The bucket counters are read one by one while other threads add to
 * them, so the total is computed from the values read: `_count` always
 * equals the +Inf bucket and the buckets are always monotonic. `_sum` is
 * read separately and may include an observation the buckets miss.
 */
static ab_err_t render_histogram(struct ab_buf *out, const struct ab_metric *m)
{
        const struct ab_metrics_family *fam = m->fam;
        uint64_t total                      = 0;
        uint64_t bits;
        double sum;
        char num[40];
        ab_err_t rc = AB_OK;

        for (size_t i = 0; i <= fam->nbuckets && !rc; i++) {
                total +=
                    atomic_load_explicit(&m->counts[i], memory_order_relaxed);
                if (i < fam->nbuckets)
                        format_double(num, sizeof(num), fam->buckets[i]);
                else
                        snprintf(num, sizeof(num), "+Inf");
                rc = append_series_name(out, m, "_bucket", num);
                if (!rc)
                        rc = ab_buf_appendf(out, "%llu\n",
                                            (unsigned long long)total);
        }
        bits = atomic_load_explicit(&m->sum_bits, memory_order_relaxed);
        memcpy(&sum, &bits, sizeof(sum));
        format_double(num, sizeof(num), sum);
        if (!rc)
                rc = append_series_name(out, m, "_sum", NULL);
        if (!rc)
                rc = ab_buf_appendf(out, "%s\n", num);
        if (!rc)
                rc = append_series_name(out, m, "_count", NULL);
        if (!rc)
                rc = ab_buf_appendf(out, "%llu\n", (unsigned long long)total);
        return rc;
}

static ab_err_t render_family(struct ab_buf *out,
                              const struct ab_metrics_family *fam)
{
        ab_err_t rc;

        rc = ab_buf_appendf(out, "# HELP %s ", fam->name);
        if (!rc)
                rc = append_escaped(out, fam->help, false);
        if (!rc)
                rc = ab_buf_appendf(out, "\n# TYPE %s %s\n", fam->name,
                                    type_names[fam->type]);
        for (const struct ab_metric *m = fam->series; m && !rc; m = m->next) {
                if (fam->type == AB_METRICS_HISTOGRAM) {
                        rc = render_histogram(out, m);
                        continue;
                }
                rc = append_series_name(out, m, "", NULL);
                if (!rc)
                        rc = ab_buf_appendf(
                            out, "%lld\n",
                            (long long)atomic_load_explicit(
                                &m->value, memory_order_relaxed));
        }
        return rc;
}

ab_err_t ab_metrics_render(struct ab_metrics *reg, struct ab_buf *out)
{
        ab_err_t rc = AB_OK;

        pthread_mutex_lock(&reg->lock);
        for (const struct ab_metrics_family *fam = reg->families; fam && !rc;
             fam                                 = fam->next)
                rc = render_family(out, fam);
        for (const struct collector *c = reg->collectors; c && !rc; c = c->next)
                rc = c->fn(c->arg, out);
        pthread_mutex_unlock(&reg->lock);
        return rc;
}
