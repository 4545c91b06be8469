/*
 * Tests of config/reload.c: start-up (defaults < file < flags), SIGHUP
 * reload (live settings change, the others keep their running value and
 * say so; an invalid file changes nothing and is counted), CONFIG SET
 * (all or nothing, Redis's messages), the apply hook's order, and the
 * reload stats INFO shows.
 *
 * cfg_init keeps process-wide state, so this is its own executable and
 * the tests run in order, each building on the last. Start-ups that must
 * not leave state behind (no config file, start-up errors) run in forked
 * children, before this process publishes anything (so before liburcu
 * starts its call_rcu thread).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "inject.h"

/* ---- the config file and the command line ------------------------------------------ */

static char conf[64] = "/tmp/mmcache-test-reload-XXXXXX";
static char conf_abs[PATH_MAX];
/* cfg_init keeps this argv for reloads: static */
static char *args[] = {"mmcache", conf, "--timeout", "7", "--maxclients=200", NULL};
#define NARGS 5

static void write_conf(const char *text)
{
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* The settings the file at start-up gives (and the flags override). */
static const char *const start_file =
    "# start-up file\n"
    "port 7001\n"
    "bind 127.0.0.2\n"
    "threads 3\n"
    "shards 64\n"
    "timeout 5\n"         /* --timeout 7 wins */
    "maxclients 100\n"    /* --maxclients=200 wins */
    "maxmemory 10mb\n"
    "hz 20\n";

/* What they add up to: the running values of the fixed settings. */
static void start_cfg(struct cfg *c)
{
    cfg_defaults(c);
    c->port = 7001;
    strcpy(c->bind, "127.0.0.2");
    c->threads = 3;
    c->shards = 64;
    c->timeout = 7;
    c->maxclients = 200;
    c->maxmemory = 10 * 1024 * 1024;
    c->hz = 20;
}

static void current(struct cfg *out)
{
    const struct cfg *c = cfg_read_lock();
    *out = *c;
    cfg_read_unlock(c);
}

static uint64_t generation(void)
{
    const struct cfg *c = cfg_read_lock();
    uint64_t g = c->generation;
    cfg_read_unlock(c);
    return g;
}

/* ---- what the callbacks saw ----------------------------------------------------------- */

#define MAX_NOTES 32
static char notes[MAX_NOTES][CFG_ERRLEN];
static size_t nnotes;

static void note(void *arg, const char *msg)
{
    assert_ptr_equal(arg, &nnotes);
    assert_true(nnotes < MAX_NOTES);
    snprintf(notes[nnotes++], CFG_ERRLEN, "%s", msg);
}

/* guarded by: cfg_publish's update lock (the hook runs under it), read by
 * the main thread after joining any thread that publishes */
#define MAX_CALLS 1024
static struct { uint64_t next, prev, next_maxmemory, prev_maxmemory; } calls[MAX_CALLS];
static size_t ncalls;
static int hook_arg;
/* Set before the threads of test_concurrent_changes start: the hook then
 * takes a varying time, so that hooks that could overlap (run outside
 * both the change lock of reload.c and the update lock of cfg_publish)
 * would record their generations out of order. */
static bool widen;

static void apply(const struct cfg *next, const struct cfg *prev, void *arg)
{
    assert_ptr_equal(arg, &hook_arg);
    if (widen)
        usleep((useconds_t)(next->generation % 3) * 200);
    if (ncalls < MAX_CALLS) {
        calls[ncalls].next = next->generation;
        calls[ncalls].prev = prev->generation;
        calls[ncalls].next_maxmemory = next->maxmemory;
        calls[ncalls].prev_maxmemory = prev->maxmemory;
    }
    ncalls++;
}

/* The hook ran once per publish since `since` calls, in generation order. */
static void assert_hook_calls(size_t since, size_t want, uint64_t first_next)
{
    assert_int_equal(ncalls - since, want);
    for (size_t i = since; i < ncalls; i++) {
        assert_int_equal(calls[i].next, first_next + (i - since));
        assert_int_equal(calls[i].prev, calls[i].next - 1);
    }
}

static int reload(char *err, size_t errlen)
{
    nnotes = 0;
    strcpy(err, "(no message)");
    return cfg_reload(err, errlen, note, &nnotes);
}

/* ---- start-ups in a child process ----------------------------------------------------- */

/* fn returns 0, or 1 with why. */
typedef int child_fn(char *why, size_t cap);

#define CHECK(cond, ...) do {                          \
        if (!(cond)) {                                 \
            snprintf(why, cap, __VA_ARGS__);           \
            return 1;                                  \
        }                                              \
    } while (0)

