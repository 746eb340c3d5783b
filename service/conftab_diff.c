/* conftab_diff.c - which keys differ between two objects loaded with one
 * descriptor table. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/conf_path.h"
#include "service/conftab.h"
#include "service/conftab_int.h"

static const void *at(const void *obj, size_t offset)
{
        return (const char *)obj + offset;
}

static bool str_eq(const char *a, const char *b)
{
        return a == b || (a && b && !strcmp(a, b));
}

static size_t count_of(const struct ab_conftab_prop *p, const void *obj)
{
        return *(const size_t *)at(obj, p->count_offset);
}

/* Whether the scalar, list or map \p p holds the same value in both. */
static bool same_value(const struct ab_conftab_prop *p, const void *a,
                       const void *b)
{
        const void *fa = at(a, p->offset), *fb = at(b, p->offset);
        size_t n;

        switch (p->type) {
        case AB_CONFTAB_STRING:
                return str_eq(*(char *const *)fa, *(char *const *)fb);
        case AB_CONFTAB_INT:
        case AB_CONFTAB_DURATION:
        case AB_CONFTAB_SIZE:
                return *(const int64_t *)fa == *(const int64_t *)fb;
        case AB_CONFTAB_BOOL:
                return *(const bool *)fa == *(const bool *)fb;
        case AB_CONFTAB_ENUM:
                return *(const int *)fa == *(const int *)fb;
        case AB_CONFTAB_LIST:
                if (p->names)
                        return *(const unsigned *)fa == *(const unsigned *)fb;
                n = count_of(p, a);
                if (n != count_of(p, b))
                        return false;
                for (size_t i = 0; i < n; i++)
                        if (!str_eq((*(char **const *)fa)[i],
                                    (*(char **const *)fb)[i]))
                                return false;
                return true;
        case AB_CONFTAB_MAP: {
                const struct ab_pipeline_kv *ka =
                    *(struct ab_pipeline_kv *const *)fa;
                const struct ab_pipeline_kv *kb =
                    *(struct ab_pipeline_kv *const *)fb;

                n = count_of(p, a);
                if (n != count_of(p, b))
                        return false;
                for (size_t i = 0; i < n; i++)
                        if (!str_eq(ka[i].key, kb[i].key) ||
                            !str_eq(ka[i].value, kb[i].value))
                                return false;
                return true;
        }
        default:
                return false;
        }
}

ab_err_t ab_conftab_diff(const struct ab_conftab *table, const void *a,
                         const void *b, const char *path, ab_conftab_diff_fn fn,
                         void *arg)
{
        struct ab_conftab_flat f;
        char sub[AB_CONFTAB_PATH_SIZE], elem[AB_CONFTAB_PATH_SIZE];
        ab_err_t rc = AB_OK;

        if (!ab_conftab_flatten(table, &f))
                return AB_ERR_INTERNAL;
        for (size_t i = 0; i < f.t.nprops && !rc; i++) {
                const struct ab_conftab_prop *p = &f.props[i];
                const char *ia, *ib;
                size_t n;

                ab_conftab_prop_path(sub, sizeof(sub), path, p->key);
                if (p->type != AB_CONFTAB_OBJECTS) {
                        if (!same_value(p, a, b))
                                rc = fn(arg, sub);
                        continue;
                }
                n = count_of(p, a);
                if (n != count_of(p, b)) {
                        rc = fn(arg, sub);
                        continue;
                }
                memcpy(&ia, at(a, p->offset), sizeof(ia));
                memcpy(&ib, at(b, p->offset), sizeof(ib));
                for (size_t j = 0; j < n && !rc; j++) {
                        ab_conf_path_index(elem, sizeof(elem), sub, j);
                        rc = ab_conftab_diff(p->sub, ia + j * p->sub->size,
                                             ib + j * p->sub->size, elem, fn,
                                             arg);
                }
        }
        return rc;
}
