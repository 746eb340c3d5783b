/* stateful.c - the two-stage run loop: raw records mapped onto
 * <group>.alerts, its partitions applied to their own changelog-backed
 * stores, both committed together. */
#include "pipeline/stateful.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "consumer/consumer.h"
#include "consumer/record.h"
#include "consumer/restore.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "kafka/admin.h"
#include "kafka/kafka_config.h"
#include "pipeline/alert_record.h"
#include "pipeline/processor.h"
#include "pipeline/stores.h"
#include "pipeline/transform_pool.h"
#include "producer/cloudevents_kafka.h"
#include "producer/headers.h"
#include "producer/producer.h"

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
 * the offset after the last record it finished ("positions"), and every
 * commit_interval, on revocation and on shutdown it runs the commit
 * cycle. at_least_once: finish the pool's records; flush the producer
 * (every event, ALERT/ACTION record and dead letter of the finished
 * records is acknowledged); write each store's drained changes to its
 * changelog partition; flush again; commit the positions. So a committed
 * offset never passes a record whose outputs or state changes could be
 * lost, and the changelog never holds a change whose events were lost;
 * a crash replays the records after the last commit onto a restored
 * state that already holds their changes, and deterministic ids make a
 * repeated event a copy. exactly_once: everything is sent inside a
 * transaction (begun by the first send), and the cycle adds the changelog
 * records and the positions (send_offsets with the group metadata) and
 * commits it. A transaction that fails is aborted; then the pool is
 * discarded, every store rebuilt from its changelog, the positions
 * forgotten and the consumer rewound to the committed offsets.
 *
 * Restore: an assigned partition p of <group>.alerts is paused and gets
 * an empty store; the next step reads changelog partition p to its end
 * into it (after committing an open transaction, which the restore's
 * wait must not outlive), marks it restored and resumes p. On
 * revocation the cycle runs, then the revoked partitions' stores and
 * positions are dropped; lost partitions are dropped without a commit
 * (exactly_once: the transaction is aborted and the rest rebuilt).
 */

#define BURST_THREADED    64
#define SLOTS_THREADED    256
#define BURST_INLINE      16
#define SLOTS_INLINE      16
#define PURGE_INTERVAL_MS 30000
#define ADMIN_TIMEOUT_MS  30000
#define JOIN_WAIT_MS      10000

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
};

struct ab_stateful {
        const struct ab_pipeline_config *cfg;
        const struct ab_pipeline_metrics *pm;
        struct ab_consumer *consumer;
        struct ab_producer *producer;
        struct ab_kafka_admin *admin;
        struct ab_restore *restore;
        struct ab_processor *proc;
        struct ab_transform_pool *pool;
        struct ab_stores *stores;
        struct ab_ce_kafka *ce;
        struct ab_headers *headers;
        enum ab_ce_mode mode;
        struct ab_buf buf; /* one encoded internal record */
        struct ab_alert_record_scratch scratch;
        struct ab_kv *kv; /* the headers of an ACTION being encoded */
        size_t kv_cap;
        char alerts[256];    /* <group>.alerts */
        char changelog[256]; /* <group>.lifecycle-changelog */
        int32_t nparts;
        int burst;
        bool eos;
        bool txn_open;
        bool abort; /* the transaction failed: rebuild and rewind */
        struct position *pos;
        size_t npos, cappos;
        /* Where the current record's dead letters come from. */
        const struct ab_record *rec;
        const struct ab_alert_record_action *action;
        struct ab_pipeline_stats stats;
        struct ab_error fatal; /* code AB_OK if none */
        int64_t next_commit_ms, next_expire_ms, next_purge_ms, next_tick_ms;
        volatile sig_atomic_t *stop;
        int ready; /* read by the HTTP thread: atomic access only */
        bool shut;
};

static void set_fatal(struct ab_stateful *sf, ab_err_t rc,
                      const struct ab_error *err, const char *what)
{
        if (sf->fatal.code != AB_OK)
                return;
        ab_error_set(&sf->fatal, rc, NULL, "%s: %s", what,
                     err && err->code ? err->text : ab_err_desc(rc));
        AB_ERROR("pipeline", "stopping", "error=\"%s\"", sf->fatal.text);
}

/* ---------------------------------------------------------------- positions
 */

static struct position *pos_find(struct ab_stateful *sf, const char *topic,
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
        sf->npos++;
        return p;
}

static ab_err_t pos_advance(struct ab_stateful *sf, const struct ab_record *r)
{
        struct position *p =
            pos_find(sf, ab_record_topic(r), ab_record_partition(r), true);

        if (!p)
                return AB_ERR_NOMEM;
        p->next = ab_record_offset(r) + 1;
        return AB_OK;
}

static void pos_drop(struct ab_stateful *sf, const char *topic,
                     int32_t partition)
{
        struct position *p = pos_find(sf, topic, partition, false);

        if (!p)
                return;
        ab_free(p->topic);
        *p = sf->pos[--sf->npos];
}

static void pos_clear(struct ab_stateful *sf)
{
        for (size_t i = 0; i < sf->npos; i++)
                ab_free(sf->pos[i].topic);
        sf->npos = 0;
}

/* The positions not committed yet, into a new array (*n of them). */
static struct ab_kafka_offset *dirty_offsets(const struct ab_stateful *sf,
                                             size_t *n)
{
        struct ab_kafka_offset *v;

        *n = 0;
        v  = ab_calloc(sf->npos + 1, sizeof(*v));
        if (!v)
                return NULL;
        for (size_t i = 0; i < sf->npos; i++) {
                const struct position *p = &sf->pos[i];

                if (p->next < 0 || p->next == p->committed)
                        continue;
                v[*n].topic     = p->topic;
                v[*n].partition = p->partition;
                v[*n].offset    = p->next;
                (*n)++;
        }
        return v;
}

