/* credentials.h - the sink's AccessKey, from the environment or a file. */
#ifndef AB_SINK_CREDENTIALS_H
#define AB_SINK_CREDENTIALS_H

#include "core/err.h"
#include "sink/sink_config.h"

/*
 * The secrets live only here, in fixed buffers the owner wipes when done:
 * no copy on the heap, and no error message ever quotes a value (errors
 * name the variable, `$NAME`, or the file's key).
 */
struct ab_sink_credentials {
        char key_id[256];
        char secret[512];
        char token[4096]; /* empty: no STS token */
};

/**
 * Fill \p out from eventbridge.credentials_file when \p cfg sets it, else
 * from the environment variables it names. The key id and secret are
 * required, the token is not.
 * @returns AB_OK, or AB_ERR_CONFIG naming what is missing or too long.
 */
ab_err_t ab_sink_credentials_load(const struct ab_sink_config *cfg,
                                  struct ab_sink_credentials *out,
                                  struct ab_error *err);

/** Overwrite every secret in \p c with zeros. */
void ab_sink_credentials_wipe(struct ab_sink_credentials *c);

#endif
