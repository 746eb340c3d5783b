/* conf_path.c - names a config key by its path ("fields.severity",
 * "metadata[2]") in error messages. */
#include "core/conf_path.h"

#include <stdio.h>
#include <string.h>

/* Keys that read unambiguously after a '.'. */
static int is_plain_key(const char *key)
{
        if (!*key)
                return 0;
        for (; *key; key++)
                if (strchr(".[]'\" \t\n\r", *key))
                        return 0;
        return 1;
}

/* Copy parent into out (unless it is out) and return its length. */
static size_t path_prefix(char *out, size_t outsize, const char *parent)
{
        size_t n;

        if (!parent) {
                out[0] = '\0';
                return 0;
        }
        n = strlen(parent);
        if (n >= outsize)
                n = outsize - 1;
        if (parent != out)
                memmove(out, parent, n);
        out[n] = '\0';
        return n;
}

/* Append len bytes of s at out[*n], as far as they fit. */
static void path_put(char *out, size_t outsize, size_t *n, const char *s,
                     size_t len)
{
        for (size_t i = 0; i < len && *n + 1 < outsize; i++)
                out[(*n)++] = s[i];
        out[*n] = '\0';
}

void ab_conf_path_key(char *out, size_t outsize, const char *parent,
                      const char *key)
{
        size_t n;

        if (!outsize)
                return;
        n = path_prefix(out, outsize, parent);
        if (is_plain_key(key)) {
                if (n)
                        path_put(out, outsize, &n, ".", 1);
                path_put(out, outsize, &n, key, strlen(key));
                return;
        }
        /* ['key'], with ' and \ escaped by a backslash. */
        path_put(out, outsize, &n, "['", 2);
        for (; *key; key++) {
                if (*key == '\'' || *key == '\\')
                        path_put(out, outsize, &n, "\\", 1);
                path_put(out, outsize, &n, key, 1);
        }
        path_put(out, outsize, &n, "']", 2);
}

void ab_conf_path_index(char *out, size_t outsize, const char *parent,
                        size_t index)
{
        size_t n;

        if (!outsize)
                return;
        n = path_prefix(out, outsize, parent);
        snprintf(out + n, outsize - n, "[%zu]", index);
}
