/*
 * origin_file.c against a scratch tree made with mkdtemp:
 *
 *   TOP/secret          outside the origin's directory: must stay unread
 *   TOP/root/           the origin's directory
 *     hello, bin, big, empty, nnn...n (255 bytes)   regular files
 *     .hidden, a/b      exist, but their keys are not safe names
 *     sub/              a directory
 *     link -> hello, escape -> ../secret            symlinks
 *     fifo              a named pipe (opening it must not block)
 *
 * Keys that must be refused name files that exist, so a test fails if the
 * refusal goes and the file system is asked after all.
 */
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "origin_fixture.h"

#define BIG_LEN (1u << 20)

static char top[64];
static char root[96];
static char bin_data[] = {'a', '\0', 'b', '\r', '\n', (char)0xff, '\0'};
static char *big_data;
static char long_name[256];

static void put_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static int group_setup(void **state)
{
    snprintf(top, sizeof(top), "/tmp/mmcache-origin-XXXXXX");
    if (!mkdtemp(top))
        return -1;
    snprintf(root, sizeof(root), "%s/root", top);
    char path[512];
    mkdir(root, 0755);
    put_file(top, "secret", "outside", 7);
    put_file(root, "hello", "world", 5);
    put_file(root, "bin", bin_data, sizeof(bin_data));
    big_data = malloc(BIG_LEN);
    for (size_t i = 0; i < BIG_LEN; i++)
        big_data[i] = (char)(i * 2654435761u >> 13);
    put_file(root, "big", big_data, BIG_LEN);
    put_file(root, "empty", "", 0);
    memset(long_name, 'n', 255);
    put_file(root, long_name, "long", 4);
    put_file(root, ".hidden", "hidden", 6);
    snprintf(path, sizeof(path), "%s/a", root);
    mkdir(path, 0755);
    put_file(path, "b", "nested", 6);
    snprintf(path, sizeof(path), "%s/sub", root);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/link", root);
    if (symlink("hello", path) != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/escape", root);
    if (symlink("../secret", path) != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/fifo", root);
    if (mkfifo(path, 0644) != 0)
        return -1;
    return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int group_teardown(void **state)
{
    free(big_data);
    return nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void **state)
{
    char err[256] = "";
    *state = origin_create(CFG_LOADER_FILE, root, 1, err, sizeof(err));
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    origin_put(*state);
    return 0;
}

static enum origin_rc load_n(struct origin *o, const char *key, size_t klen,
                             struct origin_result *res)
{
    struct origin_params p = fx_params(5000);
    return origin_load(o, key, klen, &p, NULL, res);
}

static void expect_file(struct origin *o, const char *key, const void *want, size_t len)
{
    struct origin_result res;
    assert_int_equal(load_n(o, key, strlen(key), &res), ORIGIN_VALUE);
    assert_int_equal(res.len, len);
    if (len)
        assert_memory_equal(res.data, want, len);
    free(res.data);
}

static void test_content(void **state)
{
    struct origin *o = *state;
    expect_file(o, "hello", "world", 5);
    expect_file(o, "bin", bin_data, sizeof(bin_data));   /* NULs and all */
    expect_file(o, "big", big_data, BIG_LEN);
    expect_file(o, "empty", "", 0);
    expect_file(o, long_name, "long", 4);                /* 255 bytes: allowed */
    assert_string_equal(o->spec + 5, root);
    assert_int_equal(strncmp(o->spec, "file ", 5), 0);
}

static void test_missing(void **state)
{
    struct origin_result res;
    assert_int_equal(load_n(*state, "nope", 4, &res), ORIGIN_NOTFOUND);
    assert_null(res.data);
}

/* Each of these names something that exists (or would, for the 256-byte
 * one, make openat fail with ENAMETOOLONG): a miss proves it was refused
 * before the file system was asked. */
static void test_unsafe_names(void **state)
{
    struct origin *o = *state;
    struct origin_result res;
    static const char *const bad[] = {"../secret", ".hidden", "a/b", "", ".", "..",
                                      "./hello", "/etc/passwd"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(load_n(o, bad[i], strlen(bad[i]), &res), ORIGIN_NOTFOUND);
        assert_null(res.data);
    }
    char name[256];
    memset(name, 'n', sizeof(name));
    assert_int_equal(load_n(o, name, 256, &res), ORIGIN_NOTFOUND);
    assert_int_equal(load_n(o, "hello\0x", 7, &res), ORIGIN_NOTFOUND);   /* NUL in key */
}

/* A symlink is refused as an error, not a miss: it is something the
 * operator placed there, and the message says why it is not served. */
static void test_symlink_not_followed(void **state)
{
    struct origin *o = *state;
    struct origin_result res;
    assert_int_equal(load_n(o, "link", 4, &res), ORIGIN_ERROR);
    assert_non_null(strstr(res.err, "symbolic link not followed"));
    assert_non_null(strstr(res.err, "/root/link"));
    assert_int_equal(load_n(o, "escape", 6, &res), ORIGIN_ERROR);
    assert_non_null(strstr(res.err, "symbolic link not followed"));
    assert_null(res.data);
}

static void test_not_regular(void **state)
{
    struct origin *o = *state;
    struct origin_result res;
    assert_int_equal(load_n(o, "sub", 3, &res), ORIGIN_NOTFOUND);
    /* a FIFO with no writer: a miss, at once (a blocking open would hang) */
    int64_t t0 = origin_now_ms();
    assert_int_equal(load_n(o, "fifo", 4, &res), ORIGIN_NOTFOUND);
    assert_true(origin_now_ms() - t0 < 1000);
}

static void test_too_large(void **state)
{
    struct origin *o = *state;
    struct origin_params p = fx_params(5000);
    struct origin_result res;
    p.max_value_len = BIG_LEN - 1;
    assert_int_equal(origin_load(o, "big", 3, &p, NULL, &res), ORIGIN_ERROR);
    assert_string_equal(res.err, "value too large (1048576 bytes)");
    assert_null(res.data);
    p.max_value_len = BIG_LEN;   /* exactly the limit is fine */
    assert_int_equal(origin_load(o, "big", 3, &p, NULL, &res), ORIGIN_VALUE);
    free(res.data);
}

/* 0 when loading a mode-000 file is an ERROR that says "Permission denied". */
static int unreadable_refused(struct origin *o)
{
    struct origin_result res;
    if (load_n(o, "locked", 6, &res) != ORIGIN_ERROR) {
        free(res.data);
        return 1;
    }
    return strstr(res.err, "Permission denied") ? 0 : 2;
}

/* Root reads a mode-000 file anyway: as root, the load runs in a child
 * that has become nobody (65534), so the check runs either way. */
static void test_unreadable(void **state)
{
    struct origin *o = *state;
    char path[512];
    put_file(root, "locked", "x", 1);
    snprintf(path, sizeof(path), "%s/locked", root);
    assert_int_equal(chmod(path, 0), 0);
    if (geteuid() != 0) {
        assert_int_equal(unreadable_refused(o), 0);
    } else {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
                _exit(3);
            _exit(unreadable_refused(o));
        }
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
    }
    unlink(path);
}

/* Any other open error is an ERROR with its reason (here EMFILE, which
 * even root gets: the fd limit lowered to the next free descriptor). */
static void test_open_error(void **state)
{
    struct origin *o = *state;
    struct origin_result res;
    struct rlimit old, low;
    int next = dup(0);
    assert_true(next >= 0);
    close(next);
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = (rlim_t)next;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    enum origin_rc rc = load_n(o, "hello", 5, &res);
    setrlimit(RLIMIT_NOFILE, &old);
    assert_int_equal(rc, ORIGIN_ERROR);
    char want[256];
    snprintf(want, sizeof(want), "file %s/hello: Too many open files", root);
    assert_string_equal(res.err, want);
}

static void test_create_errors(void **state)
{
    (void)state;
    char err[256] = "", path[512];
    snprintf(path, sizeof(path), "%s/missing", top);
    assert_null(origin_create(CFG_LOADER_FILE, path, 1, err, sizeof(err)));
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "No such file or directory"));

    snprintf(path, sizeof(path), "%s/hello", root);
    assert_null(origin_create(CFG_LOADER_FILE, path, 1, err, sizeof(err)));
    assert_non_null(strstr(err, "Not a directory"));

    assert_null(origin_create(CFG_LOADER_FILE, "relative/dir", 1, err, sizeof(err)));
    assert_non_null(strstr(err, "absolute"));
    assert_null(origin_create(CFG_LOADER_FILE, "", 1, err, sizeof(err)));
}

