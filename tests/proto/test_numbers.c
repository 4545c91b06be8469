/*
 * Tests for proto/numbers.c. Expected texts for proto_ld2str come from a
 * real redis-server 7.0.15 (SET k a; INCRBYFLOAT k b), and the accept /
 * refuse lists for proto_str2ld from INCRBYFLOAT's "not a valid float".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto.h"

static int ll(const char *s, long long *v)
{
    return proto_str2ll(s, strlen(s), v);
}

static void test_str2ll_accepts(void **state)
{
    static const struct { const char *s; long long v; } ok[] = {
        { "0", 0 }, { "1", 1 }, { "-1", -1 }, { "10", 10 }, { "1234567890", 1234567890 },
        { "9223372036854775807", LLONG_MAX }, { "-9223372036854775808", LLONG_MIN },
        { "-9223372036854775807", -LLONG_MAX },
    };
    size_t i;
    long long v;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        v = 42;
        assert_int_equal(ll(ok[i].s, &v), 0);
        assert_true(v == ok[i].v);
    }
    assert_int_equal(proto_str2ll("12", 2, NULL), 0);
    /* length-delimited: bytes after n are not looked at */
    assert_int_equal(proto_str2ll("12x", 2, &v), 0);
    assert_int_equal(v, 12);
}

static void test_str2ll_refuses(void **state)
{
    static const char *bad[] = {
        "", "-", "+1", "01", "00", "-0", "-01", " 1", "1 ", "1x", "x",
        "9223372036854775808", "-9223372036854775809", "18446744073709551616",
        "99999999999999999999", "000000000000000000001", "1.0", "0x10", "1e3",
    };
    size_t i;
    long long v = 7;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ll(bad[i], &v), -1);
    assert_int_equal(v, 7);     /* untouched on failure */
    assert_int_equal(proto_str2ll("1\0", 2, &v), -1);
}

static void test_ll2str(void **state)
{
    static const long long vals[] = {
        0, 1, -1, 9, 10, 99, 100, 12345, -12345, 1000000007, LLONG_MAX, LLONG_MIN,
    };
    char buf[32], ref[32];
    size_t i, n;
    long long back;

    (void)state;
    for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        n = proto_ll2str(buf, sizeof(buf), vals[i]);
        snprintf(ref, sizeof(ref), "%lld", vals[i]);
        assert_string_equal(buf, ref);
        assert_int_equal(n, strlen(ref));
        assert_int_equal(proto_str2ll(buf, n, &back), 0);
        assert_true(back == vals[i]);
    }
    /* every power of ten and its neighbours (digit-count edges) */
    for (unsigned long long p = 1; p <= 1000000000000000000ULL; p *= 10) {
        long long v[3] = { (long long)p - 1, (long long)p, (long long)p + 1 };
        int k;

        for (k = 0; k < 3; k++) {
            proto_ll2str(buf, sizeof(buf), v[k]);
            snprintf(ref, sizeof(ref), "%lld", v[k]);
            assert_string_equal(buf, ref);
        }
    }
    assert_int_equal(proto_ll2str(buf, 3, 123), 0);     /* no room for the NUL */
    assert_int_equal(proto_ll2str(buf, 4, 123), 3);
    assert_int_equal(proto_ll2str(buf, 21, LLONG_MIN), 20);
}

static int ld(const char *s, long double *v)
{
    return proto_str2ld(s, strlen(s), v);
}

static void test_str2ld(void **state)
{
    static const char *ok[] = { "1", "-1.5", "+1", ".5", "5.", "0x10", "1e300", "inf", "-inf", "3.0e3" };
    static const char *bad[] = { "", " 1", "1 ", "\t1", "nan", "-nan", "NaN", "1e", "1e5000",
                                 "1e-5000", "abc", "1.2.3", "--1" };
    long double v;
    size_t i;
    char *huge;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_int_equal(ld(ok[i], &v), 0);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ld(bad[i], &v), -1);
    assert_int_equal(ld("0x10", &v), 0);
    assert_true(v == 16.0L);
    assert_int_equal(ld("inf", &v), 0);
    assert_true(isinf(v));
    assert_int_equal(proto_str2ld("1\0", 2, &v), -1);   /* NUL inside */
    assert_int_equal(proto_str2ld("2.5xyz", 3, &v), 0);  /* length-delimited */
    assert_true(v == 2.5L);
    /* Redis refuses strings of MAX_LONG_DOUBLE_CHARS or more */
    huge = malloc(PROTO_LD_STR_MAX);
    assert_non_null(huge);
    memset(huge, '1', PROTO_LD_STR_MAX);
    huge[0] = '0';
    huge[1] = '.';
    assert_int_equal(proto_str2ld(huge, PROTO_LD_STR_MAX - 1, &v), 0);
    assert_int_equal(proto_str2ld(huge, PROTO_LD_STR_MAX, &v), -1);
    free(huge);
}

/* Scores and weights: redis-server 7.0.15 took or refused each of these
 * in ZADD (ok/bad) and ZRANGEBYSCORE (range_ok/range_bad). */
