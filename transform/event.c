/* event.c - writes alert lifecycle events as ARMS-shaped CloudEvents 1.0. */

#include "transform/event.h"

#include <string.h>

/* The event ids' hash, compiled in (see "stateless event ids" below). */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/mem.h"
#include "core/timefmt.h"

/* CloudEvents `source` when the caller sets none (the pipeline's default). */
#define EVENT_SOURCE_DEFAULT "alertbridge"

/* `solution` of a stateless close: the only way to get one is a recovery. */
#define EVENT_SOLUTION_RECOVERED "recovered: the alert source reported recovery"

/* Alertmanager's rendering of Go's zero time: "no end yet" on firing alerts. */
#define EVENT_GO_ZERO_TIME "0001-01-01T00:00:00Z"

static const char *const type_names[AB_EVENT__COUNT] = {
    "aliyun:arms:alarm:create",
    "aliyun:arms:alarm:claim",
    "aliyun:arms:alarm:comment",
    "aliyun:arms:alarm:close",
};

static const char *const type_shorts[AB_EVENT__COUNT] = {
    "create",
    "claim",
    "comment",
    "close",
};

const char *ab_event_type_name(enum ab_event_type t)
{
        if ((unsigned)t >= AB_EVENT__COUNT)
                return "unknown";
        return type_names[t];
}

const char *ab_event_type_short(enum ab_event_type t)
{
        if ((unsigned)t >= AB_EVENT__COUNT)
                return "unknown";
        return type_shorts[t];
}

/* The two hex digits of every byte value: one 2-byte copy per byte. */
static const char hex_pairs[513] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

void ab_hex(const unsigned char *digest, size_t n, char *out)
{
        for (size_t i = 0; i < n; i++)
                memcpy(out + 2 * i, hex_pairs + 2 * digest[i], 2);
        out[2 * n] = '\0';
}

/* ------------------------------------------------------------ event ids */

/*
 * HOW IT WORKS (stateless event ids, version 2)
 * The id is the 128-bit XXH3 hash, as 32 lower-case hex characters of its
 * canonical (big-endian) form, of
 *
 *   base || u32be(element index) || event type short name
 *
 * where base = XXH3-128( field(integration name) || field(payload bytes) )
 * in canonical form (16 bytes), field(x) is the length of x as an 8-byte
 * big-endian integer followed by the bytes of x, the element index is 0
 * without batch, and the type short name is "create" or "close". A NULL
 * integration name counts as empty. The length prefixes and the fixed
 * widths make each encoding unambiguous, so the ids of two different
 * inputs differ unless XXH3-128 collides; the same input gives the same id
 * on every machine and release, which lets consumers recognize replays.
 * Changing any of this changes every id: treat it as a stable format.
 *
 * Version 1 hashed the same fields with SHA-256, which took a quarter of
 * the stateless mode's time on a 1.2 KB payload even with the CPU's SHA
 * instructions; these ids only name the events of the stateless mode
 * (`alertbridge test` without --dedup), so a non-cryptographic hash
 * serves. The lifecycle's ids (lifecycle/ident.c), which the pipeline
 * publishes, stay SHA-256.
 *
 * Every alert of one record shares the base, and the payload is most of
 * the bytes hashed: struct ab_event_idbase keeps it, so a record costs
 * one pass over its payload whatever its number of alerts (hashing it per
 * alert was quadratic), and each alert hashes 27 bytes at most. xxhash.h
 * is compiled in (XXH_INLINE_ALL): no library at run time, and the
 * functions allocate nothing and are thread-safe.
 */
static void put_be64(unsigned char *p, uint64_t v)
{
        for (int i = 7; i >= 0; i--) {
                p[i] = (unsigned char)(v & 0xFF);
                v >>= 8;
        }
}

void ab_event_idbase_init(struct ab_event_idbase *base, const char *integration,
                          const char *payload, size_t payload_len)
{
        const char *name = integration ? integration : "";
        size_t name_len  = strlen(name);
        unsigned char len[8];
        XXH3_state_t st;
        XXH128_canonical_t c;

        /* update() cannot fail on a reset state with a non-NULL input. */
        XXH3_128bits_reset(&st);
        put_be64(len, name_len);
        XXH3_128bits_update(&st, len, sizeof(len));
        XXH3_128bits_update(&st, name, name_len);
        put_be64(len, payload_len);
        XXH3_128bits_update(&st, len, sizeof(len));
        XXH3_128bits_update(&st, payload ? payload : "", payload_len);
        XXH128_canonicalFromHash(&c, XXH3_128bits_digest(&st));
        _Static_assert(sizeof(c.digest) == sizeof(base->digest),
                       "struct ab_event_idbase holds a canonical XXH128");
        memcpy(base->digest, c.digest, sizeof(base->digest));
}

