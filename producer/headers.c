/* headers.c - header lists stored in one reused buffer. */
#include "producer/headers.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"

/* Names (NUL-terminated) and values live back to back in `bytes`; items
 * hold offsets, so the buffer may move as it grows. */
struct item {
        size_t name;
        size_t value;
        size_t value_len;
        bool null;
};

struct ab_headers {
        struct ab_buf bytes;
        struct item *items;
        size_t n;
        size_t cap;
};

struct ab_headers *ab_headers_new(void)
{
        struct ab_headers *h = ab_calloc(1, sizeof(*h));

        if (h)
                ab_buf_init(&h->bytes, 0);
        return h;
}

void ab_headers_destroy(struct ab_headers *h)
{
        if (!h)
                return;
        ab_buf_fini(&h->bytes);
        ab_free(h->items);
        ab_free(h);
}

void ab_headers_reset(struct ab_headers *h)
{
        ab_buf_reset(&h->bytes);
        h->n = 0;
}

size_t ab_headers_count(const struct ab_headers *h)
{
        return h->n;
}

ab_err_t ab_headers_add(struct ab_headers *h, const char *name,
                        struct ab_str value)
{
        size_t len = h->bytes.len;
        struct item *it;

        if (h->n == h->cap) {
                size_t cap         = h->cap ? h->cap * 2 : 8;
                struct item *items = ab_realloc(h->items, cap * sizeof(*items));

                if (!items)
                        return AB_ERR_NOMEM;
                h->items = items;
                h->cap   = cap;
        }
        if (ab_buf_append(&h->bytes, name, strlen(name) + 1) ||
            (value.len && ab_buf_append(&h->bytes, value.ptr, value.len))) {
                ab_buf_truncate(&h->bytes, len);
                return AB_ERR_NOMEM;
        }
        it            = &h->items[h->n++];
        it->name      = len;
        it->value     = len + strlen(name) + 1;
        it->value_len = value.len;
        it->null      = value.ptr == NULL;
        return AB_OK;
}

ab_err_t ab_headers_add_str(struct ab_headers *h, const char *name,
                            const char *value)
{
        return ab_headers_add(h, name, ab_str_c(value));
}

ab_err_t ab_headers_add_i64(struct ab_headers *h, const char *name,
                            int64_t value)
{
        char text[24];
        int n = snprintf(text, sizeof(text), "%" PRId64, value);

        return ab_headers_add(h, name, ab_str_make(text, (size_t)n));
}

int ab_headers_at(const struct ab_headers *h, size_t idx, const char **name,
                  struct ab_str *value)
{
        const struct item *it;

        if (idx >= h->n)
                return -1;
        it     = &h->items[idx];
        *name  = h->bytes.data + it->name;
        *value = it->null
                     ? AB_STR_NULL
                     : ab_str_make(h->bytes.data + it->value, it->value_len);
        return 0;
}

struct ab_str ab_headers_get(const struct ab_headers *h, const char *name)
{
        for (size_t i = h->n; i-- > 0;) {
                const struct item *it = &h->items[i];

                if (!strcmp(h->bytes.data + it->name, name))
                        return it->null ? ab_str_make("", 0)
                                        : ab_str_make(h->bytes.data + it->value,
                                                      it->value_len);
        }
        return AB_STR_NULL;
}

/* "path: text (at byte N)": the error without its code, which has its own
 * header. */
static void dlq_message(const struct ab_error *e, char *out, size_t size)
{
        const char *text = e->text[0] ? e->text : ab_err_desc(e->code);
        int n = snprintf(out, size, "%s%s%s", e->path, e->path[0] ? ": " : "",
                         text);

        if (e->has_offset && n >= 0 && (size_t)n < size)
                snprintf(out + n, size - (size_t)n, " (at byte %zu)",
                         e->offset);
}

ab_err_t ab_headers_add_dlq(struct ab_headers *h,
                            const struct ab_dlq_info *info)
{
        char
            message[sizeof(info->error->path) + sizeof(info->error->text) + 32];
        ab_err_t rc;

        dlq_message(info->error, message, sizeof(message));
        rc = ab_headers_add_str(h, AB_DLQ_HDR_ERROR_CODE,
                                ab_err_code(info->error->code));
        if (!rc)
                rc = ab_headers_add_str(h, AB_DLQ_HDR_ERROR_MESSAGE, message);
        if (!rc)
                rc = ab_headers_add_str(h, AB_DLQ_HDR_TOPIC, info->topic);
        if (!rc)
                rc = ab_headers_add_i64(h, AB_DLQ_HDR_PARTITION,
                                        info->partition);
        if (!rc)
                rc = ab_headers_add_i64(h, AB_DLQ_HDR_OFFSET, info->offset);
        if (!rc && info->integration)
                rc = ab_headers_add_str(h, AB_DLQ_HDR_INTEGRATION,
                                        info->integration);
        return rc;
}
