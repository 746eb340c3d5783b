/* check_lifecycle_changelog.c - lifecycle tests: ids that depend only on the
 * input and carry their route, change capture, and rebuilding a store from
 * its changelog entries. */
#include <check.h>
#include <openssl/evp.h>
#define XXH_INLINE_ALL
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "core/mem.h"
#include "tests/unit/check_lifecycle.h"
#include "tests/unit/lifecycle_fixture.h"

static struct ab_integration *g_net, *g_fast, *g_fast_owned;

static const struct ab_integration *resolve(void *ctx, const char *name)
{
        (void)ctx;
        if (!strcmp(name, "net"))
                return g_net;
        if (!strcmp(name, "fast"))
                return g_fast;
        return NULL;
}

static struct ab_lifecycle *capturing_store(size_t max_open)
{
        struct ab_lifecycle_config conf = {max_open, true, true, 0, 0};
        struct ab_lifecycle *lc         = ab_lifecycle_new(&conf);

        ck_assert_ptr_nonnull(lc);
        return lc;
}

/* ---- a changelog in memory ---------------------------------------------- */

#define LOG_MAX 2048

struct rec {
        unsigned char fp[AB_LIFECYCLE_FP_LEN];
        size_t off, len; /* in values; len 0 = tombstone */
};

struct changelog {
        struct rec rec[LOG_MAX];
        size_t n;
        struct ab_buf values;
        int fail_at; /* the callback fails on its call number fail_at (-1) */
        int calls;
};

static void log_init(struct changelog *l)
{
        memset(l, 0, sizeof(*l));
        ab_buf_init(&l->values, 0);
        l->fail_at = -1;
}

static ab_err_t record(void *opaque,
                       const unsigned char fp[AB_LIFECYCLE_FP_LEN],
                       const void *entry, size_t len)
{
        struct changelog *l = opaque;
        struct rec *r;

        if (l->calls++ == l->fail_at)
                return AB_ERR_KAFKA;
        ck_assert_uint_lt(l->n, LOG_MAX);
        r = &l->rec[l->n++];
        memcpy(r->fp, fp, AB_LIFECYCLE_FP_LEN);
        r->off = l->values.len;
        r->len = len;
        ck_assert(!entry == !len);
        if (len)
                ck_assert_int_eq(ab_buf_append(&l->values, entry, len), AB_OK);
        return AB_OK;
}

static void drain(struct ab_lifecycle *lc, struct changelog *l)
{
        ck_assert_int_eq(ab_lifecycle_drain_changes(lc, record, l), AB_OK);
        ck_assert_uint_eq(ab_lifecycle_pending_changes(lc), 0);
}

/* A new store (max_open \p max_open) rebuilt from every record of \p l,
 * in order. */
static struct ab_lifecycle *rebuild(const struct changelog *l, size_t max_open)
{
        struct ab_lifecycle *lc = lc_make(max_open, true);
        struct ab_error err;
        size_t i;

        for (i = 0; i < l->n; i++) {
                const struct rec *r = &l->rec[i];

                ab_error_clear(&err);
                ck_assert_msg(ab_lifecycle_entry_apply(
                                  lc, r->fp,
                                  r->len ? l->values.data + r->off : NULL,
                                  r->len, resolve, NULL, &err) == AB_OK,
                              "apply record %zu: %s", i, err.text);
        }
        return lc;
}

/* \p a and \p b hold the same open alerts, in the same state: every key
 * the changelog ever named encodes to the same entry, or to none. */
static void assert_same_alerts(const struct ab_lifecycle *a,
                               const struct ab_lifecycle *b,
                               const struct changelog *l)
{
        struct ab_buf ea, eb;
        size_t i;

        ab_buf_init(&ea, 0);
        ab_buf_init(&eb, 0);
        ck_assert_uint_eq(ab_lifecycle_open_count(a),
                          ab_lifecycle_open_count(b));
        for (i = 0; i < l->n; i++) {
                ab_err_t ra, rb;

                ab_buf_reset(&ea);
                ab_buf_reset(&eb);
                ra = ab_lifecycle_entry_encode(a, l->rec[i].fp, &ea);
                rb = ab_lifecycle_entry_encode(b, l->rec[i].fp, &eb);
                ck_assert_int_eq(ra, rb);
                ck_assert(ra == AB_OK || ra == AB_ERR_NOT_FOUND);
                ck_assert_uint_eq(ea.len, eb.len);
                ck_assert(!ea.len || !memcmp(ea.data, eb.data, ea.len));
        }
        ab_buf_fini(&ea);
        ab_buf_fini(&eb);
}

/* ---- ids ----------------------------------------------------------------- */

static const struct tev *find_event(const struct collector *c,
                                    enum ab_event_type type, const char *fp)
{
        size_t i;

        for (i = 0; i < c->n && i < 64; i++)
                if (c->ev[i].type == type && !strcmp(c->ev[i].fp, fp))
                        return &c->ev[i];
        ck_abort_msg("no such event");
        return NULL;
}