static void in_child(child_fn *fn, const char *what)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char why[2 * CFG_ERRLEN] = "";
        int rc = fn(why, sizeof(why));
        if (rc)
            fprintf(stderr, "child '%s': %s\n", what, why);
        fflush(stderr);
        _exit(rc ? 1 : 0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("child '%s' failed (status 0x%x)", what, st);
}

static void quiet_note(void *arg, const char *msg)
{
    (void)msg;
    (*(int *)arg)++;
}

static int child_no_file(char *why, size_t cap)
{
    static char *av[] = {"mmcache", "--port", "7005", NULL};
    char err[CFG_ERRLEN] = "";
    struct cfg_reload_stats before, after;
    int nnote = 0;

    cfg_thread_register();
    int rc = cfg_init(3, av, err, sizeof(err));
    CHECK(rc == 0, "cfg_init = %d: %s", rc, err);
    CHECK(strcmp(cfg_file(), "") == 0, "cfg_file() = '%s'", cfg_file());
    cfg_reload_stats(&before);
    rc = cfg_reload(err, sizeof(err), quiet_note, &nnote);
    CHECK(rc == -2, "cfg_reload = %d: %s", rc, err);
    CHECK(strcmp(err, "no config file was given at start-up (mmcache FILE or --config FILE)") == 0,
          "message: %s", err);
    CHECK(nnote == 0, "%d notes", nnote);
    /* not counted */
    cfg_reload_stats(&after);
    CHECK(after.last_ok && after.failures == 0 && after.last_time == before.last_time,
          "stats changed: ok %d failures %llu", after.last_ok, (unsigned long long)after.failures);
    const struct cfg *c = cfg_read_lock();
    int port = c->port;
    uint64_t gen = c->generation;
    cfg_read_unlock(c);
    CHECK(port == 7005 && gen == 1, "port %d generation %llu", port, (unsigned long long)gen);
    cfg_snapshot_shutdown();
    cfg_thread_unregister();
    return 0;
}

/* cfg_init(av) fails with exactly `want`. */
static int init_fails(char **av, const char *want, char *why, size_t cap)
{
    char err[CFG_ERRLEN] = "";
    int n = 0;
    while (av[n])
        n++;
    int rc = cfg_init(n, av, err, sizeof(err));
    CHECK(rc == -1, "cfg_init = %d", rc);
    CHECK(strcmp(err, want) == 0, "\n got  \"%s\"\n want \"%s\"", err, want);
    CHECK(cfg_snapshots_live() == 0, "published %llu", (unsigned long long)cfg_snapshots_live());
    return 0;
}

static int child_missing_file(char *why, size_t cap)
{
    static char missing[96];
    snprintf(missing, sizeof(missing), "%s.does-not-exist", conf);
    static char *av[] = {"mmcache", missing, NULL};
    char want[PATH_MAX + CFG_ERRLEN];
    snprintf(want, sizeof(want), "%s: cannot open the config file: No such file or directory", missing);
    return init_fails(av, want, why, cap);
}

static int child_bad_file(char *why, size_t cap)
{
    static char *av[] = {"mmcache", "--config", conf, NULL};
    char want[PATH_MAX + CFG_ERRLEN];
    write_conf("port 7000\n\nhz 0\n");
    snprintf(want, sizeof(want), "%s:3: 'hz': argument must be an integer between 1 and 500 "
             "inclusive (got '0')", conf_abs);
    return init_fails(av, want, why, cap);
}

static int child_bad_flag(char *why, size_t cap)
{
    static char *av[] = {"mmcache", conf, "--hz", "501", NULL};
    write_conf(start_file);
    return init_fails(av, "flag --hz: argument must be an integer between 1 and 500 "
                      "inclusive (got '501')", why, cap);
}

static int child_two_files(char *why, size_t cap)
{
    static char *av[] = {"mmcache", conf, "--config=other.conf", NULL};
    char want[PATH_MAX + CFG_ERRLEN];
    snprintf(want, sizeof(want), "more than one config file ('%s' and 'other.conf')", conf);
    return init_fails(av, want, why, cap);
}

static int child_help_version(char *why, size_t cap)
{
    static char *help[] = {"mmcache", "/nonexistent/mmcache.conf", "--help", NULL};
    static char *version[] = {"mmcache", "--version", "--bogus", NULL};
    char err[CFG_ERRLEN] = "";
    /* the usage goes to stdout: keep it out of the test's output */
    CHECK(freopen("/dev/null", "w", stdout) != NULL, "freopen: %s", strerror(errno));
    int rc = cfg_init(3, help, err, sizeof(err));
    CHECK(rc == 1, "--help: cfg_init = %d: %s", rc, err);
    rc = cfg_init(3, version, err, sizeof(err));
    CHECK(rc == 2, "--version: cfg_init = %d: %s", rc, err);
    CHECK(cfg_snapshots_live() == 0, "published %llu", (unsigned long long)cfg_snapshots_live());
    return 0;
}

