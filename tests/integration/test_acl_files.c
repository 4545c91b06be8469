/*
 * test_acl_files: where ACL users are kept, as Redis 7.0 keeps them: an
 * aclfile read at start-up and by ACL LOAD (all or nothing, Redis's error
 * texts), written by ACL SAVE; `user` lines in the config file, written
 * back by CONFIG REWRITE; both at once refused at start-up. Each test runs
 * its own server. The whole file passes under MMCACHE_TEST_AGAINST=redis
 * except what is marked mmcache-only.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "harness.h"

/* printf '%s' pw | sha256sum */
#define SHA_PW "30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4"
#define SHA_X  "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"

static void temp_name(char *path)
{
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
}

static void test_aclfile_load_save(void **state)
{
    (void)state;
    struct harness_server s2;
    char acl[] = "/tmp/mmcache-acl-XXXXXX";
    temp_name(acl);
    chk_write_file(acl, "user default on nopass ~* &* +@all\nuser a on >x ~* +@all\n");
    const char *const args[] = {"--aclfile", acl, NULL};
    assert_int_equal(harness_start(&s2, args, NULL, NULL), 0);
    redisContext *c = harness_connect(&s2);
    assert_non_null(c);
    EXPECT_OK(c, "AUTH a x");
    redisContext *keep = harness_connect(&s2);
    EXPECT_OK(keep, "AUTH a x");
    EXPECT_OK(c, "ACL SETUSER b on >y +get ~*");
    EXPECT_OK(c, "ACL SAVE");
    char *text = chk_read_file(acl);
    assert_string_equal(text, "user a on #" SHA_X " ~* resetchannels +@all\n"
                              "user b on #a1fce4363854ff888cff4b8e7875d600c2682390412a8cf79b37d0b11148b0fa"
                              " ~* resetchannels -@all +get\n"
                              "user default on nopass ~* &* +@all\n");
    free(text);

    /* b goes, c comes, a stays (from the default user: Redis 7.0 drops
     * every client of a user the file defines, mmcache only those of
     * users it deletes) */
    chk_write_file(acl, "user a on >x ~* +@all\n\nuser c on >z  +ping\n");
    EXPECT_OK(c, "AUTH default any");
    EXPECT_OK(c, "ACL LOAD");
    assert_string_equal(chk_joined_cmd(c, "ACL USERS"), "a,c,default");
    EXPECT_ERR(c, WRONGPASS, "AUTH b y");
    EXPECT_OK(c, "AUTH c z");
    EXPECT_STATUS(c, "PONG", "PING");
    if (!harness_is_redis())
        EXPECT_BULK(keep, "a", "ACL WHOAMI");
    redisFree(keep);
    EXPECT_OK(c, "AUTH default any");

    /* a bad file changes nothing */
    chk_write_file(acl, "user a on >x ~* +@all\nuser d on\nbad line\n");
    char want[512];
    snprintf(want, sizeof(want), "ERR %s:3 should start with user keyword followed by the "
             "username. WARNING: ACL errors detected, no change to the previously active ACL "
             "rules was performed", acl);
    EXPECT_ERR(c, want, "ACL LOAD");
    EXPECT_ERR(c, WRONGPASS, "AUTH d anything");
    unlink(acl);
    snprintf(want, sizeof(want), "ERR Error loading ACLs, opening file '%s': No such file or "
             "directory", acl);
    EXPECT_ERR(c, want, "ACL LOAD");
    redisFree(c);
    assert_int_equal(harness_stop(&s2, 10000), 0);
    unlink(acl);


    /* no aclfile: ACL SAVE and LOAD say so */
    assert_int_equal(harness_start(&s2, NULL, NULL, NULL), 0);
    c = harness_connect(&s2);
    assert_non_null(c);
    for (int i = 0; i < 2; i++)
        EXPECT_ERR(c, "ERR This Redis instance is not configured to use an ACL file. You may "
                   "want to specify users via the ACL SETUSER command and then issue a CONFIG "
                   "REWRITE (assuming you have a Redis configuration file set) in order to "
                   "store users in the Redis configuration.", i ? "ACL LOAD" : "ACL SAVE");
    redisFree(c);
    assert_int_equal(harness_stop(&s2, 10000), 0);
}

static void test_user_lines_and_rewrite(void **state)
{
    (void)state;
    struct harness_server s2;
    char conf[] = "/tmp/mmcache-aclconf-XXXXXX";
    temp_name(conf);
    chk_write_file(conf, "user default on nopass ~* &* +@all\nuser bob on >x +get ~k\n");
    assert_int_equal(harness_start_file(&s2, conf, NULL, NULL, NULL), 0);
    redisContext *c = harness_connect(&s2);
    assert_non_null(c);
    assert_string_equal(chk_joined_cmd(c, "ACL LIST"),
        "user bob on #" SHA_X " ~k resetchannels -@all +get,"
        "user default on nopass sanitize-payload ~* &* +@all");
    EXPECT_OK(c, "AUTH bob x");
    EXPECT_ERR(c, "NOPERM this user has no permissions to run the 'set' command", "SET k v");
    EXPECT_OK(c, "AUTH default whatever");
    EXPECT_OK(c, "ACL SETUSER zed on >pw ~* +@all");
    EXPECT_OK(c, "CONFIG REWRITE");
    char *text = chk_read_file(conf);
    assert_non_null(strstr(text, "\nuser zed on #" SHA_PW " ~* resetchannels +@all\n"));
    assert_non_null(strstr(text, "user bob on #" SHA_X " ~k resetchannels -@all +get\n"));
    free(text);
    redisFree(c);
    assert_int_equal(harness_stop(&s2, 10000), 0);
    /* the rewritten file starts a server with the same users */
    assert_int_equal(harness_start_file(&s2, conf, NULL, NULL, NULL), 0);
    c = harness_connect(&s2);
    EXPECT_OK(c, "AUTH zed pw");
    redisFree(c);
    assert_int_equal(harness_stop(&s2, 10000), 0);
    unlink(conf);
}

/* mmcache-only (the harness starts redis-server, which exits the same way
 * but only this one is checked here): user lines and an aclfile together
 * are refused at start-up. */
static void test_user_lines_with_aclfile_refused(void **state)
{
    (void)state;
    HARNESS_MMCACHE_ONLY("the start-up refusal of user lines beside an aclfile, "
                         "checked on mmcache's exit and log");
    char conf[] = "/tmp/mmcache-aclboth-XXXXXX", acl[] = "/tmp/mmcache-aclboth2-XXXXXX";
    char out[] = "/tmp/mmcache-aclboth-out-XXXXXX";
    temp_name(conf);
    temp_name(acl);
    temp_name(out);
    char text[256];
    snprintf(text, sizeof(text), "user bob on >x +get ~k\naclfile %s\n", acl);
    chk_write_file(conf, text);
    chk_write_file(acl, "user a on >x ~* +@all\n");
    char port[16];
    snprintf(port, sizeof(port), "%d", harness_free_port());
    const char *const args[] = {conf, "--port", port, NULL};
    pid_t pid = harness_spawn_mmcache(args, out);
    assert_true(pid > 0);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    char *log = chk_read_file(out);
    assert_non_null(strstr(log, "please define either an ACL file or declare users directly "
                                "in the config file, but not both"));
    free(log);
    unlink(conf);
    unlink(acl);
    unlink(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aclfile_load_save),
        cmocka_unit_test(test_user_lines_and_rewrite),
        cmocka_unit_test(test_user_lines_with_aclfile_refused),
    };
    int failed = cmocka_run_group_tests_name("integration/acl_files", tests, NULL, NULL);
    return harness_finish(failed);
}
