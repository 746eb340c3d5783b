/* build_info.h - the version and git commit this binary was built from. */
#ifndef AB_BUILD_INFO_H
#define AB_BUILD_INFO_H

/* Written at build time by cmake/build_info.cmake: the project version and
 * the short commit hash of the source tree ("unknown" outside a git tree). */
extern const char ab_build_version[];
extern const char ab_build_commit[];

#endif
