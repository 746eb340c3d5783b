/* transform.c - the mapping engine: decodes a payload and runs an integration
 * over it. */
#include "transform/transform.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "core/mem.h"
#include "core/str.h"
#include "core/timefmt.h"
#include "transform/decode.h"
#include "transform/integration_int.h"

/*
 * HOW IT WORKS
 * A run decodes the payload into the engine's token tape (form-encoded
 * bodies are first rewritten to JSON text in `form`), finds the batch
 * elements, and evaluates every mapping method per element. Extracted
 * values are `struct val`s: either a pointer to text that stays put for
 * the whole run (a decoded token, a config constant) or an offset into
 * `arena`, for text the engine had to build (joins, series, truncated
 * messages, objects rendered as JSON). Offsets survive the arena growing;
 * they become pointers only in finish(), when nothing grows any more.
 * Labels and annotations of all alerts go to one `kvs` array, each alert
 * owning a slice that is sorted by key (priority breaking ties) and
 * de-duplicated. Every buffer is kept across runs, so after warm-up a run
 * performs no heap allocation.
 */

enum val_where {
        VAL_NONE = 0,
        VAL_PTR,
        VAL_ARENA,
};

struct val {
        const char *ptr; /* VAL_PTR */
        uint32_t off;    /* VAL_ARENA */
        uint32_t len;
        uint8_t where;
};

/* Label priorities: a mapped field beats an explicit entry beats a copy. */
enum {
        PRIO_FIELD = 0,
        PRIO_ENTRY = 1,
        PRIO_COPY  = 2,
};

struct build_kv {
        struct val key;
        struct val val;
        uint64_t head; /* the key's first 8 bytes, big-endian, 0-padded */
        uint32_t seq;  /* insertion order, breaks ties deterministically */
        uint8_t prio;
};

struct build_alert {
        enum ab_alert_status status;
        int severity;
        struct val field[AB_FIELD__COUNT];
        int64_t starts_ms, ends_ms;
        bool has_starts, has_ends, truncated;
        uint32_t index;
        size_t lab_off, lab_n;
        size_t ann_off, ann_n;
};

struct kv_vec {
        struct build_kv *v;
        size_t n, cap;
};

struct ab_transform {
        struct ab_json_doc doc;
        struct ab_buf form;    /* form payload rewritten as JSON */
        struct ab_buf scratch; /* percent-decoding */
        struct ab_buf arena;   /* text built during the run */
        struct ab_matches m;   /* selector matches, reused per call */
        struct ab_matches m2;  /* nested evaluation (conditions) */
        struct ab_cond_regex_matcher *rx; /* created at the first regex */
        struct ab_error *err; /* the running call's, for conditions */
        struct kv_vec kvs;
        struct build_alert *build;
        size_t nbuild, capbuild;
        struct ab_alert *alerts;
        size_t capalerts;
        struct ab_kv *out_kvs;
        size_t capout;
        /* Key paths (selector.h) looked up in this run: path_tok[id] is
         * valid while path_gen[id] is the generation of its start. */
        const struct ab_integration *integ; /* the running call's */
        uint32_t elem;                      /* the current batch element */
        uint64_t gen, run_gen, elem_gen;
        uint32_t *path_tok;
        uint64_t *path_gen;
        size_t cappaths;
};

static const char *const level_text[] = {"", "P1", "P2", "P3", "P4"};

/* Every member of an engine is a reusable buffer: these set them up empty
 * and free them. */
static void buffers_init(struct ab_transform *tf)
{
        memset(tf, 0, sizeof(*tf));
        ab_json_doc_init(&tf->doc);
        ab_buf_init(&tf->form, 0);
        ab_buf_init(&tf->scratch, 0);
        ab_buf_init(&tf->arena, AB_TRANSFORM_MAX_TEXT);
        tf->doc.max_toks = AB_TRANSFORM_MAX_VALUES;
        ab_matches_init(&tf->m);
        ab_matches_init(&tf->m2);
}

static void buffers_fini(struct ab_transform *tf)
{
        ab_json_doc_fini(&tf->doc);
        ab_buf_fini(&tf->form);
        ab_buf_fini(&tf->scratch);
        ab_buf_fini(&tf->arena);
        ab_matches_fini(&tf->m);
        ab_matches_fini(&tf->m2);
        ab_cond_regex_matcher_free(tf->rx);
        ab_free(tf->kvs.v);
        ab_free(tf->build);
        ab_free(tf->alerts);
        ab_free(tf->out_kvs);
        ab_free(tf->path_tok);
        ab_free(tf->path_gen);
}

struct ab_transform *ab_transform_new(void)
{
        struct ab_transform *tf = ab_malloc(sizeof(*tf));

        if (!tf)
                return NULL;
        buffers_init(tf);
        return tf;
}

void ab_transform_destroy(struct ab_transform *tf)
{
        if (!tf)
                return;
        buffers_fini(tf);
        ab_free(tf);
}

