/* check_kafka_blocks.c - the stateful pipeline's Kafka building blocks where
 * no broker is needed: offset lists, and the refusals of a misconfigured
 * admin client, restore reader or transactional call. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "consumer/restore.h"
#include "kafka/admin.h"
#include "kafka/kafka_offsets.h"
#include "producer/producer.h"

START_TEST(test_offsets_list_copies_metadata)
{
        char meta[]                    = "state-v1";
        struct ab_kafka_offset offs[2] = {{"t", 0, 5, meta}, {"u", 3, 9, NULL}};
        rd_kafka_topic_partition_list_t *list = NULL;
        struct ab_error err;

        ck_assert_int_eq(ab_kafka_offsets_list(offs, 2, &list, &err), AB_OK);
        meta[0] = 'X'; /* the list holds its own copy */
        ck_assert_int_eq(list->cnt, 2);
        ck_assert_str_eq(list->elems[0].topic, "t");
        ck_assert_int_eq(list->elems[0].offset, 5);
        ck_assert_uint_eq(list->elems[0].metadata_size, 8);
        ck_assert(!memcmp(list->elems[0].metadata, "state-v1", 8));
        ck_assert_int_eq(list->elems[1].partition, 3);
        ck_assert_int_eq(list->elems[1].offset, 9);
        ck_assert_ptr_null(list->elems[1].metadata);
        rd_kafka_topic_partition_list_destroy(list);
}
END_TEST

START_TEST(test_group_meta_wraps_and_frees)
{
        rd_kafka_consumer_group_metadata_t *md =
            rd_kafka_consumer_group_metadata_new("g");
        struct ab_kafka_group_meta *m = ab_kafka_group_meta_wrap(md);

        ck_assert_ptr_nonnull(m);
        ck_assert_ptr_eq(ab_kafka_group_meta_rd(m), md);
        ab_kafka_group_meta_destroy(m);
        ab_kafka_group_meta_destroy(NULL);
}
END_TEST

START_TEST(test_misconfigured_clients_are_refused)
{
        static const char *const grouped[] = {"group.id", "g", NULL};
        struct ab_restore_conf rc          = {.brokers = "127.0.0.1:1"};
        struct ab_kafka_admin *a           = NULL;
        struct ab_restore *r               = NULL;
        struct ab_error err;

        ck_assert_int_eq(ab_kafka_admin_new("", NULL, &a, &err), AB_ERR_CONFIG);
        ck_assert_ptr_null(a);
        rc.properties = grouped;
        ck_assert_int_eq(ab_restore_new(&rc, &r, &err), AB_ERR_CONFIG);
        ck_assert_str_eq(err.path, "group.id");
        ck_assert_ptr_null(r);
        rc.properties     = NULL;
        rc.read_committed = true;
        ck_assert_int_eq(ab_restore_new(&rc, &r, &err), AB_OK);
        ab_restore_destroy(r);
        ab_restore_destroy(NULL);
        ab_kafka_admin_destroy(NULL);
}
END_TEST

static void on_delivery(void *arg, void *opaque, ab_err_t status,
                        const struct ab_error *err)
{
}

START_TEST(test_transaction_calls_need_a_transactional_id)
{
        struct ab_producer_conf conf         = {.brokers     = "127.0.0.1:1",
                                                .on_delivery = on_delivery};
        static const char *const short_txn[] = {"transaction.timeout.ms",
                                                "5000", NULL};
        struct ab_producer *p;
        struct ab_error err;

        ck_assert_int_eq(ab_producer_new(&conf, &p, &err), AB_OK);
        ck_assert_int_eq(ab_producer_txn_begin(p, &err), AB_ERR_CONFIG);
        ck_assert_ptr_nonnull(strstr(err.text, "not transactional"));
        ab_producer_destroy(p);

        /* message.timeout.ms defaults to 10 s: a shorter transaction
         * timeout must come with a shorter message timeout. */
        conf.transactional_id = "app-0";
        conf.properties       = short_txn;
        ck_assert_int_eq(ab_producer_new(&conf, &p, &err), AB_ERR_KAFKA);
        conf.properties = NULL;
        ck_assert_int_eq(ab_producer_new(&conf, &p, &err), AB_OK);
        ab_producer_destroy(p);
}
END_TEST

int main(void)
{
        Suite *s  = suite_create("kafka_blocks");
        TCase *tc = tcase_create("blocks");
        SRunner *sr;
        int failed;

        tcase_add_test(tc, test_offsets_list_copies_metadata);
        tcase_add_test(tc, test_group_meta_wraps_and_frees);
        tcase_add_test(tc, test_misconfigured_clients_are_refused);
        tcase_add_test(tc, test_transaction_calls_need_a_transactional_id);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
