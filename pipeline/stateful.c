/* stateful.c - the two-stage run loop: raw records mapped onto
 * <group>.alerts, its partitions applied to their own changelog-backed
 * stores, both committed together (docs/stateful-pipeline.md). */
#include "pipeline/stateful.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kafka/kafka_config.h"
#include "pipeline/outputs.h"
#include "pipeline/stateful_int.h"

/* Setup, the rebalance callbacks and the loop; the stages are in
 * stages.c, the commit cycle and restore in commit.c. */

/* The longest a poll waits while closed commit cycles await delivery
 * reports (the memory loop's AB_PIPELINE_ACK_WAIT_MS). */
#define CKPT_WAIT_MS 10
/* The longest a poll waits while an exactly_once commit is in flight:
 * its sends are held until it is seen done (txn.c). */
#define COMMIT_WAIT_MS    2
#define BURST_THREADED    64
#define SLOTS_THREADED    256
#define BURST_INLINE      16
#define SLOTS_INLINE      16
#define PURGE_INTERVAL_MS 30000
#define JOIN_WAIT_MS      10000
#define DRAIN_MS          10000
/* How often a stop redoes the records of an aborted transaction. */
#define STOP_REDO 3

/* ---------------------------------------------------------------- rebalance
 */

static void on_assigned(void *arg, const struct ab_consumer_partition *parts,
                        size_t n)
{
        struct ab_stateful *sf = arg;
        struct ab_error err;

        for (size_t i = 0; i < n; i++) {
                if (!ab_stateful_pos_find(sf, parts[i].topic,
                                          parts[i].partition, true))
                        ab_stateful_fail(sf, AB_ERR_NOMEM, NULL, "assignment");
                if (strcmp(parts[i].topic, sf->alerts))
                        continue;
                if (ab_stores_add(sf->stores, parts[i].partition))
                        ab_stateful_fail(sf, AB_ERR_NOMEM, NULL,
                                         "creating a store");
        }
        __atomic_store_n(&sf->ready, 0, __ATOMIC_RELAXED);
        /* Restored here, before any record of theirs is returned: no
         * pause needed (librdkafka 2.0.2 can skip the records it had
         * fetched when a partition is paused before its first record
         * and resumed). A restore that cannot finish now pauses its
         * partition and is retried by the loop. */
        ab_error_clear(&err);
        if (sf->fatal.code == AB_OK && !sf->abort)
                ab_stateful_restore_pending(sf, &err);
}

