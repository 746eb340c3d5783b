/* ndjson.c - writes and parses replay output lines, and reads golden files
 * one record group at a time. */
#include "replay/ndjson.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/file.h"
#include "core/mem.h"
#include "transform/event.h"

#define READ_CHUNK 65536
/* The longest line of a golden file: far above any event the pipeline
 * writes, low enough that a file without newlines cannot exhaust memory. */
#define MAX_LINE ((size_t)64 << 20)

ab_err_t ab_replay_rejection_write(struct ab_buf *out, const struct ab_error *e,
                                   const char *integration)
{
        ab_err_t rc;

        rc = ab_buf_appendf(
            out, "{\"code\":\"%s\",\"message\":", ab_err_code(e->code));
        if (!rc)
                rc = ab_buf_append_json_str(out, e->text, strlen(e->text));
        if (!rc && e->path[0]) {
                rc = ab_buf_append_str(out, ",\"path\":");
                if (!rc)
                        rc = ab_buf_append_json_str(out, e->path,
                                                    strlen(e->path));
        }
        if (!rc && e->has_offset)
                rc = ab_buf_appendf(out, ",\"byte\":%zu", e->offset);
        if (!rc && integration) {
                rc = ab_buf_append_str(out, ",\"integration\":");
                if (!rc)
                        rc = ab_buf_append_json_str(out, integration,
                                                    strlen(integration));
        }
        return rc ? rc : ab_buf_append_char(out, '}');
}

ab_err_t ab_replay_line_write(struct ab_buf *out,
                              const struct ab_replay_pos *pos,
                              const struct ab_replay_item *it)
{
        ab_err_t rc;

        rc = ab_buf_appendf(out,
                            "{\"partition\":%d,\"offset\":%lld,\"ts\":%lld,"
                            "\"index\":%u",
                            (int)pos->partition, (long long)pos->offset,
                            (long long)pos->ts, (unsigned)it->index);
        if (!rc && it->kind == AB_REPLAY_ITEM_EVENT && it->key.len) {
                rc = ab_buf_append_str(out, ",\"key\":");
                if (!rc)
                        rc = ab_buf_append_json_str(out, it->key.ptr,
                                                    it->key.len);
        }
        if (!rc)
                rc = ab_buf_append_str(out, it->kind == AB_REPLAY_ITEM_EVENT
                                                ? ",\"event\":"
                                                : ",\"error\":");
        if (!rc)
                rc = ab_buf_append(out, it->body.ptr, it->body.len);
        return rc ? rc : ab_buf_append(out, "}\n", 2);
}

/* Integer member \p key of the root object within [lo, hi]. */
static int int_member(const struct ab_json_doc *doc, const char *key,
                      int64_t lo, int64_t hi, int64_t *out)
{
        uint32_t v = ab_json_get(doc, 0, key, strlen(key));

        return v == AB_JSON_NONE || ab_json_type_of(doc, v) != AB_JSON_NUMBER ||
                       ab_json_int64(doc, v, out) || *out < lo || *out > hi
                   ? -1
                   : 0;
}

/* The text between the quotes of string token \p i, as in the source. */
static struct ab_str raw_inner(const struct ab_json_doc *doc, uint32_t i)
{
        struct ab_str raw = ab_json_raw(doc, i);

        return ab_str_make(raw.ptr + 1, raw.len - 2);
}

static int event_type_of(struct ab_str name)
{
        for (int t = 0; t < AB_EVENT__COUNT; t++)
                if (ab_str_eq_c(name,
                                ab_event_type_name((enum ab_event_type)t)))
                        return t;
        return -1;
}

static int error_code_of(struct ab_str code)
{
        for (int c = 0; c < AB_ERR__COUNT; c++)
                if (ab_str_eq_c(code, ab_err_code((ab_err_t)c)))
                        return c;
        return -1;
}

/* Member \p key of object \p obj as a string token, or AB_JSON_NONE. */
static uint32_t str_member(const struct ab_json_doc *doc, uint32_t obj,
                           const char *key)
{
        uint32_t v = ab_json_get(doc, obj, key, strlen(key));

        return v != AB_JSON_NONE && ab_json_type_of(doc, v) == AB_JSON_STRING
                   ? v
                   : AB_JSON_NONE;
}

