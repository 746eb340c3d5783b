/* outputs.h - the topics a pipeline writes, looked up before its first
 * record. */
#ifndef AB_PIPELINE_OUTPUTS_H
#define AB_PIPELINE_OUTPUTS_H

#include <stddef.h>

#include "core/err.h"
#include "pipeline/config.h"
#include "producer/producer.h"

/* How long the lookup of one topic may take at start. */
#define AB_OUTPUTS_LOOKUP_MS 5000

/**
 * ab_producer_prepare_topic() for every topic \p cfg sends to (the output
 * topic, each policy's topic, the dead-letter topic) and the \p nextra
 * topics of \p extra, each once. A lookup that fails or times out is
 * logged and left to librdkafka (its records may then wait up to a
 * second); other errors are returned.
 * @returns AB_OK, or AB_ERR_KAFKA / AB_ERR_NOMEM with \p err filled.
 */
ab_err_t ab_outputs_prepare(struct ab_producer *p,
                            const struct ab_pipeline_config *cfg,
                            const char *const *extra, size_t nextra,
                            struct ab_error *err);

#endif
