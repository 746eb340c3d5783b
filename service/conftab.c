/* conftab.c - config descriptor tables: load, check, free, document. */
#include "service/conftab.h"
#include "service/conftab_int.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/uri.h"

/*
 * HOW IT WORKS
 *
 * Loading one object: (1) every property with a default gets it, through
 * the same setter as file values, so defaults are validated like input;
 * (2) the file's keys are walked in file order, each one either a property
 * (parsed and stored, replacing the default), a section (walked
 * recursively) or an error naming the unknown key, with a "did you mean"
 * hint when a known key is within two edits; (3) required properties that
 * were not seen are reported. A list of objects loads each element with
 * its own table. Every store first frees what the field held, so a value
 * replacing a default leaks nothing, and a half-loaded object is freed by
 * the same walk as a complete one. Every walk runs on the table flattened
 * (ab_conftab_flatten()), so included tables need no case of their own.
 */

/* ---- flattening included tables ---- */

/* The default of \p p, or the one \p inc gives it. */
static const char *included_default(const struct ab_conftab_prop *inc,
                                    const struct ab_conftab_prop *p)
{
        for (const char *const *d = inc ? inc->defaults : NULL; d && d[0];
             d += 2)
                if (!strcmp(d[0], p->key))
                        return d[1];
        return p->def;
}

static bool flatten_into(struct ab_conftab_flat *f, const struct ab_conftab *t,
                         const struct ab_conftab_prop *inc, size_t base,
                         const char *prefix)
{
        for (size_t i = 0; i < t->nprops; i++) {
                const struct ab_conftab_prop *p = &t->props[i];
                char *key                       = f->keys[f->t.nprops];
                struct ab_conftab_prop *q;
                char inner[AB_CONFTAB_KEY_SIZE];
                int n;

                if (p->type == AB_CONFTAB_TABLE) {
                        n = snprintf(inner, sizeof(inner), "%s%s%s", prefix,
                                     prefix[0] ? "." : "", p->key);
                        if (n < 0 || (size_t)n >= sizeof(inner) ||
                            !flatten_into(f, p->sub, p, base + p->offset,
                                          inner))
                                return false;
                        continue;
                }
                if (f->t.nprops == AB_CONFTAB_MAX_PROPS)
                        return false;
                n = snprintf(key, AB_CONFTAB_KEY_SIZE, "%s%s%s", prefix,
                             prefix[0] ? "." : "", p->key);
                if (n < 0 || n >= AB_CONFTAB_KEY_SIZE)
                        return false;
                q      = &f->props[f->t.nprops++];
                *q     = *p;
                q->key = key;
                q->def = included_default(inc, p);
                q->offset += base;
                if (q->count_offset)
                        q->count_offset += base;
        }
        return true;
}

bool ab_conftab_flatten(const struct ab_conftab *t, struct ab_conftab_flat *f)
{
        f->t = (struct ab_conftab){f->props, 0, t->size};
        return flatten_into(f, t, NULL, 0, "");
}

/* ---- storing values ---- */

static void *field_at(void *obj, size_t offset)
{
        return (char *)obj + offset;
}

/* Free whatever \p p holds in \p obj and reset it to empty. */
static void free_prop(const struct ab_conftab_prop *p, void *obj)
{
        void *f   = field_at(obj, p->offset);
        size_t *n = p->count_offset ? field_at(obj, p->count_offset) : NULL;

        switch (p->type) {
        case AB_CONFTAB_STRING:
                ab_free(*(char **)f);
                *(char **)f = NULL;
                break;
        case AB_CONFTAB_LIST:
                if (p->names) {
                        *(unsigned *)f = 0;
                        break;
                }
                for (size_t i = 0; i < *n; i++)
                        ab_free((*(char ***)f)[i]);
                ab_free(*(char ***)f);
                *(char ***)f = NULL;
                *n           = 0;
                break;
        case AB_CONFTAB_MAP: {
                struct ab_pipeline_kv *kv = *(struct ab_pipeline_kv **)f;

                for (size_t i = 0; i < *n; i++) {
                        ab_free(kv[i].key);
                        ab_free(kv[i].value);
                }
                ab_free(kv);
                *(struct ab_pipeline_kv **)f = NULL;
                *n                           = 0;
                break;
        }
        case AB_CONFTAB_OBJECTS: {
                char *items;

                memcpy(&items, f, sizeof(items));
                for (size_t i = 0; i < *n; i++)
                        ab_conftab_free(p->sub, items + i * p->sub->size);
                ab_free(items);
                items = NULL;
                memcpy(f, &items, sizeof(items));
                *n = 0;
                break;
        }
        default:
                break;
        }
}

