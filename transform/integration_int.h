/* integration_int.h - the compiled integration, shared by the compiler and the
 * engine only. */
#ifndef AB_INTEGRATION_INT_H
#define AB_INTEGRATION_INT_H

#include <stdbool.h>

#include "transform/alert.h"
#include "transform/cond_regex.h"
#include "transform/integration.h"
#include "transform/selector.h"

/* A selector plus where it starts: with `relative`, at the current batch
 * element after skipping `skip` steps; otherwise at the document root.
 * `path` is its node in the integration's key paths, 0 when it has
 * other steps than keys there (selector.h). */
struct ab_sel_ref {
        struct ab_selector *sel;
        size_t skip;
        bool relative;
        uint32_t path;
};

enum ab_cond_op {
        AB_COND_EQUALS,
        AB_COND_NOT_EQUALS,
        AB_COND_IN,
        AB_COND_EXISTS,
        AB_COND_REGEX,
        AB_COND_ALL,
        AB_COND_ANY,
};

struct ab_cond {
        enum ab_cond_op op;
        struct ab_sel_ref field;
        char **values; /* EQUALS/NOT_EQUALS: 1, IN: n */
        size_t *value_lens;
        size_t nvalues;
        bool exists;
        struct ab_cond_regex *regex; /* REGEX */
        struct ab_cond *kids;        /* ALL / ANY */
        size_t nkids;
};

enum ab_method_kind {
        AB_METHOD_NONE = 0,
        AB_METHOD_DIRECT,
        AB_METHOD_SERIES,
        AB_METHOD_CONDITION,
        AB_METHOD_VALUE,
};

struct ab_map_entry {
        char *from;
        size_t from_len;
        char *to;
        size_t to_len;
};

struct ab_branch;

struct ab_method {
        enum ab_method_kind kind;
        struct ab_sel_ref direct;
        struct ab_sel_ref *series;
        size_t nseries;
        char *delimiter;
        size_t delimiter_len;
        struct ab_branch *branches;
        size_t nbranches;
        char *value;
        size_t value_len;
        struct ab_map_entry *map;
        size_t nmap;
        char *map_default; /* NULL: none */
        size_t map_default_len;
        char *path; /* config key path, for messages */
};

struct ab_branch {
        struct ab_cond *when; /* NULL: else-branch */
        struct ab_method method;
};

struct ab_entry {
        char *key;
        size_t key_len;
        bool wildcard; /* "*": copy every member of an object */
        struct ab_method method;
};

struct ab_integration {
        char *name;
        json_t *config;
        int64_t auto_clear_ms;
        struct ab_selector *batch_root;
        uint32_t max_alerts;      /* batch.max_alerts */
        struct ab_cond *recovery; /* an ALL condition, or NULL */
        struct ab_method fields[AB_FIELD__COUNT];
        struct ab_entry *labels;
        size_t nlabels;
        struct ab_entry *annotations;
        size_t nannotations;
        char **dedup;
        size_t ndedup;
        struct ab_selpaths paths; /* of every ab_sel_ref above */
};

#endif
