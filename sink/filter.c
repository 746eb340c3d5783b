/* filter.c - the sink's filters on event type, level, policy, integration. */
#include "sink/filter.h"

#include <string.h>

#include "core/json.h"
#include "core/str.h"

static bool in_list(char **list, size_t n, struct ab_str s)
{
        for (size_t i = 0; i < n; i++)
                if (ab_str_eq_c(s, list[i]))
                        return true;
        return false;
}

static bool type_matches(const struct ab_sink_filters *f, struct ab_str t)
{
        struct ab_str short_name = t;

        for (size_t i = t.len; i > 0; i--) {
                if (t.ptr[i - 1] == ':') {
                        short_name = ab_str_make(t.ptr + i, t.len - i);
                        break;
                }
        }
        return in_list(f->types, f->ntypes, t) ||
               in_list(f->types, f->ntypes, short_name);
}

static struct ab_str string_at(const struct ab_json_doc *doc, uint32_t obj,
                               const char *key)
{
        uint32_t v = obj == AB_JSON_NONE
                         ? AB_JSON_NONE
                         : ab_json_get(doc, obj, key, strlen(key));

        if (v == AB_JSON_NONE || ab_json_type_of(doc, v) != AB_JSON_STRING)
                return AB_STR_NULL;
        return ab_json_text(doc, v);
}

static uint32_t object_at(const struct ab_json_doc *doc, uint32_t obj,
                          const char *key)
{
        uint32_t v = obj == AB_JSON_NONE
                         ? AB_JSON_NONE
                         : ab_json_get(doc, obj, key, strlen(key));

        if (v == AB_JSON_NONE || ab_json_type_of(doc, v) != AB_JSON_OBJECT)
                return AB_JSON_NONE;
        return v;
}

bool ab_sink_filter_match(const struct ab_sink_filters *f, const char *event,
                          size_t len, const char *type, size_t type_len,
                          const char *integration, size_t integration_len,
                          const char *data, size_t data_len)
{
        struct ab_json_doc doc;
        struct ab_str t, integ, level = AB_STR_NULL, policy = AB_STR_NULL;
        uint32_t inner = AB_JSON_NONE;
        bool ok        = true;

        if (!f->ntypes && !f->severity_mask && !f->npolicies &&
            !f->nintegrations)
                return true;
        ab_json_doc_init(&doc);
        if (event) {
                if (ab_json_parse(&doc, event, len, NULL)) {
                        ok = false;
                        goto out;
                }
                t      = string_at(&doc, 0, "type");
                integ  = string_at(&doc, 0, "integration");
                inner  = object_at(&doc, object_at(&doc, 0, "data"), "data");
                level  = string_at(&doc, inner, "level");
                policy = string_at(&doc, inner, "dispatchRuleName");
        } else {
                t = ab_str_make(type, type ? type_len : 0);
                integ =
                    ab_str_make(integration, integration ? integration_len : 0);
                if (data && !ab_json_parse(&doc, data, data_len, NULL)) {
                        inner  = object_at(&doc, 0, "data");
                        level  = string_at(&doc, inner, "level");
                        policy = string_at(&doc, inner, "dispatchRuleName");
                }
        }
        if (f->ntypes && (!t.ptr || !type_matches(f, t)))
                ok = false;
        if (ok && f->nintegrations &&
            (!integ.ptr || !in_list(f->integrations, f->nintegrations, integ)))
                ok = false;
        if (ok && f->npolicies &&
            (!policy.ptr || !in_list(f->policies, f->npolicies, policy)))
                ok = false;
        if (ok && f->severity_mask) {
                ok = level.len == 2 && level.ptr[0] == 'P' &&
                     level.ptr[1] >= '1' && level.ptr[1] <= '4' &&
                     (f->severity_mask & (1u << (level.ptr[1] - '1')));
        }
out:
        ab_json_doc_fini(&doc);
        return ok;
}
