/* stores.c - the per-partition lifecycle stores of the two-stage
 * pipeline. */
#include "pipeline/stores.h"

#include <string.h>

#include "core/log.h"
#include "core/mem.h"

struct store {
        int32_t partition;
        bool restored;
        struct ab_lifecycle *lc;
};

struct ab_stores {
        struct ab_lifecycle_config conf;
        ab_lifecycle_resolve_cb resolve;
        void *ctx;
        struct store *v; /* unordered: a member owns few partitions */
        size_t n, cap;
        uint64_t skipped;
};

struct ab_stores *ab_stores_new(const struct ab_lifecycle_config *conf,
                                ab_lifecycle_resolve_cb resolve, void *ctx)
{
        struct ab_stores *s = ab_calloc(1, sizeof(*s));

        if (!s)
                return NULL;
        s->conf                 = *conf;
        s->conf.capture_changes = true;
        s->resolve              = resolve;
        s->ctx                  = ctx;
        return s;
}

void ab_stores_destroy(struct ab_stores *s)
{
        if (!s)
                return;
        for (size_t i = 0; i < s->n; i++)
                ab_lifecycle_destroy(s->v[i].lc);
        ab_free(s->v);
        ab_free(s);
}

static struct store *find(const struct ab_stores *s, int32_t partition)
{
        for (size_t i = 0; i < s->n; i++)
                if (s->v[i].partition == partition)
                        return &s->v[i];
        return NULL;
}

ab_err_t ab_stores_add(struct ab_stores *s, int32_t partition)
{
        struct ab_lifecycle *lc = ab_lifecycle_new(&s->conf);
        struct store *st;

        if (!lc)
                return AB_ERR_NOMEM;
        st = find(s, partition);
        if (!st) {
                if (s->n == s->cap) {
                        size_t cap      = s->cap ? s->cap * 2 : 8;
                        struct store *v = ab_realloc(s->v, cap * sizeof(*v));

                        if (!v) {
                                ab_lifecycle_destroy(lc);
                                return AB_ERR_NOMEM;
                        }
                        s->v   = v;
                        s->cap = cap;
                }
                st     = &s->v[s->n++];
                st->lc = NULL;
        }
        ab_lifecycle_destroy(st->lc);
        st->partition = partition;
        st->restored  = false;
        st->lc        = lc;
        return AB_OK;
}

void ab_stores_drop(struct ab_stores *s, int32_t partition)
{
        struct store *st = find(s, partition);

        if (!st)
                return;
        ab_lifecycle_destroy(st->lc);
        *st = s->v[--s->n];
}

ab_err_t ab_stores_restore_record(struct ab_stores *s, int32_t partition,
                                  struct ab_str key, struct ab_str value,
                                  struct ab_error *err)
{
        unsigned char fp[AB_LIFECYCLE_FP_LEN];
        struct store *st = find(s, partition);
        ab_err_t rc;

        if (!st)
                return ab_error_set(err, AB_ERR_NOT_FOUND, NULL,
                                    "no store for partition %d",
                                    (int)partition);
        rc = key.ptr ? ab_lifecycle_key_parse(key.ptr, key.len, fp)
                     : AB_ERR_DECODE;
        if (!rc)
                rc = ab_lifecycle_entry_apply(st->lc, fp, value.ptr, value.len,
                                              s->resolve, s->ctx, err);
        if (rc == AB_ERR_NOMEM)
                return rc;
        if (rc) {
                s->skipped++;
                AB_WARN("stores", "invalid changelog record skipped",
                        "partition=%d error=%s", (int)partition,
                        ab_err_code(rc));
        }
        return AB_OK;
}

void ab_stores_set_restored(struct ab_stores *s, int32_t partition)
{
        struct store *st = find(s, partition);

        if (st)
                st->restored = true;
}

bool ab_stores_unrestored(const struct ab_stores *s, int32_t *partition)
{
        for (size_t i = 0; i < s->n; i++) {
                if (!s->v[i].restored) {
                        *partition = s->v[i].partition;
                        return true;
                }
        }
        return false;
}

struct ab_lifecycle *ab_stores_get(const struct ab_stores *s, int32_t partition)
{
        const struct store *st = find(s, partition);

        return st && st->restored ? st->lc : NULL;
}

size_t ab_stores_count(const struct ab_stores *s)
{
        return s->n;
}

struct ab_lifecycle *ab_stores_at(const struct ab_stores *s, size_t i,
                                  int32_t *partition)
{
        *partition = s->v[i].partition;
        return s->v[i].restored ? s->v[i].lc : NULL;
}

size_t ab_stores_open_count(const struct ab_stores *s)
{
        size_t n = 0;

        for (size_t i = 0; i < s->n; i++)
                if (s->v[i].restored)
                        n += ab_lifecycle_open_count(s->v[i].lc);
        return n;
}

uint64_t ab_stores_skipped(const struct ab_stores *s)
{
        return s->skipped;
}
