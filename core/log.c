/* log.c - logfmt lines on stderr, one write(2) per line. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

enum ab_log_level ab_log_threshold = AB_LOG_INFO;

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

void ab_log_write(enum ab_log_level level, const char *comp, const char *msg,
                  const char *kvfmt, ...)
{
        char line[4096];
        char quoted[1024];
        struct timespec ts;
        struct tm tm;
        int n;

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        n = snprintf(line, sizeof(line),
                     "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s "
                     "comp=%s msg=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                     level_names[level], comp,
                     ab_log_quote(msg, quoted, sizeof(quoted)));
        if (n < 0)
                return;
        if ((size_t)n < sizeof(line) - 2 && kvfmt && *kvfmt) {
                va_list ap;
                int m;

                line[n++] = ' ';
                va_start(ap, kvfmt);
                m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, kvfmt,
                              ap);
                va_end(ap);
                if (m > 0)
                        n += m;
        }
        if ((size_t)n > sizeof(line) - 2)
                n = (int)sizeof(line) - 2;
        line[n++] = '\n';
        if (write(STDERR_FILENO, line, (size_t)n) < 0)
                return;
}
