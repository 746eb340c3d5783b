/* cmd_ingest.c - `alertbridge ingest`: the webhook ingest service. */
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/log.h"
#include "ingest/ingest.h"

#define COMP "ingest"

static void ingest_usage(FILE *out)
{
        fprintf(out,
                "usage: alertbridge ingest --config FILE [--check]\n\n"
                "Receives alert webhooks on POST "
                "/api/v1/integrations/<name>/<token> and writes\n"
                "each body unchanged to the integration's Kafka topic, "
                "answering 200 only\n"
                "after Kafka acknowledged the record (503 with Retry-After "
                "while it cannot).\n"
                "--check validates the config, token files, integrations "
                "and TLS files and\n"
                "exits. SIGTERM or SIGINT stops accepting, answers the "
                "requests in flight\n"
                "and exits 0; SIGHUP is ignored (restart to apply a "
                "changed file).\nSee docs/ingest.md.\n");
}

static void log_error(const char *msg, const char *config,
                      const struct ab_error *err)
{
        char quoted[600];

        AB_ERROR(COMP, msg, "config=%s err=%s path=%s text=%s", config,
                 ab_err_code(err->code), err->path,
                 ab_log_quote(err->text, quoted, sizeof(quoted)));
}

int ab_cmd_ingest(int argc, char **argv)
{
        struct ab_ingest_file cfg = {0};
        struct ab_ingest *ing     = NULL;
        volatile sig_atomic_t *stop;
        const char *path = NULL;
        bool check       = false;
        struct ab_error err;
        int status;

        status = ab_cli_service_args(argc, argv, ingest_usage, &path, &check);
        if (status >= 0)
                return status;
        status = AB_EXIT_USAGE;
        ab_error_clear(&err);
        if (ab_ingest_file_load(path, &cfg, &err)) {
                log_error("invalid configuration", path, &err);
                goto out;
        }
        ab_log_threshold = (enum ab_log_level)cfg.log_level;
        if (check) {
                if (ab_ingest_check(&cfg.ingest, path, &err)) {
                        log_error("invalid configuration", path, &err);
                        goto out;
                }
                AB_INFO(COMP, "configuration ok", "config=%s integrations=%zu",
                        path, cfg.ingest.nintegrations);
                status = AB_EXIT_OK;
                goto out;
        }
        ab_cli_install_stop_handlers(&stop);
        /* The file is read at start only: a SIGHUP (`systemctl reload`, a
         * closed terminal) must not end it without draining. */
        ab_cli_install_reload_handler(NULL);
        if (ab_ingest_start(&cfg.ingest, &cfg.kafka, path,
                            AB_INGEST_PROCESS_METRICS, &ing, &err)) {
                log_error("cannot start", path, &err);
                status = err.code == AB_ERR_CONFIG || err.code == AB_ERR_IO
                             ? AB_EXIT_USAGE
                             : AB_EXIT_REJECTED;
                goto out;
        }
        while (!*stop)
                usleep(50 * 1000);
        AB_INFO(COMP, "stopping", "port=%u", (unsigned)ab_ingest_port(ing));
        status = AB_EXIT_OK;
out:
        ab_ingest_stop(ing);
        ab_ingest_file_free(&cfg);
        return status;
}
