/* check_kafka_state.c - Kafka edge tests of the stateful pipeline's building
 * blocks: internal topics, cooperative rebalancing, explicit commits, the
 * restore reader and the transactional producer. */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "consumer/restore.h"
#include "core/timefmt.h"
#include "kafka/admin.h"
#include "tests/integration/check_kafka_edges.h"
#include "tests/integration/kafka_edges_fixture.h"

#define TIMEOUT_MS (DEADLINE_S * 1000)

static struct ab_kafka_admin *admin(void)
{
        struct ab_kafka_admin *a;
        struct ab_error err;

        ck_assert_msg(ab_kafka_admin_new(brokers, NULL, &a, &err) == AB_OK,
                      "%s", err.text);
        return a;
}

/* Send \p n records (value NULL = tombstone) and wait for them. */
static void send_all(struct ab_producer *p, const char *topic,
                     const char *const *kv, size_t n)
{
        struct ab_error err;

        for (size_t i = 0; i < n; i++) {
                const char *v = kv[2 * i + 1];

                ck_assert_int_eq(
                    ab_producer_send(p, topic, ab_str_c(kv[2 * i]),
                                     v ? ab_str_c(v) : (struct ab_str){0}, NULL,
                                     (void *)(intptr_t)i, &err),
                    AB_OK);
        }
        ck_assert_int_eq(ab_producer_flush(p, TIMEOUT_MS, &err), AB_OK);
}

/* ---------------------------------------------------------------- admin */

/* The partition counts of \p names once the cluster metadata lists them:
 * a topic this client has just created may be missing from it for a
 * moment (run loop does the same wait: wait_visible() in
 * pipeline/stateful.c). Bounded by TIMEOUT_MS. */
static ab_err_t partitions_visible(struct ab_kafka_admin *a,
                                   const char *const *names, size_t n,
                                   int *counts, struct ab_error *err)
{
        int64_t until               = ab_time_mono_ms() + TIMEOUT_MS;
        const struct timespec pause = {0, 100 * 1000 * 1000};
        ab_err_t rc;

        for (;;) {
                rc = ab_kafka_admin_partitions(a, names, n, counts, TIMEOUT_MS,
                                               err);
                if (rc != AB_ERR_NOT_FOUND || ab_time_mono_ms() >= until)
                        return rc;
                nanosleep(&pause, NULL);
        }
}

START_TEST(admin_creates_verifies_and_rejects_a_wrong_count)
{
        static const char *const compact[] = {"cleanup.policy", "compact",
                                              NULL};
        char a_name[128], b_name[128];
        struct ab_kafka_admin *a = admin();
        struct ab_kafka_topic_spec specs[2];
        const char *names[2];
        int counts[2] = {0, 0};
        struct ab_error err;
        char *listing;

        unique_name(a_name, sizeof(a_name), "adm-alerts");
        unique_name(b_name, sizeof(b_name), "adm-changelog");
        specs[0] = (struct ab_kafka_topic_spec){a_name, 3, -1, NULL};
        specs[1] = (struct ab_kafka_topic_spec){b_name, 3, -1, compact};
        names[0] = a_name;
        names[1] = b_name;
        ck_assert_int_eq(
            ab_kafka_admin_partitions(a, names, 1, counts, TIMEOUT_MS, &err),
            AB_ERR_NOT_FOUND);
        ck_assert_ptr_nonnull(strstr(err.text, a_name));

        ck_assert_msg(ab_kafka_admin_ensure_topics(a, specs, 2, TIMEOUT_MS,
                                                   &err) == AB_OK,
                      "%s", err.text);
        ck_assert_int_eq(partitions_visible(a, names, 2, counts, &err), AB_OK);
        ck_assert_int_eq(counts[0], 3);
        ck_assert_int_eq(counts[1], 3);
        listing = run("kcat -L -b %s -t %s", brokers, b_name);
        ck_assert_ptr_nonnull(strstr(listing, "3 partitions"));
        free(listing);

        /* Existing with the right count: verified, nothing created. */
        ck_assert_int_eq(
            ab_kafka_admin_ensure_topics(a, specs, 2, TIMEOUT_MS, &err), AB_OK);

        /* Existing with another count: refused, naming topic and counts. */
        specs[1].partitions = 4;
        ck_assert_int_eq(
            ab_kafka_admin_ensure_topics(a, specs, 2, TIMEOUT_MS, &err),
            AB_ERR_CONFIG);
        ck_assert_int_eq(ab_err_class(err.code), AB_ERR_CLASS_FATAL);
        ck_assert_ptr_nonnull(strstr(err.text, b_name));
        ck_assert_ptr_nonnull(strstr(err.text, "has 3 partitions"));
        ck_assert_ptr_nonnull(strstr(err.text, "expected 4"));
        ab_kafka_admin_destroy(a);
}
END_TEST

