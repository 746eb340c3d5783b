/* integration_cond.c - compiles an integration's conditions (`when:`,
 * `recovery.when`) into ab_cond trees. */
#include <string.h>

#include "core/conf.h"
#include "core/mem.h"
#include "transform/integration_compile_int.h"

ab_err_t ab_integ_compile_cond_list(struct compiler *cc, const json_t *arr,
                                    const char *path, struct ab_cond *c)
{
        char sub[PATH_MAX_LEN];
        ab_err_t rc;

        if (!json_is_array(arr) || json_array_size(arr) == 0)
                return ab_error_set(cc->err, AB_ERR_CONFIG, path,
                                    "must be a non-empty list of conditions");
        c->kids = ab_calloc(json_array_size(arr), sizeof(*c->kids));
        if (!c->kids)
                return AB_ERR_NOMEM;
        for (size_t i = 0; i < json_array_size(arr); i++) {
                ab_conf_path_index(sub, sizeof(sub), path, i);
                c->nkids++;
                rc = ab_integ_compile_cond(cc, json_array_get(arr, i), sub,
                                           &c->kids[i]);
                if (rc)
                        return rc;
        }
        return AB_OK;
}

static ab_err_t add_value(struct ab_cond *c, const json_t *v)
{
        size_t len;
        char *s = ab_integ_scalar_text(v, &len);

        if (!s)
                return AB_ERR_NOMEM;
        c->values[c->nvalues]     = s;
        c->value_lens[c->nvalues] = len;
        c->nvalues++;
        return AB_OK;
}

ab_err_t ab_integ_compile_cond(struct compiler *cc, const json_t *v,
                               const char *path, struct ab_cond *c)
{
        static const char *const keys[] = {"field", "equals", "not_equals",
                                           "in",    "exists", "regex",
                                           "all",   "any",    NULL};
        static const char *const ops[]  = {
             "equals", "not_equals", "in", "exists", "regex", "all", "any"};
        const char *op_key = NULL;
        const json_t *arg, *field;
        char sub[PATH_MAX_LEN];
        ab_err_t rc;
        int nops = 0;

        if (!json_is_object(v))
                return ab_error_set(cc->err, AB_ERR_CONFIG, path,
                                    "a condition must be a mapping such as "
                                    "{field: $.x, equals: y}, not %s",
                                    ab_conf_type_name(v));
        rc = ab_integ_check_keys(v, path, keys, cc->err);
        if (rc)
                return rc;
        for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++) {
                if (json_object_get(v, ops[i])) {
                        op_key = ops[i];
                        c->op  = (enum ab_cond_op)i;
                        nops++;
                }
        }
        if (nops != 1)
                return ab_error_set(cc->err, AB_ERR_CONFIG, path,
                                    "a condition needs exactly one of equals, "
                                    "not_equals, in, exists, regex, all, any");
        arg = json_object_get(v, op_key);
        ab_conf_path_key(sub, sizeof(sub), path, op_key);
        field = json_object_get(v, "field");
        if (c->op == AB_COND_ALL || c->op == AB_COND_ANY) {
                if (field)
                        return ab_error_set(cc->err, AB_ERR_CONFIG, path,
                                            "'field' does not go with '%s'",
                                            op_key);
                return ab_integ_compile_cond_list(cc, arg, sub, c);
        }
        if (!field) {
                char fpath[PATH_MAX_LEN];
                ab_conf_path_key(fpath, sizeof(fpath), path, "field");
                return ab_error_set(cc->err, AB_ERR_CONFIG, fpath,
                                    "is required for '%s'", op_key);
        }
        {
                char fpath[PATH_MAX_LEN];
                ab_conf_path_key(fpath, sizeof(fpath), path, "field");
                rc = ab_integ_compile_selref(cc, field, fpath, &c->field);
                if (rc)
                        return rc;
        }
        switch (c->op) {
        case AB_COND_EQUALS:
        case AB_COND_NOT_EQUALS:
        case AB_COND_IN: {
                size_t n = c->op == AB_COND_IN ? json_array_size(arg) : 1;
                if (c->op == AB_COND_IN ? (!json_is_array(arg) || n == 0)
                                        : !ab_integ_is_scalar(arg))
                        return ab_error_set(
                            cc->err, AB_ERR_CONFIG, sub,
                            c->op == AB_COND_IN
                                ? "must be a non-empty list of values"
                                : "must be a string, number or boolean");
                c->values     = ab_calloc(n, sizeof(*c->values));
                c->value_lens = ab_calloc(n, sizeof(*c->value_lens));
                if (!c->values || !c->value_lens)
                        return AB_ERR_NOMEM;
                for (size_t i = 0; i < n; i++) {
                        const json_t *item =
                            c->op == AB_COND_IN ? json_array_get(arg, i) : arg;
                        if (!ab_integ_is_scalar(item)) {
                                char ipath[PATH_MAX_LEN];
                                ab_conf_path_index(ipath, sizeof(ipath), sub,
                                                   i);
                                return ab_error_set(
                                    cc->err, AB_ERR_CONFIG, ipath,
                                    "must be a string, number or boolean");
                        }
                        rc = add_value(c, item);
                        if (rc)
                                return rc;
                }
                break;
        }
        case AB_COND_EXISTS:
                if (!json_is_boolean(arg))
                        return ab_error_set(cc->err, AB_ERR_CONFIG, sub,
                                            "must be true or false");
                c->exists = json_is_true(arg);
                break;
        case AB_COND_REGEX:
                if (!json_is_string(arg))
                        return ab_error_set(cc->err, AB_ERR_CONFIG, sub,
                                            "must be a regular expression "
                                            "string");
                return ab_cond_regex_compile(json_string_value(arg),
                                             json_string_length(arg), sub,
                                             &c->regex, cc->err);
        default:
                break;
        }
        return AB_OK;
}
