/* replay.c - drives a replay: records from the source through one or two
 * processors, to the NDJSON stream, the output topic, the summary and the
 * comparison. */
#include "replay.h"

#include <string.h>
#include <time.h>

#include "cloudevents_kafka.h"
#include "config.h"
#include "diff.h"
#include "event.h"
#include "headers.h"
#include "integration.h"
#include "lifecycle.h"
#include "mem.h"
#include "ndjson.h"
#include "processor.h"
#include "producer.h"
#include "report.h"
#include "source.h"

#define REJ_KEEP   5       /* first offsets kept per rejection code */
#define SLOW_KEEP  5       /* slowest records kept */
#define TICK_EVERY 256     /* records between clock reads for progress */
#define OUT_FLUSH  65536   /* NDJSON bytes buffered before a write */
#define MAX_GROUPS 1000000 /* largest accepted dedup_groups */

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

/* Where an item's strings are in a side's text buffer (which may move). */
struct item_ref {
        struct ab_replay_item it;
        size_t key_off;
        size_t body_off;
};

/* One mapping being replayed: the new one, and for --compare the old. */
struct side {
        struct ab_pipeline_config cfg; /* the base config, our input */
        struct ab_pipeline_input input;
        char *topics[1];              /* owned */
        char *integration;            /* owned: the argument */
        struct ab_integration *integ; /* owned copy: name, analysis */
        struct ab_processor *proc;
        uint32_t nout; /* outputs of the current record */
        /* The current record's outputs, kept for the comparison. */
        struct ab_buf text;
        struct item_ref *refs;
        struct ab_replay_item *items;
        size_t cap;
        uint64_t events[AB_EVENT__COUNT];
        uint64_t rejections;
};

struct rej_stat {
        uint64_t count;
        size_t nfirst;
        struct {
                int32_t partition;
                int64_t offset;
        } first[REJ_KEEP];
        char example[240];
};

struct slow {
        int32_t partition;
        int64_t offset;
        int64_t ns;
};

/* The fingerprints the dedup report follows (at most `max`). */
struct fpset {
        char (*slot)[AB_EVENT_ID_LEN + 1]; /* owned; "" = free */
        size_t cap;                        /* power of two, >= 2 * max */
        size_t n;
        size_t max;
};

struct ab_replay {
        struct ab_replay_opts opts;
        struct ab_pipeline_config *base; /* owned */
        struct side sides[2];            /* [0] new, [1] old (--compare) */
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
        struct fpset fps;
        bool inputs_are_offsets; /* one partition: report inputs by offset */
        /* The record being replayed. */
        struct ab_replay_pos pos;
        /* Statistics. */
        uint64_t records;
        struct rej_stat rej_stats[AB_ERR__COUNT];
        struct slow slow[SLOW_KEEP];
        size_t nslow;
        int64_t started_ns;
        int64_t elapsed_ns;
        int64_t next_progress_ms;
        bool complete;
        struct ab_error fatal; /* why an output callback stopped */
};

static int64_t mono_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t mono_ms(void)
{
        return mono_ns() / 1000000;
}

/* ---------------------------------------------------------------- sides */

static ab_err_t side_init(struct side *s, const struct ab_pipeline_config *base,
                          const char *topic, const char *integration,
                          const struct ab_processor_opts *opts,
                          const char *flag, struct ab_error *err)
{
        ab_err_t rc;

        s->cfg         = *base;
        s->topics[0]   = ab_strdup(topic);
        s->integration = ab_strdup(integration);
        if (!s->topics[0] || !s->integration)
                return AB_ERR_NOMEM;
        s->input.topics      = s->topics;
        s->input.ntopics     = 1;
        s->input.integration = s->integration;
        s->cfg.inputs        = &s->input;
        s->cfg.ninputs       = 1;
        s->cfg.actions_topic = NULL;
        rc                   = ab_integration_load(integration, &s->integ, err);
        if (!rc)
                rc = ab_processor_new_opts(&s->cfg, NULL, opts, &s->proc, err);
        if (rc && rc != AB_ERR_NOMEM)
                ab_error_prefix(err, flag);
        return rc;
}

