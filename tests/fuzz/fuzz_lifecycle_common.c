/* fuzz_lifecycle_common.c - the integrations and checksum repair the
 * lifecycle fuzz targets share. */
#include <string.h>

#include <openssl/evp.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/conf.h"
#include "tests/fuzz/fuzz_lifecycle.h"

static struct ab_integration *net, *fast;

static struct ab_integration *make(const char *text)
{
        struct ab_integration *integ = NULL;
        json_t *root = ab_conf_load_string(text, strlen(text), "fuzz", NULL);

        if (!root || ab_integration_compile(root, NULL, &integ, NULL))
                __builtin_trap();
        json_decref(root);
        return integ;
}

const struct ab_integration *fuzz_lc_resolve(void *ctx, const char *name)
{
        (void)ctx;
        if (!net) {
                net  = make("name: net\nauto_clear: 1m\n"
                             "fields: {alertname: $.n, severity: $.s}\n");
                fast = make("name: fast\nauto_clear: 5s\n"
                            "fields: {alertname: $.n, severity: $.s}\n");
        }
        if (!strcmp(name, "net"))
                return net;
        if (!strcmp(name, "fast"))
                return fast;
        return NULL;
}

void fuzz_lc_fix_checksum(unsigned char *d, size_t len)
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;

        if (len < 16)
                return;
        if (EVP_Digest(d, len - 16, md, &n, EVP_sha256(), NULL) != 1)
                __builtin_trap();
        memcpy(d + len - 16, md, 16);
}

void fuzz_lc_fix_entry_checksum(unsigned char *d, size_t len)
{
        XXH128_canonical_t c;

        if (len < 16)
                return;
        if (len > 4 && d[4] == 1) {
                fuzz_lc_fix_checksum(d, len);
                return;
        }
        XXH128_canonicalFromHash(&c, XXH3_128bits(d, len - 16));
        memcpy(d + len - 16, c.digest, 16);
}

ab_err_t fuzz_lc_emit(void *opaque, const struct ab_event *ev)
{
        (void)opaque;
        (void)ev;
        return AB_OK;
}
