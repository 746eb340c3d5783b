# Command-line checks that need only the alertbridge binary.
add_test(NAME cli_limits
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/cli_limits.sh $<TARGET_FILE:alertbridge>)
set_tests_properties(cli_limits PROPERTIES LABELS unit TIMEOUT 120)
add_test(NAME cli_options
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/cli_options.sh $<TARGET_FILE:alertbridge>)
set_tests_properties(cli_options PROPERTIES LABELS unit TIMEOUT 180)
# README.md's and docs/*.md's offline commands, links and YAML examples.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME docs_commands
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/scripts/check-docs.py
          --alertbridge $<TARGET_FILE:alertbridge>)
set_tests_properties(docs_commands PROPERTIES LABELS unit TIMEOUT 300)
