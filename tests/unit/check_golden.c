/* check_golden.c - golden cases: payloads in, reviewed CloudEvents out. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/mem.h"
#include "transform/event.h"
#include "transform/integration.h"
#include "transform/transform.h"

/*
 * HOW IT WORKS
 * Every folder under tests/fixtures/golden/ is one case:
 *   integration     a built-in name, or the path of a config file
 *                   relative to the folder ("integration.yaml", or
 *                   "../other-case/integration.yaml" to share one);
 *   input.json      one payload: the whole file;
 *   input.txt       several payloads, one per non-empty line (JSON or
 *                   form-encoded);
 *   now             optional: the clock in epoch ms (default GOLDEN_NOW);
 *   expected.ndjson the expected CloudEvents, one per line, in order;
 *   expected.err    optional: one line per rejected payload,
 *                   "<payload index> <code>: <path>: <text>".
 * The runner maps each payload with ab_transform_run(), turns every alert
 * into a stateless event (ab_event_from_alert() with the fixed clock) and
 * serializes it with ab_event_write(). Events are compared as parsed JSON
 * trees (member order and spacing do not matter, but each produced line
 * must be valid JSON on its own); rejection lines are compared as text.
 *
 * `check_golden --dump` prints every produced event (for the event_schema
 * test); `check_golden --regen CASE...` rewrites the expected files of the
 * named cases from the current output. Regenerated files must be reviewed
 * by hand against the spec before they are committed.
 */

#define GOLDEN_DIR  AB_FIXTURES "/golden"
#define INVALID_DIR AB_FIXTURES "/schema/integration-invalid"

/* 2023-11-14T22:13:20Z: a fixed clock, so event times never change. */
#define GOLDEN_NOW 1700000000000LL

struct names {
        char **v;
        size_t n;
};

static struct names golden_cases;
static struct names invalid_configs;

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of \p dir that are directories (want_dirs) or files whose
 * name ends in \p suffix, sorted. */
static void list_dir(const char *dir, int want_dirs, const char *suffix,
                     struct names *out)
{
        DIR *d = opendir(dir);
        struct dirent *e;

        out->v = NULL;
        out->n = 0;
        if (!d)
                return;
        while ((e = readdir(d))) {
                char path[1024];
                struct stat st;
                size_t len = strlen(e->d_name);

                if (e->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                if (stat(path, &st))
                        continue;
                if (want_dirs
                        ? !S_ISDIR(st.st_mode)
                        : !S_ISREG(st.st_mode) || len < strlen(suffix) ||
                              strcmp(e->d_name + len - strlen(suffix), suffix))
                        continue;
                out->v = ab_realloc(out->v, (out->n + 1) * sizeof(*out->v));
                if (!out->v)
                        abort();
                out->v[out->n++] = ab_strdup(e->d_name);
        }
        closedir(d);
        qsort(out->v, out->n, sizeof(*out->v), name_cmp);
}

/* Read a whole file; NULL if it does not exist. */
static char *read_file(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        struct ab_buf b;
        char chunk[4096];
        size_t n;

        if (!f)
                return NULL;
        ab_buf_init(&b, 0);
        if (ab_buf_append(&b, "", 0))
                abort();
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                if (ab_buf_append(&b, chunk, n))
                        abort();
        fclose(f);
        return ab_buf_take(&b, len);
}

static void case_path(char *out, size_t size, const char *name,
                      const char *file)
{
        if ((size_t)snprintf(out, size, "%s/%s/%s", GOLDEN_DIR, name, file) >=
            size)
                abort();
}

static void trim(char *s)
{
        size_t n = strlen(s);

        while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' ||
                     s[n - 1] == '\t'))
                s[--n] = '\0';
}

/* The output of one case: events and rejection lines, newline-separated. */
struct outcome {
        struct ab_buf events;
        struct ab_buf errors;
};

