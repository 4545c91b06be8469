/*
 * server_fixture: one server per test (test_lifecycle.c, test_levers.c,
 * test_limits.c): start it with the settings the test needs, stop it by
 * PID expecting exit 0, and a teardown that cleans up after a failure.
 *
 * Defines (not just declares) its state and functions, all static:
 * include it from exactly one .c file per test executable, after
 * <cmocka.h>.
 *
 * Context: the cmocka thread; other threads may read `srv`
 * (harness_connect()).
 */
#ifndef MMCACHE_SERVER_FIXTURE_H
#define MMCACHE_SERVER_FIXTURE_H

#include "harness.h"

static struct harness_server srv;

/* args to both kinds of server, mm only to mmcache, redis only to
 * redis-server (harness_start). */
static inline void start(const char *const *args, const char *const *mm,
                         const char *const *redis)
{
    if (harness_start(&srv, args, mm, redis) != 0)
        fail_msg("server did not start");
}

/* stop by PID; the exit status must be 0 */
static inline void stop_ok(void)
{
    int st = harness_stop(&srv, 10000);
    if (st != 0)
        harness_print_log(&srv);
    assert_int_equal(st, 0);
}

static inline int teardown(void **state)
{
    (void)state;
    if (srv.pid > 0)
        harness_stop(&srv, 5000);      /* after a failure: just clean up */
    return 0;
}

#endif
