/* passthrough.c - the end-to-end baseline: a plain librdkafka
 * consume-and-produce with no transform. */
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/consumer.h"

/*
 * What it costs to move the records through Kafka at all: each record of
 * the input topics is produced unchanged (key, value, headers) to one
 * output topic. The clients are configured like alertbridge's own
 * (consumer/consumer.c, producer/producer.c): a consumer group reading
 * from the earliest offset with auto commit and alertbridge's prefetch
 * bound (ab_consumer_prefetch_for(): 256 MiB with librdkafka 2.0, 16 MiB
 * and a 10 ms refetch from 2.1 on),
 * an idempotent producer with acks=all, and the value copied into the
 * producer's queue. What is left
 * out is everything alertbridge adds: the transform, the lifecycle,
 * serializing events, and per-record offset tracking (here librdkafka
 * stores each offset as it hands the record out). One thread, one record
 * per poll.
 */

static volatile sig_atomic_t stop_flag;

struct state {
        unsigned long long consumed;
        unsigned long long delivered;
        unsigned long long failed;
};

static void on_signal(int sig)
{
        (void)sig;
        stop_flag = 1;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
        struct state *st = opaque;

        (void)rk;
        if (m->err) {
                st->failed++;
                fprintf(stderr, "bench_passthrough: delivery failed: %s\n",
                        rd_kafka_err2str(m->err));
        } else {
                st->delivered++;
        }
}

static int set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
        char errstr[256];

        if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) ==
            RD_KAFKA_CONF_OK)
                return 0;
        fprintf(stderr, "bench_passthrough: %s: %s\n", name, errstr);
        return -1;
}

static rd_kafka_t *make_producer(const char *brokers, struct state *st)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char errstr[256];
        rd_kafka_t *rk;

        if (set(conf, "bootstrap.servers", brokers) ||
            set(conf, "client.id", "bench-passthrough") ||
            set(conf, "enable.idempotence", "true") ||
            set(conf, "acks", "all") || set(conf, "message.timeout.ms", "0") ||
            set(conf, "queue.buffering.max.kbytes", "65536") ||
            set(conf, "log.connection.close", "false")) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        rd_kafka_conf_set_opaque(conf, st);
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "bench_passthrough: producer: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
        }
        return rk;
}

static rd_kafka_t *make_consumer(const char *brokers, const char *group,
                                 char **topics, int ntopics)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_topic_partition_list_t *list;
        struct ab_consumer_prefetch pf =
            ab_consumer_prefetch_for(rd_kafka_version());
        char errstr[256];
        rd_kafka_resp_err_t err;
        rd_kafka_t *rk;

        if (set(conf, "bootstrap.servers", brokers) ||
            set(conf, "group.id", group) ||
            set(conf, "client.id", "bench-passthrough") ||
            set(conf, "auto.offset.reset", "earliest") ||
            set(conf, "enable.auto.commit", "true") ||
            set(conf, "enable.partition.eof", "false") ||
            set(conf, "queued.max.messages.kbytes", pf.max_kbytes) ||
            (pf.backoff_ms &&
             set(conf, "fetch.queue.backoff.ms", pf.backoff_ms)) ||
            set(conf, "log.connection.close", "false")) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "bench_passthrough: consumer: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        rd_kafka_poll_set_consumer(rk);
        list = rd_kafka_topic_partition_list_new(ntopics);
        for (int i = 0; i < ntopics; i++)
                rd_kafka_topic_partition_list_add(list, topics[i],
                                                  RD_KAFKA_PARTITION_UA);
        err = rd_kafka_subscribe(rk, list);
        rd_kafka_topic_partition_list_destroy(list);
        if (err) {
                fprintf(stderr, "bench_passthrough: subscribe: %s\n",
                        rd_kafka_err2str(err));
                rd_kafka_destroy(rk);
                return NULL;
        }
        return rk;
}

/* Produce a copy of \p m to \p topic, waiting out a full queue. */
static int forward(rd_kafka_t *p, const char *topic, rd_kafka_message_t *m)
{
        rd_kafka_headers_t *hdrs = NULL;
        rd_kafka_resp_err_t err;

        /* The producer takes the headers over when the produce succeeds. */
        rd_kafka_message_detach_headers(m, &hdrs);
        for (;;) {
                err =
                    rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                      RD_KAFKA_V_KEY(m->key, m->key_len),
                                      RD_KAFKA_V_VALUE(m->payload, m->len),
                                      RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        break;
                rd_kafka_poll(p, 100);
        }
        if (!err)
                return 0;
        if (hdrs)
                rd_kafka_headers_destroy(hdrs);
        fprintf(stderr, "bench_passthrough: produce: %s\n",
                rd_kafka_err2str(err));
        return -1;
}

static void usage(FILE *f)
{
        fprintf(f, "usage: bench_passthrough --brokers B --group G --to TOPIC "
                   "[--count N] TOPIC...\n\n"
                   "Copies every record of the input TOPICs to --to until "
                   "SIGTERM/SIGINT (or\n"
                   "until N records are delivered), then flushes and leaves "
                   "the group.\n");
}

int main(int argc, char **argv)
{
        static const struct option longopts[] = {
            {"brokers", required_argument, NULL, 'b'},
            {"group", required_argument, NULL, 'g'},
            {"to", required_argument, NULL, 't'},
            {"count", required_argument, NULL, 'n'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0}};
        const char *brokers = NULL, *group = NULL, *to = NULL;
        unsigned long long count = 0;
        rd_kafka_t *c = NULL, *p = NULL;
        struct state st = {0, 0, 0};
        struct sigaction sa;
        int opt, rc = 1;

        while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
                switch (opt) {
                case 'b':
                        brokers = optarg;
                        break;
                case 'g':
                        group = optarg;
                        break;
                case 't':
                        to = optarg;
                        break;
                case 'n':
                        count = strtoull(optarg, NULL, 10);
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (!brokers || !group || !to || optind == argc) {
                usage(stderr);
                return 2;
        }
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        p = make_producer(brokers, &st);
        c = p ? make_consumer(brokers, group, argv + optind, argc - optind)
              : NULL;
        if (!c)
                goto out;
        while (!stop_flag && !st.failed && (!count || st.delivered < count)) {
                rd_kafka_message_t *m;

                rd_kafka_poll(p, 0);
                m = rd_kafka_consumer_poll(c, 100);
                if (!m)
                        continue;
                if (m->err) {
                        fprintf(stderr, "bench_passthrough: consume: %s\n",
                                rd_kafka_message_errstr(m));
                } else {
                        st.consumed++;
                        if (forward(p, to, m)) {
                                rd_kafka_message_destroy(m);
                                goto out;
                        }
                }
                rd_kafka_message_destroy(m);
        }
        if (rd_kafka_flush(p, 30000)) {
                fprintf(stderr, "bench_passthrough: records still in flight\n");
                goto out;
        }
        rc = st.failed ? 1 : 0;
out:
        if (c) {
                rd_kafka_consumer_close(c);
                rd_kafka_destroy(c);
        }
        if (p)
                rd_kafka_destroy(p);
        fprintf(stderr,
                "bench_passthrough: consumed=%llu delivered=%llu failed=%llu\n",
                st.consumed, st.delivered, st.failed);
        return rc;
}
