/* progress.c - formats the replay's progress as a bar or a plain line. */
#include "replay/progress.h"

#include <stdio.h>

double ab_replay_progress_rate(const struct ab_replay_progress *p)
{
        if (p->elapsed_ms <= 0)
                return 0;
        return (double)p->done * 1000.0 / (double)p->elapsed_ms;
}

int64_t ab_replay_progress_eta_ms(const struct ab_replay_progress *p)
{
        double rate = ab_replay_progress_rate(p);

        if (p->final || p->done >= p->total)
                return 0;
        if (rate <= 0)
                return -1;
        return (int64_t)((double)(p->total - p->done) * 1000.0 / rate);
}

const char *ab_replay_duration_format(int64_t ms, char *out, size_t size)
{
        int64_t s = (ms + 999) / 1000;

        if (ms < 0)
                snprintf(out, size, "?");
        else if (ms < 10000)
                snprintf(out, size, "%.1fs", (double)ms / 1000.0);
        else if (s < 60)
                snprintf(out, size, "%llds", (long long)s);
        else if (s < 3600)
                snprintf(out, size, "%lldm%02llds", (long long)(s / 60),
                         (long long)(s % 60));
        else
                snprintf(out, size, "%lldh%02lldm", (long long)(s / 3600),
                         (long long)(s % 3600 / 60));
        return out;
}

/* Whole percent done, 100 when the range is empty or done. */
static unsigned percent(const struct ab_replay_progress *p)
{
        if (!p->total || p->done >= p->total)
                return 100;
        return (unsigned)(p->done * 100 / p->total);
}

ab_err_t ab_replay_progress_format(const struct ab_replay_progress *p, bool bar,
                                   int width, struct ab_buf *out)
{
        double rate       = ab_replay_progress_rate(p);
        const char *label = p->final ? "in" : "ETA";
        char dur[24], tail[160];
        int cells, filled, n;
        ab_err_t rc;

        ab_replay_duration_format(p->final ? p->elapsed_ms
                                           : ab_replay_progress_eta_ms(p),
                                  dur, sizeof(dur));
        if (!bar)
                return ab_buf_appendf(out,
                                      "replay: %llu/%llu records (%u%%), "
                                      "%.0f records/s, %s %s",
                                      (unsigned long long)p->done,
                                      (unsigned long long)p->total, percent(p),
                                      rate, label, dur);
        n = snprintf(tail, sizeof(tail),
                     " %3u%%  %llu/%llu records  %.0f/s  %s %s", percent(p),
                     (unsigned long long)p->done, (unsigned long long)p->total,
                     rate, label, dur);
        if (n < 0)
                n = 0;
        cells = width - n - 2;
        if (cells > 40)
                cells = 40;
        rc = AB_OK;
        if (cells >= 5) {
                filled = (int)((unsigned)cells * percent(p) / 100);
                rc     = ab_buf_append_char(out, '[');
                for (int i = 0; !rc && i < cells; i++)
                        rc = ab_buf_append_char(out, i < filled ? '#' : '-');
                if (!rc)
                        rc = ab_buf_append_char(out, ']');
        }
        return rc ? rc
                  : ab_buf_append(out, tail,
                                  (size_t)n < sizeof(tail) ? (size_t)n
                                                           : sizeof(tail) - 1);
}
