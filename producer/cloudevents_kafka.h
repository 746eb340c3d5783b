/* cloudevents_kafka.h - the CloudEvents Kafka protocol binding. */
#ifndef AB_CLOUDEVENTS_KAFKA_H
#define AB_CLOUDEVENTS_KAFKA_H

#include <stddef.h>

#include "core/err.h"
#include "core/str.h"
#include "producer/headers.h"

/*
 * Turns one CloudEvent in the JSON event format (what the transform
 * writes) into a Kafka record's headers and value, per the CloudEvents
 * Kafka protocol binding:
 *
 *   structured  header content-type: application/cloudevents+json;
 *               charset=UTF-8; the value is the event JSON unchanged.
 *   binary      header ce_<name> for every attribute and extension
 *               (strings as their text, numbers and booleans as written,
 *               null attributes omitted); header content-type is the
 *               datacontenttype (application/json when the event has
 *               `data` but no datacontenttype, as the JSON format
 *               implies); the value is the data: the JSON text of `data`
 *               under a JSON media type (*\/json, *\/ *+json), the string
 *               itself under any other, the decoded bytes of
 *               `data_base64`, or no value when the event has no data.
 *
 * The record key is not part of the binding: the caller keys records by
 * fingerprint.
 */

enum ab_ce_mode {
        AB_CE_STRUCTURED = 0,
        AB_CE_BINARY,
};

#define AB_CE_CONTENT_TYPE_HEADER "content-type"
#define AB_CE_STRUCTURED_TYPE     "application/cloudevents+json; charset=UTF-8"

/** "structured" or "binary" -> \p out. @returns 0, or -1 for other names. */
int ab_ce_mode_parse(const char *name, enum ab_ce_mode *out);
/** @returns "structured" or "binary". */
const char *ab_ce_mode_name(enum ab_ce_mode mode);

/* A reusable encoder: it keeps its JSON tape and value buffer between
 * events, so encoding allocates nothing once warm. One per thread. */
struct ab_ce_kafka;

/** @returns a new encoder, or NULL when out of memory. */
struct ab_ce_kafka *ab_ce_kafka_new(void);
/** NULL-safe. */
void ab_ce_kafka_destroy(struct ab_ce_kafka *enc);

/**
 * Encode the event JSON \p event (\p len bytes) in \p mode: append its
 * headers to \p headers (which the caller resets between records) and set
 * \p value to the record value. \p value borrows from \p event or from the
 * encoder and stays valid until the next encode or until \p event changes;
 * value.ptr NULL means no value.
 * @returns AB_OK; AB_ERR_DECODE when the text is not a JSON object, an
 *          attribute is not a scalar, or data_base64 is not Base64
 *          (nothing is added to \p headers then); AB_ERR_NOMEM (some
 *          headers may have been added: reset them).
 */
ab_err_t ab_ce_kafka_encode(struct ab_ce_kafka *enc, enum ab_ce_mode mode,
                            const char *event, size_t len,
                            struct ab_headers *headers, struct ab_str *value,
                            struct ab_error *err);

#endif
