/* check_replay.h - the test cases check_replay's suite takes from its other
 * files. */
#ifndef AB_CHECK_REPLAY_H
#define AB_CHECK_REPLAY_H

#include <check.h>

/** Golden files: grouping, errors, long lines, stop requests. */
TCase *replay_golden_tcase(void);

#endif
