/* check_consumer.c - consumer configuration and idle behaviour. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "consumer/consumer.h"
#include "core/log.h"

/* Nothing listens on 127.0.0.1:1; the consumer never gets an assignment. */
#define NO_BROKER "127.0.0.1:1"

static const char *const quiet[] = {"log_level", "0", NULL};

START_TEST(config_errors)
{
        static const char *const store_on[]  = {"enable.auto.offset.store",
                                                "true", NULL};
        static const char *const unknown[]   = {"no.such.property", "1", NULL};
        static const char *const bad_value[] = {"session.timeout.ms", "abc",
                                                NULL};
        struct ab_consumer_conf conf = {.brokers = NO_BROKER, .group = "g"};
        struct ab_consumer *c        = (struct ab_consumer *)&conf;
        struct ab_error err;

        conf.properties = store_on;
        ck_assert_int_eq(ab_consumer_new(&conf, &c, &err), AB_ERR_CONFIG);
        ck_assert_ptr_null(c);
        ck_assert_str_eq(err.path, "enable.auto.offset.store");

        conf.properties = unknown;
        ck_assert_int_eq(ab_consumer_new(&conf, &c, &err), AB_ERR_CONFIG);
        ck_assert_str_eq(err.path, "no.such.property");

        conf.properties = bad_value;
        ck_assert_int_eq(ab_consumer_new(&conf, &c, &err), AB_ERR_CONFIG);
        ck_assert_str_eq(err.path, "session.timeout.ms");

        conf.properties = NULL;
        conf.group      = NULL;
        ck_assert_int_eq(ab_consumer_new(&conf, &c, &err), AB_ERR_CONFIG);
        conf.group   = "g";
        conf.brokers = "";
        ck_assert_int_eq(ab_consumer_new(&conf, &c, &err), AB_ERR_CONFIG);
        ab_consumer_destroy(NULL);
}
END_TEST

/* The prefetch bound follows the linked librdkafka: 256 MiB before 2.1
 * (no refetch backoff to set), 16 MiB with a 10 ms refetch from 2.1 on;
 * and the version this test runs with gets a consumer that accepts it. */
START_TEST(prefetch_by_version)
{
        struct ab_consumer_prefetch pf;

        pf = ab_consumer_prefetch_for(0x020002ff); /* 2.0.2, Debian 12 */
        ck_assert_str_eq(pf.max_kbytes, "262144");
        ck_assert_ptr_null(pf.backoff_ms);
        pf = ab_consumer_prefetch_for(0x0200ffff);
        ck_assert_ptr_null(pf.backoff_ms);
        pf = ab_consumer_prefetch_for(0x020100ff); /* 2.1.0 */
        ck_assert_str_eq(pf.max_kbytes, "16384");
        ck_assert_str_eq(pf.backoff_ms, "10");
        pf = ab_consumer_prefetch_for(0x020c01ff); /* 2.12.1 */
        ck_assert_str_eq(pf.max_kbytes, "16384");
        ck_assert_str_eq(pf.backoff_ms, "10");
}
END_TEST

START_TEST(idle_consumer)
{
        static const char *const topics[] = {"t1", "^t2.*"};
        struct ab_offsets *t              = ab_offsets_new(8);
        struct ab_consumer_conf conf      = {.brokers    = NO_BROKER,
                                             .group      = "g",
                                             .properties = quiet,
                                             .offsets    = t};
        struct ab_consumer *c;
        struct ab_record *r = (struct ab_record *)&conf;
        struct ab_error err;

        ck_assert_int_eq(ab_consumer_new(&conf, &c, &err), AB_OK);
        ck_assert_int_eq(ab_consumer_subscribe(c, topics, 2, &err), AB_OK);
        ck_assert_int_eq(ab_consumer_poll(c, 0, &r, &err), AB_OK);
        ck_assert_ptr_null(r);
        ck_assert_uint_eq(ab_consumer_assigned(c), 0);
        ck_assert(!ab_consumer_paused(c));
        ck_assert_int_eq(ab_consumer_pause(c, &err), AB_OK);
        ck_assert(ab_consumer_paused(c));
        ck_assert_int_eq(ab_consumer_resume(c, &err), AB_OK);
        ck_assert(!ab_consumer_paused(c));
        ck_assert_int_eq(ab_consumer_lag(c, NULL, NULL), 0);
        /* Nothing to store or commit yet. */
        ck_assert_int_eq(ab_consumer_store(c, &err), AB_OK);
        ab_consumer_destroy(c); /* closes */
        ab_offsets_destroy(t);
}
END_TEST

/* Read what was written to \p fd so far (from the start). */
static void read_all(int fd, char *out, size_t size)
{
        ssize_t n = pread(fd, out, size - 1, 0);

        out[n > 0 ? n : 0] = '\0';
}

START_TEST(librdkafka_logs_go_through_our_logger)
{
        static const char *const topics[] = {"t"};
        struct ab_consumer_conf conf = {.brokers = NO_BROKER, .group = "g"};
        char path[]                  = "/tmp/ab-log-XXXXXX";
        int fd                       = mkstemp(path);
        int saved                    = dup(STDERR_FILENO);
        enum ab_log_level threshold  = ab_log_threshold;
        static char text[65536];
        struct ab_consumer *c;
        struct ab_record *r;
        time_t end;

        ck_assert_int_ge(fd, 0);
        unlink(path);
        ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
        ab_log_threshold = AB_LOG_DEBUG;
        ck_assert_int_eq(ab_consumer_new(&conf, &c, NULL), AB_OK);
        ck_assert_int_eq(ab_consumer_subscribe(c, topics, 1, NULL), AB_OK);
        /* librdkafka logs the refused connection through our callback. */
        end = time(NULL) + 30;
        do {
                ck_assert_int_eq(ab_consumer_poll(c, 100, &r, NULL), AB_OK);
                read_all(fd, text, sizeof(text));
        } while ((!strstr(text, "comp=rdkafka") ||
                  !strstr(text, "_ALL_BROKERS_DOWN")) &&
                 time(NULL) < end);
        ab_consumer_destroy(c);
        ab_log_threshold = threshold;
        dup2(saved, STDERR_FILENO);
        close(saved);
        close(fd);
        ck_assert_msg(strstr(text, "level=error comp=rdkafka msg=") != NULL,
                      "no routed librdkafka line in: %s", text);
        ck_assert_ptr_nonnull(strstr(text, "client=\"alertbridge#consumer-"));
        ck_assert_ptr_nonnull(strstr(text, "fac=FAIL"));
        /* The refused connection is logged once at error, by librdkafka
         * (FAIL); our error callback's copy of it is debug, its other
         * errors warn. */
        ck_assert_ptr_nonnull(
            strstr(text, "level=debug comp=consumer msg=\"kafka error\" "
                         "error=_TRANSPORT"));
        ck_assert_ptr_null(
            strstr(text, "level=warn comp=consumer msg=\"kafka error\" "
                         "error=_TRANSPORT"));
        ck_assert_ptr_nonnull(
            strstr(text, "level=warn comp=consumer msg=\"kafka error\" "
                         "error=_ALL_BROKERS_DOWN"));
}
END_TEST

static Suite *consumer_suite(void)
{
        Suite *s  = suite_create("consumer");
        TCase *tc = tcase_create("config");

        tcase_add_test(tc, config_errors);
        tcase_add_test(tc, prefetch_by_version);
        tcase_add_test(tc, idle_consumer);
        tcase_add_test(tc, librdkafka_logs_go_through_our_logger);
        tcase_set_timeout(tc, 60);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(consumer_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
