/* txn.c - the exactly_once commit cycle: the transaction's commit goes on
 * while the loop processes the records of the next one, whose sends wait
 * in order until it is done. */
#include <string.h>

#include "pipeline/stateful_int.h"

/*
 * HOW IT WORKS (docs/stateful-pipeline.md, "Commit cycle")
 * Everything the loop sends goes into the open transaction. A cycle
 * (ab_stateful_txn_cycle()) writes the stores' drained changes to the
 * changelog, adds the positions reached (send_offsets with the group
 * metadata; one blocking round trip: librdkafka cannot resume it) and
 * starts the commit: from then on the transaction holds exactly those
 * outputs, changes and offsets, and the cycle returns.
 *
 * While the commit is in flight the producer would refuse sends, and
 * whatever the loop processes belongs to the next transaction anyway:
 * ab_stateful_send() holds each send, in order, in sf->deferred
 * (deferred.h: a copy of topic, partition, key, value, headers, kind in
 * one reusable buffer). Store changes of those records stay captured in
 * the stores, their positions advance past the offsets sent; the
 * committing transaction snapshotted what it covers (txn_offs,
 * txn_records, txn_nlat) before the first of them.
 *
 * Every step of the loop moves the commit on (ab_stateful_txn_finish()):
 * ab_producer_txn_commit_step() waits for nothing while delivery reports
 * of the transaction are outstanding (the loop's polls serve them, the
 * loop goes on processing), then calls librdkafka's commit, which has
 * nothing left to flush and waits only for the coordinator's answer to
 * EndTxn (STEP_WAIT_MS; librdkafka 2.0.2 cannot be resumed in short
 * calls safely, see producer.c). Once it is committed: the snapshot's offsets
 * become the committed ones, its records leave the count of uncommitted ones
 * and their latencies are observed; the held sends are replayed into the
 * producer, which begins the next transaction with them. One producer and
 * the previous transaction complete keep the order per partition (and so
 * per key) as if they had been sent at once.
 *
 * A cycle that comes due while the commit is still under way (slow
 * deliveries) waits for it without stopping the loop (stateful.c runs it
 * at the first step after). What cannot wait finishes the commit
 * synchronously first (ab_producer_txn_commit(), blocking): every
 * synchronous cycle (revocation, shutdown, backpressure, the commit
 * before a restore), a lost partition (the abort that follows may not
 * overlap a commit), and a send that does not fit the bound (half of
 * kafka.max_pending_bytes of copies or AB_DEFER_MAX_SENDS sends; or one
 * near message.max.bytes, which the producer must judge itself).
 *
 * A commit that fails (AB_ERR_TXN_ABORT, or AB_ERR_KAFKA after its
 * retries) is aborted: the held sends are dropped with everything since
 * the last commit (sf->abort: ab_stateful_rebuild() rebuilds the stores
 * and rewinds the consumer). The same when an abort is pending before a
 * replay: nothing is replayed that the rewind will consume again.
 */

/* How long the first commit call may wait for the coordinator (-1:
 * until done), and when a commit it left under way is finished. */
#define STEP_WAIT_MS   (-1)
#define STEP_RESUME_MS 5
/* The positions not committed yet into sf->txn_offs (reused): what the
 * transaction about to commit covers. */
static ab_err_t snapshot_offsets(struct ab_stateful *sf)
{
        sf->txn_noffs = 0;
        if (ab_stateful_offs_reserve(sf, &sf->txn_offs, &sf->txn_cap))
                return AB_ERR_NOMEM;
        for (size_t i = 0; i < sf->npos; i++) {
                const struct position *p = &sf->pos[i];
                struct ab_kafka_offset *o;

                if (p->next < 0 || p->next == p->committed)
                        continue;
                o = &sf->txn_offs[sf->txn_noffs++];
                memset(o, 0, sizeof(*o));
                o->topic     = p->topic;
                o->partition = p->partition;
                o->offset    = p->next;
        }
        return AB_OK;
}

/* The transaction committed: what it covered is done. */
static void txn_done(struct ab_stateful *sf)
{
        for (size_t i = 0; i < sf->txn_noffs; i++) {
                const struct ab_kafka_offset *o = &sf->txn_offs[i];
                struct position *p =
                    ab_stateful_pos_find(sf, o->topic, o->partition, false);

                if (p)
                        p->committed = o->offset;
        }
        sf->txn_noffs   = 0;
        sf->uncommitted = sf->uncommitted > sf->txn_records
                              ? sf->uncommitted - sf->txn_records
                              : 0;
        sf->txn_records = 0;
        /* every output of those records acknowledged */
        ab_pipeline_metrics_batch_done_first(
            sf->pm, &sf->latency,
            sf->txn_nlat < sf->latency.n ? sf->txn_nlat : sf->latency.n);
        sf->txn_nlat   = 0;
        sf->committing = false;
        sf->txn_open   = false;
}

/* A transactional call failed with \p rc: abort, and have the loop
 * rebuild and rewind (the existing path), or stop. */
