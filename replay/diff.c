/* diff.c - pairs the outputs of one record, compares them field by field,
 * counts the changes and renders a bounded number of examples. */
#include "replay/diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "transform/event.h"

#define DIFF_MAX_PATHS  64 /* distinct changed paths counted by name */
#define DIFF_MAX_FIELDS 8  /* field lines shown per changed example */
#define DIFF_VALUE_MAX  72 /* bytes of a value shown in an example */

struct path_stat {
        char *path; /* owned */
        uint64_t count;
};

struct ab_replay_diff {
        size_t max_examples;
        uint64_t n[AB_REPLAY_ITEM__COUNT][AB_REPLAY_CHANGE__COUNT];
        /* Rendered examples of CHANGED, ADDED and REMOVED, in replay
         * order, at most max_examples each. */
        struct ab_buf ex[AB_REPLAY_CHANGE__COUNT];
        size_t nex[AB_REPLAY_CHANGE__COUNT];
        struct path_stat paths[DIFF_MAX_PATHS];
        size_t npaths;
        uint64_t other_paths; /* changes of paths beyond DIFF_MAX_PATHS */
        /* Scratch, reused from record to record. */
        long *pair;  /* per new item: the index of its old item, or -1 */
        bool *taken; /* per old item: paired already */
        size_t cap_new;
        size_t cap_old;
        struct ab_json_doc da;
        struct ab_json_doc db;
        struct ab_buf path;
        struct ab_buf fields; /* field lines of the pair being compared */
        size_t nfields;       /* fields that differ in that pair */
        bool keep_fields;     /* render them: an example slot is free */
};

int ab_replay_pos_cmp(const struct ab_replay_pos *a,
                      const struct ab_replay_pos *b)
{
        if (a->ts != b->ts)
                return a->ts < b->ts ? -1 : 1;
        if (a->partition != b->partition)
                return a->partition < b->partition ? -1 : 1;
        if (a->offset != b->offset)
                return a->offset < b->offset ? -1 : 1;
        return 0;
}

struct ab_replay_diff *ab_replay_diff_new(size_t max_examples)
{
        struct ab_replay_diff *d = ab_calloc(1, sizeof(*d));

        if (!d)
                return NULL;
        d->max_examples = max_examples;
        for (int i = 0; i < AB_REPLAY_CHANGE__COUNT; i++)
                ab_buf_init(&d->ex[i], 0);
        ab_json_doc_init(&d->da);
        ab_json_doc_init(&d->db);
        ab_buf_init(&d->path, 0);
        ab_buf_init(&d->fields, 0);
        return d;
}

void ab_replay_diff_destroy(struct ab_replay_diff *d)
{
        if (!d)
                return;
        for (int i = 0; i < AB_REPLAY_CHANGE__COUNT; i++)
                ab_buf_fini(&d->ex[i]);
        for (size_t i = 0; i < d->npaths; i++)
                ab_free(d->paths[i].path);
        ab_free(d->pair);
        ab_free(d->taken);
        ab_json_doc_fini(&d->da);
        ab_json_doc_fini(&d->db);
        ab_buf_fini(&d->path);
        ab_buf_fini(&d->fields);
        ab_free(d);
}

uint64_t ab_replay_diff_count(const struct ab_replay_diff *d,
                              enum ab_replay_item_kind kind,
                              enum ab_replay_change change)
{
        return d->n[kind][change];
}

bool ab_replay_diff_found(const struct ab_replay_diff *d)
{
        for (int k = 0; k < AB_REPLAY_ITEM__COUNT; k++)
                for (int c = AB_REPLAY_CHANGED; c < AB_REPLAY_CHANGE__COUNT;
                     c++)
                        if (d->n[k][c])
                                return true;
        return false;
}

/* ---------------------------------------------------------------- fields */

struct walk {
        const struct ab_json_doc *a;
        const struct ab_json_doc *b;
        struct ab_buf *path;
        ab_replay_field_fn fn;
        void *arg;
};

