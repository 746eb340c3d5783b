/* log.h - the one logger: logfmt or JSON lines on stderr. */
#ifndef AB_LOG_H
#define AB_LOG_H

enum ab_log_level {
        AB_LOG_ERROR = 0,
        AB_LOG_WARN  = 1,
        AB_LOG_INFO  = 2,
        AB_LOG_DEBUG = 3,
};

enum ab_log_format {
        AB_LOG_LOGFMT = 0, /* ts=... level=... comp=... msg="..." k=v */
        AB_LOG_JSON   = 1, /* {"ts":"...","level":"...",...,"k":"v"} */
};

/** The current threshold; lines above it are not formatted at all. */
extern enum ab_log_level ab_log_threshold;

/** The line format; logfmt unless set. */
extern enum ab_log_format ab_log_format;

/** Set the format from "logfmt" or "json". @returns 0 or -1. */
int ab_log_set_format(const char *name);

/** Set the threshold from "error", "warn", "info" or "debug". @returns 0 or -1.
 */
int ab_log_set_level(const char *name);

/**
 * Write one line: `ts=... level=... comp=... msg="..." <kv>` in logfmt.
 * \p msg is quoted and escaped; \p kvfmt (may be NULL) is a printf format
 * for extra `key=value` pairs, appended as is: quote values that may hold
 * spaces with ab_log_quote(). In JSON every pair becomes a string member
 * of the line's object (a stray token that is no pair goes to "extra"),
 * so callers write logfmt pairs whatever the format. Thread-safe (one
 * write(2) per line).
 */
void ab_log_write(enum ab_log_level level, const char *comp, const char *msg,
                  const char *kvfmt, ...) __attribute__((format(printf, 4, 5)));

/**
 * Quote \p s as a logfmt value into \p out (always NUL-terminated).
 * @returns \p out.
 */
const char *ab_log_quote(const char *s, char *out, unsigned outsize);

/** Map a syslog level (librdkafka, curl) to ours. */
enum ab_log_level ab_log_from_syslog(int syslog_level);

/* The level is tested before any argument is evaluated. */
#define AB_LOG(level, comp, msg, ...)                                          \
        do {                                                                   \
                if ((level) <= ab_log_threshold)                               \
                        ab_log_write((level), (comp), (msg), __VA_ARGS__);     \
        } while (0)

#define AB_ERROR(comp, msg, ...) AB_LOG(AB_LOG_ERROR, comp, msg, __VA_ARGS__)
#define AB_WARN(comp, msg, ...)  AB_LOG(AB_LOG_WARN, comp, msg, __VA_ARGS__)
#define AB_INFO(comp, msg, ...)  AB_LOG(AB_LOG_INFO, comp, msg, __VA_ARGS__)
#define AB_DEBUG(comp, msg, ...) AB_LOG(AB_LOG_DEBUG, comp, msg, __VA_ARGS__)

#endif
