/* check_alert_record.c - unit tests for pipeline/alert_record.c: round
 * trips, the pinned byte layout, malformed records, routing. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/varint.h"
#include "lifecycle/lifecycle.h"
#include "pipeline/alert_record.h"
#include "transform/event.h"

#define GOLDEN_ALERT  AB_FIXTURES "/alert_record/alert_v1.hex"
#define GOLDEN_ACTION AB_FIXTURES "/alert_record/action_v1.hex"
/* The golden alert with a trace context: version 2. */
#define GOLDEN_TRACED AB_FIXTURES "/alert_record/alert_v2.hex"
/* A BATCH (version 3) of the three above: alert, action, traced alert. */
#define GOLDEN_BATCH AB_FIXTURES "/alert_record/batch_v3.hex"

#define TRACEPARENT "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
#define TRACESTATE  "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"

static const unsigned char fp_bytes[AB_ALERT_RECORD_FP_LEN] = {
    0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67,
    0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98};

/* The alert of the golden record: fields that travel as label and
 * annotation references and on their own, both times, an absent value. */
static const struct ab_kv golden_labels[] = {
    {{"alertname", 9}, {"HighCPU", 7}},
    {{"instance", 8}, {NULL, 0}},
    {{"service", 7}, {"api", 3}},
    {{"severity", 8}, {"P2", 2}},
};
static const struct ab_kv golden_annotations[] = {
    {{"message", 7}, {"cpu > 90%", 9}},
};

static void golden_alert(struct ab_alert *a)
{
        memset(a, 0, sizeof(*a));
        a->status                    = AB_ALERT_FIRING;
        a->severity                  = 2;
        a->field[AB_FIELD_ALERTNAME] = ab_str_c("HighCPU");
        a->field[AB_FIELD_SEVERITY]  = ab_str_c("P2");
        a->field[AB_FIELD_SERVICE]   = ab_str_c("web"); /* not the label's */
        a->field[AB_FIELD_MESSAGE]   = ab_str_c("cpu > 90%");
        a->field[AB_FIELD_STARTAT]   = ab_str_c("2026-12-04T18:00:00Z");
        a->field[AB_FIELD_IMAGEURL]  = ab_str_make("", 0);
        a->starts_ms                 = 1796407200000LL;
        a->has_starts                = true;
        a->ends_ms                   = -1;
        a->has_ends                  = true;
        a->message_truncated         = true;
        a->index                     = 300;
        a->labels                    = golden_labels;
        a->nlabels                   = 4;
        a->annotations               = golden_annotations;
        a->nannotations              = 1;
}

static void golden_record(struct ab_alert_record_alert *r,
                          const struct ab_alert *a)
{
        memset(r, 0, sizeof(*r));
        r->integration = ab_str_c("alertmanager");
        memcpy(r->fp, fp_bytes, sizeof(fp_bytes));
        r->event_ms         = 1796407260000LL;
        r->origin.topic     = ab_str_c("am");
        r->origin.partition = 5;
        r->origin.offset    = 4294967296LL;
        r->alert            = a;
}

static const struct ab_kv golden_headers[] = {
    {{"integration", 11}, {"ops", 3}},
    {{"trace", 5}, {NULL, 0}},
    {{"empty", 5}, {"", 0}},
};

static void golden_action(struct ab_alert_record_action *r)
{
        static const char value[] =
            "{\"action\":\"claim\",\"alert_id\":"
            "\"deadbeef0123456700000000000000aa\",\"operator\":\"ann\"}";

        memset(r, 0, sizeof(*r));
        r->origin.topic     = ab_str_c("actions");
        r->origin.partition = -1;
        r->origin.offset    = 42;
        r->timestamp_ms     = 1796407300000LL;
        r->key              = AB_STR_NULL;
        r->value            = ab_str_make(value, sizeof(value) - 1);
        r->headers          = golden_headers;
        r->nheaders         = 3;
}

/* \p b = the golden alert record with the golden trace context. */
static void encode_golden_traced(struct ab_buf *b)
{
        struct ab_alert_record_alert r;
        struct ab_alert a;

        ab_buf_reset(b);
        golden_alert(&a);
        golden_record(&r, &a);
        r.trace.traceparent = ab_str_c(TRACEPARENT);
        r.trace.tracestate  = ab_str_c(TRACESTATE);
        ck_assert_int_eq(ab_alert_record_encode_alert(&r, b, NULL), AB_OK);
}

/* \p b = the golden record of \p kind. */
static void encode_golden(enum ab_alert_record_kind kind, struct ab_buf *b)
{
        struct ab_alert_record_action act;
        struct ab_alert_record_alert r;
        struct ab_alert a;

        ab_buf_reset(b);
        golden_alert(&a);
        golden_record(&r, &a);
        golden_action(&act);
        ck_assert_int_eq(kind == AB_ALERT_RECORD_ALERT
                             ? ab_alert_record_encode_alert(&r, b, NULL)
                             : ab_alert_record_encode_action(&act, b, NULL),
                         AB_OK);
}

static void assert_str_same(struct ab_str got, struct ab_str want)
{
        ck_assert_int_eq(got.ptr != NULL, want.ptr != NULL);
        ck_assert_uint_eq(got.len, want.len);
        if (want.len)
                ck_assert(!memcmp(got.ptr, want.ptr, want.len));
}

static void assert_kvs_same(const struct ab_kv *got, size_t ngot,
                            const struct ab_kv *want, size_t nwant)
{
        ck_assert_uint_eq(ngot, nwant);
        for (size_t i = 0; i < nwant; i++) {
                assert_str_same(got[i].key, want[i].key);
                assert_str_same(got[i].val, want[i].val);
        }
}

