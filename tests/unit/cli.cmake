# Command-line checks that need only the alertbridge binary.
add_test(NAME cli_limits
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/cli_limits.sh $<TARGET_FILE:alertbridge>)
set_tests_properties(cli_limits PROPERTIES LABELS unit TIMEOUT 120)
add_test(NAME cli_options
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/cli_options.sh $<TARGET_FILE:alertbridge>)
set_tests_properties(cli_options PROPERTIES LABELS unit TIMEOUT 180)
