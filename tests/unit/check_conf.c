/* check_conf.c - unit tests for the YAML/JSON config loader and helpers. */
#include <check.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/file.h"
#include "core/mem.h"

static struct ab_error err;

static json_t *load(const char *text)
{
        ab_error_clear(&err);
        return ab_conf_load_string(text, strlen(text), "cfg.yaml", &err);
}

/* Load text that must fail; check the code, path and message. */
static void load_fails(const char *text, const char *path, const char *msg)
{
        json_t *root = load(text);

        ck_assert_msg(root == NULL, "accepted: %s", text);
        ck_assert_int_eq(err.code, AB_ERR_CONFIG);
        ck_assert_msg(strcmp(err.path, path) == 0, "path '%s', want '%s'",
                      err.path, path);
        ck_assert_msg(strstr(err.text, msg) != NULL, "text '%s' lacks '%s'",
                      err.text, msg);
}

/* ---- typing ------------------------------------------------------------ */

START_TEST(test_core_schema_typing)
{
        json_t *root = load("t1: true\nt2: True\nt3: TRUE\nf1: false\n"
                            "n1: null\nn2: ~\nn3:\nn4: NULL\n"
                            "i1: 42\ni2: -7\ni3: +3\ni4: 0\n"
                            "r1: 1.5\nr2: .5\nr3: 1.\nr4: 1e3\nr5: -2.5E-3\n"
                            "s1: yes\ns2: off\ns3: 0x1F\ns4: 0o17\ns5: .inf\n"
                            "s6: .nan\ns7: 1_000\ns8: 12:30\ns9: 1.2.3\n"
                            "q1: \"42\"\nq2: 'true'\nq3: \"\"\n"
                            "b1: |\n  line1\n  line2\n"
                            "b2: >-\n  folded\n  text\n");

        ck_assert_ptr_nonnull(root);
        ck_assert(json_is_true(json_object_get(root, "t1")));
        ck_assert(json_is_true(json_object_get(root, "t2")));
        ck_assert(json_is_true(json_object_get(root, "t3")));
        ck_assert(json_is_false(json_object_get(root, "f1")));
        ck_assert(json_is_null(json_object_get(root, "n1")));
        ck_assert(json_is_null(json_object_get(root, "n2")));
        ck_assert(json_is_null(json_object_get(root, "n3")));
        ck_assert(json_is_null(json_object_get(root, "n4")));
        ck_assert_int_eq(json_integer_value(json_object_get(root, "i1")), 42);
        ck_assert_int_eq(json_integer_value(json_object_get(root, "i2")), -7);
        ck_assert_int_eq(json_integer_value(json_object_get(root, "i3")), 3);
        ck_assert(json_is_integer(json_object_get(root, "i4")));
        ck_assert_double_eq(json_real_value(json_object_get(root, "r1")), 1.5);
        ck_assert_double_eq(json_real_value(json_object_get(root, "r2")), 0.5);
        ck_assert_double_eq(json_real_value(json_object_get(root, "r3")), 1.0);
        ck_assert_double_eq(json_real_value(json_object_get(root, "r4")),
                            1000.0);
        ck_assert_double_eq(json_real_value(json_object_get(root, "r5")),
                            -2.5e-3);
        ck_assert_str_eq(json_string_value(json_object_get(root, "s1")), "yes");
        ck_assert_str_eq(json_string_value(json_object_get(root, "s2")), "off");
        ck_assert_str_eq(json_string_value(json_object_get(root, "s3")),
                         "0x1F");
        ck_assert_str_eq(json_string_value(json_object_get(root, "s4")),
                         "0o17");
        ck_assert_str_eq(json_string_value(json_object_get(root, "s5")),
                         ".inf");
        ck_assert_str_eq(json_string_value(json_object_get(root, "s6")),
                         ".nan");
        ck_assert_str_eq(json_string_value(json_object_get(root, "s7")),
                         "1_000");
        ck_assert_str_eq(json_string_value(json_object_get(root, "s8")),
                         "12:30");
        ck_assert_str_eq(json_string_value(json_object_get(root, "s9")),
                         "1.2.3");
        ck_assert_str_eq(json_string_value(json_object_get(root, "q1")), "42");
        ck_assert_str_eq(json_string_value(json_object_get(root, "q2")),
                         "true");
        ck_assert_str_eq(json_string_value(json_object_get(root, "q3")), "");
        ck_assert_str_eq(json_string_value(json_object_get(root, "b1")),
                         "line1\nline2\n");
        ck_assert_str_eq(json_string_value(json_object_get(root, "b2")),
                         "folded text");
        json_decref(root);
}
END_TEST

