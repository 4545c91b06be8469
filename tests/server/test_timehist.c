/*
 * server/metrics/timehist.h: the server's time histograms on hist/'s
 * bucket arithmetic (hist/ itself is tested by tests/loadtest/test_hist.c):
 * both adds count a value in hist/'s bucket and its sum in the extra slot
 * (Prometheus's _sum), huge values clamp into the last bucket, and
 * hist_percentile over the buckets stays within one bucket (12.5%).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "timehist.h"

static void test_bucket_is_hists(void **s)
{
    (void)s;
    const uint64_t vals[] = {0, 1, 7, 8, 9, 15, 16, 17, 100, 1000, 123456, 1ull << 39};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        size_t b = srv_hist_bucket(vals[i]);
        assert_int_equal(b, hist_index(SRV_HIST_P, vals[i]));
        assert_true(hist_bucket_low(SRV_HIST_P, b) <= vals[i]);
        assert_true(hist_bucket_high(SRV_HIST_P, b) >= vals[i]);
    }
}

static void test_huge_values_clamp(void **s)
{
    (void)s;
    assert_int_equal(srv_hist_bucket(UINT64_MAX), SRV_HIST_N - 1);
    assert_int_equal(srv_hist_bucket(1ull << 50), SRV_HIST_N - 1);
    assert_int_equal(srv_hist_bucket((1ull << 40) - 1), SRV_HIST_N - 1);
    assert_true(srv_hist_bucket((1ull << 39) - 1) < SRV_HIST_N - 1);
}

static void test_add_and_percentile(void **s)
{
    (void)s;
    static _Atomic uint64_t h[SRV_HIST_SLOTS];
    uint64_t copy[SRV_HIST_SLOTS], total = 0;

    assert_int_equal(hist_percentile(SRV_HIST_P, (uint64_t[SRV_HIST_SLOTS]){0}, SRV_HIST_N, 0, 50),
                     0);
    for (uint64_t v = 1; v <= 1000; v++)
        srv_hist_add_owned(h, v);
    for (size_t i = 0; i < SRV_HIST_SLOTS; i++)
        copy[i] = h[i];
    for (size_t i = 0; i < SRV_HIST_N; i++)
        total += copy[i];
    assert_int_equal(total, 1000);
    assert_int_equal(copy[SRV_HIST_SUM], 1000 * 1001 / 2);   /* Prometheus's _sum */
    uint64_t p50 = hist_percentile(SRV_HIST_P, copy, SRV_HIST_N, total, 50);
    uint64_t p99 = hist_percentile(SRV_HIST_P, copy, SRV_HIST_N, total, 99);
    assert_true(p50 >= 500 && p50 <= 500 + 500 / 8);
    assert_true(p99 >= 990 && p99 <= 990 + 990 / 8);
    srv_hist_add(h, 5);   /* the many-writers add counts the same way */
    assert_int_equal(h[5], 2);
    assert_int_equal(h[SRV_HIST_SUM], 1000 * 1001 / 2 + 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_is_hists),
        cmocka_unit_test(test_huge_values_clamp),
        cmocka_unit_test(test_add_and_percentile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
