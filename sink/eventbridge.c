/* eventbridge.c - PutEvents over a curl multi handle: retries, order. */
#include "sink/eventbridge.h"

#include <curl/curl.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "sink/eventbridge_int.h"

#define MAX_RESPONSE (1024 * 1024)

/* What a finished request means for its events. */
enum verdict { V_RETRY, V_REJECT };

/* ---- small helpers ---- */

static uint64_t fnv1a(const void *p, size_t n, uint64_t seed)
{
        const unsigned char *s = p;
        uint64_t h             = 14695981039346656037ULL ^ seed;

        for (size_t i = 0; i < n; i++) {
                h ^= s[i];
                h *= 1099511628211ULL;
        }
        return h;
}

/* ---- the per-scan "seen" set ---- */

static ab_err_t seen_reserve(struct ab_eb_client *c, size_t n)
{
        size_t cap = c->seen_cap ? c->seen_cap : 64;
        uint64_t *k;
        uint32_t *g;

        while (cap < 4 * n)
                cap *= 2;
        if (cap == c->seen_cap)
                return AB_OK;
        k = ab_calloc(cap, sizeof(*k));
        g = ab_calloc(cap, sizeof(*g));
        if (!k || !g) {
                ab_free(k);
                ab_free(g);
                return AB_ERR_NOMEM;
        }
        ab_free(c->seen_key);
        ab_free(c->seen_gen);
        c->seen_key = k;
        c->seen_gen = g;
        c->seen_cap = cap;
        c->gen      = 0;
        return AB_OK;
}

/* Insert \p h; @returns 1 if it was already in this scan's set. */
static int seen_test_and_set(struct ab_eb_client *c, uint64_t h)
{
        size_t mask = c->seen_cap - 1;
        size_t i    = (size_t)(h ^ (h >> 29)) & mask;

        while (c->seen_gen[i] == c->gen) {
                if (c->seen_key[i] == h)
                        return 1;
                i = (i + 1) & mask;
        }
        c->seen_gen[i] = c->gen;
        c->seen_key[i] = h;
        return 0;
}

static void new_scan(struct ab_eb_client *c)
{
        if (++c->gen == 0) {
                memset(c->seen_gen, 0, c->seen_cap * sizeof(*c->seen_gen));
                c->gen = 1;
        }
}

/* ---- requests ---- */

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        struct eb_req *r = userdata;
        size_t n         = size * nmemb;

        if (r->resp.len + n > MAX_RESPONSE)
                return 0;
        return ab_buf_append(&r->resp, ptr, n) ? 0 : n;
}

static int on_debug(CURL *h, curl_infotype type, char *data, size_t size,
                    void *userp)
{
        char line[512];
        char quoted[600];

        /* Only curl's own text: header and body dumps would carry the
         * signature and the STS token. */
        if (type != CURLINFO_TEXT)
                return 0;
        while (size && (data[size - 1] == '\n' || data[size - 1] == '\r'))
                size--;
        ab_eb_copy_str(line, sizeof(line), data, size);
        ab_eb_scrub(userp, line, sizeof(line));
        AB_DEBUG(COMP, "curl", "text=%s",
                 ab_log_quote(line, quoted, sizeof(quoted)));
        return 0;
}

static ab_err_t set_headers(struct ab_eb_client *c, struct eb_req *r)
{
        struct ab_sign_putevents p;
        char date[AB_SIGN_DATE_LEN];
        char nonce[AB_SIGN_NONCE_LEN];
        char *line, *nl;
        ab_err_t rc;

        curl_slist_free_all(r->hdrs);
        r->hdrs = NULL;
        ab_sign_date((long long)time(NULL), date);
        rc = ab_sign_nonce(nonce);
        if (rc)
                return rc;
        p = (struct ab_sign_putevents){.creds      = &c->cfg.creds,
                                       .date       = date,
                                       .nonce      = nonce,
                                       .region_id  = c->region_id,
                                       .user_agent = c->user_agent};
        ab_buf_reset(&c->scratch);
        rc = ab_sign_putevents_headers(&c->scratch, &p, NULL);
        if (!rc)
                rc = ab_buf_append_str(&c->scratch, "Expect:\n");
        for (line = c->scratch.data; !rc && line && *line; line = nl + 1) {
                struct curl_slist *n;

                nl  = strchr(line, '\n');
                *nl = '\0';
                n   = curl_slist_append(r->hdrs, line);
                if (!n)
                        rc = AB_ERR_NOMEM;
                else
                        r->hdrs = n;
        }
        memset(c->scratch.data, 0, c->scratch.cap);
        return rc;
}

