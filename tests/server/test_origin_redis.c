/*
 * origin_redis.c against a real upstream: Debian's redis-server, started
 * by each test that needs one on a free loopback port (fork+exec, killed
 * by PID in teardown), and against sockets that never answer. Without
 * redis-server (scripts/install-deps.sh test installs it) the tests that
 * need it are skipped and ctest says Skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "origin_upstream.h"
#include "skip.h"

static struct origin *make(const char *addr)
{
    char err[256] = "";
    struct origin *o = origin_create(CFG_LOADER_REDIS, addr, 1, err, sizeof(err));
    if (!o)
        fprintf(stderr, "origin_create(%s): %s\n", addr, err);
    return o;
}

static int setup(void **state)
{
    if (access(REDIS_BIN, X_OK) != 0)
        return 0;   /* the test skips */
    struct fixture *f = calloc(1, sizeof(*f));
    if (upstream_start(f, 0) != 0 || !(f->o = make(f->addr))) {
        upstream_stop(f);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f) {
        origin_put(f->o);
        upstream_stop(f);
        free(f);
    }
    return 0;
}

static struct fixture *fixture_or_skip(void **state)
{
    if (!*state)
        TEST_SKIP("no %s (scripts/install-deps.sh test installs it)", REDIS_BIN);
    return *state;
}

static void set_key(int port, const char *k, size_t klen, const char *v, size_t vlen)
{
    redisContext *c = client(port);
    assert_non_null(c);
    redisReply *r = redisCommand(c, "SET %b %b", k, klen, v, vlen);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    redisFree(c);
}

static void expect_val(struct origin *o, const char *k, size_t klen, const char *v,
                         size_t vlen)
{
    struct origin_params p = fx_params(5000);
    struct origin_result res;
    enum origin_rc rc = origin_load(o, k, klen, &p, NULL, &res);
    if (rc == ORIGIN_ERROR)
        fprintf(stderr, "load: %s\n", res.err);
    assert_int_equal(rc, ORIGIN_VALUE);
    assert_int_equal(res.len, vlen);
    if (vlen)
        assert_memory_equal(res.data, v, vlen);
    free(res.data);
}

static void test_get(void **state)
{
    struct fixture *f = fixture_or_skip(state);
    char *big = malloc(100000);
    for (int i = 0; i < 100000; i++)
        big[i] = (char)(i * 7);
    set_key(f->port, "k", 1, "v", 1);
    set_key(f->port, "bin\0key", 7, "a\0b\r\n", 5);   /* binary key and value */
    set_key(f->port, "empty", 5, "", 0);
    set_key(f->port, "big", 3, big, 100000);
    expect_val(f->o, "k", 1, "v", 1);
    expect_val(f->o, "bin\0key", 7, "a\0b\r\n", 5);
    expect_val(f->o, "empty", 5, "", 0);
    expect_val(f->o, "big", 3, big, 100000);

    struct origin_params p = fx_params(5000);
    struct origin_result res;
    assert_int_equal(origin_load(f->o, "bin", 3, &p, NULL, &res), ORIGIN_NOTFOUND);
    assert_int_equal(origin_load(f->o, "nope", 4, &p, NULL, &res), ORIGIN_NOTFOUND);
    free(big);
}

static void test_error_reply(void **state)
{
    struct fixture *f = fixture_or_skip(state);
    redisContext *c = client(f->port);
    assert_non_null(c);
    freeReplyObject(redisCommand(c, "HSET h f v"));
    redisFree(c);

    struct origin_params p = fx_params(5000);
    struct origin_result res;
    char want[128];
    snprintf(want, sizeof(want), "redis %s: WRONGTYPE ", f->addr);
    assert_int_equal(origin_load(f->o, "h", 1, &p, NULL, &res), ORIGIN_ERROR);
    assert_int_equal(strncmp(res.err, want, strlen(want)), 0);
    /* the connection stayed in sync: the next load on it is right */
    set_key(f->port, "k", 1, "v", 1);
    expect_val(f->o, "k", 1, "v", 1);
}

