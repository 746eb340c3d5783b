/* cmd_test.c - `alertbridge test`: map sample payloads and print CloudEvents.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "event.h"
#include "integration.h"
#include "json.h"
#include "lifecycle.h"
#include "report.h"
#include "mem.h"
#include "timefmt.h"
#include "transform.h"

struct test_opts {
        const char *integration;
        const char *input;
        int dedup;
        int64_t now_ms;
        const char *source;
};

struct test_run {
        const struct test_opts *opts;
        const struct ab_integration *integ;
        struct ab_lifecycle_report *report; /* --dedup only */
        struct ab_buf out;
        size_t index; /* current input index */
        int rejected;
        ab_err_t failed; /* what stopped the run (not a rejection) */
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

static int emit_event(void *opaque, const struct ab_event *ev)
{
        struct test_run *run = opaque;
        struct ab_event copy = *ev;

        copy.source = run->opts->source;
        ab_buf_reset(&run->out);
        if (ab_event_write(&run->out, &copy) ||
            ab_buf_append_char(&run->out, '\n'))
                return AB_ERR_NOMEM;
        fwrite(run->out.data, 1, run->out.len, stdout);
        return AB_OK;
}

static ab_err_t lifecycle_emit(void *opaque, const struct ab_event *ev)
{
        struct test_run *run = opaque;
        ab_err_t rc          = ab_lifecycle_report_event(run->report, ev);

        return rc ? rc : (ab_err_t)emit_event(opaque, ev);
}

/* Stop the run for \p rc, which is not a rejection (core/err.h classes).
 * @returns -1. */
static int stop(struct test_run *run, ab_err_t rc)
{
        run->failed = rc;
        return -1;
}

static void report_rejection(struct test_run *run, const struct ab_error *e)
{
        char line[1024];

        (void)ab_error_format(e, line, sizeof(line));
        fprintf(stderr, "%zu %s\n", run->index, line);
        run->rejected = 1;
}

/* Event time: the mapped start time when present, else the input order
 * counted in milliseconds from --now, so output is reproducible. */
static int64_t event_time(const struct test_run *run, const struct ab_alert *a)
{
        if (a->has_starts)
                return a->starts_ms;
        return run->opts->now_ms + (int64_t)run->index;
}

static int process_payload(struct test_run *run, struct ab_transform *tf,
                           struct ab_lifecycle *lc, const char *p, size_t n)
{
        const struct ab_alert *alerts;
        size_t nalerts;
        struct ab_error err;
        ab_err_t rc;

        ab_error_clear(&err);
        rc = ab_transform_run(tf, run->integ, p, n, AB_CONTENT_AUTO, &alerts,
                              &nalerts, &err);
        if (rc && ab_err_class(rc) != AB_ERR_CLASS_REJECT)
                return stop(run, rc);
        if (rc) {
                report_rejection(run, &err);
                return 0;
        }
        for (size_t i = 0; i < nalerts; i++) {
                const struct ab_alert *a = &alerts[i];
                int64_t t                = event_time(run, a);

                if (lc) {
                        ab_error_clear(&err);
                        rc = ab_lifecycle_report_input(run->report, run->integ,
                                                       a, run->index, nalerts);
                        if (rc)
                                return stop(run, rc);
                        rc = ab_lifecycle_process(lc, run->integ, a, t,
                                                  lifecycle_emit, run, &err);
                        /* The emit callback only fails for want of
                         * memory, which is not a rejection either. */
                        if (rc && ab_err_class(rc) != AB_ERR_CLASS_REJECT)
                                return stop(run, rc);
                        if (rc)
                                report_rejection(run, &err);
                } else {
                        struct ab_event ev;

                        ab_event_from_alert(
                            &ev, a, ab_integration_name(run->integ), p, n, t);
                        ab_lifecycle_fingerprint(run->integ, a, ev.fingerprint);
                        memcpy(ev.alert_id, ev.fingerprint,
                               sizeof(ev.alert_id));
                        if (emit_event(run, &ev))
                                return stop(run, AB_ERR_NOMEM);
                }
        }
        return 0;
}

/* One JSON document (possibly pretty-printed) is one payload; anything
 * else is read as one payload per non-blank line. */
static int run_input(struct test_run *run, struct ab_transform *tf,
                     struct ab_lifecycle *lc, const char *data, size_t len)
{
        struct ab_json_doc doc;
        int whole;

        ab_json_doc_init(&doc);
        whole = ab_json_parse(&doc, data, len, NULL) == AB_OK;
        ab_json_doc_fini(&doc);
        if (whole)
                return process_payload(run, tf, lc, data, len);
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
                if (process_payload(run, tf, lc, line, t))
                        return -1;
                run->index++;
        }
        return 0;
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
            {NULL, 0, NULL, 0}};
        struct test_opts opts = {NULL, "-", 0, 0, "alertbridge"};
        struct test_run run;
        struct ab_integration *integ = NULL;
        struct ab_transform *tf      = NULL;
        struct ab_lifecycle *lc      = NULL;
        struct ab_error err;
        char *data = NULL, line[1024];
        size_t len = 0;
        int c, status = AB_EXIT_USAGE;

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
                default:
                        test_usage(stderr);
                        return AB_EXIT_USAGE;
                }
        }
        if (!opts.integration || optind != argc) {
                test_usage(stderr);
                return AB_EXIT_USAGE;
        }
        ab_error_clear(&err);
        if (ab_integration_load(opts.integration, &integ, &err)) {
                fprintf(stderr, "alertbridge test: %s\n",
                        ab_error_format(&err, line, sizeof(line)));
                return AB_EXIT_USAGE;
        }
        memset(&run, 0, sizeof(run));
        run.opts  = &opts;
        run.integ = integ;
        ab_buf_init(&run.out, 0);
        data = ab_cli_read_all(opts.input, &len);
        tf   = ab_transform_new();
        if (opts.dedup) {
                struct ab_lifecycle_config lconf = {0, false};
                lc                               = ab_lifecycle_new(&lconf);
                run.report                       = ab_lifecycle_report_new();
        }
        if (!data || !tf || (opts.dedup && (!lc || !run.report)))
                goto out;
        if (run_input(&run, tf, lc, data, len)) {
                fprintf(stderr, "alertbridge test: %s\n",
                        ab_err_desc(run.failed));
                goto out;
        }
        if (lc && ab_lifecycle_report_write(run.report, stdout)) {
                fprintf(stderr, "alertbridge test: cannot write the report\n");
                goto out;
        }
        status = run.rejected ? AB_EXIT_REJECTED : AB_EXIT_OK;
out:
        fflush(stdout);
        ab_lifecycle_report_destroy(run.report);
        ab_lifecycle_destroy(lc);
        ab_transform_destroy(tf);
        ab_integration_destroy(integ);
        ab_buf_fini(&run.out);
        ab_free(data);
        return status;
}
