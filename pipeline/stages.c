/* stages.c - the two stages of the stateful loop: the map stage writes
 * mapped alerts and actions to <group>.alerts, the lifecycle stage applies
 * them to the store of their partition; both hand their outputs here. */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "pipeline/stateful_int.h"
#include "producer/dead_letter.h"
#include "service/metrics.h"

void ab_stateful_fail(struct ab_stateful *sf, ab_err_t rc,
                      const struct ab_error *err, const char *what)
{
        if (sf->fatal.code != AB_OK)
                return;
        ab_error_set(&sf->fatal, rc, NULL, "%s: %s", what,
                     err && err->code ? err->text : ab_err_desc(rc));
        AB_ERROR("pipeline", "stopping", "error=\"%s\"", sf->fatal.text);
}

/* ---------------------------------------------------------------- outputs */

void ab_stateful_on_delivery(void *arg, void *opaque, ab_err_t status,
                             const struct ab_error *err)
{
        struct ab_stateful *sf = arg;
        enum out_kind kind     = ab_stateful_acked(sf, opaque);

        if (status != AB_OK && sf->shut)
                return; /* purged at shutdown: in the stop's summary */
        if (status != AB_OK) {
                ab_metrics_inc(sf->pm->delivery_errors);
                /* exactly_once: the transaction's commit fails and the
                 * records are handled again. */
                if (!sf->eos)
                        ab_stateful_fail(
                            sf, AB_ERR_KAFKA, err,
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
 * out a full queue; a stop request ends the wait with AB_ERR_RETRY.
 * While an exactly_once commit is in flight the send is held for the
 * next transaction (txn.c); held sends go before any later one. */
ab_err_t ab_stateful_send(struct ab_stateful *sf, const char *topic,
                          int32_t partition, struct ab_str key,
                          struct ab_str value, const struct ab_headers *headers,
                          enum out_kind kind, struct ab_error *err)
{
        ab_err_t rc;

        if (sf->committing) {
                rc = ab_stateful_txn_defer(sf, topic, partition, key, value,
                                           headers, kind);
                if (rc != AB_ERR_TOO_LARGE)
                        return rc;
                /* Full, or for the producer to judge: finish the commit,
                 * which replays the held sends, then send this one. */
                rc = ab_stateful_txn_finish(sf, true, err);
                if (rc)
                        return rc;
        } else if (ab_deferred_count(&sf->deferred)) {
                rc = ab_stateful_txn_replay(sf);
                if (rc)
                        return ab_error_set(err, rc, NULL,
                                            "held records not sent");
        }
        return ab_stateful_send_now(sf, topic, partition, key, value, headers,
                                    kind, err);
}

ab_err_t ab_stateful_send_now(struct ab_stateful *sf, const char *topic,
                              int32_t partition, struct ab_str key,
                              struct ab_str value,
                              const struct ab_headers *headers,
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
                                         value, headers,
                                         ab_stateful_opaque(sf, kind), err);
                if (!rc)
                        sf->out[sf->epoch % AB_CKPT_RING]++;
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
        struct ab_str key = o->key, value = o->value;
        struct ab_error err;
        bool reduced = false;
        ab_err_t rc  = dead_letter_headers(sf, o);

        /* No input can stop the loop: one too large for the topic is
         * written reduced (producer/dead_letter.h) and counted. */
        if (!rc)
                rc = ab_dead_letter_fit(sf->headers, &key, &value,
                                        sf->max_message, &reduced);
        if (!rc && reduced) {
                AB_WARN("pipeline", "dead letter over the size limit, reduced",
                        "size=%zu limit=%zu", o->value.len, sf->max_message);
                ab_metrics_inc(sf->pm->dlq_reduced);
        }
        ab_error_clear(&err);
        if (!rc)
                rc = ab_stateful_send(sf, o->topic, -1, key, value, sf->headers,
                                      OUT_DLQ, &err);
        if (rc && rc != AB_ERR_RETRY)
                ab_stateful_fail(sf, rc, &err, "cannot write a dead letter");
        return rc;
}

/* \p key and \p value, rejected with \p err, to the dead-letter topic. */
static ab_err_t send_rejected(struct ab_stateful *sf, struct ab_str key,
                              struct ab_str value, struct ab_error *err)
{
        struct ab_output o;

        memset(&o, 0, sizeof(o));
        o.kind  = AB_OUTPUT_DEAD_LETTER;
        o.topic = sf->cfg->dead_letter_topic;
        o.key   = key;
        o.value = value;
        o.error = err;
        return send_dead_letter(sf, &o);
}

ab_err_t ab_stateful_on_output(void *arg, const struct ab_output *o)
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
                rc = ab_stateful_send(sf, o->topic, -1, o->key, value,
                                      sf->headers, OUT_EVENT, &err);
        if (rc && rc != AB_ERR_RETRY)
                ab_stateful_fail(sf, rc, &err, "cannot produce an event");
        return rc;
}

/* ---------------------------------------------------------------- map stage
 */

/*
 * HOW IT WORKS: batches. With state.batch_max_bytes > 0 the map stage
 * does not send each ALERT or ACTION record on its own: it appends it to
 * the BATCH record of its partition of <group>.alerts
 * (alert_record.h), one buffer per partition, which saves librdkafka's
 * per-record work on both sides of the second hop. ab_stateful_flush()
 * sends every batch that holds something. The loop calls it after a
 * burst once the consumer has no more records at hand or the oldest
 * entry has waited state.batch_linger, and the commit cycle calls it
 * before it takes the positions, so a committed input offset never
 * passes an entry still in a buffer: in at_least_once a batch is sent in
 * the epoch whose positions cover its inputs, in exactly_once inside the
 * transaction that commits them. An entry that would overflow its batch
 * sends the batch first; one too large for any batch sends its input to
 * the dead letters, as an oversized single record would. A rebuild
 * (exactly_once's abort) drops the buffers with the pool's records: their
 * inputs are consumed again.
 */

ab_err_t ab_stateful_batches_init(struct ab_stateful *sf)
{
        size_t cap = (size_t)sf->cfg->state.batch_max_bytes;

        if (!cap)
                return AB_OK;
        sf->batch = ab_calloc((size_t)sf->nparts, sizeof(*sf->batch));
        if (!sf->batch)
                return AB_ERR_NOMEM;
        if (sf->max_message > AB_FRAME_BYTES &&
            cap > sf->max_message - AB_FRAME_BYTES)
                cap = sf->max_message - AB_FRAME_BYTES;
        sf->batch_cap = cap;
        for (int32_t p = 0; p < sf->nparts; p++)
                ab_buf_init(&sf->batch[p], 0);
        return AB_OK;
}

void ab_stateful_batches_reset(struct ab_stateful *sf)
{
        for (int32_t p = 0; sf->batch && p < sf->nparts; p++)
                ab_buf_reset(&sf->batch[p]);
        sf->nbatched = 0;
}

void ab_stateful_batches_fini(struct ab_stateful *sf)
{
        for (int32_t p = 0; sf->batch && p < sf->nparts; p++)
                ab_buf_fini(&sf->batch[p]);
        ab_free(sf->batch);
        sf->batch    = NULL;
        sf->nbatched = 0;
}

static ab_err_t flush_one(struct ab_stateful *sf, int32_t p,
                          struct ab_error *err)
{
        struct ab_buf *b = &sf->batch[p];
        ab_err_t rc;

        rc = ab_stateful_send(sf, sf->alerts, p, AB_STR_NULL,
                              ab_str_make(b->data, b->len), NULL, OUT_INTERNAL,
                              err);
        if (rc)
                return rc;
        ab_buf_reset(b);
        sf->nbatched--;
        return AB_OK;
}

ab_err_t ab_stateful_flush(struct ab_stateful *sf, struct ab_error *err)
{
        ab_err_t rc = AB_OK;

        for (int32_t p = 0; !rc && sf->nbatched && p < sf->nparts; p++)
                if (sf->batch[p].len)
                        rc = flush_one(sf, p, err);
        if (rc && rc != AB_ERR_RETRY)
                ab_stateful_fail(sf, rc, err,
                                 "cannot write to the alerts topic");
        return rc;
}

bool ab_stateful_flush_due(const struct ab_stateful *sf, int64_t now_ms)
{
        return sf->nbatched &&
               (sf->drained ||
                now_ms - sf->batch_since_ms >= sf->cfg->state.batch_linger_ms);
}

/* Send the record in sf->buf to partition \p p of <group>.alerts, by
 * itself or in its batch. */
static ab_err_t send_internal(struct ab_stateful *sf, int32_t p,
                              struct ab_str key, struct ab_error *err)
{
        struct ab_str rec = ab_str_make(sf->buf.data, sf->buf.len);
        struct ab_buf *b;
        ab_err_t rc;

        if (!sf->batch)
                return ab_stateful_send(sf, sf->alerts, p, key, rec, NULL,
                                        OUT_INTERNAL, err);
        b = &sf->batch[p];
        if (b->len &&
            b->len + ab_alert_record_batch_cost(b->len, rec.len) >
                sf->batch_cap &&
            (rc = flush_one(sf, p, err)))
                return rc;
        if (ab_alert_record_batch_cost(b->len, rec.len) + AB_FRAME_BYTES >
            sf->max_message)
                return ab_error_set(err, AB_ERR_TOO_LARGE, NULL,
                                    "%zu bytes, more than message.max.bytes "
                                    "(%zu) allows",
                                    rec.len, sf->max_message);
        if (!b->len && !sf->nbatched++)
                sf->batch_since_ms = ab_time_mono_ms();
        return ab_alert_record_batch_add(b, rec.ptr, rec.len, err);
}

/* An internal record too large for the alerts topic (its input was near
 * the limit): the input goes to the dead-letter topic instead, so no
 * input can stop the loop. */
static ab_err_t internal_too_large(struct ab_stateful *sf,
                                   const struct ab_input *in,
                                   struct ab_error *err)
{
        ab_error_prefix(err, "the record is too large for the alerts topic");
        return send_rejected(sf, in->key, in->value, err);
}

/* A mapped alert becomes an ALERT record at the partition of its
 * fingerprint. */
ab_err_t ab_stateful_map_alert(void *arg, const struct ab_mapped_alert *m)
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
        a.trace            = m->trace;
        ab_error_clear(&err);
        ab_buf_reset(&sf->buf);
        rc = ab_alert_record_encode_alert(&a, &sf->buf, &err);
        if (!rc)
                rc = send_internal(sf,
                                   ab_alert_record_route(m->digest, sf->nparts),
                                   ab_str_c(m->fingerprint), &err);
        if (rc == AB_ERR_TOO_LARGE)
                return internal_too_large(sf, m->input, &err);
        if (rc && rc != AB_ERR_RETRY)
                ab_stateful_fail(sf, rc, &err,
                                 "cannot write to the alerts topic");
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
ab_err_t ab_stateful_map_action(void *arg, const struct ab_input *in,
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
                rc =
                    send_internal(sf, ab_alert_record_route(prefix, sf->nparts),
                                  ab_str_c(key), &err);
        if (rc == AB_ERR_TOO_LARGE)
                return internal_too_large(sf, in, &err);
        if (rc && rc != AB_ERR_RETRY)
                ab_stateful_fail(sf, rc, &err,
                                 "cannot write to the alerts topic");
        return rc;
}

/* Finish the oldest pool slot through the map stage. */
static ab_err_t finish_slot(void *arg, struct ab_transform_pool_slot *s)
{
        struct ab_stateful *sf = arg;
        ab_err_t rc;

        sf->rec = s->record;
        rc      = ab_processor_finish(sf->proc, s->job, &s->in,
                                      ab_stateful_on_output, sf);
        if (!rc)
                rc = ab_stateful_pos_advance(sf, s->record);
        sf->rec = NULL;
        ab_record_destroy(s->record);
        if (rc && rc != AB_ERR_RETRY)
                ab_stateful_fail(sf, rc, NULL, "processing failed");
        return rc;
}

ab_err_t ab_stateful_finish_ready(struct ab_stateful *sf, int wait_ms)
{
        return ab_transform_pool_finish(sf->pool, wait_ms, finish_slot, sf);
}

static void drop_record(void *record)
{
        ab_record_destroy(record);
}

/* Drop the pool's records unfinished: they are consumed again. */
void ab_stateful_discard(struct ab_stateful *sf)
{
        ab_transform_pool_discard(sf->pool, drop_record);
}

/* ---------------------------------------------------------------- lifecycle
 * stage */

/* Decode one record of <group>.alerts, or entry \p entry (1, 2, ...; 0:
 * none) of a BATCH, and apply it to \p lc; one that does not decode is a
 * dead letter. */
static ab_err_t apply_record(struct ab_stateful *sf, struct ab_lifecycle *lc,
                             const struct ab_input *rin, size_t entry,
                             struct ab_error *err)
{
        struct ab_input in = *rin;
        struct ab_alert_record r;
        ab_err_t rc;

        ab_error_clear(err);
        rc = in.value.ptr ? ab_alert_record_decode(in.value.ptr, in.value.len,
                                                   &sf->scratch, &r, err)
                          : ab_error_set(err, AB_ERR_BAD_RECORD, NULL,
                                         "the record has no value");
        if (rc == AB_ERR_BAD_RECORD) {
                char what[48];

                if (entry) {
                        snprintf(what, sizeof(what), "entry %zu of a batch",
                                 entry);
                        ab_error_prefix(err, what);
                }
                ab_pipeline_metrics_reject(&sf->pm->none, rc);
                return send_rejected(sf, in.key, in.value, err);
        }
        if (rc)
                return rc;
        if (r.kind == AB_ALERT_RECORD_BATCH) {
                /* Its entries are ALERT and ACTION records by their heads
                 * (checked by the decoding): one level deep. */
                struct ab_alert_record_batch b = r.batch;
                size_t at = 0, k = 0;

                while (!rc && ab_alert_record_batch_next(&b, &at, &in.value))
                        rc = apply_record(sf, lc, &in, ++k, err);
                return rc;
        }
        if (r.kind == AB_ALERT_RECORD_ACTION) {
                sf->action = &r.action;
                in.key     = r.action.key;
                in.value   = r.action.value;
        }
        rc = ab_processor_apply(sf->proc, lc, &r, &in, ab_stateful_on_output,
                                sf);
        sf->action = NULL;
        return rc;
}

ab_err_t ab_stateful_lifecycle_record(struct ab_stateful *sf,
                                      const struct ab_record *rec)
{
        struct ab_lifecycle *lc =
            ab_stores_get(sf->stores, ab_record_partition(rec));
        struct ab_input in;
        struct ab_error err;
        ab_err_t rc;

        if (!lc) {
                ab_error_set(&err, AB_ERR_INTERNAL, NULL,
                             "a record of %s[%d] before its store was "
                             "restored",
                             sf->alerts, (int)ab_record_partition(rec));
                ab_stateful_fail(sf, AB_ERR_INTERNAL, &err, "lifecycle stage");
                return AB_ERR_INTERNAL;
        }
        memset(&in, 0, sizeof(in));
        /* An ALERT or ACTION record carries its integration and trace
         * context in its value. */
        ab_input_from_record_value(&in, rec);
        sf->rec = rec;
        rc      = apply_record(sf, lc, &in, 0, &err);
        sf->rec = NULL;
        if (!rc)
                rc = ab_stateful_pos_advance(sf, rec);
        if (rc && rc != AB_ERR_RETRY)
                ab_stateful_fail(sf, rc, &err, "lifecycle stage");
        return rc;
}
