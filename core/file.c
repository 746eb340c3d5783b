/* file.c - reads user-named files (configs, integrations, credentials) only
 * when they are regular files of bounded size. */
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mem.h"

/* What a file that is not a regular file is, for messages. */
static const char *kind_name(mode_t mode)
{
        if (S_ISDIR(mode))
                return "a directory";
        if (S_ISFIFO(mode))
                return "a FIFO";
        if (S_ISCHR(mode))
                return "a character device";
        if (S_ISBLK(mode))
                return "a block device";
        if (S_ISSOCK(mode))
                return "a socket";
        return "a special file";
}

/* The limit in messages: "16 MiB" when whole mebibytes, else bytes. */
static void limit_text(size_t limit, char *out, size_t outsize)
{
        if (limit && limit % ((size_t)1 << 20) == 0)
                snprintf(out, outsize, "%zu MiB", limit >> 20);
        else
                snprintf(out, outsize, "%zu bytes", limit);
}

ab_err_t ab_file_open_regular(const char *path, int *fd, struct ab_error *err)
{
        struct stat st;
        int flags;
        int f = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

        *fd = -1;
        if (f < 0)
                return ab_error_set(err, AB_ERR_IO, NULL, "cannot open %s: %s",
                                    path, strerror(errno));
        if (fstat(f, &st)) {
                ab_error_set(err, AB_ERR_IO, NULL, "cannot stat %s: %s", path,
                             strerror(errno));
                close(f);
                return AB_ERR_IO;
        }
        if (!S_ISREG(st.st_mode)) {
                close(f);
                return ab_error_set(err, AB_ERR_IO, NULL,
                                    "cannot read %s: it is %s, not a regular "
                                    "file",
                                    path, kind_name(st.st_mode));
        }
        flags = fcntl(f, F_GETFL);
        if (flags < 0 || fcntl(f, F_SETFL, flags & ~O_NONBLOCK)) {
                ab_error_set(err, AB_ERR_IO, NULL, "cannot read %s: %s", path,
                             strerror(errno));
                close(f);
                return AB_ERR_IO;
        }
        *fd = f;
        return AB_OK;
}

ab_err_t ab_file_read(const char *path, size_t limit, char **data, size_t *len,
                      struct ab_error *err)
{
        char lim[32];
        char *buf   = NULL;
        size_t have = 0, cap;
        struct stat st;
        ab_err_t rc;
        int fd;

        *data = NULL;
        *len  = 0;
        rc    = ab_file_open_regular(path, &fd, err);
        if (rc)
                return rc;
        limit_text(limit, lim, sizeof(lim));
        if (fstat(fd, &st) == 0 && (uintmax_t)st.st_size > limit) {
                rc = ab_error_set(err, AB_ERR_TOO_LARGE, NULL,
                                  "cannot read %s: its %jd bytes exceed the "
                                  "limit of %s",
                                  path, (intmax_t)st.st_size, lim);
                goto out;
        }
        /* One byte past the limit tells a file that grew from one that
         * fits exactly; one more for the terminating NUL. */
        cap = (size_t)st.st_size + 2;
        if (cap > limit + 2)
                cap = limit + 2;
        buf = ab_malloc(cap);
        if (!buf) {
                rc = ab_error_set(err, AB_ERR_NOMEM, NULL,
                                  "out of memory reading %s", path);
                goto out;
        }
        for (;;) {
                ssize_t n;

                if (have == cap - 1) {
                        char *grown;

                        if (have > limit)
                                break;
                        cap   = cap * 2 > limit + 2 ? limit + 2 : cap * 2;
                        grown = ab_realloc(buf, cap);
                        if (!grown) {
                                rc = ab_error_set(err, AB_ERR_NOMEM, NULL,
                                                  "out of memory reading %s",
                                                  path);
                                goto out;
                        }
                        buf = grown;
                }
                n = read(fd, buf + have, cap - 1 - have);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        rc = ab_error_set(err, AB_ERR_IO, NULL,
                                          "cannot read %s: %s", path,
                                          strerror(errno));
                        goto out;
                }
                if (n == 0)
                        break;
                have += (size_t)n;
        }
        if (have > limit) {
                rc = ab_error_set(err, AB_ERR_TOO_LARGE, NULL,
                                  "cannot read %s: it exceeds the limit of %s",
                                  path, lim);
                goto out;
        }
        buf[have] = '\0';
        *data     = buf;
        *len      = have;
        buf       = NULL;
out:
        ab_free(buf);
        close(fd);
        return rc;
}
