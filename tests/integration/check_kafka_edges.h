/* check_kafka_edges.h - the test cases of the Kafka edge suites, one file
 * each; check_kafka_edges.c assembles them. */
#ifndef AB_TEST_CHECK_KAFKA_EDGES_H
#define AB_TEST_CHECK_KAFKA_EDGES_H

#include <check.h>

TCase *kafka_producer_tcase(void); /* check_kafka_producer.c */
TCase *kafka_consumer_tcase(void); /* check_kafka_consumer.c */
TCase *kafka_restart_tcase(void);  /* check_kafka_restart.c */
TCase *kafka_state_tcase(void);    /* check_kafka_state.c */

#endif
