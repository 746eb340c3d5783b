/* fuzz_alert_record.c - libFuzzer target: <group>.alerts records decode
 * safely, and what decodes encodes back to the same view (a batch: to the
 * same entries). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/alert_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Scratches and buffers persist across inputs, as in the run loop. */
static struct ab_alert_record_scratch s1, s2;
static struct ab_buf out, out2, batch;
static int ready;

#define CHECK(cond)                                                            \
        do {                                                                   \
                if (!(cond))                                                   \
                        abort();                                               \
        } while (0)

static int str_same(struct ab_str a, struct ab_str b)
{
        return (a.ptr != NULL) == (b.ptr != NULL) && ab_str_eq(a, b);
}

/* A borrowed string lies inside the record (or is absent). */
static void check_inside(struct ab_str s, const uint8_t *data, size_t size)
{
        if (s.ptr)
                CHECK((const uint8_t *)s.ptr >= data &&
                      (const uint8_t *)s.ptr + s.len <= data + size);
}

static int kvs_same(const struct ab_kv *a, size_t na, const struct ab_kv *b,
                    size_t nb)
{
        size_t i;

        if (na != nb)
                return 0;
        for (i = 0; i < na; i++)
                if (!str_same(a[i].key, b[i].key) ||
                    !str_same(a[i].val, b[i].val))
                        return 0;
        return 1;
}

static void check_kvs(const struct ab_kv *kv, size_t n, const uint8_t *data,
                      size_t size)
{
        size_t i;

        for (i = 0; i < n; i++) {
                CHECK(kv[i].key.ptr);
                check_inside(kv[i].key, data, size);
                check_inside(kv[i].val, data, size);
        }
}

static void check_alert(const struct ab_alert_record_alert *r,
                        const struct ab_alert_record_alert *q)
{
        const struct ab_alert *a = r->alert, *b = q->alert;
        int f;

        CHECK(str_same(r->integration, q->integration));
        CHECK(!memcmp(r->fp, q->fp, sizeof(r->fp)));
        CHECK(r->event_ms == q->event_ms);
        CHECK(str_same(r->origin.topic, q->origin.topic));
        CHECK(r->origin.partition == q->origin.partition);
        CHECK(r->origin.offset == q->origin.offset);
        CHECK(str_same(r->trace.traceparent, q->trace.traceparent));
        CHECK(str_same(r->trace.tracestate, q->trace.tracestate));
        CHECK(a->status == b->status && a->severity == b->severity);
        CHECK(a->severity >= 1 && a->severity <= 4);
        CHECK(a->has_starts == b->has_starts && a->has_ends == b->has_ends);
        CHECK(!a->has_starts || a->starts_ms == b->starts_ms);
        CHECK(!a->has_ends || a->ends_ms == b->ends_ms);
        CHECK(a->message_truncated == b->message_truncated);
        CHECK(a->index == b->index);
        CHECK(kvs_same(a->labels, a->nlabels, b->labels, b->nlabels));
        CHECK(kvs_same(a->annotations, a->nannotations, b->annotations,
                       b->nannotations));
        for (f = 0; f < AB_FIELD__COUNT; f++)
                CHECK(str_same(a->field[f], b->field[f]));
}

static void check_action(const struct ab_alert_record_action *r,
                         const struct ab_alert_record_action *q)
{
        CHECK(str_same(r->origin.topic, q->origin.topic));
        CHECK(r->origin.partition == q->origin.partition);
        CHECK(r->origin.offset == q->origin.offset);
        CHECK(r->timestamp_ms == q->timestamp_ms);
        CHECK(str_same(r->key, q->key) && str_same(r->value, q->value));
        CHECK(kvs_same(r->headers, r->nheaders, q->headers, q->nheaders));
}

static void check_record(const uint8_t *data, size_t size);

/* A decoded batch: its entries lie in it, each is checked as a record of
 * its own, and batching them again gives a batch of the same entries. */