/* Names and IPv6 literals reach the same upstream (it listens on both). */
static void test_addresses(void **state)
{
    struct fixture *f = fixture_or_skip(state);
    set_key(f->port, "k", 1, "v", 1);
    char addr[64];
    snprintf(addr, sizeof(addr), "localhost:%d", f->port);
    struct origin *o = make(addr);
    assert_non_null(o);
    expect_val(o, "k", 1, "v", 1);
    origin_put(o);

    int s6 = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bool v6 = s6 >= 0 && bind(s6, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    if (s6 >= 0)
        close(s6);
    if (!v6)
        return;   /* no IPv6 loopback here */
    snprintf(addr, sizeof(addr), "[::1]:%d", f->port);
    assert_non_null(o = make(addr));
    assert_string_equal(o->spec + 6, addr);
    expect_val(o, "k", 1, "v", 1);
    origin_put(o);
}

#define PAR_THREADS 8
#define PAR_LOADS 500
#define PAR_KEYS 50

static void *par_main(void *arg)
{
    struct origin *o = arg;
    long bad = 0;
    for (int i = 0; i < PAR_LOADS; i++) {
        char k[16], v[32];
        int n = i % PAR_KEYS;
        snprintf(k, sizeof(k), "k%d", n);
        snprintf(v, sizeof(v), "value-%d", n);
        struct origin_params p = fx_params(10000);
        struct origin_result res;
        enum origin_rc rc = fx_load(o, k, &p, &res);
        if (rc != ORIGIN_VALUE || res.len != strlen(v) || memcmp(res.data, v, res.len) != 0)
            bad++;
        free(res.data);
    }
    return (void *)bad;
}

static long long connections_received(int port)
{
    redisContext *c = client(port);
    redisReply *r = c ? redisCommand(c, "INFO stats") : NULL;
    const char *s = r && r->type == REDIS_REPLY_STRING ? strstr(r->str, "total_connections_received:") : NULL;
    long long n = s ? atoll(s + strlen("total_connections_received:")) : -1;
    if (r)
        freeReplyObject(r);
    if (c)
        redisFree(c);
    return n;
}

/* 8 threads share one origin: every answer right (no reply crosses to
 * another thread's request), and connections are reused: at most one per
 * thread is ever opened, where 4000 loads without the pool would open 4000. */
static void test_parallel(void **state)
{
    struct fixture *f = fixture_or_skip(state);
    for (int i = 0; i < PAR_KEYS; i++) {
        char k[16], v[32];
        snprintf(k, sizeof(k), "k%d", i);
        snprintf(v, sizeof(v), "value-%d", i);
        set_key(f->port, k, strlen(k), v, strlen(v));
    }
    long long before = connections_received(f->port);
    pthread_t t[PAR_THREADS];
    for (int i = 0; i < PAR_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, par_main, f->o), 0);
    long bad = 0;
    for (int i = 0; i < PAR_THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        bad += (long)r;
    }
    assert_int_equal(bad, 0);
    long long opened = connections_received(f->port) - before - 1;   /* -1: INFO's own */
    assert_true(opened >= 1);
    assert_true(opened <= PAR_THREADS);
}

/* The upstream restarts on the same port while a connection sits in the
 * pool: the next load still succeeds (the dead pooled connection is
 * retried once on a fresh one). Then it dies for good: a load fails
 * quickly, naming the address, rather than waiting out its deadline. */
static void test_upstream_restart_and_down(void **state)
{
    struct fixture *f = fixture_or_skip(state);
    set_key(f->port, "k", 1, "v1", 2);
    expect_val(f->o, "k", 1, "v1", 2);   /* leaves a connection in the pool */
    int port = f->port;
    upstream_stop(f);
    assert_int_equal(upstream_start(f, port), 0);
    set_key(f->port, "k", 1, "v2", 2);
    expect_val(f->o, "k", 1, "v2", 2);

    upstream_stop(f);
    struct origin_params p = fx_params(5000);
    struct origin_result res;
    int64_t t0 = origin_now_ms();
    assert_int_equal(fx_load(f->o, "k", &p, &res), ORIGIN_ERROR);
    assert_true(origin_now_ms() - t0 < 1000);
    char want[128];
    snprintf(want, sizeof(want), "redis %s: Connection refused", f->addr);
    assert_string_equal(res.err, want);
}

static void test_refused(void **state)
{
    (void)state;
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", free_port());
    struct origin *o = make(addr);
    assert_non_null(o);
    struct origin_params p = fx_params(5000);
    struct origin_result res;
    assert_int_equal(fx_load(o, "k", &p, &res), ORIGIN_ERROR);
    char want[128];
    snprintf(want, sizeof(want), "redis %s: Connection refused", addr);
    assert_string_equal(res.err, want);
    origin_put(o);
}

static void test_deadline_passed(void **state)
{
    struct fixture *f = fixture_or_skip(state);
    struct origin_params p = fx_params(-10);
    struct origin_result res;
    int64_t t0 = origin_now_ms();
    assert_int_equal(fx_load(f->o, "k", &p, &res), ORIGIN_ERROR);
    assert_true(origin_now_ms() - t0 < 1000);   /* at once (a slow host: room) */
    assert_non_null(strstr(res.err, "timeout"));
}

