/*
 * loader_fixture: what test_loader.c needs beyond the harness. One server
 * at a time, `srv`, that each test starts itself and stops by PID; many
 * hiredis clients at once that send first and read after (the herds); the
 * INFO figures of the loader, read exactly or awaited; and an upstream
 * redis-server the test runs itself for `loader redis`.
 *
 * This header defines (not just declares) its state and functions, all
 * static: include it, after <cmocka.h>, from exactly one .c file. Functions
 * are static inline so that one a file does not use gives no warning.
 *
 * Context: the cmocka thread only.
 */
#ifndef MMCACHE_LOADER_FIXTURE_H
#define MMCACHE_LOADER_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "check.h"
#include "harness.h"

static struct harness_server srv;

/* ---- the server under test ----------------------------------------------- */

/* The tests switch origins with CONFIG SET from this (local) client:
 * enable-protected-configs allows that from a local connection. */
static const char *const loader_fixture_args[] = {"--enable-protected-configs", "local", NULL};

static inline void start(const char *const *mm_args)
{
    if (harness_start(&srv, loader_fixture_args, mm_args, NULL) != 0)
        fail_msg("server did not start");
}

static inline void start_file(const char *conf, const char *const *mm_args)
{
    if (harness_start_file(&srv, conf, loader_fixture_args, mm_args, NULL) != 0)
        fail_msg("server did not start on %s", conf);
}

