/*
 * origin.c: create's dispatch, reference counting, the checks origin_load
 * makes for every kind, origin_sleep_ms and origin_key_is_safe_filename.
 * A fake kind (its own ops) stands in where the behaviour under test is
 * origin.c's, not a real kind's.
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
#include "origin_kind.h"

/* ---- a fake kind ----------------------------------------------------------- */

static _Atomic int fake_destroyed;   /* atomic: relaxed; counted, checked after joins */

struct fake_load {
    enum origin_rc rc;
    size_t len;          /* value length to hand back (malloc'd) */
    bool set_err;        /* write a reason for ORIGIN_ERROR */
};
static struct fake_load fake_next;   /* owned by: the test's main thread */

static enum origin_rc fake_load_fn(struct origin *o, const char *key, size_t klen,
                                   const struct origin_params *p,
                                   const _Atomic bool *cancel, struct origin_result *out)
{
    if (fake_next.len || fake_next.rc == ORIGIN_VALUE) {
        out->data = malloc(fake_next.len ? fake_next.len : 1);
        memset(out->data, 'x', fake_next.len);
        out->len = fake_next.len;
    }
    if (fake_next.set_err)
        snprintf(out->err, sizeof(out->err), "fake says no");
    return fake_next.rc;
}

static void fake_destroy(struct origin *o)
{
    atomic_fetch_add_explicit(&fake_destroyed, 1, memory_order_relaxed);
    free(o);
}

static const struct origin_ops fake_ops = {
    .kind = "fake", .create = NULL, .load = fake_load_fn, .destroy = fake_destroy,
};

static struct origin *fake_new(void)
{
    struct origin *o = calloc(1, sizeof(*o));
    o->ops = &fake_ops;
    snprintf(o->spec, sizeof(o->spec), "fake");
    atomic_init(&o->refs, 1);
    atomic_store(&fake_destroyed, 0);
    return o;
}

/* ---- create ---------------------------------------------------------------- */

static void test_create_none(void **state)
{
    (void)state;
    char err[128] = "stale";
    assert_null(origin_create(CFG_LOADER_NONE, "", 1, err, sizeof(err)));
    assert_string_equal(err, "");   /* no loader is not an error */
}

static void test_create_unknown_kind(void **state)
{
    (void)state;
    char err[128] = "";
    assert_null(origin_create((enum cfg_loader)99, "", 1, err, sizeof(err)));
    assert_non_null(strstr(err, "unknown loader kind"));
}

static void test_create_head(void **state)
{
    (void)state;
    char err[128] = "";
    struct origin *o = origin_create(CFG_LOADER_SYNTHETIC, "", 42, err, sizeof(err));
    assert_non_null(o);
    assert_ptr_equal(o->ops, &origin_synthetic_ops);
    assert_int_equal(o->kind, CFG_LOADER_SYNTHETIC);
    assert_string_equal(o->spec, "synthetic");
    assert_int_equal(o->epoch, 42);
    assert_int_equal(atomic_load(&o->refs), 1);
    origin_put(o);

    o = origin_create(CFG_LOADER_REDIS, "127.0.0.1:6380", 3, err, sizeof(err));
    assert_non_null(o);
    assert_ptr_equal(o->ops, &origin_redis_ops);
    assert_int_equal(o->kind, CFG_LOADER_REDIS);
    assert_string_equal(o->spec, "redis 127.0.0.1:6380");
    origin_put(o);

    o = origin_create(CFG_LOADER_FILE, "/", 3, err, sizeof(err));
    assert_non_null(o);
    assert_ptr_equal(o->ops, &origin_file_ops);
    assert_string_equal(o->spec, "file /");
    origin_put(o);
}

static void test_create_arg_too_long(void **state)
{
    (void)state;
    char arg[CFG_LOADER_ARGLEN + 8];
    memset(arg, 'a', sizeof(arg) - 1);
    arg[sizeof(arg) - 1] = '\0';
    char err[128] = "";
    assert_null(origin_create(CFG_LOADER_FILE, arg, 1, err, sizeof(err)));
    assert_non_null(strstr(err, "longer than"));
}

/* ---- reference counting ---------------------------------------------------- */

