# Service kit suites (service/): the observability HTTP server.
ab_unit_test(check_http
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_http.c
  LIBS ab_svc PkgConfig::CURL)
