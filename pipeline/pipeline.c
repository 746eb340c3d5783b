/* pipeline.c - the run loop: consumer -> processor -> producer, with
 * at-least-once offsets (state.store: memory), or the two-stage loop of
 * stateful.c (state.store: changelog). */
#include "pipeline/pipeline.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "consumer/consumer.h"
#include "consumer/offsets.h"
#include "consumer/record.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "kafka/kafka_config.h"
#include "pipeline/outputs.h"
#include "pipeline/pipeline_metrics.h"
#include "pipeline/processor.h"
#include "pipeline/reload.h"
#include "pipeline/stateful.h"
#include "pipeline/transform_pool.h"
#include "producer/cloudevents_kafka.h"
#include "producer/dead_letter.h"
#include "producer/headers.h"
#include "producer/producer.h"
#include "service/http.h"

/*
 * HOW IT WORKS (offsets and backpressure)
 * Every consumed record is registered with the offset tracker and gets an
 * entry holding one reference. Each output the processor emits (an event
 * or the record's dead-letter copy) takes one more reference and is sent
 * with the entry as the producer's opaque; its delivery report drops that
 * reference. When the processor is done with the record, the loop drops
 * its own reference. The tracker advances a partition's committable
 * offset only over a contiguous prefix of completed records, and the
 * consumer stores that offset before every poll; librdkafka's auto commit
 * and the commit on revocation and close persist it. A crash therefore
 * replays at most the records after the last commit, and none is lost.
 *
 * A failed delivery (only possible when the idempotent producer gives up:
 * a fatal error or a purge at shutdown) keeps its reference, so the offset
 * never moves past that record; the loop then stops with an error and a
 * restart consumes the record again. The same holds for an output that
 * could not even be queued, and for a record whose processing failed: the
 * loop keeps their references instead of dropping them.
 *
 * Errors follow the classes of core/err.h and the processor's rule
 * (processor.h): bad data arrives here as a dead letter, never as an
 * error, and any error the processor returns leaves its record
 * incomplete. AB_ERR_RETRY (a stop request while the producer queue is
 * full) ends the run cleanly, the record to be consumed again after a
 * restart; any other error, a RETRY-class one the producer could not get
 * past (AB_ERR_KAFKA) or a FATAL one, becomes the pipeline's fatal error
 * and stops it without committing past the record.
 *
 * Records are mapped ahead on the transform threads (transform_pool.h)
 * and finished here in the order they were consumed: a burst of polled
 * records is registered, bound and submitted, then every record whose
 * mapping is done is run through the lifecycle and its outputs produced.
 * Whatever must see every earlier record applied first (a rebalance,
 * wall-clock expiry, shutdown) drains the pool before it acts.
 *
 * When more than kafka.max_pending_records records are unfinished (the
 * brokers are slow or away), the consumer is paused and resumed below half
 * that, so memory stays bounded instead of growing with the backlog. A
 * full producer queue is waited out in place, serving delivery reports.
 */

struct ab_pipeline {
        const struct ab_pipeline_config *cfg;
        struct ab_metrics *metrics;
        struct ab_pipeline_metrics pm;
        struct ab_metrics_tally delay; /* consume_delay{topic="input"} */
        struct ab_http *http;
        struct ab_reload *reload;
        struct ab_offsets *offsets;
        struct ab_consumer *consumer;
        struct ab_producer *producer;
        size_t max_message; /* the producer's message.max.bytes */
        struct ab_processor *proc;
        struct ab_transform_pool *pool;
        struct ab_stateful *sf; /* state.store: changelog; else NULL */
        int burst;              /* records taken per step at most */
        struct ab_ce_kafka *ce;
        struct ab_headers *headers;
        enum ab_ce_mode mode;
        /* Per-record context for the output callback. */
        struct ab_record *rec;
        struct ab_offsets_entry *entry;
        /* State. */
        struct ab_pipeline_stats stats;
        struct ab_error fatal; /* first fatal error, code AB_OK if none */
        int64_t next_expire_ms;
        int64_t next_lag_ms;
        int shut;
        int64_t stop_by; /* shutdown deadline (ab_time_mono_ms()); 0 none */
        volatile sig_atomic_t *stop; /* set by ab_pipeline_run() */
        int ready; /* read by the HTTP thread: atomic access only */
};

