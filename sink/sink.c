/* sink.c - the sink service: consume, publish to EventBridge, commit. */
#include "sink/sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consumer/consumer.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "producer/dead_letter.h"
#include "producer/headers.h"
#include "producer/producer.h"
#include "service/http.h"
#include "service/metrics.h"
#include "service/process_metrics.h"
#include "sink/batch.h"
#include "sink/credentials.h"
#include "sink/eventbridge.h"

#define COMP         "sink"
#define NELEM(a)     (sizeof(a) / sizeof(*(a)))
#define MAX_CE_ATTRS 48

/* One event handed to EventBridge; owns copies of what a dead-letter copy
 * needs after the record is gone. */
struct sink_ticket {
        struct ab_offsets_entry *entry;
        int32_t partition;
        int64_t offset;
        size_t keylen;
        char *key;    /* NULL when the record had none */
        char topic[]; /* NUL-terminated, key bytes follow */
};

struct sink_metrics {
        struct ab_metric *published;
        struct ab_metric *rejected;
        struct ab_metric *filtered;
        struct ab_metric *dead_lettered;
        struct ab_metric *dlq_reduced;
        struct ab_metric *retries;
        struct ab_metric *requests;
        struct ab_metric *latency;
        struct ab_metric *event_latency;      /* poll to accepted */
        struct ab_metric *end_to_end_latency; /* timestamp to accepted */
        struct ab_metric *batch_size;
        struct ab_metric *backlog;
        struct ab_metric *lag;
        struct ab_metric *paused;
        struct ab_metrics_family *failures;
};

struct ab_sink {
        const struct ab_sink_config *cfg;
        volatile sig_atomic_t *stop; /* NULL until ab_sink_run() */
        struct ab_consumer *consumer;
        struct ab_producer *producer;
        size_t max_message; /* the producer's message.max.bytes */
        struct ab_offsets *offsets;
        struct ab_eb_client *eb;
        struct ab_metrics *registry;
        struct ab_http *http;
        struct sink_metrics m;
        struct ab_eb_stats prev;
        struct ab_batch_limits limits;
        struct ab_json_doc doc;
        struct ab_buf event;
        struct ab_headers *headers;
        struct ab_record *stash; /* consumed, not registered yet */
        int64_t stash_ns;        /* when the poll returned it */
        struct ab_error fatal;   /* code AB_OK while none */
        struct ab_sink_credentials creds;
};

/* Record the first error that ends the run; the loop then drains. */
static void set_fatal(struct ab_sink *s, ab_err_t code, const char *what,
                      const char *detail)
{
        if (s->fatal.code)
                return;
        ab_error_set(&s->fatal, code, NULL, "%s: %s", what, detail);
}

/* Produce a dead-letter copy, reduced when it exceeds the producer's
 * limit (producer/dead_letter.h); its report releases \p entry. Waits
 * (serving reports) while the producer's queue is full. */
static void dead_letter(struct ab_sink *s, struct ab_offsets_entry *entry,
                        struct ab_str key, struct ab_str value,
                        const struct ab_record *rec,
                        const struct ab_dlq_info *info)
{
        size_t original = value.len;
        struct ab_error err;
        bool reduced;
        ab_err_t rc;

        ab_headers_reset(s->headers);
        for (size_t i = 0; rec; i++) {
                const char *name;
                struct ab_str v;

                if (ab_record_header_at(rec, i, &name, &v))
                        break;
                ab_headers_add(s->headers, name, v);
        }
        rc = ab_headers_add_dlq(s->headers, info);
        if (!rc)
                rc = ab_dead_letter_fit(s->headers, &key, &value,
                                        s->max_message, &reduced);
        if (!rc && reduced) {
                AB_WARN(COMP, "dead letter over the size limit, reduced",
                        "topic=%s partition=%d offset=%lld size=%zu "
                        "limit=%zu",
                        info->topic, (int)info->partition,
                        (long long)info->offset, original, s->max_message);
                ab_metrics_inc(s->m.dlq_reduced);
        }
        ab_offsets_hold(entry);
        while (!rc) {
                rc = ab_producer_send(s->producer, s->cfg->dead_letter_topic,
                                      key, value, s->headers, entry, &err);
                if (rc != AB_ERR_RETRY || (s->stop && *s->stop))
                        break;
                ab_producer_poll(s->producer, 100);
        }
        if (rc) {
                set_fatal(s, rc, "cannot write to the dead-letter topic",
                          ab_err_code(rc));
                return; /* the hold stays: the offset never passes it */
        }
        ab_metrics_inc(s->m.dead_lettered);
}

