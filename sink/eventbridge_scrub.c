/* eventbridge_scrub.c - keeps the access key secret and the STS token out of
 * every text the PutEvents client logs or reports. */
#include <string.h>

#include "sink/eventbridge_int.h"

#define REDACTED "[redacted]"

void ab_eb_copy_str(char *dst, size_t size, const char *src, size_t len)
{
        if (len >= size)
                len = size - 1;
        memcpy(dst, src, len);
        dst[len] = '\0';
}

static void scrub_one(char *s, size_t size, const char *secret)
{
        size_t slen = strlen(secret);
        size_t rlen = sizeof(REDACTED) - 1;
        char *p;

        if (!slen)
                return;
        while ((p = strstr(s, secret))) {
                size_t pos  = (size_t)(p - s);
                size_t tail = strlen(p + slen);

                if (pos + rlen >= size) {
                        *p = '\0';
                        return;
                }
                if (pos + rlen + tail >= size)
                        tail = size - 1 - pos - rlen;
                memmove(p + rlen, p + slen, tail);
                memcpy(p, REDACTED, rlen);
                p[rlen + tail] = '\0';
                s              = p + rlen;
                size -= pos + rlen;
        }
}

void ab_eb_scrub(const struct ab_eb_client *c, char *s, size_t size)
{
        if (!size)
                return;
        if (c->secret)
                scrub_one(s, size, c->secret);
        if (c->token)
                scrub_one(s, size, c->token);
}

/* Copy \p len bytes into \p out (size bytes) with secrets scrubbed before
 * truncation, so a cut can never leave part of a secret behind. */
void ab_eb_scrubbed_copy(struct ab_eb_client *c, char *out, size_t size,
                         const char *src, size_t len)
{
        ab_buf_reset(&c->text);
        if (ab_buf_append(&c->text, src, len) ||
            ab_buf_reserve(&c->text, len + 16)) {
                ab_eb_copy_str(out, size, "(out of memory)", 15);
                return;
        }
        for (size_t i = 0; i < c->text.len; i++)
                if (!c->text.data[i])
                        c->text.data[i] = ' ';
        ab_eb_scrub(c, c->text.data, c->text.cap);
        ab_eb_copy_str(out, size, c->text.data, strlen(c->text.data));
}

/* Keep a code printable and short: [A-Za-z0-9_.:-], else '_'. */
void ab_eb_sanitize_code(char *code)
{
        for (char *p = code; *p; p++) {
                unsigned char ch = (unsigned char)*p;
                int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                         (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
                         ch == ':' || ch == '-';
                if (!ok)
                        *p = '_';
        }
}
