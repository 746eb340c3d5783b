/* alert_record.c - encoding, decoding and routing of the <group>.alerts
 * records. */
#include "pipeline/alert_record.h"

#include <string.h>

#include "core/json.h"
#include "core/mem.h"
#include "core/varint.h"
#include "lifecycle/lifecycle.h"

/*
 * HOW IT WORKS: the format, version 2 (docs/stateful-pipeline.md,
 * "Record formats"). Integers are little-endian; a varint is LEB128
 * (7 bits a byte, low first, at most 10 bytes); i32/i64 are two's
 * complement in 4/8 bytes.
 *   str  = varint n, n bytes                    (a present string)
 *   opt  = varint 0 (absent) | varint n+1, n bytes
 *
 *   "ABAR", u8 version (1 or 2), u8 kind, then
 *   kind 1, ALERT:
 *     str integration, fp[16], i64 event_ms,
 *     str source topic, i32 partition, i64 offset,
 *     u8 status (0 firing, 1 resolved),
 *     u8 flags (1 has_starts, 2 has_ends, 4 message_truncated),
 *     u8 severity (1..4), [i64 starts_ms], [i64 ends_ms], varint index,
 *     varint nlabels, nlabels x (str key, opt value), the same for
 *     annotations,
 *     varint field mask (bit f = field f mapped), then per mapped field
 *     a varint ref: 0 = a str follows; k > 0 = the value of label
 *     (LABEL fields) or annotation (ANNOTATION fields) number k - 1,
 *     which is how most fields travel: once, in their label;
 *     version 2 only: str traceparent, opt tracestate (the input
 *     record's W3C trace context, valid by core/trace.h).
 *   kind 2, ACTION:
 *     str topic, i32 partition, i64 offset, i64 timestamp_ms,
 *     opt key, opt value, varint nheaders, nheaders x (str name, opt
 *     value), the same in both versions.
 *   kind 3, BATCH (version 3 only): one or more entries to the end, each
 *     a varint n and n bytes holding a whole ALERT or ACTION record of
 *     version 1 or 2 (its own head included, so an entry is a record on
 *     its own: a bad one goes to the dead letters by itself).
 * The record ends there: trailing bytes are an error. The alert part
 * after the status, from its flags to its fields, is the lifecycle's alert
 * coding (lifecycle.h): a decoded record points at it, and the lifecycle
 * stage stores an alert by copying those bytes.
 *
 * Decoding walks the bytes once with a bounds-checked reader whose first
 * failure sticks (with its offset); a count is checked against the bytes
 * left (every entry takes at least two) before the scratch grows for it.
 * A BATCH is walked entry by entry, reading each head only; the entries
 * are decoded one at a time by the caller, with offsets of their own.
 */

_Static_assert(AB_ALERT_RECORD_FP_LEN == AB_LIFECYCLE_FP_LEN,
               "a record carries the lifecycle's binary fingerprint");

#define AR_HEAD_LEN 6 /* magic, version, kind */

#define AR_FLAG_STARTS    1u
#define AR_FLAG_ENDS      2u
#define AR_FLAG_TRUNCATED 4u

void ab_alert_record_scratch_fini(struct ab_alert_record_scratch *s)
{
        if (!s)
                return;
        ab_free(s->kv);
        memset(s, 0, sizeof(*s));
}

/* ----------------------------------------------------------- encoding */

/* A writer appends to the caller's buffer and remembers the first
 * error, so an encoder reads as a straight sequence of puts. The record
 * is NUL-terminated once, by put_end(). */
struct wr {
        struct ab_buf *b;
        ab_err_t rc;
};

static void put_bytes(struct wr *w, const void *p, size_t n)
{
        struct ab_buf *b = w->b;

        if (w->rc)
                return;
        if ((b->cap - b->len <= n || (b->limit && b->len + n > b->limit)) &&
            (w->rc = ab_buf_reserve(b, n)))
                return;
        if (n)
                memcpy(b->data + b->len, p, n);
        b->len += n;
}

static void put_varint(struct wr *w, uint64_t v)
{
        unsigned char t[AB_VARINT_MAX];

        put_bytes(w, t, (size_t)(ab_varint_put(t, v) - t));
}

static void put_le(struct wr *w, uint64_t v, size_t n)
{
        unsigned char t[8];
        size_t i;

        for (i = 0; i < n; i++)
                t[i] = (unsigned char)(v >> (8 * i));
        put_bytes(w, t, n);
}