static ab_err_t start_request(struct ab_eb_client *c, struct eb_req *r)
{
        const char *body;
        size_t len;
        CURLMcode mc;
        ab_err_t rc;

        body = ab_batch_finish(&r->batch, &len);
        if (!body)
                return AB_ERR_NOMEM;
        rc = set_headers(c, r);
        if (rc)
                return rc;
        ab_buf_reset(&r->resp);
        r->errbuf[0] = '\0';
        curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->hdrs);
        curl_easy_setopt(r->easy, CURLOPT_VERBOSE,
                         ab_log_threshold >= AB_LOG_DEBUG ? 1L : 0L);
        mc = curl_multi_add_handle(c->multi, r->easy);
        if (mc != CURLM_OK)
                return AB_ERR_HTTP;
        r->busy     = 1;
        r->start_ms = ab_time_mono_ms();
        for (size_t i = 0; i < r->nev; i++) {
                r->ev[i]->in_flight = 1;
                r->ev[i]->attempts++;
                if (r->ev[i]->attempts > 1)
                        AB_DEBUG(COMP, "retrying event", "id=%s attempt=%u",
                                 r->ev[i]->id, r->ev[i]->attempts);
        }
        c->ninflight_events += r->nev;
        c->stats.in_flight++;
        return AB_OK;
}

/* Fill request \p r with ready events in list order, at most one per
 * ordering key and per id, none overtaking an earlier event of its key. */
static void fill_one(struct ab_eb_client *c, struct eb_req *r, int64_t now)
{
        ab_batch_reset(&r->batch);
        r->nev = 0;
        new_scan(c);
        for (struct eb_event *e = c->head; e; e = e->next) {
                int blocked = 0;

                if (e->has_key)
                        blocked |= seen_test_and_set(c, e->keyhash);
                blocked |= seen_test_and_set(c, e->idhash);
                if (blocked || e->in_flight || e->ready_at_ms > now)
                        continue;
                if (ab_batch_add(&r->batch, e->json, e->len, e->counted))
                        continue;
                r->ev[r->nev++] = e;
                if (r->nev == c->cfg.limits.max_events)
                        break;
        }
}

static void fill_requests(struct ab_eb_client *c)
{
        int64_t now = ab_time_mono_ms();

        if (now < c->paused_until_ms)
                return;
        for (unsigned i = 0; i < c->nreqs; i++) {
                struct eb_req *r = &c->reqs[i];
                ab_err_t rc;

                if (r->busy)
                        continue;
                if (c->ninflight_events >= c->npending)
                        return;
                if (seen_reserve(c, c->npending))
                        return;
                fill_one(c, r, now);
                if (!r->nev)
                        return;
                rc = start_request(c, r);
                if (rc) {
                        AB_ERROR(COMP, "cannot start request", "err=%s",
                                 ab_err_code(rc));
                        r->nev = 0;
                        return;
                }
        }
}

static void observe(struct ab_eb_client *c, struct eb_req *r, int64_t ms)
{
        c->stats.requests++;
        c->stats.batch_sum += r->nev;
        if (c->cfg.on_request)
                c->cfg.on_request(c->opaque, (double)ms / 1000.0, r->nev);
}

static void request_failed(struct ab_eb_client *c, struct eb_req *r,
                           enum verdict v, int status, const char *code,
                           const char *msg)
{
        int64_t pause = 0;

        ab_eb_count_failure(c, code);
        if (v == V_RETRY) {
                c->consecutive_failures++;
                pause = ab_eb_backoff_ms(c, c->consecutive_failures);
                c->paused_until_ms = ab_time_mono_ms() + pause;
                AB_WARN(COMP, "request failed, will retry",
                        "code=%s status=%d events=%zu backoff_ms=%lld", code,
                        status, r->nev, (long long)pause);
        } else {
                char quoted[300];

                AB_ERROR(COMP, "request rejected",
                         "code=%s status=%d events=%zu "
                         "message=%s",
                         code, status, r->nev,
                         ab_log_quote(msg, quoted, sizeof(quoted)));
        }
        for (size_t j = 0; j < r->nev; j++) {
                if (v == V_RETRY)
                        ab_eb_retry(c, r->ev[j], status, code, msg,
                                    c->paused_until_ms);
                else
                        ab_eb_reject(c, r->ev[j], status, code, msg);
        }
}