static void side_fini(struct side *s)
{
        ab_processor_destroy(s->proc);
        ab_integration_destroy(s->integ);
        ab_free(s->topics[0]);
        ab_free(s->integration);
        ab_buf_fini(&s->text);
        ab_free(s->refs);
        ab_free(s->items);
}

static void side_reset(struct side *s)
{
        s->nout = 0;
        ab_buf_reset(&s->text);
}

/* Keep a copy of \p it for the comparison of the current record. */
static ab_err_t side_keep(struct side *s, const struct ab_replay_item *it)
{
        struct item_ref *ref;
        size_t i = s->nout;
        ab_err_t rc;

        if (i == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 16;
                struct item_ref *refs =
                    ab_realloc(s->refs, cap * sizeof(*refs));
                struct ab_replay_item *items;

                if (!refs)
                        return AB_ERR_NOMEM;
                s->refs = refs;
                items   = ab_realloc(s->items, cap * sizeof(*items));
                if (!items)
                        return AB_ERR_NOMEM;
                s->items = items;
                s->cap   = cap;
        }
        ref          = &s->refs[i];
        ref->it      = *it;
        ref->key_off = s->text.len;
        rc = it->key.len ? ab_buf_append(&s->text, it->key.ptr, it->key.len)
                         : AB_OK;
        ref->body_off = s->text.len;
        if (!rc)
                rc = ab_buf_append(&s->text, it->body.ptr, it->body.len);
        return rc;
}

/* The kept items of the current record, pointing into s->text. */
static const struct ab_replay_item *side_items(struct side *s)
{
        for (size_t i = 0; i < s->nout; i++) {
                s->items[i]          = s->refs[i].it;
                s->items[i].key.ptr  = s->text.data + s->refs[i].key_off;
                s->items[i].body.ptr = s->text.data + s->refs[i].body_off;
        }
        return s->items;
}

/* ---------------------------------------------------------------- dedup */

static size_t fp_hash(const char *fp)
{
        uint64_t h = 14695981039346656037ull;

        for (; *fp; fp++)
                h = (h ^ (unsigned char)*fp) * 1099511628211ull;
        return (size_t)h;
}

static ab_err_t fpset_init(struct fpset *s, size_t max)
{
        s->max = max;
        s->cap = 16;
        while (s->cap < 2 * max)
                s->cap *= 2;
        s->slot = ab_calloc(s->cap, sizeof(*s->slot));
        return s->slot ? AB_OK : AB_ERR_NOMEM;
}

/* Is \p fp followed? Adds it while there is room. */
static bool fpset_follow(struct fpset *s, const char *fp)
{
        size_t i = fp_hash(fp) & (s->cap - 1);

        while (s->slot[i][0]) {
                if (!strcmp(s->slot[i], fp))
                        return true;
                i = (i + 1) & (s->cap - 1);
        }
        if (s->n == s->max)
                return false;
        snprintf(s->slot[i], sizeof(s->slot[i]), "%s", fp);
        s->n++;
        return true;
}

/* Is \p fp followed? Never adds. */
static bool fpset_has(const struct fpset *s, const char *fp)
{
        size_t i = fp_hash(fp) & (s->cap - 1);

        while (s->slot[i][0]) {
                if (!strcmp(s->slot[i], fp))
                        return true;
                i = (i + 1) & (s->cap - 1);
        }
        return false;
}

/*
 * The new side's alert observer (pipeline/processor.h): the dedup report
 * follows the first dedup_groups fingerprints from the processor's own
 * mapping of each record.
 */
static ab_err_t on_alert(void *arg, const struct ab_mapped_alert *m)
{
        struct ab_replay *r = arg;
        size_t input;

        if (!fpset_follow(&r->fps, m->fingerprint))
                return AB_OK;
        input = r->inputs_are_offsets ? (size_t)m->input->offset : r->records;
        return ab_lifecycle_report_input(r->report, m->integration, m->alert,
                                         m->fingerprint, input, m->nalerts);
}

