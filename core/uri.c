/* uri.c - an RFC 3986 URI-reference recognizer. */
#include "core/uri.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

static bool is_alpha(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
        return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_unreserved(char c)
{
        return is_alpha(c) || is_digit(c) || (c && strchr("-._~", c));
}

static bool is_sub_delim(char c)
{
        return c && strchr("!$&'()*+,;=", c);
}

/*
 * Scan [i, end) while the bytes are unreserved, sub-delims, pct-encoded
 * or one of \p extra. @returns where the scan stopped; a '%' not followed
 * by two hex digits stops it with \p *bad set to the offending offset.
 */
static size_t scan(const char *s, size_t i, size_t end, const char *extra,
                   size_t *bad)
{
        while (i < end) {
                char c = s[i];

                if (c == '%') {
                        if (i + 1 >= end || !is_hex(s[i + 1])) {
                                *bad = i + 1;
                                return i;
                        }
                        if (i + 2 >= end || !is_hex(s[i + 2])) {
                                *bad = i + 2;
                                return i;
                        }
                        i += 3;
                } else if (is_unreserved(c) || is_sub_delim(c) ||
                           (c && strchr(extra, c))) {
                        i++;
                } else {
                        break;
                }
        }
        return i;
}

/* IP-literal: the bytes between '[' and ']': IPv6address or IPvFuture
 * ("v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )). */
static bool ip_literal(const char *s, size_t len)
{
        char text[INET6_ADDRSTRLEN + 1];
        unsigned char addr[16];
        size_t i = 1;

        if (len && (s[0] == 'v' || s[0] == 'V')) {
                while (i < len && is_hex(s[i]))
                        i++;
                if (i == 1 || i >= len || s[i] != '.' || i + 1 == len)
                        return false;
                for (i++; i < len; i++)
                        if (!is_unreserved(s[i]) && !is_sub_delim(s[i]) &&
                            s[i] != ':')
                                return false;
                return true;
        }
        if (len >= sizeof(text) || memchr(s, '\0', len))
                return false;
        memcpy(text, s, len);
        text[len] = '\0';
        return inet_pton(AF_INET6, text, addr) == 1;
}

/* authority = [ userinfo "@" ] host [ ":" port ], in [i, end).
 * @returns AB_URI_OK, or the offset of the first bad byte. */
static size_t authority(const char *s, size_t i, size_t end)
{
        const char *at = memchr(s + i, '@', end - i);
        size_t bad     = AB_URI_OK;
        size_t p;

        if (at) {
                size_t k = (size_t)(at - s);

                p = scan(s, i, k, ":", &bad);
                if (bad != AB_URI_OK)
                        return bad;
                if (p != k)
                        return p;
                i = k + 1;
        }
        if (i < end && s[i] == '[') {
                const char *close = memchr(s + i, ']', end - i);

                if (!close ||
                    !ip_literal(s + i + 1, (size_t)(close - s) - i - 1))
                        return i;
                p = (size_t)(close - s) + 1;
        } else {
                p = scan(s, i, end, "", &bad);
                if (bad != AB_URI_OK)
                        return bad;
        }
        if (p < end && s[p] == ':')
                for (p++; p < end && is_digit(s[p]);)
                        p++;
        return p == end ? AB_URI_OK : p;
}

/*
 * HOW IT WORKS: one left-to-right pass over the components of section 3,
 * each delimited by the first byte its own grammar does not allow:
 * scheme ":" (only if the bytes before the first ':' form a scheme), "//"
 * authority, path, "?" query, "#" fragment. A relative reference's first
 * path segment may not hold ':' (path-noscheme), so "1a:b" is refused
 * rather than read as a path.
 */
size_t ab_uri_reference_check(const char *s, size_t len)
{
        size_t i = 0, bad = AB_URI_OK;
        bool scheme = false;

        if (len && is_alpha(s[0])) {
                size_t j = 1;

                while (j < len && (is_alpha(s[j]) || is_digit(s[j]) ||
                                   s[j] == '+' || s[j] == '-' || s[j] == '.'))
                        j++;
                if (j < len && s[j] == ':') {
                        scheme = true;
                        i      = j + 1;
                }
        }
        if (len - i >= 2 && s[i] == '/' && s[i + 1] == '/') {
                size_t end = i + 2;

                while (end < len && s[end] != '/' && s[end] != '?' &&
                       s[end] != '#')
                        end++;
                bad = authority(s, i + 2, end);
                if (bad != AB_URI_OK)
                        return bad;
                i = end;
        } else if (!scheme && i < len && s[i] != '/') {
                i = scan(s, i, len, "@", &bad);
                if (bad != AB_URI_OK)
                        return bad;
                if (i < len && s[i] == ':')
                        return i;
        }
        i = scan(s, i, len, ":@/", &bad);
        if (bad == AB_URI_OK && i < len && s[i] == '?')
                i = scan(s, i + 1, len, ":@/?", &bad);
        if (bad == AB_URI_OK && i < len && s[i] == '#')
                i = scan(s, i + 1, len, ":@/?", &bad);
        if (bad != AB_URI_OK)
                return bad;
        return i == len ? AB_URI_OK : i;
}
