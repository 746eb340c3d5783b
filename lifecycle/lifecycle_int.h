/* lifecycle_int.h - helpers shared by the lifecycle module's files (not a
 * public interface). */
#ifndef AB_LIFECYCLE_INT_H
#define AB_LIFECYCLE_INT_H

#include <stddef.h>

#include "alert.h"

/**
 * The smallest of \p names (bytewise) that sorts after \p prev (NULL: the
 * smallest of all), or NULL. Walking with it visits dedup.fields sorted
 * and without repeats, the order the fingerprint hashes them in.
 */
const char *ab_lifecycle_dedup_next(const char *const *names, size_t n,
                                    const char *prev);

/**
 * The value dedup field \p name selects in \p a: the label of that name,
 * else the alert field of that name, else AB_STR_NULL (absent).
 */
struct ab_str ab_lifecycle_dedup_value(const struct ab_alert *a,
                                       const char *name);

#endif