size_t ab_transform_held(const struct ab_transform *tf)
{
        return tf->doc.cap * sizeof(*tf->doc.toks) + tf->doc.strs.cap +
               tf->form.cap + tf->scratch.cap + tf->arena.cap +
               (tf->m.cap + tf->m2.cap) * sizeof(*tf->m.idx) +
               tf->kvs.cap * sizeof(*tf->kvs.v) +
               tf->capbuild * sizeof(*tf->build) +
               tf->capalerts * sizeof(*tf->alerts) +
               tf->capout * sizeof(*tf->out_kvs) +
               tf->cappaths * (sizeof(*tf->path_tok) + sizeof(*tf->path_gen));
}

size_t ab_transform_trim(struct ab_transform *tf, size_t keep)
{
        size_t held = ab_transform_held(tf);

        if (held > keep) {
                buffers_fini(tf);
                buffers_init(tf);
        }
        return held;
}

/* ---------------------------------------------------------------- values */

static struct val val_ptr(const char *p, size_t n)
{
        struct val v = {p, 0, (uint32_t)n, VAL_PTR};
        return v;
}

static struct ab_str val_str(const struct ab_transform *tf, struct val v)
{
        switch (v.where) {
        case VAL_PTR:
                return ab_str_make(v.ptr, v.len);
        case VAL_ARENA:
                return ab_str_make(tf->arena.data + v.off, v.len);
        default:
                return AB_STR_NULL;
        }
}

/* Start a value in the arena; finish it with arena_end(). */
static uint32_t arena_begin(const struct ab_transform *tf)
{
        return (uint32_t)tf->arena.len;
}

static struct val arena_end(const struct ab_transform *tf, uint32_t start)
{
        struct val v = {NULL, start, (uint32_t)(tf->arena.len - start),
                        VAL_ARENA};
        return v;
}

/* The text of token t: decoded strings, numbers and literals as written,
 * containers rendered as compact JSON into the arena. */
static ab_err_t token_val(struct ab_transform *tf, uint32_t t, struct val *out)
{
        enum ab_json_type type = ab_json_type_of(&tf->doc, t);
        struct ab_str s;
        uint32_t start;
        ab_err_t rc;

        if (type == AB_JSON_OBJECT || type == AB_JSON_ARRAY) {
                start = arena_begin(tf);
                rc    = ab_json_write(&tf->doc, t, &tf->arena);
                if (rc)
                        return rc;
                *out = arena_end(tf, start);
                return AB_OK;
        }
        s    = ab_json_text(&tf->doc, t);
        *out = val_ptr(s.ptr, s.len);
        return AB_OK;
}

/* Make room for the key paths of \p integ; new slots hold no lookup. */
static ab_err_t paths_reserve(struct ab_transform *tf,
                              const struct ab_integration *integ)
{
        size_t n = integ->paths.n;
        uint32_t *tok;
        uint64_t *gen;

        if (n <= tf->cappaths)
                return AB_OK;
        tok = ab_realloc(tf->path_tok, n * sizeof(*tok));
        if (!tok)
                return AB_ERR_NOMEM;
        tf->path_tok = tok;
        gen          = ab_realloc(tf->path_gen, n * sizeof(*gen));
        if (!gen)
                return AB_ERR_NOMEM;
        memset(gen + tf->cappaths, 0, (n - tf->cappaths) * sizeof(*gen));
        tf->path_gen = gen;
        tf->cappaths = n;
        return AB_OK;
}

/* The token key path \p id leads to from its start, or AB_JSON_NONE:
 * one member lookup per step, each node looked up once per start (the
 * generations of the run and of the element tell when it was). The
 * run has refused repeated keys, so the first member of a name is the
 * only one. */
static uint32_t path_tok(struct ab_transform *tf, uint32_t id)
{
        const struct ab_selpath *p = &tf->integ->paths.v[id];
        uint64_t want              = p->relative ? tf->elem_gen : tf->run_gen;
        uint32_t from;

        if (tf->path_gen[id] == want)
                return tf->path_tok[id];
        if (p->parent)
                from = path_tok(tf, p->parent);
        else
                from = p->relative ? tf->elem : 0;
        tf->path_tok[id] =
            from == AB_JSON_NONE
                ? AB_JSON_NONE
                : ab_json_get_first(&tf->doc, from, p->key, p->keylen);
        tf->path_gen[id] = want;
        return tf->path_tok[id];
}

static ab_err_t eval_ref(struct ab_transform *tf, const struct ab_sel_ref *r,
                         uint32_t elem, struct ab_matches *m)
{
        uint32_t t;

        m->n = 0;
        if (!r->path || (r->relative && elem != tf->elem))
                return ab_selector_eval(r->sel, r->relative ? r->skip : 0,
                                        &tf->doc, r->relative ? elem : 0, m);
        /* Null counts as absent, as in ab_selector_eval(). */
        t = path_tok(tf, r->path);
        if (t == AB_JSON_NONE || ab_json_type_of(&tf->doc, t) == AB_JSON_NULL)
                return AB_OK;
        return ab_matches_push(m, t);
}

