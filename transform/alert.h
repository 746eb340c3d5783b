/* alert.h - the normalized alert that the mapping engine produces. */
#ifndef AB_ALERT_H
#define AB_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/str.h"

/* The ARMS alert fields (seed 001, "Map source fields to ARMS alert fields").
 */
#define AB_ALERT_FIELD_MAP(XX)                                                 \
        XX(ALERTNAME, "alertname", LABEL)                                      \
        XX(SEVERITY, "severity", LABEL)                                        \
        XX(MESSAGE, "message", ANNOTATION)                                     \
        XX(VALUE, "value", ANNOTATION)                                         \
        XX(IMAGEURL, "imageUrl", ANNOTATION)                                   \
        XX(CHECK, "check", LABEL)                                              \
        XX(SOURCE, "source", LABEL)                                            \
        XX(CLASS, "class", LABEL)                                              \
        XX(SERVICE, "service", LABEL)                                          \
        XX(STARTAT, "startat", TIME)                                           \
        XX(ENDAT, "endat", TIME)                                               \
        XX(GENERATORURL, "generatorUrl", ANNOTATION)                           \
        XX(EXTERNALURL, "externalURL", GROUP)                                  \
        XX(RECEIVER, "receiver", GROUP)

enum ab_alert_field {
#define AB__FIELD_ENUM(id, name, kind) AB_FIELD_##id,
        AB_ALERT_FIELD_MAP(AB__FIELD_ENUM)
#undef AB__FIELD_ENUM
            AB_FIELD__COUNT
};

/* Where a field lands in the output event. */
enum ab_field_kind {
        AB_FIELD_KIND_LABEL,
        AB_FIELD_KIND_ANNOTATION,
        AB_FIELD_KIND_TIME,
        AB_FIELD_KIND_GROUP, /* the event's data.data (the Alertmanager
                                group), not a label or annotation */
};

/** "alertname" for AB_FIELD_ALERTNAME. */
const char *ab_alert_field_name(enum ab_alert_field f);
/** The same name with its length. */
struct ab_str ab_alert_field_key(enum ab_alert_field f);
enum ab_field_kind ab_alert_field_kind(enum ab_alert_field f);
/** @returns the field called \p name (case-sensitive), or -1. */
int ab_alert_field_lookup(const char *name, size_t len);

/* Maximum message length in characters (ARMS); longer is cut and marked. */
#define AB_ALERT_MESSAGE_MAX_CHARS 15000
#define AB_ALERT_TRUNCATION_MARK   "...[truncated]"

enum ab_alert_status {
        AB_ALERT_FIRING = 0,
        AB_ALERT_RESOLVED,
};

struct ab_kv {
        struct ab_str key;
        struct ab_str val;
};

/*
 * One normalized alert. Every string is borrowed from the engine that
 * produced it and stays valid until that engine's next run.
 *
 * `labels` is the final label set: alertname, severity (as "P1".."P4"),
 * check, source, class, service when present, plus the integration's
 * `labels:` entries; sorted by key bytewise, keys unique (a mapped field
 * wins over a copied "*" entry of the same name). `annotations` likewise
 * holds message, value, imageUrl, generatorUrl and the `annotations:`
 * entries.
 */
struct ab_alert {
        enum ab_alert_status status;
        int severity;                         /* 1..4 */
        struct ab_str field[AB_FIELD__COUNT]; /* ptr NULL = not mapped */
        int64_t starts_ms;                    /* valid if has_starts */
        int64_t ends_ms;                      /* valid if has_ends */
        bool has_starts;
        bool has_ends;
        bool message_truncated;
        uint32_t index; /* element index in a batch */
        const struct ab_kv *labels;
        size_t nlabels;
        const struct ab_kv *annotations;
        size_t nannotations;
};

/** Label \p key of \p a, or AB_STR_NULL. Binary search. */
struct ab_str ab_alert_label(const struct ab_alert *a, struct ab_str key);

/**
 * Where field \p f of \p a already is: 1 + the index of the label (label
 * fields) or annotation (annotation fields) named after the field whose
 * value is present and equal to the field's, else 0 (the field is not
 * mapped, is of another kind, or holds a value of its own). The ALERT
 * record and the lifecycle's stored alert write such a field as this
 * reference instead of its text.
 */
size_t ab_alert_field_ref(const struct ab_alert *a, enum ab_alert_field f);

#endif
