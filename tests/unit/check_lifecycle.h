/* check_lifecycle.h - the test cases of the lifecycle suite, one file each;
 * check_lifecycle.c assembles them. */
#ifndef AB_TEST_CHECK_LIFECYCLE_H
#define AB_TEST_CHECK_LIFECYCLE_H

#include <check.h>

TCase *lifecycle_fingerprint_tcase(void); /* check_lifecycle_fingerprint.c */
TCase *lifecycle_time_tcase(void);        /* check_lifecycle_time.c */
TCase *lifecycle_actions_tcase(void);     /* check_lifecycle_actions.c */
TCase *lifecycle_bounds_tcase(void);      /* check_lifecycle_bounds.c */
TCase *lifecycle_replay_tcase(void);      /* check_lifecycle_replay.c */
TCase *lifecycle_output_tcase(void);      /* check_lifecycle_output.c */
TCase *lifecycle_changelog_tcase(void);   /* check_lifecycle_changelog.c */
TCase *lifecycle_arena_tcase(void);       /* check_lifecycle_arena.c */

#endif