/* Every match of r, joined by ','. */
static ab_err_t extract_ref(struct ab_transform *tf, const struct ab_sel_ref *r,
                            uint32_t elem, struct val *out)
{
        uint32_t start;
        ab_err_t rc;

        out->where = VAL_NONE;
        rc         = eval_ref(tf, r, elem, &tf->m);
        if (rc || tf->m.n == 0)
                return rc;
        if (tf->m.n == 1)
                return token_val(tf, tf->m.idx[0], out);
        start = arena_begin(tf);
        for (size_t i = 0; i < tf->m.n; i++) {
                uint32_t t = tf->m.idx[i];
                if (i) {
                        rc = ab_buf_append_char(&tf->arena, ',');
                        if (rc)
                                return rc;
                }
                if (ab_json_type_of(&tf->doc, t) == AB_JSON_OBJECT ||
                    ab_json_type_of(&tf->doc, t) == AB_JSON_ARRAY) {
                        rc = ab_json_write(&tf->doc, t, &tf->arena);
                } else {
                        struct ab_str s = ab_json_text(&tf->doc, t);
                        rc = ab_buf_append(&tf->arena, s.ptr, s.len);
                }
                if (rc)
                        return rc;
        }
        *out = arena_end(tf, start);
        return AB_OK;
}

/* ---------------------------------------------------------------- conditions
 */

static int value_in(struct ab_str s, const struct ab_cond *c)
{
        for (size_t i = 0; i < c->nvalues; i++)
                if (s.len == c->value_lens[i] &&
                    (s.len == 0 || !memcmp(s.ptr, c->values[i], s.len)))
                        return 1;
        return 0;
}

static ab_err_t regex_match(struct ab_transform *tf, const struct ab_cond *c,
                            struct ab_str s, int *hit)
{
        if (!tf->rx) {
                tf->rx = ab_cond_regex_matcher_new();
                if (!tf->rx)
                        return AB_ERR_NOMEM;
        }
        return ab_cond_regex_match(c->regex, tf->rx, s.ptr, s.len, hit,
                                   tf->err);
}

static ab_err_t cond_eval(struct ab_transform *tf, const struct ab_cond *c,
                          uint32_t elem, int *holds)
{
        ab_err_t rc;

        *holds = 0;
        if (c->op == AB_COND_ALL || c->op == AB_COND_ANY) {
                for (size_t i = 0; i < c->nkids; i++) {
                        int h;
                        rc = cond_eval(tf, &c->kids[i], elem, &h);
                        if (rc)
                                return rc;
                        if (c->op == AB_COND_ANY && h) {
                                *holds = 1;
                                return AB_OK;
                        }
                        if (c->op == AB_COND_ALL && !h)
                                return AB_OK;
                }
                *holds = c->op == AB_COND_ALL;
                return AB_OK;
        }
        rc = eval_ref(tf, &c->field, elem, &tf->m2);
        if (rc)
                return rc;
        if (c->op == AB_COND_EXISTS) {
                *holds = (tf->m2.n > 0) == c->exists;
                return AB_OK;
        }
        /* A condition on several matches holds if any match satisfies it;
         * not_equals is the negation of equals. */
        for (size_t i = 0; i < tf->m2.n; i++) {
                uint32_t t = tf->m2.idx[i];
                struct ab_str s;
                int hit = 0;

                if (ab_json_type_of(&tf->doc, t) == AB_JSON_OBJECT ||
                    ab_json_type_of(&tf->doc, t) == AB_JSON_ARRAY)
                        s = ab_json_raw(&tf->doc, t);
                else
                        s = ab_json_text(&tf->doc, t);
                if (c->op == AB_COND_REGEX) {
                        rc = regex_match(tf, c, s, &hit);
                        if (rc)
                                return rc;
                } else {
                        hit = value_in(s, c);
                }
                if (hit) {
                        *holds = c->op != AB_COND_NOT_EQUALS;
                        return AB_OK;
                }
        }
        *holds = c->op == AB_COND_NOT_EQUALS;
        return AB_OK;
}

/* ---------------------------------------------------------------- methods */

static int map_lookup(const struct ab_method *m, struct ab_str s,
                      struct val *out)
{
        for (size_t i = 0; i < m->nmap; i++)
                if (s.len == m->map[i].from_len &&
                    !memcmp(s.ptr, m->map[i].from, s.len)) {
                        *out = val_ptr(m->map[i].to, m->map[i].to_len);
                        return 1;
                }
        for (size_t i = 0; i < m->nmap; i++)
                if (s.len == m->map[i].from_len &&
                    !strncasecmp(s.ptr, m->map[i].from, s.len)) {
                        *out = val_ptr(m->map[i].to, m->map[i].to_len);
                        return 1;
                }
        return 0;
}

/*
 * Evaluate method m for element elem. *mapped tells whether a value came
 * out of the map table or its default (1) or is the raw extraction (0).
 */
