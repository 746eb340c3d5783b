/* reload.c - hot reload of the pipeline's integrations and policies:
 * validate everything, then swap between records. */
#include "pipeline/reload.h"

#include <jansson.h>
#include <stdatomic.h>
#include <string.h>

#include "core/file.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "pipeline/stateful_int.h"

/* The largest token file read. */
#define TOKEN_FILE_MAX 4096

/* Keys whose change a reload applies; a key path is reloadable when it
 * starts with one of these and ends there or goes on with '.' or '['. */
static const char *const live_keys[] = {"output.policies", "output.source",
                                        NULL};

struct ab_reload {
        const struct ab_pipeline_config *running; /* the start's, borrowed */
        struct ab_pipeline_config *current; /* the last reload's; NULL: the
                                               start's runs */
        const struct ab_pipeline_metrics *pm;
        struct ab_http *http;
        volatile sig_atomic_t *signal; /* SIGHUP's flag, or NULL */
        atomic_int requested;          /* POST /-/reload */
        char *token;
};

ab_err_t ab_reload_new(const struct ab_pipeline_config *cfg,
                       const struct ab_pipeline_metrics *pm,
                       struct ab_reload **out, struct ab_error *err)
{
        struct ab_reload *r = ab_calloc(1, sizeof(*r));
        size_t len;
        ab_err_t rc = AB_OK;

        *out = NULL;
        if (!r)
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        r->running = cfg;
        r->pm      = pm;
        atomic_init(&r->requested, 0);
        if (cfg->http.reload.enabled && cfg->http.reload.token) {
                r->token = ab_strdup(cfg->http.reload.token);
                if (!r->token)
                        rc = ab_error_set(err, AB_ERR_NOMEM, NULL,
                                          "out of memory");
        } else if (cfg->http.reload.enabled) {
                rc = ab_file_read(cfg->http.reload.token_file, TOKEN_FILE_MAX,
                                  &r->token, &len, err);
                while (!rc && len > 0 &&
                       (r->token[len - 1] == '\n' || r->token[len - 1] == '\r'))
                        r->token[--len] = '\0';
                if (!rc && len < 16)
                        rc = ab_error_set(err, AB_ERR_CONFIG,
                                          "http.reload.token_file",
                                          "%s: the token must have at least "
                                          "16 characters",
                                          cfg->http.reload.token_file);
        }
        if (rc) {
                ab_reload_destroy(r);
                return rc;
        }
        ab_metrics_set(pm->reload_successful, 1);
        ab_metrics_set(pm->reload_success_time, ab_time_now_ms() / 1000);
        *out = r;
        return AB_OK;
}

void ab_reload_destroy(struct ab_reload *r)
{
        if (!r)
                return;
        ab_pipeline_config_destroy(r->current);
        if (r->token)
                memset(r->token, 0, strlen(r->token));
        ab_free(r->token);
        ab_free(r);
}

const char *ab_reload_token(const struct ab_reload *r)
{
        return r->token;
}

void ab_reload_watch(struct ab_reload *r, volatile sig_atomic_t *flag)
{
        r->signal = flag;
}

void ab_reload_set_http(struct ab_reload *r, struct ab_http *http)
{
        r->http = http;
}

void ab_reload_request(void *arg)
{
        struct ab_reload *r = arg;

        atomic_store(&r->requested, 1);
}

bool ab_reload_pending(struct ab_reload *r)
{
        return r && ((r->signal && *r->signal) ||
                     atomic_load_explicit(&r->requested, memory_order_relaxed));
}

/* ---------------------------------------------------------------- checks */

static bool live_key(const char *path)
{
        if (!strncmp(path, "inputs[", 7)) {
                const char *dot = strchr(path, ']');
                return dot && !strcmp(dot, "].integration");
        }
        for (const char *const *k = live_keys; *k; k++) {
                size_t n = strlen(*k);
                if (!strncmp(path, *k, n) &&
                    (!path[n] || path[n] == '.' || path[n] == '['))
                        return true;
        }
        return false;
}

/* What comparing the configurations found. */
struct changes {
        json_t *changed; /* key paths a reload applies */
        json_t *restart; /* key paths that need a restart */
        bool out_of_memory;
};

static ab_err_t note_change(void *arg, const char *path)
{
        struct changes *c = arg;
        char quoted[AB_CONFTAB_PATH_SIZE + 8];

        if (json_array_append_new(live_key(path) ? c->changed : c->restart,
                                  json_string(path)))
                c->out_of_memory = true;
        if (!live_key(path))
                AB_WARN("reload",
                        "this key changed but cannot change while running: "
                        "restart to apply it",
                        "key=%s", ab_log_quote(path, quoted, sizeof(quoted)));
        return AB_OK;
}

/* Load the file again and compare it with what runs: \p *out is the new
 * configuration when it can be applied. */
static ab_err_t load_checked(struct ab_reload *r, struct changes *c,
                             struct ab_pipeline_config **out,
                             struct ab_error *err)
{
        const struct ab_pipeline_config *now =
            r->current ? r->current : r->running;
        ab_err_t rc;

