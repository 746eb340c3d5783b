/* service_args.c - the command line shared by the long-running services:
 * run, sink and ingest. */
#include <getopt.h>

#include "cli/cli.h"

int ab_cli_service_args(int argc, char **argv, void (*usage)(FILE *out),
                        const char **path, bool *check)
{
        static const struct option with_check[] = {
            {"config", required_argument, NULL, 'c'},
            {"check", no_argument, NULL, 'k'},
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, 'V'},
            {NULL, 0, NULL, 0}};
        static const struct option without_check[] = {
            {"config", required_argument, NULL, 'c'},
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, 'V'},
            {NULL, 0, NULL, 0}};
        int c;

        *path  = NULL;
        optind = 1;
        while ((c = getopt_long(argc, argv, "c:h",
                                check ? with_check : without_check, NULL)) !=
               -1) {
                switch (c) {
                case 'c':
                        *path = optarg;
                        break;
                case 'k':
                        *check = true;
                        break;
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
        if (!*path || optind != argc) {
                usage(stderr);
                return AB_EXIT_USAGE;
        }
        return -1;
}