static ab_err_t run_method(struct ab_transform *tf, const struct ab_method *m,
                           uint32_t elem, struct val *out, int *mapped)
{
        ab_err_t rc = AB_OK;

        out->where = VAL_NONE;
        *mapped    = 0;
        switch (m->kind) {
        case AB_METHOD_DIRECT:
                rc = extract_ref(tf, &m->direct, elem, out);
                break;
        case AB_METHOD_VALUE:
                *out = val_ptr(m->value, m->value_len);
                break;
        case AB_METHOD_SERIES: {
                uint32_t start = arena_begin(tf);
                int parts      = 0;
                for (size_t i = 0; i < m->nseries && !rc; i++) {
                        struct val part;
                        struct ab_str s;
                        uint32_t before = (uint32_t)tf->arena.len;

                        rc = extract_ref(tf, &m->series[i], elem, &part);
                        if (rc || part.where == VAL_NONE)
                                continue;
                        /* A part built in the arena sits at its end; move
                         * it behind the delimiter. */
                        if (part.where == VAL_ARENA) {
                                size_t plen = part.len;
                                if (parts) {
                                        rc = ab_buf_reserve(&tf->arena,
                                                            m->delimiter_len);
                                        if (rc)
                                                break;
                                        memmove(tf->arena.data + before +
                                                    m->delimiter_len,
                                                tf->arena.data + before, plen);
                                        memcpy(tf->arena.data + before,
                                               m->delimiter, m->delimiter_len);
                                        tf->arena.len += m->delimiter_len;
                                        tf->arena.data[tf->arena.len] = '\0';
                                }
                                parts++;
                                continue;
                        }
                        if (parts)
                                rc = ab_buf_append(&tf->arena, m->delimiter,
                                                   m->delimiter_len);
                        s = val_str(tf, part);
                        if (!rc)
                                rc = ab_buf_append(&tf->arena, s.ptr, s.len);
                        parts++;
                }
                if (!rc && parts)
                        *out = arena_end(tf, start);
                break;
        }
        case AB_METHOD_CONDITION:
                for (size_t i = 0; i < m->nbranches; i++) {
                        const struct ab_branch *b = &m->branches[i];
                        int holds                 = 1;
                        if (b->when) {
                                rc = cond_eval(tf, b->when, elem, &holds);
                                if (rc)
                                        return rc;
                        }
                        if (holds) {
                                rc = run_method(tf, &b->method, elem, out,
                                                mapped);
                                break;
                        }
                }
                break;
        default:
                break;
        }
        if (rc)
                return rc;
        if (m->nmap && out->where != VAL_NONE &&
            map_lookup(m, val_str(tf, *out), out)) {
                *mapped = 1;
        } else if (m->map_default) {
                if (m->nmap || out->where == VAL_NONE) {
                        *out    = val_ptr(m->map_default, m->map_default_len);
                        *mapped = 1;
                }
        }
        return AB_OK;
}

/* ---------------------------------------------------------------- fields */

static size_t utf8_count(const char *s, size_t n)
{
        size_t c = 0;

        for (size_t i = 0; i < n; i++)
                if (((unsigned char)s[i] & 0xC0) != 0x80)
                        c++;
        return c;
}

/* Cut the message to AB_ALERT_MESSAGE_MAX_CHARS characters including the
 * mark, at a character boundary. */
static ab_err_t truncate_message(struct ab_transform *tf, struct val *v)
{
        const size_t keep =
            AB_ALERT_MESSAGE_MAX_CHARS - (sizeof(AB_ALERT_TRUNCATION_MARK) - 1);
        struct ab_str s;
        size_t chars = 0, cut = 0;
        uint32_t start;
        ab_err_t rc;

        s = val_str(tf, *v);
        while (cut < s.len) {
                if (((unsigned char)s.ptr[cut] & 0xC0) != 0x80) {
                        if (chars == keep)
                                break;
                        chars++;
                }
                cut++;
        }
        start = arena_begin(tf);
        /* s may point into the arena: reserve first so it cannot move
         * between taking the pointer and copying. */
        rc = ab_buf_reserve(&tf->arena, cut + sizeof(AB_ALERT_TRUNCATION_MARK));
        if (rc)
                return rc;
        s  = val_str(tf, *v);
        rc = ab_buf_append(&tf->arena, s.ptr, cut);
        if (!rc)
                rc = ab_buf_append_str(&tf->arena, AB_ALERT_TRUNCATION_MARK);
        if (!rc)
                *v = arena_end(tf, start);
        return rc;
}

static ab_err_t parse_time(struct ab_transform *tf, const struct ab_method *m,
                           struct val v, int64_t *ms, bool *has,
                           struct ab_error *err)
{
        struct ab_str s = val_str(tf, v);
        char shown[AB_SHOWN_SIZE];

        *has = false;
        if (ab_time_parse(s.ptr, s.len, ms))
                return ab_error_set(
                    err, AB_ERR_BAD_TIME, m->path,
                    "cannot parse '%s' as a timestamp "
                    "(expected epoch seconds or "
                    "milliseconds, RFC 3339, or "
                    "20190409T121826.922+0800)",
                    ab_str_escape(shown, sizeof(shown), s.ptr, s.len));
        *has = *ms != AB_TIME_GO_ZERO_MS;
        return AB_OK;
}

static void list_map(const struct ab_method *m, char *out, size_t size)
{
        size_t o = 0;

        out[0] = '\0';
        for (size_t i = 0; i < m->nmap && o + 8 < size; i++) {
                int n = snprintf(out + o, size - o, "%s%s", i ? ", " : "",
                                 m->map[i].from);
                if (n < 0)
                        break;
                o += (size_t)n;
        }
        if (o >= size)
                out[size - 1] = '\0';
}

static ab_err_t severity_of(struct ab_transform *tf,
                            const struct ab_integration *integ,
                            struct build_alert *ba, struct ab_error *err)
{
        const struct ab_method *m = &integ->fields[AB_FIELD_SEVERITY];
        struct ab_str s           = val_str(tf, ba->field[AB_FIELD_SEVERITY]);
        char shown[AB_SHOWN_SIZE];

