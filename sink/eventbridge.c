/* eventbridge.c - PutEvents over a curl multi handle: retries, order. */
#include "eventbridge.h"

#include <curl/curl.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "log.h"
#include "mem.h"

#define COMP             "eventbridge"
#define REDACTED         "[redacted]"
#define MAX_RESPONSE     (1024 * 1024)
#define DEFAULT_INFLIGHT 4

/* One submitted event; owned by the client from submit to its outcome. */
struct eb_event {
        struct eb_event *prev, *next; /* pending list, submission order */
        uint64_t keyhash;
        uint64_t idhash;
        int has_key;
        int in_flight;
        unsigned attempts;
        int64_t ready_at_ms; /* monotonic; backoff end */
        char *json;
        size_t len;
        size_t counted;
        void *cookie;
        char id[AB_BATCH_ID_MAX + 1];
};

/* One request slot: a reusable easy handle and its buffers. */
struct eb_req {
        CURL *easy;
        struct curl_slist *hdrs;
        struct ab_batch batch;
        struct ab_buf resp;
        struct eb_event **ev; /* limits.max_events entries */
        size_t nev;
        int busy;
        int64_t start_ms;
        char errbuf[CURL_ERROR_SIZE];
};

/* What a finished request means for its events. */
enum verdict { V_RETRY, V_REJECT };

struct ab_eb_client {
        char *url;
        char *region_id;
        char *access_key_id;
        char *secret;
        char *token;
        char *user_agent;
        char *ca_file;
        char **perm_codes;
        struct ab_eb_config cfg; /* strings point to the copies above */
        CURLM *multi;
        struct eb_req *reqs;
        unsigned nreqs;
        struct eb_event *head, *tail;
        size_t npending;
        size_t ninflight_events;
        /* the "seen" set of one scan: open addressing, generation stamps */
        uint64_t *seen_key;
        uint32_t *seen_gen;
        size_t seen_cap;
        uint32_t gen;
        int64_t paused_until_ms;
        unsigned consecutive_failures;
        uint64_t rng;
        ab_eb_done_fn done;
        void *opaque;
        struct ab_json_doc doc;
        struct ab_buf scratch;
        struct ab_buf text;
        struct ab_eb_stats stats;
};

/* ---- small helpers ---- */

static int64_t mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

static uint64_t next_random(struct ab_eb_client *c)
{
        c->rng ^= c->rng << 13;
        c->rng ^= c->rng >> 7;
        c->rng ^= c->rng << 17;
        return c->rng;
}

/* Backoff for attempt n (1-based): random in [d/2, d]. */
static int64_t backoff_ms(struct ab_eb_client *c, unsigned n)
{
        int64_t d = c->cfg.backoff_initial_ms;

        while (n > 1 && d < c->cfg.backoff_max_ms) {
                d *= 2;
                n--;
        }
        if (d > c->cfg.backoff_max_ms)
                d = c->cfg.backoff_max_ms;
        return d / 2 + (int64_t)(next_random(c) % (uint64_t)(d / 2 + 1));
}

static void copy_str(char *dst, size_t size, const char *src, size_t len)
{
        if (len >= size)
                len = size - 1;
        memcpy(dst, src, len);
        dst[len] = '\0';
}

static void scrub_one(char *s, size_t size, const char *secret)
{
        size_t slen = strlen(secret);
        size_t rlen = sizeof(REDACTED) - 1;
        char *p;

        if (!slen)
                return;
        while ((p = strstr(s, secret))) {
                size_t pos  = (size_t)(p - s);
                size_t tail = strlen(p + slen);

                if (pos + rlen >= size) {
                        *p = '\0';
                        return;
                }
                if (pos + rlen + tail >= size)
                        tail = size - 1 - pos - rlen;
                memmove(p + rlen, p + slen, tail);
                memcpy(p, REDACTED, rlen);
                p[rlen + tail] = '\0';
                s              = p + rlen;
                size -= pos + rlen;
        }
}

void ab_eb_scrub(const struct ab_eb_client *c, char *s, size_t size)
{
        if (!size)
                return;
        if (c->secret)
                scrub_one(s, size, c->secret);
        if (c->token)
                scrub_one(s, size, c->token);
}

/* Copy \p len bytes into \p out (size bytes) with secrets scrubbed before
 * truncation, so a cut can never leave part of a secret behind. */
