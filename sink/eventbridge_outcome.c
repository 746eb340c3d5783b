/* eventbridge_outcome.c - the final word on a PutEvents event (delivered,
 * rejected, retried after a backoff) and the failure counters. */
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "sink/eventbridge_int.h"

static uint64_t next_random(struct ab_eb_client *c)
{
        c->rng ^= c->rng << 13;
        c->rng ^= c->rng >> 7;
        c->rng ^= c->rng << 17;
        return c->rng;
}

/* Backoff for attempt n (1-based): random in [d/2, d]. */
int64_t ab_eb_backoff_ms(struct ab_eb_client *c, unsigned n)
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

void ab_eb_count_failure(struct ab_eb_client *c, const char *code)
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

void ab_eb_free_event(struct eb_event *e)
{
        if (e) {
                ab_free(e->json);
                ab_free(e);
        }
}

void ab_eb_finish_event(struct ab_eb_client *c, struct eb_event *e,
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
        ab_eb_free_event(e);
}

void ab_eb_deliver(struct ab_eb_client *c, struct eb_event *e, int status)
{
        struct ab_eb_result r = {.outcome     = AB_EB_DELIVERED,
                                 .http_status = status,
                                 .attempts    = e->attempts};

        snprintf(r.code, sizeof(r.code), "ok");
        ab_eb_finish_event(c, e, &r);
}

void ab_eb_reject(struct ab_eb_client *c, struct eb_event *e, int status,
                  const char *code, const char *message)
{
        struct ab_eb_result r = {.outcome     = AB_EB_REJECTED,
                                 .http_status = status,
                                 .attempts    = e->attempts};

        snprintf(r.code, sizeof(r.code), "%s", code);
        snprintf(r.message, sizeof(r.message), "%s", message);
        ab_eb_finish_event(c, e, &r);
}

/* Send \p e again at \p ready_at (monotonic ms), or give up. */
void ab_eb_retry(struct ab_eb_client *c, struct eb_event *e, int status,
                 const char *code, const char *message, int64_t ready_at)
{
        char text[256];

        if (c->cfg.max_attempts && e->attempts >= c->cfg.max_attempts) {
                snprintf(text, sizeof(text),
                         "gave up after %u attempts, last: %.60s %.150s",
                         e->attempts, code, message);
                ab_eb_reject(c, e, status, "retries_exhausted", text);
                return;
        }
        e->ready_at_ms = ready_at;
        c->stats.retries++;
}
