/* snapshot.c - saving the lifecycle state to a checksummed byte string
 * and restoring it. */
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "lifecycle/blob.h"
#include "lifecycle/lifecycle_int.h"

#define LC_SNAP_MAGIC     "ABLC"
#define LC_SNAP_VERSION   3u
#define LC_SNAP_CHECK_LEN 16

/*
 * Format version 3, integers little-endian:
 *   "ABLC", u32 version,
 *   u32 nintegrations, each u32 length + name,
 *   u32 nclosed, each (oldest first) id[16] fp[16] i64 end_ms u8 reason,
 *   u64 nalerts, each (class by class in auto_clear order, quietest first):
 *     u32 integration index, then the alert's fields as a changelog entry
 *     holds them (entry.c),
 *   then the first 16 bytes of SHA-256 over everything before.
 * Version 2 differs only in its blobs, str-coded (blob.c), and is read.
 * Version 1 (with a store-wide open counter that fed alert ids, and no
 * touch) is refused: its alert ids do not carry their route.
 */

/* Index of \p name in \p names (appending it when new). */
static ab_err_t snap_name(const char ***names, size_t *n, const char *name,
                          uint32_t *idx)
{
        const char **grown;
        size_t i;

        for (i = 0; i < *n; i++)
                if (!strcmp((*names)[i], name))
                        break;
        if (i == *n) {
                grown = ab_realloc(*names, (*n + 1) * sizeof(**names));
                if (!grown)
                        return AB_ERR_NOMEM;
                *names        = grown;
                grown[(*n)++] = name;
        }
        *idx = (uint32_t)i;
        return AB_OK;
}

ab_err_t ab_lifecycle_snapshot(const struct ab_lifecycle *lc,
                               struct ab_buf *out)
{
        struct ab_lifecycle *mut          = (struct ab_lifecycle *)lc;
        const struct lc_state *st         = &lc->st;
        const struct ab_integration *last = NULL;
        const char **names                = NULL;
        size_t nnames = 0, start = out->len, i;
        uint32_t last_idx = 0;
        struct ab_buf body;
        unsigned char check[LC_KEY_LEN];
        ab_err_t rc = AB_OK;

        ab_buf_init(&body, 0);
        /* The alerts go to `body` first: the name table precedes them. */
        rc = ab_lc_put_u64(&body, st->open);
        for (i = 0; !rc && i < st->ncls; i++) {
                struct lc_alert **sorted;
                size_t nsorted;

                rc = ab_lc_class_sorted(st, st->cls[i], &sorted, &nsorted);
                for (size_t k = 0; !rc && k < nsorted; k++) {
                        const struct lc_alert *al = sorted[k];
                        const struct ab_integration *integ =
                            ab_lc_alert_integ(st, al);

                        if (integ != last) {
                                rc   = snap_name(&names, &nnames,
                                                 ab_lc_integ_name(integ),
                                                 &last_idx);
                                last = integ;
                        }
                        if (!rc)
                                rc = ab_lc_put_u32(&body, last_idx);
                        if (!rc)
                                rc = ab_lc_fields_put(mut, &body, al, false);
                }
                ab_free(sorted);
        }
        if (!rc)
                rc = ab_buf_append(out, LC_SNAP_MAGIC, 4);
        if (!rc)
                rc = ab_lc_put_u32(out, LC_SNAP_VERSION);
        if (!rc)
                rc = ab_lc_put_u32(out, (uint32_t)nnames);
        for (i = 0; !rc && i < nnames; i++) {
                rc = ab_lc_put_u32(out, (uint32_t)strlen(names[i]));
                if (!rc)
                        rc = ab_buf_append_str(out, names[i]);
        }
        if (!rc)
                rc = ab_lc_put_u32(out, (uint32_t)st->nclosed);
        for (i = 0; !rc && i < st->nclosed; i++) {
                const struct lc_closed *c =
                    &st->closed[(st->closed_next + LC_CLOSED_RING -
                                 st->nclosed + i) %
                                LC_CLOSED_RING];

                rc = ab_buf_append(out, c->id, LC_KEY_LEN);
                if (!rc)
                        rc = ab_buf_append(out, c->fp, LC_KEY_LEN);
                if (!rc)
                        rc = ab_lc_put_u64(out, (uint64_t)c->end_ms);
                if (!rc)
                        rc = ab_buf_append(out, &c->why, 1);
        }
        if (!rc)
                rc = ab_buf_append(out, body.data, body.len);
        if (!rc)
                rc = ab_lc_checksum(mut, out->data + start, out->len - start,
                                    check);
        if (!rc)
                rc = ab_buf_append(out, check, sizeof(check));
        if (rc)
                ab_buf_truncate(out, start);
        ab_free(names);
        ab_buf_fini(&body);
        return rc;
}

