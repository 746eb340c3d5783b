/* check_json.c - unit tests for the hot-path JSON tape parser (core/json.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/mem.h"

#define CORPUS AB_SOURCE_DIR "/tests/fuzz/corpus/json/"

static struct ab_json_doc doc;
static struct ab_error err;

static void setup(void)
{
        ab_json_doc_init(&doc);
        ab_error_clear(&err);
}

static void teardown(void)
{
        ab_json_doc_fini(&doc);
}

static ab_err_t parse(const char *s)
{
        ab_error_clear(&err);
        return ab_json_parse(&doc, s, strlen(s), &err);
}

/* Read a whole corpus file into a malloc'd buffer. */
static char *read_corpus(const char *name, size_t *len)
{
        char path[512];
        FILE *f;
        char *buf;
        long n;

        snprintf(path, sizeof(path), CORPUS "%s", name);
        f = fopen(path, "rb");
        ck_assert_msg(f != NULL, "cannot open %s", path);
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = malloc((size_t)n + 1);
        ck_assert_ptr_nonnull(buf);
        ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
        fclose(f);
        buf[n] = '\0';
        *len   = (size_t)n;
        return buf;
}

static int text_is(uint32_t i, const char *want)
{
        struct ab_str s = ab_json_text(&doc, i);
        return s.len == strlen(want) && !memcmp(s.ptr, want, s.len);
}

static int raw_is(uint32_t i, const char *want)
{
        struct ab_str s = ab_json_raw(&doc, i);
        return s.len == strlen(want) && !memcmp(s.ptr, want, s.len);
}

/* ---- structure --------------------------------------------------------- */

START_TEST(test_tape_layout)
{
        const char *src = " {\"a\": [1, 2, {\"b\": null}], \"c\": \"x\"} ";

        ck_assert_int_eq(parse(src), AB_OK);
        ck_assert_uint_eq(doc.ntoks, 10);
        /* 0 {  1 "a"  2 [  3 1  4 2  5 {  6 "b"  7 null  8 "c"  9 "x" */
        ck_assert_int_eq(ab_json_type_of(&doc, 0), AB_JSON_OBJECT);
        ck_assert_uint_eq(ab_json_at(&doc, 0)->size, 2);
        ck_assert_uint_eq(ab_json_at(&doc, 0)->next, 10);
        ck_assert(text_is(1, "a"));
        ck_assert_int_eq(ab_json_type_of(&doc, 2), AB_JSON_ARRAY);
        ck_assert_uint_eq(ab_json_at(&doc, 2)->size, 3);
        ck_assert_uint_eq(ab_json_at(&doc, 2)->next, 8);
        ck_assert_uint_eq(ab_json_at(&doc, 3)->next, 4);
        ck_assert_int_eq(ab_json_type_of(&doc, 5), AB_JSON_OBJECT);
        ck_assert_uint_eq(ab_json_at(&doc, 5)->size, 1);
        ck_assert_uint_eq(ab_json_at(&doc, 5)->next, 8);
        ck_assert_int_eq(ab_json_type_of(&doc, 7), AB_JSON_NULL);
        ck_assert(text_is(8, "c"));
        ck_assert(text_is(9, "x"));
        /* Source ranges are exact. */
        ck_assert(raw_is(0, "{\"a\": [1, 2, {\"b\": null}], \"c\": \"x\"}"));
        ck_assert(raw_is(2, "[1, 2, {\"b\": null}]"));
        ck_assert(raw_is(5, "{\"b\": null}"));
        ck_assert(raw_is(1, "\"a\""));
        ck_assert(raw_is(9, "\"x\""));
        ck_assert(raw_is(7, "null"));
        ck_assert_uint_eq(ab_json_at(&doc, 0)->src_start, 1);
}
END_TEST