/* The descriptor cap on maxclients: lowers the running value (one more
 * snapshot), a reload that says more, and refuses a CONFIG SET above it
 * with Redis's words. */
static int child_maxclients_cap(char *why, size_t cap)
{
    static char *av[] = {"mmcache", conf, "--maxclients", "500", NULL};
    char err[CFG_ERRLEN] = "";
    size_t bad;
    int nnote = 0;

    write_conf("maxclients 900\n");
    cfg_thread_register();
    int rc = cfg_init(4, av, err, sizeof(err));
    CHECK(rc == 0, "cfg_init = %d: %s", rc, err);
    CHECK(cfg_cap_maxclients(1000) == 500, "a cap above it changes nothing");
    const struct cfg *c = cfg_read_lock();
    CHECK(c->maxclients == 500 && c->generation == 1, "maxclients %u generation %llu",
          c->maxclients, (unsigned long long)c->generation);
    cfg_read_unlock(c);
    CHECK(cfg_cap_maxclients(100) == 100, "lowered to the cap");
    c = cfg_read_lock();
    CHECK(c->maxclients == 100 && c->generation == 2, "maxclients %u generation %llu",
          c->maxclients, (unsigned long long)c->generation);
    cfg_read_unlock(c);
    const char *names[] = {"maxclients"};
    const char *over[] = {"101"};
    rc = cfg_config_set(1, names, over, CFG_GUARDS_ALL, &bad, err, sizeof(err));
    CHECK(rc == -1 && strcmp(err, "The operating system is not able to handle the specified "
                             "number of clients, try with 100") == 0, "%d: %s", rc, err);
    const char *at[] = {"100"};
    rc = cfg_config_set(1, names, at, CFG_GUARDS_ALL, &bad, err, sizeof(err));
    CHECK(rc == 0, "CONFIG SET maxclients 100: %s", err);
    rc = cfg_reload(err, sizeof(err), quiet_note, &nnote);
    CHECK(rc == 0, "cfg_reload: %s", err);
    c = cfg_read_lock();
    CHECK(c->maxclients == 100, "after a reload: maxclients %u", c->maxclients);
    cfg_read_unlock(c);
    cfg_snapshot_shutdown();
    cfg_thread_unregister();
    return 0;
}

static void test_start_up_in_children(void **s)
{
    (void)s;
    in_child(child_maxclients_cap, "maxclients capped by the descriptor limit");
    in_child(child_no_file, "no config file: reload -2");
    in_child(child_missing_file, "missing config file");
    in_child(child_bad_file, "invalid config file");
    in_child(child_bad_flag, "invalid flag");
    in_child(child_two_files, "two config files");
    in_child(child_help_version, "--help / --version");
}

/* ---- start-up ------------------------------------------------------------------------ */

static void test_init_precedence(void **s)
{
    (void)s;
    struct cfg want, got;
    struct cfg_reload_stats st;
    char err[CFG_ERRLEN] = "";

    /* registered here, not in the group setup: the children forked
     * before register themselves */
    cfg_thread_register();
    write_conf(start_file);
    time_t t0 = time(NULL);
    int rc = cfg_init(NARGS, args, err, sizeof(err));
    if (rc)
        fail_msg("cfg_init = %d: %s", rc, err);
    time_t t1 = time(NULL);
    cfg_set_apply_hook(apply, &hook_arg);

    start_cfg(&want);
    want.generation = 1;
    current(&got);
    assert_memory_equal(&got, &want, sizeof(got));
    assert_string_equal(cfg_file(), conf_abs);
    assert_int_equal(cfg_loglevel_now(), CFG_LOG_NOTICE);
    assert_int_equal(cfg_snapshots_live(), 1);

    cfg_reload_stats(&st);
    assert_true(st.last_ok);
    assert_int_equal(st.failures, 0);
    assert_in_range(st.last_time, t0, t1);
    assert_int_equal(ncalls, 0);   /* the first snapshot runs no hook */
}

/* ---- reload -------------------------------------------------------------------------- */

