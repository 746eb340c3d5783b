/* offsets.c - per-partition rings of in-flight records, committable prefix. */
#include "consumer/offsets.h"

#include <stdbool.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"

/*
 * HOW IT WORKS
 * Each partition owns a ring of `window` entries (a power of two), filled
 * in consumption order. Records get consecutive sequence numbers; record
 * `seq` lives in slot `seq & mask`. `head` is the sequence number of the
 * oldest unfinished record, `tail` the next one to register, so the ring
 * holds tail - head <= window records and registering is a slot write.
 *
 * An entry counts references. Completing a record (its count drops to 0)
 * away from the head only leaves a 0 in its slot. Completing the head
 * record walks the head forward over every finished slot: the committable
 * offset becomes the offset after the last slot passed, and the partition
 * is queued on the dirty list for the next drain. Each slot is passed once,
 * so the walk costs O(1) per record amortized.
 *
 * Entry pointers are the tickets handed out. They stay valid because a
 * ring never moves and a slot is only reused after the head passed it,
 * which needs its count at 0, after which nobody may use it.
 *
 * Revoking a partition with unfinished records detaches its ring: the ring
 * stays alive (on the detached list) so outstanding tickets can still be
 * released, but it no longer names a partition, and it is freed when its
 * last record completes. The partition starts again with a new ring.
 *
 * Partitions are found through an open-addressing hash table keyed by
 * topic and partition number (plus a one-entry cache, since consecutive
 * records usually share a partition). Partition records are never removed,
 * so the table needs no tombstones; it holds one record per partition ever
 * assigned to this consumer.
 */

struct ring;

struct ab_offsets_entry {
        int64_t offset;
        uint32_t refs;
        struct ring *ring;
        int64_t received_ns, timestamp_ms; /* the caller's, for latency */
};

struct part {
        char *topic;
        int32_t partition;
        uint32_t hash;
        struct ring *ring;   /* live ring; NULL until the first record */
        int64_t committable; /* next offset to commit, -1 = none yet */
        bool dirty;          /* committable moved since the last drain */
        bool queued;         /* on the tracker's dirty list */
        struct part *next_dirty;
};

struct ring {
        struct ab_offsets *t;
        struct part *part;        /* NULL once detached */
        struct ring *prev, *next; /* the detached list */
        uint64_t head, tail;      /* sequence numbers */
        int64_t last_offset;      /* of the newest registered record */
        struct ab_offsets_entry slots[];
};

struct ab_offsets {
        uint32_t window; /* power of two */
        struct part **table;
        size_t cap; /* power of two */
        size_t count;
        struct part *last;     /* lookup cache */
        struct part *dirty;    /* parts to report at the next drain */
        struct ring *detached; /* revoked rings with unfinished records */
        size_t pending;
};

static uint32_t part_hash(const char *topic, int32_t partition)
{
        uint32_t h = 2166136261u;

        for (const unsigned char *p = (const unsigned char *)topic; *p; p++)
                h = (h ^ *p) * 16777619u;
        h ^= (uint32_t)partition * 2654435761u;
        return h ^ (h >> 16);
}

struct ab_offsets *ab_offsets_new(uint32_t window)
{
        struct ab_offsets *t = ab_calloc(1, sizeof(*t));

        if (!t)
                return NULL;
        t->window = 1;
        while (t->window < window && t->window < (1u << 30))
                t->window <<= 1;
        t->cap   = 16;
        t->table = ab_calloc(t->cap, sizeof(*t->table));
        if (!t->table) {
                ab_free(t);
                return NULL;
        }
        return t;
}

void ab_offsets_destroy(struct ab_offsets *t)
{
        if (!t)
                return;
        for (size_t i = 0; i < t->cap; i++) {
                struct part *p = t->table[i];

                if (!p)
                        continue;
                ab_free(p->ring);
                ab_free(p->topic);
                ab_free(p);
        }
        while (t->detached) {
                struct ring *r = t->detached;

                t->detached = r->next;
                ab_free(r);
        }
        ab_free(t->table);
        ab_free(t);
}

static struct part *part_find(const struct ab_offsets *t, const char *topic,
                              int32_t partition, uint32_t hash)
{
        size_t mask = t->cap - 1;

        for (size_t i = hash & mask;; i = (i + 1) & mask) {
                struct part *p = t->table[i];

                if (!p)
                        return NULL;
                if (p->hash == hash && p->partition == partition &&
                    !strcmp(p->topic, topic))
                        return p;
        }
}

static void table_put(struct part **table, size_t cap, struct part *p)
{
        size_t i = p->hash & (cap - 1);

        while (table[i])
                i = (i + 1) & (cap - 1);
        table[i] = p;
}

static ab_err_t table_grow(struct ab_offsets *t)
{
        size_t cap          = t->cap * 2;
        struct part **table = ab_calloc(cap, sizeof(*table));

        if (!table)
                return AB_ERR_NOMEM;
        for (size_t i = 0; i < t->cap; i++)
                if (t->table[i])
                        table_put(table, cap, t->table[i]);
        ab_free(t->table);
        t->table = table;
        t->cap   = cap;
        return AB_OK;
}

static struct part *part_get(struct ab_offsets *t, const char *topic,
                             int32_t partition)
{
        uint32_t hash;
        struct part *p;

        if (t->last && t->last->partition == partition &&
            !strcmp(t->last->topic, topic))
                return t->last;
        hash = part_hash(topic, partition);
        p    = part_find(t, topic, partition, hash);
        if (p)
                return t->last = p;
        if ((t->count + 1) * 2 > t->cap && table_grow(t) != AB_OK)
                return NULL;
        p = ab_calloc(1, sizeof(*p));
        if (!p)
                return NULL;
        p->topic = ab_strdup(topic);
        if (!p->topic) {
                ab_free(p);
                return NULL;
        }
        p->partition   = partition;
        p->hash        = hash;
        p->committable = -1;
        table_put(t->table, t->cap, p);
        t->count++;
        return t->last = p;
}

