/* stateful_int.h - what the files of the two-stage run loop share: its
 * state and the functions one file calls in another. */
#ifndef AB_STATEFUL_INT_H
#define AB_STATEFUL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consumer/consumer.h"
#include "consumer/record.h"
#include "consumer/restore.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "kafka/admin.h"
#include "pipeline/alert_record.h"
#include "pipeline/deferred.h"
#include "pipeline/processor.h"
#include "pipeline/stateful.h"
#include "pipeline/stores.h"
#include "pipeline/transform_pool.h"
#include "producer/cloudevents_kafka.h"
#include "producer/headers.h"
#include "producer/producer.h"

/*
 * stateful.c: setup, rebalance callbacks, the loop; stages.c: the
 * outputs, the map stage and the lifecycle stage; commit.c: positions,
 * the commit cycle, rebuild and restore (its HOW IT WORKS explains the
 * ordering); checkpoint.c: at_least_once's cycle; txn.c: exactly_once's.
 */

#define ADMIN_TIMEOUT_MS 30000

/* Every this often at_least_once commits all positions again. */
#define RECOMMIT_MS 5000

/* Checkpoints that may wait (checkpoint.c) and the ring of per-epoch
 * counters of unacknowledged sends (more than the epochs they span). */
#define AB_CKPT_MAX  8
#define AB_CKPT_RING 16

/* exactly_once: the sends held while a commit is in flight (txn.c), at
 * most this many, and at most half the producer's queue
 * (kafka.max_pending_bytes) in bytes: they are replayed once the commit
 * has emptied it, so they fit. */
#define AB_DEFER_MAX_SENDS 50000

/* What the producer's framing adds to a record and to each of its
 * headers, below message.max.bytes: a send that may come near the limit
 * is not held (txn.c) and not batched further (stages.c). */
#define AB_FRAME_BYTES        64
#define AB_FRAME_HEADER_BYTES 16

/* The opaque of every output: what kind it was, for the counters. */
enum out_kind {
        OUT_EVENT = 1,
        OUT_DLQ,
        OUT_INTERNAL,
};

/* Progress of one assigned partition. */
struct position {
        char *topic;
        int32_t partition;
        int64_t next;      /* the offset after the last finished record */
        int64_t committed; /* the last `next` committed; -1: none */
        int64_t purged;    /* <group>.alerts: deleted below this */
        int64_t seen;      /* the consumer's position at seen_ms */
        int64_t seen_ms;
        int64_t queued; /* the last `next` put in a checkpoint; -1: none */
};

/* One at_least_once commit cycle waiting for its acknowledgements
 * (checkpoint.c). */
struct checkpoint {
        uint64_t epoch;               /* its sends are tagged with this epoch */
        struct ab_kafka_offset *offs; /* topics borrowed from positions */
        size_t noffs, cap;
        struct ab_buf changes; /* the stores' drained changes, copied */
        size_t at;             /* how much of `changes` was sent */
        bool sent;             /* all of it was sent to the changelog */
        size_t nlat;      /* the first records of sf->latency it acknowledges */
        uint64_t records; /* records consumed in its epoch */
};

