/* summary.c - gathers a replay's statistics and renders its summary as text
 * and as JSON. */
#include "replay/summary.h"

#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- stats */

/* Copy \p src into \p dst (\p size bytes), cut on a UTF-8 boundary. */
static void copy_text(char *dst, size_t size, const char *src)
{
        size_t n = strlen(src);

        if (n >= size) {
                n = size - 1;
                while (n && ((unsigned char)src[n] & 0xc0) == 0x80)
                        n--;
        }
        memcpy(dst, src, n);
        dst[n] = '\0';
}

void ab_replay_stats_reject(struct ab_replay_stats *st,
                            const struct ab_replay_pos *pos,
                            const struct ab_error *e)
{
        struct ab_replay_rejections *rj;

        if ((unsigned)e->code >= AB_ERR__COUNT)
                return;
        rj = &st->by_code[e->code];
        if (!rj->count)
                copy_text(rj->example, sizeof(rj->example), e->text);
        rj->count++;
        if (rj->nfirst < AB_REPLAY_FIRST_KEEP) {
                rj->first[rj->nfirst].partition = pos->partition;
                rj->first[rj->nfirst].offset    = pos->offset;
                rj->nfirst++;
        }
}

void ab_replay_stats_time(struct ab_replay_stats *st,
                          const struct ab_replay_pos *pos, int64_t ns)
{
        size_t i;

        if (st->nslow < AB_REPLAY_SLOW_KEEP)
                i = st->nslow++;
        else if (st->slow[AB_REPLAY_SLOW_KEEP - 1].ns >= ns)
                return;
        else
                i = AB_REPLAY_SLOW_KEEP - 1;
        /* Insertion into the list kept sorted, slowest first. */
        while (i > 0 && st->slow[i - 1].ns < ns) {
                st->slow[i] = st->slow[i - 1];
                i--;
        }
        st->slow[i].partition = pos->partition;
        st->slow[i].offset    = pos->offset;
        st->slow[i].ns        = ns;
}

/* Alerts mapped: each one the lifecycle saw ended in exactly one of these
 * counters (lifecycle.h). */
static uint64_t alerts_of(const struct ab_replay_summary *s)
{
        const struct ab_lifecycle_stats *st = &s->lifecycle;

        return st->opened + st->merged + st->closed_recovered +
               st->orphan_recoveries + st->stale_recoveries;
}

/* ---------------------------------------------------------------- text */

static ab_err_t text_events(struct ab_buf *out, const uint64_t *events)
{
        uint64_t total = 0;
        ab_err_t rc;

        for (int t = 0; t < AB_EVENT__COUNT; t++)
                total += events[t];
        rc = ab_buf_appendf(out, "%llu", (unsigned long long)total);
        for (int t = 0; !rc && t < AB_EVENT__COUNT; t++)
                rc = ab_buf_appendf(out, "%s%llu %s", t ? ", " : ": ",
                                    (unsigned long long)events[t],
                                    ab_event_type_short((enum ab_event_type)t));
        return rc;
}

/*
 * The sections both forms show, each in one walk: the text and JSON forms
 * differ only in their format strings (indexed by enum form).
 */
enum form { TEXT = 0, JSON = 1 };

static ab_err_t put_partitions(const struct ab_replay_summary *s, enum form f,
                               struct ab_buf *out)
{
        const struct ab_replay_partition *p = s->partitions;
        ab_err_t rc =
            f == JSON ? ab_buf_append_str(out, "\"partitions\":[") : AB_OK;

        for (size_t i = 0; !rc && i < s->npartitions; i++)
                rc = ab_buf_appendf(
                    out,
                    f == TEXT ? "%s  partition %d: offsets [%lld, %lld) of "
                                "the log's [%lld, %lld), %llu records\n"
                              : "%s{\"partition\":%d,\"start\":%lld,"
                                "\"end\":%lld,\"low\":%lld,\"high\":%lld,"
                                "\"records\":%llu}",
                    i && f == JSON ? "," : "", (int)p[i].partition,
                    (long long)p[i].start, (long long)p[i].end,
                    (long long)p[i].low, (long long)p[i].high,
                    (unsigned long long)p[i].records);
        return rc || f == TEXT ? rc : ab_buf_append_char(out, ']');
}

