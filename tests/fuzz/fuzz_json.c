/* fuzz_json.c - libFuzzer target: JSON tape invariants, round trip, times,
 * the duplicate-key check. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/timefmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Documents and buffers persist across inputs, as on the hot path. */
static struct ab_json_doc doc, again;
static struct ab_buf out, out2, scratch;
static int ready;

#define CHECK(cond)                                                            \
        do {                                                                   \
                if (!(cond))                                                   \
                        abort();                                               \
        } while (0)

/* A timestamp that parses formats to 24 bytes and, inside years
 * 0000..9999, parses back to itself. */
static void check_time(const char *s, size_t n)
{
        char text[AB_TIME_RFC3339_LEN];
        int64_t ms, back;

        if (ab_time_parse(s, n, &ms))
                return;
        CHECK(ab_time_format(ms, text) == 24);
        if (ms >= -62167219200000LL && ms <= 253402300799999LL) {
                CHECK(ab_time_parse(text, 24, &back) == 0);
                CHECK(back == ms);
        }
}

/* Every structural invariant of the tape, token by token. @returns
 * whether some object repeats a key (its lookup is not its own value). */
static int walk(const struct ab_json_doc *d, size_t srclen)
{
        int dup = 0;

        for (uint32_t i = 0; i < d->ntoks; i++) {
                const struct ab_json_tok *t = ab_json_at(d, i);
                struct ab_str text          = ab_json_text(d, i);
                uint32_t k, n;
                int64_t iv;
                double dv;

                CHECK(t->next > i && t->next <= d->ntoks);
                CHECK((size_t)t->src_start + t->src_len <= srclen);
                CHECK(t->type <= AB_JSON_OBJECT);
                switch (t->type) {
                case AB_JSON_ARRAY:
                        for (k = i + 1, n = 0; k < t->next; n++) {
                                CHECK(ab_json_index(d, i, n) == k);
                                k = ab_json_at(d, k)->next;
                        }
                        CHECK(k == t->next && n == t->size);
                        CHECK(ab_json_index(d, i, n) == AB_JSON_NONE);
                        break;
                case AB_JSON_OBJECT:
                        for (k = i + 1, n = 0; k < t->next; n++) {
                                struct ab_str key = ab_json_text(d, k);
                                uint32_t v =
                                    ab_json_get(d, i, key.ptr, key.len);
                                CHECK(ab_json_type_of(d, k) == AB_JSON_STRING);
                                CHECK(v != AB_JSON_NONE && v > i &&
                                      v < t->next);
                                CHECK(v >= k + 1);
                                dup |= v != k + 1;
                                k = ab_json_at(d, k + 1)->next;
                        }
                        CHECK(k == t->next && n == t->size);
                        break;
                case AB_JSON_STRING:
                        CHECK(t->next == i + 1);
                        CHECK(!memchr(text.ptr, '\0', text.len));
                        check_time(text.ptr, text.len);
                        break;
                case AB_JSON_NUMBER:
                        CHECK(t->next == i + 1);
                        (void)ab_json_int64(d, i, &iv);
                        (void)ab_json_double(d, i, &dv);
                        check_time(text.ptr, text.len);
                        break;
                default:
                        CHECK(t->next == i + 1);
                        break;
                }
        }
        return dup;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *src = (const char *)data;
        struct ab_error err;

        if (!ready) {
                ab_json_doc_init(&doc);
                ab_json_doc_init(&again);
                ab_buf_init(&out, 0);
                ab_buf_init(&out2, 0);
                ab_buf_init(&scratch, 0);
                ready = 1;
        }
        check_time(src, size);
        if (ab_json_parse(&doc, src, size, &err) != AB_OK) {
                CHECK(err.code == AB_ERR_DECODE && err.has_offset &&
                      err.offset <= size && doc.ntoks == 0);
                return 0;
        }
        CHECK(doc.ntoks > 0 && ab_json_at(&doc, 0)->next == doc.ntoks);
        if (walk(&doc, size)) {
                CHECK(ab_json_check_unique_keys(&doc, &scratch, &err) ==
                      AB_ERR_DECODE);
                CHECK(err.has_offset && err.offset < size);
        } else {
                CHECK(ab_json_check_unique_keys(&doc, &scratch, NULL) == AB_OK);
        }
        /* Our output parses, has the same shape, and is a fixed point. */
        ab_buf_reset(&out);
        CHECK(ab_json_write(&doc, 0, &out) == AB_OK);
        CHECK(out.len <= size);
        CHECK(ab_json_parse(&again, out.data, out.len, NULL) == AB_OK);
        CHECK(again.ntoks == doc.ntoks);
        for (uint32_t i = 0; i < doc.ntoks; i++) {
                CHECK(ab_json_type_of(&again, i) == ab_json_type_of(&doc, i));
                CHECK(ab_json_at(&again, i)->next == ab_json_at(&doc, i)->next);
                CHECK(
                    ab_str_eq(ab_json_text(&again, i), ab_json_text(&doc, i)) ||
                    ab_json_type_of(&doc, i) >= AB_JSON_ARRAY);
        }
        ab_buf_reset(&out2);
        CHECK(ab_json_write(&again, 0, &out2) == AB_OK);
        CHECK(out2.len == out.len && !memcmp(out.data, out2.data, out.len));
        return 0;
}