ab_err_t ab_replay_line_parse(struct ab_json_doc *doc, const char *line,
                              size_t len, struct ab_replay_pos *pos,
                              struct ab_replay_item *it, struct ab_error *err)
{
        int64_t partition, offset, ts, index;
        uint32_t ev, er, v;
        ab_err_t rc;

        rc = ab_json_parse(doc, line, len, err);
        if (rc)
                return rc == AB_ERR_NOMEM ? rc : AB_ERR_DECODE;
        if (ab_json_type_of(doc, 0) != AB_JSON_OBJECT)
                return ab_error_set(err, AB_ERR_DECODE, NULL,
                                    "a line must be a JSON object");
        if (int_member(doc, "partition", 0, INT32_MAX, &partition) ||
            int_member(doc, "offset", 0, INT64_MAX, &offset) ||
            int_member(doc, "ts", INT64_MIN, INT64_MAX, &ts) ||
            int_member(doc, "index", 0, UINT32_MAX, &index))
                return ab_error_set(err, AB_ERR_DECODE, NULL,
                                    "partition, offset, ts and index must be "
                                    "integers in range");
        ev = ab_json_get(doc, 0, "event", 5);
        er = ab_json_get(doc, 0, "error", 5);
        if ((ev == AB_JSON_NONE) == (er == AB_JSON_NONE) ||
            ab_json_type_of(doc, ev != AB_JSON_NONE ? ev : er) !=
                AB_JSON_OBJECT)
                return ab_error_set(err, AB_ERR_DECODE, NULL,
                                    "a line needs exactly one of the objects "
                                    "'event' and 'error'");
        pos->partition = (int32_t)partition;
        pos->offset    = offset;
        pos->ts        = ts;
        memset(it, 0, sizeof(*it));
        it->index = (uint32_t)index;
        if (ev != AB_JSON_NONE) {
                it->kind = AB_REPLAY_ITEM_EVENT;
                v        = str_member(doc, ev, "type");
                it->type = v == AB_JSON_NONE
                               ? -1
                               : event_type_of(ab_json_text(doc, v));
                v        = str_member(doc, 0, "key");
                if (v != AB_JSON_NONE)
                        it->key = raw_inner(doc, v);
                it->body = ab_json_raw(doc, ev);
        } else {
                it->kind = AB_REPLAY_ITEM_REJECTION;
                v        = str_member(doc, er, "code");
                it->type = v == AB_JSON_NONE
                               ? -1
                               : error_code_of(ab_json_text(doc, v));
                it->body = ab_json_raw(doc, er);
        }
        return AB_OK;
}

/* ---------------------------------------------------------------- golden */

/* An item whose strings are offsets into a buffer that may move. */
struct golden_item {
        struct ab_replay_item it; /* key.ptr and body.ptr unused */
        size_t key_off;
        size_t body_off;
};

struct ab_replay_golden {
        FILE *f;
        volatile sig_atomic_t *stop; /* borrowed; may be NULL */
        char *path;                  /* owned */
        struct ab_buf rd; /* bytes read, not consumed yet from rd_pos */
        size_t rd_pos;
        bool eof;
        size_t lineno;
        struct ab_json_doc doc;
        /* The lookahead line: parsed, its text in `next_line`. */
        bool have_next;
        struct ab_buf next_line;
        struct ab_replay_pos next_pos;
        struct golden_item next;
        /* The key of the last line read, for the order check. */
        bool have_last;
        struct ab_replay_pos last_pos;
        uint32_t last_index;
        /* The group taken last: line texts, and items pointing into them. */
        struct ab_buf grp;
        struct golden_item *gi;
        struct ab_replay_item *items;
        size_t ngi;
        size_t cap;
};

ab_err_t ab_replay_golden_open(const char *path, struct ab_replay_golden **out,
                               struct ab_error *err)
{
        struct ab_replay_golden *g;
        int fd = -1;

