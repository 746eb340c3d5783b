/* cmd_demo.c - `alertbridge demo`: the whole pipeline on librdkafka's
 * in-process mock cluster. */
#define _GNU_SOURCE /* memmem */
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "consumer/consumer.h"
#include "consumer/record.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "pipeline/config.h"
#include "pipeline/pipeline.h"
#include "producer/producer.h"
#include "transform/event.h"

/*
 * HOW IT WORKS
 * The demo needs no Kafka: it starts librdkafka's mock cluster inside the
 * process (its brokers listen on 127.0.0.1, nothing is written to disk),
 * produces the sample payloads embedded from examples/demo/ to the raw
 * topics, runs the real pipeline (the same code as `alertbridge run`)
 * until every record is processed, sends a claim and a comment for one of
 * the alerts it opened, and reads the output topics back with an ordinary
 * consumer to print the CloudEvents, the dead letters and a summary.
 */

struct ab_builtin_file {
        const char *name;
        const char *text;
};
extern const struct ab_builtin_file ab_demo_files[];

#define DEMO_GROUP_TIMEOUT_MS 60000

static const char *demo_file(const char *name)
{
        for (const struct ab_builtin_file *f = ab_demo_files; f->name; f++)
                if (!strcmp(f->name, name))
                        return f->text;
        return NULL;
}

/* ---------------------------------------------------------------- producing */

struct delivery {
        int done;
        int failed;
};

static void on_delivery(void *arg, void *opaque, ab_err_t status,
                        const struct ab_error *err)
{
        struct delivery *d = arg;

        (void)opaque;
        d->done++;
        if (status != AB_OK) {
                d->failed++;
                fprintf(stderr, "demo: delivery failed: %s\n",
                        err ? err->text : ab_err_desc(status));
        }
}

/* Payload files are named <topic suffix>.<n>.<ext>: they go to
 * alerts.raw.<topic suffix> in file-name order. */
static int produce_samples(struct ab_producer *prod, struct delivery *d,
                           size_t *count)
{
        struct ab_error err;
        size_t n = 0;

        for (const struct ab_builtin_file *f = ab_demo_files; f->name; f++) {
                const char *dot = strchr(f->name, '.');
                char topic[128];
                size_t len = strlen(f->text);

                if (!dot || !strcmp(f->name, "pipeline") ||
                    !strcmp(f->name, "network-monitor"))
                        continue;
                snprintf(topic, sizeof(topic), "alerts.raw.%.*s",
                         (int)(dot - f->name), f->name);
                while (len && f->text[len - 1] == '\n')
                        len--;
                ab_error_clear(&err);
                if (ab_producer_send(prod, topic, ab_str_c(f->name),
                                     ab_str_make(f->text, len), NULL, NULL,
                                     &err)) {
                        fprintf(stderr, "demo: cannot produce: %s\n", err.text);
                        return -1;
                }
                n++;
        }
        if (ab_producer_flush(prod, 10000, &err) || d->failed)
                return -1;
        *count = n;
        return 0;
}

/* ---------------------------------------------------------------- running */

static int run_until_processed(struct ab_pipeline *pl, uint64_t records,
                               volatile sig_atomic_t *stop)
{
        int64_t deadline = ab_time_mono_ms() + DEMO_GROUP_TIMEOUT_MS;
        struct ab_pipeline_stats st;
        struct ab_error err;

        for (;;) {
                ab_error_clear(&err);
                if (ab_pipeline_step(pl, 100, &err)) {
                        fprintf(stderr, "demo: pipeline failed: %s\n",
                                err.text);
                        return -1;
                }
                ab_pipeline_get_stats(pl, &st);
                if (st.records >= records && st.pending == 0)
                        return 0;
                if (*stop || ab_time_mono_ms() > deadline) {
                        fprintf(stderr,
                                "demo: gave up after %d s with %llu of %llu "
                                "records processed\n",
                                DEMO_GROUP_TIMEOUT_MS / 1000,
                                (unsigned long long)st.records,
                                (unsigned long long)records);
                        return -1;
                }
        }
}

/* ---------------------------------------------------------------- reading */