static void put_str(struct wr *w, struct ab_str s)
{
        put_varint(w, s.len);
        put_bytes(w, s.ptr, s.len);
}

static void put_opt(struct wr *w, struct ab_str s)
{
        if (!s.ptr) {
                put_varint(w, 0);
                return;
        }
        put_varint(w, (uint64_t)s.len + 1);
        put_bytes(w, s.ptr, s.len);
}

static void put_head(struct wr *w, unsigned version,
                     enum ab_alert_record_kind kind)
{
        unsigned char h[AR_HEAD_LEN] = {
            'A', 'B', 'A', 'R', (unsigned char)version, (unsigned char)kind};

        put_bytes(w, h, sizeof(h));
}

static void put_origin(struct wr *w, const struct ab_alert_record_origin *o)
{
        put_str(w, o->topic);
        put_le(w, (uint64_t)(uint32_t)o->partition, 4);
        put_le(w, (uint64_t)o->offset, 8);
}

static void put_kvs(struct wr *w, const struct ab_kv *kv, size_t n)
{
        size_t i;

        put_varint(w, n);
        for (i = 0; i < n; i++) {
                put_str(w, kv[i].key);
                put_opt(w, kv[i].val);
        }
}

/*
 * An ALERT record is written in two passes: its bytes are added up (the
 * alert's by ab_lifecycle_code_plan(), which finds each mapped field's
 * reference once), then the buffer grows once and the w_*() functions and
 * ab_lifecycle_code_write() write through a plain pointer. A put per label
 * through struct wr, each with its capacity check and a memcpy() call, cost
 * twice what decoding the record does.
 */
static size_t str_size(struct ab_str s)
{
        return ab_varint_bytes_len(s.len);
}

static size_t opt_size(struct ab_str s)
{
        return ab_varint_opt_len(s.ptr, s.len);
}

static unsigned char *w_le(unsigned char *p, uint64_t v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                *p++ = (unsigned char)(v >> (8 * i));
        return p;
}

static unsigned char *w_str(unsigned char *p, struct ab_str s)
{
        return ab_varint_put_bytes(p, s.ptr, s.len);
}

static unsigned char *w_opt(unsigned char *p, struct ab_str s)
{
        return ab_varint_put_opt(p, s.ptr, s.len);
}

/* Drop a half-written record and say why the encoding failed. */
static ab_err_t put_end(struct wr *w, size_t start, struct ab_error *err)
{
        if (!w->rc) {
                if (w->b->data)
                        w->b->data[w->b->len] = '\0';
                return AB_OK;
        }
        ab_buf_truncate(w->b, start);
        return ab_error_set(err, w->rc, NULL, "encoding an alerts record: %s",
                            ab_err_desc(w->rc));
}

/* Absent, or a valid traceparent with an absent or valid tracestate. */
static bool trace_valid(const struct ab_trace_ctx *t)
{
        if (!t->traceparent.ptr)
                return !t->tracestate.ptr;
        return ab_traceparent_valid(t->traceparent) &&
               (!t->tracestate.ptr || ab_tracestate_valid(t->tracestate));
}

ab_err_t ab_alert_record_encode_alert(const struct ab_alert_record_alert *in,
                                      struct ab_buf *out, struct ab_error *err)
{
        const struct ab_alert_record_origin *o = &in->origin;
        bool traced = in->trace.traceparent.ptr != NULL;
        struct ab_lifecycle_code_plan pl;
        unsigned char *p, *start;
        size_t n;
        ab_err_t rc;