/* Set \p id (AB_EVENT_ID_LEN + 1 bytes); empty when \p base is NULL. */
static void event_id(char *id, const struct ab_event_idbase *base,
                     uint32_t index, enum ab_event_type type)
{
        const char *tshort = ab_event_type_short(type);
        size_t tlen        = strlen(tshort);
        unsigned char m[sizeof(base->digest) + 4 + 16];
        XXH128_canonical_t c;

        id[0] = '\0';
        if (!base || tlen > 16)
                return;
        memcpy(m, base->digest, sizeof(base->digest));
        m[16] = (unsigned char)(index >> 24);
        m[17] = (unsigned char)(index >> 16);
        m[18] = (unsigned char)(index >> 8);
        m[19] = (unsigned char)index;
        memcpy(m + 20, tshort, tlen);
        XXH128_canonicalFromHash(&c, XXH3_128bits(m, 20 + tlen));
        _Static_assert(AB_EVENT_ID_LEN == 2 * sizeof(c.digest),
                       "an id is the whole canonical XXH128 in hex");
        ab_hex(c.digest, sizeof(c.digest), id);
}

/*
 * Stateless mode: every alert is its own event. The clock gives the event
 * time, and the start when the source gave none; a recovery ends at the
 * source's end time, else now. The fingerprint, alert id, count and the
 * routing fields (source, owner, dispatch rule, receiver, external URL)
 * stay empty for the caller to fill in; the writer prints "" or its
 * default for what stays unset.
 */
void ab_event_from_alert_base(struct ab_event *ev, const struct ab_alert *a,
                              const char *integration_name,
                              const struct ab_event_idbase *base,
                              int64_t now_ms)
{
        memset(ev, 0, sizeof(*ev));
        ev->resolved    = a->status == AB_ALERT_RESOLVED;
        ev->type        = ev->resolved ? AB_EVENT_CLOSE : AB_EVENT_CREATE;
        ev->integration = integration_name;
        ev->alert       = a;
        ev->time_ms     = now_ms;
        ev->start_ms    = a->has_starts ? a->starts_ms : now_ms;
        if (ev->resolved) {
                ev->end_ms   = a->has_ends ? a->ends_ms : now_ms;
                ev->solution = EVENT_SOLUTION_RECOVERED;
                /* A recovery that does not say when the alert started
                 * cannot have started after it ended. */
                if (!a->has_starts && ev->start_ms > ev->end_ms)
                        ev->start_ms = ev->end_ms;
        }
        event_id(ev->id, base, a->index, ev->type);
}

void ab_event_from_alert(struct ab_event *ev, const struct ab_alert *a,
                         const char *integration_name, const char *payload,
                         size_t payload_len, int64_t now_ms)
{
        struct ab_event_idbase base;

        ab_event_idbase_init(&base, integration_name, payload, payload_len);
        ab_event_from_alert_base(ev, a, integration_name, &base, now_ms);
}

/* ------------------------------------------------------------ writer */

/*
 * A writer appends to the caller's buffer and remembers the first error,
 * so the serializer reads as a straight sequence of appends. Nothing here
 * allocates except the buffer growing, which stops once it has reached the
 * largest event written through it.
 */
struct writer {
        struct ab_buf *b;
        ab_err_t rc;
};

static void w_raw(struct writer *w, const char *s, size_t n)
{
        if (!w->rc)
                w->rc = ab_buf_append(w->b, s, n);
}

#define W_LIT(w, lit) w_raw((w), (lit), sizeof(lit) - 1)

static void w_str(struct writer *w, const char *s, size_t n)
{
        if (!w->rc)
                w->rc = ab_buf_append_json_str(w->b, s, n);
}

static void w_cstr(struct writer *w, const char *s)
{
        if (!s)
                s = "";
        w_str(w, s, strlen(s));
}

/* Append \p s escaped as JSON string content, without the quotes. */
static void w_str_inner(struct writer *w, const char *s, size_t n)
{
        if (!w->rc)
                w->rc = ab_buf_append_json_chars(w->b, s, n);
}

static void w_i64(struct writer *w, int64_t v)
{
        if (!w->rc)
                w->rc = ab_buf_append_i64(w->b, v);
}

/* A time as a quoted RFC 3339 string, formatted once however often it is
 * written. */
struct qtime {
        char s[AB_TIME_RFC3339_LEN + 2];
        size_t n;
};

static void qtime_set(struct qtime *q, int64_t ms)
{
        q->s[0]      = '"';
        q->n         = 1 + ab_time_format(ms, q->s + 1);
        q->s[q->n++] = '"';
}

static void w_qtime(struct writer *w, const struct qtime *q)
{
        w_raw(w, q->s, q->n);
}

