/* fake_eb.h - runs and scripts tests/support/fake_eventbridge.py. */
#ifndef AB_TEST_FAKE_EB_H
#define AB_TEST_FAKE_EB_H

#include <jansson.h>
#include <sys/types.h>

struct fake_eb {
        pid_t pid;
        int port;
        char dir[64];      /* scratch folder (port file) */
        char endpoint[64]; /* "http://127.0.0.1:<port>" */
};

/**
 * Start the fake with its default credentials (testAccessKeyId /
 * testSecret, bus alerts-bus) plus the NULL-terminated \p extra arguments,
 * and wait until it listens. @returns 0, or -1 (message on stderr).
 */
int fake_eb_start(struct fake_eb *f, const char *const *extra);

/** Stop it (SIGTERM, wait) and remove the scratch folder. */
void fake_eb_stop(struct fake_eb *f);

/** Queue scripted actions: \p actions_json is a JSON array. @returns 0/-1. */
int fake_eb_script(struct fake_eb *f, const char *actions_json);

/** GET /_control/state. @returns a new reference, or NULL. */
json_t *fake_eb_state(struct fake_eb *f);

/** Times \p id was accepted, from a state object. */
long fake_eb_count(json_t *state, const char *id);

#endif
