/*
 * test_acl: ACL users as Redis 7.0 keeps them. SETUSER's rules and errors
 * (categories, commands, subcommands, key patterns, %R~ / %W~), LIST and
 * GETUSER, the NOPERM refusals, ACL LOG, DRYRUN, CAT, GENPASS, USERS,
 * WHOAMI, DELUSER (a deleted user's clients are disconnected; one turned
 * off keeps its connections, as in Redis), CLIENT LIST's user=, and rules
 * changing under load. The users' files (aclfile, user lines):
 * test_acl_files.c. The whole file passes under MMCACHE_TEST_AGAINST=redis
 * except what is marked mmcache-only.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <setjmp.h>
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

/* printf '%s' pw | sha256sum */
#define SHA_PW "30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4"
#define SHA_X  "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"

static struct harness_server srv;
static redisContext *adm;            /* the default user, on the group's server */

static int group_setup(void **state)
{
    (void)state;
    return chk_group_start(&srv, &adm);
}

static int group_teardown(void **state)
{
    (void)state;
    return chk_group_stop(&srv, &adm);
}

/* Each test starts with the default user only, an empty log and keyspace. */
static int test_setup(void **state)
{
    (void)state;
    return chk_acl_reset(adm, 1);
}

/* A connection as user/pw (on the group's server). */
static redisContext *as(const char *user, const char *pw)
{
    return chk_connect_as(&srv, user, pw);
}

static int in_list(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; (p = strstr(p, item)) != NULL; p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

/* ---- SETUSER, LIST, GETUSER ------------------------------------------------------------ */

static void test_setuser_list_getuser(void **state)
{
    (void)state;
    EXPECT_OK(adm, "ACL SETUSER alice on >pw ~cache:* +@all -@dangerous +get -config|set");
    EXPECT_OK(adm, "ACL SETUSER bob");
    EXPECT_OK(adm, "ACL SETUSER carl %s %s %s %s %s", "%R~r:*", "%W~w:*", "%RW~rw:*", "~x", "+get");
    EXPECT_OK(adm, "ACL SETUSER dan reset");
    EXPECT_OK(adm, "ACL SETUSER eve on nopass >x >x");
    EXPECT_OK(adm, "ACL SETUSER fay >p nopass >q <q");
    assert_string_equal(chk_joined_cmd(adm, "ACL LIST"),
        "user alice on #" SHA_PW " ~cache:* resetchannels +@all -@dangerous,"
        "user bob off resetchannels -@all,"
        "user carl off %R~r:* %W~w:* ~rw:* ~x resetchannels -@all +get,"
        "user dan off sanitize-payload resetchannels -@all,"
        "user default on nopass ~* &* +@all,"
        "user eve on #" SHA_X " resetchannels -@all,"
        "user fay off resetchannels -@all");
    assert_string_equal(chk_joined_cmd(adm, "ACL USERS"), "alice,bob,carl,dan,default,eve,fay");

    redisReply *r = CMD(adm, "ACL GETUSER alice");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 12);
    assert_string_equal(r->element[0]->str, "flags");
    assert_int_equal(r->element[1]->elements, 1);
    assert_string_equal(r->element[1]->element[0]->str, "on");
    assert_string_equal(r->element[2]->str, "passwords");
    assert_string_equal(r->element[3]->element[0]->str, SHA_PW);
    assert_string_equal(r->element[4]->str, "commands");
    assert_string_equal(r->element[5]->str, "+@all -@dangerous");
    assert_string_equal(r->element[6]->str, "keys");
    assert_string_equal(r->element[7]->str, "~cache:*");
    assert_string_equal(r->element[8]->str, "channels");
    assert_string_equal(r->element[9]->str, "");
    assert_string_equal(r->element[10]->str, "selectors");
    assert_int_equal(r->element[11]->elements, 0);
    freeReplyObject(r);
    r = CMD(adm, "ACL GETUSER default");
    assert_string_equal(r->element[7]->str, "~*");
    assert_string_equal(r->element[9]->str, "&*");
    freeReplyObject(r);
    EXPECT_NIL(adm, "ACL GETUSER nobody");
}