static void test_str2d(void **state)
{
    static const char *ok[] = { "1", "-1.5", "+1", ".5", "0x10", "1e300", "inf", "-inf", "+inf",
                                "infinity", "-0", "4.9e-324" };
    static const char *bad[] = { "", " 1", "1 ", "\t1", "nan", "-nan", "1e", "1e400", "1e-400",
                                 "abc", "1.2.3", "--1" };
    static const char *range_ok[] = { "", " 1", "1e400", "-1e400", "inf", "0x10", "1e-400" };
    static const char *range_bad[] = { "nan", "1 ", "abc", "1e", "(1" };
    double v;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_int_equal(proto_str2d(ok[i], strlen(ok[i]), &v), 0);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(proto_str2d(bad[i], strlen(bad[i]), &v), -1);
    for (i = 0; i < sizeof(range_ok) / sizeof(range_ok[0]); i++)
        assert_int_equal(proto_str2d_range(range_ok[i], strlen(range_ok[i]), &v), 0);
    for (i = 0; i < sizeof(range_bad) / sizeof(range_bad[0]); i++)
        assert_int_equal(proto_str2d_range(range_bad[i], strlen(range_bad[i]), &v), -1);
    assert_int_equal(proto_str2d("0x10", 4, &v), 0);
    assert_true(v == 16.0);
    assert_int_equal(proto_str2d("1\0", 2, &v), -1);           /* NUL inside */
    assert_int_equal(proto_str2d_range("2\0x", 3, &v), 0);     /* a C string: NUL ends it */
    assert_true(v == 2.0);
    assert_int_equal(proto_str2d_range("", 0, &v), 0);
    assert_true(v == 0.0);
}

static void test_d2str_matches_redis(void **state)
{
    static const struct { double v; const char *out; } cases[] = {
        { 1.1, "1.1000000000000001" }, { 0.1, "0.10000000000000001" }, { 1e20, "1e+20" },
        { 3, "3" }, { -1.5, "-1.5" }, { -0.0, "-0" }, { 1.0 / 0.0, "inf" }, { -1.0 / 0.0, "-inf" },
        { 123456789012345678.0, "1.2345678901234568e+17" }, { 2.5e-5, "2.5000000000000001e-05" },
    };
    char buf[PROTO_D_STR_MAX];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = proto_d2str(buf, sizeof(buf), cases[i].v);
        assert_int_equal(n, strlen(cases[i].out));
        assert_string_equal(buf, cases[i].out);
    }
    assert_int_equal(proto_d2str(buf, 3, 1.5), 0);   /* no room */
}

/* a + b formatted, as INCRBYFLOAT computes it */
static const char *incrbyfloat(const char *a, const char *b, char *buf, size_t cap)
{
    long double x, y;

    assert_int_equal(ld(a, &x), 0);
    assert_int_equal(ld(b, &y), 0);
    assert_true(proto_ld2str(buf, cap, x + y) > 0);
    return buf;
}

static void test_ld2str_matches_redis(void **state)
{
    static const struct { const char *a, *b, *out; } cases[] = {
        { "10.5", "0.1", "10.6" },
        { "3.0e3", "0", "3000" },
        { "5.0e3", "2.0e2", "5200" },
        { "-0", "-0", "0" },
        { "0", "1e-20", "0" },
        { "0", "0.1", "0.1" },
        { "0", "-1.5", "-1.5" },
        { "1.1", "2.2", "3.3" },
        { "0", "123456789012345678", "123456789012345678" },
        { "0", "1e17", "100000000000000000" },
        { "0", "0.30000000000000004", "0.30000000000000004" },
        { "0", "3.14159265358979323846", "3.14159265358979324" },
        { "0", "1e-17", "0.00000000000000001" },
        { "0", "-1e-18", "0" },
        { "0", "2.5e-5", "0.000025" },
        { "1", "1e300",
          "1000000000000000000008997324079559193870523944273290747938260082321265646596"
          "1809357558491520837504971903503725086142748359035925561846729839130962605207"
          "4864628732713564184365329408425510760601678972665293237003055138294762099454"
          "0294772781889620606179267611627097410650567187386105690089424915104006144" },
    };
    char buf[PROTO_LD_STR_MAX];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(incrbyfloat(cases[i].a, cases[i].b, buf, sizeof(buf)), cases[i].out);
}

static void test_ld2str_edges(void **state)
{
    char buf[PROTO_LD_STR_MAX], small[4];

    (void)state;
    assert_int_equal(proto_ld2str(buf, sizeof(buf), INFINITY), 3);
    assert_string_equal(buf, "inf");
    assert_int_equal(proto_ld2str(buf, sizeof(buf), -INFINITY), 4);
    assert_string_equal(buf, "-inf");
    assert_int_equal(proto_ld2str(small, sizeof(small), -INFINITY), 0);
    assert_int_equal(proto_ld2str(small, sizeof(small), 12.0L), 0);  /* "12.000..." does not fit */
    assert_true(proto_ld2str(buf, sizeof(buf), LDBL_MAX) > 4900);
    assert_true(proto_ld2str(buf, sizeof(buf), -LDBL_MAX) > 4900);
    assert_int_equal(proto_ld2str(buf, sizeof(buf), 100.0L), 3);
    assert_string_equal(buf, "100");  /* zeros before the '.' stay */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_str2ll_accepts),
        cmocka_unit_test(test_str2ll_refuses),
        cmocka_unit_test(test_ll2str),
        cmocka_unit_test(test_str2ld),
        cmocka_unit_test(test_ld2str_matches_redis),
        cmocka_unit_test(test_str2d),
        cmocka_unit_test(test_d2str_matches_redis),
        cmocka_unit_test(test_ld2str_edges),
    };

    return cmocka_run_group_tests_name("proto_numbers", tests, NULL, NULL);
}
