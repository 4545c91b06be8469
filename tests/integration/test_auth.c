/*
 * test_auth: authentication as Redis 7.0 does it. requirepass (flag,
 * CONFIG SET, a reload), AUTH with one and two arguments, HELLO's AUTH,
 * NOAUTH until authenticated (AUTH, HELLO, QUIT and RESET excepted),
 * WRONGPASS, protected mode for clients that are not local, and the small
 * limits a client meets before it authenticates. Each test starts its own
 * server. Expected replies are Redis 7.0's: the file passes under
 * MMCACHE_TEST_AGAINST=redis except where marked mmcache-only (a reload,
 * the log, the pre-auth output cap that Redis added after 7.0.15).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "harness.h"

#define DENIED "DENIED Redis is running in protected mode because protected mode is enabled " \
    "and no password is set for the default user. In this mode connections are only "      \
    "accepted from the loopback interface. If you want to connect from external computers " \
    "to Redis you may adopt one of the following solutions: 1) Just disable protected mode " \
    "sending the command 'CONFIG SET protected-mode no' from the loopback interface by "      \
    "connecting to Redis from the same host the server is running, however MAKE SURE Redis " \
    "is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this " \
    "change permanent. 2) Alternatively you can just disable the protected mode by editing " \
    "the Redis configuration file, and setting the protected mode option to 'no', and then " \
    "restarting the server. 3) If you started the server manually just for testing, restart " \
    "it with the '--protected-mode no' option. 4) Setup a an authentication password for "   \
    "the default user. NOTE: You only need to do one of the above things in order for the "  \
    "server to start accepting connections from the outside."
#define NOAUTH "NOAUTH Authentication required."
#define NOAUTH_HELLO "NOAUTH HELLO must be called with the client already authenticated, " \
    "otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client "  \
    "and select the RESP protocol version at the same time"

static struct harness_server srv;

static void start(const char *const *args)
{
    assert_int_equal(harness_start(&srv, args, NULL, NULL), 0);
}

static int teardown(void **state)
{
    (void)state;
    if (srv.pid)
        assert_int_equal(harness_stop(&srv, 10000), 0);
    srv.pid = 0;
    return 0;
}

static redisContext *connect_ok(void)
{
    redisContext *c = harness_connect(&srv);
    assert_non_null(c);
    return c;
}

/* A connection authenticated with AUTH pw (or AUTH user pw). */
static redisContext *connect_auth(const char *user, const char *pw)
{
    redisContext *c = connect_ok();
    if (user)
        EXPECT_OK(c, "AUTH %s %s", user, pw);
    else
        EXPECT_OK(c, "AUTH %s", pw);
    return c;
}

/* ---- AUTH ----------------------------------------------------------------------- */

static void test_auth_without_password(void **state)
{
    (void)state;
    start(NULL);
    redisContext *c = connect_ok();
    EXPECT_ERR(c, "ERR AUTH <password> called without any password configured for the "
                  "default user. Are you sure your configuration is correct?", "AUTH x");
    EXPECT_OK(c, "AUTH default anything");          /* nopass: any password */
    EXPECT_ERR(c, WRONGPASS, "AUTH nouser x");
    EXPECT_ERR(c, "ERR syntax error", "AUTH a b c");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'auth' command", "AUTH");
    EXPECT_BULK(c, "default", "ACL WHOAMI");
    EXPECT_STATUS(c, "PONG", "PING");
    redisFree(c);
}

static void test_requirepass_flag(void **state)
{
    (void)state;
    static const char *const args[] = {"--requirepass", "s3cret", NULL};
    start(args);
    redisContext *c = connect_ok();
    EXPECT_ERR(c, NOAUTH, "PING");
    EXPECT_ERR(c, NOAUTH, "GET k");
    EXPECT_ERR(c, NOAUTH, "CONFIG GET requirepass");
    /* an unknown command, a wrong arity, are said before NOAUTH */
    EXPECT_ERR(c, "ERR unknown command 'FOO', with args beginning with: ", "FOO");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'get' command", "GET");
    EXPECT_ERR(c, "ERR unknown subcommand 'x'. Try CONFIG HELP.", "CONFIG x");
    EXPECT_ERR(c, WRONGPASS, "AUTH wrong");
    EXPECT_ERR(c, WRONGPASS, "AUTH default wrong");
    EXPECT_ERR(c, NOAUTH, "PING");
    EXPECT_OK(c, "AUTH s3cret");
    EXPECT_STATUS(c, "PONG", "PING");
    EXPECT_OK(c, "AUTH default s3cret");
    redisReply *r = CMD(c, "CONFIG GET requirepass");
    assert_int_equal(r->elements, 2);
    assert_string_equal(r->element[1]->str, "s3cret");   /* as Redis shows it */
    freeReplyObject(r);
    /* the default user's password, kept as its SHA-256 */
    redisReply *l = CMD(c, "ACL LIST");
    assert_int_equal(l->elements, 1);
    assert_string_equal(l->element[0]->str, "user default on #1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0 ~* &* +@all");
    freeReplyObject(l);
    redisFree(c);
}

