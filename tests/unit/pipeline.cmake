# Pipeline module suites: the metrics registry and the pipeline's metric
# set, the pipeline configuration (and the generated docs/CONFIGURATION.md), the
# transform pool and the processor split it drives.
ab_unit_test(check_metrics
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_metrics.c
  LIBS ab_pipeline)
ab_unit_test(check_pipeline_config
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_pipeline_config.c
  LIBS ab_pipeline)
ab_unit_test(check_transform_pool
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_transform_pool.c
  LIBS ab_pipeline)
ab_unit_test(check_processor
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_processor.c
  LIBS ab_pipeline)
# Trace context: which events carry an input record's traceparent.
ab_unit_test(check_processor_trace
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_processor_trace.c
  LIBS ab_pipeline)
ab_unit_test(check_processor_faults
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_processor_faults.c
  LIBS ab_pipeline)
ab_unit_test(check_config_faults
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_config_faults.c
  LIBS ab_pipeline)
# The records of the internal alerts topic (golden bytes in
# tests/fixtures/alert_record).
ab_unit_test(check_alert_record
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_alert_record.c
  LIBS ab_pipeline)
# Time and memory per record: linear in the alerts, bounded by the
# integration.
ab_unit_test(check_processor_bounds
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_processor_bounds.c
  LIBS ab_pipeline)
# The two-stage pipeline without a broker: the processor's map and
# lifecycle stages, the per-partition store registry.
ab_unit_test(check_stateful
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_stateful.c
  LIBS ab_pipeline)
# The sends exactly_once holds while a commit is in flight: order,
# content, bounds, resumed replay.
ab_unit_test(check_deferred
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_deferred.c
  LIBS ab_pipeline)
# Hot reload: which keys reload, validate-then-swap, a bad file keeps the
# running config, open alerts across a reload.
ab_unit_test(check_reload
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_reload.c
  LIBS ab_pipeline)