/* ---------------------------------------------------------------- deliveries
 */

/* The opaque of every output: the record's tracker entry (NULL for events
 * produced by wall-clock expiry, which belong to no record) and what kind
 * of output it was, packed in the low bit. */
#define OPAQUE_DLQ ((uintptr_t)1)

/* Records taken per step and slots of the pool's ring (each keeps its
 * mapping buffers warm). Transform threads need a deep ring to work
 * ahead; without them a short one keeps those buffers in cache (256
 * slots cost 15-20 % more CPU on this thread, docs/performance.md). */
#define AB_PIPELINE_BURST_THREADED 64
#define AB_PIPELINE_SLOTS_THREADED 256
#define AB_PIPELINE_BURST_INLINE   16
#define AB_PIPELINE_SLOTS_INLINE   16

/* The longest a poll waits while records await their delivery reports,
 * which are served between polls: an idle kafka.poll_timeout would
 * otherwise delay every acknowledgement (and the offset) by itself. */
#define AB_PIPELINE_ACK_WAIT_MS 10

/* Drop one reference on \p e; when that completes its record (every
 * output acknowledged), observe the record's latencies. */
static void release(struct ab_pipeline *pl, struct ab_offsets_entry *e)
{
        int64_t received_ns, timestamp_ms;

        ab_offsets_entry_times(e, &received_ns, &timestamp_ms);
        if (ab_offsets_release(e))
                ab_pipeline_metrics_done(&pl->pm, received_ns, timestamp_ms,
                                         ab_time_mono_ns(), ab_time_now_ms());
}

static void on_delivery(void *arg, void *opaque, ab_err_t status,
                        const struct ab_error *err)
{
        struct ab_pipeline *pl = arg;
        uintptr_t bits         = (uintptr_t)opaque;
        struct ab_offsets_entry *entry =
            (struct ab_offsets_entry *)(bits & ~OPAQUE_DLQ);
        char line[600];

        if (status != AB_OK && pl->shut)
                return; /* purged at shutdown: in the stop's summary */
        if (status != AB_OK) {
                ab_metrics_inc(pl->pm.delivery_errors);
                AB_ERROR("pipeline",
                         "delivery failed; stopping so that the "
                         "record is consumed again after a restart",
                         "error=%s",
                         ab_log_quote(err ? err->text : ab_err_desc(status),
                                      line, sizeof(line)));
                if (pl->fatal.code == AB_OK)
                        ab_error_set(&pl->fatal, AB_ERR_KAFKA, NULL,
                                     "delivery failed: %s",
                                     err ? err->text : ab_err_desc(status));
                return; /* keep the reference: the offset must not pass */
        }
        if (bits & OPAQUE_DLQ)
                pl->stats.dead_letters++;
        else
                pl->stats.events++;
        if (entry)
                release(pl, entry);
}

/* Send, waiting out a full queue while serving delivery reports. A stop
 * request ends the wait with AB_ERR_RETRY: the record stays incomplete and
 * is consumed again after a restart. */
static ab_err_t send_output(struct ab_pipeline *pl, const char *topic,
                            struct ab_str key, struct ab_str value,
                            void *opaque, struct ab_error *err)
{
        for (;;) {
                ab_err_t rc = ab_producer_send(pl->producer, topic, key, value,
                                               pl->headers, opaque, err);
                if (rc != AB_ERR_RETRY)
                        return rc;
                ab_producer_poll(pl->producer, 100);
                if (ab_producer_fatal(pl->producer, err))
                        return AB_ERR_KAFKA;
                if (pl->stop && *pl->stop)
                        return ab_error_set(err, AB_ERR_RETRY, NULL,
                                            "stopping while the producer "
                                            "queue is full");
        }
}

static ab_err_t copy_record_headers(struct ab_pipeline *pl)
{
        const char *name;
        struct ab_str value;
        ab_err_t rc;

        for (size_t i = 0; !ab_record_header_at(pl->rec, i, &name, &value);
             i++) {
                rc = ab_headers_add(pl->headers, name, value);
                if (rc)
                        return rc;
        }
        return AB_OK;
}

