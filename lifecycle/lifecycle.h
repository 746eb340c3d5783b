/* lifecycle.h - the alert state machine: dedup windows, auto-clear, recovery,
 * actions. */
#ifndef AB_LIFECYCLE_H
#define AB_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "transform/alert.h"
#include "transform/event.h"
#include "transform/integration.h"

/*
 * One lifecycle store owns the open alerts of one scope (a process, or
 * later one input partition). It is not thread-safe.
 *
 * Every call that can produce events takes an emit callback; the events it
 * passes are borrowed for the duration of the callback only. The caller
 * (the pipeline, `alertbridge test --dedup`, replay) fills in `source`,
 * `owner` and `dispatch_rule` before serializing.
 */
struct ab_lifecycle;

typedef ab_err_t (*ab_lifecycle_emit_cb)(void *opaque,
                                         const struct ab_event *ev);

struct ab_lifecycle_config {
        size_t max_open;            /* 0 = unlimited */
        bool close_orphan_recovery; /* emit a close for a recovery that
                                       matches no open alert */
        bool capture_changes;       /* remember changed alerts for
                                       ab_lifecycle_drain_changes() */
        size_t max_action_field;    /* longest operator, comment or
                                       solution of an action, in bytes;
                                       0 = AB_LIFECYCLE_MAX_ACTION_FIELD */
        unsigned entry_version;     /* changelog entries written: 1 to
                                       3; 0 = AB_LIFECYCLE_ENTRY_VERSION
                                       (every version is read) */
};

/* The newest changelog entry version, written by default; every version
 * up to it is read (docs/lifecycle.md). */
#define AB_LIFECYCLE_ENTRY_VERSION 3u

/*
 * The alert coding (docs/lifecycle.md, *Alert coding*): an alert's content
 * but its status, as the store keeps it and as the ALERT records of
 * <group>.alerts carry it, so that the lifecycle stage stores a mapped
 * alert by copying its bytes (ab_lifecycle_process_coded()). It is written
 * in two passes: ab_lifecycle_code_plan() adds up the bytes and finds each
 * mapped field's reference once, then ab_lifecycle_code_write() writes them
 * through a plain pointer.
 */
struct ab_lifecycle_code_plan {
        size_t size;   /* bytes of the coding */
        uint64_t mask; /* the mapped fields */
        uint64_t ref[AB_FIELD__COUNT];
};

void ab_lifecycle_code_plan(const struct ab_alert *a,
                            struct ab_lifecycle_code_plan *pl);

/** Write the coding of \p a planned in \p pl (pl->size bytes) at \p p.
 * @returns the byte after it. */
unsigned char *ab_lifecycle_code_write(unsigned char *p,
                                       const struct ab_alert *a,
                                       const struct ab_lifecycle_code_plan *pl);

/* The default bound on an action's operator, comment and solution. */
#define AB_LIFECYCLE_MAX_ACTION_FIELD 4096

/* Resolves an integration name stored in a snapshot or changelog entry;
 * NULL for "unknown" (AB_ERR_STATE). */
typedef const struct ab_integration *(*ab_lifecycle_resolve_cb)(
    void *ctx, const char *name);

struct ab_lifecycle_stats {
        uint64_t opened;
        uint64_t merged;
        uint64_t closed_recovered;
        uint64_t closed_auto;
        uint64_t closed_action;
        uint64_t evicted;
        uint64_t orphan_recoveries;
        uint64_t actions_rejected;
        uint64_t stale_recoveries; /* recoveries older than the open alert's
                                      latest firing: dropped, the newer
                                      firing wins */
};

/* Memory held by a store (ab_lifecycle_get_mem). */
struct ab_lifecycle_mem {
        size_t open;     /* open alerts */
        size_t overhead; /* per-alert bytes beyond strings: records, hash
                            slots, blob framing, 16 allocator bytes per
                            allocation */
        size_t strings;  /* label, annotation and field strings as stored
                            (text + length prefix), claimers */
        size_t shared;   /* per-store bytes that do not grow with alerts */
};

struct ab_lifecycle *ab_lifecycle_new(const struct ab_lifecycle_config *conf);
/** NULL-safe. */
void ab_lifecycle_destroy(struct ab_lifecycle *lc);

/* Length of a binary fingerprint (its hex form is AB_EVENT_ID_LEN). */
#define AB_LIFECYCLE_FP_LEN (AB_EVENT_ID_LEN / 2)

/*
 * A hasher computes binary fingerprints away from the store, so that the
 * threads that run the mapping engine can hash ahead of the thread that
 * owns the store (pipeline/transform_pool.h). One hasher per thread.
 */