/* ---------------------------------------------------------------- outputs */

/* Copy \p src into \p dst (\p size bytes), cut on a UTF-8 boundary. */
static void copy_text(char *dst, size_t size, const char *src)
{
        size_t n = strlen(src);

        if (n >= size) {
                n = size - 1;
                while (n && ((unsigned char)src[n] & 0xc0) == 0x80)
                        n--;
        }
        memcpy(dst, src, n);
        dst[n] = '\0';
}

static void note_rejection(struct ab_replay *r, const struct ab_error *e)
{
        struct rej_stat *st;

        if ((unsigned)e->code >= AB_ERR__COUNT)
                return;
        st = &r->rej_stats[e->code];
        if (!st->count)
                copy_text(st->example, sizeof(st->example), e->text);
        st->count++;
        if (st->nfirst < REJ_KEEP) {
                st->first[st->nfirst].partition = r->pos.partition;
                st->first[st->nfirst].offset    = r->pos.offset;
                st->nfirst++;
        }
}

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

static ab_err_t on_output(struct ab_replay *r, struct side *s,
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
                s->events[o->event->type]++;
        } else {
                ab_buf_reset(&r->rej);
                rc = ab_replay_rejection_write(&r->rej, o->error,
                                               o->integration);
                if (rc)
                        return rc;
                it.kind = AB_REPLAY_ITEM_REJECTION;
                it.type = (int)o->error->code;
                it.body = ab_str_make(r->rej.data, r->rej.len);
                s->rejections++;
                if (primary)
                        note_rejection(r, o->error);
        }
        if (primary && r->report && o->kind == AB_OUTPUT_EVENT &&
            fpset_has(&r->fps, o->event->fingerprint))
                rc = ab_lifecycle_report_event(r->report, o->event);
        if (!rc && primary && r->opts.events) {
                rc = ab_replay_line_write(&r->out, &r->pos, &it);
                if (!rc && r->out.len >= OUT_FLUSH)
                        rc = flush_out(r);
        }
        if (!rc && primary && r->producer && o->kind == AB_OUTPUT_EVENT)
                rc = produce(r, o);
        if (!rc && r->diff)
                rc = side_keep(s, &it);
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

