/* conf_units.c - parses durations ("1h30m") and sizes ("64KB") in config
 * values. */
#include "core/conf_units.h"

#include <limits.h>
#include <string.h>

/*
 * A decimal number with an optional fraction at *sp, scaled by \p unit:
 * "1.5" with unit 3600000 gives 5400000. The fraction is truncated to a
 * whole result. @returns 0 and advances *sp, or -1 (syntax, overflow).
 */
static int scaled_number(const char **sp, long long unit, long long *out)
{
        const char *s   = *sp;
        long long whole = 0, frac = 0, div = 1;

        if (*s < '0' || *s > '9')
                return -1;
        for (; *s >= '0' && *s <= '9'; s++) {
                if (__builtin_mul_overflow(whole, 10, &whole) ||
                    __builtin_add_overflow(whole, *s - '0', &whole))
                        return -1;
        }
        if (*s == '.') {
                s++;
                if (*s < '0' || *s > '9')
                        return -1;
                for (; *s >= '0' && *s <= '9'; s++) {
                        if (div <= LLONG_MAX / 10 / unit) {
                                frac = frac * 10 + (*s - '0');
                                div *= 10;
                        }
                }
        }
        if (__builtin_mul_overflow(whole, unit, &whole) ||
            __builtin_add_overflow(whole, frac * unit / div, &whole))
                return -1;
        *out = whole;
        *sp  = s;
        return 0;
}

int ab_conf_parse_duration(const char *s, long long *ms)
{
        static const struct {
                const char *suffix;
                long long ms;
        } units[] = {
            {"ms", 1},      {"s", 1000},     {"m", 60000},
            {"h", 3600000}, {"d", 86400000},
        };
        const char *p   = s;
        long long total = 0;

        if (!s || !*s)
                return -1;
        /* A bare number is seconds. */
        if (!scaled_number(&p, 1000, &total) && *p == '\0') {
                *ms = total;
                return 0;
        }
        total = 0;
        while (*s) {
                const char *num = s, *end;
                long long v;
                size_t i, len;

                end = s;
                while ((*end >= '0' && *end <= '9') || *end == '.')
                        end++;
                for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                        len = strlen(units[i].suffix);
                        if (!strncmp(end, units[i].suffix, len) &&
                            !(end[len] >= 'a' && end[len] <= 'z'))
                                break;
                }
                if (i == sizeof(units) / sizeof(units[0]))
                        return -1;
                if (scaled_number(&num, units[i].ms, &v) || num != end ||
                    __builtin_add_overflow(total, v, &total))
                        return -1;
                s = end + strlen(units[i].suffix);
        }
        *ms = total;
        return 0;
}

int ab_conf_parse_size(const char *s, long long *bytes)
{
        static const struct {
                const char *suffix;
                long long mult;
        } units[] = {
            {"", 1},
            {"b", 1},
            {"k", 1024LL},
            {"kb", 1024LL},
            {"kib", 1024LL},
            {"m", 1024LL * 1024},
            {"mb", 1024LL * 1024},
            {"mib", 1024LL * 1024},
            {"g", 1024LL * 1024 * 1024},
            {"gb", 1024LL * 1024 * 1024},
            {"gib", 1024LL * 1024 * 1024},
        };
        const char *p = s, *num;
        char suffix[4];
        size_t n = 0;

        if (!s || *s < '0' || *s > '9')
                return -1;
        while ((*p >= '0' && *p <= '9') || *p == '.')
                p++;
        num = p;
        for (const char *q = p; *q; q++) {
                if (n == sizeof(suffix) - 1)
                        return -1;
                suffix[n++] = (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
        }
        suffix[n] = '\0';
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                if (strcmp(suffix, units[i].suffix))
                        continue;
                p = s;
                if (scaled_number(&p, units[i].mult, bytes) || p != num)
                        return -1;
                return 0;
        }
        return -1;
}
