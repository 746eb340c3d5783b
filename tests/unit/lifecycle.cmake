# Alert lifecycle: dedup, auto-clear, recovery, actions, eviction, snapshots.
# One suite; each test case but "state" has a file of its own.
ab_unit_test(check_lifecycle
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_lifecycle.c
          ${CMAKE_CURRENT_LIST_DIR}/check_lifecycle_fingerprint.c
          ${CMAKE_CURRENT_LIST_DIR}/check_lifecycle_time.c
          ${CMAKE_CURRENT_LIST_DIR}/check_lifecycle_actions.c
          ${CMAKE_CURRENT_LIST_DIR}/check_lifecycle_bounds.c
          ${CMAKE_CURRENT_LIST_DIR}/check_lifecycle_replay.c
          ${CMAKE_CURRENT_LIST_DIR}/check_lifecycle_output.c
          ${CMAKE_CURRENT_LIST_DIR}/check_lifecycle_changelog.c
          ${CMAKE_CURRENT_LIST_DIR}/check_lifecycle_arena.c
          ${CMAKE_CURRENT_LIST_DIR}/lifecycle_fixture.c
  LIBS ab_lifecycle)
target_include_directories(check_lifecycle PRIVATE ${XXHASH_INCLUDE_DIRS})
ab_unit_test(check_lifecycle_faults
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_lifecycle_faults.c
  LIBS ab_lifecycle)
