/*
 * Tests of config/threads.c: `threads`' default. One worker up to 2 usable
 * CPUs, then one less than the CPUs (a core left to the client beside the
 * cache, the acceptor and the kernel's network work: issue 22's tails),
 * capped at the setting's bound; the CPUs counted are the affinity mask's,
 * so `taskset -c 0 mmcache` runs one worker.
 */
#define _GNU_SOURCE   /* sched_getaffinity, CPU_COUNT */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

static void test_rule(void **s)
{
    (void)s;
    assert_int_equal(cfg_default_threads(-1), 1);   /* sysconf's failure */
    assert_int_equal(cfg_default_threads(0), 1);
    assert_int_equal(cfg_default_threads(1), 1);
    assert_int_equal(cfg_default_threads(2), 1);
    assert_int_equal(cfg_default_threads(3), 2);
    assert_int_equal(cfg_default_threads(4), 3);
    assert_int_equal(cfg_default_threads(16), 15);
    assert_int_equal(cfg_default_threads(257), 256);
    assert_int_equal(cfg_default_threads(100000), 256);
}

/* The affinity mask decides: shrunk to one CPU, the default is 1; the
 * defaults follow the same count. */
static void test_affinity(void **s)
{
    (void)s;
    cpu_set_t all, one;
    assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
    assert_int_equal(cfg_usable_cpus(), CPU_COUNT(&all));

    struct cfg c;
    cfg_defaults(&c);
    assert_int_equal(c.threads, cfg_default_threads(CPU_COUNT(&all)));

    int first = 0;
    while (!CPU_ISSET(first, &all))
        first++;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
    long n = cfg_usable_cpus();
    cfg_defaults(&c);
    assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);   /* restore first */
    assert_int_equal(n, 1);
    assert_int_equal(c.threads, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule),
        cmocka_unit_test(test_affinity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
