/* integration_method.c - compiles a mapping method (direct, series,
 * condition or value, with its map) for one field, label or annotation. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/conf.h"
#include "core/mem.h"
#include "transform/integration_compile_int.h"

static int is_severity_level(const char *s, size_t len)
{
        return len == 2 && (s[0] == 'P' || s[0] == 'p') && s[1] >= '1' &&
               s[1] <= '4';
}

static ab_err_t compile_map(struct compiler *cc, const json_t *v,
                            const char *path, int is_severity,
                            struct ab_method *m)
{
        const json_t *map = json_object_get(v, "map");
        const json_t *def = json_object_get(v, "default");
        char sub[PATH_MAX_LEN];
        const char *key;
        json_t *val;

        if (map) {
                ab_conf_path_key(sub, sizeof(sub), path, "map");
                if (!json_is_object(map) || json_object_size(map) == 0)
                        return ab_error_set(cc->err, AB_ERR_CONFIG, sub,
                                            "must be a non-empty mapping of "
                                            "source value to target value");
                m->map = ab_calloc(json_object_size(map), sizeof(*m->map));
                if (!m->map)
                        return AB_ERR_NOMEM;
                json_object_foreach((json_t *)map, key, val)
                {
                        struct ab_map_entry *e = &m->map[m->nmap];
                        char epath[PATH_MAX_LEN];

                        ab_conf_path_key(epath, sizeof(epath), sub, key);
                        if (!ab_integ_is_scalar(val))
                                return ab_error_set(cc->err, AB_ERR_CONFIG,
                                                    epath,
                                                    "must be a string, not %s",
                                                    ab_conf_type_name(val));
                        e->from_len = strlen(key);
                        e->from     = ab_strndup(key, e->from_len);
                        e->to       = ab_integ_scalar_text(val, &e->to_len);
                        m->nmap++; /* freed with the method, even half made */
                        if (!e->from || !e->to)
                                return AB_ERR_NOMEM;
                        if (is_severity && !is_severity_level(e->to, e->to_len))
                                return ab_error_set(
                                    cc->err, AB_ERR_CONFIG, epath,
                                    "severity must map to P1, P2, P3 or P4, "
                                    "not '%s'",
                                    e->to);
                        if (is_severity)
                                e->to[0] = 'P';
                }
        }
        if (def) {
                ab_conf_path_key(sub, sizeof(sub), path, "default");
                if (!ab_integ_is_scalar(def))
                        return ab_error_set(cc->err, AB_ERR_CONFIG, sub,
                                            "must be a string, not %s",
                                            ab_conf_type_name(def));
                m->map_default = ab_integ_scalar_text(def, &m->map_default_len);
                if (!m->map_default)
                        return AB_ERR_NOMEM;
                if (is_severity &&
                    !is_severity_level(m->map_default, m->map_default_len))
                        return ab_error_set(cc->err, AB_ERR_CONFIG, sub,
                                            "severity default must be P1, P2, "
                                            "P3 or P4, not '%s'",
                                            m->map_default);
                if (is_severity)
                        m->map_default[0] = 'P';
        }
        return AB_OK;
}

static int delimiter_ok(const char *s)
{
        if (!*s)
                return 0;
        for (; *s; s++)
                if (isalnum((unsigned char)*s) || (unsigned char)*s >= 0x80)
                        return 0;
        return 1;
}

static ab_err_t compile_branches(struct compiler *cc, const json_t *arr,
                                 const char *path, int is_severity,
                                 struct ab_method *m)
{
        char sub[PATH_MAX_LEN], wpath[PATH_MAX_LEN];
        ab_err_t rc;
        size_t n = json_array_size(arr);

        if (!json_is_array(arr) || n == 0)
                return ab_error_set(cc->err, AB_ERR_CONFIG, path,
                                    "must be a non-empty list of {when: ..., "
                                    "direct: ...} branches");
        m->branches = ab_calloc(n, sizeof(*m->branches));
        if (!m->branches)
                return AB_ERR_NOMEM;
        for (size_t i = 0; i < n; i++) {
                const json_t *b      = json_array_get(arr, i);
                struct ab_branch *br = &m->branches[i];
                const json_t *when;
                json_t *rest;

                m->nbranches++;
                ab_conf_path_index(sub, sizeof(sub), path, i);
                if (!json_is_object(b))
                        return ab_error_set(cc->err, AB_ERR_CONFIG, sub,
                                            "a branch must be a mapping, not "
                                            "%s",
                                            ab_conf_type_name(b));
                when = json_object_get(b, "when");
                if (when) {
                        ab_conf_path_key(wpath, sizeof(wpath), sub, "when");
                        br->when = ab_calloc(1, sizeof(*br->when));
                        if (!br->when)
                                return AB_ERR_NOMEM;
                        if (json_is_array(when)) {
                                br->when->op = AB_COND_ALL;
                                rc = ab_integ_compile_cond_list(cc, when, wpath,
                                                                br->when);
                        } else {
                                rc = ab_integ_compile_cond(cc, when, wpath,
                                                           br->when);
                        }
                        if (rc)
                                return rc;
                } else if (i + 1 != n) {
                        return ab_error_set(cc->err, AB_ERR_CONFIG, sub,
                                            "only the last branch may omit "
                                            "'when'");
                }
                rest = json_deep_copy(b);
                if (!rest)
                        return AB_ERR_NOMEM;
                json_object_del(rest, "when");
                rc = ab_integ_compile_method(cc, rest, sub, is_severity,
                                             &br->method);
                json_decref(rest);
                if (rc)
                        return rc;
        }
        return AB_OK;
}