static ab_err_t send_dead_letter(struct ab_pipeline *pl,
                                 const struct ab_output *o)
{
        struct ab_str key = o->key, value = o->value;
        struct ab_dlq_info info;
        struct ab_error err;
        bool reduced;
        ab_err_t rc;

        ab_headers_reset(pl->headers);
        if (pl->rec) {
                rc = copy_record_headers(pl);
                if (rc)
                        return rc;
        }
        info.error       = o->error;
        info.topic       = pl->rec ? ab_record_topic(pl->rec) : "";
        info.partition   = pl->rec ? ab_record_partition(pl->rec) : -1;
        info.offset      = pl->rec ? ab_record_offset(pl->rec) : -1;
        info.integration = o->integration;
        rc               = ab_headers_add_dlq(pl->headers, &info);
        if (!rc)
                rc = ab_dead_letter_fit(pl->headers, &key, &value,
                                        pl->max_message, &reduced);
        if (rc)
                return rc;
        if (reduced) {
                AB_WARN("pipeline", "dead letter over the size limit, reduced",
                        "topic=%s partition=%d offset=%lld size=%zu limit=%zu",
                        info.topic, (int)info.partition, (long long)info.offset,
                        o->value.len, pl->max_message);
                ab_metrics_inc(pl->pm.dlq_reduced);
        }
        if (pl->entry)
                ab_offsets_hold(pl->entry);
        ab_error_clear(&err);
        rc = send_output(pl, o->topic, key, value,
                         (void *)((uintptr_t)pl->entry | OPAQUE_DLQ), &err);
        if (rc) {
                /* The hold stays: the record must not complete. */
                ab_error_set(&pl->fatal, rc, NULL,
                             "cannot write to the dead-letter topic %s: %s",
                             o->topic, err.text);
        }
        return rc;
}

static ab_err_t on_output(void *arg, const struct ab_output *o)
{
        struct ab_pipeline *pl = arg;
        struct ab_str value;
        struct ab_error err;
        ab_err_t rc;

        if (o->kind == AB_OUTPUT_DEAD_LETTER)
                return send_dead_letter(pl, o);
        ab_headers_reset(pl->headers);
        ab_error_clear(&err);
        rc = ab_ce_kafka_encode(pl->ce, pl->mode, o->value.ptr, o->value.len,
                                pl->headers, &value, &err);
        if (rc)
                return rc;
        if (pl->entry)
                ab_offsets_hold(pl->entry);
        rc = send_output(pl, o->topic, o->key, value, pl->entry, &err);
        if (rc == AB_OK)
                return AB_OK;
        if (rc == AB_ERR_TOO_LARGE && pl->rec) {
                /* The event can never be written: keep the input instead.
                 * The dead letter takes its own hold before the event's
                 * is dropped, so the record cannot complete in between. */
                struct ab_output dl;
                memset(&dl, 0, sizeof(dl));
                dl.kind  = AB_OUTPUT_DEAD_LETTER;
                dl.topic = pl->cfg->dead_letter_topic;
                dl.key   = ab_record_key(pl->rec);
                dl.value = ab_record_value(pl->rec);
                dl.error = &err;
                rc       = send_dead_letter(pl, &dl);
                if (rc == AB_OK && pl->entry)
                        release(pl, pl->entry);
                return rc;
        }
        /* The hold stays: the record must not complete. */
        if (rc != AB_ERR_RETRY)
                ab_error_set(&pl->fatal, rc, NULL, "cannot produce to %s: %s",
                             o->topic, err.text);
        return rc;
}

/* ---------------------------------------------------------------- setup */

static ab_err_t drain(struct ab_pipeline *pl);

static void on_revoke(void *arg)
{
        struct ab_pipeline *pl = arg;
        struct ab_error err;

        /* Finish the records already consumed and let their outputs
         * complete, so their offsets are committed with the revocation
         * instead of being replayed by the next owner. */
        if (pl->fatal.code == AB_OK)
                drain(pl);
        ab_error_clear(&err);
        if (pl->producer &&
            ab_producer_flush(
                pl->producer,
                ab_stop_left_ms(pl->stop_by, pl->cfg->loop.flush_timeout_ms),
                &err) != AB_OK &&
            !pl->shut)
                AB_WARN("pipeline",
                        "records still in flight at revocation "
                        "will be consumed again by the next owner",
                        "inflight=%zu", ab_producer_inflight(pl->producer));
}

