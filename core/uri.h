/* uri.h - the URI-reference grammar of RFC 3986 (CloudEvents `source`). */
#ifndef AB_URI_H
#define AB_URI_H

#include <stddef.h>

/** What ab_uri_reference_check() answers for a valid reference. */
#define AB_URI_OK ((size_t)-1)

/**
 * Check that the \p len bytes at \p s are a URI-reference (RFC 3986
 * section 4.1): an absolute URI ("https://x.example/a?b#c", "urn:x:y") or
 * a relative reference ("alertbridge", "/a/b"). Only the characters the
 * grammar allows, '%' followed by two hex digits, a scheme of a letter
 * then letters, digits, '+', '-' or '.', an authority's port of digits,
 * an IP literal in brackets (IPv6 or IPvFuture), no ':' in the first
 * segment of a relative path. The empty string is a valid reference
 * (CloudEvents' `source` must also be non-empty: the caller's check).
 * @returns AB_URI_OK, or the offset of the first byte that breaks the
 *          grammar (\p len when the reference ends too early).
 */
size_t ab_uri_reference_check(const char *s, size_t len);

#endif
