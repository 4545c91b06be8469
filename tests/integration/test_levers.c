/*
 * test_levers: the dangerous levers are local-only, or off, by default
 * (Redis 7.0's `no | yes | local` settings): DEBUG (enable-debug-command),
 * CONFIG SET of settings naming a path or an address
 * (enable-protected-configs: here `loader`), switching a bug live
 * (enable-bug-lab), and CONFIG REWRITE, which cannot persist what its
 * client could not set. Each probe of issue 15 that these close is run as
 * the outside client it was (a socket bound to 127.0.0.2, not local in
 * Redis's sense) and must now fail safely: no crash, no file read, no
 * outbound connection.
 *
 * Where the behaviour is Redis's (DEBUG refused, its words, the levers
 * immutable) the tests also pass against redis-server
 * (MMCACHE_TEST_AGAINST=redis); the rest is mmcache's and skipped there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "harness.h"
#include "server_fixture.h"

#define REMOTE "127.0.0.2"   /* a client Redis 7.0 does not call local */

/* Both servers run protected mode (no password: remote clients refused);
 * the levers are what these tests are about, so it is off (given to each
 * server apart, as start() takes it). */
static const char *const unprotected[] = {"--protected-mode", "no", NULL};

static redisContext *local_client(void)
{
    redisContext *c = harness_connect(&srv);
    assert_non_null(c);
    return c;
}

static redisContext *remote_client(void)
{
    redisContext *c = harness_connect_from(&srv, REMOTE);
    assert_non_null(c);
    return c;
}

#define DEBUG_REFUSED "ERR DEBUG command not allowed. If the enable-debug-command option is " \
    "set to \"local\", you can run it from a local connection, otherwise you need to set this " \
    "option in the configuration file, and then restart the server."

/* A reply that is an error starting with `prefix`. */
#define EXPECT_ERR_PREFIX(c, prefix, ...)                                        \
    do {                                                                         \
        redisReply *rp_ = CMD((c), __VA_ARGS__);                                 \
        if (rp_->type != REDIS_REPLY_ERROR || strncmp(rp_->str, (prefix), strlen(prefix)) != 0) \
            fail_msg("`%s`: got %s \"%s\", want an error starting \"%s\"", #__VA_ARGS__, \
                     chk_type_name(rp_->type), rp_->str ? rp_->str : "", (prefix)); \
        freeReplyObject(rp_);                                                    \
    } while (0)

/* ---- DEBUG ---------------------------------------------------------------- */

/* Default: nobody, not even a local client; every subcommand, unknown ones
 * too; the arity error still comes first (Redis's order). */
static void test_debug_refused_by_default(void **state)
{
    (void)state;
    start(NULL, unprotected, unprotected);
    redisContext *l = local_client(), *r = remote_client();
    EXPECT_ERR(l, DEBUG_REFUSED, "DEBUG SLEEP 0");
    EXPECT_ERR(l, DEBUG_REFUSED, "DEBUG HELP");
    EXPECT_ERR(l, DEBUG_REFUSED, "DEBUG no-such-subcommand");
    EXPECT_ERR(r, DEBUG_REFUSED, "DEBUG SLEEP 0");
    /* the probe: a worker spun forever on this */
    EXPECT_ERR(r, DEBUG_REFUSED, "DEBUG SLEEP 9223372036854775808");
    EXPECT_ERR(l, "ERR wrong number of arguments for 'debug' command", "DEBUG");
    EXPECT_ERR_PREFIX(l, "ERR CONFIG SET failed (possibly related to argument "
                      "'enable-debug-command') - can't set immutable config",
                      "CONFIG SET enable-debug-command yes");
    redisReply *g = CMD(l, "CONFIG GET enable-debug-command");
    assert_int_equal(g->elements, 2);
    assert_string_equal(g->element[1]->str, "no");
    freeReplyObject(g);
    EXPECT_STATUS(r, "PONG", "PING");
    redisFree(l);
    redisFree(r);
    stop_ok();
}

