/* sign.c - the SDK's PutEvents signature: HMAC-SHA1 over x-acs headers. */
#include "sink/sign.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"

static int lower(int c)
{
        return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* strcmp on the lower-cased names: the order of the SDK's sorted keys. */
static int casecmp(const char *a, const char *b)
{
        for (;; a++, b++) {
                int ca = lower((unsigned char)*a);
                int cb = lower((unsigned char)*b);

                if (ca != cb || !ca)
                        return ca - cb;
        }
}

static int is_acs(const char *name)
{
        static const char prefix[] = "x-acs";

        for (size_t i = 0; i < sizeof(prefix) - 1; i++)
                if (lower((unsigned char)name[i]) != prefix[i])
                        return 0;
        return 1;
}

static const char *find_header(const struct ab_sign_header *h, size_t nh,
                               const char *name)
{
        for (size_t i = 0; i < nh; i++)
                if (!casecmp(h[i].name, name))
                        return h[i].value ? h[i].value : "";
        return "";
}

static int header_cmp(const void *a, const void *b)
{
        const struct ab_sign_header *const *ha = a;
        const struct ab_sign_header *const *hb = b;

        return casecmp((*ha)->name, (*hb)->name);
}

static int query_cmp(const void *a, const void *b)
{
        const struct ab_sign_query *const *qa = a;
        const struct ab_sign_query *const *qb = b;

        return strcmp((*qa)->key, (*qb)->key);
}

static ab_err_t append_lower(struct ab_buf *out, const char *s)
{
        ab_err_t rc = AB_OK;

        for (; *s && !rc; s++)
                rc = ab_buf_append_char(out, (char)lower((unsigned char)*s));
        return rc;
}

static ab_err_t append_headers(struct ab_buf *out,
                               const struct ab_sign_header *headers, size_t nh)
{
        const struct ab_sign_header **acs = NULL;
        size_t n                          = 0;
        ab_err_t rc                       = AB_OK;

        if (!nh)
                return AB_OK;
        acs = ab_malloc(nh * sizeof(*acs));
        if (!acs)
                return AB_ERR_NOMEM;
        for (size_t i = 0; i < nh; i++)
                if (is_acs(headers[i].name))
                        acs[n++] = &headers[i];
        qsort(acs, n, sizeof(*acs), header_cmp);
        for (size_t i = 0; i < n && !rc; i++) {
                rc = append_lower(out, acs[i]->name);
                if (!rc)
                        rc = ab_buf_append_char(out, ':');
                if (!rc && acs[i]->value)
                        rc = ab_buf_append_str(out, acs[i]->value);
                if (!rc)
                        rc = ab_buf_append_char(out, '\n');
        }
        ab_free(acs);
        return rc;
}

static ab_err_t append_resource(struct ab_buf *out, const char *pathname,
                                const struct ab_sign_query *query, size_t nq)
{
        const struct ab_sign_query **q = NULL;
        size_t n                       = 0;
        ab_err_t rc;

        rc = ab_buf_append_str(out, pathname ? pathname : "");
        if (rc || !nq)
                return rc;
        q = ab_malloc(nq * sizeof(*q));
        if (!q)
                return AB_ERR_NOMEM;
        for (size_t i = 0; i < nq; i++)
                if (query[i].value)
                        q[n++] = &query[i];
        qsort(q, n, sizeof(*q), query_cmp);
        for (size_t i = 0; i < n && !rc; i++)
                rc = ab_buf_appendf(out, "%c%s=%s", i ? '&' : '?', q[i]->key,
                                    q[i]->value);
        ab_free(q);
        return rc;
}

ab_err_t ab_sign_string_to_sign(struct ab_buf *out, const char *method,
                                const char *pathname,
                                const struct ab_sign_header *headers, size_t nh,
                                const struct ab_sign_query *query, size_t nq)
{
        ab_err_t rc;

        rc = ab_buf_appendf(out, "%s\n%s\n%s\n%s\n", method,
                            find_header(headers, nh, "content-md5"),
                            find_header(headers, nh, "content-type"),
                            find_header(headers, nh, "date"));
        if (!rc)
                rc = append_headers(out, headers, nh);
        if (!rc)
                rc = append_resource(out, pathname, query, nq);
        return rc;
}

ab_err_t ab_sign_signature(const char *secret, const char *data, size_t len,
                           char out[AB_SIGN_B64_LEN])
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;

        if (!HMAC(EVP_sha1(), secret, (int)strlen(secret),
                  (const unsigned char *)data, len, md, &mdlen) ||
            mdlen != 20) {
                out[0] = '\0';
                return AB_ERR_INTERNAL;
        }
        EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
        OPENSSL_cleanse(md, sizeof(md));
        return AB_OK;
}

