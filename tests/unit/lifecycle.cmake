# Alert lifecycle: dedup, auto-clear, recovery, actions, eviction, snapshots.
ab_unit_test(check_lifecycle
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_lifecycle.c
  LIBS ab_lifecycle)