static ab_err_t put_rejections(const struct ab_replay_summary *s, enum form f,
                               struct ab_buf *out)
{
        bool any    = false;
        ab_err_t rc = ab_buf_appendf(
            out,
            f == TEXT ? "  rejected   %llu\n"
                      : "\"rejections\":{\"total\":%llu,\"by_code\":[",
            (unsigned long long)s->counts.rejections);

        for (int c = 0; !rc && c < AB_ERR__COUNT; c++) {
                const struct ab_replay_rejections *rj = &s->stats->by_code[c];

                if (!rj->count)
                        continue;
                rc  = ab_buf_appendf(out,
                                    f == TEXT ? "%s    %-20s %llu at"
                                               : "%s{\"code\":\"%s\",\"count\":"
                                                 "%llu,\"first\":[",
                                    any && f == JSON ? "," : "",
                                     ab_err_code((ab_err_t)c),
                                     (unsigned long long)rj->count);
                any = true;
                for (size_t i = 0; !rc && i < rj->nfirst; i++)
                        rc = ab_buf_appendf(
                            out,
                            f == TEXT ? "%s %d:%lld"
                                      : "%s{\"partition\":%d,\"offset\":%lld}",
                            i ? "," : "", (int)rj->first[i].partition,
                            (long long)rj->first[i].offset);
                if (!rc && f == TEXT && rj->count > rj->nfirst)
                        rc = ab_buf_append_str(out, ", ...");
                if (!rc)
                        rc = ab_buf_append_str(out, f == TEXT
                                                        ? "\n      e.g. "
                                                        : "],\"example\":");
                if (!rc)
                        rc = ab_buf_append_json_str(out, rj->example,
                                                    strlen(rj->example));
                if (!rc)
                        rc = ab_buf_append_char(out, f == TEXT ? '\n' : '}');
        }
        return rc || f == TEXT ? rc : ab_buf_append_str(out, "]}");
}

static ab_err_t put_lifecycle(const struct ab_replay_summary *s, enum form f,
                              struct ab_buf *out)
{
        const struct ab_lifecycle_stats *st = &s->lifecycle;

        return ab_buf_appendf(
            out,
            f == TEXT
                ? "  lifecycle  %llu opened, %llu merged, %llu closed by "
                  "recovery, %llu auto-closed, %llu evicted, %llu orphan and "
                  "%llu stale recoveries, %zu open at the end\n"
                : "\"lifecycle\":{\"opened\":%llu,\"merged\":%llu,"
                  "\"closed_recovered\":%llu,\"closed_auto\":%llu,"
                  "\"evicted\":%llu,\"orphan_recoveries\":%llu,"
                  "\"stale_recoveries\":%llu,\"open_at_end\":%zu}",
            (unsigned long long)st->opened, (unsigned long long)st->merged,
            (unsigned long long)st->closed_recovered,
            (unsigned long long)st->closed_auto,
            (unsigned long long)st->evicted,
            (unsigned long long)st->orphan_recoveries,
            (unsigned long long)st->stale_recoveries, s->open_at_end);
}

/* Text: milliseconds, and nothing when no record was timed. */
static ab_err_t put_slowest(const struct ab_replay_summary *s, enum form f,
                            struct ab_buf *out)
{
        const struct ab_replay_stats *st = s->stats;
        ab_err_t rc;

        if (f == TEXT && !st->nslow)
                return AB_OK;
        rc = ab_buf_append_str(out,
                               f == JSON ? "\"slowest\":[" : "  slowest   ");
        for (size_t i = 0; !rc && i < st->nslow; i++) {
                const struct ab_replay_slow *sl = &st->slow[i];
                const char *sep                 = i ? "," : "";

                rc = f == JSON
                         ? ab_buf_appendf(out,
                                          "%s{\"partition\":%d,\"offset\":%lld,"
                                          "\"us\":%lld}",
                                          sep, (int)sl->partition,
                                          (long long)sl->offset,
                                          (long long)(sl->ns / 1000))
                         : ab_buf_appendf(out, "%s %d:%lld %.3f ms", sep,
                                          (int)sl->partition,
                                          (long long)sl->offset,
                                          (double)sl->ns / 1e6);
        }
        return rc ? rc : ab_buf_append_char(out, f == JSON ? ']' : '\n');
}

static ab_err_t text_report(const struct ab_replay_summary *s,
                            struct ab_buf *out)
{
        ab_err_t rc;