START_TEST(test_tags)
{
        json_t *root = load("a: !!str 42\nb: !!int \"12\"\nc: !!float 1\n"
                            "d: !!null ''\ne: ! 7\nf: !!bool true\n"
                            "g: !!map {x: 1}\nh: !!seq [1]\n");

        ck_assert_ptr_nonnull(root);
        ck_assert_str_eq(json_string_value(json_object_get(root, "a")), "42");
        ck_assert_int_eq(json_integer_value(json_object_get(root, "b")), 12);
        ck_assert(json_is_real(json_object_get(root, "c")));
        ck_assert(json_is_null(json_object_get(root, "d")));
        ck_assert_str_eq(json_string_value(json_object_get(root, "e")), "7");
        ck_assert(json_is_true(json_object_get(root, "f")));
        ck_assert(json_is_object(json_object_get(root, "g")));
        ck_assert(json_is_array(json_object_get(root, "h")));
        json_decref(root);
        load_fails("a: !!bool yes\n", "a", "does not match tag");
        load_fails("a: !!int 1.5\n", "a", "does not match tag");
        load_fails("x:\n  a: !custom v\n", "x.a", "unsupported tag '!custom'");
        load_fails("a: !!set {x: 1}\n", "a", "unsupported tag");
}
END_TEST

START_TEST(test_number_range_errors)
{
        load_fails("a:\n  b: 123456789012345678901234567890\n", "a.b",
                   "cfg.yaml:2:6: integer 123456789012345678901234567890 is "
                   "out of range");
        load_fails("v: 1e400\n", "v", "number 1e400 is out of range");
}
END_TEST

START_TEST(test_long_real)
{
        char text[300] = "v: 0.";
        json_t *root;

        memset(text + 5, '0', 250);
        memcpy(text + 255, "1\n", 3);
        root = load(text);
        ck_assert_ptr_nonnull(root);
        ck_assert_double_eq_tol(json_real_value(json_object_get(root, "v")),
                                1e-251, 1e-260);
        json_decref(root);
}
END_TEST

/* ---- structure --------------------------------------------------------- */

START_TEST(test_issue_example)
{
        static const char text[] =
            "name: network-monitor\n"
            "auto_clear: 30m                     # lifecycle\n"
            "batch: {root: $.metadata}\n"
            "recovery:\n"
            "  when: [{field: $.eventType, equals: resolved}]\n"
            "fields:\n"
            "  alertname: {series: [$.trigger-type, $.trigger-policy], "
            "delimiter: \"_\"}\n"
            "  severity:  {direct: $.trigger-severity, map: {MAX: P1, MID: "
            "P2, MIN: P3}}\n"
            "  source:    {direct: \"$.metadata[*].ip\"}\n"
            "  service:\n"
            "    condition:\n"
            "      - when: {field: \"$.metadata[*].agent\", equals: "
            "CONTAINER}\n"
            "        direct: \"$.metadata[*].microServiceId\"\n"
            "      - when: {field: \"$.metadata[*].agent\", equals: SERVER}\n"
            "        direct: \"$.metadata[*].service\"\n"
            "labels: {}\n"
            "dedup: {fields: [source, check]}\n";
        json_t *root = load(text), *v;

        ck_assert_ptr_nonnull(root);
        ck_assert_str_eq(json_string_value(json_object_get(root, "auto_clear")),
                         "30m");
        v = json_object_get(json_object_get(root, "batch"), "root");
        ck_assert_str_eq(json_string_value(v), "$.metadata");
        v = json_array_get(
            json_object_get(json_object_get(root, "recovery"), "when"), 0);
        ck_assert_str_eq(json_string_value(json_object_get(v, "equals")),
                         "resolved");
        v = json_object_get(json_object_get(root, "fields"), "severity");
        ck_assert_str_eq(json_string_value(
                             json_object_get(json_object_get(v, "map"), "MAX")),
                         "P1");
        v = json_object_get(json_object_get(root, "fields"), "alertname");
        ck_assert_str_eq(json_string_value(json_object_get(v, "delimiter")),
                         "_");
        ck_assert_str_eq(
            json_string_value(json_array_get(json_object_get(v, "series"), 1)),
            "$.trigger-policy");
        v = json_object_get(json_object_get(root, "fields"), "service");
        v = json_array_get(json_object_get(v, "condition"), 1);
        ck_assert_str_eq(json_string_value(json_object_get(v, "direct")),
                         "$.metadata[*].service");
        ck_assert_int_eq(json_object_size(json_object_get(root, "labels")), 0);
        json_decref(root);
}
END_TEST

