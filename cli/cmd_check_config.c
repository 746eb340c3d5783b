/* cmd_check_config.c - `alertbridge check-config`: validate a config file and name the offending key. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "conf.h"
#include "integration.h"

static void check_usage(FILE *out)
{
        fprintf(out,
                "usage: alertbridge check-config PATH\n\n"
                "Validates an integration file. Prints 'ok: ...' and exits 0, "
                "or prints the\n"
                "offending key path and the reason and exits 2.\n");
}

int ab_cmd_check_config(int argc, char **argv)
{
        struct ab_integration *integ = NULL;
        struct ab_error err;
        char line[1024];
        json_t *root;
        int status;

        if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
                check_usage(stdout);
                return AB_EXIT_OK;
        }
        if (argc != 2) {
                check_usage(stderr);
                return AB_EXIT_USAGE;
        }
        ab_error_clear(&err);
        root = ab_conf_load_file(argv[1], &err);
        if (!root) {
                fprintf(stderr, "%s: %s\n", argv[1],
                        ab_error_format(&err, line, sizeof(line)));
                return AB_EXIT_USAGE;
        }
        if (ab_integration_compile(root, NULL, &integ, &err)) {
                fprintf(stderr, "%s: %s\n", argv[1],
                        ab_error_format(&err, line, sizeof(line)));
                status = AB_EXIT_USAGE;
        } else {
                printf("ok: integration '%s'\n", ab_integration_name(integ));
                status = AB_EXIT_OK;
        }
        ab_integration_destroy(integ);
        json_decref(root);
        return status;
}