struct racer {
        const char *topic;
        pthread_barrier_t *start;
        ab_err_t rc;
        struct ab_error err;
};

static void *race(void *arg)
{
        struct racer *r = arg;
        struct ab_kafka_admin *a;
        struct ab_kafka_topic_spec spec = {r->topic, 2, -1, NULL};

        r->rc = ab_kafka_admin_new(brokers, NULL, &a, &r->err);
        pthread_barrier_wait(r->start);
        if (!r->rc)
                r->rc = ab_kafka_admin_ensure_topics(a, &spec, 1, TIMEOUT_MS,
                                                     &r->err);
        ab_kafka_admin_destroy(a);
        return NULL;
}

START_TEST(admin_survives_a_concurrent_create)
{
        char topic[128];
        pthread_barrier_t start;
        struct racer r[4];
        pthread_t t[4];

        /* Four members start together: whichever creates the topic, every
         * one of them ends with it verified (TOPIC_ALREADY_EXISTS is not
         * an error). Repeated on fresh topics to meet the race often. */
        for (int round = 0; round < 3; round++) {
                unique_name(topic, sizeof(topic), "adm-race");
                pthread_barrier_init(&start, NULL, 4);
                for (int i = 0; i < 4; i++) {
                        r[i] = (struct racer){.topic = topic, .start = &start};
                        pthread_create(&t[i], NULL, race, &r[i]);
                }
                for (int i = 0; i < 4; i++) {
                        pthread_join(t[i], NULL);
                        ck_assert_msg(r[i].rc == AB_OK, "member %d: %s", i,
                                      r[i].err.text);
                }
                pthread_barrier_destroy(&start);
        }
}
END_TEST

START_TEST(admin_deletes_records_before_an_offset)
{
        static const char *const kv[] = {"a", "0", "a", "1", "a",
                                         "2", "a", "3", "a", "4"};
        char topic[128];
        struct ab_kafka_admin *a = admin();
        struct ab_kafka_topic_spec spec;
        struct reports rep    = {0};
        struct ab_producer *p = producer(&rep, NULL);
        struct ab_error err;
        char *out;

        unique_name(topic, sizeof(topic), "adm-purge");
        spec = (struct ab_kafka_topic_spec){topic, 1, -1, NULL};
        ck_assert_int_eq(
            ab_kafka_admin_ensure_topics(a, &spec, 1, TIMEOUT_MS, &err), AB_OK);
        send_all(p, topic, kv, 5);
        ck_assert_msg(ab_kafka_admin_delete_records(a, topic, 0, 3, TIMEOUT_MS,
                                                    &err) == AB_OK,
                      "%s", err.text);
        out = run("kcat -C -b %s -t %s -o beginning -e -q -f '%%o\\n'", brokers,
                  topic);
        ck_assert_str_eq(out, "3\n4\n");
        free(out);
        ck_assert_int_eq(
            ab_kafka_admin_delete_records(a, topic, 7, 1, TIMEOUT_MS, &err),
            AB_ERR_KAFKA);
        ck_assert_ptr_nonnull(strstr(err.text, topic));
        ab_producer_destroy(p);
        ab_kafka_admin_destroy(a);
}
END_TEST

/* ----------------------------------------------------------- consumer */

/* What one member's rebalance callbacks saw. */
struct member {
        struct ab_consumer *c;
        int owned[8];    /* partition -> 1 while assigned */
        int assigned[8]; /* how often each was assigned */
        int revoked[8];  /* how often each was revoked */
        int callbacks;   /* assign and revoke calls */
        int lost;        /* revocations flagged lost */
        int records[8];  /* records returned, per partition */
};

static void on_assigned(void *arg, const struct ab_consumer_partition *parts,
                        size_t n)
{
        struct member *m = arg;

        m->callbacks++;
        for (size_t i = 0; i < n; i++) {
                ck_assert_int_lt(parts[i].partition, 8);
                ck_assert_int_eq(m->owned[parts[i].partition], 0);
                m->owned[parts[i].partition] = 1;
                m->assigned[parts[i].partition]++;
        }
}

