/* err.h - the project-wide error codes, generated from one list. */
#ifndef AB_ERR_H
#define AB_ERR_H

#include <stddef.h>

/*
 * AB_ERR_MAP is the single list of every error alertbridge reports.
 * Each entry is XX(NAME, CLASS, "code", "description"):
 *   - NAME becomes AB_ERR_NAME in the enum;
 *   - CLASS is REJECT, RETRY or FATAL (NONE for OK alone): what the
 *     error means for the record it stops (enum ab_err_class below);
 *   - "code" is the stable machine-readable code printed by the CLI and
 *     written into dead-letter headers (never rename one; only append);
 *   - "description" is the generic human text.
 * AB_OK is 0, so callers write `if (err) goto out;`.
 */
#define AB_ERR_MAP(XX)                                                         \
        XX(OK, NONE, "ok", "success")                                          \
        XX(NOMEM, FATAL, "nomem", "out of memory")                             \
        XX(IO, FATAL, "io", "input/output error")                              \
        XX(USAGE, FATAL, "usage", "invalid command line")                      \
        XX(CONFIG, FATAL, "config", "invalid configuration")                   \
        XX(NOT_FOUND, FATAL, "not_found", "not found")                         \
        XX(DECODE, REJECT, "decode", "payload could not be decoded")           \
        XX(TOO_LARGE, REJECT, "too_large", "value exceeds its size limit")     \
        XX(NO_ALERTNAME, REJECT, "no_alertname",                               \
           "labels.alertname is required")                                     \
        XX(NO_SEVERITY, REJECT, "no_severity", "labels.severity is required")  \
        XX(SEVERITY_UNMAPPED, REJECT, "severity_unmapped",                     \
           "severity value is not in the mapping table")                       \
        XX(BAD_TIME, REJECT, "bad_time", "timestamp could not be parsed")      \
        XX(BATCH_ROOT, REJECT, "batch_root",                                   \
           "batch root is missing or not an array")                            \
        XX(NO_INTEGRATION, REJECT, "no_integration",                           \
           "no integration is bound to this record")                           \
        XX(ACTION_INVALID, REJECT, "action_invalid", "invalid action record")  \
        XX(ACTION_UNKNOWN, REJECT, "action_unknown_alert",                     \
           "action addresses an unknown alert")                                \
        XX(ACTION_CLOSED, REJECT, "action_closed_alert",                       \
           "action addresses a closed alert")                                  \
        XX(STATE, FATAL, "state", "invalid state snapshot")                    \
        XX(KAFKA, RETRY, "kafka", "kafka error")                               \
        XX(HTTP, RETRY, "http", "http error")                                  \
        XX(RETRY, RETRY, "retry", "temporary failure, retry later")            \
        XX(IN_FLIGHT, RETRY, "in_flight",                                      \
           "stopped with work in flight; it will be consumed again")           \
        XX(PERMANENT, REJECT, "permanent", "permanent failure")                \
        XX(INTERNAL, FATAL, "internal", "internal error")                      \
        XX(REGEX_LIMIT, REJECT, "regex_limit",                                 \
           "a regular expression reached its match limit")                     \
        XX(BAD_RECORD, REJECT, "bad_record",                                   \
           "internal topic record could not be decoded")                       \
        XX(TXN_ABORT, RETRY, "txn_abort",                                      \
           "transaction failed: abort it and rewind to the committed offsets") \
        XX(KAFKA_FATAL, FATAL, "kafka_fatal",                                  \
           "fatal kafka client error (e.g. producer fenced)")                  \
        XX(TOO_MANY_ALERTS, REJECT, "too_many_alerts",                         \
           "the batch has more elements than batch.max_alerts")

typedef enum ab_err {
#define AB__ERR_ENUM(name, cls, code, desc) AB_ERR_##name,
        AB_ERR_MAP(AB__ERR_ENUM)
#undef AB__ERR_ENUM
            AB_ERR__COUNT
} ab_err_t;

#define AB_OK AB_ERR_OK

/*
 * What an error means for the record (or the run) it stops:
 *   REJECT  the data is bad and will stay bad: the record becomes a dead
 *           letter (or, in `alertbridge test`, a reported rejection) and
 *           the run goes on;
 *   RETRY   a temporary failure outside the data (Kafka delivery, HTTP
 *           5xx, a full queue): the record is not completed, so it is
 *           tried again, in place or after a restart from the last commit;
 *   FATAL   the process cannot go on (out of memory, a bad configuration
 *           or snapshot, an internal error): it stops without completing
 *           the record.
 * The rule each driver applies is written in pipeline/processor.h.
 */
enum ab_err_class {
        AB_ERR_CLASS_NONE = 0,
        AB_ERR_CLASS_REJECT,
        AB_ERR_CLASS_RETRY,
        AB_ERR_CLASS_FATAL,
};

/** @returns the stable code of \p err ("no_alertname"); never NULL. */
const char *ab_err_code(ab_err_t err);

/** @returns the generic description of \p err; never NULL. */
const char *ab_err_desc(ab_err_t err);

/** @returns the class of \p err; FATAL for a value outside the list. */
enum ab_err_class ab_err_class(ab_err_t err);

/**
 * Caller-owned error detail, filled by functions that take a
 * `struct ab_error *` (which may be NULL when the caller does not care).
 * `path` names the offending key ("fields.severity.map") or selector,
 * `offset` the byte position in the input when `has_offset` is set.
 */
struct ab_error {
        ab_err_t code;
        int has_offset;
        size_t offset;
        char path[160];
        char text[480];
};

/** Reset \p e to "no error". NULL-safe. */
void ab_error_clear(struct ab_error *e);

/**
 * Record an error in \p e (NULL-safe) and return \p code, so call sites
 * read `return ab_error_set(e, AB_ERR_CONFIG, path, "must be a string");`.
 * \p path may be NULL. The text is formatted like printf.
 */
ab_err_t ab_error_set(struct ab_error *e, ab_err_t code, const char *path,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/** Like ab_error_set() and also records a byte offset. */
ab_err_t ab_error_set_at(struct ab_error *e, ab_err_t code, size_t offset,
                         const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/** Put "\p prefix: " before e->text (truncating at the end). NULL-safe. */
void ab_error_prefix(struct ab_error *e, const char *prefix);

/** Append \p suffix to e->text (truncating). NULL-safe. */
void ab_error_suffix(struct ab_error *e, const char *suffix);

/**
 * Format \p e as one line "code: path: text (at byte N)" into \p out.
 * @returns \p out.
 */
const char *ab_error_format(const struct ab_error *e, char *out,
                            size_t outsize);

#endif