static void scrubbed_copy(struct ab_eb_client *c, char *out, size_t size,
                          const char *src, size_t len)
{
        ab_buf_reset(&c->text);
        if (ab_buf_append(&c->text, src, len) ||
            ab_buf_reserve(&c->text, len + 16)) {
                copy_str(out, size, "(out of memory)", 15);
                return;
        }
        for (size_t i = 0; i < c->text.len; i++)
                if (!c->text.data[i])
                        c->text.data[i] = ' ';
        ab_eb_scrub(c, c->text.data, c->text.cap);
        copy_str(out, size, c->text.data, strlen(c->text.data));
}

static void count_failure(struct ab_eb_client *c, const char *code)
{
        struct ab_eb_stats *st = &c->stats;
        unsigned i;

        for (i = 0; i < st->nfailures; i++)
                if (!strcmp(st->failures[i].code, code))
                        break;
        if (i == st->nfailures) {
                if (i == AB_EB_MAX_CODES) {
                        i = AB_EB_MAX_CODES - 1;
                        snprintf(st->failures[i].code,
                                 sizeof(st->failures[i].code), "other");
                } else {
                        snprintf(st->failures[i].code,
                                 sizeof(st->failures[i].code), "%s", code);
                        st->nfailures++;
                }
        }
        st->failures[i].count++;
}