static void on_revoked(void *arg, const struct ab_consumer_partition *parts,
                       size_t n, bool lost)
{
        struct member *m = arg;

        m->callbacks++;
        m->lost += lost;
        for (size_t i = 0; i < n; i++) {
                ck_assert_int_eq(m->owned[parts[i].partition], 1);
                m->owned[parts[i].partition] = 0;
                m->revoked[parts[i].partition]++;
        }
}

static void join(struct member *m, const char *group, const char *topic,
                 const char *const *props, bool cooperative)
{
        struct ab_consumer_conf conf = {.brokers     = brokers,
                                        .group       = group,
                                        .properties  = props,
                                        .on_assigned = on_assigned,
                                        .on_revoked  = on_revoked,
                                        .cooperative = cooperative,
                                        .arg         = m};
        struct ab_error err;

        ck_assert_msg(ab_consumer_new(&conf, &m->c, &err) == AB_OK, "%s",
                      err.text);
        ck_assert_int_eq(ab_consumer_subscribe(m->c, &topic, 1, &err), AB_OK);
}

/* One poll of \p m; a record is counted and dropped. */
static void step(struct member *m)
{
        struct ab_record *r = NULL;
        struct ab_error err;

        ck_assert_msg(ab_consumer_poll(m->c, 50, &r, &err) == AB_OK, "%s",
                      err.text);
        if (r) {
                m->records[ab_record_partition(r)]++;
                ab_record_destroy(r);
        }
}

static int count(const int *v, int n)
{
        int sum = 0;

        for (int i = 0; i < n; i++)
                sum += v[i];
        return sum;
}

START_TEST(cooperative_members_get_incremental_callbacks)
{
        char topic[128];
        struct member a = {0}, b = {0};
        struct ab_error err;
        int64_t pos;
        double end;

        unique_name(topic, sizeof(topic), "coop");
        create_topic(topic, 4);
        for (int i = 0; i < 4; i++)
                free(run("printf 'k:v\\nk:v\\n' | kcat -P -b %s -t %s -p %d "
                         "-K:",
                         brokers, topic, i));

        /* A wants partition 0 paused before it even joins: it gets all
         * four, and the records of the three others only. */
        join(&a, topic, topic, manual_commit_props, true);
        ck_assert_int_eq(ab_consumer_pause_partition(a.c, topic, 0, &err),
                         AB_OK);
        end = now_s() + DEADLINE_S;
        while ((count(a.owned, 4) < 4 || count(a.records, 4) < 6) &&
               now_s() < end)
                step(&a);
        ck_assert_int_eq(count(a.owned, 4), 4);
        ck_assert_int_eq(count(a.records, 4), 6);
        ck_assert_int_eq(a.records[0], 0);
        ck_assert_int_eq(a.callbacks, 1); /* one assign of all four */
        /* Asked now, the assignment is cached from here on: every
         * rebalance below must replace it. */
        ck_assert_uint_eq(ab_consumer_assigned(a.c), 4);

        /* B joins: cooperative-sticky moves two partitions from A to B,
         * and A's revocation names exactly those two; A keeps the rest
         * without a revoke and re-assign. */
        join(&b, topic, topic, manual_commit_props, true);
        end = now_s() + DEADLINE_S;
        while ((count(b.owned, 4) < 2 || count(a.owned, 4) > 2) &&
               now_s() < end) {
                step(&a);
                step(&b);
        }
        ck_assert_int_eq(count(a.owned, 4), 2);
        ck_assert_int_eq(count(b.owned, 4), 2);
        ck_assert_int_eq(a.lost, 0);
        for (int i = 0; i < 4; i++) {
                ck_assert_int_eq(a.owned[i] + b.owned[i], 1);
                ck_assert_int_eq(a.revoked[i], b.owned[i]);
                ck_assert_int_eq(a.assigned[i], 1);
        }
        ck_assert_int_eq(a.callbacks, 2); /* assign, then one revoke */
        ck_assert_uint_eq(ab_consumer_assigned(a.c), 2);
        for (int i = 0; i < 4; i++)
                ck_assert_int_eq(
                    ab_consumer_position(a.c, topic, i, &pos, &err),
                    a.owned[i] ? AB_OK : AB_ERR_NOT_FOUND);

        /* B leaves: its two partitions come back to A in one incremental
         * assign; partition 0 is still paused (A never said resume). */
        ck_assert_int_eq(ab_consumer_close(b.c, &err), AB_OK);
        ab_consumer_destroy(b.c);
        end = now_s() + DEADLINE_S;
        while (count(a.owned, 4) < 4 && now_s() < end)
                step(&a);
        ck_assert_int_eq(count(a.owned, 4), 4);
        ck_assert_int_eq(a.callbacks, 3);
        ck_assert_int_eq(count(a.assigned, 4), 6);
        ck_assert_uint_eq(ab_consumer_assigned(a.c), 4);
        for (int i = 0; i < 4; i++)
                ck_assert_int_eq(
                    ab_consumer_position(a.c, topic, i, &pos, &err), AB_OK);
        ck_assert_int_eq(a.records[0], 0);

        /* Resumed, partition 0 delivers its two records. */
        ck_assert_int_eq(ab_consumer_resume_partition(a.c, topic, 0, &err),
                         AB_OK);
        end = now_s() + DEADLINE_S;
        while (a.records[0] < 2 && now_s() < end)
                step(&a);
        ck_assert_int_eq(a.records[0], 2);
        ck_assert_int_eq(ab_consumer_close(a.c, &err), AB_OK);
        ck_assert_int_eq(a.callbacks, 4); /* the final revoke */
        ck_assert_int_eq(count(a.owned, 4), 0);
        ab_consumer_destroy(a.c);
}
END_TEST

