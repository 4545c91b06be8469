/*
 * bits.c: each primitive against a one-bit-at-a-time model, on random
 * arrays that hold long runs of 0x00 and 0xFF (the word-skipping paths)
 * at random offsets (unaligned words), and the BITFIELD overflow rules
 * against 128-bit arithmetic, with Redis 7.0's one quirk named.
 */
#include <limits.h>

#include "test_util.h"
#include "bits.h"
#include "bit_model.h"

#define N 700

static unsigned char buf[N];

/* Random bytes, or runs of 0x00 / 0xFF / one byte, so a search crosses
 * whole words before it finds anything. */
static void fill(unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t run = 1 + rnd() % 80;
        int kind = (int)(rnd() % 4);
        for (size_t j = 0; j < run && i < n; j++, i++)
            p[i] = kind == 0 ? 0x00 : kind == 1 ? 0xFF : (unsigned char)rnd();
    }
}

static void test_bit_get_put(void **state)
{
    unsigned char b[2] = {0};
    cache__bit_put(b, 0, 1);
    cache__bit_put(b, 9, 1);
    assert_int_equal(b[0], 0x80);   /* bit 0 is the top bit (Redis) */
    assert_int_equal(b[1], 0x40);
    assert_int_equal(cache__bit_get(b, 9), 1);
    cache__bit_put(b, 9, 0);
    assert_int_equal(b[1], 0);
}

static void test_popcount_and_count_range(void **state)
{
    for (int round = 0; round < 3000; round++) {
        fill(buf, N);
        size_t off = rnd() % 64, n = rnd() % (N - off);
        uint64_t want = 0;
        for (size_t i = 0; i < n * 8; i++)
            want += (uint64_t)model_bit(buf + off, i);
        assert_int_equal(cache__popcount(buf + off, n), want);
        if (n == 0)
            continue;
        uint64_t from = rnd() % (n * 8), to = from + rnd() % (n * 8 - from);
        want = 0;
        for (uint64_t i = from; i <= to; i++)
            want += (uint64_t)model_bit(buf + off, i);
        assert_int_equal(cache__bitcount_range(buf + off, from, to), want);
    }
}

static void test_bitpos_range(void **state)
{
    for (int round = 0; round < 5000; round++) {
        fill(buf, N);
        size_t off = rnd() % 64, n = 1 + rnd() % (N - off - 1);
        uint64_t from = rnd() % (n * 8), to = from + rnd() % (n * 8 - from);
        int bit = (int)(rnd() & 1);
        int64_t want = -1;
        for (uint64_t i = from; i <= to && want < 0; i++)
            if (model_bit(buf + off, i) == bit)
                want = (int64_t)i;
        assert_int_equal(cache__bitpos_range(buf + off, from, to, bit), want);
    }
}

static void test_range_resolve(void **state)
{
    static const long long picks[] = {0, 1, 2, -1, -2, 5, 6, 7, 8, 47, 48, 100, -100,
                                      LLONG_MAX, LLONG_MIN, -47, -48, -49};
    size_t np = sizeof(picks) / sizeof(picks[0]);
    uint64_t f, t, mf, mt;

    /* "foobar" (6 bytes), by hand: Redis's documented answers' ranges */
    struct cache_bitrange r = {.start = 1, .end = 1, .given = 1, .end_given = 1};
    assert_true(cache__bitrange_resolve(6, &r, &f, &t));
    assert_int_equal(f, 8);
    assert_int_equal(t, 15);
    r = (struct cache_bitrange){.start = 5, .end = 30, .given = 1, .end_given = 1, .bit = 1};
    assert_true(cache__bitrange_resolve(6, &r, &f, &t));
    assert_int_equal(f, 5);
    assert_int_equal(t, 30);
    r = (struct cache_bitrange){.start = 0, .given = 1};   /* BITPOS k 0 0: to the end */
    assert_true(cache__bitrange_resolve(2, &r, &f, &t));
    assert_int_equal(t, 15);
    r = (struct cache_bitrange){0};
    assert_false(cache__bitrange_resolve(0, &r, &f, &t));   /* "" holds no bit */
    for (int len = 0; len < 10; len++)
        for (size_t i = 0; i < np; i++)
            for (size_t j = 0; j < np; j++)
                for (int mode = 0; mode < 4; mode++) {
                    r = (struct cache_bitrange){.start = picks[i], .end = picks[j], .given = 1,
                                                .end_given = mode & 1, .bit = (mode & 2) != 0};
                    bool got = cache__bitrange_resolve((size_t)len, &r, &f, &t);
                    bool want = model_range(len, true, r.start, r.end, r.end_given, r.bit,
                                            &mf, &mt);
                    assert_int_equal(got, want);
                    if (got) {
                        assert_int_equal(f, mf);
                        assert_int_equal(t, mt);
                        assert_true(f <= t && t < (uint64_t)len * 8);
                    }
                }
}