static void test_debug_local(void **state)
{
    (void)state;
    static const char *const args[] = {"--enable-debug-command", "local", NULL};
    start(args, unprotected, unprotected);
    redisContext *l = local_client(), *r = remote_client();
    EXPECT_OK(l, "DEBUG SLEEP 0");
    EXPECT_ERR(r, DEBUG_REFUSED, "DEBUG SLEEP 0");
    redisFree(l);
    redisFree(r);
    stop_ok();
}

static void test_debug_yes(void **state)
{
    (void)state;
    static const char *const args[] = {"--enable-debug-command", "yes", NULL};
    start(args, unprotected, unprotected);
    redisContext *r = remote_client();
    EXPECT_OK(r, "DEBUG SLEEP 0");
    redisFree(r);
    stop_ok();
}

/* The order Redis 7.0's processCommand checks in: arity, then DEBUG's
 * lever, then authentication, then the ACL. A client that has not
 * authenticated is told DEBUG is off (not NOAUTH); where the lever allows
 * the client it must authenticate, and its user's rules still decide. */
static void test_debug_lever_auth_acl_order(void **state)
{
    (void)state;
    static const char *const off[] = {"--requirepass", "pw", NULL};
    start(off, NULL, NULL);
    redisContext *l = local_client();
    EXPECT_ERR(l, "ERR wrong number of arguments for 'debug' command", "DEBUG");
    EXPECT_ERR(l, DEBUG_REFUSED, "DEBUG SLEEP 0");           /* not NOAUTH */
    EXPECT_ERR(l, "NOAUTH Authentication required.", "PING");
    EXPECT_OK(l, "AUTH pw");
    EXPECT_OK(l, "ACL SETUSER nodebug on >p +@all -debug ~*");
    EXPECT_ERR(l, DEBUG_REFUSED, "DEBUG SLEEP 0");
    EXPECT_OK(l, "AUTH nodebug p");
    EXPECT_ERR(l, DEBUG_REFUSED, "DEBUG SLEEP 0");           /* the lever before the ACL */
    redisFree(l);
    stop_ok();

    static const char *const local[] = {"--requirepass", "pw", "--enable-debug-command", "local",
                                        NULL};
    start(local, NULL, NULL);
    redisContext *r = remote_client();
    l = local_client();
    EXPECT_ERR(r, DEBUG_REFUSED, "DEBUG SLEEP 0");
    EXPECT_ERR(l, "NOAUTH Authentication required.", "DEBUG SLEEP 0");
    EXPECT_OK(r, "AUTH pw");
    EXPECT_ERR(r, DEBUG_REFUSED, "DEBUG SLEEP 0");           /* authenticated, still remote */
    EXPECT_OK(l, "AUTH pw");
    EXPECT_OK(l, "DEBUG SLEEP 0");
    EXPECT_OK(l, "ACL SETUSER nodebug on >p +@all -debug ~*");
    EXPECT_OK(l, "AUTH nodebug p");
    EXPECT_ERR(l, "NOPERM this user has no permissions to run the 'debug' command",
               "DEBUG SLEEP 0");
    redisFree(l);
    redisFree(r);
    stop_ok();
}

/* utime + stime of a process, in clock ticks (/proc/PID/stat). */
static long long cpu_ticks(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')');   /* the name may hold blanks */
    assert_non_null(p);
    long long ut = 0, st = 0;
    /* after ")": state, then fields 4.. ; utime and stime are 14 and 15 */
    assert_int_equal(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld",
                            &ut, &st), 2);
    return ut + st;
}

/* The probe: DEBUG SLEEP 9223372036854775808 (or 1e9) spun a
 * worker at 100% forever, deaf to SIGTERM. Now a time beyond the bound is
 * refused, a long sleep costs no CPU, and SIGTERM still stops the server
 * at once. */