/* Rewind \p m to its committed offsets (partition 1 at 1, partition 0 at
 * its end of 3) and read until partition 1 has delivered \p records1 in
 * all, partition 0 nothing more. */
static void rewind_to_committed(struct member *m, int records1)
{
        struct ab_error err;
        double end;

        ck_assert_int_eq(ab_consumer_rewind(m->c, TIMEOUT_MS, &err), AB_OK);
        end = now_s() + DEADLINE_S;
        while (m->records[1] < records1 && now_s() < end)
                step(m);
        ck_assert_int_eq(m->records[1], records1);
        ck_assert_int_eq(m->records[0], 3);
}

START_TEST(explicit_commits_carry_metadata_and_rewind_returns_to_them)
{
        char topic[128], meta[64];
        struct member m                = {0};
        struct ab_kafka_group_meta *gm = NULL;
        struct ab_kafka_offset offs[2];
        struct ab_error err;
        int64_t pos;
        double end;

        unique_name(topic, sizeof(topic), "commit-meta");
        create_topic(topic, 2);
        for (int i = 0; i < 2; i++)
                free(run("printf 'k:0\\nk:1\\nk:2\\n' | kcat -P -b %s -t %s "
                         "-p %d -K:",
                         brokers, topic, i));
        join(&m, topic, topic, manual_commit_props, false);
        end = now_s() + DEADLINE_S;
        while (count(m.records, 2) < 6 && now_s() < end)
                step(&m);
        ck_assert_int_eq(count(m.records, 2), 6);
        ck_assert_int_eq(ab_consumer_position(m.c, topic, 0, &pos, &err),
                         AB_OK);
        ck_assert_int_eq(pos, 3);
        ck_assert_int_eq(ab_consumer_position(m.c, topic, 5, &pos, &err),
                         AB_ERR_NOT_FOUND);
        ck_assert_int_eq(ab_consumer_group_metadata(m.c, &gm, &err), AB_OK);
        ck_assert_ptr_nonnull(gm);
        ab_kafka_group_meta_destroy(gm);

        /* Synchronous: committed when the call returns. */
        offs[0] = (struct ab_kafka_offset){topic, 0, 2, "meta-0"};
        offs[1] = (struct ab_kafka_offset){topic, 1, 1, NULL};
        ck_assert_int_eq(ab_consumer_commit_offsets(m.c, offs, 2, false, &err),
                         AB_OK);
        ck_assert_int_eq(committed_meta(topic, topic, 0, meta, sizeof(meta)),
                         2);
        ck_assert_str_eq(meta, "meta-0");
        ck_assert_int_eq(committed_meta(topic, topic, 1, meta, sizeof(meta)),
                         1);
        ck_assert_str_eq(meta, "");

        /* Asynchronous: committed while the member keeps polling. */
        offs[0] = (struct ab_kafka_offset){topic, 0, 3, "async"};
        ck_assert_int_eq(ab_consumer_commit_offsets(m.c, offs, 1, true, &err),
                         AB_OK);
        end = now_s() + DEADLINE_S;
        while (committed_meta(topic, topic, 0, meta, sizeof(meta)) != 3 &&
               now_s() < end)
                step(&m);
        ck_assert_int_eq(committed_meta(topic, topic, 0, meta, sizeof(meta)),
                         3);
        ck_assert_str_eq(meta, "async");

        /* Rewind: partition 1 goes back to offset 1 (two records again),
         * partition 0 stays at its end. */
        rewind_to_committed(&m, 5);

        /* Again, after the lag query and a pause and resume have used the
         * same cached assignment: the same two records once more. */
        ck_assert_int_eq(ab_consumer_lag(m.c, NULL, NULL), 0);
        ck_assert_int_eq(ab_consumer_pause(m.c, &err), AB_OK);
        ck_assert_int_eq(ab_consumer_resume(m.c, &err), AB_OK);
        rewind_to_committed(&m, 7);
        ck_assert_int_eq(ab_consumer_close(m.c, &err), AB_OK);
        ab_consumer_destroy(m.c);
}
END_TEST

