/* conf_env.c - expands ${NAME} environment references in config strings. */
#include "core/conf_env.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

static int is_name_start(char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_name_char(char c)
{
        return is_name_start(c) || (c >= '0' && c <= '9');
}

char *ab_conf_expand_env(const char *s, const char *path, struct ab_error *err)
{
        struct ab_buf out;
        char name[256];
        char *result = NULL;

        ab_buf_init(&out, 0);
        if (ab_buf_append(&out, "", 0))
                goto nomem;
        while (*s) {
                const char *close, *dflt = NULL, *value;
                size_t nlen;

                if (s[0] == '$' && s[1] == '$' && s[2] == '{') {
                        if (ab_buf_append(&out, "${", 2))
                                goto nomem;
                        s += 3;
                        continue;
                }
                if (s[0] != '$' || s[1] != '{') {
                        if (ab_buf_append_char(&out, *s++))
                                goto nomem;
                        continue;
                }
                close = strchr(s + 2, '}');
                if (!close) {
                        ab_error_set(err, AB_ERR_CONFIG, path,
                                     "unterminated '${' in \"%s\"", s);
                        goto out;
                }
                nlen = 0;
                while (s + 2 + nlen < close && is_name_char(s[2 + nlen]))
                        nlen++;
                if (s + 2 + nlen + 1 < close && s[2 + nlen] == ':' &&
                    s[3 + nlen] == '-')
                        dflt = s + 4 + nlen;
                if (!nlen || !is_name_start(s[2]) || nlen >= sizeof(name) ||
                    (!dflt && s + 2 + nlen != close)) {
                        ab_error_set(err, AB_ERR_CONFIG, path,
                                     "invalid variable reference '%.*s'",
                                     (int)(close - s + 1), s);
                        goto out;
                }
                memcpy(name, s + 2, nlen);
                name[nlen] = '\0';
                value      = getenv(name);
                if (dflt && (!value || !*value)) {
                        if (ab_buf_append(&out, dflt, (size_t)(close - dflt)))
                                goto nomem;
                } else if (!value) {
                        ab_error_set(err, AB_ERR_CONFIG, path,
                                     "environment variable %s is not set",
                                     name);
                        goto out;
                } else if (ab_buf_append_str(&out, value)) {
                        goto nomem;
                }
                s = close + 1;
        }
        result = ab_buf_take(&out, NULL);
        goto out;
nomem:
        ab_error_set(err, AB_ERR_NOMEM, path, "out of memory");
out:
        ab_buf_fini(&out);
        return result;
}