/* Drop one reference on \p e; when that completes its record (accepted,
 * dead-lettered or filtered), observe the record's latencies. */
static void release(struct ab_sink *s, struct ab_offsets_entry *e)
{
        int64_t received_ns, timestamp_ms;

        ab_offsets_entry_times(e, &received_ns, &timestamp_ms);
        if (!ab_offsets_release(e))
                return;
        ab_metrics_observe(s->m.event_latency,
                           (double)(ab_time_mono_ns() - received_ns) / 1e9);
        if (timestamp_ms >= 0)
                ab_metrics_observe(s->m.end_to_end_latency,
                                   (double)(ab_time_now_ms() - timestamp_ms) /
                                       1e3);
}

static void on_dlq_delivery(void *arg, void *opaque, ab_err_t status,
                            const struct ab_error *err)
{
        struct ab_sink *s = arg;

        if (status) {
                char quoted[600];

                AB_ERROR(
                    COMP, "dead-letter write failed", "err=%s text=%s",
                    ab_err_code(status),
                    ab_log_quote(err ? err->text : "", quoted, sizeof(quoted)));
                set_fatal(s, AB_ERR_KAFKA, "dead-letter write failed",
                          ab_err_code(status));
                return;
        }
        release(s, opaque);
}

static void on_event_done(void *opaque, void *cookie, const char *id,
                          const struct ab_eb_result *r)
{
        struct ab_sink *s     = opaque;
        struct sink_ticket *t = cookie;
        char quoted[300];

        if (r->outcome == AB_EB_DELIVERED) {
                release(s, t->entry);
                goto out;
        }
        if (r->outcome == AB_EB_ABORTED)
                goto out; /* shutdown: the reference stays, no commit */
        AB_ERROR(COMP, "event permanently rejected",
                 "id=%s code=%s status=%d attempts=%u topic=%s partition=%d "
                 "offset=%lld message=%s",
                 id, r->code, r->http_status, r->attempts, t->topic,
                 (int)t->partition, (long long)t->offset,
                 ab_log_quote(r->message, quoted, sizeof(quoted)));
        ab_metrics_inc(s->m.rejected);
        if (s->cfg->on_permanent == AB_SINK_DLQ) {
                struct ab_error why;
                struct ab_dlq_info info = {.error     = &why,
                                           .topic     = t->topic,
                                           .partition = t->partition,
                                           .offset    = t->offset};

                ab_error_set(&why, AB_ERR_PERMANENT, r->code,
                             "EventBridge rejected event %s (HTTP %d): %s", id,
                             r->http_status, r->message);
                dead_letter(s, t->entry,
                            ab_str_make(t->key, t->key ? t->keylen : 0),
                            ab_str_make(r->event, r->event_len), NULL, &info);
                release(s, t->entry);
        } else {
                set_fatal(s, AB_ERR_PERMANENT,
                          "EventBridge permanently rejected an event; "
                          "stopping without committing past it (see the "
                          "error above)",
                          r->code);
        }
out:
        ab_free(t);
}

static void on_request_done(void *opaque, double seconds, size_t events)
{
        struct ab_sink *s = opaque;

        ab_metrics_observe(s->m.latency, seconds);
        ab_metrics_observe(s->m.batch_size, (double)events);
}

static struct sink_ticket *new_ticket(const struct ab_record *rec,
                                      struct ab_offsets_entry *entry)
{
        const char *topic = ab_record_topic(rec);
        struct ab_str key = ab_record_key(rec);
        size_t tl         = strlen(topic);
        struct sink_ticket *t =
            ab_malloc(sizeof(*t) + tl + 1 + (key.ptr ? key.len : 0));

        if (!t)
                return NULL;
        t->entry     = entry;
        t->partition = ab_record_partition(rec);
        t->offset    = ab_record_offset(rec);
        memcpy(t->topic, topic, tl + 1);
        t->key    = key.ptr ? t->topic + tl + 1 : NULL;
        t->keylen = key.ptr ? key.len : 0;
        if (key.ptr)
                memcpy(t->key, key.ptr, key.len);
        return t;
}