/* -------------------------------------------------------------- restore */

/* What a restore handed out. */
struct restored {
        int n;
        int64_t offset[256];
        char key[256][16];
        char value[256][16]; /* "(null)" for a tombstone */
};

static ab_err_t collect(void *arg, struct ab_str key, struct ab_str value,
                        int64_t offset, struct ab_error *err)
{
        struct restored *r = arg;

        ck_assert_int_lt(r->n, 256);
        r->offset[r->n] = offset;
        snprintf(r->key[r->n], sizeof(r->key[0]), "%.*s", (int)key.len,
                 key.ptr ? key.ptr : "");
        snprintf(r->value[r->n], sizeof(r->value[0]), "%.*s",
                 value.ptr ? (int)value.len : 6,
                 value.ptr ? value.ptr : "(null)");
        r->n++;
        return AB_OK;
}

static struct ab_restore *restorer(const char *servers, bool read_committed,
                                   int timeout_ms)
{
        struct ab_restore_conf conf = {.brokers        = servers,
                                       .read_committed = read_committed,
                                       .timeout_ms     = timeout_ms};
        struct ab_restore *r;
        struct ab_error err;

        ck_assert_msg(ab_restore_new(&conf, &r, &err) == AB_OK, "%s", err.text);
        return r;
}

static void restore(struct ab_restore *rs, const char *topic, int32_t part,
                    struct restored *out)
{
        struct ab_error err;
        int64_t n = -1;

        memset(out, 0, sizeof(*out));
        ck_assert_msg(ab_restore_partition(rs, topic, part, collect, out, &n,
                                           &err) == AB_OK,
                      "%s", err.text);
        ck_assert_int_eq(n, out->n);
}

/* The value of \p key after replaying \p r ("" when absent or deleted). */
static const char *final_value(const struct restored *r, const char *key)
{
        const char *v = "";

        for (int i = 0; i < r->n; i++)
                if (!strcmp(r->key[i], key))
                        v = strcmp(r->value[i], "(null)") ? r->value[i] : "";
        return v;
}

static bool has_gap(const struct restored *r)
{
        for (int i = 0; i < r->n; i++)
                if (r->offset[i] != i)
                        return true;
        return false;
}

