/* check_json_diff.c - differential test of core/json.c against jansson. */
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/log.h"

/*
 * HOW IT WORKS
 * Every input (the corpus files, seeded mutations of them, and documents
 * generated from the JSON grammar) is parsed by both jansson
 * (json_loadb(..., JSON_DECODE_ANY)) and ab_json_parse(). The rules:
 *
 *  - jansson accepts  => we accept, and
 *      a) our tape equals jansson's tree, compared through lookups: same
 *         types, same decoded strings, numbers equal by value (integers
 *         as int64, reals bit-for-bit as strtod() reads them), arrays
 *         element by element, and objects by their distinct keys in
 *         first-appearance order with ab_json_get() (the last duplicate)
 *         giving jansson's value (jansson keeps the last value at the
 *         first key's position);
 *      b) ab_json_write() of the root is compact, jansson accepts it, and
 *         json_dumps() of that equals json_dumps() of the original tree
 *         (both COMPACT|PRESERVE_ORDER|ENCODE_ANY), which settles number
 *         formatting and duplicates the way jansson sees them;
 *      c) re-parsing our output and writing it again is byte-stable;
 *      d) every token's source range (ab_json_raw) parses on its own to
 *         the same subtree.
 *  - we reject        => jansson rejects.
 *  - allowed asymmetries, each checked and counted:
 *    1. we accept and jansson rejects with json_error_numeric_overflow
 *       (integers beyond int64, reals beyond double): we validate numbers
 *       but do not convert them;
 *    2. jansson accepts and we reject because of a NUL byte right after a
 *       number or a literal: jansson's lexer reads one byte too far there
 *       and its unget of a 0 byte is lost ("[1\0]" loads as [1]). We
 *       reject NUL outside strings as RFC 8259 says; the input without
 *       those bytes must then load identically on both sides.
 */

#define CORPUS_DIR     AB_SOURCE_DIR "/tests/fuzz/corpus/json"
#define MUTATIONS      10000
#define GENERATED      4000
#define DIFF_MAX_INPUT (64 * 1024)
#define DUMP_FLAGS     (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)

struct input {
        char *data;
        size_t len;
};

static struct input corpus[256];
static size_t ncorpus;

struct stats {
        size_t both_ok, both_reject, overflow_only_jansson, nul_quirk;
};

static struct ab_json_doc doc, sub;
static struct ab_buf out, out2;

/* ---- deterministic randomness ----------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
        /* xorshift64* */
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        return rng_state * 0x2545F4914F6CDD1DULL;
}

static size_t rnd_below(size_t n)
{
        return n ? (size_t)(rnd() % n) : 0;
}

/* ---- comparisons ------------------------------------------------------- */

static int is_integer_text(struct ab_str s)
{
        for (size_t i = 0; i < s.len; i++)
                if (s.ptr[i] == '.' || s.ptr[i] == 'e' || s.ptr[i] == 'E')
                        return 0;
        return 1;
}

static int same_key(const struct ab_json_doc *d, uint32_t a, uint32_t b)
{
        return ab_str_eq(ab_json_text(d, a), ab_json_text(d, b));
}

