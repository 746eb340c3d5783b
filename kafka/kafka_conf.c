/* kafka_conf.c - librdkafka defaults, user properties and log routing. */
#include "kafka/kafka_conf.h"

#include <string.h>

#include "core/log.h"

static void log_cb(const rd_kafka_t *rk, int level, const char *fac,
                   const char *buf)
{
        char quoted[64];

        AB_LOG(ab_log_from_syslog(level), "rdkafka", buf, "client=%s fac=%s",
               ab_log_quote(rd_kafka_name(rk), quoted, sizeof(quoted)), fac);
}

enum ab_log_level ab_kafka_error_level(int code)
{
        return code == RD_KAFKA_RESP_ERR__TRANSPORT ? AB_LOG_DEBUG
                                                    : AB_LOG_WARN;
}

rd_kafka_conf_t *ab_kafka_conf_new(void)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();

        if (conf)
                rd_kafka_conf_set_log_cb(conf, log_cb);
        return conf;
}

ab_err_t ab_kafka_conf_set(rd_kafka_conf_t *conf, const char *name,
                           const char *value, struct ab_error *err)
{
        char errstr[256];

        if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK)
                return ab_error_set(err, AB_ERR_CONFIG, name, "%s", errstr);
        return AB_OK;
}

static const char *locked_value(const char *const *locked, const char *name)
{
        for (; locked && locked[0]; locked += 2)
                if (!strcmp(locked[0], name))
                        return locked[1];
        return NULL;
}

ab_err_t ab_kafka_conf_apply(rd_kafka_conf_t *conf, const char *const *pairs,
                             const char *const *locked, struct ab_error *err)
{
        for (; pairs && pairs[0]; pairs += 2) {
                const char *required = locked_value(locked, pairs[0]);
                ab_err_t rc;

                if (!pairs[1])
                        return ab_error_set(err, AB_ERR_CONFIG, pairs[0],
                                            "property has no value");
                if (required && strcmp(pairs[1], required))
                        return ab_error_set(err, AB_ERR_CONFIG, pairs[0],
                                            "must be %s: alertbridge's "
                                            "delivery guarantee depends on it",
                                            required);
                rc = ab_kafka_conf_set(conf, pairs[0], pairs[1], err);
                if (rc)
                        return rc;
        }
        return AB_OK;
}