static void test_setuser_errors(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"<nope", "The password you are trying to remove from the user does not exist"},
        {"#abc", "The password hash must be exactly 64 characters and contain only lowercase "
                 "hexadecimal characters"},
        {"+nosuch", "Unknown command or category name in ACL"},
        {"+@nosuch", "Unknown command or category name in ACL"},
        {"bogus", "Syntax error"},
        {"+config|", "Syntax error"},
        {"+config|get|x", "Allowing first-arg of a subcommand is not supported"},
        {"-select|0", "Unknown command or category name in ACL"},
        {"%X~a", "Syntax error"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char want[512];
        snprintf(want, sizeof(want), "ERR Error in ACL SETUSER modifier '%s': %s", cases[i][0],
                 cases[i][1]);
        EXPECT_ERR(adm, want, "ACL SETUSER u %s", cases[i][0]);
    }
    EXPECT_ERR(adm, "ERR Error in ACL SETUSER modifier '~x': Adding a pattern after the * "
               "pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try "
               "'resetkeys' to start with an empty list of patterns", "ACL SETUSER u allkeys ~x");
    EXPECT_ERR(adm, "ERR Usernames can't contain spaces or null characters",
               "ACL SETUSER %s on", "a b");
    /* all or nothing: the first words were not applied either */
    EXPECT_ERR(adm, "ERR Error in ACL SETUSER modifier 'bogus': Syntax error",
               "ACL SETUSER u on >pw bogus");
    EXPECT_NIL(adm, "ACL GETUSER u");
    EXPECT_ERR(adm, "ERR wrong number of arguments for 'acl|setuser' command", "ACL SETUSER");
    EXPECT_ERR(adm, "ERR unknown subcommand 'nope'. Try ACL HELP.", "ACL nope");
}

/* ---- what the rules allow ------------------------------------------------------------------ */

static void test_categories_and_commands(void **state)
{
    (void)state;
    EXPECT_OK(adm, "ACL SETUSER safe on >pw ~* +@all -@dangerous");
    EXPECT_OK(adm, "ACL SETUSER reader on >pw ~* -@all +get +config|get +client -client|list");
    redisContext *s = as("safe", "pw"), *r = as("reader", "pw");
    EXPECT_OK(s, "SET k v");
    EXPECT_BULK(s, "v", "GET k");
    EXPECT_ERR(s, "NOPERM this user has no permissions to run the 'keys' command", "KEYS *");
    EXPECT_ERR(s, "NOPERM this user has no permissions to run the 'flushall' command", "FLUSHALL");
    EXPECT_ERR(s, "NOPERM this user has no permissions to run the 'config|get' command",
               "CONFIG GET maxmemory");
    EXPECT_ERR(s, "NOPERM this user has no permissions to run the 'acl|setuser' command",
               "ACL SETUSER x");
    /* the issue's probes, as a user without @dangerous: no limit lifted,
     * nothing persisted, no shutdown */
    EXPECT_ERR(s, "NOPERM this user has no permissions to run the 'config|set' command",
               "CONFIG SET client-output-buffer-limit 0");
    EXPECT_ERR(s, "NOPERM this user has no permissions to run the 'config|set' command",
               "CONFIG SET maxclients 1");
    EXPECT_ERR(s, "NOPERM this user has no permissions to run the 'config|rewrite' command",
               "CONFIG REWRITE");
    EXPECT_ERR(s, "NOPERM this user has no permissions to run the 'shutdown' command",
               "SHUTDOWN");
    EXPECT_BULK(s, "safe", "ACL WHOAMI");         /* not @dangerous */

    EXPECT_BULK(r, "v", "GET k");
    EXPECT_ERR(r, "NOPERM this user has no permissions to run the 'set' command", "SET k v");
    redisReply *x = CMD(r, "CONFIG GET maxmemory");
    assert_int_equal(x->type, REDIS_REPLY_ARRAY);
    freeReplyObject(x);
    EXPECT_ERR(r, "NOPERM this user has no permissions to run the 'config|set' command",
               "CONFIG SET maxmemory 1");
    x = CMD(r, "CLIENT ID");
    assert_int_equal(x->type, REDIS_REPLY_INTEGER);
    freeReplyObject(x);
    EXPECT_ERR(r, "NOPERM this user has no permissions to run the 'client|list' command",
               "CLIENT LIST");
    /* AUTH, HELLO, QUIT and RESET run whatever the rules */
    EXPECT_OK(r, "AUTH reader pw");
    EXPECT_ERR(r, "NOPERM this user has no permissions to run the 'ping' command", "PING");
    /* a rule change reaches a connected user at its next command */
    EXPECT_OK(adm, "ACL SETUSER reader +ping");
    EXPECT_STATUS(r, "PONG", "PING");
    EXPECT_OK(adm, "ACL SETUSER reader -get");
    EXPECT_ERR(r, "NOPERM this user has no permissions to run the 'get' command", "GET k");
    redisFree(s);
    redisFree(r);
}

