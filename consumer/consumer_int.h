/* consumer_int.h - the consumer's state, shared by consumer.c and
 * position.c. */
#ifndef AB_CONSUMER_INT_H
#define AB_CONSUMER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "consumer/consumer.h"

/* A partition the owner wants paused (ab_consumer_pause_partition()). */
struct wish {
        char *topic; /* owned */
        int32_t partition;
};

struct ab_consumer {
        rd_kafka_t *rk;
        struct ab_offsets *offsets; /* borrowed */
        void (*on_revoke)(void *arg);
        void (*on_stats)(void *arg, const char *json, size_t len);
        void (*on_assigned)(void *arg,
                            const struct ab_consumer_partition *parts,
                            size_t n);
        void (*on_revoked)(void *arg, const struct ab_consumer_partition *parts,
                           size_t n, bool lost);
        void *arg;
        struct wish *wishes; /* owned */
        size_t nwishes, capwishes;
        bool paused;
        bool joined; /* an assignment (maybe empty) was received */
        bool closed;
        bool close_bounded;    /* closing within a deadline: no blocking */
        bool close_unfinished; /* the bounded close ran out of time */
        bool fatal;
        bool cooperative; /* the rebalance protocol (cooperative_protocol()) */
        rd_kafka_resp_err_t revoke_err; /* of the last revocation commit */
        char fatal_text[256];
        /* ab_consumer_prefer_topic(): the topic (owned), the queue its
         * partitions are forwarded to, and the shared consumer queue,
         * woken when the preferred one gets records. */
        char *prefer;
        rd_kafka_queue_t *preferq, *sharedq;
        unsigned nprefer; /* preferred records returned in a row */
        /* rd_kafka_assignment() as of the last rebalance (owned), NULL
         * until asked for again (ab_consumer_assignment()). */
        rd_kafka_topic_partition_list_t *assignment;
};

/* The assignment, cached: asking librdkafka is a round trip to its main
 * thread, and the commit cycle asks per partition (pause, resume and rewind
 * use the list too). The assignment changes
 * only in the rebalance callback (every assign and unassign goes through
 * it, lost partitions included), whose assign() and revoke() forget the
 * cache right after they change it. NULL when librdkafka cannot tell; the
 * list stays the consumer's. */
rd_kafka_topic_partition_list_t *ab_consumer_assignment(struct ab_consumer *c);

/* Forget the cached assignment (after any change). */
void ab_consumer_assignment_forget(struct ab_consumer *c);

#endif
