/* Tests of config/config.c: defaults, flags, validation messages, units,
 * CONFIG GET formatting, and the published snapshot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"

static int parse(struct cfg *c, char *err, size_t errlen, int argc, ...)
{
    char *argv[32] = {"mmcache"};
    va_list ap;
    va_start(ap, argc);
    for (int i = 1; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    int exit_now;
    cfg_defaults(c);
    return cfg_parse_args(c, argc, argv, err, errlen, &exit_now);
}

static void test_defaults(void **s)
{
    (void)s;
    struct cfg c;
    cfg_defaults(&c);
    assert_string_equal(c.bind, "127.0.0.1");
    assert_int_equal(c.port, 6379);
    assert_true(c.threads >= 1);
    assert_int_equal(c.shards, 1024);
    assert_int_equal(c.maxmemory, 0);
    assert_int_equal(c.policy, CFG_ALLKEYS_LRU);
    assert_int_equal(c.maxclients, 10000);
    assert_true(c.client_output_buffer_limit > 0);
}

static void test_flags_both_forms(void **s)
{
    (void)s;
    struct cfg c;
    char err[256];
    assert_int_equal(parse(&c, err, sizeof err, 7, "--port", "7000", "--maxmemory=1gb",
                           "--maxmemory-policy", "noeviction", "--threads=3"), 0);
    assert_int_equal(c.port, 7000);
    assert_int_equal(c.maxmemory, 1024ULL * 1024 * 1024);
    assert_int_equal(c.policy, CFG_NOEVICTION);
    assert_int_equal(c.threads, 3);
}

static void test_errors_name_flag_and_range(void **s)
{
    (void)s;
    struct cfg c;
    char err[256];
    assert_int_equal(parse(&c, err, sizeof err, 3, "--port", "70000"), -1);
    assert_non_null(strstr(err, "--port"));
    assert_non_null(strstr(err, "1 to 65535"));
    assert_int_equal(parse(&c, err, sizeof err, 3, "--shards", "48"), -1);
    assert_non_null(strstr(err, "power of two"));
    assert_int_equal(parse(&c, err, sizeof err, 3, "--bogus", "1"), -1);
    assert_non_null(strstr(err, "unknown setting 'bogus'"));
    assert_int_equal(parse(&c, err, sizeof err, 2, "--port"), -1);
    assert_non_null(strstr(err, "needs a value"));
    assert_int_equal(parse(&c, err, sizeof err, 3, "--maxmemory-policy", "lfu"), -1);
    assert_non_null(strstr(err, "noeviction"));
    assert_int_equal(parse(&c, err, sizeof err, 3, "--maxmemory", "12xb"), -1);
    assert_int_equal(parse(&c, err, sizeof err, 2, "port"), -1);
    assert_non_null(strstr(err, "unexpected argument"));
}

static void test_memory_units(void **s)
{
    (void)s;
    uint64_t v;
    assert_int_equal(cfg_parse_memory("42", &v), 0); assert_int_equal(v, 42);
    assert_int_equal(cfg_parse_memory("1k", &v), 0); assert_int_equal(v, 1000);
    assert_int_equal(cfg_parse_memory("1kb", &v), 0); assert_int_equal(v, 1024);
    assert_int_equal(cfg_parse_memory("2MB", &v), 0); assert_int_equal(v, 2 * 1024 * 1024);
    assert_int_equal(cfg_parse_memory("1g", &v), 0); assert_int_equal(v, 1000000000);
    assert_int_equal(cfg_parse_memory("-1", &v), -1);
    assert_int_equal(cfg_parse_memory("", &v), -1);
    assert_int_equal(cfg_parse_memory("99999999999999999999", &v), -1);
    assert_int_equal(cfg_parse_memory("99999999999gb", &v), -1);   /* overflow */
}

static void test_get_formats(void **s)
{
    (void)s;
    struct cfg c;
    char buf[64];
    cfg_defaults(&c);
    for (int i = 0; cfg_names[i]; i++)
        assert_int_equal(cfg_get(&c, cfg_names[i], buf, sizeof buf), 0);
    cfg_get(&c, "maxmemory-policy", buf, sizeof buf);
    assert_string_equal(buf, "allkeys-lru");
    cfg_get(&c, "PORT", buf, sizeof buf);
    assert_string_equal(buf, "6379");
    assert_int_equal(cfg_get(&c, "nope", buf, sizeof buf), -1);
}

static void test_publish_generation(void **s)
{
    (void)s;
    struct cfg c;
    cfg_defaults(&c);
    c.port = 1234;
    assert_int_equal(cfg_publish(&c), 0);
    const struct cfg *cur = cfg_current();
    assert_int_equal(cur->port, 1234);
    assert_int_equal(cur->generation, 1);
    c.port = 99;   /* the snapshot is a copy: later edits don't leak in */
    assert_int_equal(cfg_current()->port, 1234);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_flags_both_forms),
        cmocka_unit_test(test_errors_name_flag_and_range),
        cmocka_unit_test(test_memory_units),
        cmocka_unit_test(test_get_formats),
        cmocka_unit_test(test_publish_generation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
