/* admin.c - internal topics, partition counts and DeleteRecords over
 * librdkafka's Admin API. */
#include "kafka/admin.h"

#include <string.h>

#include <librdkafka/rdkafka.h>

#include "core/mem.h"
#include "core/timefmt.h"
#include "kafka/kafka_conf.h"

/* Between two metadata reads of a topic another client is creating. */
#define RECHECK_MS 100

struct ab_kafka_admin {
        rd_kafka_t *rk;
};

ab_err_t ab_kafka_admin_new(const char *brokers, const char *const *properties,
                            struct ab_kafka_admin **out, struct ab_error *err)
{
        /* Name, value pairs. Reading metadata must never create a topic. */
        const char *defaults[]   = {"bootstrap.servers",
                                    brokers,
                                    "client.id",
                                    "alertbridge-admin",
                                    "allow.auto.create.topics",
                                    "false",
                                    "log.connection.close",
                                    "false",
                                    NULL};
        struct ab_kafka_admin *a = NULL;
        rd_kafka_conf_t *kconf   = NULL;
        char errstr[512];
        ab_err_t rc;

        *out = NULL;
        if (!brokers || !*brokers)
                return ab_error_set(err, AB_ERR_CONFIG, "kafka",
                                    "brokers are required");
        a     = ab_calloc(1, sizeof(*a));
        kconf = ab_kafka_conf_new();
        if (!a || !kconf) {
                rc = ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
                goto out;
        }
        rc = ab_kafka_conf_apply(kconf, defaults, NULL, err);
        if (!rc)
                rc = ab_kafka_conf_apply(kconf, properties, NULL, err);
        if (rc)
                goto out;
        a->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kconf, errstr, sizeof(errstr));
        if (!a->rk) {
                rc = ab_error_set(err, AB_ERR_KAFKA, NULL,
                                  "creating the admin client: %s", errstr);
                goto out;
        }
        kconf = NULL; /* owned by a->rk now */
        *out  = a;
        a     = NULL;
out:
        if (kconf)
                rd_kafka_conf_destroy(kconf);
        ab_free(a);
        return rc;
}

/* The partition count of \p topic: AB_OK, AB_ERR_NOT_FOUND or
 * AB_ERR_KAFKA. */
static ab_err_t topic_partitions(struct ab_kafka_admin *a, const char *topic,
                                 int timeout_ms, int *count,
                                 struct ab_error *err)
{
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(a->rk, topic, NULL);
        rd_kafka_resp_err_t code;
        ab_err_t rc = AB_OK;

        if (!rkt)
                return ab_error_set(err, AB_ERR_KAFKA, topic, "topic %s: %s",
                                    topic,
                                    rd_kafka_err2str(rd_kafka_last_error()));
        code = rd_kafka_metadata(a->rk, 0, rkt, &md, timeout_ms);
        if (!code && md->topic_cnt == 1)
                code = md->topics[0].err;
        if (code == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
            (!code && md->topics[0].partition_cnt == 0))
                rc = ab_error_set(err, AB_ERR_NOT_FOUND, topic,
                                  "topic %s does not exist", topic);
        else if (code && code != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE)
                rc = ab_error_set(err, AB_ERR_KAFKA, topic,
                                  "reading the metadata of topic %s: %s", topic,
                                  rd_kafka_err2str(code));
        else
                *count = md->topics[0].partition_cnt;
        if (md)
                rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        return rc;
}

ab_err_t ab_kafka_admin_partitions(struct ab_kafka_admin *a,
                                   const char *const *topics, size_t n,
                                   int *counts, int timeout_ms,
                                   struct ab_error *err)
{
        for (size_t i = 0; i < n; i++) {
                ab_err_t rc =
                    topic_partitions(a, topics[i], timeout_ms, &counts[i], err);

                if (rc)
                        return rc;
        }
        return AB_OK;
}

static int remaining_ms(int64_t deadline_ms)
{
        int64_t left = deadline_ms - ab_time_mono_ms();

        return left > 0 ? (int)left : 0;
}

static ab_err_t check_count(const struct ab_kafka_topic_spec *t, int count,
                            struct ab_error *err)
{
        if (count != t->partitions)
                return ab_error_set(err, AB_ERR_CONFIG, t->name,
                                    "topic %s has %d partitions, expected %d",
                                    t->name, count, t->partitions);
        return AB_OK;
}

/* Check the partition count of \p t, which another client has just
 * created: it may not be in the metadata yet, so read it again until the
 * deadline. */
