/* conf_env.h - expands ${NAME} environment references in config strings. */
#ifndef AB_CONF_ENV_H
#define AB_CONF_ENV_H

#include <jansson.h>

#include "core/err.h"

/**
 * Replace every `${NAME}` in \p s by the environment variable NAME.
 * `${NAME:-default}` uses "default" when NAME is unset or empty; the
 * default may hold references itself (`${A:-${B:-x}}`, at most 8 levels
 * deep), expanded only when used. `$${` stands for a literal `${`. A set
 * but empty NAME expands to "".
 * @returns a new string (ab_free), or NULL with \p err naming the unset
 *          variable (AB_ERR_CONFIG) or AB_ERR_NOMEM.
 */
char *ab_conf_expand_env(const char *s, const char *path, struct ab_error *err);

/**
 * For a config value that is not a plain string (a number, a boolean, a
 * duration, a size, an enum): when \p v is a string holding a `${...}`
 * reference, expand it and type the result as YAML types a plain scalar
 * (ab_conf_plain_scalar()), so `port: ${PORT}` with PORT=8080 reads as the
 * integer 8080 and `timeout: ${T:-30s}` as the string "30s".
 * @returns a new reference: \p v itself when there is nothing to expand;
 *          NULL with \p err as for ab_conf_expand_env().
 */
json_t *ab_conf_expand_env_typed(const json_t *v, const char *path,
                                 struct ab_error *err);

#endif
