/* io.c - reading whole inputs for the CLI. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/file.h"

/* Standard input, read whole up to \p limit bytes. */
static char *read_stdin(size_t limit, size_t *len)
{
        struct ab_buf b;
        char chunk[65536];
        size_t n;

        ab_buf_init(&b, 0);
        if (ab_buf_reserve(&b, 0))
                goto fail;
        while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
                if (b.len + n > limit) {
                        fprintf(stderr,
                                "alertbridge: standard input exceeds the "
                                "limit of %zu MiB\n",
                                limit >> 20);
                        ab_buf_fini(&b);
                        return NULL;
                }
                if (ab_buf_append(&b, chunk, n))
                        goto fail;
        }
        if (ferror(stdin))
                goto fail;
        return ab_buf_take(&b, len);
fail:
        fprintf(stderr, "alertbridge: cannot read standard input\n");
        ab_buf_fini(&b);
        return NULL;
}

char *ab_cli_read_all(const char *path, size_t *len)
{
        struct ab_error err;
        char *data;

        if (!strcmp(path, "-"))
                return read_stdin(AB_CLI_INPUT_MAX, len);
        if (ab_file_read(path, AB_CLI_INPUT_MAX, &data, len, &err)) {
                fprintf(stderr, "alertbridge: %s\n", err.text);
                return NULL;
        }
        return data;
}