void ab_sign_date(long long unix_seconds, char out[AB_SIGN_DATE_LEN])
{
        static const char days[7][4]    = {"Sun", "Mon", "Tue", "Wed",
                                           "Thu", "Fri", "Sat"};
        static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr",
                                           "May", "Jun", "Jul", "Aug",
                                           "Sep", "Oct", "Nov", "Dec"};
        time_t t                        = (time_t)unix_seconds;
        char tmp[96];
        struct tm tm;

        gmtime_r(&t, &tm);
        snprintf(tmp, sizeof(tmp), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                 days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
                 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        snprintf(out, AB_SIGN_DATE_LEN, "%.*s", AB_SIGN_DATE_LEN - 1, tmp);
}

ab_err_t ab_sign_nonce(char out[AB_SIGN_NONCE_LEN])
{
        static const char hex[] = "0123456789abcdef";
        unsigned char raw[16];

        if (RAND_bytes(raw, (int)sizeof(raw)) != 1)
                return AB_ERR_INTERNAL;
        for (size_t i = 0; i < sizeof(raw); i++) {
                out[2 * i]     = hex[raw[i] >> 4];
                out[2 * i + 1] = hex[raw[i] & 15];
        }
        out[2 * sizeof(raw)] = '\0';
        return AB_OK;
}

ab_err_t ab_sign_putevents_headers(struct ab_buf *out,
                                   const struct ab_sign_putevents *req,
                                   struct ab_buf *string_to_sign)
{
        const struct ab_sign_creds *c = req->creds;
        int sts                       = c->security_token && *c->security_token;
        struct ab_sign_header h[12];
        size_t n = 0;
        struct ab_buf local;
        struct ab_buf *sts_buf = string_to_sign ? string_to_sign : &local;
        char sig[AB_SIGN_B64_LEN];
        ab_err_t rc;

        ab_buf_init(&local, 0);
        h[n++] = (struct ab_sign_header){"date", req->date};
        h[n++] = (struct ab_sign_header){"accept", "application/json"};
        h[n++] = (struct ab_sign_header){"x-acs-signature-nonce", req->nonce};
        h[n++] = (struct ab_sign_header){"x-acs-signature-method", "HMAC-SHA1"};
        h[n++] = (struct ab_sign_header){"x-acs-signature-version", "1.0"};
        h[n++] = (struct ab_sign_header){"x-eventbridge-version",
                                         AB_SIGN_API_VERSION};
        if (req->user_agent)
                h[n++] = (struct ab_sign_header){"user-agent", req->user_agent};
        if (req->region_id)
                h[n++] = (struct ab_sign_header){"x-eventbridge-regionId",
                                                 req->region_id};
        h[n++] =
            (struct ab_sign_header){"content-type", AB_SIGN_PUTEVENTS_CTYPE};
        if (sts) {
                h[n++] = (struct ab_sign_header){"x-acs-accesskey-id",
                                                 c->access_key_id};
                h[n++] = (struct ab_sign_header){"x-acs-security-token",
                                                 c->security_token};
        }
        ab_buf_reset(sts_buf);
        rc = ab_sign_string_to_sign(sts_buf, "POST", AB_SIGN_PUTEVENTS_PATH, h,
                                    n, NULL, 0);
        if (!rc)
                rc = ab_sign_signature(c->access_key_secret, sts_buf->data,
                                       sts_buf->len, sig);
        for (size_t i = 0; i < n && !rc; i++)
                rc = ab_buf_appendf(out, "%s: %s\n", h[i].name, h[i].value);
        if (!rc)
                rc = ab_buf_appendf(out, "authorization: acs:%s:%s\n",
                                    c->access_key_id, sig);
        if (local.data)
                OPENSSL_cleanse(local.data, local.cap);
        ab_buf_fini(&local);
        return rc;
}
