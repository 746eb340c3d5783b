/* kafka_conf.h - librdkafka setup shared by every Kafka client of the project.
 */
#ifndef AB_KAFKA_CONF_H
#define AB_KAFKA_CONF_H

#include <librdkafka/rdkafka.h>

#include "core/err.h"
#include "core/log.h"

/*
 * For the Kafka edges (consumer/, producer/) and the other clients that
 * talk to librdkafka directly (replay/'s group-less reader): builds a
 * librdkafka configuration from our defaults and the user's properties,
 * and routes librdkafka's own log lines into core/log.h.
 */

/**
 * @returns a new configuration (rd_kafka_conf_destroy() it unless it is
 *          handed to rd_kafka_new()) whose logs go to our logger under
 *          `comp=rdkafka`, or NULL when out of memory.
 */
rd_kafka_conf_t *ab_kafka_conf_new(void);

/**
 * The level at which a client's error callback logs error \p code. A
 * broker transport failure (a refused or lost connection) reaches us twice:
 * librdkafka logs it (the FAIL line, under comp=rdkafka with the client's
 * name) and raises the same text as an error; the error's copy is debug,
 * so each failure is one line at warn or error.
 */
enum ab_log_level ab_kafka_error_level(int code);

/** Set one property. @returns AB_OK or AB_ERR_CONFIG naming it. */
ab_err_t ab_kafka_conf_set(rd_kafka_conf_t *conf, const char *name,
                           const char *value, struct ab_error *err);

/**
 * Apply \p pairs (NULL-terminated name, value, name, value, ...; NULL
 * means none) after the defaults, so the user's value wins. A name listed
 * in \p locked (NULL-terminated name, required value pairs; may be NULL)
 * must keep the required value: our delivery guarantees depend on it.
 * @returns AB_OK or AB_ERR_CONFIG naming the property.
 */
ab_err_t ab_kafka_conf_apply(rd_kafka_conf_t *conf, const char *const *pairs,
                             const char *const *locked, struct ab_error *err);

#endif
