/* cmd_replay.c - `alertbridge replay`: replay a range of an alert topic to
 * test a mapping change (replay/replay.h does the work). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "replay/replay.h"

/* The replay could not complete: Kafka, I/O, or interrupted. */
#define EXIT_INCOMPLETE 3

#define DEFAULT_DEDUP_GROUPS 20
#define DEFAULT_EXAMPLES     10
#define DEFAULT_TIMEOUT_S    30
#define TTY_INTERVAL_MS      200
#define PLAIN_INTERVAL_MS    10000

struct replay_cli {
        struct ab_replay_opts opts;
        const char *output;       /* --output, or NULL */
        const char *summary_json; /* --summary-json, or NULL */
        const char **props;       /* -X pairs, NULL-terminated (owned) */
        size_t nprops;
        int quiet;
        int tty;  /* stderr is a terminal: draw a bar */
        int drew; /* a bar is on screen */
};

static void replay_usage(FILE *out)
{
        fprintf(
            out,
            "usage: alertbridge replay --brokers HOSTS --topic TOPIC "
            "--integration NAME|PATH\n"
            "                          [--partition N] [--from START] [--to "
            "END]\n"
            "                          [--output FILE|-] [--output-topic "
            "TOPIC]\n"
            "                          [--expect FILE | --compare "
            "OLD_INTEGRATION]\n"
            "                          [--summary-json FILE] [options]\n\n"
            "Reads the offset range [START, END) of TOPIC without joining a "
            "consumer group\n"
            "or committing anything, maps it with the integration and runs "
            "the alert\n"
            "lifecycle in event time (record timestamps): the same range "
            "always gives the\n"
            "same output. See docs/replay.md.\n\n"
            "  -b, --brokers       bootstrap brokers (default: the --config's "
            "kafka.brokers)\n"
            "  -t, --topic         topic to replay\n"
            "  -p, --partition     only this partition (default: all, "
            "merged by timestamp)\n"
            "  -f, --from          earliest (default), latest, OFFSET, TIME "
            "(RFC 3339)\n"
            "                      or @EPOCH_MS\n"
            "  -u, --to            latest (default: the end when the replay "
            "starts),\n"
            "                      earliest, OFFSET, TIME or @EPOCH_MS; "
            "exclusive\n"
            "  -i, --integration   built-in name or integration file to "
            "test\n"
            "  -o, --output        NDJSON lines (events and rejections) to "
            "FILE or - (stdout;\n"
            "                      the default without --output-topic, "
            "--expect, --compare)\n"
            "      --output-topic  also produce the events to TOPIC "
            "(CloudEvents binding)\n"
            "  -e, --expect        compare with a golden NDJSON file; the "
            "diff goes to stdout\n"
            "  -C, --compare       replay with OLD_INTEGRATION too and "
            "report what changes\n"
            "  -s, --summary-json  write the summary as JSON to FILE\n"
            "  -c, --config        pipeline config for output source, "
            "policies, binding,\n"
            "                      lifecycle and kafka properties (its "
            "inputs are ignored)\n"
            "  -X  NAME=VALUE      librdkafka property for both clients "
            "(repeatable)\n"
            "      --dedup-groups  fingerprints in the dedup report (default "
            "%d; 0: none)\n"
            "      --max-diffs     examples per kind of difference (default "
            "%d)\n"
            "      --timeout       seconds for Kafka lookups and the final "
            "flush (default %d)\n"
            "  -q, --quiet         no progress and no summary on stderr\n\n"
            "Exit status: 0 done (and no difference), 1 --expect or "
            "--compare found\n"
            "differences, 2 usage or configuration error, 3 the replay "
            "could not complete\n"
            "(Kafka, I/O, interrupted).\n",
            DEFAULT_DEDUP_GROUPS, DEFAULT_EXAMPLES, DEFAULT_TIMEOUT_S);
}