        if (!s.ptr || s.len == 0)
                return ab_error_set(err, AB_ERR_NO_SEVERITY, m->path,
                                    "labels.severity is required (%s matched "
                                    "nothing and has no default)",
                                    m->path);
        if (s.len == 2 && (s.ptr[0] == 'P' || s.ptr[0] == 'p') &&
            s.ptr[1] >= '1' && s.ptr[1] <= '4') {
                ba->severity = s.ptr[1] - '0';
                ba->field[AB_FIELD_SEVERITY] =
                    val_ptr(level_text[ba->severity], 2);
                return AB_OK;
        }
        if (m->nmap) {
                char list[256];
                list_map(m, list, sizeof(list));
                return ab_error_set(
                    err, AB_ERR_SEVERITY_UNMAPPED, m->path,
                    "severity value '%s' is not in the "
                    "mapping table of %s {%s} and there is "
                    "no default",
                    ab_str_escape(shown, sizeof(shown), s.ptr, s.len), m->path,
                    list);
        }
        return ab_error_set(err, AB_ERR_SEVERITY_UNMAPPED, m->path,
                            "severity value '%s' is not P1..P4 and %s has "
                            "no map table",
                            ab_str_escape(shown, sizeof(shown), s.ptr, s.len),
                            m->path);
}

/* ---------------------------------------------------------------- labels */

/* The first 8 bytes of \p k as a big-endian number, 0-padded: keys whose
 * heads differ compare as their heads do (a shorter key's padding sorts
 * before any byte but 0, and equal heads fall back to the bytes). */
static uint64_t key_head(struct ab_str k)
{
        unsigned char b[8] = {0};

        /* Fixed-size copies compile to loads; a variable one is a call. */
        if (k.len >= 8)
                memcpy(b, k.ptr, 8);
        else
                for (size_t i = 0; i < k.len; i++)
                        b[i] = (unsigned char)k.ptr[i];
        return (uint64_t)b[0] << 56 | (uint64_t)b[1] << 48 |
               (uint64_t)b[2] << 40 | (uint64_t)b[3] << 32 |
               (uint64_t)b[4] << 24 | (uint64_t)b[5] << 16 |
               (uint64_t)b[6] << 8 | (uint64_t)b[7];
}

static ab_err_t kv_push(struct ab_transform *tf, struct val k, struct val v,
                        uint8_t prio)
{
        struct kv_vec *kv = &tf->kvs;
        struct build_kv *e;

        if (kv->n == AB_TRANSFORM_MAX_KVS)
                return AB_ERR_TOO_LARGE;
        if (kv->n == kv->cap) {
                size_t cap         = kv->cap ? kv->cap * 2 : 64;
                struct build_kv *p = ab_realloc(kv->v, cap * sizeof(*p));
                if (!p)
                        return AB_ERR_NOMEM;
                kv->v   = p;
                kv->cap = cap;
        }
        e       = &kv->v[kv->n];
        e->key  = k;
        e->val  = v;
        e->prio = prio;
        e->seq  = (uint32_t)kv->n;
        e->head = key_head(val_str(tf, k));
        kv->n++;
        return AB_OK;
}

static int kv_less(const struct ab_transform *tf, const struct build_kv *a,
                   const struct build_kv *b)
{
        struct ab_str ka, kb;
        int c;

        /* Most keys differ in their first 8 bytes: skip the memcmp(). */
        if (a->head != b->head)
                return a->head < b->head;
        ka = val_str(tf, a->key);
        kb = val_str(tf, b->key);
        c  = ab_str_cmp(ka, kb);
        if (c)
                return c < 0;
        if (a->prio != b->prio)
                return a->prio < b->prio;
        return a->seq < b->seq;
}

static void sift_down(const struct ab_transform *tf, struct build_kv *v,
                      size_t root, size_t n)
{
        for (;;) {
                size_t child = 2 * root + 1;
                struct build_kv tmp;

                if (child >= n)
                        return;
                if (child + 1 < n && kv_less(tf, &v[child], &v[child + 1]))
                        child++;
                if (!kv_less(tf, &v[root], &v[child]))
                        return;
                tmp      = v[root];
                v[root]  = v[child];
                v[child] = tmp;
                root     = child;
        }
}

/* Slices up to this many entries are sorted by position (see below). */
#define KV_SMALL 24

static void kv_heapsort(const struct ab_transform *tf, struct build_kv *v,
                        size_t n)
{
        for (size_t i = n / 2; i-- > 0;)
                sift_down(tf, v, i, n);
        for (size_t end = n; end-- > 1;) {
                struct build_kv tmp = v[0];
                v[0]                = v[end];
                v[end]              = tmp;
                sift_down(tf, v, 0, end);
        }
}

static int kv_same_key(const struct ab_transform *tf, const struct build_kv *a,
                       const struct build_kv *b)
{
        return a->head == b->head &&
               ab_str_eq(val_str(tf, a->key), val_str(tf, b->key));
}

/*
 * Sort the slice [off, off+n) and drop repeated keys (the first, i.e. the
 * highest priority, stays). @returns the new count. Without allocating:
 * the usual handful of labels is insertion-sorted as one-byte positions
 * (the entries are large to move), then gathered through the stack;
 * heapsort in place when a payload brings many.
 */
