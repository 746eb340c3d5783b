/* cmd_test.c - `alertbridge test`: map sample payloads through the processor
 * and print CloudEvents. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "lifecycle/report.h"
#include "pipeline/config.h"
#include "pipeline/processor.h"
#include "transform/transform.h"

struct test_opts {
        const char *integration;
        const char *input;
        int dedup;
        int64_t now_ms;
        const char *source;
};

/*
 * The processor's configuration: every default of pipeline/config.c (so
 * `test` applies what `run` would), no lifecycle limit. Its names are
 * placeholders: nothing is read from or written to Kafka. load_config()
 * binds the integration under test and --source.
 */
static const char test_config[] = "{\"kafka\":{\"brokers\":\"test\"},"
                                  "\"inputs\":[{\"topics\":[\"test\"]}],"
                                  "\"output\":{\"topic\":\"test.events\"},"
                                  "\"dead_letter_topic\":\"test.rejected\","
                                  "\"lifecycle\":{\"max_open_alerts\":0}}";

struct test_run {
        const struct test_opts *opts;
        struct ab_processor *proc;
        struct ab_lifecycle_report *report; /* --dedup only */
        size_t index;                       /* current input index */
        int rejected;
};

static void test_usage(FILE *out)
{
        fprintf(out,
                "usage: alertbridge test --integration NAME|PATH "
                "[--input FILE|-] [--dedup] [--now TIME]\n\n"
                "Reads one JSON document, or several payloads one per line "
                "(JSON or form-encoded),\n"
                "maps them and prints one CloudEvent per line on stdout. "
                "Rejected payloads are\n"
                "reported on stderr as '<index> <code> <message>'.\n\n"
                "  -i, --integration  built-in name or integration file\n"
                "  -f, --input        input file, '-' for stdin (default)\n"
                "  -d, --dedup        run the alert lifecycle (dedup, "
                "recovery, auto-clear)\n"
                "                     and print a grouping report after the "
                "events\n"
                "      --now          the current time (RFC 3339 or epoch "
                "ms) for reproducible\n"
                "                     output; default: the wall clock\n"
                "      --source       CloudEvents source (default "
                "alertbridge)\n\n"
                "Exit status: 0 all mapped, 1 some rejected, 2 usage or "
                "config error.\n");
}

/* The processor's configuration for \p o (ab_pipeline_config_destroy() it):
 * test_config with the integration under test bound to its input and
 * --source as the CloudEvents source, both taken as given. */
static ab_err_t load_config(const struct test_opts *o,
                            struct ab_pipeline_config **out,
                            struct ab_error *err)
{
        struct ab_pipeline_config *cfg;
        char *integration, *source;
        ab_err_t rc;

        rc =
            ab_pipeline_config_load_string(test_config, sizeof(test_config) - 1,
                                           "test defaults", NULL, &cfg, err);
        if (rc)
                return rc;
        integration = ab_strdup(o->integration);
        source      = ab_strdup(o->source);
        if (!integration || !source) {
                ab_free(integration);
                ab_free(source);
                ab_pipeline_config_destroy(cfg);
                return AB_ERR_NOMEM;
        }
        /* Both are owned by the config from here on. */
        ab_free(cfg->inputs[0].integration);
        cfg->inputs[0].integration = integration;
        ab_free(cfg->output.source);
        cfg->output.source = source;
        *out               = cfg;
        return AB_OK;
}

/* The dedup report follows every alert the processor maps. */
static ab_err_t on_alert(void *arg, const struct ab_mapped_alert *m)
{
        struct test_run *run = arg;

        return ab_lifecycle_report_input(run->report, m->integration, m->alert,
                                         m->fingerprint, run->index,
                                         m->nalerts);
}

/* Events to stdout, one per line; rejections to stderr. */
static ab_err_t on_output(void *arg, const struct ab_output *o)
{
        struct test_run *run = arg;
        char line[1024];
        ab_err_t rc;

        if (o->kind == AB_OUTPUT_DEAD_LETTER) {
                (void)ab_error_format(o->error, line, sizeof(line));
                fprintf(stderr, "%zu %s\n", run->index, line);
                run->rejected = 1;
                return AB_OK;
        }
        rc = run->report ? ab_lifecycle_report_event(run->report, o->event)
                         : AB_OK;
        if (!rc) {
                fwrite(o->value.ptr, 1, o->value.len, stdout);
                fputc('\n', stdout);
        }
        return rc;
}

/* Event time: the mapped start time when present, else the input order
 * counted in milliseconds from --now (AB_PROCESSOR_CLOCK_ALERT_START), so
 * output is reproducible. */
static ab_err_t process_payload(struct test_run *run, const char *p, size_t n)
{
        struct ab_input in;

        memset(&in, 0, sizeof(in));
        in.topic        = "test";
        in.offset       = (int64_t)run->index;
        in.timestamp_ms = run->opts->now_ms + (int64_t)run->index;
        in.value        = ab_str_make(p, n);
        return ab_processor_handle(run->proc, &in, on_output, run);
}