/* ".key" for plain keys, "[\"any key\"]" for the others. */
static ab_err_t path_push_key(struct ab_buf *p, struct ab_str key)
{
        bool plain = key.len > 0;
        ab_err_t rc;

        for (size_t i = 0; plain && i < key.len; i++) {
                char c = key.ptr[i];
                plain  = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-';
        }
        if (!plain) {
                rc = ab_buf_append_char(p, '[');
                if (!rc)
                        rc = ab_buf_append_json_str(p, key.ptr, key.len);
                return rc ? rc : ab_buf_append_char(p, ']');
        }
        if (p->len && (rc = ab_buf_append_char(p, '.')))
                return rc;
        return ab_buf_append(p, key.ptr, key.len);
}

static ab_err_t report(struct walk *w, uint32_t ia, uint32_t ib)
{
        struct ab_str a =
            ia == AB_JSON_NONE ? AB_STR_NULL : ab_json_raw(w->a, ia);
        struct ab_str b =
            ib == AB_JSON_NONE ? AB_STR_NULL : ab_json_raw(w->b, ib);

        return w->fn(w->arg, w->path->len ? w->path->data : "(root)", a, b);
}

static ab_err_t walk(struct walk *w, uint32_t ia, uint32_t ib);

static ab_err_t walk_object(struct walk *w, uint32_t ia, uint32_t ib)
{
        size_t mark = w->path->len;
        uint32_t k  = ia + 1;
        ab_err_t rc = AB_OK;

        for (uint32_t m = 0; !rc && m < ab_json_at(w->a, ia)->size; m++) {
                struct ab_str key = ab_json_text(w->a, k);
                uint32_t va       = k + 1;
                uint32_t vb       = ab_json_get(w->b, ib, key.ptr, key.len);

                rc = path_push_key(w->path, key);
                if (!rc)
                        rc = vb == AB_JSON_NONE ? report(w, va, vb)
                                                : walk(w, va, vb);
                ab_buf_truncate(w->path, mark);
                k = ab_json_at(w->a, va)->next;
        }
        k = ib + 1;
        for (uint32_t m = 0; !rc && m < ab_json_at(w->b, ib)->size; m++) {
                struct ab_str key = ab_json_text(w->b, k);
                uint32_t vb       = k + 1;

                if (ab_json_get(w->a, ia, key.ptr, key.len) == AB_JSON_NONE) {
                        rc = path_push_key(w->path, key);
                        if (!rc)
                                rc = report(w, AB_JSON_NONE, vb);
                        ab_buf_truncate(w->path, mark);
                }
                k = ab_json_at(w->b, vb)->next;
        }
        return rc;
}

static ab_err_t walk_array(struct walk *w, uint32_t ia, uint32_t ib)
{
        uint32_t na = ab_json_at(w->a, ia)->size;
        uint32_t nb = ab_json_at(w->b, ib)->size;
        uint32_t ea = ia + 1, eb = ib + 1;
        size_t mark = w->path->len;
        ab_err_t rc = AB_OK;

        for (uint32_t i = 0; !rc && (i < na || i < nb); i++) {
                uint32_t va = i < na ? ea : AB_JSON_NONE;
                uint32_t vb = i < nb ? eb : AB_JSON_NONE;

                rc = ab_buf_appendf(w->path, "[%u]", (unsigned)i);
                if (!rc)
                        rc = va != AB_JSON_NONE && vb != AB_JSON_NONE
                                 ? walk(w, va, vb)
                                 : report(w, va, vb);
                ab_buf_truncate(w->path, mark);
                if (i < na)
                        ea = ab_json_at(w->a, ea)->next;
                if (i < nb)
                        eb = ab_json_at(w->b, eb)->next;
        }
        return rc;
}

static ab_err_t walk(struct walk *w, uint32_t ia, uint32_t ib)
{
        enum ab_json_type ta = ab_json_type_of(w->a, ia);
        enum ab_json_type tb = ab_json_type_of(w->b, ib);

        if (ta != tb)
                return report(w, ia, ib);
        switch (ta) {
        case AB_JSON_OBJECT:
                return walk_object(w, ia, ib);
        case AB_JSON_ARRAY:
                return walk_array(w, ia, ib);
        case AB_JSON_STRING:
                if (ab_str_eq(ab_json_text(w->a, ia), ab_json_text(w->b, ib)))
                        return AB_OK;
                return report(w, ia, ib);
        default:
                if (ab_str_eq(ab_json_raw(w->a, ia), ab_json_raw(w->b, ib)))
                        return AB_OK;
                return report(w, ia, ib);
        }
}