/* The same alert gets the same ids whatever else the store saw before. */
START_TEST(test_ids_independent_of_order)
{
        struct ab_lifecycle *a = lc_make(0, true), *b = lc_make(0, true);
        char fp[AB_EVENT_ID_LEN + 1], json[256];
        struct collector ca, cb;
        const struct tev *x, *y;
        int i;

        col_init(&ca);
        col_init(&cb);
        fire(a, g_net, &ca, "10.0.0.1", "m", T0 + 100);
        /* b first sees other alerts open, close and reopen. */
        for (i = 0; i < 5; i++) {
                char src[16];

                snprintf(src, sizeof(src), "10.9.0.%d", i);
                fire(b, g_net, &cb, src, "other", T0 + i);
                recover(b, g_net, &cb, src, T0 + 10 + i);
                fire(b, g_fast, &cb, src, "other", T0 + 20 + i);
        }
        fire(b, g_net, &cb, "10.0.0.1", "m", T0 + 100);
        fp_of(g_net, "10.0.0.1", fp);
        snprintf(json, sizeof(json),
                 "{\"action\":\"claim\",\"fingerprint\":\"%s\","
                 "\"operator\":\"alice\"}",
                 fp);
        act_ok(a, &ca, json, T0 + 200);
        act_ok(b, &cb, json, T0 + 200);
        recover(a, g_net, &ca, "10.0.0.1", T0 + 300);
        recover(b, g_net, &cb, "10.0.0.1", T0 + 300);

        x = find_event(&ca, AB_EVENT_CREATE, fp);
        y = find_event(&cb, AB_EVENT_CREATE, fp);
        ck_assert_str_eq(x->alert_id, y->alert_id);
        ck_assert_str_eq(x->id, y->id);
        ck_assert_str_eq(find_event(&ca, AB_EVENT_CLAIM, fp)->id,
                         find_event(&cb, AB_EVENT_CLAIM, fp)->id);
        ck_assert_str_eq(find_event(&ca, AB_EVENT_CLOSE, fp)->id,
                         find_event(&cb, AB_EVENT_CLOSE, fp)->id);
        /* The id starts with the fingerprint's first half. */
        ck_assert(!strncmp(x->alert_id, fp, AB_EVENT_ID_LEN / 2));
        ck_assert_str_ne(x->alert_id, fp);
        col_fini(&ca);
        col_fini(&cb);
        ab_lifecycle_destroy(a);
        ab_lifecycle_destroy(b);
}
END_TEST

START_TEST(test_route)
{
        static const unsigned char key[AB_LIFECYCLE_FP_LEN] = {0x01, 0x02, 0x03,
                                                               0x04};
        struct ab_lifecycle *lc                             = lc_make(0, true);
        unsigned char bin[AB_LIFECYCLE_FP_LEN];
        struct collector c;
        uint32_t n, r1, r2;
        int i;

        ck_assert_uint_eq(ab_lifecycle_route(key, 1000), 0x01020304u % 1000);
        ck_assert_uint_eq(ab_lifecycle_route(key, 0), 0);
        ck_assert_int_eq(ab_lifecycle_route_hex("0102030400000000000000000000"
                                                "0000",
                                                32, 7, &r1),
                         AB_OK);
        ck_assert_uint_eq(r1, 0x01020304u % 7);
        ck_assert_int_eq(ab_lifecycle_route_hex("0102", 4, 7, &r1),
                         AB_ERR_DECODE);
        ck_assert_int_eq(ab_lifecycle_route_hex("0102030400000000000000000000"
                                                "000g",
                                                32, 7, &r1),
                         AB_ERR_DECODE);
        ck_assert_int_eq(ab_lifecycle_key_parse("ABCDEF0000000000000000000000"
                                                "0000",
                                                32, bin),
                         AB_OK);
        ck_assert_uint_eq(bin[0], 0xab);

        col_init(&c);
        for (i = 0; i < 40; i++) {
                char src[16];

                snprintf(src, sizeof(src), "10.1.0.%d", i);
                fire(lc, i % 2 ? g_net : g_fast, &c, src, "m", T0 + i);
        }
        ck_assert_uint_eq(c.n, 40);
        for (i = 0; i < 40; i++)
                for (n = 1; n <= 12; n++) {
                        ck_assert_int_eq(
                            ab_lifecycle_route_hex(c.ev[i].alert_id,
                                                   AB_EVENT_ID_LEN, n, &r1),
                            AB_OK);
                        ck_assert_int_eq(ab_lifecycle_route_hex(c.ev[i].fp,
                                                                AB_EVENT_ID_LEN,
                                                                n, &r2),
                                         AB_OK);
                        ck_assert_uint_eq(r1, r2);
                }
        col_fini(&c);
        ab_lifecycle_destroy(lc);
}
END_TEST

/* ---- change capture -------------------------------------------------------
 */

START_TEST(test_capture_off_by_default)
{
        struct ab_lifecycle *lc = lc_make(0, true);
        struct changelog *l     = ab_calloc(1, sizeof(*l));
        struct collector c;

        log_init(l);
        col_init(&c);
        fire(lc, g_net, &c, "a", "m", T0);
        ck_assert_uint_eq(ab_lifecycle_pending_changes(lc), 0);
        drain(lc, l);
        ck_assert_uint_eq(l->n, 0);
        col_fini(&c);
        ab_buf_fini(&l->values);
        ab_free(l);
        ab_lifecycle_destroy(lc);
}
END_TEST

