/* conf.c - reads YAML or JSON configuration files into one jansson tree. */
#include "core/conf.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/buf.h"
#include "core/conf_path.h"
#include "core/file.h"
#include "core/mem.h"

/* Deeper nesting than this is an error (the loader recurses). */
#define CONF_MAX_DEPTH 256
/* Nodes a document may produce, aliases expanded ("billion laughs"). */
#define CONF_MAX_NODES 1000000

#define TAG_PREFIX "tag:yaml.org,2002:"

struct anchor {
        char *name;    /* owned */
        json_t *value; /* owned reference */
        size_t nodes;  /* nodes in value, charged again per alias */
};

struct loader {
        yaml_parser_t parser;
        const char *origin;
        struct ab_error *err;
        struct anchor *anchors; /* owned */
        size_t nanchors;
        size_t capanchors;
        size_t nodes;
};

/* ---- errors ------------------------------------------------------------ */

static void fail_at(struct loader *ld, const yaml_mark_t *mark,
                    const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Record "origin:line:col: message" with the key path. */
static void fail_at(struct loader *ld, const yaml_mark_t *mark,
                    const char *path, const char *fmt, ...)
{
        char msg[360];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        ab_error_set(ld->err, AB_ERR_CONFIG, path, "%s:%zu:%zu: %s", ld->origin,
                     mark->line + 1, mark->column + 1, msg);
}

/* Fetch the next event, turning a libyaml failure into our error. */
static int next_event(struct loader *ld, yaml_event_t *ev, const char *path)
{
        const yaml_parser_t *p = &ld->parser;

        if (yaml_parser_parse(&ld->parser, ev))
                return 0;
        if (p->error == YAML_MEMORY_ERROR) {
                ab_error_set(ld->err, AB_ERR_NOMEM, path, "%s: out of memory",
                             ld->origin);
                return -1;
        }
        if (p->context)
                fail_at(ld, &p->problem_mark, path, "%s %s",
                        p->problem ? p->problem : "syntax error", p->context);
        else
                fail_at(ld, &p->problem_mark, path, "%s",
                        p->problem ? p->problem : "syntax error");
        return -1;
}

/* ---- scalars ----------------------------------------------------------- */

static int all_digits(const char *s)
{
        if (!*s)
                return 0;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return 0;
        return 1;
}

/* YAML 1.2 core schema integer in decimal: [-+]?[0-9]+ */
static int is_int(const char *s)
{
        if (*s == '-' || *s == '+')
                s++;
        return all_digits(s);
}

/* Core schema float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static int is_float(const char *s)
{
        int mant = 0;

        if (*s == '-' || *s == '+')
                s++;
        while (*s >= '0' && *s <= '9') {
                s++;
                mant = 1;
        }
        if (*s == '.') {
                s++;
                while (*s >= '0' && *s <= '9') {
                        s++;
                        mant = 1;
                }
        }
        if (!mant)
                return 0;
        if (*s == 'e' || *s == 'E') {
                s++;
                if (*s == '-' || *s == '+')
                        s++;
                return all_digits(s);
        }
        return *s == '\0';
}

/* strtod() in the "C" sense: JSON and YAML write '.' whatever the locale.
 * @returns AB_OK, AB_ERR_CONFIG if s is not a finite number, or
 *          AB_ERR_NOMEM. */
static ab_err_t parse_real(const char *s, double *out)
{
        const char *point = localeconv()->decimal_point;
        char *copy        = ab_strdup(s), *dot, *end;
        ab_err_t rc       = AB_ERR_CONFIG;
        double v;

        if (!copy)
                return AB_ERR_NOMEM;
        dot = strchr(copy, '.');
        if (dot && point && point[0] && !point[1])
                *dot = point[0];
        v = strtod(copy, &end);
        if (!*end && isfinite(v)) {
                *out = v;
                rc   = AB_OK;
        }
        ab_free(copy);
        return rc;
}

enum kind { K_STR, K_NULL, K_BOOL, K_INT, K_FLOAT };

static enum kind resolve_plain(const char *s)
{
        if (!*s || !strcmp(s, "~") || !strcmp(s, "null") ||
            !strcmp(s, "Null") || !strcmp(s, "NULL"))
                return K_NULL;
        if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE") ||
            !strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
                return K_BOOL;
        if (is_int(s))
                return K_INT;
        if (is_float(s))
                return K_FLOAT;
        return K_STR;
}

/* The kind an explicit tag demands; -1 for tags we do not know. */
static int tag_kind(const char *tag)
{
        static const struct {
                const char *name;
                enum kind kind;
        } tags[] = {
            {"str", K_STR}, {"null", K_NULL},   {"bool", K_BOOL},
            {"int", K_INT}, {"float", K_FLOAT},
        };

        if (!strcmp(tag, "!"))
                return K_STR;
        if (strncmp(tag, TAG_PREFIX, sizeof(TAG_PREFIX) - 1))
                return -1;
        tag += sizeof(TAG_PREFIX) - 1;
        for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
                if (!strcmp(tag, tags[i].name))
                        return (int)tags[i].kind;
        return -1;
}

/* The value of scalar text \p s (\p len bytes) read as \p kind. @returns a
 * new reference, or NULL with \p why saying what is wrong (a value out of
 * range, text not UTF-8), or empty when memory ran out. */
static json_t *make_scalar(enum kind kind, const char *s, size_t len, char *why,
                           size_t whysize)
{
        long long n;
        ab_err_t rc;
        double d;

        why[0] = '\0';
        switch (kind) {
        case K_NULL:
                return json_null();
        case K_BOOL:
                return json_boolean(s[0] == 't' || s[0] == 'T');
        case K_INT:
                errno = 0;
                n     = strtoll(s, NULL, 10);
                if (errno == ERANGE) {
                        snprintf(why, whysize, "integer %s is out of range", s);
                        return NULL;
                }
                return json_integer(n);
        case K_FLOAT:
                rc = parse_real(s, &d);
                if (rc == AB_ERR_CONFIG)
                        snprintf(why, whysize, "number %s is out of range", s);
                return rc ? NULL : json_real(d);
        default:
                /* Checked here, so that NULL below means out of memory. */
                if (!ab_utf8_valid(s, len)) {
                        snprintf(why, whysize, "string is not valid UTF-8");
                        return NULL;
                }
                return json_stringn_nocheck(s, len);
        }
}

static json_t *load_scalar(struct loader *ld, const yaml_event_t *ev,
                           const char *path)
{
        const char *s   = (const char *)ev->data.scalar.value;
        const char *tag = (const char *)ev->data.scalar.tag;
        enum kind kind  = K_STR;
        char why[160];
        json_t *v;

        if (tag) {
                int k = tag_kind(tag);
                if (k < 0) {
                        fail_at(ld, &ev->start_mark, path,
                                "unsupported tag '%s'", tag);
                        return NULL;
                }
                kind = (enum kind)k;
                if (kind != K_STR && resolve_plain(s) != kind &&
                    !(kind == K_FLOAT && resolve_plain(s) == K_INT)) {
                        fail_at(ld, &ev->start_mark, path,
                                "'%s' does not match tag '%s'", s, tag);
                        return NULL;
                }
        } else if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
                kind = resolve_plain(s);
        }
        v = make_scalar(kind, s, ev->data.scalar.length, why, sizeof(why));
        if (!v && why[0])
                fail_at(ld, &ev->start_mark, path, "%s", why);
        else if (!v)
                ab_error_set(ld->err, AB_ERR_NOMEM, path, "out of memory");
        return v;
}