static bool is_structured(const struct ab_record *rec)
{
        struct ab_str ct           = ab_record_header(rec, "content-type");
        static const char prefix[] = "application/cloudevents";

        if (!ct.ptr || ct.len < sizeof(prefix) - 1)
                return false;
        for (size_t i = 0; i < sizeof(prefix) - 1; i++)
                if ((ct.ptr[i] | 0x20) != prefix[i] && ct.ptr[i] != prefix[i])
                        return false;
        return true;
}

/* Encode \p rec into s->event, or say why it cannot be an event. */
static ab_err_t encode(struct ab_sink *s, const struct ab_record *rec,
                       struct ab_batch_event_info *info, bool *pass,
                       struct ab_error *err)
{
        struct ab_str v    = ab_record_value(rec);
        const char *bus    = s->cfg->eventbridge.bus;
        const char *source = s->cfg->eventbridge.source;
        struct ab_batch_attr attrs[MAX_CE_ATTRS];
        struct ab_str type = AB_STR_NULL, integ = AB_STR_NULL, ct;
        size_t n = 0;

        ab_buf_reset(&s->event);
        if (is_structured(rec)) {
                if (!v.ptr)
                        return ab_error_set(err, AB_ERR_DECODE, NULL,
                                            "structured record has no value");
                *pass = ab_sink_filter_match(&s->cfg->filters, v.ptr, v.len,
                                             NULL, 0, NULL, 0, NULL, 0);
                if (!*pass)
                        return AB_OK;
                return ab_batch_encode_event(&s->event, &s->doc, v.ptr, v.len,
                                             bus, source, &s->limits, info,
                                             err);
        }
        for (size_t i = 0;; i++) {
                const char *name;
                struct ab_str hv;

                if (ab_record_header_at(rec, i, &name, &hv))
                        break;
                if (strncmp(name, "ce_", 3) || !name[3])
                        continue;
                if (n == MAX_CE_ATTRS)
                        return ab_error_set(err, AB_ERR_DECODE, NULL,
                                            "more than %d ce_ headers",
                                            MAX_CE_ATTRS);
                attrs[n++] = (struct ab_batch_attr){
                    name + 3, strlen(name + 3), hv.ptr ? hv.ptr : "", hv.len};
                if (!strcmp(name, "ce_type"))
                        type = hv;
                else if (!strcmp(name, "ce_integration"))
                        integ = hv;
        }
        if (!n)
                return ab_error_set(err, AB_ERR_DECODE, NULL,
                                    "record is neither a structured nor a "
                                    "binary CloudEvent");
        *pass =
            ab_sink_filter_match(&s->cfg->filters, NULL, 0, type.ptr, type.len,
                                 integ.ptr, integ.len, v.ptr, v.len);
        if (!*pass)
                return AB_OK;
        ct = ab_record_header(rec, "content-type");
        return ab_batch_encode_binary(&s->event, &s->doc, attrs, n, ct.ptr,
                                      ct.len, v.ptr ? v.ptr : "", v.len, bus,
                                      source, &s->limits, info, err);
}

/* Turn one registered record into its outcome. Consumes our reference. */
static void process(struct ab_sink *s, const struct ab_record *rec,
                    struct ab_offsets_entry *entry)
{
        struct ab_batch_event_info info;
        struct sink_ticket *t;
        struct ab_error err;
        bool pass = true;
        struct ab_str key;
        ab_err_t rc;

        ab_error_clear(&err);
        rc = encode(s, rec, &info, &pass, &err);
        if (!rc && !pass) {
                ab_metrics_inc(s->m.filtered);
        } else if (rc == AB_ERR_DECODE || rc == AB_ERR_TOO_LARGE) {
                struct ab_dlq_info dlq = {.error     = &err,
                                          .topic     = ab_record_topic(rec),
                                          .partition = ab_record_partition(rec),
                                          .offset    = ab_record_offset(rec)};
                char text[200];

                AB_WARN(COMP, "event dead-lettered",
                        "code=%s topic=%s partition=%d offset=%lld reason=%s",
                        ab_err_code(rc), dlq.topic, (int)dlq.partition,
                        (long long)dlq.offset,
                        ab_log_quote(err.text, text, sizeof(text)));
                dead_letter(s, entry, ab_record_key(rec), ab_record_value(rec),
                            rec, &dlq);
        } else if (rc) {
                set_fatal(s, rc, "cannot encode event", ab_err_code(rc));
                return; /* keep the reference: never committed */
        } else {
                t   = new_ticket(rec, entry);
                key = ab_record_key(rec);
                if (t) {
                        ab_offsets_hold(entry);
                        rc = ab_eb_submit(s->eb, s->event.data, s->event.len,
                                          info.counted, info.id, key.ptr,
                                          key.len, t);
                        if (rc) {
                                release(s, entry);
                                ab_free(t);
                        }
                } else {
                        rc = AB_ERR_NOMEM;
                }
                if (rc) {
                        set_fatal(s, rc, "cannot queue event", ab_err_code(rc));
                        return;
                }
        }
        release(s, entry);
}