/* Our tape at token i against jansson's value j; 0 when equal. */
static int compare_tape(const struct ab_json_doc *d, uint32_t i,
                        const json_t *j, const char **why)
{
        const struct ab_json_tok *t = ab_json_at(d, i);
        struct ab_str s             = ab_json_text(d, i);

        switch (t->type) {
        case AB_JSON_NULL:
                return json_is_null(j) ? 0 : (*why = "null", -1);
        case AB_JSON_TRUE:
                return json_is_true(j) ? 0 : (*why = "true", -1);
        case AB_JSON_FALSE:
                return json_is_false(j) ? 0 : (*why = "false", -1);
        case AB_JSON_NUMBER:
                if (is_integer_text(s)) {
                        int64_t v;
                        if (!json_is_integer(j) || ab_json_int64(d, i, &v) ||
                            v != json_integer_value(j))
                                return *why = "integer", -1;
                } else {
                        double v;
                        if (!json_is_real(j) || ab_json_double(d, i, &v) ||
                            memcmp(&v, &(double){json_real_value(j)},
                                   sizeof(v)))
                                return *why = "real", -1;
                }
                return 0;
        case AB_JSON_STRING:
                if (!json_is_string(j) || json_string_length(j) != s.len ||
                    memcmp(json_string_value(j), s.ptr, s.len))
                        return *why = "string", -1;
                return 0;
        case AB_JSON_ARRAY:
                if (!json_is_array(j) || json_array_size(j) != t->size)
                        return *why = "array size", -1;
                for (uint32_t k = i + 1, n = 0; n < t->size;
                     n++, k                = ab_json_at(d, k)->next)
                        if (compare_tape(d, k, json_array_get(j, n), why))
                                return -1;
                return 0;
        case AB_JSON_OBJECT: {
                void *it        = json_object_iter((json_t *)j);
                size_t distinct = 0;

                if (!json_is_object(j))
                        return *why = "object", -1;
                for (uint32_t k = i + 1, n = 0; n < t->size;
                     n++, k                = ab_json_at(d, k + 1)->next) {
                        int first = 1;
                        uint32_t v;

                        for (uint32_t e = i + 1; e != k;
                             e          = ab_json_at(d, e + 1)->next)
                                if (same_key(d, e, k))
                                        first = 0;
                        if (!first)
                                continue;
                        distinct++;
                        s = ab_json_text(d, k);
                        if (!it || json_object_iter_key_len(it) != s.len ||
                            memcmp(json_object_iter_key(it), s.ptr, s.len))
                                return *why = "key order", -1;
                        v = ab_json_get(d, i, s.ptr, s.len);
                        if (v == AB_JSON_NONE ||
                            compare_tape(d, v, json_object_iter_value(it), why))
                                return *why = *why ? *why : "member", -1;
                        it = json_object_iter_next((json_t *)j, it);
                }
                if (it || distinct != json_object_size(j))
                        return *why = "object size", -1;
                return 0;
        }
        }
        return *why = "type", -1;
}

/* No white space outside strings: the output is compact. */
static int is_compact(const char *s, size_t n)
{
        int in_str = 0;

        for (size_t i = 0; i < n; i++) {
                if (in_str) {
                        if (s[i] == '\\')
                                i++;
                        else if (s[i] == '"')
                                in_str = 0;
                } else if (s[i] == '"') {
                        in_str = 1;
                } else if (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' ||
                           s[i] == '\r') {
                        return 0;
                }
        }
        return 1;
}

/* Rule (d): each token's raw text parses alone to the same subtree. */
static void check_raw_ranges(const char *label)
{
        for (uint32_t i = 0; i < doc.ntoks; i++) {
                struct ab_str raw = ab_json_raw(&doc, i);

                ck_assert_msg(
                    ab_json_parse(&sub, raw.ptr, raw.len, NULL) == AB_OK,
                    "%s: raw range of token %u does not parse", label, i);
                ab_buf_reset(&out2);
                ck_assert_int_eq(ab_json_write(&sub, 0, &out2), AB_OK);
                ab_buf_reset(&out);
                ck_assert_int_eq(ab_json_write(&doc, i, &out), AB_OK);
                ck_assert_msg(out.len == out2.len &&
                                  !memcmp(out.data, out2.data, out.len),
                              "%s: raw range of token %u differs", label, i);
        }
}

/* The input without the NUL bytes jansson skips (asymmetry 2). */
static size_t strip_nul_quirk(const char *in, size_t len, char *out_bytes)
{
        size_t n = 0;

        for (size_t i = 0; i < len; i++) {
                char prev = i ? in[i - 1] : ' ';
                if (in[i] == '\0' && ((prev >= '0' && prev <= '9') ||
                                      prev == 'e' || prev == 'l'))
                        continue;
                out_bytes[n++] = in[i];
        }
        return n;
}

