/* blob.h - the stored copy of an open alert's latest firing content
 * (internal to the lifecycle module). */
#ifndef AB_LC_BLOB_H
#define AB_LC_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lifecycle/store.h"

/* A bounds-checked reader; `bad` sticks after the first overrun. */
struct lc_rd {
        const unsigned char *p;
        const unsigned char *end;
        int bad;
};

/** The next \p n bytes of \p r, or NULL (and r->bad set) past its end. */
const unsigned char *ab_lc_rd_bytes(struct lc_rd *r, size_t n);

/** The next \p n bytes of \p r as a little-endian integer (0 past its
 * end). */
uint64_t ab_lc_rd_uint(struct lc_rd *r, size_t n);

/** Store \p a into al's blob (a new block of arena \p ar when its block
 * size changes), the claimer's name kept. */
ab_err_t ab_lc_blob_encode(struct lc_arena *ar, struct lc_alert *al,
                           const struct ab_alert *a);

/** ab_lc_blob_encode() of the alert whose coding (lifecycle.h) is the \p
 * len bytes at \p coded: a copy. @returns AB_ERR_INTERNAL for a flags byte
 * the coding does not have. */
ab_err_t ab_lc_blob_store(struct lc_arena *ar, struct lc_alert *al,
                          const void *coded, size_t len);

/** Append al's blob with its u32 length, str-coded (no flag 8, as
 * changelog entries of version 1 and 2 carry it) when \p legacy.
 * @returns AB_ERR_STATE if the blob is malformed, or AB_ERR_NOMEM. */
ab_err_t ab_lc_blob_put(struct ab_lifecycle *lc, struct ab_buf *out,
                        const struct lc_alert *al, bool legacy);

/** Whether al's blob has its values opt-coded (flag 8). */
bool ab_lc_blob_opt(const struct lc_alert *al);

/** Decode a blob into \p v (strings borrowed from the blob, label arrays
 * from lc->kv). @returns AB_ERR_STATE if the blob is malformed. */
ab_err_t ab_lc_blob_decode(struct ab_lifecycle *lc, const unsigned char *b,
                           size_t len, struct ab_alert *v);

/** Bytes the strings of al's blob take as stored (0 if it is malformed). */
size_t ab_lc_blob_text(struct ab_lifecycle *lc, const struct lc_alert *al);

#endif