/*
 * Once every consumed record is finished, the consumer's position is what
 * was processed, and it also counts what the application never sees:
 * transaction markers and aborted records (read_committed). Committing
 * it, and not the last record + 1, lets a committed offset reach the end
 * of a partition written in transactions.
 */
static void pos_sync(struct ab_stateful *sf)
{
        struct ab_error err;
        int64_t at;

        for (size_t i = 0; i < sf->npos; i++) {
                struct position *p = &sf->pos[i];

                if (!ab_consumer_position(sf->consumer, p->topic, p->partition,
                                          &at, &err) &&
                    at > p->next)
                        p->next = at;
        }
}

static void mark_committed(struct ab_stateful *sf)
{
        for (size_t i = 0; i < sf->npos; i++)
                if (sf->pos[i].next >= 0)
                        sf->pos[i].committed = sf->pos[i].next;
}

/* ---------------------------------------------------------------- outputs */

static void on_delivery(void *arg, void *opaque, ab_err_t status,
                        const struct ab_error *err)
{
        struct ab_stateful *sf = arg;
        uintptr_t kind         = (uintptr_t)opaque;

        if (status != AB_OK) {
                ab_metrics_inc(sf->pm->delivery_errors);
                /* exactly_once: the transaction's commit fails and the
                 * records are handled again. */
                if (!sf->eos)
                        set_fatal(sf, AB_ERR_KAFKA, err,
                                  "delivery failed; stopping so that the "
                                  "record is consumed again after a "
                                  "restart");
                return;
        }
        if (kind == OUT_EVENT)
                sf->stats.events++;
        else if (kind == OUT_DLQ)
                sf->stats.dead_letters++;
}

/* Send inside the open transaction (begun here in exactly_once), waiting
 * out a full queue; a stop request ends the wait with AB_ERR_RETRY. */
static ab_err_t out_send(struct ab_stateful *sf, const char *topic,
                         int32_t partition, struct ab_str key,
                         struct ab_str value, const struct ab_headers *headers,
                         enum out_kind kind, struct ab_error *err)
{
        ab_err_t rc;

        if (sf->eos && !sf->txn_open) {
                rc = ab_producer_txn_begin(sf->producer, err);
                if (rc)
                        return rc;
                sf->txn_open = true;
        }
        for (;;) {
                rc = ab_producer_send_to(sf->producer, topic, partition, key,
                                         value, headers, (void *)kind, err);
                if (rc != AB_ERR_RETRY)
                        return rc;
                ab_producer_poll(sf->producer, 100);
                if (ab_producer_fatal(sf->producer, err))
                        return AB_ERR_KAFKA;
                if (sf->stop && *sf->stop)
                        return ab_error_set(err, AB_ERR_RETRY, NULL,
                                            "stopping while the producer "
                                            "queue is full");
        }
}

/* The dead-letter headers of the current record: a rejected action's
 * original headers and source, else the consumed record's. */
static ab_err_t dead_letter_headers(struct ab_stateful *sf,
                                    const struct ab_output *o)
{
        struct ab_dlq_info info;
        char topic[256] = "";
        const char *name;
        struct ab_str value;
        ab_err_t rc = AB_OK;

        ab_headers_reset(sf->headers);
        memset(&info, 0, sizeof(info));
        info.partition = -1;
        info.offset    = -1;
        if (sf->action) {
                const struct ab_alert_record_action *a = sf->action;

                for (size_t i = 0; !rc && i < a->nheaders; i++) {
                        char hn[256];
                        size_t n = a->headers[i].key.len < sizeof(hn) - 1
                                       ? a->headers[i].key.len
                                       : sizeof(hn) - 1;

                        memcpy(hn, a->headers[i].key.ptr, n);
                        hn[n] = '\0';
                        rc = ab_headers_add(sf->headers, hn, a->headers[i].val);
                }
                snprintf(topic, sizeof(topic), "%.*s", (int)a->origin.topic.len,
                         a->origin.topic.ptr);
                info.partition = a->origin.partition;
                info.offset    = a->origin.offset;
        } else if (sf->rec) {
                for (size_t i = 0;
                     !rc && !ab_record_header_at(sf->rec, i, &name, &value);
                     i++)
                        rc = ab_headers_add(sf->headers, name, value);
                snprintf(topic, sizeof(topic), "%s", ab_record_topic(sf->rec));
                info.partition = ab_record_partition(sf->rec);
                info.offset    = ab_record_offset(sf->rec);
        }
        if (rc)
                return rc;
        info.error       = o->error;
        info.topic       = topic;
        info.integration = o->integration;
        return ab_headers_add_dlq(sf->headers, &info);
}

static ab_err_t send_dead_letter(struct ab_stateful *sf,
                                 const struct ab_output *o)
{
        struct ab_error err;
        ab_err_t rc = dead_letter_headers(sf, o);

        ab_error_clear(&err);
        if (!rc)
                rc = out_send(sf, o->topic, -1, o->key, o->value, sf->headers,
                              OUT_DLQ, &err);
        if (rc && rc != AB_ERR_RETRY)
                set_fatal(sf, rc, &err, "cannot write a dead letter");
        return rc;
}

static ab_err_t on_output(void *arg, const struct ab_output *o)
{
        struct ab_stateful *sf = arg;
        struct ab_str value;
        struct ab_error err;
        ab_err_t rc;

        if (o->kind == AB_OUTPUT_DEAD_LETTER)
                return send_dead_letter(sf, o);
        ab_headers_reset(sf->headers);
        ab_error_clear(&err);
        rc = ab_ce_kafka_encode(sf->ce, sf->mode, o->value.ptr, o->value.len,
                                sf->headers, &value, &err);
        if (!rc)
                rc = out_send(sf, o->topic, -1, o->key, value, sf->headers,
                              OUT_EVENT, &err);
        if (rc && rc != AB_ERR_RETRY)
                set_fatal(sf, rc, &err, "cannot produce an event");
        return rc;
}