static ab_err_t json_diff(struct ab_json_doc *da, struct ab_json_doc *db,
                          struct ab_buf *path, const char *a, size_t alen,
                          const char *b, size_t blen, ab_replay_field_fn fn,
                          void *arg)
{
        struct walk w = {da, db, path, fn, arg};
        ab_err_t rc;

        rc = ab_json_parse(da, a, alen, NULL);
        if (!rc)
                rc = ab_json_parse(db, b, blen, NULL);
        if (rc)
                return rc == AB_ERR_NOMEM ? rc : AB_ERR_DECODE;
        ab_buf_reset(path);
        return walk(&w, 0, 0);
}

ab_err_t ab_replay_json_diff(const char *a, size_t alen, const char *b,
                             size_t blen, ab_replay_field_fn fn, void *arg)
{
        struct ab_json_doc da, db;
        struct ab_buf path;
        ab_err_t rc;

        ab_json_doc_init(&da);
        ab_json_doc_init(&db);
        ab_buf_init(&path, 0);
        rc = json_diff(&da, &db, &path, a, alen, b, blen, fn, arg);
        ab_json_doc_fini(&da);
        ab_json_doc_fini(&db);
        ab_buf_fini(&path);
        return rc;
}

/* ---------------------------------------------------------------- records */

/* Append at most DIFF_VALUE_MAX bytes of \p v, cut on a UTF-8 boundary. */
static ab_err_t append_value(struct ab_buf *out, struct ab_str v)
{
        size_t n = v.len;
        ab_err_t rc;

        if (!v.ptr)
                return ab_buf_append_str(out, "(absent)");
        if (n <= DIFF_VALUE_MAX)
                return ab_buf_append(out, v.ptr, n);
        n = DIFF_VALUE_MAX;
        while (n && ((unsigned char)v.ptr[n] & 0xc0) == 0x80)
                n--;
        rc = ab_buf_append(out, v.ptr, n);
        return rc ? rc : ab_buf_append_str(out, "...");
}

static ab_err_t count_path(struct ab_replay_diff *d, const char *path)
{
        size_t i;

        for (i = 0; i < d->npaths; i++)
                if (!strcmp(d->paths[i].path, path))
                        break;
        if (i == d->npaths) {
                if (d->npaths == DIFF_MAX_PATHS) {
                        d->other_paths++;
                        return AB_OK;
                }
                d->paths[i].path = ab_strdup(path);
                if (!d->paths[i].path)
                        return AB_ERR_NOMEM;
                d->paths[i].count = 0;
                d->npaths++;
        }
        d->paths[i].count++;
        return AB_OK;
}

static ab_err_t on_field(void *arg, const char *path, struct ab_str old,
                         struct ab_str new_)
{
        struct ab_replay_diff *d = arg;
        ab_err_t rc              = count_path(d, path);

        if (rc || !d->keep_fields || d->nfields++ >= DIFF_MAX_FIELDS)
                return rc;
        rc = ab_buf_appendf(&d->fields, "      %s: ", path);
        if (!rc)
                rc = append_value(&d->fields, old);
        if (!rc)
                rc = ab_buf_append_str(&d->fields, " -> ");
        if (!rc)
                rc = append_value(&d->fields, new_);
        return rc ? rc : ab_buf_append_char(&d->fields, '\n');
}

/* Member path \p keys (NULL-terminated; "#0" is array element 0) of the
 * parsed document \p doc, or AB_JSON_NONE. */
static uint32_t dig(const struct ab_json_doc *doc, const char *const *keys)
{
        uint32_t i = 0;

        for (; *keys && i != AB_JSON_NONE; keys++)
                i = (*keys)[0] == '#'
                        ? ab_json_index(doc, i,
                                        (uint32_t)strtoul(*keys + 1, NULL, 10))
                        : ab_json_get(doc, i, *keys, strlen(*keys));
        return i;
}