static void note_time(struct ab_replay *r, int64_t ns)
{
        size_t i;

        if (r->nslow < SLOW_KEEP)
                i = r->nslow++;
        else if (r->slow[SLOW_KEEP - 1].ns >= ns)
                return;
        else
                i = SLOW_KEEP - 1;
        /* Insertion into the list kept sorted, slowest first. */
        while (i > 0 && r->slow[i - 1].ns < ns) {
                r->slow[i] = r->slow[i - 1];
                i--;
        }
        r->slow[i].partition = r->pos.partition;
        r->slow[i].offset    = r->pos.offset;
        r->slow[i].ns        = ns;
}

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
        side_reset(&r->sides[0]);
        side_reset(&r->sides[1]);
        t0 = mono_ns();
        rc = ab_processor_handle(r->sides[0].proc, &in, on_new, r);
        note_time(r, mono_ns() - t0);
        if (!rc && r->compare)
                rc = ab_processor_handle(r->sides[1].proc, &in, on_old, r);
        if (!rc && r->compare)
                rc = ab_replay_diff_record(
                    r->diff, &r->pos, side_items(&r->sides[1]),
                    r->sides[1].nout, side_items(&r->sides[0]),
                    r->sides[0].nout);
        if (!rc && r->golden)
                rc = golden_until(r, &r->pos, side_items(&r->sides[0]),
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
        now = mono_ms();
        if (!final && now < r->next_progress_ms)
                return;
        r->next_progress_ms = now + r->opts.progress_interval_ms;
        p.done              = r->records;
        p.total             = ab_replay_source_total(r->src);
        p.elapsed_ms        = now - r->started_ns / 1000000;
        p.final             = final;
        r->opts.progress(r->opts.progress_arg, &p);
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
                if (ab_producer_flush(r->producer, r->opts.timeout_ms, NULL)) {
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

        r->started_ns       = mono_ns();
        r->next_progress_ms = mono_ms() + r->opts.progress_interval_ms;
        while (!rc && !done) {
                if (r->opts.stop && *r->opts.stop) {
                        rc = ab_error_set(err, AB_ERR_RETRY, NULL,
                                          "interrupted");
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
        r->elapsed_ns = mono_ns() - r->started_ns;
        progress(r, true);
        return rc;
}

bool ab_replay_differs(const struct ab_replay *r)
{
        return r->diff && ab_replay_diff_found(r->diff);
}

/* ---------------------------------------------------------------- setup */

/* NULL-terminated name/value pairs: \p a, then \p b, then \p extra,
 * leaving out \p skip. (ab_free the array; strings are borrowed.) */
static const char **pairs(const struct ab_pipeline_kv *a, size_t na,
                          const struct ab_pipeline_kv *b, size_t nb,
                          const char *const *extra, const char *skip)
{
        size_t nextra = 0, o = 0;
        const char **v;

        while (extra && extra[2 * nextra])
                nextra++;
        v = ab_calloc(2 * (na + nb + nextra) + 1, sizeof(*v));
        if (!v)
                return NULL;
        for (size_t i = 0; i < na + nb; i++) {
                const struct ab_pipeline_kv *kv = i < na ? &a[i] : &b[i - na];

                if (skip && !strcmp(kv->key, skip))
                        continue;
                v[o++] = kv->key;
                v[o++] = kv->value;
        }
        for (size_t i = 0; i < 2 * nextra; i++)
                v[o++] = extra[i];
        return v;
}

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
        props =
            pairs(b->kafka.properties, b->kafka.nproperties,
                  b->kafka.consumer_properties, b->kafka.nconsumer_properties,
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

        props = pairs(b->kafka.properties, b->kafka.nproperties,
                      b->kafka.producer_properties,
                      b->kafka.nproducer_properties, r->opts.properties, NULL);

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
        struct ab_processor_opts popts;
        struct ab_replay *r;
        size_t nparts;
        ab_err_t rc;

        *out = NULL;
        memset(&popts, 0, sizeof(popts));
        rc = check_opts(opts, err);
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
        popts.on_alert     = opts->dedup_groups ? on_alert : NULL;
        popts.on_alert_arg = r;
        rc = side_init(&r->sides[0], r->base, opts->topic, opts->integration,
                       &popts, "--integration", err);
        if (!rc && r->compare)
                rc = side_init(&r->sides[1], r->base, opts->topic,
                               opts->compare, NULL, "--compare", err);
        if (rc)
                goto fail;
        if (opts->expect_path) {
                rc = ab_replay_golden_open(opts->expect_path, &r->golden, err);
                if (rc)
                        goto fail;
        }
        rc = AB_ERR_NOMEM;
        if ((opts->expect_path || r->compare) &&
            !(r->diff = ab_replay_diff_new(opts->max_examples)))
                goto fail;
        if (opts->dedup_groups) {
                r->report = ab_lifecycle_report_new();
                if (!r->report || fpset_init(&r->fps, opts->dedup_groups))
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
        side_fini(&r->sides[0]);
        side_fini(&r->sides[1]);
        ab_replay_golden_destroy(r->golden);
        ab_replay_diff_destroy(r->diff);
        ab_lifecycle_report_destroy(r->report);
        ab_free(r->fps.slot);
        ab_pipeline_config_destroy(r->base);
        ab_buf_fini(&r->out);
        ab_buf_fini(&r->rej);
        ab_free(r);
}

/* ---------------------------------------------------------------- summary */

static const char *integ_name(const struct side *s)
{
        return s->integ ? ab_integration_name(s->integ) : "?";
}

static ab_err_t text_events(struct ab_buf *out, const uint64_t *events)
{
        uint64_t total = 0;
        ab_err_t rc;

        for (int t = 0; t < AB_EVENT__COUNT; t++)
                total += events[t];
        rc = ab_buf_appendf(out, "%llu", (unsigned long long)total);
        for (int t = 0; !rc && t < AB_EVENT__COUNT; t++)
                rc = ab_buf_appendf(out, "%s%llu %s", t ? ", " : ": ",
                                    (unsigned long long)events[t],
                                    ab_event_type_short((enum ab_event_type)t));
        return rc;
}

static ab_err_t text_rejections(const struct ab_replay *r, struct ab_buf *out)
{
        ab_err_t rc =
            ab_buf_appendf(out, "  rejected   %llu\n",
                           (unsigned long long)r->sides[0].rejections);

        for (int c = 0; !rc && c < AB_ERR__COUNT; c++) {
                const struct rej_stat *st = &r->rej_stats[c];

                if (!st->count)
                        continue;
                rc = ab_buf_appendf(out, "    %-20s %llu at",
                                    ab_err_code((ab_err_t)c),
                                    (unsigned long long)st->count);
                for (size_t i = 0; !rc && i < st->nfirst; i++)
                        rc = ab_buf_appendf(out, "%s %d:%lld", i ? "," : "",
                                            (int)st->first[i].partition,
                                            (long long)st->first[i].offset);
                if (!rc && st->count > st->nfirst)
                        rc = ab_buf_append_str(out, ", ...");
                if (!rc)
                        rc = ab_buf_append_str(out, "\n      e.g. ");
                if (!rc)
                        rc = ab_buf_append_json_str(out, st->example,
                                                    strlen(st->example));
                if (!rc)
                        rc = ab_buf_append_char(out, '\n');
        }
        return rc;
}

static ab_err_t text_partitions(const struct ab_replay *r, struct ab_buf *out)
{
        const struct ab_replay_partition *p;
        size_t n;
        ab_err_t rc = AB_OK;

        p = ab_replay_source_partitions(r->src, &n);
        for (size_t i = 0; !rc && i < n; i++)
                rc = ab_buf_appendf(out,
                                    "  partition %d: offsets [%lld, %lld) of "
                                    "the log's [%lld, %lld), %llu records\n",
                                    (int)p[i].partition, (long long)p[i].start,
                                    (long long)p[i].end, (long long)p[i].low,
                                    (long long)p[i].high,
                                    (unsigned long long)p[i].records);
        return rc;
}

static ab_err_t text_lifecycle(const struct ab_replay *r, struct ab_buf *out)
{
        struct ab_lifecycle *lc = ab_processor_lifecycle(r->sides[0].proc);
        struct ab_lifecycle_stats st;

        ab_lifecycle_get_stats(lc, &st);
        return ab_buf_appendf(
            out,
            "  lifecycle  %llu opened, %llu merged, %llu closed by recovery, "
            "%llu auto-closed, %llu evicted, %llu orphan and %llu stale "
            "recoveries, %zu open at the end\n",
            (unsigned long long)st.opened, (unsigned long long)st.merged,
            (unsigned long long)st.closed_recovered,
            (unsigned long long)st.closed_auto, (unsigned long long)st.evicted,
            (unsigned long long)st.orphan_recoveries,
            (unsigned long long)st.stale_recoveries,
            ab_lifecycle_open_count(lc));
}

/* Alerts mapped: each one the lifecycle saw ended in exactly one of these
 * counters (lifecycle.h). */
static uint64_t alerts_of(const struct ab_replay *r)
{
        struct ab_lifecycle_stats st;

        ab_lifecycle_get_stats(ab_processor_lifecycle(r->sides[0].proc), &st);
        return st.opened + st.merged + st.closed_recovered +
               st.orphan_recoveries + st.stale_recoveries;
}

static ab_err_t text_report(const struct ab_replay *r, struct ab_buf *out)
{
        ab_err_t rc;

        if (!r->report)
                return AB_OK;
        rc = ab_lifecycle_report_render(r->report, out);
        if (!rc)
                rc = ab_buf_appendf(
                    out,
                    "(inputs are %s; the report follows the "
                    "first %zu fingerprints%s)\n",
                    r->inputs_are_offsets ? "offsets"
                                          : "record numbers in replay order, "
                                            "from 0",
                    r->fps.max,
                    r->fps.n == r->fps.max ? ", more were seen: raise "
                                             "--dedup-groups"
                                           : "");
        return rc;
}

ab_err_t ab_replay_summary_text(const struct ab_replay *r, struct ab_buf *out)
{
        double secs = (double)r->elapsed_ns / 1e9;
        ab_err_t rc;

        rc = ab_buf_appendf(
            out, "replay of %s with integration %s%s%s%s\n", r->opts.topic,
            integ_name(&r->sides[0]), r->compare ? " (compared with " : "",
            r->compare ? integ_name(&r->sides[1]) : "", r->compare ? ")" : "");
        if (!rc)
                rc = text_partitions(r, out);
        if (!rc)
                rc = ab_buf_appendf(
                    out, "  records    %llu in %.3f s (%.0f records/s)%s\n",
                    (unsigned long long)r->records, secs,
                    secs > 0 ? (double)r->records / secs : 0.0,
                    r->complete ? "" : ", INCOMPLETE");
        if (!rc)
                rc = ab_buf_appendf(out, "  alerts     %llu\n",
                                    (unsigned long long)alerts_of(r));
        if (!rc)
                rc = ab_buf_append_str(out, "  events     ");
        if (!rc)
                rc = text_events(out, r->sides[0].events);
        if (!rc)
                rc = ab_buf_append_char(out, '\n');
        if (!rc)
                rc = text_rejections(r, out);
        if (!rc && r->compare) {
                rc = ab_buf_appendf(out, "  old (%s)  events ",
                                    integ_name(&r->sides[1]));
                if (!rc)
                        rc = text_events(out, r->sides[1].events);
                if (!rc)
                        rc = ab_buf_appendf(
                            out, "; %llu rejected\n",
                            (unsigned long long)r->sides[1].rejections);
        }
        if (!rc)
                rc = text_lifecycle(r, out);
        if (!rc && r->nslow)
                rc = ab_buf_append_str(out, "  slowest   ");
        for (size_t i = 0; !rc && i < r->nslow; i++)
                rc = ab_buf_appendf(out, "%s %d:%lld %.3f ms", i ? "," : "",
                                    (int)r->slow[i].partition,
                                    (long long)r->slow[i].offset,
                                    (double)r->slow[i].ns / 1e6);
        if (!rc && r->nslow)
                rc = ab_buf_append_char(out, '\n');
        if (!rc && r->producer)
                rc = ab_buf_appendf(out,
                                    "  output     %llu events to %s, %llu "
                                    "delivered, %llu failed\n",
                                    (unsigned long long)r->produced,
                                    r->opts.output_topic,
                                    (unsigned long long)r->delivered,
                                    (unsigned long long)r->delivery_failed);
        if (!rc)
                rc = text_report(r, out);
        return rc;
}

ab_err_t ab_replay_diff_text(const struct ab_replay *r, struct ab_buf *out)
{
        char old_name[300], new_name[300];

        if (!r->diff)
                return AB_OK;
        if (r->golden) {
                snprintf(old_name, sizeof(old_name), "expected (%s)",
                         r->opts.expect_path);
                snprintf(new_name, sizeof(new_name), "replay");
        } else {
                snprintf(old_name, sizeof(old_name), "old (%s)",
                         integ_name(&r->sides[1]));
                snprintf(new_name, sizeof(new_name), "new (%s)",
                         integ_name(&r->sides[0]));
        }
        return ab_replay_diff_render(r->diff, old_name, new_name, out);
}

/* ---------------------------------------------------------------- JSON */

static ab_err_t json_key_str(struct ab_buf *out, const char *key,
                             const char *val)
{
        ab_err_t rc = ab_buf_appendf(out, "\"%s\":", key);

        if (rc)
                return rc;
        return val ? ab_buf_append_json_str(out, val, strlen(val))
                   : ab_buf_append_str(out, "null");
}

static ab_err_t json_events(struct ab_buf *out, const uint64_t *events)
{
        uint64_t total = 0;
        ab_err_t rc    = ab_buf_append_char(out, '{');

        for (int t = 0; !rc && t < AB_EVENT__COUNT; t++) {
                total += events[t];
                rc = ab_buf_appendf(out, "\"%s\":%llu,",
                                    ab_event_type_short((enum ab_event_type)t),
                                    (unsigned long long)events[t]);
        }
        return rc ? rc
                  : ab_buf_appendf(out, "\"total\":%llu}",
                                   (unsigned long long)total);
}

static ab_err_t json_partitions(const struct ab_replay *r, struct ab_buf *out)
{
        const struct ab_replay_partition *p;
        size_t n;
        ab_err_t rc;

        p  = ab_replay_source_partitions(r->src, &n);
        rc = ab_buf_append_str(out, "\"partitions\":[");
        for (size_t i = 0; !rc && i < n; i++)
                rc = ab_buf_appendf(
                    out,
                    "%s{\"partition\":%d,\"start\":%lld,\"end\":%lld,"
                    "\"low\":%lld,\"high\":%lld,\"records\":%llu}",
                    i ? "," : "", (int)p[i].partition, (long long)p[i].start,
                    (long long)p[i].end, (long long)p[i].low,
                    (long long)p[i].high, (unsigned long long)p[i].records);
        return rc ? rc : ab_buf_append_char(out, ']');
}

static ab_err_t json_rejections(const struct ab_replay *r, struct ab_buf *out)
{
        bool first = true;
        ab_err_t rc =
            ab_buf_appendf(out,
                           "\"rejections\":{\"total\":%llu,"
                           "\"by_code\":[",
                           (unsigned long long)r->sides[0].rejections);

        for (int c = 0; !rc && c < AB_ERR__COUNT; c++) {
                const struct rej_stat *st = &r->rej_stats[c];

                if (!st->count)
                        continue;
                rc    = ab_buf_appendf(out,
                                       "%s{\"code\":\"%s\",\"count\":%llu,"
                                          "\"first\":[",
                                    first ? "" : ",", ab_err_code((ab_err_t)c),
                                       (unsigned long long)st->count);
                first = false;
                for (size_t i = 0; !rc && i < st->nfirst; i++)
                        rc = ab_buf_appendf(
                            out, "%s{\"partition\":%d,\"offset\":%lld}",
                            i ? "," : "", (int)st->first[i].partition,
                            (long long)st->first[i].offset);
                if (!rc)
                        rc = ab_buf_append_str(out, "],");
                if (!rc)
                        rc = json_key_str(out, "example", st->example);
                if (!rc)
                        rc = ab_buf_append_char(out, '}');
        }
        return rc ? rc : ab_buf_append_str(out, "]}");
}

static ab_err_t json_lifecycle(const struct ab_replay *r, struct ab_buf *out)
{
        struct ab_lifecycle *lc = ab_processor_lifecycle(r->sides[0].proc);
        struct ab_lifecycle_stats st;

        ab_lifecycle_get_stats(lc, &st);
        return ab_buf_appendf(
            out,
            "\"lifecycle\":{\"opened\":%llu,\"merged\":%llu,"
            "\"closed_recovered\":%llu,\"closed_auto\":%llu,\"evicted\":%llu,"
            "\"orphan_recoveries\":%llu,\"stale_recoveries\":%llu,"
            "\"open_at_end\":%zu}",
            (unsigned long long)st.opened, (unsigned long long)st.merged,
            (unsigned long long)st.closed_recovered,
            (unsigned long long)st.closed_auto, (unsigned long long)st.evicted,
            (unsigned long long)st.orphan_recoveries,
            (unsigned long long)st.stale_recoveries,
            ab_lifecycle_open_count(lc));
}

static ab_err_t json_dedup(const struct ab_replay *r, struct ab_buf *out)
{
        struct ab_buf text;
        ab_err_t rc;

        if (!r->report)
                return ab_buf_append_str(out, "\"dedup_report\":null");
        ab_buf_init(&text, 0);
        rc = ab_lifecycle_report_render(r->report, &text);
        if (!rc)
                rc = ab_buf_appendf(out,
                                    "\"dedup_report\":{\"inputs\":\"%s\","
                                    "\"fingerprints_followed\":%zu,"
                                    "\"limit\":%zu,",
                                    r->inputs_are_offsets ? "offsets"
                                                          : "records",
                                    r->fps.n, r->fps.max);
        if (!rc)
                rc = json_key_str(out, "text", text.len ? text.data : "");
        ab_buf_fini(&text);
        return rc ? rc : ab_buf_append_char(out, '}');
}

ab_err_t ab_replay_summary_json(const struct ab_replay *r, struct ab_buf *out)
{
        ab_err_t rc;

        rc = ab_buf_append_char(out, '{');
        if (!rc)
                rc = json_key_str(out, "topic", r->opts.topic);
        if (!rc)
                rc = ab_buf_append_char(out, ',');
        if (!rc)
                rc = json_key_str(out, "integration", integ_name(&r->sides[0]));
        if (!rc)
                rc = ab_buf_append_char(out, ',');
        if (!rc)
                rc = json_key_str(out, "compare_integration",
                                  r->compare ? integ_name(&r->sides[1]) : NULL);
        if (!rc)
                rc = ab_buf_appendf(out, ",\"complete\":%s,",
                                    r->complete ? "true" : "false");
        if (!rc)
                rc = json_partitions(r, out);
        if (!rc)
                rc = ab_buf_appendf(out,
                                    ",\"records\":%llu,\"alerts\":%llu,"
                                    "\"elapsed_ms\":%lld,\"events\":",
                                    (unsigned long long)r->records,
                                    (unsigned long long)alerts_of(r),
                                    (long long)(r->elapsed_ns / 1000000));
        if (!rc)
                rc = json_events(out, r->sides[0].events);
        if (!rc)
                rc = ab_buf_append_char(out, ',');
        if (!rc)
                rc = json_rejections(r, out);
        if (!rc)
                rc = ab_buf_append_char(out, ',');
        if (!rc)
                rc = json_lifecycle(r, out);
        if (!rc)
                rc = ab_buf_append_str(out, ",\"slowest\":[");
        for (size_t i = 0; !rc && i < r->nslow; i++)
                rc = ab_buf_appendf(
                    out, "%s{\"partition\":%d,\"offset\":%lld,\"us\":%lld}",
                    i ? "," : "", (int)r->slow[i].partition,
                    (long long)r->slow[i].offset,
                    (long long)(r->slow[i].ns / 1000));
        if (!rc)
                rc = ab_buf_append_str(out, "],");
        if (!rc)
                rc = json_dedup(r, out);
        if (!rc && r->producer)
                rc = ab_buf_appendf(out,
                                    ",\"output_topic\":{\"produced\":%llu,"
                                    "\"delivered\":%llu,\"failed\":%llu}",
                                    (unsigned long long)r->produced,
                                    (unsigned long long)r->delivered,
                                    (unsigned long long)r->delivery_failed);
        if (!rc && r->compare) {
                rc = ab_buf_append_str(out, ",\"compare_events\":");
                if (!rc)
                        rc = json_events(out, r->sides[1].events);
                if (!rc)
                        rc = ab_buf_appendf(
                            out, ",\"compare_rejections\":%llu",
                            (unsigned long long)r->sides[1].rejections);
        }
        if (!rc && r->diff) {
                rc = ab_buf_appendf(out, ",\"diff\":{\"mode\":\"%s\",",
                                    r->golden ? "expect" : "compare");
                if (!rc)
                        rc = ab_buf_append_str(out, "\"result\":");
                if (!rc)
                        rc = ab_replay_diff_json(r->diff, out);
                if (!rc)
                        rc = ab_buf_append_char(out, '}');
        }
        return rc ? rc : ab_buf_append_str(out, "}\n");
}
