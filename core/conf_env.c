/* conf_env.c - expands ${NAME} environment references in config strings. */
#include "core/conf_env.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/conf.h"
#include "core/mem.h"

/* How deep `${A:-${B:-...}}` may nest. */
#define MAX_NESTING 8

static int is_name_start(char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_name_char(char c)
{
        return is_name_start(c) || (c >= '0' && c <= '9');
}

/* The '}' that closes the reference opened at s[0..1] ("${"), counting
 * nested "${" (but not the literal "$${"); NULL if there is none. */
static const char *matching_close(const char *s, const char *end)
{
        int level = 1;

        for (s += 2; s < end; s++) {
                if (s[0] == '$' && s + 2 < end && s[1] == '$' && s[2] == '{') {
                        s += 2;
                } else if (s[0] == '$' && s + 1 < end && s[1] == '{') {
                        level++;
                        s++;
                } else if (s[0] == '}' && --level == 0) {
                        return s;
                }
        }
        return NULL;
}

/*
 * HOW IT WORKS
 * Text is copied to \p out up to each "${"; the reference runs to its
 * matching '}' (nested references counted), so in `${A:-${B:-x}}` the
 * default of A is `${B:-x}`. A default is expanded, recursively, only
 * when it is used, as a shell does; \p depth bounds the recursion.
 */
static ab_err_t expand(const char *s, const char *end, int depth,
                       struct ab_buf *out, const char *path,
                       struct ab_error *err)
{
        char name[256];

        if (depth > MAX_NESTING)
                return ab_error_set(err, AB_ERR_CONFIG, path,
                                    "variable references nested deeper "
                                    "than %d levels",
                                    MAX_NESTING);
        while (s < end) {
                const char *close, *dflt = NULL, *value;
                size_t nlen;
                ab_err_t rc;

                if (s + 2 < end && s[0] == '$' && s[1] == '$' && s[2] == '{') {
                        if (ab_buf_append(out, "${", 2))
                                return AB_ERR_NOMEM;
                        s += 3;
                        continue;
                }
                if (s + 1 >= end || s[0] != '$' || s[1] != '{') {
                        if (ab_buf_append_char(out, *s++))
                                return AB_ERR_NOMEM;
                        continue;
                }
                close = matching_close(s, end);
                if (!close)
                        return ab_error_set(err, AB_ERR_CONFIG, path,
                                            "unterminated '${' in \"%.*s\"",
                                            (int)(end - s), s);
                nlen = 0;
                while (s + 2 + nlen < close && is_name_char(s[2 + nlen]))
                        nlen++;
                if (s + 2 + nlen + 1 < close && s[2 + nlen] == ':' &&
                    s[3 + nlen] == '-')
                        dflt = s + 4 + nlen;
                if (!nlen || !is_name_start(s[2]) || nlen >= sizeof(name) ||
                    (!dflt && s + 2 + nlen != close))
                        return ab_error_set(err, AB_ERR_CONFIG, path,
                                            "invalid variable reference "
                                            "'%.*s'",
                                            (int)(close - s + 1), s);
                memcpy(name, s + 2, nlen);
                name[nlen] = '\0';
                value      = getenv(name);
                if (dflt && (!value || !*value)) {
                        rc = expand(dflt, close, depth + 1, out, path, err);
                        if (rc)
                                return rc;
                } else if (!value) {
                        return ab_error_set(err, AB_ERR_CONFIG, path,
                                            "environment variable %s is not "
                                            "set",
                                            name);
                } else if (ab_buf_append_str(out, value)) {
                        return AB_ERR_NOMEM;
                }
                s = close + 1;
        }
        return AB_OK;
}

char *ab_conf_expand_env(const char *s, const char *path, struct ab_error *err)
{
        struct ab_buf out;
        char *result = NULL;
        ab_err_t rc;

        ab_buf_init(&out, 0);
        rc = ab_buf_append(&out, "", 0);
        if (!rc)
                rc = expand(s, s + strlen(s), 0, &out, path, err);
        if (rc == AB_ERR_NOMEM)
                ab_error_set(err, AB_ERR_NOMEM, path, "out of memory");
        if (!rc)
                result = ab_buf_take(&out, NULL);
        ab_buf_fini(&out);
        return result;
}

json_t *ab_conf_expand_env_typed(const json_t *v, const char *path,
                                 struct ab_error *err)
{
        json_t *typed;
        char *text;

        if (!json_is_string(v) || !strstr(json_string_value(v), "${"))
                return json_incref((json_t *)v);
        text = ab_conf_expand_env(json_string_value(v), path, err);
        if (!text)
                return NULL;
        typed = ab_conf_plain_scalar(text, path, err);
        ab_free(text);
        return typed;
}
