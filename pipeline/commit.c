/* commit.c - the commit cycle of the stateful loop: positions, changelog
 * writes, offsets or transactions; rebuilding and restoring stores. */
#include <stdio.h>
#include <string.h>

#include "pipeline/stateful_int.h"

/*
 * HOW IT WORKS (docs/stateful-pipeline.md)
 * One consumer reads the raw topics, the actions topic and
 * <group>.alerts; one producer writes everything. A raw or action record
 * goes through the map stage (the processor in AB_PROCESSOR_MAP mode, on
 * the transform pool): each mapped alert becomes an ALERT record on the
 * partition of <group>.alerts that owns its fingerprint, each action an
 * ACTION record on the partition of the alert it names, the rest dead
 * letters. A record of <group>.alerts partition p goes through the
 * lifecycle stage at once: it is applied to store S_p
 * (ab_processor_apply()), whose changes are captured.
 *
 * Nothing is committed per record. The loop remembers, per partition,
 * the offset after the last record it finished ("positions", see
 * pos_sync() for the transactional tail), and every
 * commit_interval, on revocation and on shutdown it runs the commit
 * cycle. at_least_once: finish the pool's records; once every event,
 * ALERT/ACTION record and dead letter of the finished records is
 * acknowledged, write each store's drained changes (as of the cycle) to
 * its changelog partition; once those are acknowledged, commit the
 * positions (checkpoint.c does this without stopping the loop). So a
 * committed offset never passes a record whose outputs or state changes
 * could be lost, and the changelog never holds a change whose events
 * were lost; a crash replays the records after the last commit onto a
 * restored state that already holds their changes, and deterministic
 * ids make a repeated event a copy. exactly_once: everything is sent inside a
 * transaction (begun by the first send), and the cycle adds the changelog
 * records and the positions (send_offsets with the group metadata) and
 * commits it; the loop goes on while the commit is in flight, holding
 * its sends for the next transaction (txn.c does this, its HOW IT WORKS).
 * A transaction that fails is aborted; then the pool is
 * discarded, every store rebuilt from its changelog, the positions
 * forgotten and the consumer rewound to the committed offsets.
 *
 * Restore: an assigned partition p of <group>.alerts gets an empty
 * store, and the assign callback reads changelog partition p to its end
 * into it (after committing an open transaction, which the restore's
 * wait must not outlive) before any record of p is returned; a restore
 * that cannot finish pauses p and the loop retries it (so does a rebuild
 * after an aborted transaction), then resumes p. On
 * revocation the cycle runs, then the revoked partitions' stores and
 * positions are dropped; lost partitions are dropped without a commit
 * (exactly_once: the transaction is aborted and the rest rebuilt).
 */

/* ---------------------------------------------------------------- positions
 */

struct position *ab_stateful_pos_find(struct ab_stateful *sf, const char *topic,
                                      int32_t partition, bool create)
{
        struct position *p;

        for (size_t i = 0; i < sf->npos; i++)
                if (sf->pos[i].partition == partition &&
                    !strcmp(sf->pos[i].topic, topic))
                        return &sf->pos[i];
        if (!create)
                return NULL;
        if (sf->npos == sf->cappos) {
                size_t cap         = sf->cappos ? sf->cappos * 2 : 16;
                struct position *v = ab_realloc(sf->pos, cap * sizeof(*v));

                if (!v)
                        return NULL;
                sf->pos    = v;
                sf->cappos = cap;
        }
        p = &sf->pos[sf->npos];
        memset(p, 0, sizeof(*p));
        p->topic = ab_strdup(topic);
        if (!p->topic)
                return NULL;
        p->partition = partition;
        p->next      = -1;
        p->committed = -1;
        p->queued    = -1;
        sf->npos++;
        return p;
}

ab_err_t ab_stateful_pos_advance(struct ab_stateful *sf,
                                 const struct ab_record *r)
{
        struct position *p = ab_stateful_pos_find(
            sf, ab_record_topic(r), ab_record_partition(r), false);

        /* Every assigned partition has a position (on_assigned); a record
         * of a partition revoked as lost meanwhile is not committed. */
        if (p)
                p->next = ab_record_offset(r) + 1;
        return AB_OK;
}

