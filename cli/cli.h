/* cli.h - the subcommands of the alertbridge command line. */
#ifndef AB_CLI_H
#define AB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Exit statuses shared by every subcommand. */
#define AB_EXIT_OK       0
#define AB_EXIT_REJECTED 1 /* ran, but some input was rejected or differed */
#define AB_EXIT_USAGE    2 /* bad command line or configuration */
/* run: stopped on request with work left in flight (sysexits.h
 * EX_TEMPFAIL): nothing is lost, those records are consumed again. */
#define AB_EXIT_IN_FLIGHT 75

#include <signal.h>

int ab_cmd_test(int argc, char **argv);
int ab_cmd_check_config(int argc, char **argv);
int ab_cmd_run(int argc, char **argv);
int ab_cmd_config_reference(int argc, char **argv);
int ab_cmd_demo(int argc, char **argv);
int ab_cmd_replay(int argc, char **argv);
int ab_cmd_sink(int argc, char **argv);
int ab_cmd_ingest(int argc, char **argv);

/**
 * Parse the command line of a long-running service: `--config FILE` (or
 * `-c`), `--help` (`-h`), `--version`, and `--check` when \p check is not
 * NULL (set true when given). \p usage prints the command's usage.
 * @returns -1 with \p *path set to go on, or the exit status to return
 *          (after --help, --version or a usage error).
 */
int ab_cli_service_args(int argc, char **argv, void (*usage)(FILE *out),
                        const char **path, bool *check);

/** SIGTERM and SIGINT set *flag (returned); SIGPIPE is ignored. */
void ab_cli_install_stop_handlers(volatile sig_atomic_t **flag);

/** SIGHUP sets *flag (returned); with \p flag NULL, SIGHUP is ignored. */
void ab_cli_install_reload_handler(volatile sig_atomic_t **flag);

/* The most `alertbridge test` reads from its input file or stdin. */
#define AB_CLI_INPUT_MAX ((size_t)256 << 20)

/**
 * Read all of \p path ("-" = stdin) into a new NUL-terminated buffer
 * (ab_free). A path must name a regular file; both are read up to
 * AB_CLI_INPUT_MAX. @returns NULL with a message on stderr on failure.
 */
char *ab_cli_read_all(const char *path, size_t *len);

#endif
