/* batch.c - encodes CloudEvents for PutEvents and packs them into bodies. */
#include "sink/batch.h"

#include <openssl/evp.h>
#include <string.h>

#define BUS_EXT "aliyuneventbusname"

void ab_batch_limits_default(struct ab_batch_limits *lim)
{
        lim->max_events        = AB_BATCH_MAX_EVENTS;
        lim->max_request_bytes = AB_BATCH_MAX_REQUEST_BYTES;
        lim->max_event_bytes   = AB_BATCH_MAX_EVENT_BYTES;
}

/* Attributes whose values the service's size rule counts (name excluded). */
static int is_counted_attr(struct ab_str k)
{
        static const char *const names[] = {
            "specversion", "id",         "type",           "source",
            "subject",     "dataschema", "datacontenttype"};

        for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
                if (ab_str_eq_c(k, names[i]))
                        return 1;
        return 0;
}

static size_t base64_decoded_len(struct ab_str s)
{
        size_t n = s.len / 4 * 3;

        if (s.len >= 1 && s.ptr[s.len - 1] == '=')
                n--;
        if (s.len >= 2 && s.ptr[s.len - 2] == '=')
                n--;
        return n;
}

/* The size one member adds by the rule in batch.h. */
static size_t member_size(const struct ab_json_doc *doc, uint32_t key,
                          uint32_t val)
{
        struct ab_str k = ab_json_text(doc, key);
        int is_str      = ab_json_type_of(doc, val) == AB_JSON_STRING;
        size_t vlen =
            is_str ? ab_json_text(doc, val).len : ab_json_at(doc, val)->src_len;

        if (ab_str_eq_c(k, "time"))
                return 36;
        if (ab_str_eq_c(k, "data"))
                return vlen;
        if (ab_str_eq_c(k, "data_base64"))
                return is_str ? base64_decoded_len(ab_json_text(doc, val))
                              : vlen;
        if (is_counted_attr(k))
                return vlen;
        return k.len + vlen;
}

/* Check one string attribute: present when required, a string, not longer
 * than max bytes. */
static ab_err_t check_attr(const struct ab_json_doc *doc, uint32_t val,
                           const char *name, int required, size_t max,
                           struct ab_error *err)
{
        struct ab_str s;

        if (val == AB_JSON_NONE) {
                if (!required)
                        return AB_OK;
                return ab_error_set(err, AB_ERR_DECODE, name,
                                    "required attribute is missing");
        }
        if (ab_json_type_of(doc, val) != AB_JSON_STRING)
                return ab_error_set(err, AB_ERR_DECODE, name,
                                    "attribute is not a string");
        s = ab_json_text(doc, val);
        if (!s.len)
                return ab_error_set(err, AB_ERR_DECODE, name,
                                    "attribute is empty");
        if (max && s.len > max)
                return ab_error_set(err, AB_ERR_TOO_LARGE, name,
                                    "attribute is %zu bytes, limit %zu", s.len,
                                    max);
        return AB_OK;
}

static ab_err_t validate(const struct ab_json_doc *doc,
                         struct ab_batch_event_info *info, struct ab_error *err)
{
        uint32_t id = ab_json_get(doc, 0, "id", 2);
        uint32_t sv = ab_json_get(doc, 0, "specversion", 11);
        ab_err_t rc;

        rc = check_attr(doc, id, "id", 1, AB_BATCH_ID_MAX, err);
        if (!rc)
                rc = check_attr(doc, ab_json_get(doc, 0, "source", 6), "source",
                                1, 128, err);
        if (!rc)
                rc = check_attr(doc, ab_json_get(doc, 0, "type", 4), "type", 1,
                                64, err);
        if (!rc)
                rc = check_attr(doc, ab_json_get(doc, 0, "subject", 7),
                                "subject", 0, 512, err);
        if (!rc)
                rc = check_attr(doc, sv, "specversion", 1, 0, err);
        if (!rc && !ab_str_eq_c(ab_json_text(doc, sv), "1.0"))
                rc = ab_error_set(err, AB_ERR_DECODE, "specversion",
                                  "specversion must be \"1.0\"");
        if (!rc) {
                struct ab_str s = ab_json_text(doc, id);

                memcpy(info->id, s.ptr, s.len);
                info->id[s.len] = '\0';
        }
        return rc;
}

