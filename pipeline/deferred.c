/* deferred.c - sends held back in one reusable buffer, replayed in
 * order. */
#include "pipeline/deferred.h"

#include <string.h>

/*
 * An entry: its header, the topic with its NUL, the key, the value, then
 * per header a header_hdr, the name with its NUL and the value. Lengths
 * of -1 are a NULL ptr. Copied in and out with memcpy: nothing in the
 * buffer is aligned.
 */
struct entry_hdr {
        uint32_t size; /* of the whole entry */
        int32_t partition;
        uint32_t topic_len;
        int32_t key_len, value_len;
        uint32_t nheaders;
        int32_t kind;
};

struct header_hdr {
        uint32_t name_len;
        int32_t value_len;
};

#define LEN_MAX 0x7fffffffu

ab_err_t ab_deferred_init(struct ab_deferred *d, size_t max_bytes,
                          size_t max_count)
{
        memset(d, 0, sizeof(*d));
        ab_buf_init(&d->data, 0);
        d->max_bytes = max_bytes;
        d->max_count = max_count;
        d->headers   = ab_headers_new();
        return d->headers ? AB_OK : AB_ERR_NOMEM;
}

void ab_deferred_fini(struct ab_deferred *d)
{
        if (!d)
                return;
        ab_buf_fini(&d->data);
        ab_headers_destroy(d->headers);
        d->headers = NULL;
        d->count   = 0;
        d->at      = 0;
}

static size_t opt_len(struct ab_str s)
{
        return s.ptr ? s.len : 0;
}

size_t ab_deferred_size(const struct ab_deferred_send *s)
{
        size_t n = sizeof(struct entry_hdr) + strlen(s->topic) + 1 +
                   opt_len(s->key) + opt_len(s->value);
        const char *name;
        struct ab_str value;

        for (size_t i = 0;
             s->headers && !ab_headers_at(s->headers, i, &name, &value); i++)
                n += sizeof(struct header_hdr) + strlen(name) + 1 +
                     opt_len(value);
        return n;
}

static int32_t len_of(struct ab_str s)
{
        return s.ptr ? (int32_t)s.len : -1;
}

ab_err_t ab_deferred_add(struct ab_deferred *d,
                         const struct ab_deferred_send *s)
{
        size_t size = ab_deferred_size(s);
        size_t held = d->data.len - d->at;
        size_t start;
        struct entry_hdr e;
        const char *name;
        struct ab_str value;
        ab_err_t rc;

        if (d->replaying)
                return AB_ERR_INTERNAL;
        if (size > LEN_MAX || d->count >= d->max_count || size > d->max_bytes ||
            held > d->max_bytes - size)
                return AB_ERR_TOO_LARGE;
        /* A replay that stopped part way left its sent entries in front:
         * move the rest down before the buffer grows. */
        if (d->at && d->data.len + size >= d->data.cap) {
                memmove(d->data.data, d->data.data + d->at, held);
                ab_buf_truncate(&d->data, held);
                d->at = 0;
        }
        rc = ab_buf_reserve(&d->data, size);
        if (rc)
                return rc;
        start = d->data.len;
        memset(&e, 0, sizeof(e));
        e.size      = (uint32_t)size;
        e.partition = s->partition;
        e.topic_len = (uint32_t)strlen(s->topic);
        e.key_len   = len_of(s->key);
        e.value_len = len_of(s->value);
        e.nheaders  = s->headers ? (uint32_t)ab_headers_count(s->headers) : 0;
        e.kind      = s->kind;
        rc          = ab_buf_append(&d->data, &e, sizeof(e));
        if (!rc)
                rc = ab_buf_append(&d->data, s->topic, e.topic_len + 1);
        if (!rc && e.key_len > 0)
                rc = ab_buf_append(&d->data, s->key.ptr, s->key.len);
        if (!rc && e.value_len > 0)
                rc = ab_buf_append(&d->data, s->value.ptr, s->value.len);
        for (uint32_t i = 0; !rc && i < e.nheaders &&
                             !ab_headers_at(s->headers, i, &name, &value);
             i++) {
                struct header_hdr h = {(uint32_t)strlen(name), len_of(value)};

                rc = ab_buf_append(&d->data, &h, sizeof(h));
                if (!rc)
                        rc = ab_buf_append(&d->data, name, h.name_len + 1);
                if (!rc && h.value_len > 0)
                        rc = ab_buf_append(&d->data, value.ptr, value.len);
        }
        if (rc) {
                ab_buf_truncate(&d->data, start);
                return rc;
        }
        d->count++;
        return AB_OK;
}

size_t ab_deferred_count(const struct ab_deferred *d)
{
        return d->count;
}

static struct ab_str str_at(const char *p, int32_t len)
{
        return len < 0 ? ab_str_make(NULL, 0) : ab_str_make(p, (size_t)len);
}

/* Decode the entry at \p p into \p s (pointing into the buffer), its
 * headers into d->headers. */
static ab_err_t decode(struct ab_deferred *d, const char *p,
                       struct ab_deferred_send *s, uint32_t *size)
{
        struct entry_hdr e;
        struct header_hdr h;
        ab_err_t rc = AB_OK;

        memcpy(&e, p, sizeof(e));
        *size = e.size;
        p += sizeof(e);
        s->topic     = p;
        s->partition = e.partition;
        s->kind      = e.kind;
        p += e.topic_len + 1;
        s->key = str_at(p, e.key_len);
        p += e.key_len > 0 ? (size_t)e.key_len : 0;
        s->value = str_at(p, e.value_len);
        p += e.value_len > 0 ? (size_t)e.value_len : 0;
        ab_headers_reset(d->headers);
        s->headers = e.nheaders ? d->headers : NULL;
        for (uint32_t i = 0; !rc && i < e.nheaders; i++) {
                const char *name;

                memcpy(&h, p, sizeof(h));
                p += sizeof(h);
                name = p;
                p += h.name_len + 1;
                rc = ab_headers_add(d->headers, name, str_at(p, h.value_len));
                p += h.value_len > 0 ? (size_t)h.value_len : 0;
        }
        return rc;
}

ab_err_t ab_deferred_replay(struct ab_deferred *d, ab_deferred_fn fn, void *arg)
{
        struct ab_deferred_send s;
        uint32_t size;
        ab_err_t rc = AB_OK;

        d->replaying = true;
        while (d->count) {
                rc = decode(d, d->data.data + d->at, &s, &size);
                if (!rc)
                        rc = fn(arg, &s);
                if (rc)
                        break;
                d->at += size;
                d->count--;
        }
        d->replaying = false;
        if (!d->count)
                ab_deferred_reset(d);
        return rc;
}

void ab_deferred_reset(struct ab_deferred *d)
{
        ab_buf_reset(&d->data);
        d->at    = 0;
        d->count = 0;
}