        if (in->alert->severity < 1 || in->alert->severity > 4)
                return ab_error_set(err, AB_ERR_INTERNAL, NULL,
                                    "alert with severity %d",
                                    in->alert->severity);
        if (!in->integration.len)
                return ab_error_set(err, AB_ERR_INTERNAL, NULL,
                                    "alert without an integration");
        if (!trace_valid(&in->trace))
                return ab_error_set(err, AB_ERR_INTERNAL, NULL,
                                    "alert with an invalid trace context");
        ab_lifecycle_code_plan(in->alert, &pl);
        n = AR_HEAD_LEN + str_size(in->integration) + AB_ALERT_RECORD_FP_LEN +
            8 + str_size(o->topic) + 4 + 8 + 1 + pl.size;
        if (traced)
                n += str_size(in->trace.traceparent) +
                     opt_size(in->trace.tracestate);
        /* ab_buf_reserve() keeps room for the NUL after n more bytes. */
        rc = ab_buf_reserve(out, n);
        if (rc)
                return ab_error_set(err, rc, NULL,
                                    "encoding an alerts record: %s",
                                    ab_err_desc(rc));
        p = start = (unsigned char *)out->data + out->len;
        memcpy(p, AB_ALERT_RECORD_MAGIC, 4);
        p[4] = traced ? 2 : 1;
        p[5] = AB_ALERT_RECORD_ALERT;
        p    = w_str(p + AR_HEAD_LEN, in->integration);
        memcpy(p, in->fp, AB_ALERT_RECORD_FP_LEN);
        p    = w_le(p + AB_ALERT_RECORD_FP_LEN, (uint64_t)in->event_ms, 8);
        p    = w_str(p, o->topic);
        p    = w_le(p, (uint64_t)(uint32_t)o->partition, 4);
        p    = w_le(p, (uint64_t)o->offset, 8);
        *p++ = in->alert->status == AB_ALERT_RESOLVED ? 1 : 0;
        p    = ab_lifecycle_code_write(p, in->alert, &pl);
        if (traced) {
                p = w_str(p, in->trace.traceparent);
                p = w_opt(p, in->trace.tracestate);
        }
        if ((size_t)(p - start) != n)
                return ab_error_set(err, AB_ERR_INTERNAL, NULL,
                                    "an alerts record of %zu bytes, %zu "
                                    "planned",
                                    (size_t)(p - start), n);
        out->len += n;
        out->data[out->len] = '\0';
        return AB_OK;
}

ab_err_t ab_alert_record_encode_action(const struct ab_alert_record_action *in,
                                       struct ab_buf *out, struct ab_error *err)
{
        struct wr w  = {out, AB_OK};
        size_t start = out->len;

        put_head(&w, 1, AB_ALERT_RECORD_ACTION);
        put_origin(&w, &in->origin);
        put_le(&w, (uint64_t)in->timestamp_ms, 8);
        put_opt(&w, in->key);
        put_opt(&w, in->value);
        put_kvs(&w, in->headers, in->nheaders);
        return put_end(&w, start, err);
}

/* The head of an ALERT or ACTION record of version 1 or 2. */
static bool entry_head_ok(const unsigned char *h, size_t len)
{
        return len >= AR_HEAD_LEN && !memcmp(h, AB_ALERT_RECORD_MAGIC, 4) &&
               h[4] >= 1 && h[4] <= AB_ALERT_RECORD_VERSION &&
               (h[5] == AB_ALERT_RECORD_ALERT ||
                h[5] == AB_ALERT_RECORD_ACTION);
}

size_t ab_alert_record_batch_cost(size_t used, size_t len)
{
        return (used ? 0 : AR_HEAD_LEN) + ab_varint_len(len) + len;
}

ab_err_t ab_alert_record_batch_add(struct ab_buf *out, const void *rec,
                                   size_t len, struct ab_error *err)
{
        struct wr w  = {out, AB_OK};
        size_t start = out->len;

        if (!entry_head_ok(rec, len))
                return ab_error_set(err, AB_ERR_INTERNAL, NULL,
                                    "batching an alerts record that is no "
                                    "ALERT or ACTION record");
        if (!start)
                put_head(&w, AB_ALERT_RECORD_BATCH_VERSION,
                         AB_ALERT_RECORD_BATCH);
        put_varint(&w, len);
        put_bytes(&w, rec, len);
        return put_end(&w, start, err);
}

bool ab_alert_record_batch_next(const struct ab_alert_record_batch *b,
                                size_t *at, struct ab_str *rec)
{
        const unsigned char *p = (const unsigned char *)b->body.ptr + *at;
        uint64_t n             = 0;
        unsigned shift         = 0;

        /* The body was walked by ab_alert_record_decode(): every varint
         * and length in it is valid. */
        if (*at >= b->body.len)
                return false;
        do
                n |= (uint64_t)(*p & 0x7f) << shift, shift += 7;
        while (*p++ & 0x80);
        *rec = ab_str_make((const char *)p, (size_t)n);
        *at  = (size_t)(p - (const unsigned char *)b->body.ptr) + (size_t)n;
        return true;
}

/* ----------------------------------------------------------- decoding */

/* A bounds-checked reader; its first failure sticks in `rc`. */
struct rd {
        const unsigned char *base;
        const unsigned char *p;
        const unsigned char *end;
        struct ab_error *err;
        ab_err_t rc;
};

