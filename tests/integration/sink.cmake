# The EventBridge sink against a real Kafka broker and the local fake
# EventBridge (label integration): test_sink.py produces events with
# Debian's python3-confluent-kafka, runs the sink and checks what the fake
# accepted, what was committed and what was dead-lettered. One ctest entry
# per test class. Needs AB_KAFKA_BROKERS (scripts/kafka-broker.sh start);
# without it the tests fail, they never skip.

find_program(AB_SINK_IT_PYTHON3 NAMES python3 HINTS /usr/bin NO_DEFAULT_PATH)
if(NOT AB_SINK_IT_PYTHON3)
  set(AB_SINK_IT_PYTHON3 python3)
endif()

set(AB_SINK_IT_CASES
  sink_exactly_once:ExactlyOnce
  sink_failures_recovery:FailuresThenRecovery
  sink_partial_failures:PartialFailures
  sink_kill_restart:KillAndRestart
  sink_shutdown_during_outage:ShutdownDuringOutage
  sink_dead_letters:DeadLetters
  sink_oversize_dead_letter:OversizeDeadLetter
  sink_permanent_stop:PermanentStop
  sink_observability:Observability)

foreach(case ${AB_SINK_IT_CASES})
  string(REPLACE ":" ";" parts ${case})
  list(GET parts 0 name)
  list(GET parts 1 class)
  ab_integration_test(${name}
    COMMAND ${AB_SINK_IT_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/test_sink.py
      "--sink=$<TARGET_FILE:alertbridge> sink"
      --workdir ${CMAKE_CURRENT_BINARY_DIR}/integration/sink
      ${class})
endforeach()