static void complete(struct ab_eb_client *c, struct eb_req *r, CURLcode res)
{
        long status = 0;
        int64_t now = ab_time_mono_ms();
        char code[64];
        char msg[256];

        curl_multi_remove_handle(c->multi, r->easy);
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
        r->busy = 0;
        c->stats.in_flight--;
        c->ninflight_events -= r->nev;
        for (size_t j = 0; j < r->nev; j++)
                r->ev[j]->in_flight = 0;
        observe(c, r, now - r->start_ms);
        AB_DEBUG(COMP, "request done", "status=%ld curl=%d events=%zu ms=%lld",
                 status, (int)res, r->nev, (long long)(now - r->start_ms));
        if (res != CURLE_OK) {
                const char *text =
                    r->errbuf[0] ? r->errbuf : curl_easy_strerror(res);

                snprintf(code, sizeof(code), "%s", ab_eb_curl_code_name(res));
                ab_eb_scrubbed_copy(c, msg, sizeof(msg), text, strlen(text));
                request_failed(
                    c, r, ab_eb_curl_is_permanent(res) ? V_REJECT : V_RETRY,
                    (int)status, code, msg);
        } else if (status >= 200 && status < 300) {
                if (ab_eb_read_entries(c, r, status, now)) {
                        request_failed(c, r, V_RETRY, (int)status,
                                       "bad_response",
                                       "response body is not a PutEvents "
                                       "result");
                } else {
                        c->consecutive_failures = 0;
                }
        } else {
                enum verdict v;

                ab_eb_error_body(c, r, (int)status, code, sizeof(code), msg,
                                 sizeof(msg));
                /* A reused nonce is not the request's fault: libcurl
                 * itself resends a request, headers unchanged, when a
                 * reused connection dies before any answer. The next
                 * attempt is signed with a fresh nonce. */
                v = status == 408 || status == 429 || status >= 500 ||
                            !strcmp(code, "SignatureNonceUsed")
                        ? V_RETRY
                        : V_REJECT;
                request_failed(c, r, v, (int)status, code, msg);
        }
        r->nev = 0;
}

static void drain_done(struct ab_eb_client *c)
{
        CURLMsg *m;
        int left;

        while ((m = curl_multi_info_read(c->multi, &left))) {
                struct eb_req *r = NULL;

                if (m->msg != CURLMSG_DONE)
                        continue;
                curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &r);
                if (r)
                        complete(c, r, m->data.result);
        }
}

