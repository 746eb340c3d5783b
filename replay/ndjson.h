/* ndjson.h - the replay output format: one JSON line per output, written
 * by replays and read back as golden files. */
#ifndef AB_REPLAY_NDJSON_H
#define AB_REPLAY_NDJSON_H

#include <signal.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "replay/diff.h"

/*
 * Every output of every input record is one line, in replay order:
 *
 *   {"partition":0,"offset":17,"ts":1714564800000,"index":0,
 *    "key":"<fingerprint>","event":{...the CloudEvent...}}
 *   {"partition":0,"offset":18,"ts":1714564801000,"index":0,
 *    "error":{"code":"decode","message":"...","integration":"generic"}}
 *
 * partition/offset name the input record, ts is its order timestamp
 * (replay.h) and index the output's place among the record's outputs.
 * `event` is the CloudEvent exactly as the pipeline writes it; `error`
 * a record the pipeline would dead-letter: `code` (core/err.h), the
 * message, and optionally `path`, `byte` and the `integration` that
 * rejected it. (ts, partition, offset, index) increases from line to
 * line, which is what lets a golden file be compared while streaming.
 */

/** Append the body of a rejection (the `error` object) to \p out. */
ab_err_t ab_replay_rejection_write(struct ab_buf *out, const struct ab_error *e,
                                   const char *integration);

/** Append the line for \p it of the record at \p pos, with its newline. */
ab_err_t ab_replay_line_write(struct ab_buf *out,
                              const struct ab_replay_pos *pos,
                              const struct ab_replay_item *it);

/**
 * Parse one line (without its newline) with the reused tape \p doc.
 * \p it borrows from \p line: body is the source text of `event` or
 * `error`, type the event type or error code (-1 when unknown).
 * @returns AB_OK, or AB_ERR_DECODE with \p err saying what is wrong.
 */
ab_err_t ab_replay_line_parse(struct ab_json_doc *doc, const char *line,
                              size_t len, struct ab_replay_pos *pos,
                              struct ab_replay_item *it, struct ab_error *err);

/*
 * A golden file read record by record: the lines of one input record
 * form a group. Memory holds one group and one line of lookahead.
 */
struct ab_replay_golden;

/**
 * Open the file at \p path, which must be a regular file (lines of at most
 * 64 MiB). @returns AB_OK, or AB_ERR_CONFIG when it cannot be opened or
 * is a device, FIFO or directory.
 */
ab_err_t ab_replay_golden_open(const char *path, struct ab_replay_golden **out,
                               struct ab_error *err);

/** NULL-safe. */
void ab_replay_golden_destroy(struct ab_replay_golden *g);

/**
 * Watch \p stop (borrowed; NULL: never) while reading: once it is set,
 * peek and take return AB_ERR_RETRY ("interrupted") instead of reading on
 * through a large file.
 */
void ab_replay_golden_set_stop(struct ab_replay_golden *g,
                               volatile sig_atomic_t *stop);

/**
 * The position of the next group, in \p *pos, or NULL at the end of the
 * file (borrowed until the next call).
 * @returns AB_OK; AB_ERR_CONFIG for a line that does not parse or breaks
 *          the order ("FILE:LINE: ..."); AB_ERR_IO; AB_ERR_NOMEM;
 *          AB_ERR_RETRY when the stop flag is set.
 */
ab_err_t ab_replay_golden_peek(struct ab_replay_golden *g,
                               const struct ab_replay_pos **pos,
                               struct ab_error *err);

/**
 * Take the next group: its lines' items in \p *items (borrowed until the
 * next call) and their position in \p *pos. At the end, \p *n is 0.
 * Errors as for ab_replay_golden_peek().
 */
ab_err_t ab_replay_golden_take(struct ab_replay_golden *g,
                               const struct ab_replay_item **items, size_t *n,
                               struct ab_replay_pos *pos, struct ab_error *err);

#endif
