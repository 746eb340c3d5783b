/* sign.h - signs PutEvents requests exactly as the official SDK does. */
#ifndef AB_SINK_SIGN_H
#define AB_SINK_SIGN_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

/*
 * The signature (docs/sink.md, formats.md 1.3), as the SDK's util code
 * computes it:
 *
 *   StringToSign = METHOD "\n" content-md5 "\n" content-type "\n" date "\n"
 *                  CanonicalizedHeaders CanonicalizedResource
 *   CanonicalizedHeaders = for every header whose lower-cased name starts
 *                  with "x-acs", sorted bytewise by that name:
 *                  name ":" value "\n"
 *   CanonicalizedResource = pathname, or pathname "?" k1=v1&k2=v2 with the
 *                  query keys sorted bytewise and raw (unencoded) values
 *   signature    = Base64(HMAC-SHA1(AccessKeySecret, StringToSign))
 *   authorization: acs:<AccessKeyId>:<signature>
 *
 * A missing content-md5, content-type or date contributes an empty line.
 * Header names are matched case-insensitively; values are used as given.
 * `accept` and the `x-eventbridge-*` headers are not signed.
 */

struct ab_sign_header {
        const char *name;
        const char *value;
};

/* A query parameter; a NULL value is left out, as the SDK does. */
struct ab_sign_query {
        const char *key;
        const char *value;
};

/* Base64 of a 20-byte digest is 28 characters. */
#define AB_SIGN_B64_LEN 29

/* RFC 1123 date "Sat, 18 Apr 2020 05:30:41 GMT" plus NUL. */
#define AB_SIGN_DATE_LEN 32

/* A nonce from ab_sign_nonce(): 32 hex characters plus NUL. */
#define AB_SIGN_NONCE_LEN 33

/* The values the SDK sends for PutEvents. */
#define AB_SIGN_PUTEVENTS_PATH "/openapi/putEvents"
#define AB_SIGN_PUTEVENTS_CTYPE                                                \
        "application/cloudevents-batch+json; charset=utf-8"
#define AB_SIGN_API_VERSION "2015-06-06"

/**
 * Append the string-to-sign for a request to \p out. \p headers (\p nh
 * entries) are all request headers; \p query (\p nq entries, may be NULL)
 * the query parameters. @returns AB_OK or AB_ERR_NOMEM.
 */
ab_err_t ab_sign_string_to_sign(struct ab_buf *out, const char *method,
                                const char *pathname,
                                const struct ab_sign_header *headers, size_t nh,
                                const struct ab_sign_query *query, size_t nq);

/**
 * Write Base64(HMAC-SHA1(\p secret, \p data)) into \p out (NUL-terminated,
 * 28 characters). @returns AB_OK, or AB_ERR_INTERNAL if OpenSSL fails.
 */
ab_err_t ab_sign_signature(const char *secret, const char *data, size_t len,
                           char out[AB_SIGN_B64_LEN]);

/** Format \p unix_seconds as an RFC 1123 GMT date (English names always). */
void ab_sign_date(long long unix_seconds, char out[AB_SIGN_DATE_LEN]);

/** Write a fresh random nonce (32 lower-case hex characters). */
ab_err_t ab_sign_nonce(char out[AB_SIGN_NONCE_LEN]);

/*
 * Credentials. The secret and the STS token are secrets: nothing in this
 * module logs them or copies them into errors.
 */
struct ab_sign_creds {
        const char *access_key_id;
        const char *access_key_secret;
        const char *security_token; /* NULL or "" = no STS token */
};

/* One PutEvents request's variable parts. */
struct ab_sign_putevents {
        const struct ab_sign_creds *creds;
        const char *date;       /* from ab_sign_date() */
        const char *nonce;      /* from ab_sign_nonce(); new per attempt */
        const char *region_id;  /* NULL = no x-eventbridge-regionId */
        const char *user_agent; /* NULL = no user-agent line */
};

/**
 * Append the headers the SDK sends with PutEvents to \p out, one
 * "name: value\n" line each, in the SDK's order and ending with the
 * authorization line: date, accept, x-acs-signature-nonce,
 * x-acs-signature-method, x-acs-signature-version, x-eventbridge-version,
 * user-agent, x-eventbridge-regionId, content-type, x-acs-accesskey-id and
 * x-acs-security-token (STS only), authorization. `host` is left to the
 * HTTP library, which sends the endpoint's host. If \p string_to_sign is
 * not NULL it receives the string that was signed (it holds the STS token:
 * never log it). @returns AB_OK, AB_ERR_NOMEM or AB_ERR_INTERNAL.
 */
ab_err_t ab_sign_putevents_headers(struct ab_buf *out,
                                   const struct ab_sign_putevents *req,
                                   struct ab_buf *string_to_sign);

#endif