static void test_requirepass_config_set(void **state)
{
    (void)state;
    start(NULL);
    redisContext *before = connect_ok();
    EXPECT_OK(before, "CONFIG SET requirepass pw1");
    /* a connection made before the password keeps working */
    EXPECT_STATUS(before, "PONG", "PING");
    redisContext *c = connect_ok();
    EXPECT_ERR(c, NOAUTH, "PING");
    EXPECT_OK(c, "AUTH pw1");
    EXPECT_STATUS(c, "PONG", "PING");
    /* setting the same value again changes nothing (Redis skips it): a
     * password added to the default user stays */
    EXPECT_OK(c, "ACL SETUSER default >extra");
    EXPECT_OK(c, "CONFIG SET requirepass pw1");
    redisContext *c2 = connect_ok();
    EXPECT_OK(c2, "AUTH extra");
    /* a new value replaces every password */
    EXPECT_OK(c, "CONFIG SET requirepass pw2");
    EXPECT_ERR(c2, WRONGPASS, "AUTH extra");
    EXPECT_ERR(c2, WRONGPASS, "AUTH pw1");
    EXPECT_OK(c2, "AUTH pw2");
    /* "" removes it: nopass again */
    EXPECT_OK(c, "CONFIG SET requirepass %s", "");
    redisContext *c3 = connect_ok();
    EXPECT_STATUS(c3, "PONG", "PING");
    redisReply *l = CMD(c3, "ACL LIST");
    assert_int_equal(l->elements, 1);
    assert_string_equal(l->element[0]->str, "user default on nopass ~* &* +@all");
    freeReplyObject(l);
    redisFree(c3);
    redisFree(c2);
    redisFree(c);
    redisFree(before);
}

/* AUTH, HELLO, QUIT and RESET run before authentication; HELLO then
 * answers only with its own AUTH. */
static void test_noauth_commands(void **state)
{
    (void)state;
    static const char *const args[] = {"--requirepass", "pw", NULL};
    start(args);
    redisContext *c = connect_ok();
    EXPECT_ERR(c, NOAUTH_HELLO, "HELLO");
    EXPECT_ERR(c, NOAUTH_HELLO, "HELLO 2");
    EXPECT_STATUS(c, "RESET", "RESET");
    EXPECT_ERR(c, NOAUTH, "CLIENT ID");
    EXPECT_ERR(c, NOAUTH, "ACL WHOAMI");
    EXPECT_ERR(c, NOAUTH, "COMMAND");
    EXPECT_OK(c, "QUIT");
    redisReply *r = redisCommand(c, "PING");
    assert_null(r);                                   /* closed */
    redisFree(c);
}

static void test_hello_auth(void **state)
{
    (void)state;
    static const char *const args[] = {"--requirepass", "pw", NULL};
    start(args);
    redisContext *c = connect_ok();
    EXPECT_ERR(c, WRONGPASS, "HELLO 2 AUTH default wrong");
    EXPECT_ERR(c, WRONGPASS, "HELLO 2 AUTH nouser pw");
    /* options take effect in order: the name stays though AUTH failed */
    EXPECT_ERR(c, WRONGPASS, "HELLO 2 SETNAME early AUTH default wrong");
    EXPECT_ERR(c, "ERR Syntax error in HELLO option 'AUTH'", "HELLO 2 AUTH default");
    EXPECT_ERR(c, NOAUTH, "PING");
    redisReply *r = CMD(c, "HELLO 2 AUTH default pw SETNAME late");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 14);
    assert_string_equal(r->element[0]->str, "server");
    freeReplyObject(r);
    EXPECT_BULK(c, "late", "CLIENT GETNAME");
    EXPECT_STATUS(c, "PONG", "PING");
    redisFree(c);

    c = connect_ok();
    EXPECT_ERR(c, WRONGPASS, "HELLO 2 SETNAME early AUTH default wrong");
    EXPECT_OK(c, "AUTH pw");
    EXPECT_BULK(c, "early", "CLIENT GETNAME");
    /* an ACL user through HELLO */
    EXPECT_OK(c, "ACL SETUSER hal on >halpw +@all ~*");
    r = CMD(c, "HELLO 2 AUTH hal halpw");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    freeReplyObject(r);
    EXPECT_BULK(c, "hal", "ACL WHOAMI");
    redisFree(c);
}