/* One JSON document (possibly pretty-printed) is one payload; anything
 * else is read as one payload per non-blank line. */
static ab_err_t run_input(struct test_run *run, const char *data, size_t len)
{
        struct ab_json_doc doc;
        ab_err_t rc;
        int whole;

        /* Bounded like the engine's own tape: a document over the bound is
         * still one payload, which the engine then rejects (too_large). */
        ab_json_doc_init(&doc);
        doc.max_toks = AB_TRANSFORM_MAX_VALUES;
        rc           = ab_json_parse(&doc, data, len, NULL);
        whole        = rc == AB_OK || rc == AB_ERR_TOO_LARGE;
        ab_json_doc_fini(&doc);
        if (whole)
                return process_payload(run, data, len);
        for (size_t pos = 0; pos < len;) {
                const char *line = data + pos;
                const char *nl   = memchr(line, '\n', len - pos);
                size_t n         = nl ? (size_t)(nl - line) : len - pos;
                size_t t         = n;

                pos += n + 1;
                while (t && (line[t - 1] == '\r' || line[t - 1] == ' ' ||
                             line[t - 1] == '\t'))
                        t--;
                if (t == 0)
                        continue;
                rc = process_payload(run, line, t);
                if (rc)
                        return rc;
                run->index++;
        }
        return AB_OK;
}

static int parse_now(const char *s, int64_t *ms)
{
        return ab_time_parse(s, strlen(s), ms);
}

int ab_cmd_test(int argc, char **argv)
{
        static const struct option longopts[] = {
            {"integration", required_argument, NULL, 'i'},
            {"input", required_argument, NULL, 'f'},
            {"dedup", no_argument, NULL, 'd'},
            {"now", required_argument, NULL, 'n'},
            {"source", required_argument, NULL, 's'},
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, 'V'},
            {NULL, 0, NULL, 0}};
        struct test_opts opts          = {NULL, "-", 0, 0, "alertbridge"};
        struct ab_processor_opts popts = {AB_PROCESSOR_STATELESS,
                                          AB_PROCESSOR_CLOCK_ALERT_START, NULL,
                                          NULL, NULL};
        struct ab_pipeline_config *cfg = NULL;
        struct test_run run;
        struct ab_error err;
        char *data = NULL, line[1024];
        size_t len = 0;
        int c, status = AB_EXIT_USAGE;
        ab_err_t rc;

        opts.now_ms = ab_time_now_ms();
        optind      = 1;
        while ((c = getopt_long(argc, argv, "i:f:dh", longopts, NULL)) != -1) {
                switch (c) {
                case 'i':
                        opts.integration = optarg;
                        break;
                case 'f':
                        opts.input = optarg;
                        break;
                case 'd':
                        opts.dedup = 1;
                        break;
                case 's':
                        opts.source = optarg;
                        break;
                case 'n':
                        if (parse_now(optarg, &opts.now_ms)) {
                                fprintf(stderr,
                                        "alertbridge test: --now: cannot "
                                        "parse '%s'\n",
                                        optarg);
                                return AB_EXIT_USAGE;
                        }
                        break;
                case 'h':
                        test_usage(stdout);
                        return AB_EXIT_OK;
                case 'V':
                        printf("alertbridge %s\n", AB_VERSION);
                        return AB_EXIT_OK;
                default:
                        test_usage(stderr);
                        return AB_EXIT_USAGE;
                }
        }
        if (!opts.integration || optind != argc) {
                test_usage(stderr);
                return AB_EXIT_USAGE;
        }
        memset(&run, 0, sizeof(run));
        run.opts = &opts;
        if (opts.dedup) {
                popts.mode         = AB_PROCESSOR_LIFECYCLE;
                popts.on_alert     = on_alert;
                popts.on_alert_arg = &run;
                run.report         = ab_lifecycle_report_new();
                if (!run.report) {
                        fprintf(stderr, "alertbridge test: out of memory\n");
                        goto out;
                }
        }
        ab_error_clear(&err);
        rc = load_config(&opts, &cfg, &err);
        if (!rc)
                rc = ab_processor_new_opts(cfg, NULL, &popts, &run.proc, &err);
        if (rc) {
                fprintf(stderr, "alertbridge test: %s\n",
                        err.code ? ab_error_format(&err, line, sizeof(line))
                                 : ab_err_desc(rc));
                goto out;
        }
        data = ab_cli_read_all(opts.input, &len);
        if (!data)
                goto out;
        rc = run_input(&run, data, len);
        if (rc) {
                fprintf(stderr, "alertbridge test: %s\n", ab_err_desc(rc));
                goto out;
        }
        if (run.report && ab_lifecycle_report_write(run.report, stdout)) {
                fprintf(stderr, "alertbridge test: cannot write the report\n");
                goto out;
        }
        status = run.rejected ? AB_EXIT_REJECTED : AB_EXIT_OK;
out:
        fflush(stdout);
        ab_lifecycle_report_destroy(run.report);
        ab_processor_destroy(run.proc);
        ab_pipeline_config_destroy(cfg);
        ab_free(data);
        return status;
}
