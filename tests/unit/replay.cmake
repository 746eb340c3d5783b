# Unit suites of replay/ that need no Kafka: range bounds and resolution,
# the record diff, the NDJSON format and golden files, progress lines.
ab_unit_test(check_replay
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_replay.c
          ${CMAKE_CURRENT_LIST_DIR}/check_replay_golden.c
  LIBS ab_replay)
