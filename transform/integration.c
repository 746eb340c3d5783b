/* integration.c - compiles an integration config tree into mapping programs. */
#include "transform/integration.h"

#include <stdio.h>
#include <string.h>

#include "core/conf.h"
#include "core/mem.h"
#include "transform/integration_compile_int.h"
#include "transform/integration_int.h"

/* Built-in integration texts, generated from the YAML files in integrations/.
 */
struct ab_builtin_file {
        const char *name;
        const char *text;
};
extern const struct ab_builtin_file ab_builtin_files[];

/* ---------------------------------------------------------------- destroy */

static void cond_fini(struct ab_cond *c);
static void method_fini(struct ab_method *m);

static void selref_fini(struct ab_sel_ref *r)
{
        ab_selector_destroy(r->sel);
        r->sel = NULL;
}

static void cond_fini(struct ab_cond *c)
{
        selref_fini(&c->field);
        for (size_t i = 0; i < c->nvalues; i++)
                ab_free(c->values[i]);
        ab_free(c->values);
        ab_free(c->value_lens);
        ab_cond_regex_free(c->regex);
        for (size_t i = 0; i < c->nkids; i++)
                cond_fini(&c->kids[i]);
        ab_free(c->kids);
}

static void method_fini(struct ab_method *m)
{
        selref_fini(&m->direct);
        for (size_t i = 0; i < m->nseries; i++)
                selref_fini(&m->series[i]);
        ab_free(m->series);
        ab_free(m->delimiter);
        for (size_t i = 0; i < m->nbranches; i++) {
                if (m->branches[i].when) {
                        cond_fini(m->branches[i].when);
                        ab_free(m->branches[i].when);
                }
                method_fini(&m->branches[i].method);
        }
        ab_free(m->branches);
        ab_free(m->value);
        for (size_t i = 0; i < m->nmap; i++) {
                ab_free(m->map[i].from);
                ab_free(m->map[i].to);
        }
        ab_free(m->map);
        ab_free(m->map_default);
        ab_free(m->path);
        memset(m, 0, sizeof(*m));
}

static void entries_fini(struct ab_entry *e, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                ab_free(e[i].key);
                method_fini(&e[i].method);
        }
        ab_free(e);
}

void ab_integration_destroy(struct ab_integration *integ)
{
        if (!integ)
                return;
        ab_free(integ->name);
        json_decref(integ->config);
        ab_selector_destroy(integ->batch_root);
        if (integ->recovery) {
                cond_fini(integ->recovery);
                ab_free(integ->recovery);
        }
        for (int f = 0; f < AB_FIELD__COUNT; f++)
                method_fini(&integ->fields[f]);
        entries_fini(integ->labels, integ->nlabels);
        entries_fini(integ->annotations, integ->nannotations);
        for (size_t i = 0; i < integ->ndedup; i++)
                ab_free(integ->dedup[i]);
        ab_free(integ->dedup);
        ab_selpaths_fini(&integ->paths);
        ab_free(integ);
}

/* ---------------------------------------------------------------- helpers */

/* Render a scalar config value as text (numbers and booleans as written). */
char *ab_integ_scalar_text(const json_t *v, size_t *len)
{
        char tmp[64];
        const char *s;

        switch (json_typeof(v)) {
        case JSON_STRING:
                *len = json_string_length(v);
                return ab_strndup(json_string_value(v), *len);
        case JSON_INTEGER:
                snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT,
                         json_integer_value(v));
                s = tmp;
                break;
        case JSON_REAL:
                snprintf(tmp, sizeof(tmp), "%.17g", json_real_value(v));
                s = tmp;
                break;
        case JSON_TRUE:
                s = "true";
                break;
        case JSON_FALSE:
                s = "false";
                break;
        default:
                return NULL;
        }
        *len = strlen(s);
        return ab_strndup(s, *len);
}

int ab_integ_is_scalar(const json_t *v)
{
        return json_is_string(v) || json_is_number(v) || json_is_boolean(v);
}

