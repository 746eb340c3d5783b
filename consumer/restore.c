/* restore.c - one partition read from its beginning to its end offset with
 * librdkafka's group-less simple consumer. */
#include "consumer/restore.h"

#include <string.h>

#include <librdkafka/rdkafka.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "kafka/kafka_conf.h"

#define DEFAULT_TIMEOUT_MS 30000
#define WAIT_MS            100

struct ab_restore {
        rd_kafka_t *rk;     /* reads */
        rd_kafka_t *lister; /* read_uncommitted, for the end offset; NULL
                             * when rk reads uncommitted itself */
        int timeout_ms;
};

/* One client of \p isolation ("read_committed" or "read_uncommitted"). */
static ab_err_t client(const struct ab_restore_conf *conf,
                       const char *isolation, rd_kafka_t **out,
                       struct ab_error *err)
{
        /* Never commit or store: a restore leaves no trace in a group. */
        static const char *const locked[] = {"enable.auto.commit", "false",
                                             "enable.auto.offset.store",
                                             "false", NULL};
        /* Name, value pairs. */
        /* clang-format off */
        const char *defaults[] = {
                "bootstrap.servers",        conf->brokers,
                "client.id",                conf->client_id
                                                ? conf->client_id
                                                : "alertbridge-restore",
                "enable.auto.commit",       "false",
                "enable.auto.offset.store", "false",
                "enable.partition.eof",     "true",
                "auto.offset.reset",        "earliest",
                "log.connection.close",     "false",
                /* The end is seen in an empty fetch when the partition
                 * ends in records never returned (read_to()): a
                 * changelog written in transactions always ends in a
                 * commit marker. The broker holds an empty fetch this
                 * long (librdkafka: 500 ms; the end took two, a second
                 * per partition); a fetch with data returns at once. */
                "fetch.wait.max.ms",        "10",
                NULL,
        };
        /* clang-format on */
        rd_kafka_conf_t *kconf = ab_kafka_conf_new();
        char errstr[512];
        ab_err_t rc;

        *out = NULL;
        if (!kconf)
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        rc = ab_kafka_conf_apply(kconf, defaults, NULL, err);
        if (!rc)
                rc = ab_kafka_conf_apply(kconf, conf->properties, locked, err);
        if (!rc)
                rc =
                    ab_kafka_conf_set(kconf, "isolation.level", isolation, err);
        if (rc) {
                rd_kafka_conf_destroy(kconf);
                return rc;
        }
        *out = rd_kafka_new(RD_KAFKA_CONSUMER, kconf, errstr, sizeof(errstr));
        if (!*out) {
                rd_kafka_conf_destroy(kconf);
                return ab_error_set(err, AB_ERR_KAFKA, NULL,
                                    "creating the restore consumer: %s",
                                    errstr);
        }
        return AB_OK;
}

ab_err_t ab_restore_new(const struct ab_restore_conf *conf,
                        struct ab_restore **out, struct ab_error *err)
{
        struct ab_restore *r = NULL;
        ab_err_t rc;

        *out = NULL;
        if (!conf->brokers || !*conf->brokers)
                return ab_error_set(err, AB_ERR_CONFIG, "kafka",
                                    "brokers are required");
        for (const char *const *kv = conf->properties; kv && kv[0]; kv += 2)
                if (!strcmp(kv[0], "group.id"))
                        return ab_error_set(err, AB_ERR_CONFIG, "group.id",
                                            "a restore joins no group");
        r = ab_calloc(1, sizeof(*r));
        if (!r)
                return ab_error_set(err, AB_ERR_NOMEM, NULL, "out of memory");
        r->timeout_ms =
            conf->timeout_ms > 0 ? conf->timeout_ms : DEFAULT_TIMEOUT_MS;
        rc = client(
            conf, conf->read_committed ? "read_committed" : "read_uncommitted",
            &r->rk, err);
        if (!rc && conf->read_committed)
                rc = client(conf, "read_uncommitted", &r->lister, err);
        if (rc) {
                ab_restore_destroy(r);
                return rc;
        }
        *out = r;
        return AB_OK;
}

static ab_err_t kafka_error(rd_kafka_resp_err_t code, const char *what,
                            const char *topic, int32_t partition,
                            struct ab_error *err)
{
        ab_err_t rc = code == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
                              code == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
                              code == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
                          ? AB_ERR_NOT_FOUND
                          : AB_ERR_RETRY;

        return ab_error_set(err, rc, topic, "restoring %s[%d]: %s: %s", topic,
                            (int)partition, what, rd_kafka_err2str(code));
}