/* The probe: `file /proc/self` then GET environ (or maps) gave the
 * process's environment and memory map. procfs and sysfs are no value
 * stores: refused at create, nothing read. */
static void test_proc_and_sys_refused(void **state)
{
    (void)state;
    static const char *const dirs[] = {"/proc/self", "/proc", "/sys/kernel"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char err[256] = "";
        if (access(dirs[i], R_OK | X_OK) != 0)
            continue;
        assert_null(origin_create(CFG_LOADER_FILE, dirs[i], 1, err, sizeof(err)));
        if (!strstr(err, "not a directory of values"))
            fail_msg("%s: '%s'", dirs[i], err);
    }
}

/* The read is bounded by max_value_len however the file changes: a file
 * grown past it after the size check is refused, not read whole. */
static void test_grown_file_bounded(void **state)
{
    struct origin *o = *state;
    struct origin_params p = fx_params(5000);
    struct origin_result res;
    p.max_value_len = 5;
    put_file(root, "grows", "12345", 5);
    assert_int_equal(origin_load(o, "grows", 5, &p, NULL, &res), ORIGIN_VALUE);
    assert_int_equal(res.len, 5);
    free(res.data);
    put_file(root, "grows", "123456", 6);
    assert_int_equal(origin_load(o, "grows", 5, &p, NULL, &res), ORIGIN_ERROR);
    assert_string_equal(res.err, "value too large (6 bytes)");
    assert_string_equal(res.pub, "value too large");
    char path[512];
    snprintf(path, sizeof(path), "%s/grows", root);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_content, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsafe_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_not_followed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_regular, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_error, setup, teardown),
        cmocka_unit_test(test_create_errors),
        cmocka_unit_test(test_proc_and_sys_refused),
        cmocka_unit_test_setup_teardown(test_grown_file_bounded, setup, teardown),
    };
    return cmocka_run_group_tests_name("origin_file", tests, group_setup, group_teardown);
}