/* RESET goes back to the default user, unauthenticated when it has a
 * password. */
static void test_reset_deauthenticates(void **state)
{
    (void)state;
    static const char *const args[] = {"--requirepass", "pw", NULL};
    start(args);
    redisContext *c = connect_auth(NULL, "pw");
    EXPECT_OK(c, "ACL SETUSER bob on >bobpw +@all ~*");
    EXPECT_OK(c, "AUTH bob bobpw");
    EXPECT_BULK(c, "bob", "ACL WHOAMI");
    EXPECT_ERR(c, WRONGPASS, "AUTH bob wrong");
    EXPECT_BULK(c, "bob", "ACL WHOAMI");             /* a failed AUTH changes nothing */
    EXPECT_STATUS(c, "RESET", "RESET");
    EXPECT_ERR(c, NOAUTH, "PING");
    EXPECT_OK(c, "AUTH pw");
    EXPECT_BULK(c, "default", "ACL WHOAMI");
    /* a user that is off cannot log in */
    EXPECT_OK(c, "ACL SETUSER carol off >x +@all ~*");
    EXPECT_ERR(c, WRONGPASS, "AUTH carol x");
    redisFree(c);
}

/* ---- protected mode ---------------------------------------------------------------- */

/* A client from 127.0.0.2 (not local: only 127.0.0.1 and ::1 are) reads
 * what the server sends before closing. */
static void expect_denied_from_remote(void)
{
    char buf[4096];
    int eof = 0;
    int fd = harness_raw_connect_from("127.0.0.2", srv.port, 3000);
    assert_true(fd >= 0);
    size_t n = harness_read_until(fd, buf, sizeof(buf) - 1, 3000, &eof);
    buf[n] = '\0';
    assert_string_equal(buf, "-" DENIED "\r\n");
    if (!eof)
        assert_true(harness_wait_closed(fd, 3000, &n));
    close(fd);
}

static void test_protected_mode(void **state)
{
    (void)state;
    static const char *const args[] = {"--bind", "0.0.0.0", NULL};
    start(args);
    expect_denied_from_remote();
    redisContext *local = connect_ok();                /* 127.0.0.1 is local */
    EXPECT_STATUS(local, "PONG", "PING");
    redisReply *r = CMD(local, "CONFIG GET protected-mode");
    assert_string_equal(r->element[1]->str, "yes");    /* the default */
    freeReplyObject(r);

    EXPECT_OK(local, "CONFIG SET protected-mode no");  /* a trusted network */
    redisContext *remote = harness_connect_from(&srv, "127.0.0.2");
    assert_non_null(remote);
    EXPECT_STATUS(remote, "PONG", "PING");
    redisFree(remote);
    EXPECT_OK(local, "CONFIG SET protected-mode yes");
    expect_denied_from_remote();

    /* with a password: served, after AUTH */
    EXPECT_OK(local, "CONFIG SET requirepass pw");
    remote = harness_connect_from(&srv, "127.0.0.2");
    assert_non_null(remote);
    EXPECT_ERR(remote, NOAUTH, "PING");
    EXPECT_OK(remote, "AUTH pw");
    EXPECT_OK(remote, "SET k v");
    EXPECT_BULK(remote, "v", "GET k");
    redisFree(remote);
    redisFree(local);
}

static void test_protected_mode_with_requirepass(void **state)
{
    (void)state;
    static const char *const args[] = {"--bind", "0.0.0.0", "--requirepass", "pw", NULL};
    start(args);
    redisContext *remote = harness_connect_from(&srv, "127.0.0.2");
    assert_non_null(remote);
    EXPECT_ERR(remote, NOAUTH, "GET k");
    EXPECT_ERR(remote, WRONGPASS, "AUTH nope");
    EXPECT_OK(remote, "AUTH pw");
    EXPECT_STATUS(remote, "PONG", "PING");
    redisFree(remote);
}

