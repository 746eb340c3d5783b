/* actions.c - operator actions (claim, comment, close): parsing the action
 * record, finding its alert and emitting the event. */
#include <string.h>

#include "core/json.h"
#include "core/mem.h"
#include "core/str.h"
#include "core/timefmt.h"
#include "lifecycle/lifecycle_int.h"

static const char *const why_names[] = {
    "", "recovered", "auto-cleared", "closed by an action", "evicted",
};

/* Member \p key of the action object: AB_OK with *out set or AB_STR_NULL
 * when absent; AB_ERR_ACTION_INVALID when present but not a string. */
static ab_err_t action_str(const struct ab_json_doc *doc, const char *key,
                           struct ab_str *out, struct ab_error *err)
{
        uint32_t i = ab_json_get(doc, 0, key, strlen(key));

        *out = AB_STR_NULL;
        if (i == AB_JSON_NONE || ab_json_type_of(doc, i) == AB_JSON_NULL)
                return AB_OK;
        if (ab_json_type_of(doc, i) != AB_JSON_STRING)
                return ab_error_set(err, AB_ERR_ACTION_INVALID, key,
                                    "must be a string");
        *out = ab_json_text(doc, i);
        return AB_OK;
}

/*
 * An operator, comment or solution (\p key; absent is fine): at most the
 * configured number of bytes, and no control character but newline and
 * tab (C0, DEL and the C1 range, which UTF-8 writes as 0xC2 0x80..0x9F),
 * since it is copied into events and, for the operator, into the alert's
 * handler for the rest of its life.
 */
static ab_err_t action_text_check(const struct ab_lifecycle *lc,
                                  const char *key, struct ab_str s,
                                  struct ab_error *err)
{
        size_t max = lc->conf.max_action_field ? lc->conf.max_action_field
                                               : AB_LIFECYCLE_MAX_ACTION_FIELD;
        const unsigned char *u = (const unsigned char *)s.ptr;

        if (!s.ptr)
                return AB_OK;
        if (s.len > max)
                return ab_error_set(err, AB_ERR_ACTION_INVALID, key,
                                    "%s is %zu bytes, more than the %zu "
                                    "bytes lifecycle.max_action_field allows",
                                    key, s.len, max);
        for (size_t i = 0; i < s.len; i++) {
                bool c1 = u[i] == 0xC2 && i + 1 < s.len && u[i + 1] >= 0x80 &&
                          u[i + 1] <= 0x9F;

                if ((u[i] < 0x20 && u[i] != '\n' && u[i] != '\t') ||
                    u[i] == 0x7F || c1)
                        return ab_error_set(
                            err, AB_ERR_ACTION_INVALID, key,
                            "%s has the control character U+%04X at byte "
                            "%zu (only newline and tab are allowed)",
                            key, c1 ? u[i + 1] : u[i], i);
        }
        return AB_OK;
}

static ab_err_t reject_missing(struct ab_lifecycle *lc, const struct ab_str *id,
                               const unsigned char key[LC_KEY_LEN], bool by_fp,
                               struct ab_error *err)
{
        const struct lc_closed *c = ab_lc_closed_find(&lc->st, key, by_fp);
        const char *what          = by_fp ? "fingerprint" : "alert_id";
        char when[AB_TIME_RFC3339_LEN];

        if (!c)
                return ab_error_set(err, AB_ERR_ACTION_UNKNOWN, what,
                                    "no open alert has %s %.*s", what,
                                    (int)id->len, id->ptr);
        ab_time_format(c->end_ms, when);
        return ab_error_set(err, AB_ERR_ACTION_CLOSED, what,
                            "the alert with %s %.*s was closed at %s (%s)",
                            what, (int)id->len, id->ptr, when,
                            why_names[c->why]);
}

