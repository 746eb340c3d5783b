/* integ_set.c - the integrations of one pipeline configuration and how a
 * reload replaces them. */
#include "pipeline/integ_set.h"

#include <jansson.h>
#include <stdbool.h>
#include <string.h>

#include "core/mem.h"

/* Room for \p n more integrations in \p s. */
static ab_err_t reserve(struct ab_integ_set *s, size_t n)
{
        size_t cap = s->capinteg ? s->capinteg : 8;
        struct ab_integration **v;

        if (s->ninteg + n <= s->capinteg)
                return AB_OK;
        while (cap < s->ninteg + n)
                cap *= 2;
        v = ab_realloc(s->integs, cap * sizeof(*v));
        if (!v)
                return AB_ERR_NOMEM;
        s->integs   = v;
        s->capinteg = cap;
        return AB_OK;
}

ab_err_t ab_integ_set_keep(struct ab_integ_set *s, struct ab_integration *integ)
{
        ab_err_t rc = reserve(s, 1);

        if (!rc)
                s->integs[s->ninteg++] = integ;
        return rc;
}

void ab_integ_set_fini(struct ab_integ_set *s)
{
        if (!s)
                return;
        for (size_t i = 0; i < s->ninteg; i++)
                ab_integration_destroy(s->integs[i]);
        ab_free(s->integs);
        ab_free(s->bindings);
        memset(s, 0, sizeof(*s));
}

ab_err_t ab_integ_set_load(struct ab_integ_set *s,
                           const struct ab_pipeline_config *cfg,
                           struct ab_error *err)
{
        size_t ntopics = 0;
        ab_err_t rc;

        for (size_t i = 0; i < cfg->ninputs; i++)
                ntopics += cfg->inputs[i].ntopics;
        s->bindings = ab_calloc(ntopics ? ntopics : 1, sizeof(*s->bindings));
        if (!s->bindings)
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        for (size_t i = 0; i < cfg->ninputs; i++) {
                const struct ab_pipeline_input *in = &cfg->inputs[i];
                struct ab_integration *integ       = NULL;

                if (in->integration) {
                        rc = ab_integration_load(in->integration, &integ, err);
                        if (rc)
                                return rc;
                        rc = ab_integ_set_keep(s, integ);
                        if (rc) {
                                ab_integration_destroy(integ);
                                return ab_error_set(err, rc, NULL,
                                                    "out of memory");
                        }
                }
                for (size_t t = 0; t < in->ntopics; t++) {
                        s->bindings[s->nbindings].topic = in->topics[t];
                        s->bindings[s->nbindings].integ = integ;
                        s->nbindings++;
                }
        }
        return AB_OK;
}

static size_t index_of(const struct ab_integ_set *s, const char *name)
{
        for (size_t i = 0; i < s->ninteg; i++)
                if (!strcmp(ab_integration_name(s->integs[i]), name))
                        return i;
        return (size_t)-1;
}

struct ab_integration *ab_integ_set_find(const struct ab_integ_set *s,
                                         const char *name)
{
        size_t i = index_of(s, name);

        return i == (size_t)-1 ? NULL : s->integs[i];
}

static bool bound(const struct ab_integ_set *s,
                  const struct ab_integration *integ)
{
        for (size_t i = 0; i < s->nbindings; i++)
                if (s->bindings[i].integ == integ)
                        return true;
        return false;
}

/* Put \p old in the place of next's integration \p j, which is freed. */
static void reuse(struct ab_integ_set *next, size_t j,
                  struct ab_integration *old)
{
        struct ab_integration *fresh = next->integs[j];

        for (size_t i = 0; i < next->nbindings; i++)
                if (next->bindings[i].integ == fresh)
                        next->bindings[i].integ = old;
        next->integs[j] = old;
        ab_integration_destroy(fresh);
}

ab_err_t ab_integ_set_swap(struct ab_integ_set *cur, struct ab_integ_set *next,
                           struct ab_integ_set *retired)
{
        /* Every allocation first: past this point nothing can fail. */
        if (reserve(next, cur->ninteg) || reserve(retired, cur->ninteg))
                return AB_ERR_NOMEM;
        for (size_t i = 0; i < cur->ninteg; i++) {
                struct ab_integration *old = cur->integs[i];
                size_t j = index_of(next, ab_integration_name(old));

                if (j != (size_t)-1 &&
                    json_equal(ab_integration_config(old),
                               ab_integration_config(next->integs[j])))
                        reuse(next, j, old);
                else if (j == (size_t)-1 && !bound(cur, old))
                        next->integs[next->ninteg++] = old;
                else
                        retired->integs[retired->ninteg++] = old;
        }
        ab_free(cur->integs);
        ab_free(cur->bindings);
        *cur = *next;
        memset(next, 0, sizeof(*next));
        return AB_OK;
}
