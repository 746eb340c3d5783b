# Integration tests of the Kafka edges (consumer/, producer/) against the
# real broker of scripts/kafka-broker.sh; kcat is the client on the other
# side. Run them all with tests/integration/run.sh.
add_executable(check_kafka_edges integration/check_kafka_edges.c
  integration/check_kafka_producer.c integration/check_kafka_consumer.c
  integration/check_kafka_restart.c integration/check_kafka_state.c
  integration/kafka_edges_fixture.c)
target_link_libraries(check_kafka_edges PRIVATE ab_producer ab_consumer
  Threads::Threads
  PkgConfig::CHECK PkgConfig::JANSSON)
target_compile_definitions(check_kafka_edges PRIVATE
  AB_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
ab_apply_warnings(check_kafka_edges)
ab_integration_test(kafka_edges COMMAND check_kafka_edges)
# The stateful pipeline's building blocks: admin, cooperative rebalancing,
# explicit commits, restore reader, transactions.
ab_integration_test(kafka_state COMMAND check_kafka_edges state)
# Stops and restarts the broker (AB_KAFKA_DIR) in the middle of a stream.
ab_integration_test(kafka_broker_restart RESTARTS_BROKER COMMAND check_kafka_edges restart)
