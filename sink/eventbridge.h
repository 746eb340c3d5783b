/* eventbridge.h - asynchronous PutEvents client: batches, retries, order. */
#ifndef AB_SINK_EVENTBRIDGE_H
#define AB_SINK_EVENTBRIDGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "sink/batch.h"
#include "sink/sign.h"

/*
 * HOW IT WORKS
 * The caller submits encoded events (ab_batch_encode_event()) with an
 * ordering key (the Kafka record key: the alert's fingerprint) and a
 * cookie, then calls ab_eb_poll() in its loop. The client owns a copy of
 * each event until it reports the event's final outcome through the
 * done callback, exactly once per event: delivered, or rejected for good.
 *
 * Pending events sit in one list in submission order. To fill a request,
 * the list is scanned from the head; an event is taken when it is ready
 * (not in flight, its backoff over) and no earlier pending event has the
 * same ordering key or the same id. So two events of one alert are never
 * in flight together and a later one can never be accepted before an
 * earlier one; events of other alerts flow past a stuck one. Up to
 * `max_in_flight` requests run at once on one curl multi handle, which
 * keeps connections alive and reuses them.
 *
 * Outcome of a request:
 *   2xx, FailedEntryCount 0 or absent        -> every event delivered
 *   2xx with failed entries (EntryList with a non-empty ErrorCode other
 *   than "Success")                          -> the others are delivered;
 *     the failed ones retry, unless their code is a permanent entry code
 *     (then rejected). If FailedEntryCount says more failed than the list
 *     names, events without an entry are retried too (at-least-once).
 *   408, 429, 5xx, timeout, connection error, unreadable 2xx body, and
 *   SignatureNonceUsed (libcurl resends a request whose reused connection
 *   died, nonce included)                    -> all events retry
 *   any other status (other 4xx: bad signature, missing bus, ...) and
 *   curl errors that configuration must fix (bad URL, TLS verification)
 *                                            -> all events rejected
 * Retries use exponential backoff with jitter: attempt n waits a random
 * time in [d/2, d] with d = min(backoff_max, backoff_initial * 2^(n-1)).
 * A request-level retryable failure also pauses new requests for that
 * long, so a throttled or absent service is not hammered. With
 * max_attempts 0 (the default) an event retries forever; otherwise it is
 * rejected with code "retries_exhausted" after that many attempts.
 *
 * Every attempt is signed anew (fresh date and nonce). The access key
 * secret and the STS token never appear in logs, results or metrics:
 * texts that come back from the service are scrubbed of both.
 */

struct ab_eb_config {
        const char *endpoint;  /* "https://<account>.eventbridge.<region>.
                                  aliyuncs.com"; a bare host means https */
        const char *region_id; /* x-eventbridge-regionId; NULL = omit */
        struct ab_sign_creds creds;
        const char *user_agent; /* NULL = "alertbridge" */
        const char *ca_file;    /* NULL = system CA store */
        struct ab_batch_limits limits;
        unsigned max_in_flight;                   /* requests at once; 0 = 4 */
        long connect_timeout_ms;                  /* 0 = 5000 */
        long request_timeout_ms;                  /* 0 = 30000 */
        long backoff_initial_ms;                  /* 0 = 200 */
        long backoff_max_ms;                      /* 0 = 30000 */
        unsigned max_attempts;                    /* 0 = unlimited */
        const char *const *permanent_entry_codes; /* NULL-terminated list of
                                   per-entry ErrorCodes not to retry */
        /* Called with the done callback's opaque after every request, for
         * latency and batch-size metrics; NULL = none. */
        void (*on_request)(void *opaque, double seconds, size_t events);
};

/** Fill \p cfg with the defaults (limits included); strings NULL. */
void ab_eb_config_default(struct ab_eb_config *cfg);

enum ab_eb_outcome {
        AB_EB_DELIVERED = 0,
        AB_EB_REJECTED, /* permanent failure or retries exhausted */
        AB_EB_ABORTED,  /* given up by ab_eb_abort(): outcome unknown */
};

/* The final word on one event; strings are scrubbed of secrets. */
struct ab_eb_result {
        enum ab_eb_outcome outcome;
        int http_status; /* of the deciding response; 0 = none */
        unsigned attempts;
        char code[64];     /* service code ("SignatureDoesNotMatch"),
                              "http_<status>", "retries_exhausted", curl's */
        char message[256]; /* human text */
        const char *event; /* the event as sent (borrowed for the call) */
        size_t event_len;
};

typedef void (*ab_eb_done_fn)(void *opaque, void *cookie, const char *id,
                              const struct ab_eb_result *result);

/* Counters for the metrics endpoint and tests (latency and batch-size
 * distributions go through ab_eb_config.on_request). */
#define AB_EB_MAX_CODES 32
struct ab_eb_stats {
        uint64_t requests;
        uint64_t events_published;
        uint64_t events_rejected;
        uint64_t retries;   /* event re-sends */
        uint64_t pending;   /* events submitted, no outcome yet */
        uint64_t in_flight; /* requests */
        uint64_t batch_sum; /* events over all requests */
        /* failures by code (a failed request or entry counts once); past
         * AB_EB_MAX_CODES distinct codes the last slot counts "other" */
        struct {
                char code[64];
                uint64_t count;
        } failures[AB_EB_MAX_CODES];
        unsigned nfailures;
};

struct ab_eb_client;

/**
 * Create a client. \p cfg strings are copied. \p done is called from
 * ab_eb_poll() (and ab_eb_destroy() never calls it).
 * @returns the client, or NULL with \p err filled (AB_ERR_CONFIG for a bad
 *          endpoint or missing credentials, AB_ERR_NOMEM).
 */
struct ab_eb_client *ab_eb_new(const struct ab_eb_config *cfg,
                               ab_eb_done_fn done, void *opaque,
                               struct ab_error *err);

/**
 * Free the client. NULL-safe. Events still pending are dropped without a
 * callback: call ab_eb_abort() first if their cookies own anything.
 */
void ab_eb_destroy(struct ab_eb_client *c);

/**
 * Stop every request in flight and report every pending event with
 * AB_EB_ABORTED (code "aborted"): EventBridge may or may not have taken
 * it. For shutdown; the caller must not commit past such events.
 */
void ab_eb_abort(struct ab_eb_client *c);

/**
 * Queue one encoded event (copied). \p key (\p keylen bytes; NULL for
 * none) orders it after every earlier pending event with the same key;
 * \p counted is its size from ab_batch_encode_event().
 * @returns AB_OK or AB_ERR_NOMEM.
 */
ab_err_t ab_eb_submit(struct ab_eb_client *c, const char *event, size_t len,
                      size_t counted, const char *id, const void *key,
                      size_t keylen, void *cookie);

/**
 * Start requests, wait up to \p timeout_ms for network activity, finish
 * completed requests and call the done callback for every decided
 * event. @returns AB_OK, or AB_ERR_HTTP if curl itself failed.
 */
ab_err_t ab_eb_poll(struct ab_eb_client *c, int timeout_ms);

/** Events submitted whose outcome is not reported yet. */
size_t ab_eb_pending(const struct ab_eb_client *c);

/** Copy the current statistics. */
void ab_eb_get_stats(const struct ab_eb_client *c, struct ab_eb_stats *out);

/**
 * Replace every occurrence of the client's secret and STS token in \p s
 * (NUL-terminated, \p size bytes of storage) with "[redacted]".
 */
void ab_eb_scrub(const struct ab_eb_client *c, char *s, size_t size);

#endif
