# Unit tests of consumer/ (no Kafka needed).
ab_unit_test(check_offsets SOURCES unit/check_offsets.c LIBS ab_consumer)
ab_unit_test(check_consumer SOURCES unit/check_consumer.c LIBS ab_consumer)
