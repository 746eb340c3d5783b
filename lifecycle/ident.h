/* ident.h - fingerprints, alert ids and event ids: the hashes that
 * identify alerts (internal to the lifecycle module). */
#ifndef AB_LC_IDENT_H
#define AB_LC_IDENT_H

#include <stddef.h>
#include <stdint.h>

#include "lifecycle/lifecycle.h"

#define LC_KEY_LEN AB_LIFECYCLE_FP_LEN /* binary id/fingerprint */
/* The fingerprint bytes an alert id starts with. */
#define LC_ROUTE_LEN (LC_KEY_LEN / 2)

/** The name of \p integ, "" when it has none. */
const char *ab_lc_integ_name(const struct ab_integration *integ);

/** The binary id of the alert with fingerprint \p fp opened at event time
 * \p open_ms: fp's first LC_ROUTE_LEN bytes, then as many of SHA-256 over
 * the integration, fp and open_ms (docs/lifecycle.md). */
ab_err_t ab_lc_alert_id(struct ab_lifecycle *lc,
                        const struct ab_integration *integ,
                        const unsigned char fp[LC_KEY_LEN], int64_t open_ms,
                        unsigned char out[LC_KEY_LEN]);

/** The hex id of event number \p seq of type \p type of alert \p id. */
ab_err_t ab_lc_event_id(struct ab_lifecycle *lc,
                        const unsigned char id[LC_KEY_LEN],
                        enum ab_event_type type, uint32_t seq, char *out);

/** The first LC_KEY_LEN bytes of SHA-256 over \p data (snapshot check). */
ab_err_t ab_lc_checksum(struct ab_lifecycle *lc, const void *data, size_t len,
                        unsigned char out[LC_KEY_LEN]);

#endif