void ab_conftab_free(const struct ab_conftab *t, void *obj)
{
        struct ab_conftab_flat f;

        /* A table that does not flatten never loaded anything. */
        if (!ab_conftab_flatten(t, &f))
                return;
        for (size_t i = 0; i < f.t.nprops; i++)
                free_prop(&f.props[i], obj);
}

static ab_err_t wrong_type(const json_t *v, const char *want, const char *path,
                           struct ab_error *err)
{
        return ab_error_set(err, AB_ERR_CONFIG, path, "must be %s, not %s",
                            want, ab_conf_type_name(v));
}

/* A string value with ${ENV} expanded, length-checked. New string. */
static ab_err_t take_string(const struct ab_conftab_prop *p, const json_t *v,
                            const char *path, char **out, struct ab_error *err)
{
        size_t len;

        *out = NULL;
        if (!json_is_string(v))
                return wrong_type(v, "a string", path, err);
        *out = ab_conf_expand_env(json_string_value(v), path, err);
        if (!*out)
                return err->code;
        len = strlen(*out);
        if ((long long)len < p->min || (p->max && (long long)len > p->max)) {
                ab_free(*out);
                *out = NULL;
                if (p->min == 1 && !p->max)
                        return ab_error_set(err, AB_ERR_CONFIG, path,
                                            "must not be empty");
                return ab_error_set(err, AB_ERR_CONFIG, path,
                                    "must be %lld to %lld characters long",
                                    p->min, p->max);
        }
        return AB_OK;
}

static ab_err_t check_range(const struct ab_conftab_prop *p, long long v,
                            const char *path, struct ab_error *err)
{
        char lo[32], hi[32];

        if (v >= p->min && (!p->max || v <= p->max))
                return AB_OK;
        ab_conftab_format_bound(p, p->min, lo, sizeof(lo));
        ab_conftab_format_bound(p, p->max, hi, sizeof(hi));
        if (!p->max)
                return ab_error_set(err, AB_ERR_CONFIG, path,
                                    "must be at least %s", lo);
        return ab_error_set(err, AB_ERR_CONFIG, path,
                            "must be between %s and %s", lo, hi);
}

/* Durations and sizes: a string with a unit, or a bare integer. */
static ab_err_t take_quantity(const struct ab_conftab_prop *p, const json_t *v,
                              const char *path, long long *out,
                              struct ab_error *err)
{
        bool duration = p->type == AB_CONFTAB_DURATION;
        const char *s;
        int bad;

        if (json_is_integer(v)) {
                long long n = json_integer_value(v);

                if (n < 0 || (duration && __builtin_mul_overflow(n, 1000, &n)))
                        return ab_error_set(err, AB_ERR_CONFIG, path,
                                            "must not be negative");
                *out = n;
                return AB_OK;
        }
        if (!json_is_string(v))
                return wrong_type(v, duration ? "a duration" : "a size", path,
                                  err);
        s   = json_string_value(v);
        bad = duration ? ab_conf_parse_duration(s, out)
                       : ab_conf_parse_size(s, out);
        if (bad)
                return ab_error_set(
                    err, AB_ERR_CONFIG, path,
                    duration ? "invalid duration \"%s\" (examples: 500ms, "
                               "30s, 5m, 1h30m, 2d)"
                             : "invalid size \"%s\" (examples: 512, 64KiB, "
                               "16MiB, 1GiB)",
                    s);
        return AB_OK;
}