/* Register and process the stashed record. @returns false if the tracker
 * is full (the record stays stashed). */
static bool take_stash(struct ab_sink *s)
{
        struct ab_offsets_entry *entry;
        struct ab_error err;
        ab_err_t rc;

        rc = ab_offsets_register(s->offsets, ab_record_topic(s->stash),
                                 ab_record_partition(s->stash),
                                 ab_record_offset(s->stash), &entry, &err);
        if (rc == AB_ERR_RETRY)
                return false;
        if (rc) {
                set_fatal(s, rc, "offset tracker", err.text);
                return false;
        }
        ab_offsets_entry_set_times(entry, s->stash_ns,
                                   ab_record_timestamp(s->stash));
        process(s, s->stash, entry);
        ab_record_destroy(s->stash);
        s->stash = NULL;
        return true;
}

static void on_revoke(void *arg)
{
        struct ab_sink *s = arg;
        time_t deadline   = time(NULL) + 5;

        /* Give events in flight a moment to be accepted so their offsets
         * are committed with the revocation; the rest is redelivered to
         * the next owner (duplicates, never loss). */
        while (ab_eb_pending(s->eb) && time(NULL) < deadline && !s->fatal.code)
                ab_eb_poll(s->eb, 50);
        ab_producer_flush(s->producer, 2000, NULL);
}

static void sync_metrics(struct ab_sink *s)
{
        struct ab_eb_stats st;

        ab_eb_get_stats(s->eb, &st);
        ab_metrics_add(s->m.published,
                       st.events_published - s->prev.events_published);
        ab_metrics_add(s->m.retries, st.retries - s->prev.retries);
        ab_metrics_add(s->m.requests, st.requests - s->prev.requests);
        for (unsigned i = 0; i < st.nfailures; i++) {
                uint64_t before = 0;
                const char *v[] = {st.failures[i].code, NULL};
                struct ab_metric *m;

                for (unsigned j = 0; j < s->prev.nfailures; j++)
                        if (!strcmp(s->prev.failures[j].code, v[0]))
                                before = s->prev.failures[j].count;
                if (st.failures[i].count != before &&
                    !ab_metrics_series(s->m.failures, v, &m, NULL))
                        ab_metrics_add(m, st.failures[i].count - before);
        }
        ab_metrics_set(s->m.backlog, (int64_t)st.pending);
        ab_metrics_set(s->m.lag, ab_consumer_lag(s->consumer, NULL, NULL));
        ab_metrics_set(s->m.paused, ab_consumer_paused(s->consumer));
        s->prev = st;
}