START_TEST(test_scalars_top_level)
{
        static const struct {
                const char *src;
                enum ab_json_type type;
                const char *text;
        } cases[] = {
            {"null", AB_JSON_NULL, "null"},
            {"true", AB_JSON_TRUE, "true"},
            {"false", AB_JSON_FALSE, "false"},
            {" 0 ", AB_JSON_NUMBER, "0"},
            {"-0", AB_JSON_NUMBER, "-0"},
            {"12.5e-3", AB_JSON_NUMBER, "12.5e-3"},
            {"1E+2", AB_JSON_NUMBER, "1E+2"},
            {"\"s\"", AB_JSON_STRING, "s"},
            {"\"\"", AB_JSON_STRING, ""},
            {"\t\r\n[]\n", AB_JSON_ARRAY, "[]"},
            {"{}", AB_JSON_OBJECT, "{}"},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                ck_assert_msg(parse(cases[i].src) == AB_OK, "%s: %s",
                              cases[i].src, err.text);
                ck_assert_uint_eq(doc.ntoks, 1);
                ck_assert_int_eq(ab_json_type_of(&doc, 0), cases[i].type);
                ck_assert_msg(text_is(0, cases[i].text), "%s", cases[i].src);
                ck_assert_uint_eq(ab_json_at(&doc, 0)->next, 1);
                ck_assert_uint_eq(ab_json_at(&doc, 0)->size, 0);
        }
}
END_TEST

START_TEST(test_unescaped_strings_borrow_source)
{
        const char *src =
            "[\"plain ascii\", \"h\xC3\xA9llo \xE4\xB8\xAD\xF0\x9F\x98\x80\"]";
        struct ab_str s;

        ck_assert_int_eq(parse(src), AB_OK);
        s = ab_json_text(&doc, 1);
        ck_assert_int_eq(ab_json_at(&doc, 1)->decoded, 0);
        ck_assert_ptr_eq(s.ptr, src + 2);
        ck_assert(text_is(2, "h\xC3\xA9llo \xE4\xB8\xAD\xF0\x9F\x98\x80"));
        ck_assert_int_eq(ab_json_at(&doc, 2)->decoded, 0);
        ck_assert_uint_eq(doc.strs.len, 0);
}
END_TEST

/* ---- escapes ----------------------------------------------------------- */

START_TEST(test_escapes_decoded_once)
{
        const char *src = "{\"k\\u00e9y\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\","
                          "\"e\":\"\\u20AC\\uD83D\\uDE00\\u0041\","
                          "\"plain\":\"x\"}";
        struct ab_str s;

        ck_assert_int_eq(parse(src), AB_OK);
        ck_assert_int_eq(ab_json_at(&doc, 1)->decoded, 1);
        ck_assert(text_is(1, "k\xC3\xA9y"));
        ck_assert(text_is(2, "a\"b\\c/d\b\f\n\r\t"));
        ck_assert(text_is(4, "\xE2\x82\xAC\xF0\x9F\x98\x80"
                             "A"));
        /* Decoded text lives in the document's buffer at `start`. */
        s = ab_json_text(&doc, 4);
        ck_assert_ptr_eq(s.ptr, doc.strs.data + ab_json_at(&doc, 4)->start);
        ck_assert_int_eq(ab_json_at(&doc, 6)->decoded, 0);
        ck_assert(raw_is(4, "\"\\u20AC\\uD83D\\uDE00\\u0041\""));
        ck_assert_uint_eq(ab_json_get(&doc, 0, "k\xC3\xA9y", 4), 2);
}
END_TEST

START_TEST(test_escape_then_utf8_run)
{
        ck_assert_int_eq(parse("\"\\n\xC3\xA9\xE2\x82\xAC tail \\t\""), AB_OK);
        ck_assert(text_is(0, "\n\xC3\xA9\xE2\x82\xAC tail \t"));
}
END_TEST

START_TEST(test_long_strings_cross_simd_blocks)
{
        char src[400], want[400];
        size_t n = 0, w = 0;

        /* Specials at every position relative to 16-byte blocks. */
        src[n++] = '"';
        for (int i = 0; i < 100; i++) {
                if (i % 17 == 3) {
                        memcpy(src + n, "\\n", 2);
                        n += 2;
                        want[w++] = '\n';
                } else if (i % 13 == 5) {
                        memcpy(src + n, "\xC3\xA9", 2);
                        memcpy(want + w, "\xC3\xA9", 2);
                        n += 2;
                        w += 2;
                } else {
                        src[n++]  = (char)('a' + i % 26);
                        want[w++] = (char)('a' + i % 26);
                }
        }
        src[n++] = '"';
        src[n]   = '\0';
        want[w]  = '\0';
        ck_assert_int_eq(parse(src), AB_OK);
        ck_assert(text_is(0, want));
}
END_TEST

/* ---- errors ------------------------------------------------------------ */

