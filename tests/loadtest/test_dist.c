/*
 * loadtest/dist.c: keys stay in range, uniform covers the keyspace evenly,
 * zipf is skewed the way its exponent says (rank 0 hottest, frequencies
 * falling like 1/rank^theta).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ld.h"

static void test_rejects_bad_parameters(void **state)
{
    struct ld_dist d;

    assert_int_not_equal(ld_dist_init(&d, 0, 0), 0);
    assert_int_not_equal(ld_dist_init(&d, 10, 1.0), 0);
    assert_int_not_equal(ld_dist_init(&d, 10, -0.5), 0);
    assert_int_not_equal(ld_dist_init(&d, 10, NAN), 0);
    assert_int_equal(ld_dist_init(&d, 1, 0.99), 0);
}

static void test_uniform_even(void **state)
{
    enum { N = 100, DRAWS = 200000 };
    struct ld_dist d;
    uint64_t rng = 1;
    unsigned hist[N] = { 0 };

    assert_int_equal(ld_dist_init(&d, N, 0), 0);
    for (int i = 0; i < DRAWS; i++) {
        uint64_t k = ld_dist_next(&d, &rng);

        assert_true(k < N);
        hist[k]++;
    }
    /* expected 2000 each; 5 sigma is about 220 */
    for (int k = 0; k < N; k++)
        assert_true(hist[k] > 1750 && hist[k] < 2250);
}

static void test_zipf_skew(void **state)
{
    enum { N = 1000, DRAWS = 400000 };
    struct ld_dist d;
    uint64_t rng = 5;
    unsigned *hist = calloc(N, sizeof(*hist));
    double theta = 0.99;

    assert_non_null(hist);
    assert_int_equal(ld_dist_init(&d, N, theta), 0);
    for (int i = 0; i < DRAWS; i++) {
        uint64_t k = ld_dist_next(&d, &rng);

        assert_true(k < N);
        hist[k]++;
    }
    /* rank 0 gets 1/zeta(N) of the draws, about 13% at N=1000 */
    assert_true(fabs((double)hist[0] / DRAWS - 1.0 / d.zetan) < 0.01);
    assert_true(hist[0] > hist[1] && hist[1] > hist[2]);
    /* hot head, thin tail: the first 10% of keys take well over half */
    {
        unsigned head = 0;

        for (int k = 0; k < N / 10; k++)
            head += hist[k];
        assert_true(head > DRAWS / 2);
    }
    free(hist);
}

static void test_one_key(void **state)
{
    struct ld_dist d;
    uint64_t rng = 9;

    assert_int_equal(ld_dist_init(&d, 1, 0.5), 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(ld_dist_next(&d, &rng), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rejects_bad_parameters),
        cmocka_unit_test(test_uniform_even),
        cmocka_unit_test(test_zipf_skew),
        cmocka_unit_test(test_one_key),
    };

    return cmocka_run_group_tests_name("loadtest_dist", tests, NULL, NULL);
}
