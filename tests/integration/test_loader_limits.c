/*
 * test_loader_limits: an origin is not trusted with the server's memory,
 * and a client learns nothing of the server from a failed load (issue
 * 15). The probes: a hostile origin answering 400 MB to every GET (four of
 * them took the server to 5.8 GB) is refused from the header on, with the
 * server's resident memory bounded; an origin port that is closed and one
 * that answers garbage give the client the same words, which name no
 * address; the file origin on /proc/self gives nothing. A client the ACL
 * refuses causes no load at all. mmcache only: the loader is its own.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "loader_fixture.h"

/* ---- a hostile origin ----------------------------------------------------- */

/* Accepts connections (one at a time) and answers whatever arrives with
 * `answer`, then with filler for as long as the peer takes it (up to 1 GB
 * a connection) when `stream`. Counts the bytes it got out. */
struct hostile {
    int lfd, port;
    const char *answer;
    bool stream;
    _Atomic bool stop;          /* atomic: release by the test, acquire here */
    _Atomic long long sent;     /* atomic: relaxed; read after the test's loads */
    pthread_t tid;
};

static void *hostile_main(void *arg)
{
    struct hostile *h = arg;
    static char fill[64 * 1024];
    memset(fill, 'x', sizeof(fill));
    while (!atomic_load_explicit(&h->stop, memory_order_acquire)) {
        struct pollfd pfd = {.fd = h->lfd, .events = POLLIN};
        if (poll(&pfd, 1, 10) <= 0)
            continue;
        int fd = accept(h->lfd, NULL, NULL);
        char buf[512];
        while (fd >= 0 && read(fd, buf, sizeof(buf)) > 0) {
            ssize_t w = write(fd, h->answer, strlen(h->answer));
            for (long long n = 0; w > 0 && h->stream && n < (1LL << 30); n += w) {
                atomic_fetch_add_explicit(&h->sent, w, memory_order_relaxed);
                w = write(fd, fill, sizeof(fill));
            }
        }
        if (fd >= 0)
            close(fd);
    }
    return NULL;
}

static void hostile_start(struct hostile *h, const char *answer, bool stream)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    memset(h, 0, sizeof(*h));
    h->answer = answer;
    h->stream = stream;
    h->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(h->lfd >= 0);
    assert_int_equal(bind(h->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(h->lfd, 16), 0);
    assert_int_equal(getsockname(h->lfd, (struct sockaddr *)&sa, &len), 0);
    h->port = ntohs(sa.sin_port);
    signal(SIGPIPE, SIG_IGN);
    assert_int_equal(pthread_create(&h->tid, NULL, hostile_main, h), 0);
}

static void hostile_stop(struct hostile *h)
{
    atomic_store_explicit(&h->stop, true, memory_order_release);
    pthread_join(h->tid, NULL);
    close(h->lfd);
}

/* ---- the tests ------------------------------------------------------------ */

#define LOADS 4
#define MARGIN_KB (64 * 1024)   /* the default 16 MB limit, and room: never the 400 MB */

/* Four misses at once, each answered "$419430400" and a stream after it:
 * each client gets "value too large", nothing is cached, the origin got
 * out no more than its socket buffers take, and the server's resident
 * memory stays within its start plus 64 MB (plus its sanitizer's shadow). */
static void test_hostile_origin_400mb(void **state)
{
    (void)state;
    static struct hostile h;   /* static: its thread must not outlive a failed test's frame */
    char spec[64];
    hostile_start(&h, "$419430400\r\n", true);
    snprintf(spec, sizeof(spec), "redis 127.0.0.1:%d", h.port);
    const char *args[] = {"--loader", spec, "--loader-timeout-ms", "10000", NULL};
    start(args);
    long long rss0 = harness_proc_kb(srv.pid, "VmRSS");
    redisContext *cs[LOADS];
    for (int i = 0; i < LOADS; i++) {
        cs[i] = connect_ok();
        redisAppendCommand(cs[i], "GET k%d", i);
        flush_out(cs[i]);
    }
    for (int i = 0; i < LOADS; i++)
        EXPECT_REPLY_ERR(next_reply(cs[i]), "ERR loader: value too large", "GET of 400 MB");
    EXPECT_INT(cs[0], 0, "EXISTS k0");
    long long peak = harness_proc_kb(srv.pid, "VmHWM");
    long long bound = MARGIN_KB * (harness_proc_sanitized(srv.pid) ? 5 : 1);
    fprintf(stderr, "4 answers of 400 MB: resident %lld MB at start, peak %lld MB; the "
            "origin got %lld KB out\n", rss0 / 1024, peak / 1024,
            atomic_load(&h.sent) / 1024);
    assert_true(peak - rss0 < bound);
    assert_true(atomic_load(&h.sent) < 64LL << 20);
    assert_true(log_has("value too large (419430400 bytes)"));
    for (int i = 0; i < LOADS; i++)
        redisFree(cs[i]);
    stop_ok();
    hostile_stop(&h);
}