static size_t kv_finish_slice(struct ab_transform *tf, size_t off, size_t n)
{
        struct build_kv *v = tf->kvs.v + off;
        struct build_kv tmp[KV_SMALL];
        uint8_t ord[KV_SMALL];
        size_t w = 0;

        if (n > KV_SMALL) {
                kv_heapsort(tf, v, n);
                for (size_t i = 0; i < n; i++)
                        if (!w || !kv_same_key(tf, &v[w - 1], &v[i]))
                                v[w++] = v[i];
                return w;
        }
        for (size_t i = 0; i < n; i++) {
                uint8_t x = (uint8_t)i;
                size_t j  = i;

                while (j > 0 && kv_less(tf, &v[x], &v[ord[j - 1]])) {
                        ord[j] = ord[j - 1];
                        j--;
                }
                ord[j] = x;
        }
        for (size_t i = 0; i < n; i++)
                if (!w || !kv_same_key(tf, &tmp[w - 1], &v[ord[i]]))
                        tmp[w++] = v[ord[i]];
        if (w)
                memcpy(v, tmp, w * sizeof(*v));
        return w;
}

static ab_err_t copy_object(struct ab_transform *tf, const struct ab_entry *e,
                            uint32_t elem)
{
        const struct ab_sel_ref *r = &e->method.direct;
        ab_err_t rc;

        rc = eval_ref(tf, r, elem, &tf->m);
        if (rc)
                return rc;
        /* Walk tf->m by index: token_val() below never evaluates selectors,
         * so the match list stays intact. */
        for (size_t i = 0; i < tf->m.n; i++) {
                uint32_t obj                  = tf->m.idx[i];
                const struct ab_json_tok *tok = ab_json_at(&tf->doc, obj);
                uint32_t k                    = obj + 1;

                if (tok->type != AB_JSON_OBJECT)
                        continue;
                for (uint32_t j = 0; j < tok->size; j++) {
                        uint32_t v       = k + 1;
                        struct ab_str ks = ab_json_text(&tf->doc, k);
                        struct val vv;

                        if (ab_json_type_of(&tf->doc, v) != AB_JSON_NULL &&
                            ks.len > 0) {
                                rc = token_val(tf, v, &vv);
                                /* An empty value is an unset label, as for
                                 * mapped fields and in Alertmanager. */
                                if (!rc && vv.len > 0)
                                        rc =
                                            kv_push(tf, val_ptr(ks.ptr, ks.len),
                                                    vv, PRIO_COPY);
                                if (rc)
                                        return rc;
                        }
                        k = ab_json_at(&tf->doc, v)->next;
                }
        }
        return AB_OK;
}

static ab_err_t add_entries(struct ab_transform *tf,
                            const struct ab_entry *entries, size_t n,
                            uint32_t elem)
{
        ab_err_t rc;

        for (size_t i = 0; i < n; i++) {
                const struct ab_entry *e = &entries[i];
                struct val v;
                int mapped;

                if (e->wildcard) {
                        rc = copy_object(tf, e, elem);
                } else {
                        rc = run_method(tf, &e->method, elem, &v, &mapped);
                        if (!rc && v.where != VAL_NONE && v.len > 0)
                                rc = kv_push(tf, val_ptr(e->key, e->key_len), v,
                                             PRIO_ENTRY);
                }
                if (rc)
                        return rc;
        }
        return AB_OK;
}