START_TEST(test_json_input_same_tree)
{
        static const char text[] =
            "{\n\t\"name\": \"generic\",\n\t\"n\": [1, 2.5, -3e2, true, "
            "null],\n\t\"esc\": \"a\\/b\\u00e9\\n\\\"q\\\"\",\n\t\"o\": "
            "{\"k\": {\"deep\": []}}\n}\n";
        json_error_t jerr;
        json_t *root = load(text);
        json_t *want = json_loads(text, 0, &jerr);

        ck_assert_ptr_nonnull(root);
        ck_assert_ptr_nonnull(want);
        ck_assert(json_equal(root, want));
        json_decref(root);
        json_decref(want);
}
END_TEST

START_TEST(test_anchors_and_aliases)
{
        json_t *root = load("base: &b {severity: P2, tags: [x, y]}\n"
                            "one: *b\n"
                            "scalar: &s hello\n"
                            "two: [*s, *b]\n"
                            "keyed: {*s : 1}\n"
                            "base2: &b 5\n"
                            "three: *b\n");
        json_t *one, *base;

        ck_assert_msg(root != NULL, "%s", err.text);
        base = json_object_get(root, "base");
        one  = json_object_get(root, "one");
        ck_assert(json_equal(base, one));
        /* A copy, not a shared node: changing one leaves the other. */
        ck_assert_ptr_ne(base, one);
        json_object_set_new(one, "severity", json_string("P1"));
        ck_assert_str_eq(json_string_value(json_object_get(base, "severity")),
                         "P2");
        ck_assert_str_eq(
            json_string_value(json_array_get(json_object_get(root, "two"), 0)),
            "hello");
        ck_assert(
            json_equal(json_array_get(json_object_get(root, "two"), 1), base));
        ck_assert_int_eq(json_integer_value(json_object_get(
                             json_object_get(root, "keyed"), "hello")),
                         1);
        /* A redefined anchor: the latest wins. */
        ck_assert_int_eq(json_integer_value(json_object_get(root, "three")), 5);
        json_decref(root);
        load_fails("a: 1\nb: *nope\n", "b",
                   "cfg.yaml:2:4: unknown alias '*nope'");
        load_fails("a: &r [1, *r]\n", "a[1]", "unknown alias '*r'");
}
END_TEST

START_TEST(test_alias_expansion_bounded)
{
        static const char laughs[] =
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
            "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
            "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
            "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
            "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";

        load_fails(laughs, "f[7]", "aliases expand to more than");
}
END_TEST

START_TEST(test_duplicate_keys_rejected)
{
        load_fails("fields:\n  severity: {direct: $.a}\n  message: x\n"
                   "  severity: {direct: $.b}\n",
                   "fields.severity", "cfg.yaml:4:3: duplicate key 'severity'");
        load_fails("{a: 1, a: 2}", "a", "duplicate key 'a'");
        load_fails("{\"a\": 1, \"a\": 2}", "a", "duplicate key 'a'");
        /* Same text, different type in YAML terms: still the same key. */
        load_fails("1: a\n\"1\": b\n", "1", "duplicate key '1'");
}
END_TEST

