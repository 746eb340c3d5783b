/* restore.h - reads one partition from its beginning to its end as of the
 * start, to rebuild state from a changelog. */
#ifndef AB_RESTORE_H
#define AB_RESTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/str.h"

/*
 * An assign-only consumer (librdkafka's simple consumer: no group,
 * nothing committed). One partition at a time is read from its low
 * watermark to its end offset, taken when the restore starts: the high
 * watermark. With read_committed, records of aborted transactions are
 * never handed out, transaction markers count as read, and a transaction
 * still open below the end (a previous owner's) holds the restore until
 * it commits or aborts (or the timeout). Records written after the start
 * are not handed out. Gaps left by compaction are skipped. One handle
 * restores any number of partitions in a row. Not thread-safe.
 */
struct ab_restore;

struct ab_restore_conf {
        const char *brokers;   /* bootstrap.servers; required */
        const char *client_id; /* NULL = "alertbridge-restore" */
        /* librdkafka properties (SASL, SSL, ...) as a NULL-terminated list
         * of name, value pairs; NULL = none. group.id is refused. */
        const char *const *properties;
        /* isolation.level=read_committed (exactly_once state) instead of
         * read_uncommitted. */
        bool read_committed;
        /* A restore that makes no progress for this long fails; 0 = 30 s. */
        int timeout_ms;
};

/**
 * One record: \p value.ptr NULL is a tombstone (the key was deleted).
 * Key and value are borrowed for the call. A non-zero return stops the
 * restore with that error.
 */
typedef ab_err_t (*ab_restore_fn)(void *arg, struct ab_str key,
                                  struct ab_str value, int64_t offset,
                                  struct ab_error *err);

/** @returns AB_OK with \p *out set, or AB_ERR_CONFIG / AB_ERR_KAFKA /
 *           AB_ERR_NOMEM with \p err filled. */
ab_err_t ab_restore_new(const struct ab_restore_conf *conf,
                        struct ab_restore **out, struct ab_error *err);

/**
 * Hand every record of \p topic / \p partition up to the end offset (as
 * of now) to \p fn, in offset order; \p *records (may be NULL) counts
 * them. An empty partition calls nothing.
 * @returns AB_OK once the end is reached; \p fn's error; AB_ERR_RETRY
 *          when the partition's offsets cannot be read or the reading made
 *          no progress within the timeout (try again later);
 *          AB_ERR_NOT_FOUND when the partition does not exist.
 */
ab_err_t ab_restore_partition(struct ab_restore *r, const char *topic,
                              int32_t partition, ab_restore_fn fn, void *arg,
                              int64_t *records, struct ab_error *err);

/** Free the reader. NULL-safe. */
void ab_restore_destroy(struct ab_restore *r);

#endif
