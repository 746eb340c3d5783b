/* outputs.c - the topics a pipeline writes, looked up before its first
 * record (ab_producer_prepare_topic() says why). */
#include "pipeline/outputs.h"

#include <string.h>

#include "core/log.h"

/* The i-th topic written: the output topic, the dead-letter topic, each
 * policy's topic, the extra ones; NULL for an unset one. */
static const char *topic_at(const struct ab_pipeline_config *cfg,
                            const char *const *extra, size_t i)
{
        size_t npol = cfg->output.npolicies;

        if (i == 0)
                return cfg->output.topic;
        if (i == 1)
                return cfg->dead_letter_topic;
        if (i - 2 < npol)
                return ab_pipeline_policy_topic(cfg,
                                                &cfg->output.policies[i - 2]);
        return extra[i - 2 - npol];
}

ab_err_t ab_outputs_prepare(struct ab_producer *p,
                            const struct ab_pipeline_config *cfg,
                            const char *const *extra, size_t nextra,
                            struct ab_error *err)
{
        size_t n = 2 + cfg->output.npolicies + nextra;
        struct ab_error e2;
        const char *topic;
        bool seen;
        ab_err_t rc;

        for (size_t i = 0; i < n; i++) {
                topic = topic_at(cfg, extra, i);
                seen  = !topic;
                for (size_t j = 0; !seen && j < i; j++) {
                        const char *t = topic_at(cfg, extra, j);

                        seen = t && !strcmp(t, topic);
                }
                if (seen)
                        continue;
                ab_error_clear(&e2);
                rc = ab_producer_prepare_topic(p, topic, AB_OUTPUTS_LOOKUP_MS,
                                               &e2);
                if (rc == AB_ERR_RETRY) {
                        AB_WARN("producer",
                                "topic not looked up at start: its first "
                                "records may wait up to a second",
                                "topic=%s error=\"%s\"", topic, e2.text);
                        continue;
                }
                if (rc) {
                        *err = e2;
                        return rc;
                }
        }
        return AB_OK;
}
