/* timefmt.c - parses alert timestamps, formats RFC 3339 UTC, and reads the
 * wall and monotonic clocks. */
#include "core/timefmt.h"

#include <time.h>

#define MS_PER_DAY 86400000LL
/* The range RFC 3339 can write: 0000-01-01T00:00:00.000Z through
 * 9999-12-31T23:59:59.999Z. */
#define MIN_MS (-62167219200000LL)
#define MAX_MS 253402300799999LL
/* Epoch values at or above this are milliseconds (see timefmt.h). */
#define EPOCH_MS_THRESHOLD 100000000000LL

/*
 * HOW IT WORKS
 * Dates convert to days since 1970-01-01 in the proleptic Gregorian
 * calendar with Howard Hinnant's era arithmetic: shift the year to start
 * in March (so the leap day is last), split into 400-year eras of 146097
 * days, and count days inside the era. No libc time function is used, so
 * the result never depends on the process's locale or time zone.
 */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
        int64_t era;
        unsigned yoe, doy, doe;

        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = (unsigned)(y - era * 400);
        doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
        int64_t era;
        unsigned doe, yoe, doy, mp;

        z += 719468;
        era = (z >= 0 ? z : z - 146096) / 146097;
        doe = (unsigned)(z - era * 146097);
        yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        mp  = (5 * doy + 2) / 153;
        *d  = doy - (153 * mp + 2) / 5 + 1;
        *m  = mp < 10 ? mp + 3 : mp - 9;
        *y  = (int64_t)yoe + era * 400 + (*m <= 2);
}

static unsigned days_in_month(int64_t y, unsigned m)
{
        static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30,
                                              31, 31, 30, 31, 30, 31};
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

        return dim[m - 1] + (m == 2 && leap);
}

static inline int is_digit(char c)
{
        return (unsigned char)(c - '0') < 10;
}

/* The value of the n digits at p, or -1 if one is not a digit. */
static int digits(const char *p, int n)
{
        int v = 0;

        for (int i = 0; i < n; i++) {
                if (!is_digit(p[i]))
                        return -1;
                v = v * 10 + (p[i] - '0');
        }
        return v;
}

/* "1508136760", "1685646149981", "1508136760.5": seconds below 1e11,
 * milliseconds from there on. */
static int parse_epoch(const char *s, size_t len, int64_t *ms)
{
        size_t i  = 0;
        int64_t v = 0, frac = 0;
        int scale = 100;

        while (i < len && is_digit(s[i])) {
                v = v * 10 + (s[i] - '0');
                if (v > MAX_MS)
                        return -1;
                i++;
        }
        if (i == 0)
                return -1;
        if (i < len) {
                if (s[i] != '.' || ++i == len)
                        return -1;
                for (; i < len; i++) {
                        if (!is_digit(s[i]))
                                return -1;
                        frac += (s[i] - '0') * scale;
                        scale /= 10;
                }
        }
        *ms = v >= EPOCH_MS_THRESHOLD ? v : v * 1000 + frac;
        return 0;
}

/* Fraction digits after a '.', truncated to milliseconds. */
static const char *parse_fraction(const char *p, const char *end, int *msec)
{
        int scale = 100;

        *msec = 0;
        if (p == end || *p != '.')
                return p;
        if (++p == end || !is_digit(*p))
                return NULL;
        for (; p < end && is_digit(*p); p++) {
                *msec += (*p - '0') * scale;
                scale /= 10;
        }
        return p;
}

/* 'Z', "+hh:mm", "+hhmm" (or '-') ending the input; offset in minutes. */
static int parse_zone(const char *p, const char *end, int *minutes)
{
        int sign, hh, mm;

        if (end - p == 1 && (*p == 'Z' || *p == 'z')) {
                *minutes = 0;
                return 0;
        }
        if (p == end || (*p != '+' && *p != '-'))
                return -1;
        sign = *p++ == '-' ? -1 : 1;
        if (end - p == 5 && p[2] == ':') {
                hh = digits(p, 2);
                mm = digits(p + 3, 2);
        } else if (end - p == 4) {
                hh = digits(p, 2);
                mm = digits(p + 2, 2);
        } else {
                return -1;
        }
        if (hh < 0 || mm < 0 || hh > 23 || mm > 59)
                return -1;
        *minutes = sign * (hh * 60 + mm);
        return 0;
}

