/*
 * Where snapshots come from: start-up (defaults < file < flags), SIGHUP
 * reload (the same recipe again, keeping what cannot change live), and
 * CONFIG SET (the current snapshot with some settings changed). All three
 * validate a complete struct before anything is published.
 */
#include "config.h"
#include "inject.h"
#include "snapshot_int.h"

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* All immutable after cfg_init (main thread, before other threads). */
static int saved_argc;
static char **saved_argv;
static char file_path[PATH_MAX];

/* lock order: 0.5 (taken before cfg_publish's update lock, never under
 * another lock). Serialises reload and CONFIG SET so that each builds on
 * the snapshot it will replace, and guards the reload counters' writes. */
static pthread_mutex_t change_lock = PTHREAD_MUTEX_INITIALIZER;
/* atomic: relaxed; written under change_lock, INFO reads each on its own */
static _Atomic bool last_ok = true;
static _Atomic uint64_t failures;
static _Atomic int64_t last_time;
/* BUG 24 (control): a reload that waits until the snapshot it replaced
 * has been freed. reload_freed is the latch it waits on, one object reused
 * by every such reload; reload_wait_lock (lock order: before change_lock,
 * never held by a reader or inside a read-side section) is held from the
 * publish that arms it until its wait has returned, so a reload re-arms
 * it only after the previous reload's wait returned. */
static pthread_mutex_t reload_wait_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cfg__latch reload_freed = CFG__LATCH_INIT;
/* cfg_cap_maxclients's cap, 0 = none. Immutable after start-up (set on
 * the main thread before the workers and the acceptor loop run). */
static unsigned maxclients_cap;

const char *cfg_file(void) { return file_path; }

void cfg_reload_stats(struct cfg_reload_stats *out)
{
    out->last_ok = atomic_load_explicit(&last_ok, memory_order_relaxed);
    out->failures = atomic_load_explicit(&failures, memory_order_relaxed);
    out->last_time = atomic_load_explicit(&last_time, memory_order_relaxed);
}

/* defaults < file < flags, then the descriptor cap on maxclients */
static int build(struct cfg *c, char *err, size_t errlen)
{
    int exit_now;
    cfg_defaults(c);
    if (file_path[0] && cfg_load_file(c, file_path, err, errlen))
        return -1;
    if (cfg_parse_args(c, saved_argc, saved_argv, err, errlen, &exit_now))
        return -1;
    if (maxclients_cap && c->maxclients > maxclients_cap)
        c->maxclients = maxclients_cap;
    return 0;
}

unsigned cfg_cap_maxclients(unsigned cap)
{
    maxclients_cap = cap;
    pthread_mutex_lock(&change_lock);
    const struct cfg *cur = cfg_read_lock();
    struct cfg next = *cur;
    cfg_read_unlock(cur);
    if (cap && next.maxclients > cap) {
        next.maxclients = cap;
        cfg_publish(&next);   /* no reader yet but this thread: cannot be refused */
    }
    pthread_mutex_unlock(&change_lock);
    return next.maxclients;
}

int cfg_init(int argc, char **argv, char *err, size_t errlen)
{
    const char *path;
    struct cfg c;
    int exit_now;

    saved_argc = argc;
    saved_argv = argv;
    cfg_defaults(&c);
    /* --help/--version win over any error in the rest of the line */
    if (cfg_parse_args(&c, argc, argv, err, errlen, &exit_now) == 0 && exit_now)
        return exit_now == 1 ? (cfg_usage(stdout), 1)
             : exit_now == 3 ? (cfg_bugs_print(stdout), CFG_INIT_LISTED) : 2;
    if (cfg_args_file(argc, argv, &path, err, errlen))
        return -1;
    if (path) {
        /* Absolute, so that INFO and reloads name the same file whatever
         * the working directory becomes. */
        if (!realpath(path, file_path)) {
            char e[CFG_ERRLEN];
            snprintf(e, sizeof(e), "%s", path);
            snprintf(err, errlen, "%s: cannot open the config file: %m", e);
            return -1;
        }
    }
    if (build(&c, err, errlen))
        return -1;
    atomic_store_explicit(&last_time, (int64_t)time(NULL), memory_order_relaxed);
    return cfg_publish_initial(&c) ? (snprintf(err, errlen, "out of memory"), -1) : 0;
}

