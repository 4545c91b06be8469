/*
 * test_intset: the set-of-integers encoding (cache/intset.c): width
 * upgrades at every boundary, order, and a property test of random adds
 * and removes against a plain sorted array, checked after every step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "intset.h"
#include "test_util.h"

static unsigned char *room(unsigned char *is, size_t need, size_t *cap)
{
    if (need > *cap) {
        *cap = need * 2;
        is = realloc(is, *cap);
        assert_non_null(is);
    }
    return is;
}

static unsigned char *add(unsigned char *is, size_t *cap, int64_t v, bool *added)
{
    is = room(is, cache__is_add_need(is, v), cap);
    *added = cache__is_add(is, v);
    return is;
}

static void test_widths(void **st)
{
    size_t cap = 64;
    unsigned char *is = malloc(cap);
    bool added;
    cache__is_init(is);
    assert_int_equal(cache__is_bytes(is), CACHE__IS_HDR);
    is = add(is, &cap, 5, &added);
    assert_true(added);
    assert_int_equal(cache__is_bytes(is), CACHE__IS_HDR + 2);
    is = add(is, &cap, 5, &added);
    assert_false(added);
    is = add(is, &cap, -32768, &added);
    assert_int_equal(cache__is_bytes(is), CACHE__IS_HDR + 4);
    is = add(is, &cap, 32768, &added);                 /* to 4 bytes, at the end */
    assert_int_equal(cache__is_bytes(is), CACHE__IS_HDR + 12);
    is = add(is, &cap, INT64_MIN, &added);             /* to 8 bytes, at the front */
    assert_int_equal(cache__is_bytes(is), CACHE__IS_HDR + 32);
    int64_t want[] = {INT64_MIN, -32768, 5, 32768};
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(cache__is_get(is, i), want[i]);
    uint32_t pos;
    assert_true(cache__is_find(is, 32768, &pos));
    assert_int_equal(pos, 3);
    assert_false(cache__is_find(is, 6, &pos));
    assert_int_equal(pos, 3);
    assert_true(cache__is_remove(is, -32768));
    assert_false(cache__is_remove(is, -32768));
    assert_int_equal(cache__is_count(is), 3);
    assert_int_equal(cache__is_validate(is, cache__is_bytes(is)), 0);
    free(is);
}

/* A small width never "finds" a value wider than it can hold. */
static void test_find_wide_in_narrow(void **st)
{
    unsigned char is[CACHE__IS_HDR + 4];
    bool added;
    uint32_t pos;
    cache__is_init(is);
    added = cache__is_add(is, 1);
    assert_true(added);
    assert_false(cache__is_find(is, 65537, &pos));      /* low 16 bits are 1 */
    assert_int_equal(pos, 1);
    assert_false(cache__is_find(is, INT64_MIN + 1, &pos));
    assert_int_equal(pos, 0);
}

static int64_t gen(void)
{
    switch (rnd() % 4) {
    case 0: return (int64_t)(rnd() % 100) - 50;
    case 1: return (int64_t)(rnd() % 100000) - 50000;
    case 2: return (int64_t)(rnd() % 10000000000ull) - 5000000000ll;
    default: return (int64_t)rnd();
    }
}

static void test_property(void **st)
{
    const char *env = getenv("MMCACHE_PROP_ITERS");
    long iters = env ? atol(env) : 20000;
    size_t cap = 16, n = 0;
    unsigned char *is = malloc(cap);
    int64_t model[1000];

    cache__is_init(is);
    for (long it = 0; it < iters; it++) {
        int64_t v = (rnd() % 3 == 0 && n) ? model[rnd() % n] : gen();
        uint32_t i = 0;
        while (i < n && model[i] < v)
            i++;
        bool present = i < n && model[i] == v;
        if (rnd() % 2 == 0 && n < 1000) {
            bool added;
            is = add(is, &cap, v, &added);
            assert_int_equal(added, !present);
            if (!present) {
                memmove(&model[i + 1], &model[i], (n - i) * sizeof(model[0]));
                model[i] = v;
                n++;
            }
        } else {
            assert_int_equal(cache__is_remove(is, v), present);
            if (present) {
                memmove(&model[i], &model[i + 1], (n - i - 1) * sizeof(model[0]));
                n--;
            }
        }
        assert_int_equal(cache__is_validate(is, cache__is_bytes(is)), 0);
        assert_int_equal(cache__is_count(is), n);
        for (uint32_t j = 0; j < n; j++)
            assert_int_equal(cache__is_get(is, j), model[j]);
        /* find agrees with the model after the step, and says where */
        uint32_t pos, k = 0;
        while (k < n && model[k] < v)
            k++;
        assert_int_equal(cache__is_find(is, v, &pos), k < n && model[k] == v);
        assert_int_equal(pos, k);
    }
    free(is);
}

static void test_validate_catches(void **st)
{
    unsigned char is[CACHE__IS_HDR + 6];
    cache__is_init(is);
    (void)cache__is_add(is, 1);
    (void)cache__is_add(is, 2);
    (void)cache__is_add(is, 3);
    assert_int_equal(cache__is_validate(is, sizeof(is)), 0);
    assert_int_equal(cache__is_validate(is, sizeof(is) - 1), -1);
    is[CACHE__IS_HDR] = 7;   /* 7, 2, 3: out of order */
    assert_int_equal(cache__is_validate(is, sizeof(is)), -1);
    is[CACHE__IS_HDR] = 1;
    is[0] = 3;               /* width 3 */
    assert_int_equal(cache__is_validate(is, sizeof(is)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_widths),
        cmocka_unit_test(test_find_wide_in_narrow),
        cmocka_unit_test(test_validate_catches),
        cmocka_unit_test(test_property),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