static ab_err_t verify_created(struct ab_kafka_admin *a,
                               const struct ab_kafka_topic_spec *t,
                               int64_t deadline_ms, struct ab_error *err)
{
        int count = 0;
        ab_err_t rc;

        for (;;) {
                rc = topic_partitions(a, t->name, remaining_ms(deadline_ms) + 1,
                                      &count, err);
                if (rc != AB_ERR_NOT_FOUND || !remaining_ms(deadline_ms))
                        break;
                rd_kafka_poll(a->rk, RECHECK_MS);
        }
        return rc ? rc : check_count(t, count, err);
}

static ab_err_t new_topic(const struct ab_kafka_topic_spec *t,
                          rd_kafka_NewTopic_t **out, struct ab_error *err)
{
        char errstr[256];

        *out =
            rd_kafka_NewTopic_new(t->name, t->partitions, t->replication_factor,
                                  errstr, sizeof(errstr));
        if (!*out)
                return ab_error_set(err, AB_ERR_CONFIG, t->name, "topic %s: %s",
                                    t->name, errstr);
        for (const char *const *kv = t->configs; kv && kv[0]; kv += 2)
                if (rd_kafka_NewTopic_set_config(*out, kv[0], kv[1]))
                        return ab_error_set(err, AB_ERR_CONFIG, t->name,
                                            "topic %s: invalid config %s",
                                            t->name, kv[0]);
        return AB_OK;
}

/* Send one CreateTopics request for \p specs and wait for its result
 * event (caller destroys it). */
static ab_err_t create(struct ab_kafka_admin *a,
                       const struct ab_kafka_topic_spec *const *specs, size_t n,
                       int timeout_ms, rd_kafka_event_t **out,
                       struct ab_error *err)
{
        rd_kafka_NewTopic_t **nts = ab_calloc(n, sizeof(*nts));
        rd_kafka_AdminOptions_t *opts =
            rd_kafka_AdminOptions_new(a->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
        rd_kafka_queue_t *q = rd_kafka_queue_new(a->rk);
        char errstr[256];
        ab_err_t rc = AB_OK;

        *out = NULL;
        if (!nts || !opts || !q) {
                rc = ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
                goto out;
        }
        for (size_t i = 0; i < n && !rc; i++)
                rc = new_topic(specs[i], &nts[i], err);
        if (rc)
                goto out;
        rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, errstr,
                                                    sizeof(errstr));
        rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, errstr,
                                                  sizeof(errstr));
        rd_kafka_CreateTopics(a->rk, nts, n, opts, q);
        /* The request times out by itself: the result always comes. */
        *out = rd_kafka_queue_poll(q, -1);
        if (rd_kafka_event_error(*out))
                rc =
                    ab_error_set(err, AB_ERR_KAFKA, NULL, "creating topics: %s",
                                 rd_kafka_event_error_string(*out));
out:
        for (size_t i = 0; nts && i < n; i++)
                if (nts[i])
                        rd_kafka_NewTopic_destroy(nts[i]);
        ab_free(nts);
        if (opts)
                rd_kafka_AdminOptions_destroy(opts);
        if (q)
                rd_kafka_queue_destroy(q);
        return rc;
}

static const struct ab_kafka_topic_spec *
spec_named(const struct ab_kafka_topic_spec *const *specs, size_t n,
           const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(specs[i]->name, name))
                        return specs[i];
        return NULL;
}

/* Create the \p n missing topics; one that another client created
 * meanwhile is verified instead. */
static ab_err_t create_missing(struct ab_kafka_admin *a,
                               const struct ab_kafka_topic_spec *const *missing,
                               size_t n, int64_t deadline_ms,
                               struct ab_error *err)
{
        rd_kafka_event_t *ev = NULL;
        const rd_kafka_topic_result_t **res;
        size_t nres = 0;
        ab_err_t rc;