static void notef(cfg_note_fn *note, void *arg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void notef(cfg_note_fn *note, void *arg, const char *fmt, ...)
{
    char msg[CFG_ERRLEN];
    va_list ap;
    if (!note)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    note(arg, msg);
}

/* Keep the running value of what cannot change live; note what changed. */
static void merge_fixed(struct cfg *next, const struct cfg *cur, cfg_note_fn *note, void *arg)
{
    char was[CFG_VALUE_MAX], now[CFG_VALUE_MAX];
    for (size_t i = 0; cfg_names[i]; i++) {
        const char *name = cfg_names[i];
        cfg_get(cur, name, was, sizeof(was));
        cfg_get(next, name, now, sizeof(now));
        if (strcmp(was, now) == 0)
            continue;
        if (cfg_is_live(name)) {
            if (cfg_is_sensitive(name))
                notef(note, arg, "%s: changed", name);   /* a secret stays out of the log */
            else
                notef(note, arg, "%s: %s -> %s", name, was, now);
            continue;
        }
        notef(note, arg, "%s: the new config says %s, but %s cannot change while running; "
              "keeping %s (restart to apply)", name, now, name, was);
        char e[CFG_ERRLEN];
        cfg_set(next, name, was, e, sizeof(e));   /* was valid: cannot fail */
    }
    /* inject-bug is live, but not for the bugs that act at start-up */
    uint32_t fixed = cfg_bugs_startup_only();
    if ((next->inject_bugs ^ cur->inject_bugs) & fixed) {
        next->inject_bugs = (next->inject_bugs & ~fixed) | (cur->inject_bugs & fixed);
        cfg_get(next, "inject-bug", now, sizeof(now));
        notef(note, arg, "inject-bug: bugs that act only at start-up cannot be switched by a "
              "reload; running with %s (restart to apply)", now);
    }
}

/* A setting behind a lever this client may not pull: Redis's words, then
 * which setting would allow it. */
static void refuse_guarded(const struct cfg *cur, enum cfg_guard g, char *err, size_t errlen)
{
    const char *lever = cfg_guard_setting(g);
    if (cfg_guard_lever(cur, g) == CFG_LEVER_LOCAL)
        snprintf(err, errlen, "can't set protected config (%s is 'local': only a local "
                 "connection may set it)", lever);
    else
        snprintf(err, errlen, "can't set protected config (%s is 'no': set it to 'local' or "
                 "'yes' in the config file or on the command line, then restart)", lever);
}

/* CONFIG SET inject-bug: refuse a change to a bug that acts only at start-up. */
static int check_startup_bugs(const struct cfg *next, const struct cfg *cur, char *err,
                              size_t errlen)
{
    uint32_t diff = (next->inject_bugs ^ cur->inject_bugs) & cfg_bugs_startup_only();
    for (int id = 1; id <= CFG_BUG_MAX; id++)
        if (diff & (1u << id)) {
            snprintf(err, errlen, "bug %d (%s) acts only at start-up: restart with "
                     "--inject-bug=%d", id, cfg_bug(id)->title, id);
            return -1;
        }
    return 0;
}

static void count(bool ok)
{
    if (!ok)
        atomic_fetch_add_explicit(&failures, 1, memory_order_relaxed);
    atomic_store_explicit(&last_ok, ok, memory_order_relaxed);
    atomic_store_explicit(&last_time, (int64_t)time(NULL), memory_order_relaxed);
}

int cfg_reload(char *err, size_t errlen, cfg_note_fn *note, void *arg)
{
    struct cfg next;
    struct cfg__latch *freed = NULL;
    int rc = 0;

    if (!file_path[0]) {
        snprintf(err, errlen, "no config file was given at start-up (mmcache FILE or --config FILE)");
        return -2;
    }
    /* A reload is one unit of work for the bug lab, as a request is: it
     * runs under the selection of the snapshot current when it starts
     * (so do the publish sites, 9 and 11, in snapshot.c). */
    uint32_t outer = inject_mask();
    const struct cfg *now = cfg_read_lock();
    inject_enter(cfg_inject_mask(now));
    cfg_read_unlock(now);
    if (INJECT(24)) {
        /* BUG 24 (control: WaitGroup reused): the reload returns only once
         * the snapshot it replaced is freed ("Config reloaded" then means
         * no request still runs the old settings), waiting on a latch
         * that every reload reuses. Correct: it is re-armed only after the
         * previous wait returned (reload_wait_lock spans arm to wait), and
         * the wait happens outside change_lock, so no reader in a section
         * can be stuck behind it. */
        pthread_mutex_lock(&reload_wait_lock);
        freed = &reload_freed;
    }
    pthread_mutex_lock(&change_lock);
    if (build(&next, err, errlen)) {
        rc = -1;
        goto out_count;
    }
    const struct cfg *cur = cfg_read_lock();
    merge_fixed(&next, cur, note, arg);
    cfg_read_unlock(cur);
    /* Counted before the snapshot is published (its release store pairs
     * with the acquire in cfg_read_lock): whoever sees the new generation
     * sees this reload's stats too, never the previous reload's
     * config_last_reload_ok:0 beside it. */
    count(true);
    if (cfg__publish(&next, freed)) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
out_count:
    if (rc)
        count(false);
    pthread_mutex_unlock(&change_lock);
    if (freed) {   /* decided once, above: the lock and the unlock agree */
        if (rc == 0)
            cfg__latch_wait(freed);
        pthread_mutex_unlock(&reload_wait_lock);
    }
    inject_enter(outer);
    return rc;
}

int cfg_config_set(size_t n, const char *const *names, const char *const *values,
                   unsigned allowed, size_t *bad, char *err, size_t errlen)
{
    struct cfg next;
    int rc = 0;

    /* Names first, as Redis does: an unknown one is reported alone. */
    for (size_t i = 0; i < n; i++) {
        if (!cfg_canonical_name(names[i])) {
            *bad = i;
            snprintf(err, errlen, "unknown setting '%s'", names[i]);
            return -2;
        }
        for (size_t j = 0; j < i; j++)
            if (strcasecmp(names[i], names[j]) == 0) {
                *bad = i;
                snprintf(err, errlen, "duplicate parameter");
                return -1;
            }
    }
    pthread_mutex_lock(&change_lock);
    const struct cfg *cur = cfg_read_lock();
    next = *cur;
    uint32_t cur_bugs = cur->inject_bugs;
    cfg_read_unlock(cur);
    for (size_t i = 0; i < n && rc == 0; i++) {
        enum cfg_guard g = cfg_guard_of(names[i]);
        if (!cfg_is_live(names[i])) {
            char now[CFG_VALUE_MAX];
            cfg_get(&next, names[i], now, sizeof(now));
            snprintf(err, errlen, "can't set immutable config (restart with --%s to change it from %s)",
                     cfg_canonical_name(names[i]), now);
            rc = -1;
        } else if (!(allowed & CFG_GUARD_BIT(g))) {
            refuse_guarded(&next, g, err, errlen);
            rc = -1;
        } else if (cfg_set(&next, names[i], values[i], err, errlen)) {
            rc = -1;
        } else if (strcasecmp(names[i], "inject-bug") == 0) {
            struct cfg was = next;
            was.inject_bugs = cur_bugs;
            rc = check_startup_bugs(&next, &was, err, errlen);
        } else if (maxclients_cap && next.maxclients > maxclients_cap) {
            snprintf(err, errlen, "The operating system is not able to handle the specified "
                     "number of clients, try with %u", maxclients_cap);
            rc = -1;
        }
        if (rc)
            *bad = i;
    }
    if (rc == 0 && cfg_publish(&next)) {
        *bad = 0;
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    pthread_mutex_unlock(&change_lock);
    return rc;
}