static ab_err_t bad_snapshot(struct ab_error *err, const char *what)
{
        return ab_error_set(err, AB_ERR_STATE, NULL, "invalid snapshot: %s",
                            what);
}

/* Read one alert record into a new lc_alert in \p st. */
static ab_err_t restore_alert(struct ab_lifecycle *lc, struct lc_state *st,
                              struct lc_rd *r, bool legacy,
                              const struct ab_integration **integs,
                              size_t ninteg, struct ab_error *err)
{
        struct lc_alert *al = NULL;
        unsigned char id[LC_KEY_LEN];
        uint64_t idx;
        ab_err_t rc;

        idx = ab_lc_rd_uint(r, 4);
        if (!r->bad && idx >= ninteg)
                return bad_snapshot(err, "integration index out of range");
        rc = ab_lc_fields_get(lc, st, r, "snapshot", legacy, &al, err);
        if (rc)
                return rc;
        ab_lc_alert_id_get(al, id);
        if ((rc = ab_lc_alert_integ_set(st, al, integs[idx])))
                ab_error_set(err, rc, NULL, "entering integration \"%s\": %s",
                             ab_lc_integ_name(integs[idx]), ab_err_desc(rc));
        else if (ab_lc_find_fp(st, al->fp) || ab_lc_find_id(st, id))
                rc = bad_snapshot(err, "duplicate alert");
        else if ((rc = ab_lc_store_load(st, al)))
                ab_error_set(err, rc, NULL, "out of memory");
        if (rc)
                ab_lc_alert_free(st, al);
        return rc;
}