/* ---- public interface ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
        curl_global_init(CURL_GLOBAL_DEFAULT);
}

static ab_err_t init_request(struct ab_eb_client *c, struct eb_req *r)
{
        CURL *h;

        ab_batch_init(&r->batch, &c->cfg.limits);
        ab_buf_init(&r->resp, 0);
        r->ev   = ab_calloc(c->cfg.limits.max_events, sizeof(*r->ev));
        h       = curl_easy_init();
        r->easy = h;
        if (!r->ev || !h)
                return AB_ERR_NOMEM;
        curl_easy_setopt(h, CURLOPT_URL, c->url);
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
        curl_easy_setopt(h, CURLOPT_PRIVATE, r);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->errbuf);
        curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
        curl_easy_setopt(h, CURLOPT_DEBUGDATA, c);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                         c->cfg.connect_timeout_ms);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->cfg.request_timeout_ms);
        curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        if (c->ca_file)
                curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
        return AB_OK;
}

struct ab_eb_client *ab_eb_new(const struct ab_eb_config *cfg,
                               ab_eb_done_fn done, void *opaque,
                               struct ab_error *err)
{
        struct ab_eb_client *c = ab_calloc(1, sizeof(*c));
        ab_err_t rc            = AB_OK;

        if (!c) {
                ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
                return NULL;
        }
        pthread_once(&curl_once, curl_init_once);
        ab_buf_init(&c->scratch, 0);
        ab_buf_init(&c->text, 0);
        ab_json_doc_init(&c->doc);
        c->done   = done;
        c->opaque = opaque;
        rc        = ab_eb_copy_config(c, cfg, err);
        if (rc)
                goto out;
        if (RAND_bytes((unsigned char *)&c->rng, sizeof(c->rng)) != 1 ||
            !c->rng)
                c->rng = (uint64_t)ab_time_mono_ms() | 1;
        c->multi = curl_multi_init();
        c->nreqs = c->cfg.max_in_flight;
        c->reqs  = ab_calloc(c->nreqs, sizeof(*c->reqs));
        if (!c->multi || !c->reqs) {
                rc = ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
                goto out;
        }
        curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                          (long)c->nreqs);
        for (unsigned i = 0; i < c->nreqs && !rc; i++)
                rc = init_request(c, &c->reqs[i]);
        if (rc)
                ab_error_set(err, rc, NULL, "cannot set up curl handles");
out:
        if (rc) {
                ab_eb_destroy(c);
                return NULL;
        }
        return c;
}

static void free_secret(char *s)
{
        if (s) {
                memset(s, 0, strlen(s));
                ab_free(s);
        }
}

void ab_eb_destroy(struct ab_eb_client *c)
{
        struct eb_event *e, *next;

        if (!c)
                return;
        for (unsigned i = 0; c->reqs && i < c->nreqs; i++) {
                struct eb_req *r = &c->reqs[i];

                if (r->busy)
                        curl_multi_remove_handle(c->multi, r->easy);
                if (r->easy)
                        curl_easy_cleanup(r->easy);
                curl_slist_free_all(r->hdrs);
                ab_batch_fini(&r->batch);
                ab_buf_fini(&r->resp);
                ab_free(r->ev);
        }
        ab_free(c->reqs);
        if (c->multi)
                curl_multi_cleanup(c->multi);
        for (e = c->head; e; e = next) {
                next = e->next;
                ab_eb_free_event(e);
        }
        for (char **p = c->perm_codes; p && *p; p++)
                ab_free(*p);
        ab_free(c->perm_codes);
        ab_free(c->url);
        ab_free(c->region_id);
        ab_free(c->access_key_id);
        free_secret(c->secret);
        free_secret(c->token);
        ab_free(c->user_agent);
        ab_free(c->ca_file);
        ab_free(c->seen_key);
        ab_free(c->seen_gen);
        ab_json_doc_fini(&c->doc);
        ab_buf_fini(&c->scratch);
        ab_buf_fini(&c->text);
        ab_free(c);
}

void ab_eb_abort(struct ab_eb_client *c)
{
        for (unsigned i = 0; i < c->nreqs; i++) {
                struct eb_req *r = &c->reqs[i];

                if (!r->busy)
                        continue;
                curl_multi_remove_handle(c->multi, r->easy);
                for (size_t j = 0; j < r->nev; j++)
                        r->ev[j]->in_flight = 0;
                r->busy = 0;
                r->nev  = 0;
                c->stats.in_flight--;
        }
        c->ninflight_events = 0;
        while (c->head) {
                struct ab_eb_result r = {.outcome  = AB_EB_ABORTED,
                                         .attempts = c->head->attempts};

                snprintf(r.code, sizeof(r.code), "aborted");
                snprintf(r.message, sizeof(r.message),
                         "abandoned at shutdown before EventBridge answered");
                ab_eb_finish_event(c, c->head, &r);
        }
}

ab_err_t ab_eb_submit(struct ab_eb_client *c, const char *event, size_t len,
                      size_t counted, const char *id, const void *key,
                      size_t keylen, void *cookie)
{
        struct eb_event *e = ab_calloc(1, sizeof(*e));

        if (!e)
                return AB_ERR_NOMEM;
        e->json = ab_malloc(len + 1);
        if (!e->json) {
                ab_free(e);
                return AB_ERR_NOMEM;
        }
        memcpy(e->json, event, len);
        e->json[len] = '\0';
        e->len       = len;
        e->counted   = counted;
        e->cookie    = cookie;
        ab_eb_copy_str(e->id, sizeof(e->id), id, strlen(id));
        e->idhash  = fnv1a(e->id, strlen(e->id), 1);
        e->has_key = key != NULL;
        if (key)
                e->keyhash = fnv1a(key, keylen, 2);
        e->prev = c->tail;
        if (c->tail)
                c->tail->next = e;
        else
                c->head = e;
        c->tail = e;
        c->npending++;
        return AB_OK;
}

ab_err_t ab_eb_poll(struct ab_eb_client *c, int timeout_ms)
{
        int running = 0;
        int64_t now, wait = timeout_ms;
        CURLMcode mc;

        fill_requests(c);
        mc = curl_multi_perform(c->multi, &running);
        drain_done(c);
        fill_requests(c);
        /* Wake up when the earliest backoff ends; events that are ready
         * but blocked wait for a request to finish, which curl reports. */
        now = ab_time_mono_ms();
        for (struct eb_event *e = c->head; e; e = e->next) {
                int64_t t = e->ready_at_ms > c->paused_until_ms
                                ? e->ready_at_ms
                                : c->paused_until_ms;

                if (!e->in_flight && t > now && t - now < wait)
                        wait = t - now;
        }
        if (mc == CURLM_OK && wait > 0)
                mc = curl_multi_poll(c->multi, NULL, 0, (int)wait, NULL);
        if (mc == CURLM_OK)
                mc = curl_multi_perform(c->multi, &running);
        drain_done(c);
        fill_requests(c);
        if (mc != CURLM_OK) {
                AB_ERROR(COMP, "curl multi failed", "err=%s",
                         curl_multi_strerror(mc));
                return AB_ERR_HTTP;
        }
        return AB_OK;
}

size_t ab_eb_pending(const struct ab_eb_client *c)
{
        return c->npending;
}

void ab_eb_get_stats(const struct ab_eb_client *c, struct ab_eb_stats *out)
{
        *out         = c->stats;
        out->pending = c->npending;
}