ab_err_t ab_batch_encode_event(struct ab_buf *out, struct ab_json_doc *doc,
                               const char *json, size_t len, const char *bus,
                               const char *source,
                               const struct ab_batch_limits *lim,
                               struct ab_batch_event_info *info,
                               struct ab_error *err)
{
        size_t mark    = out->len;
        size_t counted = 0;
        int first      = 1;
        uint32_t i, end;
        ab_err_t rc;

        rc = ab_json_parse(doc, json, len, err);
        if (rc)
                goto out;
        if (ab_json_type_of(doc, 0) != AB_JSON_OBJECT) {
                rc = ab_error_set(err, AB_ERR_DECODE, NULL,
                                  "event is not a JSON object");
                goto out;
        }
        rc = validate(doc, info, err);
        if (rc)
                goto out;
        rc  = ab_buf_append_char(out, '{');
        end = ab_json_at(doc, 0)->next;
        for (i = 1; i < end && !rc; i = ab_json_at(doc, i + 1)->next) {
                struct ab_str k = ab_json_raw(doc, i);
                struct ab_str v = ab_json_raw(doc, i + 1);
                int is_source   = ab_str_eq_c(ab_json_text(doc, i), "source");

                if (ab_str_eq_c(ab_json_text(doc, i), BUS_EXT))
                        continue;
                counted += source && is_source ? strlen(source)
                                               : member_size(doc, i, i + 1);
                if (!first)
                        rc = ab_buf_append_char(out, ',');
                first = 0;
                if (!rc)
                        rc = ab_buf_append(out, k.ptr, k.len);
                if (!rc)
                        rc = ab_buf_append_char(out, ':');
                if (!rc && source && is_source)
                        rc =
                            ab_buf_append_json_str(out, source, strlen(source));
                else if (!rc)
                        rc = ab_buf_append(out, v.ptr, v.len);
        }
        if (!rc)
                rc =
                    ab_buf_appendf(out, "%s\"" BUS_EXT "\":", first ? "" : ",");
        if (!rc)
                rc = ab_buf_append_json_str(out, bus, strlen(bus));
        if (!rc)
                rc = ab_buf_append_char(out, '}');
        if (rc) {
                ab_error_set(err, rc, NULL, "cannot encode event");
                goto out;
        }
        counted += strlen(BUS_EXT) + strlen(bus);
        info->counted = counted;
        if (counted > lim->max_event_bytes)
                rc = ab_error_set(err, AB_ERR_TOO_LARGE, NULL,
                                  "event %s is %zu bytes by the PutEvents "
                                  "size rule, limit %zu",
                                  info->id, counted, lim->max_event_bytes);
out:
        if (rc)
                ab_buf_truncate(out, mark);
        return rc;
}

/* Media type without parameters ends in "/json" or "+json". */
static int is_json_type(const char *ct, size_t len)
{
        size_t n = 0;

        if (!ct)
                return 1;
        while (n < len && ct[n] != ';')
                n++;
        while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
                n--;
        if (n < 5)
                return 0;
        ct += n - 5;
        return (ct[0] == '/' || ct[0] == '+') && (ct[1] | 0x20) == 'j' &&
               (ct[2] | 0x20) == 's' && (ct[3] | 0x20) == 'o' &&
               (ct[4] | 0x20) == 'n';
}

static ab_err_t append_base64(struct ab_buf *b, const char *data, size_t len)
{
        size_t need = 4 * ((len + 2) / 3) + 1;
        int n;
        ab_err_t rc;

        if (len > (size_t)1 << 30)
                return AB_ERR_TOO_LARGE;
        rc = ab_buf_reserve(b, need);
        if (rc)
                return rc;
        n = EVP_EncodeBlock((unsigned char *)b->data + b->len,
                            (const unsigned char *)data, (int)len);
        b->len += (size_t)n;
        b->data[b->len] = '\0';
        return AB_OK;
}