ab_err_t ab_lifecycle_restore(struct ab_lifecycle *lc, const char *data,
                              size_t len, ab_lifecycle_resolve_cb resolve,
                              void *ctx, struct ab_error *err)
{
        const struct ab_integration **integs = NULL;
        struct lc_rd r;
        struct lc_state st;
        unsigned char check[LC_KEY_LEN];
        uint64_t ninteg = 0, nclosed, nalerts, version, i;
        char *name      = NULL;
        ab_err_t rc;

        ab_lc_state_init(&st);
        if (!lc || !data || !resolve) {
                rc = ab_error_set(err, AB_ERR_INTERNAL, NULL,
                                  "lifecycle: missing argument");
                goto out;
        }
        if (len < 8 + LC_SNAP_CHECK_LEN || memcmp(data, LC_SNAP_MAGIC, 4)) {
                rc = bad_snapshot(err, "not a lifecycle snapshot");
                goto out;
        }
        r.p     = (const unsigned char *)data + 4;
        r.end   = (const unsigned char *)data + len - LC_SNAP_CHECK_LEN;
        r.bad   = 0;
        version = ab_lc_rd_uint(&r, 4);
        if (version < 2 || version > LC_SNAP_VERSION) {
                rc = ab_error_set(err, AB_ERR_STATE, NULL,
                                  "unsupported snapshot version %llu (this "
                                  "build reads versions 2 to %u)",
                                  (unsigned long long)version, LC_SNAP_VERSION);
                goto out;
        }
        rc = ab_lc_checksum(lc, data, len - LC_SNAP_CHECK_LEN, check);
        if (rc)
                goto out;
        if (memcmp(check, data + len - LC_SNAP_CHECK_LEN, LC_SNAP_CHECK_LEN)) {
                rc = bad_snapshot(err, "checksum mismatch (corrupted)");
                goto out;
        }
        ninteg = ab_lc_rd_uint(&r, 4);
        if (r.bad || ninteg > (size_t)(r.end - r.p) / 4) {
                rc = bad_snapshot(err, "truncated integration table");
                goto out;
        }
        integs = ab_calloc(ninteg ? (size_t)ninteg : 1, sizeof(*integs));
        rc     = AB_ERR_NOMEM;
        if (!integs)
                goto out;
        for (i = 0; i < ninteg; i++) {
                uint64_t n             = ab_lc_rd_uint(&r, 4);
                const unsigned char *p = ab_lc_rd_bytes(&r, (size_t)n);

                if (!p) {
                        rc = bad_snapshot(err, "truncated integration name");
                        goto out;
                }
                ab_free(name);
                name = ab_strndup((const char *)p, (size_t)n);
                if (!name)
                        goto out;
                integs[i] = resolve(ctx, name);
                if (!integs[i]) {
                        rc = ab_error_set(err, AB_ERR_STATE, name,
                                          "the snapshot has open alerts of "
                                          "integration \"%s\", which is not "
                                          "loaded",
                                          name);
                        goto out;
                }
        }
        nclosed = ab_lc_rd_uint(&r, 4);
        if (r.bad || nclosed > LC_CLOSED_RING) {
                rc = bad_snapshot(err, "bad closed-alert table");
                goto out;
        }
        if (nclosed) {
                st.closed = ab_calloc(LC_CLOSED_RING, sizeof(*st.closed));
                if (!st.closed)
                        goto out;
        }
        for (i = 0; i < nclosed; i++) {
                struct lc_closed *c    = &st.closed[i];
                const unsigned char *p = ab_lc_rd_bytes(&r, 2 * LC_KEY_LEN);

                if (p) {
                        memcpy(c->id, p, LC_KEY_LEN);
                        memcpy(c->fp, p + LC_KEY_LEN, LC_KEY_LEN);
                }
                c->end_ms = (int64_t)ab_lc_rd_uint(&r, 8);
                c->why    = (uint8_t)ab_lc_rd_uint(&r, 1);
                if (r.bad || c->why < LC_WHY_RECOVERED ||
                    c->why > LC_WHY__MAX) {
                        rc = bad_snapshot(err, "bad closed-alert entry");
                        goto out;
                }
        }
        st.nclosed     = (size_t)nclosed;
        st.closed_next = (size_t)nclosed % LC_CLOSED_RING;
        nalerts        = ab_lc_rd_uint(&r, 8);
        if (r.bad) {
                rc = bad_snapshot(err, "truncated alert count");
                goto out;
        }
        for (i = 0; i < nalerts; i++) {
                rc = restore_alert(lc, &st, &r, version < 3, integs,
                                   (size_t)ninteg, err);
                if (rc)
                        goto out;
        }
        if (r.p != r.end) {
                rc = bad_snapshot(err, "trailing bytes");
                goto out;
        }
        ab_lc_state_fini(&lc->st);
        lc->st = st;
        ab_lc_state_init(&st);
        ab_lc_changes_clear(lc);
        rc = AB_OK;
        AB_INFO("lifecycle", "state restored", "open=%zu", lc->st.open);
out:
        if (rc == AB_ERR_NOMEM)
                ab_error_set(err, rc, NULL, "out of memory");
        ab_lc_state_fini(&st);
        ab_free(integs);
        ab_free(name);
        return rc;
}
