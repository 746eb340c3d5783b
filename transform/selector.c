/* selector.c - compiles and evaluates JSONPath selectors over a token tape. */
#include "transform/selector.h"

#include <string.h>

#include "core/mem.h"

enum step_kind {
        STEP_KEY,
        STEP_INDEX,
        STEP_WILDCARD,
};

struct step {
        enum step_kind kind;
        uint32_t index;  /* STEP_INDEX */
        const char *key; /* STEP_KEY: points into sel->keys */
        size_t keylen;
};

struct ab_selector {
        char *text;
        struct step *steps;
        size_t nsteps;
        char *keys; /* decoded keys, back to back */
        int wildcard;
};

void ab_matches_init(struct ab_matches *m)
{
        m->idx = NULL;
        m->n   = 0;
        m->cap = 0;
}

void ab_matches_fini(struct ab_matches *m)
{
        if (!m)
                return;
        ab_free(m->idx);
        ab_matches_init(m);
}

ab_err_t ab_matches_push(struct ab_matches *m, uint32_t i)
{
        if (m->n == m->cap) {
                size_t cap  = m->cap ? m->cap * 2 : 16;
                uint32_t *p = ab_realloc(m->idx, cap * sizeof(*p));
                if (!p)
                        return AB_ERR_NOMEM;
                m->idx = p;
                m->cap = cap;
        }
        m->idx[m->n++] = i;
        return AB_OK;
}

static int is_key_char(char c)
{
        return c != '.' && c != '[' && c != ' ' && c != '\t' && c != '\n' &&
               c != '\r' && c != '\0';
}

/* Parse a quoted key starting at text[*pos] (the quote); decoded bytes are
 * appended at keys + *klen. */
static ab_err_t parse_quoted(const char *text, size_t *pos, char *keys,
                             size_t *klen, struct ab_error *err)
{
        char quote = text[*pos];
        size_t i   = *pos + 1;

        for (;;) {
                char c = text[i];
                if (c == '\0')
                        return ab_error_set_at(err, AB_ERR_CONFIG, i,
                                               "unterminated quoted key in "
                                               "selector '%s'",
                                               text);
                if (c == quote)
                        break;
                if (c == '\\') {
                        char e = text[i + 1];
                        if (e != '\'' && e != '"' && e != '\\')
                                return ab_error_set_at(
                                    err, AB_ERR_CONFIG, i,
                                    "invalid escape in selector '%s'", text);
                        keys[(*klen)++] = e;
                        i += 2;
                        continue;
                }
                keys[(*klen)++] = c;
                i++;
        }
        *pos = i + 1;
        return AB_OK;
}

ab_err_t ab_selector_compile(const char *text, struct ab_selector **out,
                             struct ab_error *err)
{
        struct ab_selector *sel = NULL;
        size_t len              = strlen(text);
        size_t pos = 1, klen = 0;
        ab_err_t rc = AB_OK;

        *out = NULL;
        if (text[0] != '$')
                return ab_error_set_at(err, AB_ERR_CONFIG, 0,
                                       "selector '%s' must start with '$'",
                                       text);
        sel = ab_calloc(1, sizeof(*sel));
        if (!sel)
                return AB_ERR_NOMEM;
        sel->text  = ab_strdup(text);
        sel->keys  = ab_malloc(len + 1);
        sel->steps = ab_calloc(len + 1, sizeof(*sel->steps));
        if (!sel->text || !sel->keys || !sel->steps) {
                rc = AB_ERR_NOMEM;
                goto out;
        }
        while (pos < len) {
                struct step *st = &sel->steps[sel->nsteps];
                size_t kstart   = klen;

                if (text[pos] == '.') {
                        pos++;
                        if (text[pos] == '*') {
                                st->kind = STEP_WILDCARD;
                                pos++;
                                sel->wildcard = 1;
                                sel->nsteps++;
                                continue;
                        }
                        while (is_key_char(text[pos]))
                                sel->keys[klen++] = text[pos++];
                        if (klen == kstart) {
                                rc = ab_error_set_at(
                                    err, AB_ERR_CONFIG, pos,
                                    "empty key in selector '%s'", text);
                                goto out;
                        }
                        st->kind = STEP_KEY;
                } else if (text[pos] == '[') {
                        pos++;
                        if (text[pos] == '\'' || text[pos] == '"') {
                                rc = parse_quoted(text, &pos, sel->keys, &klen,
                                                  err);
                                if (rc)
                                        goto out;
                                st->kind = STEP_KEY;
                        } else if (text[pos] == '*') {
                                pos++;
                                st->kind      = STEP_WILDCARD;
                                sel->wildcard = 1;
                        } else if (text[pos] >= '0' && text[pos] <= '9') {
                                uint64_t v = 0;
                                while (text[pos] >= '0' && text[pos] <= '9') {
                                        v = v * 10 +
                                            (uint64_t)(text[pos] - '0');
                                        if (v > UINT32_MAX - 1) {
                                                rc = ab_error_set_at(
                                                    err, AB_ERR_CONFIG, pos,
                                                    "index too large in "
                                                    "selector '%s'",
                                                    text);
                                                goto out;
                                        }
                                        pos++;
                                }
                                st->kind  = STEP_INDEX;
                                st->index = (uint32_t)v;
                        } else {
                                rc = ab_error_set_at(
                                    err, AB_ERR_CONFIG, pos,
                                    "expected 'key', N or * after '[' in "
                                    "selector '%s'",
                                    text);
                                goto out;
                        }
                        if (text[pos] != ']') {
                                rc = ab_error_set_at(
                                    err, AB_ERR_CONFIG, pos,
                                    "expected ']' in selector '%s'", text);
                                goto out;
                        }
                        pos++;
                } else {
                        rc = ab_error_set_at(err, AB_ERR_CONFIG, pos,
                                             "unexpected character '%c' in "
                                             "selector '%s'",
                                             text[pos], text);
                        goto out;
                }
                if (st->kind == STEP_KEY) {
                        /* `keys` is sized for the whole text up front and
                         * never moves, so steps can point into it. */
                        st->key    = sel->keys + kstart;
                        st->keylen = klen - kstart;
                }
                sel->nsteps++;
        }
out:
        if (rc) {
                ab_selector_destroy(sel);
                return rc;
        }
        *out = sel;
        return AB_OK;
}