static size_t rd_at(const struct rd *r)
{
        return (size_t)(r->p - r->base);
}

static size_t rd_left(const struct rd *r)
{
        return (size_t)(r->end - r->p);
}

/* Fail \p r at \p at (the first failure wins); always returns 0. */
static int rd_fail(struct rd *r, size_t at, const char *what,
                   const char *problem)
{
        if (!r->rc)
                r->rc = ab_error_set_at(r->err, AB_ERR_BAD_RECORD, at,
                                        "alerts record: %s: %s", what, problem);
        return 0;
}

/* The next \p n bytes, or NULL (and \p r failed) past the end. */
static const unsigned char *rd_bytes(struct rd *r, size_t n, const char *what)
{
        const unsigned char *p = r->p;

        if (r->rc)
                return NULL;
        if (rd_left(r) < n) {
                rd_fail(r, rd_at(r), what, "truncated");
                return NULL;
        }
        r->p += n;
        return p;
}

static uint64_t rd_le(struct rd *r, size_t n, const char *what)
{
        const unsigned char *p = rd_bytes(r, n, what);
        uint64_t v             = 0;
        size_t i;

        for (i = 0; p && i < n; i++)
                v |= (uint64_t)p[i] << (8 * i);
        return v;
}

/* rd_varint() past its one-byte case (kept out of line, so that the
 * common case inlines into every reader). */
static uint64_t rd_varint_long(struct rd *r, const char *what)
{
        size_t at  = rd_at(r);
        uint64_t v = 0;
        unsigned shift;

        for (shift = 0; shift < 64; shift += 7) {
                const unsigned char *p = rd_bytes(r, 1, what);

                if (!p)
                        return 0;
                if (shift == 63 && *p > 1)
                        break;
                v |= (uint64_t)(*p & 0x7f) << shift;
                if (!(*p & 0x80))
                        return v;
        }
        return (uint64_t)rd_fail(r, at, what, "varint overflows 64 bits");
}

static inline uint64_t rd_varint(struct rd *r, const char *what)
{
        if (!r->rc && r->p < r->end && *r->p < 0x80)
                return *r->p++;
        return rd_varint_long(r, what);
}

/* A length-prefixed text of \p n bytes; AB_STR_NULL once \p r failed. */
static struct ab_str rd_text(struct rd *r, uint64_t n, size_t at,
                             const char *what)
{
        const unsigned char *p;

        if (n > rd_left(r)) {
                rd_fail(r, at, what, "length runs past the end");
                return AB_STR_NULL;
        }
        p = rd_bytes(r, (size_t)n, what);
        return p ? ab_str_make((const char *)p, (size_t)n) : AB_STR_NULL;
}

static struct ab_str rd_str(struct rd *r, const char *what)
{
        size_t at  = rd_at(r);
        uint64_t n = rd_varint(r, what);

        return r->rc ? AB_STR_NULL : rd_text(r, n, at, what);
}

static struct ab_str rd_opt(struct rd *r, const char *what)
{
        size_t at  = rd_at(r);
        uint64_t n = rd_varint(r, what);

        return r->rc || !n ? AB_STR_NULL : rd_text(r, n - 1, at, what);
}

/* A count of entries of two bytes at least: checked against the bytes
 * left, so it can neither overflow nor grow the scratch for nothing. */
static size_t rd_count(struct rd *r, const char *what)
{
        size_t at  = rd_at(r);
        uint64_t n = rd_varint(r, what);

        if (!r->rc && n > rd_left(r) / 2)
                return (size_t)rd_fail(r, at, what, "count exceeds the record");
        return r->rc ? 0 : (size_t)n;
}

static ab_err_t kv_reserve(struct ab_alert_record_scratch *s, size_t n)
{
        struct ab_kv *kv;

        if (n <= s->kv_cap)
                return AB_OK;
        kv = ab_realloc(s->kv, n * sizeof(*kv));
        if (!kv)
                return AB_ERR_NOMEM;
        s->kv     = kv;
        s->kv_cap = n;
        return AB_OK;
}