static void test_debug_sleep_bounded(void **state)
{
    (void)state;
    HARNESS_MMCACHE_ONLY("DEBUG SLEEP's bound (Redis would sleep for 31 years)");
    static const char *const args[] = {"--enable-debug-command", "local", NULL};
    start(args, unprotected, unprotected);
    redisContext *l = local_client();
    static const char *const too_long[] = {"9223372036854775808", "1e9", "inf", "-nan", "nan",
                                           "3600.001", "1e400"};
    for (size_t i = 0; i < sizeof(too_long) / sizeof(too_long[0]); i++)
        EXPECT_ERR(l, "ERR DEBUG SLEEP takes at most 3600 seconds", "DEBUG SLEEP %s", too_long[i]);
    long long t0 = harness_now_ms();
    EXPECT_OK(l, "DEBUG SLEEP -1");        /* Redis's parse: no sleep */
    EXPECT_OK(l, "DEBUG SLEEP abc");
    EXPECT_OK(l, "DEBUG SLEEP -9223372036854775809");
    assert_true(harness_now_ms() - t0 < 1000);

    /* a long sleep: the worker waits, it does not spin */
    int fd = harness_raw_connect(srv.port, 1000);
    assert_true(fd >= 0);
    static const char sleep_cmd[] = "*3\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n$4\r\n3000\r\n";
    assert_int_equal(harness_write_all(fd, sleep_cmd, sizeof(sleep_cmd) - 1), 0);
    harness_sleep_ms(200);
    long long c0 = cpu_ticks(srv.pid);
    harness_sleep_ms(1000);
    long long used = cpu_ticks(srv.pid) - c0;
    fprintf(stderr, "server CPU during 1 s of DEBUG SLEEP: %lld ticks\n", used);
    assert_true(used < 20);   /* a spinning worker: ~100 */
    /* SIGTERM while it sleeps: answered and stopped within the drain */
    t0 = harness_now_ms();
    stop_ok();
    long long took = harness_now_ms() - t0;
    fprintf(stderr, "SIGTERM during DEBUG SLEEP 3000: exit after %lld ms\n", took);
    assert_true(took < 5000);
    char buf[16];
    int eof = 0;
    size_t n = harness_read_until(fd, buf, 5, 2000, &eof);
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "+OK\r\n", 5);   /* the sleep ended early, the reply came */
    close(fd);
    redisFree(l);
}

/* ---- enable-protected-configs: loader ------------------------------------ */

#define PROTECTED_PREFIX(arg) \
    "ERR CONFIG SET failed (possibly related to argument '" arg "') - can't set protected config"

/* A listener the server is dared to connect to: 1 when something did. */
static int listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static int was_connected(int lfd, int wait_ms)
{
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    return poll(&p, 1, wait_ms) > 0;
}

/* CONFIG GET returns name and value: check the value. */
static void expect_config(redisContext *c, const char *name, const char *want)
{
    redisReply *g = CMD(c, "CONFIG GET %s", name);
    assert_int_equal(g->type, REDIS_REPLY_ARRAY);
    assert_int_equal(g->elements, 2);
    if (strcmp(g->element[1]->str, want) != 0)
        fail_msg("CONFIG GET %s = '%s', want '%s'", name, g->element[1]->str, want);
    freeReplyObject(g);
}

/* The probes: `CONFIG SET loader "file /etc"` then GET a file's
 * name, `file /proc/self` then GET environ, `redis HOST:PORT` to make the
 * server connect out. By default nobody may, local or not: no file read,
 * no connection. */