        *out = NULL;
        g    = ab_calloc(1, sizeof(*g));
        if (!g)
                return AB_ERR_NOMEM;
        ab_buf_init(&g->rd, 0);
        ab_buf_init(&g->next_line, 0);
        ab_buf_init(&g->grp, 0);
        ab_json_doc_init(&g->doc);
        g->path = ab_strdup(path);
        if (!g->path) {
                ab_replay_golden_destroy(g);
                return AB_ERR_NOMEM;
        }
        if (ab_file_open_regular(path, &fd, err) ||
            !(g->f = fdopen(fd, "rb"))) {
                if (fd >= 0) {
                        ab_error_set(err, AB_ERR_CONFIG, NULL,
                                     "cannot open %s: %s", path,
                                     strerror(errno));
                        close(fd);
                }
                if (err)
                        err->code = AB_ERR_CONFIG;
                ab_replay_golden_destroy(g);
                return AB_ERR_CONFIG;
        }
        *out = g;
        return AB_OK;
}

void ab_replay_golden_destroy(struct ab_replay_golden *g)
{
        if (!g)
                return;
        if (g->f)
                fclose(g->f);
        ab_free(g->path);
        ab_buf_fini(&g->rd);
        ab_buf_fini(&g->next_line);
        ab_buf_fini(&g->grp);
        ab_json_doc_fini(&g->doc);
        ab_free(g->gi);
        ab_free(g->items);
        ab_free(g);
}

void ab_replay_golden_set_stop(struct ab_replay_golden *g,
                               volatile sig_atomic_t *stop)
{
        g->stop = stop;
}

/* The next line (without newline) in \p *line / \p *len, borrowed until
 * the next call; \p *line NULL at the end of the file. */
static ab_err_t read_line(struct ab_replay_golden *g, const char **line,
                          size_t *len, struct ab_error *err)
{
        for (;;) {
                const char *p  = g->rd.data + g->rd_pos;
                size_t avail   = g->rd.len - g->rd_pos;
                const char *nl = avail ? memchr(p, '\n', avail) : NULL;
                size_t n;
                ab_err_t rc;

                if (nl || (g->eof && avail)) {
                        *line = p;
                        *len  = nl ? (size_t)(nl - p) : avail;
                        g->rd_pos += *len + (nl ? 1 : 0);
                        g->lineno++;
                        return AB_OK;
                }
                if (g->eof) {
                        *line = NULL;
                        *len  = 0;
                        return AB_OK;
                }
                if (avail > MAX_LINE)
                        return ab_error_set(err, AB_ERR_CONFIG, NULL,
                                            "%s:%zu: line longer than %zu MiB",
                                            g->path, g->lineno + 1,
                                            MAX_LINE >> 20);
                /* Keep the partial line, drop what was consumed. */
                if (g->rd_pos) {
                        memmove(g->rd.data, p, avail);
                        ab_buf_truncate(&g->rd, avail);
                        g->rd_pos = 0;
                }
                rc = ab_buf_reserve(&g->rd, READ_CHUNK);
                if (rc)
                        return rc;
                n = fread(g->rd.data + g->rd.len, 1, READ_CHUNK, g->f);
                g->rd.len += n;
                g->rd.data[g->rd.len] = '\0';
                if (n < READ_CHUNK) {
                        if (ferror(g->f))
                                return ab_error_set(err, AB_ERR_IO, NULL,
                                                    "cannot read %s: %s",
                                                    g->path, strerror(errno));
                        g->eof = true;
                }
        }
}

static ab_err_t bad_line(struct ab_replay_golden *g, struct ab_error *err,
                         const char *why)
{
        return ab_error_set(err, AB_ERR_CONFIG, NULL, "%s:%zu: %s", g->path,
                            g->lineno, why);
}

