/* fuzz_lifecycle_snapshot.c - libFuzzer target: snapshot restore
 * (ab_lifecycle_restore) on arbitrary bytes. */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_lifecycle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: a flag byte (fuzz_lifecycle.h), then one snapshot. Nothing may
 * crash, leak or read out of bounds; a result other than AB_OK must be
 * AB_ERR_STATE and leave the store as it was; a restored state must
 * snapshot, restore again and snapshot to the same bytes, and close every
 * alert (decoding each one's stored content) without error.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct ab_lifecycle *lc, *lc2;
        struct ab_buf s1, s2;
        struct ab_error err;
        char *d;
        size_t len;
        ab_err_t rc;

        if (!size)
                return 0;
        if (!lc) {
                lc  = ab_lifecycle_new(NULL);
                lc2 = ab_lifecycle_new(NULL);
        }
        CHECK(lc && lc2);
        len = size - 1;
        d   = malloc(len ? len : 1);
        CHECK(d);
        memcpy(d, data + 1, len);
        if (data[0] & FUZZ_LC_FIX_CHECKSUM)
                fuzz_lc_fix_checksum((unsigned char *)d, len);
        rc = ab_lifecycle_restore(lc, d, len, fuzz_lc_resolve, NULL, &err);
        CHECK(rc == AB_OK || rc == AB_ERR_STATE);
        if (rc == AB_OK) {
                ab_buf_init(&s1, 0);
                ab_buf_init(&s2, 0);
                CHECK(ab_lifecycle_snapshot(lc, &s1) == AB_OK);
                CHECK(ab_lifecycle_restore(lc2, s1.data, s1.len,
                                           fuzz_lc_resolve, NULL,
                                           &err) == AB_OK);
                CHECK(ab_lifecycle_snapshot(lc2, &s2) == AB_OK);
                CHECK(s1.len == s2.len && !memcmp(s1.data, s2.data, s1.len));
                ab_buf_fini(&s1);
                ab_buf_fini(&s2);
        }
        CHECK(ab_lifecycle_expire(lc, INT64_MAX, fuzz_lc_emit, NULL) == AB_OK);
        CHECK(ab_lifecycle_open_count(lc) == 0);
        free(d);
        return 0;
}