static void test_loader_protected_by_default(void **state)
{
    (void)state;
    HARNESS_MMCACHE_ONLY("the loader");
    int port, lfd = listener(&port);
    char spec[64];
    snprintf(spec, sizeof(spec), "redis 127.0.0.1:%d", port);
    start(NULL, unprotected, unprotected);
    redisContext *both[] = {local_client(), remote_client()};
    for (int i = 0; i < 2; i++) {
        redisContext *c = both[i];
        EXPECT_ERR(c, PROTECTED_PREFIX("loader") " (enable-protected-configs is 'no': set it "
                   "to 'local' or 'yes' in the config file or on the command line, then "
                   "restart)", "CONFIG SET loader %s", "file /etc");
        EXPECT_ERR_PREFIX(c, PROTECTED_PREFIX("loader"), "CONFIG SET loader %s", "file /proc/self");
        EXPECT_ERR_PREFIX(c, PROTECTED_PREFIX("loader"), "CONFIG SET loader %s", spec);
        /* all or nothing: the harmless half of a refused SET is not applied */
        EXPECT_ERR_PREFIX(c, PROTECTED_PREFIX("loader"), "CONFIG SET hz 11 loader %s", "synthetic");
        EXPECT_ERR_PREFIX(c, PROTECTED_PREFIX("LOADER"), "CONFIG SET LOADER %s", "none");
        EXPECT_NIL(c, "GET passwd");
        EXPECT_NIL(c, "GET environ");
        EXPECT_NIL(c, "GET shadow");
        expect_config(c, "loader", "none");
        expect_config(c, "hz", "10");
    }
    assert_false(was_connected(lfd, 300));
    EXPECT_ERR_PREFIX(both[0], "ERR CONFIG SET failed (possibly related to argument "
                      "'enable-protected-configs') - can't set immutable config",
                      "CONFIG SET enable-protected-configs yes");
    redisFree(both[0]);
    redisFree(both[1]);
    close(lfd);
    stop_ok();
}

/* local: a local client may point the loader somewhere, a remote one may
 * not; yes: anyone may. The file and the flags always may. */
static void test_loader_protected_local(void **state)
{
    (void)state;
    HARNESS_MMCACHE_ONLY("the loader");
    int port, lfd = listener(&port);
    char spec[64];
    snprintf(spec, sizeof(spec), "redis 127.0.0.1:%d", port);
    static const char *const args[] = {"--enable-protected-configs", "local", NULL};
    start(args, unprotected, unprotected);
    redisContext *l = local_client(), *r = remote_client();
    EXPECT_ERR(r, PROTECTED_PREFIX("loader") " (enable-protected-configs is 'local': only a "
               "local connection may set it)", "CONFIG SET loader %s", spec);
    EXPECT_NIL(r, "GET k");
    assert_false(was_connected(lfd, 300));
    EXPECT_OK(l, "CONFIG SET loader synthetic");
    expect_config(r, "loader", "synthetic");
    redisFree(l);
    redisFree(r);
    stop_ok();

    static const char *const yes[] = {"--enable-protected-configs", "yes", NULL};
    start(yes, unprotected, unprotected);
    r = remote_client();
    EXPECT_OK(r, "CONFIG SET loader %s", "synthetic");
    redisFree(r);
    stop_ok();

    /* from the command line: whatever the lever says */
    char flag[64];
    snprintf(flag, sizeof(flag), "redis 127.0.0.1:%d", port);
    const char *const from_flag[] = {"--loader", flag, NULL};
    start(NULL, from_flag, unprotected);
    l = local_client();
    expect_config(l, "loader", flag);
    redisFree(l);
    stop_ok();
    close(lfd);
}

/* CONFIG SET of a protected setting: authentication and the ACL come
 * first (the lever is CONFIG SET's own check, as in Redis), then the
 * lever. Redis's protected setting here is `dir`, mmcache's `loader`. */
