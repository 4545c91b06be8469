/*
 * loadtest/opts.c: defaults, both spellings of a value, the checker list,
 * and usage errors (which make mmcache-load exit 2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ld.h"

#define ARGS(...) ((char *[]){ "mmcache-load", __VA_ARGS__, NULL })
#define NARGS(...) ((int)(sizeof((char *[]){ "mmcache-load", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(o, err, ...) ld_opts_parse(o, NARGS(__VA_ARGS__), ARGS(__VA_ARGS__), err, sizeof(err))

static void test_defaults_are_bounded(void **state)
{
    struct ld_opts o;
    char err[256];
    char *argv[] = { "mmcache-load", NULL };

    assert_int_equal(ld_opts_parse(&o, 1, argv, err, sizeof(err)), 0);
    assert_string_equal(o.host, "127.0.0.1");
    assert_true(o.requests > 0);            /* never unbounded */
    assert_true(o.checks & (1u << LD_CHK_TAGGED));
    assert_true(o.checks & (1u << LD_CHK_COUNTER));
    assert_true(o.checks & (1u << LD_CHK_LIVENESS));
    assert_false(o.checks & (1u << LD_CHK_STATS));
}

static void test_values_and_flags(void **state)
{
    struct ld_opts o;
    char err[256];

    assert_int_equal(PARSE(&o, err, "--port=7000", "--clients", "8", "--threads", "4",
                           "--pipeline", "16", "--duration", "1.5", "--ratio", "1:2:3:4:5",
                           "--dist", "zipf:0.8", "--check", "all", "--config-writer",
                           "--json", "--key-prefix", "run7"), 0);
    assert_int_equal(o.port, 7000);
    assert_int_equal(o.clients, 8);
    assert_int_equal(o.threads, 4);
    assert_int_equal(o.pipeline, 16);
    assert_true(o.duration_s == 1.5);
    assert_int_equal(o.requests, 0);        /* --duration alone bounds it */
    assert_int_equal(o.ratio[4], 5);
    assert_true(o.zipf == 0.8);
    /* "all": every checker but those that need MULTI/EXEC */
    assert_int_equal(o.checks, ((1u << LD_NCHECKS) - 1) & ~LD_CHK_TXN_MASK);
    assert_true(o.config_writer && o.json);
    assert_string_equal(o.prefix, "run7");
}

static void test_threads_capped_by_clients(void **state)
{
    struct ld_opts o;
    char err[256];

    assert_int_equal(PARSE(&o, err, "--clients", "2", "--threads", "8"), 0);
    assert_int_equal(o.threads, 2);
    /* the collection checkers by name, and in "all" */
    assert_int_equal(PARSE(&o, err, "--check", "hash,set"), 0);
    assert_int_equal(o.checks, (1u << LD_CHK_HASH) | (1u << LD_CHK_SET));
    assert_string_equal(ld_check_name(LD_CHK_HASH), "hash");
    assert_string_equal(ld_check_name(LD_CHK_SET), "set");
    assert_int_equal(PARSE(&o, err, "--check", "zset"), 0);
    assert_int_equal(o.checks, 1u << LD_CHK_ZSET);
    assert_string_equal(ld_check_name(LD_CHK_ZSET), "zset");
    /* the transaction checkers by name only; "monotonic" is not a prefix match */
    assert_int_equal(PARSE(&o, err, "--check", "bank,monotonic-sum"), 0);
    assert_int_equal(o.checks, LD_CHK_TXN_MASK);
    assert_int_equal(PARSE(&o, err, "--check", "monotonic"), 0);
    assert_int_equal(o.checks, 1u << LD_CHK_MONOTONIC);
    assert_int_equal(PARSE(&o, err, "--check", "all,bank"), 0);
    assert_true(o.checks & (1u << LD_CHK_BANK) && !(o.checks & (1u << LD_CHK_MSUM)));
    assert_string_equal(ld_check_name(LD_CHK_MSUM), "monotonic-sum");
}

