/* cmd_run.c - `alertbridge run`: the long-running pipeline service. */
#include <signal.h>
#include <stdio.h>

#include "cli/cli.h"
#include "core/log.h"
#include "ingest/ingest.h"
#include "pipeline/config.h"
#include "pipeline/pipeline.h"

static void run_usage(FILE *out)
{
        fprintf(out, "usage: alertbridge run --config FILE\n\n"
                     "Consumes raw alert topics in a consumer group, writes "
                     "CloudEvents to the output\n"
                     "topics and undecodable records to the dead-letter topic. "
                     "SIGTERM or SIGINT\n"
                     "drains in-flight records, commits and exits 0, or 75 "
                     "when records were\n"
                     "still in flight after kafka.flush_timeout (they are "
                     "consumed again). SIGHUP\n"
                     "reloads the integrations and policies "
                     "(docs/reloading.md). With "
                     "ingest.integrations,\n"
                     "it also receives webhooks (docs/ingest.md). See\n"
                     "docs/CONFIGURATION.md.\n");
}

int ab_cmd_run(int argc, char **argv)
{
        struct ab_pipeline_config *cfg = NULL;
        struct ab_pipeline *pl         = NULL;
        struct ab_ingest *ing          = NULL;
        volatile sig_atomic_t *stop, *hup;
        const char *path = NULL;
        struct ab_error err;
        char line[1024];
        char quoted[1100]; /* line quoted; must not alias line */
        int status;
        ab_err_t rc;

        status = ab_cli_service_args(argc, argv, run_usage, &path, NULL);
        if (status >= 0)
                return status;
        status = AB_EXIT_USAGE;
        ab_error_clear(&err);
        if (ab_pipeline_config_load(path, &cfg, &err)) {
                fprintf(stderr, "alertbridge run: %s: %s\n", path,
                        ab_error_format(&err, line, sizeof(line)));
                return AB_EXIT_USAGE;
        }
        ab_log_threshold = cfg->log_level;
        ab_log_format    = cfg->log_format;
        ab_cli_install_stop_handlers(&stop);
        ab_cli_install_reload_handler(&hup);
        if (ab_pipeline_new(cfg, &pl, &err)) {
                AB_ERROR("cli", "cannot start the pipeline", "error=%s",
                         ab_log_quote(ab_error_format(&err, line, sizeof(line)),
                                      quoted, sizeof(quoted)));
                status = err.code == AB_ERR_CONFIG ? AB_EXIT_USAGE
                                                   : AB_EXIT_REJECTED;
                goto out;
        }
        if (cfg->ingest.nintegrations && cfg->ingest.listen &&
            ab_ingest_start(&cfg->ingest, &cfg->kafka, path, 0, &ing, &err)) {
                AB_ERROR("cli", "cannot start the webhook ingest", "error=%s",
                         ab_log_quote(ab_error_format(&err, line, sizeof(line)),
                                      quoted, sizeof(quoted)));
                status = err.code == AB_ERR_CONFIG || err.code == AB_ERR_IO
                             ? AB_EXIT_USAGE
                             : AB_EXIT_REJECTED;
                goto out;
        }
        ab_pipeline_watch_reload(pl, hup);
        rc = ab_pipeline_run(pl, stop, &err);
        if (rc == AB_ERR_IN_FLIGHT) {
                /* The pipeline logged how much is left. */
                status = AB_EXIT_IN_FLIGHT;
                goto out;
        }
        if (rc) {
                AB_ERROR("cli",
                         "the pipeline stopped on an error; restart "
                         "resumes from the committed offsets",
                         "error=%s",
                         ab_log_quote(ab_error_format(&err, line, sizeof(line)),
                                      quoted, sizeof(quoted)));
                status = AB_EXIT_REJECTED;
                goto out;
        }
        status = AB_EXIT_OK;
out:
        ab_ingest_stop(ing);
        ab_pipeline_destroy(pl);
        ab_pipeline_config_destroy(cfg);
        return status;
}
