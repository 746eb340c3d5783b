/* config_reference_main.c - writes docs/CONFIGURATION.md. */
#include <stdio.h>

#include "core/buf.h"
#include "core/log.h"
#include "pipeline/config.h"

int main(int argc, char **argv)
{
        struct ab_buf doc;
        FILE *f  = NULL;
        int code = 1;

        ab_buf_init(&doc, 0);
        if (argc != 2) {
                AB_ERROR("config", "usage: ab_config_reference OUTPUT.md",
                         "argc=%d", argc);
                goto out;
        }
        if (ab_pipeline_config_reference(&doc)) {
                AB_ERROR("config", "cannot render the reference", "file=%s",
                         argv[1]);
                goto out;
        }
        f = fopen(argv[1], "w");
        if (!f || fwrite(doc.data, 1, doc.len, f) != doc.len) {
                AB_ERROR("config", "cannot write", "file=%s", argv[1]);
                goto out;
        }
        code = 0;
out:
        if (f && fclose(f) && code == 0) {
                AB_ERROR("config", "cannot write", "file=%s", argv[1]);
                code = 1;
        }
        ab_buf_fini(&doc);
        return code;
}