static ab_err_t take_name(const struct ab_conftab_prop *p, const json_t *v,
                          const char *path, int *out, struct ab_error *err)
{
        struct ab_buf list;
        const char *s;

        if (!json_is_string(v))
                return wrong_type(v, "a string", path, err);
        s = json_string_value(v);
        for (int i = 0; p->names[i]; i++) {
                if (!strcmp(p->names[i], s)) {
                        *out = i;
                        return AB_OK;
                }
        }
        ab_buf_init(&list, 256);
        for (int i = 0; p->names[i]; i++)
                ab_buf_appendf(&list, "%s%s", i ? ", " : "", p->names[i]);
        ab_error_set(err, AB_ERR_CONFIG, path,
                     "invalid value \"%s\" (expected one of: %s)", s,
                     list.data ? list.data : "");
        ab_buf_fini(&list);
        return AB_ERR_CONFIG;
}

/* The number of entries of a list against the property's bounds. */
static ab_err_t check_count(const struct ab_conftab_prop *p, size_t n,
                            const char *path, struct ab_error *err)
{
        if ((long long)n >= p->min && (!p->max || (long long)n <= p->max))
                return AB_OK;
        if (p->max)
                return ab_error_set(err, AB_ERR_CONFIG, path,
                                    "must have %lld to %lld entries", p->min,
                                    p->max);
        return ab_error_set(err, AB_ERR_CONFIG, path,
                            "must have at least %lld entr%s", p->min,
                            p->min == 1 ? "y" : "ies");
}

static ab_err_t set_list(const struct ab_conftab_prop *p, const json_t *v,
                         void *obj, const char *path, struct ab_error *err)
{
        void *f = field_at(obj, p->offset);
        size_t n;
        char sub[AB_CONFTAB_PATH_SIZE];
        char **items = NULL;
        ab_err_t rc  = AB_OK;

        if (!json_is_array(v))
                return wrong_type(v, "a list", path, err);
        n = json_array_size(v);
        if (check_count(p, n, path, err))
                return AB_ERR_CONFIG;
        if (!p->names && n) {
                items = ab_calloc(n, sizeof(*items));
                if (!items)
                        return ab_error_set(err, AB_ERR_NOMEM, path,
                                            "out of memory");
                *(char ***)f                              = items;
                *(size_t *)field_at(obj, p->count_offset) = n;
        }
        for (size_t i = 0; i < n && !rc; i++) {
                const json_t *item               = json_array_get(v, i);
                const struct ab_conftab_prop one = {.type = AB_CONFTAB_STRING,
                                                    .min  = 1};
                int idx;

                ab_conf_path_index(sub, sizeof(sub), path, i);
                if (p->names) {
                        json_t *typed =
                            ab_conf_expand_env_typed(item, sub, err);
                        if (!typed)
                                return err->code;
                        rc = take_name(p, typed, sub, &idx, err);
                        json_decref(typed);
                        if (!rc && (*(unsigned *)f & (1u << idx)))
                                rc = ab_error_set(err, AB_ERR_CONFIG, sub,
                                                  "duplicate value \"%s\"",
                                                  p->names[idx]);
                        if (!rc)
                                *(unsigned *)f |= 1u << idx;
                        continue;
                }
                rc = take_string(&one, item, sub, &items[i], err);
                for (size_t j = 0; j < i && !rc; j++) {
                        if (!strcmp(items[j], items[i]))
                                rc = ab_error_set(err, AB_ERR_CONFIG, sub,
                                                  "duplicate value \"%s\"",
                                                  items[i]);
                }
        }
        return rc;
}

/* The text of a map value: strings, or unquoted numbers and booleans. */
static const char *scalar_text(const json_t *v, char *num, size_t size)
{
        if (json_is_string(v))
                return json_string_value(v);
        if (json_is_integer(v)) {
                snprintf(num, size, "%" JSON_INTEGER_FORMAT,
                         json_integer_value(v));
                return num;
        }
        if (json_is_boolean(v))
                return json_is_true(v) ? "true" : "false";
        return NULL;
}