static int parse_count(const char *flag, const char *s, long min, long max,
                       long *out)
{
        char *end;
        long v;

        errno = 0;
        v     = strtol(s, &end, 10);
        if (errno || end == s || *end || v < min || v > max) {
                fprintf(stderr,
                        "alertbridge replay: %s: expected a number from %ld "
                        "to %ld, got '%s'\n",
                        flag, min, max, s);
                return -1;
        }
        *out = v;
        return 0;
}

/* -X name=value: split in place into the pairs list. */
static int add_property(struct replay_cli *c, char *arg)
{
        char *eq = strchr(arg, '=');
        const char **v;

        if (!eq || eq == arg) {
                fprintf(stderr,
                        "alertbridge replay: -X: expected NAME=VALUE, got "
                        "'%s'\n",
                        arg);
                return -1;
        }
        v = ab_realloc(c->props, (2 * c->nprops + 3) * sizeof(*v));
        if (!v)
                return -1;
        *eq                  = '\0';
        v[2 * c->nprops]     = arg;
        v[2 * c->nprops + 1] = eq + 1;
        v[2 * c->nprops + 2] = NULL;
        c->props             = v;
        c->nprops++;
        return 0;
}

static int parse_bound(const char *flag, const char *s,
                       struct ab_replay_bound *b)
{
        struct ab_error err;

        ab_error_clear(&err);
        if (ab_replay_bound_parse(s, b, &err) == AB_OK)
                return 0;
        fprintf(stderr, "alertbridge replay: %s: %s\n", flag, err.text);
        return -1;
}

static int terminal_width(void)
{
        struct winsize ws;

        if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
                return ws.ws_col;
        return 80;
}

static void on_progress(void *arg, const struct ab_replay_progress *p)
{
        struct replay_cli *c = arg;
        struct ab_buf line;

        if (!c->tty && p->final)
                return; /* the summary says it */
        ab_buf_init(&line, 0);
        if (ab_replay_progress_format(p, c->tty, terminal_width() - 1, &line) ==
            AB_OK) {
                if (c->tty)
                        fprintf(stderr, "\r%s\033[K%s", line.data,
                                p->final ? "\n" : "");
                else
                        fprintf(stderr, "%s\n", line.data);
                c->drew = c->tty && !p->final;
        }
        ab_buf_fini(&line);
}