/* "create event, alertname "cpu", fingerprint 3a0c..." or
 * "rejection decode: the record has no value". */
static ab_err_t describe(struct ab_replay_diff *d,
                         const struct ab_replay_item *it, struct ab_buf *out)
{
        static const char *const alertname[] = {
            "data", "data", "alerts", "#0", "labels", "alertname", NULL};
        static const char *const message[] = {"message", NULL};
        bool parsed =
            ab_json_parse(&d->da, it->body.ptr, it->body.len, NULL) == AB_OK;
        uint32_t v;
        ab_err_t rc;

        if (it->kind == AB_REPLAY_ITEM_REJECTION) {
                rc = ab_buf_appendf(out, "rejection %s",
                                    ab_err_code((ab_err_t)it->type));
                v  = parsed ? dig(&d->da, message) : AB_JSON_NONE;
                if (!rc && v != AB_JSON_NONE) {
                        rc = ab_buf_append_str(out, ": ");
                        if (!rc)
                                rc = append_value(out, ab_json_text(&d->da, v));
                }
                return rc;
        }
        rc = ab_buf_appendf(out, "%s event",
                            ab_event_type_short((enum ab_event_type)it->type));
        v  = parsed ? dig(&d->da, alertname) : AB_JSON_NONE;
        if (!rc && v != AB_JSON_NONE) {
                rc = ab_buf_append_str(out, ", alertname ");
                if (!rc)
                        rc = append_value(out, ab_json_raw(&d->da, v));
        }
        if (!rc && it->key.len) {
                rc = ab_buf_append_str(out, ", fingerprint ");
                if (!rc)
                        rc = ab_buf_append(out, it->key.ptr, it->key.len);
        }
        return rc;
}

/* Render one example line for \p it under \p change, if a slot is free. */
static ab_err_t example(struct ab_replay_diff *d, enum ab_replay_change change,
                        const struct ab_replay_pos *pos,
                        const struct ab_replay_item *it)
{
        struct ab_buf *out = &d->ex[change];
        char t[AB_TIME_RFC3339_LEN];
        ab_err_t rc;

        if (d->nex[change] >= d->max_examples)
                return AB_OK;
        d->nex[change]++;
        ab_time_format(pos->ts, t);
        rc = ab_buf_appendf(out, "  partition %d offset %lld (%s) output %u: ",
                            (int)pos->partition, (long long)pos->offset, t,
                            (unsigned)it->index);
        if (!rc)
                rc = describe(d, it, out);
        if (!rc)
                rc = ab_buf_append_char(out, '\n');
        if (!rc && change == AB_REPLAY_CHANGED && d->fields.len) {
                rc = ab_buf_append(out, d->fields.data, d->fields.len);
                if (!rc && d->nfields > DIFF_MAX_FIELDS)
                        rc = ab_buf_appendf(out, "      ... %zu more fields\n",
                                            d->nfields - DIFF_MAX_FIELDS);
        }
        return rc;
}

static ab_err_t compare_pair(struct ab_replay_diff *d,
                             const struct ab_replay_pos *pos,
                             const struct ab_replay_item *o,
                             const struct ab_replay_item *n)
{
        ab_err_t rc;

        if (ab_str_eq(o->body, n->body)) {
                d->n[n->kind][AB_REPLAY_SAME]++;
                return AB_OK;
        }
        ab_buf_reset(&d->fields);
        d->nfields     = 0;
        d->keep_fields = d->nex[AB_REPLAY_CHANGED] < d->max_examples;
        rc = json_diff(&d->da, &d->db, &d->path, o->body.ptr, o->body.len,
                       n->body.ptr, n->body.len, on_field, d);
        if (rc == AB_ERR_DECODE) {
                /* Not JSON on one side: the bodies differ as text. */
                d->nfields = 1;
                ab_buf_reset(&d->fields);
                rc = count_path(d, "(body)");
                if (!rc && d->keep_fields)
                        rc = ab_buf_append_str(&d->fields,
                                               "      (body): not JSON on "
                                               "one side; the texts differ\n");
        }
        if (rc)
                return rc;
        if (!d->nfields) {
                d->n[n->kind][AB_REPLAY_SAME]++;
                return AB_OK;
        }
        d->n[n->kind][AB_REPLAY_CHANGED]++;
        return example(d, AB_REPLAY_CHANGED, pos, n);
}

