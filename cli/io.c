/* io.c - reading whole inputs for the CLI. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"

char *ab_cli_read_all(const char *path, size_t *len)
{
        FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
        struct ab_buf b;
        char chunk[65536];
        size_t n;

        if (!f) {
                fprintf(stderr, "alertbridge: cannot open %s: %s\n", path,
                        strerror(errno));
                return NULL;
        }
        ab_buf_init(&b, 0);
        if (ab_buf_reserve(&b, 0))
                goto fail;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                if (ab_buf_append(&b, chunk, n))
                        goto fail;
        if (ferror(f))
                goto fail;
        if (f != stdin)
                fclose(f);
        return ab_buf_take(&b, len);
fail:
        fprintf(stderr, "alertbridge: cannot read %s\n", path);
        if (f != stdin)
                fclose(f);
        ab_buf_fini(&b);
        return NULL;
}