json_t *ab_conf_plain_scalar(const char *s, const char *path,
                             struct ab_error *err)
{
        char why[160];
        json_t *v =
            make_scalar(resolve_plain(s), s, strlen(s), why, sizeof(why));

        if (!v)
                ab_error_set(err, why[0] ? AB_ERR_CONFIG : AB_ERR_NOMEM, path,
                             "%s", why[0] ? why : "out of memory");
        return v;
}

/* ---- anchors ----------------------------------------------------------- */

static int anchor_add(struct loader *ld, const char *name, json_t *value,
                      size_t nodes)
{
        struct anchor *a;
        char *copy;

        if (ld->nanchors == ld->capanchors) {
                size_t cap = ld->capanchors ? ld->capanchors * 2 : 8;
                a          = ab_realloc(ld->anchors, cap * sizeof(*a));
                if (!a)
                        return -1;
                ld->anchors    = a;
                ld->capanchors = cap;
        }
        copy = ab_strdup(name);
        if (!copy)
                return -1;
        a        = &ld->anchors[ld->nanchors++];
        a->name  = copy;
        a->value = json_incref(value);
        a->nodes = nodes;
        return 0;
}

/* The latest definition of \p name wins, as in YAML. */
static const struct anchor *anchor_find(const struct loader *ld,
                                        const char *name)
{
        for (size_t i = ld->nanchors; i-- > 0;)
                if (!strcmp(ld->anchors[i].name, name))
                        return &ld->anchors[i];
        return NULL;
}

