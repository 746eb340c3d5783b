/* integration_compile_int.h - the integration compiler's helpers, shared by
 * integration.c, integration_cond.c and integration_method.c only. */
#ifndef AB_INTEGRATION_COMPILE_INT_H
#define AB_INTEGRATION_COMPILE_INT_H

#include <jansson.h>
#include <stddef.h>

#include "core/err.h"
#include "transform/integration_int.h"

/* Compilation context: the batch root decides which selectors are relative;
 * key-only selectors are interned into `paths`. */
struct compiler {
        const struct ab_selector *batch_root;
        struct ab_error *err;
        struct ab_selpaths *paths;
};

#define PATH_MAX_LEN 160

/* Helpers (integration.c). */

/* Render a scalar config value as text (numbers and booleans as written). */
char *ab_integ_scalar_text(const json_t *v, size_t *len);

int ab_integ_is_scalar(const json_t *v);

/* Reject keys of \p obj that are not in the NULL-terminated \p allowed. */
ab_err_t ab_integ_check_keys(const json_t *obj, const char *path,
                             const char *const *allowed, struct ab_error *err);

ab_err_t ab_integ_compile_selref(struct compiler *cc, const json_t *v,
                                 const char *path, struct ab_sel_ref *out);

/* Conditions (integration_cond.c). */

ab_err_t ab_integ_compile_cond(struct compiler *cc, const json_t *v,
                               const char *path, struct ab_cond *c);

ab_err_t ab_integ_compile_cond_list(struct compiler *cc, const json_t *arr,
                                    const char *path, struct ab_cond *c);

/* Methods (integration_method.c). */

ab_err_t ab_integ_compile_method(struct compiler *cc, const json_t *v,
                                 const char *path, int is_severity,
                                 struct ab_method *m);

#endif
