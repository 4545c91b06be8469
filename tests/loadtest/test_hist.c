/*
 * loadtest/hist.c: bucket arithmetic, percentiles against distributions
 * whose exact percentiles are known, and the edges (empty, one value, 0,
 * UINT64_MAX, merge).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ld.h"

/* Relative error bound of one bucket: its width over its lowest value. */
#define REL_ERR (1.0 / LD_HIST_SUB)

static struct ld_hist *new_hist(void)
{
    struct ld_hist *h = malloc(sizeof(*h));

    assert_non_null(h);
    ld_hist_init(h);
    return h;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* The exact value at pct of sorted v[0..n): the ceil(pct% * n)-th smallest. */
static uint64_t exact(const uint64_t *v, size_t n, double pct)
{
    size_t rank = (size_t)ceil(pct / 100.0 * (double)n - 1e-9);

    if (rank < 1)
        rank = 1;
    return v[rank - 1];
}

static void assert_close(uint64_t got, uint64_t want)
{
    /* the histogram answers the top of want's bucket: never below, and at
     * most one bucket width above */
    if (got < want || (double)(got - want) > REL_ERR * (double)want + 1.0)
        fail_msg("got %llu, want %llu (+%.2f%%)", (unsigned long long)got,
                 (unsigned long long)want, 100.0 * REL_ERR);
}

static void test_buckets_tile_the_range(void **state)
{
    /* consecutive buckets touch, each bucket maps back to itself */
    for (size_t i = 0; i + 1 < LD_HIST_NBUCKETS; i++) {
        assert_int_equal(hist_bucket_high(LD_HIST_PBITS, i) + 1, hist_bucket_low(LD_HIST_PBITS, i + 1));
        assert_int_equal(hist_index(LD_HIST_PBITS, hist_bucket_low(LD_HIST_PBITS, i)), i);
        assert_int_equal(hist_index(LD_HIST_PBITS, hist_bucket_high(LD_HIST_PBITS, i)), i);
    }
    assert_int_equal(hist_bucket_low(LD_HIST_PBITS, 0), 0);
    assert_true(hist_bucket_high(LD_HIST_PBITS, LD_HIST_NBUCKETS - 1) == UINT64_MAX);
    assert_int_equal(hist_index(LD_HIST_PBITS, UINT64_MAX), LD_HIST_NBUCKETS - 1);
}

static void test_small_values_exact(void **state)
{
    struct ld_hist *h = new_hist();

    /* below 2^P every value has its own bucket: percentiles are exact */
    for (uint64_t v = 1; v <= 100; v++)
        ld_hist_record(h, v);
    assert_int_equal(ld_hist_percentile(h, 50), 50);
    assert_int_equal(ld_hist_percentile(h, 90), 90);
    assert_int_equal(ld_hist_percentile(h, 99), 99);
    assert_int_equal(ld_hist_percentile(h, 99.9), 100);
    assert_int_equal(ld_hist_percentile(h, 1), 1);
    free(h);
}

static void test_bucket_width_bound(void **state)
{
    /* every bucket's width is within REL_ERR of its lowest value */
    for (size_t i = LD_HIST_SUB; i < LD_HIST_NBUCKETS; i++) {
        double lo = (double)hist_bucket_low(LD_HIST_PBITS, i), hi = (double)hist_bucket_high(LD_HIST_PBITS, i);

        assert_true((hi - lo) / lo <= REL_ERR);
    }
}

static void test_uniform(void **state)
{
    struct ld_hist *h = new_hist();
    const uint64_t n = 1000000;

    for (uint64_t v = 1; v <= n; v++)
        ld_hist_record(h, v);
    assert_close(ld_hist_percentile(h, 50), 500000);
    assert_close(ld_hist_percentile(h, 90), 900000);
    assert_close(ld_hist_percentile(h, 99), 990000);
    assert_close(ld_hist_percentile(h, 99.9), 999000);
    assert_int_equal(ld_hist_percentile(h, 100), n);
    assert_int_equal(ld_hist_percentile(h, 0), 1);
    assert_int_equal(h->count, n);
    free(h);
}

/* Latency-shaped: log-normal-ish around 100 us with a long tail. */
static void test_long_tail_against_sorted(void **state)
{
    static const double pcts[] = { 1, 10, 50, 75, 90, 99, 99.9, 99.99 };
    struct ld_hist *h = new_hist();
    const size_t n = 200000;
    uint64_t *v = malloc(n * sizeof(*v)), seed = 42;

    assert_non_null(v);
    for (size_t i = 0; i < n; i++) {
        double u1 = ((double)(ld_rand(&seed) >> 11) + 1) / 9007199254740993.0;
        double u2 = (double)(ld_rand(&seed) >> 11) / 9007199254740992.0;
        double z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);

        v[i] = (uint64_t)(100000.0 * exp(1.2 * z));     /* ns */
        ld_hist_record(h, v[i]);
    }
    qsort(v, n, sizeof(*v), cmp_u64);
    for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
        assert_close(ld_hist_percentile(h, pcts[i]), exact(v, n, pcts[i]));
    assert_int_equal(ld_hist_percentile(h, 100), v[n - 1]);
    assert_int_equal(h->min, v[0]);
    free(v);
    free(h);
}

