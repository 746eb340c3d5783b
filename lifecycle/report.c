/* report.c - the deduplication report: groups inputs and events by fingerprint
 * and renders them as text. */
#include "lifecycle/report.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/mem.h"
#include "lifecycle/lifecycle.h"
#include "lifecycle/lifecycle_int.h"

#define RP_KEY_MAX 240 /* bytes of a group's key summary */

struct rp_input {
        size_t input;
        uint32_t elem;
        bool multi; /* the input had several alerts */
};

struct rp_group {
        char fp[AB_EVENT_ID_LEN + 1];
        char *key;           /* owned: "check=\"cpu\", source=..." */
        struct rp_input *in; /* owned, at most AB_LIFECYCLE_REPORT_KEEP */
        size_t nin;          /* all inputs, listed or not */
        uint8_t *ev;         /* owned event types, at most ..._KEEP */
        size_t nev;
};

struct ab_lifecycle_report {
        struct rp_group *g; /* owned, in order of first appearance */
        size_t n;
        size_t cap;
        uint32_t *slot; /* owned hash of fingerprints: group index + 1 */
        size_t scap;    /* 0 or a power of two */
        size_t inputs;  /* distinct input records */
        size_t last_input;
        size_t alerts;
        size_t events;
};

struct ab_lifecycle_report *ab_lifecycle_report_new(void)
{
        return ab_calloc(1, sizeof(struct ab_lifecycle_report));
}

void ab_lifecycle_report_destroy(struct ab_lifecycle_report *r)
{
        size_t i;

        if (!r)
                return;
        for (i = 0; i < r->n; i++) {
                ab_free(r->g[i].key);
                ab_free(r->g[i].in);
                ab_free(r->g[i].ev);
        }
        ab_free(r->g);
        ab_free(r->slot);
        ab_free(r);
}

static size_t fp_hash(const char *fp)
{
        uint64_t h = 14695981039346656037ull;

        for (; *fp; fp++)
                h = (h ^ (unsigned char)*fp) * 1099511628211ull;
        return (size_t)h;
}

static size_t slot_of(const struct ab_lifecycle_report *r, const char *fp)
{
        size_t mask = r->scap - 1;
        size_t i    = fp_hash(fp) & mask;

        while (r->slot[i] && strcmp(r->g[r->slot[i] - 1].fp, fp))
                i = (i + 1) & mask;
        return i;
}

static ab_err_t slots_grow(struct ab_lifecycle_report *r)
{
        uint32_t *old = r->slot;
        size_t oldcap = r->scap, i;

        r->scap = r->scap ? r->scap * 2 : 64;
        r->slot = ab_calloc(r->scap, sizeof(*r->slot));
        if (!r->slot) {
                r->slot = old;
                r->scap = oldcap;
                return AB_ERR_NOMEM;
        }
        for (i = 0; i < oldcap; i++)
                if (old[i])
                        r->slot[slot_of(r, r->g[old[i] - 1].fp)] = old[i];
        ab_free(old);
        return AB_OK;
}

size_t ab_lifecycle_report_groups(const struct ab_lifecycle_report *r)
{
        return r->n;
}

bool ab_lifecycle_report_has(const struct ab_lifecycle_report *r,
                             const char *fp)
{
        return r->scap && r->slot[slot_of(r, fp)];
}

/* The group of \p fp, created when new; NULL when out of memory. */
static struct rp_group *group_get(struct ab_lifecycle_report *r, const char *fp)
{
        struct rp_group *g;
        size_t i;

        if ((r->n + 1) > r->scap / 4 * 3 && slots_grow(r))
                return NULL;
        i = slot_of(r, fp);
        if (r->slot[i])
                return &r->g[r->slot[i] - 1];
        if (r->n == UINT32_MAX - 1)
                return NULL;
        if (r->n == r->cap) {
                size_t cap = r->cap ? r->cap * 2 : 16;

                g = ab_realloc(r->g, cap * sizeof(*g));
                if (!g)
                        return NULL;
                r->g   = g;
                r->cap = cap;
        }
        g = &r->g[r->n];
        memset(g, 0, sizeof(*g));
        snprintf(g->fp, sizeof(g->fp), "%s", fp);
        r->slot[i] = (uint32_t)++r->n;
        return g;
}

/* Append `name=<JSON string or (absent)>` to \p b. */
static ab_err_t key_pair(struct ab_buf *b, struct ab_str name,
                         struct ab_str val)
{
        ab_err_t rc = AB_OK;

        if (b->len)
                rc = ab_buf_append(b, ", ", 2);
        if (!rc)
                rc = ab_buf_append(b, name.ptr, name.len);
        if (!rc)
                rc = ab_buf_append_char(b, '=');
        if (!rc)
                rc = val.ptr ? ab_buf_append_json_str(b, val.ptr, val.len)
                             : ab_buf_append_str(b, "(absent)");
        return rc;
}