/* Write the NULL-terminated \p names into \p out as "a, b, c", cut to fit. */
static void join_names(char *out, size_t size, const char *const *names)
{
        size_t len = 0;

        out[0] = '\0';
        for (const char *const *n = names; *n && len < size; n++) {
                int w = snprintf(out + len, size - len, "%s%s",
                                 n == names ? "" : ", ", *n);
                if (w < 0)
                        break;
                len += (size_t)w;
        }
}

/* Reject keys of \p obj that are not in the NULL-terminated \p allowed. */
ab_err_t ab_integ_check_keys(const json_t *obj, const char *path,
                             const char *const *allowed, struct ab_error *err)
{
        const char *key;
        json_t *v;
        char sub[PATH_MAX_LEN];

        json_object_foreach((json_t *)obj, key, v)
        {
                int ok = 0;
                for (const char *const *a = allowed; *a; a++)
                        if (!strcmp(key, *a))
                                ok = 1;
                if (!ok) {
                        char list[256];

                        join_names(list, sizeof(list), allowed);
                        ab_conf_path_key(sub, sizeof(sub), path, key);
                        return ab_error_set(err, AB_ERR_CONFIG, sub,
                                            "unknown key (expected one of: "
                                            "%s)",
                                            list);
                }
        }
        return AB_OK;
}

ab_err_t ab_integ_compile_selref(struct compiler *cc, const json_t *v,
                                 const char *path, struct ab_sel_ref *out)
{
        struct ab_error sub;
        ab_err_t rc;

        if (!json_is_string(v))
                return ab_error_set(cc->err, AB_ERR_CONFIG, path,
                                    "must be a selector string such as "
                                    "'$.key', not %s",
                                    ab_conf_type_name(v));
        ab_error_clear(&sub);
        rc = ab_selector_compile(json_string_value(v), &out->sel, &sub);
        if (rc)
                return ab_error_set(cc->err, rc, path, "%s (at character %zu)",
                                    sub.text, sub.offset);
        out->relative = false;
        out->skip     = 0;
        if (cc->batch_root) {
                size_t skip =
                    ab_selector_batch_prefix(out->sel, cc->batch_root);
                if (skip) {
                        out->relative = true;
                        out->skip     = skip;
                }
        }
        rc = ab_selpaths_add(cc->paths, out->sel, out->skip, out->relative,
                             &out->path);
        if (rc) {
                /* On failure the caller owns nothing. */
                ab_selector_destroy(out->sel);
                out->sel = NULL;
        }
        return rc;
}

/* ---------------------------------------------------------------- sections */

static ab_err_t compile_entries(struct compiler *cc, const json_t *obj,
                                const char *path, struct ab_entry **out,
                                size_t *nout)
{
        const char *key;
        json_t *v;
        char sub[PATH_MAX_LEN];
        ab_err_t rc;

        if (!obj || json_is_null(obj))
                return AB_OK;
        if (!json_is_object(obj))
                return ab_error_set(cc->err, AB_ERR_CONFIG, path,
                                    "must be a mapping of name to method");
        *out = ab_calloc(json_object_size(obj), sizeof(**out));
        if (!*out)
                return AB_ERR_NOMEM;
        json_object_foreach((json_t *)obj, key, v)
        {
                struct ab_entry *e = &(*out)[*nout];

                (*nout)++;
                ab_conf_path_key(sub, sizeof(sub), path, key);
                if (!*key)
                        return ab_error_set(cc->err, AB_ERR_CONFIG, path,
                                            "names must not be empty");
                e->key_len  = strlen(key);
                e->key      = ab_strndup(key, e->key_len);
                e->wildcard = !strcmp(key, "*");
                if (!e->key)
                        return AB_ERR_NOMEM;
                rc = ab_integ_compile_method(cc, v, sub, 0, &e->method);
                if (rc)
                        return rc;
                if (e->wildcard && e->method.kind != AB_METHOD_DIRECT)
                        return ab_error_set(cc->err, AB_ERR_CONFIG, sub,
                                            "'*' copies an object: it takes "
                                            "{direct: <selector of an "
                                            "object>}");
        }
        return AB_OK;
}