/* Ready once the group assigned this member partitions and the producer
 * still holds its guarantees (called in the HTTP server's thread). */
static bool ready_probe(void *opaque, char *reason, size_t size)
{
        struct ab_pipeline *pl = opaque;

        if (pl->sf) {
                if (ab_stateful_ready(pl->sf))
                        return true;
                snprintf(reason, size,
                         "not in the group yet, a partition's state is "
                         "being restored, or the pipeline failed");
                return false;
        }
        if (!__atomic_load_n(&pl->ready, __ATOMIC_RELAXED)) {
                snprintf(reason, size,
                         "no partitions assigned yet, or the producer failed");
                return false;
        }
        return true;
}

static ab_err_t subscribe(struct ab_pipeline *pl, struct ab_error *err)
{
        const struct ab_pipeline_config *cfg = pl->cfg;
        const char **topics;
        size_t n = 0;
        ab_err_t rc;

        for (size_t i = 0; i < cfg->ninputs; i++)
                n += cfg->inputs[i].ntopics;
        topics = ab_calloc(n + 1, sizeof(*topics));
        if (!topics)
                return AB_ERR_NOMEM;
        n = 0;
        for (size_t i = 0; i < cfg->ninputs; i++)
                for (size_t t = 0; t < cfg->inputs[i].ntopics; t++)
                        topics[n++] = cfg->inputs[i].topics[t];
        if (cfg->actions_topic)
                topics[n++] = cfg->actions_topic;
        rc = ab_consumer_subscribe(pl->consumer, topics, n, err);
        ab_free(topics);
        return rc;
}

/* The single-store loop of state.store: memory. */
static ab_err_t new_memory_loop(struct ab_pipeline *pl, struct ab_error *err)
{
        const struct ab_pipeline_config *cfg = pl->cfg;
        struct ab_consumer_conf cc;
        struct ab_producer_conf pc;
        const char **cprops = NULL, **pprops = NULL;
        char queue_kb[24];
        const char *const queue[] = {"queue.buffering.max.kbytes", queue_kb,
                                     NULL};
        bool threaded             = cfg->transform.threads > 0;
        ab_err_t rc               = AB_ERR_NOMEM;

        /* The tracker's window is a hard cap per partition; pausing at
         * max_pending_records keeps us well below it. */
        pl->offsets =
            ab_offsets_new((uint32_t)cfg->loop.max_pending_records * 4);
        snprintf(queue_kb, sizeof(queue_kb), "%lld",
                 (long long)(cfg->loop.max_pending_bytes / 1024));
        cprops = ab_kafka_client_props(&cfg->kafka, AB_KAFKA_CONSUMER, NULL,
                                       NULL, NULL);
        pprops = ab_kafka_client_props(&cfg->kafka, AB_KAFKA_PRODUCER, queue,
                                       NULL, NULL);
        if (!pl->offsets || !cprops || !pprops)
                goto out;
        rc = ab_processor_new(cfg, &pl->pm, &pl->proc, err);
        if (rc)
                goto out;
        pl->burst =
            threaded ? AB_PIPELINE_BURST_THREADED : AB_PIPELINE_BURST_INLINE;
        rc = ab_transform_pool_new((unsigned)cfg->transform.threads,
                                   threaded ? AB_PIPELINE_SLOTS_THREADED
                                            : AB_PIPELINE_SLOTS_INLINE,
                                   &pl->pool, err);
        if (rc)
                goto out;
        memset(&pc, 0, sizeof(pc));
        pc.brokers     = cfg->kafka.brokers;
        pc.properties  = pprops;
        pc.on_delivery = on_delivery;
        pc.arg         = pl;
        rc             = ab_producer_new(&pc, &pl->producer, err);
        if (!rc)
                rc = ab_outputs_prepare(pl->producer, cfg, NULL, 0, err);
        if (rc)
                goto out;
        pl->max_message = ab_producer_max_message_bytes(pl->producer);
        memset(&cc, 0, sizeof(cc));
        cc.brokers     = cfg->kafka.brokers;
        cc.group       = cfg->kafka.group;
        cc.properties  = cprops;
        cc.offsets     = pl->offsets;
        cc.on_revoke   = on_revoke;
        cc.instance_id = cfg->kafka.instance_id;
        cc.arg         = pl;
        rc             = ab_consumer_new(&cc, &pl->consumer, err);
        if (!rc)
                rc = subscribe(pl, err);
        if (!rc)
                AB_INFO("pipeline", "started",
                        "brokers=%s group=%s inputs=%zu store=memory "
                        "binding=%s transform_threads=%lld",
                        cfg->kafka.brokers, cfg->kafka.group, cfg->ninputs,
                        ab_ce_mode_name(pl->mode),
                        (long long)cfg->transform.threads);
out:
        ab_free(cprops);
        ab_free(pprops);
        return rc;
}