/* Name, its length and kind of every field, known at compile time. */
static const struct {
        const char *name;
        uint32_t len;
        enum ab_field_kind kind;
} field_info[AB_FIELD__COUNT] = {
#define FIELD_INFO(id, name, kind)                                             \
        {name, sizeof(name) - 1, AB_FIELD_KIND_##kind},
    AB_ALERT_FIELD_MAP(FIELD_INFO)
#undef FIELD_INFO
};

static ab_err_t add_field_kvs(struct ab_transform *tf,
                              const struct build_alert *ba,
                              enum ab_field_kind kind)
{
        ab_err_t rc;

        for (int f = 0; f < AB_FIELD__COUNT; f++) {
                if (field_info[f].kind != kind ||
                    ba->field[f].where == VAL_NONE)
                        continue;
                rc = kv_push(tf, val_ptr(field_info[f].name, field_info[f].len),
                             ba->field[f], PRIO_FIELD);
                if (rc)
                        return rc;
        }
        return AB_OK;
}

/* ---------------------------------------------------------------- alerts */

static ab_err_t build_push(struct ab_transform *tf, struct build_alert **out)
{
        if (tf->nbuild == tf->capbuild) {
                size_t cap            = tf->capbuild ? tf->capbuild * 2 : 8;
                struct build_alert *p = ab_realloc(tf->build, cap * sizeof(*p));
                if (!p)
                        return AB_ERR_NOMEM;
                tf->build    = p;
                tf->capbuild = cap;
        }
        *out = &tf->build[tf->nbuild++];
        memset(*out, 0, sizeof(**out));
        return AB_OK;
}

static ab_err_t map_element(struct ab_transform *tf,
                            const struct ab_integration *integ, uint32_t elem,
                            uint32_t index, struct ab_error *err)
{
        struct build_alert *ba;
        struct ab_str name;
        ab_err_t rc;
        int mapped;

        rc = build_push(tf, &ba);
        if (rc)
                return rc;
        ba->index    = index;
        tf->elem     = elem;
        tf->elem_gen = ++tf->gen;
        for (int f = 0; f < AB_FIELD__COUNT; f++) {
                if (!integ->fields[f].kind)
                        continue;
                rc = run_method(tf, &integ->fields[f], elem, &ba->field[f],
                                &mapped);
                if (rc)
                        return rc;
                /* An empty string is as good as absent. */
                if (ba->field[f].where != VAL_NONE && ba->field[f].len == 0)
                        ba->field[f].where = VAL_NONE;
        }
        name = val_str(tf, ba->field[AB_FIELD_ALERTNAME]);
        if (!name.ptr)
                return ab_error_set(err, AB_ERR_NO_ALERTNAME,
                                    "fields.alertname",
                                    "labels.alertname is required "
                                    "(fields.alertname matched nothing)");
        rc = severity_of(tf, integ, ba, err);
        if (rc)
                return rc;
        if (ba->field[AB_FIELD_MESSAGE].where != VAL_NONE) {
                struct ab_str m = val_str(tf, ba->field[AB_FIELD_MESSAGE]);
                if (m.len > AB_ALERT_MESSAGE_MAX_CHARS &&
                    utf8_count(m.ptr, m.len) > AB_ALERT_MESSAGE_MAX_CHARS) {
                        rc = truncate_message(tf, &ba->field[AB_FIELD_MESSAGE]);
                        if (rc)
                                return rc;
                        ba->truncated = true;
                }
        }
        if (ba->field[AB_FIELD_STARTAT].where != VAL_NONE) {
                rc = parse_time(tf, &integ->fields[AB_FIELD_STARTAT],
                                ba->field[AB_FIELD_STARTAT], &ba->starts_ms,
                                &ba->has_starts, err);
                if (rc)
                        return rc;
        }
        if (ba->field[AB_FIELD_ENDAT].where != VAL_NONE) {
                rc = parse_time(tf, &integ->fields[AB_FIELD_ENDAT],
                                ba->field[AB_FIELD_ENDAT], &ba->ends_ms,
                                &ba->has_ends, err);
                if (rc)
                        return rc;
        }
        ba->status = AB_ALERT_FIRING;
        if (integ->recovery) {
                int holds;
                rc = cond_eval(tf, integ->recovery, elem, &holds);
                if (rc)
                        return rc;
                if (holds)
                        ba->status = AB_ALERT_RESOLVED;
        }

        ba->lab_off = tf->kvs.n;
        rc          = add_field_kvs(tf, ba, AB_FIELD_KIND_LABEL);
        if (!rc)
                rc = add_entries(tf, integ->labels, integ->nlabels, elem);
        if (rc)
                return rc;
        ba->lab_n   = kv_finish_slice(tf, ba->lab_off, tf->kvs.n - ba->lab_off);
        tf->kvs.n   = ba->lab_off + ba->lab_n;
        ba->ann_off = tf->kvs.n;
        rc          = add_field_kvs(tf, ba, AB_FIELD_KIND_ANNOTATION);
        if (!rc)
                rc = add_entries(tf, integ->annotations, integ->nannotations,
                                 elem);
        if (rc)
                return rc;
        ba->ann_n = kv_finish_slice(tf, ba->ann_off, tf->kvs.n - ba->ann_off);
        tf->kvs.n = ba->ann_off + ba->ann_n;
        return AB_OK;
}

/* Turn the build records into the public alerts, resolving arena offsets. */
static ab_err_t finish(struct ab_transform *tf)
{
        if (tf->nbuild > tf->capalerts) {
                struct ab_alert *p =
                    ab_realloc(tf->alerts, tf->nbuild * sizeof(*p));
                if (!p)
                        return AB_ERR_NOMEM;
                tf->alerts    = p;
                tf->capalerts = tf->nbuild;
        }
        if (tf->kvs.n > tf->capout) {
                struct ab_kv *p =
                    ab_realloc(tf->out_kvs, tf->kvs.n * sizeof(*p));
                if (!p)
                        return AB_ERR_NOMEM;
                tf->out_kvs = p;
                tf->capout  = tf->kvs.n;
        }
        for (size_t i = 0; i < tf->kvs.n; i++) {
                tf->out_kvs[i].key = val_str(tf, tf->kvs.v[i].key);
                tf->out_kvs[i].val = val_str(tf, tf->kvs.v[i].val);
        }
        for (size_t i = 0; i < tf->nbuild; i++) {
                const struct build_alert *ba = &tf->build[i];
                struct ab_alert *a           = &tf->alerts[i];

                a->status   = ba->status;
                a->severity = ba->severity;
                for (int f = 0; f < AB_FIELD__COUNT; f++)
                        a->field[f] = val_str(tf, ba->field[f]);
                a->starts_ms         = ba->starts_ms;
                a->ends_ms           = ba->ends_ms;
                a->has_starts        = ba->has_starts;
                a->has_ends          = ba->has_ends;
                a->message_truncated = ba->truncated;
                a->index             = ba->index;
                a->labels            = tf->out_kvs + ba->lab_off;
                a->nlabels           = ba->lab_n;
                a->annotations       = tf->out_kvs + ba->ann_off;
                a->nannotations      = ba->ann_n;
        }
        return AB_OK;
}

static const char *type_word(enum ab_json_type t)
{
        switch (t) {
        case AB_JSON_OBJECT:
                return "an object";
        case AB_JSON_STRING:
                return "a string";
        case AB_JSON_NUMBER:
                return "a number";
        default:
                return "a literal";
        }
}

/* Name the bound an engine buffer reached (\p rc AB_ERR_TOO_LARGE with no
 * message yet: the text or label bound). @returns \p rc. */
static ab_err_t too_large(struct ab_error *err, ab_err_t rc)
{
        if (rc == AB_ERR_TOO_LARGE && err && err->code != rc)
                ab_error_set(err, rc, NULL,
                             "mapping this record needs more than %zu MiB "
                             "of built text or %zu labels and annotations, "
                             "the mapping engine's limits for one record",
                             AB_TRANSFORM_MAX_TEXT >> 20, AB_TRANSFORM_MAX_KVS);
        return rc;
}

/* Prefix the element's position to an error the element produced. */
static void locate(struct ab_error *err, const struct ab_integration *integ,
                   uint32_t index)
{
        char where[192];

        if (!err || !integ->batch_root)
                return;
        snprintf(where, sizeof(where), " (element %u of %s)", index,
                 ab_selector_text(integ->batch_root));
        ab_error_suffix(err, where);
}

ab_err_t ab_transform_run(struct ab_transform *tf,
                          const struct ab_integration *integ,
                          const char *payload, size_t len,
                          enum ab_content content,
                          const struct ab_alert **alerts, size_t *nalerts,
                          struct ab_error *err)
{
        const char *src = payload;
        size_t srclen   = len;
        ab_err_t rc;

        *alerts    = NULL;
        *nalerts   = 0;
        tf->err    = err;
        tf->nbuild = 0;
        tf->kvs.n  = 0;
        ab_buf_reset(&tf->arena);
        rc = paths_reserve(tf, integ);
        if (rc)
                return rc;
        tf->integ    = integ;
        tf->run_gen  = ++tf->gen;
        tf->elem     = AB_JSON_NONE;
        tf->elem_gen = ++tf->gen;
        if (content == AB_CONTENT_FORM ||
            (content == AB_CONTENT_AUTO && ab_decode_is_form(payload, len))) {
                ab_buf_reset(&tf->form);
                rc = ab_decode_form(payload, len, &tf->form, &tf->scratch, err);
                if (rc)
                        return rc;
                src    = tf->form.data;
                srclen = tf->form.len;
        }
        rc = ab_json_parse(&tf->doc, src, srclen, err);
        if (rc)
                return rc;
        /* A repeated key would let selectors, conditions and the
         * fingerprint see different values: such a payload is undecodable. */
        rc = ab_json_check_unique_keys(&tf->doc, &tf->scratch, err);
        if (rc)
                return rc;
        if (integ->batch_root) {
                const struct ab_json_tok *arr;
                uint32_t t, index = 0;

                tf->m.n = 0;
                rc =
                    ab_selector_eval(integ->batch_root, 0, &tf->doc, 0, &tf->m);
                if (rc)
                        return rc;
                if (tf->m.n == 0)
                        return ab_error_set(
                            err, AB_ERR_BATCH_ROOT, "batch.root",
                            "batch root %s matched nothing",
                            ab_selector_text(integ->batch_root));
                t = tf->m.idx[0];
                if (ab_json_type_of(&tf->doc, t) != AB_JSON_ARRAY)
                        return ab_error_set(
                            err, AB_ERR_BATCH_ROOT, "batch.root",
                            "batch root %s is %s, not an array",
                            ab_selector_text(integ->batch_root),
                            type_word(ab_json_type_of(&tf->doc, t)));
                arr = ab_json_at(&tf->doc, t);
                if (arr->size > integ->max_alerts)
                        return ab_error_set(
                            err, AB_ERR_TOO_MANY_ALERTS, "batch.max_alerts",
                            "batch root %s has %u elements, more than "
                            "batch.max_alerts (%u): the record is rejected "
                            "whole",
                            ab_selector_text(integ->batch_root), arr->size,
                            integ->max_alerts);
                for (uint32_t c = t + 1; index < arr->size;
                     c          = ab_json_at(&tf->doc, c)->next, index++) {
                        if (ab_json_type_of(&tf->doc, c) == AB_JSON_NULL)
                                continue;
                        rc = map_element(tf, integ, c, index, err);
                        if (rc) {
                                too_large(err, rc);
                                locate(err, integ, index);
                                return rc;
                        }
                }
                if (tf->nbuild == 0)
                        return ab_error_set(
                            err, AB_ERR_BATCH_ROOT, "batch.root",
                            "batch root %s is an empty array",
                            ab_selector_text(integ->batch_root));
        } else {
                rc = map_element(tf, integ, 0, 0, err);
                if (rc)
                        return too_large(err, rc);
        }
        rc = finish(tf);
        if (rc)
                return too_large(err, rc);
        *alerts  = tf->alerts;
        *nalerts = tf->nbuild;
        return AB_OK;
}
