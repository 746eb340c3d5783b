/* varint.h - LEB128 varints (7 bits a byte, low first), the length and
 * count framing of the binary records (lifecycle/blob.c,
 * pipeline/alert_record.c). */
#ifndef AB_VARINT_H
#define AB_VARINT_H

#include <stddef.h>
#include <stdint.h>

/* The most bytes a varint of 64 bits takes. */
#define AB_VARINT_MAX 10

/** The bytes ab_varint_put() writes for \p v (1..AB_VARINT_MAX). */
static inline size_t ab_varint_len(uint64_t v)
{
        size_t n = 1;

        while (v >= 0x80) {
                v >>= 7;
                n++;
        }
        return n;
}

/** Write \p v at \p p, which has room for ab_varint_len(v) bytes.
 * @returns the byte after it. */
static inline unsigned char *ab_varint_put(unsigned char *p, uint64_t v)
{
        while (v >= 0x80) {
                *p++ = (unsigned char)(v | 0x80);
                v >>= 7;
        }
        *p++ = (unsigned char)v;
        return p;
}

#endif