static int parse_args(struct replay_cli *c, int argc, char **argv)
{
        enum {
                OPT_OUTPUT_TOPIC = 256,
                OPT_DEDUP_GROUPS,
                OPT_MAX_DIFFS,
                OPT_TIMEOUT,
        };
        static const struct option longopts[] = {
            {"brokers", required_argument, NULL, 'b'},
            {"topic", required_argument, NULL, 't'},
            {"partition", required_argument, NULL, 'p'},
            {"from", required_argument, NULL, 'f'},
            {"to", required_argument, NULL, 'u'},
            {"integration", required_argument, NULL, 'i'},
            {"output", required_argument, NULL, 'o'},
            {"output-topic", required_argument, NULL, OPT_OUTPUT_TOPIC},
            {"expect", required_argument, NULL, 'e'},
            {"compare", required_argument, NULL, 'C'},
            {"summary-json", required_argument, NULL, 's'},
            {"config", required_argument, NULL, 'c'},
            {"dedup-groups", required_argument, NULL, OPT_DEDUP_GROUPS},
            {"max-diffs", required_argument, NULL, OPT_MAX_DIFFS},
            {"timeout", required_argument, NULL, OPT_TIMEOUT},
            {"quiet", no_argument, NULL, 'q'},
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, 'V'},
            {NULL, 0, NULL, 0}};
        struct ab_replay_opts *o = &c->opts;
        long v;
        int ch;

        optind = 1;
        while ((ch = getopt_long(argc, argv, "b:t:p:f:u:i:o:e:C:c:s:X:qh",
                                 longopts, NULL)) != -1) {
                switch (ch) {
                case 'b':
                        o->brokers = optarg;
                        break;
                case 't':
                        o->topic = optarg;
                        break;
                case 'p':
                        if (parse_count("--partition", optarg, 0, INT32_MAX,
                                        &v))
                                return -1;
                        o->partition = (int32_t)v;
                        break;
                case 'f':
                        if (parse_bound("--from", optarg, &o->from))
                                return -1;
                        break;
                case 'u':
                        if (parse_bound("--to", optarg, &o->to))
                                return -1;
                        break;
                case 'i':
                        o->integration = optarg;
                        break;
                case 'o':
                        c->output = optarg;
                        break;
                case OPT_OUTPUT_TOPIC:
                        o->output_topic = optarg;
                        break;
                case 'e':
                        o->expect_path = optarg;
                        break;
                case 'C':
                        o->compare = optarg;
                        break;
                case 's':
                        c->summary_json = optarg;
                        break;
                case 'c':
                        o->config_path = optarg;
                        break;
                case 'X':
                        if (add_property(c, optarg))
                                return -1;
                        break;
                case OPT_DEDUP_GROUPS:
                        if (parse_count("--dedup-groups", optarg, 0, 1000000,
                                        &v))
                                return -1;
                        o->dedup_groups = (size_t)v;
                        break;
                case OPT_MAX_DIFFS:
                        if (parse_count("--max-diffs", optarg, 0, 100000, &v))
                                return -1;
                        o->max_examples = (size_t)v;
                        break;
                case OPT_TIMEOUT:
                        if (parse_count("--timeout", optarg, 1, 3600, &v))
                                return -1;
                        o->timeout_ms = (int)v * 1000;
                        break;
                case 'q':
                        c->quiet = 1;
                        break;
                case 'h':
                        replay_usage(stdout);
                        return 1;
                case 'V':
                        printf("alertbridge %s\n", AB_VERSION);
                        return 1;
                default:
                        replay_usage(stderr);
                        return -1;
                }
        }
        if (optind != argc || !o->topic || !o->integration) {
                replay_usage(stderr);
                return -1;
        }
        if (c->output && !strcmp(c->output, "-") &&
            (o->expect_path || o->compare)) {
                fprintf(stderr, "alertbridge replay: --output - cannot be "
                                "combined with --expect or --compare, which "
                                "report on stdout\n");
                return -1;
        }
        if (!c->output && !o->output_topic && !o->expect_path && !o->compare)
                c->output = "-";
        o->properties = c->props;
        return 0;
}

static int write_file(const char *path, const struct ab_buf *b)
{
        FILE *f = fopen(path, "w");
        int ok;

        if (!f) {
                fprintf(stderr, "alertbridge replay: cannot open %s: %s\n",
                        path, strerror(errno));
                return -1;
        }
        ok = fwrite(b->data, 1, b->len, f) == b->len;
        ok = !fclose(f) && ok;
        if (!ok)
                fprintf(stderr, "alertbridge replay: cannot write %s\n", path);
        return ok ? 0 : -1;
}

/* The error's text, or the code's description when none was recorded. */
static const char *error_text(ab_err_t rc, const struct ab_error *err,
                              char *line, size_t size)
{
        if (err->code == AB_OK)
                return ab_err_desc(rc);
        return ab_error_format(err, line, size);
}

/* Would writing \p output truncate the golden file \p expect? */
static int same_file(const char *output, const char *expect)
{
        struct stat a, b;

        if (!strcmp(output, expect))
                return 1;
        return !stat(output, &a) && !stat(expect, &b) && a.st_dev == b.st_dev &&
               a.st_ino == b.st_ino;
}

/* Summary on stderr, JSON summary file, comparison report on stdout. */
static int report(struct replay_cli *c, const struct ab_replay *r, bool diff)
{
        struct ab_replay_summary s;
        struct ab_buf b;
        int rc = 0;

        ab_replay_summarize(r, &s);
        ab_buf_init(&b, 0);
        if (!c->quiet && ab_replay_summary_text(&s, &b) == AB_OK)
                fwrite(b.data, 1, b.len, stderr);
        ab_buf_reset(&b);
        if (c->summary_json &&
            (ab_replay_summary_json(&s, &b) || write_file(c->summary_json, &b)))
                rc = -1;
        ab_buf_reset(&b);
        if (diff && ab_replay_summary_diff(&s, &b) == AB_OK && b.len &&
            fwrite(b.data, 1, b.len, stdout) != b.len)
                rc = -1;
        if (fflush(stdout))
                rc = -1;
        ab_buf_fini(&b);
        return rc;
}

