/* checkpoint.c - the at_least_once commit cycle without waiting: each
 * cycle's changelog records and offsets wait for the acknowledgements
 * they depend on while the loop goes on consuming. */
#include <string.h>

#include "pipeline/stateful_int.h"

/*
 * HOW IT WORKS
 * A commit cycle must not commit an offset past a record whose outputs
 * or state changes could be lost, and the changelog must never hold a
 * change whose events were lost (docs/stateful-pipeline.md). Flushing
 * the producer twice per cycle gives both, but stops the loop for two
 * round trips every cycle (half its time at 100 ms on a busy broker).
 *
 * Instead every send is tagged with the current epoch, and the producer's
 * delivery reports count down a per-epoch counter (out[]). A cycle closes
 * the epoch into a checkpoint: the positions reached and a copy of the
 * stores' drained changes, then a new epoch begins and consumption goes
 * on. ab_stateful_ckpt_advance() moves the oldest checkpoint k on, in
 * order, never waiting:
 *   1. once every send of epoch k is acknowledged (the earlier epochs
 *      were, before their checkpoints were done), its changes go to the
 *      changelog, tagged with epoch k again;
 *   2. once those are acknowledged too, its positions are committed and
 *      it is done.
 * So the changelog of k is written after the events of k, in the order
 * of the cycles (one partition, one idempotent producer), and the offsets
 * of k are committed after both. A synchronous cycle (revocation,
 * shutdown, backpressure, too many checkpoints open) flushes the producer
 * between the steps instead of waiting for later steps of the loop.
 */

/* At most this many checkpoints wait (AB_CKPT_MAX holds them). */
#define MAX_CKPT AB_CKPT_MAX

/* The epoch of an opaque and back: kind in the low bits. */
#define KIND_BITS 3

void *ab_stateful_opaque(const struct ab_stateful *sf, enum out_kind kind)
{
        return (void *)(uintptr_t)((sf->epoch << KIND_BITS) | (uint64_t)kind);
}

enum out_kind ab_stateful_acked(struct ab_stateful *sf, void *opaque)
{
        uint64_t v = (uint64_t)(uintptr_t)opaque;

        sf->out[(v >> KIND_BITS) % AB_CKPT_RING]--;
        return (enum out_kind)(v & ((1u << KIND_BITS) - 1));
}

/* A change as the checkpoint keeps it: partition, tombstone flag,
 * fingerprint, entry length, entry. */
struct change_hdr {
        int32_t partition; /* -1: forgotten (the partition was lost) */
        uint32_t len;
        unsigned char tomb;
        unsigned char fp[AB_LIFECYCLE_FP_LEN];
};

struct copy_ctx {
        struct ab_buf *buf;
        int32_t partition;
};

static ab_err_t copy_change(void *opaque,
                            const unsigned char fp[AB_LIFECYCLE_FP_LEN],
                            const void *entry, size_t len)
{
        struct copy_ctx *c = opaque;
        struct change_hdr h;
        ab_err_t rc;

        memset(&h, 0, sizeof(h));
        h.partition = c->partition;
        h.tomb      = entry == NULL;
        h.len       = entry ? (uint32_t)len : 0;
        memcpy(h.fp, fp, sizeof(h.fp));
        rc = ab_buf_append(c->buf, &h, sizeof(h));
        if (!rc && entry)
                rc = ab_buf_append(c->buf, entry, len);
        return rc;
}

static struct checkpoint *ckpt_at(struct ab_stateful *sf, size_t i)
{
        return &sf->ckpt[(sf->ckpt_head + i) % AB_CKPT_MAX];
}

/* Close the current epoch into a new checkpoint: the positions not
 * committed yet (\p all: every one) and the stores' changes. */