static ab_err_t set_map(const struct ab_conftab_prop *p, const json_t *v,
                        void *obj, const char *path, struct ab_error *err)
{
        struct ab_pipeline_kv *kv;
        const char *key;
        json_t *val;
        size_t n, i = 0;

        if (!json_is_object(v))
                return wrong_type(v, "a mapping", path, err);
        n = json_object_size(v);
        if (!n)
                return AB_OK;
        kv = ab_calloc(n, sizeof(*kv));
        if (!kv)
                return ab_error_set(err, AB_ERR_NOMEM, path, "out of memory");
        *(struct ab_pipeline_kv **)field_at(obj, p->offset) = kv;
        *(size_t *)field_at(obj, p->count_offset)           = n;
        json_object_foreach((json_t *)v, key, val)
        {
                char sub[AB_CONFTAB_PATH_SIZE];
                char num[32];
                const char *text = scalar_text(val, num, sizeof(num));

                ab_conf_path_key(sub, sizeof(sub), path, key);
                if (!text)
                        return wrong_type(val, "a string", sub, err);
                kv[i].key = ab_strdup(key);
                if (!kv[i].key)
                        return ab_error_set(err, AB_ERR_NOMEM, sub,
                                            "out of memory");
                kv[i].value = ab_conf_expand_env(text, sub, err);
                if (!kv[i].value)
                        return err->code;
                i++;
        }
        return AB_OK;
}

static ab_err_t set_objects(const void *ctx, const struct ab_conftab_prop *p,
                            const json_t *v, void *obj, const char *path,
                            struct ab_error *err)
{
        size_t n;
        char sub[AB_CONFTAB_PATH_SIZE];
        char *items;
        ab_err_t rc = AB_OK;

        if (!json_is_array(v))
                return wrong_type(v, "a list", path, err);
        n = json_array_size(v);
        if (check_count(p, n, path, err))
                return AB_ERR_CONFIG;
        if (!n)
                return AB_OK;
        items = ab_calloc(n, p->sub->size);
        if (!items)
                return ab_error_set(err, AB_ERR_NOMEM, path, "out of memory");
        memcpy(field_at(obj, p->offset), &items, sizeof(items));
        *(size_t *)field_at(obj, p->count_offset) = n;
        for (size_t i = 0; i < n && !rc; i++) {
                ab_conf_path_index(sub, sizeof(sub), path, i);
                rc = ab_conftab_load(p->sub, json_array_get(v, i),
                                     items + i * p->sub->size, sub, ctx, err);
        }
        return rc;
}

/* Parse \p v into \p p's field of \p obj, replacing what was there. */
static ab_err_t set_prop(const void *ctx, const struct ab_conftab_prop *p,
                         const json_t *v, void *obj, const char *path,
                         struct ab_error *err)
{
        void *f       = field_at(obj, p->offset);
        json_t *typed = NULL;
        long long q;
        int idx;
        char *s;
        ab_err_t rc;

        free_prop(p, obj);
        /* Typed scalars take ${ENV} too (strings expand in take_string). */
        if (p->type == AB_CONFTAB_INT || p->type == AB_CONFTAB_BOOL ||
            p->type == AB_CONFTAB_DURATION || p->type == AB_CONFTAB_SIZE ||
            p->type == AB_CONFTAB_ENUM) {
                typed = ab_conf_expand_env_typed(v, path, err);
                if (!typed)
                        return err->code;
                v = typed;
        }
        switch (p->type) {
        case AB_CONFTAB_STRING:
                rc = take_string(p, v, path, &s, err);
                if (!rc)
                        *(char **)f = s;
                break;
        case AB_CONFTAB_INT:
                if (!json_is_integer(v)) {
                        rc = wrong_type(v, "an integer", path, err);
                        break;
                }
                rc = check_range(p, json_integer_value(v), path, err);
                if (!rc)
                        *(int64_t *)f = json_integer_value(v);
                break;
        case AB_CONFTAB_BOOL:
                if (!json_is_boolean(v)) {
                        rc = wrong_type(v, "true or false", path, err);
                        break;
                }
                *(bool *)f = json_is_true(v);
                rc         = AB_OK;
                break;
        case AB_CONFTAB_DURATION:
        case AB_CONFTAB_SIZE:
                rc = take_quantity(p, v, path, &q, err);
                if (!rc)
                        rc = check_range(p, q, path, err);
                if (!rc)
                        *(int64_t *)f = q;
                break;
        case AB_CONFTAB_ENUM:
                rc = take_name(p, v, path, &idx, err);
                if (!rc)
                        memcpy(f, &idx, sizeof(idx));
                break;
        case AB_CONFTAB_LIST:
                rc = set_list(p, v, obj, path, err);
                break;
        case AB_CONFTAB_MAP:
                rc = set_map(p, v, obj, path, err);
                break;
        default:
                rc = set_objects(ctx, p, v, obj, path, err);
                break;
        }
        json_decref(typed);
        if (!rc && p->check)
                rc = p->check(ctx, p, obj, path, err);
        return rc;
}