/* The values the fingerprint was computed from, in the same order. */
static char *key_summary(const struct ab_integration *integ,
                         const struct ab_alert *a)
{
        const char *const *names;
        const char *name;
        struct ab_buf b;
        size_t n, i;
        ab_err_t rc = AB_OK;

        ab_buf_init(&b, 0);
        names = ab_integration_dedup_fields(integ, &n);
        if (!n || !names) {
                for (i = 0; !rc && i < a->nlabels && b.len < RP_KEY_MAX; i++)
                        rc = key_pair(&b, a->labels[i].key, a->labels[i].val);
        }
        for (name = names ? ab_lifecycle_dedup_next(names, n, NULL) : NULL;
             !rc && name && b.len < RP_KEY_MAX;
             name = ab_lifecycle_dedup_next(names, n, name))
                rc = key_pair(&b, ab_str_c(name),
                              ab_lifecycle_dedup_value(a, name));
        if (!rc && b.len > RP_KEY_MAX) {
                size_t cut = RP_KEY_MAX;

                while (cut && ((unsigned char)b.data[cut] & 0xc0) == 0x80)
                        cut--;
                ab_buf_truncate(&b, cut);
                rc = ab_buf_append_str(&b, "...");
        }
        if (!rc && !b.len)
                rc = ab_buf_append_str(&b, "(no labels)");
        if (rc) {
                ab_buf_fini(&b);
                return NULL;
        }
        return ab_buf_take(&b, &n);
}

ab_err_t ab_lifecycle_report_input(struct ab_lifecycle_report *r,
                                   const struct ab_integration *integ,
                                   const struct ab_alert *a, const char *fp,
                                   size_t input, size_t nalerts)
{
        struct rp_group *g;

        g = group_get(r, fp);
        if (!g)
                return AB_ERR_NOMEM;
        if (!g->key) {
                g->key = key_summary(integ, a);
                if (!g->key)
                        return AB_ERR_NOMEM;
        }
        if (!g->in) {
                g->in = ab_calloc(AB_LIFECYCLE_REPORT_KEEP, sizeof(*g->in));
                if (!g->in)
                        return AB_ERR_NOMEM;
        }
        if (g->nin < AB_LIFECYCLE_REPORT_KEEP) {
                g->in[g->nin].input = input;
                g->in[g->nin].elem  = a->index;
                g->in[g->nin].multi = nalerts > 1;
        }
        g->nin++;
        if (!r->alerts || input != r->last_input)
                r->inputs++;
        r->last_input = input;
        r->alerts++;
        return AB_OK;
}

ab_err_t ab_lifecycle_report_event(struct ab_lifecycle_report *r,
                                   const struct ab_event *ev)
{
        struct rp_group *g;

        g = group_get(r, ev->fingerprint);
        if (!g)
                return AB_ERR_NOMEM;
        if (!g->ev) {
                g->ev = ab_malloc(AB_LIFECYCLE_REPORT_KEEP);
                if (!g->ev)
                        return AB_ERR_NOMEM;
        }
        if (g->nev < AB_LIFECYCLE_REPORT_KEEP)
                g->ev[g->nev] = (uint8_t)ev->type;
        g->nev++;
        r->events++;
        return AB_OK;
}

static ab_err_t render_group(const struct rp_group *g, size_t no,
                             struct ab_buf *out)
{
        size_t i;
        ab_err_t rc;

        rc = ab_buf_appendf(out, "group %zu fingerprint %s (%s)\n", no, g->fp,
                            g->key ? g->key : "no input");
        if (!rc)
                rc = ab_buf_appendf(out, "  inputs (%zu):", g->nin);
        for (i = 0; !rc && i < g->nin && i < AB_LIFECYCLE_REPORT_KEEP; i++) {
                const struct rp_input *in = &g->in[i];

                rc = in->multi ? ab_buf_appendf(out, "%s %zu[%u]", i ? "," : "",
                                                in->input, (unsigned)in->elem)
                               : ab_buf_appendf(out, "%s %zu", i ? "," : "",
                                                in->input);
        }
        if (!rc && g->nin > AB_LIFECYCLE_REPORT_KEEP)
                rc = ab_buf_appendf(out, ", ... (%zu more)",
                                    g->nin - AB_LIFECYCLE_REPORT_KEEP);
        if (!rc)
                rc = ab_buf_appendf(out, "\n  events (%zu):", g->nev);
        for (i = 0; !rc && i < g->nev && i < AB_LIFECYCLE_REPORT_KEEP; i++)
                rc = ab_buf_appendf(
                    out, "%s %s", i ? "," : "",
                    ab_event_type_short((enum ab_event_type)g->ev[i]));
        if (!rc && g->nev > AB_LIFECYCLE_REPORT_KEEP)
                rc = ab_buf_appendf(out, ", ... (%zu more)",
                                    g->nev - AB_LIFECYCLE_REPORT_KEEP);
        if (!rc)
                rc = ab_buf_append_char(out, '\n');
        return rc;
}

ab_err_t ab_lifecycle_report_render(const struct ab_lifecycle_report *r,
                                    struct ab_buf *out)
{
        size_t i;
        ab_err_t rc;

        rc = ab_buf_appendf(out,
                            "dedup report: %zu alerts from %zu inputs in %zu "
                            "groups, %zu events\n",
                            r->alerts, r->inputs, r->n, r->events);
        for (i = 0; !rc && i < r->n; i++)
                rc = render_group(&r->g[i], i + 1, out);
        return rc;
}

ab_err_t ab_lifecycle_report_write(const struct ab_lifecycle_report *r,
                                   FILE *out)
{
        struct ab_buf b;
        ab_err_t rc;

        ab_buf_init(&b, 0);
        rc = ab_lifecycle_report_render(r, &b);
        if (!rc && b.len && fwrite(b.data, 1, b.len, out) != b.len)
                rc = AB_ERR_IO;
        ab_buf_fini(&b);
        return rc;
}