/* Describe why a case cannot run (vsnprintf: may truncate, harmlessly). */
static void say(char *why, size_t whysize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(char *why, size_t whysize, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(why, whysize, fmt, ap);
        va_end(ap);
}

/* Map one payload; @returns 0, or -1 with \p why set (a harness failure,
 * not a rejection: rejections are output). */
static int run_payload(struct ab_transform *tf,
                       const struct ab_integration *integ, const char *p,
                       size_t len, size_t index, int64_t now,
                       struct outcome *oc, char *why, size_t whysize)
{
        const struct ab_alert *alerts;
        size_t nalerts;
        struct ab_error err;
        ab_err_t rc;

        ab_error_clear(&err);
        rc = ab_transform_run(tf, integ, p, len, AB_CONTENT_AUTO, &alerts,
                              &nalerts, &err);
        if (rc) {
                char line[sizeof(err.path) + sizeof(err.text) + 64];
                if (err.code != rc) {
                        say(why, whysize,
                            "payload %zu: returned %s but the error "
                            "says %s",
                            index, ab_err_code(rc), ab_err_code(err.code));
                        return -1;
                }
                ab_error_format(&err, line, sizeof(line));
                if (ab_buf_appendf(&oc->errors, "%zu %s\n", index, line))
                        abort();
                return 0;
        }
        for (size_t i = 0; i < nalerts; i++) {
                struct ab_event ev;
                ab_event_from_alert(&ev, &alerts[i], ab_integration_name(integ),
                                    p, len, now);
                rc = ab_event_write(&oc->events, &ev);
                if (rc) {
                        say(why, whysize,
                            "payload %zu alert %zu: ab_event_write: %s", index,
                            i, ab_err_code(rc));
                        return -1;
                }
                if (ab_buf_append_char(&oc->events, '\n'))
                        abort();
        }
        return 0;
}

/* Run case \p name into \p oc (always initialized; fini it).
 * @returns 0, or -1 with \p why set when the case cannot run. */
static int run_case(const char *name, struct outcome *oc, char *why,
                    size_t whysize)
{
        char path[1024], integ_arg[1024];
        char *integ_name, *input, *now_text;
        size_t len;
        int64_t now                  = GOLDEN_NOW;
        int lines                    = 0;
        int rc                       = 0;
        struct ab_integration *integ = NULL;
        struct ab_transform *tf      = NULL;
        struct ab_error err;
        struct stat st;

        ab_buf_init(&oc->events, 0);
        ab_buf_init(&oc->errors, 0);
        if (ab_buf_append(&oc->events, "", 0) ||
            ab_buf_append(&oc->errors, "", 0))
                abort();

        case_path(path, sizeof(path), name, "input.json");
        input = read_file(path, &len);
        if (!input) {
                case_path(path, sizeof(path), name, "input.txt");
                input = read_file(path, &len);
                lines = 1;
        }
        case_path(path, sizeof(path), name, "integration");
        integ_name = read_file(path, NULL);
        if (!input || !integ_name) {
                say(why, whysize,
                    "%s: needs an integration file and "
                    "input.json or input.txt",
                    name);
                rc = -1;
                goto out;
        }
        trim(integ_name);
        case_path(integ_arg, sizeof(integ_arg), name, integ_name);
        if (stat(integ_arg, &st))
                say(integ_arg, sizeof(integ_arg), "%s", integ_name);
        ab_error_clear(&err);
        if (ab_integration_load(integ_arg, &integ, &err)) {
                say(why, whysize, "%s: integration %s: %s: %s", name, integ_arg,
                    err.path, err.text);
                rc = -1;
                goto out;
        }

        case_path(path, sizeof(path), name, "now");
        now_text = read_file(path, NULL);
        if (now_text) {
                now = strtoll(now_text, NULL, 10);
                ab_free(now_text);
        }

        tf = ab_transform_new();
        if (!tf)
                abort();
        if (!lines) {
                rc = run_payload(tf, integ, input, len, 0, now, oc, why,
                                 whysize);
        } else {
                size_t index = 0;
                char *p      = input;
                char *end    = input + len;
                while (p < end && !rc) {
                        char *nl   = memchr(p, '\n', (size_t)(end - p));
                        char *stop = nl ? nl : end;
                        size_t n   = (size_t)(stop - p);
                        if (n && p[n - 1] == '\r')
                                n--;
                        if (n)
                                rc = run_payload(tf, integ, p, n, index++, now,
                                                 oc, why, whysize);
                        p = stop + 1;
                }
        }
out:
        ab_transform_destroy(tf);
        ab_integration_destroy(integ);
        ab_free(integ_name);
        ab_free(input);
        return rc;
}

static void outcome_fini(struct outcome *oc)
{
        ab_buf_fini(&oc->events);
        ab_buf_fini(&oc->errors);
}

/* Next non-empty line of *p (NUL-terminated in place), or NULL. */
static char *next_line(char **p)
{
        char *s = *p;

        while (s && *s) {
                char *nl   = strchr(s, '\n');
                char *line = s;
                if (nl) {
                        *nl = '\0';
                        s   = nl + 1;
                } else {
                        s = s + strlen(s);
                }
                if (*line) {
                        *p = s;
                        return line;
                }
        }
        *p = s;
        return NULL;
}

START_TEST(test_golden_case)
{
        const char *name = golden_cases.v[_i];
        struct outcome oc;
        char path[1024];
        char *want, *want_err, *wp, *gp, *wl, *gl;
        char why[1024];
        size_t len, n = 0;

        ck_assert_msg(run_case(name, &oc, why, sizeof(why)) == 0, "%s", why);

        case_path(path, sizeof(path), name, "expected.ndjson");
        want = read_file(path, &len);
        ck_assert_msg(want != NULL, "%s: no expected.ndjson", name);
        wp = want;
        gp = oc.events.data;
        for (;;) {
                json_t *wj, *gj;
                json_error_t jerr;

                wl = next_line(&wp);
                gl = next_line(&gp);
                if (!wl && !gl)
                        break;
                ck_assert_msg(wl && gl, "%s: event %zu: %s", name, n,
                              wl ? "expected but not produced"
                                 : "produced but not expected");
                gj = json_loads(gl, 0, &jerr);
                ck_assert_msg(gj != NULL, "%s: event %zu is not JSON: %s: %s",
                              name, n, jerr.text, gl);
                wj = json_loads(wl, 0, &jerr);
                ck_assert_msg(wj != NULL, "%s: expected line %zu: %s", name, n,
                              jerr.text);
                ck_assert_msg(json_equal(wj, gj),
                              "%s: event %zu differs\n  want %s\n  got  %s",
                              name, n, wl, gl);
                json_decref(wj);
                json_decref(gj);
                n++;
        }
        ab_free(want);

        case_path(path, sizeof(path), name, "expected.err");
        want_err = read_file(path, &len);
        if (!want_err)
                want_err = ab_strdup("");
        ck_assert_str_eq(oc.errors.data, want_err);
        ab_free(want_err);
        outcome_fini(&oc);
}
END_TEST

START_TEST(test_cases_present)
{
        /* An empty or missing fixture folder must not pass silently. */
        ck_assert_uint_ge(golden_cases.n, 10);
        ck_assert_uint_ge(invalid_configs.n, 5);
}
END_TEST

START_TEST(test_builtins_load)
{
        const char *const *names        = ab_integration_builtin_names();
        static const char *const want[] = {"alertmanager", "cloudmonitor",
                                           "cloudmonitor-event", "generic"};
        size_t n                        = 0;

        for (; names[n]; n++) {
                struct ab_integration *integ = NULL;
                struct ab_error err;

                ab_error_clear(&err);
                ck_assert_msg(ab_integration_load(names[n], &integ, &err) ==
                                  AB_OK,
                              "%s: %s: %s", names[n], err.path, err.text);
                ck_assert_str_eq(ab_integration_name(integ), names[n]);
                ab_integration_destroy(integ);
        }
        ck_assert_uint_eq(n, sizeof(want) / sizeof(*want));
        for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
                size_t k = 0;
                while (k < n && strcmp(names[k], want[i]))
                        k++;
                ck_assert_msg(k < n, "no built-in integration %s", want[i]);
        }
}
END_TEST

