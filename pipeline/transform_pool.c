/* transform_pool.c - worker threads that decode, map and fingerprint input
 * records ahead of the thread that applies them in order. */
#include "pipeline/transform_pool.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"

/*
 * HOW IT WORKS
 *
 * Slots form a ring indexed by ever-growing counters (slot i lives at
 * i & mask):
 *
 *   head <= claim <= published <= tail <= head + size
 *
 * [head, tail) are submitted and not popped yet, [claim, published) wait
 * for a worker, [published, tail) are submitted but not yet shown to the
 * workers (kick shows them, once per burst instead of once per record).
 * head and tail belong to the owner; claim and published are guarded by
 * the mutex. A worker takes slot `claim`, prepares it without the lock and
 * then sets the slot's `done` flag (release); the owner reads results
 * only after seeing `done` (acquire) on the oldest slot, so it never
 * reads a slot a worker is still writing, and never hands a slot back to
 * the workers before it was popped.
 *
 * Wake-ups cost a system call and a context switch, so they are rare:
 * workers are woken only by a kick that publishes new slots while some
 * sleep, and the owner only when the slot it sleeps for is done. When the
 * oldest slot is not ready, the owner sleeps for a slot up to
 * AB_POOL_WAKE_BATCH - 1 further on (workers take slots in order), so a
 * pool whose workers are the bottleneck wakes its owner once per batch
 * instead of once per record. The owner announces the slot in
 * `owner_wait` before it checks `done` a last time, and a worker sets
 * `done` before it reads `owner_wait` (both sequentially consistent), so
 * at least one of them sees the other and no wake-up is lost.
 */

#define AB_POOL_WAKE_BATCH 32

struct slot {
        struct ab_transform_pool_slot pub;
        int done; /* atomic: prepared */
};

struct ab_transform_pool {
        struct slot *slots;
        size_t mask;
        size_t head; /* owner */
        size_t tail; /* owner: the next slot to submit */
        /* Guarded by mu. */
        pthread_mutex_t mu;
        pthread_cond_t work_cv; /* workers wait for slots */
        pthread_cond_t done_cv; /* the owner waits for the oldest slot */
        size_t claim;
        size_t published;
        unsigned sleeping;
        int stop;
        size_t owner_wait; /* atomic: 1 + the slot the owner sleeps for,
                              0 when it does not sleep */
        pthread_t *threads;
        unsigned nthreads; /* started */
};

static void prepare(struct slot *s)
{
        ab_processor_prepare(s->pub.job, &s->pub.in);
        __atomic_store_n(&s->done, 1, __ATOMIC_SEQ_CST);
}

static void *worker(void *arg)
{
        struct ab_transform_pool *tp = arg;

        pthread_mutex_lock(&tp->mu);
        for (;;) {
                struct slot *s;
                size_t i, wait;

                while (!tp->stop && tp->claim == tp->published) {
                        tp->sleeping++;
                        pthread_cond_wait(&tp->work_cv, &tp->mu);
                        tp->sleeping--;
                }
                if (tp->claim == tp->published)
                        break; /* stopping, and nothing left */
                i = tp->claim++;
                s = &tp->slots[i & tp->mask];
                pthread_mutex_unlock(&tp->mu);
                prepare(s);
                wait = __atomic_load_n(&tp->owner_wait, __ATOMIC_SEQ_CST);
                if (wait && i + 1 >= wait) {
                        pthread_mutex_lock(&tp->mu);
                        pthread_cond_signal(&tp->done_cv);
                        pthread_mutex_unlock(&tp->mu);
                }
                pthread_mutex_lock(&tp->mu);
        }
        pthread_mutex_unlock(&tp->mu);
        return NULL;
}

ab_err_t ab_transform_pool_new(unsigned threads, size_t slots,
                               struct ab_transform_pool **out,
                               struct ab_error *err)
{
        struct ab_transform_pool *tp;
        size_t size = 2;
        int prc;

        *out = NULL;
        while (size < slots)
                size *= 2;
        tp = ab_calloc(1, sizeof(*tp));
        if (!tp)
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        pthread_mutex_init(&tp->mu, NULL);
        pthread_cond_init(&tp->work_cv, NULL);
        pthread_cond_init(&tp->done_cv, NULL);
        tp->mask  = size - 1;
        tp->slots = ab_calloc(size, sizeof(*tp->slots));
        if (threads)
                tp->threads = ab_calloc(threads, sizeof(*tp->threads));
        if (!tp->slots || (threads && !tp->threads))
                goto nomem;
        for (size_t i = 0; i < size; i++) {
                tp->slots[i].pub.job = ab_processor_job_new();
                if (!tp->slots[i].pub.job)
                        goto nomem;
        }
        for (unsigned i = 0; i < threads; i++) {
                prc = pthread_create(&tp->threads[i], NULL, worker, tp);
                if (prc) {
                        ab_transform_pool_destroy(tp);
                        return ab_error_set(err, AB_ERR_INTERNAL, NULL,
                                            "starting transform thread %u: %s",
                                            i + 1, strerror(prc));
                }
                tp->nthreads++;
        }
        *out = tp;
        return AB_OK;
nomem:
        ab_transform_pool_destroy(tp);
        return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
}

