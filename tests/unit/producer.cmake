# Unit tests of producer/ (no Kafka needed).
ab_unit_test(check_producer SOURCES unit/check_producer.c LIBS ab_producer)
ab_unit_test(check_dead_letter SOURCES unit/check_dead_letter.c
  LIBS ab_producer)