/* ---------------------------------------------------------------- map stage
 */

/* A mapped alert becomes an ALERT record at the partition of its
 * fingerprint. */
static ab_err_t map_alert(void *arg, const struct ab_mapped_alert *m)
{
        struct ab_stateful *sf = arg;
        struct ab_alert_record_alert a;
        struct ab_error err;
        ab_err_t rc;

        memset(&a, 0, sizeof(a));
        a.integration = ab_str_c(ab_integration_name(m->integration));
        memcpy(a.fp, m->digest, sizeof(a.fp));
        a.event_ms         = m->time_ms;
        a.origin.topic     = ab_str_c(m->input->topic);
        a.origin.partition = m->input->partition;
        a.origin.offset    = m->input->offset;
        a.alert            = m->alert;
        ab_error_clear(&err);
        ab_buf_reset(&sf->buf);
        rc = ab_alert_record_encode_alert(&a, &sf->buf, &err);
        if (!rc)
                rc = out_send(sf, sf->alerts,
                              ab_alert_record_route(m->digest, sf->nparts),
                              ab_str_c(m->fingerprint),
                              ab_str_make(sf->buf.data, sf->buf.len), NULL,
                              OUT_INTERNAL, &err);
        if (rc && rc != AB_ERR_RETRY)
                set_fatal(sf, rc, &err, "cannot write to the alerts topic");
        return rc;
}

/* The consumed record's headers as the ACTION record's. */
static ab_err_t action_headers(struct ab_stateful *sf, size_t *n)
{
        const char *name;
        struct ab_str value;

        *n = 0;
        while (sf->rec && !ab_record_header_at(sf->rec, *n, &name, &value)) {
                if (*n == sf->kv_cap) {
                        size_t cap      = sf->kv_cap ? sf->kv_cap * 2 : 8;
                        struct ab_kv *v = ab_realloc(sf->kv, cap * sizeof(*v));

                        if (!v)
                                return AB_ERR_NOMEM;
                        sf->kv     = v;
                        sf->kv_cap = cap;
                }
                sf->kv[*n].key = ab_str_c(name);
                sf->kv[*n].val = value;
                (*n)++;
        }
        return AB_OK;
}

/* An action record becomes an ACTION record at the partition of the
 * alert it names. */
static ab_err_t map_action(void *arg, const struct ab_input *in,
                           const unsigned char *prefix)
{
        struct ab_stateful *sf = arg;
        struct ab_alert_record_action a;
        char key[2 * AB_ALERT_RECORD_ROUTE_LEN + 1];
        struct ab_error err;
        ab_err_t rc;

        memset(&a, 0, sizeof(a));
        a.origin.topic     = ab_str_c(in->topic);
        a.origin.partition = in->partition;
        a.origin.offset    = in->offset;
        a.timestamp_ms     = in->timestamp_ms;
        a.key              = in->key;
        a.value            = in->value;
        ab_error_clear(&err);
        rc        = action_headers(sf, &a.nheaders);
        a.headers = sf->kv;
        ab_buf_reset(&sf->buf);
        if (!rc)
                rc = ab_alert_record_encode_action(&a, &sf->buf, &err);
        ab_hex(prefix, AB_ALERT_RECORD_ROUTE_LEN, key);
        if (!rc)
                rc = out_send(
                    sf, sf->alerts, ab_alert_record_route(prefix, sf->nparts),
                    ab_str_c(key), ab_str_make(sf->buf.data, sf->buf.len), NULL,
                    OUT_INTERNAL, &err);
        if (rc && rc != AB_ERR_RETRY)
                set_fatal(sf, rc, &err, "cannot write to the alerts topic");
        return rc;
}

static void fill_input(struct ab_input *in, const struct ab_record *rec,
                       const char *integration_header)
{
        in->topic        = ab_record_topic(rec);
        in->partition    = ab_record_partition(rec);
        in->offset       = ab_record_offset(rec);
        in->timestamp_ms = ab_record_timestamp(rec);
        in->key          = ab_record_key(rec);
        in->value        = ab_record_value(rec);
        in->integration  = ab_record_header(rec, integration_header);
}

/* Finish the oldest pool slot through the map stage. */
static ab_err_t finish_slot(struct ab_stateful *sf,
                            struct ab_transform_pool_slot *s, int64_t now_ns)
{
        ab_err_t rc;

        sf->rec = s->record;
        rc      = ab_processor_finish(sf->proc, s->job, &s->in, on_output, sf);
        if (!rc)
                rc = pos_advance(sf, s->record);
        sf->rec = NULL;
        ab_metrics_observe(sf->pm->record_latency,
                           (double)(now_ns - s->stamp_ns) / 1e9);
        ab_record_destroy(s->record);
        ab_transform_pool_pop(sf->pool);
        if (rc && rc != AB_ERR_RETRY)
                set_fatal(sf, rc, NULL, "processing failed");
        return rc;
}

static ab_err_t finish_ready(struct ab_stateful *sf, int wait_ms)
{
        struct ab_transform_pool_slot *s;
        int64_t now_ns = ab_time_mono_ns();
        ab_err_t rc;

        ab_transform_pool_kick(sf->pool);
        while ((s = ab_transform_pool_oldest(sf->pool, wait_ms))) {
                rc = finish_slot(sf, s, now_ns);
                if (rc)
                        return rc;
                if (wait_ms > 0)
                        wait_ms = 0;
        }
        return AB_OK;
}

/* Drop the pool's records unfinished: they are consumed again. */
static void discard(struct ab_stateful *sf)
{
        struct ab_transform_pool_slot *s;

        while ((s = ab_transform_pool_oldest(sf->pool, -1))) {
                ab_record_destroy(s->record);
                ab_transform_pool_pop(sf->pool);
        }
}

/* ---------------------------------------------------------------- lifecycle
 * stage */