/* Read \p n entries into s->kv from \p first on. */
static ab_err_t rd_kvs(struct rd *r, struct ab_alert_record_scratch *s,
                       size_t first, size_t n, const char *key, const char *val)
{
        size_t i;

        if (kv_reserve(s, first + n))
                return ab_error_set(r->err, AB_ERR_NOMEM, NULL,
                                    "out of memory");
        for (i = 0; i < n && !r->rc; i++) {
                s->kv[first + i].key = rd_str(r, key);
                s->kv[first + i].val = rd_opt(r, val);
        }
        return AB_OK;
}

static void rd_origin(struct rd *r, struct ab_alert_record_origin *o)
{
        o->topic     = rd_str(r, "source topic");
        o->partition = (int32_t)(uint32_t)rd_le(r, 4, "source partition");
        o->offset    = (int64_t)rd_le(r, 8, "source offset");
}

/* The value field \p f refers to (\p ref > 0), or AB_STR_NULL. */
static struct ab_str field_target(const struct ab_alert *a, size_t f,
                                  uint64_t ref)
{
        switch (ab_alert_field_kind((enum ab_alert_field)f)) {
        case AB_FIELD_KIND_LABEL:
                return ref <= a->nlabels ? a->labels[ref - 1].val : AB_STR_NULL;
        case AB_FIELD_KIND_ANNOTATION:
                return ref <= a->nannotations ? a->annotations[ref - 1].val
                                              : AB_STR_NULL;
        default:
                return AB_STR_NULL;
        }
}

static void rd_fields(struct rd *r, struct ab_alert *a)
{
        size_t at     = rd_at(r);
        uint64_t mask = rd_varint(r, "field mask"), ref;
        size_t f;

        if (!r->rc && mask >> AB_FIELD__COUNT)
                rd_fail(r, at, "field mask", "names an unknown field");
        for (f = 0; f < AB_FIELD__COUNT && !r->rc; f++) {
                const char *name = ab_alert_field_name((enum ab_alert_field)f);

                if (!(mask & ((uint64_t)1 << f)))
                        continue;
                at  = rd_at(r);
                ref = rd_varint(r, name);
                if (r->rc)
                        break;
                a->field[f] = ref ? field_target(a, f, ref) : rd_str(r, name);
                if (!a->field[f].ptr)
                        rd_fail(r, at, name, "refers to no present value");
        }
}

/* Version 2's trace context, checked as the map stage checked it. */
static void rd_trace(struct rd *r, struct ab_trace_ctx *t)
{
        size_t at = rd_at(r);

        t->traceparent = rd_str(r, "traceparent");
        if (!r->rc && !ab_traceparent_valid(t->traceparent))
                rd_fail(r, at, "traceparent", "not a W3C traceparent");
        at            = rd_at(r);
        t->tracestate = rd_opt(r, "tracestate");
        if (!r->rc && t->tracestate.ptr && !ab_tracestate_valid(t->tracestate))
                rd_fail(r, at, "tracestate", "not a W3C tracestate");
}

static ab_err_t rd_alert(struct rd *r, unsigned version,
                         struct ab_alert_record_scratch *s,
                         struct ab_alert_record_alert *out)
{
        struct ab_alert *a = &s->alert;
        const unsigned char *fp, *coded;
        unsigned status, flags;
        size_t at, nl, na;
        uint64_t index;
        ab_err_t rc;