static void test_empty(void **state)
{
    struct ld_hist *h = new_hist();

    assert_int_equal(ld_hist_percentile(h, 50), 0);
    assert_int_equal(ld_hist_percentile(h, 100), 0);
    assert_int_equal(h->count, 0);
    free(h);
}

static void test_single_value(void **state)
{
    struct ld_hist *h = new_hist();

    /* clamping to [min, max] makes one value exact at every percentile */
    ld_hist_record(h, 123456789);
    assert_int_equal(ld_hist_percentile(h, 0), 123456789);
    assert_int_equal(ld_hist_percentile(h, 50), 123456789);
    assert_int_equal(ld_hist_percentile(h, 99.9), 123456789);
    assert_int_equal(ld_hist_percentile(h, 100), 123456789);
    free(h);
}

static void test_extremes(void **state)
{
    struct ld_hist *h = new_hist();

    ld_hist_record(h, 0);
    ld_hist_record(h, UINT64_MAX);
    assert_int_equal(h->min, 0);
    assert_true(h->max == UINT64_MAX);
    assert_int_equal(ld_hist_percentile(h, 50), 0);
    assert_true(ld_hist_percentile(h, 51) == UINT64_MAX);
    assert_int_equal(h->buckets[0], 1);
    assert_int_equal(h->buckets[LD_HIST_NBUCKETS - 1], 1);
    free(h);
}

static void test_merge_equals_recording_all(void **state)
{
    struct ld_hist *a = new_hist(), *b = new_hist(), *all = new_hist(), *empty = new_hist();
    uint64_t seed = 7;

    for (int i = 0; i < 50000; i++) {
        uint64_t v = ld_rand(&seed) % 10000000;

        ld_hist_record(i % 3 ? a : b, v);
        ld_hist_record(all, v);
    }
    ld_hist_merge(a, b);
    ld_hist_merge(a, empty);
    assert_int_equal(a->count, all->count);
    assert_int_equal(a->min, all->min);
    assert_int_equal(a->max, all->max);
    assert_memory_equal(a->buckets, all->buckets, sizeof(a->buckets));
    ld_hist_merge(empty, all);      /* into an empty one: min comes along */
    assert_int_equal(empty->min, all->min);
    free(a);
    free(b);
    free(all);
    free(empty);
}

static void test_percentiles_monotonic(void **state)
{
    struct ld_hist *h = new_hist();
    uint64_t seed = 3, prev = 0;

    for (int i = 0; i < 10000; i++)
        ld_hist_record(h, ld_rand(&seed) >> (ld_rand(&seed) % 60));
    for (double p = 0; p <= 100; p += 0.5) {
        uint64_t v = ld_hist_percentile(h, p);

        assert_true(v >= prev);
        prev = v;
    }
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets_tile_the_range),
        cmocka_unit_test(test_small_values_exact),
        cmocka_unit_test(test_bucket_width_bound),
        cmocka_unit_test(test_uniform),
        cmocka_unit_test(test_long_tail_against_sorted),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_single_value),
        cmocka_unit_test(test_extremes),
        cmocka_unit_test(test_merge_equals_recording_all),
        cmocka_unit_test(test_percentiles_monotonic),
    };

    return cmocka_run_group_tests_name("loadtest_hist", tests, NULL, NULL);
}
