/* conf2json.c - prints a config file as the JSON tree core/conf.c reads. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/conf.h"
#include "core/err.h"

/*
 * Test helper for the schema tests: the JSON Schemas must judge exactly
 * the tree the engine compiles (YAML 1.2 core scalars, as core/conf.c
 * reads them), not another YAML library's idea of it.
 * Usage: ab_conf2json FILE. Exit 0 and the compact JSON on stdout, or 1
 * and the reader's error on stderr.
 */
int main(int argc, char **argv)
{
        struct ab_error err;
        char line[sizeof(err.path) + sizeof(err.text) + 64];
        json_t *root;
        int rc;

        if (argc != 2) {
                fprintf(stderr, "usage: %s FILE\n", argv[0]);
                return 2;
        }
        ab_error_clear(&err);
        root = ab_conf_load_file(argv[1], &err);
        if (!root) {
                fprintf(stderr, "%s: %s\n", argv[1],
                        ab_error_format(&err, line, sizeof(line)));
                return 1;
        }
        rc = json_dumpf(root, stdout, JSON_COMPACT | JSON_ENCODE_ANY) ? 1 : 0;
        fputc('\n', stdout);
        json_decref(root);
        return rc;
}