START_TEST(test_capture_coalesces)
{
        struct ab_lifecycle *lc = capturing_store(0);
        struct changelog *l     = ab_calloc(1, sizeof(*l));
        char fa[AB_EVENT_ID_LEN + 1], fb[AB_EVENT_ID_LEN + 1], json[256];
        unsigned char ka[AB_LIFECYCLE_FP_LEN];
        struct collector c;
        int i;

        log_init(l);
        col_init(&c);
        fp_of(g_net, "a", fa);
        fp_of(g_net, "b", fb);
        ck_assert_int_eq(ab_lifecycle_key_parse(fa, AB_EVENT_ID_LEN, ka),
                         AB_OK);
        /* Open and a thousand merges: one change. */
        for (i = 0; i < 1000; i++)
                fire(lc, g_net, &c, "a", "m", T0 + i);
        ck_assert_uint_eq(ab_lifecycle_pending_changes(lc), 1);
        drain(lc, l);
        ck_assert_uint_eq(l->n, 1);
        ck_assert_uint_gt(l->rec[0].len, 0);
        ck_assert(!memcmp(l->rec[0].fp, ka, sizeof(ka)));
        drain(lc, l);
        ck_assert_uint_eq(l->n, 1);

        /* A stale recovery changes nothing; a comment does. */
        recover(lc, g_net, &c, "a", T0);
        ck_assert_uint_eq(ab_lifecycle_pending_changes(lc), 0);
        snprintf(json, sizeof(json),
                 "{\"action\":\"comment\",\"fingerprint\":\"%s\","
                 "\"operator\":\"bob\",\"comment\":\"hi\"}",
                 fa);
        act_ok(lc, &c, json, T0 + 1000);
        ck_assert_uint_eq(ab_lifecycle_pending_changes(lc), 1);

        /* Closed: a tombstone. Opened, closed, opened again: an entry. */
        recover(lc, g_net, &c, "a", T0 + 2000);
        fire(lc, g_net, &c, "b", "m", T0 + 2001);
        recover(lc, g_net, &c, "b", T0 + 2002);
        fire(lc, g_net, &c, "b", "m", T0 + 2003);
        ck_assert_uint_eq(ab_lifecycle_pending_changes(lc), 2);
        drain(lc, l);
        ck_assert_uint_eq(l->n, 3);
        ck_assert_uint_eq(l->rec[1].len, 0);
        ck_assert(!memcmp(l->rec[1].fp, ka, sizeof(ka)));
        ck_assert_uint_gt(l->rec[2].len, 0);

        /* A failing callback keeps its key and the later ones pending. */
        for (i = 0; i < 5; i++) {
                char src[16];

                snprintf(src, sizeof(src), "x%d", i);
                fire(lc, g_net, &c, src, "m", T0 + 3000 + i);
        }
        l->calls   = 0;
        l->fail_at = 2;
        ck_assert_int_eq(ab_lifecycle_drain_changes(lc, record, l),
                         AB_ERR_KAFKA);
        ck_assert_uint_eq(l->n, 5);
        ck_assert_uint_eq(ab_lifecycle_pending_changes(lc), 3);
        fire(lc, g_net, &c, "x4", "m", T0 + 4000); /* already pending */
        fire(lc, g_net, &c, "x0", "m", T0 + 4000); /* drained: new */
        ck_assert_uint_eq(ab_lifecycle_pending_changes(lc), 4);
        l->fail_at = -1;
        drain(lc, l);
        ck_assert_uint_eq(l->n, 9);

        col_fini(&c);
        ab_buf_fini(&l->values);
        ab_free(l);
        ab_lifecycle_destroy(lc);
}
END_TEST

/* Opens, merges (some out of order), claims and comments: no close, so
 * the rebuilt store snapshots to the very same bytes. */
START_TEST(test_rebuild_equals_snapshot)
{
        struct ab_lifecycle *a = capturing_store(0), *b;
        struct changelog *l    = ab_calloc(1, sizeof(*l));
        char fp[AB_EVENT_ID_LEN + 1], json[256];
        struct ab_buf sa, sb;
        struct collector c;
        int i;

        log_init(l);
        col_init(&c);
        ab_buf_init(&sa, 0);
        ab_buf_init(&sb, 0);
        for (i = 0; i < 300; i++) {
                char src[16];

                snprintf(src, sizeof(src), "10.2.%d.%d", i / 100, i % 37);
                /* Times go back and forth, several alerts share one. */
                fire(a, i % 3 ? g_net : g_fast, &c, src, i % 2 ? "x" : "y",
                     T0 + (i % 7) * 100 + i / 50);
                if (i % 41 == 0) {
                        fp_of(i % 3 ? g_net : g_fast, src, fp);
                        snprintf(json, sizeof(json),
                                 "{\"action\":\"claim\",\"fingerprint\":"
                                 "\"%s\",\"operator\":\"op%d\"}",
                                 fp, i);
                        act_ok(a, &c, json, T0 + 50);
                }
                if (i % 64 == 0)
                        drain(a, l);
        }
        drain(a, l);
        b = rebuild(l, 0);
        assert_same_alerts(a, b, l);
        ck_assert_int_eq(ab_lifecycle_snapshot(a, &sa), AB_OK);
        ck_assert_int_eq(ab_lifecycle_snapshot(b, &sb), AB_OK);
        ck_assert_uint_eq(sa.len, sb.len);
        ck_assert(!memcmp(sa.data, sb.data, sa.len));
        ck_assert_uint_eq(ab_lifecycle_pending_changes(b), 0);
        col_fini(&c);
        ab_buf_fini(&sa);
        ab_buf_fini(&sb);
        ab_buf_fini(&l->values);
        ab_free(l);
        ab_lifecycle_destroy(a);
        ab_lifecycle_destroy(b);
}
END_TEST

/* Every kind of change, drained at odd moments; then both stores see the
 * same further input and emit the same events. */