static void check_batch(const struct ab_alert_record_batch *b,
                        const uint8_t *data, size_t size)
{
        struct ab_alert_record_batch copy = *b;
        struct ab_alert_record rec;
        struct ab_str e, e2;
        size_t at = 0, at2 = 0, n = 0;

        ab_buf_reset(&batch);
        while (ab_alert_record_batch_next(&copy, &at, &e)) {
                check_inside(e, data, size);
                CHECK(ab_alert_record_batch_add(&batch, e.ptr, e.len, NULL) ==
                      AB_OK);
                n++;
        }
        CHECK(n == b->count && n > 0 && at == b->body.len);
        CHECK(ab_alert_record_decode(batch.data, batch.len, &s2, &rec, NULL) ==
              AB_OK);
        CHECK(rec.kind == AB_ALERT_RECORD_BATCH && rec.batch.count == n);
        at = 0;
        while (ab_alert_record_batch_next(&copy, &at, &e)) {
                CHECK(ab_alert_record_batch_next(&rec.batch, &at2, &e2));
                CHECK(ab_str_eq(e, e2));
        }
        /* Entries are decoded after the batch, as the lifecycle stage
         * does; none is a batch again (its head was checked). */
        at = 0;
        while (ab_alert_record_batch_next(&copy, &at, &e))
                check_record((const uint8_t *)e.ptr, e.len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        unsigned char prefix[AB_ALERT_RECORD_ROUTE_LEN];
        struct ab_error err;
        ab_err_t rc;

        if (!ready) {
                ab_buf_init(&out, 0);
                ab_buf_init(&out2, 0);
                ab_buf_init(&batch, 0);
                ready = 1;
        }
        /* Any input is also a candidate action record. */
        rc = ab_alert_record_action_route((const char *)data, size, prefix,
                                          &err);
        CHECK(rc == AB_OK || (rc == AB_ERR_ACTION_INVALID &&
                              err.code == AB_ERR_ACTION_INVALID));
        if (!rc)
                CHECK(ab_alert_record_route(prefix, 6) < 6);
        check_record(data, size);
        return 0;
}

static void check_record(const uint8_t *data, size_t size)
{
        struct ab_alert_record rec, again;
        struct ab_error err;
        ab_err_t rc;
        int f;

        rc = ab_alert_record_decode(data, size, &s1, &rec, &err);
        if (rc) {
                CHECK(rc == AB_ERR_BAD_RECORD && err.code == rc &&
                      err.has_offset && err.offset <= size);
                return;
        }
        if (rec.kind == AB_ALERT_RECORD_BATCH) {
                check_inside(rec.batch.body, data, size);
                check_batch(&rec.batch, data, size);
                return;
        }
        /* Decoded: everything borrowed lies in the input; encoding it
         * again gives a record that decodes to the same view, and whose
         * encoding is a fixed point. */
        ab_buf_reset(&out);
        if (rec.kind == AB_ALERT_RECORD_ALERT) {
                check_inside(rec.alert.integration, data, size);
                check_inside(rec.alert.origin.topic, data, size);
                check_inside(rec.alert.trace.traceparent, data, size);
                check_inside(rec.alert.trace.tracestate, data, size);
                check_kvs(rec.alert.alert->labels, rec.alert.alert->nlabels,
                          data, size);
                check_kvs(rec.alert.alert->annotations,
                          rec.alert.alert->nannotations, data, size);
                for (f = 0; f < AB_FIELD__COUNT; f++)
                        check_inside(rec.alert.alert->field[f], data, size);
                CHECK(ab_alert_record_route(rec.alert.fp, 6) < 6);
                CHECK(ab_alert_record_encode_alert(&rec.alert, &out, NULL) ==
                      AB_OK);
        } else {
                CHECK(rec.kind == AB_ALERT_RECORD_ACTION);
                check_inside(rec.action.origin.topic, data, size);
                check_inside(rec.action.key, data, size);
                check_inside(rec.action.value, data, size);
                check_kvs(rec.action.headers, rec.action.nheaders, data, size);
                CHECK(ab_alert_record_encode_action(&rec.action, &out, NULL) ==
                      AB_OK);
        }
        CHECK(ab_alert_record_decode(out.data, out.len, &s2, &again, NULL) ==
              AB_OK);
        CHECK(again.kind == rec.kind);
        ab_buf_reset(&out2);
        if (rec.kind == AB_ALERT_RECORD_ALERT) {
                check_alert(&rec.alert, &again.alert);
                CHECK(ab_alert_record_encode_alert(&again.alert, &out2, NULL) ==
                      AB_OK);
        } else {
                check_action(&rec.action, &again.action);
                CHECK(ab_alert_record_encode_action(&again.action, &out2,
                                                    NULL) == AB_OK);
        }
        CHECK(out2.len == out.len && !memcmp(out.data, out2.data, out.len));
}
