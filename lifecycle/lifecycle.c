/* lifecycle.c - the alert state machine: open, merge, close, auto-clear,
 * eviction and the events each emits. */
#include "lifecycle/lifecycle.h"

#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "lifecycle/blob.h"
#include "lifecycle/lifecycle_int.h"

/*
 * The other files of the module: ident.c (fingerprints and ids), store.c
 * (the open alerts and their order), blob.c (an alert's stored content),
 * actions.c (operator actions), entry.c (an alert's state as bytes, and
 * changelog entries), snapshot.c (saving and restoring state), changes.c
 * (change capture for a changelog).
 */

#define LC_SYSTEM             "alertbridge" /* operator of automatic closes */
#define LC_SOLUTION_RECOVERED "recovered: the source reported recovery"

struct ab_lifecycle *ab_lifecycle_new(const struct ab_lifecycle_config *conf)
{
        struct ab_lifecycle *lc = ab_calloc(1, sizeof(*lc));

        if (!lc)
                return NULL;
        if (conf)
                lc->conf = *conf;
        ab_lc_state_init(&lc->st);
        ab_json_doc_init(&lc->doc);
        ab_buf_init(&lc->operator_name, 0);
        ab_buf_init(&lc->text, 0);
        ab_buf_init(&lc->entry, 0);
        ab_buf_init(&lc->name, 0);
        lc->hasher = ab_lifecycle_hasher_new();
        if (lc->conf.capture_changes)
                lc->chg = ab_lc_changes_new();
        if (!lc->hasher || (lc->conf.capture_changes && !lc->chg)) {
                ab_lifecycle_destroy(lc);
                return NULL;
        }
        return lc;
}

void ab_lifecycle_destroy(struct ab_lifecycle *lc)
{
        if (!lc)
                return;
        ab_lc_state_fini(&lc->st);
        ab_lifecycle_hasher_destroy(lc->hasher);
        ab_json_doc_fini(&lc->doc);
        ab_buf_fini(&lc->operator_name);
        ab_buf_fini(&lc->text);
        ab_buf_fini(&lc->entry);
        ab_buf_fini(&lc->name);
        ab_lc_changes_destroy(lc->chg);
        ab_free(lc->kv);
        ab_free(lc);
}

size_t ab_lifecycle_open_count(const struct ab_lifecycle *lc)
{
        return lc ? lc->st.open : 0;
}

void ab_lifecycle_get_stats(const struct ab_lifecycle *lc,
                            struct ab_lifecycle_stats *out)
{
        if (lc)
                *out = lc->stats;
        else
                memset(out, 0, sizeof(*out));
}

/* The string bytes of alert \p al, in its blob's block of the arena. */
static size_t mem_strings(struct ab_lifecycle *lc, const struct lc_alert *al)
{
        size_t n = ab_lc_blob_text(lc, al);

        if (al->claimed)
                n += strlen(ab_lc_handler(al)) + 1;
        return n;
}

void ab_lifecycle_get_mem(const struct ab_lifecycle *lc,
                          struct ab_lifecycle_mem *out)
{
        struct ab_lifecycle *mut = (struct ab_lifecycle *)lc;
        const struct lc_alert *al;
        size_t i, at = 0;

        memset(out, 0, sizeof(*out));
        if (!lc)
                return;
        out->open     = lc->st.open;
        out->overhead = ab_lc_state_mem(&lc->st);
        out->shared   = sizeof(*lc) +
                      lc->st.ncls * (sizeof(struct lc_class) +
                                     sizeof(struct lc_class *)) +
                      lc->kv_cap * sizeof(struct ab_kv) +
                      lc->operator_name.cap + lc->text.cap + lc->entry.cap +
                      lc->name.cap + ab_lc_changes_mem(lc->chg);
        if (lc->st.integ)
                out->shared +=
                    lc->st.capinteg * sizeof(*lc->st.integ) + LC_ALLOC_OVERHEAD;
        if (lc->st.closed)
                out->shared += LC_CLOSED_RING * sizeof(struct lc_closed);
        for (i = 0; i < lc->st.ncls; i++) {
                const struct lc_class *c = lc->st.cls[i];

                if (c->heap)
                        out->overhead +=
                            c->capheap * sizeof(*c->heap) + LC_ALLOC_OVERHEAD;
        }
        while ((al = ab_lc_state_next(&lc->st, &at)))
                out->strings += mem_strings(mut, al);
        /* The arena's bytes, counted in overhead, hold the strings. */
        out->overhead -= out->strings;
}

/* ---- events ------------------------------------------------------------ */

/* The stored alert as a firing or resolved ab_alert (valid until the next
 * ab_lc_view_build()). */