ab_err_t ab_pipeline_new(const struct ab_pipeline_config *cfg,
                         struct ab_pipeline **out, struct ab_error *err)
{
        struct ab_pipeline *pl;
        ab_err_t rc = AB_ERR_NOMEM;

        *out = NULL;
        pl   = ab_calloc(1, sizeof(*pl));
        if (!pl)
                return AB_ERR_NOMEM;
        pl->cfg  = cfg;
        pl->mode = cfg->output.binding == AB_PIPELINE_BINDING_BINARY
                       ? AB_CE_BINARY
                       : AB_CE_STRUCTURED;
        ab_error_clear(&pl->fatal);
        pl->metrics = ab_metrics_new();
        pl->headers = ab_headers_new();
        pl->ce      = ab_ce_kafka_new();
        if (!pl->metrics || !pl->headers || !pl->ce)
                goto fail;
        rc = ab_pipeline_metrics_register(pl->metrics, &pl->pm, err);
        ab_metrics_tally_init(&pl->delay, pl->pm.consume_delay[AB_TOPIC_INPUT]);
        if (!rc)
                rc = ab_reload_new(cfg, &pl->pm, &pl->reload, err);
        if (rc)
                goto fail;
        if (cfg->state.store == AB_PIPELINE_STORE_CHANGELOG)
                rc = ab_stateful_new(cfg, &pl->pm, &pl->sf, err);
        else
                rc = new_memory_loop(pl, err);
        if (rc)
                goto fail;
        if (cfg->http.listen) {
                struct ab_http_options ho;
                memset(&ho, 0, sizeof(ho));
                ho.listen           = cfg->http.listen;
                ho.metrics          = pl->metrics;
                ho.ready            = ready_probe;
                ho.ready_opaque     = pl;
                ho.stall_timeout_ms = cfg->http.stall_timeout_ms;
                ho.reload_token     = ab_reload_token(pl->reload);
                ho.reload           = ab_reload_request;
                ho.reload_opaque    = pl->reload;
                rc                  = ab_http_start(&ho, &pl->http, err);
                if (rc)
                        goto fail;
                ab_reload_set_http(pl->reload, pl->http);
        }
        pl->next_expire_ms =
            ab_time_mono_ms() + cfg->lifecycle.expire_interval_ms;
        *out = pl;
        return AB_OK;
fail:
        pl->shut = 1; /* nothing to drain */
        ab_pipeline_destroy(pl);
        return rc;
}

/* ---------------------------------------------------------------- loop */

static ab_err_t backpressure(struct ab_pipeline *pl, struct ab_error *err)
{
        size_t pending = ab_offsets_pending(pl->offsets);
        size_t high    = (size_t)pl->cfg->loop.max_pending_records;
        ab_err_t rc    = AB_OK;

        if (!ab_consumer_paused(pl->consumer) && pending >= high) {
                rc = ab_consumer_pause(pl->consumer, err);
                AB_INFO("pipeline",
                        "paused consumption: too many records in "
                        "flight",
                        "pending=%zu", pending);
        } else if (ab_consumer_paused(pl->consumer) && pending <= high / 2) {
                rc = ab_consumer_resume(pl->consumer, err);
                AB_INFO("pipeline", "resumed consumption", "pending=%zu",
                        pending);
        }
        ab_metrics_set(pl->pm.consumer_paused,
                       ab_consumer_paused(pl->consumer) ? 1 : 0);
        return rc;
}

/* Finish the oldest pool slot: lifecycle and outputs, then the loop's
 * own reference (dropped only when every output was handed over, so a
 * failed record never completes). */
