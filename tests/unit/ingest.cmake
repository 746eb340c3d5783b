# Webhook ingest suites (ingest/): config checks and the answers that need
# no broker (an unreachable one: 503 and not ready).
ab_unit_test(check_ingest
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_ingest.c
  LIBS ab_ingest PkgConfig::CURL)