START_TEST(test_rebuild_continues_the_same)
{
        struct ab_lifecycle *a = capturing_store(12), *b;
        struct changelog *l    = ab_calloc(1, sizeof(*l));
        struct collector ca, cb;
        char fp[AB_EVENT_ID_LEN + 1], json[256];
        int i;

        log_init(l);
        col_init(&ca);
        col_init(&cb);
        for (i = 0; i < 10; i++) {
                char src[16];

                snprintf(src, sizeof(src), "10.0.0.%d", i);
                fire(a, g_net, &ca, src, "first", T0 + i * 1000);
                fire(a, g_fast, &ca, src, "fast", T0 + i * 1000 + 1);
                if (i % 3 == 0)
                        drain(a, l);
        }
        fire(a, g_net, &ca, "10.0.0.8", "late", T0 + 6500);
        recover(a, g_net, &ca, "10.0.0.9", T0 + 9500);
        fp_of(g_net, "10.0.0.8", fp);
        snprintf(json, sizeof(json),
                 "{\"action\":\"claim\",\"fingerprint\":\"%s\","
                 "\"operator\":\"alice\"}",
                 fp);
        act_ok(a, &ca, json, T0 + 9600);
        ck_assert_int_eq(ab_lifecycle_expire(a, T0 + 9700, collect, &ca),
                         AB_OK);
        drain(a, l);
        ck_assert_uint_gt(stats_of(a).evicted, 0);
        ck_assert_uint_gt(stats_of(a).closed_auto, 0);
        b = rebuild(l, 12);
        assert_same_alerts(a, b, l);

        ab_buf_reset(&ca.log);
        ca.n = 0;
        act_ok(a, &ca, json, T0 + 9800);
        act_ok(b, &cb, json, T0 + 9800);
        for (i = 0; i < 12; i++) {
                char src[16];

                snprintf(src, sizeof(src), "10.0.0.%d", i % 11);
                fire(a, i % 3 ? g_net : g_fast, &ca, src, "two",
                     T0 + 10000 + i * 10);
                fire(b, i % 3 ? g_net : g_fast, &cb, src, "two",
                     T0 + 10000 + i * 10);
        }
        recover(a, g_net, &ca, "10.0.0.8", T0 + 12000);
        recover(b, g_net, &cb, "10.0.0.8", T0 + 12000);
        ck_assert_int_eq(ab_lifecycle_expire(a, T0 + 7200000, collect, &ca),
                         AB_OK);
        ck_assert_int_eq(ab_lifecycle_expire(b, T0 + 7200000, collect, &cb),
                         AB_OK);
        ck_assert_uint_gt(ca.log.len, 0);
        ck_assert_str_eq(ca.log.data, cb.log.data);
        col_fini(&ca);
        col_fini(&cb);
        ab_buf_fini(&l->values);
        ab_free(l);
        ab_lifecycle_destroy(a);
        ab_lifecycle_destroy(b);
}
END_TEST

/* Seal entry \p e again: its last 16 bytes become the checksum of the rest
 * for the version in its byte 4 (entry.c), computed here on its own. */
static void reseal(struct ab_buf *e)
{
        size_t body = e->len - AB_LIFECYCLE_FP_LEN;

        if (e->data[4] == 1) {
                unsigned char md[EVP_MAX_MD_SIZE];
                unsigned int mdlen = 0;

                ck_assert(
                    EVP_Digest(e->data, body, md, &mdlen, EVP_sha256(), NULL));
                memcpy(e->data + body, md, AB_LIFECYCLE_FP_LEN);
        } else {
                XXH128_canonical_t c;

                XXH128_canonicalFromHash(&c, XXH3_128bits(e->data, body));
                memcpy(e->data + body, c.digest, AB_LIFECYCLE_FP_LEN);
        }
}

/* Flip the first byte of entry \p e's alert id and seal it again. */
static void reseal_with_id_flipped(struct ab_buf *e)
{
        uint32_t namelen;

        memcpy(&namelen, e->data + 5, 4); /* little-endian host */
        e->data[5 + 4 + namelen + AB_LIFECYCLE_FP_LEN] ^= 0x01;
        reseal(e);
}