static int maps_label(const struct ab_integration *integ, const char *name)
{
        int f = ab_alert_field_lookup(name, strlen(name));

        if (f >= 0)
                return integ->fields[f].kind != AB_METHOD_NONE;
        for (size_t i = 0; i < integ->nlabels; i++)
                if (integ->labels[i].wildcard ||
                    !strcmp(integ->labels[i].key, name))
                        return 1;
        return 0;
}

static ab_err_t compile_dedup(struct compiler *cc, const json_t *v,
                              struct ab_integration *integ)
{
        static const char *const keys[] = {"fields", NULL};
        const json_t *fields;
        char sub[PATH_MAX_LEN];
        ab_err_t rc;

        if (!v || json_is_null(v))
                return AB_OK;
        if (!json_is_object(v))
                return ab_error_set(cc->err, AB_ERR_CONFIG, "dedup",
                                    "must be a mapping such as {fields: "
                                    "[source, check]}");
        rc = ab_integ_check_keys(v, "dedup", keys, cc->err);
        if (rc)
                return rc;
        fields = json_object_get(v, "fields");
        if (!fields)
                return AB_OK;
        if (!json_is_array(fields))
                return ab_error_set(cc->err, AB_ERR_CONFIG, "dedup.fields",
                                    "must be a list of alert field or label "
                                    "names");
        integ->dedup =
            ab_calloc(json_array_size(fields) + 1, sizeof(*integ->dedup));
        if (!integ->dedup)
                return AB_ERR_NOMEM;
        for (size_t i = 0; i < json_array_size(fields); i++) {
                const json_t *f = json_array_get(fields, i);
                ab_conf_path_index(sub, sizeof(sub), "dedup.fields", i);
                if (!json_is_string(f))
                        return ab_error_set(cc->err, AB_ERR_CONFIG, sub,
                                            "must be a field or label name");
                if (!maps_label(integ, json_string_value(f)))
                        return ab_error_set(
                            cc->err, AB_ERR_CONFIG, sub,
                            "'%s' names nothing this integration maps (map "
                            "it under fields: or labels: first)",
                            json_string_value(f));
                integ->dedup[i] = ab_strdup(json_string_value(f));
                if (!integ->dedup[i])
                        return AB_ERR_NOMEM;
                integ->ndedup++;
        }
        return AB_OK;
}

static ab_err_t compile_fields(struct compiler *cc, const json_t *v,
                               struct ab_integration *integ)
{
        const char *key;
        json_t *m;
        char sub[PATH_MAX_LEN];
        ab_err_t rc;

        if (!json_is_object(v))
                return ab_error_set(cc->err, AB_ERR_CONFIG, "fields",
                                    v ? "must be a mapping of alert field to "
                                        "method"
                                      : "is required");
        json_object_foreach((json_t *)v, key, m)
        {
                int f = ab_alert_field_lookup(key, strlen(key));
                ab_conf_path_key(sub, sizeof(sub), "fields", key);
                if (f < 0)
                        return ab_error_set(
                            cc->err, AB_ERR_CONFIG, sub,
                            "unknown alert field (expected alertname, "
                            "severity, message, value, imageUrl, check, "
                            "source, class, service, startat, endat, "
                            "generatorUrl; put other names under labels: or "
                            "annotations:)");
                rc = ab_integ_compile_method(cc, m, sub, f == AB_FIELD_SEVERITY,
                                             &integ->fields[f]);
                if (rc)
                        return rc;
        }
        if (!integ->fields[AB_FIELD_ALERTNAME].kind)
                return ab_error_set(cc->err, AB_ERR_CONFIG, "fields.alertname",
                                    "is required");
        if (!integ->fields[AB_FIELD_SEVERITY].kind)
                return ab_error_set(cc->err, AB_ERR_CONFIG, "fields.severity",
                                    "is required");
        return AB_OK;
}

static ab_err_t compile_root(const json_t *root, struct ab_integration *integ,
                             struct ab_error *err)
{
        static const char *const keys[] = {
            "name",   "description", "auto_clear",  "batch", "recovery",
            "fields", "labels",      "annotations", "dedup", NULL};
        struct compiler cc = {NULL, err, &integ->paths};
        const json_t *v;
        ab_err_t rc;