/* Does the server's log hold `needle`? (The harness captures it.) */
static inline int log_has(const char *needle)
{
    FILE *f = fopen(srv.log, "r");
    char line[2048];
    int found = 0;
    if (!f)
        return 0;
    while (!found && fgets(line, sizeof(line), f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    if (!found)
        fprintf(stderr, "the server log has no line with '%s'\n", needle);
    return found;
}

/* Stop by PID; the exit status must be 0 (under ASan: no leak either). */
static inline void stop_ok(void)
{
    int st = harness_stop(&srv, 10000);
    if (st != 0)
        harness_print_log(&srv);
    assert_int_equal(st, 0);
}

static inline redisContext *connect_ok(void)
{
    redisContext *c = harness_connect(&srv);
    if (!c)
        fail_msg("cannot connect to port %d", srv.port);
    return c;
}

/* Monotonic microseconds, for the durations the tests bound. */
static inline long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- INFO ---------------------------------------------------------------- */

/* An INFO field that must be there. */
static inline long long info(redisContext *c, const char *field)
{
    long long v = harness_info_ll(c, field);
    if (v < 0)
        fail_msg("INFO has no field %s (or the connection broke)", field);
    return v;
}

#define EXPECT_INFO(c, field, want)                                         \
    do {                                                                    \
        long long got_ = info((c), (field));                                \
        if (got_ != (long long)(want))                                      \
            fail_msg("INFO %s is %lld, want %lld", (field), got_,           \
                     (long long)(want));                                    \
    } while (0)

/* Poll INFO (bounded) until field == want. */
static inline int wait_info(redisContext *c, const char *field, long long want,
                            int bound_ms)
{
    long long deadline = harness_now_ms() + bound_ms;
    for (;;) {
        long long v = info(c, field);
        if (v == want)
            return 1;
        if (harness_now_ms() >= deadline) {
            fprintf(stderr, "INFO %s stayed %lld for %d ms (want %lld)\n", field,
                    v, bound_ms, want);
            return 0;
        }
        harness_sleep_ms(5);
    }
}

#define AWAIT_INFO(c, field, want, bound_ms)                                \
    do {                                                                    \
        if (!wait_info((c), (field), (want), (bound_ms)))                   \
            fail_msg("INFO %s never reached %lld", (field), (long long)(want)); \
    } while (0)

/* ---- replies ------------------------------------------------------------- */

/* The next reply on c (its command already appended); fails on a broken
 * connection. Caller frees. */
static inline redisReply *next_reply(redisContext *c)
{
    void *r = NULL;
    if (redisGetReply(c, &r) != REDIS_OK || !r)
        fail_msg("no reply: %s", c->errstr);
    return r;
}

static inline int reply_is(const redisReply *r, int type, const char *s, size_t len)
{
    return r && r->type == type && (size_t)r->len == len && memcmp(r->str, s, len) == 0;
}

/* r must be exactly `type` with those bytes; r is freed. */
static inline void expect_reply(const char *file, int line, redisReply *r, int type,
                                const char *s, size_t len, const char *what)
{
    if (!reply_is(r, type, s, len)) {
        char got[300];
        chk_describe(r, got, sizeof(got));
        fprintf(stderr, "%s:%d: %s\n  expected %s \"%.*s\"\n  got      %s\n", file,
                line, what, chk_type_name(type), (int)(len > 200 ? 200 : len), s, got);
        if (r)
            freeReplyObject(r);
        fail_msg("unexpected reply (see above)");
    }
    freeReplyObject(r);
}
#define EXPECT_REPLY_BULK(r, s, what) \
    expect_reply(__FILE__, __LINE__, (r), REDIS_REPLY_STRING, (s), strlen(s), (what))
#define EXPECT_REPLY_ERR(r, s, what) \
    expect_reply(__FILE__, __LINE__, (r), REDIS_REPLY_ERROR, (s), strlen(s), (what))

/* Send what was appended on c, without reading. */
static inline void flush_out(redisContext *c)
{
    int done = 0;
    do {
        if (redisBufferWrite(c, &done) != REDIS_OK)
            fail_msg("write failed: %s", c->errstr);
    } while (!done);
}

/* The synthetic origin's value of key when built at config generation
 * epoch, unpadded ("key:<key>:v<epoch>"). */
static inline const char *synthetic_value(char *buf, size_t cap, const char *key,
                                          long long epoch)
{
    snprintf(buf, cap, "key:%s:v%lld", key, epoch);
    return buf;
}

/* ---- many clients -------------------------------------------------------- */

/* Room for n clients' sockets here (the server inherits the limit). */
static inline void raise_nofile(rlim_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

/* n connected clients; every one has answered a PING, so the server has
 * accepted them all before the test sends anything that counts. */
static inline redisContext **connect_many(int n)
{
    raise_nofile((rlim_t)n * 2 + 256);
    redisContext **cs = calloc((size_t)n, sizeof(*cs));
    assert_non_null(cs);
    for (int i = 0; i < n; i++)
        cs[i] = connect_ok();
    for (int i = 0; i < n; i++)
        redisAppendCommand(cs[i], "PING");
    for (int i = 0; i < n; i++)
        flush_out(cs[i]);
    for (int i = 0; i < n; i++)
        expect_reply(__FILE__, __LINE__, next_reply(cs[i]), REDIS_REPLY_STATUS, "PONG", 4,
                     "PING before the herd");
    return cs;
}

static inline void free_many(redisContext **cs, int n)
{
    for (int i = 0; i < n; i++)
        if (cs[i])
            redisFree(cs[i]);
    free(cs);
}

/* ---- an upstream redis-server for `loader redis` --------------------------- */

struct upstream {
    pid_t pid;          /* 0 when not running */
    int port;
    char log[64];
};

/* redis-server on a free port, no persistence, stdout+stderr to a log,
 * SIGKILLed should this process die; waits (bounded) for PING. */
static inline void upstream_start(struct upstream *u)
{
    const char *bin = getenv("REDIS_SERVER_BIN");
    char port[16];
    if (!bin || !*bin)
        bin = "redis-server";
    snprintf(u->log, sizeof(u->log), "/tmp/mmcache-itl-upstream-%d.log", (int)getpid());
    for (int attempt = 0; attempt < 5; attempt++) {
        u->port = harness_free_port();
        snprintf(port, sizeof(port), "%d", u->port);
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            int fd = open(u->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
            int nul = open("/dev/null", O_RDONLY);
            if (fd >= 0) {
                dup2(fd, STDOUT_FILENO);
                dup2(fd, STDERR_FILENO);
            }
            if (nul >= 0)
                dup2(nul, STDIN_FILENO);
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            execlp(bin, bin, "--port", port, "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--daemonize", "no", (char *)NULL);
            _exit(127);
        }
        long long deadline = harness_now_ms() + 10000;
        int status;
        while (harness_now_ms() < deadline) {
            if (waitpid(pid, &status, WNOHANG) == pid)
                break;   /* exited: the port was taken, try another */
            if (harness_ping(u->port)) {
                u->pid = pid;
                return;
            }
            harness_sleep_ms(20);
        }
        if (waitpid(pid, &status, WNOHANG) == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
        }
    }
    fail_msg("redis-server did not start (log: %s)", u->log);
}

/* SIGTERM by PID, wait (bounded, then SIGKILL). */
static inline void upstream_stop(struct upstream *u)
{
    int status;
    if (u->pid <= 0)
        return;
    kill(u->pid, SIGTERM);
    long long deadline = harness_now_ms() + 5000;
    while (waitpid(u->pid, &status, WNOHANG) == 0) {
        if (harness_now_ms() >= deadline) {
            kill(u->pid, SIGKILL);
            waitpid(u->pid, &status, 0);
            break;
        }
        harness_sleep_ms(10);
    }
    u->pid = 0;
    unlink(u->log);
}

#endif
