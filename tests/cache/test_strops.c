/* strops.c: Redis 7 string semantics, including the error cases. */
#include <math.h>
#include "test_util.h"

static struct cache *c;

static int setup(void **state) { c = mk(4, 0, CACHE_ALLKEYS_LRU); return 0; }
static int teardown(void **state)
{
    assert_int_equal(cache__check_invariants(c), 0);
    cache_destroy(c);
    return 0;
}

static void test_set_flags(void **state)
{
    struct cache_val old = {0};
    int found = -1;
    int64_t at;
    assert_int_equal(cache_set(c, S("k"), S("1"), CACHE_SET_XX, 0, 1, NULL, NULL), CACHE_NOTSET);
    assert_null(get(c, "k", 1));
    assert_int_equal(cache_set(c, S("k"), S("1"), CACHE_SET_NX, 0, 1, NULL, NULL), CACHE_OK);
    assert_int_equal(cache_set(c, S("k"), S("2"), CACHE_SET_NX, 0, 1, NULL, NULL), CACHE_NOTSET);
    assert_string_equal(get(c, "k", 1), "1");
    assert_int_equal(cache_set(c, S("k"), S("2"), CACHE_SET_XX, 5000, 1, NULL, NULL), CACHE_OK);
    assert_string_equal(get(c, "k", 1), "2");
    /* KEEPTTL keeps it, a plain SET clears it. */
    assert_int_equal(cache_set(c, S("k"), S("3"), CACHE_SET_KEEPTTL, 0, 1, NULL, NULL), CACHE_OK);
    assert_int_equal(cache_ttl(c, S("k"), 1, &at), CACHE_OK);
    assert_int_equal(at, 5000);
    assert_int_equal(set(c, "k", "4", 1), CACHE_OK);
    assert_int_equal(cache_ttl(c, S("k"), 1, &at), CACHE_OK);
    assert_int_equal(at, 0);
    /* GET returns the old value, also when NX stops the write. */
    assert_int_equal(cache_set(c, S("k"), S("5"), CACHE_SET_GET, 0, 1, &old, &found), CACHE_OK);
    assert_int_equal(found, 1);
    assert_int_equal(old.len, 1);
    assert_memory_equal(old.data, "4", 1);
    assert_int_equal(cache_set(c, S("k"), S("6"), CACHE_SET_GET | CACHE_SET_NX, 0, 1,
                               &old, &found), CACHE_NOTSET);
    assert_int_equal(found, 1);
    assert_memory_equal(old.data, "5", 1);
    assert_int_equal(cache_set(c, S("new"), S("x"), CACHE_SET_GET, 0, 1, &old, &found), CACHE_OK);
    assert_int_equal(found, 0);
    /* A past EXAT: nothing stored, the key deleted, GET still answers. */
    assert_int_equal(cache_set(c, S("k"), S("7"), CACHE_SET_GET, 1, 1, &old, &found), CACHE_OK);
    assert_int_equal(found, 1);
    assert_memory_equal(old.data, "5", 1);
    assert_null(get(c, "k", 1));
    assert_int_equal(cache_set(c, S("k"), S("7"), CACHE_SET_NX, 1, 1, NULL, NULL), CACHE_OK);
    assert_null(get(c, "k", 1));
    /* KEEPTTL ignores expire_at. */
    assert_int_equal(cache_set(c, S("k"), S("8"), CACHE_SET_KEEPTTL, 1, 1, NULL, NULL), CACHE_OK);
    assert_string_equal(get(c, "k", 1), "8");
    free(old.data);
}

static void test_getdel(void **state)
{
    struct cache_val v = {0};
    assert_int_equal(cache_getdel(c, S("gd"), 1, &v), CACHE_NOTFOUND);
    assert_int_equal(set(c, "gd", "val", 1), CACHE_OK);
    assert_int_equal(cache_getdel(c, S("gd"), 1, &v), CACHE_OK);
    assert_int_equal(v.len, 3);
    assert_memory_equal(v.data, "val", 3);
    assert_null(get(c, "gd", 1));
    free(v.data);
}