static void check_nul_quirk(const char *data, size_t len, const json_t *j,
                            const char *label)
{
        char *stripped  = malloc(len ? len : 1);
        const char *why = NULL;
        size_t n;

        ck_assert_ptr_nonnull(stripped);
        n = strip_nul_quirk(data, len, stripped);
        ck_assert_msg(n < len, "%s: we reject, jansson accepts", label);
        ck_assert_msg(ab_json_parse(&sub, stripped, n, NULL) == AB_OK,
                      "%s: we reject even without the skipped NULs", label);
        ck_assert_msg(compare_tape(&sub, 0, j, &why) == 0,
                      "%s: without NULs, tape differs (%s)", label, why);
        free(stripped);
}

static void check_one(const char *data, size_t len, const char *label,
                      struct stats *st)
{
        json_error_t jerr;
        struct ab_error err;
        json_t *j = json_loadb(data, len, JSON_DECODE_ANY, &jerr);
        ab_err_t rc;

        ab_error_clear(&err);
        rc = ab_json_parse(&doc, data, len, &err);
        if (rc != AB_OK) {
                ck_assert_int_eq(rc, AB_ERR_DECODE);
                ck_assert_uint_le(err.offset, len);
                if (j && memchr(data, '\0', len)) {
                        check_nul_quirk(data, len, j, label);
                        json_decref(j);
                        st->nul_quirk++;
                        return;
                }
                ck_assert_msg(j == NULL,
                              "%s: we reject (%s at %zu), jansson accepts "
                              "%zu bytes: %.*s",
                              label, err.text, err.offset, len,
                              (int)(len < 200 ? len : 200), data);
                st->both_reject++;
                return;
        }
        if (!j) {
                ck_assert_msg(json_error_code(&jerr) ==
                                  json_error_numeric_overflow,
                              "%s: we accept, jansson rejects: %s at %d", label,
                              jerr.text, jerr.position);
                st->overflow_only_jansson++;
                return;
        }
        {
                const char *why = NULL;
                json_t *w;
                char *d1, *d2;

                ck_assert_msg(compare_tape(&doc, 0, j, &why) == 0,
                              "%s: tape differs from jansson (%s)", label, why);
                ab_buf_reset(&out);
                ck_assert_int_eq(ab_json_write(&doc, 0, &out), AB_OK);
                ck_assert_msg(is_compact(out.data, out.len),
                              "%s: output not compact", label);
                w = json_loadb(out.data, out.len, JSON_DECODE_ANY, &jerr);
                ck_assert_msg(w != NULL, "%s: jansson rejects our output: %s",
                              label, jerr.text);
                d1 = json_dumps(j, DUMP_FLAGS);
                d2 = json_dumps(w, DUMP_FLAGS);
                ck_assert_msg(d1 && d2 && !strcmp(d1, d2),
                              "%s: dumps differ:\n%s\n%s", label, d1, d2);
                free(d1);
                free(d2);
                json_decref(w);
                /* (c) stable round trip */
                ck_assert_int_eq(ab_json_parse(&sub, out.data, out.len, NULL),
                                 AB_OK);
                ab_buf_reset(&out2);
                ck_assert_int_eq(ab_json_write(&sub, 0, &out2), AB_OK);
                ck_assert_msg(out.len == out2.len &&
                                  !memcmp(out.data, out2.data, out.len),
                              "%s: round trip not stable", label);
                check_raw_ranges(label);
        }
        json_decref(j);
        st->both_ok++;
}

/* ---- corpus ------------------------------------------------------------ */

