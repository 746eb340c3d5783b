/* decode.c - form-encoded payloads to JSON text, without a DOM. */
#include "transform/decode.h"

#include <string.h>

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Bytes a form field cannot copy as they are: '+' (a space), '%' (an
 * escape) and NUL (refused). */
static const unsigned char form_special[256] = {
    ['\0'] = 1, ['+'] = 1, ['%'] = 1};

/* Percent-decode src[0..n) into scratch (reset first). Runs of plain
 * bytes are copied whole; the output is never longer than the input. */
static ab_err_t pct_decode(const char *src, size_t n, size_t base,
                           struct ab_buf *scratch, struct ab_error *err)
{
        size_t i = 0, run;
        ab_err_t rc;
        char *o;

        ab_buf_reset(scratch);
        rc = ab_buf_reserve(scratch, n);
        if (rc)
                return rc;
        o = scratch->data;
        for (;;) {
                for (run = i; run < n && !form_special[(unsigned char)src[run]];
                     run++)
                        ;
                memcpy(o, src + i, run - i);
                o += run - i;
                i = run;
                if (i == n)
                        break;
                if (src[i] == '\0')
                        return ab_error_set_at(err, AB_ERR_DECODE, base + i,
                                               "NUL byte in form-encoded "
                                               "payload");
                if (src[i] == '+') {
                        *o++ = ' ';
                        i++;
                        continue;
                }
                int hi = i + 2 < n ? hexval(src[i + 1]) : -1;
                int lo = i + 2 < n ? hexval(src[i + 2]) : -1;
                if (hi < 0 || lo < 0)
                        return ab_error_set_at(err, AB_ERR_DECODE, base + i,
                                               "invalid percent-escape in "
                                               "form-encoded payload");
                /* JSON text (and our alert strings) cannot carry NUL. */
                if (hi == 0 && lo == 0)
                        return ab_error_set_at(err, AB_ERR_DECODE, base + i,
                                               "NUL byte in form-encoded "
                                               "payload");
                *o++ = (char)(hi * 16 + lo);
                i += 3;
        }
        scratch->len                = (size_t)(o - scratch->data);
        scratch->data[scratch->len] = '\0';
        return AB_OK;
}

static void trim(const char **p, size_t *n)
{
        while (*n && (**p == ' ' || **p == '\t')) {
                (*p)++;
                (*n)--;
        }
        while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
                (*n)--;
}

/*
 * `{k=v, k2=v2}` as written by Java's Map.toString(). Values may not
 * contain ", " reliably, so pairs are split on ',' and the key on the
 * first '='; stray ')' and '}' around keys and values (seen in the
 * CloudMonitor docs) are trimmed.
 */
static ab_err_t write_java_map(const char *s, size_t n, struct ab_buf *out)
{
        size_t i = 1, first = 1;
        ab_err_t rc;

        n--; /* drop the closing brace */
        rc = ab_buf_append_char(out, '{');
        while (!rc && i < n) {
                const char *pair  = s + i;
                const char *comma = memchr(pair, ',', n - i);
                size_t plen       = comma ? (size_t)(comma - pair) : n - i;
                const char *eq    = memchr(pair, '=', plen);

                i += plen + 1;
                if (!eq)
                        continue;
                const char *k = pair, *v = eq + 1;
                size_t klen = (size_t)(eq - pair);
                size_t vlen = plen - klen - 1;
                trim(&k, &klen);
                trim(&v, &vlen);
                while (vlen && (v[vlen - 1] == ')' || v[vlen - 1] == '}'))
                        vlen--;
                if (!klen)
                        continue;
                if (!first)
                        rc = ab_buf_append_char(out, ',');
                first = 0;
                if (!rc)
                        rc = ab_buf_append_json_str(out, k, klen);
                if (!rc)
                        rc = ab_buf_append_char(out, ':');
                if (!rc)
                        rc = ab_buf_append_json_str(out, v, vlen);
        }
        if (!rc)
                rc = ab_buf_append_char(out, '}');
        return rc;
}

ab_err_t ab_decode_form(const char *src, size_t len, struct ab_buf *out,
                        struct ab_buf *scratch, struct ab_error *err)
{
        size_t pos = 0, first = 1;
        ab_err_t rc;

        while (len && (src[len - 1] == '\n' || src[len - 1] == '\r'))
                len--;
        rc = ab_buf_append_char(out, '{');
        while (!rc && pos < len) {
                const char *pair = src + pos;
                const char *amp  = memchr(pair, '&', len - pos);
                size_t plen      = amp ? (size_t)(amp - pair) : len - pos;
                const char *eq   = memchr(pair, '=', plen);
                size_t klen, vstart;

                if (plen == 0) {
                        pos++;
                        continue;
                }
                if (!eq)
                        return ab_error_set_at(err, AB_ERR_DECODE, pos,
                                               "form field without '='");
                klen   = (size_t)(eq - pair);
                vstart = pos + klen + 1;
                /* Key first: decode into scratch, write, then the value. */
                rc = pct_decode(pair, klen, pos, scratch, err);
                if (rc)
                        return rc;
                {
                        size_t mark = out->len;
                        int is_dims = scratch->len == 10 &&
                                      !memcmp(scratch->data, "dimensions", 10);
                        if (!first)
                                rc = ab_buf_append_char(out, ',');
                        if (!rc)
                                rc = ab_buf_append_json_str(out, scratch->data,
                                                            scratch->len);
                        if (!rc)
                                rc = ab_buf_append_char(out, ':');
                        if (rc)
                                return rc;
                        rc = pct_decode(src + vstart, plen - klen - 1, vstart,
                                        scratch, err);
                        if (rc)
                                return rc;
                        if (scratch->len == 4 &&
                            !memcmp(scratch->data, "null", 4)) {
                                ab_buf_truncate(out, mark);
                        } else {
                                first = 0;
                                if (is_dims && scratch->len >= 2 &&
                                    scratch->data[0] == '{' &&
                                    scratch->data[scratch->len - 1] == '}')
                                        rc = write_java_map(scratch->data,
                                                            scratch->len, out);
                                else
                                        rc = ab_buf_append_json_str(
                                            out, scratch->data, scratch->len);
                        }
                }
                pos += plen + 1;
        }
        if (!rc)
                rc = ab_buf_append_char(out, '}');
        return rc;
}

int ab_decode_is_form(const char *src, size_t len)
{
        size_t i = 0;

        while (i < len && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' ||
                           src[i] == '\r'))
                i++;
        if (i == len || src[i] == '{' || src[i] == '[' || src[i] == '"')
                return 0;
        return memchr(src + i, '=', len - i) != NULL;
}
