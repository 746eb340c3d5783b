/* replay.c - drives a replay: records from the source through one or two
 * processors, to the NDJSON stream, the output topic, the summary and the
 * comparison. */
#include "replay/replay.h"

#include <string.h>
#include <time.h>

#include "core/mem.h"
#include "core/timefmt.h"
#include "kafka/kafka_config.h"
#include "lifecycle/lifecycle.h"
#include "lifecycle/report.h"
#include "pipeline/config.h"
#include "pipeline/processor.h"
#include "producer/cloudevents_kafka.h"
#include "producer/headers.h"
#include "producer/producer.h"
#include "replay/diff.h"
#include "replay/ndjson.h"
#include "replay/side.h"
#include "replay/source.h"
#include "replay/summary.h"
#include "transform/event.h"
#include "transform/integration.h"

#define TICK_EVERY     256     /* records between clock reads for progress */
#define OUT_FLUSH      65536   /* NDJSON bytes buffered before a write */
#define FLUSH_SLICE_MS 100     /* longest wait for deliveries at once */
#define MAX_GROUPS     1000000 /* largest accepted dedup_groups */

/*
 * Without --config, this text supplies every default of pipeline/config.c
 * (output source and binding, lifecycle limits, integration header). Its
 * names are placeholders: the replay substitutes its own input, reads and
 * writes Kafka with the command line's names, and never consumes actions.
 */
static const char default_config[] =
    "{\"kafka\":{\"brokers\":\"replay\"},"
    "\"inputs\":[{\"topics\":[\"replay\"]}],"
    "\"output\":{\"topic\":\"replay.events\"},"
    "\"dead_letter_topic\":\"replay.dead-letters\","
    "\"http\":{\"listen\":\"\"}}";

struct ab_replay {
        struct ab_replay_opts opts;
        struct ab_pipeline_config *base; /* owned */
        struct ab_replay_side sides[2];  /* [0] new, [1] old (--compare) */
        bool compare;
        struct ab_replay_source *src;
        /* Outputs. */
        struct ab_buf out; /* NDJSON not written yet */
        struct ab_buf rej; /* scratch: a rejection body */
        struct ab_producer *producer;
        struct ab_ce_kafka *ce;
        struct ab_headers *headers;
        enum ab_ce_mode mode;
        uint64_t produced, delivered, delivery_failed;
        struct ab_error delivery_error;
        /* Comparison. */
        struct ab_replay_golden *golden;
        struct ab_replay_diff *diff;
        /* Dedup report: follows the alerts the new side maps. */
        struct ab_lifecycle_report *report;
        bool inputs_are_offsets; /* one partition: report inputs by offset */
        /* The record being replayed. */
        struct ab_replay_pos pos;
        /* Statistics. */
        uint64_t records;
        struct ab_replay_stats stats;
        int64_t started_ns;
        int64_t elapsed_ns;
        int64_t next_progress_ms;
        bool complete;
        struct ab_error fatal; /* why an output callback stopped */
};

/* ---------------------------------------------------------------- dedup */

/*
 * The new side's alert observer (pipeline/processor.h): the dedup report
 * follows the first dedup_groups fingerprints from the processor's own
 * mapping of each record.
 */
static ab_err_t on_alert(void *arg, const struct ab_mapped_alert *m)
{
        struct ab_replay *r = arg;
        size_t input;

        if (!ab_lifecycle_report_has(r->report, m->fingerprint) &&
            ab_lifecycle_report_groups(r->report) == r->opts.dedup_groups)
                return AB_OK;
        input = r->inputs_are_offsets ? (size_t)m->input->offset : r->records;
        return ab_lifecycle_report_input(r->report, m->integration, m->alert,
                                         m->fingerprint, input, m->nalerts);
}

/* The new side (followed by the dedup report when it is on) and, with
 * --compare, the old one. */