static void on_revoked(void *arg, const struct ab_consumer_partition *parts,
                       size_t n, bool lost)
{
        struct ab_stateful *sf = arg;
        struct ab_error err;

        ab_error_clear(&err);
        if (!lost) {
                ab_stateful_commit(sf, true, &err);
        } else if (sf->eos) {
                /* A commit in flight cannot be aborted: it ends first (its
                 * offsets were accepted with our generation), and the
                 * abort then drops what was held for the next one. */
                sf->abort = true;
                ab_stateful_txn_finish(sf, true, &err);
        }
        for (size_t i = 0; i < n; i++) {
                ab_stateful_ckpt_forget(sf, parts[i].topic, parts[i].partition);
                ab_stateful_pos_drop(sf, parts[i].topic, parts[i].partition);
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

/* Wait until the cluster metadata lists both internal topics with all
 * their partitions: a consumer that subscribes to a topic its first
 * metadata does not show yet leaves it out until the next refresh
 * (minutes), and the lifecycle stage would get no partition. */
static ab_err_t wait_visible(struct ab_stateful *sf, struct ab_error *err)
{
        const char *topics[2] = {sf->alerts, sf->changelog};
        int64_t until         = ab_time_mono_ms() + ADMIN_TIMEOUT_MS;
        struct timespec pause = {0, 100 * 1000 * 1000};
        int counts[2];
        ab_err_t rc;

        for (;;) {
                rc = ab_kafka_admin_partitions(sf->admin, topics, 2, counts,
                                               ADMIN_TIMEOUT_MS, err);
                if (!rc && counts[0] == sf->nparts && counts[1] == sf->nparts)
                        return AB_OK;
                if (ab_time_mono_ms() >= until)
                        return rc ? rc
                                  : ab_error_set(err, AB_ERR_KAFKA, NULL,
                                                 "the internal topics are "
                                                 "not visible yet");
                nanosleep(&pause, NULL);
        }
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
        if (rc)
                return rc;
        return wait_visible(sf, err);
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
        const char *const internal[]         = {
                    "compression.type",
                    ab_pipeline_compression_name(cfg->state.compression), NULL};
        struct ab_producer_conf pc;
        char tid[512];
        ab_err_t rc;

        memset(&pc, 0, sizeof(pc));
        pc.brokers     = cfg->kafka.brokers;
        pc.properties  = props;
        pc.on_delivery = ab_stateful_on_delivery;
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
        if (!rc)
                sf->max_message = ab_producer_max_message_bytes(sf->producer);
        if (!rc)
                rc = ab_producer_topic_props(sf->producer, sf->alerts, internal,
                                             err);
        if (!rc)
                rc = ab_producer_topic_props(sf->producer, sf->changelog,
                                             internal, err);
        if (!rc)
                rc = ab_outputs_prepare(
                    sf->producer, cfg,
                    (const char *const[]){sf->alerts, sf->changelog}, 2, err);
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
        /* An ALERT record must not wait behind the input records fetched
         * before it: an event's latency would count the queue twice. */
        if (!rc)
                rc = ab_consumer_prefer_topic(sf->consumer, sf->alerts, err);
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
        sf->cfg = cfg;
        sf->pm  = pm;
        for (int k = 0; k < AB_TOPIC__COUNT; k++)
                ab_metrics_tally_init(&sf->delay[k], pm->consume_delay[k]);
        sf->eos  = cfg->processing.guarantee == AB_PIPELINE_EXACTLY_ONCE;
        sf->mode = cfg->output.binding == AB_PIPELINE_BINDING_BINARY
                       ? AB_CE_BINARY
                       : AB_CE_STRUCTURED;
        ab_error_clear(&sf->fatal);
        ab_buf_init(&sf->buf, 0);
        if (ab_deferred_init(&sf->deferred,
                             (size_t)cfg->loop.max_pending_bytes / 2,
                             AB_DEFER_MAX_SENDS))
                goto fail;
        for (size_t i = 0; i < AB_CKPT_MAX; i++)
                ab_buf_init(&sf->ckpt[i].changes, 0);
        snprintf(sf->alerts, sizeof(sf->alerts), "%s.alerts", cfg->kafka.group);
        snprintf(sf->changelog, sizeof(sf->changelog), "%s.lifecycle-changelog",
                 cfg->kafka.group);
        snprintf(queue_kb, sizeof(queue_kb), "%lld",
                 (long long)(cfg->loop.max_pending_bytes / 1024));
        sf->headers = ab_headers_new();
        sf->ce      = ab_ce_kafka_new();
        if (ab_pipeline_metrics_batch_init(
                &sf->latency, ((size_t)cfg->loop.max_pending_records + 64) *
                                  (AB_CKPT_MAX + 1)))
                goto fail;
        cprops = ab_kafka_client_props(&cfg->kafka, AB_KAFKA_CONSUMER,
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
        po.on_alert     = ab_stateful_map_alert;
        po.on_action    = ab_stateful_map_action;
        po.on_alert_arg = sf;
        rc              = ab_processor_new_opts(cfg, pm, &po, &sf->proc, err);
        if (rc)
                goto fail;
        memset(&lconf, 0, sizeof(lconf));
        lconf.max_open              = (size_t)cfg->lifecycle.max_open_alerts;
        lconf.close_orphan_recovery = cfg->lifecycle.close_orphan_recovery;
        lconf.entry_version         = (unsigned)cfg->state.changelog_version;
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
        if (!rc && ab_stateful_batches_init(sf))
                rc = ab_error_set(err, AB_ERR_NOMEM, NULL,
                                  "allocating the batches");
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
        uint64_t high = (uint64_t)sf->cfg->loop.max_pending_records;
        struct ab_transform_pool_slot *s;
        struct ab_record *rec;
        int64_t now_ms = 0; /* of the burst's first record */
        ab_err_t rc;
        int wait;

        for (int n = 0;
             n < sf->burst && !ab_transform_pool_full(sf->pool) && !sf->abort &&
             sf->fatal.code == AB_OK && sf->uncommitted < high;
             n++) {
                wait = n == 0 && !ab_transform_pool_pending(sf->pool)
                           ? timeout_ms
                           : 0;
                rec  = NULL;
                rc   = ab_consumer_poll(sf->consumer, wait, &rec, err);
                if (rc)
                        return rc;
                sf->drained = !rec;
                if (!rec)
                        break;
                sf->stats.records++;
                sf->uncommitted++;
                if (n == 0)
                        now_ms = ab_time_now_ms();
                if (!strcmp(ab_record_topic(rec), sf->alerts)) {
                        ab_pipeline_metrics_consumed(
                            &sf->delay[AB_TOPIC_ALERTS],
                            ab_record_timestamp(rec), now_ms);
                        rc = ab_stateful_lifecycle_record(sf, rec);
                        ab_record_destroy(rec);
                        if (rc)
                                return rc;
                        continue;
                }
                ab_pipeline_metrics_consumed(&sf->delay[AB_TOPIC_INPUT],
                                             ab_record_timestamp(rec), now_ms);
                /* An input record: acknowledged by the commit that
                 * covers its ALERT records and dead letters. */
                ab_pipeline_metrics_batch_add(&sf->latency,
                                              ab_record_timestamp(rec));
                s = ab_transform_pool_reserve(sf->pool);
                ab_input_from_record(&s->in, rec, sf->cfg->integration_header);
                s->record = rec;
                s->entry  = NULL;
                ab_processor_bind(sf->proc, s->job, &s->in);
                ab_transform_pool_submit(sf->pool);
        }
        for (int k = 0; k < AB_TOPIC__COUNT; k++)
                ab_metrics_tally_flush(&sf->delay[k]);
        ab_processor_flush_counts(sf->proc);
        ab_transform_pool_kick(sf->pool);
        return AB_OK;
}

/* Pause at kafka.max_pending_records records since the last commit
 * cycle (which then runs at once), resume below half of it. */
static ab_err_t backpressure(struct ab_stateful *sf, struct ab_error *err)
{
        uint64_t high = (uint64_t)sf->cfg->loop.max_pending_records;
        bool paused   = ab_consumer_paused(sf->consumer);
        ab_err_t rc   = AB_OK;

        if (!paused && sf->uncommitted >= high) {
                rc = ab_consumer_pause(sf->consumer, err);
                AB_INFO("pipeline",
                        "paused consumption: too many records in flight",
                        "pending=%llu", (unsigned long long)sf->uncommitted);
        } else if (paused && sf->uncommitted <= high / 2) {
                rc = ab_consumer_resume(sf->consumer, err);
                AB_INFO("pipeline", "resumed consumption", "pending=%llu",
                        (unsigned long long)sf->uncommitted);
        }
        ab_metrics_set(sf->pm->consumer_paused,
                       ab_consumer_paused(sf->consumer) ? 1 : 0);
        return rc;
}

/* Wall-clock auto-clear over the restored stores, once the backlog is
 * consumed (old records must merge before today's clock closes). */
static ab_err_t expire(struct ab_stateful *sf)
{
        struct ab_lifecycle *lc;
        int32_t p;
        ab_err_t rc;

        if (!ab_consumer_caught_up(sf->consumer))
                return AB_OK;
        rc = ab_stateful_finish_ready(sf, -1);
        for (size_t i = 0; !rc && i < ab_stores_count(sf->stores); i++) {
                lc = ab_stores_at(sf->stores, i, &p);
                if (lc)
                        rc = ab_processor_expire_store(
                            sf->proc, lc, ab_time_now_ms(),
                            ab_stateful_on_output, sf);
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
                ab_stateful_fail(sf, AB_ERR_KAFKA, err, "producer");
        if (sf->fatal.code != AB_OK)
                goto fatal;
        if (sf->abort && ab_stateful_rebuild(sf, err))
                goto fatal_err;
        if (ab_stateful_restore_pending(sf, err))
                goto fatal_err;
        ab_producer_poll(sf->producer, 0);
        if (sf->uncommitted || sf->nckpt || sf->committing) {
                /* Consumed records wait for the commit cycle, closed
                 * cycles for delivery reports (served between polls): an
                 * idle poll must hold back neither. */
                int64_t left = sf->next_commit_ms - ab_time_mono_ms();
                if (sf->nckpt && left > CKPT_WAIT_MS)
                        left = CKPT_WAIT_MS;
                if (sf->committing)
                        left = COMMIT_WAIT_MS;
                if (left < timeout_ms)
                        timeout_ms = left > 0 ? (int)left : 0;
        }
        before = sf->stats.records;
        rc     = consume_burst(sf, timeout_ms, err);
        if (rc == AB_ERR_RETRY)
                return rc;
        if (rc)
                goto fatal_err;
        rc = ab_stateful_finish_ready(
            sf, sf->stats.records == before || ab_transform_pool_full(sf->pool)
                    ? timeout_ms
                    : 0);
        if (!rc && ab_stateful_flush_due(sf, ab_time_mono_ms()))
                rc = ab_stateful_flush(sf, err);
        if (!rc && !sf->eos)
                rc = ab_stateful_ckpt_advance(sf, false, err);
        if (!rc && sf->committing)
                rc = ab_stateful_txn_finish(sf, false, err);
        if (rc == AB_ERR_RETRY)
                return rc;
        if (rc)
                goto fatal_err;
        ab_metrics_set(sf->pm->open_alerts,
                       (int64_t)ab_stores_open_count(sf->stores));
        now = ab_time_mono_ms();
        if (backpressure(sf, err))
                goto fatal_err;
        /* exactly_once: a cycle that comes due while the previous
         * commit is still under way (deliveries slow) waits for it
         * without stopping the loop, its records held meanwhile. */
        if ((now >= sf->next_commit_ms && !sf->committing) ||
            ab_consumer_paused(sf->consumer)) {
                sf->next_commit_ms =
                    now + sf->cfg->processing.commit_interval_ms;
                rc = ab_stateful_commit(sf, ab_consumer_paused(sf->consumer),
                                        err);
                if (rc == AB_ERR_RETRY)
                        return rc;
                if (rc || backpressure(sf, err))
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
                ab_stateful_fail(sf, err->code ? err->code : AB_ERR_INTERNAL,
                                 err, "pipeline");
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

/* How far partition \p p of <group>.alerts has been applied: the
 * consumer's position, else what was committed (by us or before us). */
static int64_t applied(struct ab_stateful *sf, const struct position *p)
{
        struct ab_error err;
        int64_t at = -1;

        ab_consumer_position(sf->consumer, p->topic, p->partition, &at, &err);
        if (at < 0)
                at = p->committed;
        if (at < 0 &&
            ab_consumer_committed_offset(sf->consumer, p->topic, p->partition,
                                         5000, &at, &err))
                at = -1;
        return at;
}

/*
 * A clean stop first applies the records of the <group>.alerts
 * partitions this member owns, up to their end as of the stop (its own
 * map stage's among them), so every committed raw record has its events
 * out and a successor inherits no half-done records. Raw and action
 * partitions are paused meanwhile. Bounded by DRAIN_MS.
 */
static void drain_own(struct ab_stateful *sf, struct ab_error *err)
{
        int64_t until = ab_time_mono_ms() + DRAIN_MS;
        int end_ms    = ab_stop_left_ms(sf->stop_by, 5000);
        uint64_t high = (uint64_t)sf->cfg->loop.max_pending_records;
        int64_t *ends = ab_calloc(sf->npos + 1, sizeof(*ends));
        bool done     = false;

        if (!ends)
                return;
        if (sf->stop_by && sf->stop_by < until)
                until = sf->stop_by;
        for (size_t i = 0; i < sf->npos; i++)
                if (strcmp(sf->pos[i].topic, sf->alerts))
                        ab_consumer_pause_partition(sf->consumer,
                                                    sf->pos[i].topic,
                                                    sf->pos[i].partition, err);
        /* Outputs still unacknowledged after the commit's flush (records
         * not committed, or checkpoints still waiting): the brokers are
         * out of reach, and librdkafka's end-offset query would not
         * honour its timeout, so there is nothing to drain. */
        if (ab_stateful_commit(sf, true, err) || sf->abort || sf->uncommitted ||
            sf->nckpt)
                goto out;
        for (size_t i = 0; i < sf->npos; i++)
                if (strcmp(sf->pos[i].topic, sf->alerts) ||
                    ab_consumer_end_offset(
                        sf->consumer, sf->pos[i].topic, sf->pos[i].partition,
                        end_ms < 5000 ? end_ms : 5000, &ends[i], err))
                        ends[i] = -1;
        while (!done && ab_time_mono_ms() < until && sf->fatal.code == AB_OK &&
               !sf->abort) {
                done = true;
                for (size_t i = 0; done && i < sf->npos; i++)
                        done =
                            ends[i] < 0 || applied(sf, &sf->pos[i]) >= ends[i];
                if (!done && ab_stateful_restore_pending(sf, err))
                        break;
                if (!done && sf->uncommitted >= high &&
                    ab_stateful_commit(sf, true, err))
                        break;
                if (!done && consume_burst(sf, 100, err))
                        break;
        }
out:
        ab_free(ends);
}

/*
 * The drain and the last commit of a clean stop. exactly_once: a
 * transaction aborted on the way (typically ILLEGAL_GENERATION: the group
 * moved to a new generation under the commit, which a stop during a
 * rolling restart meets) is redone like the loop would: the stores are
 * rebuilt, the consumer rewound (the drain's polls serve the rebalance,
 * so the next commit carries the new generation), the own <group>.alerts
 * partitions drained and committed again; up to STOP_REDO times while
 * the stop has time left. The raw records the abort dropped are not
 * consumed again here: they are left at their committed offsets, to the
 * next owner, as if never consumed.
 */
static ab_err_t drain_and_commit(struct ab_stateful *sf, struct ab_error *err)
{
        struct ab_error e2;
        ab_err_t rc = AB_OK;

        for (int redone = 0; sf->fatal.code == AB_OK;) {
                if (sf->abort) {
                        if (redone == STOP_REDO ||
                            ab_stop_left_ms(sf->stop_by, 0) <= 0)
                                break;
                        redone++;
                        AB_INFO("pipeline",
                                "stopping: rebuilding after the aborted "
                                "transaction, then draining again",
                                "redo=%d", redone);
                        ab_error_clear(&e2);
                        if (ab_stateful_rebuild(sf, &e2)) {
                                ab_stateful_fail(sf, e2.code, &e2,
                                                 "rebuilding at the stop");
                                break;
                        }
                }
                ab_error_clear(&e2);
                drain_own(sf, &e2);
                if (!sf->abort)
                        rc = ab_stateful_commit(sf, true, err);
                if (!sf->abort)
                        break;
        }
        return rc;
}

ab_err_t ab_stateful_shutdown(struct ab_stateful *sf, struct ab_error *err)
{
        int64_t flush_ms = sf->cfg->loop.flush_timeout_ms;
        struct ab_error e2;
        ab_err_t rc = AB_OK, rc2 = AB_OK;
        size_t records = 0, messages = 0;
        int close_ms;

        if (sf->shut)
                return AB_OK;
        sf->shut    = true;
        sf->stop_by = ab_time_mono_ms() + flush_ms;
        ab_error_clear(&e2);
        if (sf->pool && sf->consumer && sf->fatal.code == AB_OK)
                rc = drain_and_commit(sf, err ? err : &e2);
        if (sf->pool) {
                records = ab_transform_pool_pending(sf->pool);
                ab_stateful_discard(sf);
        }
        records += (size_t)(sf->uncommitted + ab_stateful_ckpt_records(sf));
        if (sf->consumer) {
                wait_joined(sf);
                close_ms = ab_stop_left_ms(sf->stop_by, flush_ms);
                rc2      = ab_consumer_close_within(sf->consumer,
                                               close_ms > AB_STOP_CLOSE_MIN_MS
                                                        ? close_ms
                                                        : AB_STOP_CLOSE_MIN_MS,
                                                    &e2);
        }
        /* Out of time, an open transaction is left to time out on the
         * broker (transaction.timeout.ms), as after a crash. */
        if (sf->producer && sf->txn_open &&
            ab_stop_left_ms(sf->stop_by, flush_ms) > 0)
                ab_producer_txn_abort(sf->producer, &e2);
        if (sf->producer) {
                ab_producer_flush(sf->producer,
                                  ab_stop_left_ms(sf->stop_by, flush_ms), &e2);
                messages = ab_producer_inflight(sf->producer);
        }
        AB_INFO("pipeline", "stopped",
                "records=%llu events=%llu dead_letters=%llu",
                (unsigned long long)sf->stats.records,
                (unsigned long long)sf->stats.events,
                (unsigned long long)sf->stats.dead_letters);
        if (rc == AB_ERR_RETRY)
                rc = AB_OK;
        if (!rc && sf->fatal.code == AB_OK)
                rc = ab_stop_report(messages, records,
                                    rc2 != AB_OK || sf->abort, err);
        return rc;
}

int ab_stop_left_ms(int64_t stop_by, int64_t otherwise)
{
        int64_t left = stop_by ? stop_by - ab_time_mono_ms() : otherwise;

        return left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

ab_err_t ab_stop_report(size_t messages, size_t records, bool uncommitted,
                        struct ab_error *err)
{
        if (!messages && !records && !uncommitted)
                return AB_OK;
        AB_WARN("pipeline",
                "stopped with work in flight: those records are not "
                "committed and will be consumed again after a restart",
                "messages_in_flight=%zu records_unfinished=%zu "
                "final_commit=%s",
                messages, records, uncommitted ? "failed" : "ok");
        return ab_error_set(err, AB_ERR_IN_FLIGHT, NULL,
                            "stopped with %zu messages in flight and %zu "
                            "records unfinished",
                            messages, records);
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
        ab_stateful_pos_clear(sf);
        ab_stateful_ckpt_fini(sf);
        ab_free(sf->pos);
        ab_free(sf->kv);
        ab_alert_record_scratch_fini(&sf->scratch);
        ab_buf_fini(&sf->buf);
        ab_stateful_batches_fini(sf);
        ab_deferred_fini(&sf->deferred);
        ab_free(sf->txn_offs);
        ab_ce_kafka_destroy(sf->ce);
        ab_headers_destroy(sf->headers);
        ab_pipeline_metrics_batch_fini(&sf->latency);
        ab_free(sf);
}