static void test_black_hole_times_out(void **state)
{
    (void)state;
    int port, fd = black_hole(16, &port);
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    struct origin *o = make(addr);
    assert_non_null(o);
    struct origin_params p = fx_params(300);
    struct origin_result res;
    assert_int_equal(fx_load(o, "k", &p, &res), ORIGIN_ERROR);
    int64_t late = origin_now_ms() - p.deadline_ms;
    char want[128];
    snprintf(want, sizeof(want), "redis %s: timeout", addr);
    assert_string_equal(res.err, want);
    assert_true(late >= -5);     /* it waited for the deadline... */
    assert_true(late <= 2000);   /* ...and not long past it (a slow host: room) */
    origin_put(o);
    close(fd);
}

/* A listener whose accept queue is full drops new SYNs: the connect
 * itself hangs, and must give up at the deadline too. */
static void test_connect_times_out(void **state)
{
    (void)state;
    int port, fd = black_hole(0, &port);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fill[4];
    for (int i = 0; i < 4; i++) {   /* backlog 0 holds one; the rest are dropped */
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        connect(fill[i], (struct sockaddr *)&sa, sizeof(sa));
    }
    origin_sleep_ms(50, NULL);
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    struct origin *o = make(addr);
    assert_non_null(o);
    struct origin_params p = fx_params(300);
    struct origin_result res;
    assert_int_equal(fx_load(o, "k", &p, &res), ORIGIN_ERROR);
    int64_t late = origin_now_ms() - p.deadline_ms;
    char want[128];
    snprintf(want, sizeof(want), "redis %s: timeout", addr);
    assert_string_equal(res.err, want);
    assert_true(late >= -5);
    assert_true(late <= 2000);   /* not long past it (a slow host: room) */
    origin_put(o);
    for (int i = 0; i < 4; i++)
        close(fill[i]);
    close(fd);
}

/* Shutdown cancels a load stuck on a hung upstream within a slice or
 * so, instead of leaving it to its (long) deadline. */
static void test_black_hole_cancelled(void **state)
{
    (void)state;
    int port, fd = black_hole(16, &port);
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    struct origin *o = make(addr);
    assert_non_null(o);
    struct origin_params p = fx_params(10000);
    struct origin_result res;
    _Atomic bool cancel = false;
    struct fx_canceller c;
    int64_t t0 = origin_now_ms();
    fx_cancel_after(&c, &cancel, 100);
    assert_int_equal(origin_load(o, "k", 1, &p, &cancel, &res), ORIGIN_ERROR);
    int64_t took = origin_now_ms() - t0;
    fx_cancel_join(&c);
    assert_non_null(strstr(res.err, "cancelled"));
    assert_true(took >= 100);
    assert_true(took < 5000);    /* half the deadline: room for a slow host */
    origin_put(o);
    close(fd);
}

/* A load that timed out leaves its reply in flight: that connection must
 * never be pooled, or the late reply would answer the next load. */
static void test_timed_out_connection_not_reused(void **state)
{
    (void)state;
    struct slow s = {0};
    int port;
    s.lfd = black_hole(16, &port);
    assert_int_equal(pthread_create(&s.acceptor, NULL, slow_accept_main, &s), 0);
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    struct origin *o = make(addr);
    assert_non_null(o);

    struct origin_params p = fx_params(100);
    struct origin_result res;
    assert_int_equal(fx_load(o, "k", &p, &res), ORIGIN_ERROR);
    assert_non_null(strstr(res.err, "timeout"));
    origin_sleep_ms(400, NULL);   /* the late "r0" has arrived by now */
    p = fx_params(5000);
    assert_int_equal(fx_load(o, "k", &p, &res), ORIGIN_VALUE);
    assert_int_equal(res.len, 2);
    assert_memory_equal(res.data, "r1", 2);
    free(res.data);

    origin_put(o);   /* closes the pooled connection: its thread ends */
    atomic_store_explicit(&s.stop, true, memory_order_release);
    pthread_join(s.acceptor, NULL);
    for (int i = 0; i < atomic_load(&s.nconn); i++)
        pthread_join(s.conn[i], NULL);
    close(s.lfd);
}

/* One load from a hostile upstream answering `answer` (and streaming
 * filler after it when `stream`), with max_value_len `max`: its result,
 * and the upstream's counts after it. */
static enum origin_rc hostile_load(const char *answer, size_t len, bool stream, uint64_t max,
                                   struct origin_result *res, struct hostile *h)
{
    hostile_start(h, answer, len, stream);
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", h->port);
    struct origin *o = make(addr);
    assert_non_null(o);
    struct origin_params p = fx_params(5000);
    p.max_value_len = max;
    enum origin_rc rc = fx_load(o, "k", &p, res);
    if (rc == ORIGIN_VALUE) {   /* in step: pooled, reused */
        free(res->data);
        rc = fx_load(o, "k", &p, res);
    }
    origin_put(o);   /* closes what is pooled: the upstream's loop ends */
    hostile_stop(h);
    return rc;
}

/* The probe: an upstream answering 400 MB (four such answers took
 * the server to 5.8 GB). Refused from the header on: the upstream gets
 * to send no more than the socket buffers hold before the close. */
