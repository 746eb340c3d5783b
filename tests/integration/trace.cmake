# Trace context propagation (issue 13, item 15) against a real broker
# (label integration): test_trace.py sends records with traceparent
# headers through both loops of `alertbridge run` at once and checks the
# events' distributed-tracing attributes and the dead letters' headers.
# It reuses test_pipeline.py's helpers.

find_program(AB_PYTHON3 NAMES python3 HINTS /usr/bin)
if(NOT AB_PYTHON3)
  set(AB_PYTHON3 python3)
endif()

ab_integration_test(pipeline_trace_context
  COMMAND ${AB_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/test_trace.py
    --alertbridge $<TARGET_FILE:alertbridge>
    --workdir ${CMAKE_CURRENT_BINARY_DIR}/integration/trace
    TraceContext)
# It reads the outputs with the CloudEvents SDK too (the venv of
# scripts/sdk-venv.sh): labelled sdk as well, like sink_sign_crosscheck.
set_tests_properties(pipeline_trace_context PROPERTIES
  LABELS "integration;sdk")