void ab_stateful_pos_drop(struct ab_stateful *sf, const char *topic,
                          int32_t partition)
{
        struct position *p = ab_stateful_pos_find(sf, topic, partition, false);

        if (!p)
                return;
        ab_free(p->topic);
        *p = sf->pos[--sf->npos];
}

void ab_stateful_pos_clear(struct ab_stateful *sf)
{
        for (size_t i = 0; i < sf->npos; i++)
                ab_free(sf->pos[i].topic);
        sf->npos = 0;
}

/*
 * The offset committed is the one after the last record finished. With
 * read_committed the records a partition ends with may be ones the
 * application never sees (transaction markers, aborted records), and that
 * offset would never reach the end. librdkafka 2.0.2's position is no
 * substitute while records flow: it runs ahead of the records returned
 * (committing it skipped records). So the position is taken only once it
 * has stood still for POS_IDLE_MS while the consumer polls unpaused:
 * then whatever lies between is nothing a poll will return.
 */
#define POS_IDLE_MS 2000

ab_err_t ab_stateful_offs_reserve(const struct ab_stateful *sf,
                                  struct ab_kafka_offset **offs, size_t *cap)
{
        struct ab_kafka_offset *v;

        if (*cap >= sf->npos)
                return AB_OK;
        v = ab_realloc(*offs, sf->npos * sizeof(*v));
        if (!v)
                return AB_ERR_NOMEM;
        *offs = v;
        *cap  = sf->npos;
        return AB_OK;
}

static void pos_sync(struct ab_stateful *sf)
{
        int64_t now = ab_time_mono_ms();
        struct ab_error err;
        int64_t at;

        for (size_t i = 0; i < sf->npos; i++) {
                struct position *p = &sf->pos[i];

                if (ab_consumer_position(sf->consumer, p->topic, p->partition,
                                         &at, &err) ||
                    at <= p->next)
                        continue;
                if (at != p->seen || sf->shut ||
                    ab_consumer_paused(sf->consumer) ||
                    (!strcmp(p->topic, sf->alerts) &&
                     !ab_stores_get(sf->stores, p->partition))) {
                        p->seen    = at;
                        p->seen_ms = now;
                } else if (now - p->seen_ms >= POS_IDLE_MS) {
                        p->next = at;
                }
        }
}

/* ---------------------------------------------------------------- commit
 * cycle */

struct change_ctx {
        struct ab_stateful *sf;
        int32_t partition;
        struct ab_error *err;
};

static ab_err_t write_change(void *opaque,
                             const unsigned char fp[AB_LIFECYCLE_FP_LEN],
                             const void *entry, size_t len)
{
        struct change_ctx *c = opaque;
        char key[AB_EVENT_ID_LEN + 1];

        ab_hex(fp, AB_LIFECYCLE_FP_LEN, key);
        return ab_stateful_send(
            c->sf, c->sf->changelog, c->partition, ab_str_c(key),
            ab_str_make(entry, entry ? len : 0), NULL, OUT_INTERNAL, c->err);
}

/* Every restored store's changes since the last cycle to its changelog
 * partition. */
ab_err_t ab_stateful_write_changelog(struct ab_stateful *sf,
                                     struct ab_error *err)
{
        struct change_ctx c = {sf, 0, err};
        struct ab_lifecycle *lc;
        ab_err_t rc;

        for (size_t i = 0; i < ab_stores_count(sf->stores); i++) {
                lc = ab_stores_at(sf->stores, i, &c.partition);
                if (!lc || !ab_lifecycle_pending_changes(lc))
                        continue;
                rc = ab_lifecycle_drain_changes(lc, write_change, &c);
                if (rc)
                        return rc;
        }
        return AB_OK;
}

bool ab_stateful_changes_pending(const struct ab_stateful *sf)
{
        struct ab_lifecycle *lc;
        int32_t p;

        for (size_t i = 0; i < ab_stores_count(sf->stores); i++) {
                lc = ab_stores_at(sf->stores, i, &p);
                if (lc && ab_lifecycle_pending_changes(lc))
                        return true;
        }
        return false;
}

/* The commit cycle: finish the consumed records, persist, commit. */
ab_err_t ab_stateful_commit(struct ab_stateful *sf, bool sync,
                            struct ab_error *err)
{
        ab_err_t rc;