/* ---- before authentication: small limits ---------------------------------------------- */

/* Raw bytes in; what comes back until the server closes (or 3 s). */
static size_t exchange(const char *in, size_t n, char *out, size_t cap, int *eof)
{
    int fd = harness_raw_connect(srv.port, 3000);
    assert_true(fd >= 0);
    assert_int_equal(harness_write_all(fd, in, n), 0);
    size_t got = harness_read_until(fd, out, cap - 1, 3000, eof);
    out[got] = '\0';
    close(fd);
    return got;
}

static void test_unauth_query_limits(void **state)
{
    (void)state;
    static const char *const args[] = {"--requirepass", "pw", NULL};
    char out[512];
    int eof = 0;
    start(args);
    exchange("*11\r\n", 5, out, sizeof(out), &eof);
    assert_string_equal(out, "-ERR Protocol error: unauthenticated multibulk length\r\n");
    assert_true(eof);
    exchange("*2\r\n$16385\r\n", 12, out, sizeof(out), &eof);
    assert_string_equal(out, "-ERR Protocol error: unauthenticated bulk length\r\n");
    assert_true(eof);
    /* 16384 bytes is still fine */
    char *big = malloc(16384 + 64);
    assert_non_null(big);
    int n = sprintf(big, "*2\r\n$4\r\nECHO\r\n$16384\r\n");
    memset(big + n, 'x', 16384);
    memcpy(big + n + 16384, "\r\n", 2);
    exchange(big, (size_t)n + 16386, out, sizeof(out), &eof);
    assert_string_equal(out, "-" NOAUTH "\r\n");
    free(big);
    /* after AUTH the usual limits: 11 arguments */
    static const char mset[] = "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n"
        "*11\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"
        "$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n";
    int fd = harness_raw_connect(srv.port, 3000);
    assert_true(fd >= 0);
    assert_int_equal(harness_write_all(fd, mset, sizeof(mset) - 1), 0);
    size_t got = harness_read_until(fd, out, 10, 3000, &eof);
    out[got] = '\0';
    assert_string_equal(out, "+OK\r\n+OK\r\n");
    close(fd);
}

/* mmcache-only: Redis added this cap after 7.0 (CVE-2025-21605). A client
 * that never authenticated and does not read its NOAUTH replies is closed
 * once 1 KB of them is pending, instead of growing its buffer; one that
 * authenticates is not held to it for the commands after its AUTH. */
static void test_unauth_output_cap(void **state)
{
    (void)state;
    HARNESS_MMCACHE_ONLY("the pre-auth output cap (Redis 7.2.8's, after 7.0)");
    static const char *const args[] = {"--requirepass", "pw", NULL};
    start(args);
    enum { N = 50000 };
    char *flood = malloc(N * 6);
    assert_non_null(flood);
    for (int i = 0; i < N; i++)
        memcpy(flood + i * 6, "PING\r\n", 6);
    int fd = harness_raw_connect(srv.port, 3000);
    assert_true(fd >= 0);
    /* the server may close while we still write: EPIPE/ECONNRESET then */
    (void)harness_write_all(fd, flood, N * 6);
    size_t n = 0;
    assert_true(harness_wait_closed(fd, 5000, &n));
    /* what arrived is a small part of the 1.7 MB of NOAUTH it asked for */
    if (n > 256 * 1024)
        fail_msg("%zu bytes of replies reached an unauthenticated client", n);
    close(fd);
    free(flood);
    redisContext *c = connect_auth(NULL, "pw");      /* the server is fine */
    EXPECT_STATUS(c, "PONG", "PING");
    /* AUTH lifts the cap for what is pipelined behind it in the same
     * read: a 4 KB reply right after it is sent whole */
    char *big = malloc(4096);
    assert_non_null(big);
    memset(big, 'v', 4096);
    EXPECT_OK(c, "SET big %b", big, (size_t)4096);
    redisFree(c);
    fd = harness_raw_connect(srv.port, 3000);
    assert_true(fd >= 0);
    static const char auth_get[] = "AUTH pw\r\nGET big\r\n";
    assert_int_equal(harness_write_all(fd, auth_get, sizeof(auth_get) - 1), 0);
    char want[] = "+OK\r\n$4096\r\n", got[sizeof(want) - 1 + 4096 + 2];
    int eof = 0;
    n = harness_read_until(fd, got, sizeof(got), 3000, &eof);
    assert_int_equal(n, sizeof(got));
    assert_memory_equal(got, want, sizeof(want) - 1);
    assert_memory_equal(got + sizeof(want) - 1, big, 4096);
    close(fd);
    free(big);
}

