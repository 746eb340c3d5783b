/* log.c - logfmt or JSON lines on stderr, one write(2) per line. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

enum ab_log_level ab_log_threshold = AB_LOG_INFO;
enum ab_log_format ab_log_format   = AB_LOG_LOGFMT;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int ab_log_set_level(const char *name)
{
        for (unsigned i = 0; i < sizeof(level_names) / sizeof(*level_names);
             i++) {
                if (!strcasecmp(name, level_names[i])) {
                        ab_log_threshold = (enum ab_log_level)i;
                        return 0;
                }
        }
        return -1;
}

int ab_log_set_format(const char *name)
{
        if (!strcasecmp(name, "logfmt"))
                ab_log_format = AB_LOG_LOGFMT;
        else if (!strcasecmp(name, "json"))
                ab_log_format = AB_LOG_JSON;
        else
                return -1;
        return 0;
}

enum ab_log_level ab_log_from_syslog(int syslog_level)
{
        if (syslog_level <= 3)
                return AB_LOG_ERROR;
        if (syslog_level == 4)
                return AB_LOG_WARN;
        if (syslog_level <= 6)
                return AB_LOG_INFO;
        return AB_LOG_DEBUG;
}

const char *ab_log_quote(const char *s, char *out, unsigned outsize)
{
        unsigned o = 0;

        if (outsize < 3) {
                if (outsize)
                        out[0] = '\0';
                return out;
        }
        out[o++] = '"';
        for (; *s && o + 3 < outsize; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\') {
                        out[o++] = '\\';
                        out[o++] = (char)c;
                } else if (c == '\n') {
                        out[o++] = '\\';
                        out[o++] = 'n';
                } else if (c < 0x20) {
                        out[o++] = ' ';
                } else {
                        out[o++] = (char)c;
                }
        }
        out[o++] = '"';
        out[o]   = '\0';
        return out;
}

/* ---- JSON ---- */

/* A line being built; appends stop short of `room` bytes before the end,
 * which the closing `"}` and newline always fit in. */
struct line {
        char *b;
        size_t n, cap;
};

#define LINE_ROOM 8

static void put(struct line *l, const char *s, size_t len)
{
        if (l->n + len + LINE_ROOM > l->cap)
                return;
        memcpy(l->b + l->n, s, len);
        l->n += len;
}

/* Length of the valid UTF-8 sequence at \p s (of \p left bytes), 0 if
 * none starts there. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
        size_t n = s[0] >= 0xf0 && s[0] <= 0xf4   ? 4
                   : s[0] >= 0xe0                 ? 3
                   : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
                                                  : 0;

        if (n == 0 || n > left)
                return 0;
        for (size_t i = 1; i < n; i++)
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
        return n;
}

/* A JSON string of \p len bytes: escaped, invalid UTF-8 as U+FFFD, cut
 * (but still closed) when the line is full. */
static void put_json_str(struct line *l, const char *s, size_t len)
{
        static const char hex[] = "0123456789abcdef";

        l->b[l->n++] = '"';
        for (size_t i = 0; i < len && l->n + 6 + LINE_ROOM <= l->cap; i++) {
                unsigned char c = (unsigned char)s[i];
                size_t u;

                if (c == '"' || c == '\\') {
                        l->b[l->n++] = '\\';
                        l->b[l->n++] = (char)c;
                } else if (c == '\n') {
                        put(l, "\\n", 2);
                } else if (c < 0x20 || c == 0x7f) {
                        char e[6] = {'\\', 'u',         '0',
                                     '0',  hex[c >> 4], hex[c & 15]};
                        put(l, e, sizeof(e));
                } else if (c < 0x80) {
                        l->b[l->n++] = (char)c;
                } else if ((u = utf8_len((const unsigned char *)s + i,
                                         len - i))) {
                        put(l, s + i, u);
                        i += u - 1;
                } else {
                        put(l, "\\ufffd", 6);
                }
        }
        l->b[l->n++] = '"';
}

static void put_member(struct line *l, const char *key, size_t klen,
                       const char *val, size_t vlen)
{
        if (l->n + klen + 8 + LINE_ROOM > l->cap)
                return;
        l->b[l->n++] = ',';
        put_json_str(l, key, klen);
        l->b[l->n++] = ':';
        put_json_str(l, val, vlen);
}

/*
 * The `key=value` pairs of \p kv (logfmt as ab_log_quote() writes it) as
 * members. A quoted value is unescaped into \p tmp first. Anything that is
 * not a pair ends the parse and goes, as is, to "extra".
 */
static void put_pairs(struct line *l, const char *kv, char *tmp, size_t tmpsz)
{
        const char *p = kv;

        for (;;) {
                const char *key, *val;
                size_t klen, vlen = 0;

                while (*p == ' ')
                        p++;
                if (!*p)
                        return;
                key  = p;
                klen = strcspn(p, " =\"");
                if (klen == 0 || p[klen] != '=')
                        break;
                p += klen + 1;
                if (*p != '"') {
                        val  = p;
                        vlen = strcspn(p, " ");
                        p += vlen;
                        put_member(l, key, klen, val, vlen);
                        continue;
                }
                for (p++; *p && *p != '"' && vlen < tmpsz; p++) {
                        if (*p == '\\' && p[1]) {
                                p++;
                                tmp[vlen++] = *p == 'n' ? '\n' : *p;
                        } else {
                                tmp[vlen++] = *p;
                        }
                }
                if (*p != '"') {
                        p = key;
                        break;
                }
                p++;
                put_member(l, key, klen, tmp, vlen);
        }
        put_member(l, "extra", 5, p, strlen(p));
}

static size_t format_json(char *out, size_t cap, const char *ts,
                          enum ab_log_level level, const char *comp,
                          const char *msg, const char *kv)
{
        struct line l = {out, 0, cap};
        char tmp[2048];

        put(&l, "{\"ts\":", 6);
        put_json_str(&l, ts, strlen(ts));
        put(&l, ",\"level\":", 9);
        put_json_str(&l, level_names[level], strlen(level_names[level]));
        put_member(&l, "comp", 4, comp, strlen(comp));
        put_member(&l, "msg", 3, msg, strlen(msg));
        if (kv)
                put_pairs(&l, kv, tmp, sizeof(tmp));
        l.b[l.n++] = '}';
        l.b[l.n++] = '\n';
        return l.n;
}

/* ---- the line ---- */

void ab_log_write(enum ab_log_level level, const char *comp, const char *msg,
                  const char *kvfmt, ...)
{
        char line[4096];
        char kv[3072];
        char quoted[1024];
        char ts[64];
        struct timespec now;
        struct tm tm;
        size_t len;
        int n;

        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000);
        kv[0] = '\0';
        if (kvfmt && *kvfmt) {
                va_list ap;

                va_start(ap, kvfmt);
                vsnprintf(kv, sizeof(kv), kvfmt, ap);
                va_end(ap);
        }
        if (ab_log_format == AB_LOG_JSON) {
                len = format_json(line, sizeof(line), ts, level, comp, msg, kv);
        } else {
                n = snprintf(line, sizeof(line) - 1,
                             "ts=%s level=%s comp=%s msg=%s%s%s", ts,
                             level_names[level], comp,
                             ab_log_quote(msg, quoted, sizeof(quoted)),
                             kv[0] ? " " : "", kv);
                if (n < 0)
                        return;
                len =
                    (size_t)n < sizeof(line) - 2 ? (size_t)n : sizeof(line) - 2;
                line[len++] = '\n';
        }
        if (write(STDERR_FILENO, line, len) < 0)
                return;
}