START_TEST(restore_reads_a_compacted_partition_to_its_end)
{
        /* Segments roll at the next record after 100 ms and are cleaned
         * as soon as the cleaner looks (every 15 s by default). */
        static const char *const compact[] = {"cleanup.policy",
                                              "compact",
                                              "segment.ms",
                                              "100",
                                              "min.cleanable.dirty.ratio",
                                              "0.01",
                                              NULL};
        char topic[128];
        struct ab_kafka_admin *a = admin();
        struct ab_restore *rs    = restorer(brokers, false, 0);
        struct restored *r       = calloc(1, sizeof(*r));
        struct ab_kafka_topic_spec spec;
        struct ab_error err;
        int fill = 0;
        double end;

        unique_name(topic, sizeof(topic), "restore-compact");
        spec = (struct ab_kafka_topic_spec){topic, 2, -1, compact};
        ck_assert_int_eq(
            ab_kafka_admin_ensure_topics(a, &spec, 1, TIMEOUT_MS, &err), AB_OK);
        free(run("printf 'k1:a\\nk2:b\\nk1:c\\nk2:\\n' | kcat -P -Z -b %s -t "
                 "%s -p 0 -K:",
                 brokers, topic));

        /* Before compaction: every record, the tombstone last. */
        restore(rs, topic, 0, r);
        ck_assert_int_eq(r->n, 4);
        ck_assert_str_eq(r->value[3], "(null)");
        ck_assert_str_eq(final_value(r, "k1"), "c");
        ck_assert_str_eq(final_value(r, "k2"), "");

        /* Records keep rolling segments until the cleaner has compacted
         * the first ones: the restore skips the gaps. */
        end = now_s() + 3 * DEADLINE_S;
        while (!has_gap(r) && now_s() < end) {
                struct timespec pace = {0, 200 * 1000 * 1000};

                free(run("printf 'f:%d\\n' | kcat -P -b %s -t %s -p 0 -K:",
                         fill++, brokers, topic));
                nanosleep(&pace, NULL);
                restore(rs, topic, 0, r);
        }
        ck_assert_msg(has_gap(r), "no compaction within %d s", 3 * DEADLINE_S);
        for (int i = 1; i < r->n; i++)
                ck_assert_int_gt(r->offset[i], r->offset[i - 1]);
        ck_assert_str_eq(final_value(r, "k1"), "c");
        ck_assert_str_eq(final_value(r, "k2"), "");

        /* The same handle: an empty partition, then a missing one. */
        restore(rs, topic, 1, r);
        ck_assert_int_eq(r->n, 0);
        ck_assert_int_eq(
            ab_restore_partition(rs, topic, 9, collect, r, NULL, &err),
            AB_ERR_NOT_FOUND);
        free(r);
        ab_restore_destroy(rs);
        ab_kafka_admin_destroy(a);
}
END_TEST

START_TEST(restore_fails_with_a_retry_class_error_without_broker)
{
        struct ab_restore *rs = restorer("127.0.0.1:1", false, 1000);
        struct restored r;
        struct ab_error err;

        ck_assert_int_eq(
            ab_restore_partition(rs, "any", 0, collect, &r, NULL, &err),
            AB_ERR_RETRY);
        ck_assert_int_eq(ab_err_class(err.code), AB_ERR_CLASS_RETRY);
        ab_restore_destroy(rs);
}
END_TEST

/* ---------------------------------------------------------- transactions */

/* ---------------------------------------------------------- transactions */

static void txn_ok(ab_err_t rc, const struct ab_error *err)
{
        ck_assert_msg(rc == AB_OK, "%s", err->text);
}

START_TEST(restore_read_committed_skips_aborted_transactions)
{
        static const char *const c123[] = {"k", "c1", "k", "c2", "k", "c3"};
        static const char *const a12[]  = {"k", "a1", "k", "a2"};
        static const char *const c4[]   = {"k", "c4"};
        static const char *const a3[]   = {"k", "a3"};
        static const char *const p1[]   = {"k", "p1"};
        char topic[128];
        struct reports rep = {0};
        struct ab_producer *p;
        struct ab_restore *committed_rs = restorer(brokers, true, 0);
        struct ab_restore *all_rs       = restorer(brokers, false, 0);
        struct ab_restore *short_rs     = restorer(brokers, true, 2000);
        struct restored *r              = calloc(1, sizeof(*r));
        struct ab_error err;

        unique_name(topic, sizeof(topic), "restore-txn");
        create_topic(topic, 1);
        p = txn_producer(&rep, NULL, topic);
        txn_ok(ab_producer_txn_init(p, &err), &err);
        /* committed c1-c3, aborted a1 a2, committed c4, and an aborted a3
         * last: the partition ends with an abort marker. Aborted records
         * are flushed first so they are in the log. */
        txn_ok(ab_producer_txn_begin(p, &err), &err);
        send_all(p, topic, c123, 3);
        txn_ok(ab_producer_txn_commit(p, &err), &err);
        txn_ok(ab_producer_txn_begin(p, &err), &err);
        send_all(p, topic, a12, 2);
        txn_ok(ab_producer_txn_abort(p, &err), &err);
        txn_ok(ab_producer_txn_begin(p, &err), &err);
        send_all(p, topic, c4, 1);
        txn_ok(ab_producer_txn_commit(p, &err), &err);
        txn_ok(ab_producer_txn_begin(p, &err), &err);
        send_all(p, topic, a3, 1);
        txn_ok(ab_producer_txn_abort(p, &err), &err);

        restore(committed_rs, topic, 0, r);
        ck_assert_int_eq(r->n, 4);
        ck_assert_str_eq(r->value[0], "c1");
        ck_assert_str_eq(r->value[2], "c3");
        ck_assert_str_eq(r->value[3], "c4");
        ck_assert_int_eq(r->offset[3], 7); /* c1-c3, marker, a1 a2, marker */

        restore(all_rs, topic, 0, r);
        ck_assert_int_eq(r->n, 7);
        ck_assert_str_eq(r->value[6], "a3");

        /* Again on the same handle: same answer, nothing left over. */
        restore(committed_rs, topic, 0, r);
        ck_assert_int_eq(r->n, 4);

        /* A transaction still open below the end (a previous owner's)
         * holds the restore: it must not end before it, or records whose
         * input offsets commit with them would be missing. */
        txn_ok(ab_producer_txn_begin(p, &err), &err);
        send_all(p, topic, p1, 1);
        memset(r, 0, sizeof(*r));
        ck_assert_int_eq(
            ab_restore_partition(short_rs, topic, 0, collect, r, NULL, &err),
            AB_ERR_RETRY);
        ck_assert_ptr_nonnull(strstr(err.text, "no progress"));
        txn_ok(ab_producer_txn_commit(p, &err), &err);
        restore(short_rs, topic, 0, r);
        ck_assert_int_eq(r->n, 5);
        ck_assert_str_eq(r->value[4], "p1");
        free(r);
        ab_restore_destroy(short_rs);
        ab_restore_destroy(committed_rs);
        ab_restore_destroy(all_rs);
        ab_producer_destroy(p);
}
END_TEST

