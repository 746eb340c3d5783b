/* credentials.c - the sink's AccessKey, from the environment or a file. */
#include "sink/credentials.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "service/conftab.h"

/* Copy a credential into \p out; never echoes the value. */
static ab_err_t take_secret(char *out, size_t size, const char *v,
                            const char *what, bool required,
                            struct ab_error *err)
{
        if (!v || !*v) {
                out[0] = '\0';
                return required ? ab_error_set(err, AB_ERR_CONFIG, what,
                                               "is not set")
                                : AB_OK;
        }
        if (strlen(v) >= size)
                return ab_error_set(err, AB_ERR_CONFIG, what, "is too long");
        memcpy(out, v, strlen(v) + 1);
        return AB_OK;
}

ab_err_t ab_sink_credentials_load(const struct ab_sink_config *c,
                                  struct ab_sink_credentials *out,
                                  struct ab_error *err)
{
        char path[AB_CONFTAB_PATH_SIZE];
        json_t *root;
        ab_err_t rc;

        if (!c->eventbridge.credentials_file) {
                snprintf(path, sizeof(path), "$%s",
                         c->eventbridge.access_key_id_env);
                rc = take_secret(out->key_id, sizeof(out->key_id),
                                 getenv(c->eventbridge.access_key_id_env), path,
                                 true, err);
                snprintf(path, sizeof(path), "$%s",
                         c->eventbridge.access_key_secret_env);
                if (!rc)
                        rc = take_secret(
                            out->secret, sizeof(out->secret),
                            getenv(c->eventbridge.access_key_secret_env), path,
                            true, err);
                snprintf(path, sizeof(path), "$%s",
                         c->eventbridge.security_token_env);
                if (!rc)
                        rc = take_secret(
                            out->token, sizeof(out->token),
                            getenv(c->eventbridge.security_token_env), path,
                            false, err);
                return rc;
        }
        root = ab_conf_load_file(c->eventbridge.credentials_file, err);
        if (!root)
                return ab_error_set(err, AB_ERR_CONFIG,
                                    "eventbridge.credentials_file",
                                    "cannot read the credentials file");
        rc = take_secret(
            out->key_id, sizeof(out->key_id),
            json_string_value(json_object_get(root, "access_key_id")),
            "credentials_file.access_key_id", true, err);
        if (!rc)
                rc = take_secret(out->secret, sizeof(out->secret),
                                 json_string_value(json_object_get(
                                     root, "access_key_secret")),
                                 "credentials_file.access_key_secret", true,
                                 err);
        if (!rc)
                rc = take_secret(
                    out->token, sizeof(out->token),
                    json_string_value(json_object_get(root, "security_token")),
                    "credentials_file.security_token", false, err);
        json_decref(root);
        return rc;
}

void ab_sink_credentials_wipe(struct ab_sink_credentials *c)
{
        memset(c->key_id, 0, sizeof(c->key_id));
        memset(c->secret, 0, sizeof(c->secret));
        memset(c->token, 0, sizeof(c->token));
}
