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

struct ab_str ab_alert_label(const struct ab_alert *a, struct ab_str key)
{
        size_t lo = 0, hi = a->nlabels;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c      = ab_str_cmp(a->labels[mid].key, key);
                if (c == 0)
                        return a->labels[mid].val;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return AB_STR_NULL;
}