void ab_transform_pool_destroy(struct ab_transform_pool *tp)
{
        if (!tp)
                return;
        pthread_mutex_lock(&tp->mu);
        tp->stop = 1;
        pthread_cond_broadcast(&tp->work_cv);
        pthread_mutex_unlock(&tp->mu);
        for (unsigned i = 0; i < tp->nthreads; i++)
                pthread_join(tp->threads[i], NULL);
        for (size_t i = 0; tp->slots && i <= tp->mask; i++)
                ab_processor_job_destroy(tp->slots[i].pub.job);
        pthread_cond_destroy(&tp->done_cv);
        pthread_cond_destroy(&tp->work_cv);
        pthread_mutex_destroy(&tp->mu);
        ab_free(tp->threads);
        ab_free(tp->slots);
        ab_free(tp);
}

struct ab_transform_pool_slot *
ab_transform_pool_reserve(struct ab_transform_pool *tp)
{
        if (ab_transform_pool_full(tp))
                return NULL;
        return &tp->slots[tp->tail & tp->mask].pub;
}

void ab_transform_pool_submit(struct ab_transform_pool *tp)
{
        struct slot *s = &tp->slots[tp->tail & tp->mask];

        tp->tail++;
        if (!tp->nthreads) {
                prepare(s);
                tp->published = tp->claim = tp->tail;
        }
}

void ab_transform_pool_kick(struct ab_transform_pool *tp)
{
        if (!tp->nthreads || tp->published == tp->tail)
                return;
        pthread_mutex_lock(&tp->mu);
        tp->published = tp->tail;
        if (tp->sleeping)
                pthread_cond_broadcast(&tp->work_cv);
        pthread_mutex_unlock(&tp->mu);
}

static void deadline_after(struct timespec *ts, int ms)
{
        clock_gettime(CLOCK_REALTIME, ts);
        ts->tv_sec += ms / 1000;
        ts->tv_nsec += (long)(ms % 1000) * 1000000;
        if (ts->tv_nsec >= 1000000000) {
                ts->tv_sec++;
                ts->tv_nsec -= 1000000000;
        }
}

struct ab_transform_pool_slot *
ab_transform_pool_oldest(struct ab_transform_pool *tp, int wait_ms)
{
        struct slot *s;
        struct timespec deadline;
        size_t target;
        int timed_out = 0;

        if (tp->head == tp->tail)
                return NULL;
        s = &tp->slots[tp->head & tp->mask];
        if (__atomic_load_n(&s->done, __ATOMIC_ACQUIRE))
                return &s->pub;
        if (!wait_ms)
                return NULL;
        ab_transform_pool_kick(tp); /* the oldest may not be published */
        if (wait_ms > 0)
                deadline_after(&deadline, wait_ms);
        target = tp->tail - tp->head < AB_POOL_WAKE_BATCH
                     ? tp->tail - 1
                     : tp->head + AB_POOL_WAKE_BATCH - 1;
        pthread_mutex_lock(&tp->mu);
        /* Sleep for the target, then for the oldest if a worker that took
         * it is still at work. */
        for (;;) {
                struct slot *t = &tp->slots[target & tp->mask];

                __atomic_store_n(&tp->owner_wait, target + 1, __ATOMIC_SEQ_CST);
                while (!__atomic_load_n(&t->done, __ATOMIC_SEQ_CST) &&
                       !timed_out) {
                        if (wait_ms < 0)
                                pthread_cond_wait(&tp->done_cv, &tp->mu);
                        else
                                timed_out = pthread_cond_timedwait(
                                                &tp->done_cv, &tp->mu,
                                                &deadline) == ETIMEDOUT;
                }
                if (timed_out || target == tp->head ||
                    __atomic_load_n(&s->done, __ATOMIC_SEQ_CST))
                        break;
                target = tp->head;
        }
        __atomic_store_n(&tp->owner_wait, 0, __ATOMIC_SEQ_CST);
        pthread_mutex_unlock(&tp->mu);
        return __atomic_load_n(&s->done, __ATOMIC_ACQUIRE) ? &s->pub : NULL;
}

void ab_transform_pool_pop(struct ab_transform_pool *tp)
{
        if (tp->head == tp->tail)
                return;
        /* No worker touches a popped slot: it is free for the owner. */
        __atomic_store_n(&tp->slots[tp->head & tp->mask].done, 0,
                         __ATOMIC_RELAXED);
        tp->head++;
}

ab_err_t ab_transform_pool_finish(struct ab_transform_pool *tp, int wait_ms,
                                  ab_transform_pool_finish_fn fn, void *arg)
{
        struct ab_transform_pool_slot *s;
        ab_err_t rc;

        ab_transform_pool_kick(tp);
        while ((s = ab_transform_pool_oldest(tp, wait_ms))) {
                rc = fn(arg, s);
                ab_transform_pool_pop(tp);
                if (rc)
                        return rc;
                if (wait_ms > 0)
                        wait_ms = 0;
        }
        return AB_OK;
}

void ab_transform_pool_discard(struct ab_transform_pool *tp,
                               void (*drop)(void *record))
{
        struct ab_transform_pool_slot *s;

        while ((s = ab_transform_pool_oldest(tp, -1))) {
                if (drop)
                        drop(s->record);
                ab_transform_pool_pop(tp);
        }
}

size_t ab_transform_pool_pending(const struct ab_transform_pool *tp)
{
        return tp->tail - tp->head;
}

bool ab_transform_pool_full(const struct ab_transform_pool *tp)
{
        return tp->tail - tp->head > tp->mask;
}