static void test_reload_live_and_fixed(void **s)
{
    (void)s;
    struct cfg want, got;
    struct cfg_reload_stats st;
    char err[CFG_ERRLEN];
    size_t since = ncalls;

    write_conf("port 7002\n"
               "bind 127.0.0.3\n"
               "threads 4\n"
               "shards 128\n"
               "timeout 9\n"
               "maxclients 300\n"
               "maxmemory 20mb\n"
               "maxmemory-policy noeviction\n"
               "loglevel warning\n"
               "client-output-buffer-limit 1mb\n");   /* hz: back to its default */
    time_t t0 = time(NULL);
    int rc = reload(err, sizeof(err));
    if (rc)
        fail_msg("cfg_reload = %d: %s", rc, err);

    static const char *const want_notes[] = {
        "bind: the new config says 127.0.0.3, but bind cannot change while running; keeping "
        "127.0.0.2 (restart to apply)",
        "port: the new config says 7002, but port cannot change while running; keeping 7001 "
        "(restart to apply)",
        "threads: the new config says 4, but threads cannot change while running; keeping 3 "
        "(restart to apply)",
        "shards: the new config says 128, but shards cannot change while running; keeping 64 "
        "(restart to apply)",
        "maxmemory: 10485760 -> 20971520",
        "maxmemory-policy: allkeys-lru -> noeviction",
        "loglevel: notice -> warning",
        "client-output-buffer-limit: normal 268435456 0 0 slave 268435456 67108864 60 pubsub "
        "33554432 8388608 60 -> normal 1048576 0 0 slave 268435456 67108864 60 pubsub 33554432 "
        "8388608 60",
        "hz: 20 -> 10",
    };
    size_t nwant = sizeof(want_notes) / sizeof(want_notes[0]);
    for (size_t i = 0; i < nnotes && i < nwant; i++)
        assert_string_equal(notes[i], want_notes[i]);
    assert_int_equal(nnotes, nwant);

    start_cfg(&want);   /* fixed settings and flags as at start-up */
    want.generation = 2;
    want.maxmemory = 20 * 1024 * 1024;
    want.policy = CFG_NOEVICTION;
    want.loglevel = CFG_LOG_WARNING;
    want.obuf_limits[CFG_OBUF_NORMAL].hard = 1024 * 1024;
    want.hz = 10;
    current(&got);
    assert_memory_equal(&got, &want, sizeof(got));
    assert_int_equal(got.timeout, 7);        /* --timeout 7 still beats the file's 9 */
    assert_int_equal(got.maxclients, 200);   /* --maxclients=200 beats 300 */
    assert_int_equal(cfg_loglevel_now(), CFG_LOG_WARNING);

    assert_hook_calls(since, 1, 2);
    assert_int_equal(calls[since].next_maxmemory, 20 * 1024 * 1024);
    assert_int_equal(calls[since].prev_maxmemory, 10 * 1024 * 1024);

    cfg_reload_stats(&st);
    assert_true(st.last_ok);
    assert_int_equal(st.failures, 0);
    assert_true(st.last_time >= t0);
}

/* The same file again: nothing to note, and still a new generation. */
static void test_reload_unchanged(void **s)
{
    (void)s;
    char err[CFG_ERRLEN];
    struct cfg before, got;
    size_t since = ncalls;
    current(&before);
    write_conf("port 7001\nbind 127.0.0.2\nthreads 3\nshards 64\nmaxmemory 20mb\n"
               "maxmemory-policy noeviction\nloglevel warning\nclient-output-buffer-limit 1mb\n");
    assert_int_equal(reload(err, sizeof(err)), 0);
    assert_int_equal(nnotes, 0);
    current(&got);
    assert_int_equal(got.generation, before.generation + 1);
    before.generation++;
    assert_memory_equal(&got, &before, sizeof(got));
    assert_hook_calls(since, 1, before.generation);
    /* a NULL note callback is allowed */
    write_conf("port 9999\n");
    assert_int_equal(cfg_reload(err, sizeof(err), NULL, NULL), 0);
    assert_int_equal(generation(), before.generation + 1);
    current(&got);
    assert_int_equal(got.port, 7001);
    assert_int_equal(got.maxmemory, 0);
}

