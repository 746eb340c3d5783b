/* cmd_check_config.c - `alertbridge check-config` and `config-reference`:
 * validate configs, print the reference. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/conf.h"
#include "ingest/ingest.h"
#include "pipeline/config.h"
#include "sink/sink_config.h"
#include "transform/integration.h"

static void check_usage(FILE *out)
{
        fprintf(out, "usage: alertbridge check-config PATH\n\n"
                     "Validates an integration file, a pipeline config (one "
                     "with kafka:, inputs:\n"
                     "or output:), a sink config (one with eventbridge: or "
                     "kafka.topics) or an\n"
                     "ingest config (ingest: without inputs:). Prints\n"
                     "'ok: ...' and exits 0, or prints the offending key path "
                     "and the reason and\n"
                     "exits 2. A sink's credentials are checked by "
                     "`alertbridge sink --check`.\n");
}

static void reference_usage(FILE *out)
{
        fprintf(out, "usage: alertbridge config-reference\n\n"
                     "Prints the pipeline configuration reference (every key, "
                     "its type, default and\n"
                     "meaning) as Markdown on stdout. Its kafka.*, ingest.* "
                     "and log_level keys are\n"
                     "also those of `alertbridge ingest --config`.\n");
}

/* Parses a command line that takes only --help and --version besides
 * \p nargs operands. @returns -1 to go on, else the exit status. */
static int parse_simple(int argc, char **argv, int nargs, void (*usage)(FILE *))
{
        static const struct option longopts[] = {
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, 'V'},
            {NULL, 0, NULL, 0}};
        int c;

        optind = 1;
        while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        usage(stdout);
                        return AB_EXIT_OK;
                case 'V':
                        printf("alertbridge %s\n", AB_VERSION);
                        return AB_EXIT_OK;
                default:
                        usage(stderr);
                        return AB_EXIT_USAGE;
                }
        }
        if (argc - optind != nargs) {
                usage(stderr);
                return AB_EXIT_USAGE;
        }
        return -1;
}

/* A sink config names its event bus, or lists topics under kafka: (a
 * pipeline's topics are under inputs:). */
static bool is_sink_config(json_t *root)
{
        return json_object_get(root, "eventbridge") ||
               json_object_get(json_object_get(root, "kafka"), "topics");
}

static int check_sink(const char *path)
{
        struct ab_sink_config cfg;
        struct ab_error err;
        char line[1024];
        int status = AB_EXIT_USAGE;

        ab_error_clear(&err);
        if (ab_sink_config_load(path, &cfg, &err)) {
                fprintf(stderr, "%s: %s\n", path,
                        ab_error_format(&err, line, sizeof(line)));
        } else {
                printf("ok: sink config with %zu topics to event bus '%s' "
                       "(credentials: see `alertbridge sink --check`)\n",
                       cfg.input.ntopics, cfg.eventbridge.bus);
                status = AB_EXIT_OK;
        }
        ab_sink_config_free(&cfg);
        return status;
}

/* An ingest config has an ingest: section and no pipeline. */
static bool is_ingest_config(json_t *root)
{
        return json_object_get(root, "ingest") &&
               !json_object_get(root, "inputs") &&
               !json_object_get(root, "output");
}

static int check_ingest(const char *path)
{
        struct ab_ingest_file cfg;
        struct ab_error err;
        char line[1024];
        int status = AB_EXIT_USAGE;

        ab_error_clear(&err);
        if (ab_ingest_file_load(path, &cfg, &err) ||
            ab_ingest_check(&cfg.ingest, path, &err)) {
                fprintf(stderr, "%s: %s\n", path,
                        ab_error_format(&err, line, sizeof(line)));
        } else {
                printf("ok: ingest config with %zu integrations\n",
                       cfg.ingest.nintegrations);
                status = AB_EXIT_OK;
        }
        ab_ingest_file_free(&cfg);
        return status;
}

int ab_cmd_check_config(int argc, char **argv)
{
        struct ab_integration *integ = NULL;
        struct ab_error err;
        char line[1024];
        json_t *root;
        int status;

        status = parse_simple(argc, argv, 1, check_usage);
        if (status >= 0)
                return status;
        argv += optind - 1;
        ab_error_clear(&err);
        root = ab_conf_load_file(argv[1], &err);
        if (!root) {
                fprintf(stderr, "%s: %s\n", argv[1],
                        ab_error_format(&err, line, sizeof(line)));
                return AB_EXIT_USAGE;
        }
        if (is_sink_config(root)) {
                json_decref(root);
                return check_sink(argv[1]);
        }
        if (is_ingest_config(root)) {
                json_decref(root);
                return check_ingest(argv[1]);
        }
        if (json_object_get(root, "kafka") || json_object_get(root, "inputs") ||
            json_object_get(root, "output")) {
                struct ab_pipeline_config *cfg = NULL;
                json_decref(root);
                if (ab_pipeline_config_load(argv[1], &cfg, &err)) {
                        fprintf(stderr, "%s: %s\n", argv[1],
                                ab_error_format(&err, line, sizeof(line)));
                        return AB_EXIT_USAGE;
                }
                /* A pipeline is only valid if its integrations are. */
                for (size_t i = 0; i < cfg->ninputs; i++) {
                        if (!cfg->inputs[i].integration)
                                continue;
                        if (ab_integration_load(cfg->inputs[i].integration,
                                                &integ, &err)) {
                                fprintf(
                                    stderr,
                                    "%s: inputs[%zu].integration: "
                                    "%s\n",
                                    argv[1], i,
                                    ab_error_format(&err, line, sizeof(line)));
                                ab_pipeline_config_destroy(cfg);
                                return AB_EXIT_USAGE;
                        }
                        ab_integration_destroy(integ);
                        integ = NULL;
                }
                if (cfg->ingest.nintegrations &&
                    ab_ingest_check(&cfg->ingest, argv[1], &err)) {
                        fprintf(stderr, "%s: %s\n", argv[1],
                                ab_error_format(&err, line, sizeof(line)));
                        ab_pipeline_config_destroy(cfg);
                        return AB_EXIT_USAGE;
                }
                printf("ok: pipeline with %zu inputs\n", cfg->ninputs);
                ab_pipeline_config_destroy(cfg);
                return AB_EXIT_OK;
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

int ab_cmd_config_reference(int argc, char **argv)
{
        struct ab_buf out;
        int status = parse_simple(argc, argv, 0, reference_usage);

        if (status >= 0)
                return status;
        status = AB_EXIT_OK;
        ab_buf_init(&out, 0);
        if (ab_pipeline_config_reference(&out) ||
            fwrite(out.data, 1, out.len, stdout) != out.len)
                status = AB_EXIT_REJECTED;
        ab_buf_fini(&out);
        return status;
}