struct readback {
        size_t events[4];
        size_t dead_letters;
        size_t printed;
        char claim_alert[64]; /* an open alert of network-monitor */
};

static void note_event(struct readback *rb, const char *json, size_t len)
{
        const char *net = "\"integration\":\"network-monitor\"";
        const char *id;

        for (int i = 0; i < AB_EVENT__COUNT; i++) {
                char needle[64];
                snprintf(needle, sizeof(needle), "\"type\":\"%s\"",
                         ab_event_type_name((enum ab_event_type)i));
                if (memmem(json, len, needle, strlen(needle)))
                        rb->events[i]++;
        }
        if (!rb->claim_alert[0] && memmem(json, len, net, strlen(net)) &&
            memmem(json, len, "alarm:create", 12)) {
                id = memmem(json, len, "\"alertid\":\"", 11);
                if (id) {
                        const char *end;
                        id += 11;
                        end = memchr(id, '"', len - (size_t)(id - json));
                        if (end && (size_t)(end - id) < sizeof(rb->claim_alert))
                                snprintf(rb->claim_alert,
                                         sizeof(rb->claim_alert), "%.*s",
                                         (int)(end - id), id);
                }
        }
}

static void print_record(struct readback *rb, const struct ab_record *rec,
                         int quiet)
{
        struct ab_str v = ab_record_value(rec);

        if (!strcmp(ab_record_topic(rec), "alerts.dlq")) {
                struct ab_str code =
                    ab_record_header(rec, "alertbridge.error.code");
                struct ab_str msg =
                    ab_record_header(rec, "alertbridge.error.message");
                struct ab_str from =
                    ab_record_header(rec, "alertbridge.source.topic");
                rb->dead_letters++;
                fflush(stdout);
                if (!quiet)
                        fprintf(stderr, "dead letter from %.*s: %.*s: %.*s\n",
                                (int)from.len, from.ptr, (int)code.len,
                                code.ptr, (int)msg.len, msg.ptr);
                return;
        }
        note_event(rb, v.ptr, v.len);
        if (!quiet) {
                printf("%.*s\n", (int)v.len, v.ptr);
                rb->printed++;
        }
}

/* Read every output topic from the start until it has been quiet for a
 * while after the expected number of records arrived. */
static int read_outputs(const char *brokers, const char *group, size_t expect,
                        struct readback *rb, int quiet)
{
        static const char *const topics[] = {
            "alerts.events", "alerts.events.urgent", "alerts.dlq"};
        struct ab_consumer_conf cc;
        struct ab_consumer *c = NULL;
        struct ab_error err;
        int64_t deadline    = ab_time_mono_ms() + DEMO_GROUP_TIMEOUT_MS,
                quiet_since = 0;
        size_t got          = 0;
        int rc              = -1;

        memset(&cc, 0, sizeof(cc));
        cc.brokers = brokers;
        cc.group   = group;
        ab_error_clear(&err);
        if (ab_consumer_new(&cc, &c, &err) ||
            ab_consumer_subscribe(c, topics, 3, &err)) {
                fprintf(stderr, "demo: cannot read back: %s\n", err.text);
                goto out;
        }
        while (ab_time_mono_ms() < deadline) {
                struct ab_record *rec = NULL;
                if (ab_consumer_poll(c, 200, &rec, &err)) {
                        fprintf(stderr, "demo: read back failed: %s\n",
                                err.text);
                        goto out;
                }
                if (rec) {
                        print_record(rb, rec, quiet);
                        ab_record_destroy(rec);
                        got++;
                        quiet_since = ab_time_mono_ms();
                        continue;
                }
                if (got >= expect && ab_time_mono_ms() - quiet_since > 1000) {
                        rc = 0;
                        break;
                }
        }
        if (rc)
                fprintf(stderr, "demo: read %zu of %zu output records\n", got,
                        expect);
out:
        if (c)
                ab_consumer_close(c, NULL);
        ab_consumer_destroy(c);
        return rc;
}

/* ---------------------------------------------------------------- main */