/* Keep a code printable and short: [A-Za-z0-9_.:-], else '_'. */
static void sanitize_code(char *code)
{
        for (char *p = code; *p; p++) {
                unsigned char ch = (unsigned char)*p;
                int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                         (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
                         ch == ':' || ch == '-';
                if (!ok)
                        *p = '_';
        }
}

/* ---- the pending list and the per-scan "seen" set ---- */

static void unlink_event(struct ab_eb_client *c, struct eb_event *e)
{
        if (e->prev)
                e->prev->next = e->next;
        else
                c->head = e->next;
        if (e->next)
                e->next->prev = e->prev;
        else
                c->tail = e->prev;
        c->npending--;
}

static void free_event(struct eb_event *e)
{
        if (e) {
                ab_free(e->json);
                ab_free(e);
        }
}

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

/* ---- outcomes ---- */

static void finish_event(struct ab_eb_client *c, struct eb_event *e,
                         struct ab_eb_result *r)
{
        r->event     = e->json;
        r->event_len = e->len;
        unlink_event(c, e);
        if (r->outcome == AB_EB_DELIVERED)
                c->stats.events_published++;
        else if (r->outcome == AB_EB_REJECTED)
                c->stats.events_rejected++;
        c->done(c->opaque, e->cookie, e->id, r);
        free_event(e);
}

static void deliver(struct ab_eb_client *c, struct eb_event *e, int status)
{
        struct ab_eb_result r = {.outcome     = AB_EB_DELIVERED,
                                 .http_status = status,
                                 .attempts    = e->attempts};

        snprintf(r.code, sizeof(r.code), "ok");
        finish_event(c, e, &r);
}

static void reject(struct ab_eb_client *c, struct eb_event *e, int status,
                   const char *code, const char *message)
{
        struct ab_eb_result r = {.outcome     = AB_EB_REJECTED,
                                 .http_status = status,
                                 .attempts    = e->attempts};

        snprintf(r.code, sizeof(r.code), "%s", code);
        snprintf(r.message, sizeof(r.message), "%s", message);
        finish_event(c, e, &r);
}

/* Send \p e again at \p ready_at (monotonic ms), or give up. */
static void retry(struct ab_eb_client *c, struct eb_event *e, int status,
                  const char *code, const char *message, int64_t ready_at)
{
        char text[256];

        if (c->cfg.max_attempts && e->attempts >= c->cfg.max_attempts) {
                snprintf(text, sizeof(text),
                         "gave up after %u attempts, last: %.60s %.150s",
                         e->attempts, code, message);
                reject(c, e, status, "retries_exhausted", text);
                return;
        }
        e->ready_at_ms = ready_at;
        c->stats.retries++;
}

static int is_permanent_entry_code(const struct ab_eb_client *c,
                                   const char *code)
{
        for (char **p = c->perm_codes; p && *p; p++)
                if (!strcmp(*p, code))
                        return 1;
        return 0;
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
        copy_str(line, sizeof(line), data, size);
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
        r->start_ms = mono_ms();
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
        int64_t now = mono_ms();

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

/* The service's error body: {"code": ..., "message": ..., "requestId"}. */
static void error_body(struct ab_eb_client *c, struct eb_req *r, int status,
                       char *code, size_t codesize, char *msg, size_t msgsize)
{
        uint32_t v;

        snprintf(code, codesize, "http_%d", status);
        msg[0] = '\0';
        if (ab_json_parse(&c->doc, r->resp.data ? r->resp.data : "",
                          r->resp.len, NULL) ||
            ab_json_type_of(&c->doc, 0) != AB_JSON_OBJECT) {
                scrubbed_copy(c, msg, msgsize, r->resp.data ? r->resp.data : "",
                              r->resp.len);
                return;
        }
        v = ab_json_get(&c->doc, 0, "code", 4);
        if (v == AB_JSON_NONE)
                v = ab_json_get(&c->doc, 0, "Code", 4);
        if (v != AB_JSON_NONE &&
            ab_json_type_of(&c->doc, v) == AB_JSON_STRING &&
            ab_json_text(&c->doc, v).len) {
                struct ab_str s = ab_json_text(&c->doc, v);

                scrubbed_copy(c, code, codesize, s.ptr, s.len);
                sanitize_code(code);
        }
        v = ab_json_get(&c->doc, 0, "message", 7);
        if (v == AB_JSON_NONE)
                v = ab_json_get(&c->doc, 0, "Message", 7);
        if (v != AB_JSON_NONE &&
            ab_json_type_of(&c->doc, v) == AB_JSON_STRING) {
                struct ab_str s = ab_json_text(&c->doc, v);

                scrubbed_copy(c, msg, msgsize, s.ptr, s.len);
        }
}

static int curl_is_permanent(CURLcode res)
{
        switch (res) {
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
        case CURLE_NOT_BUILT_IN:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_ENGINE_NOTFOUND:
                return 1;
        default:
                return 0;
        }
}

static const char *curl_code_name(CURLcode res)
{
        switch (res) {
        case CURLE_OPERATION_TIMEDOUT:
                return "timeout";
        case CURLE_COULDNT_CONNECT:
                return "connect_failed";
        case CURLE_COULDNT_RESOLVE_HOST:
                return "resolve_failed";
        case CURLE_GOT_NOTHING:
                return "empty_reply";
        case CURLE_SEND_ERROR:
                return "send_error";
        case CURLE_RECV_ERROR:
                return "recv_error";
        case CURLE_PARTIAL_FILE:
                return "partial_response";
        case CURLE_WRITE_ERROR:
                return "response_too_large";
        default:
                return "curl_error";
        }
}

/* Per-entry outcome of a 2xx response; @returns 0 if it was readable. */
static int read_entries(struct ab_eb_client *c, struct eb_req *r, long status,
                        int64_t now)
{
        enum { UNKNOWN, OK, FAILED };
        unsigned char state[AB_BATCH_MAX_EVENTS * 4];
        char codes[AB_BATCH_MAX_EVENTS * 4][64];
        char msgs[AB_BATCH_MAX_EVENTS * 4][160];
        int64_t failed_count = 0;
        size_t named_failed  = 0;
        unsigned attempts    = 1;
        int64_t ready_at;
        uint32_t fec, list;

        if (r->nev > sizeof(state))
                return -1;
        if (ab_json_parse(&c->doc, r->resp.data ? r->resp.data : "",
                          r->resp.len, NULL) ||
            ab_json_type_of(&c->doc, 0) != AB_JSON_OBJECT)
                return -1;
        fec = ab_json_get(&c->doc, 0, "FailedEntryCount", 16);
        if (fec != AB_JSON_NONE &&
            (ab_json_type_of(&c->doc, fec) != AB_JSON_NUMBER ||
             ab_json_int64(&c->doc, fec, &failed_count)))
                return -1;
        memset(state, UNKNOWN, sizeof(state));
        list = ab_json_get(&c->doc, 0, "EntryList", 9);
        if (list != AB_JSON_NONE &&
            ab_json_type_of(&c->doc, list) == AB_JSON_ARRAY) {
                uint32_t end = ab_json_at(&c->doc, list)->next;
                size_t pos   = 0;

                for (uint32_t i = list + 1; i < end;
                     i          = ab_json_at(&c->doc, i)->next, pos++) {
                        uint32_t id, ec, em;
                        size_t j = pos;
                        struct ab_str code;

                        if (ab_json_type_of(&c->doc, i) != AB_JSON_OBJECT)
                                continue;
                        id = ab_json_get(&c->doc, i, "EventId", 7);
                        ec = ab_json_get(&c->doc, i, "ErrorCode", 9);
                        em = ab_json_get(&c->doc, i, "ErrorMessage", 12);
                        if (id != AB_JSON_NONE &&
                            ab_json_type_of(&c->doc, id) == AB_JSON_STRING) {
                                struct ab_str s = ab_json_text(&c->doc, id);

                                for (j = 0; j < r->nev; j++)
                                        if (ab_str_eq_c(s, r->ev[j]->id))
                                                break;
                        }
                        if (j >= r->nev || state[j] != UNKNOWN)
                                continue;
                        code = ec != AB_JSON_NONE &&
                                       ab_json_type_of(&c->doc, ec) ==
                                           AB_JSON_STRING
                                   ? ab_json_text(&c->doc, ec)
                                   : AB_STR_NULL;
                        if (!code.len || ab_str_eq_c(code, "Success")) {
                                state[j] = OK;
                                continue;
                        }
                        state[j] = FAILED;
                        named_failed++;
                        scrubbed_copy(c, codes[j], sizeof(codes[j]), code.ptr,
                                      code.len);
                        sanitize_code(codes[j]);
                        msgs[j][0] = '\0';
                        if (em != AB_JSON_NONE &&
                            ab_json_type_of(&c->doc, em) == AB_JSON_STRING) {
                                struct ab_str m = ab_json_text(&c->doc, em);

                                scrubbed_copy(c, msgs[j], sizeof(msgs[j]),
                                              m.ptr, m.len);
                        }
                }
        }
        if (failed_count > 0 || named_failed)
                AB_WARN(COMP, "partial failure",
                        "events=%zu failed=%lld named=%zu", r->nev,
                        (long long)failed_count, named_failed);
        /* The failed entries of one response retry together. */
        for (size_t j = 0; j < r->nev; j++)
                if (r->ev[j]->attempts > attempts)
                        attempts = r->ev[j]->attempts;
        ready_at = now + backoff_ms(c, attempts);
        for (size_t j = 0; j < r->nev; j++) {
                struct eb_event *e = r->ev[j];

                if (state[j] == FAILED) {
                        count_failure(c, codes[j]);
                        AB_WARN(COMP, "entry failed", "id=%s code=%s", e->id,
                                codes[j]);
                        if (is_permanent_entry_code(c, codes[j]))
                                reject(c, e, (int)status, codes[j], msgs[j]);
                        else
                                retry(c, e, (int)status, codes[j], msgs[j],
                                      ready_at);
                } else if (state[j] == UNKNOWN && failed_count > 0 &&
                           named_failed < (size_t)failed_count) {
                        count_failure(c, "unconfirmed");
                        retry(c, e, (int)status, "unconfirmed",
                              "FailedEntryCount names more failures than "
                              "EntryList",
                              ready_at);
                } else {
                        deliver(c, e, (int)status);
                }
        }
        return 0;
}

static void request_failed(struct ab_eb_client *c, struct eb_req *r,
                           enum verdict v, int status, const char *code,
                           const char *msg)
{
        int64_t pause = 0;

        count_failure(c, code);
        if (v == V_RETRY) {
                c->consecutive_failures++;
                pause              = backoff_ms(c, c->consecutive_failures);
                c->paused_until_ms = mono_ms() + pause;
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
                        retry(c, r->ev[j], status, code, msg,
                              c->paused_until_ms);
                else
                        reject(c, r->ev[j], status, code, msg);
        }
}

static void complete(struct ab_eb_client *c, struct eb_req *r, CURLcode res)
{
        long status = 0;
        int64_t now = mono_ms();
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

                snprintf(code, sizeof(code), "%s", curl_code_name(res));
                scrubbed_copy(c, msg, sizeof(msg), text, strlen(text));
                request_failed(c, r,
                               curl_is_permanent(res) ? V_REJECT : V_RETRY,
                               (int)status, code, msg);
        } else if (status >= 200 && status < 300) {
                if (read_entries(c, r, status, now)) {
                        request_failed(c, r, V_RETRY, (int)status,
                                       "bad_response",
                                       "response body is not a PutEvents "
                                       "result");
                } else {
                        c->consecutive_failures = 0;
                }
        } else {
                enum verdict v;

                error_body(c, r, (int)status, code, sizeof(code), msg,
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

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
        curl_global_init(CURL_GLOBAL_DEFAULT);
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

static ab_err_t copy_config(struct ab_eb_client *c,
                            const struct ab_eb_config *cfg,
                            struct ab_error *err)
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
        rc        = copy_config(c, cfg, err);
        if (rc)
                goto out;
        if (RAND_bytes((unsigned char *)&c->rng, sizeof(c->rng)) != 1 ||
            !c->rng)
                c->rng = (uint64_t)mono_ms() | 1;
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
                free_event(e);
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
                finish_event(c, c->head, &r);
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
        copy_str(e->id, sizeof(e->id), id, strlen(id));
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
        now = mono_ms();
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