START_TEST(test_error_paths_and_positions)
{
        /* Non-scalar keys. */
        load_fails("x:\n  ? [a, b]\n  : 1\n", "x",
                   "mapping keys must be scalars");
        /* A syntax error deep inside names the enclosing key path. */
        load_fails("fields:\n  labels:\n    - a\n    - [b\n  c: d\n",
                   "fields.labels[1][1]", "cfg.yaml:5:");
        load_fails("a: [1, 2\n", "a[2]", "cfg.yaml:");
        load_fails("a: b: c\n", "",
                   "cfg.yaml:1:5: mapping values are not "
                   "allowed in this context");
        load_fails("a: 1\n---\nb: 2\n", "", "more than one YAML document");
        load_fails("a: \"unterminated\n", "a",
                   "cfg.yaml:2:1: found unexpected end of stream while "
                   "scanning a quoted scalar");
        load_fails("a:\n\t- 1\n", "a", "cfg.yaml:2:1:");
}
END_TEST

START_TEST(test_empty_and_scalar_documents)
{
        json_t *root = load("");

        ck_assert(json_is_null(root));
        json_decref(root);
        root = load("# only a comment\n");
        ck_assert(json_is_null(root));
        json_decref(root);
        root = load("--- 42\n...\n");
        ck_assert_int_eq(json_integer_value(root), 42);
        json_decref(root);
}
END_TEST

START_TEST(test_deep_nesting_bounded)
{
        size_t n = 100000;
        char *s  = malloc(2 * n + 1);

        memset(s, '[', n);
        memset(s + n, ']', n);
        s[2 * n] = '\0';
        ck_assert_ptr_null(load(s));
        ck_assert_ptr_nonnull(strstr(err.text, "nesting deeper than"));
        free(s);
}
END_TEST

START_TEST(test_load_file)
{
        char path[]       = "/tmp/ab_check_conf_XXXXXX";
        int fd            = mkstemp(path);
        const char text[] = "name: x\nlist: [1, 2]\n";
        json_t *root;

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, text, sizeof(text) - 1),
                         (ssize_t)sizeof(text) - 1);
        close(fd);
        ab_error_clear(&err);
        root = ab_conf_load_file(path, &err);
        ck_assert_ptr_nonnull(root);
        ck_assert_str_eq(json_string_value(json_object_get(root, "name")), "x");
        json_decref(root);
        /* Errors name the file. */
        fd = open(path, O_WRONLY | O_TRUNC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, "a: 1\na: 2\n", 10), 10);
        close(fd);
        ck_assert_ptr_null(ab_conf_load_file(path, &err));
        ck_assert_int_eq(err.code, AB_ERR_CONFIG);
        ck_assert_ptr_eq(strstr(err.text, path), err.text);
        unlink(path);
        ck_assert_ptr_null(ab_conf_load_file(path, &err));
        ck_assert_int_eq(err.code, AB_ERR_IO);
        ck_assert_ptr_nonnull(strstr(err.text, path));
        ck_assert_ptr_null(ab_conf_load_file("/nonexistent/x.yaml", NULL));
}
END_TEST

/* Only regular files are read: a device or a FIFO is refused at once (a
 * FIFO used to block forever, /dev/zero to grow without bound), and a file
 * over the limit is refused before it is read. */
START_TEST(test_load_file_only_regular_and_bounded)
{
        char dir[] = "/tmp/ab_check_conf_dir_XXXXXX";
        char fifo[64], big[64];
        int fd;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
        snprintf(big, sizeof(big), "%s/big.yaml", dir);
        ck_assert_int_eq(mkfifo(fifo, 0600), 0);
        ck_assert_ptr_null(ab_conf_load_file(fifo, &err));
        ck_assert_int_eq(err.code, AB_ERR_IO);
        ck_assert_ptr_nonnull(strstr(err.text, fifo));
        ck_assert_ptr_nonnull(strstr(err.text, "a FIFO"));
        ck_assert_ptr_null(ab_conf_load_file("/dev/zero", &err));
        ck_assert_int_eq(err.code, AB_ERR_IO);
        ck_assert_ptr_nonnull(strstr(err.text, "/dev/zero"));
        ck_assert_ptr_nonnull(strstr(err.text, "a character device"));
        ck_assert_ptr_null(ab_conf_load_file(dir, &err));
        ck_assert_int_eq(err.code, AB_ERR_IO);
        ck_assert_ptr_nonnull(strstr(err.text, "a directory"));
        fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(ftruncate(fd, (off_t)AB_FILE_CONF_MAX + 1), 0);
        close(fd);
        ck_assert_ptr_null(ab_conf_load_file(big, &err));
        ck_assert_int_eq(err.code, AB_ERR_TOO_LARGE);
        ck_assert_ptr_nonnull(strstr(err.text, big));
        ck_assert_ptr_nonnull(strstr(err.text, "16 MiB"));
        unlink(big);
        unlink(fifo);
        rmdir(dir);
}
END_TEST

