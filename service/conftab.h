/* conftab.h - config descriptor tables: load, check, free, document. */
#ifndef AB_CONFTAB_H
#define AB_CONFTAB_H

#include <jansson.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

/*
 * A table describes one C struct as configuration: each property names a
 * key by its dotted path relative to the object ("kafka.brokers" in the
 * root table, "when.severity" in a policy's table), its type, where the
 * value lands (offsetof) and how it is documented. Sections ("kafka",
 * "when") are not declared: a key of the file that is a strict prefix of
 * some property's path is a section and must hold a mapping. A list of
 * objects points to the table of its elements, and a TABLE entry includes
 * another table (one written once and shared, like the `kafka` block) as if
 * its properties were listed in place: keys prefixed with the entry's key
 * and a dot, fields relative to the entry's offset, defaults overridable
 * per include.
 *
 * The same table gives the defaults, the validation (unknown keys, types,
 * ranges, required keys; every error names the exact key path), the
 * destructor and the reference documentation.
 *
 * Storage, by type:
 *   STRING    char *, with ${ENV} expanded (core/conf.h); NULL when unset
 *   INT       int64_t
 *   BOOL      bool
 *   DURATION  int64_t milliseconds ("30s", "1h30m", or seconds)
 *   SIZE      int64_t bytes ("64MiB", or bytes)
 *   ENUM      an int-sized enum: the index of the value in `names`
 *   LIST      char ** and a size_t count at `count_offset`; with `names`,
 *             an unsigned bit mask instead (bit i: names[i])
 *   MAP       struct ab_pipeline_kv * and a size_t count; values may be
 *             written as strings, integers or booleans and are kept as text
 *   OBJECTS   an array of `sub->size`-byte elements and a size_t count
 *   TABLE     the struct `sub` describes (not a key of its own: `key` is
 *             the prefix of the included keys); `defaults` are NULL-
 *             terminated key, default pairs replacing the included
 *             properties' `def`
 */

/* One entry of a MAP property. */
struct ab_pipeline_kv {
        char *key;
        char *value;
};

enum ab_conftab_type {
        AB_CONFTAB_STRING,
        AB_CONFTAB_INT,
        AB_CONFTAB_BOOL,
        AB_CONFTAB_DURATION,
        AB_CONFTAB_SIZE,
        AB_CONFTAB_ENUM,
        AB_CONFTAB_LIST,
        AB_CONFTAB_MAP,
        AB_CONFTAB_OBJECTS,
        AB_CONFTAB_TABLE,
};

/* The key must be present (a null value counts as absent). */
#define AB_CONFTAB_REQUIRED 1u

struct ab_conftab;
struct ab_conftab_prop;

/**
 * A property's extra check, run after its value is stored in \p obj (it
 * may rewrite the value, e.g. resolve a path). \p ctx is the loader's.
 * @returns AB_OK, or an error naming \p path.
 */
typedef ab_err_t (*ab_conftab_check_fn)(const void *ctx,
                                        const struct ab_conftab_prop *p,
                                        void *obj, const char *path,
                                        struct ab_error *err);

/**
 * A check for a STRING property that becomes a CloudEvents `source`: when
 * set, a URI-reference (RFC 3986, core/uri.h), as the CloudEvents spec
 * requires; the error names the first byte that is not allowed.
 */
ab_err_t ab_conftab_check_uri_reference(const void *ctx,
                                        const struct ab_conftab_prop *p,
                                        void *obj, const char *path,
                                        struct ab_error *err);

/*
 * `min`/`max` bound the value of an INT, DURATION (ms) or SIZE (bytes),
 * the length of a STRING, and the number of entries of a LIST or OBJECTS.
 * `max` 0 means no upper bound. `def` is the default as written in a file
 * ("30s", "true", "100"); NULL means none (the field stays zero/NULL).
 * `count_offset` 0 means none: a count is never a struct's first field.
 */
struct ab_conftab_prop {
        const char *key;
        enum ab_conftab_type type;
        size_t offset;
        size_t count_offset;
        const char *def;
        long long min, max;
        unsigned flags;
        const char *const *names;     /* NULL-terminated: ENUM, LIST of names */
        const struct ab_conftab *sub; /* OBJECTS, TABLE */
        const char *const *defaults;  /* TABLE */
        ab_conftab_check_fn check;
        const char *desc;
};

struct ab_conftab {
        const struct ab_conftab_prop *props;
        size_t nprops;
        size_t size; /* of the struct, for lists of objects */
};

/* Longest key path in an error (the size of ab_error.path). */
#define AB_CONFTAB_PATH_SIZE sizeof(((struct ab_error *)0)->path)

/**
 * Fill \p obj (zeroed by the caller) from the mapping \p v: defaults first,
 * then the file's keys. \p path names \p v in errors (NULL at the root);
 * \p ctx is passed to the checks. On error \p obj may be partly filled:
 * release it with ab_conftab_free() either way.
 * @returns AB_OK, AB_ERR_CONFIG with the key path in \p err->path (\p err
 *          must not be NULL), or AB_ERR_NOMEM.
 */
ab_err_t ab_conftab_load(const struct ab_conftab *t, const json_t *v, void *obj,
                         const char *path, const void *ctx,
                         struct ab_error *err);

/** Called by ab_conftab_diff() with the key path of a differing value;
 * an error other than AB_OK stops the walk and is returned. */
typedef ab_err_t (*ab_conftab_diff_fn)(void *arg, const char *path);

/**
 * Compare two objects \p a and \p b loaded with \p t and call \p fn
 * with the key path of each property whose value differs ("kafka.group",
 * "inputs[1].integration"), in table order. Lists of objects of the same
 * length are compared element by element; of different lengths, the list
 * is reported as a whole. \p path names the objects (NULL at the root).
 * @returns AB_OK, AB_ERR_INTERNAL for a table that does not flatten, or
 *          the first error \p fn returned.
 */
ab_err_t ab_conftab_diff(const struct ab_conftab *t, const void *a,
                         const void *b, const char *path, ab_conftab_diff_fn fn,
                         void *arg);

/** Free what ab_conftab_load() stored in \p obj (not \p obj itself). */
void ab_conftab_free(const struct ab_conftab *t, void *obj);

/**
 * Append one Markdown table row per property ("| `key` | type | default |
 * values | description |"), properties of lists of objects as
 * `list[].key` right after their list.
 */
ab_err_t ab_conftab_reference(const struct ab_conftab *t, struct ab_buf *out);

/** "1h", "90s", "250ms" or "0": the largest unit that is exact. */
void ab_conftab_format_duration(char *out, size_t size, long long ms);

/** "64MiB", "1KiB", "1000" or "0". */
void ab_conftab_format_size(char *out, size_t size, long long bytes);

#endif
