/* kafka_edges_fixture.h - what the Kafka edge tests share: the broker, unique
 * names, shell commands and kcat, and our producer and consumer set up for a
 * test. */
#ifndef AB_TEST_KAFKA_EDGES_FIXTURE_H
#define AB_TEST_KAFKA_EDGES_FIXTURE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "consumer/consumer.h"
#include "producer/producer.h"

/*
 * Every test talks to the broker named by AB_KAFKA_BROKERS (started by
 * scripts/kafka-broker.sh) and uses topics and groups of its own, named
 * after the test, the process and the time, so runs never see each
 * other's records. kcat is the independent client on the other side:
 * it produces what our consumer reads and reads what our producer wrote.
 * The "restart" suite also needs AB_KAFKA_DIR and stops and restarts the
 * broker in the middle of a stream.
 */

/* AB_KAFKA_BROKERS, set by main() (check_kafka_edges.c). */
extern const char *brokers;

/* Bounded waits: a condition is polled until it holds or this runs out. */
#define DEADLINE_S 60

double now_s(void);
void unique_name(char *out, size_t size, const char *what);

/* Run a shell command, return its stdout (malloc'd) and require exit 0. */
char *run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Create \p topic with \p partitions through the admin API. */
void create_topic(const char *topic, int partitions);

/* The offset committed by \p group for \p topic / \p partition (-1001
 * when none), asked from the group coordinator by a separate client. */
int64_t committed(const char *group, const char *topic, int32_t partition);

/* committed(), and its metadata string into \p meta (may be NULL). */
int64_t committed_meta(const char *group, const char *topic, int32_t partition,
                       char *meta, size_t size);

/* Records read back by kcat as JSON envelopes, in partition order. */
json_t *kcat_read(const char *topic, size_t expect);

const char *jstr(json_t *obj, const char *key);

/* The kcat envelope's headers as "name=value;name=value". */
void jheaders(json_t *rec, char *out, size_t size);

/* Delivery reports of a producer(), by the message index in its opaque. */
struct reports {
        int n;
        int ok[64];
        int failed[64];
        ab_err_t last_status;
};

struct ab_producer *producer(struct reports *r, const char *const *props);

/* A transactional producer (\p transactional_id), not initialized yet. */
struct ab_producer *txn_producer(struct reports *r, const char *const *props,
                                 const char *transactional_id);

extern const char *const consumer_props[];

/* consumer_props without auto commit: whatever is committed, the test
 * committed. */
extern const char *const manual_commit_props[];

/* A consumer of \p group subscribed to \p topic. */
struct ab_consumer *consumer(const char *group, const char *topic,
                             struct ab_offsets *t, const char *const *props);

#endif
