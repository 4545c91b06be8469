/*
 * config_fixture: what the config tests (test_config_cmds.c,
 * test_config_file.c) share. One server at a time, `srv`, that each test
 * starts itself and stops by PID; a temporary directory `dir` per cmocka
 * group for the config files the tests write; and the checks they make on
 * files, the server's log and CONFIG GET.
 *
 * This header defines (not just declares) the group's state and its
 * functions, all static: include it, after <cmocka.h>, from exactly one
 * .c file per test executable. Functions are static inline so that a file
 * that does not use one gets no warning.
 *
 * Context: the cmocka thread only.
 */
#ifndef MMCACHE_CONFIG_FIXTURE_H
#define MMCACHE_CONFIG_FIXTURE_H

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "check.h"
#include "harness.h"

#define LOG_BOUND_MS 3000

static struct harness_server srv;
static char dir[PATH_MAX];   /* this group's files, an absolute canonical path */

/* ---- files --------------------------------------------------------------- */

static inline void path_in_dir(char *out, size_t cap, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap)
        fail_msg("path too long: %s/%s", dir, name);
}

/* Write the whole file under another name, then rename it over `path`:
 * a server reloading meanwhile never reads half a file. */
static inline void write_file(const char *path, const char *text)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        fail_msg("cannot create %s: %s", tmp, strerror(errno));
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);
}

/* The whole file, NUL-terminated; caller frees. */
static inline char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s: %s", path, strerror(errno));
    size_t cap = 4096, len = 0, n;
    char *buf = malloc(cap);
    assert_non_null(buf);
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    fclose(f);
    buf[len] = '\0';
    return buf;
}

static inline int file_contains(const char *path, const char *needle)
{
    char *text = read_file(path);
    int found = strstr(text, needle) != NULL;
    free(text);
    return found;
}

/* ---- the server's log ---------------------------------------------------- */

/* Poll the server's log (bounded) until it holds `needle`. */
static inline int wait_log(const struct harness_server *s, const char *needle,
                           int bound_ms)
{
    long long deadline = harness_now_ms() + bound_ms;
    do {
        if (file_contains(s->log, needle))
            return 1;
        harness_sleep_ms(10);
    } while (harness_now_ms() < deadline);
    return 0;
}

#define EXPECT_LOG(s, needle)                                               \
    do {                                                                    \
        if (!wait_log((s), (needle), LOG_BOUND_MS)) {                       \
            harness_print_log(s);                                           \
            fail_msg("the log %s lacks: %s", (s)->log, (needle));           \
        }                                                                   \
    } while (0)

#define EXPECT_NOT_IN_LOG(s, needle)                                        \
    do {                                                                    \
        if (file_contains((s)->log, (needle))) {                            \
            harness_print_log(s);                                           \
            fail_msg("the log %s should not hold: %s", (s)->log, (needle)); \
        }                                                                   \
    } while (0)

/* ---- CONFIG GET and INFO ------------------------------------------------- */

/* CONFIG GET name must answer exactly [name, want]. */
static inline void expect_config(const char *file, int line, redisContext *c,
                                 const char *name, const char *want)
{
    redisReply *r = redisCommand(c, "CONFIG GET %s", name);
    int ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
             strcmp(r->element[0]->str, name) == 0 &&
             strcmp(r->element[1]->str, want) == 0;
    if (!ok) {
        fprintf(stderr, "%s:%d: CONFIG GET %s: expected [%s, %s], got ", file, line,
                name, name, want);
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2)
            fprintf(stderr, "[%s, %s]\n", r->element[0]->str, r->element[1]->str);
        else if (r && r->type == REDIS_REPLY_ARRAY)
            fprintf(stderr, "an array of %zu\n", r->elements);
        else
            fprintf(stderr, "%s\n", r ? chk_type_name(r->type) : c->errstr);
    }
    if (r)
        freeReplyObject(r);
    if (!ok)
        fail_msg("unexpected CONFIG GET reply (see above)");
}
#define EXPECT_CONFIG(c, name, want) expect_config(__FILE__, __LINE__, (c), (name), (want))

/* CONFIG GET name's value into buf (for comparing two servers). */
static inline void config_value(redisContext *c, const char *name, char *buf,
                                size_t cap)
{
    redisReply *r = CMD(c, "CONFIG GET %s", name);
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
        fail_msg("CONFIG GET %s: not one pair", name);
    snprintf(buf, cap, "%s", r->element[1]->str);
    freeReplyObject(r);
}

/* INFO's config_generation; -1 under Redis (it has no such field). */
static inline long long generation(redisContext *c)
{
    return harness_info_ll(c, "config_generation");
}

/* ---- servers ------------------------------------------------------------- */

static inline void start(const char *const *args, const char *const *mm,
                         const char *const *redis)
{
    if (harness_start(&srv, args, mm, redis) != 0)
        fail_msg("server did not start");
}

static inline void start_file(const char *conf, const char *const *args)
{
    if (harness_start_file(&srv, conf, args, NULL, NULL) != 0)
        fail_msg("server did not start on %s", conf);
}

/* stop by PID; the exit status must be 0 */
static inline void stop_ok(void)
{
    int st = harness_stop(&srv, 10000);
    if (st != 0)
        harness_print_log(&srv);
    assert_int_equal(st, 0);
}

/* ---- fixtures ------------------------------------------------------------ */

static inline int group_setup(void **state)
{
    const char *tmp = getenv("TMPDIR");
    char t[PATH_MAX];
    snprintf(t, sizeof(t), "%s/mmcache-itc-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(t) || !realpath(t, dir)) {
        perror("config_fixture: mkdtemp");
        return -1;
    }
    return 0;
}

static inline int group_teardown(void **state)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[PATH_MAX + 300];
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    return 0;
}

static inline int teardown(void **state)
{
    if (srv.pid > 0)
        harness_stop(&srv, 5000);      /* after a failure: just clean up */
    return 0;
}

#endif