static void test_bf_get_set(void **state)
{
    for (int round = 0; round < 5000; round++) {
        fill(buf, 32);
        unsigned bits = 1 + (unsigned)(rnd() % 64);
        uint64_t off = rnd() % (32 * 8 - bits + 1);
        size_t len = rnd() % 33;   /* a GET may read past the end: zeros */
        uint64_t want = 0;
        for (unsigned j = 0; j < bits; j++) {
            uint64_t i = off + j;
            want = (want << 1) | (uint64_t)(i / 8 < len ? model_bit(buf, i) : 0);
        }
        assert_true(cache__bf_get_u(buf, len, off, bits) == want);
        int64_t iw = bits < 64 && (want >> (bits - 1)) ? (int64_t)(want | (UINT64_MAX << bits))
                                                     : (int64_t)want;
        assert_true(cache__bf_get_i(buf, len, off, bits) == iw);
        uint64_t v = rnd();
        unsigned char before[32];
        memcpy(before, buf, 32);
        cache__bf_set(buf, off, bits, v);
        for (uint64_t i = 0; i < 32 * 8; i++) {
            int exp = i >= off && i < off + bits ? (int)((v >> (bits - 1 - (i - off))) & 1)
                                                 : model_bit(before, i);
            assert_int_equal(model_bit(buf, i), exp);
        }
    }
}

/* ---- overflow: the model is exact 128-bit arithmetic ---------------------------- */

static int64_t pick_i64(void)
{
    static const int64_t edge[] = {0, 1, -1, 2, -2, 127, 128, -128, -129, 255, 256,
                                   INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1,
                                   INT64_MIN + 127, INT64_MIN + 128};
    return rnd() % 3 ? edge[rnd() % (sizeof(edge) / sizeof(edge[0]))]
                     : (int64_t)(rnd() >> (rnd() % 64));
}

static void test_overflow_unsigned(void **state)
{
    for (int round = 0; round < 200000; round++) {
        unsigned bits = 1 + (unsigned)(rnd() % 63);
        uint64_t max = (1ULL << bits) - 1;
        bool set = rnd() & 1;   /* SET: any value, incr 0; INCRBY: a field's value */
        uint64_t value = set ? (uint64_t)pick_i64() : (uint64_t)pick_i64() & max;
        int64_t incr = set ? 0 : pick_i64();
        int ow = (int)(rnd() % 3);
        uint64_t lim = 12345;
        __int128 sum = (__int128)value + incr;
        int want = value > max || sum > (__int128)max ? 1 : sum < 0 ? -1 : 0;
        int got = cache__bf_overflow_u(value, incr, bits, ow, &lim);
        assert_int_equal(got, want);
        if (!got || ow == CACHE_BF_FAIL)
            assert_true(lim == 12345);
        else if (ow == CACHE_BF_SAT)
            assert_true(lim == (got > 0 ? max : 0));
        else
            assert_true(lim == ((uint64_t)sum & max));
    }
}