static ab_err_t register_metrics(struct ab_sink *s, struct ab_error *err)
{
        static const double latency[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                         0.5,   1,    2.5,   5,    10,  30};
        static const double lag[]     = {0.01, 0.025, 0.05, 0.1, 0.25,
                                         0.5,  1,     2.5,  5,   10,
                                         30,   60,    300,  900, 3600};
        static const double sizes[]   = {1, 2, 4, 8, 16, 32};
        static const char *const code_label[] = {"code", NULL};
        const struct {
                struct ab_metrics_desc d;
                struct ab_metric **out;
        } one[] = {
            {{AB_METRICS_COUNTER, "sink_events_published_total",
              "Events EventBridge accepted.", NULL, NULL, 0},
             &s->m.published},
            {{AB_METRICS_COUNTER, "sink_events_rejected_total",
              "Events that failed permanently.", NULL, NULL, 0},
             &s->m.rejected},
            {{AB_METRICS_COUNTER, "sink_events_filtered_total",
              "Records skipped by the filters.", NULL, NULL, 0},
             &s->m.filtered},
            {{AB_METRICS_COUNTER, "sink_dlq_records_total",
              "Records written to the sink's dead-letter topic.", NULL, NULL,
              0},
             &s->m.dead_lettered},
            {{AB_METRICS_COUNTER, "sink_dlq_reduced_total",
              "Dead letters written in reduced form (first bytes, original "
              "size and SHA-256) because the full copy exceeded "
              "message.max.bytes.",
              NULL, NULL, 0},
             &s->m.dlq_reduced},
            {{AB_METRICS_COUNTER, "sink_retries_total",
              "Event re-sends after a retryable failure.", NULL, NULL, 0},
             &s->m.retries},
            {{AB_METRICS_COUNTER, "sink_requests_total",
              "PutEvents requests completed.", NULL, NULL, 0},
             &s->m.requests},
            {{AB_METRICS_HISTOGRAM, "sink_request_duration_seconds",
              "PutEvents request latency.", NULL, latency, NELEM(latency)},
             &s->m.latency},
            {{AB_METRICS_HISTOGRAM, "sink_event_latency_seconds",
              "From a record's consumption until EventBridge accepted it "
              "(or it was dead-lettered or filtered).",
              NULL, latency, NELEM(latency)},
             &s->m.event_latency},
            {{AB_METRICS_HISTOGRAM, "sink_end_to_end_latency_seconds",
              "From a record's Kafka timestamp until EventBridge accepted "
              "it: time in the output topic included.",
              NULL, lag, NELEM(lag)},
             &s->m.end_to_end_latency},
            {{AB_METRICS_HISTOGRAM, "sink_batch_size_events",
              "Events per PutEvents request.", NULL, sizes, NELEM(sizes)},
             &s->m.batch_size},
            {{AB_METRICS_GAUGE, "sink_backlog_events",
              "Events handed to EventBridge and not accepted yet.", NULL, NULL,
              0},
             &s->m.backlog},
            {{AB_METRICS_GAUGE, "sink_consumer_lag",
              "Records of the output topics not consumed yet.", NULL, NULL, 0},
             &s->m.lag},
            {{AB_METRICS_GAUGE, "sink_consumer_paused",
              "1 while consumption is paused for backpressure.", NULL, NULL, 0},
             &s->m.paused},
        };
        struct ab_metrics_desc fail = {
            AB_METRICS_COUNTER,
            "sink_failures_total",
            "Failed requests and entries by code (service code, http_<n>, "
            "timeout, connect_failed, ...).",
            code_label,
            NULL,
            0};
        ab_err_t rc = AB_OK;

        for (size_t i = 0; i < NELEM(one) && !rc; i++)
                rc = ab_metrics_register_one(s->registry, &one[i].d, one[i].out,
                                             err);
        if (!rc)
                rc = ab_metrics_register(s->registry, &fail, &s->m.failures,
                                         err);
        if (!rc)
                rc = ab_process_metrics_register(s->registry, err);
        return rc;
}

/*
 * The sink's consumer defaults (kafka.properties may override them).
 * Offsets are stored on every poll, right after EventBridge accepts a
 * batch; librdkafka's auto commit sends them asynchronously. Its default
 * 5 s interval meant a kill -9 sent up to 5 s of accepted events again
 * (82,658 over four kills in a load test); every 100 ms bounds that to the
 * requests in flight plus 100 ms of acceptances, and costs no request when
 * nothing advanced.
 */
static const char *const consumer_defaults[] = {"auto.commit.interval.ms",
                                                "100", NULL};

