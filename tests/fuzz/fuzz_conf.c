/* fuzz_conf.c - libFuzzer target: the YAML/JSON config loader and the
 * ${ENV} expansion of every string it yields. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
        do {                                                                   \
                if (!(cond))                                                   \
                        abort();                                               \
        } while (0)

/* Expanding a string either succeeds, or fails with a config error that
 * says why; the typed form agrees with it on success. */
static void check_expand(json_t *s)
{
        struct ab_error err;
        json_t *typed;
        char *text;

        ab_error_clear(&err);
        text = ab_conf_expand_env(json_string_value(s), "p", &err);
        if (!text) {
                CHECK(err.code == AB_ERR_CONFIG || err.code == AB_ERR_NOMEM);
                CHECK(err.text[0] != '\0');
        }
        ab_error_clear(&err);
        typed = ab_conf_expand_env_typed(s, "p", &err);
        CHECK(!typed == !text || err.code == AB_ERR_CONFIG);
        if (text && typed && json_is_string(typed) &&
            strstr(json_string_value(s), "${"))
                CHECK(!strcmp(json_string_value(typed), text));
        json_decref(typed);
        ab_free(text);
}

/* Every node: a known type; strings go through expansion. */
static void walk(json_t *v, int depth)
{
        const char *key;
        json_t *item;
        size_t i;

        CHECK(depth < 10000);
        CHECK(ab_conf_type_name(v) != NULL);
        if (json_is_string(v)) {
                check_expand(v);
        } else if (json_is_array(v)) {
                json_array_foreach(v, i, item) walk(item, depth + 1);
        } else if (json_is_object(v)) {
                json_object_foreach(v, key, item) walk(item, depth + 1);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static int ready;
        struct ab_error err;
        json_t *root;

        if (!ready) {
                setenv("AB_FUZZ_BROKERS", "k1:9092,k2:9092", 1);
                setenv("AB_FUZZ_GROUP", "group", 1);
                setenv("AB_FUZZ_N", "7", 1);
                setenv("AB_FUZZ_EMPTY", "", 1);
                ready = 1;
        }
        ab_error_clear(&err);
        root = ab_conf_load_string((const char *)data, size, "fuzz.yaml", &err);
        if (!root) {
                CHECK(err.code == AB_ERR_CONFIG || err.code == AB_ERR_NOMEM);
                CHECK(err.text[0] != '\0');
                return 0;
        }
        CHECK(err.code == AB_OK);
        walk(root, 0);
        json_decref(root);
        return 0;
}