static void test_protected_config_auth_acl(void **state)
{
    (void)state;
    bool redis = harness_is_redis();
    const char *name = redis ? "dir" : "loader", *value = redis ? "/tmp" : "synthetic";
    static const char *const args[] = {"--requirepass", "pw", "--enable-protected-configs",
                                       "local", NULL};
    start(args, NULL, NULL);
    redisContext *l = local_client(), *r = remote_client();
    EXPECT_ERR(r, "NOAUTH Authentication required.", "CONFIG SET %s %s", name, value);
    EXPECT_ERR(l, "NOAUTH Authentication required.", "CONFIG SET %s %s", name, value);
    EXPECT_OK(l, "AUTH pw");
    EXPECT_OK(l, "ACL SETUSER cfg on >p +@all ~*");
    EXPECT_OK(l, "ACL SETUSER nocfg on >p +@all -config|set ~*");
    EXPECT_OK(r, "AUTH cfg p");
    char prefix[128];
    snprintf(prefix, sizeof(prefix), "ERR CONFIG SET failed (possibly related to argument "
             "'%s') - can't set protected config", name);
    EXPECT_ERR_PREFIX(r, prefix, "CONFIG SET %s %s", name, value);   /* allowed, but remote */
    EXPECT_OK(l, "AUTH nocfg p");
    EXPECT_ERR(l, "NOPERM this user has no permissions to run the 'config|set' command",
               "CONFIG SET %s %s", name, value);                     /* local, but denied */
    if (!redis) {   /* the bug lab's lever (local by default) likewise */
        EXPECT_ERR_PREFIX(r, PROTECTED_PREFIX("inject-bug"), "CONFIG SET inject-bug 4");
        EXPECT_ERR(l, "NOPERM this user has no permissions to run the 'config|set' command",
                   "CONFIG SET inject-bug 4");
        expect_config(r, "inject-bug", "none");
    }
    EXPECT_OK(l, "AUTH cfg p");
    EXPECT_OK(l, "CONFIG SET %s %s", name, value);
    redisFree(l);
    redisFree(r);
    stop_ok();
}

/* ---- a server on a config file ------------------------------------------- */

static char conf_dir[64], conf[128];

/* Start on a new config file holding `text`; remove_conf() cleans up. */
static void start_on_file(const char *text)
{
    snprintf(conf_dir, sizeof(conf_dir), "/tmp/mmcache-it-levers-XXXXXX");
    assert_non_null(mkdtemp(conf_dir));
    snprintf(conf, sizeof(conf), "%s/levers.conf", conf_dir);
    chk_write_file(conf, text);
    if (harness_start_file(&srv, conf, NULL, NULL, NULL) != 0)
        fail_msg("server did not start on %s", conf);
}

static void remove_conf(void)
{
    unlink(conf);
    rmdir(conf_dir);
}

/* ---- enable-bug-lab ------------------------------------------------------- */

static void expect_bugs(redisContext *c, const char *want)
{
    char line[64];
    redisReply *r = CMD(c, "INFO bugs");
    snprintf(line, sizeof(line), "\r\nbugs_injected:%s\r\n", want);
    if (!strstr(r->str, line))
        fail_msg("INFO bugs has no line bugs_injected:%s:\n%s", want, r->str);
    freeReplyObject(r);
}

#define LAB_LOCAL " (enable-bug-lab is 'local': only a local connection may set it)"
#define LAB_NO " (enable-bug-lab is 'no': set it to 'local' or 'yes' in the config file or " \
    "on the command line, then restart)"

/* The probe: `CONFIG SET inject-bug 13` from any client, then a
 * counter load, killed the server. A remote client is refused now; a
 * local one still switches bugs live (the lab's point). */
static void test_bug_lab_local_by_default(void **state)
{
    (void)state;
    HARNESS_MMCACHE_ONLY("the bug lab");
    start(NULL, unprotected, unprotected);
    redisContext *l = local_client(), *r = remote_client();
    EXPECT_ERR(r, PROTECTED_PREFIX("inject-bug") LAB_LOCAL, "CONFIG SET inject-bug 13");
    EXPECT_ERR(r, PROTECTED_PREFIX("bug-amplify") LAB_LOCAL, "CONFIG SET bug-amplify no");
    expect_bugs(r, "none");
    /* the counter load of the probe: every INCR counted, the server alive */
    for (int i = 0; i < 2000; i++)
        redisAppendCommand(r, "INCR ctr");
    for (int i = 0; i < 2000; i++) {
        redisReply *rep;
        assert_int_equal(redisGetReply(r, (void **)&rep), REDIS_OK);
        freeReplyObject(rep);
    }
    EXPECT_BULK(l, "2000", "GET ctr");
    EXPECT_OK(l, "CONFIG SET inject-bug 4");
    expect_bugs(r, "4");
    EXPECT_OK(l, "CONFIG SET inject-bug none bug-amplify no");
    expect_bugs(r, "none");
    EXPECT_ERR_PREFIX(l, "ERR CONFIG SET failed (possibly related to argument 'enable-bug-lab') "
                      "- can't set immutable config", "CONFIG SET enable-bug-lab yes");
    redisFree(l);
    redisFree(r);
    stop_ok();
}

