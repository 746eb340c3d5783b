# The checkers the integration tests apply to logs, /metrics and the Grafana
# dashboard (tests/support/observability.py), tested on their own: each
# rejects what it exists to catch.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME observability_checkers
  COMMAND ${Python3_EXECUTABLE}
          ${CMAKE_CURRENT_LIST_DIR}/../support/test_observability.py)
set_tests_properties(observability_checkers PROPERTIES LABELS unit TIMEOUT 60)