void ab_selector_destroy(struct ab_selector *sel)
{
        if (!sel)
                return;
        ab_free(sel->text);
        ab_free(sel->steps);
        ab_free(sel->keys);
        ab_free(sel);
}

const char *ab_selector_text(const struct ab_selector *sel)
{
        return sel->text;
}

int ab_selector_has_wildcard(const struct ab_selector *sel)
{
        return sel->wildcard;
}

static int step_eq(const struct step *a, const struct step *b)
{
        if (a->kind != b->kind)
                return 0;
        if (a->kind == STEP_INDEX)
                return a->index == b->index;
        if (a->kind == STEP_KEY)
                return a->keylen == b->keylen &&
                       !memcmp(a->key, b->key, a->keylen);
        return 1;
}

size_t ab_selector_batch_prefix(const struct ab_selector *sel,
                                const struct ab_selector *root)
{
        if (sel->nsteps <= root->nsteps)
                return 0;
        for (size_t i = 0; i < root->nsteps; i++)
                if (!step_eq(&sel->steps[i], &root->steps[i]))
                        return 0;
        if (sel->steps[root->nsteps].kind != STEP_WILDCARD)
                return 0;
        return root->nsteps + 1;
}

static ab_err_t eval_from(const struct ab_selector *sel, size_t s,
                          const struct ab_json_doc *doc, uint32_t t,
                          struct ab_matches *out)
{
        /* Walk single-path steps iteratively; recurse only on [*]. */
        for (; s < sel->nsteps; s++) {
                const struct step *st  = &sel->steps[s];
                enum ab_json_type type = ab_json_type_of(doc, t);

                if (st->kind == STEP_KEY) {
                        t = ab_json_get(doc, t, st->key, st->keylen);
                } else if (st->kind == STEP_INDEX) {
                        t = type == AB_JSON_ARRAY
                                ? ab_json_index(doc, t, st->index)
                                : AB_JSON_NONE;
                } else {
                        const struct ab_json_tok *tok = ab_json_at(doc, t);
                        uint32_t c                    = t + 1;
                        ab_err_t rc;

                        if (type != AB_JSON_ARRAY && type != AB_JSON_OBJECT)
                                return AB_OK;
                        for (uint32_t k = 0; k < tok->size; k++) {
                                if (type == AB_JSON_OBJECT)
                                        c++; /* skip the key */
                                rc = eval_from(sel, s + 1, doc, c, out);
                                if (rc)
                                        return rc;
                                c = ab_json_at(doc, c)->next;
                        }
                        return AB_OK;
                }
                if (t == AB_JSON_NONE)
                        return AB_OK;
        }
        if (ab_json_type_of(doc, t) == AB_JSON_NULL)
                return AB_OK;
        return ab_matches_push(out, t);
}

ab_err_t ab_selector_eval(const struct ab_selector *sel, size_t skip,
                          const struct ab_json_doc *doc, uint32_t start,
                          struct ab_matches *out)
{
        if (start == AB_JSON_NONE)
                return AB_OK;
        return eval_from(sel, skip, doc, start, out);
}

/* ---------------------------------------------------------------- key paths */

void ab_selpaths_init(struct ab_selpaths *t)
{
        memset(t, 0, sizeof(*t));
}

void ab_selpaths_fini(struct ab_selpaths *t)
{
        if (!t)
                return;
        ab_free(t->v);
        ab_selpaths_init(t);
}

/* The node (parent, key), added when new. @returns its id, 0 if no memory. */
static uint32_t selpaths_intern(struct ab_selpaths *t, uint32_t parent,
                                bool relative, const struct step *st)
{
        struct ab_selpath *p;

        for (uint32_t i = 1; i < t->n; i++) {
                p = &t->v[i];
                if (p->parent == parent && p->relative == relative &&
                    p->keylen == st->keylen &&
                    !memcmp(p->key, st->key, st->keylen))
                        return i;
        }
        if (t->n == t->cap) {
                uint32_t cap = t->cap ? t->cap * 2 : 16;
                struct ab_selpath *v;

                if (cap > UINT32_MAX / 2)
                        return 0;
                v = ab_realloc(t->v, cap * sizeof(*v));
                if (!v)
                        return 0;
                t->v   = v;
                t->cap = cap;
        }
        if (t->n == 0)
                memset(&t->v[t->n++], 0, sizeof(*t->v)); /* the start */
        p           = &t->v[t->n];
        p->parent   = parent;
        p->relative = relative;
        p->key      = st->key;
        p->keylen   = st->keylen;
        return t->n++;
}

ab_err_t ab_selpaths_add(struct ab_selpaths *t, const struct ab_selector *sel,
                         size_t skip, bool relative, uint32_t *id)
{
        uint32_t node = 0;

        *id = 0;
        if (skip >= sel->nsteps)
                return AB_OK;
        for (size_t s = skip; s < sel->nsteps; s++)
                if (sel->steps[s].kind != STEP_KEY)
                        return AB_OK;
        for (size_t s = skip; s < sel->nsteps; s++) {
                node = selpaths_intern(t, node, relative, &sel->steps[s]);
                if (!node)
                        return AB_ERR_NOMEM;
        }
        *id = node;
        return AB_OK;
}
