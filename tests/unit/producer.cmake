# Unit tests of producer/ (no Kafka needed).
ab_unit_test(check_producer SOURCES unit/check_producer.c LIBS ab_producer)