        memset(a, 0, sizeof(*a));
        at               = rd_at(r);
        out->integration = rd_str(r, "integration");
        if (!r->rc && !out->integration.len)
                rd_fail(r, at, "integration", "empty");
        fp = rd_bytes(r, AB_ALERT_RECORD_FP_LEN, "fingerprint");
        if (fp)
                memcpy(out->fp, fp, AB_ALERT_RECORD_FP_LEN);
        out->event_ms = (int64_t)rd_le(r, 8, "event time");
        rd_origin(r, &out->origin);
        at     = rd_at(r);
        status = (unsigned)rd_le(r, 1, "status");
        if (!r->rc && status > 1)
                rd_fail(r, at, "status", "neither firing nor resolved");
        a->status = status ? AB_ALERT_RESOLVED : AB_ALERT_FIRING;
        coded     = r->p;
        flags     = (unsigned)rd_le(r, 1, "flags");
        if (!r->rc &&
            (flags & ~(AR_FLAG_STARTS | AR_FLAG_ENDS | AR_FLAG_TRUNCATED)))
                rd_fail(r, at + 1, "flags", "unknown bits set");
        a->has_starts        = flags & AR_FLAG_STARTS;
        a->has_ends          = flags & AR_FLAG_ENDS;
        a->message_truncated = flags & AR_FLAG_TRUNCATED;
        a->severity          = (int)rd_le(r, 1, "severity");
        if (!r->rc && (a->severity < 1 || a->severity > 4))
                rd_fail(r, at + 2, "severity", "outside 1..4");
        if (a->has_starts)
                a->starts_ms = (int64_t)rd_le(r, 8, "start time");
        if (a->has_ends)
                a->ends_ms = (int64_t)rd_le(r, 8, "end time");
        at    = rd_at(r);
        index = rd_varint(r, "index");
        if (!r->rc && index > UINT32_MAX)
                rd_fail(r, at, "index", "exceeds 32 bits");
        a->index = (uint32_t)index;
        nl       = rd_count(r, "label count");
        if ((rc = rd_kvs(r, s, 0, nl, "label key", "label value")))
                return rc;
        na = rd_count(r, "annotation count");
        if ((rc = rd_kvs(r, s, nl, na, "annotation key", "annotation value")))
                return rc;
        if (r->rc)
                return r->rc;
        a->labels       = s->kv;
        a->nlabels      = nl;
        a->annotations  = s->kv ? s->kv + nl : NULL; /* none yet: both 0 */
        a->nannotations = na;
        rd_fields(r, a);
        out->coded     = coded;
        out->coded_len = (size_t)(r->p - coded);
        if (version >= 2)
                rd_trace(r, &out->trace);
        out->alert = a;
        return r->rc;
}

static ab_err_t rd_action(struct rd *r, struct ab_alert_record_scratch *s,
                          struct ab_alert_record_action *out)
{
        size_t n;
        ab_err_t rc;

        rd_origin(r, &out->origin);
        out->timestamp_ms = (int64_t)rd_le(r, 8, "timestamp");
        out->key          = rd_opt(r, "key");
        out->value        = rd_opt(r, "value");
        n                 = rd_count(r, "header count");
        if ((rc = rd_kvs(r, s, 0, n, "header name", "header value")))
                return rc;
        out->headers  = s->kv;
        out->nheaders = n;
        return r->rc;
}

/* Walk a BATCH's entries, checking their lengths and heads. */
static ab_err_t rd_batch(struct rd *r, struct ab_alert_record_batch *out)
{
        const unsigned char *body = r->p;
        const unsigned char *h;
        size_t at;
        uint64_t n;

        while (!r->rc && r->p < r->end) {
                at = rd_at(r);
                n  = rd_varint(r, "batch entry length");
                if (!r->rc && n > rd_left(r)) {
                        rd_fail(r, at, "batch entry",
                                "length runs past the end");
                        break;
                }
                at = rd_at(r);
                h  = rd_bytes(r, (size_t)n, "batch entry");
                if (h && !entry_head_ok(h, (size_t)n))
                        rd_fail(r, at, "batch entry",
                                "not an ALERT or ACTION record of version 1 "
                                "or 2");
                out->count++;
        }
        if (!r->rc && !out->count)
                rd_fail(r, rd_at(r), "batch", "no entries");
        out->body = ab_str_make((const char *)body, (size_t)(r->p - body));
        return r->rc;
}

ab_err_t ab_alert_record_decode(const void *data, size_t len,
                                struct ab_alert_record_scratch *s,
                                struct ab_alert_record *out,
                                struct ab_error *err)
{
        struct rd r = {data, data, data, err, AB_OK};
        const unsigned char *h;
        ab_err_t rc;