static rd_kafka_mock_cluster_t *start_mock(rd_kafka_t **rkp, char *brokers,
                                           size_t size)
{
        static const char *const topics[] = {"alerts.raw.alertmanager",
                                             "alerts.raw.cloudmonitor",
                                             "alerts.raw.cloudmonitor-event",
                                             "alerts.raw.generic",
                                             "alerts.raw.network",
                                             "alerts.events",
                                             "alerts.events.urgent",
                                             "alerts.dlq",
                                             "alerts.actions"};
        char errstr[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_mock_cluster_t *mc;
        rd_kafka_t *rk;

        rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr));
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                rd_kafka_conf_destroy(conf);
                fprintf(stderr, "demo: %s\n", errstr);
                return NULL;
        }
        mc = rd_kafka_mock_cluster_new(rk, 1);
        if (!mc) {
                rd_kafka_destroy(rk);
                return NULL;
        }
        for (size_t i = 0; i < sizeof(topics) / sizeof(*topics); i++)
                rd_kafka_mock_topic_create(mc, topics[i], 1, 1);
        snprintf(brokers, size, "%s", rd_kafka_mock_cluster_bootstraps(mc));
        *rkp = rk;
        return mc;
}

static int write_integration(char *dir, size_t size)
{
        const char *text = demo_file("network-monitor");
        char path[512];
        FILE *f;

        snprintf(dir, size, "/tmp/alertbridge-demo-XXXXXX");
        if (!text || !mkdtemp(dir))
                return -1;
        snprintf(path, sizeof(path), "%s/network-monitor.yaml", dir);
        f = fopen(path, "w");
        if (!f)
                return -1;
        fputs(text, f);
        return fclose(f) ? -1 : 0;
}

static void remove_integration(const char *dir)
{
        char path[512];

        snprintf(path, sizeof(path), "%s/network-monitor.yaml", dir);
        unlink(path);
        rmdir(dir);
}

static int send_actions(struct ab_producer *prod, struct delivery *d,
                        const char *alert_id)
{
        char claim[256], comment[320];
        struct ab_error err;

        snprintf(claim, sizeof(claim),
                 "{\"action\":\"claim\",\"alert_id\":\"%s\",\"operator\":"
                 "\"alice\"}",
                 alert_id);
        snprintf(comment, sizeof(comment),
                 "{\"action\":\"comment\",\"alert_id\":\"%s\",\"operator\":"
                 "\"alice\",\"comment\":\"packet loss traced to a faulty "
                 "NIC; replacing it\"}",
                 alert_id);
        ab_error_clear(&err);
        if (ab_producer_send(prod, "alerts.actions", AB_STR_NULL,
                             ab_str_c(claim), NULL, NULL, &err) ||
            ab_producer_send(prod, "alerts.actions", AB_STR_NULL,
                             ab_str_c(comment), NULL, NULL, &err) ||
            ab_producer_flush(prod, 10000, &err) || d->failed) {
                fprintf(stderr, "demo: cannot send actions: %s\n", err.text);
                return -1;
        }
        return 0;
}

static void demo_usage(FILE *out)
{
        fprintf(out,
                "usage: alertbridge demo [--quiet]\n\n"
                "Runs the whole pipeline on librdkafka's in-process MOCK "
                "Kafka cluster (nothing is\n"
                "durable; for a first look only): produces sample payloads "
                "of every built-in\n"
                "integration and the ARMS custom-integration example, "
                "prints the resulting\n"
                "CloudEvents on stdout and dead letters and a summary on "
                "stderr.\n");
}