START_TEST(test_errors_name_problem_and_offset)
{
        static const struct {
                const char *src;
                size_t len; /* 0: strlen */
                const char *text;
                size_t offset;
        } cases[] = {
            {"", 0, "empty input", 0},
            {"   \n", 0, "empty input", 4},
            {"x", 0, "unexpected character 'x'", 0},
            {"[1, x]", 0, "unexpected character 'x'", 4},
            {"[1 2]", 0, "unexpected character '2', expected ',' or ']'", 3},
            {"{\"a\":1 \"b\":2}", 0, "expected ',' or '}'", 7},
            {"{\"a\" 1}", 0, "expected ':' after the object key", 5},
            {"{1:2}", 0, "expected a string key", 1},
            {"{\"a\":1,}", 0, "unexpected character '}', expected a string key",
             7},
            {"[1,]", 0, "unexpected character ']'", 3},
            {"[", 0, "unexpected end of input", 1},
            {"{\"a\":", 0, "unexpected end of input", 5},
            {"[1", 0, "unexpected end of input, expected ',' or ']'", 2},
            {"\"abc", 0, "unterminated string", 0},
            {"[\"a\\", 0, "unterminated string", 1},
            {"[\"ok\", \"\xC3\"]", 0, "invalid UTF-8 in string", 8},
            {"\"\xC0\xAF\"", 0, "invalid UTF-8 in string", 1},
            {"\"\xE0\x80\xAF\"", 0, "invalid UTF-8 in string", 1},
            {"\"\xED\xA0\x80\"", 0, "invalid UTF-8 in string", 1},
            {"\"\xF4\x90\x80\x80\"", 0, "invalid UTF-8 in string", 1},
            {"\"\xF5\x80\x80\x80\"", 0, "invalid UTF-8 in string", 1},
            {"\"\x80\"", 0, "invalid UTF-8 in string", 1},
            {"\"\xE2\x82\"", 0, "invalid UTF-8 in string", 1},
            {"\"ab\\q\"", 0, "invalid escape in string", 3},
            {"\"\\u12G4\"", 0, "invalid \\u escape in string", 1},
            {"\"\\u0000\"", 0, "\\u0000 is not allowed in strings", 1},
            {"{\"a\\u0000\":1}", 0, "\\u0000 is not allowed in strings", 3},
            {"\"\\uD800\"", 0, "high surrogate not followed", 1},
            {"\"\\uD800\\u0041\"", 0, "high surrogate not followed", 1},
            {"\"\\uDC00\"", 0, "lone low surrogate", 1},
            {"\"a\tb\"", 0, "control character in string", 2},
            {"\"a\nb\"", 0, "newline in string", 2},
            {"01", 0, "invalid number (leading zero)", 1},
            {"-", 0, "invalid number", 1},
            {"-a", 0, "invalid number", 1},
            {"1.", 0, "invalid number", 2},
            {"1.e3", 0, "invalid number", 2},
            {"1e", 0, "invalid number", 2},
            {"1e+", 0, "invalid number", 3},
            {".5", 0, "unexpected character '.'", 0},
            {"+1", 0, "unexpected character '+'", 0},
            {"tru", 0, "invalid literal", 0},
            {"nul", 0, "invalid literal", 0},
            {"True", 0, "unexpected character 'T'", 0},
            {"{} {}", 0, "trailing data after JSON value", 3},
            {"1 2", 0, "trailing data after JSON value", 2},
            {"nullx", 0, "trailing data after JSON value", 4},
            {"[1]\0", 4, "trailing data after JSON value", 3},
            {"\xEF\xBB\xBF{}", 0, "unexpected byte 0xef", 0},
            {"[\x01]", 0, "unexpected byte 0x01", 1},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                size_t len = cases[i].len ? cases[i].len : strlen(cases[i].src);
                ab_error_clear(&err);
                ck_assert_msg(ab_json_parse(&doc, cases[i].src, len, &err) ==
                                  AB_ERR_DECODE,
                              "case %zu accepted", i);
                ck_assert_int_eq(err.code, AB_ERR_DECODE);
                ck_assert_msg(strstr(err.text, cases[i].text) != NULL,
                              "case %zu: '%s' lacks '%s'", i, err.text,
                              cases[i].text);
                ck_assert_int_eq(err.has_offset, 1);
                ck_assert_msg(err.offset == cases[i].offset,
                              "case %zu: offset %zu, want %zu (%s)", i,
                              err.offset, cases[i].offset, err.text);
                ck_assert_uint_eq(doc.ntoks, 0);
        }
}
END_TEST

