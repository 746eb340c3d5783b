/* cloudevents_kafka.c - JSON CloudEvents to Kafka headers and values. */
#include "producer/cloudevents_kafka.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/mem.h"

/* Attribute names SHOULD NOT exceed 20 characters; longer ones are kept up
 * to this many bytes and rejected beyond. */
#define AB_CE_MAX_NAME 200

struct ab_ce_kafka {
        struct ab_json_doc doc;
        struct ab_buf value; /* decoded data_base64 */
};

int ab_ce_mode_parse(const char *name, enum ab_ce_mode *out)
{
        if (!strcmp(name, "structured"))
                *out = AB_CE_STRUCTURED;
        else if (!strcmp(name, "binary"))
                *out = AB_CE_BINARY;
        else
                return -1;
        return 0;
}

const char *ab_ce_mode_name(enum ab_ce_mode mode)
{
        return mode == AB_CE_BINARY ? "binary" : "structured";
}

struct ab_ce_kafka *ab_ce_kafka_new(void)
{
        struct ab_ce_kafka *enc = ab_calloc(1, sizeof(*enc));

        if (!enc)
                return NULL;
        ab_json_doc_init(&enc->doc);
        ab_buf_init(&enc->value, 0);
        return enc;
}

void ab_ce_kafka_destroy(struct ab_ce_kafka *enc)
{
        if (!enc)
                return;
        ab_json_doc_fini(&enc->doc);
        ab_buf_fini(&enc->value);
        ab_free(enc);
}

/* True for a JSON media type: "x/json" or "x/y+json", parameters and case
 * ignored. */
static bool is_json_type(struct ab_str ct)
{
        size_t n = 0;

        while (n < ct.len && ct.ptr[n] != ';')
                n++;
        while (n > 0 && (ct.ptr[n - 1] == ' ' || ct.ptr[n - 1] == '\t'))
                n--;
        if (!memchr(ct.ptr, '/', n))
                return false;
        return (n >= 5 && !strncasecmp(ct.ptr + n - 5, "/json", 5)) ||
               (n >= 5 && !strncasecmp(ct.ptr + n - 5, "+json", 5));
}

static int b64_value(unsigned char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

/* Decode Base64 (RFC 4648 alphabet, padding optional) into \p out. */
static ab_err_t b64_decode(struct ab_str in, struct ab_buf *out,
                           struct ab_error *err)
{
        uint32_t acc = 0;
        int bits     = 0;
        size_t n     = in.len;

        while (n > 0 && in.ptr[n - 1] == '=' && in.len - n < 2)
                n--;
        if (ab_buf_reserve(out, n / 4 * 3 + 3))
                return ab_error_set(err, AB_ERR_NOMEM, "data_base64",
                                    "out of memory");
        for (size_t i = 0; i < n; i++) {
                int v = b64_value((unsigned char)in.ptr[i]);

                if (v < 0)
                        return ab_error_set(err, AB_ERR_DECODE, "data_base64",
                                            "invalid Base64 at character %zu",
                                            i);
                acc = (acc << 6) | (uint32_t)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out->data[out->len++] = (char)(acc >> bits);
                        acc &= (1u << bits) - 1;
                }
        }
        if (bits >= 6 || acc)
                return ab_error_set(err, AB_ERR_DECODE, "data_base64",
                                    "truncated Base64");
        out->data[out->len] = '\0';
        return AB_OK;
}

static ab_err_t add_attribute(struct ab_headers *h, struct ab_str name,
                              struct ab_str value, struct ab_error *err)
{
        char header[AB_CE_MAX_NAME + 4];

        memcpy(header, "ce_", 3);
        memcpy(header + 3, name.ptr, name.len);
        header[3 + name.len] = '\0';
        if (ab_headers_add(h, header, value))
                return ab_error_set(err, AB_ERR_NOMEM, header, "out of memory");
        return AB_OK;
}

/* The record value for binary mode from `data` (\p data) or
 * `data_base64` (\p b64), either may be AB_JSON_NONE. */
static ab_err_t binary_value(struct ab_ce_kafka *enc, uint32_t data,
                             uint32_t b64, bool json_type, struct ab_str *value,
                             struct ab_error *err)
{
        const struct ab_json_doc *doc = &enc->doc;
        ab_err_t rc;

        if (b64 != AB_JSON_NONE) {
                ab_buf_reset(&enc->value);
                rc = b64_decode(ab_json_text(doc, b64), &enc->value, err);
                if (rc)
                        return rc;
                *value = ab_str_make(enc->value.data, enc->value.len);
        } else if (data == AB_JSON_NONE) {
                *value = AB_STR_NULL;
        } else if (json_type || ab_json_type_of(doc, data) != AB_JSON_STRING) {
                *value = ab_json_raw(doc, data);
        } else {
                *value = ab_json_text(doc, data);
        }
        return AB_OK;
}

