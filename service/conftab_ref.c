/* conftab_ref.c - config descriptor tables as reference documentation. */
#include <stdio.h>

#include "service/conftab.h"
#include "service/conftab_int.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The largest unit that divides \p ms exactly. */
void ab_conftab_format_duration(char *out, size_t size, long long ms)
{
        static const struct {
                long long ms;
                const char *unit;
        } units[] = {
            {86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};

        if (ms == 0) {
                snprintf(out, size, "0");
                return;
        }
        for (size_t i = 0; i < NELEM(units); i++) {
                if (ms % units[i].ms == 0) {
                        snprintf(out, size, "%lld%s", ms / units[i].ms,
                                 units[i].unit);
                        return;
                }
        }
        snprintf(out, size, "%lldms", ms);
}

void ab_conftab_format_size(char *out, size_t size, long long bytes)
{
        static const struct {
                long long mult;
                const char *unit;
        } units[] = {
            {1LL << 30, "GiB"}, {1LL << 20, "MiB"}, {1LL << 10, "KiB"}};

        for (size_t i = 0; i < NELEM(units); i++) {
                if (bytes && bytes % units[i].mult == 0) {
                        snprintf(out, size, "%lld%s", bytes / units[i].mult,
                                 units[i].unit);
                        return;
                }
        }
        snprintf(out, size, "%lld", bytes);
}

static const char *type_label(const struct ab_conftab_prop *p)
{
        switch (p->type) {
        case AB_CONFTAB_STRING:
                return "string";
        case AB_CONFTAB_INT:
                return "int";
        case AB_CONFTAB_BOOL:
                return "bool";
        case AB_CONFTAB_DURATION:
                return "duration";
        case AB_CONFTAB_SIZE:
                return "size";
        case AB_CONFTAB_ENUM:
                return "enum";
        case AB_CONFTAB_LIST:
                return "list";
        case AB_CONFTAB_MAP:
                return "map";
        default:
                return "list of objects";
        }
}

/* A table cell: '|' is escaped so it cannot end the cell. */
static ab_err_t append_cell(struct ab_buf *out, const char *s)
{
        ab_err_t rc = ab_buf_append_str(out, " ");

        for (; *s && !rc; s++)
                rc = *s == '|' ? ab_buf_append_str(out, "\\|")
                               : ab_buf_append_char(out, *s);
        if (!rc)
                rc = ab_buf_append_str(out, " |");
        return rc;
}

void ab_conftab_format_bound(const struct ab_conftab_prop *p, long long v,
                             char *out, size_t size)
{
        if (p->type == AB_CONFTAB_DURATION)
                ab_conftab_format_duration(out, size, v);
        else if (p->type == AB_CONFTAB_SIZE)
                ab_conftab_format_size(out, size, v);
        else
                snprintf(out, size, "%lld", v);
}

static void describe_values(const struct ab_conftab_prop *p, char *out,
                            size_t size)
{
        char lo[32], hi[32];
        size_t n = 0;

        out[0] = '\0';
        if (p->names) {
                for (size_t i = 0; p->names[i] && n < size; i++)
                        n += (size_t)snprintf(out + n, size - n, "%s`%s`",
                                              i ? ", " : "", p->names[i]);
                return;
        }
        switch (p->type) {
        case AB_CONFTAB_INT:
        case AB_CONFTAB_DURATION:
        case AB_CONFTAB_SIZE:
                ab_conftab_format_bound(p, p->min, lo, sizeof(lo));
                ab_conftab_format_bound(p, p->max, hi, sizeof(hi));
                if (p->max)
                        snprintf(out, size, "%s to %s", lo, hi);
                else
                        snprintf(out, size, "at least %s", lo);
                break;
        case AB_CONFTAB_STRING:
                if (p->min > 0)
                        snprintf(out, size, "non-empty");
                break;
        case AB_CONFTAB_LIST:
        case AB_CONFTAB_OBJECTS:
                if (p->min > 0)
                        snprintf(out, size, "at least %lld", p->min);
                break;
        default:
                break;
        }
}

static ab_err_t reference_rows(struct ab_buf *out,
                               const struct ab_conftab *table,
                               const char *prefix)
{
        struct ab_conftab_flat f;
        const struct ab_conftab *t = &f.t;
        ab_err_t rc                = AB_OK;

        if (!ab_conftab_flatten(table, &f))
                return AB_ERR_INTERNAL;
        for (size_t i = 0; i < t->nprops && !rc; i++) {
                const struct ab_conftab_prop *p = &t->props[i];
                char key[128], def[64], values[128];

                snprintf(key, sizeof(key), "`%s%s`", prefix, p->key);
                if (p->flags & AB_CONFTAB_REQUIRED)
                        snprintf(def, sizeof(def), "required");
                else if (p->def && !p->def[0])
                        snprintf(def, sizeof(def), "`\"\"`");
                else if (p->def)
                        snprintf(def, sizeof(def), "`%s`", p->def);
                else if (p->type == AB_CONFTAB_MAP)
                        snprintf(def, sizeof(def), "`{}`");
                else if (p->type == AB_CONFTAB_LIST ||
                         p->type == AB_CONFTAB_OBJECTS)
                        snprintf(def, sizeof(def), "`[]`");
                else
                        snprintf(def, sizeof(def), "unset");
                describe_values(p, values, sizeof(values));
                rc = ab_buf_append_str(out, "|");
                if (!rc)
                        rc = append_cell(out, key);
                if (!rc)
                        rc = append_cell(out, type_label(p));
                if (!rc)
                        rc = append_cell(out, def);
                if (!rc)
                        rc = append_cell(out, values);
                if (!rc)
                        rc = append_cell(out, p->desc);
                if (!rc)
                        rc = ab_buf_append_str(out, "\n");
                if (!rc && p->type == AB_CONFTAB_OBJECTS) {
                        char sub[128];

                        snprintf(sub, sizeof(sub), "%s%s[].", prefix, p->key);
                        rc = reference_rows(out, p->sub, sub);
                }
        }
        return rc;
}

ab_err_t ab_conftab_reference(const struct ab_conftab *t, struct ab_buf *out)
{
        return reference_rows(out, t, "");
}