/* ---- environment ------------------------------------------------------- */

static void expands_to(const char *in, const char *want)
{
        char *got;

        ab_error_clear(&err);
        got = ab_conf_expand_env(in, "sink.token", &err);
        ck_assert_msg(got != NULL, "%s: %s", in, err.text);
        ck_assert_str_eq(got, want);
        ab_free(got);
}

START_TEST(test_expand_env)
{
        setenv("AB_T_USER", "alice", 1);
        setenv("AB_T_EMPTY", "", 1);
        unsetenv("AB_T_UNSET");
        expands_to("", "");
        expands_to("plain $text {braces} $", "plain $text {braces} $");
        expands_to("${AB_T_USER}", "alice");
        expands_to("u=${AB_T_USER}, again ${AB_T_USER}!",
                   "u=alice, again alice!");
        expands_to("[${AB_T_EMPTY}]", "[]");
        expands_to("${AB_T_UNSET:-fallback}", "fallback");
        expands_to("${AB_T_EMPTY:-fallback}", "fallback");
        expands_to("${AB_T_USER:-fallback}", "alice");
        expands_to("${AB_T_UNSET:-}", "");
        expands_to("$${AB_T_USER}", "${AB_T_USER}");
}
END_TEST

START_TEST(test_expand_env_errors)
{
        ck_assert_ptr_null(
            ab_conf_expand_env("x ${AB_T_UNSET2} y", "sink.token", &err));
        ck_assert_int_eq(err.code, AB_ERR_CONFIG);
        ck_assert_str_eq(err.path, "sink.token");
        ck_assert_str_eq(err.text,
                         "environment variable AB_T_UNSET2 is not set");
        ck_assert_ptr_null(ab_conf_expand_env("${AB_T_USER", "p", &err));
        ck_assert_ptr_nonnull(strstr(err.text, "unterminated"));
        ck_assert_ptr_null(ab_conf_expand_env("${1ABC}", "p", &err));
        ck_assert_ptr_nonnull(strstr(err.text, "invalid variable reference"));
        ck_assert_ptr_null(ab_conf_expand_env("${}", "p", &err));
        ck_assert_ptr_null(ab_conf_expand_env("${A B}", "p", &err));
        ck_assert_ptr_null(ab_conf_expand_env("${AB_T_UNSET2}", NULL, NULL));
}
END_TEST

/* A default may itself hold references, expanded only when used; used to
 * come out as the literal "${AB_T_UNSET2:-x}}". */
START_TEST(test_expand_env_nested)
{
        setenv("AB_T_USER", "alice", 1);
        unsetenv("AB_T_UNSET");
        unsetenv("AB_T_UNSET2");
        expands_to("${AB_T_UNSET:-${AB_T_UNSET2:-x}}", "x");
        expands_to("${AB_T_UNSET:-${AB_T_USER:-x}}", "alice");
        expands_to("${AB_T_USER:-${AB_T_UNSET2}}", "alice");
        expands_to("<${AB_T_UNSET:-a${AB_T_USER}b}>", "<aaliceb>");
        expands_to("${AB_T_UNSET:-$${AB_T_USER}}", "${AB_T_USER}");
        expands_to("${AB_T_UNSET:-${AB_T_UNSET2:-${AB_T_UNSET:-deep}}}",
                   "deep");
        ck_assert_ptr_null(
            ab_conf_expand_env("${AB_T_UNSET:-${AB_T_UNSET2}}", "p", &err));
        ck_assert_str_eq(err.text,
                         "environment variable AB_T_UNSET2 is not set");
        ck_assert_ptr_null(
            ab_conf_expand_env("${AB_T_UNSET:-${AB_T_UNSET2:-x}", "p", &err));
        ck_assert_ptr_nonnull(strstr(err.text, "unterminated"));
        ck_assert_ptr_null(ab_conf_expand_env(
            "${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A:-x}}}}}}}}}", "p",
            &err));
        ck_assert_ptr_nonnull(strstr(err.text, "nested deeper than 8"));
}
END_TEST

