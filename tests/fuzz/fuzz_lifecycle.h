/* fuzz_lifecycle.h - what the lifecycle fuzz targets share: the
 * integrations that entries and snapshots name, and checksum repair. */
#ifndef AB_FUZZ_LIFECYCLE_H
#define AB_FUZZ_LIFECYCLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "lifecycle/lifecycle.h"

/*
 * Both targets read one flag byte, then the bytes under test. Flag bit 0
 * asks to overwrite the last 16 bytes with the checksum of the rest, so
 * that the fuzzer reaches the parser behind the checksum.
 */
#define FUZZ_LC_FIX_CHECKSUM 1u

#define CHECK(cond)                                                            \
        do {                                                                   \
                if (!(cond))                                                   \
                        abort();                                               \
        } while (0)

/** Resolves "net" and "fast" (auto_clear 1m and 5s), else NULL. */
const struct ab_integration *fuzz_lc_resolve(void *ctx, const char *name);

/** Overwrite the last 16 bytes of \p d with the first 16 bytes of SHA-256
 * over the rest (nothing if \p len < 16): a snapshot's checksum. */
void fuzz_lc_fix_checksum(unsigned char *d, size_t len);

/** The same with the checksum of changelog entry version \p d[4]:
 * SHA-256 for version 1, else the canonical XXH3-128 (versions 2, 3). */
void fuzz_lc_fix_entry_checksum(unsigned char *d, size_t len);

/** An emit callback that accepts every event. */
ab_err_t fuzz_lc_emit(void *opaque, const struct ab_event *ev);

#endif