static void test_overflow_signed(void **state)
{
    for (int round = 0; round < 200000; round++) {
        unsigned bits = 1 + (unsigned)(rnd() % 64);
        __int128 max = bits == 64 ? INT64_MAX : ((__int128)1 << (bits - 1)) - 1, min = -max - 1;
        bool set = rnd() & 1;
        int64_t value = pick_i64(), incr = set ? 0 : pick_i64();
        if (!set) {   /* a field's value is in range */
            uint64_t u = (uint64_t)value & (bits == 64 ? UINT64_MAX : (1ULL << bits) - 1);
            value = bits < 64 && (u >> (bits - 1)) ? (int64_t)(u | (UINT64_MAX << bits))
                                                   : (int64_t)u;
        }
        int ow = (int)(rnd() % 3);
        int64_t lim = 12345;
        __int128 sum = (__int128)value + incr;
        int want = sum > max ? 1 : sum < min ? -1 : 0;
        /* Redis's quirk: SET of a value so negative that max - value
         * passes INT64_MAX counts as an overflow upward (SAT stores max:
         * checked against redis-server 7.0.15, test_bitmaps.c). */
        if (set && bits < 64 && (__int128)max - value > INT64_MAX)
            want = 1;
        int got = cache__bf_overflow_i(value, incr, bits, ow, &lim);
        assert_int_equal(got, want);
        if (!got || ow == CACHE_BF_FAIL) {
            assert_true(lim == 12345);
        } else if (ow == CACHE_BF_SAT) {
            assert_true(lim == (got > 0 ? (int64_t)max : (int64_t)min));
        } else {
            uint64_t w = (uint64_t)(unsigned __int128)sum;
            if (bits < 64)
                w = (w >> (bits - 1)) & 1 ? w | (UINT64_MAX << bits) : w & ~(UINT64_MAX << bits);
            assert_true(lim == (int64_t)w);
        }
    }
}

static void test_bitop(void **state)
{
    unsigned char s[4][64], dst[64];
    const unsigned char *src[4];
    size_t len[4];

    for (int round = 0; round < 3000; round++) {
        size_t n = 1 + rnd() % 4, maxlen = 0;
        int op = (int)(rnd() % 4);
        if (op == CACHE_BITOP_NOT)
            n = 1;
        for (size_t j = 0; j < n; j++) {
            len[j] = rnd() % 5 ? rnd() % 64 : 0;
            fill(s[j], len[j]);
            src[j] = len[j] ? s[j] : NULL;
            if (len[j] > maxlen)
                maxlen = len[j];
        }
        memset(dst, 0xAA, sizeof(dst));
        cache__bitop(op, dst, maxlen, src, len, n);
        for (size_t i = 0; i < maxlen; i++) {
            unsigned want = i < len[0] ? s[0][i] : 0;
            for (size_t j = 1; j < n; j++) {
                unsigned b = i < len[j] ? s[j][i] : 0;
                want = op == CACHE_BITOP_AND ? want & b : op == CACHE_BITOP_OR ? want | b : want ^ b;
            }
            if (op == CACHE_BITOP_NOT)
                want = ~want & 0xFF;
            assert_int_equal(dst[i], want);
        }
        assert_int_equal(dst[maxlen], 0xAA);   /* nothing past the result */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bit_get_put),
        cmocka_unit_test(test_popcount_and_count_range),
        cmocka_unit_test(test_bitpos_range),
        cmocka_unit_test(test_range_resolve),
        cmocka_unit_test(test_bf_get_set),
        cmocka_unit_test(test_overflow_unsigned),
        cmocka_unit_test(test_overflow_signed),
        cmocka_unit_test(test_bitop),
    };
    return cmocka_run_group_tests_name("cache/bits", tests, NULL, NULL);
}