        if (!s->report)
                return AB_OK;
        rc = ab_lifecycle_report_render(s->report, out);
        if (!rc)
                rc = ab_buf_appendf(
                    out,
                    "(inputs are %s; the report follows the "
                    "first %zu fingerprints%s)\n",
                    s->inputs_are_offsets ? "offsets"
                                          : "record numbers in replay order, "
                                            "from 0",
                    s->follow_limit,
                    s->followed == s->follow_limit ? ", more were seen: raise "
                                                     "--dedup-groups"
                                                   : "");
        return rc;
}

ab_err_t ab_replay_summary_text(const struct ab_replay_summary *s,
                                struct ab_buf *out)
{
        double secs = (double)s->elapsed_ns / 1e9;
        bool cmp    = s->compare_integration != NULL;
        ab_err_t rc;

        rc = ab_buf_appendf(out, "replay of %s with integration %s%s%s%s\n",
                            s->topic, s->integration,
                            cmp ? " (compared with " : "",
                            cmp ? s->compare_integration : "", cmp ? ")" : "");
        if (!rc)
                rc = put_partitions(s, TEXT, out);
        if (!rc)
                rc = ab_buf_appendf(
                    out, "  records    %llu in %.3f s (%.0f records/s)%s\n",
                    (unsigned long long)s->records, secs,
                    secs > 0 ? (double)s->records / secs : 0.0,
                    s->complete ? "" : ", INCOMPLETE");
        if (!rc)
                rc = ab_buf_appendf(out, "  alerts     %llu\n",
                                    (unsigned long long)alerts_of(s));
        if (!rc)
                rc = ab_buf_append_str(out, "  events     ");
        if (!rc)
                rc = text_events(out, s->counts.events);
        if (!rc)
                rc = ab_buf_append_char(out, '\n');
        if (!rc)
                rc = put_rejections(s, TEXT, out);
        if (!rc && cmp) {
                rc = ab_buf_appendf(out, "  old (%s)  events ",
                                    s->compare_integration);
                if (!rc)
                        rc = text_events(out, s->compare_counts.events);
                if (!rc)
                        rc = ab_buf_appendf(
                            out, "; %llu rejected\n",
                            (unsigned long long)s->compare_counts.rejections);
        }
        if (!rc)
                rc = put_lifecycle(s, TEXT, out);
        if (!rc)
                rc = put_slowest(s, TEXT, out);
        if (!rc && s->output_topic)
                rc = ab_buf_appendf(out,
                                    "  output     %llu events to %s, %llu "
                                    "delivered, %llu failed\n",
                                    (unsigned long long)s->produced,
                                    s->output_topic,
                                    (unsigned long long)s->delivered,
                                    (unsigned long long)s->delivery_failed);
        if (!rc)
                rc = text_report(s, out);
        return rc;
}

ab_err_t ab_replay_summary_diff(const struct ab_replay_summary *s,
                                struct ab_buf *out)
{
        char old_name[300], new_name[300];

        if (!s->diff)
                return AB_OK;
        if (s->expect_path) {
                snprintf(old_name, sizeof(old_name), "expected (%s)",
                         s->expect_path);
                snprintf(new_name, sizeof(new_name), "replay");
        } else {
                snprintf(old_name, sizeof(old_name), "old (%s)",
                         s->compare_integration);
                snprintf(new_name, sizeof(new_name), "new (%s)",
                         s->integration);
        }
        return ab_replay_diff_render(s->diff, old_name, new_name, out);
}

/* ---------------------------------------------------------------- JSON */

static ab_err_t json_key_str(struct ab_buf *out, const char *key,
                             const char *val)
{
        ab_err_t rc = ab_buf_appendf(out, "\"%s\":", key);

        if (rc)
                return rc;
        return val ? ab_buf_append_json_str(out, val, strlen(val))
                   : ab_buf_append_str(out, "null");
}

static ab_err_t json_events(struct ab_buf *out, const uint64_t *events)
{
        uint64_t total = 0;
        ab_err_t rc    = ab_buf_append_char(out, '{');

        for (int t = 0; !rc && t < AB_EVENT__COUNT; t++) {
                total += events[t];
                rc = ab_buf_appendf(out, "\"%s\":%llu,",
                                    ab_event_type_short((enum ab_event_type)t),
                                    (unsigned long long)events[t]);
        }
        return rc ? rc
                  : ab_buf_appendf(out, "\"total\":%llu}",
                                   (unsigned long long)total);
}