/* The exactly_once loop's commit in steps (ab_producer_txn_commit_step):
 * nothing asked of librdkafka while records await their reports, then
 * the commit; with a short timeout a commit left under way is finished
 * by a later step. Every transaction's records are committed, in order,
 * and the next transaction begins at once. */
START_TEST(transactions_commit_in_steps)
{
        static const int timeouts[] = {-1, 0, 1, -1};
        char out[128], txn_id[160], value[16];
        struct reports rep = {0};
        struct ab_producer *p;
        struct ab_restore *rs = restorer(brokers, true, 0);
        struct restored *r    = calloc(1, sizeof(*r));
        struct ab_error err;
        ab_err_t rc;
        double end;

        unique_name(out, sizeof(out), "txn-step");
        snprintf(txn_id, sizeof(txn_id), "%s-0", out);
        create_topic(out, 1);
        p = txn_producer(&rep, NULL, txn_id);
        txn_ok(ab_producer_txn_init(p, &err), &err);
        for (int t = 0; t < 4; t++) {
                txn_ok(ab_producer_txn_begin(p, &err), &err);
                for (int i = 0; i < 10; i++) {
                        snprintf(value, sizeof(value), "%d-%d", t, i);
                        ck_assert_int_eq(ab_producer_send(p, out, ab_str_c("k"),
                                                          ab_str_c(value), NULL,
                                                          NULL, &err),
                                         AB_OK);
                }
                end = now_s() + DEADLINE_S;
                while ((rc = ab_producer_txn_commit_step(
                            p, timeouts[t], 20, &err)) == AB_ERR_RETRY &&
                       now_s() < end)
                        ab_producer_poll(p, 1);
                ck_assert_msg(rc == AB_OK, "%s: %s", ab_err_code(rc), err.text);
                ck_assert_uint_eq(ab_producer_inflight(p), 0);
                restore(rs, out, 0, r);
                ck_assert_int_eq(r->n, 10 * (t + 1));
                snprintf(value, sizeof(value), "%d-9", t);
                ck_assert_str_eq(r->value[r->n - 1], value);
        }
        free(r);
        ab_restore_destroy(rs);
        ab_producer_destroy(p);
}
END_TEST