static void test_key_patterns(void **state)
{
    (void)state;
    EXPECT_OK(adm, "ACL SETUSER k on >pw +@all ~cache:*");
    EXPECT_OK(adm, "ACL SETUSER rw on >pw +@all %s %s %s", "%R~r:*", "%W~w:*", "%RW~rw:*");
    redisContext *k = as("k", "pw"), *rw = as("rw", "pw");
    EXPECT_OK(k, "SET cache:1 v");
    EXPECT_ERR(k, NOPERM_KEYS, "SET other v");
    EXPECT_ERR(k, NOPERM_KEYS, "MSET cache:a 1 other 2");
    EXPECT_OK(k, "MSET cache:a 1 cache:b other");
    EXPECT_ERR(k, NOPERM_KEYS, "MGET cache:a x");
    EXPECT_STATUS(k, "PONG", "PING");

    EXPECT_OK(adm, "SET r:1 a");
    EXPECT_BULK(rw, "a", "GET r:1");
    EXPECT_ERR(rw, NOPERM_KEYS, "SET r:1 b");
    EXPECT_OK(rw, "SET w:1 b");
    EXPECT_ERR(rw, NOPERM_KEYS, "GET w:1");
    EXPECT_ERR(rw, NOPERM_KEYS, "SET w:1 c GET");   /* GET reads the old value */
    EXPECT_INT(rw, 1, "EXISTS w:1");                 /* reads no value */
    EXPECT_ERR(rw, NOPERM_KEYS, "INCR w:n");
    EXPECT_INT(rw, 1, "INCR rw:n");
    EXPECT_INT(rw, 1, "COPY r:1 w:2");
    EXPECT_ERR(rw, NOPERM_KEYS, "COPY w:1 r:2");
    EXPECT_ERR(rw, NOPERM_KEYS, "RENAME r:1 w:3");   /* the source is deleted too */
    /* patterns change under a connected user */
    EXPECT_OK(adm, "ACL SETUSER k resetkeys ~other");
    EXPECT_ERR(k, NOPERM_KEYS, "GET cache:1");
    EXPECT_OK(k, "SET other v");
    redisFree(k);
    redisFree(rw);
}

/* ---- ACL LOG, DRYRUN ------------------------------------------------------------------------ */

/* The log entry at index i as "reason context object username count". */
static void log_entry(redisReply *log, size_t i, char *out, size_t cap)
{
    redisReply *e = log->element[i];
    const char *reason = NULL, *context = NULL, *object = NULL, *user = NULL;
    long long count = -1;
    double age = -1;
    int has_info = 0;
    for (size_t j = 0; j + 1 < e->elements; j += 2) {
        const char *k = e->element[j]->str;
        redisReply *v = e->element[j + 1];
        if (!strcmp(k, "reason")) reason = v->str;
        else if (!strcmp(k, "context")) context = v->str;
        else if (!strcmp(k, "object")) object = v->str;
        else if (!strcmp(k, "username")) user = v->str;
        else if (!strcmp(k, "count")) count = v->integer;
        else if (!strcmp(k, "age-seconds")) age = atof(v->str);
        else if (!strcmp(k, "client-info")) has_info = strstr(v->str, "id=") != NULL;
    }
    assert_int_equal(e->elements, 14);
    assert_true(age >= 0 && age < 60);
    assert_true(has_info);
    snprintf(out, cap, "%s %s %s %s %lld", reason, context, object, user, count);
}

