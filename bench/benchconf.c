/* benchconf.c - the pipeline configuration the transform and end-to-end
 * benchmarks share. */
#include "bench/benchconf.h"

#include <string.h>

#include "transform/alert.h"

/* The integrations of the corpus shapes, each once. */
static const char *const integrations[] = {
    "alertmanager", "cloudmonitor",    "cloudmonitor-event",
    "generic",      "network-monitor",
};

ab_err_t ab_bench_topic(const struct ab_bench_conf *c, enum ab_bench_kind k,
                        struct ab_buf *out)
{
        return ab_buf_appendf(out, "%s%s", c->topic_prefix,
                              ab_bench_kind_integration(k));
}

ab_err_t ab_bench_config_yaml(const struct ab_bench_conf *c, struct ab_buf *out)
{
        ab_err_t rc;

        rc = ab_buf_appendf(out,
                            "# Written by the alertbridge benchmarks.\n"
                            "kafka:\n"
                            "  brokers: \"%s\"\n"
                            "  group: \"%s\"\n",
                            c->brokers, c->group);
        if (!rc && c->nconsumer_properties)
                rc = ab_buf_append_str(out, "  consumer_properties:\n");
        for (size_t i = 0; !rc && i < c->nconsumer_properties; i++) {
                const char *kv = c->consumer_properties[i];
                const char *eq = strchr(kv, '=');

                if (!eq)
                        return AB_ERR_CONFIG;
                rc = ab_buf_appendf(out, "    \"%.*s\": \"%s\"\n",
                                    (int)(eq - kv), kv, eq + 1);
        }
        if (!rc)
                rc = ab_buf_append_str(out, "inputs:\n");
        for (size_t i = 0;
             !rc && i < sizeof(integrations) / sizeof(integrations[0]); i++) {
                const char *name = integrations[i];

                if (!strcmp(name, "network-monitor"))
                        rc = ab_buf_appendf(out,
                                            "  - topics: [\"%s%s\"]\n"
                                            "    integration: "
                                            "\"%s/examples/integrations/"
                                            "network-monitor.yaml\"\n",
                                            c->topic_prefix, name,
                                            c->source_dir);
                else
                        rc = ab_buf_appendf(out,
                                            "  - topics: [\"%s%s\"]\n"
                                            "    integration: %s\n",
                                            c->topic_prefix, name, name);
        }
        if (!rc)
                rc = ab_buf_appendf(
                    out,
                    "output:\n"
                    "  topic: \"%s\"\n"
                    "  source: alertbridge-bench\n"
                    "  policies:\n"
                    "    - {name: \"O&M team\", owner: ops-oncall, when: "
                    "{severity: [P1, P2]}}\n"
                    "    - {name: Default, owner: sre}\n"
                    "dead_letter_topic: \"%s\"\n"
                    "http:\n"
                    "  listen: \"\"\n"
                    "lifecycle:\n"
                    "  max_open_alerts: 0\n"
                    "  expire_interval: 1h\n"
                    "log_level: info\n",
                    c->events_topic, c->dlq_topic);
        if (!rc && c->transform_threads >= 0)
                rc = ab_buf_appendf(out, "transform:\n  threads: %d\n",
                                    c->transform_threads);
        if (!rc && c->state_store)
                rc = ab_buf_appendf(out, "state:\n  store: %s\n",
                                    c->state_store);
        if (!rc && c->guarantee)
                rc = ab_buf_appendf(out, "processing:\n  guarantee: %s\n",
                                    c->guarantee);
        return rc;
}

ab_err_t ab_bench_integrations_load(const char *source_dir,
                                    struct ab_integration *out[AB_BENCH__COUNT],
                                    struct ab_error *err)
{
        ab_err_t rc = AB_OK;

        memset(out, 0, AB_BENCH__COUNT * sizeof(*out));
        for (int k = 0; k < AB_BENCH__COUNT && !rc; k++) {
                const char *name = ab_bench_kind_integration(k);
                char path[1024];

                if (!strcmp(name, "network-monitor")) {
                        snprintf(
                            path, sizeof(path),
                            "%s/examples/integrations/network-monitor.yaml",
                            source_dir);
                        name = path;
                }
                rc = ab_integration_load(name, &out[k], err);
        }
        if (rc)
                ab_bench_integrations_free(out);
        return rc;
}

void ab_bench_integrations_free(struct ab_integration *v[AB_BENCH__COUNT])
{
        for (int k = 0; k < AB_BENCH__COUNT; k++) {
                ab_integration_destroy(v[k]);
                v[k] = NULL;
        }
}

int ab_bench_corpus_verify(const struct ab_bench_corpus *c,
                           struct ab_integration *const integ[AB_BENCH__COUNT],
                           struct ab_transform *tf, FILE *log)
{
        for (size_t i = 0; i < c->n; i++) {
                const struct ab_bench_record *rec = &c->recs[i];
                const struct ab_alert *alerts;
                size_t nalerts;
                struct ab_error err;
                char line[700];
                ab_err_t rc;

                ab_error_clear(&err);
                rc = ab_transform_run(tf, integ[rec->kind],
                                      ab_bench_record_data(c, i), rec->len,
                                      AB_CONTENT_AUTO, &alerts, &nalerts, &err);
                if (!rc != !rec->malformed) {
                        fprintf(log, "corpus record %zu (%s, %s) %s %s\n", i,
                                ab_bench_kind_name(rec->kind),
                                rec->malformed ? "malformed" : "well-formed",
                                rc ? "was rejected:" : "was accepted",
                                rc ? ab_error_format(&err, line, sizeof(line))
                                   : "");
                        return -1;
                }
                for (size_t a = 0; !rc && a < nalerts; a++) {
                        if ((alerts[a].status == AB_ALERT_RESOLVED) ==
                            rec->recovery)
                                continue;
                        fprintf(log, "corpus record %zu (%s) should be %s\n", i,
                                ab_bench_kind_name(rec->kind),
                                rec->recovery ? "a recovery" : "firing");
                        return -1;
                }
        }
        return 0;
}
