/* decode.h - turns non-JSON payloads (form-encoded callbacks) into JSON text.
 */
#ifndef AB_DECODE_H
#define AB_DECODE_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

/*
 * application/x-www-form-urlencoded (CloudMonitor threshold callbacks):
 * `k=v&k2=v2` with %XX and '+' decoding becomes a flat JSON object of
 * strings. A value that is the literal `null` is left out (it means
 * "absent" in CloudMonitor pushes). The `dimensions` value, a Java-map
 * string such as `{userId=12, instanceId=i-1}`, becomes a nested object.
 * Repeated keys are written as they come; the mapping engine then rejects
 * the payload as undecodable, as it does a JSON payload that repeats a key.
 * Bytes that are not UTF-8 after decoding become U+FFFD.
 */

/**
 * Decode \p len bytes of \p src into JSON text appended to \p out.
 * @returns AB_OK, or AB_ERR_DECODE with the byte offset of a bad %-escape,
 *          a NUL byte (raw or %00) or a pair without '='.
 */
ab_err_t ab_decode_form(const char *src, size_t len, struct ab_buf *out,
                        struct ab_buf *scratch, struct ab_error *err);

/** True when \p src looks form-encoded rather than JSON: its first
 *  non-blank byte is not one of { [ " and it contains '='. */
int ab_decode_is_form(const char *src, size_t len);

#endif