static void test_acl_log(void **state)
{
    (void)state;
    char e[256];
    EXPECT_OK(adm, "ACL SETUSER lu on >pw ~cache:* +@all -@dangerous");
    redisContext *u = as("lu", "pw");
    EXPECT_ERR(u, "NOPERM this user has no permissions to run the 'keys' command", "KEYS *");
    EXPECT_ERR(u, NOPERM_KEYS, "GET secret");
    EXPECT_ERR(u, WRONGPASS, "AUTH lu wrong");
    EXPECT_ERR(u, WRONGPASS, "HELLO 2 AUTH ghost pw");
    EXPECT_ERR(u, "NOPERM this user has no permissions to run the 'keys' command", "KEYS *");

    redisReply *log = CMD(adm, "ACL LOG");
    assert_int_equal(log->elements, 4);
    log_entry(log, 0, e, sizeof(e));
    assert_string_equal(e, "command toplevel keys lu 2");    /* counted together */
    log_entry(log, 1, e, sizeof(e));
    assert_string_equal(e, "auth toplevel HELLO ghost 1");
    log_entry(log, 2, e, sizeof(e));
    assert_string_equal(e, "auth toplevel AUTH lu 1");
    log_entry(log, 3, e, sizeof(e));
    assert_string_equal(e, "key toplevel secret lu 1");
    freeReplyObject(log);
    log = CMD(adm, "ACL LOG 1");
    assert_int_equal(log->elements, 1);
    freeReplyObject(log);
    log = CMD(adm, "ACL LOG -5");
    assert_int_equal(log->elements, 0);
    freeReplyObject(log);
    EXPECT_ERR(adm, "ERR value is not an integer or out of range", "ACL LOG abc");
    EXPECT_OK(adm, "ACL LOG RESET");
    log = CMD(adm, "ACL LOG");
    assert_int_equal(log->elements, 0);
    freeReplyObject(log);
    redisFree(u);
}

static void test_dryrun(void **state)
{
    (void)state;
    EXPECT_OK(adm, "ACL SETUSER dr on nopass +get ~a*");
    EXPECT_OK(adm, "ACL DRYRUN dr get a");
    EXPECT_BULK(adm, "This user has no permissions to run the 'set' command", "ACL DRYRUN dr set a 1");
    EXPECT_BULK(adm, "This user has no permissions to access the 'b' key", "ACL DRYRUN dr get b");
    EXPECT_ERR(adm, "ERR User 'nouser' not found", "ACL DRYRUN nouser get a");
    EXPECT_ERR(adm, "ERR Command 'nosuch' not found", "ACL DRYRUN dr nosuch a");
    EXPECT_ERR(adm, "ERR Command 'config' not found", "ACL DRYRUN dr config nosuch");
    EXPECT_ERR(adm, "ERR wrong number of arguments for 'get' command", "ACL DRYRUN dr get");
    EXPECT_BULK(adm, "This user has no permissions to run the 'config|get' command",
                "ACL DRYRUN dr config get x");
    /* a dry run logs nothing */
    redisReply *log = CMD(adm, "ACL LOG");
    assert_int_equal(log->elements, 0);
    freeReplyObject(log);
}

/* ---- CAT, GENPASS, WHOAMI ------------------------------------------------------------------- */

