/* main.c - the alertbridge command line: dispatches to one subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

struct command {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *summary;
};

static const struct command commands[] = {
    {"test", ab_cmd_test,
     "map payloads with an integration and print CloudEvents"},
    {"check-config", ab_cmd_check_config,
     "validate an integration or pipeline config file"},
    {"run", ab_cmd_run, "run the pipeline service (consumer group)"},
    {"config-reference", ab_cmd_config_reference,
     "print the pipeline configuration reference (Markdown)"},
    {"demo", ab_cmd_demo,
     "run the whole pipeline on an in-process MOCK Kafka cluster"},
    {"sink", ab_cmd_sink,
     "publish CloudEvents from Kafka to Alibaba Cloud EventBridge"},
    {"replay", ab_cmd_replay,
     "replay a range of an alert topic to test a mapping change"},
    {"ingest", ab_cmd_ingest, "receive alert webhooks and write them to Kafka"},
};

static void usage(FILE *out)
{
        fprintf(out, "usage: alertbridge <command> [options]\n\ncommands:\n");
        for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
                fprintf(out, "  %-17s %s\n", commands[i].name,
                        commands[i].summary);
        fprintf(out, "\nRun 'alertbridge <command> --help' for its options.\n");
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                usage(stderr);
                return AB_EXIT_USAGE;
        }
        if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
            !strcmp(argv[1], "help")) {
                usage(stdout);
                return AB_EXIT_OK;
        }
        if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
                printf("alertbridge %s\n", AB_VERSION);
                return AB_EXIT_OK;
        }
        for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
                if (!strcmp(argv[1], commands[i].name))
                        return commands[i].run(argc - 1, argv + 1);
        fprintf(stderr, "alertbridge: unknown command '%s'\n\n", argv[1]);
        usage(stderr);
        return AB_EXIT_USAGE;
}
