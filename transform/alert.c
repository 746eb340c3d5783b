/* alert.c - alert field names and label lookup. */
#include "transform/alert.h"

#include <string.h>

static const struct ab_str field_keys[] = {
#define AB__FIELD_KEY(id, name, kind) {name, sizeof(name) - 1},
    AB_ALERT_FIELD_MAP(AB__FIELD_KEY)
#undef AB__FIELD_KEY
};

static const enum ab_field_kind field_kinds[] = {
#define AB__FIELD_KIND(id, name, kind) AB_FIELD_KIND_##kind,
    AB_ALERT_FIELD_MAP(AB__FIELD_KIND)
#undef AB__FIELD_KIND
};

const char *ab_alert_field_name(enum ab_alert_field f)
{
        return field_keys[f].ptr;
}

struct ab_str ab_alert_field_key(enum ab_alert_field f)
{
        return field_keys[f];
}

enum ab_field_kind ab_alert_field_kind(enum ab_alert_field f)
{
        return field_kinds[f];
}

int ab_alert_field_lookup(const char *name, size_t len)
{
        for (int f = 0; f < AB_FIELD__COUNT; f++)
                if (field_keys[f].len == len &&
                    !memcmp(field_keys[f].ptr, name, len))
                        return f;
        return -1;
}

/* Order of two keys as ab_str_cmp() has it; the first bytes decide most
 * comparisons without a call to memcmp(). */
static inline int key_cmp(struct ab_str a, struct ab_str b)
{
        if (a.len && b.len && *a.ptr != *b.ptr)
                return (unsigned char)*a.ptr < (unsigned char)*b.ptr ? -1 : 1;
        return ab_str_cmp(a, b);
}

/* The index of the entry named \p key in \p kv (sorted by key, keys
 * unique), or -1. */
static long kv_find(const struct ab_kv *kv, size_t n, struct ab_str key)
{
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c      = key_cmp(kv[mid].key, key);

                if (!c)
                        return (long)mid;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return -1;
}

struct ab_str ab_alert_label(const struct ab_alert *a, struct ab_str key)
{
        long i = kv_find(a->labels, a->nlabels, key);

        return i < 0 ? AB_STR_NULL : a->labels[i].val;
}

size_t ab_alert_field_ref(const struct ab_alert *a, enum ab_alert_field f)
{
        const struct ab_kv *kv;
        size_t n;
        long i;

        switch (field_kinds[f]) {
        case AB_FIELD_KIND_LABEL:
                kv = a->labels;
                n  = a->nlabels;
                break;
        case AB_FIELD_KIND_ANNOTATION:
                kv = a->annotations;
                n  = a->nannotations;
                break;
        default:
                return 0;
        }
        if (!a->field[f].ptr)
                return 0;
        i = kv_find(kv, n, field_keys[f]);
        return i >= 0 && kv[i].val.ptr && ab_str_eq(kv[i].val, a->field[f])
                   ? (size_t)i + 1
                   : 0;
}