/* ---- mmcache-only: the password stays out of the log; reload --------------------------- */

static void test_password_not_logged(void **state)
{
    (void)state;
    HARNESS_MMCACHE_ONLY("the server's log");
    static const char *const args[] = {"--loglevel", "verbose", NULL};
    start(args);
    redisContext *c = connect_ok();
    EXPECT_OK(c, "CONFIG SET requirepass Zq7-log-canary");
    EXPECT_OK(c, "AUTH Zq7-log-canary");
    EXPECT_OK(c, "CONFIG SET requirepass Zq8-log-canary maxclients 100");
    redisFree(c);
    char *log = chk_read_file(srv.log);
    assert_non_null(strstr(log, "requirepass=(redacted)"));
    assert_null(strstr(log, "log-canary"));
    free(log);
}

/* SIGHUP applies a changed requirepass (as CONFIG SET would) and changed
 * user lines (users no longer listed go, their clients too). */
static void test_reload(void **state)
{
    (void)state;
    HARNESS_MMCACHE_ONLY("a reload (SIGHUP) of the config file");
    char conf[] = "/tmp/mmcache-auth-XXXXXX";
    int fd = mkstemp(conf);
    assert_true(fd >= 0);
    close(fd);
    chk_write_file(conf, "requirepass first\nuser ann on >annpw +@all ~*\nuser ben on >benpw +@all ~*\n");
    assert_int_equal(harness_start_file(&srv, conf, NULL, NULL, NULL), 0);
    redisContext *c = connect_auth(NULL, "first");
    redisContext *ben = connect_auth("ben", "benpw");
    long long gen = harness_info_ll(c, "config_generation");

    chk_write_file(conf, "requirepass second\nuser ann on >annpw2 +@all ~*\nuser cat on >catpw +get ~*\n");
    kill(srv.pid, SIGHUP);
    long long deadline = harness_now_ms() + 5000;
    while (harness_info_ll(c, "config_generation") == gen && harness_now_ms() < deadline)
        harness_sleep_ms(20);
    redisContext *c2 = connect_ok();
    EXPECT_ERR(c2, WRONGPASS, "AUTH first");
    EXPECT_OK(c2, "AUTH second");
    EXPECT_ERR(c2, WRONGPASS, "AUTH ann annpw");
    EXPECT_OK(c2, "AUTH ann annpw2");
    EXPECT_OK(c2, "AUTH cat catpw");
    EXPECT_ERR(c2, "NOPERM this user has no permissions to run the 'set' command", "SET k v");
    /* ben is gone, and so is his connection */
    EXPECT_ERR(c2, WRONGPASS, "AUTH ben benpw");
    redisReply *r = redisCommand(ben, "PING");
    assert_null(r);
    redisFree(ben);

    /* a bad user line refuses the whole reload */
    chk_write_file(conf, "requirepass third\nuser ann on +nosuchcommand\n");
    kill(srv.pid, SIGHUP);
    harness_sleep_ms(300);
    redisContext *c3 = connect_ok();
    EXPECT_ERR(c3, WRONGPASS, "AUTH third");
    EXPECT_OK(c3, "AUTH second");
    redisFree(c3);
    redisFree(c2);
    redisFree(c);
    unlink(conf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_teardown(f, teardown)
        T(test_auth_without_password),
        T(test_requirepass_flag),
        T(test_requirepass_config_set),
        T(test_noauth_commands),
        T(test_hello_auth),
        T(test_reset_deauthenticates),
        T(test_protected_mode),
        T(test_protected_mode_with_requirepass),
        T(test_unauth_query_limits),
        T(test_unauth_output_cap),
        T(test_password_not_logged),
        T(test_reload),
#undef T
    };
    int failed = cmocka_run_group_tests_name("integration/auth", tests, NULL, NULL);
    return harness_finish(failed);
}