/* A default written as in a file: numbers and booleans are typed. */
static ab_err_t set_default(const void *ctx, const struct ab_conftab_prop *p,
                            void *obj, const char *path, struct ab_error *err)
{
        json_t *v;
        ab_err_t rc;

        if (p->type == AB_CONFTAB_INT)
                v = json_integer(strtoll(p->def, NULL, 10));
        else if (p->type == AB_CONFTAB_BOOL)
                v = json_boolean(!strcmp(p->def, "true"));
        else
                v = json_string(p->def);
        if (!v)
                return ab_error_set(err, AB_ERR_NOMEM, path, "out of memory");
        rc = set_prop(ctx, p, v, obj, path, err);
        json_decref(v);
        return rc;
}

/* ---- walking a file's object ---- */

/* Edit distance, for "did you mean" on unknown keys. */
static size_t edit_distance(const char *a, const char *b)
{
        size_t row[65];
        size_t la = strlen(a), lb = strlen(b);

        if (la > 64 || lb > 64)
                return (size_t)-1;
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diag = row[0];

                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t up   = row[j];
                        size_t cost = diag + (a[i - 1] != b[j - 1]);

                        if (row[j] + 1 < cost)
                                cost = row[j] + 1;
                        if (row[j - 1] + 1 < cost)
                                cost = row[j - 1] + 1;
                        row[j] = cost;
                        diag   = up;
                }
        }
        return row[lb];
}

/*
 * The known key of the section \p rel ("" for the table's top) closest to
 * \p key, written into \p out; empty when none is close.
 */
static void suggest_key(const struct ab_conftab *t, const char *rel,
                        const char *key, char *out, size_t size)
{
        size_t rlen = strlen(rel);
        size_t best = 3; /* suggest only within 2 edits */

        out[0] = '\0';
        for (size_t i = 0; i < t->nprops; i++) {
                const char *k = t->props[i].key;
                char seg[65];
                size_t n, d;

                if (rlen && (strncmp(k, rel, rlen) || k[rlen] != '.'))
                        continue;
                k += rlen ? rlen + 1 : 0;
                n = strcspn(k, ".");
                if (n >= sizeof(seg))
                        continue;
                memcpy(seg, k, n);
                seg[n] = '\0';
                d      = edit_distance(key, seg);
                if (d < best) {
                        best = d;
                        snprintf(out, size, "%s", seg);
                }
        }
}

struct walk {
        const void *ctx;
        const struct ab_conftab *t;
        void *obj;
        bool *seen;
};

static ab_err_t walk_object(struct walk *w, const json_t *v, const char *rel,
                            const char *path, struct ab_error *err)
{
        const char *key;
        json_t *val;

        json_object_foreach((json_t *)v, key, val)
        {
                char relkey[128];
                char sub[AB_CONFTAB_PATH_SIZE];
                char hint[80];
                size_t klen;
                bool section = false;
                ab_err_t rc;
                size_t i;

                ab_conf_path_key(sub, sizeof(sub), path, key);
                snprintf(relkey, sizeof(relkey), "%s%s%s", rel,
                         rel[0] ? "." : "", key);
                klen = strlen(relkey);
                /* "kafka.brokers: x" is not a spelling of kafka: {brokers} */
                i = strchr(key, '.') ? w->t->nprops : 0;
                for (; i < w->t->nprops; i++) {
                        const char *k = w->t->props[i].key;

                        if (!strcmp(k, relkey))
                                break;
                        if (!strncmp(k, relkey, klen) && k[klen] == '.')
                                section = true;
                }
                if (i < w->t->nprops) {
                        if (json_is_null(val))
                                continue; /* written but empty: default */
                        rc = set_prop(w->ctx, &w->t->props[i], val, w->obj, sub,
                                      err);
                        if (rc)
                                return rc;
                        w->seen[i] = true;
                        continue;
                }
                if (section && json_is_null(val))
                        continue;
                if (section && !json_is_object(val))
                        return wrong_type(val, "a mapping", sub, err);
                if (section) {
                        rc = walk_object(w, val, relkey, sub, err);
                        if (rc)
                                return rc;
                        continue;
                }
                suggest_key(w->t, rel, key, hint, sizeof(hint));
                if (hint[0])
                        return ab_error_set(err, AB_ERR_CONFIG, sub,
                                            "unknown key (did you mean "
                                            "\"%s\"?)",
                                            hint);
                return ab_error_set(err, AB_ERR_CONFIG, sub, "unknown key");
        }
        return AB_OK;
}