/* Typed values: a reference is expanded, then typed as YAML types a plain
 * scalar; values without a reference are returned as they are. */
START_TEST(test_expand_env_typed)
{
        json_t *in, *out;

        setenv("AB_T_PORT", "8080", 1);
        setenv("AB_T_YES", "true", 1);
        in  = json_string("${AB_T_PORT}");
        out = ab_conf_expand_env_typed(in, "p", &err);
        ck_assert(json_is_integer(out));
        ck_assert_int_eq(json_integer_value(out), 8080);
        json_decref(out);
        json_decref(in);
        in  = json_string("${AB_T_YES}");
        out = ab_conf_expand_env_typed(in, "p", &err);
        ck_assert(json_is_true(out));
        json_decref(out);
        json_decref(in);
        in  = json_string("${AB_T_UNSET:-1m}");
        out = ab_conf_expand_env_typed(in, "p", &err);
        ck_assert_str_eq(json_string_value(out), "1m");
        json_decref(out);
        json_decref(in);
        in  = json_integer(5);
        out = ab_conf_expand_env_typed(in, "p", &err);
        ck_assert_ptr_eq(out, in);
        json_decref(out);
        json_decref(in);
        in = json_string("${AB_T_UNSET}");
        ck_assert_ptr_null(ab_conf_expand_env_typed(in, "p", &err));
        ck_assert_int_eq(err.code, AB_ERR_CONFIG);
        json_decref(in);
}
END_TEST

/* ---- paths ------------------------------------------------------------- */

START_TEST(test_paths)
{
        char out[160], tiny[8];

        ab_conf_path_key(out, sizeof(out), "fields", "severity");
        ck_assert_str_eq(out, "fields.severity");
        ab_conf_path_key(out, sizeof(out), NULL, "fields");
        ck_assert_str_eq(out, "fields");
        ab_conf_path_key(out, sizeof(out), "", "fields");
        ck_assert_str_eq(out, "fields");
        ab_conf_path_index(out, sizeof(out), "metadata", 2);
        ck_assert_str_eq(out, "metadata[2]");
        ab_conf_path_index(out, sizeof(out), NULL, 0);
        ck_assert_str_eq(out, "[0]");
        ab_conf_path_key(out, sizeof(out), "labels", "*");
        ck_assert_str_eq(out, "labels.*");
        ab_conf_path_key(out, sizeof(out), "labels", "a.b");
        ck_assert_str_eq(out, "labels['a.b']");
        ab_conf_path_key(out, sizeof(out), "m", "it's");
        ck_assert_str_eq(out, "m['it\\'s']");
        ab_conf_path_key(out, sizeof(out), "m", "");
        ck_assert_str_eq(out, "m['']");
        /* In place: parent may be the output buffer. */
        ab_conf_path_key(out, sizeof(out), "fields", "service");
        ab_conf_path_key(out, sizeof(out), out, "condition");
        ab_conf_path_index(out, sizeof(out), out, 1);
        ck_assert_str_eq(out, "fields.service.condition[1]");
        /* Truncated, always terminated. */
        ab_conf_path_key(tiny, sizeof(tiny), "fields", "severity");
        ck_assert_str_eq(tiny, "fields.");
        ab_conf_path_index(tiny, sizeof(tiny), "abcdef", 123);
        ck_assert_str_eq(tiny, "abcdef[");
        ab_conf_path_key(tiny, sizeof(tiny), "a", "x y z w");
        ck_assert_str_eq(tiny, "a['x y ");
        ab_conf_path_key(out, 0, "a", "b");
}
END_TEST

