/* str.c - renders untrusted bytes safely for messages. */
#include "core/str.h"

/* The rendering of byte \p c into \p tmp (4 bytes); @returns its length. */
static size_t escape_byte(unsigned char c, char *tmp)
{
        static const char hex[] = "0123456789abcdef";

        if (c == '\\' || c == '\'') {
                tmp[0] = '\\';
                tmp[1] = (char)c;
                return 2;
        }
        if (c >= 0x20 && c < 0x7f) {
                tmp[0] = (char)c;
                return 1;
        }
        tmp[0] = '\\';
        tmp[1] = 'x';
        tmp[2] = hex[c >> 4];
        tmp[3] = hex[c & 0xF];
        return 4;
}

const char *ab_str_escape(char *out, size_t size, const char *s, size_t n)
{
        size_t total = 0, room, o = 0;
        char tmp[4];

        if (size == 0)
                return out;
        for (size_t i = 0; i < n; i++)
                total += escape_byte((unsigned char)s[i], tmp);
        /* All of it, or as many whole escapes as leave room for "...". */
        room = total < size ? size - 1 : size >= 4 ? size - 4 : 0;
        for (size_t i = 0; i < n; i++) {
                size_t k = escape_byte((unsigned char)s[i], tmp);

                if (o + k > room)
                        break;
                memcpy(out + o, tmp, k);
                o += k;
        }
        if (total >= size && size >= 4) {
                memcpy(out + o, "...", 3);
                o += 3;
        }
        out[o] = '\0';
        return out;
}
