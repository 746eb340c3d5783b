/* conf_units.h - parses durations and sizes in config values. */
#ifndef AB_CONF_UNITS_H
#define AB_CONF_UNITS_H

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