START_TEST(test_error_without_detail_and_format)
{
        char line[600];

        ck_assert_int_eq(ab_json_parse(&doc, "[1,", 3, NULL), AB_ERR_DECODE);
        ck_assert_int_eq(parse("{\"a\":tx}"), AB_ERR_DECODE);
        ab_error_format(&err, line, sizeof(line));
        ck_assert_str_eq(line, "decode: invalid literal (at byte 5)");
}
END_TEST

START_TEST(test_too_large_rejected_before_reading)
{
        /* The size check comes first, so the short buffer is never read. */
        ck_assert_int_eq(
            ab_json_parse(&doc, "{}", (size_t)UINT32_MAX + 1, &err),
            AB_ERR_TOO_LARGE);
        ck_assert_int_eq(err.code, AB_ERR_TOO_LARGE);
}
END_TEST

START_TEST(test_raw_control_bytes_and_del)
{
        /* DEL (0x7F) is not a control character in JSON. */
        ck_assert_int_eq(parse("\"a\x7F"
                               "b\""),
                         AB_OK);
        ck_assert(text_is(0, "a\x7F"
                             "b"));
        ck_assert_int_eq(ab_json_parse(&doc, "\"a\0b\"", 5, &err),
                         AB_ERR_DECODE);
        ck_assert_ptr_nonnull(strstr(err.text, "control character"));
}
END_TEST

/* ---- nesting ----------------------------------------------------------- */

static char *nested(int depth, const char *open, const char *inner,
                    const char *close)
{
        size_t lo = strlen(open), li = strlen(inner), lc = strlen(close);
        char *s = malloc((size_t)depth * (lo + lc) + li + 1), *p = s;

        ck_assert_ptr_nonnull(s);
        for (int i = 0; i < depth; i++, p += lo)
                memcpy(p, open, lo);
        memcpy(p, inner, li);
        p += li;
        for (int i = 0; i < depth; i++, p += lc)
                memcpy(p, close, lc);
        *p = '\0';
        return s;
}

START_TEST(test_depth_limit)
{
        char *s;

        /* A value at level AB_JSON_MAX_DEPTH is fine, one below is not
         * (jansson counts every value, scalars included). */
        s = nested(AB_JSON_MAX_DEPTH, "[", "", "]");
        ck_assert_int_eq(parse(s), AB_OK);
        ck_assert_uint_eq(doc.ntoks, AB_JSON_MAX_DEPTH);
        ck_assert_uint_eq(ab_json_at(&doc, 0)->next, AB_JSON_MAX_DEPTH);
        free(s);
        s = nested(AB_JSON_MAX_DEPTH - 1, "[", "1", "]");
        ck_assert_int_eq(parse(s), AB_OK);
        free(s);
        s = nested(AB_JSON_MAX_DEPTH, "[", "1", "]");
        ck_assert_int_eq(parse(s), AB_ERR_DECODE);
        ck_assert_str_eq(err.text, "nesting too deep");
        ck_assert_uint_eq(err.offset, AB_JSON_MAX_DEPTH);
        free(s);
        s = nested(AB_JSON_MAX_DEPTH + 1, "[", "", "]");
        ck_assert_int_eq(parse(s), AB_ERR_DECODE);
        free(s);
        s = nested(AB_JSON_MAX_DEPTH - 1, "{\"k\":", "{}", "}");
        ck_assert_int_eq(parse(s), AB_OK);
        free(s);
        s = nested(AB_JSON_MAX_DEPTH, "{\"k\":", "0", "}");
        ck_assert_int_eq(parse(s), AB_ERR_DECODE);
        ck_assert_str_eq(err.text, "nesting too deep");
        free(s);
        s = nested(100000, "[", "", "]");
        ck_assert_int_eq(parse(s), AB_ERR_DECODE);
        free(s);
}
END_TEST

/* Repeated member names are found in small and large objects, at any
 * depth, in decoded form; distinct names pass. */