static void test_incr(void **state)
{
    long long r;
    int64_t at;
    assert_int_equal(cache_incr(c, S("n"), 5, 1, &r), CACHE_OK);
    assert_int_equal(r, 5);
    assert_int_equal(cache_incr(c, S("n"), -7, 1, &r), CACHE_OK);
    assert_int_equal(r, -2);
    assert_string_equal(get(c, "n", 1), "-2");
    /* TTL kept. */
    assert_int_equal(cache_expire(c, S("n"), 9000, 0, 1), CACHE_OK);
    assert_int_equal(cache_incr(c, S("n"), 1, 1, &r), CACHE_OK);
    assert_int_equal(cache_ttl(c, S("n"), 1, &at), CACHE_OK);
    assert_int_equal(at, 9000);
    const char *bad[] = {" 1", "1 ", "+1", "01", "-0", "", "abc", "1.0",
                         "9223372036854775808", "-9223372036854775809",
                         "123456789012345678901"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        assert_int_equal(set(c, "b", bad[i], 1), CACHE_OK);
        assert_int_equal(cache_incr(c, S("b"), 1, 1, &r), CACHE_E_NOTINT);
        assert_string_equal(get(c, "b", 1), bad[i]);
    }
    assert_int_equal(set(c, "b", "0", 1), CACHE_OK);
    assert_int_equal(cache_incr(c, S("b"), 0, 1, &r), CACHE_OK);
    assert_int_equal(set(c, "b", "9223372036854775807", 1), CACHE_OK);
    assert_int_equal(cache_incr(c, S("b"), 1, 1, &r), CACHE_E_OVERFLOW);
    assert_int_equal(cache_incr(c, S("b"), -1, 1, &r), CACHE_OK);
    assert_int_equal(r, 9223372036854775806LL);
    assert_int_equal(set(c, "b", "-9223372036854775808", 1), CACHE_OK);
    assert_int_equal(cache_incr(c, S("b"), -1, 1, &r), CACHE_E_OVERFLOW);
    assert_int_equal(cache_incr(c, S("b"), 9223372036854775807LL, 1, &r), CACHE_OK);
    assert_int_equal(r, -1);
    /* Growing a number past its allocation. */
    assert_int_equal(set(c, "g", "1", 1), CACHE_OK);
    assert_int_equal(cache_incr(c, S("g"), 1000000000000000000LL, 1, &r), CACHE_OK);
    assert_string_equal(get(c, "g", 1), "1000000000000000001");
}

static void test_incrbyfloat(void **state)
{
    char buf[CACHE_LD_MAX_CHARS];
    size_t len;
    assert_int_equal(cache_incrbyfloat(c, S("f"), 10.5L, 1, buf, sizeof(buf), &len), CACHE_OK);
    assert_string_equal(buf, "10.5");
    assert_int_equal(cache_incrbyfloat(c, S("f"), 0.1L, 1, buf, sizeof(buf), &len), CACHE_OK);
    assert_string_equal(buf, "10.6");
    assert_int_equal(len, 4);
    assert_int_equal(cache_incrbyfloat(c, S("f"), -5.6L, 1, buf, sizeof(buf), &len), CACHE_OK);
    assert_string_equal(buf, "5");
    assert_string_equal(get(c, "f", 1), "5");
    assert_int_equal(set(c, "f", "5.0e3", 1), CACHE_OK);
    assert_int_equal(cache_incrbyfloat(c, S("f"), 200, 1, buf, sizeof(buf), &len), CACHE_OK);
    assert_string_equal(buf, "5200");
    assert_int_equal(cache_incrbyfloat(c, S("z"), -0.0L, 1, buf, sizeof(buf), &len), CACHE_OK);
    assert_string_equal(buf, "0");
    assert_int_equal(set(c, "f", "abc", 1), CACHE_OK);
    assert_int_equal(cache_incrbyfloat(c, S("f"), 1, 1, buf, sizeof(buf), &len), CACHE_E_NOTFLOAT);
    assert_int_equal(set(c, "f", " 1", 1), CACHE_OK);
    assert_int_equal(cache_incrbyfloat(c, S("f"), 1, 1, buf, sizeof(buf), &len), CACHE_E_NOTFLOAT);
    assert_int_equal(set(c, "f", "nan", 1), CACHE_OK);
    assert_int_equal(cache_incrbyfloat(c, S("f"), 1, 1, buf, sizeof(buf), &len), CACHE_E_NOTFLOAT);
    assert_int_equal(set(c, "f", "inf", 1), CACHE_OK);
    assert_int_equal(cache_incrbyfloat(c, S("f"), 1, 1, buf, sizeof(buf), &len), CACHE_E_NANINF);
    assert_string_equal(get(c, "f", 1), "inf");
    assert_int_equal(set(c, "f", "1", 1), CACHE_OK);
    assert_int_equal(cache_incrbyfloat(c, S("f"), INFINITY, 1, buf, sizeof(buf), &len), CACHE_E_NANINF);
    /* Large results are long; a small buffer is refused, nothing changes. */
    assert_int_equal(set(c, "f", "1.5", 1), CACHE_OK);
    char small[64];
    assert_int_equal(cache_incrbyfloat(c, S("f"), 1e400L, 1, small, sizeof(small), &len), CACHE_E_TOOBIG);
    assert_string_equal(get(c, "f", 1), "1.5");
    assert_int_equal(cache_incrbyfloat(c, S("f"), 1e400L, 1, buf, sizeof(buf), &len), CACHE_OK);
    assert_int_equal(len, 401);
    assert_memory_equal(buf, "10000000000000000000", 20);
}

