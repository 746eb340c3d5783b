/* conftab_int.h - what the loader and the reference share in conftab. */
#ifndef AB_CONFTAB_INT_H
#define AB_CONFTAB_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "service/conftab.h"

#define AB_CONFTAB_MAX_PROPS 64  /* per table, included tables counted */
#define AB_CONFTAB_KEY_SIZE  128 /* longest dotted key, with its NUL */

/*
 * A table with its TABLE entries replaced by the properties they include:
 * keys prefixed, offsets shifted, defaults overridden. The loader, the
 * destructor and the reference walk this form; it lives on their stack.
 */
struct ab_conftab_flat {
        struct ab_conftab t; /* points into props */
        struct ab_conftab_prop props[AB_CONFTAB_MAX_PROPS];
        char keys[AB_CONFTAB_MAX_PROPS][AB_CONFTAB_KEY_SIZE];
};

/**
 * Flatten \p t into \p f (included tables may include others).
 * @returns false when it has more than AB_CONFTAB_MAX_PROPS properties or
 *          a key longer than AB_CONFTAB_KEY_SIZE - 1.
 */
bool ab_conftab_flatten(const struct ab_conftab *t, struct ab_conftab_flat *f);

/** A bound (min or max) of \p p as written in a file: "30s", "64KiB", "5". */
void ab_conftab_format_bound(const struct ab_conftab_prop *p, long long v,
                             char *out, size_t size);

/** \p parent (NULL: the root) + a property's dotted \p key, one path
 * component per segment, into \p out. */
void ab_conftab_prop_path(char *out, size_t size, const char *parent,
                          const char *key);

#endif