static struct ring *ring_new(struct ab_offsets *t, struct part *p)
{
        struct ring *r =
            ab_malloc(sizeof(*r) + t->window * sizeof(struct ab_offsets_entry));

        if (!r)
                return NULL;
        r->t           = t;
        r->part        = p;
        r->prev        = NULL;
        r->next        = NULL;
        r->head        = 0;
        r->tail        = 0;
        r->last_offset = -1;
        return r;
}

/* Detach the ring of \p p (revocation): keep it while records are in
 * flight, reuse it when it is empty. Resets the committable offset. */
static void part_reset(struct ab_offsets *t, struct part *p)
{
        struct ring *r = p->ring;

        p->committable = -1;
        p->dirty       = false;
        if (!r)
                return;
        if (r->head == r->tail) {
                r->last_offset = -1;
                return;
        }
        r->part = NULL;
        r->prev = NULL;
        r->next = t->detached;
        if (t->detached)
                t->detached->prev = r;
        t->detached = r;
        p->ring     = NULL;
}

ab_err_t ab_offsets_register(struct ab_offsets *t, const char *topic,
                             int32_t partition, int64_t offset,
                             struct ab_offsets_entry **out,
                             struct ab_error *err)
{
        struct part *p = part_get(t, topic, partition);
        struct ab_offsets_entry *e;
        struct ring *r;

        *out = NULL;
        if (!p)
                return ab_error_set(err, AB_ERR_NOMEM, NULL,
                                    "offset tracker: out of memory");
        r = p->ring;
        if (r && r->head != r->tail && offset <= r->last_offset) {
                AB_WARN("offsets", "consumer went back, restarting partition",
                        "topic=%s partition=%d offset=%lld previous=%lld",
                        topic, (int)partition, (long long)offset,
                        (long long)r->last_offset);
                part_reset(t, p);
                r = NULL;
        }
        if (!r) {
                r = ring_new(t, p);
                if (!r)
                        return ab_error_set(err, AB_ERR_NOMEM, NULL,
                                            "offset tracker: out of memory");
                p->ring = r;
        }
        if (r->tail - r->head >= t->window)
                return ab_error_set(err, AB_ERR_RETRY, NULL,
                                    "%s [%d]: %u records in flight", topic,
                                    (int)partition, t->window);
        e               = &r->slots[r->tail & (t->window - 1)];
        e->offset       = offset;
        e->refs         = 1;
        e->ring         = r;
        e->received_ns  = 0;
        e->timestamp_ms = 0;
        r->tail++;
        r->last_offset = offset;
        t->pending++;
        *out = e;
        return AB_OK;
}

void ab_offsets_hold(struct ab_offsets_entry *e)
{
        e->refs++;
}

int64_t ab_offsets_entry_offset(const struct ab_offsets_entry *e)
{
        return e->offset;
}

void ab_offsets_entry_set_times(struct ab_offsets_entry *e, int64_t received_ns,
                                int64_t timestamp_ms)
{
        e->received_ns  = received_ns;
        e->timestamp_ms = timestamp_ms;
}

void ab_offsets_entry_times(const struct ab_offsets_entry *e,
                            int64_t *received_ns, int64_t *timestamp_ms)
{
        *received_ns  = e->received_ns;
        *timestamp_ms = e->timestamp_ms;
}

static void ring_unlink(struct ab_offsets *t, struct ring *r)
{
        if (r->prev)
                r->prev->next = r->next;
        else
                t->detached = r->next;
        if (r->next)
                r->next->prev = r->prev;
}

bool ab_offsets_release(struct ab_offsets_entry *e)
{
        struct ring *r       = e->ring;
        struct ab_offsets *t = r->t;
        uint32_t mask        = t->window - 1;
        int64_t last         = -1;
        struct part *p;

        if (--e->refs)
                return false;
        t->pending--;
        if (e != &r->slots[r->head & mask])
                return true;
        while (r->head != r->tail && r->slots[r->head & mask].refs == 0) {
                last = r->slots[r->head & mask].offset;
                r->head++;
        }
        p = r->part;
        if (!p) {
                if (r->head == r->tail) {
                        ring_unlink(t, r);
                        ab_free(r);
                }
                return true;
        }
        p->committable = last + 1;
        p->dirty       = true;
        if (!p->queued) {
                p->queued     = true;
                p->next_dirty = t->dirty;
                t->dirty      = p;
        }
        return true;
}

size_t ab_offsets_drain(struct ab_offsets *t, ab_offsets_fn fn, void *arg)
{
        size_t n = 0;

        while (t->dirty) {
                struct part *p = t->dirty;

                t->dirty      = p->next_dirty;
                p->next_dirty = NULL;
                p->queued     = false;
                if (!p->dirty)
                        continue;
                p->dirty = false;
                fn(arg, p->topic, p->partition, p->committable);
                n++;
        }
        return n;
}

int64_t ab_offsets_committable(const struct ab_offsets *t, const char *topic,
                               int32_t partition)
{
        const struct part *p =
            part_find(t, topic, partition, part_hash(topic, partition));

        return p ? p->committable : -1;
}

void ab_offsets_revoke(struct ab_offsets *t, const char *topic,
                       int32_t partition)
{
        struct part *p =
            part_find(t, topic, partition, part_hash(topic, partition));

        if (p)
                part_reset(t, p);
}

size_t ab_offsets_pending(const struct ab_offsets *t)
{
        return t->pending;
}