int ab_cmd_replay(int argc, char **argv)
{
        struct replay_cli c;
        struct ab_replay *r = NULL;
        volatile sig_atomic_t *stop;
        FILE *events = NULL;
        struct ab_error err;
        char line[1024];
        int status = AB_EXIT_USAGE, rc;
        ab_err_t run;

        memset(&c, 0, sizeof(c));
        c.opts.partition    = -1;
        c.opts.from.kind    = AB_REPLAY_EARLIEST;
        c.opts.to.kind      = AB_REPLAY_LATEST;
        c.opts.dedup_groups = DEFAULT_DEDUP_GROUPS;
        c.opts.max_examples = DEFAULT_EXAMPLES;
        c.opts.timeout_ms   = DEFAULT_TIMEOUT_S * 1000;
        rc                  = parse_args(&c, argc, argv);
        if (rc) {
                status = rc > 0 ? AB_EXIT_OK : AB_EXIT_USAGE;
                goto out;
        }
        ab_log_threshold = AB_LOG_WARN;
        ab_cli_install_stop_handlers(&stop);
        c.opts.stop = stop;
        c.tty       = isatty(STDERR_FILENO);
        if (!c.quiet) {
                c.opts.progress     = on_progress;
                c.opts.progress_arg = &c;
                c.opts.progress_interval_ms =
                    c.tty ? TTY_INTERVAL_MS : PLAIN_INTERVAL_MS;
        }
        if (c.output && c.opts.expect_path &&
            same_file(c.output, c.opts.expect_path)) {
                fprintf(stderr, "alertbridge replay: --output would "
                                "overwrite the --expect file\n");
                goto out;
        }
        if (c.output) {
                events = strcmp(c.output, "-") ? fopen(c.output, "w") : stdout;
                if (!events) {
                        fprintf(stderr,
                                "alertbridge replay: cannot open %s: %s\n",
                                c.output, strerror(errno));
                        goto out;
                }
                c.opts.events = events;
        }
        ab_error_clear(&err);
        run = ab_replay_new(&c.opts, &r, &err);
        if (run) {
                fprintf(stderr, "alertbridge replay: %s\n",
                        run == AB_ERR_RETRY
                            ? "interrupted"
                            : error_text(run, &err, line, sizeof(line)));
                status = run == AB_ERR_KAFKA || run == AB_ERR_NOMEM ||
                                 run == AB_ERR_RETRY
                             ? EXIT_INCOMPLETE
                             : AB_EXIT_USAGE;
                goto out;
        }
        run = ab_replay_run(r, &err);
        if (c.drew)
                fputc('\n', stderr);
        if (report(&c, r, run == AB_OK) && run == AB_OK)
                run = ab_error_set(&err, AB_ERR_IO, NULL,
                                   "cannot write the reports");
        if (run) {
                fprintf(stderr, "alertbridge replay: %s\n",
                        run == AB_ERR_RETRY
                            ? "interrupted: the summary covers the records "
                              "replayed so far"
                            : error_text(run, &err, line, sizeof(line)));
                status = run == AB_ERR_CONFIG ? AB_EXIT_USAGE : EXIT_INCOMPLETE;
                goto out;
        }
        status = ab_replay_differs(r) ? AB_EXIT_REJECTED : AB_EXIT_OK;
out:
        ab_replay_destroy(r);
        if (events && events != stdout && fclose(events) &&
            status != AB_EXIT_USAGE) {
                fprintf(stderr, "alertbridge replay: cannot write %s\n",
                        c.output);
                status = EXIT_INCOMPLETE;
        }
        ab_free(c.props);
        return status;
}