static void test_cat_genpass_whoami(void **state)
{
    (void)state;
    assert_string_equal(chk_joined_cmd(adm, "ACL CAT"),
        "keyspace,read,write,set,sortedset,list,hash,string,bitmap,hyperloglog,geo,stream,"
        "pubsub,admin,fast,slow,blocking,dangerous,connection,transaction,scripting");
    const char *str = chk_joined_cmd(adm, "ACL CAT string");
    assert_true(in_list(str, "get") && in_list(str, "set") && in_list(str, "mget"));
    assert_false(in_list(str, "del"));
    const char *dng = chk_joined_cmd(adm, "ACL CAT DANGEROUS");
    assert_true(in_list(dng, "keys") && in_list(dng, "flushall") && in_list(dng, "config|set"));
    assert_false(in_list(dng, "get"));
    EXPECT_ERR(adm, "ERR Unknown category 'nosuch'", "ACL CAT nosuch");

    redisReply *r = CMD(adm, "ACL GENPASS");
    assert_int_equal(r->len, 64);
    assert_int_equal(strspn(r->str, "0123456789abcdef"), 64);
    redisReply *r2 = CMD(adm, "ACL GENPASS");
    assert_string_not_equal(r->str, r2->str);
    freeReplyObject(r);
    freeReplyObject(r2);
    r = CMD(adm, "ACL GENPASS 5");
    assert_int_equal(r->len, 2);
    freeReplyObject(r);
    EXPECT_ERR(adm, "ERR ACL GENPASS argument must be the number of bits for the output "
               "password, a positive number up to 4096", "ACL GENPASS 0");
    EXPECT_ERR(adm, "ERR ACL GENPASS argument must be the number of bits for the output "
               "password, a positive number up to 4096", "ACL GENPASS 4097");
    EXPECT_ERR(adm, "ERR value is not an integer or out of range", "ACL GENPASS abc");
    EXPECT_BULK(adm, "default", "ACL WHOAMI");
}

/* ---- DELUSER, off ----------------------------------------------------------------------------- */

static void test_deluser_disconnects(void **state)
{
    (void)state;
    EXPECT_OK(adm, "ACL SETUSER gone on >pw +@all ~*");
    EXPECT_OK(adm, "ACL SETUSER self on >pw +@all ~*");
    EXPECT_OK(adm, "ACL SETUSER off1 on >pw +@all ~*");
    /* an idle client of a deleted user is disconnected */
    int fd = harness_raw_connect(srv.port, 3000);
    assert_true(fd >= 0);
    static const char auth[] = "*3\r\n$4\r\nAUTH\r\n$4\r\ngone\r\n$2\r\npw\r\n";
    char buf[16];
    int eof = 0;
    assert_int_equal(harness_write_all(fd, auth, sizeof(auth) - 1), 0);
    assert_int_equal(harness_read_until(fd, buf, 5, 3000, &eof), 5);
    redisContext *off = as("off1", "pw");
    EXPECT_ERR(adm, "ERR The 'default' user cannot be removed", "ACL DELUSER gone default");
    EXPECT_INT(adm, 1, "ACL DELUSER gone nobody");
    size_t n = 0;
    assert_true(harness_wait_closed(fd, 5000, &n));
    close(fd);
    EXPECT_INT(adm, 0, "ACL DELUSER gone");

    /* deleting one's own user: the reply, then the connection goes */
    redisContext *self = as("self", "pw");
    EXPECT_INT(self, 1, "ACL DELUSER self");
    redisReply *r = redisCommand(self, "PING");
    assert_null(r);
    redisFree(self);

    /* off: no new logins, the connections it has keep working (Redis) */
    EXPECT_OK(adm, "ACL SETUSER off1 off");
    EXPECT_STATUS(off, "PONG", "PING");
    redisContext *again = harness_connect(&srv);
    EXPECT_ERR(again, WRONGPASS, "AUTH off1 pw");
    redisFree(again);
    redisFree(off);
}

static void test_client_list_user(void **state)
{
    (void)state;
    EXPECT_OK(adm, "ACL SETUSER cl on >pw +@all ~*");
    redisContext *u = as("cl", "pw");
    redisReply *r = CMD(adm, "CLIENT LIST");
    assert_non_null(strstr(r->str, " user=cl "));
    assert_non_null(strstr(r->str, " user=default "));
    freeReplyObject(r);
    r = CMD(u, "CLIENT INFO");
    assert_non_null(strstr(r->str, " user=cl "));
    freeReplyObject(r);
    redisFree(u);
}

/* ---- rules changing under load ---------------------------------------------------------- */

struct busy_arg {
    int id;
    long ok, refused, other;
};
static _Atomic int busy_stop;   /* atomic: relaxed; the main thread says when to end */