static ab_err_t lifecycle_record(struct ab_stateful *sf,
                                 const struct ab_record *rec)
{
        struct ab_lifecycle *lc =
            ab_stores_get(sf->stores, ab_record_partition(rec));
        struct ab_alert_record r;
        struct ab_input in;
        struct ab_error err;
        ab_err_t rc;

        if (!lc) {
                ab_error_set(&err, AB_ERR_INTERNAL, NULL,
                             "a record of %s[%d] before its store was "
                             "restored",
                             sf->alerts, (int)ab_record_partition(rec));
                set_fatal(sf, AB_ERR_INTERNAL, &err, "lifecycle stage");
                return AB_ERR_INTERNAL;
        }
        memset(&in, 0, sizeof(in));
        fill_input(&in, rec, sf->cfg->integration_header);
        in.integration = ab_str_make(NULL, 0);
        ab_error_clear(&err);
        sf->rec = rec;
        rc = in.value.ptr ? ab_alert_record_decode(in.value.ptr, in.value.len,
                                                   &sf->scratch, &r, &err)
                          : ab_error_set(&err, AB_ERR_BAD_RECORD, NULL,
                                         "the record has no value");
        if (rc == AB_ERR_BAD_RECORD) {
                struct ab_output o;

                memset(&o, 0, sizeof(o));
                o.kind  = AB_OUTPUT_DEAD_LETTER;
                o.topic = sf->cfg->dead_letter_topic;
                o.key   = in.key;
                o.value = in.value;
                o.error = &err;
                ab_pipeline_metrics_reject(sf->pm, rc);
                ab_metrics_inc(sf->pm->dlq_records);
                rc = send_dead_letter(sf, &o);
        } else if (!rc) {
                if (r.kind == AB_ALERT_RECORD_ACTION) {
                        sf->action = &r.action;
                        in.key     = r.action.key;
                        in.value   = r.action.value;
                }
                rc = ab_processor_apply(sf->proc, lc, &r, &in, on_output, sf);
        }
        sf->rec    = NULL;
        sf->action = NULL;
        if (!rc)
                rc = pos_advance(sf, rec);
        if (rc && rc != AB_ERR_RETRY)
                set_fatal(sf, rc, &err, "lifecycle stage");
        return rc;
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
        return out_send(c->sf, c->sf->changelog, c->partition, ab_str_c(key),
                        ab_str_make(entry, entry ? len : 0), NULL, OUT_INTERNAL,
                        c->err);
}

/* Every restored store's changes since the last cycle to its changelog
 * partition. */
static ab_err_t write_changelog(struct ab_stateful *sf, struct ab_error *err)
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

static bool changes_pending(const struct ab_stateful *sf)
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

static ab_err_t commit_txn(struct ab_stateful *sf, struct ab_error *err)
{
        struct ab_kafka_group_meta *meta = NULL;
        struct ab_kafka_offset *offs;
        size_t n;
        ab_err_t rc;

        offs = dirty_offsets(sf, &n);
        if (!offs)
                return AB_ERR_NOMEM;
        if (!sf->txn_open && !n && !changes_pending(sf)) {
                ab_free(offs);
                return AB_OK;
        }
        rc = write_changelog(sf, err);
        if (!rc && !sf->txn_open) {
                rc = ab_producer_txn_begin(sf->producer, err);
                if (!rc)
                        sf->txn_open = true;
        }
        if (!rc && n)
                rc = ab_consumer_group_metadata(sf->consumer, &meta, err);
        if (!rc && n)
                rc = ab_producer_txn_send_offsets(sf->producer, offs, n, meta,
                                                  err);
        ab_kafka_group_meta_destroy(meta);
        ab_free(offs);
        if (!rc)
                rc = ab_producer_txn_commit(sf->producer, err);
        if (!rc) {
                sf->txn_open = false;
                mark_committed(sf);
                return AB_OK;
        }
        if (rc == AB_ERR_TXN_ABORT || rc == AB_ERR_KAFKA) {
                struct ab_error e2;

                AB_WARN("pipeline",
                        "transaction failed: aborting, rebuilding the "
                        "stores and rewinding",
                        "error=\"%s\"", err->text);
                ab_error_clear(&e2);
                if (ab_producer_txn_abort(sf->producer, &e2)) {
                        set_fatal(sf, e2.code, &e2,
                                  "aborting the transaction failed");
                        return e2.code;
                }
                sf->txn_open = false;
                sf->abort    = true;
                return AB_OK;
        }
        set_fatal(sf, rc, err, "transaction");
        return rc;
}

static ab_err_t commit_alo(struct ab_stateful *sf, bool sync,
                           struct ab_error *err)
{
        int timeout = (int)sf->cfg->loop.flush_timeout_ms;
        struct ab_kafka_offset *offs;
        size_t n;
        ab_err_t rc;

        /* Events, ALERT records and dead letters first, then the
         * changelog: it never holds a change whose events were lost. */
        if (ab_producer_flush(sf->producer, timeout, err) != AB_OK)
                return AB_OK; /* still in flight: commit at the next cycle */
        if (sf->fatal.code != AB_OK)
                return sf->fatal.code;
        rc = write_changelog(sf, err);
        if (rc) {
                if (rc != AB_ERR_RETRY)
                        set_fatal(sf, rc, err, "cannot write the changelog");
                return rc;
        }
        if (ab_producer_flush(sf->producer, timeout, err) != AB_OK)
                return AB_OK;
        if (sf->fatal.code != AB_OK)
                return sf->fatal.code;
        offs = dirty_offsets(sf, &n);
        if (!offs)
                return AB_ERR_NOMEM;
        rc = n ? ab_consumer_commit_offsets(sf->consumer, offs, n, !sync, err)
               : AB_OK;
        ab_free(offs);
        if (!rc)
                mark_committed(sf);
        else
                AB_WARN("pipeline", "commit failed; retried next cycle",
                        "error=\"%s\"", err->text);
        return AB_OK;
}