static ab_err_t start(struct ab_sink *s, struct ab_error *err)
{
        const struct ab_sink_config *c = s->cfg;
        const char **cprops = NULL, **pprops = NULL, **codes = NULL;
        struct ab_consumer_conf cc = {0};
        struct ab_producer_conf pc = {0};
        struct ab_eb_config ec;
        ab_err_t rc;

        rc = ab_sink_credentials_load(c, &s->creds, err);
        if (rc)
                return rc;
        s->registry = ab_metrics_new();
        s->headers  = ab_headers_new();
        s->offsets  = ab_offsets_new((uint32_t)c->input.offset_window);
        cprops      = ab_kafka_client_props(&c->kafka, AB_KAFKA_CONSUMER,
                                            consumer_defaults, NULL, NULL);
        pprops = ab_kafka_client_props(&c->kafka, AB_KAFKA_PRODUCER, NULL, NULL,
                                       NULL);
        codes  = ab_calloc(c->eventbridge.npermanent_entry_codes + 1,
                           sizeof(*codes));
        if (!s->registry || !s->headers || !s->offsets || !cprops || !pprops ||
            !codes) {
                rc = ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
                goto out;
        }
        for (size_t i = 0; i < c->eventbridge.npermanent_entry_codes; i++)
                codes[i] = c->eventbridge.permanent_entry_codes[i];
        rc = register_metrics(s, err);
        if (rc)
                goto out;
        ab_eb_config_default(&ec);
        ec.endpoint                 = c->eventbridge.endpoint;
        ec.region_id                = c->eventbridge.region;
        ec.creds.access_key_id      = s->creds.key_id;
        ec.creds.access_key_secret  = s->creds.secret;
        ec.creds.security_token     = s->creds.token[0] ? s->creds.token : NULL;
        ec.user_agent               = "alertbridge-sink";
        ec.ca_file                  = c->eventbridge.ca_file;
        ec.limits.max_events        = (size_t)c->eventbridge.max_events;
        ec.limits.max_request_bytes = (size_t)c->eventbridge.max_request_bytes;
        ec.limits.max_event_bytes   = (size_t)c->eventbridge.max_event_bytes;
        ec.max_in_flight            = (unsigned)c->eventbridge.max_in_flight;
        ec.connect_timeout_ms       = c->eventbridge.connect_timeout_ms;
        ec.request_timeout_ms       = c->eventbridge.request_timeout_ms;
        ec.backoff_initial_ms       = c->eventbridge.backoff_initial_ms;
        ec.backoff_max_ms           = c->eventbridge.backoff_max_ms;
        ec.max_attempts             = (unsigned)c->eventbridge.max_attempts;
        ec.permanent_entry_codes    = codes;
        ec.on_request               = on_request_done;
        s->limits                   = ec.limits;
        s->eb                       = ab_eb_new(&ec, on_event_done, s, err);
        if (!s->eb) {
                rc = err->code ? err->code : AB_ERR_CONFIG;
                goto out;
        }
        pc.brokers     = c->kafka.brokers;
        pc.client_id   = "alertbridge-sink";
        pc.properties  = pprops;
        pc.on_delivery = on_dlq_delivery;
        pc.arg         = s;
        rc             = ab_producer_new(&pc, &s->producer, err);
        if (rc)
                goto out;
        s->max_message = ab_producer_max_message_bytes(s->producer);
        cc.brokers     = c->kafka.brokers;
        cc.group       = c->kafka.group;
        cc.client_id   = "alertbridge-sink";
        cc.instance_id = c->kafka.instance_id; /* static membership */
        cc.properties  = cprops;
        cc.offsets     = s->offsets;
        cc.on_revoke   = on_revoke;
        cc.arg         = s;
        rc             = ab_consumer_new(&cc, &s->consumer, err);
        if (!rc)
                rc = ab_consumer_subscribe(s->consumer,
                                           (const char *const *)c->input.topics,
                                           c->input.ntopics, err);
        if (!rc && c->http_listen) {
                struct ab_http_options ho = {.listen           = c->http_listen,
                                             .metrics          = s->registry,
                                             .stall_timeout_ms = 60000};

                rc = ab_http_start(&ho, &s->http, err);
                if (!rc)
                        ab_http_set_ready(s->http, true);
        }
out:
        ab_free(cprops);
        ab_free(pprops);
        ab_free(codes);
        return rc;
}

/* One turn of the loop: consume at most one record, drive HTTP and the
 * dead-letter producer, apply backpressure. */