static void assert_alert_same(const struct ab_alert *got,
                              const struct ab_alert *want)
{
        ck_assert_int_eq(got->status, want->status);
        ck_assert_int_eq(got->severity, want->severity);
        ck_assert_int_eq(got->has_starts, want->has_starts);
        ck_assert_int_eq(got->has_ends, want->has_ends);
        if (want->has_starts)
                ck_assert_int_eq(got->starts_ms, want->starts_ms);
        if (want->has_ends)
                ck_assert_int_eq(got->ends_ms, want->ends_ms);
        ck_assert_int_eq(got->message_truncated, want->message_truncated);
        ck_assert_uint_eq(got->index, want->index);
        for (int f = 0; f < AB_FIELD__COUNT; f++)
                assert_str_same(got->field[f], want->field[f]);
        assert_kvs_same(got->labels, got->nlabels, want->labels, want->nlabels);
        assert_kvs_same(got->annotations, got->nannotations, want->annotations,
                        want->nannotations);
}

static void assert_origin_same(const struct ab_alert_record_origin *got,
                               const struct ab_alert_record_origin *want)
{
        assert_str_same(got->topic, want->topic);
        ck_assert_int_eq(got->partition, want->partition);
        ck_assert_int_eq(got->offset, want->offset);
}

/* Encode \p in, decode it back and compare. */
static void round_trip_alert(const struct ab_alert_record_alert *in)
{
        struct ab_alert_record_scratch s = {0};
        struct ab_alert_record rec;
        struct ab_error err;
        struct ab_buf b;

        ab_buf_init(&b, 0);
        ck_assert_int_eq(ab_alert_record_encode_alert(in, &b, &err), AB_OK);
        ck_assert_msg(ab_alert_record_decode(b.data, b.len, &s, &rec, &err) ==
                          AB_OK,
                      "%s", err.text);
        ck_assert_int_eq(rec.kind, AB_ALERT_RECORD_ALERT);
        assert_str_same(rec.alert.integration, in->integration);
        ck_assert(!memcmp(rec.alert.fp, in->fp, AB_ALERT_RECORD_FP_LEN));
        ck_assert_int_eq(rec.alert.event_ms, in->event_ms);
        assert_origin_same(&rec.alert.origin, &in->origin);
        assert_alert_same(rec.alert.alert, in->alert);
        assert_str_same(rec.alert.trace.traceparent, in->trace.traceparent);
        assert_str_same(rec.alert.trace.tracestate, in->trace.tracestate);
        ck_assert_uint_eq(b.data[4], in->trace.traceparent.ptr ? 2 : 1);
        /* The alert's content is the lifecycle's alert coding of the alert
         * encoded, in the record's own bytes, right after the status. */
        {
                struct ab_lifecycle_code_plan pl;
                unsigned char *want;

                ab_lifecycle_code_plan(in->alert, &pl);
                want = ab_malloc(pl.size);
                ck_assert_ptr_nonnull(want);
                ck_assert_ptr_eq(ab_lifecycle_code_write(want, in->alert, &pl),
                                 want + pl.size);
                ck_assert_uint_eq(rec.alert.coded_len, pl.size);
                ck_assert_mem_eq(rec.alert.coded, want, pl.size);
                ck_assert(rec.alert.coded > (const unsigned char *)b.data &&
                          rec.alert.coded + pl.size <=
                              (const unsigned char *)b.data + b.len);
                ck_assert_uint_eq(rec.alert.coded[-1],
                                  in->alert->status == AB_ALERT_RESOLVED);
                ab_free(want);
        }
        ab_alert_record_scratch_fini(&s);
        ab_buf_fini(&b);
}

START_TEST(test_round_trip_golden_alert)
{
        struct ab_alert_record_alert r;
        struct ab_alert a;

        golden_alert(&a);
        golden_record(&r, &a);
        round_trip_alert(&r);
}
END_TEST

/* The trace context survives the hop; without one the record stays
 * version 1. */
START_TEST(test_round_trip_trace)
{
        struct ab_alert_record_alert r;
        struct ab_alert a;

        golden_alert(&a);
        golden_record(&r, &a);
        r.trace.traceparent = ab_str_c(TRACEPARENT);
        round_trip_alert(&r);
        r.trace.tracestate = ab_str_c(TRACESTATE);
        round_trip_alert(&r);
        r.trace.tracestate = ab_str_make("", 0); /* present, empty */
        round_trip_alert(&r);
        r.trace.traceparent = ab_str_c(
            "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-future");
        round_trip_alert(&r);
}
END_TEST

/* Many labels and annotations, each field at a label, every status. */
START_TEST(test_round_trip_many_labels)
{
        enum { N = 700 };
        struct ab_kv *labels = calloc(N, sizeof(*labels));
        struct ab_kv *annots = calloc(N, sizeof(*annots));
        char(*text)[24]      = calloc(2 * N, sizeof(*text));
        struct ab_alert_record_alert r;
        struct ab_alert a;

        ck_assert(labels && annots && text);
        for (int i = 0; i < N; i++) {
                snprintf(text[i], sizeof(text[i]), "k%05d", i);
                snprintf(text[N + i], sizeof(text[i]), "v%d", i * 7);
                labels[i].key = ab_str_c(text[i]);
                labels[i].val = ab_str_c(text[N + i]);
        }
        for (int i = 0; i < N; i++)
                annots[i] = labels[N - 1 - i];
        for (int status = AB_ALERT_FIRING; status <= AB_ALERT_RESOLVED;
             status++) {
                golden_alert(&a);
                golden_record(&r, &a);
                a.status       = (enum ab_alert_status)status;
                a.has_starts   = status == AB_ALERT_FIRING;
                a.has_ends     = false;
                a.index        = UINT32_MAX;
                a.severity     = 4;
                a.labels       = labels;
                a.nlabels      = N;
                a.annotations  = annots;
                a.nannotations = N;
                round_trip_alert(&r);
        }
        free(labels);
        free(annots);
        free(text);
}
END_TEST

