# Golden cases (tests/fixtures/golden/*) and the JSON Schema checks of
# produced events and integration configs.
ab_unit_test(check_golden
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_golden.c
  LIBS ab_transform)

# Prints a config file as the JSON tree core/conf.c reads (schema tests).
add_executable(ab_conf2json ${CMAKE_CURRENT_LIST_DIR}/../support/conf2json.c)
target_link_libraries(ab_conf2json PRIVATE ab_core)
ab_apply_warnings(ab_conf2json)

# Debian's python3 and python3-jsonschema (scripts/install-deps.sh), even
# when another python3 comes first in PATH. A missing interpreter or
# jsonschema fails these tests; it never skips them.
find_program(AB_PYTHON3 NAMES python3 HINTS /usr/bin)
set(AB_VALIDATE ${CMAKE_CURRENT_LIST_DIR}/../support/validate_events.py)
set(AB_SCHEMAS ${CMAKE_SOURCE_DIR}/schemas)

file(GLOB AB_INTEGRATION_CONFIGS CONFIGURE_DEPENDS
  ${CMAKE_SOURCE_DIR}/integrations/*.yaml
  ${AB_FIXTURES}/golden/*/integration.yaml)
file(GLOB AB_INVALID_CONFIGS CONFIGURE_DEPENDS
  ${AB_FIXTURES}/schema/integration-invalid/*.yaml)
set(AB_CONFIG_ARGS "")
foreach(f ${AB_INTEGRATION_CONFIGS})
  list(APPEND AB_CONFIG_ARGS --valid ${f})
endforeach()
foreach(f ${AB_INVALID_CONFIGS})
  list(APPEND AB_CONFIG_ARGS --invalid ${f})
endforeach()

if(AB_PYTHON3)
  add_test(NAME event_schema
    COMMAND ${AB_PYTHON3} ${AB_VALIDATE}
      --schema ${AB_SCHEMAS}/event.schema.json
      --valid-cmd "$<TARGET_FILE:check_golden> --dump"
      --valid-cmd "$<TARGET_FILE:check_event> --dump"
      --invalid ${AB_FIXTURES}/schema/invalid-events.ndjson)
  add_test(NAME integration_schema
    COMMAND ${AB_PYTHON3} ${AB_VALIDATE}
      --schema ${AB_SCHEMAS}/integration.schema.json
      --conf2json $<TARGET_FILE:ab_conf2json>
      ${AB_CONFIG_ARGS})
else()
  foreach(t event_schema integration_schema)
    add_test(NAME ${t} COMMAND ${CMAKE_COMMAND} -E false)
  endforeach()
  message(WARNING "python3 not found: event_schema and integration_schema will fail")
endif()
set_tests_properties(event_schema integration_schema PROPERTIES
  LABELS unit TIMEOUT 300)
