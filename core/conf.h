/* conf.h - reads YAML or JSON configuration files into one jansson tree. */
#ifndef AB_CONF_H
#define AB_CONF_H

#include <jansson.h>
#include <stddef.h>

#include "core/err.h"

/* The helpers every config reader uses on the values it finds, each in a
 * header of its own: environment references, key paths for messages,
 * durations and sizes. */
#include "core/conf_env.h"
#include "core/conf_path.h"
#include "core/conf_units.h"

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
 * Load \p path, which must be a regular file of at most AB_FILE_CONF_MAX
 * (16 MiB). @returns a new reference to the root, or NULL with \p err
 * filled (AB_ERR_IO when the file cannot be read or is no regular file,
 * AB_ERR_TOO_LARGE over the limit, AB_ERR_CONFIG for syntax errors).
 */
json_t *ab_conf_load_file(const char *path, struct ab_error *err);

/** Same for \p len bytes of text; \p origin names it in messages. */
json_t *ab_conf_load_string(const char *text, size_t len, const char *origin,
                            struct ab_error *err);

/**
 * \p s typed as YAML types a plain (unquoted) scalar, by the rules above.
 * @returns a new reference, or NULL with \p err (AB_ERR_CONFIG naming
 *          \p path: a number out of range, text not UTF-8).
 */
json_t *ab_conf_plain_scalar(const char *s, const char *path,
                             struct ab_error *err);

/** How a config value's type reads in messages: "a mapping", "a list",
 *  "a string", "an integer", "a number", "a boolean" or "null". */
const char *ab_conf_type_name(const json_t *v);

#endif