void ab_conftab_prop_path(char *out, size_t size, const char *parent,
                          const char *key)
{
        char seg[64];

        snprintf(out, size, "%s", parent ? parent : "");
        while (*key) {
                size_t n = strcspn(key, ".");

                snprintf(seg, sizeof(seg), "%.*s", (int)n, key);
                ab_conf_path_key(out, size, out, seg);
                key += n + (key[n] == '.');
        }
}

ab_err_t ab_conftab_load(const struct ab_conftab *table, const json_t *v,
                         void *obj, const char *path, const void *ctx,
                         struct ab_error *err)
{
        bool seen[AB_CONFTAB_MAX_PROPS] = {false};
        struct ab_conftab_flat f;
        const struct ab_conftab *t = &f.t;
        struct walk w              = {ctx, t, obj, seen};
        char sub[AB_CONFTAB_PATH_SIZE];
        ab_err_t rc;

        if (!ab_conftab_flatten(table, &f))
                return ab_error_set(err, AB_ERR_INTERNAL, path,
                                    "descriptor table too large");
        if (!json_is_object(v))
                return wrong_type(v, "a mapping", path, err);
        for (size_t i = 0; i < t->nprops; i++) {
                if (!t->props[i].def)
                        continue;
                ab_conftab_prop_path(sub, sizeof(sub), path, t->props[i].key);
                rc = set_default(ctx, &t->props[i], obj, sub, err);
                if (rc)
                        return rc;
        }
        rc = walk_object(&w, v, "", path, err);
        if (rc)
                return rc;
        for (size_t i = 0; i < t->nprops; i++) {
                if (!(t->props[i].flags & AB_CONFTAB_REQUIRED) || seen[i])
                        continue;
                ab_conftab_prop_path(sub, sizeof(sub), path, t->props[i].key);
                return ab_error_set(err, AB_ERR_CONFIG, sub, "is required");
        }
        return AB_OK;
}

ab_err_t ab_conftab_check_uri_reference(const void *ctx,
                                        const struct ab_conftab_prop *p,
                                        void *obj, const char *path,
                                        struct ab_error *err)
{
        const char *v = *(char **)((char *)obj + p->offset);
        char quoted[128];
        size_t at;

        (void)ctx;
        if (!v)
                return AB_OK;
        at = ab_uri_reference_check(v, strlen(v));
        if (at == AB_URI_OK)
                return AB_OK;
        ab_log_quote(v, quoted, sizeof(quoted));
        if (at >= strlen(v))
                return ab_error_set(err, AB_ERR_CONFIG, path,
                                    "%s is not a URI-reference (RFC 3986), "
                                    "which CloudEvents requires of `source`: "
                                    "it ends too early",
                                    quoted);
        return ab_error_set(err, AB_ERR_CONFIG, path,
                            "%s is not a URI-reference (RFC 3986), which "
                            "CloudEvents requires of `source`: byte %zu "
                            "(0x%02x) is not allowed there; percent-encode "
                            "it (%%%02X) or use a name like \"alertbridge\" "
                            "or a URI like \"urn:example:alerts\"",
                            quoted, at, (unsigned char)v[at],
                            (unsigned char)v[at]);
}
