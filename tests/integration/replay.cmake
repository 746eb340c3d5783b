# `alertbridge replay` against a real Kafka broker (label integration):
# test_replay.py fills topics with known payloads and explicit timestamps
# (python3-confluent-kafka), replays ranges of them and checks the NDJSON,
# the summaries, the --expect / --compare reports and the exit statuses.
# One ctest entry per test class. The broker comes from AB_KAFKA_BROKERS
# (tests/integration/run.sh starts one); without it the tests fail.

# Debian's python3 (it has confluent_kafka), even when another python3
# comes first in PATH.
find_program(AB_PYTHON3 NAMES python3 HINTS /usr/bin)
if(NOT AB_PYTHON3)
  set(AB_PYTHON3 python3)
endif()

set(AB_REPLAY_IT_WORKDIR ${CMAKE_CURRENT_BINARY_DIR}/integration/replay)

# ctest name -> test class in test_replay.py
set(AB_REPLAY_IT_CASES
  replay_ranges:ByOffsetAndTime
  replay_determinism:Determinism
  replay_golden:Golden
  replay_compare:Compare
  replay_malformed:Malformed
  replay_output_topic:OutputTopic
  replay_errors:Errors
  replay_interrupt:Interrupt)

foreach(case ${AB_REPLAY_IT_CASES})
  string(REPLACE ":" ";" parts ${case})
  list(GET parts 0 name)
  list(GET parts 1 class)
  ab_integration_test(${name}
    COMMAND ${AB_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/test_replay.py
      --alertbridge $<TARGET_FILE:alertbridge>
      --workdir ${AB_REPLAY_IT_WORKDIR}
      ${class})
endforeach()