static ab_err_t open_sides(struct ab_replay *r, struct ab_error *err)
{
        struct ab_processor_opts popts;
        ab_err_t rc;

        memset(&popts, 0, sizeof(popts));
        popts.on_alert     = r->opts.dedup_groups ? on_alert : NULL;
        popts.on_alert_arg = r;
        rc = ab_replay_side_init(&r->sides[0], r->base, r->opts.topic,
                                 r->opts.integration, &popts, "--integration",
                                 err);
        if (!rc && r->compare)
                rc = ab_replay_side_init(&r->sides[1], r->base, r->opts.topic,
                                         r->opts.compare, NULL, "--compare",
                                         err);
        return rc;
}

/* Whether SIGTERM or SIGINT asked the replay to stop. Every loop that can
 * run long (the expect file, a full producer queue, the final flush)
 * checks it, so an interrupted replay exits promptly (status 3). */
static bool stopped(const struct ab_replay *r)
{
        return r->opts.stop && *r->opts.stop;
}

static ab_err_t interrupted(struct ab_error *err)
{
        return ab_error_set(err, AB_ERR_RETRY, NULL, "interrupted");
}

/* ---------------------------------------------------------------- outputs */

static ab_err_t flush_out(struct ab_replay *r)
{
        if (!r->out.len)
                return AB_OK;
        if (fwrite(r->out.data, 1, r->out.len, r->opts.events) != r->out.len)
                return ab_error_set(&r->fatal, AB_ERR_IO, NULL,
                                    "cannot write the events");
        ab_buf_reset(&r->out);
        return AB_OK;
}

static void on_delivery(void *arg, void *opaque, ab_err_t status,
                        const struct ab_error *err)
{
        struct ab_replay *r = arg;

        if (status == AB_OK) {
                r->delivered++;
                return;
        }
        if (!r->delivery_failed++ && err)
                r->delivery_error = *err;
}

static ab_err_t produce(struct ab_replay *r, const struct ab_output *o)
{
        struct ab_str value;
        struct ab_error err;
        ab_err_t rc;

        ab_error_clear(&err);
        ab_headers_reset(r->headers);
        rc = ab_ce_kafka_encode(r->ce, r->mode, o->value.ptr, o->value.len,
                                r->headers, &value, &err);
        while (!rc) {
                rc = ab_producer_send(r->producer, r->opts.output_topic, o->key,
                                      value, r->headers, NULL, &err);
                if (rc != AB_ERR_RETRY)
                        break;
                if (stopped(r)) {
                        interrupted(&err);
                        break;
                }
                rc = AB_OK;
                ab_producer_poll(r->producer, 100);
                if (ab_producer_fatal(r->producer, &err))
                        rc = AB_ERR_KAFKA;
        }
        if (rc) {
                r->fatal = err;
                ab_error_prefix(&r->fatal, "cannot produce to the output "
                                           "topic");
                return rc;
        }
        r->produced++;
        return AB_OK;
}

static ab_err_t on_output(struct ab_replay *r, struct ab_replay_side *s,
                          const struct ab_output *o, bool primary)
{
        struct ab_replay_item it;
        ab_err_t rc = AB_OK;

        memset(&it, 0, sizeof(it));
        it.index = s->nout;
        if (o->kind == AB_OUTPUT_EVENT) {
                it.kind = AB_REPLAY_ITEM_EVENT;
                it.type = (int)o->event->type;
                it.key  = o->key;
                it.body = o->value;
                s->counts.events[o->event->type]++;
        } else {
                ab_buf_reset(&r->rej);
                rc = ab_replay_rejection_write(&r->rej, o->error,
                                               o->integration);
                if (rc)
                        return rc;
                it.kind = AB_REPLAY_ITEM_REJECTION;
                it.type = (int)o->error->code;
                it.body = ab_str_make(r->rej.data, r->rej.len);
                s->counts.rejections++;
                if (primary)
                        ab_replay_stats_reject(&r->stats, &r->pos, o->error);
        }
        if (primary && r->report && o->kind == AB_OUTPUT_EVENT &&
            ab_lifecycle_report_has(r->report, o->event->fingerprint))
                rc = ab_lifecycle_report_event(r->report, o->event);
        if (!rc && primary && r->opts.events) {
                rc = ab_replay_line_write(&r->out, &r->pos, &it);
                if (!rc && r->out.len >= OUT_FLUSH)
                        rc = flush_out(r);
        }
        if (!rc && primary && r->producer && o->kind == AB_OUTPUT_EVENT)
                rc = produce(r, o);
        if (!rc && r->diff)
                rc = ab_replay_side_keep(s, &it);
        s->nout++;
        return rc;
}