/* Empty strings everywhere, and one string of several megabytes. */
START_TEST(test_round_trip_empty_and_huge)
{
        size_t huge_len = (size_t)5 << 20;
        char *huge      = malloc(huge_len);
        struct ab_kv labels[2], annots[1];
        struct ab_alert_record_alert r;
        struct ab_alert a;

        ck_assert_ptr_nonnull(huge);
        for (size_t i = 0; i < huge_len; i++)
                huge[i] = (char)(i * 31 + 7); /* any bytes, NULs included */
        labels[0].key = ab_str_make("", 0);
        labels[0].val = ab_str_make("", 0);
        labels[1].key = ab_str_c("alertname");
        labels[1].val = ab_str_make("", 0);
        annots[0].key = ab_str_c("message");
        annots[0].val = ab_str_make(huge, huge_len);
        memset(&a, 0, sizeof(a));
        a.severity                     = 1;
        a.status                       = AB_ALERT_RESOLVED;
        a.labels                       = labels;
        a.nlabels                      = 2;
        a.annotations                  = annots;
        a.nannotations                 = 1;
        a.field[AB_FIELD_ALERTNAME]    = labels[1].val;
        a.field[AB_FIELD_MESSAGE]      = annots[0].val;
        a.field[AB_FIELD_GENERATORURL] = ab_str_make(huge, huge_len - 1);
        golden_record(&r, &a);
        r.origin.topic = ab_str_make("", 0);
        round_trip_alert(&r);
        /* An alert with nothing mapped at all. */
        memset(&a, 0, sizeof(a));
        a.severity = 3;
        round_trip_alert(&r);
        free(huge);
}
END_TEST

START_TEST(test_round_trip_action)
{
        struct ab_alert_record_scratch s = {0};
        struct ab_alert_record_action in;
        struct ab_alert_record rec;
        struct ab_error err;
        struct ab_buf b;

        ab_buf_init(&b, 0);
        golden_action(&in);
        for (int pass = 0; pass < 2; pass++) {
                ab_buf_reset(&b);
                ck_assert_int_eq(ab_alert_record_encode_action(&in, &b, &err),
                                 AB_OK);
                ck_assert_int_eq(
                    ab_alert_record_decode(b.data, b.len, &s, &rec, &err),
                    AB_OK);
                ck_assert_int_eq(rec.kind, AB_ALERT_RECORD_ACTION);
                assert_origin_same(&rec.action.origin, &in.origin);
                ck_assert_int_eq(rec.action.timestamp_ms, in.timestamp_ms);
                assert_str_same(rec.action.key, in.key);
                assert_str_same(rec.action.value, in.value);
                assert_kvs_same(rec.action.headers, rec.action.nheaders,
                                in.headers, in.nheaders);
                /* Then an empty key, a null value and no headers. */
                in.key      = ab_str_make("", 0);
                in.value    = AB_STR_NULL;
                in.nheaders = 0;
        }
        ab_alert_record_scratch_fini(&s);
        ab_buf_fini(&b);
}
END_TEST

/* ------------------------------------------------------------ golden */

static void hex_of(const char *data, size_t len, struct ab_buf *out)
{
        for (size_t i = 0; i < len; i++)
                ck_assert_int_eq(
                    ab_buf_appendf(out, "%02x%s", (unsigned char)data[i],
                                   i % 32 == 31 || i + 1 == len ? "\n" : ""),
                    AB_OK);
}

/* The fixture's hex digits (white space ignored) as text. */
static char *read_hex(const char *path)
{
        FILE *f = fopen(path, "r");
        struct ab_buf b;
        int c;

        ck_assert_msg(f != NULL, "cannot open %s", path);
        ab_buf_init(&b, 0);
        ck_assert_int_eq(ab_buf_append(&b, "", 0), AB_OK);
        while ((c = fgetc(f)) != EOF)
                if (c != ' ' && c != '\n')
                        ck_assert_int_eq(ab_buf_append_char(&b, (char)c),
                                         AB_OK);
        fclose(f);
        return ab_buf_take(&b, NULL);
}

static void assert_golden(const struct ab_buf *rec, const char *path)
{
        struct ab_buf hex, flat;
        char *want = read_hex(path);

        ab_buf_init(&hex, 0);
        ab_buf_init(&flat, 0);
        hex_of(rec->data, rec->len, &hex);
        for (size_t i = 0; i < hex.len; i++)
                if (hex.data[i] != '\n')
                        ck_assert_int_eq(ab_buf_append_char(&flat, hex.data[i]),
                                         AB_OK);
        ck_assert_msg(!strcmp(flat.data, want),
                      "%s differs: the record format changed; this version "
                      "writes:\n%s",
                      path, hex.data);
        ab_free(want);
        ab_buf_fini(&hex);
        ab_buf_fini(&flat);
}

START_TEST(test_golden_bytes)
{
        struct ab_buf b;

        ab_buf_init(&b, 0);
        encode_golden(AB_ALERT_RECORD_ALERT, &b);
        assert_golden(&b, GOLDEN_ALERT);
        encode_golden(AB_ALERT_RECORD_ACTION, &b);
        assert_golden(&b, GOLDEN_ACTION);
        encode_golden_traced(&b);
        assert_golden(&b, GOLDEN_TRACED);
        ab_buf_fini(&b);
}
END_TEST

/* The fixture \p path as bytes into \p out. */
static void read_fixture(const char *path, struct ab_buf *out)
{
        char *hex = read_hex(path);

        for (size_t i = 0; hex[i] && hex[i + 1]; i += 2) {
                unsigned v;

                ck_assert_int_eq(sscanf(hex + i, "%2x", &v), 1);
                ck_assert_int_eq(ab_buf_append_char(out, (char)v), AB_OK);
        }
        ab_free(hex);
}

/* Records written by earlier versions (the pinned bytes, not this
 * encoder's) decode to what they said: a version 1 alert has no trace
 * context, a version 2 alert has the golden one. */