static ab_err_t finish_slot(void *arg, struct ab_transform_pool_slot *s)
{
        struct ab_pipeline *pl = arg;
        ab_err_t rc;

        pl->rec   = s->record;
        pl->entry = s->entry;
        rc = ab_processor_finish(pl->proc, s->job, &s->in, on_output, pl);
        if (rc == AB_OK)
                release(pl, pl->entry);
        ab_record_destroy(s->record);
        pl->rec   = NULL;
        pl->entry = NULL;
        if (rc && rc != AB_ERR_RETRY && pl->fatal.code == AB_OK)
                ab_error_set(&pl->fatal, rc, NULL, "processing failed: %s",
                             ab_err_desc(rc));
        return rc;
}

/* Finish records in order while they are mapped, waiting up to \p wait_ms
 * for the oldest (-1: until every pending record is finished). */
static ab_err_t finish_ready(struct ab_pipeline *pl, int wait_ms)
{
        return ab_transform_pool_finish(pl->pool, wait_ms, finish_slot, pl);
}

static ab_err_t drain(struct ab_pipeline *pl)
{
        return finish_ready(pl, -1);
}

static void drop_record(void *record)
{
        ab_record_destroy(record);
}

/* Drop the records still in the pool without finishing them: they keep
 * their references, so their offsets are never committed and a restart
 * consumes them again. */
static void discard(struct ab_pipeline *pl)
{
        ab_transform_pool_discard(pl->pool, drop_record);
}

/* Register a record, waiting while its partition's window is full: the
 * records ahead of it complete by being finished and delivered. */
static ab_err_t track(struct ab_pipeline *pl, const struct ab_record *rec,
                      struct ab_offsets_entry **entry, struct ab_error *err)
{
        for (;;) {
                ab_err_t rc = ab_offsets_register(
                    pl->offsets, ab_record_topic(rec), ab_record_partition(rec),
                    ab_record_offset(rec), entry, err);
                if (rc != AB_ERR_RETRY)
                        return rc;
                rc = finish_ready(pl, 0);
                if (rc)
                        return rc;
                ab_producer_poll(pl->producer, 100);
                if (ab_producer_fatal(pl->producer, err) ||
                    pl->fatal.code != AB_OK)
                        return AB_ERR_KAFKA;
        }
}

/*
 * Take up to pl->burst records into the pool. Only the first poll
 * waits (up to \p timeout_ms), and only when no record is pending: mapped
 * records must not wait for new ones.
 */
static ab_err_t consume_burst(struct ab_pipeline *pl, int timeout_ms,
                              struct ab_error *err)
{
        struct ab_transform_pool_slot *s;
        struct ab_record *rec;
        struct ab_offsets_entry *entry;
        int64_t now_ms = 0; /* of the burst's first record */
        ab_err_t rc;
        int wait;

        for (int n = 0; n < pl->burst && !ab_transform_pool_full(pl->pool);
             n++) {
                wait = n == 0 && !ab_transform_pool_pending(pl->pool)
                           ? timeout_ms
                           : 0;
                rec  = NULL;
                rc   = ab_consumer_poll(pl->consumer, wait, &rec, err);
                if (rc)
                        return rc;
                if (!rec)
                        break;
                pl->stats.records++;
                if (n == 0)
                        now_ms = ab_time_now_ms();
                ab_pipeline_metrics_consumed(&pl->delay,
                                             ab_record_timestamp(rec), now_ms);
                rc = track(pl, rec, &entry, err);
                if (rc) {
                        ab_record_destroy(rec);
                        return rc;
                }
                /* Received now: the poll returned it. */
                ab_offsets_entry_set_times(entry, ab_time_mono_ns(),
                                           ab_record_timestamp(rec));
                s = ab_transform_pool_reserve(pl->pool);
                ab_input_from_record(&s->in, rec, pl->cfg->integration_header);
                s->record = rec;
                s->entry  = entry;
                ab_processor_bind(pl->proc, s->job, &s->in);
                ab_transform_pool_submit(pl->pool);
        }
        ab_metrics_tally_flush(&pl->delay);
        ab_transform_pool_kick(pl->pool);
        return AB_OK;
}

