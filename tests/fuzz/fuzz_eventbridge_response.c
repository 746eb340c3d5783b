/* fuzz_eventbridge_response.c - libFuzzer target: the PutEvents response
 * reader (per-entry results of a 2xx body, the error body of a 4xx/5xx)
 * on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "sink/eventbridge.h"
#include "sink/eventbridge_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EVENTS 8
#define SECRET     "fuzzSecretK3y"
#define TOKEN      "fuzzStsT0ken"

#define CHECK(cond)                                                            \
        do {                                                                   \
                if (!(cond))                                                   \
                        abort();                                               \
        } while (0)

/* The client persists across inputs, as in the sink. */
static struct ab_eb_client *client;
static struct eb_req req;
static struct eb_event *events[MAX_EVENTS];
static int outcomes[MAX_EVENTS];
static int aborting;

/* A text the service sent back: NUL-terminated within \p size and free
 * of the secret and the token. */
static void check_text(const char *s, size_t size)
{
        CHECK(memchr(s, '\0', size) != NULL);
        CHECK(!strstr(s, SECRET) && !strstr(s, TOKEN));
}

/* A code: printable, [A-Za-z0-9_.:-] only. */
static void check_code(const char *code, size_t size)
{
        check_text(code, size);
        for (const char *p = code; *p; p++)
                CHECK((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || strchr("_.:-", *p));
}

static void on_done(void *opaque, void *cookie, const char *id,
                    const struct ab_eb_result *r)
{
        int i = (int)(intptr_t)cookie;

        (void)opaque;
        (void)id;
        CHECK(i >= 0 && i < MAX_EVENTS);
        CHECK(outcomes[i]++ == 0); /* exactly one outcome per event */
        if (aborting) {
                CHECK(r->outcome == AB_EB_ABORTED);
                return;
        }
        CHECK(r->outcome == AB_EB_DELIVERED || r->outcome == AB_EB_REJECTED);
        check_code(r->code, sizeof(r->code));
        check_text(r->message, sizeof(r->message));
}

static void setup(void)
{
        static const char *const perm[] = {"EventBusNotExist", NULL};
        struct ab_eb_config cfg;
        struct ab_error err;

        ab_log_threshold = AB_LOG_ERROR; /* warnings are expected here */
        ab_eb_config_default(&cfg);
        cfg.endpoint                = "http://127.0.0.1:1";
        cfg.creds.access_key_id     = "fuzzKeyId";
        cfg.creds.access_key_secret = SECRET;
        cfg.creds.security_token    = TOKEN;
        cfg.permanent_entry_codes   = perm;
        cfg.limits.max_events       = MAX_EVENTS;
        client                      = ab_eb_new(&cfg, on_done, NULL, &err);
        CHECK(client != NULL);
        ab_buf_init(&req.resp, 0);
        req.ev = events;
}

/* Input: byte 0 chooses the number of events (low 3 bits, plus one), a
 * 2xx or an error status (bits 3-4); the rest is the response body. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const long error_status[] = {400, 403, 409, 503};
        size_t n, decided = 0;
        char code[64], msg[256];

        if (!client)
                setup();
        if (size < 1)
                return 0;
        n = (size_t)(data[0] & 7) + 1;
        memset(outcomes, 0, sizeof(outcomes));
        for (size_t i = 0; i < n; i++) {
                char json[32], id[16];

                snprintf(id, sizeof(id), "ev-%zu", i);
                snprintf(json, sizeof(json), "{\"id\":\"%s\"}", id);
                CHECK(ab_eb_submit(client, json, strlen(json), strlen(json), id,
                                   id, strlen(id),
                                   (void *)(intptr_t)i) == AB_OK);
        }
        req.nev = 0;
        for (struct eb_event *e = client->head; e; e = e->next)
                req.ev[req.nev++] = e;
        CHECK(req.nev == n);
        ab_buf_reset(&req.resp);
        CHECK(ab_buf_append(&req.resp, data + 1, size - 1) == 0);
        if (data[0] & 0x18) {
                long status = error_status[(data[0] >> 3) & 3];

                ab_eb_error_body(client, &req, (int)status, code, sizeof(code),
                                 msg, sizeof(msg));
                check_code(code, sizeof(code));
                check_text(msg, sizeof(msg));
        } else if (ab_eb_read_entries(client, &req, 200, 0) == 0) {
                /* Each event delivered, rejected or kept for a retry. */
                for (size_t i = 0; i < n; i++)
                        decided += (size_t)outcomes[i];
                CHECK(decided + ab_eb_pending(client) == n);
        } else {
                for (size_t i = 0; i < n; i++)
                        CHECK(outcomes[i] == 0);
                CHECK(ab_eb_pending(client) == n);
        }
        req.nev  = 0;
        aborting = 1;
        ab_eb_abort(client);
        aborting = 0;
        CHECK(ab_eb_pending(client) == 0);
        for (size_t i = 0; i < n; i++)
                CHECK(outcomes[i] == 1);
        return 0;
}