        rc = ab_pipeline_config_load(r->running->path, out, err);
        if (rc)
                return rc;
        /* Compared with the start's: the keys that need a restart must
         * still hold what the loop and the clients were built with. */
        rc = ab_pipeline_config_diff(r->running, *out, note_change, c);
        if (!rc && !c->out_of_memory && json_array_size(c->restart))
                return ab_error_set(
                    err, AB_ERR_CONFIG,
                    json_string_value(json_array_get(c->restart, 0)),
                    "%zu changed key(s) need a restart (each logged, and "
                    "listed in \"restart_required\"); nothing was applied",
                    json_array_size(c->restart));
        /* What this reload changes: compared with the last one's. */
        json_array_clear(c->changed);
        if (!rc)
                rc = ab_pipeline_config_diff(now, *out, note_change, c);
        if (!rc && c->out_of_memory)
                rc = ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        return rc;
}

/* ---------------------------------------------------------------- apply */

/* The HTTP status answering a reload that ended with \p rc. */
static unsigned http_status(ab_err_t rc)
{
        switch (rc) {
        case AB_OK:
                return 200;
        case AB_ERR_NOMEM:
        case AB_ERR_INTERNAL:
                return 500;
        default:
                /* The configuration cannot be applied (a bad file, a
                 * change that needs a restart): the request was fine,
                 * its content is not. */
                return 422;
        }
}

static void answer(struct ab_reload *r, ab_err_t rc, const struct ab_error *err,
                   struct changes *c, const struct ab_pipeline_config *cfg,
                   int64_t took_ms)
{
        char line[sizeof(err->path) + sizeof(err->text) + 32];
        json_t *doc;
        char *text;

        if (!r->http)
                return;
        if (rc)
                doc =
                    json_pack("{s:s, s:s, s:s, s:s, s:O}", "status", "error",
                              "code", ab_err_code(rc), "path", err->path,
                              "error", ab_error_format(err, line, sizeof(line)),
                              "restart_required", c->restart);
        else
                doc = json_pack("{s:s, s:s, s:O, s:I, s:I, s:I}", "status",
                                "success", "config", cfg->path, "changed",
                                c->changed, "inputs", (json_int_t)cfg->ninputs,
                                "policies", (json_int_t)cfg->output.npolicies,
                                "duration_ms", (json_int_t)took_ms);
        text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        ab_http_reload_answer(r->http, text ? http_status(rc) : 500,
                              text ? text : "{\"status\":\"error\"}");
        free(text);
        json_decref(doc);
}

ab_err_t ab_reload_apply(struct ab_reload *r, struct ab_processor *p,
                         struct ab_error *err)
{
        struct changes c                = {json_array(), json_array(), false};
        struct ab_pipeline_config *next = NULL;
        int64_t start                   = ab_time_mono_ms();
        const char *trigger = r->signal && *r->signal ? "sighup" : "http";
        char line[sizeof(err->path) + sizeof(err->text) + 32];
        char quoted[2 * sizeof(line)];
        ab_err_t rc;

        /* Requests from now on ask for another reload. */
        if (r->signal)
                *r->signal = 0;
        atomic_store(&r->requested, 0);
        if (r->http)
                ab_http_reload_begin(r->http);
        ab_error_clear(err);
        if (!c.changed || !c.restart)
                rc = ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        else
                rc = load_checked(r, &c, &next, err);
        if (!rc)
                rc = ab_processor_reload(p, next, err);
        if (rc) {
                ab_metrics_inc(r->pm->reload_failures);
                ab_metrics_set(r->pm->reload_successful, 0);
                AB_ERROR("reload",
                         "reload failed; the running configuration is kept",
                         "trigger=%s config=%s error=%s", trigger,
                         r->running->path,
                         ab_log_quote(ab_error_format(err, line, sizeof(line)),
                                      quoted, sizeof(quoted)));
                answer(r, rc, err, &c, NULL, 0);
                ab_pipeline_config_destroy(next);
        } else {
                ab_metrics_set(r->pm->reload_successful, 1);
                ab_metrics_set(r->pm->reload_success_time,
                               ab_time_now_ms() / 1000);
                AB_INFO("reload", "configuration reloaded",
                        "trigger=%s config=%s changed_keys=%zu inputs=%zu "
                        "policies=%zu",
                        trigger, next->path, json_array_size(c.changed),
                        next->ninputs, next->output.npolicies);
                answer(r, rc, err, &c, next, ab_time_mono_ms() - start);
                ab_pipeline_config_destroy(r->current);
                r->current = next;
        }
        json_decref(c.changed);
        json_decref(c.restart);
        return rc;
}

/*
 * The two-stage loop (stateful_int.h) reloads at the same boundary: its
 * mapped records finished first, so none is bound to the old
 * integrations; the lifecycle stage's records name their integration and
 * resolve it in the new set. A failed record stops the loop instead; a
 * transaction to rebuild first (sf->abort) postpones the reload.
 */
void ab_reload_stateful(struct ab_reload *r, struct ab_stateful *sf)
{
        struct ab_error err;

        if (sf->fatal.code != AB_OK || sf->abort ||
            ab_stateful_finish_ready(sf, -1))
                return;
        ab_reload_apply(r, sf->proc, &err);
}