struct ab_stateful {
        const struct ab_pipeline_config *cfg;
        const struct ab_pipeline_metrics *pm;
        struct ab_metrics_tally delay[AB_TOPIC__COUNT]; /* consume_delay */
        struct ab_consumer *consumer;
        struct ab_producer *producer;
        size_t max_message; /* the producer's message.max.bytes */
        struct ab_kafka_admin *admin;
        struct ab_restore *restore;
        struct ab_processor *proc;
        struct ab_transform_pool *pool;
        struct ab_stores *stores;
        struct ab_ce_kafka *ce;
        struct ab_headers *headers;
        enum ab_ce_mode mode;
        struct ab_buf buf; /* one encoded internal record */
        /* The map stage's batches, one per partition of <group>.alerts
         * (stages.c, HOW IT WORKS); NULL with state.batch_max_bytes 0.
         * nbatched: how many hold something; batch_since_ms: when the
         * oldest entry went in (ab_time_mono_ms()); drained: the last
         * burst ended with the consumer's records at hand. */
        struct ab_buf *batch;
        size_t batch_cap; /* bytes, at most message.max.bytes less framing */
        int32_t nbatched;
        int64_t batch_since_ms;
        bool drained;
        struct ab_alert_record_scratch scratch;
        struct ab_kv *kv; /* the headers of an ACTION being encoded */
        size_t kv_cap;
        char alerts[256];    /* <group>.alerts */
        char changelog[256]; /* <group>.lifecycle-changelog */
        int32_t nparts;
        int burst;
        bool eos;
        bool txn_open;
        /* exactly_once (txn.c): the open transaction's commit is under
         * way; what it covers (positions sent, records, latencies noted
         * first); the sends held meanwhile. */
        bool committing;
        struct ab_kafka_offset *txn_offs; /* topics borrowed from pos */
        size_t txn_noffs, txn_cap;
        uint64_t txn_records;
        size_t txn_nlat;
        struct ab_deferred deferred;
        bool abort; /* the transaction failed: rebuild and rewind */
        /* Records consumed since the last commit cycle; at
         * kafka.max_pending_records consumption pauses and the cycle runs
         * at once. */
        uint64_t uncommitted;
        /* When at_least_once commits every position again: an
         * asynchronous commit can fail after it was sent (a rebalance's
         * ILLEGAL_GENERATION), and a quiet partition would otherwise
         * never be committed again. */
        int64_t recommit_ms;
        struct position *pos;
        size_t npos, cappos;
        /* at_least_once: the epoch of new sends, the unacknowledged sends
         * per epoch, and the checkpoints waiting (oldest at ckpt_head). */
        uint64_t epoch;
        uint64_t out[AB_CKPT_RING];
        struct checkpoint ckpt[AB_CKPT_MAX];
        size_t ckpt_head, nckpt;
        /* Where the current record's dead letters come from. */
        const struct ab_record *rec;
        const struct ab_alert_record_action *action;
        struct ab_pipeline_stats stats;
        /* The latencies of the records the next commit acknowledges. */
        struct ab_pipeline_metrics_batch latency;
        struct ab_error fatal; /* code AB_OK if none */
        int64_t next_commit_ms, next_expire_ms, next_purge_ms, next_tick_ms;
        volatile sig_atomic_t *stop;
        int ready; /* read by the HTTP thread: atomic access only */
        bool shut;
        int64_t stop_by; /* shutdown deadline (ab_time_mono_ms()); 0 none */
};

/* stages.c */
void ab_stateful_fail(struct ab_stateful *sf, ab_err_t rc,
                      const struct ab_error *err, const char *what);
void ab_stateful_on_delivery(void *arg, void *opaque, ab_err_t status,
                             const struct ab_error *err);
ab_err_t ab_stateful_send(struct ab_stateful *sf, const char *topic,
                          int32_t partition, struct ab_str key,
                          struct ab_str value, const struct ab_headers *headers,
                          enum out_kind kind, struct ab_error *err);
/* ab_stateful_send() never holding: into the producer now. */
ab_err_t ab_stateful_send_now(struct ab_stateful *sf, const char *topic,
                              int32_t partition, struct ab_str key,
                              struct ab_str value,
                              const struct ab_headers *headers,
                              enum out_kind kind, struct ab_error *err);
ab_err_t ab_stateful_on_output(void *arg, const struct ab_output *o);
ab_err_t ab_stateful_map_alert(void *arg, const struct ab_mapped_alert *m);
ab_err_t ab_stateful_map_action(void *arg, const struct ab_input *in,
                                const unsigned char *prefix);
/* The map stage's batches: set up at start (after the producer), emptied
 * without sending at a rebuild, freed at the end; flushed (sent) when
 * due, and by the commit cycle before it takes the positions. */