static ab_err_t on_new(void *arg, const struct ab_output *o)
{
        struct ab_replay *r = arg;

        return on_output(r, &r->sides[0], o, true);
}

static ab_err_t on_old(void *arg, const struct ab_output *o)
{
        struct ab_replay *r = arg;

        return on_output(r, &r->sides[1], o, false);
}

/* ---------------------------------------------------------------- compare */

/*
 * Golden groups before \p pos only exist in the golden file (removed);
 * a group at \p pos is compared with this record's outputs. NULL \p pos:
 * drain the rest of the file.
 */
static ab_err_t golden_until(struct ab_replay *r,
                             const struct ab_replay_pos *pos,
                             const struct ab_replay_item *items, size_t n,
                             struct ab_error *err)
{
        const struct ab_replay_item *gitems = NULL;
        const struct ab_replay_pos *head;
        struct ab_replay_pos gpos;
        size_t ng = 0;
        ab_err_t rc;

        for (;;) {
                if (stopped(r))
                        return interrupted(err);
                rc = ab_replay_golden_peek(r->golden, &head, err);
                if (rc)
                        return rc;
                if (!head || (pos && ab_replay_pos_cmp(head, pos) >= 0))
                        break;
                rc = ab_replay_golden_take(r->golden, &gitems, &ng, &gpos, err);
                if (!rc)
                        rc = ab_replay_diff_record(r->diff, &gpos, gitems, ng,
                                                   NULL, 0);
                if (rc)
                        return rc;
        }
        if (!pos)
                return AB_OK;
        ng = 0;
        if (head && !ab_replay_pos_cmp(head, pos)) {
                rc = ab_replay_golden_take(r->golden, &gitems, &ng, &gpos, err);
                if (rc)
                        return rc;
        }
        return ab_replay_diff_record(r->diff, pos, gitems, ng, items, n);
}

/* ---------------------------------------------------------------- records */

static ab_err_t replay_record(struct ab_replay *r,
                              const struct ab_replay_record *rec,
                              struct ab_error *err)
{
        struct ab_input in;
        int64_t t0;
        ab_err_t rc = AB_OK;

        memset(&in, 0, sizeof(in));
        in.topic         = r->opts.topic;
        in.partition     = rec->partition;
        in.offset        = rec->offset;
        in.timestamp_ms  = rec->timestamp >= 0 ? rec->timestamp : rec->order_ts;
        in.key           = rec->key;
        in.value         = rec->value;
        in.integration   = AB_STR_NULL;
        r->pos.ts        = rec->order_ts;
        r->pos.partition = rec->partition;
        r->pos.offset    = rec->offset;
        ab_replay_side_reset(&r->sides[0]);
        ab_replay_side_reset(&r->sides[1]);
        t0 = ab_time_mono_ns();
        rc = ab_processor_handle(r->sides[0].proc, &in, on_new, r);
        ab_replay_stats_time(&r->stats, &r->pos, ab_time_mono_ns() - t0);
        if (!rc && r->compare)
                rc = ab_processor_handle(r->sides[1].proc, &in, on_old, r);
        if (!rc && r->compare)
                rc = ab_replay_diff_record(
                    r->diff, &r->pos, ab_replay_side_items(&r->sides[1]),
                    r->sides[1].nout, ab_replay_side_items(&r->sides[0]),
                    r->sides[0].nout);
        if (!rc && r->golden)
                rc =
                    golden_until(r, &r->pos, ab_replay_side_items(&r->sides[0]),
                                 r->sides[0].nout, err);
        r->records++;
        if (rc && r->fatal.code != AB_OK && err)
                *err = r->fatal;
        else if (rc && err && err->code == AB_OK)
                ab_error_set(err, rc, NULL,
                             "replaying partition %d offset "
                             "%lld failed: %s",
                             (int)rec->partition, (long long)rec->offset,
                             ab_err_desc(rc));
        return rc;
}

