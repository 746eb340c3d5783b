/* check_kafka_edges.c - consumer, producer, binding on a real broker: runs
 * the "kafka_edges" suite, with the argument "restart" the "kafka_restart"
 * suite, with "state" the "kafka_state" suite (the stateful pipeline's
 * building blocks). The test cases have a file each
 * (check_kafka_edges.h); kafka_edges_fixture.h says what they share. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/integration/check_kafka_edges.h"
#include "tests/integration/kafka_edges_fixture.h"

static Suite *edges_suite(void)
{
        Suite *s = suite_create("kafka_edges");

        suite_add_tcase(s, kafka_producer_tcase());
        suite_add_tcase(s, kafka_consumer_tcase());
        return s;
}

static Suite *restart_suite(void)
{
        Suite *s = suite_create("kafka_restart");

        suite_add_tcase(s, kafka_restart_tcase());
        return s;
}

static Suite *state_suite(void)
{
        Suite *s = suite_create("kafka_state");

        suite_add_tcase(s, kafka_state_tcase());
        return s;
}

int main(int argc, char **argv)
{
        const char *which = argc > 1 ? argv[1] : "";
        SRunner *sr;
        int failed;

        brokers = getenv("AB_KAFKA_BROKERS");
        if (!brokers || !*brokers) {
                fprintf(stderr, "AB_KAFKA_BROKERS is not set: start the "
                                "broker with scripts/kafka-broker.sh start "
                                "(or run tests/integration/run.sh)\n");
                return EXIT_FAILURE;
        }
        sr = srunner_create(!strcmp(which, "restart") ? restart_suite()
                            : !strcmp(which, "state") ? state_suite()
                                                      : edges_suite());
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
