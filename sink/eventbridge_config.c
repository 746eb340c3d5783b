/* eventbridge_config.c - the PutEvents client's configuration: defaults,
 * checks, and the client's own copy of every string. */
#include <string.h>

#include "core/mem.h"
#include "sink/eventbridge_int.h"

#define DEFAULT_INFLIGHT 4

void ab_eb_config_default(struct ab_eb_config *cfg)
{
        memset(cfg, 0, sizeof(*cfg));
        ab_batch_limits_default(&cfg->limits);
        cfg->max_in_flight      = DEFAULT_INFLIGHT;
        cfg->connect_timeout_ms = 5000;
        cfg->request_timeout_ms = 30000;
        cfg->backoff_initial_ms = 200;
        cfg->backoff_max_ms     = 30000;
}

static char *dup_opt(const char *s, int *fail)
{
        char *d;

        if (!s)
                return NULL;
        d = ab_strdup(s);
        if (!d)
                *fail = 1;
        return d;
}

static int has_ctl(const char *s)
{
        for (; s && *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return 1;
        return 0;
}

ab_err_t ab_eb_copy_config(struct ab_eb_client *c,
                           const struct ab_eb_config *cfg, struct ab_error *err)
{
        const struct ab_sign_creds *k = &cfg->creds;
        const char *ep                = cfg->endpoint;
        int fail                      = 0;
        size_t n                      = 0;

        if (!ep || !*ep)
                return ab_error_set(err, AB_ERR_CONFIG, "endpoint",
                                    "endpoint is required");
        if (!k->access_key_id || !*k->access_key_id || !k->access_key_secret ||
            !*k->access_key_secret)
                return ab_error_set(err, AB_ERR_CONFIG, "credentials",
                                    "access key id and secret are required");
        if (has_ctl(k->access_key_id) || has_ctl(k->access_key_secret) ||
            has_ctl(k->security_token) || has_ctl(cfg->region_id) ||
            has_ctl(cfg->user_agent) || has_ctl(ep))
                return ab_error_set(err, AB_ERR_CONFIG, "credentials",
                                    "credentials, endpoint and region must "
                                    "not contain control characters");
        if (cfg->limits.max_events < 1 ||
            cfg->limits.max_events > AB_BATCH_MAX_EVENTS * 4 ||
            cfg->limits.max_event_bytes > cfg->limits.max_request_bytes)
                return ab_error_set(err, AB_ERR_CONFIG, "limits",
                                    "need 1 <= max_events <= %d and "
                                    "max_event_bytes <= max_request_bytes",
                                    AB_BATCH_MAX_EVENTS * 4);
        while (ep[strlen(ep) - n - 1] == '/' && n + 1 < strlen(ep))
                n++;
        if (ab_buf_appendf(&c->scratch, "%s%.*s%s",
                           strstr(ep, "://") ? "" : "https://",
                           (int)(strlen(ep) - n), ep, AB_SIGN_PUTEVENTS_PATH))
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        c->url           = ab_buf_take(&c->scratch, NULL);
        c->region_id     = dup_opt(cfg->region_id, &fail);
        c->access_key_id = dup_opt(k->access_key_id, &fail);
        c->secret        = dup_opt(k->access_key_secret, &fail);
        c->token         = k->security_token && *k->security_token
                               ? dup_opt(k->security_token, &fail)
                               : NULL;
        c->user_agent =
            dup_opt(cfg->user_agent ? cfg->user_agent : "alertbridge", &fail);
        c->ca_file = dup_opt(cfg->ca_file, &fail);
        if (cfg->permanent_entry_codes) {
                size_t m = 0;

                while (cfg->permanent_entry_codes[m])
                        m++;
                c->perm_codes = ab_calloc(m + 1, sizeof(char *));
                fail |= !c->perm_codes;
                for (size_t i = 0; c->perm_codes && i < m; i++)
                        c->perm_codes[i] =
                            dup_opt(cfg->permanent_entry_codes[i], &fail);
        }
        if (fail)
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        c->cfg                         = *cfg;
        c->cfg.endpoint                = c->url;
        c->cfg.region_id               = c->region_id;
        c->cfg.creds.access_key_id     = c->access_key_id;
        c->cfg.creds.access_key_secret = c->secret;
        c->cfg.creds.security_token    = c->token;
        c->cfg.user_agent              = c->user_agent;
        c->cfg.ca_file                 = c->ca_file;
        c->cfg.permanent_entry_codes   = NULL;
        if (!c->cfg.max_in_flight)
                c->cfg.max_in_flight = DEFAULT_INFLIGHT;
        if (c->cfg.connect_timeout_ms <= 0)
                c->cfg.connect_timeout_ms = 5000;
        if (c->cfg.request_timeout_ms <= 0)
                c->cfg.request_timeout_ms = 30000;
        if (c->cfg.backoff_initial_ms <= 0)
                c->cfg.backoff_initial_ms = 200;
        if (c->cfg.backoff_max_ms < c->cfg.backoff_initial_ms)
                c->cfg.backoff_max_ms = c->cfg.backoff_initial_ms;
        return AB_OK;
}