ab_err_t ab_integ_compile_method(struct compiler *cc, const json_t *v,
                                 const char *path, int is_severity,
                                 struct ab_method *m)
{
        static const char *const keys[]  = {"direct",    "series", "delimiter",
                                            "condition", "value",  "map",
                                            "default",   NULL};
        static const char *const kinds[] = {"direct", "series", "condition",
                                            "value"};
        const char *kind                 = NULL;
        char sub[PATH_MAX_LEN];
        const json_t *arg;
        ab_err_t rc;
        int nkinds = 0;

        m->path = ab_strdup(path);
        if (!m->path)
                return AB_ERR_NOMEM;
        if (json_is_string(v)) {
                /* Shorthand: `message: $.text` means {direct: $.text}. */
                m->kind = AB_METHOD_DIRECT;
                return ab_integ_compile_selref(cc, v, path, &m->direct);
        }
        if (!json_is_object(v))
                return ab_error_set(cc->err, AB_ERR_CONFIG, path,
                                    "must be a mapping with one of direct, "
                                    "series, condition or value, not %s",
                                    ab_conf_type_name(v));
        rc = ab_integ_check_keys(v, path, keys, cc->err);
        if (rc)
                return rc;
        for (size_t i = 0; i < 4; i++)
                if (json_object_get(v, kinds[i])) {
                        kind = kinds[i];
                        nkinds++;
                }
        if (nkinds != 1)
                return ab_error_set(cc->err, AB_ERR_CONFIG, path,
                                    "needs exactly one of direct, series, "
                                    "condition or value");
        arg = json_object_get(v, kind);
        ab_conf_path_key(sub, sizeof(sub), path, kind);
        if (!strcmp(kind, "direct")) {
                m->kind = AB_METHOD_DIRECT;
                rc      = ab_integ_compile_selref(cc, arg, sub, &m->direct);
        } else if (!strcmp(kind, "series")) {
                const json_t *delim = json_object_get(v, "delimiter");
                size_t n            = json_array_size(arg);

                m->kind = AB_METHOD_SERIES;
                if (!json_is_array(arg) || n == 0)
                        return ab_error_set(cc->err, AB_ERR_CONFIG, sub,
                                            "must be a non-empty list of "
                                            "selectors");
                m->series = ab_calloc(n, sizeof(*m->series));
                if (!m->series)
                        return AB_ERR_NOMEM;
                for (size_t i = 0; i < n; i++) {
                        char ipath[PATH_MAX_LEN];
                        ab_conf_path_index(ipath, sizeof(ipath), sub, i);
                        m->nseries++;
                        rc = ab_integ_compile_selref(cc, json_array_get(arg, i),
                                                     ipath, &m->series[i]);
                        if (rc)
                                return rc;
                }
                if (delim) {
                        char dpath[PATH_MAX_LEN];
                        ab_conf_path_key(dpath, sizeof(dpath), path,
                                         "delimiter");
                        if (!json_is_string(delim) ||
                            !delimiter_ok(json_string_value(delim)))
                                return ab_error_set(
                                    cc->err, AB_ERR_CONFIG, dpath,
                                    "must be a non-empty string of special "
                                    "characters (no letters or digits)");
                }
                m->delimiter =
                    ab_strdup(delim ? json_string_value(delim) : "_");
                if (!m->delimiter)
                        return AB_ERR_NOMEM;
                m->delimiter_len = strlen(m->delimiter);
        } else if (!strcmp(kind, "condition")) {
                m->kind = AB_METHOD_CONDITION;
                rc      = compile_branches(cc, arg, sub, is_severity, m);
        } else {
                m->kind = AB_METHOD_VALUE;
                if (!ab_integ_is_scalar(arg))
                        return ab_error_set(cc->err, AB_ERR_CONFIG, sub,
                                            "must be a string, number or "
                                            "boolean");
                m->value = ab_integ_scalar_text(arg, &m->value_len);
                if (!m->value)
                        return AB_ERR_NOMEM;
        }
        if (rc)
                return rc;
        if (json_object_get(v, "delimiter") && m->kind != AB_METHOD_SERIES) {
                char dpath[PATH_MAX_LEN];
                ab_conf_path_key(dpath, sizeof(dpath), path, "delimiter");
                return ab_error_set(cc->err, AB_ERR_CONFIG, dpath,
                                    "only applies to 'series'");
        }
        return compile_map(cc, v, path, is_severity, m);
}