static ab_err_t action_apply(struct ab_lifecycle *lc, int64_t t,
                             const struct lc_emit *em, struct ab_error *err)
{
        const struct ab_json_doc *doc = &lc->doc;
        struct ab_str action, sid, sfp, integ, op, comment, solution;
        unsigned char id[LC_KEY_LEN], fp[LC_KEY_LEN];
        char shown[AB_SHOWN_SIZE];
        enum ab_event_type type;
        struct lc_alert *al;
        struct ab_event ev;
        const char *name;
        ab_err_t rc;

        if (ab_json_type_of(doc, 0) != AB_JSON_OBJECT)
                return ab_error_set(err, AB_ERR_ACTION_INVALID, NULL,
                                    "an action record must be a JSON object");
        if ((rc = action_str(doc, "action", &action, err)) ||
            (rc = action_str(doc, "alert_id", &sid, err)) ||
            (rc = action_str(doc, "fingerprint", &sfp, err)) ||
            (rc = action_str(doc, "integration", &integ, err)) ||
            (rc = action_str(doc, "operator", &op, err)) ||
            (rc = action_str(doc, "comment", &comment, err)) ||
            (rc = action_str(doc, "solution", &solution, err)))
                return rc;
        if (!action.ptr)
                return ab_error_set(err, AB_ERR_ACTION_INVALID, "action",
                                    "is required (claim, comment or close)");
        if (ab_str_eq_c(action, "claim"))
                type = AB_EVENT_CLAIM;
        else if (ab_str_eq_c(action, "comment"))
                type = AB_EVENT_COMMENT;
        else if (ab_str_eq_c(action, "close"))
                type = AB_EVENT_CLOSE;
        else
                return ab_error_set(err, AB_ERR_ACTION_INVALID, "action",
                                    "must be claim, comment or close, not "
                                    "\"%s\"",
                                    ab_str_escape(shown, sizeof(shown),
                                                  action.ptr, action.len));
        if (!sid.ptr && !sfp.ptr)
                return ab_error_set(err, AB_ERR_ACTION_INVALID, NULL,
                                    "an action needs alert_id or fingerprint");
        if (sid.ptr && ab_lifecycle_key_parse(sid.ptr, sid.len, id))
                return ab_error_set(err, AB_ERR_ACTION_INVALID, "alert_id",
                                    "must be %d hexadecimal characters",
                                    AB_EVENT_ID_LEN);
        if (sfp.ptr && ab_lifecycle_key_parse(sfp.ptr, sfp.len, fp))
                return ab_error_set(err, AB_ERR_ACTION_INVALID, "fingerprint",
                                    "must be %d hexadecimal characters",
                                    AB_EVENT_ID_LEN);
        if (!op.ptr || !op.len)
                return ab_error_set(err, AB_ERR_ACTION_INVALID, "operator",
                                    "is required");
        if (type == AB_EVENT_COMMENT && (!comment.ptr || !comment.len))
                return ab_error_set(err, AB_ERR_ACTION_INVALID, "comment",
                                    "is required for a comment");
        if ((rc = action_text_check(lc, "operator", op, err)) ||
            (rc = action_text_check(lc, "comment", comment, err)) ||
            (rc = action_text_check(lc, "solution", solution, err)))
                return rc;
        ab_buf_reset(&lc->operator_name);
        ab_buf_reset(&lc->text);
        if (ab_buf_append(&lc->operator_name, op.ptr, op.len))
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        if (type == AB_EVENT_COMMENT)
                rc = ab_buf_append(&lc->text, comment.ptr, comment.len);
        else if (type == AB_EVENT_CLOSE && solution.ptr && solution.len)
                rc = ab_buf_append(&lc->text, solution.ptr, solution.len);
        else if (type == AB_EVENT_CLOSE)
                rc = ab_buf_appendf(&lc->text, "closed by %s",
                                    lc->operator_name.data);
        if (rc)
                return ab_error_set(err, rc, NULL, "out of memory");

        rc = ab_lc_expire_until(lc, t, em);
        if (rc)
                return ab_error_set(err, rc, NULL,
                                    "emitting an auto-clear close failed");
        al = sid.ptr ? ab_lc_find_id(&lc->st, id) : ab_lc_find_fp(&lc->st, fp);
        if (!al)
                return sid.ptr ? reject_missing(lc, &sid, id, false, err)
                               : reject_missing(lc, &sfp, fp, true, err);
        if (sid.ptr && sfp.ptr && memcmp(al->fp, fp, LC_KEY_LEN))
                return ab_error_set(err, AB_ERR_ACTION_UNKNOWN, "fingerprint",
                                    "alert %.*s has another fingerprint",
                                    (int)sid.len, sid.ptr);
        name = ab_lc_integ_name(ab_lc_alert_integ(&lc->st, al));
        if (integ.ptr && !ab_str_eq_c(integ, name))
                return ab_error_set(
                    err, AB_ERR_ACTION_UNKNOWN, "integration",
                    "the alert belongs to integration %s, "
                    "not %s",
                    name,
                    ab_str_escape(shown, sizeof(shown), integ.ptr, integ.len));

        if (type == AB_EVENT_CLOSE) {
                rc = ab_lc_alert_close(lc, al, LC_WHY_ACTION, t, NULL,
                                       lc->operator_name.data, lc->text.data,
                                       em);
                goto out;
        }
        if (type == AB_EVENT_CLAIM) {
                rc =
                    ab_lc_handler_set(&lc->st.arena, al, lc->operator_name.data,
                                      strlen(lc->operator_name.data));
                if (rc)
                        return ab_error_set(err, rc, NULL,
                                            "recording the claimer failed");
        }
        ab_lc_changed(lc, al->fp);
        rc = ab_lc_event_init(lc, &ev, al, ab_lc_alert_integ(&lc->st, al), type,
                              t, al->seq++);
        if (!rc)
                rc = ab_lc_view_build(lc, al, false, 0);
        if (rc)
                goto out;
        ev.alert         = &lc->view;
        ev.operator_name = lc->operator_name.data;
        ev.handler = ab_lc_handler(al) ? ab_lc_handler(al) : ev.operator_name;
        if (type == AB_EVENT_COMMENT)
                ev.comment = lc->text.data;
        rc = em->fn(em->opaque, &ev);
out:
        if (rc)
                return ab_error_set(err, rc, NULL, "emitting the %s failed",
                                    ab_event_type_short(type));
        return AB_OK;
}

