/* eventbridge_response.c - reads what a PutEvents request came back with:
 * per-entry results, error bodies, curl failures. */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "sink/eventbridge_int.h"

static int is_permanent_entry_code(const struct ab_eb_client *c,
                                   const char *code)
{
        for (char **p = c->perm_codes; p && *p; p++)
                if (!strcmp(*p, code))
                        return 1;
        return 0;
}

/* The service's error body: {"code": ..., "message": ..., "requestId"}. */
void ab_eb_error_body(struct ab_eb_client *c, struct eb_req *r, int status,
                      char *code, size_t codesize, char *msg, size_t msgsize)
{
        uint32_t v;

        snprintf(code, codesize, "http_%d", status);
        msg[0] = '\0';
        if (ab_json_parse(&c->doc, r->resp.data ? r->resp.data : "",
                          r->resp.len, NULL) ||
            ab_json_type_of(&c->doc, 0) != AB_JSON_OBJECT) {
                ab_eb_scrubbed_copy(c, msg, msgsize,
                                    r->resp.data ? r->resp.data : "",
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

                ab_eb_scrubbed_copy(c, code, codesize, s.ptr, s.len);
                ab_eb_sanitize_code(code);
        }
        v = ab_json_get(&c->doc, 0, "message", 7);
        if (v == AB_JSON_NONE)
                v = ab_json_get(&c->doc, 0, "Message", 7);
        if (v != AB_JSON_NONE &&
            ab_json_type_of(&c->doc, v) == AB_JSON_STRING) {
                struct ab_str s = ab_json_text(&c->doc, v);

                ab_eb_scrubbed_copy(c, msg, msgsize, s.ptr, s.len);
        }
}

int ab_eb_curl_is_permanent(CURLcode res)
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

const char *ab_eb_curl_code_name(CURLcode res)
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
int ab_eb_read_entries(struct ab_eb_client *c, struct eb_req *r, long status,
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
                        ab_eb_scrubbed_copy(c, codes[j], sizeof(codes[j]),
                                            code.ptr, code.len);
                        ab_eb_sanitize_code(codes[j]);
                        msgs[j][0] = '\0';
                        if (em != AB_JSON_NONE &&
                            ab_json_type_of(&c->doc, em) == AB_JSON_STRING) {
                                struct ab_str m = ab_json_text(&c->doc, em);

                                ab_eb_scrubbed_copy(c, msgs[j], sizeof(msgs[j]),
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
        ready_at = now + ab_eb_backoff_ms(c, attempts);
        for (size_t j = 0; j < r->nev; j++) {
                struct eb_event *e = r->ev[j];

                if (state[j] == FAILED) {
                        ab_eb_count_failure(c, codes[j]);
                        AB_WARN(COMP, "entry failed", "id=%s code=%s", e->id,
                                codes[j]);
                        if (is_permanent_entry_code(c, codes[j]))
                                ab_eb_reject(c, e, (int)status, codes[j],
                                             msgs[j]);
                        else
                                ab_eb_retry(c, e, (int)status, codes[j],
                                            msgs[j], ready_at);
                } else if (state[j] == UNKNOWN && failed_count > 0 &&
                           named_failed < (size_t)failed_count) {
                        ab_eb_count_failure(c, "unconfirmed");
                        ab_eb_retry(c, e, (int)status, "unconfirmed",
                                    "FailedEntryCount names more failures than "
                                    "EntryList",
                                    ready_at);
                } else {
                        ab_eb_deliver(c, e, (int)status);
                }
        }
        return 0;
}