/*
 * HOW IT WORKS: the end offset is the high watermark, listed first with
 * read_uncommitted even when reading read_committed (as Kafka Streams
 * does: the last stable offset would stop before a transaction still
 * open, e.g. the previous owner's, whose records and input offsets may
 * commit after the restore; waiting for the end makes the restore wait
 * for that transaction to end). Reading starts at the beginning and stops
 * at the first record at or past the end, or after the record just
 * before it; when the last offsets before the end hold no record for us
 * (transaction markers, aborted records), the partition-EOF event, whose
 * offset is the fetch position (with read_committed, the last stable
 * offset), says the end was passed.
 */
static ab_err_t read_to(struct ab_restore *r, rd_kafka_topic_t *rkt,
                        int32_t partition, int64_t end, ab_restore_fn fn,
                        void *arg, int64_t *records, struct ab_error *err)
{
        const char *topic = rd_kafka_topic_name(rkt);
        int64_t progress  = ab_time_mono_ms();
        ab_err_t rc       = AB_OK;

        for (;;) {
                rd_kafka_message_t *m =
                    rd_kafka_consume(rkt, partition, WAIT_MS);
                bool last;

                if (!m) {
                        if (ab_time_mono_ms() - progress < r->timeout_ms)
                                continue;
                        return ab_error_set(
                            err, AB_ERR_RETRY, topic,
                            "restoring %s[%d]: no progress for %d ms before "
                            "the end offset %lld",
                            topic, (int)partition, r->timeout_ms,
                            (long long)end);
                }
                if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        last = m->offset >= end;
                        rd_kafka_message_destroy(m);
                        if (last)
                                return AB_OK;
                        continue;
                }
                if (m->err) {
                        struct ab_error e;
                        char quoted[300];

                        rc = kafka_error(m->err, "consume", topic, partition,
                                         &e);
                        rd_kafka_message_destroy(m);
                        if (rc == AB_ERR_NOT_FOUND)
                                return ab_error_set(err, rc, topic, "%s",
                                                    e.text);
                        AB_WARN("restore", "consume error", "reason=%s",
                                ab_log_quote(e.text, quoted, sizeof(quoted)));
                        continue;
                }
                if (m->offset >= end) {
                        rd_kafka_message_destroy(m);
                        return AB_OK;
                }
                progress = ab_time_mono_ms();
                last     = m->offset + 1 >= end;
                rc       = fn(arg, (struct ab_str){m->key, m->key_len},
                              (struct ab_str){m->payload, m->len}, m->offset, err);
                rd_kafka_message_destroy(m);
                if (rc)
                        return rc;
                if (records)
                        (*records)++;
                if (last)
                        return AB_OK;
        }
}

ab_err_t ab_restore_partition(struct ab_restore *r, const char *topic,
                              int32_t partition, ab_restore_fn fn, void *arg,
                              int64_t *records, struct ab_error *err)
{
        rd_kafka_topic_t *rkt = NULL;
        int64_t low = 0, high = 0;
        rd_kafka_resp_err_t code;
        ab_err_t rc;

        if (records)
                *records = 0;
        code = rd_kafka_query_watermark_offsets(r->lister ? r->lister : r->rk,
                                                topic, partition, &low, &high,
                                                r->timeout_ms);
        if (code)
                return kafka_error(code, "reading the end offset", topic,
                                   partition, err);
        if (high <= low)
                return AB_OK;
        rkt = rd_kafka_topic_new(r->rk, topic, NULL);
        if (!rkt)
                return kafka_error(rd_kafka_last_error(), "topic", topic,
                                   partition, err);
        /* From the log start just listed, not OFFSET_BEGINNING: a logical
         * offset is looked up first, and librdkafka 2.0.2 retries that
         * lookup only 500 ms later when this client does not know the
         * partition's leader yet (a topic it has not read before). A
         * start moved meanwhile is reset to the earliest. */
        if (rd_kafka_consume_start(rkt, partition, low)) {
                rc = kafka_error(rd_kafka_last_error(), "start", topic,
                                 partition, err);
                rd_kafka_topic_destroy(rkt);
                return rc;
        }
        rc = read_to(r, rkt, partition, high, fn, arg, records, err);
        rd_kafka_consume_stop(rkt, partition);
        rd_kafka_topic_destroy(rkt);
        if (!rc)
                AB_DEBUG("restore", "partition restored",
                         "topic=%s partition=%d end=%lld", topic,
                         (int)partition, (long long)high);
        return rc;
}

void ab_restore_destroy(struct ab_restore *r)
{
        if (!r)
                return;
        if (r->rk)
                rd_kafka_destroy(r->rk);
        if (r->lister)
                rd_kafka_destroy(r->lister);
        ab_free(r);
}