static void progress(struct ab_replay *r, bool final)
{
        struct ab_replay_progress p;
        int64_t now;

        if (!r->opts.progress)
                return;
        now = ab_time_mono_ms();
        if (!final && now < r->next_progress_ms)
                return;
        r->next_progress_ms = now + r->opts.progress_interval_ms;
        p.done              = r->records;
        p.total             = ab_replay_source_total(r->src);
        p.elapsed_ms        = now - r->started_ns / 1000000;
        p.final             = final;
        r->opts.progress(r->opts.progress_arg, &p);
}

/* Wait up to the timeout for the output topic's deliveries, a slice at a
 * time to notice `stop`. @returns AB_OK when none is left in flight. */
static ab_err_t flush_producer(struct ab_replay *r)
{
        int64_t deadline = ab_time_mono_ms() + r->opts.timeout_ms;
        ab_err_t rc;

        while ((rc = ab_producer_flush(r->producer, FLUSH_SLICE_MS, NULL)) &&
               !stopped(r) && ab_time_mono_ms() < deadline)
                ;
        return rc;
}

static ab_err_t finish(struct ab_replay *r, struct ab_error *err)
{
        ab_err_t rc = AB_OK;

        if (r->golden)
                rc = golden_until(r, NULL, NULL, 0, err);
        if (!rc && r->opts.events) {
                rc = flush_out(r);
                if (!rc && fflush(r->opts.events))
                        rc = ab_error_set(&r->fatal, AB_ERR_IO, NULL,
                                          "cannot write the events");
                if (rc && err)
                        *err = r->fatal;
        }
        if (!rc && r->producer) {
                bool left = flush_producer(r) != AB_OK;

                if (left && stopped(r)) {
                        rc = interrupted(err);
                } else if (left) {
                        rc = AB_ERR_KAFKA;
                        ab_error_set(err, rc, NULL,
                                     "%zu events still in flight to %s after "
                                     "%d ms",
                                     ab_producer_inflight(r->producer),
                                     r->opts.output_topic, r->opts.timeout_ms);
                } else if (r->delivery_failed) {
                        rc = AB_ERR_KAFKA;
                        ab_error_set(err, rc, NULL,
                                     "%llu events were not written to %s: %s",
                                     (unsigned long long)r->delivery_failed,
                                     r->opts.output_topic,
                                     r->delivery_error.text);
                }
        }
        return rc;
}

ab_err_t ab_replay_run(struct ab_replay *r, struct ab_error *err)
{
        struct ab_replay_record rec;
        bool done   = false;
        ab_err_t rc = AB_OK;

        r->started_ns       = ab_time_mono_ns();
        r->next_progress_ms = ab_time_mono_ms() + r->opts.progress_interval_ms;
        while (!rc && !done) {
                if (stopped(r)) {
                        rc = interrupted(err);
                        break;
                }
                rc = ab_replay_source_next(r->src, &rec, &done, err);
                if (!rc && !done)
                        rc = replay_record(r, &rec, err);
                if (r->producer)
                        ab_producer_poll(r->producer, 0);
                if (r->records % TICK_EVERY == 0)
                        progress(r, false);
        }
        if (!rc)
                rc = finish(r, err);
        r->complete   = rc == AB_OK;
        r->elapsed_ns = ab_time_mono_ns() - r->started_ns;
        progress(r, true);
        return rc;
}

bool ab_replay_differs(const struct ab_replay *r)
{
        return r->diff && ab_replay_diff_found(r->diff);
}

/* ---------------------------------------------------------------- setup */

