/* conf_env.h - expands ${NAME} environment references in config strings. */
#ifndef AB_CONF_ENV_H
#define AB_CONF_ENV_H

#include "core/err.h"

/**
 * Replace every `${NAME}` in \p s by the environment variable NAME.
 * `${NAME:-default}` uses "default" when NAME is unset or empty; `$${`
 * stands for a literal `${`. A set but empty NAME expands to "".
 * @returns a new string (ab_free), or NULL with \p err naming the unset
 *          variable (AB_ERR_CONFIG) or AB_ERR_NOMEM.
 */
char *ab_conf_expand_env(const char *s, const char *path, struct ab_error *err);

#endif