        if (!json_is_object(root))
                return ab_error_set(err, AB_ERR_CONFIG, NULL,
                                    "an integration must be a mapping");
        rc = ab_integ_check_keys(root, NULL, keys, err);
        if (rc)
                return rc;
        v = json_object_get(root, "name");
        if (!json_is_string(v) || !*json_string_value(v))
                return ab_error_set(err, AB_ERR_CONFIG, "name",
                                    "is required and must be a non-empty "
                                    "string");
        integ->name = ab_strdup(json_string_value(v));
        if (!integ->name)
                return AB_ERR_NOMEM;
        v = json_object_get(root, "description");
        if (v && !json_is_string(v))
                return ab_error_set(err, AB_ERR_CONFIG, "description",
                                    "must be a string");

        v = json_object_get(root, "auto_clear");
        if (v && !json_is_null(v)) {
                long long ms;
                char tmp[64];
                const char *s = tmp;
                if (json_is_integer(v))
                        snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT,
                                 json_integer_value(v));
                else if (json_is_string(v))
                        s = json_string_value(v);
                else
                        s = NULL;
                if (!s || ab_conf_parse_duration(s, &ms) || ms < 0)
                        return ab_error_set(err, AB_ERR_CONFIG, "auto_clear",
                                            "must be a duration such as 30m, "
                                            "1h or 90s");
                integ->auto_clear_ms = ms;
        }

        v = json_object_get(root, "batch");
        if (v && !json_is_null(v)) {
                static const char *const bkeys[] = {"root", "max_alerts", NULL};
                struct ab_sel_ref ref            = {0};
                const json_t *max;
                if (!json_is_object(v))
                        return ab_error_set(err, AB_ERR_CONFIG, "batch",
                                            "must be a mapping such as "
                                            "{root: $.alerts}");
                rc = ab_integ_check_keys(v, "batch", bkeys, err);
                if (rc)
                        return rc;
                rc = ab_integ_compile_selref(&cc, json_object_get(v, "root"),
                                             "batch.root", &ref);
                if (rc)
                        return rc;
                integ->batch_root = ref.sel;
                if (ab_selector_has_wildcard(integ->batch_root))
                        return ab_error_set(err, AB_ERR_CONFIG, "batch.root",
                                            "must select one array without "
                                            "[*]");
                cc.batch_root = integ->batch_root;
                max           = json_object_get(v, "max_alerts");
                if (max &&
                    (!json_is_integer(max) || json_integer_value(max) < 1 ||
                     json_integer_value(max) > AB_INTEGRATION_MAX_ALERTS_CAP))
                        return ab_error_set(err, AB_ERR_CONFIG,
                                            "batch.max_alerts",
                                            "must be an integer from 1 to "
                                            "%d",
                                            AB_INTEGRATION_MAX_ALERTS_CAP);
                if (max)
                        integ->max_alerts = (uint32_t)json_integer_value(max);
        }

        v = json_object_get(root, "recovery");
        if (v && !json_is_null(v)) {
                static const char *const rkeys[] = {"when", NULL};
                const json_t *when;
                if (!json_is_object(v))
                        return ab_error_set(err, AB_ERR_CONFIG, "recovery",
                                            "must be a mapping such as "
                                            "{when: [...]}");
                rc = ab_integ_check_keys(v, "recovery", rkeys, err);
                if (rc)
                        return rc;
                when = json_object_get(v, "when");
                if (!when)
                        return ab_error_set(err, AB_ERR_CONFIG, "recovery.when",
                                            "is required");
                integ->recovery = ab_calloc(1, sizeof(*integ->recovery));
                if (!integ->recovery)
                        return AB_ERR_NOMEM;
                if (json_is_array(when)) {
                        integ->recovery->op = AB_COND_ALL;

                        rc = ab_integ_compile_cond_list(
                            &cc, when, "recovery.when", integ->recovery);
                } else {
                        rc = ab_integ_compile_cond(&cc, when, "recovery.when",
                                                   integ->recovery);
                }
                if (rc)
                        return rc;
        }

        rc = compile_fields(&cc, json_object_get(root, "fields"), integ);
        if (rc)
                return rc;
        rc = compile_entries(&cc, json_object_get(root, "labels"), "labels",
                             &integ->labels, &integ->nlabels);
        if (rc)
                return rc;
        rc = compile_entries(&cc, json_object_get(root, "annotations"),
                             "annotations", &integ->annotations,
                             &integ->nannotations);
        if (rc)
                return rc;
        return compile_dedup(&cc, json_object_get(root, "dedup"), integ);
}