/*
 * Every config in tests/fixtures/schema/integration-invalid/ is rejected
 * by the engine as well as by schemas/integration.schema.json (the
 * integration_schema test), so the two agree on these cases. The first
 * line of each file is "# path: <key path the error must name>".
 */
START_TEST(test_invalid_integration)
{
        const char *file = invalid_configs.v[_i];
        char path[1024], want[256] = "";
        struct ab_integration *integ = NULL;
        struct ab_error err;
        char *text;
        size_t len;

        snprintf(path, sizeof(path), "%s/%s", INVALID_DIR, file);
        text = read_file(path, &len);
        ck_assert_ptr_nonnull(text);
        ck_assert_msg(sscanf(text, "# path: %255s", want) == 1,
                      "%s: first line must be '# path: <key path>'", file);
        ab_free(text);
        ab_error_clear(&err);
        ck_assert_int_eq(ab_integration_load(path, &integ, &err),
                         AB_ERR_CONFIG);
        ck_assert_ptr_null(integ);
        ck_assert_msg(!strcmp(err.path, want),
                      "%s: error names '%s' (%s), "
                      "expected '%s'",
                      file, err.path, err.text, want);
}
END_TEST

static int dump_all(void)
{
        int rc = 0;

        for (size_t i = 0; i < golden_cases.n && !rc; i++) {
                struct outcome oc;
                char why[1024];

                rc = run_case(golden_cases.v[i], &oc, why, sizeof(why));
                if (rc)
                        fprintf(stderr, "%s\n", why);
                else
                        fputs(oc.events.data, stdout);
                outcome_fini(&oc);
        }
        return rc;
}