/* GET as user "busy", counting the replies by kind; a new connection only
 * when the server closed the last one (its user was deleted), so that
 * most refreshes of a connection's rules happen with no AUTH (and its
 * lock) on the same worker between them. */
static void *busy_client(void *p)
{
    struct busy_arg *a = p;
    while (!atomic_load_explicit(&busy_stop, memory_order_relaxed)) {
        redisContext *c = harness_connect(&srv);
        if (!c)
            break;
        redisReply *r = redisCommand(c, "AUTH busy pw");
        int authed = r && r->type == REDIS_REPLY_STATUS;
        if (r)
            freeReplyObject(r);
        if (!authed)
            harness_sleep_ms(1);
        for (int i = 0; authed && !atomic_load_explicit(&busy_stop, memory_order_relaxed); i++) {
            r = redisCommand(c, "GET k:%d", i);
            if (!r)
                break;              /* deleted meanwhile: closed */
            if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOPERM", 6) == 0)
                a->refused++;
            else if (r->type == REDIS_REPLY_ERROR)
                a->other++;
            else
                a->ok++;
            freeReplyObject(r);
        }
        redisFree(c);
    }
    return NULL;
}

/* Users changed, deleted and made again while clients of them run
 * commands on every worker: each command is allowed or refused with
 * NOPERM, nothing else, and the server stays up. Under TSan this is the
 * test of the ACL's synchronisation: a refresh of a connection's rules
 * without acl_lock is reported here (in about half the runs). */
static void test_rules_change_under_load(void **state)
{
    (void)state;
    enum { CLIENTS = 4 };
    static pthread_t t[CLIENTS];
    static struct busy_arg a[CLIENTS];
    int lost = 0;
    EXPECT_OK(adm, "ACL SETUSER busy on >pw +@all ~k:*");
    atomic_store_explicit(&busy_stop, 0, memory_order_relaxed);
    for (int i = 0; i < CLIENTS; i++) {
        a[i] = (struct busy_arg){ .id = i };
        assert_int_equal(pthread_create(&t[i], NULL, busy_client, &a[i]), 0);
    }
    /* 1.5 s of rule changes that refuse nothing the clients send (no ACL
     * LOG entry, whose lock would order the workers for TSan), then 1 s
     * of refusals and deletions */
    long long start = harness_now_ms();
    for (int round = 0; !lost && harness_now_ms() < start + 2500; round++) {
        bool late = harness_now_ms() > start + 1500;
        redisReply *r;
        if (!late)
            r = redisCommand(adm, round % 2 ? "ACL SETUSER busy -debug" : "ACL SETUSER busy +debug");
        else if (round % 4 == 0)
            r = redisCommand(adm, "ACL SETUSER busy -get");
        else if (round % 4 == 1)
            r = redisCommand(adm, "ACL SETUSER busy +get resetkeys ~k:1*");
        else if (round % 4 == 2)
            r = redisCommand(adm, "ACL DELUSER busy");
        else
            r = redisCommand(adm, "ACL SETUSER busy on >pw +@all ~k:*");
        lost = r == NULL;           /* the server went away: stop the clients first */
        if (r)
            freeReplyObject(r);
        harness_sleep_ms(1);
    }
    atomic_store_explicit(&busy_stop, 1, memory_order_relaxed);
    long ok = 0, other = 0;
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(t[i], NULL);
        ok += a[i].ok;
        other += a[i].other;
    }
    assert_false(lost);
    assert_int_equal(other, 0);
    assert_true(ok > 0);
    EXPECT_STATUS(adm, "PONG", "PING");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, test_setup)
        T(test_setuser_list_getuser),
        T(test_setuser_errors),
        T(test_categories_and_commands),
        T(test_key_patterns),
        T(test_acl_log),
        T(test_dryrun),
        T(test_cat_genpass_whoami),
        T(test_deluser_disconnects),
        T(test_client_list_user),
        T(test_rules_change_under_load),
#undef T
    };
    int failed = cmocka_run_group_tests_name("integration/acl", tests, group_setup,
                                             group_teardown);
    return harness_finish(failed);
}
