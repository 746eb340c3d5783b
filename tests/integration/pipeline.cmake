# The real `alertbridge run` against a real Kafka broker (label
# integration): test_pipeline.py drives the binary with Debian's
# python3-confluent-kafka and checks what lands on the topics. One ctest
# entry per test class, so each area passes or fails (and is timed) on its
# own. The broker comes from AB_KAFKA_BROKERS (and AB_KAFKA_DIR for the
# restart test): `eval "$(scripts/kafka-broker.sh start)"` before
# `ctest -L integration`. Without it these tests fail; they never skip.

# Debian's python3 (it has confluent_kafka and jsonschema), even when
# another python3 comes first in PATH.
find_program(AB_PYTHON3 NAMES python3 HINTS /usr/bin)
if(NOT AB_PYTHON3)
  set(AB_PYTHON3 python3)
endif()

set(AB_PIPELINE_IT_WORKDIR ${CMAKE_CURRENT_BINARY_DIR}/integration/pipeline)

# ctest name -> test class in test_pipeline.py
set(AB_PIPELINE_IT_CASES
  pipeline_mapped_events:MappedEvents
  pipeline_policy_routing:PolicyRouting
  pipeline_bindings:Bindings
  pipeline_dead_letters:DeadLetters
  pipeline_oversize_dead_letter:OversizeDeadLetter
  pipeline_integration_header:IntegrationHeader
  pipeline_broker_restart:BrokerRestart
  pipeline_graceful_shutdown:GracefulShutdown
  pipeline_rebalance:Rebalance
  pipeline_transform_threads:TransformThreads
  pipeline_observability:Observability
  pipeline_backpressure:Backpressure
  pipeline_shutdown_broker_down:BrokerDownShutdown)

foreach(case ${AB_PIPELINE_IT_CASES})
  string(REPLACE ":" ";" parts ${case})
  list(GET parts 0 name)
  list(GET parts 1 class)
  set(restarts)
  if(class STREQUAL "BrokerRestart")
    set(restarts RESTARTS_BROKER)
  endif()
  ab_integration_test(${name} ${restarts}
    COMMAND ${AB_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/test_pipeline.py
      --alertbridge $<TARGET_FILE:alertbridge>
      --workdir ${AB_PIPELINE_IT_WORKDIR}
      ${class})
endforeach()

# Hot reload (docs/reloading.md): a stream of records through a rewritten
# integration file, SIGHUP and POST /-/reload, in the memory and the
# two-stage loop (tests/integration/test_reload.py).
foreach(case memory_loop stateful_loop)
  ab_integration_test(reload_${case}
    COMMAND ${AB_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/test_reload.py
      --alertbridge $<TARGET_FILE:alertbridge>
      --workdir ${AB_PIPELINE_IT_WORKDIR}
      Reload.test_${case})
endforeach()

# What an operator reads from a real run (test_operations.py): metrics by
# integration, latency, build and process metrics, promtool, the Grafana
# dashboard's metric names, JSON and strict logfmt logs.
set(AB_OPERATIONS_IT_CASES
  operations_latency:Operations.test_latency_measures_processing_not_the_idle_poll
  operations_metrics:Operations.test_metrics_by_integration_promtool_and_the_dashboard
  operations_refused_once:Operations.test_a_refused_connection_is_logged_once)

foreach(case ${AB_OPERATIONS_IT_CASES})
  string(REPLACE ":" ";" parts ${case})
  list(GET parts 0 name)
  list(GET parts 1 test)
  ab_integration_test(${name}
    COMMAND ${AB_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/test_operations.py
      --alertbridge $<TARGET_FILE:alertbridge>
      --workdir ${AB_PIPELINE_IT_WORKDIR}
      ${test})
endforeach()