START_TEST(test_entry_tombstone_and_rejects)
{
        struct ab_lifecycle *a = capturing_store(0), *b = lc_make(0, true);
        unsigned char key[AB_LIFECYCLE_FP_LEN], other[AB_LIFECYCLE_FP_LEN];
        char fp[AB_EVENT_ID_LEN + 1];
        struct ab_buf e;
        struct ab_error err;
        struct collector c;
        size_t i;

        col_init(&c);
        ab_buf_init(&e, 0);
        fire(a, g_net, &c, "a", "m", T0);
        fire(a, g_fast, &c, "b", "m", T0);
        fp_of(g_net, "a", fp);
        ck_assert_int_eq(ab_lifecycle_key_parse(fp, AB_EVENT_ID_LEN, key),
                         AB_OK);
        fp_of(g_net, "zz", fp);
        ck_assert_int_eq(ab_lifecycle_key_parse(fp, AB_EVENT_ID_LEN, other),
                         AB_OK);
        ck_assert_int_eq(ab_lifecycle_entry_encode(a, other, &e),
                         AB_ERR_NOT_FOUND);
        ck_assert_int_eq(ab_lifecycle_entry_encode(a, key, &e), AB_OK);
        /* Written as version 3, sealed with XXH3-128. */
        ck_assert_uint_eq(e.data[4], 3);
        {
                struct ab_buf sealed;

                ab_buf_init(&sealed, 0);
                ck_assert_int_eq(ab_buf_append(&sealed, e.data, e.len), AB_OK);
                reseal(&sealed);
                ck_assert_mem_eq(sealed.data, e.data, e.len);
                ab_buf_fini(&sealed);
        }

        /* A tombstone for a key that is not open is fine. */
        ck_assert_int_eq(
            ab_lifecycle_entry_apply(b, key, NULL, 0, resolve, NULL, &err),
            AB_OK);
        ck_assert_int_eq(ab_lifecycle_entry_apply(b, key, e.data, e.len,
                                                  resolve, NULL, &err),
                         AB_OK);
        ck_assert_uint_eq(ab_lifecycle_open_count(b), 1);
        /* Applying it again replaces it. */
        ck_assert_int_eq(ab_lifecycle_entry_apply(b, key, e.data, e.len,
                                                  resolve, NULL, &err),
                         AB_OK);
        ck_assert_uint_eq(ab_lifecycle_open_count(b), 1);

        /* Every flipped byte and every truncation is refused. */
        for (i = 0; i < e.len; i++) {
                e.data[i] ^= 0x40;
                ck_assert_int_eq(ab_lifecycle_entry_apply(b, key, e.data, e.len,
                                                          resolve, NULL, &err),
                                 AB_ERR_STATE);
                e.data[i] ^= 0x40;
        }
        for (i = 1; i < e.len; i++)
                ck_assert_int_eq(ab_lifecycle_entry_apply(b, key, e.data, i,
                                                          resolve, NULL, &err),
                                 AB_ERR_STATE);
        e.data[4] = 9;
        ck_assert_int_eq(ab_lifecycle_entry_apply(b, key, e.data, e.len,
                                                  resolve, NULL, &err),
                         AB_ERR_STATE);
        ck_assert_ptr_nonnull(strstr(err.text, "version 9"));
        e.data[4] = 0;
        ck_assert_int_eq(ab_lifecycle_entry_apply(b, key, e.data, e.len,
                                                  resolve, NULL, &err),
                         AB_ERR_STATE);
        e.data[4] = 3;
        /* An alert id must start with its fingerprint's route (the store
         * finds alerts by id through it): refused even when sealed. */
        reseal_with_id_flipped(&e);
        ck_assert_int_eq(ab_lifecycle_entry_apply(b, key, e.data, e.len,
                                                  resolve, NULL, &err),
                         AB_ERR_STATE);
        ck_assert_ptr_nonnull(strstr(err.text, "route"));
        reseal_with_id_flipped(&e);
        ck_assert_int_eq(ab_lifecycle_entry_apply(b, key, e.data, e.len,
                                                  resolve, NULL, &err),
                         AB_OK);
        ck_assert_int_eq(ab_lifecycle_entry_apply(b, other, e.data, e.len,
                                                  resolve, NULL, &err),
                         AB_ERR_STATE);
        ck_assert_ptr_nonnull(strstr(err.text, "key"));
        ab_buf_reset(&e);
        fp_of(g_fast, "b", fp);
        ck_assert_int_eq(ab_lifecycle_key_parse(fp, AB_EVENT_ID_LEN, other),
                         AB_OK);
        ck_assert_int_eq(ab_lifecycle_entry_encode(a, other, &e), AB_OK);
        g_fast = NULL; /* not loaded */
        ck_assert_int_eq(ab_lifecycle_entry_apply(b, other, e.data, e.len,
                                                  resolve, NULL, &err),
                         AB_ERR_STATE);
        ck_assert_ptr_nonnull(strstr(err.text, "\"fast\""));
        ck_assert_uint_eq(ab_lifecycle_open_count(b), 1);

        ck_assert_int_eq(
            ab_lifecycle_entry_apply(b, key, NULL, 0, resolve, NULL, &err),
            AB_OK);
        ck_assert_uint_eq(ab_lifecycle_open_count(b), 0);
        col_fini(&c);
        ab_buf_fini(&e);
        ab_lifecycle_destroy(a);
        ab_lifecycle_destroy(b);
}
END_TEST

/* A store that captures changes and writes entries of version \p v (0:
 * the newest). */
static struct ab_lifecycle *versioned_store(unsigned v)
{
        struct ab_lifecycle_config conf = {0, true, true, 0, v};
        struct ab_lifecycle *lc         = ab_lifecycle_new(&conf);

        ck_assert_ptr_nonnull(lc);
        return lc;
}

/* Apply entry \p e (key \p key) to a new store writing version \p v, and
 * encode it again into \p out. */
static void reencode(const struct ab_buf *e, const unsigned char *key,
                     unsigned v, struct ab_buf *out)
{
        struct ab_lifecycle *lc = versioned_store(v);
        struct ab_error err;

        ab_error_clear(&err);
        ck_assert_msg(ab_lifecycle_entry_apply(lc, key, e->data, e->len,
                                               resolve, NULL, &err) == AB_OK,
                      "apply: %s", err.text);
        ab_buf_reset(out);
        ck_assert_int_eq(ab_lifecycle_entry_encode(lc, key, out), AB_OK);
        ab_lifecycle_destroy(lc);
}

/* Whether entry \p e applies to a new store; err filled. */
static ab_err_t apply_fresh(const struct ab_buf *e, const unsigned char *key,
                            struct ab_error *err)
{
        struct ab_lifecycle *lc = lc_make(0, true);
        ab_err_t rc;

        ab_error_clear(err);
        rc = ab_lifecycle_entry_apply(lc, key, e->data, e->len, resolve, NULL,
                                      err);
        ab_lifecycle_destroy(lc);
        return rc;
}

/* Entry versions: 3 carries the blob as the store keeps it (the alert
 * coding, values opt-coded), 2 re-encodes it str-coded as releases before
 * version 3 read it, 1 also seals with SHA-256. A store writes the version
 * it is configured for, every version is read, each with its own checksum
 * and coding, and all three give the same alert. */