        if (sf->fatal.code != AB_OK || sf->abort)
                return sf->fatal.code;
        /* exactly_once: the previous commit first (txn.c), so that what
         * the pool finishes now is sent, not held. */
        if (sf->eos) {
                rc = ab_stateful_txn_finish(sf, true, err);
                if (rc || sf->abort)
                        return rc;
        }
        rc = ab_stateful_finish_ready(sf, -1);
        if (!rc)
                rc = ab_stateful_flush(sf, err);
        if (rc)
                return rc;
        pos_sync(sf);
        if (sf->eos)
                return ab_stateful_txn_cycle(sf, sync, err);
        return ab_stateful_ckpt_cycle(sf, sync, err);
}

/* After a failed transaction: nothing since the last commit counts. */
ab_err_t ab_stateful_rebuild(struct ab_stateful *sf, struct ab_error *err)
{
        struct ab_error e2;
        int32_t p;

        ab_error_clear(&e2);
        if (sf->txn_open && ab_producer_txn_abort(sf->producer, &e2)) {
                ab_stateful_fail(sf, e2.code, &e2,
                                 "aborting the transaction failed");
                return e2.code;
        }
        sf->txn_open   = false;
        sf->committing = false;
        sf->txn_noffs  = 0;
        ab_deferred_reset(&sf->deferred);
        ab_stateful_discard(sf);
        ab_stateful_batches_reset(sf);
        for (size_t i = 0; i < ab_stores_count(sf->stores); i++) {
                ab_stores_at(sf->stores, i, &p);
                if (ab_stores_add(sf->stores, p))
                        return AB_ERR_NOMEM;
                ab_consumer_pause_partition(sf->consumer, sf->alerts, p, &e2);
        }
        for (size_t i = 0; i < sf->npos; i++)
                sf->pos[i].next = -1;
        sf->abort       = false;
        sf->latency.n   = 0; /* consumed again */
        sf->uncommitted = 0;
        sf->txn_records = 0;
        /* a stop waits no longer than it has left */
        return ab_consumer_rewind(
            sf->consumer, ab_stop_left_ms(sf->stop_by, ADMIN_TIMEOUT_MS), err);
}

/* ---------------------------------------------------------------- restore */

struct restore_ctx {
        struct ab_stateful *sf;
        int32_t partition;
};

static ab_err_t restore_record(void *arg, struct ab_str key,
                               struct ab_str value, int64_t offset,
                               struct ab_error *err)
{
        struct restore_ctx *c = arg;

        (void)offset;
        return ab_stores_restore_record(c->sf->stores, c->partition, key, value,
                                        err);
}

/* Restore every store not restored yet, then resume its partition. A
 * restore that cannot finish now is tried again at the next step. */
ab_err_t ab_stateful_restore_pending(struct ab_stateful *sf,
                                     struct ab_error *err)
{
        struct restore_ctx c = {sf, 0};
        int64_t records, t0;
        ab_err_t rc;

        while (ab_stores_unrestored(sf->stores, &c.partition)) {
                if (sf->eos && sf->txn_open) {
                        rc = ab_stateful_commit(sf, true, err);
                        if (rc || sf->abort)
                                return rc;
                }
                t0      = ab_time_mono_ms();
                records = 0;
                rc      = ab_restore_partition(sf->restore, sf->changelog,
                                               c.partition, restore_record, &c,
                                               &records, err);
                if (rc == AB_ERR_RETRY) {
                        ab_consumer_pause_partition(sf->consumer, sf->alerts,
                                                    c.partition, err);
                        AB_WARN("pipeline", "restore not finished; retrying",
                                "partition=%d error=\"%s\"", (int)c.partition,
                                err->text);
                        return AB_OK;
                }
                if (rc) {
                        ab_stateful_fail(sf, rc, err, "restoring a store");
                        return rc;
                }
                ab_stores_set_restored(sf->stores, c.partition);
                rc = ab_consumer_resume_partition(sf->consumer, sf->alerts,
                                                  c.partition, err);
                if (rc)
                        return rc;
                AB_INFO("pipeline", "store restored",
                        "partition=%d records=%lld open=%zu ms=%lld",
                        (int)c.partition, (long long)records,
                        ab_lifecycle_open_count(
                            ab_stores_get(sf->stores, c.partition)),
                        (long long)(ab_time_mono_ms() - t0));
        }
        return AB_OK;
}