static void test_refs_last_put_destroys_once(void **state)
{
    (void)state;
    struct origin *o = fake_new();
    origin_get(o);
    origin_get(o);
    origin_put(o);
    origin_put(o);
    assert_int_equal(atomic_load(&fake_destroyed), 0);
    origin_put(o);   /* the creator's reference: gone now */
    assert_int_equal(atomic_load(&fake_destroyed), 1);
    origin_put(NULL);   /* allowed, like free(NULL) */
}

#define REF_THREADS 8
#define REF_ROUNDS 100000

static void *ref_churn(void *arg)
{
    struct origin *o = arg;
    for (int i = 0; i < REF_ROUNDS; i++) {
        origin_get(o);
        origin_put(o);
    }
    origin_put(o);   /* the reference main took for this thread */
    return NULL;
}

/* Many threads taking and dropping references: the count never reaches
 * zero early (destroy would run while the creator still holds one) and
 * reaches it exactly once. Under TSan, also that the atomics are atomic. */
static void test_refs_threads(void **state)
{
    (void)state;
    struct origin *o = fake_new();
    pthread_t t[REF_THREADS];
    for (int i = 0; i < REF_THREADS; i++) {
        origin_get(o);
        assert_int_equal(pthread_create(&t[i], NULL, ref_churn, o), 0);
    }
    for (int i = 0; i < REF_THREADS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&fake_destroyed), 0);
    assert_int_equal(atomic_load(&o->refs), 1);
    origin_put(o);
    assert_int_equal(atomic_load(&fake_destroyed), 1);
}

/* ---- origin_load's common checks ------------------------------------------- */

static void test_load_max_value_len(void **state)
{
    (void)state;
    struct origin *o = fake_new();
    struct origin_params p = fx_params(1000);
    struct origin_result res;

    p.max_value_len = 100;
    fake_next = (struct fake_load){.rc = ORIGIN_VALUE, .len = 100};
    assert_int_equal(fx_load(o, "k", &p, &res), ORIGIN_VALUE);   /* at the limit: fine */
    assert_int_equal(res.len, 100);
    free(res.data);

    fake_next.len = 101;   /* over it: refused, and the value freed (ASan: no leak) */
    assert_int_equal(fx_load(o, "k", &p, &res), ORIGIN_ERROR);
    assert_string_equal(res.err, "value too large (101 bytes)");
    assert_null(res.data);
    assert_int_equal(res.len, 0);

    p.max_value_len = 0;   /* 0 is a limit like any other: only empty values */
    fake_next.len = 0;
    assert_int_equal(fx_load(o, "k", &p, &res), ORIGIN_VALUE);
    free(res.data);
    origin_put(o);
}

static void test_load_normalises_results(void **state)
{
    (void)state;
    struct origin *o = fake_new();
    struct origin_params p = fx_params(1000);
    struct origin_result res;

    /* an error with a half-built buffer: freed, and no data handed back */
    fake_next = (struct fake_load){.rc = ORIGIN_ERROR, .len = 10, .set_err = true};
    assert_int_equal(fx_load(o, "k", &p, &res), ORIGIN_ERROR);
    assert_null(res.data);
    assert_string_equal(res.err, "fake says no");

    /* an error without a reason gets one */
    fake_next = (struct fake_load){.rc = ORIGIN_ERROR};
    assert_int_equal(fx_load(o, "k", &p, &res), ORIGIN_ERROR);
    assert_string_equal(res.err, "fake: unknown error");

    /* a miss carries neither data nor message */
    fake_next = (struct fake_load){.rc = ORIGIN_NOTFOUND, .len = 3, .set_err = true};
    assert_int_equal(fx_load(o, "k", &p, &res), ORIGIN_NOTFOUND);
    assert_null(res.data);
    assert_string_equal(res.err, "");
    origin_put(o);
}

static void test_load_deadline_and_cancel_on_entry(void **state)
{
    (void)state;
    struct origin *o = fake_new();
    struct origin_result res;
    fake_next = (struct fake_load){.rc = ORIGIN_VALUE, .len = 1};

    struct origin_params p = fx_params(-1);   /* already past */
    assert_int_equal(fx_load(o, "k", &p, &res), ORIGIN_ERROR);
    assert_string_equal(res.err, "timeout");

    _Atomic bool cancel = true;
    p = fx_params(1000);
    assert_int_equal(origin_load(o, "k", 1, &p, &cancel, &res), ORIGIN_ERROR);
    assert_string_equal(res.err, "cancelled");
    origin_put(o);
}

