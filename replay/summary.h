/* summary.h - a replay's summary: statistics gathered while it runs, built
 * once into one struct and rendered as text or as JSON. */
#ifndef AB_REPLAY_SUMMARY_H
#define AB_REPLAY_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "lifecycle/lifecycle.h"
#include "lifecycle/report.h"
#include "replay/diff.h"
#include "replay/source.h"
#include "transform/event.h"

/*
 * A replay (replay.h) counts as it goes into the structs below, then
 * ab_replay_summarize() builds one struct ab_replay_summary from its
 * state; the text summary, the JSON summary (docs/replay.md) and the
 * comparison report are each rendered from that struct alone.
 */

#define AB_REPLAY_FIRST_KEEP 5 /* first positions kept per rejection code */
#define AB_REPLAY_SLOW_KEEP  5 /* slowest records kept */

/* The events and rejections of one integration's replay. */
struct ab_replay_counts {
        uint64_t events[AB_EVENT__COUNT];
        uint64_t rejections;
};

/* The rejections of one error code: how many, where the first ones were,
 * and the first one's message. */
struct ab_replay_rejections {
        uint64_t count;
        size_t nfirst;
        struct {
                int32_t partition;
                int64_t offset;
        } first[AB_REPLAY_FIRST_KEEP];
        char example[240];
};

/* One of the slowest records. */
struct ab_replay_slow {
        int32_t partition;
        int64_t offset;
        int64_t ns;
};

/* What the integration under test did, record by record (zero it). */
struct ab_replay_stats {
        struct ab_replay_rejections by_code[AB_ERR__COUNT];
        struct ab_replay_slow slow[AB_REPLAY_SLOW_KEEP]; /* slowest first */
        size_t nslow;
};

/** Count rejection \p e of the record at \p pos. */
void ab_replay_stats_reject(struct ab_replay_stats *st,
                            const struct ab_replay_pos *pos,
                            const struct ab_error *e);

/** Note that the record at \p pos took \p ns to process. */
void ab_replay_stats_time(struct ab_replay_stats *st,
                          const struct ab_replay_pos *pos, int64_t ns);

/*
 * Everything a summary shows. Pointers are borrowed from the replay and
 * valid as long as it is (and until it runs again).
 */
struct ab_replay_summary {
        const char *topic;
        const char *integration;
        const char *compare_integration; /* NULL without --compare */
        bool complete;
        const struct ab_replay_partition *partitions;
        size_t npartitions;
        uint64_t records;
        int64_t elapsed_ns;
        struct ab_replay_counts counts;
        struct ab_replay_counts compare_counts; /* --compare only */
        const struct ab_replay_stats *stats;
        struct ab_lifecycle_stats lifecycle;
        size_t open_at_end;
        /* The dedup report; NULL when off. */
        const struct ab_lifecycle_report *report;
        bool inputs_are_offsets; /* else record numbers in replay order */
        size_t followed;         /* fingerprints the report follows */
        size_t follow_limit;
        /* The output topic; NULL when none. */
        const char *output_topic;
        uint64_t produced, delivered, delivery_failed;
        /* The comparison; NULL without --expect or --compare. */
        const struct ab_replay_diff *diff;
        const char *expect_path; /* --expect, or NULL for --compare */
};

/** Append the human-readable summary (and the dedup report). */
ab_err_t ab_replay_summary_text(const struct ab_replay_summary *s,
                                struct ab_buf *out);

/** Append the summary as one JSON object and a newline (docs/replay.md). */
ab_err_t ab_replay_summary_json(const struct ab_replay_summary *s,
                                struct ab_buf *out);

/** Append the comparison report; nothing without --expect / --compare. */
ab_err_t ab_replay_summary_diff(const struct ab_replay_summary *s,
                                struct ab_buf *out);

#endif