ab_err_t ab_lc_view_build(struct ab_lifecycle *lc, const struct lc_alert *al,
                          bool resolved, int64_t end_ms)
{
        ab_err_t rc = ab_lc_blob_decode(lc, al->blob, al->blob_len, &lc->view);

        if (rc)
                return rc;
        lc->view.status = resolved ? AB_ALERT_RESOLVED : AB_ALERT_FIRING;
        if (resolved) {
                lc->view.has_ends = true;
                lc->view.ends_ms  = end_ms;
        }
        return AB_OK;
}

ab_err_t ab_lc_event_init(struct ab_lifecycle *lc, struct ab_event *ev,
                          const struct lc_alert *al,
                          const struct ab_integration *integ,
                          enum ab_event_type type, int64_t time_ms,
                          uint32_t seq)
{
        unsigned char id[LC_KEY_LEN];

        memset(ev, 0, sizeof(*ev));
        ev->type = type;
        ab_lc_alert_id_get(al, id);
        ab_hex(id, LC_KEY_LEN, ev->alert_id);
        ab_hex(al->fp, LC_KEY_LEN, ev->fingerprint);
        ev->integration = ab_lc_integ_name(integ);
        ev->time_ms     = time_ms;
        ev->start_ms    = al->start_ms;
        ev->count       = al->count;
        return ab_lc_event_id(lc, id, type, seq, ev->id);
}

/*
 * Close \p al at \p time_ms and forget it. \p incoming is the recovery
 * alert that closes it (NULL: the event shows the stored alert). The
 * state changes even when the emit callback fails; its error is returned.
 */
ab_err_t ab_lc_alert_close(struct ab_lifecycle *lc, struct lc_alert *al,
                           enum lc_why why, int64_t time_ms,
                           const struct ab_alert *incoming,
                           const char *operator_name, const char *solution,
                           const struct lc_emit *em)
{
        struct ab_event ev;
        ab_err_t rc;

        rc = ab_lc_event_init(lc, &ev, al, ab_lc_alert_integ(&lc->st, al),
                              AB_EVENT_CLOSE, time_ms, al->seq++);
        ev.resolved = true;
        ev.end_ms =
            incoming && incoming->has_ends ? incoming->ends_ms : time_ms;
        ev.operator_name = operator_name;
        ev.handler   = ab_lc_handler(al) ? ab_lc_handler(al) : operator_name;
        ev.solution  = solution;
        ev.by_system = why == LC_WHY_AUTO || why == LC_WHY_EVICTED;
        if (incoming)
                ev.alert = incoming;
        else if (!rc && !(rc = ab_lc_view_build(lc, al, true, ev.end_ms)))
                ev.alert = &lc->view;
        if (!rc)
                rc = em->fn(em->opaque, &ev);
        ab_lc_closed_remember(&lc->st, al, ev.end_ms, why);
        ab_lc_changed(lc, al->fp);
        ab_lc_store_drop(&lc->st, al);
        switch (why) {
        case LC_WHY_RECOVERED:
                lc->stats.closed_recovered++;
                break;
        case LC_WHY_AUTO:
                lc->stats.closed_auto++;
                break;
        case LC_WHY_ACTION:
                lc->stats.closed_action++;
                break;
        case LC_WHY_EVICTED:
                lc->stats.evicted++;
                break;
        }
        return rc;
}

/* "1h30m", "45s", "2d", "1s500ms". */
static void fmt_duration(int64_t ms, char *out, size_t n)
{
        static const struct {
                int64_t ms;
                const char *unit;
        } units[]  = {{86400000, "d"},
                      {3600000, "h"},
                      {60000, "m"},
                      {1000, "s"},
                      {1, "ms"}};
        size_t len = 0, i;

        out[0] = '\0';
        for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                int64_t q = ms / units[i].ms;

                if (!q)
                        continue;
                ms -= q * units[i].ms;
                len += (size_t)snprintf(out + len, len < n ? n - len : 0,
                                        "%lld%s", (long long)q, units[i].unit);
                if (len >= n)
                        return;
        }
        if (!len)
                snprintf(out, n, "0s");
}

ab_err_t ab_lc_expire_until(struct ab_lifecycle *lc, int64_t now_ms,
                            const struct lc_emit *em)
{
        struct lc_alert *al;
        int64_t deadline = 0;
        char solution[96], dur[48];
        ab_err_t rc;

        while ((al = ab_lc_store_next_due(&lc->st, now_ms, &deadline))) {
                fmt_duration(ab_lc_class_of(&lc->st, al)->auto_clear_ms, dur,
                             sizeof(dur));
                snprintf(solution, sizeof(solution),
                         "auto-cleared: no event for %s (auto_clear)", dur);
                rc = ab_lc_alert_close(lc, al, LC_WHY_AUTO, deadline, NULL,
                                       LC_SYSTEM, solution, em);
                if (rc)
                        return rc;
        }
        return AB_OK;
}