static int by_name(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_corpus(void)
{
        DIR *dir = opendir(CORPUS_DIR);
        struct dirent *de;
        char *names[256];
        size_t n = 0;

        ck_assert_msg(dir != NULL, "cannot open %s", CORPUS_DIR);
        while ((de = readdir(dir)) != NULL && n < 256)
                if (de->d_name[0] != '.')
                        names[n++] = strdup(de->d_name);
        closedir(dir);
        /* Sorted, so the mutations are the same on every machine. */
        qsort(names, n, sizeof(names[0]), by_name);
        ncorpus = 0;
        for (size_t i = 0; i < n; i++) {
                char path[512];
                FILE *f;
                long sz;

                snprintf(path, sizeof(path), "%s/%s", CORPUS_DIR, names[i]);
                free(names[i]);
                f = fopen(path, "rb");
                ck_assert_ptr_nonnull(f);
                fseek(f, 0, SEEK_END);
                sz = ftell(f);
                fseek(f, 0, SEEK_SET);
                corpus[ncorpus].data = malloc((size_t)sz + 1);
                ck_assert_ptr_nonnull(corpus[ncorpus].data);
                ck_assert_uint_eq(fread(corpus[ncorpus].data, 1, (size_t)sz, f),
                                  (size_t)sz);
                corpus[ncorpus].len = (size_t)sz;
                fclose(f);
                ncorpus++;
        }
        ck_assert_uint_ge(ncorpus, 60);
}

static void setup(void)
{
        ab_json_doc_init(&doc);
        ab_json_doc_init(&sub);
        ab_buf_init(&out, 0);
        ab_buf_init(&out2, 0);
        load_corpus();
}

static void teardown(void)
{
        for (size_t i = 0; i < ncorpus; i++)
                free(corpus[i].data);
        ab_json_doc_fini(&doc);
        ab_json_doc_fini(&sub);
        ab_buf_fini(&out);
        ab_buf_fini(&out2);
}

START_TEST(test_corpus)
{
        struct stats st = {0};

        for (size_t i = 0; i < ncorpus; i++) {
                char label[32];
                snprintf(label, sizeof(label), "corpus #%zu", i);
                check_one(corpus[i].data, corpus[i].len, label, &st);
        }
        /* The corpus holds both kinds, and the overflow samples. */
        ck_assert_uint_ge(st.both_ok, 30);
        ck_assert_uint_ge(st.both_reject, 30);
        ck_assert_uint_ge(st.overflow_only_jansson, 3);
        ck_assert_uint_ge(st.nul_quirk, 1);
        AB_INFO("json_diff", "corpus done",
                "accepted=%zu rejected=%zu "
                "overflow_asymmetry=%zu nul_quirk=%zu",
                st.both_ok, st.both_reject, st.overflow_only_jansson,
                st.nul_quirk);
}
END_TEST

/* ---- mutations --------------------------------------------------------- */

static const char *const tokens[] = {
    "\\u0000",
    "\\ud800",
    "\\udc00",
    "\\ud83d\\ude00",
    "\\u00e9",
    "\\n",
    "\\\"",
    "\\",
    "1e400",
    "18446744073709551616",
    "-0",
    "0.5e-3",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "\"",
    "\"k\":",
    "null",
    "true",
    "false",
    "\xC3\xA9",
    "\xED\xA0\x80",
    "\xF0\x9F\x98\x80",
    "\xE2\x82",
    "\x80",
    "  ",
    "\n",
    "\t",
    "\"a\":1,\"a\":2",
    "[[[[",
    "]]]]",
    "{\"x\":{}}",
};
static const char bytes[]        = "{}[],:\"\\ 0123456789-+.eEtrufalsn\t\n\r/u";
static const unsigned char odd[] = {0x00, 0x1f, 0x7f, 0x80, 0xbf, 0xc0, 0xc3,
                                    0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff};

/* Apply one random edit to buf (len in *n, room for DIFF_MAX_INPUT bytes). */
static void mutate(char *buf, size_t *n)
{
        size_t len = *n, pos = rnd_below(len + 1), k;
        const char *tok;

        switch (rnd_below(8)) {
        case 0: /* flip a bit */
                if (len)
                        buf[rnd_below(len)] ^= (char)(1u << rnd_below(8));
                break;
        case 1: /* overwrite with a syntax byte */
                if (len)
                        buf[rnd_below(len)] =
                            bytes[rnd_below(sizeof(bytes) - 1)];
                break;
        case 2: /* overwrite with an odd byte */
                if (len)
                        buf[rnd_below(len)] = (char)odd[rnd_below(sizeof(odd))];
                break;
        case 3: /* insert a token */
                tok = tokens[rnd_below(sizeof(tokens) / sizeof(tokens[0]))];
                k   = strlen(tok);
                if (len + k <= DIFF_MAX_INPUT) {
                        memmove(buf + pos + k, buf + pos, len - pos);
                        memcpy(buf + pos, tok, k);
                        *n = len + k;
                }
                break;
        case 4: /* delete a range */
                k = rnd_below(len - pos < 16 ? len - pos + 1 : 16);
                memmove(buf + pos, buf + pos + k, len - pos - k);
                *n = len - k;
                break;
        case 5: /* duplicate a range elsewhere */
                if (len) {
                        size_t from = rnd_below(len);
                        k = rnd_below(len - from < 64 ? len - from + 1 : 64);
                        if (len + k <= DIFF_MAX_INPUT) {
                                char tmp[64];
                                memcpy(tmp, buf + from, k);
                                memmove(buf + pos + k, buf + pos, len - pos);
                                memcpy(buf + pos, tmp, k);
                                *n = len + k;
                        }
                }
                break;
        case 6: /* truncate */
                *n = pos;
                break;
        default: /* splice in the tail of another corpus file */
        {
                const struct input *o = &corpus[rnd_below(ncorpus)];
                size_t from           = rnd_below(o->len + 1);
                k                     = o->len - from;
                if (pos + k > DIFF_MAX_INPUT)
                        k = DIFF_MAX_INPUT - pos;
                memcpy(buf + pos, o->data + from, k);
                *n = pos + k;
                break;
        }
        }
}

START_TEST(test_mutations)
{
        char *buf       = malloc(DIFF_MAX_INPUT);
        struct stats st = {0};

        ck_assert_ptr_nonnull(buf);
        rng_state = 0x9E3779B97F4A7C15ULL;
        for (int i = 0; i < MUTATIONS; i++) {
                const struct input *in = &corpus[rnd_below(ncorpus)];
                size_t n  = in->len < DIFF_MAX_INPUT ? in->len : DIFF_MAX_INPUT;
                int edits = 1 + (int)rnd_below(4);
                char label[48];

                memcpy(buf, in->data, n);
                while (edits--)
                        mutate(buf, &n);
                snprintf(label, sizeof(label), "mutation #%d", i);
                check_one(buf, n, label, &st);
        }
        /* Mutations must exercise both outcomes to mean anything. */
        ck_assert_uint_ge(st.both_ok, MUTATIONS / 20);
        ck_assert_uint_ge(st.both_reject, MUTATIONS / 4);
        AB_INFO("json_diff", "mutations done",
                "accepted=%zu rejected=%zu "
                "overflow_asymmetry=%zu nul_quirk=%zu",
                st.both_ok, st.both_reject, st.overflow_only_jansson,
                st.nul_quirk);
        free(buf);
}
END_TEST

/* ---- generated documents ----------------------------------------------- */

static void gen_ws(struct ab_buf *b)
{
        static const char ws[] = " \t\n\r";

        while (rnd_below(4) == 0)
                ab_buf_append_char(b, ws[rnd_below(4)]);
}

static void gen_string(struct ab_buf *b)
{
        static const char *const pieces[] = {
            "a",
            "Z",
            "0",
            " ",
            "key",
            "\\n",
            "\\t",
            "\\\"",
            "\\\\",
            "\\/",
            "\\b",
            "\\f",
            "\\r",
            "\\u00e9",
            "\\u20AC",
            "\\uD83D\\uDE00",
            "\\u001f",
            "\\uFFFF",
            "\xC3\xA9",
            "\xE4\xB8\xAD",
            "\xF0\x9F\x98\x80",
            "\xF4\x8F\xBF\xBF",
            "\x7F",
            "abcdefghijklmnopqrstuvwxyz0123456789"};
        size_t n = rnd_below(6);

        ab_buf_append_char(b, '"');
        while (n--)
                ab_buf_append_str(
                    b, pieces[rnd_below(sizeof(pieces) / sizeof(pieces[0]))]);
        ab_buf_append_char(b, '"');
}

static void gen_number(struct ab_buf *b)
{
        static const char *const ints[] = {"0",
                                           "-0",
                                           "7",
                                           "-12",
                                           "65536",
                                           "9223372036854775807",
                                           "-9223372036854775808"};

        if (rnd_below(2)) {
                ab_buf_append_str(b, ints[rnd_below(7)]);
                return;
        }
        if (rnd_below(4) == 0)
                ab_buf_append_char(b, '-');
        ab_buf_appendf(b, "%u", (unsigned)rnd_below(100000));
        if (rnd_below(2))
                ab_buf_appendf(b, ".%0*u", 1 + (int)rnd_below(5),
                               (unsigned)rnd_below(10000));
        if (rnd_below(3) == 0)
                ab_buf_appendf(b, "%c%s%u", rnd_below(2) ? 'e' : 'E',
                               rnd_below(2)   ? "-"
                               : rnd_below(2) ? "+"
                                              : "",
                               (unsigned)rnd_below(300));
}

static void gen_value(struct ab_buf *b, int depth)
{
        size_t kind = rnd_below(depth > 6 ? 5 : 8);
        size_t n;

        gen_ws(b);
        switch (kind) {
        case 0:
                ab_buf_append_str(b, "null");
                break;
        case 1:
                ab_buf_append_str(b, rnd_below(2) ? "true" : "false");
                break;
        case 2:
        case 3:
                gen_number(b);
                break;
        case 4:
                gen_string(b);
                break;
        case 5:
        case 6:
                n = rnd_below(5);
                ab_buf_append_char(b, '{');
                for (size_t i = 0; i < n; i++) {
                        if (i)
                                ab_buf_append_char(b, ',');
                        gen_ws(b);
                        /* Few distinct keys, so duplicates are common. */
                        if (rnd_below(2))
                                ab_buf_appendf(b, "\"k%u\"",
                                               (unsigned)rnd_below(3));
                        else
                                gen_string(b);
                        gen_ws(b);
                        ab_buf_append_char(b, ':');
                        gen_value(b, depth + 1);
                }
                gen_ws(b);
                ab_buf_append_char(b, '}');
                break;
        default:
                n = rnd_below(5);
                ab_buf_append_char(b, '[');
                for (size_t i = 0; i < n; i++) {
                        if (i)
                                ab_buf_append_char(b, ',');
                        gen_value(b, depth + 1);
                }
                gen_ws(b);
                ab_buf_append_char(b, ']');
                break;
        }
        gen_ws(b);
}

START_TEST(test_generated)
{
        struct ab_buf g;
        struct stats st = {0};
        char *m         = malloc(DIFF_MAX_INPUT);

        ck_assert_ptr_nonnull(m);
        ab_buf_init(&g, DIFF_MAX_INPUT - 1024);
        rng_state = 0xD1B54A32D192ED03ULL;
        for (int i = 0; i < GENERATED; i++) {
                char label[48];
                size_t n;

                ab_buf_reset(&g);
                gen_value(&g, 0);
                snprintf(label, sizeof(label), "generated #%d", i);
                check_one(g.data, g.len, label, &st);
                /* And one mutation of it. */
                n = g.len;
                memcpy(m, g.data, n);
                mutate(m, &n);
                snprintf(label, sizeof(label), "generated #%d mutated", i);
                check_one(m, n, label, &st);
        }
        /* Every unmutated document is valid JSON. */
        ck_assert_uint_ge(st.both_ok, GENERATED);
        AB_INFO("json_diff", "generated done",
                "accepted=%zu rejected=%zu "
                "overflow_asymmetry=%zu nul_quirk=%zu",
                st.both_ok, st.both_reject, st.overflow_only_jansson,
                st.nul_quirk);
        ab_buf_fini(&g);
        free(m);
}
END_TEST

static Suite *json_diff_suite(void)
{
        Suite *s  = suite_create("json_diff");
        TCase *tc = tcase_create("jansson");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 240);
        tcase_add_test(tc, test_corpus);
        tcase_add_test(tc, test_mutations);
        tcase_add_test(tc, test_generated);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(json_diff_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
