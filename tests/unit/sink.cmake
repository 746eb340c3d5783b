# EventBridge sink (sink/): signer, batch encoder, PutEvents client against
# the local fake (tests/support/fake_eventbridge.py), and the cross-check of
# the signer against the official Python SDK.
find_package(Python3 REQUIRED COMPONENTS Interpreter)

ab_unit_test(check_sink_sign SOURCES unit/check_sink_sign.c LIBS ab_sink)
ab_unit_test(check_sink_batch SOURCES unit/check_sink_batch.c LIBS ab_sink)
# Also runs `alertbridge sink --check` through its command line.
ab_unit_test(check_sink_config
  SOURCES unit/check_sink_config.c ${CMAKE_SOURCE_DIR}/cli/cmd_sink.c
          ${CMAKE_SOURCE_DIR}/cli/signals.c
          ${CMAKE_SOURCE_DIR}/cli/service_args.c
  LIBS ab_sink)
target_compile_definitions(check_sink_config PRIVATE
  AB_VERSION="${PROJECT_VERSION}")
ab_unit_test(check_sink_eventbridge
  SOURCES unit/check_sink_eventbridge.c support/fake_eb.c
  LIBS ab_sink)
target_compile_definitions(check_sink_eventbridge PRIVATE
  AB_PYTHON3="${Python3_EXECUTABLE}")

# The signer as a command for sign_crosscheck.py.
add_executable(ab_sign_tool support/ab_sign_tool.c)
target_link_libraries(ab_sign_tool PRIVATE ab_sink)
ab_apply_warnings(ab_sign_tool)

# Needs the venv from scripts/sdk-venv.sh (prepared before the tests, no
# network at test time); fails when it is missing. Labelled sdk too, so
# `ctest -L unit -LE sdk` leaves it out on a machine without the venv.
add_test(NAME sink_sign_crosscheck
  COMMAND ${Python3_EXECUTABLE}
          ${CMAKE_CURRENT_SOURCE_DIR}/support/sign_crosscheck.py
          --tool $<TARGET_FILE:ab_sign_tool>)
set_tests_properties(sink_sign_crosscheck PROPERTIES LABELS "unit;sdk"
  TIMEOUT 120)
