# Alert lifecycle: dedup, auto-clear, recovery, actions, eviction, snapshots.
ab_unit_test(check_lifecycle
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_lifecycle.c
  LIBS ab_lifecycle)
ab_unit_test(check_lifecycle_faults
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_lifecycle_faults.c
  LIBS ab_lifecycle)
