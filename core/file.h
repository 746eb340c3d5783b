/* file.h - reads user-named files (configs, integrations, credentials) only
 * when they are regular files of bounded size. */
#ifndef AB_FILE_H
#define AB_FILE_H

#include <stddef.h>

#include "core/err.h"

/* The most a config, integration or credentials file may hold. */
#define AB_FILE_CONF_MAX ((size_t)16 << 20)

/**
 * Open \p path for reading if it is a regular file. The open does not
 * block (O_NONBLOCK, cleared again afterwards), so a FIFO is refused as
 * promptly as a device or a directory.
 * @returns AB_OK with *fd (the caller closes it), or AB_ERR_IO with \p err
 *          naming the path and what it is ("is a FIFO, not a regular
 *          file") or why it could not be opened.
 */
ab_err_t ab_file_open_regular(const char *path, int *fd, struct ab_error *err);

/**
 * Read the regular file \p path whole, if it holds at most \p limit bytes.
 * @returns AB_OK with *data (NUL-terminated, the caller ab_free()s it) and
 *          *len; AB_ERR_IO as for ab_file_open_regular() or on a read
 *          error, AB_ERR_TOO_LARGE naming the path and the limit, or
 *          AB_ERR_NOMEM. \p err may be NULL.
 */
ab_err_t ab_file_read(const char *path, size_t limit, char **data, size_t *len,
                      struct ab_error *err);

#endif