static json_t *load_alias(struct loader *ld, const yaml_event_t *ev,
                          const char *path)
{
        const char *name        = (const char *)ev->data.alias.anchor;
        const struct anchor *an = anchor_find(ld, name);
        json_t *v;

        if (!an) {
                fail_at(ld, &ev->start_mark, path, "unknown alias '*%s'", name);
                return NULL;
        }
        ld->nodes += an->nodes;
        if (ld->nodes > CONF_MAX_NODES) {
                fail_at(ld, &ev->start_mark, path,
                        "aliases expand to more than %d nodes", CONF_MAX_NODES);
                return NULL;
        }
        v = json_deep_copy(an->value);
        if (!v)
                ab_error_set(ld->err, AB_ERR_NOMEM, path, "out of memory");
        return v;
}

/* ---- collections ------------------------------------------------------- */

static json_t *load_node(struct loader *ld, yaml_event_t *ev, const char *path,
                         int depth);

static json_t *load_sequence(struct loader *ld, const char *path, int depth)
{
        json_t *arr = json_array();
        char sub[sizeof(((struct ab_error *)0)->path)];
        yaml_event_t ev;

        if (!arr) {
                ab_error_set(ld->err, AB_ERR_NOMEM, path, "out of memory");
                return NULL;
        }
        for (size_t i = 0;; i++) {
                json_t *item;

                ab_conf_path_index(sub, sizeof(sub), path, i);
                if (next_event(ld, &ev, sub))
                        goto fail;
                if (ev.type == YAML_SEQUENCE_END_EVENT) {
                        yaml_event_delete(&ev);
                        return arr;
                }
                item = load_node(ld, &ev, sub, depth + 1);
                if (!item)
                        goto fail;
                if (json_array_append_new(arr, item)) {
                        ab_error_set(ld->err, AB_ERR_NOMEM, sub,
                                     "out of memory");
                        goto fail;
                }
        }
fail:
        json_decref(arr);
        return NULL;
}

/* A mapping key: a scalar, or an alias of a string. NULL on error. */
static char *load_key(struct loader *ld, const yaml_event_t *ev,
                      const char *path)
{
        const struct anchor *an;
        char *key;

        if (ev->type == YAML_SCALAR_EVENT) {
                if (memchr(ev->data.scalar.value, '\0',
                           ev->data.scalar.length)) {
                        fail_at(ld, &ev->start_mark, path,
                                "keys must not contain NUL");
                        return NULL;
                }
                key = ab_strdup((const char *)ev->data.scalar.value);
        } else {
                an = ev->type == YAML_ALIAS_EVENT
                         ? anchor_find(ld, (const char *)ev->data.alias.anchor)
                         : NULL;
                if (!an || !json_is_string(an->value)) {
                        fail_at(ld, &ev->start_mark, path,
                                "mapping keys must be scalars");
                        return NULL;
                }
                key = ab_strdup(json_string_value(an->value));
        }
        if (!key)
                ab_error_set(ld->err, AB_ERR_NOMEM, path, "out of memory");
        return key;
}

static json_t *load_mapping(struct loader *ld, const char *path, int depth)
{
        json_t *obj = json_object();
        char sub[sizeof(((struct ab_error *)0)->path)];
        char *key = NULL;
        yaml_event_t ev;

        if (!obj) {
                ab_error_set(ld->err, AB_ERR_NOMEM, path, "out of memory");
                return NULL;
        }
        for (;;) {
                json_t *value;

                if (next_event(ld, &ev, path))
                        goto fail;
                if (ev.type == YAML_MAPPING_END_EVENT) {
                        yaml_event_delete(&ev);
                        return obj;
                }
                key = load_key(ld, &ev, path);
                if (!key) {
                        yaml_event_delete(&ev);
                        goto fail;
                }
                ab_conf_path_key(sub, sizeof(sub), path, key);
                if (json_object_get(obj, key)) {
                        fail_at(ld, &ev.start_mark, sub, "duplicate key '%s'",
                                key);
                        yaml_event_delete(&ev);
                        goto fail;
                }
                yaml_event_delete(&ev);
                if (next_event(ld, &ev, sub))
                        goto fail;
                value = load_node(ld, &ev, sub, depth + 1);
                if (!value)
                        goto fail;
                if (json_object_set_new(obj, key, value)) {
                        ab_error_set(ld->err, AB_ERR_NOMEM, sub,
                                     "out of memory");
                        goto fail;
                }
                ab_free(key);
                key = NULL;
        }
fail:
        ab_free(key);
        json_decref(obj);
        return NULL;
}

/* Check a collection's explicit tag, if any. */
static int collection_tag_ok(struct loader *ld, const yaml_event_t *ev,
                             const char *tag, const char *want,
                             const char *path)
{
        if (!tag || !strcmp(tag, "!") || !strcmp(tag, want))
                return 1;
        fail_at(ld, &ev->start_mark, path, "unsupported tag '%s'", tag);
        return 0;
}

