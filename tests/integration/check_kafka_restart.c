/* check_kafka_restart.c - Kafka edge test that stops and restarts the broker
 * (AB_KAFKA_DIR) in the middle of a stream: nothing is lost. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/integration/check_kafka_edges.h"
#include "tests/integration/kafka_edges_fixture.h"

static void broker_script(const char *verb)
{
        free(run("%s/scripts/kafka-broker.sh %s >&2", AB_SOURCE_DIR, verb));
}

/* Consume until \p want distinct values of 0..N-1 were seen, registering
 * and completing each record so the tracker's offsets move. */
static void consume_values(struct ab_consumer *c, struct ab_offsets *t,
                           int *seen, int n, int want)
{
        double end   = now_s() + 2 * DEADLINE_S;
        int distinct = 0;
        struct ab_error err;

        for (int i = 0; i < n; i++)
                distinct += seen[i] > 0;
        while (distinct < want && now_s() < end) {
                struct ab_record *r = NULL;
                struct ab_offsets_entry *e;
                int i;

                ck_assert_int_eq(ab_consumer_poll(c, 200, &r, &err), AB_OK);
                if (!r)
                        continue;
                i = (int)strtol(ab_record_value(r).ptr, NULL, 10);
                ck_assert_int_lt(i, n);
                if (!seen[i]++)
                        distinct++;
                ck_assert_int_eq(ab_offsets_register(t, ab_record_topic(r), 0,
                                                     ab_record_offset(r), &e,
                                                     &err),
                                 AB_OK);
                ab_offsets_release(e);
                ab_record_destroy(r);
        }
        ck_assert_int_eq(distinct, want);
}

START_TEST(broker_restart_loses_nothing)
{
        enum { N = 40 };
        struct reports rep = {0};
        struct ab_producer *p;
        struct ab_offsets *t = ab_offsets_new(128);
        struct ab_consumer *c;
        struct ab_error err;
        char topic[128], value[32];
        int seen[N] = {0};

        ck_assert_msg(getenv("AB_KAFKA_DIR"), "AB_KAFKA_DIR is not set");
        unique_name(topic, sizeof(topic), "restart");
        create_topic(topic, 1);
        p = producer(&rep, NULL);
        c = consumer(topic, topic, t, consumer_props);

        /* The first half flows through before the outage. */
        for (int i = 0; i < N; i++) {
                if (i == N / 2) {
                        ck_assert_int_eq(
                            ab_producer_flush(p, DEADLINE_S * 1000, &err),
                            AB_OK);
                        consume_values(c, t, seen, N, N / 2);
                        ck_assert_int_eq(ab_consumer_commit(c, &err), AB_OK);
                        broker_script("stop");
                }
                snprintf(value, sizeof(value), "%d", i);
                ck_assert_int_eq(ab_producer_send(p, topic, AB_STR_NULL,
                                                  ab_str_c(value), NULL,
                                                  (void *)(intptr_t)i, &err),
                                 AB_OK);
        }
        /* The second half waits in the producer while the broker is down;
         * both clients keep polling through the outage. */
        for (int i = 0; i < 10; i++) {
                struct ab_record *r = NULL;

                ab_producer_poll(p, 100);
                ck_assert_int_eq(ab_consumer_poll(c, 100, &r, &err), AB_OK);
                ck_assert_ptr_null(r);
        }
        ck_assert_int_eq(rep.n, N / 2);
        broker_script("restart");

        /* Every message is delivered once the broker is back, and the
         * same consumer reads the rest. */
        ck_assert_int_eq(ab_producer_flush(p, 2 * DEADLINE_S * 1000, &err),
                         AB_OK);
        for (int i = 0; i < N; i++) {
                ck_assert_int_eq(rep.ok[i], 1);
                ck_assert_int_eq(rep.failed[i], 0);
        }
        consume_values(c, t, seen, N, N);
        ck_assert_int_eq(ab_consumer_close(c, &err), AB_OK);
        ab_consumer_destroy(c);
        ck_assert_int_eq(committed(topic, topic, 0), N);
        ab_producer_destroy(p);
        ab_offsets_destroy(t);
}
END_TEST

TCase *kafka_restart_tcase(void)
{
        TCase *tc = tcase_create("restart");

        tcase_set_timeout(tc, 400);
        tcase_add_test(tc, broker_restart_loses_nothing);
        return tc;
}