struct ab_lifecycle_hasher;

/** @returns a hasher, or NULL when out of memory. */
struct ab_lifecycle_hasher *ab_lifecycle_hasher_new(void);
/** NULL-safe. */
void ab_lifecycle_hasher_destroy(struct ab_lifecycle_hasher *h);

/** The binary fingerprint of \p a under \p integ, as
 * ab_lifecycle_process() computes it. */
ab_err_t ab_lifecycle_hasher_digest(struct ab_lifecycle_hasher *h,
                                    const struct ab_integration *integ,
                                    const struct ab_alert *a,
                                    unsigned char out[AB_LIFECYCLE_FP_LEN]);

/**
 * The partition of \p key (a binary fingerprint or a binary alert id,
 * which starts with its fingerprint's first half) among \p npartitions:
 * its first 4 bytes big-endian, modulo \p npartitions (0 when it is 0).
 */
uint32_t ab_lifecycle_route(const unsigned char *key, uint32_t npartitions);

/** Parse a fingerprint or alert id in hex (AB_EVENT_ID_LEN characters, any
 * case) into \p out. @returns AB_ERR_DECODE if it is malformed. */
ab_err_t ab_lifecycle_key_parse(const char *hex, size_t len,
                                unsigned char out[AB_LIFECYCLE_FP_LEN]);

/** ab_lifecycle_route() of a fingerprint or alert id in hex into \p out.
 * @returns AB_ERR_DECODE if it is malformed. */
ab_err_t ab_lifecycle_route_hex(const char *hex, size_t len,
                                uint32_t npartitions, uint32_t *out);

/**
 * Compute the fingerprint of \p a under \p integ (documented in
 * docs/lifecycle.md) into \p out (AB_EVENT_ID_LEN + 1 bytes); \p out is
 * the empty string if hashing failed.
 */
void ab_lifecycle_fingerprint(const struct ab_integration *integ,
                              const struct ab_alert *a, char *out);

/**
 * Feed one normalized alert observed at event time \p event_ms.
 * Before applying it, alerts whose auto-clear deadline is <= event_ms are
 * closed (as ab_lifecycle_expire() would). Emits CREATE for a new alert,
 * nothing for a merge, CLOSE for a recovery of an open alert.
 */
ab_err_t ab_lifecycle_process(struct ab_lifecycle *lc,
                              const struct ab_integration *integ,
                              const struct ab_alert *a, int64_t event_ms,
                              ab_lifecycle_emit_cb emit, void *opaque,
                              struct ab_error *err);

/**
 * ab_lifecycle_process() with the fingerprint \p fp already computed by
 * ab_lifecycle_hasher_digest() for the same \p integ and \p a.
 */
ab_err_t ab_lifecycle_process_digest(
    struct ab_lifecycle *lc, const struct ab_integration *integ,
    const struct ab_alert *a, const unsigned char fp[AB_LIFECYCLE_FP_LEN],
    int64_t event_ms, ab_lifecycle_emit_cb emit, void *opaque,
    struct ab_error *err);

/**
 * ab_lifecycle_process_digest() with \p a also in the alert coding: the
 * \p coded_len bytes at \p coded (borrowed), which the caller decoded \p
 * a from and checked. An alert stored from it is a copy of those bytes.
 * \p coded NULL is ab_lifecycle_process_digest().
 */
ab_err_t ab_lifecycle_process_coded(struct ab_lifecycle *lc,
                                    const struct ab_integration *integ,
                                    const struct ab_alert *a, const void *coded,
                                    size_t coded_len,
                                    const unsigned char fp[AB_LIFECYCLE_FP_LEN],
                                    int64_t event_ms, ab_lifecycle_emit_cb emit,
                                    void *opaque, struct ab_error *err);

/**
 * Apply one action record (JSON: {"action": "claim"|"comment"|"close",
 * "alert_id" or "fingerprint" (+ "integration"), "operator", "comment",
 * "solution"}) at event time \p event_ms.
 * @returns AB_OK after emitting the action's event, or
 *          AB_ERR_ACTION_INVALID / AB_ERR_ACTION_UNKNOWN /
 *          AB_ERR_ACTION_CLOSED with a clear reason in \p err.
 */
ab_err_t ab_lifecycle_action(struct ab_lifecycle *lc, const char *json,
                             size_t len, int64_t event_ms,
                             ab_lifecycle_emit_cb emit, void *opaque,
                             struct ab_error *err);