static ab_err_t txn_failed(struct ab_stateful *sf, ab_err_t rc,
                           struct ab_error *err)
{
        struct ab_error e2;

        sf->committing = false;
        sf->txn_noffs  = 0;
        ab_deferred_reset(&sf->deferred);
        if (rc == AB_ERR_TXN_ABORT || rc == AB_ERR_KAFKA) {
                AB_WARN("pipeline",
                        "transaction failed: aborting, rebuilding the "
                        "stores and rewinding",
                        "error=\"%s\"", err->text);
                ab_error_clear(&e2);
                if (ab_producer_txn_abort(sf->producer, &e2)) {
                        ab_stateful_fail(sf, e2.code, &e2,
                                         "aborting the transaction failed");
                        return e2.code;
                }
                sf->txn_open = false;
                sf->abort    = true;
                return AB_OK;
        }
        ab_stateful_fail(sf, rc, err, "transaction");
        return rc;
}

static ab_err_t replay_one(void *arg, const struct ab_deferred_send *s)
{
        struct ab_stateful *sf = arg;
        struct ab_error err;
        ab_err_t rc;

        ab_error_clear(&err);
        rc = ab_stateful_send_now(sf, s->topic, s->partition, s->key, s->value,
                                  s->headers, (enum out_kind)s->kind, &err);
        if (rc && rc != AB_ERR_RETRY)
                ab_stateful_fail(sf, rc, &err, "cannot produce a held record");
        return rc;
}

ab_err_t ab_stateful_txn_replay(struct ab_stateful *sf)
{
        if (sf->committing || sf->abort || sf->fatal.code != AB_OK ||
            !ab_deferred_count(&sf->deferred))
                return AB_OK;
        return ab_deferred_replay(&sf->deferred, replay_one, sf);
}

ab_err_t ab_stateful_txn_finish(struct ab_stateful *sf, bool sync,
                                struct ab_error *err)
{
        ab_err_t rc;

        if (!sf->committing)
                return ab_stateful_txn_replay(sf);
        rc = sync ? ab_producer_txn_commit(sf->producer, err)
                  : ab_producer_txn_commit_step(sf->producer, STEP_WAIT_MS,
                                                STEP_RESUME_MS, err);
        if (rc == AB_ERR_RETRY && !sync)
                return AB_OK; /* under way */
        if (rc)
                return txn_failed(sf, rc, err);
        txn_done(sf);
        return ab_stateful_txn_replay(sf);
}

ab_err_t ab_stateful_txn_defer(struct ab_stateful *sf, const char *topic,
                               int32_t partition, struct ab_str key,
                               struct ab_str value,
                               const struct ab_headers *headers,
                               enum out_kind kind)
{
        struct ab_deferred_send s = {topic, partition, key,
                                     value, headers,   (int)kind};
        size_t wire =
            AB_FRAME_BYTES + ab_deferred_size(&s) +
            (headers ? ab_headers_count(headers) : 0) * AB_FRAME_HEADER_BYTES;

        /* Near the size limit the producer decides (the caller handles
         * AB_ERR_TOO_LARGE), so such a send is not held. */
        if (wire > sf->max_message)
                return AB_ERR_TOO_LARGE;
        return ab_deferred_add(&sf->deferred, &s);
}

ab_err_t ab_stateful_txn_cycle(struct ab_stateful *sf, bool sync,
                               struct ab_error *err)
{
        struct ab_kafka_group_meta *meta = NULL;
        ab_err_t rc;

        /* The commit in flight, if any, was finished by the caller;
         * sends it held and could not replay (a stop with the producer
         * queue full) must go first. */
        if (sf->committing || ab_deferred_count(&sf->deferred))
                return ab_error_set(err, AB_ERR_RETRY, NULL,
                                    "held records not sent yet");
        rc = snapshot_offsets(sf);
        if (rc)
                return rc;
        if (!sf->txn_open && !sf->txn_noffs &&
            !ab_stateful_changes_pending(sf)) {
                sf->uncommitted = 0;
                ab_pipeline_metrics_batch_done(sf->pm, &sf->latency);
                return AB_OK;
        }
        rc = ab_stateful_write_changelog(sf, err);
        if (!rc && !sf->txn_open) {
                rc = ab_producer_txn_begin(sf->producer, err);
                if (!rc)
                        sf->txn_open = true;
        }
        if (!rc && sf->txn_noffs)
                rc = ab_consumer_group_metadata(sf->consumer, &meta, err);
        if (!rc && sf->txn_noffs)
                rc = ab_producer_txn_send_offsets(sf->producer, sf->txn_offs,
                                                  sf->txn_noffs, meta, err);
        ab_kafka_group_meta_destroy(meta);
        if (rc)
                return txn_failed(sf, rc, err);
        sf->committing  = true;
        sf->txn_records = sf->uncommitted;
        sf->txn_nlat    = sf->latency.n;
        return ab_stateful_txn_finish(sf, sync, err);
}