/* Append a copy of bytes [start, end) already written to the buffer. */
static void w_again(struct writer *w, size_t start, size_t end)
{
        /* Reserve first: the append then cannot move the bytes it copies. */
        if (!w->rc)
                w->rc = ab_buf_reserve(w->b, end - start);
        w_raw(w, w->b->data + start, end - start);
}

static void w_kvs(struct writer *w, const struct ab_kv *kv, size_t n)
{
        W_LIT(w, "{");
        for (size_t i = 0; i < n; i++) {
                if (i)
                        W_LIT(w, ",");
                w_str(w, kv[i].key.ptr, kv[i].key.len);
                W_LIT(w, ":");
                w_str(w, kv[i].val.ptr, kv[i].val.len);
        }
        W_LIT(w, "}");
}

static struct ab_str alert_name(const struct ab_alert *a)
{
        if (ab_str_present(a->field[AB_FIELD_ALERTNAME]))
                return a->field[AB_FIELD_ALERTNAME];
        return ab_alert_label(a, ab_str_c("alertname"));
}

/* externalURL or receiver: the caller's \p set, else the alert's own
 * (mapped from the source's group), else "". */
static void w_routing(struct writer *w, const char *set, struct ab_str own)
{
        if (set || !ab_str_present(own))
                w_cstr(w, set);
        else
                w_str(w, own.ptr, own.len);
}

/* "resolved" or "firing", quoted. */
static void w_status(struct writer *w, const struct ab_event *ev)
{
        if (ev->resolved)
                W_LIT(w, "\"resolved\"");
        else
                W_LIT(w, "\"firing\"");
}

/* data.data: the Alertmanager-compatible group with exactly one alert; the
 * alert carries `generatorURL` when the integration maps one. */
static void w_group(struct writer *w, const struct ab_event *ev)
{
        const struct ab_alert *a = ev->alert;
        struct ab_str name       = alert_name(a);
        char level[4]            = {'"', 'P', (char)('0' + a->severity), '"'};
        size_t lab, lab_end, ann, ann_end;
        struct qtime start, end;

        qtime_set(&start, ev->start_ms);
        if (ev->resolved)
                qtime_set(&end, ev->end_ms);
        W_LIT(w, "{\"status\":");
        w_status(w, ev);
        W_LIT(w, ",\"level\":");
        w_raw(w, level, sizeof(level));
        W_LIT(w, ",\"dispatchRuleName\":");
        w_cstr(w, ev->dispatch_rule);
        W_LIT(w, ",\"startTime\":");
        w_qtime(w, &start);
        if (ev->resolved) {
                W_LIT(w, ",\"endTime\":");
                w_qtime(w, &end);
        }
        W_LIT(w, ",\"externalURL\":");
        w_routing(w, ev->external_url, a->field[AB_FIELD_EXTERNALURL]);
        W_LIT(w, ",\"receiver\":");
        w_routing(w, ev->receiver, a->field[AB_FIELD_RECEIVER]);

        W_LIT(w, ",\"alerts\":[{\"fingerprint\":");
        w_cstr(w, ev->fingerprint);
        W_LIT(w, ",\"status\":");
        w_status(w, ev);
        W_LIT(w, ",\"startsAt\":");
        w_qtime(w, &start);
        W_LIT(w, ",\"endsAt\":");
        if (ev->resolved)
                w_qtime(w, &end);
        else
                W_LIT(w, "\"" EVENT_GO_ZERO_TIME "\"");
        W_LIT(w, ",\"labels\":");
        lab = w->b->len;
        w_kvs(w, a->labels, a->nlabels);
        lab_end = w->b->len;
        W_LIT(w, ",\"annotations\":");
        ann = w->b->len;
        w_kvs(w, a->annotations, a->nannotations);
        ann_end = w->b->len;
        if (ab_str_present(a->field[AB_FIELD_GENERATORURL])) {
                W_LIT(w, ",\"generatorURL\":");
                w_str(w, a->field[AB_FIELD_GENERATORURL].ptr,
                      a->field[AB_FIELD_GENERATORURL].len);
        }
        W_LIT(w, "}]");

        /* With one alert, the common sets are its own: escaped once above,
         * copied here (escaping is most of the writer's work). */
        W_LIT(w, ",\"commonLabels\":");
        w_again(w, lab, lab_end);
        W_LIT(w, ",\"commonAnnotations\":");
        w_again(w, ann, ann_end);
        W_LIT(w, ",\"groupLabels\":{");
        if (ab_str_present(name)) {
                W_LIT(w, "\"alertname\":");
                w_str(w, name.ptr, name.len);
        }
        W_LIT(w, "}}");
}