/* ---- origin_sleep_ms ------------------------------------------------------- */

static void test_sleep(void **state)
{
    (void)state;
    int64_t t0 = origin_now_ms();
    assert_true(origin_sleep_ms(50, NULL));
    int64_t took = origin_now_ms() - t0;
    assert_true(took >= 50);
    assert_true(took < 1000);

    _Atomic bool cancel = false;
    assert_true(origin_sleep_ms(0, &cancel));
    assert_true(origin_sleep_ms(-5, &cancel));

    atomic_store(&cancel, true);   /* already set: returns at once */
    t0 = origin_now_ms();
    assert_false(origin_sleep_ms(5000, &cancel));
    assert_true(origin_now_ms() - t0 < 2500);   /* not the 5 s: room for a slow host */

    /* set while sleeping: noticed within a slice or so */
    struct fx_canceller c;
    atomic_store(&cancel, false);
    t0 = origin_now_ms();
    fx_cancel_after(&c, &cancel, 50);
    assert_false(origin_sleep_ms(5000, &cancel));
    took = origin_now_ms() - t0;
    fx_cancel_join(&c);
    assert_true(took >= 50);
    assert_true(took < 2500);   /* not the 5 s: room for a slow host */
}

/* ---- origin_key_is_safe_filename ------------------------------------------- */

static bool safe(const char *k)
{
    return origin_key_is_safe_filename(k, strlen(k));
}

static void test_safe_filename(void **state)
{
    (void)state;
    assert_true(safe("a"));
    assert_true(safe("user-42.json"));
    assert_true(safe("A_Z.0-9"));
    assert_true(safe("a..b"));   /* dots inside are harmless */

    assert_false(safe(""));
    assert_false(safe("."));
    assert_false(safe(".."));
    assert_false(safe(".hidden"));
    assert_false(safe("../etc/passwd"));
    assert_false(safe("a/b"));
    assert_false(safe("/abs"));
    assert_false(safe("a b"));
    assert_false(safe("a\\b"));
    assert_false(safe("caf\xc3\xa9"));
    assert_false(origin_key_is_safe_filename("a\0b", 3));   /* NUL would cut the name */

    char name[257];
    memset(name, 'n', sizeof(name));
    assert_true(origin_key_is_safe_filename(name, 255));
    assert_false(origin_key_is_safe_filename(name, 256));
}

/* ---- origin__parse_hostport ------------------------------------------------- */

static void test_parse_hostport(void **state)
{
    (void)state;
    char host[64], err[128];
    int port = 0;
    assert_int_equal(origin__parse_hostport("redis", "[::1]:6380", host, sizeof(host), &port,
                                            err, sizeof(err)), 0);
    assert_string_equal(host, "::1");   /* brackets gone: getaddrinfo wants none */
    assert_int_equal(port, 6380);
    assert_int_equal(origin__parse_hostport("redis", "db.local:1", host, sizeof(host), &port,
                                            err, sizeof(err)), 0);
    assert_string_equal(host, "db.local");
    assert_int_equal(port, 1);
    /* a host that does not fit is refused, not cut */
    assert_int_equal(origin__parse_hostport("x", "abcdefgh:1", host, 8, &port,
                                            err, sizeof(err)), -1);
    assert_int_equal(strncmp(err, "x 'abcdefgh:1': ", 16), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_none),
        cmocka_unit_test(test_create_unknown_kind),
        cmocka_unit_test(test_create_head),
        cmocka_unit_test(test_create_arg_too_long),
        cmocka_unit_test(test_refs_last_put_destroys_once),
        cmocka_unit_test(test_refs_threads),
        cmocka_unit_test(test_load_max_value_len),
        cmocka_unit_test(test_load_normalises_results),
        cmocka_unit_test(test_load_deadline_and_cancel_on_entry),
        cmocka_unit_test(test_sleep),
        cmocka_unit_test(test_safe_filename),
        cmocka_unit_test(test_parse_hostport),
    };
    return cmocka_run_group_tests_name("origin", tests, NULL, NULL);
}
