# The shared kafka block (kafka/): the pipeline's and the sink's
# configurations check it the same way; the properties a client gets.
ab_unit_test(check_kafka_config
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_kafka_config.c
  LIBS ab_pipeline ab_sink)
# The stateful pipeline's Kafka building blocks, where no broker is needed.
ab_unit_test(check_kafka_blocks
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_kafka_blocks.c
  LIBS ab_consumer ab_producer)