ab_err_t ab_lifecycle_expire(struct ab_lifecycle *lc, int64_t now_ms,
                             ab_lifecycle_emit_cb emit, void *opaque)
{
        struct lc_emit em = {emit, opaque};

        if (!lc || !emit)
                return AB_ERR_INTERNAL;
        return ab_lc_expire_until(lc, now_ms, &em);
}

/* Close the longest-quiet alert to make room; ties go to the class with
 * the shorter auto_clear, then list order. */
static ab_err_t evict_one(struct ab_lifecycle *lc, int64_t time_ms,
                          const struct lc_emit *em)
{
        struct lc_alert *best = ab_lc_store_quietest(&lc->st);
        char solution[160];

        if (!best)
                return AB_ERR_INTERNAL;
        snprintf(solution, sizeof(solution),
                 "evicted: the limit of %zu open alerts was reached and this "
                 "alert was the longest quiet",
                 lc->conf.max_open);
        return ab_lc_alert_close(lc, best, LC_WHY_EVICTED, time_ms, NULL,
                                 LC_SYSTEM, solution, em);
}

/* An alert to apply, and its coding when the caller has it. */
struct lc_in {
        const struct ab_alert *a;
        const void *coded; /* NULL: none */
        size_t coded_len;
};

/* Store in's content as al's blob: a copy of its coding when there is one. */
static ab_err_t blob_set(struct lc_arena *ar, struct lc_alert *al,
                         const struct lc_in *in)
{
        if (in->coded)
                return ab_lc_blob_store(ar, al, in->coded, in->coded_len);
        return ab_lc_blob_encode(ar, al, in->a);
}

static ab_err_t alert_open(struct ab_lifecycle *lc,
                           const struct ab_integration *integ,
                           const struct lc_in *in,
                           const unsigned char fp[LC_KEY_LEN], int64_t t,
                           const struct lc_emit *em, struct ab_error *err)
{
        const struct ab_alert *a = in->a;
        struct lc_state *st      = &lc->st;
        struct lc_alert *al      = NULL;
        unsigned char id[LC_KEY_LEN];
        struct ab_event ev;
        ab_err_t rc;

        while (lc->conf.max_open && st->open >= lc->conf.max_open) {
                rc = evict_one(lc, t, em);
                if (rc)
                        return ab_error_set(err, rc, NULL,
                                            "evicting an alert failed");
        }
        rc = AB_ERR_NOMEM;
        al = ab_lc_alert_new(st);
        if (!al)
                goto out;
        rc = ab_lc_alert_integ_set(st, al, integ);
        if (rc)
                goto out;
        al->start_ms = a->has_starts ? a->starts_ms : t;
        al->first_ms = al->last_ms = t;
        al->count                  = 1;
        memcpy(al->fp, fp, LC_KEY_LEN);
        rc = ab_lc_alert_id(lc, integ, fp, t, id);
        if (rc)
                goto out;
        ab_lc_alert_id_set(al, id); /* it carries fp's route */
        rc = blob_set(&st->arena, al, in);
        if (rc)
                goto out;
        rc = ab_lc_store_add(st, al);
        if (rc)
                goto out;
        ab_lc_changed(lc, fp);
        lc->stats.opened++;
        rc =
            ab_lc_event_init(lc, &ev, al, integ, AB_EVENT_CREATE, t, al->seq++);
        al = NULL;
        if (rc)
                goto out;
        ev.alert = a;
        rc       = em->fn(em->opaque, &ev);
out:
        ab_lc_alert_free(st, al);
        if (rc)
                return ab_error_set(err, rc, NULL, "opening alert failed: %s",
                                    ab_err_desc(rc));
        return AB_OK;
}

/* A firing event for an open alert: count it; the newest by event time
 * (ties: the later arrival) supplies the stored values. */
static ab_err_t alert_merge(struct ab_lifecycle *lc, struct lc_alert *al,
                            const struct lc_in *in, int64_t t,
                            struct ab_error *err)
{
        struct lc_class *cls;
        ab_err_t rc;

        al->count++;
        lc->stats.merged++;
        ab_lc_changed(lc, al->fp);
        if (t < al->first_ms)
                al->first_ms = t;
        if (t < al->last_ms)
                return AB_OK;
        rc = blob_set(&lc->st.arena, al, in);
        if (rc)
                return ab_error_set(err, rc, NULL,
                                    "storing the merged alert failed: %s",
                                    ab_err_desc(rc));
        /* The newest touch goes last among equal times: re-placing the
         * last alert of its class leaves the order as it was. */
        cls = ab_lc_class_of(&lc->st, al);
        ab_lc_class_unplace(&lc->st, cls, al);
        al->last_ms = t;
        ab_lc_class_place(&lc->st, cls, al);
        return AB_OK;
}