/** Close every alert whose auto-clear deadline is <= \p now_ms. */
ab_err_t ab_lifecycle_expire(struct ab_lifecycle *lc, int64_t now_ms,
                             ab_lifecycle_emit_cb emit, void *opaque);

/** Number of open alerts. */
size_t ab_lifecycle_open_count(const struct ab_lifecycle *lc);

/** Counters since creation. */
void ab_lifecycle_get_stats(const struct ab_lifecycle *lc,
                            struct ab_lifecycle_stats *out);

/**
 * Account the memory of \p lc into \p out. Walks every open alert: for
 * tests and benchmarks, not for the per-event path.
 */
void ab_lifecycle_get_mem(const struct ab_lifecycle *lc,
                          struct ab_lifecycle_mem *out);

/** Append a self-contained snapshot of all open alerts to \p out. */
ab_err_t ab_lifecycle_snapshot(const struct ab_lifecycle *lc,
                               struct ab_buf *out);

/**
 * Replace the state of \p lc by a snapshot. Integrations are matched by
 * name through \p resolve (may return NULL for "unknown": AB_ERR_STATE).
 * Pending changes (ab_lifecycle_drain_changes) are forgotten.
 */
ab_err_t ab_lifecycle_restore(struct ab_lifecycle *lc, const char *data,
                              size_t len, ab_lifecycle_resolve_cb resolve,
                              void *ctx, struct ab_error *err);

/*
 * Change capture, for a changelog. With `capture_changes`, the store
 * remembers the fingerprint of every alert whose persistent state changed
 * (open, merge, claim, comment, close, auto-clear, eviction), once per
 * fingerprint however often it changed. Draining reports each one with
 * its state now: a changelog entry (ab_lifecycle_entry_encode) if the
 * alert is open, NULL (a tombstone) if it is not. Costs O(changed keys)
 * per drain and no allocation per change once the set has grown to the
 * largest number of keys changed between two drains. Restoring a
 * snapshot and applying entries record nothing: that state is already
 * persisted.
 */

/** Called once per changed fingerprint with its entry (borrowed for the
 * call; NULL and 0 for a tombstone). Must not call into the store. */
typedef ab_err_t (*ab_lifecycle_change_cb)(
    void *opaque, const unsigned char fp[AB_LIFECYCLE_FP_LEN],
    const void *entry, size_t len);

/**
 * Report every change since the last drain to \p cb and forget them.
 * Without `capture_changes` there is nothing to report.
 * @returns AB_OK; \p cb's error, with the fingerprint it failed on and
 *          the ones after it still pending; AB_ERR_NOMEM if a change
 *          could not be remembered (the changelog is then incomplete: the
 *          caller must treat the store as lost); or an encoding error.
 */
ab_err_t ab_lifecycle_drain_changes(struct ab_lifecycle *lc,
                                    ab_lifecycle_change_cb cb, void *opaque);

/** Number of fingerprints changed since the last drain. */
size_t ab_lifecycle_pending_changes(const struct ab_lifecycle *lc);

/**
 * Append the state of the open alert with fingerprint \p fp to \p out as
 * one changelog entry (docs/lifecycle.md: "ABLE", version, the fields of a
 * snapshot alert with its integration by name, checksum), in the version
 * of the store's configuration (entry_version).
 * @returns AB_ERR_NOT_FOUND if no alert with \p fp is open.
 */
ab_err_t ab_lifecycle_entry_encode(const struct ab_lifecycle *lc,
                                   const unsigned char fp[AB_LIFECYCLE_FP_LEN],
                                   struct ab_buf *out);

/**
 * Apply one changelog record with key \p fp: \p value of \p len bytes is
 * an entry (it replaces the open alert with that fingerprint, or adds
 * it); NULL or 0 bytes is a tombstone (the alert is removed if open).
 * Reading a changelog from its start with this rebuilds the store: later
 * entries for a key win. Each entry costs O(1) (O(log n) if it is older
 * than the newest of its auto_clear class). Integrations are matched by
 * name through \p resolve. max_open is not applied. Nothing is emitted.
 * @returns AB_ERR_STATE for a corrupt, truncated or unknown-version entry,
 *          an unknown integration or a key that does not match; the store
 *          is then unchanged.
 */
ab_err_t ab_lifecycle_entry_apply(struct ab_lifecycle *lc,
                                  const unsigned char fp[AB_LIFECYCLE_FP_LEN],
                                  const void *value, size_t len,
                                  ab_lifecycle_resolve_cb resolve, void *ctx,
                                  struct ab_error *err);

#endif