static void test_hostile_huge_value(void **state)
{
    (void)state;
    static const char claim[] = "$419430400\r\n";
    struct origin_result res;
    struct hostile h;
    assert_int_equal(hostile_load(claim, sizeof(claim) - 1, true, 16u << 20, &res, &h),
                     ORIGIN_ERROR);
    assert_string_equal(res.err, "value too large (419430400 bytes)");
    assert_string_equal(res.pub, "value too large");
    fprintf(stderr, "a 400 MB answer: the upstream sent %lld bytes before the close\n",
            atomic_load(&h.sent));
    assert_true(atomic_load(&h.sent) < 64LL << 20);
    assert_int_equal(atomic_load(&h.conns), 1);
}

/* Answers that are not a GET's, or longer than it, end the load (the
 * connection is not pooled: the next load connects anew); a value of
 * exactly max_value_len passes, one byte more does not. */
static void test_hostile_shapes(void **state)
{
    (void)state;
    static const struct { const char *answer, *err; } bad[] = {
        {"*1000000000\r\n", "unexpected reply type '*' to GET"},
        {":1\r\n", "unexpected reply type ':' to GET"},
        {"+OK\r\n", "unexpected reply type '+' to GET"},
        {"$abc\r\n", "bad bulk length in the reply to GET"},
        {"$-2\r\n", "bad bulk length in the reply to GET"},
        {"$2\r\nok\r\n$3\r\nbad\r\n", "more bytes than the reply to GET"},
        {"$-1\r\n$3\r\nbad\r\n", "more bytes than the reply to GET"},
        {"-ERR fine\r\n+x\r\n", "more bytes than the reply to GET"},
        {"$10\r\n0123456789\r\n", "value too large (10 bytes)"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct origin_result res;
        struct hostile h;
        assert_int_equal(hostile_load(bad[i].answer, strlen(bad[i].answer), false, 9, &res, &h),
                         ORIGIN_ERROR);
        if (!strstr(res.err, bad[i].err))
            fail_msg("answer %zu: '%s', want '%s'", i, res.err, bad[i].err);
        assert_int_equal(atomic_load(&h.conns), 1);
    }
    /* an error line that never ends */
    char *line = malloc(8192);
    assert_non_null(line);
    line[0] = '-';
    memset(line + 1, 'e', 8191);
    struct origin_result res;
    struct hostile h;
    assert_int_equal(hostile_load(line, 8192, false, 9, &res, &h), ORIGIN_ERROR);
    assert_non_null(strstr(res.err, "reply line longer than 4096 bytes"));
    free(line);
    /* exactly max: a value, twice on one pooled connection */
    static const char fits[] = "$9\r\n012345678\r\n";
    assert_int_equal(hostile_load(fits, sizeof(fits) - 1, false, 9, &res, &h), ORIGIN_VALUE);
    assert_int_equal(res.len, 9);
    free(res.data);
    assert_int_equal(atomic_load(&h.conns), 1);
}

static void test_create_parsing(void **state)
{
    (void)state;
    static const char *const good[] = {"127.0.0.1:6380", "[::1]:6380", "localhost:1",
                                       "cache.example:65535", "[fe80::1%lo]:7"};
    static const char *const bad[] = {"", "host", "host:", ":6380", "host:0", "host:65536",
                                      "host:99999999999999999999", "host:12a", "host:-1",
                                      "::1:6380", "[::1]", "[::1]6380", "[]:6380",
                                      "[::1:6380", "host:+80"};
    char err[256];
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct origin *o = origin_create(CFG_LOADER_REDIS, good[i], 1, err, sizeof(err));
        assert_non_null(o);
        char spec[64];
        snprintf(spec, sizeof(spec), "redis %s", good[i]);
        assert_string_equal(o->spec, spec);
        origin_put(o);   /* never connected: nothing to close */
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (origin_create(CFG_LOADER_REDIS, bad[i], 1, err, sizeof(err)))
            fail_msg("accepted '%s'", bad[i]);
        assert_true(err[0] != '\0');
    }
    origin_create(CFG_LOADER_REDIS, "h:0", 1, err, sizeof(err));
    assert_non_null(strstr(err, "1..65535"));
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);   /* as main.c does: see origin_redis.c */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_addresses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parallel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upstream_restart_and_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline_passed, setup, teardown),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_black_hole_times_out),
        cmocka_unit_test(test_connect_times_out),
        cmocka_unit_test(test_black_hole_cancelled),
        cmocka_unit_test(test_timed_out_connection_not_reused),
        cmocka_unit_test(test_create_parsing),
        cmocka_unit_test(test_hostile_huge_value),
        cmocka_unit_test(test_hostile_shapes),
    };
    return test_exit_code(cmocka_run_group_tests_name("origin_redis", tests, NULL, NULL));
}
