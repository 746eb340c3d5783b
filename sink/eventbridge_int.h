/* eventbridge_int.h - the PutEvents client's state and the helpers its files
 * share: eventbridge.c (requests, polling), eventbridge_config.c,
 * eventbridge_outcome.c, eventbridge_response.c and eventbridge_scrub.c.
 * Not a public interface. */
#ifndef AB_SINK_EVENTBRIDGE_INT_H
#define AB_SINK_EVENTBRIDGE_INT_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/json.h"
#include "sink/batch.h"
#include "sink/eventbridge.h"

/* The log component of every file of the client. */
#define COMP "eventbridge"

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

/* Configuration (eventbridge_config.c). */

/** Check \p cfg and copy it, strings included, into the client's cfg,
 *  defaults filled in. @returns AB_OK, or an error in \p err. */
ab_err_t ab_eb_copy_config(struct ab_eb_client *c,
                           const struct ab_eb_config *cfg,
                           struct ab_error *err);

/* Outcomes and retry timing (eventbridge_outcome.c). */

/** Backoff for attempt n (1-based): random in [d/2, d]. */
int64_t ab_eb_backoff_ms(struct ab_eb_client *c, unsigned n);

/** Count one failure under \p code in the stats. */
void ab_eb_count_failure(struct ab_eb_client *c, const char *code);

/** NULL-safe. */
void ab_eb_free_event(struct eb_event *e);

/** Report \p r for \p e, unlink and free it. */
void ab_eb_finish_event(struct ab_eb_client *c, struct eb_event *e,
                        struct ab_eb_result *r);
void ab_eb_deliver(struct ab_eb_client *c, struct eb_event *e, int status);
void ab_eb_reject(struct ab_eb_client *c, struct eb_event *e, int status,
                  const char *code, const char *message);

/** Send \p e again at \p ready_at (monotonic ms), or give up. */
void ab_eb_retry(struct ab_eb_client *c, struct eb_event *e, int status,
                 const char *code, const char *message, int64_t ready_at);

/* Reading responses (eventbridge_response.c). */

/** The service's error body: {"code": ..., "message": ...,
 * "requestId"}. */
void ab_eb_error_body(struct ab_eb_client *c, struct eb_req *r, int status,
                      char *code, size_t codesize, char *msg, size_t msgsize);

/** Whether a curl error needs a configuration fix (no retry). */
int ab_eb_curl_is_permanent(CURLcode res);

/** The result code a curl error is reported under ("timeout", ...). */
const char *ab_eb_curl_code_name(CURLcode res);

/** Per-entry outcome of a 2xx response; @returns 0 if it was readable.
 */
int ab_eb_read_entries(struct ab_eb_client *c, struct eb_req *r, long status,
                       int64_t now);

/* Texts and secrets (eventbridge_scrub.c). */

/** Copy \p len bytes of \p src, truncated to fit \p size. */
void ab_eb_copy_str(char *dst, size_t size, const char *src, size_t len);

/** Copy \p len bytes into \p out (size bytes) with secrets scrubbed
 * before truncation, so a cut can never leave part of a secret behind.
 */
void ab_eb_scrubbed_copy(struct ab_eb_client *c, char *out, size_t size,
                         const char *src, size_t len);

/** Keep a code printable and short: [A-Za-z0-9_.:-], else '_'. */
void ab_eb_sanitize_code(char *code);

#endif