        memset(out, 0, sizeof(*out));
        if (len < AR_HEAD_LEN) /* a null value too */
                return ab_error_set_at(err, AB_ERR_BAD_RECORD, 0,
                                       "alerts record: header: truncated");
        r.end = r.base + len;
        h     = rd_bytes(&r, AR_HEAD_LEN, "header");
        if (memcmp(h, AB_ALERT_RECORD_MAGIC, 4))
                return ab_error_set_at(err, AB_ERR_BAD_RECORD, 0,
                                       "alerts record: no ABAR magic");
        if (h[4] < 1 || h[4] > AB_ALERT_RECORD_BATCH_VERSION)
                return ab_error_set_at(err, AB_ERR_BAD_RECORD, 4,
                                       "alerts record: unknown version %u",
                                       (unsigned)h[4]);
        out->kind = (enum ab_alert_record_kind)h[5];
        if ((h[4] == AB_ALERT_RECORD_BATCH_VERSION) !=
            (h[5] == AB_ALERT_RECORD_BATCH))
                return ab_error_set_at(err, AB_ERR_BAD_RECORD, 5,
                                       "alerts record: kind %u in version %u",
                                       (unsigned)h[5], (unsigned)h[4]);
        if (h[5] == AB_ALERT_RECORD_BATCH)
                rc = rd_batch(&r, &out->batch);
        else if (h[5] == AB_ALERT_RECORD_ALERT)
                rc = rd_alert(&r, h[4], s, &out->alert);
        else if (h[5] == AB_ALERT_RECORD_ACTION)
                rc = rd_action(&r, s, &out->action);
        else
                return ab_error_set_at(err, AB_ERR_BAD_RECORD, 5,
                                       "alerts record: unknown kind %u",
                                       (unsigned)h[5]);
        if (!rc && r.p != r.end)
                rc = ab_error_set_at(err, AB_ERR_BAD_RECORD, rd_at(&r),
                                     "alerts record: %zu trailing bytes",
                                     rd_left(&r));
        return rc;
}

/* ------------------------------------------------------------ routing */

/* route(fp, n) of docs/stateful-pipeline.md: the lifecycle's own, so a
 * record and the store that owns its alert can never disagree. */
int32_t ab_alert_record_route(const unsigned char *prefix, int32_t n)
{
        return n > 0 ? (int32_t)ab_lifecycle_route(prefix, (uint32_t)n) : 0;
}

static int unhex(int c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Member \p key of the action: its routing prefix into \p out, 1 when
 * present, 0 when absent or null, -1 (and \p err set) when malformed. */
static int action_id(const struct ab_json_doc *doc, const char *key,
                     unsigned char out[AB_ALERT_RECORD_ROUTE_LEN],
                     struct ab_error *err)
{
        uint32_t i = ab_json_get(doc, 0, key, strlen(key));
        struct ab_str s;
        size_t k;

        if (i == AB_JSON_NONE || ab_json_type_of(doc, i) == AB_JSON_NULL)
                return 0;
        s = ab_json_text(doc, i);
        if (ab_json_type_of(doc, i) != AB_JSON_STRING ||
            s.len != 2 * AB_ALERT_RECORD_FP_LEN)
                goto bad;
        for (k = 0; k < s.len; k++)
                if (unhex((unsigned char)s.ptr[k]) < 0)
                        goto bad;
        for (k = 0; k < AB_ALERT_RECORD_ROUTE_LEN; k++)
                out[k] =
                    (unsigned char)(unhex((unsigned char)s.ptr[2 * k]) << 4 |
                                    unhex((unsigned char)s.ptr[2 * k + 1]));
        return 1;
bad:
        ab_error_set(err, AB_ERR_ACTION_INVALID, key,
                     "must be %d hexadecimal characters",
                     2 * AB_ALERT_RECORD_FP_LEN);
        return -1;
}

ab_err_t
ab_alert_record_action_route(const char *json, size_t len,
                             unsigned char prefix[AB_ALERT_RECORD_ROUTE_LEN],
                             struct ab_error *err)
{
        struct ab_json_doc doc;
        ab_err_t rc;
        int found;

        if (!json) /* a null value */
                return ab_error_set(err, AB_ERR_ACTION_INVALID, NULL,
                                    "an action record must be a JSON object");
        ab_json_doc_init(&doc);
        rc = ab_json_parse(&doc, json, len, err);
        if (rc == AB_ERR_NOMEM)
                goto out;
        if (rc) {
                /* Keep the parser's reason and offset under our code. */
                if (err)
                        err->code = AB_ERR_ACTION_INVALID;
                ab_error_prefix(err, "an action record must be JSON");
                rc = AB_ERR_ACTION_INVALID;
                goto out;
        }
        if (ab_json_type_of(&doc, 0) != AB_JSON_OBJECT) {
                rc = ab_error_set(err, AB_ERR_ACTION_INVALID, NULL,
                                  "an action record must be a JSON object");
                goto out;
        }
        found = action_id(&doc, "alert_id", prefix, err);
        if (!found)
                found = action_id(&doc, "fingerprint", prefix, err);
        if (found < 0)
                rc = AB_ERR_ACTION_INVALID;
        else if (!found)
                rc = ab_error_set(err, AB_ERR_ACTION_INVALID, NULL,
                                  "an action needs alert_id or fingerprint");
out:
        ab_json_doc_fini(&doc);
        return rc;
}
