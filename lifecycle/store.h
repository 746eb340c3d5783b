/* store.h - the open alerts: records, their lookup tables by fingerprint
 * and by id, the auto_clear classes that order them, and the ring of
 * recent closes (internal to the lifecycle module). */
#ifndef AB_LC_STORE_H
#define AB_LC_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "lifecycle/arena.h"
#include "lifecycle/ident.h"

#define LC_CLOSED_RING 1024

enum lc_why {
        LC_WHY_RECOVERED = 1,
        LC_WHY_AUTO,
        LC_WHY_ACTION,
        LC_WHY_EVICTED,
        LC_WHY__MAX = LC_WHY_EVICTED,
};

struct lc_class;

/*
 * One open alert: 96 bytes, in its store's slab (no allocator header).
 * It is either in the run of its class or in its heap, so its link to the
 * previous alert of the run and its position in the heap share 4 bytes.
 * Its integration is a 16-bit index into the store's table of them, whose
 * entry also gives its class (ab_lc_class_of). Its id is not stored whole:
 * an alert id starts with its fingerprint's first LC_ROUTE_LEN bytes
 * (ident.h), so only the rest is kept (ab_lc_alert_id_get).
 */
struct lc_alert {
        unsigned char *blob; /* owned, in the store's arena: the latest
                                firing alert, then the claimer's name with
                                its NUL when claimed */
        int64_t start_ms;    /* startTime */
        int64_t first_ms;    /* earliest firing event time */
        int64_t last_ms;     /* latest firing event time */
        uint64_t count;      /* firing events, the opening one included */
        uint64_t touch;      /* when it took its place: orders equal last_ms */
        union {
                uint32_t prev; /* in the run: the alert before it (slab
                                  index, 0: none) */
                uint32_t hpos; /* in the heap (in_heap): its index there */
        };
        uint32_t next; /* in the run: the alert after it; in the slab's free
                          list: the next free record */
        uint32_t blob_len : 31; /* bytes of the alert in the blob */
        uint32_t claimed : 1;   /* the claimer's name follows them */
        uint32_t self;          /* index in the slab, 1-based (0: not in one) */
        uint32_t seq;           /* sequence number of the next event */
        unsigned char fp[LC_KEY_LEN];
        unsigned char id_tail[LC_KEY_LEN - LC_ROUTE_LEN]; /* id after route */
        uint16_t integ;  /* index in the store's integrations, 1-based (0:
                            none yet; ab_lc_alert_integ_set) */
        uint8_t spare;   /* bytes of the blob's block after the blob and the
                            claimer (blob.c) */
        uint8_t in_heap; /* in its class's heap (hpos), not its run */
};

/* Alerts sharing one auto_clear period; 0 never expires. Alerts are
 * named by their slab index (0: none). */
struct lc_class {
        int64_t auto_clear_ms;
        uint32_t head; /* the run, quietest first */
        uint32_t tail;
        uint32_t *heap; /* owned: min-heap of the other alerts */
        size_t nheap, capheap;
};

/* Open addressing, linear probing; slots hold the slab index (`self`) of
 * a record. Fingerprints and alert ids share their first LC_ROUTE_LEN
 * bytes, which are the hash, so one table finds an alert by either. */
struct lc_table {
        uint32_t *slot; /* owned; cap entries, 0 = free */
        size_t cap;     /* 0 or a power of two */
        size_t n;
};

/* Records in chunks of LC_SLAB_CHUNK that never move, found by index. */
#define LC_SLAB_SHIFT 8 /* 256 records, 28 KiB: little slack per store */
#define LC_SLAB_CHUNK ((size_t)1 << LC_SLAB_SHIFT)

struct lc_slab {
        struct lc_alert **chunk; /* owned chunks */
        size_t nchunk, capchunk;
        size_t top;    /* records handed out of the chunks so far */
        uint32_t free; /* records given back, chained by `next` */
};

/* An integration that open alerts of a store belong to. Entries no record
 * names any more are reused, so LC_INTEG_MAX bounds the integrations with
 * open alerts at one time, not those a long-lived store has seen. */
#define LC_INTEG_MAX UINT16_MAX

struct lc_integ {
        const struct ab_integration *integ; /* borrowed, outlives its alerts;
                                               NULL: a free entry */
        struct lc_class *cls;               /* the class of its auto_clear */
        uint32_t refs;                      /* records naming it */
};

struct lc_closed {
        unsigned char id[LC_KEY_LEN];
        unsigned char fp[LC_KEY_LEN];
        int64_t end_ms;
        uint8_t why; /* enum lc_why */
};

/* Everything a snapshot holds; restore builds a new one and swaps it in. */
struct lc_state {
        struct lc_slab slab;   /* every record of this state */
        struct lc_arena arena; /* every blob of this state */
        struct lc_table table; /* by fingerprint and by alert id */
        struct lc_class **cls; /* owned, sorted by auto_clear_ms */
        size_t ncls;
        struct lc_integ *integ; /* owned; records name entries by index */
        size_t ninteg, capinteg;
        struct lc_closed *closed; /* owned ring of LC_CLOSED_RING, or NULL */
        size_t nclosed;
        size_t closed_next; /* ring slot written next */
        size_t open;
        uint64_t touch; /* above every lc_alert.touch: the next one */
};