/*
 * The date/time fields at s: RFC 3339 ("2019-04-09T12:18:26") when
 * compact is 0, CloudMonitor's "20190409T121826" when it is 1, then the
 * fraction and the zone shared by both.
 */
static int parse_datetime(const char *s, size_t len, int compact, int64_t *ms)
{
        const char *end = s + len, *p;
        int y, mo, d, h, mi, sec, msec, zone;
        size_t need = compact ? 15 : 19;

        if (len < need)
                return -1;
        if (compact) {
                y   = digits(s, 4);
                mo  = digits(s + 4, 2);
                d   = digits(s + 6, 2);
                h   = digits(s + 9, 2);
                mi  = digits(s + 11, 2);
                sec = digits(s + 13, 2);
                if (s[8] != 'T' && s[8] != 't')
                        return -1;
        } else {
                y   = digits(s, 4);
                mo  = digits(s + 5, 2);
                d   = digits(s + 8, 2);
                h   = digits(s + 11, 2);
                mi  = digits(s + 14, 2);
                sec = digits(s + 17, 2);
                if (s[4] != '-' || s[7] != '-' || s[13] != ':' ||
                    s[16] != ':' ||
                    (s[10] != 'T' && s[10] != 't' && s[10] != ' '))
                        return -1;
        }
        if (y < 0 || mo < 1 || mo > 12 || d < 1 ||
            (unsigned)d > days_in_month(y, (unsigned)mo) || h < 0 || h > 23 ||
            mi < 0 || mi > 59 || sec < 0 || sec > 60)
                return -1;
        p = parse_fraction(s + need, end, &msec);
        if (!p || parse_zone(p, end, &zone))
                return -1;
        *ms = days_from_civil(y, (unsigned)mo, (unsigned)d) * MS_PER_DAY +
              ((int64_t)h * 3600 + mi * 60 + sec) * 1000 + msec -
              (int64_t)zone * 60000;
        return 0;
}

int ab_time_parse(const char *s, size_t len, int64_t *ms)
{
        size_t nd = 0;

        if (!s)
                return -1;
        while (nd < len && is_digit(s[nd]))
                nd++;
        if (nd == len || s[nd] == '.')
                return parse_epoch(s, len, ms);
        if (nd == 4 && s[4] == '-')
                return parse_datetime(s, len, 0, ms);
        if (nd == 8 && (s[8] == 'T' || s[8] == 't'))
                return parse_datetime(s, len, 1, ms);
        return -1;
}

static char *put2(char *p, unsigned v)
{
        p[0] = (char)('0' + v / 10);
        p[1] = (char)('0' + v % 10);
        return p + 2;
}

size_t ab_time_format(int64_t ms, char *out)
{
        int64_t days, rem, y;
        unsigned mo, d, secs;
        char *p = out;

        if (ms < MIN_MS)
                ms = MIN_MS;
        else if (ms > MAX_MS)
                ms = MAX_MS;
        days = ms / MS_PER_DAY;
        rem  = ms % MS_PER_DAY;
        if (rem < 0) {
                rem += MS_PER_DAY;
                days--;
        }
        civil_from_days(days, &y, &mo, &d);
        secs = (unsigned)(rem / 1000);
        p    = put2(p, (unsigned)(y / 100));
        p    = put2(p, (unsigned)(y % 100));
        *p++ = '-';
        p    = put2(p, mo);
        *p++ = '-';
        p    = put2(p, d);
        *p++ = 'T';
        p    = put2(p, secs / 3600);
        *p++ = ':';
        p    = put2(p, secs / 60 % 60);
        *p++ = ':';
        p    = put2(p, secs % 60);
        *p++ = '.';
        *p++ = (char)('0' + rem % 1000 / 100);
        p    = put2(p, (unsigned)(rem % 100));
        *p++ = 'Z';
        *p   = '\0';
        return (size_t)(p - out);
}

int64_t ab_time_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ab_time_mono_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t ab_time_mono_ms(void)
{
        return ab_time_mono_ns() / 1000000;
}