static void test_append_strlen(void **state)
{
    size_t n;
    int64_t at;
    assert_int_equal(cache_strlen(c, S("a"), 1, &n), CACHE_NOTFOUND);
    assert_int_equal(n, 0);
    assert_int_equal(cache_append(c, S("a"), "", 0, 1, &n), CACHE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(cache_exists(c, S("a"), 1), CACHE_OK);   /* created */
    assert_int_equal(cache_append(c, S("a"), S("hello"), 1, &n), CACHE_OK);
    assert_int_equal(n, 5);
    assert_int_equal(cache_expire(c, S("a"), 9000, 0, 1), CACHE_OK);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(cache_append(c, S("a"), S("xy"), 1, &n), CACHE_OK);
    assert_int_equal(n, 2005);
    assert_int_equal(cache_strlen(c, S("a"), 1, &n), CACHE_OK);
    assert_int_equal(n, 2005);
    assert_int_equal(cache_ttl(c, S("a"), 1, &at), CACHE_OK);
    assert_int_equal(at, 9000);
    struct cache_val v = {0};
    assert_int_equal(cache_getrange(c, S("a"), 0, 6, 1, &v), CACHE_OK);
    assert_int_equal(v.len, 7);
    assert_memory_equal(v.data, "helloxy", 7);
    free(v.data);
}

static void test_append_toobig(void **state)
{
    size_t n;
    assert_int_equal(cache_setrange(c, S("big"), CACHE_MAX_STRING - 1, "a", 1, 1, &n), CACHE_OK);
    assert_int_equal(n, CACHE_MAX_STRING);
    assert_int_equal(cache_append(c, S("big"), "b", 1, 1, &n), CACHE_E_TOOBIG);
    assert_int_equal(cache_strlen(c, S("big"), 1, &n), CACHE_OK);
    assert_int_equal(n, CACHE_MAX_STRING);
    assert_int_equal(cache_del(c, S("big"), 1), CACHE_OK);
}

static void test_getrange(void **state)
{
    struct cache_val v = {0};
    struct { long long s, e; const char *want; } cases[] = {
        {0, -1, "hello"}, {0, -100, "h"}, {-1, -5, ""}, {5, 10, ""},
        {1, 3, "ell"}, {-3, -1, "llo"}, {-100, 100, "hello"}, {3, 1, ""},
        {4, 4, "o"}, {-1, -1, "o"}, {0, 0, "h"},
    };
    assert_int_equal(set(c, "r", "hello", 1), CACHE_OK);
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        assert_int_equal(cache_getrange(c, S("r"), cases[i].s, cases[i].e, 1, &v), CACHE_OK);
        assert_int_equal(v.len, strlen(cases[i].want));
        if (v.len)
            assert_memory_equal(v.data, cases[i].want, v.len);
    }
    assert_int_equal(cache_getrange(c, S("missing"), 0, -1, 1, &v), CACHE_NOTFOUND);
    assert_int_equal(v.len, 0);
    assert_int_equal(set(c, "e", "", 1), CACHE_OK);
    assert_int_equal(cache_getrange(c, S("e"), 0, -1, 1, &v), CACHE_OK);
    assert_int_equal(v.len, 0);
    free(v.data);
}

static void test_setrange(void **state)
{
    size_t n;
    struct cache_val v = {0};
    assert_int_equal(cache_setrange(c, S("s"), 5, "", 0, 1, &n), CACHE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(cache_exists(c, S("s"), 1), CACHE_NOTFOUND);
    assert_int_equal(cache_setrange(c, S("s"), 3, S("ab"), 1, &n), CACHE_OK);
    assert_int_equal(n, 5);
    assert_int_equal(cache_get(c, S("s"), 1, &v), CACHE_OK);
    assert_int_equal(v.len, 5);
    assert_memory_equal(v.data, "\0\0\0ab", 5);
    assert_int_equal(cache_setrange(c, S("s"), 1, S("Z"), 1, &n), CACHE_OK);
    assert_int_equal(n, 5);
    assert_int_equal(cache_get(c, S("s"), 1, &v), CACHE_OK);
    assert_memory_equal(v.data, "\0Z\0ab", 5);
    assert_int_equal(cache_setrange(c, S("s"), 100, "", 0, 1, &n), CACHE_OK);
    assert_int_equal(n, 5);   /* empty write: length unchanged */
    assert_int_equal(cache_setrange(c, S("s"), CACHE_MAX_STRING, "x", 1, 1, &n),
                     CACHE_E_TOOBIG);
    assert_int_equal(cache_setrange(c, S("s"), CACHE_MAX_STRING * 4, "", 0, 1, &n),
                     CACHE_OK);
    assert_int_equal(cache_setrange(c, S("s"), 7, S("tail"), 1, &n), CACHE_OK);
    assert_int_equal(n, 11);
    assert_int_equal(cache_get(c, S("s"), 1, &v), CACHE_OK);
    assert_memory_equal(v.data, "\0Z\0ab\0\0tail", 11);
    free(v.data);
}

static void test_too_big_set(void **state)
{
    assert_int_equal(cache_set(c, S("x"), "", CACHE_MAX_STRING + 1, 0, 0, 1, NULL, NULL),
                     CACHE_E_TOOBIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_set_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_getdel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incrbyfloat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_strlen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_toobig, setup, teardown),
        cmocka_unit_test_setup_teardown(test_getrange, setup, teardown),
        cmocka_unit_test_setup_teardown(test_setrange, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_big_set, setup, teardown),
    };
    return cmocka_run_group_tests_name("cache_strops", tests, NULL, NULL);
}