static ab_err_t json_dedup(const struct ab_replay_summary *s,
                           struct ab_buf *out)
{
        struct ab_buf text;
        ab_err_t rc;

        if (!s->report)
                return ab_buf_append_str(out, "\"dedup_report\":null");
        ab_buf_init(&text, 0);
        rc = ab_lifecycle_report_render(s->report, &text);
        if (!rc)
                rc = ab_buf_appendf(out,
                                    "\"dedup_report\":{\"inputs\":\"%s\","
                                    "\"fingerprints_followed\":%zu,"
                                    "\"limit\":%zu,",
                                    s->inputs_are_offsets ? "offsets"
                                                          : "records",
                                    s->followed, s->follow_limit);
        if (!rc)
                rc = json_key_str(out, "text", text.len ? text.data : "");
        ab_buf_fini(&text);
        return rc ? rc : ab_buf_append_char(out, '}');
}

static ab_err_t json_outputs(const struct ab_replay_summary *s,
                             struct ab_buf *out)
{
        ab_err_t rc = AB_OK;

        if (s->output_topic)
                rc = ab_buf_appendf(out,
                                    ",\"output_topic\":{\"produced\":%llu,"
                                    "\"delivered\":%llu,\"failed\":%llu}",
                                    (unsigned long long)s->produced,
                                    (unsigned long long)s->delivered,
                                    (unsigned long long)s->delivery_failed);
        if (!rc && s->compare_integration) {
                rc = ab_buf_append_str(out, ",\"compare_events\":");
                if (!rc)
                        rc = json_events(out, s->compare_counts.events);
                if (!rc)
                        rc = ab_buf_appendf(
                            out, ",\"compare_rejections\":%llu",
                            (unsigned long long)s->compare_counts.rejections);
        }
        if (!rc && s->diff) {
                rc = ab_buf_appendf(out, ",\"diff\":{\"mode\":\"%s\",",
                                    s->expect_path ? "expect" : "compare");
                if (!rc)
                        rc = ab_buf_append_str(out, "\"result\":");
                if (!rc)
                        rc = ab_replay_diff_json(s->diff, out);
                if (!rc)
                        rc = ab_buf_append_char(out, '}');
        }
        return rc;
}

ab_err_t ab_replay_summary_json(const struct ab_replay_summary *s,
                                struct ab_buf *out)
{
        ab_err_t rc;

        rc = ab_buf_append_char(out, '{');
        if (!rc)
                rc = json_key_str(out, "topic", s->topic);
        if (!rc)
                rc = ab_buf_append_char(out, ',');
        if (!rc)
                rc = json_key_str(out, "integration", s->integration);
        if (!rc)
                rc = ab_buf_append_char(out, ',');
        if (!rc)
                rc = json_key_str(out, "compare_integration",
                                  s->compare_integration);
        if (!rc)
                rc = ab_buf_appendf(out, ",\"complete\":%s,",
                                    s->complete ? "true" : "false");
        if (!rc)
                rc = put_partitions(s, JSON, out);
        if (!rc)
                rc = ab_buf_appendf(out,
                                    ",\"records\":%llu,\"alerts\":%llu,"
                                    "\"elapsed_ms\":%lld,\"events\":",
                                    (unsigned long long)s->records,
                                    (unsigned long long)alerts_of(s),
                                    (long long)(s->elapsed_ns / 1000000));
        if (!rc)
                rc = json_events(out, s->counts.events);
        if (!rc)
                rc = ab_buf_append_char(out, ',');
        if (!rc)
                rc = put_rejections(s, JSON, out);
        if (!rc)
                rc = ab_buf_append_char(out, ',');
        if (!rc)
                rc = put_lifecycle(s, JSON, out);
        if (!rc)
                rc = ab_buf_append_char(out, ',');
        if (!rc)
                rc = put_slowest(s, JSON, out);
        if (!rc)
                rc = ab_buf_append_char(out, ',');
        if (!rc)
                rc = json_dedup(s, out);
        if (!rc)
                rc = json_outputs(s, out);
        return rc ? rc : ab_buf_append_str(out, "}\n");
}