/* A limit of one's own: loader-max-value-size; and proto-max-bulk-len
 * caps it (never a value a client could not SET). */
static void test_max_value_size(void **state)
{
    (void)state;
    static struct hostile h;   /* static: its thread must not outlive a failed test's frame */
    char spec[64];
    hostile_start(&h, "$11\r\nhello world\r\n", false);
    snprintf(spec, sizeof(spec), "redis 127.0.0.1:%d", h.port);
    const char *args[] = {"--loader", spec, "--loader-max-value-size", "10", NULL};
    start(args);
    redisContext *c = connect_ok();
    EXPECT_ERR(c, "ERR loader: value too large", "GET a");
    EXPECT_OK(c, "CONFIG SET loader-max-value-size 11");
    EXPECT_BULK(c, "hello world", "GET b");
    redisReply *r = CMD(c, "CONFIG GET loader-max-value-size");
    assert_string_equal(r->element[1]->str, "11");
    freeReplyObject(r);
    redisFree(c);
    stop_ok();
    hostile_stop(&h);
}

/* The probe that told ports apart by the error's text: a closed port and
 * one answering garbage give the same words, naming no address (the log
 * has the details); a silent one is a timeout, as a slow origin is. */
static void test_errors_say_nothing(void **state)
{
    (void)state;
    static struct hostile garbage;
    hostile_start(&garbage, "HTTP/1.1 400 Bad Request\r\n\r\n", false);
    int closed = harness_free_port();
    char spec[64];
    snprintf(spec, sizeof(spec), "redis 127.0.0.1:%d", closed);
    const char *args[] = {"--loader", spec, NULL};
    start(args);
    redisContext *c = connect_ok();
    EXPECT_ERR(c, "ERR loader: origin error", "GET a");
    snprintf(spec, sizeof(spec), "redis 127.0.0.1:%d", garbage.port);
    EXPECT_OK(c, "CONFIG SET loader %s", spec);
    EXPECT_ERR(c, "ERR loader: origin error", "GET b");
    redisFree(c);
    stop_ok();
    hostile_stop(&garbage);
}

/* The file origin: /proc/self (environ, maps) is no directory of values;
 * the client's error names no path. */
static void test_file_origin_proc(void **state)
{
    (void)state;
    const char *args[] = {"--loader", "file /proc/self", NULL};
    start(args);
    redisContext *c = connect_ok();
    EXPECT_ERR(c, "ERR loader: origin error", "GET environ");
    EXPECT_ERR(c, "ERR loader: origin error", "GET maps");
    EXPECT_INT(c, 0, "EXISTS environ");
    assert_true(log_has(": on procfs, not a directory of values"));   /* /proc/<pid> */
    redisFree(c);
    stop_ok();
}

/* The ACL is checked before a load, as before any handler: a GET
 * refused (NOAUTH, its command, its key) makes no load and no origin
 * call; an allowed one does. */
static void test_acl_before_loader(void **state)
{
    (void)state;
    const char *args[] = {"--loader", "synthetic", "--requirepass", "pw", NULL};
    start(args);
    redisContext *adm = connect_ok(), *app = connect_ok(), *noget = connect_ok();
    EXPECT_ERR(app, "NOAUTH Authentication required.", "GET ok:1");
    EXPECT_OK(adm, "AUTH pw");
    EXPECT_OK(adm, "ACL SETUSER app on >p +get ~ok:*");
    EXPECT_OK(adm, "ACL SETUSER noget on >p +@all -get ~*");
    EXPECT_OK(app, "AUTH app p");
    EXPECT_OK(noget, "AUTH noget p");
    EXPECT_ERR(app, "NOPERM this user has no permissions to access one of the keys used as "
               "arguments", "GET secret");
    EXPECT_ERR(noget, "NOPERM this user has no permissions to run the 'get' command", "GET ok:1");
    EXPECT_INFO(adm, "loader_loads_started", 0);
    EXPECT_INFO(adm, "loader_origin_calls", 0);
    redisReply *r = CMD(app, "GET ok:1");
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_non_null(strstr(r->str, "ok:1"));
    freeReplyObject(r);
    EXPECT_INFO(adm, "loader_origin_calls", 1);
    redisFree(adm);
    redisFree(app);
    redisFree(noget);
    stop_ok();
}

int main(void)
{
    int own = harness_file_mmcache_only("the read-through loader");
    if (own >= 0)
        return own;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_origin_400mb),
        cmocka_unit_test(test_max_value_size),
        cmocka_unit_test(test_errors_say_nothing),
        cmocka_unit_test(test_file_origin_proc),
        cmocka_unit_test(test_acl_before_loader),
    };
    int failed = cmocka_run_group_tests_name("integration/loader_limits", tests, NULL, NULL);
    return harness_finish(failed);
}
