# Service kit suites (service/): the observability HTTP server.
ab_unit_test(check_http
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_http.c
  LIBS ab_svc PkgConfig::CURL)
# Config descriptor tables: a table that includes another one.
ab_unit_test(check_conftab
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_conftab.c
  LIBS ab_svc)
# POST /-/reload: token, methods, suspension until the owner answers.
ab_unit_test(check_http_reload
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_http_reload.c
  LIBS ab_svc PkgConfig::CURL Threads::Threads)