/* The members of an event that are not headers, found by the first pass. */
struct members {
        uint32_t data, b64, ct;
};

/* First pass: find data, data_base64 and datacontenttype and check that
 * every attribute is a scalar, so nothing is added for an invalid event. */
static ab_err_t scan_members(const struct ab_json_doc *doc, struct members *m,
                             struct ab_error *err)
{
        uint32_t k = 1;

        m->data = m->b64 = m->ct = AB_JSON_NONE;
        for (uint32_t i = 0; i < ab_json_at(doc, 0)->size; i++) {
                uint32_t v             = k + 1;
                struct ab_str name     = ab_json_text(doc, k);
                enum ab_json_type type = ab_json_type_of(doc, v);

                k = ab_json_at(doc, v)->next;
                if (ab_str_eq_c(name, "data")) {
                        m->data = v;
                } else if (ab_str_eq_c(name, "data_base64")) {
                        if (type != AB_JSON_STRING)
                                return ab_error_set(err, AB_ERR_DECODE,
                                                    "data_base64",
                                                    "must be a string");
                        m->b64 = v;
                } else if (ab_str_eq_c(name, "datacontenttype")) {
                        if (type != AB_JSON_STRING && type != AB_JSON_NULL)
                                return ab_error_set(err, AB_ERR_DECODE,
                                                    "datacontenttype",
                                                    "must be a string");
                        m->ct = type == AB_JSON_NULL ? AB_JSON_NONE : v;
                } else if (type == AB_JSON_OBJECT || type == AB_JSON_ARRAY) {
                        return ab_error_set(err, AB_ERR_DECODE, NULL,
                                            "attribute \"%.*s\" is not a "
                                            "scalar",
                                            (int)name.len, name.ptr);
                } else if (name.len > AB_CE_MAX_NAME) {
                        return ab_error_set(err, AB_ERR_DECODE, NULL,
                                            "attribute name of %zu bytes is "
                                            "too long",
                                            name.len);
                }
        }
        return AB_OK;
}

/* Second pass: one ce_ header per attribute that is set. */
static ab_err_t add_attributes(const struct ab_json_doc *doc,
                               struct ab_headers *h, struct ab_error *err)
{
        uint32_t k = 1;

        for (uint32_t i = 0; i < ab_json_at(doc, 0)->size; i++) {
                uint32_t v             = k + 1;
                struct ab_str name     = ab_json_text(doc, k);
                enum ab_json_type type = ab_json_type_of(doc, v);
                ab_err_t rc;

                k = ab_json_at(doc, v)->next;
                if (type == AB_JSON_NULL || ab_str_eq_c(name, "data") ||
                    ab_str_eq_c(name, "data_base64") ||
                    ab_str_eq_c(name, "datacontenttype"))
                        continue;
                rc = add_attribute(h, name,
                                   type == AB_JSON_STRING ? ab_json_text(doc, v)
                                                          : ab_json_raw(doc, v),
                                   err);
                if (rc)
                        return rc;
        }
        return AB_OK;
}

static ab_err_t encode_binary(struct ab_ce_kafka *enc, const char *event,
                              size_t len, struct ab_headers *h,
                              struct ab_str *value, struct ab_error *err)
{
        const struct ab_json_doc *doc = &enc->doc;
        struct members m;
        struct ab_str ct = AB_STR_NULL;
        ab_err_t rc      = ab_json_parse(&enc->doc, event, len, err);

        if (rc)
                return rc;
        if (ab_json_type_of(doc, 0) != AB_JSON_OBJECT)
                return ab_error_set(err, AB_ERR_DECODE, NULL,
                                    "a CloudEvent must be a JSON object");
        rc = scan_members(doc, &m, err);
        if (rc)
                return rc;
        if (m.ct != AB_JSON_NONE)
                ct = ab_json_text(doc, m.ct);
        else if (m.data != AB_JSON_NONE)
                ct = ab_str_c("application/json");
        rc = binary_value(enc, m.data, m.b64,
                          m.ct == AB_JSON_NONE || is_json_type(ct), value, err);
        if (!rc)
                rc = add_attributes(doc, h, err);
        if (!rc && ct.ptr && ab_headers_add(h, AB_CE_CONTENT_TYPE_HEADER, ct))
                rc = ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        return rc;
}

ab_err_t ab_ce_kafka_encode(struct ab_ce_kafka *enc, enum ab_ce_mode mode,
                            const char *event, size_t len,
                            struct ab_headers *headers, struct ab_str *value,
                            struct ab_error *err)
{
        *value = AB_STR_NULL;
        if (mode == AB_CE_BINARY)
                return encode_binary(enc, event, len, headers, value, err);
        if (ab_headers_add_str(headers, AB_CE_CONTENT_TYPE_HEADER,
                               AB_CE_STRUCTURED_TYPE))
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        *value = ab_str_make(event, len);
        return AB_OK;
}