START_TEST(test_decode_pinned_versions)
{
        static const char *const paths[] = {GOLDEN_ALERT, GOLDEN_TRACED};
        struct ab_alert_record_scratch s = {0};
        struct ab_alert_record_alert want;
        struct ab_alert_record rec;
        struct ab_error err;
        struct ab_alert a;
        struct ab_buf b;

        ab_buf_init(&b, 0);
        golden_alert(&a);
        golden_record(&want, &a);
        for (size_t i = 0; i < 2; i++) {
                ab_buf_reset(&b);
                read_fixture(paths[i], &b);
                ck_assert_uint_eq(b.data[4], i + 1);
                ck_assert_msg(ab_alert_record_decode(b.data, b.len, &s, &rec,
                                                     &err) == AB_OK,
                              "%s: %s", paths[i], err.text);
                ck_assert_int_eq(rec.kind, AB_ALERT_RECORD_ALERT);
                assert_str_same(rec.alert.integration, want.integration);
                assert_origin_same(&rec.alert.origin, &want.origin);
                assert_alert_same(rec.alert.alert, &a);
                assert_str_same(rec.alert.trace.traceparent,
                                i ? ab_str_c(TRACEPARENT) : AB_STR_NULL);
                assert_str_same(rec.alert.trace.tracestate,
                                i ? ab_str_c(TRACESTATE) : AB_STR_NULL);
        }
        ab_buf_reset(&b);
        read_fixture(GOLDEN_ACTION, &b);
        ck_assert_int_eq(ab_alert_record_decode(b.data, b.len, &s, &rec, &err),
                         AB_OK);
        ck_assert_int_eq(rec.kind, AB_ALERT_RECORD_ACTION);
        /* The pinned batch holds the pinned records, byte for byte. */
        {
                static const char *const entries[] = {
                    GOLDEN_ALERT, GOLDEN_ACTION, GOLDEN_TRACED};
                struct ab_buf e;
                struct ab_str got;
                size_t at = 0;

                ab_buf_init(&e, 0);
                ab_buf_reset(&b);
                read_fixture(GOLDEN_BATCH, &b);
                ck_assert_int_eq(
                    ab_alert_record_decode(b.data, b.len, &s, &rec, &err),
                    AB_OK);
                ck_assert_int_eq(rec.kind, AB_ALERT_RECORD_BATCH);
                ck_assert_uint_eq(rec.batch.count, 3);
                for (size_t i = 0; i < 3; i++) {
                        ab_buf_reset(&e);
                        read_fixture(entries[i], &e);
                        ck_assert(
                            ab_alert_record_batch_next(&rec.batch, &at, &got));
                        ck_assert_uint_eq(got.len, e.len);
                        ck_assert_mem_eq(got.ptr, e.data, e.len);
                }
                ck_assert(!ab_alert_record_batch_next(&rec.batch, &at, &got));
                ab_buf_fini(&e);
        }
        ab_alert_record_scratch_fini(&s);
        ab_buf_fini(&b);
}
END_TEST

/* ---------------------------------------------------- malformed input */

/* Decode \p n bytes copied to an exact-size heap block (so ASan sees any
 * read past the end) and expect a bad_record at \p at (-1: anywhere in
 * the record). */
static void expect_bad(const void *data, size_t n, long at)
{
        struct ab_alert_record_scratch s = {0};
        struct ab_alert_record rec;
        struct ab_error err;
        char *copy = malloc(n ? n : 1);

        ck_assert_ptr_nonnull(copy);
        if (n)
                memcpy(copy, data, n);
        ab_error_clear(&err);
        ck_assert_int_eq(ab_alert_record_decode(copy, n, &s, &rec, &err),
                         AB_ERR_BAD_RECORD);
        ck_assert_int_eq(err.code, AB_ERR_BAD_RECORD);
        ck_assert(err.has_offset);
        ck_assert_uint_le(err.offset, n);
        if (at >= 0)
                ck_assert_msg(err.offset == (size_t)at,
                              "offset %zu, want %ld: %s", err.offset, at,
                              err.text);
        ck_assert(strstr(err.text, "alerts record") != NULL);
        ck_assert_int_eq(ab_err_class(err.code), AB_ERR_CLASS_REJECT);
        ab_alert_record_scratch_fini(&s);
        free(copy);
}

START_TEST(test_every_truncation_fails)
{
        struct ab_buf b;

        ab_buf_init(&b, 0);
        encode_golden(AB_ALERT_RECORD_ALERT, &b);
        for (size_t n = 0; n < b.len; n++)
                expect_bad(b.data, n, -1);
        encode_golden(AB_ALERT_RECORD_ACTION, &b);
        for (size_t n = 0; n < b.len; n++)
                expect_bad(b.data, n, -1);
        encode_golden_traced(&b);
        for (size_t n = 0; n < b.len; n++)
                expect_bad(b.data, n, -1);
        ab_buf_fini(&b);
}
END_TEST

/* The golden alert record with byte \p at replaced by \p v. */
static void expect_bad_patch(size_t at, unsigned char v, long want_at)
{
        struct ab_buf b;

        ab_buf_init(&b, 0);
        encode_golden(AB_ALERT_RECORD_ALERT, &b);
        ck_assert_uint_lt(at, b.len);
        b.data[at] = (char)v;
        expect_bad(b.data, b.len, want_at);
        ab_buf_fini(&b);
}

/*
 * Offsets in the golden alert record: header 0..5, integration 6..18
 * (length 12), fp 19..34, event time 35..42, topic 43..45, partition
 * 46..49, offset 50..57, status 58, flags 59, severity 60.
 */