static ab_err_t ckpt_push(struct ab_stateful *sf, bool all)
{
        struct checkpoint *k = ckpt_at(sf, sf->nckpt);
        struct copy_ctx c    = {&k->changes, 0};
        struct ab_lifecycle *lc;
        ab_err_t rc = AB_OK;

        ab_buf_reset(&k->changes);
        k->noffs = 0;
        if (ab_stateful_offs_reserve(sf, &k->offs, &k->cap))
                return AB_ERR_NOMEM;
        for (size_t i = 0; i < sf->npos; i++) {
                struct position *p = &sf->pos[i];

                if (p->next < 0 || (!all && p->next == p->queued))
                        continue;
                memset(&k->offs[k->noffs], 0, sizeof(k->offs[0]));
                k->offs[k->noffs].topic     = p->topic;
                k->offs[k->noffs].partition = p->partition;
                k->offs[k->noffs].offset    = p->next;
                k->noffs++;
                p->queued = p->next;
        }
        for (size_t i = 0; !rc && i < ab_stores_count(sf->stores); i++) {
                lc = ab_stores_at(sf->stores, i, &c.partition);
                if (lc && ab_lifecycle_pending_changes(lc))
                        rc = ab_lifecycle_drain_changes(lc, copy_change, &c);
        }
        if (rc)
                return rc;
        k->epoch   = sf->epoch++;
        k->sent    = false;
        k->at      = 0;
        k->nlat    = sf->latency.n;
        k->records = sf->uncommitted;
        sf->nckpt++;
        return AB_OK;
}

/* Send checkpoint \p k's changes from where an interrupted call stopped
 * (a full queue while stopping); k->sent once all of them are out. */
static ab_err_t send_changes(struct ab_stateful *sf, struct checkpoint *k,
                             struct ab_error *err)
{
        const char *end = k->changes.data + k->changes.len;
        uint64_t epoch  = sf->epoch;
        char key[AB_EVENT_ID_LEN + 1];
        struct change_hdr h;
        ab_err_t rc = AB_OK;

        sf->epoch = k->epoch; /* acknowledged as part of checkpoint k */
        while (!rc && k->changes.data + k->at < end) {
                const char *at = k->changes.data + k->at;

                memcpy(&h, at, sizeof(h));
                if (h.partition >= 0) {
                        ab_hex(h.fp, AB_LIFECYCLE_FP_LEN, key);
                        rc = ab_stateful_send(
                            sf, sf->changelog, h.partition, ab_str_c(key),
                            ab_str_make(h.tomb ? NULL : at + sizeof(h), h.len),
                            NULL, OUT_INTERNAL, err);
                }
                if (!rc)
                        k->at += sizeof(h) + h.len;
        }
        sf->epoch = epoch;
        k->sent   = !rc;
        if (rc && rc != AB_ERR_RETRY)
                ab_stateful_fail(sf, rc, err, "cannot write the changelog");
        return rc;
}

static void commit_offsets(struct ab_stateful *sf, struct checkpoint *k,
                           bool sync, struct ab_error *err)
{
        struct position *p;
        size_t n = 0;

        for (size_t i = 0; i < k->noffs; i++)
                if (k->offs[i].partition >= 0)
                        k->offs[n++] = k->offs[i];
        if (!n)
                return;
        if (ab_consumer_commit_offsets(sf->consumer, k->offs, n, !sync, err)) {
                AB_WARN("pipeline", "commit failed; retried next cycle",
                        "error=\"%s\"", err->text);
                sf->recommit_ms = 0;
                return;
        }
        for (size_t i = 0; i < n; i++) {
                p = ab_stateful_pos_find(sf, k->offs[i].topic,
                                         k->offs[i].partition, false);
                if (p)
                        p->committed = k->offs[i].offset;
        }
}

ab_err_t ab_stateful_ckpt_advance(struct ab_stateful *sf, bool sync,
                                  struct ab_error *err)
{
        struct checkpoint *k;
        ab_err_t rc;