/*
 * The `data` member: exactly the fields of the seed-000 table for the
 * event type (owner always; handler and operator on claim, comment and
 * close; comment on comment; solution on close). A field the type needs
 * but the caller left NULL is written as "", so the shape never depends
 * on what happens to be set.
 */
static void w_data(struct writer *w, const struct ab_event *ev)
{
        W_LIT(w, "{\"owner\":");
        w_cstr(w, ev->owner);
        if (ev->type != AB_EVENT_CREATE) {
                W_LIT(w, ",\"handler\":");
                w_cstr(w, ev->handler);
                W_LIT(w, ",\"operator\":");
                w_cstr(w, ev->operator_name);
        }
        if (ev->type == AB_EVENT_COMMENT) {
                W_LIT(w, ",\"comment\":");
                w_cstr(w, ev->comment);
        }
        if (ev->type == AB_EVENT_CLOSE) {
                W_LIT(w, ",\"solution\":");
                w_cstr(w, ev->solution);
        }
        W_LIT(w, ",\"timestamp\":");
        w_i64(w, ev->time_ms);
        W_LIT(w, ",\"data\":");
        w_group(w, ev);
        W_LIT(w, "}");
}

static ab_err_t event_check(const struct ab_event *ev)
{
        if ((unsigned)ev->type >= AB_EVENT__COUNT || !ev->alert ||
            ev->alert->severity < 1 || ev->alert->severity > 4 || !ev->id[0])
                return AB_ERR_INTERNAL;
        return AB_OK;
}

/* On failure, leave \p out as it was before the call. */
static ab_err_t finish(struct writer *w, size_t start)
{
        if (w->rc)
                ab_buf_truncate(w->b, start);
        return w->rc;
}

/*
 * `subject` is "<integration>/<alert id>", or "<integration>/<fingerprint>"
 * when the event has no alert id yet; without either it is left out (the
 * stateless transform knows neither). Without an integration name it is
 * just the id or fingerprint.
 */
static void w_subject(struct writer *w, const struct ab_event *ev)
{
        const char *key = ev->alert_id[0] ? ev->alert_id : ev->fingerprint;

        if (!key[0])
                return;
        W_LIT(w, ",\"subject\":\"");
        if (ev->integration && ev->integration[0]) {
                w_str_inner(w, ev->integration, strlen(ev->integration));
                W_LIT(w, "/");
        }
        w_str_inner(w, key, strlen(key));
        W_LIT(w, "\"");
}

ab_err_t ab_event_write(struct ab_buf *out, const struct ab_event *ev)
{
        struct writer w = {out, event_check(ev)};
        size_t start    = out->len;
        struct qtime time;

        if (w.rc)
                return w.rc;
        W_LIT(&w, "{\"specversion\":\"1.0\",\"id\":");
        w_cstr(&w, ev->id);
        W_LIT(&w, ",\"source\":");
        w_cstr(&w,
               ev->source && ev->source[0] ? ev->source : EVENT_SOURCE_DEFAULT);
        W_LIT(&w, ",\"type\":\"");
        /* The type names are plain ASCII: nothing to escape. */
        w_raw(&w, type_names[ev->type], strlen(type_names[ev->type]));
        W_LIT(&w, "\"");
        w_subject(&w, ev);
        qtime_set(&time, ev->time_ms);
        W_LIT(&w, ",\"time\":");
        w_qtime(&w, &time);
        W_LIT(&w, ",\"datacontenttype\":\"application/json\"");
        if (ev->alert_id[0]) {
                W_LIT(&w, ",\"alertid\":");
                w_cstr(&w, ev->alert_id);
        }
        if (ev->integration && ev->integration[0]) {
                W_LIT(&w, ",\"integration\":");
                w_cstr(&w, ev->integration);
        }
        if (ev->count) {
                /* A CloudEvents Integer is 32-bit: saturate. */
                W_LIT(&w, ",\"alertcount\":");
                w_i64(&w,
                      ev->count > INT32_MAX ? INT32_MAX : (int64_t)ev->count);
        }
        if (ev->trace.traceparent.ptr) {
                W_LIT(&w, ",\"traceparent\":");
                w_str(&w, ev->trace.traceparent.ptr, ev->trace.traceparent.len);
                if (ev->trace.tracestate.ptr) {
                        W_LIT(&w, ",\"tracestate\":");
                        w_str(&w, ev->trace.tracestate.ptr,
                              ev->trace.tracestate.len);
                }
        }
        W_LIT(&w, ",\"data\":");
        w_data(&w, ev);
        W_LIT(&w, "}");
        return finish(&w, start);
}

ab_err_t ab_event_write_data(struct ab_buf *out, const struct ab_event *ev)
{
        struct writer w = {out, event_check(ev)};
        size_t start    = out->len;

        if (w.rc)
                return w.rc;
        w_data(&w, ev);
        return finish(&w, start);
}
