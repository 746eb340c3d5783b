/* side.c - one integration being replayed: its processor and the outputs of
 * the current record kept for the comparison. */
#include "replay/side.h"

#include "core/mem.h"

ab_err_t ab_replay_side_init(struct ab_replay_side *s,
                             const struct ab_pipeline_config *base,
                             const char *topic, const char *integration,
                             const struct ab_processor_opts *opts,
                             const char *flag, struct ab_error *err)
{
        ab_err_t rc;

        s->cfg         = *base;
        s->topics[0]   = ab_strdup(topic);
        s->integration = ab_strdup(integration);
        if (!s->topics[0] || !s->integration)
                return AB_ERR_NOMEM;
        s->input.topics      = s->topics;
        s->input.ntopics     = 1;
        s->input.integration = s->integration;
        s->cfg.inputs        = &s->input;
        s->cfg.ninputs       = 1;
        s->cfg.actions_topic = NULL;
        rc                   = ab_integration_load(integration, &s->integ, err);
        if (!rc)
                rc = ab_processor_new_opts(&s->cfg, NULL, opts, &s->proc, err);
        if (rc && rc != AB_ERR_NOMEM)
                ab_error_prefix(err, flag);
        return rc;
}

void ab_replay_side_fini(struct ab_replay_side *s)
{
        ab_processor_destroy(s->proc);
        ab_integration_destroy(s->integ);
        ab_free(s->topics[0]);
        ab_free(s->integration);
        ab_buf_fini(&s->text);
        ab_free(s->refs);
        ab_free(s->items);
}

void ab_replay_side_reset(struct ab_replay_side *s)
{
        s->nout = 0;
        ab_buf_reset(&s->text);
}

ab_err_t ab_replay_side_keep(struct ab_replay_side *s,
                             const struct ab_replay_item *it)
{
        struct ab_replay_item_ref *ref;
        size_t i = s->nout;
        ab_err_t rc;

        if (i == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 16;
                struct ab_replay_item_ref *refs =
                    ab_realloc(s->refs, cap * sizeof(*refs));
                struct ab_replay_item *items;

                if (!refs)
                        return AB_ERR_NOMEM;
                s->refs = refs;
                items   = ab_realloc(s->items, cap * sizeof(*items));
                if (!items)
                        return AB_ERR_NOMEM;
                s->items = items;
                s->cap   = cap;
        }
        ref          = &s->refs[i];
        ref->it      = *it;
        ref->key_off = s->text.len;
        rc = it->key.len ? ab_buf_append(&s->text, it->key.ptr, it->key.len)
                         : AB_OK;
        ref->body_off = s->text.len;
        if (!rc)
                rc = ab_buf_append(&s->text, it->body.ptr, it->body.len);
        return rc;
}

const struct ab_replay_item *ab_replay_side_items(struct ab_replay_side *s)
{
        for (size_t i = 0; i < s->nout; i++) {
                s->items[i]          = s->refs[i].it;
                s->items[i].key.ptr  = s->text.data + s->refs[i].key_off;
                s->items[i].body.ptr = s->text.data + s->refs[i].body_off;
        }
        return s->items;
}

const char *ab_replay_side_name(const struct ab_replay_side *s)
{
        return s->integ ? ab_integration_name(s->integ) : "?";
}