ab_err_t
ab_batch_encode_binary(struct ab_buf *out, struct ab_json_doc *doc,
                       const struct ab_batch_attr *attrs, size_t n,
                       const char *content_type, size_t content_type_len,
                       const char *data, size_t data_len, const char *bus,
                       const char *source, const struct ab_batch_limits *lim,
                       struct ab_batch_event_info *info, struct ab_error *err)
{
        struct ab_buf ev;
        int json_data;
        ab_err_t rc;

        ab_buf_init(&ev, 0);
        json_data = is_json_type(content_type, content_type_len) &&
                    (!data_len || !ab_json_parse(doc, data, data_len, NULL));
        rc = ab_buf_append_char(&ev, '{');
        for (size_t i = 0; i < n && !rc; i++) {
                rc = ab_buf_append_json_str(&ev, attrs[i].name,
                                            attrs[i].name_len);
                if (!rc)
                        rc = ab_buf_append_char(&ev, ':');
                if (!rc)
                        rc = ab_buf_append_json_str(&ev, attrs[i].value,
                                                    attrs[i].len);
                if (!rc)
                        rc = ab_buf_append_char(&ev, ',');
        }
        if (!rc && content_type) {
                rc = ab_buf_append_str(&ev, "\"datacontenttype\":");
                if (!rc)
                        rc = ab_buf_append_json_str(&ev, content_type,
                                                    content_type_len);
                if (!rc)
                        rc = ab_buf_append_char(&ev, ',');
        }
        if (!rc && json_data) {
                rc = ab_buf_append_str(&ev, "\"data\":");
                if (!rc && data_len)
                        rc = ab_buf_append(&ev, data, data_len);
                else if (!rc)
                        rc = ab_buf_append_str(&ev, "null");
        } else if (!rc) {
                rc = ab_buf_append_str(&ev, "\"data_base64\":\"");
                if (!rc)
                        rc = append_base64(&ev, data, data_len);
                if (!rc)
                        rc = ab_buf_append_char(&ev, '"');
        }
        if (!rc)
                rc = ab_buf_append_char(&ev, '}');
        if (rc)
                rc = ab_error_set(err, rc, NULL, "cannot encode event");
        else
                rc = ab_batch_encode_event(out, doc, ev.data, ev.len, bus,
                                           source, lim, info, err);
        ab_buf_fini(&ev);
        return rc;
}

void ab_batch_init(struct ab_batch *b, const struct ab_batch_limits *lim)
{
        ab_buf_init(&b->body, 0);
        b->nevents  = 0;
        b->counted  = 0;
        b->finished = 0;
        b->lim      = *lim;
}

void ab_batch_fini(struct ab_batch *b)
{
        if (b)
                ab_buf_fini(&b->body);
}

void ab_batch_reset(struct ab_batch *b)
{
        ab_buf_reset(&b->body);
        b->nevents  = 0;
        b->counted  = 0;
        b->finished = 0;
}

ab_err_t ab_batch_add(struct ab_batch *b, const char *event, size_t len,
                      size_t counted)
{
        /* "[" or ",", the event, and the "]" that finish() will add. */
        size_t before = b->body.len;
        size_t body   = (b->nevents ? before : 0) + 1 + len + 1;
        ab_err_t rc;

        if (b->finished || b->nevents >= b->lim.max_events ||
            body > b->lim.max_request_bytes ||
            b->counted + counted > b->lim.max_request_bytes)
                return AB_ERR_TOO_LARGE;
        rc = ab_buf_append_char(&b->body, b->nevents ? ',' : '[');
        if (!rc)
                rc = ab_buf_append(&b->body, event, len);
        if (rc) {
                ab_buf_truncate(&b->body, before);
                return rc;
        }
        b->nevents++;
        b->counted += counted;
        return AB_OK;
}

const char *ab_batch_finish(struct ab_batch *b, size_t *len)
{
        if (!b->finished) {
                if (!b->nevents && ab_buf_append_char(&b->body, '['))
                        return NULL;
                if (ab_buf_append_char(&b->body, ']'))
                        return NULL;
                b->finished = 1;
        }
        *len = b->body.len;
        return b->body.data;
}
