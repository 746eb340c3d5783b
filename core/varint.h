/* varint.h - LEB128 varints (7 bits a byte, low first), the length and
 * count framing of the binary records (lifecycle/blob.c,
 * pipeline/alert_record.c). */
#ifndef AB_VARINT_H
#define AB_VARINT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/** The bytes ab_varint_put_bytes() writes for \p n bytes. */
static inline size_t ab_varint_bytes_len(size_t n)
{
        return ab_varint_len(n) + n;
}

/** Write \p n bytes of \p src (NULL when n is 0) after their length as a
 * varint, at \p p, which has room for ab_varint_bytes_len(n) bytes.
 * @returns the byte after them. */
static inline unsigned char *ab_varint_put_bytes(unsigned char *p,
                                                 const void *src, size_t n)
{
        p = ab_varint_put(p, n);
        if (n)
                memcpy(p, src, n);
        return p + n;
}

/** The bytes ab_varint_put_opt() writes for \p n bytes at \p src. */
static inline size_t ab_varint_opt_len(const void *src, size_t n)
{
        return src ? ab_varint_len((uint64_t)n + 1) + n : 1;
}

/** Write an optional byte string at \p p: varint 0 when it is absent
 * (\p src NULL), else varint n + 1 and the \p n bytes; \p p has room for
 * ab_varint_opt_len() bytes. @returns the byte after them. */
static inline unsigned char *ab_varint_put_opt(unsigned char *p,
                                               const void *src, size_t n)
{
        if (!src)
                return ab_varint_put(p, 0);
        p = ab_varint_put(p, (uint64_t)n + 1);
        if (n)
                memcpy(p, src, n);
        return p + n;
}

#endif