ab_err_t ab_integration_compile(const json_t *root, const char *origin,
                                struct ab_integration **out,
                                struct ab_error *err)
{
        struct ab_integration *integ;
        ab_err_t rc;

        *out  = NULL;
        integ = ab_calloc(1, sizeof(*integ));
        if (!integ)
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        integ->max_alerts = AB_INTEGRATION_MAX_ALERTS;
        rc                = compile_root(root, integ, err);
        if (rc) {
                if (err && err->code == AB_OK)
                        ab_error_set(err, rc, NULL, "%s", ab_err_desc(rc));
                if (err && origin && rc == AB_ERR_CONFIG)
                        ab_error_prefix(err, origin);
                ab_integration_destroy(integ);
                return rc;
        }
        integ->config = json_deep_copy(root);
        if (!integ->config) {
                ab_integration_destroy(integ);
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        }
        *out = integ;
        return AB_OK;
}

/* ---------------------------------------------------------------- loading */

static int looks_like_path(const char *s)
{
        size_t n = strlen(s);

        if (strchr(s, '/'))
                return 1;
        return (n > 5 && !strcmp(s + n - 5, ".yaml")) ||
               (n > 4 && !strcmp(s + n - 4, ".yml")) ||
               (n > 5 && !strcmp(s + n - 5, ".json"));
}

const char *ab_integration_builtin_text(const char *name)
{
        for (const struct ab_builtin_file *b = ab_builtin_files; b->name; b++)
                if (!strcmp(b->name, name))
                        return b->text;
        return NULL;
}

const char *const *ab_integration_builtin_names(void)
{
        static const char *names[64];

        if (!names[0]) {
                size_t n = 0;
                for (const struct ab_builtin_file *b = ab_builtin_files;
                     b->name && n + 1 < sizeof(names) / sizeof(*names); b++)
                        names[n++] = b->name;
        }
        return names;
}

ab_err_t ab_integration_load(const char *name_or_path,
                             struct ab_integration **out, struct ab_error *err)
{
        json_t *root = NULL;
        ab_err_t rc;

        *out = NULL;
        if (looks_like_path(name_or_path)) {
                root = ab_conf_load_file(name_or_path, err);
        } else {
                const char *text = ab_integration_builtin_text(name_or_path);
                if (!text) {
                        char list[256];

                        join_names(list, sizeof(list),
                                   ab_integration_builtin_names());
                        return ab_error_set(err, AB_ERR_NOT_FOUND, NULL,
                                            "no built-in integration named "
                                            "'%s' (built-ins: %s; a file path "
                                            "must contain '/' or end in "
                                            ".yaml, .yml or .json)",
                                            name_or_path, list);
                }
                root =
                    ab_conf_load_string(text, strlen(text), name_or_path, err);
        }
        if (!root)
                return err && err->code ? err->code : AB_ERR_CONFIG;
        rc = ab_integration_compile(root, name_or_path, out, err);
        json_decref(root);
        return rc;
}

/* ---------------------------------------------------------------- accessors */

const char *ab_integration_name(const struct ab_integration *integ)
{
        return integ->name;
}

int64_t ab_integration_auto_clear_ms(const struct ab_integration *integ)
{
        return integ->auto_clear_ms;
}

const char *const *
ab_integration_dedup_fields(const struct ab_integration *integ, size_t *n)
{
        *n = integ->ndedup;
        return (const char *const *)integ->dedup;
}

const json_t *ab_integration_config(const struct ab_integration *integ)
{
        return integ->config;
}
