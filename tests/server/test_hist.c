/*
 * server/metrics/hist.c: the log-linear bucket arithmetic every latency
 * figure of the server goes through (INFO's loader percentiles, /metrics'
 * histograms).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hist.h"

/* Every value lands in the bucket whose range holds it. */
static void test_value_within_its_bucket(void **s)
{
    (void)s;
    uint64_t vals[] = {0, 1, 7, 8, 9, 15, 16, 17, 100, 1000, 1023, 1024, 1025,
                       65535, 65536, 1000000, (1ull << 39) - 1, (1ull << 39) + 12345};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        unsigned b = srv_hist_bucket(vals[i]);
        assert_true(srv_hist_top(b) >= vals[i]);
        if (b > 0)
            assert_true(srv_hist_top(b - 1) < vals[i]);
    }
    for (uint64_t v = 0; v < 100000; v += 7) {
        unsigned b = srv_hist_bucket(v);
        assert_true(srv_hist_top(b) >= v);
        assert_true(b == 0 || srv_hist_top(b - 1) < v);
    }
}

/* Small values are exact; beyond, a bucket is at most 1/8 of its bottom. */
static void test_buckets_log_linear(void **s)
{
    (void)s;
    for (unsigned b = 0; b < SRV_HIST_SUB; b++)
        assert_int_equal(srv_hist_top(b), b);
    for (unsigned b = SRV_HIST_SUB; b < SRV_HIST_N; b++) {
        uint64_t lo = srv_hist_top(b - 1) + 1, hi = srv_hist_top(b);
        assert_true(hi >= lo);
        assert_true(hi - lo + 1 <= lo / 8 + 1);
        assert_int_equal(srv_hist_bucket(lo), b);
        assert_int_equal(srv_hist_bucket(hi), b);
    }
}

/* Beyond 2^40 everything is the last bucket, never past the array. */
static void test_huge_values_clamp(void **s)
{
    (void)s;
    assert_int_equal(srv_hist_bucket(UINT64_MAX), SRV_HIST_N - 1);
    assert_int_equal(srv_hist_bucket(1ull << 50), SRV_HIST_N - 1);
}

static void test_percentile(void **s)
{
    (void)s;
    static _Atomic uint64_t h[SRV_HIST_SLOTS];
    uint64_t copy[SRV_HIST_SLOTS], total = 0;

    assert_int_equal(srv_hist_percentile((uint64_t[SRV_HIST_SLOTS]){0}, 0, 0.5), 0);
    for (uint64_t v = 1; v <= 1000; v++)
        srv_hist_add_owned(h, v);
    for (size_t i = 0; i < SRV_HIST_SLOTS; i++)
        copy[i] = h[i];
    for (size_t i = 0; i < SRV_HIST_N; i++)
        total += copy[i];
    assert_int_equal(total, 1000);
    assert_int_equal(copy[SRV_HIST_SUM], 1000 * 1001 / 2);   /* Prometheus's _sum */
    uint64_t p50 = srv_hist_percentile(copy, total, 0.50);
    uint64_t p99 = srv_hist_percentile(copy, total, 0.99);
    assert_true(p50 >= 500 && p50 <= 500 + 500 / 8);
    assert_true(p99 >= 990 && p99 <= 990 + 990 / 8);
    srv_hist_add(h, 5);   /* the many-writers add counts the same way */
    assert_int_equal(h[5], 2);
    assert_int_equal(h[SRV_HIST_SUM], 1000 * 1001 / 2 + 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_within_its_bucket),
        cmocka_unit_test(test_buckets_log_linear),
        cmocka_unit_test(test_huge_values_clamp),
        cmocka_unit_test(test_percentile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