START_TEST(test_check_unique_keys)
{
        struct ab_buf scratch;
        char big[4096];
        size_t o = 0;

        ab_buf_init(&scratch, 0);
        ck_assert_int_eq(parse("{\"a\":1,\"b\":{\"a\":2,\"b\":[{\"a\":3}]}}"),
                         AB_OK);
        ck_assert_int_eq(ab_json_check_unique_keys(&doc, &scratch, &err),
                         AB_OK);
        ck_assert_int_eq(parse("{\"a\":1,\"b\":2,\"a\":3}"), AB_OK);
        ab_error_clear(&err);
        ck_assert_int_eq(ab_json_check_unique_keys(&doc, &scratch, &err),
                         AB_ERR_DECODE);
        ck_assert_str_eq(err.path, "a");
        ck_assert_str_eq(err.text, "duplicate key \"a\" in an object");
        ck_assert(err.has_offset);
        ck_assert_uint_eq(err.offset, 13);
        ck_assert_int_eq(
            parse("[{\"x\":{\"k\\u0001\\n\":1,\"k\\u0001\\u000a\":2}}]"),
            AB_OK);
        ck_assert_int_eq(ab_json_check_unique_keys(&doc, NULL, &err),
                         AB_ERR_DECODE);
        ck_assert_str_eq(err.path, "k\\x01\\x0a");
        /* Small objects compare lengths and 8-byte heads first: keys
         * that share their first 8 bytes, or differ only there. */
        ck_assert_int_eq(parse("{\"labels_aa\":1,\"labels_ab\":2,"
                               "\"labels_a\":3,\"xabels_aa\":4}"),
                         AB_OK);
        ck_assert_int_eq(ab_json_check_unique_keys(&doc, &scratch, &err),
                         AB_OK);
        ck_assert_int_eq(parse("{\"a\":0,\"labels_long_key\":1,\"b\":2,"
                               "\"labels_long_kez\":3,\"labels_long_key\":4}"),
                         AB_OK);
        ck_assert_int_eq(ab_json_check_unique_keys(&doc, &scratch, &err),
                         AB_ERR_DECODE);
        ck_assert_str_eq(err.path, "labels_long_key");
        ck_assert_uint_eq(err.offset, 53);
        /* A large object goes through the hash table. */
        o += (size_t)snprintf(big + o, sizeof(big) - o, "{");
        for (int i = 0; i < 200; i++)
                o += (size_t)snprintf(big + o, sizeof(big) - o, "\"k%d\":%d,",
                                      i, i);
        snprintf(big + o, sizeof(big) - o, "\"z\":0}");
        ck_assert_int_eq(parse(big), AB_OK);
        ck_assert_int_eq(ab_json_check_unique_keys(&doc, &scratch, &err),
                         AB_OK);
        snprintf(big + o, sizeof(big) - o, "\"k150\":0}");
        ck_assert_int_eq(parse(big), AB_OK);
        ck_assert_int_eq(ab_json_check_unique_keys(&doc, &scratch, &err),
                         AB_ERR_DECODE);
        ck_assert_str_eq(err.path, "k150");
        ab_buf_fini(&scratch);
}
END_TEST

/* ---- lookups ----------------------------------------------------------- */

START_TEST(test_get_last_duplicate)
{
        uint32_t v;

        ck_assert_int_eq(parse("{\"a\":1,\"b\":{\"x\":[]},\"a\":2,\"\":3}"),
                         AB_OK);
        ck_assert_uint_eq(ab_json_at(&doc, 0)->size, 4);
        v = ab_json_get(&doc, 0, "a", 1);
        ck_assert(text_is(v, "2"));
        v = ab_json_get(&doc, 0, "b", 1);
        ck_assert_int_eq(ab_json_type_of(&doc, v), AB_JSON_OBJECT);
        ck_assert_uint_eq(ab_json_get(&doc, v, "x", 1), v + 2);
        ck_assert(text_is(ab_json_get(&doc, 0, "", 0), "3"));
        /* ab_json_get_first() stops at the first "a". */
        ck_assert(text_is(ab_json_get_first(&doc, 0, "a", 1), "1"));
        ck_assert(text_is(ab_json_get_first(&doc, 0, "", 0), "3"));
        ck_assert_uint_eq(ab_json_get_first(&doc, 0, "c", 1), AB_JSON_NONE);
        ck_assert_uint_eq(ab_json_get_first(&doc, v, "x", 1), v + 2);
        ck_assert_uint_eq(ab_json_get_first(&doc, v + 2, "x", 1), AB_JSON_NONE);
        ck_assert_uint_eq(ab_json_get(&doc, 0, "c", 1), AB_JSON_NONE);
        ck_assert_uint_eq(ab_json_get(&doc, 0, "ab", 2), AB_JSON_NONE);
        ck_assert_uint_eq(ab_json_get(&doc, 1, "a", 1), AB_JSON_NONE);
        ck_assert_uint_eq(ab_json_get(&doc, 999, "a", 1), AB_JSON_NONE);
}
END_TEST