static ab_err_t orphan_close(struct ab_lifecycle *lc,
                             const struct ab_integration *integ,
                             const struct ab_alert *a,
                             const unsigned char fp[LC_KEY_LEN], int64_t t,
                             const struct lc_emit *em)
{
        struct lc_alert tmp;
        unsigned char id[LC_KEY_LEN];
        struct ab_event ev;
        ab_err_t rc;

        memset(&tmp, 0, sizeof(tmp));
        tmp.start_ms = a->has_starts ? a->starts_ms : t;
        memcpy(tmp.fp, fp, LC_KEY_LEN);
        rc = ab_lc_alert_id(lc, integ, fp, t, id);
        if (!rc)
                ab_lc_alert_id_set(&tmp, id); /* it carries fp's route */
        if (!rc)
                rc = ab_lc_event_init(lc, &ev, &tmp, integ, AB_EVENT_CLOSE, t,
                                      0);
        if (rc)
                return rc;
        ev.alert         = a;
        ev.resolved      = true;
        ev.end_ms        = a->has_ends ? a->ends_ms : t;
        ev.operator_name = LC_SYSTEM;
        ev.handler       = LC_SYSTEM;
        ev.solution      = LC_SOLUTION_RECOVERED " (no open alert matched)";
        return em->fn(em->opaque, &ev);
}

ab_err_t ab_lifecycle_process(struct ab_lifecycle *lc,
                              const struct ab_integration *integ,
                              const struct ab_alert *a, int64_t event_ms,
                              ab_lifecycle_emit_cb emit, void *opaque,
                              struct ab_error *err)
{
        unsigned char fp[LC_KEY_LEN];
        ab_err_t rc;

        if (!lc || !integ || !a || !emit)
                return ab_error_set(err, AB_ERR_INTERNAL, NULL,
                                    "lifecycle: missing argument");
        rc = ab_lifecycle_hasher_digest(lc->hasher, integ, a, fp);
        if (rc)
                return ab_error_set(err, rc, NULL,
                                    "computing the fingerprint failed");
        return ab_lifecycle_process_digest(lc, integ, a, fp, event_ms, emit,
                                           opaque, err);
}

ab_err_t ab_lifecycle_process_digest(struct ab_lifecycle *lc,
                                     const struct ab_integration *integ,
                                     const struct ab_alert *a,
                                     const unsigned char fp[LC_KEY_LEN],
                                     int64_t event_ms,
                                     ab_lifecycle_emit_cb emit, void *opaque,
                                     struct ab_error *err)
{
        return ab_lifecycle_process_coded(lc, integ, a, NULL, 0, fp, event_ms,
                                          emit, opaque, err);
}

ab_err_t ab_lifecycle_process_coded(struct ab_lifecycle *lc,
                                    const struct ab_integration *integ,
                                    const struct ab_alert *a, const void *coded,
                                    size_t coded_len,
                                    const unsigned char fp[LC_KEY_LEN],
                                    int64_t event_ms, ab_lifecycle_emit_cb emit,
                                    void *opaque, struct ab_error *err)
{
        struct lc_emit em     = {emit, opaque};
        const struct lc_in in = {a, coded, coded_len};
        struct lc_alert *al;
        ab_err_t rc;

        if (!lc || !integ || !a || !fp || !emit)
                return ab_error_set(err, AB_ERR_INTERNAL, NULL,
                                    "lifecycle: missing argument");
        rc = ab_lc_expire_until(lc, event_ms, &em);
        if (rc)
                return ab_error_set(err, rc, NULL,
                                    "emitting an auto-clear close failed");
        al = ab_lc_find_fp(&lc->st, fp);
        if (a->status == AB_ALERT_FIRING) {
                if (al)
                        return alert_merge(lc, al, &in, event_ms, err);
                return alert_open(lc, integ, &in, fp, event_ms, &em, err);
        }
        if (al && event_ms < al->last_ms) {
                lc->stats.stale_recoveries++;
                return AB_OK;
        }
        if (al) {
                rc = ab_lc_alert_close(lc, al, LC_WHY_RECOVERED, event_ms, a,
                                       LC_SYSTEM, LC_SOLUTION_RECOVERED, &em);
        } else {
                lc->stats.orphan_recoveries++;
                if (lc->conf.close_orphan_recovery)
                        rc = orphan_close(lc, integ, a, fp, event_ms, &em);
        }
        if (rc)
                return ab_error_set(err, rc, NULL,
                                    "emitting a close failed: %s",
                                    ab_err_desc(rc));
        return AB_OK;
}
