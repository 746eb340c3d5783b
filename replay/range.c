/* range.c - parses replay bounds and resolves them to offset ranges. */
#include "replay/range.h"

#include <stdio.h>
#include <string.h>

#include "core/timefmt.h"

/* The last epoch ms core/timefmt.h formats: 9999-12-31T23:59:59.999Z. */
#define MAX_EPOCH_MS 253402300799999LL

/* Decimal digits only, no sign, at most 18 of them (no overflow). */
static int parse_digits(const char *s, int64_t *out)
{
        int64_t v = 0;
        size_t n  = 0;

        for (; *s; s++, n++) {
                if (*s < '0' || *s > '9' || n == 18)
                        return -1;
                v = v * 10 + (*s - '0');
        }
        if (!n)
                return -1;
        *out = v;
        return 0;
}

ab_err_t ab_replay_bound_parse(const char *s, struct ab_replay_bound *out,
                               struct ab_error *err)
{
        int64_t v;

        if (!s)
                s = "";
        if (!strcmp(s, "earliest")) {
                out->kind  = AB_REPLAY_EARLIEST;
                out->value = 0;
                return AB_OK;
        }
        if (!strcmp(s, "latest")) {
                out->kind  = AB_REPLAY_LATEST;
                out->value = 0;
                return AB_OK;
        }
        if (s[0] >= '0' && s[0] <= '9' && !parse_digits(s, &v)) {
                if (v >= AB_REPLAY_OFFSET_LIMIT)
                        return ab_error_set(
                            err, AB_ERR_USAGE, NULL,
                            "'%s' is too large for an offset; for a time in "
                            "epoch milliseconds write @%s",
                            s, s);
                out->kind  = AB_REPLAY_OFFSET;
                out->value = v;
                return AB_OK;
        }
        if (s[0] == '@') {
                if (parse_digits(s + 1, &v) || v > MAX_EPOCH_MS)
                        return ab_error_set(err, AB_ERR_USAGE, NULL,
                                            "'%s': expected @ and epoch "
                                            "milliseconds",
                                            s);
                out->kind  = AB_REPLAY_TIME;
                out->value = v;
                return AB_OK;
        }
        if (strchr(s, '-') && !ab_time_parse(s, strlen(s), &v) &&
            !AB_TIME_IS_ZERO_GO(v) && v >= 0) {
                out->kind  = AB_REPLAY_TIME;
                out->value = v;
                return AB_OK;
        }
        return ab_error_set(err, AB_ERR_USAGE, NULL,
                            "'%s': expected earliest, latest, an offset, an "
                            "RFC 3339 time with a zone, or @ and epoch "
                            "milliseconds",
                            s);
}

const char *ab_replay_bound_format(const struct ab_replay_bound *b, char *out,
                                   size_t size)
{
        char t[AB_TIME_RFC3339_LEN];

        switch (b->kind) {
        case AB_REPLAY_EARLIEST:
                snprintf(out, size, "earliest");
                break;
        case AB_REPLAY_LATEST:
                snprintf(out, size, "latest");
                break;
        case AB_REPLAY_OFFSET:
                snprintf(out, size, "offset %lld", (long long)b->value);
                break;
        case AB_REPLAY_TIME:
                ab_time_format(b->value, t);
                snprintf(out, size, "%s", t);
                break;
        }
        return out;
}

/* The offset a bound names in the log [low, high), before clamping. */
static int64_t bound_offset(const struct ab_replay_bound *b,
                            const struct ab_replay_marks *m, int64_t time_off)
{
        switch (b->kind) {
        case AB_REPLAY_EARLIEST:
                return m->low;
        case AB_REPLAY_LATEST:
                return m->high;
        case AB_REPLAY_OFFSET:
                return b->value;
        case AB_REPLAY_TIME:
                return time_off < 0 ? m->high : time_off;
        }
        return m->high;
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
        return v < lo ? lo : v > hi ? hi : v;
}

void ab_replay_range_resolve(const struct ab_replay_bound *from,
                             const struct ab_replay_bound *to,
                             const struct ab_replay_marks *m, int64_t *start,
                             int64_t *end)
{
        int64_t low  = m->low < 0 ? 0 : m->low;
        int64_t high = m->high < low ? low : m->high;
        int64_t s    = clamp(bound_offset(from, m, m->from_time), low, high);
        int64_t e    = clamp(bound_offset(to, m, m->to_time), low, high);

        *start = s;
        *end   = e < s ? s : e;
}