/** An empty store. */
void ab_lc_state_init(struct lc_state *st);

/** Free every alert and table of \p st and leave it empty. */
void ab_lc_state_fini(struct lc_state *st);

/** A new zeroed record in the slab of \p st (to add to \p st), or NULL. */
struct lc_alert *ab_lc_alert_new(struct lc_state *st);

/** Give back a record of \p st's slab that is not (or no longer) in its
 * tables, with what it owns; NULL-safe. */
void ab_lc_alert_free(struct lc_state *st, struct lc_alert *al);

/** The integration of \p al, a record of \p st, or NULL when it has none
 * yet. */
const struct ab_integration *ab_lc_alert_integ(const struct lc_state *st,
                                               const struct lc_alert *al);

/**
 * Make \p integ the integration of \p al, a record of \p st without one,
 * entering it (and the class of its auto_clear) in \p st when new.
 * @returns AB_ERR_NOMEM, or AB_ERR_TOO_LARGE when LC_INTEG_MAX
 *          integrations already have records in \p st; \p al unchanged.
 */
ab_err_t ab_lc_alert_integ_set(struct lc_state *st, struct lc_alert *al,
                               const struct ab_integration *integ);

/** Who claimed \p al, or NULL (blob.c). */
const char *ab_lc_handler(const struct lc_alert *al);

/** Record that \p name (\p len bytes, no NUL) claimed \p al (blob set,
 * in arena \p ar; blob.c). */
ab_err_t ab_lc_handler_set(struct lc_arena *ar, struct lc_alert *al,
                           const char *name, size_t len);

/** Give al's blob back to arena \p ar (NULL-safe; blob.c). */
void ab_lc_blob_free(struct lc_arena *ar, struct lc_alert *al);

/** Bytes the slab, the table and the arena hold (for
 * ab_lifecycle_get_mem). */
size_t ab_lc_state_mem(const struct lc_state *st);

/** The open alert with fingerprint \p fp (LC_KEY_LEN bytes), or NULL. */
struct lc_alert *ab_lc_find_fp(const struct lc_state *st,
                               const unsigned char *fp);

/** The open alert with alert id \p id (LC_KEY_LEN bytes), or NULL. */
struct lc_alert *ab_lc_find_id(const struct lc_state *st,
                               const unsigned char *id);

/** The binary alert id of \p al into \p out (LC_KEY_LEN bytes). */
void ab_lc_alert_id_get(const struct lc_alert *al, unsigned char *out);

/** Set the alert id of \p al (fp set) to \p id. @returns -1, changing
 * nothing, if \p id does not start with the route of al's fingerprint. */
int ab_lc_alert_id_set(struct lc_alert *al, const unsigned char *id);

/**
 * Add \p al (integ, fp, id and last_ms set) to \p st: both tables and the
 * class of its integration's auto_clear, as the newest touch; counts it
 * open. @returns AB_ERR_NOMEM, leaving \p al the caller's.
 */
ab_err_t ab_lc_store_add(struct lc_state *st, struct lc_alert *al);

/**
 * ab_lc_store_add() for a record read from a snapshot or changelog entry:
 * \p al keeps its touch, so alerts with equal last_ms keep their order.
 * The table may briefly hold two records with the same key: the caller
 * drops the one this replaces.
 */
ab_err_t ab_lc_store_load(struct lc_state *st, struct lc_alert *al);

/** Take \p al out of \p st and free it. */
void ab_lc_store_drop(struct lc_state *st, struct lc_alert *al);

/** The class of \p al, an alert of \p st. */
struct lc_class *ab_lc_class_of(const struct lc_state *st,
                                const struct lc_alert *al);

/** Give \p al (last_ms set) its place in class \p c as the newest touch. */
void ab_lc_class_place(struct lc_state *st, struct lc_class *c,
                       struct lc_alert *al);

/** Take \p al out of its class \p c (to place it again). */
void ab_lc_class_unplace(const struct lc_state *st, struct lc_class *c,
                         struct lc_alert *al);

/** Every alert of \p c, quietest first, in a new array (free with ab_free)
 * of \p *n; *out is NULL when the class is empty. */
ab_err_t ab_lc_class_sorted(const struct lc_state *st, const struct lc_class *c,
                            struct lc_alert ***out, size_t *n);

/** The next open alert of \p st in slab order after \p *cursor (start at
 * 0), or NULL at the end. */
struct lc_alert *ab_lc_state_next(const struct lc_state *st, size_t *cursor);

/** The next alert whose auto-clear deadline (stored in \p *deadline) is
 * <= now_ms, or NULL. */
struct lc_alert *ab_lc_store_next_due(const struct lc_state *st, int64_t now_ms,
                                      int64_t *deadline);

/** The longest-quiet alert, the one eviction closes, or NULL. */
struct lc_alert *ab_lc_store_quietest(const struct lc_state *st);

/** Remember that \p al closed at \p end_ms for reason \p why. */
void ab_lc_closed_remember(struct lc_state *st, const struct lc_alert *al,
                           int64_t end_ms, enum lc_why why);

/** The most recent remembered close of \p key (an id, or a fingerprint
 * when \p by_fp), or NULL. */
const struct lc_closed *ab_lc_closed_find(const struct lc_state *st,
                                          const unsigned char *key, bool by_fp);

#endif
