/*
 * origin_synthetic.c: the value format, the latency and its cut at the
 * deadline, cancel, and the error rate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "origin_fixture.h"

static int setup(void **state)
{
    char err[128] = "";
    *state = origin_create(CFG_LOADER_SYNTHETIC, "", 7, err, sizeof(err));
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    origin_put(*state);
    return 0;
}

static void expect_val(struct origin *o, const char *key, const struct origin_params *p,
                         const char *want)
{
    struct origin_result res;
    assert_int_equal(fx_load(o, key, p, &res), ORIGIN_VALUE);
    assert_int_equal(res.len, strlen(want));
    assert_memory_equal(res.data, want, res.len);
    free(res.data);
}

static void test_value_format(void **state)
{
    struct origin *o = *state;
    struct origin_params p = fx_params(1000);
    expect_val(o, "foo", &p, "key:foo:v7");
    p.synthetic_value_size = 16;   /* padded with '.' */
    expect_val(o, "foo", &p, "key:foo:v7......");
    p.synthetic_value_size = 4;    /* shorter than the base: never cut */
    expect_val(o, "foo", &p, "key:foo:v7");
    p.synthetic_value_size = 10;   /* exactly the base */
    expect_val(o, "foo", &p, "key:foo:v7");
    p.synthetic_value_size = 0;
    expect_val(o, "", &p, "key::v7");
}

static void test_epoch_in_value(void **state)
{
    (void)state;
    char err[128] = "";
    struct origin *o = origin_create(CFG_LOADER_SYNTHETIC, "", 18446744073709551615ULL,
                                     err, sizeof(err));
    assert_non_null(o);
    struct origin_params p = fx_params(1000);
    expect_val(o, "k", &p, "key:k:v18446744073709551615");
    origin_put(o);
}

static void test_binary_key(void **state)
{
    struct origin *o = *state;
    struct origin_params p = fx_params(1000);
    struct origin_result res;
    static const char key[] = {'a', '\0', 'b', '\r', '\n', (char)0xff};
    static const char want[] = "key:a\0b\r\n\xff:v7";
    assert_int_equal(origin_load(o, key, sizeof(key), &p, NULL, &res), ORIGIN_VALUE);
    assert_int_equal(res.len, sizeof(want) - 1);
    assert_memory_equal(res.data, want, res.len);
    free(res.data);
}

static void test_big_value_and_limit(void **state)
{
    struct origin *o = *state;
    struct origin_params p = fx_params(1000);
    struct origin_result res;
    p.synthetic_value_size = 1 << 20;
    assert_int_equal(fx_load(o, "k", &p, &res), ORIGIN_VALUE);
    assert_int_equal(res.len, 1 << 20);
    assert_memory_equal(res.data, "key:k:v7...", 11);
    assert_int_equal(res.data[res.len - 1], '.');
    free(res.data);

    p.max_value_len = (1 << 20) - 1;
    assert_int_equal(fx_load(o, "k", &p, &res), ORIGIN_ERROR);
    assert_string_equal(res.err, "value too large (1048576 bytes)");
    assert_null(res.data);
}

static void test_latency_honoured(void **state)
{
    struct origin *o = *state;
    struct origin_params p = fx_params(2000);
    p.synthetic_latency_ms = 60;
    int64_t t0 = origin_now_ms();
    expect_val(o, "k", &p, "key:k:v7");
    int64_t took = origin_now_ms() - t0;
    assert_true(took >= 60);
    assert_true(took < 1000);
}

/* A latency longer than the time left waits until the deadline and fails
 * there, neither at once nor after the full latency. */
static void test_latency_cut_at_deadline(void **state)
{
    struct origin *o = *state;
    struct origin_params p = fx_params(150);
    struct origin_result res;
    p.synthetic_latency_ms = 5000;
    int64_t t0 = origin_now_ms();
    assert_int_equal(fx_load(o, "k", &p, &res), ORIGIN_ERROR);
    int64_t took = origin_now_ms() - t0;
    assert_string_equal(res.err, "timeout");
    assert_true(took >= 140);
    assert_true(took < 2500);   /* half the latency: room for a slow host */
    assert_true(origin_now_ms() >= p.deadline_ms);
}

static void test_cancel(void **state)
{
    struct origin *o = *state;
    struct origin_params p = fx_params(10000);
    struct origin_result res;
    p.synthetic_latency_ms = 5000;
    _Atomic bool cancel = false;
    struct fx_canceller c;
    int64_t t0 = origin_now_ms();
    fx_cancel_after(&c, &cancel, 50);
    assert_int_equal(origin_load(o, "k", 1, &p, &cancel, &res), ORIGIN_ERROR);
    int64_t took = origin_now_ms() - t0;
    fx_cancel_join(&c);
    assert_string_equal(res.err, "cancelled");
    assert_true(took >= 50);
    assert_true(took < 2500);   /* half the latency: room for a slow host */
}

static int count_errors(struct origin *o, double rate, int n)
{
    struct origin_params p = fx_params(60000);
    p.synthetic_error_rate = rate;
    int errors = 0;
    for (int i = 0; i < n; i++) {
        struct origin_result res;
        enum origin_rc rc = fx_load(o, "k", &p, &res);
        if (rc == ORIGIN_ERROR) {
            assert_string_equal(res.err, "synthetic error");
            errors++;
        } else {
            assert_int_equal(rc, ORIGIN_VALUE);
            free(res.data);
        }
    }
    return errors;
}

static void test_error_rate(void **state)
{
    struct origin *o = *state;
    assert_int_equal(count_errors(o, 0.0, 2000), 0);
    assert_int_equal(count_errors(o, 1.0, 2000), 2000);
    int half = count_errors(o, 0.5, 2000);
    /* mean 1000, sd ~22: these bounds are ~9 sd wide, never flaky */
    assert_true(half > 800);
    assert_true(half < 1200);
    int tenth = count_errors(o, 0.1, 2000);
    assert_true(tenth > 100);
    assert_true(tenth < 320);
}

static void test_create_refuses_argument(void **state)
{
    (void)state;
    char err[128] = "";
    assert_null(origin_create(CFG_LOADER_SYNTHETIC, "foo", 1, err, sizeof(err)));
    assert_non_null(strstr(err, "takes no argument"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_value_format, setup, teardown),
        cmocka_unit_test(test_epoch_in_value),
        cmocka_unit_test_setup_teardown(test_binary_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_value_and_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_latency_honoured, setup, teardown),
        cmocka_unit_test_setup_teardown(test_latency_cut_at_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_rate, setup, teardown),
        cmocka_unit_test(test_create_refuses_argument),
    };
    return cmocka_run_group_tests_name("origin_synthetic", tests, NULL, NULL);
}