static void test_reload_invalid_changes_nothing(void **s)
{
    (void)s;
    char err[CFG_ERRLEN], want[PATH_MAX + CFG_ERRLEN];
    struct cfg before, got;
    struct cfg_reload_stats st;
    size_t since = ncalls;

    write_conf("maxmemory 30mb\n");
    assert_int_equal(reload(err, sizeof(err)), 0);
    current(&before);
    assert_int_equal(before.maxmemory, 30 * 1024 * 1024);
    since = ncalls;

    /* a bad value on line 3: lines 1 and 2 are not applied either */
    write_conf("maxmemory 40mb\nport 7009\ntimeout abc\nhz 0\n");
    time_t t0 = time(NULL);
    assert_int_equal(reload(err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:3: 'timeout': argument must be an integer between 0 and "
             "2147483647 inclusive (got 'abc')", conf_abs);
    assert_string_equal(err, want);
    assert_int_equal(nnotes, 0);
    current(&got);
    assert_memory_equal(&got, &before, sizeof(got));   /* same generation, same values */
    assert_int_equal(ncalls, since);
    cfg_reload_stats(&st);
    assert_false(st.last_ok);
    assert_int_equal(st.failures, 1);
    assert_true(st.last_time >= t0);

    /* unknown directive, bad quoting, missing file: each counted */
    write_conf("maxmemory 40mb\nmaxmem 1\n");
    assert_int_equal(reload(err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:2: unknown directive 'maxmem' (directives: bind, port, "
             "threads, ...; see mmcache.conf or mmcache --help)", conf_abs);
    assert_string_equal(err, want);
    write_conf("maxmemory \"40mb\n");
    assert_int_equal(reload(err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:1: 'maxmemory': unbalanced quotes or too many arguments",
             conf_abs);
    assert_string_equal(err, want);
    assert_int_equal(unlink(conf), 0);
    assert_int_equal(reload(err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s: cannot open the config file: No such file or directory",
             conf_abs);
    assert_string_equal(err, want);
    current(&got);
    assert_memory_equal(&got, &before, sizeof(got));
    assert_int_equal(ncalls, since);
    cfg_reload_stats(&st);
    assert_false(st.last_ok);
    assert_int_equal(st.failures, 4);

    /* a valid file again; without lines for the fixed settings they get
     * their defaults, which a running server keeps refusing */
    write_conf("maxmemory 50mb\n");
    assert_int_equal(reload(err, sizeof(err)), 0);
    static const char *const want_notes[] = {
        "bind: the new config says 127.0.0.1, but bind cannot change while running; keeping "
        "127.0.0.2 (restart to apply)",
        "port: the new config says 6379, but port cannot change while running; keeping 7001 "
        "(restart to apply)",
        NULL,   /* threads: the default depends on the machine */
        "shards: the new config says 1024, but shards cannot change while running; keeping 64 "
        "(restart to apply)",
        "maxmemory: 31457280 -> 52428800",
    };
    struct cfg def;
    cfg_defaults(&def);
    char threads_note[CFG_ERRLEN];
    snprintf(threads_note, sizeof(threads_note), "threads: the new config says %u, but threads cannot "
             "change while running; keeping 3 (restart to apply)", def.threads);
    size_t nwant = sizeof(want_notes) / sizeof(want_notes[0]) - (def.threads == 3);
    for (size_t i = 0, j = 0; i < nnotes && j < 5; i++, j++) {
        if (j == 2 && def.threads == 3)
            j++;   /* no note when the default is the running value */
        assert_string_equal(notes[i], j == 2 ? threads_note : want_notes[j]);
    }
    assert_int_equal(nnotes, nwant);
    assert_int_equal(generation(), before.generation + 1);
    assert_hook_calls(since, 1, before.generation + 1);
    cfg_reload_stats(&st);
    assert_true(st.last_ok);
    assert_int_equal(st.failures, 4);
}

/* ---- CONFIG SET ------------------------------------------------------------------------ */

static int config_set(size_t n, const char *const *names, const char *const *values,
                      size_t *bad, char *err, size_t errlen)
{
    *bad = 99;
    strcpy(err, "(no message)");
    return cfg_config_set(n, names, values, CFG_GUARDS_ALL, bad, err, errlen);
}

static void test_config_set(void **s)
{
    (void)s;
    char err[CFG_ERRLEN];
    size_t bad;
    struct cfg before, got;
    size_t since = ncalls;

    current(&before);
    {
        const char *names[] = {"maxmemory", "TIMEOUT", "maxmemory-policy"};
        const char *values[] = {"1gb", "60", "ALLKEYS-RANDOM"};
        int rc = config_set(3, names, values, &bad, err, sizeof(err));
        if (rc)
            fail_msg("cfg_config_set = %d: %s", rc, err);
    }
    current(&got);
    assert_int_equal(got.generation, before.generation + 1);
    assert_int_equal(got.maxmemory, 1ULL << 30);
    assert_int_equal(got.timeout, 60);
    assert_int_equal(got.policy, CFG_ALLKEYS_RANDOM);
    before.generation++;
    before.maxmemory = 1ULL << 30;
    before.timeout = 60;
    before.policy = CFG_ALLKEYS_RANDOM;
    assert_memory_equal(&got, &before, sizeof(got));   /* nothing else moved */
    assert_hook_calls(since, 1, got.generation);
    assert_int_equal(calls[since].next_maxmemory, 1ULL << 30);

    /* all or nothing: the second pair is bad, the first is not applied */
    since = ncalls;
    {
        const char *names[] = {"maxmemory", "hz"};
        const char *values[] = {"2gb", "0"};
        assert_int_equal(config_set(2, names, values, &bad, err, sizeof(err)), -1);
        assert_int_equal(bad, 1);
        assert_string_equal(err, "argument must be an integer between 1 and 500 inclusive (got '0')");
    }
    {
        const char *names[] = {"loglevel", "maxmemory", "timeout"};
        const char *values[] = {"debug", "2gb", "-1"};
        assert_int_equal(config_set(3, names, values, &bad, err, sizeof(err)), -1);
        assert_int_equal(bad, 2);
        assert_string_equal(err, "argument must be an integer between 0 and 2147483647 "
                            "inclusive (got '-1')");
    }
    {
        const char *names[] = {"client-query-buffer-limit"};
        const char *values[] = {"1k"};
        assert_int_equal(config_set(1, names, values, &bad, err, sizeof(err)), -1);
        assert_int_equal(bad, 0);
        assert_string_equal(err, "argument must be a memory value like 512mb or 1gb (units b, "
                            "k, kb, m, mb, g, gb), at least 1048576 bytes (got '1k')");
    }
    /* an unknown name: -2 and its index, before any value is looked at */
    {
        const char *names[] = {"timeout", "hz", "nope"};
        const char *values[] = {"abc", "1", "1"};
        assert_int_equal(config_set(3, names, values, &bad, err, sizeof(err)), -2);
        assert_int_equal(bad, 2);
        assert_string_equal(err, "unknown setting 'nope'");
    }
    /* a name twice, in any case */
    {
        const char *names[] = {"timeout", "hz", "TimeOut"};
        const char *values[] = {"1", "2", "3"};
        assert_int_equal(config_set(3, names, values, &bad, err, sizeof(err)), -1);
        assert_int_equal(bad, 2);
        assert_string_equal(err, "duplicate parameter");
    }
    /* settings fixed at start-up, even to their current value */
    static const struct { const char *name, *value, *msg; } fixed[] = {
        {"bind", "127.0.0.2", "can't set immutable config (restart with --bind to change it from 127.0.0.2)"},
        {"PORT", "7009", "can't set immutable config (restart with --port to change it from 7001)"},
        {"threads", "3", "can't set immutable config (restart with --threads to change it from 3)"},
        {"Shards", "128", "can't set immutable config (restart with --shards to change it from 64)"},
    };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        const char *names[] = {"maxmemory", fixed[i].name};
        const char *values[] = {"1mb", fixed[i].value};
        assert_int_equal(config_set(2, names, values, &bad, err, sizeof(err)), -1);
        assert_int_equal(bad, 1);
        assert_string_equal(err, fixed[i].msg);
    }
    current(&got);
    assert_memory_equal(&got, &before, sizeof(got));   /* same generation, same values */
    assert_int_equal(ncalls, since);

    /* every live setting can be set */
    static const char *const live[][2] = {
        {"maxmemory", "3mb"}, {"maxmemory-policy", "volatile-lru"}, {"maxclients", "77"},
        {"timeout", "8"}, {"loglevel", "debug"}, {"client-query-buffer-limit", "2mb"},
        {"client-output-buffer-limit", "0"}, {"proto-max-bulk-len", "4mb"}, {"hz", "33"},
    };
    for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
        char buf[128];
        const char *names[] = {live[i][0]};
        const char *values[] = {live[i][1]};
        int rc = config_set(1, names, values, &bad, err, sizeof(err));
        if (rc)
            fail_msg("CONFIG SET %s %s = %d: %s", live[i][0], live[i][1], rc, err);
        const struct cfg *c = cfg_read_lock();
        struct cfg want;
        cfg_defaults(&want);
        cfg_set(&want, live[i][0], live[i][1], err, sizeof(err));
        char wv[128];
        cfg_get(&want, live[i][0], wv, sizeof(wv));
        cfg_get(c, live[i][0], buf, sizeof(buf));
        cfg_read_unlock(c);
        assert_string_equal(buf, wv);
    }
    assert_hook_calls(since, sizeof(live) / sizeof(live[0]), before.generation + 1);
    assert_int_equal(cfg_loglevel_now(), CFG_LOG_DEBUG);
}

/* The levers: a setting behind a guard the caller may not pull is refused,
 * saying which setting allows it, and nothing is published; the levers
 * themselves are immutable. */
static void test_config_set_guarded(void **s)
{
    (void)s;
    char err[CFG_ERRLEN];
    size_t bad;
    struct cfg before, got;
    size_t since = ncalls;
    unsigned open_only = CFG_GUARD_BIT(CFG_GUARD_NONE);

    current(&before);
    assert_int_equal(before.enable_protected_configs, CFG_LEVER_NO);
    assert_int_equal(before.enable_bug_lab, CFG_LEVER_LOCAL);
    static const struct { const char *name, *value, *msg; } refused[] = {
        {"loader", "file /etc", "can't set protected config (enable-protected-configs is 'no': "
         "set it to 'local' or 'yes' in the config file or on the command line, then restart)"},
        {"LOADER", "redis 10.0.0.1:6379", "can't set protected config (enable-protected-configs "
         "is 'no': set it to 'local' or 'yes' in the config file or on the command line, then "
         "restart)"},
        {"loader", "none", "can't set protected config (enable-protected-configs is 'no': set "
         "it to 'local' or 'yes' in the config file or on the command line, then restart)"},
        {"inject-bug", "13", "can't set protected config (enable-bug-lab is 'local': only a "
         "local connection may set it)"},
        {"bug-amplify", "no", "can't set protected config (enable-bug-lab is 'local': only a "
         "local connection may set it)"},
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        const char *names[] = {"hz", refused[i].name};
        const char *values[] = {"11", refused[i].value};
        *err = 0;
        assert_int_equal(cfg_config_set(2, names, values, open_only, &bad, err, sizeof(err)), -1);
        assert_int_equal(bad, 1);
        assert_string_equal(err, refused[i].msg);
    }
    /* a guard the caller may pull: that one passes, the other does not */
    {
        const char *names[] = {"bug-amplify", "loader"};
        const char *values[] = {"no", "synthetic"};
        unsigned lab = open_only | CFG_GUARD_BIT(CFG_GUARD_BUG_LAB);
        assert_int_equal(cfg_config_set(2, names, values, lab, &bad, err, sizeof(err)), -1);
        assert_int_equal(bad, 1);
    }
    static const char *const levers[] = {"enable-debug-command", "enable-protected-configs",
                                         "enable-bug-lab"};
    for (size_t i = 0; i < 3; i++) {
        const char *names[] = {levers[i]};
        const char *values[] = {"yes"};
        char want[CFG_ERRLEN];
        assert_int_equal(cfg_config_set(1, names, values, CFG_GUARDS_ALL, &bad, err,
                                        sizeof(err)), -1);
        snprintf(want, sizeof(want), "can't set immutable config (restart with --%s to change it "
                 "from %s)", levers[i], i == 2 ? "local" : "no");
        assert_string_equal(err, want);
    }
    current(&got);
    assert_memory_equal(&got, &before, sizeof(got));
    assert_int_equal(ncalls, since);
    /* with every guard allowed, the same settings pass */
    {
        const char *names[] = {"bug-amplify", "loader"};
        const char *values[] = {"no", "synthetic"};
        assert_int_equal(cfg_config_set(2, names, values, CFG_GUARDS_ALL, &bad, err,
                                        sizeof(err)), 0);
        values[0] = "yes";
        values[1] = "none";
        assert_int_equal(cfg_config_set(2, names, values, CFG_GUARDS_ALL, &bad, err,
                                        sizeof(err)), 0);
    }
}

/* A reload rebuilds from the file: what CONFIG SET changed (and did not
 * CONFIG REWRITE) goes back to the file's value, the flags still win. */
static void test_reload_after_config_set(void **s)
{
    (void)s;
    char err[CFG_ERRLEN];
    struct cfg got;
    write_conf("maxmemory 50mb\ntimeout 1\nmaxclients 5\n");
    assert_int_equal(reload(err, sizeof(err)), 0);
    current(&got);
    assert_int_equal(got.maxmemory, 50 * 1024 * 1024);
    assert_int_equal(got.timeout, 7);
    assert_int_equal(got.maxclients, 200);
    assert_int_equal(got.hz, 10);
    assert_int_equal(got.loglevel, CFG_LOG_NOTICE);
    assert_int_equal(got.port, 7001);
}

/* Reloads and CONFIG SETs from two threads at once: each publishes once,
 * generations go up by one each time, and the hook sees them in order. */
#define ROUNDS 100

static void *setter(void *arg)
{
    (void)arg;
    cfg_thread_register();
    for (int i = 0; i < ROUNDS; i++) {
        char v[16], err[CFG_ERRLEN];
        size_t bad;
        snprintf(v, sizeof(v), "%d", 1000 + i);
        const char *names[] = {"timeout"};
        const char *values[] = {v};
        if (cfg_config_set(1, names, values, CFG_GUARDS_ALL, &bad, err, sizeof(err)))
            return (void *)"cfg_config_set failed";
    }
    cfg_thread_unregister();
    return NULL;
}

static void *reloader(void *arg)
{
    (void)arg;
    cfg_thread_register();
    for (int i = 0; i < ROUNDS; i++) {
        char err[CFG_ERRLEN];
        if (cfg_reload(err, sizeof(err), NULL, NULL))
            return (void *)"cfg_reload failed";
    }
    cfg_thread_unregister();
    return NULL;
}

static void test_concurrent_changes(void **s)
{
    (void)s;
    pthread_t a, b;
    void *ra, *rb;
    uint64_t g0 = generation();
    size_t since = ncalls;
    write_conf("maxmemory 60mb\n");
    widen = true;
    assert_int_equal(pthread_create(&a, NULL, setter, NULL), 0);
    assert_int_equal(pthread_create(&b, NULL, reloader, NULL), 0);
    assert_int_equal(pthread_join(a, &ra), 0);
    assert_int_equal(pthread_join(b, &rb), 0);
    widen = false;
    assert_null(ra);
    assert_null(rb);
    assert_int_equal(generation(), g0 + 2 * ROUNDS);
    assert_hook_calls(since, 2 * ROUNDS, g0 + 1);
}

/* BUG 24 (control: WaitGroup reused): with it selected, a reload returns
 * only once the snapshot it replaced has been freed, waiting on one latch
 * that every reload re-arms. Two reloaders and a CONFIG SET at once: no
 * deadlock, every publish counted, and (TSan build) no race on the latch. */
static void *reloader24(void *arg)
{
    (void)arg;
    cfg_thread_register();
    for (int i = 0; i < ROUNDS / 2; i++) {
        char err[CFG_ERRLEN];
        if (cfg_reload(err, sizeof(err), NULL, NULL))
            return (void *)"cfg_reload failed";
    }
    cfg_thread_unregister();
    return NULL;
}

static void test_reload_waits_with_bug24(void **s)
{
    (void)s;
    char err[CFG_ERRLEN];
    pthread_t a, b, c;
    void *ra, *rb, *rc;
    inject_thread_start();   /* this thread's tried counts are summed */
    write_conf("inject-bug 24\nmaxmemory 60mb\n");
    assert_int_equal(cfg_reload(err, sizeof(err), NULL, NULL), 0);   /* selects it */
    cfg_reclaim_barrier();
    assert_int_equal(cfg_snapshots_live(), 1);
    uint64_t g0 = generation(), tried0 = inject_tried(24);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(cfg_reload(err, sizeof(err), NULL, NULL), 0);
        /* the snapshot it replaced is already freed */
        assert_int_equal(cfg_snapshots_live(), 1);
    }
    assert_int_equal(generation(), g0 + 20);
    assert_int_equal(inject_tried(24), tried0 + 20);   /* the latch path ran */
    assert_int_equal(pthread_create(&a, NULL, reloader24, NULL), 0);
    assert_int_equal(pthread_create(&b, NULL, reloader24, NULL), 0);
    assert_int_equal(pthread_create(&c, NULL, setter, NULL), 0);
    assert_int_equal(pthread_join(a, &ra), 0);
    assert_int_equal(pthread_join(b, &rb), 0);
    assert_int_equal(pthread_join(c, &rc), 0);
    assert_null(ra);
    assert_null(rb);
    assert_null(rc);
    assert_int_equal(generation(), g0 + 20 + 2 * ROUNDS);
    write_conf("maxmemory 60mb\n");
    assert_int_equal(cfg_reload(err, sizeof(err), NULL, NULL), 0);   /* off again */
    struct cfg got;
    current(&got);
    assert_int_equal(got.inject_bugs, 0);
}

static void test_hook_removed(void **s)
{
    (void)s;
    char err[CFG_ERRLEN];
    size_t since = ncalls;
    uint64_t g0 = generation();
    cfg_set_apply_hook(NULL, NULL);
    assert_int_equal(reload(err, sizeof(err)), 0);
    assert_int_equal(generation(), g0 + 1);
    assert_int_equal(ncalls, since);
}

/* Last: every retired snapshot is freed, then the current one. */
static void test_shutdown(void **s)
{
    (void)s;
    cfg_reclaim_barrier();
    assert_int_equal(cfg_snapshots_live(), 1);
    cfg_snapshot_shutdown();
    assert_int_equal(cfg_snapshots_live(), 0);
}

/* ---- the group ------------------------------------------------------------------------- */

static int setup(void **s)
{
    (void)s;
    int fd = mkstemp(conf);
    if (fd < 0)
        return -1;
    close(fd);
    if (!realpath(conf, conf_abs))
        return -1;
    return 0;
}

static int teardown(void **s)
{
    (void)s;
    unlink(conf);
    cfg_thread_unregister();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_up_in_children),   /* first: before any publish */
        cmocka_unit_test(test_init_precedence),
        cmocka_unit_test(test_reload_live_and_fixed),
        cmocka_unit_test(test_reload_unchanged),
        cmocka_unit_test(test_reload_invalid_changes_nothing),
        cmocka_unit_test(test_config_set),
        cmocka_unit_test(test_config_set_guarded),
        cmocka_unit_test(test_reload_after_config_set),
        cmocka_unit_test(test_concurrent_changes),
        cmocka_unit_test(test_reload_waits_with_bug24),
        cmocka_unit_test(test_hook_removed),
        cmocka_unit_test(test_shutdown),
    };
    return cmocka_run_group_tests_name("config/reload", tests, setup, teardown);
}
