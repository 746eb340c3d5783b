/* fuzz_lifecycle_entry.c - libFuzzer target: changelog entries
 * (ab_lifecycle_entry_apply) on arbitrary bytes. */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_lifecycle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: a flag byte (fuzz_lifecycle.h), then one entry. Its key is the
 * fingerprint where a well-formed entry holds it (zeros when the entry is
 * too short). Nothing may crash, leak or read out of bounds; a result
 * other than AB_OK must be AB_ERR_STATE; an entry that applies must encode
 * back to the same bytes (an entry of an older version to the same bytes
 * as the newest: a store keeps an older entry's str-coded blob, and only
 * the version byte and the checksum differ); closing the alert (which
 * decodes its stored content into the close event) must work.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct ab_lifecycle *lc;
        unsigned char key[AB_LIFECYCLE_FP_LEN] = {0};
        unsigned char *d;
        struct ab_buf again;
        struct ab_error err;
        size_t len, off;
        ab_err_t rc;

        if (!size)
                return 0;
        if (!lc)
                lc = ab_lifecycle_new(NULL);
        CHECK(lc);
        len = size - 1;
        d   = malloc(len ? len : 1);
        CHECK(d);
        memcpy(d, data + 1, len);
        if (data[0] & FUZZ_LC_FIX_CHECKSUM)
                fuzz_lc_fix_entry_checksum(d, len);
        if (len >= 9) {
                off = 9 + ((size_t)d[5] | (size_t)d[6] << 8 |
                           (size_t)d[7] << 16 | (size_t)d[8] << 24);
                if (off <= len && len - off >= AB_LIFECYCLE_FP_LEN)
                        memcpy(key, d + off, AB_LIFECYCLE_FP_LEN);
        }
        rc = ab_lifecycle_entry_apply(lc, key, d, len, fuzz_lc_resolve, NULL,
                                      &err);
        CHECK(rc == AB_OK || rc == AB_ERR_STATE);
        if (rc == AB_OK && len) {
                ab_buf_init(&again, 0);
                CHECK(ab_lifecycle_entry_encode(lc, key, &again) == AB_OK);
                if (d[4] < AB_LIFECYCLE_ENTRY_VERSION) {
                        d[4] = AB_LIFECYCLE_ENTRY_VERSION;
                        fuzz_lc_fix_entry_checksum(d, len);
                }
                CHECK(again.len == len && !memcmp(again.data, d, len));
                ab_buf_fini(&again);
        }
        CHECK(ab_lifecycle_expire(lc, INT64_MAX, fuzz_lc_emit, NULL) == AB_OK);
        CHECK(ab_lifecycle_open_count(lc) == 0);
        free(d);
        return 0;
}