START_TEST(test_malformed_header_and_fixed_fields)
{
        unsigned char prefix[AB_ALERT_RECORD_ROUTE_LEN];
        struct ab_alert_record_scratch s = {0};
        struct ab_alert_record rec;
        static const unsigned char bad_count[] = {
            'A',  'B',  'A',  'R',  1,    2, /* ACTION */
            0,    0,    0,    0,    0,       /* topic "", partition */
            0,    0,    0,    0,    0,    0,    0,    0, /* offset */
            0,    0,    0,    0,    0,    0,    0,    0, /* timestamp */
            0,    0,                                     /* key, value absent */
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
        static const unsigned char long_varint[] = {
            'A',  'B',  'A',  'R',  1,    1,    0x80, 0x80, 0x80,
            0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};

        /* A null record value, as Kafka hands it over. */
        ck_assert_int_eq(ab_alert_record_decode(NULL, 0, &s, &rec, NULL),
                         AB_ERR_BAD_RECORD);
        ck_assert_int_eq(ab_alert_record_action_route(NULL, 0, prefix, NULL),
                         AB_ERR_ACTION_INVALID);
        expect_bad_patch(0, 'X', 0); /* magic */
        expect_bad_patch(4, 0, 4);   /* version */
        expect_bad_patch(4, 4, 4);
        expect_bad_patch(5, 3, 5); /* kind */
        expect_bad_patch(5, 0, 5);
        expect_bad_patch(6, 0, 6);      /* empty integration */
        expect_bad_patch(6, 0xff, 6);   /* length past the end */
        expect_bad_patch(58, 2, 58);    /* status */
        expect_bad_patch(59, 0x8f, 59); /* unknown flag */
        expect_bad_patch(60, 0, 60);    /* severity */
        expect_bad_patch(60, 5, 60);
        /* A header count of 2^63: no overflow, no allocation. */
        expect_bad(bad_count, sizeof(bad_count), 29);
        /* A varint longer than 64 bits. */
        expect_bad(long_varint, sizeof(long_varint), 6);
}
END_TEST

/* \p base (a record without its field part) followed by \p tail: bad at
 * \p at bytes into the tail. */
static void expect_bad_tail(const struct ab_buf *base, const char *tail,
                            size_t n, size_t at)
{
        struct ab_buf b;

        ab_buf_init(&b, 0);
        ck_assert_int_eq(ab_buf_append(&b, base->data, base->len), AB_OK);
        ck_assert_int_eq(ab_buf_append(&b, tail, n), AB_OK);
        expect_bad(b.data, b.len, (long)(base->len + at));
        ab_buf_fini(&b);
}

START_TEST(test_malformed_trailing_and_refs)
{
        struct ab_alert_record_alert r;
        struct ab_alert a;
        struct ab_buf b;
        size_t len;

        ab_buf_init(&b, 0);
        encode_golden(AB_ALERT_RECORD_ALERT, &b);
        len = b.len;
        ck_assert_int_eq(ab_buf_append_char(&b, 0), AB_OK);
        expect_bad(b.data, b.len, (long)len);

        /* Only alertname mapped, as a reference to label 1 of 2: the
         * record ends with mask 1, ref 1. */
        golden_alert(&a);
        golden_record(&r, &a);
        memset(&a, 0, sizeof(a));
        a.severity                  = 1;
        a.labels                    = golden_labels;
        a.nlabels                   = 2;
        a.field[AB_FIELD_ALERTNAME] = golden_labels[0].val;
        ab_buf_reset(&b);
        ck_assert_int_eq(ab_alert_record_encode_alert(&r, &b, NULL), AB_OK);
        ck_assert_int_eq(b.data[b.len - 2], 1);
        ck_assert_int_eq(b.data[b.len - 1], 1);
        ab_buf_truncate(&b, b.len - 2);
        /* A reference past the labels; to "instance", which has no value;
         * a time field (startat, bit 9) by reference; a label field
         * (source, bit 6) whose string is missing; an unknown bit 14
         * (one past AB_FIELD_RECEIVER). */
        expect_bad_tail(&b, "\x01\x03", 2, 1);
        expect_bad_tail(&b, "\x01\x02", 2, 1);
        expect_bad_tail(&b, "\x80\x04\x01", 3, 2);
        expect_bad_tail(&b, "\x40\x00", 2, 2);
        expect_bad_tail(&b, "\x80\x80\x01", 3, 0);
        ab_buf_fini(&b);
}
END_TEST

/* A version 2 record whose trace context is not W3C's is bad at the
 * field; a version 1 record read as version 2 lacks it. */
START_TEST(test_malformed_trace)
{
        struct ab_buf b, v1;
        size_t tp, ts;

        ab_buf_init(&b, 0);
        ab_buf_init(&v1, 0);
        encode_golden(AB_ALERT_RECORD_ALERT, &v1);
        encode_golden_traced(&b);
        tp = v1.len; /* the traceparent's length byte */
        ts = tp + 1 + strlen(TRACEPARENT);
        ck_assert_uint_eq((unsigned char)b.data[tp], strlen(TRACEPARENT));
        ck_assert_uint_eq((unsigned char)b.data[ts], strlen(TRACESTATE) + 1);
        b.data[tp + 1 + 4] = 'A'; /* upper-case hex in the trace id */
        expect_bad(b.data, b.len, (long)tp);
        encode_golden_traced(&b);
        b.data[ts + 1] = 'R'; /* an upper-case tracestate key */
        expect_bad(b.data, b.len, (long)ts);
        v1.data[4] = 2;
        expect_bad(v1.data, v1.len, (long)v1.len);
        ab_buf_fini(&b);
        ab_buf_fini(&v1);
}
END_TEST

/* ------------------------------------------------- encoding failures */

START_TEST(test_encode_errors_leave_buffer)
{
        struct ab_alert_record_alert r;
        struct ab_error err;
        struct ab_alert a;
        struct ab_buf b;

        ab_buf_init(&b, 40);
        ck_assert_int_eq(ab_buf_append_str(&b, "prefix"), AB_OK);
        golden_alert(&a);
        golden_record(&r, &a);
        ck_assert_int_eq(ab_alert_record_encode_alert(&r, &b, &err),
                         AB_ERR_TOO_LARGE);
        ck_assert_int_eq(err.code, AB_ERR_TOO_LARGE);
        ck_assert_str_eq(b.data, "prefix");
        a.severity = 0;
        ck_assert_int_eq(ab_alert_record_encode_alert(&r, &b, &err),
                         AB_ERR_INTERNAL);
        a.severity    = 1;
        r.integration = ab_str_make("", 0);
        ck_assert_int_eq(ab_alert_record_encode_alert(&r, &b, &err),
                         AB_ERR_INTERNAL);
        r.integration       = ab_str_c("alertmanager");
        r.trace.traceparent = ab_str_c("00-not-a-traceparent");
        ck_assert_int_eq(ab_alert_record_encode_alert(&r, &b, &err),
                         AB_ERR_INTERNAL);
        r.trace.traceparent = AB_STR_NULL; /* a tracestate alone */
        r.trace.tracestate  = ab_str_c(TRACESTATE);
        ck_assert_int_eq(ab_alert_record_encode_alert(&r, &b, &err),
                         AB_ERR_INTERNAL);
        ck_assert_str_eq(b.data, "prefix");
        ab_buf_fini(&b);
}
END_TEST

/* After one decode of the largest record, decoding allocates nothing. */
START_TEST(test_decode_does_not_allocate)
{
        struct ab_alert_record_scratch s = {0};
        struct ab_alert_record rec;
        struct ab_buf alert, action, batch;
        uint64_t before;

        ab_buf_init(&alert, 0);
        ab_buf_init(&action, 0);
        encode_golden(AB_ALERT_RECORD_ALERT, &alert);
        encode_golden(AB_ALERT_RECORD_ACTION, &action);
        ab_buf_init(&batch, 0);
        ck_assert_int_eq(
            ab_alert_record_batch_add(&batch, alert.data, alert.len, NULL),
            AB_OK);
        ck_assert_int_eq(
            ab_alert_record_batch_add(&batch, action.data, action.len, NULL),
            AB_OK);
        ck_assert_int_eq(
            ab_alert_record_decode(alert.data, alert.len, &s, &rec, NULL),
            AB_OK);
        before = ab_mem_allocations();
        for (int i = 0; i < 1000; i++) {
                ck_assert_int_eq(ab_alert_record_decode(alert.data, alert.len,
                                                        &s, &rec, NULL),
                                 AB_OK);
                ck_assert_int_eq(ab_alert_record_decode(action.data, action.len,
                                                        &s, &rec, NULL),
                                 AB_OK);
                ck_assert_int_eq(
                    ab_alert_record_decode(alert.data, 7, &s, &rec, NULL),
                    AB_ERR_BAD_RECORD);
                ck_assert_int_eq(ab_alert_record_decode(batch.data, batch.len,
                                                        &s, &rec, NULL),
                                 AB_OK);
        }
        ck_assert_uint_eq(ab_mem_allocations(), before);
        ab_alert_record_scratch_fini(&s);
        ab_buf_fini(&alert);
        ab_buf_fini(&action);
        ab_buf_fini(&batch);
}
END_TEST

/* ------------------------------------------------------------ batches */

/* The three golden records (alert, action, traced alert), in order. */
static void golden_entries(struct ab_buf e[3])
{
        for (int i = 0; i < 3; i++)
                ab_buf_init(&e[i], 0);
        encode_golden(AB_ALERT_RECORD_ALERT, &e[0]);
        encode_golden(AB_ALERT_RECORD_ACTION, &e[1]);
        encode_golden_traced(&e[2]);
}

/* Write \p v as a varint at \p p; @returns its length. */
static size_t put_varint(unsigned char *p, size_t v)
{
        return (size_t)(ab_varint_put(p, v) - p);
}

static void golden_batch(struct ab_buf *b, struct ab_buf e[3])
{
        struct ab_error err;

        ab_buf_reset(b);
        for (int i = 0; i < 3; i++)
                ck_assert_int_eq(
                    ab_alert_record_batch_add(b, e[i].data, e[i].len, &err),
                    AB_OK);
}

START_TEST(test_batch_round_trip)
{
        struct ab_alert_record_scratch s = {0};
        struct ab_alert_record rec, one;
        static const enum ab_alert_record_kind kinds[3] = {
            AB_ALERT_RECORD_ALERT, AB_ALERT_RECORD_ACTION,
            AB_ALERT_RECORD_ALERT};
        struct ab_buf e[3], b;
        struct ab_error err;
        struct ab_str entry;
        size_t at = 0, want = 6, used = 0;
        int n = 0;

        golden_entries(e);
        ab_buf_init(&b, 0);
        golden_batch(&b, e);
        /* The layout: the head, then each record after its varint
         * length. */
        for (int i = 0; i < 3; i++) {
                unsigned char v[AB_VARINT_MAX];

                want += put_varint(v, e[i].len) + e[i].len;
                used += ab_alert_record_batch_cost(used, e[i].len);
        }
        ck_assert_uint_eq(b.len, want);
        ck_assert_uint_eq(used, want);
        ck_assert_mem_eq(b.data, "ABAR\x03\x03", 6);
        {
                unsigned char v[AB_VARINT_MAX];
                size_t k = put_varint(v, e[0].len);

                ck_assert_mem_eq(b.data + 6, v, k);
                ck_assert_mem_eq(b.data + 6 + k, e[0].data, e[0].len);
        }
        ck_assert_int_eq(ab_alert_record_decode(b.data, b.len, &s, &rec, &err),
                         AB_OK);
        ck_assert_int_eq(rec.kind, AB_ALERT_RECORD_BATCH);
        ck_assert_uint_eq(rec.batch.count, 3);
        while (ab_alert_record_batch_next(&rec.batch, &at, &entry)) {
                ck_assert_int_lt(n, 3);
                ck_assert_uint_eq(entry.len, e[n].len);
                ck_assert_mem_eq(entry.ptr, e[n].data, entry.len);
                ck_assert_int_eq(ab_alert_record_decode(entry.ptr, entry.len,
                                                        &s, &one, &err),
                                 AB_OK);
                ck_assert_int_eq(one.kind, kinds[n]);
                n++;
        }
        ck_assert_int_eq(n, 3);
        ck_assert_uint_eq(at, rec.batch.body.len);
        assert_golden(&b, GOLDEN_BATCH);
        ck_assert(!ab_alert_record_batch_next(&rec.batch, &at, &entry));
        for (int i = 0; i < 3; i++)
                ab_buf_fini(&e[i]);
        ab_buf_fini(&b);
        ab_alert_record_scratch_fini(&s);
}
END_TEST

START_TEST(test_batch_cost)
{
        ck_assert_uint_eq(ab_alert_record_batch_cost(0, 10), 6 + 1 + 10);
        ck_assert_uint_eq(ab_alert_record_batch_cost(20, 127), 1 + 127);
        ck_assert_uint_eq(ab_alert_record_batch_cost(20, 128), 2 + 128);
        ck_assert_uint_eq(ab_alert_record_batch_cost(20, 16384), 3 + 16384);
}
END_TEST

/* A batch of \p len bytes: the head, then \p body. */
static size_t make_batch(unsigned char *out, unsigned version, unsigned kind,
                         const void *body, size_t len)
{
        memcpy(out, "ABAR", 4);
        out[4] = (unsigned char)version;
        out[5] = (unsigned char)kind;
        memcpy(out + 6, body, len);
        return 6 + len;
}

START_TEST(test_batch_malformed)
{
        struct ab_buf e[3], b, nested;
        unsigned char raw[1024];
        struct ab_error err;
        size_t bound[3], n;

        golden_entries(e);
        ab_buf_init(&b, 0);
        ab_buf_init(&nested, 0);
        golden_batch(&b, e);
        /* No entries; a batch kind in another version and the reverse. */
        expect_bad(raw, make_batch(raw, 3, 3, "", 0), 6);
        expect_bad(raw, make_batch(raw, 3, 1, "", 0), 5);
        memcpy(raw, e[0].data, e[0].len);
        raw[4] = 3;
        expect_bad(raw, e[0].len, 5);
        expect_bad(raw, make_batch(raw, 1, 3, "\x01x", 2), 5);
        expect_bad(raw, make_batch(raw, 4, 3, "", 0), 4);
        /* Every cut that does not fall between two entries fails; one
         * that does leaves a shorter valid batch. */
        bound[0] = ab_alert_record_batch_cost(0, e[0].len);
        bound[1] = bound[0] + ab_alert_record_batch_cost(1, e[1].len);
        bound[2] = b.len;
        ck_assert_uint_eq(bound[1] + ab_alert_record_batch_cost(1, e[2].len),
                          b.len);
        for (n = 0; n < b.len; n++)
                if (n != bound[0] && n != bound[1])
                        expect_bad(b.data, n, -1);
        /* An entry's length runs past the end, at the length (one more
         * takes as many bytes). */
        memcpy(raw, b.data, b.len);
        ck_assert_uint_eq(put_varint(raw + bound[1], e[2].len + 1),
                          put_varint(raw + 1000, e[2].len));
        expect_bad(raw, b.len, (long)bound[1]);
        /* An entry too short to be a record, one that is no record, and
         * a batch in a batch, at the entry. */
        expect_bad(raw,
                   make_batch(raw, 3, 3,
                              "\x03"
                              "ABA",
                              4),
                   7);
        expect_bad(raw,
                   make_batch(raw, 3, 3,
                              "\x06"
                              "ABAR\x01\x07",
                              7),
                   7);
        ck_assert_int_eq(
            ab_alert_record_batch_add(&nested, e[0].data, e[0].len, &err),
            AB_OK);
        memcpy(raw, "ABAR\x03\x03", 6);
        n = 6 + put_varint(raw + 6, nested.len);
        memcpy(raw + n, nested.data, nested.len);
        expect_bad(raw, n + nested.len, (long)n);
        /* A length that overflows 64 bits. */
        expect_bad(raw,
                   make_batch(raw, 3, 3,
                              "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10),
                   6);
        for (int i = 0; i < 3; i++)
                ab_buf_fini(&e[i]);
        ab_buf_fini(&b);
        ab_buf_fini(&nested);
}
END_TEST

START_TEST(test_batch_add_errors)
{
        struct ab_buf e[3], b, small;
        struct ab_error err;

        golden_entries(e);
        ab_buf_init(&b, 0);
        golden_batch(&b, e);
        /* Only ALERT and ACTION records go into a batch: not bytes that are
         * no record, not a batch; the batch is left as it was. */
        ab_error_clear(&err);
        ck_assert_int_eq(ab_alert_record_batch_add(&b, "ABAR", 4, &err),
                         AB_ERR_INTERNAL);
        ck_assert_int_eq(ab_alert_record_batch_add(&b, b.data, b.len, &err),
                         AB_ERR_INTERNAL);
        ck_assert_uint_eq(b.len, ab_alert_record_batch_cost(0, e[0].len) +
                                     ab_alert_record_batch_cost(1, e[1].len) +
                                     ab_alert_record_batch_cost(1, e[2].len));
        /* Out of room: unchanged, and an empty buffer stays empty. */
        ab_buf_init(&small, ab_alert_record_batch_cost(0, e[0].len) - 1);
        ck_assert_int_eq(
            ab_alert_record_batch_add(&small, e[0].data, e[0].len, &err),
            AB_ERR_TOO_LARGE);
        ck_assert_uint_eq(small.len, 0);
        ab_buf_fini(&small);
        ab_buf_init(&small, ab_alert_record_batch_cost(0, e[0].len));
        ck_assert_int_eq(
            ab_alert_record_batch_add(&small, e[0].data, e[0].len, &err),
            AB_OK);
        ck_assert_int_eq(
            ab_alert_record_batch_add(&small, e[1].data, e[1].len, &err),
            AB_ERR_TOO_LARGE);
        ck_assert_uint_eq(small.len, ab_alert_record_batch_cost(0, e[0].len));
        ab_buf_fini(&small);
        for (int i = 0; i < 3; i++)
                ab_buf_fini(&e[i]);
        ab_buf_fini(&b);
}
END_TEST

/* ------------------------------------------------------------ routing */

START_TEST(test_route)
{
        static const unsigned char zero[4] = {0, 0, 0, 0};
        static const unsigned char top[4]  = {0xff, 0xff, 0xff, 0xff};

        /* 0xdeadbeef = 3735928559 */
        ck_assert_int_eq(ab_alert_record_route(fp_bytes, 6), 3735928559u % 6);
        ck_assert_int_eq(ab_alert_record_route(fp_bytes, 1), 0);
        ck_assert_int_eq(ab_alert_record_route(fp_bytes, 1000),
                         3735928559u % 1000);
        ck_assert_int_eq(ab_alert_record_route(zero, 7), 0);
        ck_assert_int_eq(ab_alert_record_route(top, 10), 4294967295u % 10);
        ck_assert_int_eq(ab_alert_record_route(top, INT32_MAX),
                         (int32_t)(4294967295u % INT32_MAX));
        ck_assert_int_eq(ab_alert_record_route(top, 0), 0);
}
END_TEST

static ab_err_t action_route(const char *json, unsigned char *prefix,
                             struct ab_error *err)
{
        ab_error_clear(err);
        return ab_alert_record_action_route(json, strlen(json), prefix, err);
}

START_TEST(test_action_route)
{
        static const unsigned char want[AB_ALERT_RECORD_ROUTE_LEN] = {
            0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67};
        unsigned char prefix[AB_ALERT_RECORD_ROUTE_LEN];
        struct ab_error err;

        ck_assert_int_eq(action_route("{\"action\":\"claim\",\"alert_id\":"
                                      "\"DEADBEEF0123456711111111111111ff\"}",
                                      prefix, &err),
                         AB_OK);
        ck_assert(!memcmp(prefix, want, sizeof(want)));
        ck_assert_int_eq(
            action_route(
                "{\"fingerprint\":\"deadbeef0123456789abcdeffedcba98\","
                "\"integration\":\"alertmanager\",\"alert_id\":null}",
                prefix, &err),
            AB_OK);
        ck_assert(!memcmp(prefix, want, sizeof(want)));
        /* alert_id wins: the lifecycle looks the alert up by it. */
        ck_assert_int_eq(
            action_route(
                "{\"fingerprint\":\"00000000000000000000000000000000\","
                "\"alert_id\":\"deadbeef0123456700000000000000aa\"}",
                prefix, &err),
            AB_OK);
        ck_assert(!memcmp(prefix, want, sizeof(want)));

        ck_assert_int_eq(action_route("{\"action\":\"claim\"}", prefix, &err),
                         AB_ERR_ACTION_INVALID);
        ck_assert_str_eq(err.text, "an action needs alert_id or fingerprint");
        ck_assert_int_eq(
            action_route("{\"alert_id\":\"deadbeef\"}", prefix, &err),
            AB_ERR_ACTION_INVALID);
        ck_assert_str_eq(err.path, "alert_id");
        ck_assert_int_eq(
            action_route(
                "{\"fingerprint\":\"deadbeef0123456789abcdeffedcba9g\"}",
                prefix, &err),
            AB_ERR_ACTION_INVALID);
        ck_assert_str_eq(err.path, "fingerprint");
        ck_assert_int_eq(action_route("{\"alert_id\":7}", prefix, &err),
                         AB_ERR_ACTION_INVALID);
        ck_assert_int_eq(action_route("[1]", prefix, &err),
                         AB_ERR_ACTION_INVALID);
        ck_assert_int_eq(action_route("{\"alert_id\":", prefix, &err),
                         AB_ERR_ACTION_INVALID);
        ck_assert_int_eq(err.code, AB_ERR_ACTION_INVALID);
        ck_assert(err.has_offset);
        ck_assert(strstr(err.text, "an action record must be JSON: ") ==
                  err.text);
}
END_TEST

static Suite *suite(void)
{
        Suite *s    = suite_create("alert_record");
        TCase *trip = tcase_create("round_trip");
        TCase *bad  = tcase_create("malformed");
        TCase *rt   = tcase_create("route");

        tcase_set_timeout(trip, 60);
        tcase_add_test(trip, test_round_trip_golden_alert);
        tcase_add_test(trip, test_round_trip_many_labels);
        tcase_add_test(trip, test_round_trip_empty_and_huge);
        tcase_add_test(trip, test_round_trip_action);
        tcase_add_test(trip, test_round_trip_trace);
        tcase_add_test(trip, test_golden_bytes);
        tcase_add_test(trip, test_decode_pinned_versions);
        tcase_add_test(trip, test_decode_does_not_allocate);
        tcase_add_test(trip, test_batch_round_trip);
        tcase_add_test(trip, test_batch_cost);
        tcase_add_test(bad, test_batch_malformed);
        tcase_add_test(bad, test_batch_add_errors);
        tcase_add_test(bad, test_every_truncation_fails);
        tcase_add_test(bad, test_malformed_header_and_fixed_fields);
        tcase_add_test(bad, test_malformed_trailing_and_refs);
        tcase_add_test(bad, test_malformed_trace);
        tcase_add_test(bad, test_encode_errors_leave_buffer);
        tcase_add_test(rt, test_route);
        tcase_add_test(rt, test_action_route);
        suite_add_tcase(s, trip);
        suite_add_tcase(s, bad);
        suite_add_tcase(s, rt);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