/* no: nobody switches a bug live; the start-up flag and a reload of the
 * file (the operator's) still do. */
static void test_bug_lab_off(void **state)
{
    (void)state;
    HARNESS_MMCACHE_ONLY("the bug lab");
    start_on_file("enable-bug-lab no\ninject-bug 4\n");
    redisContext *l = local_client();
    expect_bugs(l, "4");
    EXPECT_ERR(l, PROTECTED_PREFIX("inject-bug") LAB_NO, "CONFIG SET inject-bug none");
    expect_bugs(l, "4");
    chk_write_file(conf, "enable-bug-lab no\ninject-bug 2\n");
    assert_int_equal(kill(srv.pid, SIGHUP), 0);
    long long deadline = harness_now_ms() + 5000;
    redisReply *rep = NULL;
    while (harness_now_ms() < deadline) {
        rep = CMD(l, "INFO bugs");
        if (strstr(rep->str, "\r\nbugs_injected:2\r\n"))
            break;
        freeReplyObject(rep);
        rep = NULL;
        harness_sleep_ms(50);
    }
    assert_non_null(rep);   /* the reload switched it */
    freeReplyObject(rep);
    redisFree(l);
    stop_ok();
    remove_conf();
}

/* ---- CONFIG REWRITE ------------------------------------------------------- */

/* The probe: a bug set live, then `CONFIG REWRITE` kept it
 * across restarts. A client that could not have set it cannot write it
 * to the file either; the other settings are written as usual. */
static void test_rewrite_keeps_levers(void **state)
{
    (void)state;
    HARNESS_MMCACHE_ONLY("the bug lab and the loader");
    start_on_file("# lab\ninject-bug none\nenable-protected-configs local\nhz 10\n"
                  "protected-mode no\n");
    redisContext *l = local_client(), *r = remote_client();
    EXPECT_OK(l, "CONFIG SET inject-bug 4 loader synthetic hz 12");
    char want[512];
    EXPECT_OK(r, "CONFIG REWRITE");
    /* (the harness's --port differs from the default: written too) */
    snprintf(want, sizeof(want), "# lab\ninject-bug none\nenable-protected-configs local\n"
             "hz 12\nprotected-mode no\n# Generated by CONFIG REWRITE\nport %d\n", srv.port);
    char *text = chk_read_file(conf);
    assert_string_equal(text, want);
    free(text);
    EXPECT_OK(l, "CONFIG REWRITE");
    snprintf(want, sizeof(want), "# lab\ninject-bug 4\nenable-protected-configs local\n"
             "hz 12\nprotected-mode no\n# Generated by CONFIG REWRITE\nport %d\n"
             "loader synthetic\n", srv.port);
    text = chk_read_file(conf);
    assert_string_equal(text, want);
    free(text);
    EXPECT_OK(l, "CONFIG SET inject-bug none");
    redisFree(l);
    redisFree(r);
    stop_ok();
    remove_conf();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_debug_refused_by_default, teardown),
        cmocka_unit_test_teardown(test_debug_local, teardown),
        cmocka_unit_test_teardown(test_debug_yes, teardown),
        cmocka_unit_test_teardown(test_debug_lever_auth_acl_order, teardown),
        cmocka_unit_test_teardown(test_debug_sleep_bounded, teardown),
        cmocka_unit_test_teardown(test_loader_protected_by_default, teardown),
        cmocka_unit_test_teardown(test_loader_protected_local, teardown),
        cmocka_unit_test_teardown(test_protected_config_auth_acl, teardown),
        cmocka_unit_test_teardown(test_bug_lab_local_by_default, teardown),
        cmocka_unit_test_teardown(test_bug_lab_off, teardown),
        cmocka_unit_test_teardown(test_rewrite_keeps_levers, teardown),
    };
    int failed = cmocka_run_group_tests_name("integration/levers", tests, NULL, NULL);
    return harness_finish(failed);
}