/* The commit cycle: finish the consumed records, persist, commit. */
static ab_err_t commit_cycle(struct ab_stateful *sf, bool sync,
                             struct ab_error *err)
{
        ab_err_t rc;

        if (sf->fatal.code != AB_OK || sf->abort)
                return sf->fatal.code;
        rc = finish_ready(sf, -1);
        if (rc)
                return rc;
        pos_sync(sf);
        return sf->eos ? commit_txn(sf, err) : commit_alo(sf, sync, err);
}

/* After a failed transaction: nothing since the last commit counts. */
static ab_err_t rebuild(struct ab_stateful *sf, struct ab_error *err)
{
        struct ab_error e2;
        int32_t p;

        ab_error_clear(&e2);
        if (sf->txn_open && ab_producer_txn_abort(sf->producer, &e2)) {
                set_fatal(sf, e2.code, &e2, "aborting the transaction failed");
                return e2.code;
        }
        sf->txn_open = false;
        discard(sf);
        for (size_t i = 0; i < ab_stores_count(sf->stores); i++) {
                ab_stores_at(sf->stores, i, &p);
                if (ab_stores_add(sf->stores, p))
                        return AB_ERR_NOMEM;
                ab_consumer_pause_partition(sf->consumer, sf->alerts, p, &e2);
        }
        for (size_t i = 0; i < sf->npos; i++)
                sf->pos[i].next = -1;
        sf->abort = false;
        return ab_consumer_rewind(sf->consumer, ADMIN_TIMEOUT_MS, err);
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
static ab_err_t restore_pending(struct ab_stateful *sf, struct ab_error *err)
{
        struct restore_ctx c = {sf, 0};
        int64_t records, t0;
        ab_err_t rc;

        while (ab_stores_unrestored(sf->stores, &c.partition)) {
                if (sf->eos && sf->txn_open) {
                        rc = commit_cycle(sf, true, err);
                        if (rc || sf->abort)
                                return rc;
                }
                t0      = ab_time_mono_ms();
                records = 0;
                rc      = ab_restore_partition(sf->restore, sf->changelog,
                                               c.partition, restore_record, &c,
                                               &records, err);
                if (rc == AB_ERR_RETRY) {
                        AB_WARN("pipeline", "restore not finished; retrying",
                                "partition=%d error=\"%s\"", (int)c.partition,
                                err->text);
                        return AB_OK;
                }
                if (rc) {
                        set_fatal(sf, rc, err, "restoring a store");
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

/* ---------------------------------------------------------------- rebalance
 */

static void on_assigned(void *arg, const struct ab_consumer_partition *parts,
                        size_t n)
{
        struct ab_stateful *sf = arg;
        struct ab_error err;

        for (size_t i = 0; i < n; i++) {
                if (!pos_find(sf, parts[i].topic, parts[i].partition, true))
                        set_fatal(sf, AB_ERR_NOMEM, NULL, "assignment");
                if (strcmp(parts[i].topic, sf->alerts))
                        continue;
                ab_error_clear(&err);
                if (ab_consumer_pause_partition(sf->consumer, sf->alerts,
                                                parts[i].partition, &err) ||
                    ab_stores_add(sf->stores, parts[i].partition))
                        set_fatal(sf, AB_ERR_NOMEM, &err, "creating a store");
        }
        __atomic_store_n(&sf->ready, 0, __ATOMIC_RELAXED);
}

static void on_revoked(void *arg, const struct ab_consumer_partition *parts,
                       size_t n, bool lost)
{
        struct ab_stateful *sf = arg;
        struct ab_error err;

        ab_error_clear(&err);
        if (!lost)
                commit_cycle(sf, true, &err);
        else if (sf->eos)
                sf->abort = true;
        for (size_t i = 0; i < n; i++) {
                pos_drop(sf, parts[i].topic, parts[i].partition);
                if (!strcmp(parts[i].topic, sf->alerts))
                        ab_stores_drop(sf->stores, parts[i].partition);
        }
}

/* ---------------------------------------------------------------- setup */

/* The partition count of the internal topics: state.partitions, else
 * the largest of the input topics. */
static ab_err_t internal_partitions(struct ab_stateful *sf, int *out,
                                    struct ab_error *err)
{
        const struct ab_pipeline_config *cfg = sf->cfg;
        int count;
        ab_err_t rc;

        *out = (int)cfg->state.partitions;
        if (*out > 0)
                return AB_OK;
        *out = 1;
        for (size_t i = 0; i < cfg->ninputs; i++) {
                for (size_t t = 0; t < cfg->inputs[i].ntopics; t++) {
                        const char *topic = cfg->inputs[i].topics[t];

                        if (topic[0] == '^')
                                continue;
                        rc = ab_kafka_admin_partitions(sf->admin, &topic, 1,
                                                       &count, ADMIN_TIMEOUT_MS,
                                                       err);
                        if (rc == AB_ERR_NOT_FOUND)
                                continue;
                        if (rc)
                                return rc;
                        if (count > *out)
                                *out = count;
                }
        }
        return AB_OK;
}

static ab_err_t ensure_topics(struct ab_stateful *sf, struct ab_error *err)
{
        static const char *const deletes[] = {"cleanup.policy", "delete", NULL};
        static const char *const compacts[] = {"cleanup.policy", "compact",
                                               NULL};
        struct ab_kafka_topic_spec spec[2];
        int n;
        ab_err_t rc;

        rc = internal_partitions(sf, &n, err);
        if (rc)
                return rc;
        memset(spec, 0, sizeof(spec));
        spec[0].name               = sf->alerts;
        spec[0].configs            = deletes;
        spec[1].name               = sf->changelog;
        spec[1].configs            = compacts;
        spec[0].partitions         = n;
        spec[1].partitions         = n;
        spec[0].replication_factor = (int)sf->cfg->state.replication_factor;
        spec[1].replication_factor = (int)sf->cfg->state.replication_factor;
        rc = ab_kafka_admin_ensure_topics(sf->admin, spec, 2, ADMIN_TIMEOUT_MS,
                                          err);
        sf->nparts = n;
        return rc;
}

static ab_err_t subscribe(struct ab_stateful *sf, struct ab_error *err)
{
        const struct ab_pipeline_config *cfg = sf->cfg;
        const char **topics;
        size_t n = 2;
        ab_err_t rc;

        for (size_t i = 0; i < cfg->ninputs; i++)
                n += cfg->inputs[i].ntopics;
        topics = ab_calloc(n, sizeof(*topics));
        if (!topics)
                return AB_ERR_NOMEM;
        n = 0;
        for (size_t i = 0; i < cfg->ninputs; i++)
                for (size_t t = 0; t < cfg->inputs[i].ntopics; t++)
                        topics[n++] = cfg->inputs[i].topics[t];
        if (cfg->actions_topic)
                topics[n++] = cfg->actions_topic;
        topics[n++] = sf->alerts;
        rc          = ab_consumer_subscribe(sf->consumer, topics, n, err);
        ab_free(topics);
        return rc;
}

static ab_err_t make_producer(struct ab_stateful *sf, const char **props,
                              struct ab_error *err)
{
        const struct ab_pipeline_config *cfg = sf->cfg;
        struct ab_producer_conf pc;
        char tid[512];
        ab_err_t rc;

        memset(&pc, 0, sizeof(pc));
        pc.brokers     = cfg->kafka.brokers;
        pc.properties  = props;
        pc.on_delivery = on_delivery;
        pc.arg         = sf;
        if (sf->eos) {
                if (cfg->kafka.instance_id) {
                        snprintf(tid, sizeof(tid), "%s-%s", cfg->kafka.group,
                                 cfg->kafka.instance_id);
                } else {
                        snprintf(tid, sizeof(tid), "%s-%ld-%lld",
                                 cfg->kafka.group, (long)getpid(),
                                 (long long)ab_time_mono_ns());
                        AB_WARN("pipeline",
                                "exactly_once without kafka.instance_id: "
                                "a random transactional id, so a "
                                "restarted member cannot fence its "
                                "predecessor at once",
                                "transactional_id=%s", tid);
                }
                pc.transactional_id = tid;
        }
        rc = ab_producer_new(&pc, &sf->producer, err);
        if (!rc && sf->eos)
                rc = ab_producer_txn_init(sf->producer, err);
        return rc;
}

static ab_err_t make_consumer(struct ab_stateful *sf, const char **props,
                              struct ab_error *err)
{
        const struct ab_pipeline_config *cfg = sf->cfg;
        struct ab_consumer_conf cc;
        struct ab_restore_conf rc_;
        ab_err_t rc;

        memset(&cc, 0, sizeof(cc));
        cc.brokers     = cfg->kafka.brokers;
        cc.group       = cfg->kafka.group;
        cc.properties  = props;
        cc.on_assigned = on_assigned;
        cc.on_revoked  = on_revoked;
        cc.cooperative = true;
        cc.instance_id = cfg->kafka.instance_id;
        cc.arg         = sf;
        rc             = ab_consumer_new(&cc, &sf->consumer, err);
        if (rc)
                return rc;
        memset(&rc_, 0, sizeof(rc_));
        rc_.brokers        = cfg->kafka.brokers;
        rc_.properties     = props;
        rc_.read_committed = sf->eos;
        return ab_restore_new(&rc_, &sf->restore, err);
}

ab_err_t ab_stateful_new(const struct ab_pipeline_config *cfg,
                         const struct ab_pipeline_metrics *pm,
                         struct ab_stateful **out, struct ab_error *err)
{
        static const char *const eos_consumer[] = {"enable.auto.commit",
                                                   "false", "isolation.level",
                                                   "read_committed", NULL};
        static const char *const alo_consumer[] = {"enable.auto.commit",
                                                   "false", NULL};
        struct ab_processor_opts po;
        struct ab_lifecycle_config lconf;
        const char **cprops = NULL, **pprops = NULL;
        char queue_kb[24];
        const char *const queue[] = {"queue.buffering.max.kbytes", queue_kb,
                                     NULL};
        bool threaded             = cfg->transform.threads > 0;
        struct ab_stateful *sf;
        ab_err_t rc = AB_ERR_NOMEM;

        *out = NULL;
        sf   = ab_calloc(1, sizeof(*sf));
        if (!sf)
                return AB_ERR_NOMEM;
        sf->cfg  = cfg;
        sf->pm   = pm;
        sf->eos  = cfg->processing.guarantee == AB_PIPELINE_EXACTLY_ONCE;
        sf->mode = cfg->output.binding == AB_PIPELINE_BINDING_BINARY
                       ? AB_CE_BINARY
                       : AB_CE_STRUCTURED;
        ab_error_clear(&sf->fatal);
        ab_buf_init(&sf->buf, 0);
        snprintf(sf->alerts, sizeof(sf->alerts), "%s.alerts", cfg->kafka.group);
        snprintf(sf->changelog, sizeof(sf->changelog), "%s.lifecycle-changelog",
                 cfg->kafka.group);
        snprintf(queue_kb, sizeof(queue_kb), "%lld",
                 (long long)(cfg->loop.max_pending_bytes / 1024));
        sf->headers = ab_headers_new();
        sf->ce      = ab_ce_kafka_new();
        cprops      = ab_kafka_client_props(&cfg->kafka, AB_KAFKA_CONSUMER,
                                       sf->eos ? eos_consumer : alo_consumer,
                                            NULL, NULL);
        pprops = ab_kafka_client_props(&cfg->kafka, AB_KAFKA_PRODUCER, queue,
                                       NULL, NULL);
        if (!sf->headers || !sf->ce || !cprops || !pprops)
                goto fail;
        rc = ab_kafka_admin_new(cfg->kafka.brokers, pprops, &sf->admin, err);
        if (!rc)
                rc = ensure_topics(sf, err);
        if (rc)
                goto fail;
        memset(&po, 0, sizeof(po));
        po.mode         = AB_PROCESSOR_MAP;
        po.on_alert     = map_alert;
        po.on_action    = map_action;
        po.on_alert_arg = sf;
        rc              = ab_processor_new_opts(cfg, pm, &po, &sf->proc, err);
        if (rc)
                goto fail;
        memset(&lconf, 0, sizeof(lconf));
        lconf.max_open              = (size_t)cfg->lifecycle.max_open_alerts;
        lconf.close_orphan_recovery = cfg->lifecycle.close_orphan_recovery;
        sf->stores = ab_stores_new(&lconf, ab_processor_resolve, sf->proc);
        rc         = AB_ERR_NOMEM;
        if (!sf->stores)
                goto fail;
        sf->burst = threaded ? BURST_THREADED : BURST_INLINE;
        rc        = ab_transform_pool_new((unsigned)cfg->transform.threads,
                                   threaded ? SLOTS_THREADED : SLOTS_INLINE,
                                          &sf->pool, err);
        if (!rc)
                rc = make_producer(sf, pprops, err);
        if (!rc)
                rc = make_consumer(sf, cprops, err);
        if (!rc)
                rc = subscribe(sf, err);
        if (rc)
                goto fail;
        sf->next_expire_ms =
            ab_time_mono_ms() + cfg->lifecycle.expire_interval_ms;
        sf->next_purge_ms = ab_time_mono_ms() + PURGE_INTERVAL_MS;
        ab_free(cprops);
        ab_free(pprops);
        AB_INFO("pipeline", "started",
                "brokers=%s group=%s inputs=%zu store=changelog "
                "guarantee=%s partitions=%d binding=%s transform_threads=%lld",
                cfg->kafka.brokers, cfg->kafka.group, cfg->ninputs,
                sf->eos ? "exactly_once" : "at_least_once", (int)sf->nparts,
                ab_ce_mode_name(sf->mode), (long long)cfg->transform.threads);
        *out = sf;
        return AB_OK;
fail:
        ab_free(cprops);
        ab_free(pprops);
        sf->shut = true;
        ab_stateful_destroy(sf);
        return rc;
}

void ab_stateful_set_stop(struct ab_stateful *sf, volatile sig_atomic_t *stop)
{
        sf->stop = stop;
}

/* ---------------------------------------------------------------- loop */

/* Take up to sf->burst records: the lifecycle stage's at once, the map
 * stage's into the pool. */
static ab_err_t consume_burst(struct ab_stateful *sf, int timeout_ms,
                              struct ab_error *err)
{
        int64_t now_ns = ab_time_mono_ns();
        struct ab_transform_pool_slot *s;
        struct ab_record *rec;
        ab_err_t rc;
        int wait;

        for (int n = 0; n < sf->burst && !ab_transform_pool_full(sf->pool) &&
                        !sf->abort && sf->fatal.code == AB_OK;
             n++) {
                wait = n == 0 && !ab_transform_pool_pending(sf->pool)
                           ? timeout_ms
                           : 0;
                rec  = NULL;
                rc   = ab_consumer_poll(sf->consumer, wait, &rec, err);
                if (rc)
                        return rc;
                if (!rec)
                        break;
                sf->stats.records++;
                if (!strcmp(ab_record_topic(rec), sf->alerts)) {
                        rc = lifecycle_record(sf, rec);
                        ab_record_destroy(rec);
                        if (rc)
                                return rc;
                        continue;
                }
                s = ab_transform_pool_reserve(sf->pool);
                fill_input(&s->in, rec, sf->cfg->integration_header);
                s->record   = rec;
                s->entry    = NULL;
                s->stamp_ns = now_ns;
                ab_processor_bind(sf->proc, s->job, &s->in);
                ab_transform_pool_submit(sf->pool);
        }
        ab_transform_pool_kick(sf->pool);
        return AB_OK;
}

static void note_lag(void *arg, const char *topic, int32_t partition,
                     int64_t lag)
{
        int *behind = arg;

        (void)topic;
        (void)partition;
        if (lag > 0)
                *behind = 1;
}

/* Wall-clock auto-clear over the restored stores, once the backlog is
 * consumed (old records must merge before today's clock closes). */
static ab_err_t expire(struct ab_stateful *sf)
{
        struct ab_lifecycle *lc;
        int behind = 0;
        int32_t p;
        ab_err_t rc;

        ab_consumer_lag(sf->consumer, note_lag, &behind);
        if (behind)
                return AB_OK;
        rc = finish_ready(sf, -1);
        for (size_t i = 0; !rc && i < ab_stores_count(sf->stores); i++) {
                lc = ab_stores_at(sf->stores, i, &p);
                if (lc)
                        rc = ab_processor_expire_store(
                            sf->proc, lc, ab_time_now_ms(), on_output, sf);
        }
        return rc;
}

/* Delete the consumed and committed records of <group>.alerts. */
static void purge(struct ab_stateful *sf)
{
        struct ab_error err;

        for (size_t i = 0; i < sf->npos; i++) {
                struct position *p = &sf->pos[i];

                if (strcmp(p->topic, sf->alerts) || p->committed <= p->purged)
                        continue;
                ab_error_clear(&err);
                if (ab_kafka_admin_delete_records(sf->admin, sf->alerts,
                                                  p->partition, p->committed,
                                                  5000, &err) == AB_OK)
                        p->purged = p->committed;
                else
                        AB_DEBUG("pipeline", "purge failed", "error=\"%s\"",
                                 err.text);
        }
}

static void tick(struct ab_stateful *sf)
{
        int32_t p;
        bool ready = ab_consumer_joined(sf->consumer) &&
                     !ab_stores_unrestored(sf->stores, &p) &&
                     sf->fatal.code == AB_OK;

        __atomic_store_n(&sf->ready, ready, __ATOMIC_RELAXED);
        ab_metrics_set(sf->pm->open_alerts,
                       (int64_t)ab_stores_open_count(sf->stores));
}

ab_err_t ab_stateful_step(struct ab_stateful *sf, int timeout_ms,
                          struct ab_error *err)
{
        uint64_t before;
        int64_t now;
        ab_err_t rc;

        if (sf->fatal.code == AB_OK && ab_producer_fatal(sf->producer, err))
                set_fatal(sf, AB_ERR_KAFKA, err, "producer");
        if (sf->fatal.code != AB_OK)
                goto fatal;
        if (sf->abort && rebuild(sf, err))
                goto fatal_err;
        if (restore_pending(sf, err))
                goto fatal_err;
        ab_producer_poll(sf->producer, 0);
        before = sf->stats.records;
        rc     = consume_burst(sf, timeout_ms, err);
        if (rc == AB_ERR_RETRY)
                return rc;
        if (rc)
                goto fatal_err;
        rc = finish_ready(sf, sf->stats.records == before ||
                                      ab_transform_pool_full(sf->pool)
                                  ? timeout_ms
                                  : 0);
        if (rc == AB_ERR_RETRY)
                return rc;
        if (rc)
                goto fatal_err;
        now = ab_time_mono_ms();
        if (now >= sf->next_commit_ms) {
                sf->next_commit_ms =
                    now + sf->cfg->processing.commit_interval_ms;
                rc = commit_cycle(sf, false, err);
                if (rc == AB_ERR_RETRY)
                        return rc;
                if (rc)
                        goto fatal_err;
        }
        if (now >= sf->next_expire_ms) {
                sf->next_expire_ms =
                    now + sf->cfg->lifecycle.expire_interval_ms;
                rc = expire(sf);
                if (rc == AB_ERR_RETRY)
                        return rc;
                if (rc)
                        goto fatal_err;
        }
        if (now >= sf->next_purge_ms) {
                sf->next_purge_ms = now + PURGE_INTERVAL_MS;
                purge(sf);
        }
        if (now >= sf->next_tick_ms) {
                sf->next_tick_ms = now + 200;
                tick(sf);
                ab_metrics_set(sf->pm->consumer_lag,
                               ab_consumer_lag(sf->consumer, NULL, NULL));
        }
        return AB_OK;
fatal_err:
        if (sf->fatal.code == AB_OK)
                set_fatal(sf, err->code ? err->code : AB_ERR_INTERNAL, err,
                          "pipeline");
fatal:
        __atomic_store_n(&sf->ready, 0, __ATOMIC_RELAXED);
        if (err)
                *err = sf->fatal;
        return sf->fatal.code;
}

/* A cooperative consumer closed before its first assignment crashes
 * librdkafka 2.0.2: wait (bounded) for it, dropping what it returns. */
static void wait_joined(struct ab_stateful *sf)
{
        int64_t until = ab_time_mono_ms() + JOIN_WAIT_MS;
        struct ab_record *rec;
        struct ab_error err;

        while (!ab_consumer_joined(sf->consumer) && ab_time_mono_ms() < until) {
                rec = NULL;
                if (ab_consumer_poll(sf->consumer, 100, &rec, &err))
                        break;
                ab_record_destroy(rec);
        }
}

ab_err_t ab_stateful_shutdown(struct ab_stateful *sf, struct ab_error *err)
{
        struct ab_error e2;
        ab_err_t rc = AB_OK, rc2;

        if (sf->shut)
                return AB_OK;
        sf->shut = true;
        ab_error_clear(&e2);
        if (sf->pool && sf->consumer && sf->fatal.code == AB_OK && !sf->abort)
                rc = commit_cycle(sf, true, err ? err : &e2);
        if (sf->pool)
                discard(sf);
        if (sf->consumer) {
                wait_joined(sf);
                rc2 = ab_consumer_close(sf->consumer, &e2);
                if (!rc)
                        rc = rc2;
        }
        if (sf->producer && sf->txn_open)
                ab_producer_txn_abort(sf->producer, &e2);
        if (sf->producer)
                ab_producer_flush(sf->producer,
                                  (int)sf->cfg->loop.flush_timeout_ms, &e2);
        AB_INFO("pipeline", "stopped",
                "records=%llu events=%llu dead_letters=%llu",
                (unsigned long long)sf->stats.records,
                (unsigned long long)sf->stats.events,
                (unsigned long long)sf->stats.dead_letters);
        if (rc == AB_ERR_RETRY)
                rc = AB_OK;
        return rc;
}

bool ab_stateful_ready(const struct ab_stateful *sf)
{
        return __atomic_load_n(&sf->ready, __ATOMIC_RELAXED);
}

void ab_stateful_get_stats(const struct ab_stateful *sf,
                           struct ab_pipeline_stats *out)
{
        *out           = sf->stats;
        out->pending   = ab_transform_pool_pending(sf->pool);
        out->completed = sf->stats.records - out->pending;
        out->paused    = 0;
}

void ab_stateful_destroy(struct ab_stateful *sf)
{
        if (!sf)
                return;
        ab_stateful_shutdown(sf, NULL);
        ab_transform_pool_destroy(sf->pool);
        ab_consumer_destroy(sf->consumer);
        ab_producer_destroy(sf->producer);
        ab_restore_destroy(sf->restore);
        ab_kafka_admin_destroy(sf->admin);
        ab_stores_destroy(sf->stores);
        ab_processor_destroy(sf->proc);
        pos_clear(sf);
        ab_free(sf->pos);
        ab_free(sf->kv);
        ab_alert_record_scratch_fini(&sf->scratch);
        ab_buf_fini(&sf->buf);
        ab_ce_kafka_destroy(sf->ce);
        ab_headers_destroy(sf->headers);
        ab_free(sf);
}