START_TEST(test_index)
{
        ck_assert_int_eq(parse("[10, [20, 21], {\"k\": 30}, \"40\"]"), AB_OK);
        ck_assert(text_is(ab_json_index(&doc, 0, 0), "10"));
        ck_assert(raw_is(ab_json_index(&doc, 0, 1), "[20, 21]"));
        ck_assert(raw_is(ab_json_index(&doc, 0, 2), "{\"k\": 30}"));
        ck_assert(text_is(ab_json_index(&doc, 0, 3), "40"));
        ck_assert_uint_eq(ab_json_index(&doc, 0, 4), AB_JSON_NONE);
        ck_assert(text_is(ab_json_index(&doc, 2, 1), "21"));
        ck_assert_uint_eq(ab_json_index(&doc, 1, 0), AB_JSON_NONE);
}
END_TEST

START_TEST(test_int64)
{
        static const struct {
                const char *src;
                int ok;
                int64_t v;
        } cases[] = {
            {"0", 1, 0},
            {"-0", 1, 0},
            {"42", 1, 42},
            {"-17", 1, -17},
            {"9223372036854775807", 1, INT64_MAX},
            {"-9223372036854775808", 1, INT64_MIN},
            {"9223372036854775808", 0, 0},
            {"-9223372036854775809", 0, 0},
            {"99999999999999999999999", 0, 0},
            {"1.0", 0, 0},
            {"1e3", 0, 0},
            {"\"1\"", 0, 0},
            {"true", 0, 0},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int64_t v = 12345;
                ck_assert_int_eq(parse(cases[i].src), AB_OK);
                ck_assert_msg(ab_json_int64(&doc, 0, &v) ==
                                  (cases[i].ok ? 0 : -1),
                              "%s", cases[i].src);
                if (cases[i].ok)
                        ck_assert_int_eq(v, cases[i].v);
        }
}
END_TEST

START_TEST(test_double)
{
        char big[200];
        double v = 0;

        ck_assert_int_eq(parse("[1.5, -2e-3, 7, 1e400, 1e-400, null]"), AB_OK);
        ck_assert_int_eq(ab_json_double(&doc, 1, &v), 0);
        ck_assert_double_eq(v, 1.5);
        ck_assert_int_eq(ab_json_double(&doc, 2, &v), 0);
        ck_assert_double_eq(v, -2e-3);
        ck_assert_int_eq(ab_json_double(&doc, 3, &v), 0);
        ck_assert_double_eq(v, 7.0);
        ck_assert_int_eq(ab_json_double(&doc, 4, &v), -1);
        ck_assert_int_eq(ab_json_double(&doc, 5, &v), 0);
        ck_assert_double_eq(v, 0.0);
        ck_assert_int_eq(ab_json_double(&doc, 6, &v), -1);
        /* Longer than the on-stack copy. */
        memset(big, '0', sizeof(big));
        big[0]               = '3';
        big[1]               = '.';
        big[sizeof(big) - 2] = '1';
        big[sizeof(big) - 1] = '\0';
        ck_assert_int_eq(parse(big), AB_OK);
        ck_assert_int_eq(ab_json_double(&doc, 0, &v), 0);
        ck_assert_double_eq(v, 3.0);
}
END_TEST

/* Overflowing numbers are accepted as text (jansson would reject them). */
START_TEST(test_overflowing_numbers_accepted)
{
        ck_assert_int_eq(parse("[123456789012345678901234567890, 1e99999]"),
                         AB_OK);
        ck_assert(text_is(1, "123456789012345678901234567890"));
        ck_assert(text_is(2, "1e99999"));
}
END_TEST

/* ---- writing ----------------------------------------------------------- */