START_TEST(transactions_commit_outputs_with_offsets_and_fence_zombies)
{
        static const char *const out3[] = {"o", "1", "o", "2", "o", "3"};
        static const char *const out2[] = {"x", "1", "x", "2"};
        char in[128], out[128], txn_id[160];
        struct member m    = {0};
        struct reports rep = {0}, rep2 = {0};
        struct ab_producer *p, *p2;
        struct ab_kafka_group_meta *gm;
        struct ab_kafka_offset off;
        struct ab_restore *rs = restorer(brokers, true, 0);
        struct restored *r    = calloc(1, sizeof(*r));
        struct ab_error err;
        ab_err_t rc;
        double end;

        unique_name(in, sizeof(in), "txn-in");
        unique_name(out, sizeof(out), "txn-out");
        snprintf(txn_id, sizeof(txn_id), "%s-0", in);
        create_topic(in, 1);
        create_topic(out, 1);
        free(run("printf 'k:0\\nk:1\\nk:2\\n' | kcat -P -b %s -t %s -p 0 -K:",
                 brokers, in));
        join(&m, in, in, manual_commit_props, true);
        end = now_s() + DEADLINE_S;
        while (m.records[0] < 3 && now_s() < end)
                step(&m);
        ck_assert_int_eq(m.records[0], 3);

        /* Consume-transform-produce: outputs and input offsets commit
         * together. */
        p = txn_producer(&rep, NULL, txn_id);
        txn_ok(ab_producer_txn_init(p, &err), &err);
        txn_ok(ab_producer_txn_begin(p, &err), &err);
        send_all(p, out, out3, 3);
        ck_assert_int_eq(ab_consumer_group_metadata(m.c, &gm, &err), AB_OK);
        off = (struct ab_kafka_offset){in, 0, 3, "txn"};
        txn_ok(ab_producer_txn_send_offsets(p, &off, 1, gm, &err), &err);
        txn_ok(ab_producer_txn_commit(p, &err), &err);
        ck_assert_int_eq(committed(in, in, 0), 3);
        restore(rs, out, 0, r);
        ck_assert_int_eq(r->n, 3);

        /* Aborted: neither outputs nor offsets. */
        txn_ok(ab_producer_txn_begin(p, &err), &err);
        send_all(p, out, out2, 2);
        off.offset = 1;
        txn_ok(ab_producer_txn_send_offsets(p, &off, 1, gm, &err), &err);
        txn_ok(ab_producer_txn_abort(p, &err), &err);
        ck_assert_int_eq(committed(in, in, 0), 3);
        restore(rs, out, 0, r);
        ck_assert_int_eq(r->n, 3);
        ck_assert_str_eq(r->value[2], "3");

        /* A second producer with the same id fences the first: its next
         * transaction fails with a fatal, "fenced" error. */
        p2 = txn_producer(&rep2, NULL, txn_id);
        txn_ok(ab_producer_txn_init(p2, &err), &err);
        rc = ab_producer_txn_begin(p, &err);
        if (rc == AB_OK) {
                ab_producer_send(p, out, ab_str_c("z"), ab_str_c("zombie"),
                                 NULL, NULL, &err);
                rc = ab_producer_txn_commit(p, &err);
        }
        ck_assert_msg(rc == AB_ERR_KAFKA_FATAL, "%s: %s", ab_err_code(rc),
                      err.text);
        ck_assert_int_eq(ab_err_class(rc), AB_ERR_CLASS_FATAL);
        ck_assert_msg(strstr(err.text, "fenced") != NULL, "%s", err.text);
        ck_assert(ab_producer_fatal(p, NULL));

        /* The new producer goes on. */
        txn_ok(ab_producer_txn_begin(p2, &err), &err);
        send_all(p2, out, out2, 1);
        txn_ok(ab_producer_txn_commit(p2, &err), &err);
        restore(rs, out, 0, r);
        ck_assert_int_eq(r->n, 4);
        ck_assert_str_eq(r->value[3], "1");

        ab_kafka_group_meta_destroy(gm);
        ck_assert_int_eq(ab_consumer_close(m.c, &err), AB_OK);
        ab_consumer_destroy(m.c);
        ab_producer_destroy(p);
        ab_producer_destroy(p2);
        ab_restore_destroy(rs);
        free(r);
}
END_TEST

TCase *kafka_state_tcase(void)
{
        TCase *tc = tcase_create("state");

        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, admin_creates_verifies_and_rejects_a_wrong_count);
        tcase_add_test(tc, admin_survives_a_concurrent_create);
        tcase_add_test(tc, admin_deletes_records_before_an_offset);
        tcase_add_test(tc, cooperative_members_get_incremental_callbacks);
        tcase_add_test(
            tc, explicit_commits_carry_metadata_and_rewind_returns_to_them);
        tcase_add_test(tc, restore_reads_a_compacted_partition_to_its_end);
        tcase_add_test(tc,
                       restore_fails_with_a_retry_class_error_without_broker);
        tcase_add_test(tc, restore_read_committed_skips_aborted_transactions);
        tcase_add_test(tc, transactions_commit_in_steps);
        tcase_add_test(
            tc, transactions_commit_outputs_with_offsets_and_fence_zombies);
        return tc;
}