        rc = create(a, missing, n, remaining_ms(deadline_ms) + 1, &ev, err);
        if (rc)
                goto out;
        res = rd_kafka_CreateTopics_result_topics(
            rd_kafka_event_CreateTopics_result(ev), &nres);
        for (size_t i = 0; i < nres && !rc; i++) {
                const char *name         = rd_kafka_topic_result_name(res[i]);
                rd_kafka_resp_err_t code = rd_kafka_topic_result_error(res[i]);
                const struct ab_kafka_topic_spec *t =
                    spec_named(missing, n, name);

                if (code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS && t)
                        rc = verify_created(a, t, deadline_ms, err);
                else if (code == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT ||
                         code == RD_KAFKA_RESP_ERR__TIMED_OUT)
                        rc = ab_error_set(err, AB_ERR_KAFKA, name,
                                          "creating topic %s: %s", name,
                                          rd_kafka_err2str(code));
                else if (code)
                        rc = ab_error_set(
                            err, AB_ERR_CONFIG, name,
                            "creating topic %s: %s (%s)", name,
                            rd_kafka_topic_result_error_string(res[i])
                                ? rd_kafka_topic_result_error_string(res[i])
                                : rd_kafka_err2str(code),
                            rd_kafka_err2name(code));
        }
out:
        if (ev)
                rd_kafka_event_destroy(ev);
        return rc;
}

ab_err_t ab_kafka_admin_ensure_topics(struct ab_kafka_admin *a,
                                      const struct ab_kafka_topic_spec *topics,
                                      size_t n, int timeout_ms,
                                      struct ab_error *err)
{
        int64_t deadline_ms = ab_time_mono_ms() + timeout_ms;
        const struct ab_kafka_topic_spec **missing;
        size_t nmissing = 0;
        ab_err_t rc     = AB_OK;

        missing = ab_calloc(n ? n : 1, sizeof(*missing));
        if (!missing)
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        for (size_t i = 0; i < n && !rc; i++) {
                int count = 0;

                rc = topic_partitions(a, topics[i].name,
                                      remaining_ms(deadline_ms) + 1, &count,
                                      err);
                if (rc == AB_ERR_NOT_FOUND) {
                        missing[nmissing++] = &topics[i];
                        rc                  = AB_OK;
                } else if (!rc) {
                        rc = check_count(&topics[i], count, err);
                }
        }
        if (!rc && nmissing)
                rc = create_missing(a, missing, nmissing, deadline_ms, err);
        ab_free(missing);
        return rc;
}

ab_err_t ab_kafka_admin_delete_records(struct ab_kafka_admin *a,
                                       const char *topic, int32_t partition,
                                       int64_t offset, int timeout_ms,
                                       struct ab_error *err)
{
        rd_kafka_topic_partition_list_t *list =
            rd_kafka_topic_partition_list_new(1);
        rd_kafka_AdminOptions_t *opts =
            rd_kafka_AdminOptions_new(a->rk, RD_KAFKA_ADMIN_OP_DELETERECORDS);
        rd_kafka_queue_t *q          = rd_kafka_queue_new(a->rk);
        rd_kafka_DeleteRecords_t *dr = NULL;
        rd_kafka_event_t *ev         = NULL;
        rd_kafka_resp_err_t code     = RD_KAFKA_RESP_ERR_NO_ERROR;
        const rd_kafka_topic_partition_list_t *res;
        char errstr[256];
        ab_err_t rc = AB_OK;

        if (!list || !opts || !q) {
                rc = ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
                goto out;
        }
        rd_kafka_topic_partition_list_add(list, topic, partition)->offset =
            offset;
        dr = rd_kafka_DeleteRecords_new(list);
        rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, errstr,
                                                    sizeof(errstr));
        rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, errstr,
                                                  sizeof(errstr));
        rd_kafka_DeleteRecords(a->rk, &dr, 1, opts, q);
        ev   = rd_kafka_queue_poll(q, -1);
        code = rd_kafka_event_error(ev);
        /* The result's list exists only when the request succeeded. */
        if (!code) {
                res = rd_kafka_DeleteRecords_result_offsets(
                    rd_kafka_event_DeleteRecords_result(ev));
                if (res && res->cnt == 1)
                        code = res->elems[0].err;
        }
        if (code)
                rc = ab_error_set(err, AB_ERR_KAFKA, topic,
                                  "deleting records of %s[%d] before offset "
                                  "%lld: %s",
                                  topic, (int)partition, (long long)offset,
                                  rd_kafka_err2str(code));
out:
        if (ev)
                rd_kafka_event_destroy(ev);
        if (dr)
                rd_kafka_DeleteRecords_destroy(dr);
        if (opts)
                rd_kafka_AdminOptions_destroy(opts);
        if (q)
                rd_kafka_queue_destroy(q);
        if (list)
                rd_kafka_topic_partition_list_destroy(list);
        return rc;
}

void ab_kafka_admin_destroy(struct ab_kafka_admin *a)
{
        if (!a)
                return;
        rd_kafka_destroy(a->rk);
        ab_free(a);
}
