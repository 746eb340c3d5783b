/* conf_path.h - names a config key by its path in error messages. */
#ifndef AB_CONF_PATH_H
#define AB_CONF_PATH_H

#include <stddef.h>

/**
 * Append a key path component: "fields" + "severity" -> "fields.severity",
 * "metadata" + index 2 -> "metadata[2]". Writes into \p out (NUL-terminated,
 * truncated if needed). Used to name offending keys in errors.
 */
void ab_conf_path_key(char *out, size_t outsize, const char *parent,
                      const char *key);
void ab_conf_path_index(char *out, size_t outsize, const char *parent,
                        size_t index);

#endif