static ab_err_t scratch(struct ab_replay_diff *d, size_t nold, size_t nnew)
{
        if (nnew > d->cap_new) {
                long *p = ab_realloc(d->pair, nnew * sizeof(*p));
                if (!p)
                        return AB_ERR_NOMEM;
                d->pair    = p;
                d->cap_new = nnew;
        }
        if (nold > d->cap_old) {
                bool *t = ab_realloc(d->taken, nold * sizeof(*t));
                if (!t)
                        return AB_ERR_NOMEM;
                d->taken   = t;
                d->cap_old = nold;
        }
        return AB_OK;
}

/* May \p o pair with \p n in pairing pass \p pass (see diff.h)? */
static bool pairable(const struct ab_replay_item *o,
                     const struct ab_replay_item *n, int pass)
{
        if (o->kind != n->kind)
                return false;
        switch (pass) {
        case 0:
                return o->type == n->type && ab_str_eq(o->key, n->key);
        case 1:
                return o->type == n->type;
        default:
                return n->kind == AB_REPLAY_ITEM_REJECTION;
        }
}

ab_err_t ab_replay_diff_record(struct ab_replay_diff *d,
                               const struct ab_replay_pos *pos,
                               const struct ab_replay_item *old, size_t nold,
                               const struct ab_replay_item *new_, size_t nnew)
{
        ab_err_t rc = scratch(d, nold, nnew);

        if (rc)
                return rc;
        for (size_t j = 0; j < nnew; j++)
                d->pair[j] = -1;
        for (size_t i = 0; i < nold; i++)
                d->taken[i] = false;
        for (int pass = 0; pass < 3; pass++) {
                for (size_t j = 0; j < nnew; j++) {
                        if (d->pair[j] >= 0)
                                continue;
                        for (size_t i = 0; i < nold; i++) {
                                if (d->taken[i] ||
                                    !pairable(&old[i], &new_[j], pass))
                                        continue;
                                d->pair[j]  = (long)i;
                                d->taken[i] = true;
                                break;
                        }
                }
        }
        for (size_t j = 0; !rc && j < nnew; j++) {
                if (d->pair[j] >= 0) {
                        rc = compare_pair(d, pos, &old[d->pair[j]], &new_[j]);
                        continue;
                }
                d->n[new_[j].kind][AB_REPLAY_ADDED]++;
                rc = example(d, AB_REPLAY_ADDED, pos, &new_[j]);
        }
        for (size_t i = 0; !rc && i < nold; i++) {
                if (d->taken[i])
                        continue;
                d->n[old[i].kind][AB_REPLAY_REMOVED]++;
                rc = example(d, AB_REPLAY_REMOVED, pos, &old[i]);
        }
        return rc;
}

/* ---------------------------------------------------------------- reports */

static const char *const kind_names[AB_REPLAY_ITEM__COUNT]     = {"events",
                                                                  "rejections"};
static const char *const change_names[AB_REPLAY_CHANGE__COUNT] = {
    "same", "changed", "added", "removed"};

/* Most frequent first, ties by name. */
static int by_count(const void *a, const void *b)
{
        const struct path_stat *x = a;
        const struct path_stat *y = b;

        if (x->count != y->count)
                return x->count > y->count ? -1 : 1;
        return strcmp(x->path, y->path);
}

/* The path statistics of \p d, sorted into \p out (borrowing the names). */
static void sorted_paths(const struct ab_replay_diff *d, struct path_stat *out)
{
        memcpy(out, d->paths, d->npaths * sizeof(*out));
        qsort(out, d->npaths, sizeof(*out), by_count);
}

static ab_err_t render_section(const struct ab_replay_diff *d,
                               enum ab_replay_change c, const char *note,
                               struct ab_buf *out)
{
        uint64_t total =
            d->n[AB_REPLAY_ITEM_EVENT][c] + d->n[AB_REPLAY_ITEM_REJECTION][c];
        ab_err_t rc;

