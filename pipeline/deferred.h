/* deferred.h - sends held back in order, in one reusable buffer, and
 * replayed later (the exactly_once loop's sends while a commit is in
 * flight, pipeline/txn.c). */
#ifndef AB_DEFERRED_H
#define AB_DEFERRED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/str.h"
#include "producer/headers.h"

/*
 * Everything a send needs is copied in: topic, partition, key, value
 * (a NULL ptr, e.g. a tombstone, stays NULL, distinct from empty), the
 * headers in order (null values kept) and the caller's kind. The copies
 * live back to back in one buffer that keeps its capacity, so holding
 * and replaying stop allocating once it has grown to a cycle's worth.
 * Bounded by bytes (the copies' size) and by count: a send beyond either
 * is refused, never held half.
 */
struct ab_deferred {
        struct ab_buf data;
        size_t at;    /* bytes of data replayed already */
        size_t count; /* sends held, not replayed yet */
        size_t max_bytes, max_count;
        struct ab_headers *headers; /* one send's headers, at replay */
        bool replaying;
};

/** One send, borrowed for the call. */
struct ab_deferred_send {
        const char *topic;
        int32_t partition;
        struct ab_str key, value;
        const struct ab_headers *headers; /* NULL: none */
        int kind;
};

/** Replays one send (borrowed for the call). Anything but AB_OK stops
 *  the replay at this send. */
typedef ab_err_t (*ab_deferred_fn)(void *arg, const struct ab_deferred_send *s);

/** Empty, holding at most \p max_bytes of copies and \p max_count sends.
 *  @returns AB_OK or AB_ERR_NOMEM. */
ab_err_t ab_deferred_init(struct ab_deferred *d, size_t max_bytes,
                          size_t max_count);
/** Free it. NULL-safe, idempotent after init. */
void ab_deferred_fini(struct ab_deferred *d);

/** The bytes \p s takes when held (what the bound counts). */
size_t ab_deferred_size(const struct ab_deferred_send *s);

/** Hold a copy of \p s after the others. @returns AB_OK; AB_ERR_TOO_LARGE
 *  when it would pass a bound (nothing held); AB_ERR_NOMEM;
 *  AB_ERR_INTERNAL when called from a replay's callback. */
ab_err_t ab_deferred_add(struct ab_deferred *d,
                         const struct ab_deferred_send *s);

/** @returns the sends held and not replayed yet. */
size_t ab_deferred_count(const struct ab_deferred *d);

/**
 * Hand every held send to \p fn, oldest first. When \p fn fails the sends
 * from that one on stay held (a later replay starts there) and its error
 * is returned; when all went, the buffer is emptied (capacity kept).
 */
ab_err_t ab_deferred_replay(struct ab_deferred *d, ab_deferred_fn fn,
                            void *arg);

/** Drop every held send (capacity kept). */
void ab_deferred_reset(struct ab_deferred *d);

#endif
