/* transform_pool.h - worker threads that decode, map and fingerprint input
 * records ahead of the thread that applies them in order. */
#ifndef AB_TRANSFORM_POOL_H
#define AB_TRANSFORM_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "pipeline/processor.h"

/*
 * The pool is a ring of slots owned by one thread, the owner (the
 * pipeline's consumer thread). The owner reserves the next free slot,
 * fills its input, binds its job (ab_processor_bind) and submits it; the
 * workers run ab_processor_prepare() on submitted slots in any order and
 * in parallel; the owner takes the oldest slot back once it is prepared,
 * finishes it (ab_processor_finish) and pops it. Slots therefore leave
 * the pool in the order they entered, and the lifecycle sees records in
 * input order whatever the number of workers.
 *
 * With 0 threads, submitting prepares the slot on the owner's thread: the
 * same calls, no threads.
 *
 * Every call is for the owner's thread only.
 */
struct ab_transform_pool;

struct ab_transform_pool_slot {
        struct ab_input in;           /* filled by the owner before submit */
        struct ab_processor_job *job; /* the pool's; bound by the owner */
        void *record;                 /* the owner's, travels with the slot */
        void *entry;                  /* the owner's, travels with the slot */
};

/**
 * Start \p threads workers (0: prepare inline) over a ring of at least
 * \p slots slots (rounded up to a power of two).
 * @returns AB_OK with \p *out set, AB_ERR_NOMEM, or AB_ERR_INTERNAL if a
 *          thread could not be started.
 */
ab_err_t ab_transform_pool_new(unsigned threads, size_t slots,
                               struct ab_transform_pool **out,
                               struct ab_error *err);

/** Stop and join the workers. The owner must have popped every slot
 * (the pool does not know what the owner's pointers are). NULL-safe. */
void ab_transform_pool_destroy(struct ab_transform_pool *tp);

/** The next free slot, or NULL when all are in use. Until it is
 * submitted, reserving again returns the same slot. */
struct ab_transform_pool_slot *
ab_transform_pool_reserve(struct ab_transform_pool *tp);

/** Hand the reserved slot to the workers. They see it at the next
 * ab_transform_pool_kick() (or when the owner waits for it), so a burst
 * of submissions wakes them once. */
void ab_transform_pool_submit(struct ab_transform_pool *tp);

/** Let the workers see every submitted slot. */
void ab_transform_pool_kick(struct ab_transform_pool *tp);

/**
 * The oldest submitted slot once it is prepared; waits up to \p wait_ms
 * for it (-1: as long as it takes). NULL when no slot is submitted or the
 * wait ran out.
 */
struct ab_transform_pool_slot *
ab_transform_pool_oldest(struct ab_transform_pool *tp, int wait_ms);

/** Free the oldest slot (the one ab_transform_pool_oldest() returned). */
void ab_transform_pool_pop(struct ab_transform_pool *tp);

/** Finishes one prepared slot for ab_transform_pool_finish(), which pops
 *  it afterwards whatever this returns. */
typedef ab_err_t (*ab_transform_pool_finish_fn)(
    void *arg, struct ab_transform_pool_slot *s);

/**
 * Finish slots in submission order while they are prepared: kick, then
 * hand each oldest slot to \p fn and pop it. Waits up to \p wait_ms for
 * the first one only (-1: until every submitted slot is finished).
 * @returns AB_OK, or the first error of \p fn (the rest stay pending).
 */
ab_err_t ab_transform_pool_finish(struct ab_transform_pool *tp, int wait_ms,
                                  ab_transform_pool_finish_fn fn, void *arg);

/** Pop every submitted slot unfinished, after \p drop (may be NULL) has
 *  seen each one's record. */
void ab_transform_pool_discard(struct ab_transform_pool *tp,
                               void (*drop)(void *record));

/** Submitted slots not popped yet. */
size_t ab_transform_pool_pending(const struct ab_transform_pool *tp);

/** Whether every slot is submitted (nothing can be reserved). */
bool ab_transform_pool_full(const struct ab_transform_pool *tp);

#endif