        if (!total)
                return AB_OK;
        rc = ab_buf_appendf(out, "%s (%llu%s%s", change_names[c],
                            (unsigned long long)total, note ? ", " : "",
                            note ? note : "");
        if (!rc && total > d->nex[c])
                rc = ab_buf_appendf(out, ", first %zu shown", d->nex[c]);
        if (!rc)
                rc = ab_buf_append_str(out, "):\n");
        if (rc || !d->ex[c].len)
                return rc;
        return ab_buf_append(out, d->ex[c].data, d->ex[c].len);
}

ab_err_t ab_replay_diff_render(const struct ab_replay_diff *d,
                               const char *old_name, const char *new_name,
                               struct ab_buf *out)
{
        struct path_stat sorted[DIFF_MAX_PATHS];
        char note[256];
        ab_err_t rc;

        rc = ab_buf_appendf(out, "%s vs %s: %s\n", old_name, new_name,
                            ab_replay_diff_found(d) ? "DIFFERENT"
                                                    : "no differences");
        for (int k = 0; !rc && k < AB_REPLAY_ITEM__COUNT; k++)
                rc = ab_buf_appendf(
                    out,
                    "  %-11s %llu same, %llu changed, %llu added, %llu "
                    "removed\n",
                    kind_names[k], (unsigned long long)d->n[k][AB_REPLAY_SAME],
                    (unsigned long long)d->n[k][AB_REPLAY_CHANGED],
                    (unsigned long long)d->n[k][AB_REPLAY_ADDED],
                    (unsigned long long)d->n[k][AB_REPLAY_REMOVED]);
        if (!rc && d->npaths)
                rc = ab_buf_append_str(out, "fields changed (outputs):\n");
        sorted_paths(d, sorted);
        for (size_t i = 0; !rc && i < d->npaths; i++)
                rc = ab_buf_appendf(out, "  %8llu  %s\n",
                                    (unsigned long long)sorted[i].count,
                                    sorted[i].path);
        if (!rc && d->other_paths)
                rc = ab_buf_appendf(out, "  %8llu  (other fields)\n",
                                    (unsigned long long)d->other_paths);
        if (!rc)
                rc = render_section(d, AB_REPLAY_CHANGED, NULL, out);
        snprintf(note, sizeof(note), "only in %s", old_name);
        if (!rc)
                rc = render_section(d, AB_REPLAY_REMOVED, note, out);
        snprintf(note, sizeof(note), "only in %s", new_name);
        if (!rc)
                rc = render_section(d, AB_REPLAY_ADDED, note, out);
        return rc;
}

ab_err_t ab_replay_diff_json(const struct ab_replay_diff *d, struct ab_buf *out)
{
        struct path_stat sorted[DIFF_MAX_PATHS];
        ab_err_t rc;

        rc = ab_buf_appendf(out, "{\"different\":%s",
                            ab_replay_diff_found(d) ? "true" : "false");
        for (int k = 0; !rc && k < AB_REPLAY_ITEM__COUNT; k++) {
                rc = ab_buf_appendf(out, ",\"%s\":{", kind_names[k]);
                for (int c = 0; !rc && c < AB_REPLAY_CHANGE__COUNT; c++)
                        rc = ab_buf_appendf(out, "%s\"%s\":%llu", c ? "," : "",
                                            change_names[c],
                                            (unsigned long long)d->n[k][c]);
                if (!rc)
                        rc = ab_buf_append_char(out, '}');
        }
        if (!rc)
                rc = ab_buf_append_str(out, ",\"fields\":[");
        sorted_paths(d, sorted);
        for (size_t i = 0; !rc && i < d->npaths; i++) {
                const struct path_stat *p = &sorted[i];

                rc = ab_buf_append_str(out, i ? ",{\"path\":" : "{\"path\":");
                if (!rc)
                        rc = ab_buf_append_json_str(out, p->path,
                                                    strlen(p->path));
                if (!rc)
                        rc = ab_buf_appendf(out, ",\"count\":%llu}",
                                            (unsigned long long)p->count);
        }
        if (!rc)
                rc = ab_buf_appendf(out, "],\"other_fields\":%llu}",
                                    (unsigned long long)d->other_paths);
        return rc;
}
