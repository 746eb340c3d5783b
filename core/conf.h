/* conf.h - reads YAML or JSON configuration files into one jansson tree. */
#ifndef AB_CONF_H
#define AB_CONF_H

#include <jansson.h>
#include <stddef.h>

#include "err.h"

/*
 * YAML and JSON describe the same tree: a file is read as YAML (JSON is a
 * subset of YAML 1.2 for our purposes) and converted to jansson values.
 * Scalar typing follows YAML 1.2 core schema for plain (unquoted) scalars:
 * true/false -> boolean, null/~/empty -> null, decimal integers -> integer,
 * decimal floats -> real, everything else -> string (including 0x1F, 0o17,
 * .inf and .nan, which jansson cannot hold as numbers). Integers beyond 64
 * bits are errors. Quoted and block scalars are always strings; explicit
 * tags !!str, !!int, !!float, !!bool, !!null are honoured. Anchors and aliases
 * are supported (an alias is a deep copy; expansion is bounded), `<<` merge
 * keys are not; duplicate keys and non-scalar keys are errors. Errors carry
 * the line and column in `text` and the key path in `path`.
 */

/**
 * Load \p path. @returns a new reference to the root, or NULL with \p err
 * filled (AB_ERR_IO when the file cannot be read, AB_ERR_CONFIG for
 * syntax errors).
 */
json_t *ab_conf_load_file(const char *path, struct ab_error *err);

/** Same for \p len bytes of text; \p origin names it in messages. */
json_t *ab_conf_load_string(const char *text, size_t len, const char *origin,
                            struct ab_error *err);

/** How a config value's type reads in messages: "a mapping", "a list",
 *  "a string", "an integer", "a number", "a boolean" or "null". */
const char *ab_conf_type_name(const json_t *v);

/**
 * Replace every `${NAME}` in \p s by the environment variable NAME.
 * `${NAME:-default}` uses "default" when NAME is unset or empty; `$${`
 * stands for a literal `${`. A set but empty NAME expands to "".
 * @returns a new string (ab_free), or NULL with \p err naming the unset
 *          variable (AB_ERR_CONFIG) or AB_ERR_NOMEM.
 */
char *ab_conf_expand_env(const char *s, const char *path, struct ab_error *err);

/**
 * Append a key path component: "fields" + "severity" -> "fields.severity",
 * "metadata" + index 2 -> "metadata[2]". Writes into \p out (NUL-terminated,
 * truncated if needed). Used to name offending keys in errors.
 */
void ab_conf_path_key(char *out, size_t outsize, const char *parent,
                      const char *key);
void ab_conf_path_index(char *out, size_t outsize, const char *parent,
                        size_t index);

/**
 * Parse a duration such as "30m", "1h30m", "45s", "500ms", "2d" or a bare
 * number of seconds. Units: ms, s, m, h, d; each number may have a
 * fraction ("1.5h"), truncated to whole milliseconds. No sign, no spaces.
 * @returns 0 with \p ms set, or -1.
 */
int ab_conf_parse_duration(const char *s, long long *ms);

/**
 * Parse a size such as "64KB", "1MiB", "512" (bytes). Units are binary and
 * case-insensitive: K/KB/KiB = 1024, M/MB/MiB = 1024^2, G/GB/GiB = 1024^3,
 * B or none = 1; a fraction is allowed ("1.5MB"). @returns 0 or -1.
 */
int ab_conf_parse_size(const char *s, long long *bytes);

#endif