static void step(struct ab_sink *s, bool consuming)
{
        struct ab_record *rec = NULL;
        struct ab_error err;
        size_t pending = ab_eb_pending(s->eb);
        bool full      = pending >= (size_t)s->cfg->max_pending || s->stash;
        ab_err_t rc;

        if (s->stash)
                take_stash(s);
        if ((!consuming || full) && !ab_consumer_paused(s->consumer))
                ab_consumer_pause(s->consumer, NULL);
        else if (consuming && !full && ab_consumer_paused(s->consumer) &&
                 pending < (size_t)s->cfg->max_pending / 2 + 1)
                ab_consumer_resume(s->consumer, NULL);
        rc = ab_consumer_poll(s->consumer,
                              pending ? 0 : (int)s->cfg->input.poll_timeout_ms,
                              &rec, &err);
        if (rc) {
                set_fatal(s, rc, "consumer failed", err.text);
                return;
        }
        if (rec) {
                s->stash    = rec;
                s->stash_ns = ab_time_mono_ns();
                take_stash(s);
        }
        ab_eb_poll(s->eb, rec ? 0 : (pending ? 20 : 0));
        ab_producer_poll(s->producer, 0);
        sync_metrics(s);
        if (s->http)
                ab_http_heartbeat(s->http);
}

/* Stop and free what start() made; safe on a partly started sink. */
static void teardown(struct ab_sink *s)
{
        ab_http_stop(s->http);
        if (s->eb)
                ab_eb_abort(s->eb);
        ab_consumer_destroy(s->consumer);
        ab_record_destroy(s->stash);
        ab_eb_destroy(s->eb);
        ab_producer_destroy(s->producer);
        ab_offsets_destroy(s->offsets);
        ab_headers_destroy(s->headers);
        ab_metrics_destroy(s->registry);
        ab_json_doc_fini(&s->doc);
        ab_buf_fini(&s->event);
        ab_sink_credentials_wipe(&s->creds);
}

ab_err_t ab_sink_check(const struct ab_sink_config *cfg, struct ab_error *err)
{
        struct ab_sink_credentials creds;
        ab_err_t rc = ab_sink_credentials_load(cfg, &creds, err);

        ab_sink_credentials_wipe(&creds);
        return rc;
}

ab_err_t ab_sink_new(const struct ab_sink_config *cfg, struct ab_sink **out,
                     struct ab_error *err)
{
        struct ab_sink *s;
        ab_err_t rc;

        *out = NULL;
        s    = ab_calloc(1, sizeof(*s));
        if (!s)
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        s->cfg = cfg;
        ab_json_doc_init(&s->doc);
        ab_buf_init(&s->event, 0);
        ab_error_clear(&s->fatal);
        rc = start(s, err);
        if (rc) {
                ab_sink_destroy(s);
                return rc;
        }
        *out = s;
        return AB_OK;
}

ab_err_t ab_sink_run(struct ab_sink *s, volatile sig_atomic_t *stop,
                     struct ab_error *err)
{
        const struct ab_sink_config *cfg = s->cfg;
        struct ab_error cerr;
        int64_t t0;
        char quoted[600];
        ab_err_t rc;

        s->stop = stop;
        AB_INFO(COMP, "started", "group=%s bus=%s endpoint=%s",
                cfg->kafka.group, cfg->eventbridge.bus,
                cfg->eventbridge.endpoint);
        while (!*stop && !s->fatal.code)
                step(s, true);
        /* Drain: stop consuming, let in-flight events finish, commit. */
        t0 = ab_time_mono_ms();
        do {
                if (!ab_eb_pending(s->eb) && !ab_producer_inflight(s->producer))
                        break;
                step(s, false);
        } while (ab_time_mono_ms() - t0 < cfg->shutdown_timeout_ms);
        if (ab_eb_pending(s->eb))
                AB_WARN(COMP,
                        "shutdown with events in flight; their records are "
                        "not committed and will be consumed again",
                        "pending=%zu", ab_eb_pending(s->eb));
        ab_producer_flush(s->producer, 5000, NULL);
        ab_error_clear(&cerr);
        rc = ab_consumer_close(s->consumer, &cerr);
        if (rc)
                AB_ERROR(COMP, "final commit failed", "text=%s",
                         ab_log_quote(cerr.text, quoted, sizeof(quoted)));
        if (s->fatal.code) {
                AB_ERROR(COMP, "stopped", "err=%s text=%s",
                         ab_err_code(s->fatal.code),
                         ab_log_quote(s->fatal.text, quoted, sizeof(quoted)));
                if (err)
                        *err = s->fatal;
                return s->fatal.code;
        }
        AB_INFO(COMP, "stopped", "published=%llu",
                (unsigned long long)s->prev.events_published);
        return AB_OK;
}

void ab_sink_destroy(struct ab_sink *s)
{
        if (!s)
                return;
        teardown(s);
        ab_free(s);
}