/* ---- durations and sizes ----------------------------------------------- */

START_TEST(test_durations)
{
        static const struct {
                const char *s;
                long long ms;
        } ok[] = {
            {"30m", 1800000},  {"1h30m", 5400000},
            {"45s", 45000},    {"500ms", 500},
            {"2d", 172800000}, {"90", 90000},
            {"0", 0},          {"1.5h", 5400000},
            {"0.25s", 250},    {"1h1m1s1ms", 3661001},
            {"2.5", 2500},     {"1d12h", 129600000},
            {"1.0001s", 1000}, {"0ms", 0},
        };
        static const char *const bad[] = {
            "",
            "m",
            "-5s",
            "5x",
            "5 s",
            " 5s",
            "1h30",
            "1.5.5s",
            "5mss",
            "1.s",
            "s5",
            "5S",
            "1e3",
            "1h-30m",
            "9999999999999999999d",
            "99999999999999999999",
        };
        long long ms;

        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                ms = -1;
                ck_assert_msg(ab_conf_parse_duration(ok[i].s, &ms) == 0, "%s",
                              ok[i].s);
                ck_assert_msg(ms == ok[i].ms, "%s: %lld", ok[i].s, ms);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                ck_assert_msg(ab_conf_parse_duration(bad[i], &ms) == -1,
                              "accepted '%s'", bad[i]);
        ck_assert_int_eq(ab_conf_parse_duration(NULL, &ms), -1);
}
END_TEST

START_TEST(test_sizes)
{
        static const struct {
                const char *s;
                long long bytes;
        } ok[] = {
            {"512", 512},           {"10B", 10},
            {"64KB", 65536},        {"64kb", 65536},
            {"64KiB", 65536},       {"8k", 8192},
            {"1MiB", 1048576},      {"1MB", 1048576},
            {"1.5MB", 1572864},     {"2G", 2147483648LL},
            {"1GiB", 1073741824LL}, {"0", 0},
        };
        static const char *const bad[] = {
            "",
            "KB",
            "-1",
            "5XB",
            "1.5.5MB",
            "1 KB",
            "1KBB",
            "1TB",
            ".5MB",
            "1.MB",
            "99999999999999999999",
            "9999999999999G",
        };
        long long n;

        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                n = -1;
                ck_assert_msg(ab_conf_parse_size(ok[i].s, &n) == 0, "%s",
                              ok[i].s);
                ck_assert_msg(n == ok[i].bytes, "%s: %lld", ok[i].s, n);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                ck_assert_msg(ab_conf_parse_size(bad[i], &n) == -1,
                              "accepted '%s'", bad[i]);
        ck_assert_int_eq(ab_conf_parse_size(NULL, &n), -1);
}
END_TEST

static Suite *conf_suite(void)
{
        Suite *s = suite_create("conf");
        TCase *tc;

        tc = tcase_create("yaml");
        tcase_add_test(tc, test_core_schema_typing);
        tcase_add_test(tc, test_tags);
        tcase_add_test(tc, test_number_range_errors);
        tcase_add_test(tc, test_long_real);
        tcase_add_test(tc, test_issue_example);
        tcase_add_test(tc, test_json_input_same_tree);
        tcase_add_test(tc, test_anchors_and_aliases);
        tcase_add_test(tc, test_alias_expansion_bounded);
        tcase_add_test(tc, test_duplicate_keys_rejected);
        tcase_add_test(tc, test_error_paths_and_positions);
        tcase_add_test(tc, test_empty_and_scalar_documents);
        tcase_add_test(tc, test_deep_nesting_bounded);
        tcase_add_test(tc, test_load_file);
        tcase_add_test(tc, test_load_file_only_regular_and_bounded);
        suite_add_tcase(s, tc);

        tc = tcase_create("helpers");
        tcase_add_test(tc, test_expand_env);
        tcase_add_test(tc, test_expand_env_errors);
        tcase_add_test(tc, test_expand_env_nested);
        tcase_add_test(tc, test_expand_env_typed);
        tcase_add_test(tc, test_paths);
        tcase_add_test(tc, test_durations);
        tcase_add_test(tc, test_sizes);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(conf_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