static ab_err_t check_opts(const struct ab_replay_opts *o, struct ab_error *err)
{
        if (!o->topic || !o->topic[0])
                return ab_error_set(err, AB_ERR_USAGE, NULL,
                                    "--topic is required");
        if (!o->integration || !o->integration[0])
                return ab_error_set(err, AB_ERR_USAGE, NULL,
                                    "--integration is required");
        if (!o->brokers && !o->config_path)
                return ab_error_set(err, AB_ERR_USAGE, NULL,
                                    "--brokers is required (or a --config "
                                    "with kafka.brokers)");
        if (o->expect_path && o->compare)
                return ab_error_set(err, AB_ERR_USAGE, NULL,
                                    "--expect and --compare cannot be "
                                    "combined: run them separately");
        if (o->output_topic && !strcmp(o->output_topic, o->topic))
                return ab_error_set(err, AB_ERR_USAGE, NULL,
                                    "--output-topic must differ from "
                                    "--topic");
        if (o->dedup_groups > MAX_GROUPS)
                return ab_error_set(err, AB_ERR_USAGE, NULL,
                                    "--dedup-groups is at most %d", MAX_GROUPS);
        return AB_OK;
}

static ab_err_t load_base(struct ab_replay *r, struct ab_error *err)
{
        if (r->opts.config_path)
                return ab_pipeline_config_load(r->opts.config_path, &r->base,
                                               err);
        return ab_pipeline_config_load_string(
            default_config, sizeof(default_config) - 1, "replay defaults", NULL,
            &r->base, err);
}

static ab_err_t open_source(struct ab_replay *r, struct ab_error *err)
{
        const struct ab_pipeline_config *b = r->base;
        struct ab_replay_source_conf sc;
        const char **props;
        ab_err_t rc;

        /* The pipeline's auto commit belongs to its group: a replay never
         * commits, so that property is left out. */
        props = ab_kafka_client_props(&b->kafka, AB_KAFKA_CONSUMER, NULL,
                                      r->opts.properties, "enable.auto.commit");
        if (!props)
                return AB_ERR_NOMEM;
        memset(&sc, 0, sizeof(sc));
        sc.brokers    = r->opts.brokers;
        sc.topic      = r->opts.topic;
        sc.partition  = r->opts.partition;
        sc.from       = r->opts.from;
        sc.to         = r->opts.to;
        sc.properties = props;
        sc.timeout_ms = r->opts.timeout_ms;
        sc.stop       = r->opts.stop;
        rc            = ab_replay_source_open(&sc, &r->src, err);
        ab_free(props);
        return rc;
}

static ab_err_t open_producer(struct ab_replay *r, struct ab_error *err)
{
        const struct ab_pipeline_config *b = r->base;
        struct ab_producer_conf pc;
        const char **props;
        ab_err_t rc;

        props = ab_kafka_client_props(&b->kafka, AB_KAFKA_PRODUCER, NULL,
                                      r->opts.properties, NULL);

        r->ce      = ab_ce_kafka_new();
        r->headers = ab_headers_new();
        if (!props || !r->ce || !r->headers) {
                ab_free(props);
                return AB_ERR_NOMEM;
        }
        r->mode = b->output.binding == AB_PIPELINE_BINDING_BINARY
                      ? AB_CE_BINARY
                      : AB_CE_STRUCTURED;
        memset(&pc, 0, sizeof(pc));
        pc.brokers     = r->opts.brokers;
        pc.client_id   = "alertbridge-replay";
        pc.properties  = props;
        pc.on_delivery = on_delivery;
        pc.arg         = r;
        rc             = ab_producer_new(&pc, &r->producer, err);
        ab_free(props);
        return rc;
}

ab_err_t ab_replay_new(const struct ab_replay_opts *opts,
                       struct ab_replay **out, struct ab_error *err)
{
        struct ab_replay *r;
        size_t nparts;
        ab_err_t rc;

