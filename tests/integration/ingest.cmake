# Webhook ingest against the real Kafka broker (label integration):
# test_ingest.py runs `alertbridge ingest` and `alertbridge run` with an
# ingest: section, a real Prometheus Alertmanager, and (BrokerOutage) a
# private broker of its own that it stops and restarts. One ctest entry per
# test class. Needs AB_KAFKA_BROKERS; without it the tests fail, never skip.

find_program(AB_INGEST_IT_PYTHON3 NAMES python3 HINTS /usr/bin NO_DEFAULT_PATH)
if(NOT AB_INGEST_IT_PYTHON3)
  set(AB_INGEST_IT_PYTHON3 python3)
endif()

foreach(case ingest_status_codes:StatusCodes ingest_alertmanager:Alertmanager
             ingest_broker_outage:BrokerOutage)
  string(REPLACE ":" ";" parts ${case})
  list(GET parts 0 name)
  list(GET parts 1 class)
  ab_integration_test(${name}
    COMMAND ${AB_INGEST_IT_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/test_ingest.py
      --alertbridge $<TARGET_FILE:alertbridge>
      --workdir ${CMAKE_CURRENT_BINARY_DIR}/integration/ingest
      ${class})
endforeach()
