/* trace.c - W3C Trace Context header validation (traceparent, tracestate). */
#include "core/trace.h"

#include <stddef.h>

static bool is_lchex(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* \p n lower-case hex characters at \p s, not all '0' when \p nonzero. */
static bool hex_field(const char *s, size_t n, bool nonzero)
{
        bool zero = true;

        for (size_t i = 0; i < n; i++) {
                if (!is_lchex(s[i]))
                        return false;
                zero = zero && s[i] == '0';
        }
        return !(nonzero && zero);
}

bool ab_traceparent_valid(struct ab_str s)
{
        const char *p = s.ptr;

        /* vv-<32>-<16>-ff: dashes at 2, 35 and 52. */
        if (!p || s.len < AB_TRACEPARENT_LEN || s.len > AB_TRACEPARENT_MAX)
                return false;
        if (!hex_field(p, 2, false) || (p[0] == 'f' && p[1] == 'f') ||
            p[2] != '-' || !hex_field(p + 3, 32, true) || p[35] != '-' ||
            !hex_field(p + 36, 16, true) || p[52] != '-' ||
            !hex_field(p + 53, 2, false))
                return false;
        if (p[0] == '0' && p[1] == '0')
                return s.len == AB_TRACEPARENT_LEN;
        if (s.len == AB_TRACEPARENT_LEN)
                return true;
        if (p[AB_TRACEPARENT_LEN] != '-')
                return false;
        for (size_t i = AB_TRACEPARENT_LEN + 1; i < s.len; i++)
                if (p[i] < 0x21 || p[i] > 0x7e)
                        return false;
        return true;
}

static bool is_lcalpha(char c)
{
        return c >= 'a' && c <= 'z';
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool is_key_char(char c)
{
        return is_lcalpha(c) || is_digit(c) || c == '_' || c == '-' ||
               c == '*' || c == '/';
}

/* simple-key = lcalpha 0*255(keychar); multi-tenant-key = tenant-id "@"
 * system-id with tenant-id = (lcalpha / DIGIT) 0*240(keychar) and
 * system-id = lcalpha 0*13(keychar). */
static bool key_valid(const char *k, size_t n)
{
        size_t at = n;

        for (size_t i = 0; i < n; i++) {
                if (k[i] == '@' && at == n)
                        at = i;
                else if (!is_key_char(k[i]))
                        return false;
        }
        if (at == n)
                return n >= 1 && n <= 256 && is_lcalpha(k[0]);
        return at >= 1 && at <= 241 && (is_lcalpha(k[0]) || is_digit(k[0])) &&
               n - at - 1 >= 1 && n - at - 1 <= 14 && is_lcalpha(k[at + 1]);
}

/* value = 0*255(chr) nblk-chr; chr = SP / nblk-chr; nblk-chr = the
 * printable ASCII characters but ',' and '='. */
static bool value_valid(const char *v, size_t n)
{
        if (n < 1 || n > 256 || v[n - 1] == ' ')
                return false;
        for (size_t i = 0; i < n; i++)
                if (v[i] < 0x20 || v[i] > 0x7e || v[i] == ',' || v[i] == '=')
                        return false;
        return true;
}

static bool is_ows(char c)
{
        return c == ' ' || c == '\t';
}

bool ab_tracestate_valid(struct ab_str s)
{
        size_t members = 0, i = 0;

        if (!s.ptr || s.len > AB_TRACESTATE_MAX)
                return false;
        while (i <= s.len) {
                size_t b = i, e, eq;

                while (i < s.len && s.ptr[i] != ',')
                        i++;
                e = i++; /* past the ',' (or the end) */
                while (b < e && is_ows(s.ptr[b]))
                        b++;
                while (e > b && is_ows(s.ptr[e - 1]))
                        e--;
                if (b == e)
                        continue; /* an empty member: allowed, not counted */
                for (eq = b; eq < e && s.ptr[eq] != '='; eq++)
                        ;
                if (eq == e || !key_valid(s.ptr + b, eq - b) ||
                    !value_valid(s.ptr + eq + 1, e - eq - 1) ||
                    ++members > AB_TRACESTATE_MAX_MEMBERS)
                        return false;
        }
        return true;
}

struct ab_trace_ctx ab_trace_pick(struct ab_str tp, struct ab_str ts,
                                  struct ab_str ce_tp, struct ab_str ce_ts)
{
        struct ab_trace_ctx t = {tp, ts};

        if (!tp.ptr && ce_tp.ptr) {
                t.traceparent = ce_tp;
                t.tracestate  = ce_ts;
        }
        return t;
}

enum ab_trace_verdict ab_trace_check(struct ab_trace_ctx raw,
                                     struct ab_trace_ctx *out)
{
        *out = AB_TRACE_NONE;
        if (!raw.traceparent.ptr)
                return AB_TRACE_OK;
        if (!ab_traceparent_valid(raw.traceparent))
                return AB_TRACE_BAD_PARENT;
        out->traceparent = raw.traceparent;
        if (!raw.tracestate.len)
                return AB_TRACE_OK;
        if (!ab_tracestate_valid(raw.tracestate))
                return AB_TRACE_BAD_STATE;
        out->tracestate = raw.tracestate;
        return AB_TRACE_OK;
}