START_TEST(test_entry_versions)
{
        struct ab_lifecycle *a = capturing_store(0);
        unsigned char key[AB_LIFECYCLE_FP_LEN];
        char fp[AB_EVENT_ID_LEN + 1];
        struct ab_buf e3, e2, e1, x, y;
        struct ab_lifecycle_config c4 = {0, true, true, 0, 4};
        struct ab_lifecycle *bad;
        struct ab_error err;
        struct collector c;
        struct talert ta;
        const struct ab_alert *al;

        col_init(&c);
        ab_buf_init(&e3, 0);
        ab_buf_init(&e2, 0);
        ab_buf_init(&e1, 0);
        ab_buf_init(&x, 0);
        ab_buf_init(&y, 0);
        fire(a, g_net, &c, "a", "m", T0);
        /* The second firing has a label whose value is absent: version 3
         * keeps it absent, versions 1 and 2 write it empty. */
        al = talert_make(&ta, AB_ALERT_FIRING, "HighCPU", "a", "cpu", 2, "m2");
        ta.labels[0].val = AB_STR_NULL;
        ab_error_clear(&err);
        ck_assert_int_eq(
            ab_lifecycle_process(a, g_net, al, T0 + 1000, collect, &c, &err),
            AB_OK);
        fp_of(g_net, "a", fp);
        ck_assert_int_eq(ab_lifecycle_key_parse(fp, AB_EVENT_ID_LEN, key),
                         AB_OK);
        ck_assert_int_eq(ab_lifecycle_entry_encode(a, key, &e3), AB_OK);
        ck_assert_uint_eq((unsigned char)e3.data[4], 3);
        reencode(&e3, key, 2, &e2);
        reencode(&e3, key, 1, &e1);
        ck_assert_uint_eq((unsigned char)e2.data[4], 2);
        ck_assert_uint_eq((unsigned char)e1.data[4], 1);
        /* 1 and 2 differ in their version and checksum only; 3 in its blob
         * too (its flags, and every value's length prefix). */
        ck_assert_uint_eq(e1.len, e2.len);
        ck_assert_mem_eq(e1.data + 5, e2.data + 5,
                         e2.len - 5 - AB_LIFECYCLE_FP_LEN);
        ck_assert_mem_ne(e3.data + 5, e2.data + 5,
                         e2.len - 5 - AB_LIFECYCLE_FP_LEN);

        /* Every version restores the same alert: read back and written as
         * version 2, each gives e2; a version 3 entry round-trips. */
        reencode(&e1, key, 2, &x);
        ck_assert_uint_eq(x.len, e2.len);
        ck_assert_mem_eq(x.data, e2.data, e2.len);
        reencode(&e2, key, 2, &x);
        ck_assert_mem_eq(x.data, e2.data, e2.len);
        reencode(&e3, key, 0, &x);
        ck_assert_uint_eq(x.len, e3.len);
        ck_assert_mem_eq(x.data, e3.data, e3.len);
        /* A store restored from version 1 keeps that blob, and writes it in
         * a version 3 entry that reads back as the same alert. */
        reencode(&e1, key, 0, &x);
        ck_assert_uint_eq((unsigned char)x.data[4], 3);
        reencode(&x, key, 2, &y);
        ck_assert_uint_eq(y.len, e2.len);
        ck_assert_mem_eq(y.data, e2.data, e2.len);

        /* Each version is checked with its own checksum. */
        ab_buf_reset(&x);
        ck_assert_int_eq(ab_buf_append(&x, e2.data, e2.len), AB_OK);
        x.data[4] = 1;
        ck_assert_int_eq(apply_fresh(&x, key, &err), AB_ERR_STATE);
        ck_assert_ptr_nonnull(strstr(err.text, "checksum"));
        ab_buf_reset(&x);
        ck_assert_int_eq(ab_buf_append(&x, e1.data, e1.len), AB_OK);
        x.data[4] = 2;
        ck_assert_int_eq(apply_fresh(&x, key, &err), AB_ERR_STATE);
        ck_assert_ptr_nonnull(strstr(err.text, "checksum"));
        /* A blob in the coding of version 3 inside an older entry: refused
         * by name, whatever the seal. */
        for (unsigned v = 1; v <= 2; v++) {
                ab_buf_reset(&x);
                ck_assert_int_eq(ab_buf_append(&x, e3.data, e3.len), AB_OK);
                x.data[4] = (char)v;
                reseal(&x);
                ck_assert_int_eq(apply_fresh(&x, key, &err), AB_ERR_STATE);
                ck_assert_ptr_nonnull(strstr(err.text, "later version"));
        }

        /* No such version: nothing written. */
        bad = ab_lifecycle_new(&c4);
        ck_assert_ptr_nonnull(bad);
        ck_assert_int_eq(ab_lifecycle_entry_apply(bad, key, e3.data, e3.len,
                                                  resolve, NULL, &err),
                         AB_OK);
        ab_buf_reset(&x);
        ck_assert_int_eq(ab_lifecycle_entry_encode(bad, key, &x),
                         AB_ERR_INTERNAL);
        ck_assert_uint_eq(x.len, 0);
        ab_lifecycle_destroy(bad);
        col_fini(&c);
        ab_buf_fini(&e3);
        ab_buf_fini(&e2);
        ab_buf_fini(&e1);
        ab_buf_fini(&x);
        ab_buf_fini(&y);
        ab_lifecycle_destroy(a);
}
END_TEST