static int write_file(const char *path, const char *data, size_t len)
{
        FILE *f = fopen(path, "wb");
        int rc;

        if (!f)
                return -1;
        rc = fwrite(data, 1, len, f) == len ? 0 : -1;
        return fclose(f) || rc ? -1 : 0;
}

static int regen(int argc, char **argv)
{
        for (int i = 0; i < argc; i++) {
                struct outcome oc;
                char path[1024], why[1024];

                if (run_case(argv[i], &oc, why, sizeof(why))) {
                        fprintf(stderr, "%s\n", why);
                        outcome_fini(&oc);
                        return 1;
                }
                case_path(path, sizeof(path), argv[i], "expected.ndjson");
                if (write_file(path, oc.events.data, oc.events.len))
                        return 1;
                case_path(path, sizeof(path), argv[i], "expected.err");
                if (oc.errors.len) {
                        if (write_file(path, oc.errors.data, oc.errors.len))
                                return 1;
                } else if (remove(path) && errno != ENOENT) {
                        return 1;
                }
                fprintf(stderr, "%s: regenerated, review it\n", argv[i]);
                outcome_fini(&oc);
        }
        return 0;
}

static Suite *golden_suite(void)
{
        Suite *s  = suite_create("golden");
        TCase *tc = tcase_create("cases");

        tcase_add_test(tc, test_cases_present);
        tcase_add_test(tc, test_builtins_load);
        tcase_add_loop_test(tc, test_golden_case, 0, (int)golden_cases.n);
        tcase_add_loop_test(tc, test_invalid_integration, 0,
                            (int)invalid_configs.n);
        suite_add_tcase(s, tc);
        return s;
}

static void names_fini(struct names *n)
{
        for (size_t i = 0; i < n->n; i++)
                ab_free(n->v[i]);
        ab_free(n->v);
}

int main(int argc, char **argv)
{
        SRunner *sr;
        int failed;

        list_dir(GOLDEN_DIR, 1, "", &golden_cases);
        list_dir(INVALID_DIR, 0, ".yaml", &invalid_configs);
        if (argc > 1 && !strcmp(argv[1], "--dump"))
                failed = dump_all();
        else if (argc > 1 && !strcmp(argv[1], "--regen"))
                failed = regen(argc - 2, argv + 2);
        else {
                sr = srunner_create(golden_suite());
                srunner_run_all(sr, CK_NORMAL);
                failed = srunner_ntests_failed(sr);
                srunner_free(sr);
        }
        names_fini(&golden_cases);
        names_fini(&invalid_configs);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