START_TEST(test_write_compact)
{
        struct ab_buf out;
        const char *src =
            "{ \"a\" : [ 1 , 2.50 , -0 , 1E5 ] ,\n \"s\" : \"q\\\"\\u00e9\\/"
            "\\u0001\\n\" , \"o\" : { } , \"n\" : null , \"a\" : true }";

        ab_buf_init(&out, 0);
        ck_assert_int_eq(parse(src), AB_OK);
        ck_assert_int_eq(ab_json_write(&doc, 0, &out), AB_OK);
        ck_assert_str_eq(out.data,
                         "{\"a\":[1,2.50,-0,1E5],\"s\":\"q\\\"\xC3\xA9/"
                         "\\u0001\\n\",\"o\":{},\"n\":null,"
                         "\"a\":true}");
        /* A subtree, appended after existing content. */
        ab_buf_reset(&out);
        ck_assert_int_eq(ab_buf_append_str(&out, "x="), AB_OK);
        ck_assert_int_eq(ab_json_write(&doc, 2, &out), AB_OK);
        ck_assert_str_eq(out.data, "x=[1,2.50,-0,1E5]");
        ck_assert_int_eq(ab_json_write(&doc, 999, &out), AB_ERR_NOT_FOUND);
        ab_buf_fini(&out);
}
END_TEST

START_TEST(test_write_deep_and_scalar)
{
        struct ab_buf out;
        char *s;

        ab_buf_init(&out, 0);
        ck_assert_int_eq(parse("\"\\t\""), AB_OK);
        ck_assert_int_eq(ab_json_write(&doc, 0, &out), AB_OK);
        ck_assert_str_eq(out.data, "\"\\t\"");
        s = nested(AB_JSON_MAX_DEPTH / 2 - 1, "{\"k\":[", "7", "]}");
        ck_assert_int_eq(parse(s), AB_OK);
        ab_buf_reset(&out);
        ck_assert_int_eq(ab_json_write(&doc, 0, &out), AB_OK);
        ck_assert_str_eq(out.data, s);
        free(s);
        ab_buf_fini(&out);
}
END_TEST

START_TEST(test_write_respects_buffer_limit)
{
        struct ab_buf out;

        ab_buf_init(&out, 8);
        ck_assert_int_eq(parse("[\"0123456789\"]"), AB_OK);
        ck_assert_int_eq(ab_json_write(&doc, 0, &out), AB_ERR_TOO_LARGE);
        ab_buf_fini(&out);
}
END_TEST

/* ---- allocations ------------------------------------------------------- */

START_TEST(test_zero_allocations_after_warmup)
{
        static const char *const names[] = {
            "alertmanager_v4_full.json", "arms_alertmanager_content.json",
            "cloudmonitor_event_ecs.json", "escapes_everywhere.json"};
        char *bufs[4];
        size_t lens[4];
        struct ab_buf out;
        uint64_t before;

        ab_buf_init(&out, 0);
        for (int i = 0; i < 4; i++)
                bufs[i] = read_corpus(names[i], &lens[i]);
        /* Warm up on every payload: the largest sets the capacity. */
        for (int i = 0; i < 4; i++) {
                ck_assert_int_eq(ab_json_parse(&doc, bufs[i], lens[i], &err),
                                 AB_OK);
                ab_buf_reset(&out);
                ck_assert_int_eq(ab_json_write(&doc, 0, &out), AB_OK);
        }
        before = ab_mem_allocations();
        for (int r = 0; r < 1000; r++) {
                int i = r % 4;
                ck_assert_int_eq(ab_json_parse(&doc, bufs[i], lens[i], &err),
                                 AB_OK);
                ab_buf_reset(&out);
                ck_assert_int_eq(ab_json_write(&doc, 0, &out), AB_OK);
        }
        ck_assert_uint_eq(ab_mem_allocations() - before, 0);
        /* Failed parses allocate nothing either. */
        ck_assert_int_eq(parse("{\"a\":\"\\u12\"}"), AB_ERR_DECODE);
        ck_assert_uint_eq(ab_mem_allocations() - before, 0);
        for (int i = 0; i < 4; i++)
                free(bufs[i]);
        ab_buf_fini(&out);
}
END_TEST

