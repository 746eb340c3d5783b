# The shared kafka block (kafka/): the pipeline's and the sink's
# configurations check it the same way; the properties a client gets.
ab_unit_test(check_kafka_config
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_kafka_config.c
  LIBS ab_pipeline ab_sink)