ab_err_t ab_stateful_batches_init(struct ab_stateful *sf);
void ab_stateful_batches_reset(struct ab_stateful *sf);
void ab_stateful_batches_fini(struct ab_stateful *sf);
ab_err_t ab_stateful_flush(struct ab_stateful *sf, struct ab_error *err);
bool ab_stateful_flush_due(const struct ab_stateful *sf, int64_t now_ms);
ab_err_t ab_stateful_finish_ready(struct ab_stateful *sf, int wait_ms);
void ab_stateful_discard(struct ab_stateful *sf);
ab_err_t ab_stateful_lifecycle_record(struct ab_stateful *sf,
                                      const struct ab_record *rec);

/* commit.c */
struct position *ab_stateful_pos_find(struct ab_stateful *sf, const char *topic,
                                      int32_t partition, bool create);
ab_err_t ab_stateful_pos_advance(struct ab_stateful *sf,
                                 const struct ab_record *r);
void ab_stateful_pos_drop(struct ab_stateful *sf, const char *topic,
                          int32_t partition);
void ab_stateful_pos_clear(struct ab_stateful *sf);
/* Grow \p *offs (capacity \p *cap) to hold an offset per position, for a
 * commit's list of them. @returns AB_OK or AB_ERR_NOMEM. */
ab_err_t ab_stateful_offs_reserve(const struct ab_stateful *sf,
                                  struct ab_kafka_offset **offs, size_t *cap);
ab_err_t ab_stateful_commit(struct ab_stateful *sf, bool sync,
                            struct ab_error *err);
ab_err_t ab_stateful_write_changelog(struct ab_stateful *sf,
                                     struct ab_error *err);
bool ab_stateful_changes_pending(const struct ab_stateful *sf);
ab_err_t ab_stateful_rebuild(struct ab_stateful *sf, struct ab_error *err);
ab_err_t ab_stateful_restore_pending(struct ab_stateful *sf,
                                     struct ab_error *err);

/* checkpoint.c */
void *ab_stateful_opaque(const struct ab_stateful *sf, enum out_kind kind);
enum out_kind ab_stateful_acked(struct ab_stateful *sf, void *opaque);
ab_err_t ab_stateful_ckpt_cycle(struct ab_stateful *sf, bool sync,
                                struct ab_error *err);
ab_err_t ab_stateful_ckpt_advance(struct ab_stateful *sf, bool sync,
                                  struct ab_error *err);
void ab_stateful_ckpt_forget(struct ab_stateful *sf, const char *topic,
                             int32_t partition);
void ab_stateful_ckpt_fini(struct ab_stateful *sf);
/* Records of the checkpoints still waiting (not committed yet). */
uint64_t ab_stateful_ckpt_records(const struct ab_stateful *sf);

/* txn.c */
/* One exactly_once cycle: changelog, offsets, then the commit, finished
 * here when \p sync, else left in flight (sf->committing). */
ab_err_t ab_stateful_txn_cycle(struct ab_stateful *sf, bool sync,
                               struct ab_error *err);
/* Move the commit in flight on (\p sync: finish it), then replay the
 * held sends. AB_OK while still under way. */
ab_err_t ab_stateful_txn_finish(struct ab_stateful *sf, bool sync,
                                struct ab_error *err);
/* Replay held sends whose commit is done (none while one is in flight or
 * an abort is pending). */
ab_err_t ab_stateful_txn_replay(struct ab_stateful *sf);
/* Hold a send while the commit is in flight. AB_ERR_TOO_LARGE: not held
 * (the bound, or near message.max.bytes): finish the commit, send it. */
ab_err_t ab_stateful_txn_defer(struct ab_stateful *sf, const char *topic,
                               int32_t partition, struct ab_str key,
                               struct ab_str value,
                               const struct ab_headers *headers,
                               enum out_kind kind);

#endif