/* Reload between records: every record consumed so far is finished
 * under the configuration it was bound with (reload.h). A failed reload
 * is no error of the loop's; a failed record is. */
static ab_err_t reload(struct ab_pipeline *pl, struct ab_error *err)
{
        struct ab_error rerr;
        ab_err_t rc = drain(pl);

        if (rc) {
                if (err && rc != AB_ERR_RETRY)
                        *err = pl->fatal;
                return rc;
        }
        ab_reload_apply(pl->reload, pl->proc, &rerr);
        return AB_OK;
}

ab_err_t ab_pipeline_step(struct ab_pipeline *pl, int timeout_ms,
                          struct ab_error *err)
{
        uint64_t before;
        int64_t now;
        ab_err_t rc;

        if (pl->sf) {
                if (pl->http)
                        ab_http_heartbeat(pl->http);
                if (ab_reload_pending(pl->reload))
                        ab_reload_stateful(pl->reload, pl->sf);
                return ab_stateful_step(pl->sf, timeout_ms, err);
        }
        if (pl->fatal.code != AB_OK || ab_producer_fatal(pl->producer, err)) {
                if (pl->fatal.code != AB_OK && err)
                        *err = pl->fatal;
                return pl->fatal.code != AB_OK ? pl->fatal.code : AB_ERR_KAFKA;
        }
        if (ab_reload_pending(pl->reload) && (rc = reload(pl, err)) != AB_OK)
                return rc;
        rc = backpressure(pl, err);
        if (rc)
                return rc;
        if (ab_consumer_paused(pl->consumer)) {
                /* Nothing to consume: wait for the deliveries that will
                 * let us resume, and only serve the consumer's events. */
                ab_producer_poll(pl->producer, timeout_ms);
                timeout_ms = 0;
        } else {
                ab_producer_poll(pl->producer, 0);
                if (ab_offsets_pending(pl->offsets) &&
                    timeout_ms > AB_PIPELINE_ACK_WAIT_MS)
                        timeout_ms = AB_PIPELINE_ACK_WAIT_MS;
        }
        before = pl->stats.records;
        rc     = consume_burst(pl, timeout_ms, err);
        if (rc)
                return rc;
        if (pl->http)
                ab_http_heartbeat(pl->http);
        /* Nothing new: wait for the oldest pending record instead of
         * polling in a busy loop. A full pool waits for it too. */
        rc = finish_ready(pl, pl->stats.records == before ||
                                      ab_transform_pool_full(pl->pool)
                                  ? timeout_ms
                                  : 0);
        if (rc) {
                if (err && rc != AB_ERR_RETRY)
                        *err = pl->fatal;
                return rc;
        }
        now = ab_time_mono_ms();
        /* Wall-clock expiry is only safe once the backlog is consumed:
         * while the pipeline works through old records, the alerts they
         * are about to merge into must not be closed by today's clock.
         * Event time closes them then. */
        if (now >= pl->next_expire_ms && ab_consumer_caught_up(pl->consumer)) {
                pl->next_expire_ms =
                    now + pl->cfg->lifecycle.expire_interval_ms;
                /* Every consumed record is applied before the clock. */
                rc = drain(pl);
                if (!rc)
                        rc = ab_processor_expire(pl->proc, ab_time_now_ms(),
                                                 on_output, pl);
                if (rc) {
                        if (err)
                                *err = pl->fatal;
                        return rc;
                }
        }
        if (now >= pl->next_lag_ms) {
                /* Both queries allocate inside librdkafka: once a second,
                 * never per record. */
                pl->next_lag_ms = now + 1000;
                __atomic_store_n(&pl->ready,
                                 ab_consumer_assigned(pl->consumer) > 0 &&
                                     pl->fatal.code == AB_OK,
                                 __ATOMIC_RELAXED);
                ab_metrics_set(pl->pm.consumer_lag,
                               ab_consumer_lag(pl->consumer, NULL, NULL));
        }
        return AB_OK;
}

ab_err_t ab_pipeline_run(struct ab_pipeline *pl, volatile sig_atomic_t *stop,
                         struct ab_error *err)
{
        ab_err_t rc = AB_OK, rc2;

