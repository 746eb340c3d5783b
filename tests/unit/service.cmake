# Service kit suites (service/): the observability HTTP server, with
# POST /-/reload.
ab_unit_test(check_http
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_http.c
  LIBS ab_svc PkgConfig::CURL Threads::Threads)
# Config descriptor tables: a table that includes another one.
ab_unit_test(check_conftab
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_conftab.c
  LIBS ab_svc)
