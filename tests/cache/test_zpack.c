/*
 * test_zpack: the compact block of a small sorted set (cache/zpack.c)
 * against a model (an array of pairs): random inserts at random places and
 * deletes of runs, every kind of score (the embedded integers, each
 * width's edges, doubles, infinities, -0 which reads back 0) and member
 * lengths across the varint's one- and two-byte forms, the empty member
 * included; after each step the block validates, its count, every pair
 * read in order, seek and find agree with the model, and its size is the
 * sum of cache__zp_pair_size. Fixed tests pin the sizes that make the
 * encoding worth having.
 */
#include <limits.h>
#include <math.h>

#include "test_util.h"

#include "zpack.h"

struct mpair {
    char m[300];
    size_t len;
    double score;
};

static double rand_score(void)
{
    static const double edges[] = {0, 1, 191, 192, -1, 127, 128, -128, -129, 32767, 32768,
                                   -32768, -32769, 8388607, 8388608, -8388608, 2147483647.0,
                                   2147483648.0, -2147483648.0, 4611686018427387903.0,
                                   4611686018427387904.0, -4611686018427387904.0, 0.5, -2.25,
                                   1e300, -1e-300, INFINITY, -INFINITY, 9007199254740993.0};
    if (rnd() % 3 == 0)
        return edges[rnd() % (sizeof(edges) / sizeof(edges[0]))];
    return (double)((int64_t)(rnd() % 100000) - 50000) / (rnd() % 2 ? 1.0 : 8.0);
}

static void check(const unsigned char *zp, size_t bytes, const struct mpair *m, size_t n)
{
    struct cache__zp_pair p;
    size_t want = CACHE__ZP_HDR, pos, i = 0;

    assert_int_equal(cache__zp_validate(zp, bytes), 0);
    assert_int_equal(cache__zp_count(zp), n);
    for (pos = cache__zp_first(zp, bytes); pos; pos = cache__zp_next(zp, bytes, pos), i++) {
        assert_true(i < n);
        cache__zp_get(zp, pos, &p);
        assert_int_equal(p.len, m[i].len);
        assert_memory_equal(p.m, m[i].m, p.len);
        assert_true(p.score == m[i].score);
        want += cache__zp_pair_size(m[i].len, m[i].score);
        if (rnd() % 8 == 0) {
            assert_int_equal(cache__zp_seek(zp, bytes, i), pos);
            assert_int_equal(cache__zp_find(zp, bytes, m[i].m, m[i].len), pos);
        }
    }
    assert_int_equal(i, n);
    assert_int_equal(bytes, want);
    assert_int_equal(cache__zp_seek(zp, bytes, n), 0);
}

static void test_property(void **st)
{
    static unsigned char zp[1 << 16];
    static struct mpair m[100];
    size_t bytes = CACHE__ZP_HDR, n = 0;

    (void)st;
    cache__zp_init(zp);
    for (int step = 0; step < 20000; step++) {
        if (n < 100 && (rnd() % 3 || n == 0)) {
            size_t at = n ? rnd() % (n + 1) : 0;
            struct mpair x;
            x.len = rnd() % 5 == 0 ? 120 + rnd() % 170 : rnd() % 12;
            for (size_t k = 0; k < x.len; k++)
                x.m[k] = (char)('a' + rnd() % 26);
            snprintf(x.m, sizeof(x.m), "%zu", (size_t)step);   /* members differ */
            x.len = x.len > strlen(x.m) ? x.len : strlen(x.m);
            x.score = rand_score();
            size_t pos = at < n ? cache__zp_seek(zp, bytes, at) : bytes;
            assert_int_equal(cache__zp_insert(zp, bytes, pos, x.m, x.len, x.score), pos);
            bytes += cache__zp_pair_size(x.len, x.score);
            if (x.score == 0)
                x.score = 0;   /* -0 reads back 0 */
            memmove(&m[at + 1], &m[at], (n - at) * sizeof(m[0]));
            m[at] = x;
            n++;
        } else {
            size_t at = rnd() % n, k = 1 + rnd() % 3;
            if (at + k > n)
                k = n - at;
            bytes -= cache__zp_delete(zp, bytes, cache__zp_seek(zp, bytes, at), (uint32_t)k);
            memmove(&m[at], &m[at + k], (n - at - k) * sizeof(m[0]));
            n -= k;
        }
        check(zp, bytes, m, n);
    }
    assert_int_equal(cache__zp_find(zp, bytes, "nope", 4), 0);
}

/* -0 is the integer 0 (Redis's listpack); the encoding's sizes. */
static void test_sizes(void **st)
{
    unsigned char zp[64];
    struct cache__zp_pair p;

    (void)st;
    cache__zp_init(zp);
    cache__zp_insert(zp, CACHE__ZP_HDR, CACHE__ZP_HDR, "a", 1, -0.0);
    cache__zp_get(zp, CACHE__ZP_HDR, &p);
    assert_false(signbit(p.score));
    assert_int_equal(cache__zp_pair_size(1, -0.0), 3);          /* len, byte, small int */
    assert_int_equal(cache__zp_pair_size(13, 999999), 1 + 13 + 4);
    assert_int_equal(cache__zp_pair_size(13, 0.1), 1 + 13 + 9);
    assert_int_equal(cache__zp_pair_size(200, 1), 2 + 200 + 1);
    assert_int_equal(cache__zp_pair_size(0, 4611686018427387904.0), 1 + 9);   /* a double */
    /* a corrupt block is refused */
    zp[4] = 0x7F;                                                /* the length runs out */
    assert_int_equal(cache__zp_validate(zp, CACHE__ZP_HDR + 3), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_property),
        cmocka_unit_test(test_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