        pl->stop = stop;
        if (pl->sf)
                ab_stateful_set_stop(pl->sf, stop);
        while (!*stop) {
                rc = ab_pipeline_step(pl, (int)pl->cfg->loop.poll_timeout_ms,
                                      err);
                if (rc)
                        break;
        }
        if (rc == AB_ERR_RETRY && *stop) {
                /* Stopped while waiting for a full producer queue: that
                 * record is incomplete and will be consumed again. */
                AB_WARN("pipeline",
                        "stopping with the producer queue full; "
                        "the current record will be consumed again",
                        NULL);
                rc = AB_OK;
        }
        if (!rc)
                AB_INFO("pipeline", "stopping: draining in-flight records",
                        NULL);
        rc2 = ab_pipeline_shutdown(pl, rc ? NULL : err);
        return rc ? rc : rc2;
}

ab_err_t ab_pipeline_shutdown(struct ab_pipeline *pl, struct ab_error *err)
{
        int64_t flush_ms = pl->cfg->loop.flush_timeout_ms;
        ab_err_t rc = AB_OK, rc2 = AB_OK;
        size_t records = 0, messages = 0;
        int close_ms;

        if (pl->shut)
                return AB_OK;
        pl->shut = 1;
        if (pl->sf)
                return ab_stateful_shutdown(pl->sf, err);
        pl->stop_by = ab_time_mono_ms() + flush_ms;
        /* Records already consumed are finished unless the pipeline
         * failed; a stop request while the producer queue is full leaves
         * the rest unfinished, to be consumed again after a restart. */
        if (pl->pool && pl->fatal.code == AB_OK)
                drain(pl);
        if (pl->pool)
                discard(pl);
        if (pl->producer) {
                ab_producer_flush(pl->producer,
                                  ab_stop_left_ms(pl->stop_by, flush_ms), NULL);
                messages = ab_producer_inflight(pl->producer);
        }
        /* Consumed records not completed: their offsets stay behind. */
        records = pl->offsets ? ab_offsets_pending(pl->offsets) : 0;
        if (pl->consumer) {
                close_ms = ab_stop_left_ms(pl->stop_by, flush_ms);
                rc2      = ab_consumer_close_within(pl->consumer,
                                               close_ms > AB_STOP_CLOSE_MIN_MS
                                                        ? close_ms
                                                        : AB_STOP_CLOSE_MIN_MS,
                                                    NULL);
        }
        AB_INFO("pipeline", "stopped",
                "records=%llu events=%llu "
                "dead_letters=%llu",
                (unsigned long long)pl->stats.records,
                (unsigned long long)pl->stats.events,
                (unsigned long long)pl->stats.dead_letters);
        if (pl->fatal.code == AB_OK)
                rc = ab_stop_report(messages, records, rc2 != AB_OK, err);
        return rc;
}

void ab_pipeline_get_stats(const struct ab_pipeline *pl,
                           struct ab_pipeline_stats *out)
{
        if (pl->sf) {
                ab_stateful_get_stats(pl->sf, out);
                return;
        }
        *out           = pl->stats;
        out->pending   = ab_offsets_pending(pl->offsets);
        out->completed = pl->stats.records - out->pending;
        out->paused    = pl->consumer ? ab_consumer_paused(pl->consumer) : 0;
}

void ab_pipeline_watch_reload(struct ab_pipeline *pl,
                              volatile sig_atomic_t *flag)
{
        ab_reload_watch(pl->reload, flag);
}

int ab_pipeline_http_port(const struct ab_pipeline *pl)
{
        return pl->http ? ab_http_port(pl->http) : 0;
}

void ab_pipeline_destroy(struct ab_pipeline *pl)
{
        if (!pl)
                return;
        ab_pipeline_shutdown(pl, NULL);
        ab_http_stop(pl->http);
        ab_reload_destroy(pl->reload);
        ab_stateful_destroy(pl->sf);
        ab_transform_pool_destroy(pl->pool);
        ab_consumer_destroy(pl->consumer);
        /* Destroying the producer resolves every remaining opaque. */
        ab_producer_destroy(pl->producer);
        ab_processor_destroy(pl->proc);
        ab_offsets_destroy(pl->offsets);
        ab_ce_kafka_destroy(pl->ce);
        ab_headers_destroy(pl->headers);
        ab_metrics_destroy(pl->metrics);
        ab_free(pl);
}
