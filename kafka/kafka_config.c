/* kafka_config.c - the shared `kafka` descriptor sub-table and its checks. */
#include "kafka/kafka_config.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <string.h>

#include "core/conf.h"
#include "core/mem.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Keys alertbridge sets itself: the dedicated keys, and the offset store,
 * which must stay manual for at-least-once delivery.
 */
static const char *const owned_keys[][2] = {
    {"bootstrap.servers", "set kafka.brokers instead"},
    {"metadata.broker.list", "set kafka.brokers instead"},
    {"group.id", "set kafka.group instead"},
    {"enable.auto.offset.store",
     "alertbridge stores offsets itself, after delivery"},
};

/* Each property is tried on a scratch librdkafka configuration. */
static ab_err_t check_props(const void *ctx, const struct ab_conftab_prop *p,
                            void *obj, const char *path, struct ab_error *err)
{
        const struct ab_pipeline_kv *kv =
            *(struct ab_pipeline_kv **)((char *)obj + p->offset);
        size_t n              = *(size_t *)((char *)obj + p->count_offset);
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char sub[AB_CONFTAB_PATH_SIZE];
        char errstr[256];
        ab_err_t rc = AB_OK;

        (void)ctx;
        if (!conf)
                return ab_error_set(err, AB_ERR_NOMEM, path, "out of memory");
        for (size_t i = 0; i < n && !rc; i++) {
                ab_conf_path_key(sub, sizeof(sub), path, kv[i].key);
                for (size_t k = 0; k < NELEM(owned_keys); k++) {
                        if (!strcmp(kv[i].key, owned_keys[k][0]))
                                rc = ab_error_set(err, AB_ERR_CONFIG, sub,
                                                  "not allowed here: %s",
                                                  owned_keys[k][1]);
                }
                if (!rc &&
                    rd_kafka_conf_set(conf, kv[i].key, kv[i].value, errstr,
                                      sizeof(errstr)) != RD_KAFKA_CONF_OK)
                        rc =
                            ab_error_set(err, AB_ERR_CONFIG, sub, "%s", errstr);
        }
        rd_kafka_conf_destroy(conf);
        return rc;
}

#define KC(f) offsetof(struct ab_kafka_config, f)

static const struct ab_conftab_prop props[] = {
    {.key    = "brokers",
     .type   = AB_CONFTAB_STRING,
     .offset = KC(brokers),
     .min    = 1,
     .flags  = AB_CONFTAB_REQUIRED,
     .desc   = "Bootstrap brokers: a comma-separated list of `host:port` "
               "(librdkafka `bootstrap.servers`)."},
    {.key    = "group",
     .type   = AB_CONFTAB_STRING,
     .offset = KC(group),
     .min    = 1,
     .desc   = "Consumer group (`group.id`). Instances of one deployment "
               "share it and split the input partitions; the pipeline and "
               "the sink each have their own, so EventBridge trouble never "
               "stalls normalization."},
    {.key    = "instance_id",
     .type   = AB_CONFTAB_STRING,
     .offset = KC(instance_id),
     .min    = 1,
     .desc   = "Static membership: this member's `group.instance.id`, unique "
               "in the group and kept across restarts. A restart within "
               "`session.timeout.ms` keeps the member's partitions (no "
               "rebalance). In the pipeline's `exactly_once` it also names "
               "the transactional id `<group>-<instance_id>`, so a "
               "restarted member fences its predecessor at once; without "
               "it a random id is used per start."},
    {.key          = "properties",
     .type         = AB_CONFTAB_MAP,
     .offset       = KC(properties),
     .count_offset = KC(nproperties),
     .check        = check_props,
     .desc         = "Any librdkafka property (SASL, SSL, timeouts, ...) for "
                     "both the consumer and the producer; values are "
                     "checked by librdkafka at load. Keep secrets out of "
                     "the file with `${ENV_VAR}`. `bootstrap.servers`, "
                     "`group.id` and `enable.auto.offset.store` are set by "
                     "alertbridge and rejected here."},
    {.key          = "consumer_properties",
     .type         = AB_CONFTAB_MAP,
     .offset       = KC(consumer_properties),
     .count_offset = KC(nconsumer_properties),
     .check        = check_props,
     .desc         = "librdkafka properties for the consumer only, applied "
                     "after `kafka.properties`."},
    {.key          = "producer_properties",
     .type         = AB_CONFTAB_MAP,
     .offset       = KC(producer_properties),
     .count_offset = KC(nproducer_properties),
     .check        = check_props,
     .desc         = "librdkafka properties for the producer only, applied "
                     "after `kafka.properties`."},
};

const struct ab_conftab ab_kafka_conftab = {props, NELEM(props),
                                            sizeof(struct ab_kafka_config)};

static size_t count_pairs(const char *const *pairs)
{
        size_t n = 0;

        while (pairs && pairs[2 * n])
                n++;
        return n;
}

static size_t append_pairs(const char **v, size_t o, const char *const *pairs)
{
        for (; pairs && pairs[0]; pairs += 2) {
                v[o++] = pairs[0];
                v[o++] = pairs[1];
        }
        return o;
}

static size_t append_map(const char **v, size_t o,
                         const struct ab_pipeline_kv *kv, size_t n,
                         const char *skip)
{
        for (size_t i = 0; i < n; i++) {
                if (skip && !strcmp(kv[i].key, skip))
                        continue;
                v[o++] = kv[i].key;
                v[o++] = kv[i].value;
        }
        return o;
}

const char **ab_kafka_client_props(const struct ab_kafka_config *cfg,
                                   enum ab_kafka_client client,
                                   const char *const *before,
                                   const char *const *after, const char *skip)
{
        bool consumer = client == AB_KAFKA_CONSUMER;
        const struct ab_pipeline_kv *own =
            consumer ? cfg->consumer_properties : cfg->producer_properties;
        size_t nown =
            consumer ? cfg->nconsumer_properties : cfg->nproducer_properties;
        size_t n =
            count_pairs(before) + cfg->nproperties + nown + count_pairs(after);
        const char **v = ab_calloc(2 * n + 1, sizeof(*v));
        size_t o       = 0;

        if (!v)
                return NULL;
        o = append_pairs(v, o, before);
        o = append_map(v, o, cfg->properties, cfg->nproperties, skip);
        o = append_map(v, o, own, nown, skip);
        append_pairs(v, o, after);
        return v;
}