        while (sf->nckpt && sf->fatal.code == AB_OK) {
                k = ckpt_at(sf, 0);
                if (sf->out[k->epoch % AB_CKPT_RING])
                        return AB_OK;
                if (!k->sent) {
                        rc = send_changes(sf, k, err);
                        if (rc)
                                return rc;
                        if (sf->out[k->epoch % AB_CKPT_RING])
                                return AB_OK;
                }
                commit_offsets(sf, k, sync && sf->nckpt == 1, err);
                /* Its records' outputs and changes are acknowledged. */
                ab_pipeline_metrics_batch_done_first(sf->pm, &sf->latency,
                                                     k->nlat);
                for (size_t i = 1; i < sf->nckpt; i++)
                        ckpt_at(sf, i)->nlat -= k->nlat;
                sf->ckpt_head = (sf->ckpt_head + 1) % AB_CKPT_MAX;
                sf->nckpt--;
        }
        return sf->fatal.code;
}

/* Flush until every waiting checkpoint is done: each flush acknowledges
 * everything sent, so the oldest checkpoint's changes can go out, and
 * with the next flush its offsets be committed. A flush that times out
 * (a broker outage) leaves the rest waiting. */
static ab_err_t settle(struct ab_stateful *sf, struct ab_error *err)
{
        int timeout =
            ab_stop_left_ms(sf->stop_by, sf->cfg->loop.flush_timeout_ms);
        ab_err_t rc = ab_stateful_ckpt_advance(sf, true, err);

        while (!rc && sf->nckpt) {
                if (ab_producer_flush(sf->producer, timeout, err) != AB_OK)
                        return AB_OK;
                ab_producer_poll(sf->producer, 0);
                rc = ab_stateful_ckpt_advance(sf, true, err);
        }
        return rc;
}

ab_err_t ab_stateful_ckpt_cycle(struct ab_stateful *sf, bool sync,
                                struct ab_error *err)
{
        int64_t now = ab_time_mono_ms();
        bool all    = now >= sf->recommit_ms;
        ab_err_t rc;

        /* Too many waiting: wait for them here. If the broker still does
         * not answer, no new checkpoint: the changes stay captured in the
         * stores and the records count towards backpressure. */
        if (sf->nckpt >= MAX_CKPT) {
                rc = settle(sf, err);
                if (rc || sf->nckpt >= MAX_CKPT)
                        return rc;
        }
        if (all)
                sf->recommit_ms = now + RECOMMIT_MS;
        rc = ckpt_push(sf, all);
        if (rc)
                return rc;
        sf->uncommitted = 0;
        return sync ? settle(sf, err)
                    : ab_stateful_ckpt_advance(sf, false, err);
}

void ab_stateful_ckpt_forget(struct ab_stateful *sf, const char *topic,
                             int32_t partition)
{
        bool alerts = !strcmp(topic, sf->alerts);
        struct change_hdr h;

        for (size_t i = 0; i < sf->nckpt; i++) {
                struct checkpoint *k = ckpt_at(sf, i);
                char *at             = k->changes.data;
                char *end            = at + k->changes.len;

                for (size_t j = 0; j < k->noffs; j++)
                        if (k->offs[j].partition == partition &&
                            !strcmp(k->offs[j].topic, topic))
                                k->offs[j].partition = -1;
                while (alerts && at < end) {
                        memcpy(&h, at, sizeof(h));
                        if (h.partition == partition) {
                                h.partition = -1;
                                memcpy(at, &h, sizeof(h));
                        }
                        at += sizeof(h) + h.len;
                }
        }
}

uint64_t ab_stateful_ckpt_records(const struct ab_stateful *sf)
{
        uint64_t n = 0;

        for (size_t i = 0; i < sf->nckpt; i++)
                n += sf->ckpt[(sf->ckpt_head + i) % AB_CKPT_MAX].records;
        return n;
}

void ab_stateful_ckpt_fini(struct ab_stateful *sf)
{
        for (size_t i = 0; i < AB_CKPT_MAX; i++) {
                ab_free(sf->ckpt[i].offs);
                ab_buf_fini(&sf->ckpt[i].changes);
        }
}