START_TEST(test_real_payloads)
{
        size_t len;
        char *buf = read_corpus("alertmanager_v4_capture.json", &len);
        uint32_t alerts, a0, labels, v;

        ck_assert_int_eq(ab_json_parse(&doc, buf, len, &err), AB_OK);
        alerts = ab_json_get(&doc, 0, "alerts", 6);
        ck_assert_int_eq(ab_json_type_of(&doc, alerts), AB_JSON_ARRAY);
        ck_assert_uint_eq(ab_json_at(&doc, alerts)->size, 1);
        a0     = ab_json_index(&doc, alerts, 0);
        labels = ab_json_get(&doc, a0, "labels", 6);
        v      = ab_json_get(&doc, labels, "alertname", 9);
        ck_assert(text_is(v, "ICMP ping failed"));
        v = ab_json_get(&doc, a0, "generatorURL", 12);
        ck_assert_int_eq(ab_json_at(&doc, v)->decoded, 1);
        ck_assert_ptr_nonnull(
            memchr(ab_json_text(&doc, v).ptr, '&', ab_json_text(&doc, v).len));
        v = ab_json_get(&doc, 0, "groupKey", 8);
        ck_assert(text_is(v, "{}/{severity=~\"^(?:^(critical|major|minor|"
                             "warning|informational)$)$\"}:{alertname="
                             "\"ICMP ping failed\"}"));
        free(buf);

        buf = read_corpus("arms_alertmanager_content.json", &len);
        ck_assert_int_eq(ab_json_parse(&doc, buf, len, &err), AB_OK);
        alerts = ab_json_get(&doc, 0, "alerts", 6);
        labels = ab_json_get(&doc, ab_json_index(&doc, alerts, 0), "labels", 6);
        v      = ab_json_get(&doc, labels, "alertname", 9);
        ck_assert(text_is(v, "\xE5\xAE\xB9\xE5\x99\xA8\xE5\x86\x85\xE5\xAD"
                             "\x98\xE4\xBD\xBF\xE7\x94\xA8\xE7\x8E\x87\xE5"
                             "\xA4\xA7\xE4\xBA\x8E"
                             "80%"));
        free(buf);
}
END_TEST

START_TEST(test_reuse_shrinking_and_growing)
{
        char *big = nested(500, "[", "\"\\u00e9\"", "]");

        ck_assert_int_eq(parse(big), AB_OK);
        ck_assert_uint_eq(doc.ntoks, 501);
        ck_assert(text_is(500, "\xC3\xA9"));
        ck_assert_int_eq(parse("{\"a\":\"\\n\"}"), AB_OK);
        ck_assert_uint_eq(doc.ntoks, 3);
        ck_assert(text_is(2, "\n"));
        ck_assert_uint_eq(ab_json_at(&doc, 2)->start, 0);
        ck_assert_int_eq(parse(big), AB_OK);
        ck_assert_uint_eq(doc.ntoks, 501);
        free(big);
}
END_TEST

static Suite *json_suite(void)
{
        Suite *s = suite_create("json");
        TCase *tc;

        tc = tcase_create("structure");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_tape_layout);
        tcase_add_test(tc, test_scalars_top_level);
        tcase_add_test(tc, test_unescaped_strings_borrow_source);
        tcase_add_test(tc, test_real_payloads);
        tcase_add_test(tc, test_reuse_shrinking_and_growing);
        suite_add_tcase(s, tc);

        tc = tcase_create("escapes");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_escapes_decoded_once);
        tcase_add_test(tc, test_escape_then_utf8_run);
        tcase_add_test(tc, test_long_strings_cross_simd_blocks);
        suite_add_tcase(s, tc);

        tc = tcase_create("errors");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_errors_name_problem_and_offset);
        tcase_add_test(tc, test_error_without_detail_and_format);
        tcase_add_test(tc, test_too_large_rejected_before_reading);
        tcase_add_test(tc, test_raw_control_bytes_and_del);
        tcase_add_test(tc, test_depth_limit);
        suite_add_tcase(s, tc);

        tc = tcase_create("lookups");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_get_last_duplicate);
        tcase_add_test(tc, test_check_unique_keys);
        tcase_add_test(tc, test_index);
        tcase_add_test(tc, test_int64);
        tcase_add_test(tc, test_double);
        tcase_add_test(tc, test_overflowing_numbers_accepted);
        suite_add_tcase(s, tc);

        tc = tcase_create("write");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_write_compact);
        tcase_add_test(tc, test_write_deep_and_scalar);
        tcase_add_test(tc, test_write_respects_buffer_limit);
        suite_add_tcase(s, tc);

        tc = tcase_create("allocations");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_zero_allocations_after_warmup);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(json_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