/* --bench: the workload; one request is that many commands */
static void test_bench(void **state)
{
    struct ld_opts o;
    char err[256];

    assert_int_equal(PARSE(&o, err, "--port", "7000"), 0);
    assert_int_equal(o.bench, LD_BENCH_MIX);
    assert_int_equal(ld_bench_cmds(o.bench), 1);
    assert_int_equal(PARSE(&o, err, "--bench", "txn"), 0);
    assert_int_equal(o.bench, LD_BENCH_TXN);
    assert_int_equal(ld_bench_cmds(o.bench), 4);
    assert_int_equal(PARSE(&o, err, "--bench=mget-mset"), 0);
    assert_int_equal(o.bench, LD_BENCH_MGET_MSET);
    assert_int_equal(ld_bench_cmds(o.bench), 2);
    assert_int_equal(PARSE(&o, err, "--bench", "mget_mset"), -1);
    assert_non_null(strstr(err, "--bench"));
    assert_int_equal(PARSE(&o, err, "--bench", ""), -1);
}

static void test_usage_errors(void **state)
{
    struct ld_opts o;
    char err[256];

    assert_int_equal(PARSE(&o, err, "--port", "0"), -1);
    assert_non_null(strstr(err, "--port"));
    assert_int_equal(PARSE(&o, err, "--ratio", "1:2:3"), -1);
    assert_int_equal(PARSE(&o, err, "--ratio", "0:0:0:0:0"), -1);
    assert_int_equal(PARSE(&o, err, "--check", "tagged,bogus"), -1);
    assert_int_equal(PARSE(&o, err, "--dist", "zipf:1.5"), -1);
    assert_int_equal(PARSE(&o, err, "--frobnicate"), -1);
    assert_int_equal(PARSE(&o, err, "--clients"), -1);
    assert_int_equal(PARSE(&o, err, "--key-prefix", "a b"), -1);
    assert_int_equal(PARSE(&o, err, "--duration", "-1"), -1);
    assert_int_equal(PARSE(&o, err, "stray"), -1);
    /* the writer without its checker would change config for nothing */
    assert_int_equal(PARSE(&o, err, "--config-writer"), -1);
}

/* --proxy: "all" drops the checkers that need one server's INFO or CONFIG;
 * naming one is a usage error that names it and says why. */
static void test_proxy_refuses_single_server_checkers(void **state)
{
    struct ld_opts o;
    char err[256];
    unsigned all = ((1u << LD_NCHECKS) - 1) & ~LD_CHK_TXN_MASK;   /* "all": not bank, monotonic-sum */
    unsigned proxy_ok = all & ~LD_PROXY_REFUSED;

    assert_int_equal(PARSE(&o, err, "--proxy", "--check", "all"), 0);
    assert_true(o.proxy);
    assert_int_equal(o.checks, proxy_ok);
    assert_int_equal(PARSE(&o, err, "--check", "all"), 0);
    assert_int_equal(o.checks, all);
    assert_false(o.proxy);
    assert_int_equal(PARSE(&o, err, "--proxy", "--check", "tagged,queue"), 0);
    assert_int_equal(o.checks, (1u << LD_CHK_TAGGED) | (1u << LD_CHK_QUEUE));
    assert_int_equal(PARSE(&o, err, "--check", "tagged,stats", "--proxy"), -1);
    assert_non_null(strstr(err, "--proxy: the stats checker cannot run through a proxy"));
    assert_int_equal(PARSE(&o, err, "--proxy", "--check", "monotonic"), -1);
    assert_non_null(strstr(err, "monotonic checker"));
    assert_int_equal(PARSE(&o, err, "--proxy", "--check", "all,config"), -1);
    assert_non_null(strstr(err, "config checker"));
    assert_non_null(strstr(err, "CONFIG"));
    assert_int_equal(PARSE(&o, err, "--proxy", "--check", "all", "--config-writer"), -1);
    assert_non_null(strstr(err, "--proxy: --config-writer"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_bounded),
        cmocka_unit_test(test_values_and_flags),
        cmocka_unit_test(test_threads_capped_by_clients),
        cmocka_unit_test(test_bench),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_proxy_refuses_single_server_checkers),
    };

    return cmocka_run_group_tests_name("loadtest_opts", tests, NULL, NULL);
}
