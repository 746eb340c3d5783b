/* cmd_sink.c - `alertbridge sink`: the EventBridge sink service. */
#include <stdbool.h>
#include <stdio.h>

#include "cli/cli.h"
#include "core/log.h"
#include "sink/sink.h"

#define COMP "sink"

static void sink_usage(FILE *out)
{
        fprintf(out,
                "usage: alertbridge sink --config FILE [--check]\n\n"
                "Publishes CloudEvents from Kafka to an EventBridge event bus "
                "(PutEvents),\n"
                "committing offsets only after EventBridge accepted every "
                "event up to them.\n"
                "--check validates the config and exits (0 when the file is "
                "valid; missing\n"
                "credentials are a warning). SIGTERM or SIGINT drains "
                "in-flight\n"
                "events, commits and exits 0; a permanent failure with "
                "on_permanent: stop\n"
                "exits 1. See docs/sink.md.\n");
}

/* The error that keeps the sink from starting; its path names the key or
 * the variable, never a secret. */
static void log_start_error(const struct ab_error *err)
{
        char quoted[600];

        AB_ERROR(COMP, "cannot start", "err=%s path=%s text=%s",
                 ab_err_code(err->code), err->path,
                 ab_log_quote(err->text, quoted, sizeof(quoted)));
}

int ab_cmd_sink(int argc, char **argv)
{
        struct ab_sink_config cfg;
        struct ab_sink *sink = NULL;
        volatile sig_atomic_t *stop;
        const char *path = NULL;
        bool check       = false;
        struct ab_error err;
        char quoted[600];
        int status;

        status = ab_cli_service_args(argc, argv, sink_usage, &path, &check);
        if (status >= 0)
                return status;
        status = AB_EXIT_USAGE;
        ab_error_clear(&err);
        if (ab_sink_config_load(path, &cfg, &err)) {
                AB_ERROR(COMP, "invalid configuration",
                         "config=%s path=%s text=%s", path, err.path,
                         ab_log_quote(err.text, quoted, sizeof(quoted)));
                goto out;
        }
        ab_log_threshold = (enum ab_log_level)cfg.log_level;
        ab_log_format    = (enum ab_log_format)cfg.log_format;
        if (check) {
                /* The file is valid; credentials usually exist only where
                 * the sink runs, so their absence here is a warning. */
                if (ab_sink_check(&cfg, &err))
                        AB_WARN(COMP,
                                "configuration ok, but the sink could not "
                                "start here without credentials",
                                "config=%s path=%s text=%s", cfg.path, err.path,
                                ab_log_quote(err.text, quoted, sizeof(quoted)));
                else
                        AB_INFO(COMP, "configuration ok", "config=%s",
                                cfg.path);
                status = AB_EXIT_OK;
                goto out;
        }
        ab_cli_install_stop_handlers(&stop);
        /* Nothing of the sink reloads live: a SIGHUP (`systemctl reload`,
         * a closed terminal) must not end it (docs/sink.md). */
        ab_cli_install_reload_handler(NULL);
        if (ab_sink_new(&cfg, &sink, &err)) {
                log_start_error(&err);
                goto out;
        }
        status = ab_sink_run(sink, stop, &err) ? AB_EXIT_REJECTED : AB_EXIT_OK;
out:
        ab_sink_destroy(sink);
        ab_sink_config_free(&cfg);
        return status;
}