/* Feed \p a (fingerprint \p key) to \p lc at \p t: through its coding
 * (ab_lifecycle_process_coded()) when \p coded, else as decoded. */
static void feed_coded(struct ab_lifecycle *lc, const struct ab_alert *a,
                       const unsigned char *key, int64_t t, bool coded,
                       struct collector *c)
{
        struct ab_lifecycle_code_plan pl;
        unsigned char *bytes = NULL;
        struct ab_error err;

        if (coded) {
                ab_lifecycle_code_plan(a, &pl);
                bytes = ab_malloc(pl.size);
                ck_assert_ptr_nonnull(bytes);
                ab_lifecycle_code_write(bytes, a, &pl);
        }
        ab_error_clear(&err);
        ck_assert_msg(ab_lifecycle_process_coded(lc, g_net, a, bytes,
                                                 coded ? pl.size : 0, key, t,
                                                 collect, c, &err) == AB_OK,
                      "process: %s", err.text);
        ab_free(bytes);
}

/* The entries of \p lc[0] and \p lc[1] for \p key are the same bytes. */
static void assert_same_entry(struct ab_lifecycle *const lc[2],
                              const unsigned char *key, struct ab_buf e[2])
{
        for (int k = 0; k < 2; k++) {
                ab_buf_reset(&e[k]);
                ck_assert_int_eq(ab_lifecycle_entry_encode(lc[k], key, &e[k]),
                                 AB_OK);
        }
        ck_assert_uint_eq(e[0].len, e[1].len);
        ck_assert_mem_eq(e[0].data, e[1].data, e[0].len);
}

/* An alert stored from its coding (the lifecycle stage: a copy of the
 * ALERT record's bytes) is the alert stored by encoding it: the same
 * changelog entries after opens, merges with new and older content,
 * absent values and a claim, and the same events. */
START_TEST(test_coded_equals_encoded)
{
        struct ab_lifecycle *lc[2] = {capturing_store(0), capturing_store(0)};
        struct collector c[2];
        unsigned char key[AB_LIFECYCLE_FP_LEN];
        char fp[AB_EVENT_ID_LEN + 1];
        struct ab_buf e[2];
        struct talert ta;
        const struct ab_alert *a;
        static const struct {
                const char *message;
                int64_t t;
                bool absent;
        } steps[] = {
            {"opened", T0, false},
            {"newer", T0 + 1000, false},
            {"older, not kept", T0 + 500, false},
            {"newer with an absent value", T0 + 2000, true},
            {"after the claim", T0 + 4000, false},
        };

        fp_of(g_net, "a", fp);
        ck_assert_int_eq(ab_lifecycle_key_parse(fp, AB_EVENT_ID_LEN, key),
                         AB_OK);
        for (int k = 0; k < 2; k++) {
                col_init(&c[k]);
                ab_buf_init(&e[k], 0);
        }
        for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
                for (int k = 0; k < 2; k++) {
                        a = talert_make(&ta, AB_ALERT_FIRING, "HighCPU", "a",
                                        "cpu", 2, steps[i].message);
                        if (steps[i].absent)
                                ta.labels[0].val = AB_STR_NULL;
                        if (i == 4) {
                                char json[256];

                                snprintf(json, sizeof(json),
                                         "{\"action\":\"claim\","
                                         "\"fingerprint\":\"%s\","
                                         "\"integration\":\"net\","
                                         "\"operator\":\"ana\"}",
                                         fp);
                                act_ok(lc[k], &c[k], json, T0 + 3000);
                        }
                        feed_coded(lc[k], a, key, steps[i].t, k == 1, &c[k]);
                }
                assert_same_entry(lc, key, e);
        }
        for (int k = 0; k < 2; k++)
                recover(lc[k], g_net, &c[k], "a", T0 + 5000);
        ck_assert_uint_eq(c[0].n, 3); /* create, claim, close */
        ck_assert_uint_eq(c[0].log.len, c[1].log.len);
        ck_assert_mem_eq(c[0].log.data, c[1].log.data, c[0].log.len);

        /* What is stored is the coding given, not the decoded alert: a
         * store given one alert with another's coding keeps the other. */
        {
                struct ab_lifecycle_code_plan pl;
                struct talert tb;
                const struct ab_alert *b;
                unsigned char bytes[1024];
                struct ab_error err;

                b = talert_make(&tb, AB_ALERT_FIRING, "HighCPU", "a", "cpu", 2,
                                "the coded one");
                ab_lifecycle_code_plan(b, &pl);
                ck_assert_uint_le(pl.size, sizeof(bytes));
                ab_lifecycle_code_write(bytes, b, &pl);
                a = talert_make(&ta, AB_ALERT_FIRING, "HighCPU", "a", "cpu", 2,
                                "the decoded one");
                ab_error_clear(&err);
                ck_assert_int_eq(ab_lifecycle_process_coded(
                                     lc[1], g_net, a, bytes, pl.size, key,
                                     T0 + 6000, collect, &c[1], &err),
                                 AB_OK);
                feed_coded(lc[0], b, key, T0 + 6000, false, &c[0]);
                assert_same_entry(lc, key, e);
        }
        for (int k = 0; k < 2; k++) {
                col_fini(&c[k]);
                ab_buf_fini(&e[k]);
                ab_lifecycle_destroy(lc[k]);
        }
}
END_TEST

/* Version 1 snapshots (alert ids from a store-wide counter) are refused
 * by name. */