int ab_cmd_demo(int argc, char **argv)
{
        static const struct option longopts[] = {
            {"quiet", no_argument, NULL, 'q'},
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, 'V'},
            {NULL, 0, NULL, 0}};
        struct ab_pipeline_config *cfg = NULL;
        struct ab_pipeline *pl         = NULL;
        struct ab_producer *prod       = NULL;
        rd_kafka_mock_cluster_t *mc    = NULL;
        rd_kafka_t *mock_rk            = NULL;
        struct ab_producer_conf pc;
        struct delivery d = {0, 0};
        struct readback rb;
        struct ab_pipeline_stats st;
        volatile sig_atomic_t *stop;
        const char *text;
        char brokers[256], dir[64] = "", line[1024];
        struct ab_error err;
        size_t nsamples = 0;
        int c, quiet = 0, status = AB_EXIT_REJECTED;

        optind = 1;
        while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
                switch (c) {
                case 'q':
                        quiet = 1;
                        break;
                case 'h':
                        demo_usage(stdout);
                        return AB_EXIT_OK;
                case 'V':
                        printf("alertbridge %s\n", AB_VERSION);
                        return AB_EXIT_OK;
                default:
                        demo_usage(stderr);
                        return AB_EXIT_USAGE;
                }
        }
        ab_log_threshold = AB_LOG_WARN;
        ab_cli_install_stop_handlers(&stop);
        memset(&rb, 0, sizeof(rb));
        fprintf(stderr,
                "alertbridge demo: starting librdkafka's in-process MOCK "
                "Kafka cluster.\n"
                "  It is NOT durable and exists only inside this process: "
                "use `alertbridge run`\n"
                "  with a real cluster for anything else.\n");
        mc = start_mock(&mock_rk, brokers, sizeof(brokers));
        if (!mc || write_integration(dir, sizeof(dir))) {
                fprintf(stderr, "demo: cannot start the mock cluster\n");
                goto out;
        }
        setenv("AB_DEMO_BROKERS", brokers, 1);
        text = demo_file("pipeline");
        ab_error_clear(&err);
        if (ab_pipeline_config_load_string(text, strlen(text), "demo pipeline",
                                           dir, &cfg, &err)) {
                fprintf(stderr, "demo: %s\n",
                        ab_error_format(&err, line, sizeof(line)));
                goto out;
        }
        /* One member on a mock cluster: no internal topics. */
        cfg->state.store = AB_PIPELINE_STORE_MEMORY;
        memset(&pc, 0, sizeof(pc));
        pc.brokers     = brokers;
        pc.on_delivery = on_delivery;
        pc.arg         = &d;
        if (ab_producer_new(&pc, &prod, &err) ||
            produce_samples(prod, &d, &nsamples)) {
                fprintf(stderr, "demo: cannot produce the samples\n");
                goto out;
        }
        fprintf(stderr, "demo: produced %zu sample payloads to %s\n", nsamples,
                brokers);
        if (ab_pipeline_new(cfg, &pl, &err)) {
                fprintf(stderr, "demo: cannot start the pipeline: %s\n",
                        ab_error_format(&err, line, sizeof(line)));
                goto out;
        }
        if (run_until_processed(pl, nsamples, stop))
                goto out;
        /* A person claims one of the new alerts and comments on it. */
        if (read_outputs(brokers, "alertbridge-demo-peek", 1, &rb, 1))
                goto out;
        if (rb.claim_alert[0]) {
                if (send_actions(prod, &d, rb.claim_alert) ||
                    run_until_processed(pl, nsamples + 2, stop))
                        goto out;
        }
        ab_pipeline_get_stats(pl, &st);
        if (ab_pipeline_shutdown(pl, &err)) {
                fprintf(stderr, "demo: shutdown failed: %s\n", err.text);
                goto out;
        }
        memset(&rb, 0, sizeof(rb));
        if (read_outputs(brokers, "alertbridge-demo-reader",
                         (size_t)(st.events + st.dead_letters), &rb, quiet))
                goto out;
        fflush(stdout);
        fprintf(stderr,
                "\ndemo summary (mock cluster, nothing persisted):\n"
                "  input records   %llu\n"
                "  events          %llu (create %zu, claim %zu, comment %zu, "
                "close %zu)\n"
                "  dead letters    %llu\n",
                (unsigned long long)st.records, (unsigned long long)st.events,
                rb.events[0], rb.events[1], rb.events[2], rb.events[3],
                (unsigned long long)st.dead_letters);
        status = AB_EXIT_OK;
out:
        ab_pipeline_destroy(pl);
        ab_pipeline_config_destroy(cfg);
        if (prod)
                ab_producer_flush(prod, 1000, NULL);
        ab_producer_destroy(prod);
        if (mc)
                rd_kafka_mock_cluster_destroy(mc);
        if (mock_rk)
                rd_kafka_destroy(mock_rk);
        if (dir[0])
                remove_integration(dir);
        return status;
}
