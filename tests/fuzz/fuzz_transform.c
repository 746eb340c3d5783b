/* fuzz_transform.c - libFuzzer target for the form decoder, selectors and the
 * mapping engine. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/conf.h"
#include "core/json.h"
#include "transform/decode.h"
#include "transform/selector.h"
#include "transform/transform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input layout: the first line is a selector, the rest a payload. The
 * selector is compiled and evaluated over the payload (decoded as JSON or
 * form); the payload also goes through the engine with an integration
 * that exercises every method. Nothing may crash, leak or read out of
 * bounds; a compiled selector must evaluate without error.
 */
static struct ab_integration *integ;
static struct ab_transform *tf;

static const char fuzz_integration[] =
    "name: fuzz\n"
    "batch: {root: $.items}\n"
    "recovery: {when: [{field: \"$.items[*].status\", equals: resolved}]}\n"
    "fields:\n"
    "  alertname: {series: [\"$.items[*].name\", $.kind], delimiter: '_'}\n"
    "  severity: {direct: \"$.items[*].sev\", map: {a: P1, b: P2}, default: "
    "P3}\n"
    "  message: \"$.items[*].msg\"\n"
    "  startat: \"$.items[*].t\"\n"
    "  service:\n"
    "    condition:\n"
    "      - when: {any: [{field: \"$.items[*].x\", regex: '^[a-z]+$'},"
    " {field: $.y, in: [1, 2]}]}\n"
    "        direct: \"$.items[*].x\"\n"
    "      - direct: \"$.items[0]\"\n"
    "labels: {'*': {direct: \"$.items[*].labels\"}, extra: $.z}\n";

static void init(void)
{
        json_t *root = ab_conf_load_string(
            fuzz_integration, sizeof(fuzz_integration) - 1, "fuzz", NULL);
        if (!root || ab_integration_compile(root, NULL, &integ, NULL))
                __builtin_trap();
        json_decref(root);
        tf = ab_transform_new();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *p       = (const char *)data;
        const char *nl      = memchr(p, '\n', size);
        size_t sel_len      = nl ? (size_t)(nl - p) : size;
        const char *payload = nl ? nl + 1 : p + size;
        size_t plen         = nl ? size - sel_len - 1 : 0;
        struct ab_json_doc doc;
        struct ab_buf form, scratch;
        struct ab_matches m;
        char sel_text[256];
        struct ab_selector *sel = NULL;
        const struct ab_alert *alerts;
        size_t nalerts;
        int parsed = 0;

        if (!integ)
                init();
        ab_json_doc_init(&doc);
        ab_buf_init(&form, 0);
        ab_buf_init(&scratch, 0);
        ab_matches_init(&m);
        if (sel_len < sizeof(sel_text) && !memchr(p, '\0', sel_len)) {
                memcpy(sel_text, p, sel_len);
                sel_text[sel_len] = '\0';
                (void)ab_selector_compile(sel_text, &sel, NULL);
        }
        if (ab_decode_is_form(payload, plen)) {
                if (ab_decode_form(payload, plen, &form, &scratch, NULL) == 0) {
                        /* the decoder must always emit valid JSON */
                        if (ab_json_parse(&doc, form.data, form.len, NULL))
                                __builtin_trap();
                        parsed = 1;
                }
        } else {
                parsed = ab_json_parse(&doc, payload, plen, NULL) == 0;
        }
        if (sel && parsed && ab_selector_eval(sel, 0, &doc, 0, &m) != 0)
                __builtin_trap();
        (void)ab_transform_run(tf, integ, payload, plen, AB_CONTENT_AUTO,
                               &alerts, &nalerts, NULL);
        ab_selector_destroy(sel);
        ab_matches_fini(&m);
        ab_buf_fini(&form);
        ab_buf_fini(&scratch);
        ab_json_doc_fini(&doc);
        return 0;
}
