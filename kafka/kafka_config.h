/* kafka_config.h - the `kafka` block every service's configuration shares. */
#ifndef AB_KAFKA_CONFIG_H
#define AB_KAFKA_CONFIG_H

#include <stddef.h>

#include "service/conftab.h"

/*
 * `alertbridge run`, `alertbridge sink` and `alertbridge replay` (through
 * the pipeline's file) read their brokers, group and librdkafka properties
 * from one descriptor sub-table, ab_kafka_conftab, so the keys, their
 * checks and their reference text are written once. A service's table
 * includes it with an AB_CONFTAB_TABLE entry keyed "kafka" at the offset of
 * its struct ab_kafka_config, giving the default of `group` in
 * `.defaults`, and adds its own `kafka.*` keys next to it.
 *
 * Every property map is checked at load: a key alertbridge sets itself
 * (`bootstrap.servers`, `group.id`, `enable.auto.offset.store`) is
 * rejected with the key to use instead, and every other one is tried on a
 * scratch librdkafka configuration, so an unknown property or a bad value
 * fails the load with its key path.
 */
struct ab_kafka_config {
        char *brokers;     /* bootstrap.servers */
        char *group;       /* group.id of the service's consumer */
        char *instance_id; /* group.instance.id and the transactional
                              id's suffix; NULL: dynamic membership */
        struct ab_pipeline_kv *properties; /* every client */
        size_t nproperties;
        struct ab_pipeline_kv *consumer_properties;
        size_t nconsumer_properties;
        struct ab_pipeline_kv *producer_properties;
        size_t nproducer_properties;
};

/* brokers, group, properties, consumer_properties, producer_properties. */
extern const struct ab_conftab ab_kafka_conftab;

enum ab_kafka_client {
        AB_KAFKA_CONSUMER,
        AB_KAFKA_PRODUCER,
};

/**
 * The librdkafka properties of one \p client of \p cfg, as the
 * NULL-terminated name, value pairs ab_kafka_conf_apply() takes, in the
 * order that lets the later win: \p before (pairs, may be NULL: the
 * service's own defaults), kafka.properties, the client's own map
 * (consumer_properties or producer_properties), then \p after (pairs, may
 * be NULL: overrides, e.g. from the command line). An entry of the
 * configuration named \p skip (may be NULL) is left out.
 * @returns an array to ab_free() whose strings are borrowed from the
 *          arguments, or NULL when out of memory.
 */
const char **ab_kafka_client_props(const struct ab_kafka_config *cfg,
                                   enum ab_kafka_client client,
                                   const char *const *before,
                                   const char *const *after, const char *skip);

#endif
