/* Unit and stress tests of the SPSC ring (server/net/ring.h). The stress test
 * runs a real producer and consumer thread; under TSan it also proves the
 * release/acquire pairs order the slot accesses. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ring.h"

static void test_empty_and_full(void **state)
{
    (void)state;
    struct srv_ring *r = srv_ring_create(5);   /* rounds up to 8 */
    assert_non_null(r);
    int v;
    assert_false(srv_ring_pop(r, &v));
    for (int i = 0; i < 8; i++)
        assert_true(srv_ring_push(r, i));
    assert_false(srv_ring_push(r, 99));        /* full */
    for (int i = 0; i < 8; i++) {
        assert_true(srv_ring_pop(r, &v));
        assert_int_equal(v, i);                /* FIFO */
    }
    assert_false(srv_ring_pop(r, &v));
    srv_ring_destroy(r);
}

static void test_wraparound(void **state)
{
    (void)state;
    struct srv_ring *r = srv_ring_create(4);
    int v, next = 0, expect = 0;
    for (int round = 0; round < 1000; round++) {
        int k = round % 4 + 1;
        for (int i = 0; i < k; i++)
            assert_true(srv_ring_push(r, next++));
        for (int i = 0; i < k; i++) {
            assert_true(srv_ring_pop(r, &v));
            assert_int_equal(v, expect++);
        }
    }
    srv_ring_destroy(r);
}

#define STRESS_N 2000000

static void *producer(void *arg)
{
    struct srv_ring *r = arg;
    for (int i = 0; i < STRESS_N; i++)
        while (!srv_ring_push(r, i))
            ;   /* spin: the consumer will make room */
    return NULL;
}

static void test_stress_two_threads(void **state)
{
    (void)state;
    struct srv_ring *r = srv_ring_create(64);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, producer, r), 0);
    int v, expect = 0;
    while (expect < STRESS_N) {
        if (srv_ring_pop(r, &v)) {
            if (v != expect)
                fail_msg("got %d, expected %d: lost or reordered element", v, expect);
            expect++;
        }
    }
    pthread_join(t, NULL);
    assert_false(srv_ring_pop(r, &v));
    srv_ring_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_full),
        cmocka_unit_test(test_wraparound),
        cmocka_unit_test(test_stress_two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