        *out = NULL;
        rc   = check_opts(opts, err);
        if (rc)
                return rc;
        r = ab_calloc(1, sizeof(*r));
        if (!r)
                return AB_ERR_NOMEM;
        r->opts    = *opts;
        r->compare = opts->compare != NULL;
        ab_buf_init(&r->out, 0);
        ab_buf_init(&r->rej, 0);
        ab_buf_init(&r->sides[0].text, 0);
        ab_buf_init(&r->sides[1].text, 0);
        ab_error_clear(&r->fatal);
        ab_error_clear(&r->delivery_error);
        rc = load_base(r, err);
        if (rc)
                goto fail;
        if (!r->opts.brokers)
                r->opts.brokers = r->base->kafka.brokers;
        rc = open_sides(r, err);
        if (rc)
                goto fail;
        if (opts->expect_path) {
                rc = ab_replay_golden_open(opts->expect_path, &r->golden, err);
                if (rc)
                        goto fail;
                ab_replay_golden_set_stop(r->golden, opts->stop);
        }
        rc = AB_ERR_NOMEM;
        if ((opts->expect_path || r->compare) &&
            !(r->diff = ab_replay_diff_new(opts->max_examples)))
                goto fail;
        if (opts->dedup_groups) {
                r->report = ab_lifecycle_report_new();
                if (!r->report)
                        goto fail;
        }
        rc = open_source(r, err);
        if (rc)
                goto fail;
        ab_replay_source_partitions(r->src, &nparts);
        r->inputs_are_offsets = nparts == 1;
        if (opts->output_topic) {
                rc = open_producer(r, err);
                if (rc)
                        goto fail;
        }
        *out = r;
        return AB_OK;
fail:
        ab_replay_destroy(r);
        return rc;
}

void ab_replay_destroy(struct ab_replay *r)
{
        if (!r)
                return;
        /* Queued events are purged: a replay that was not flushed did not
         * complete, and says so. */
        ab_producer_destroy(r->producer);
        ab_ce_kafka_destroy(r->ce);
        ab_headers_destroy(r->headers);
        ab_replay_source_destroy(r->src);
        ab_replay_side_fini(&r->sides[0]);
        ab_replay_side_fini(&r->sides[1]);
        ab_replay_golden_destroy(r->golden);
        ab_replay_diff_destroy(r->diff);
        ab_lifecycle_report_destroy(r->report);
        ab_pipeline_config_destroy(r->base);
        ab_buf_fini(&r->out);
        ab_buf_fini(&r->rej);
        ab_free(r);
}

/* ---------------------------------------------------------------- summary */

void ab_replay_summarize(const struct ab_replay *r, struct ab_replay_summary *s)
{
        const struct ab_lifecycle *lc =
            ab_processor_lifecycle(r->sides[0].proc);

        memset(s, 0, sizeof(*s));
        s->topic       = r->opts.topic;
        s->integration = ab_replay_side_name(&r->sides[0]);
        if (r->compare) {
                s->compare_integration = ab_replay_side_name(&r->sides[1]);
                s->compare_counts      = r->sides[1].counts;
        }
        s->complete   = r->complete;
        s->partitions = ab_replay_source_partitions(r->src, &s->npartitions);
        s->records    = r->records;
        s->elapsed_ns = r->elapsed_ns;
        s->counts     = r->sides[0].counts;
        s->stats      = &r->stats;
        ab_lifecycle_get_stats(lc, &s->lifecycle);
        s->open_at_end = ab_lifecycle_open_count(lc);
        if (r->report) {
                s->report             = r->report;
                s->inputs_are_offsets = r->inputs_are_offsets;
                s->followed           = ab_lifecycle_report_groups(r->report);
                s->follow_limit       = r->opts.dedup_groups;
        }
        if (r->producer) {
                s->output_topic    = r->opts.output_topic;
                s->produced        = r->produced;
                s->delivered       = r->delivered;
                s->delivery_failed = r->delivery_failed;
        }
        s->diff        = r->diff;
        s->expect_path = r->golden ? r->opts.expect_path : NULL;
}