ab_err_t ab_lifecycle_action(struct ab_lifecycle *lc, const char *json,
                             size_t len, int64_t event_ms,
                             ab_lifecycle_emit_cb emit, void *opaque,
                             struct ab_error *err)
{
        struct lc_emit em = {emit, opaque};
        struct ab_error perr;
        ab_err_t rc;

        if (!lc || !json || !emit)
                return ab_error_set(err, AB_ERR_INTERNAL, NULL,
                                    "lifecycle: missing argument");
        ab_error_clear(&perr);
        rc = ab_json_parse(&lc->doc, json, len, &perr);
        if (rc == AB_ERR_NOMEM)
                return ab_error_set(err, rc, NULL, "out of memory");
        if (rc) {
                lc->stats.actions_rejected++;
                if (perr.has_offset)
                        return ab_error_set_at(
                            err, AB_ERR_ACTION_INVALID, perr.offset,
                            "an action record must be JSON: %s", perr.text);
                return ab_error_set(err, AB_ERR_ACTION_INVALID, NULL,
                                    "an action record must be JSON: %s",
                                    perr.text);
        }
        /* `{"action":"claim",...,"action":"close"}` must not close. */
        if (ab_json_check_unique_keys(&lc->doc, NULL, &perr)) {
                lc->stats.actions_rejected++;
                return ab_error_set(err, AB_ERR_ACTION_INVALID, perr.path,
                                    "an action record must not repeat a key: "
                                    "%s",
                                    perr.text);
        }
        rc = action_apply(lc, event_ms, &em, err);
        if (rc == AB_ERR_ACTION_INVALID || rc == AB_ERR_ACTION_UNKNOWN ||
            rc == AB_ERR_ACTION_CLOSED)
                lc->stats.actions_rejected++;
        return rc;
}