/* Read and parse the next non-blank line into the lookahead. */
static ab_err_t fill_next(struct ab_replay_golden *g, struct ab_error *err)
{
        struct ab_replay_item it;
        struct ab_error perr;
        const char *line;
        size_t len;
        ab_err_t rc;
        int cmp;

        do {
                /* Checked per line: a file of blank lines is read here. */
                if (g->stop && *g->stop)
                        return ab_error_set(err, AB_ERR_RETRY, NULL,
                                            "interrupted");
                rc = read_line(g, &line, &len, err);
                if (rc || !line)
                        return rc;
                while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' ||
                               line[len - 1] == '\t'))
                        len--;
        } while (!len);
        ab_buf_reset(&g->next_line);
        rc = ab_buf_append(&g->next_line, line, len);
        if (rc)
                return rc;
        ab_error_clear(&perr);
        rc = ab_replay_line_parse(&g->doc, g->next_line.data, len, &g->next_pos,
                                  &it, &perr);
        if (rc == AB_ERR_NOMEM)
                return rc;
        if (rc)
                return bad_line(g, err, perr.text);
        cmp = g->have_last ? ab_replay_pos_cmp(&g->next_pos, &g->last_pos) : 1;
        if (cmp < 0 || (cmp == 0 && it.index <= g->last_index))
                return bad_line(g, err,
                                "lines are not in replay order (ts, "
                                "partition, offset, index); was the file "
                                "written by alertbridge replay?");
        g->have_last  = true;
        g->last_pos   = g->next_pos;
        g->last_index = it.index;
        g->next.it    = it;
        g->next.key_off =
            it.key.ptr ? (size_t)(it.key.ptr - g->next_line.data) : 0;
        g->next.body_off = (size_t)(it.body.ptr - g->next_line.data);
        g->have_next     = true;
        return AB_OK;
}

ab_err_t ab_replay_golden_peek(struct ab_replay_golden *g,
                               const struct ab_replay_pos **pos,
                               struct ab_error *err)
{
        ab_err_t rc = g->have_next ? AB_OK : fill_next(g, err);

        *pos = !rc && g->have_next ? &g->next_pos : NULL;
        return rc;
}

static ab_err_t group_push(struct ab_replay_golden *g)
{
        size_t base = g->grp.len;
        ab_err_t rc;

        if (g->ngi == g->cap) {
                size_t cap             = g->cap ? g->cap * 2 : 16;
                struct golden_item *gi = ab_realloc(g->gi, cap * sizeof(*gi));
                struct ab_replay_item *items;

                if (!gi)
                        return AB_ERR_NOMEM;
                g->gi = gi;
                items = ab_realloc(g->items, cap * sizeof(*items));
                if (!items)
                        return AB_ERR_NOMEM;
                g->items = items;
                g->cap   = cap;
        }
        rc = ab_buf_append(&g->grp, g->next_line.data, g->next_line.len);
        if (rc)
                return rc;
        g->gi[g->ngi] = g->next;
        g->gi[g->ngi].key_off += base;
        g->gi[g->ngi].body_off += base;
        g->ngi++;
        g->have_next = false;
        return AB_OK;
}

ab_err_t ab_replay_golden_take(struct ab_replay_golden *g,
                               const struct ab_replay_item **items, size_t *n,
                               struct ab_replay_pos *pos, struct ab_error *err)
{
        const struct ab_replay_pos *head;
        ab_err_t rc;

        *items = NULL;
        *n     = 0;
        g->ngi = 0;
        ab_buf_reset(&g->grp);
        rc = ab_replay_golden_peek(g, &head, err);
        if (rc || !head)
                return rc;
        *pos = *head;
        do {
                rc = group_push(g);
                if (!rc)
                        rc = ab_replay_golden_peek(g, &head, err);
        } while (!rc && head && !ab_replay_pos_cmp(head, pos));
        if (rc)
                return rc;
        for (size_t i = 0; i < g->ngi; i++) {
                struct ab_replay_item *it = &g->items[i];

                *it = g->gi[i].it;
                if (it->key.ptr)
                        it->key.ptr = g->grp.data + g->gi[i].key_off;
                it->body.ptr = g->grp.data + g->gi[i].body_off;
        }
        *items = g->items;
        *n     = g->ngi;
        return AB_OK;
}