START_TEST(test_snapshot_version_1_refused)
{
        struct ab_lifecycle *a = lc_make(0, true), *b = lc_make(0, true);
        struct ab_buf snap;
        struct ab_error err;
        struct collector c;

        col_init(&c);
        ab_buf_init(&snap, 0);
        fire(a, g_net, &c, "a", "m", T0);
        ck_assert_int_eq(ab_lifecycle_snapshot(a, &snap), AB_OK);
        ck_assert_uint_eq((unsigned char)snap.data[4], 3);
        snap.data[4] = 1;
        ck_assert_int_eq(
            ab_lifecycle_restore(b, snap.data, snap.len, resolve, NULL, &err),
            AB_ERR_STATE);
        ck_assert_ptr_nonnull(strstr(err.text, "version 1"));
        ck_assert_uint_eq(ab_lifecycle_open_count(b), 0);
        col_fini(&c);
        ab_buf_fini(&snap);
        ab_lifecycle_destroy(a);
        ab_lifecycle_destroy(b);
}
END_TEST

/* Seal snapshot \p s again after an edit (SHA-256, first 16 bytes). */
static void reseal_snapshot(struct ab_buf *s)
{
        size_t body = s->len - AB_LIFECYCLE_FP_LEN;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;

        ck_assert(EVP_Digest(s->data, body, md, &mdlen, EVP_sha256(), NULL));
        memcpy(s->data + body, md, AB_LIFECYCLE_FP_LEN);
}

/* Version 2 snapshots (blobs str-coded, as before the shared alert coding)
 * restore; a version 2 snapshot holding a blob in the later coding is
 * refused by name. */
START_TEST(test_snapshot_version_2_read)
{
        struct ab_lifecycle *a = capturing_store(0), *b = lc_make(0, true);
        struct ab_lifecycle *old = versioned_store(2);
        unsigned char key[AB_LIFECYCLE_FP_LEN];
        char fp[AB_EVENT_ID_LEN + 1];
        struct ab_buf e3, e2, snap, again;
        struct ab_error err;
        struct collector c;

        col_init(&c);
        ab_buf_init(&e3, 0);
        ab_buf_init(&e2, 0);
        ab_buf_init(&snap, 0);
        ab_buf_init(&again, 0);
        fire(a, g_net, &c, "a", "m", T0);
        fp_of(g_net, "a", fp);
        ck_assert_int_eq(ab_lifecycle_key_parse(fp, AB_EVENT_ID_LEN, key),
                         AB_OK);
        ck_assert_int_eq(ab_lifecycle_entry_encode(a, key, &e3), AB_OK);
        reencode(&e3, key, 2, &e2);

        /* A store holding the str-coded blob, saved as version 2. */
        ck_assert_int_eq(ab_lifecycle_entry_apply(b, key, e2.data, e2.len,
                                                  resolve, NULL, &err),
                         AB_OK);
        ck_assert_int_eq(ab_lifecycle_snapshot(b, &snap), AB_OK);
        ck_assert_uint_eq((unsigned char)snap.data[4], 3);
        snap.data[4] = 2;
        reseal_snapshot(&snap);
        ck_assert_msg(ab_lifecycle_restore(old, snap.data, snap.len, resolve,
                                           NULL, &err) == AB_OK,
                      "%s", err.text);
        ck_assert_uint_eq(ab_lifecycle_open_count(old), 1);
        ck_assert_int_eq(ab_lifecycle_entry_encode(old, key, &again), AB_OK);
        ck_assert_uint_eq(again.len, e2.len);
        ck_assert_mem_eq(again.data, e2.data, e2.len);

        /* The store's own coding inside a version 2 snapshot: refused. */
        ab_buf_reset(&snap);
        ck_assert_int_eq(ab_lifecycle_snapshot(a, &snap), AB_OK);
        snap.data[4] = 2;
        reseal_snapshot(&snap);
        ck_assert_int_eq(
            ab_lifecycle_restore(b, snap.data, snap.len, resolve, NULL, &err),
            AB_ERR_STATE);
        ck_assert_ptr_nonnull(strstr(err.text, "later version"));
        col_fini(&c);
        ab_buf_fini(&e3);
        ab_buf_fini(&e2);
        ab_buf_fini(&snap);
        ab_buf_fini(&again);
        ab_lifecycle_destroy(a);
        ab_lifecycle_destroy(b);
        ab_lifecycle_destroy(old);
}
END_TEST

static void setup(void)
{
        g_net        = integ_make("net", "10m", "[\"source\", \"check\"]");
        g_fast       = integ_make("fast", "5s", "[\"source\"]");
        g_fast_owned = g_fast;
}

static void teardown(void)
{
        ab_integration_destroy(g_net);
        ab_integration_destroy(g_fast_owned);
        g_net = g_fast = g_fast_owned = NULL;
}

TCase *lifecycle_changelog_tcase(void)
{
        TCase *tc = tcase_create("changelog");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_ids_independent_of_order);
        tcase_add_test(tc, test_route);
        tcase_add_test(tc, test_capture_off_by_default);
        tcase_add_test(tc, test_capture_coalesces);
        tcase_add_test(tc, test_rebuild_equals_snapshot);
        tcase_add_test(tc, test_rebuild_continues_the_same);
        tcase_add_test(tc, test_entry_tombstone_and_rejects);
        tcase_add_test(tc, test_entry_versions);
        tcase_add_test(tc, test_coded_equals_encoded);
        tcase_add_test(tc, test_snapshot_version_1_refused);
        tcase_add_test(tc, test_snapshot_version_2_read);
        return tc;
}