/* Build the node that starts with \p ev (consumed). NULL on error. */
static json_t *load_node(struct loader *ld, yaml_event_t *ev, const char *path,
                         int depth)
{
        const char *anchor = NULL;
        size_t before      = ld->nodes;
        json_t *v          = NULL;

        if (depth > CONF_MAX_DEPTH) {
                fail_at(ld, &ev->start_mark, path,
                        "nesting deeper than %d levels", CONF_MAX_DEPTH);
                goto out;
        }
        if (++ld->nodes > CONF_MAX_NODES) {
                fail_at(ld, &ev->start_mark, path,
                        "document has more than %d nodes", CONF_MAX_NODES);
                goto out;
        }
        switch (ev->type) {
        case YAML_SCALAR_EVENT:
                anchor = (const char *)ev->data.scalar.anchor;
                v      = load_scalar(ld, ev, path);
                break;
        case YAML_ALIAS_EVENT:
                v = load_alias(ld, ev, path);
                break;
        case YAML_SEQUENCE_START_EVENT:
                anchor = (const char *)ev->data.sequence_start.anchor;
                if (collection_tag_ok(ld, ev,
                                      (const char *)ev->data.sequence_start.tag,
                                      TAG_PREFIX "seq", path))
                        v = load_sequence(ld, path, depth);
                break;
        case YAML_MAPPING_START_EVENT:
                anchor = (const char *)ev->data.mapping_start.anchor;
                if (collection_tag_ok(ld, ev,
                                      (const char *)ev->data.mapping_start.tag,
                                      TAG_PREFIX "map", path))
                        v = load_mapping(ld, path, depth);
                break;
        default:
                fail_at(ld, &ev->start_mark, path, "unexpected YAML event");
                break;
        }
        if (v && anchor && anchor_add(ld, anchor, v, ld->nodes - before)) {
                ab_error_set(ld->err, AB_ERR_NOMEM, path, "out of memory");
                json_decref(v);
                v = NULL;
        }
out:
        yaml_event_delete(ev);
        return v;
}

/* ---- documents --------------------------------------------------------- */

/*
 * A stream is STREAM-START, then at most one DOCUMENT-START node
 * DOCUMENT-END, then STREAM-END. An empty stream is null.
 */
static json_t *load_stream(struct loader *ld)
{
        json_t *root = NULL;
        yaml_event_t ev;
        int done = 0;

        while (!done) {
                if (next_event(ld, &ev, NULL))
                        goto fail;
                switch (ev.type) {
                case YAML_DOCUMENT_START_EVENT:
                        if (root) {
                                fail_at(ld, &ev.start_mark, NULL,
                                        "more than one YAML document");
                                yaml_event_delete(&ev);
                                goto fail;
                        }
                        yaml_event_delete(&ev);
                        if (next_event(ld, &ev, NULL))
                                goto fail;
                        root = load_node(ld, &ev, NULL, 0);
                        if (!root)
                                goto fail;
                        break;
                case YAML_STREAM_END_EVENT:
                        done = 1;
                        yaml_event_delete(&ev);
                        break;
                default:
                        yaml_event_delete(&ev);
                        break;
                }
        }
        return root ? root : json_null();
fail:
        json_decref(root);
        return NULL;
}

json_t *ab_conf_load_string(const char *text, size_t len, const char *origin,
                            struct ab_error *err)
{
        struct loader ld;
        json_t *root = NULL;

        memset(&ld, 0, sizeof(ld));
        ld.origin = origin ? origin : "<config>";
        ld.err    = err;
        if (!yaml_parser_initialize(&ld.parser)) {
                ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
                return NULL;
        }
        yaml_parser_set_input_string(&ld.parser, (const unsigned char *)text,
                                     len);
        root = load_stream(&ld);
        yaml_parser_delete(&ld.parser);
        for (size_t i = 0; i < ld.nanchors; i++) {
                ab_free(ld.anchors[i].name);
                json_decref(ld.anchors[i].value);
        }
        ab_free(ld.anchors);
        return root;
}

json_t *ab_conf_load_file(const char *path, struct ab_error *err)
{
        json_t *root = NULL;
        char *text;
        size_t len;

        if (ab_file_read(path, AB_FILE_CONF_MAX, &text, &len, err))
                return NULL;
        root = ab_conf_load_string(text, len, path, err);
        ab_free(text);
        return root;
}

const char *ab_conf_type_name(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "a mapping";
        case JSON_ARRAY:
                return "a list";
        case JSON_STRING:
                return "a string";
        case JSON_INTEGER:
                return "an integer";
        case JSON_REAL:
                return "a number";
        case JSON_TRUE:
        case JSON_FALSE:
                return "a boolean";
        default:
                return "null";
        }
}
