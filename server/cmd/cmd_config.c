/*
 * CONFIG GET / SET / REWRITE / RESETSTAT, and the SIGHUP reload. GET reads
 * the request's snapshot; SET and the reload build a new snapshot through
 * config/'s one path (cfg_config_set / cfg_reload), which validates the
 * whole of it before publishing.
 *
 * Context: the handlers run on the conn's worker inside srv_dispatch(),
 * in a config read-side section (publishing from there is allowed: it
 * never waits for readers); srv_config_reload on the acceptor.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "acl.h"
#include "commands.h"
#include "inject.h"
#include "srv.h"

#define NSUBS(t) (sizeof(t) / sizeof((t)[0]))
#define CONFIG_MAX_VALUE 1024   /* longer than any setting's value */

/* Settings mmcache does not have, answered as Redis tools expect: a
 * single database. (The persistence directives are config/persist.c's.) */
static const struct { const char *name, *value; } config_extras[] = {
    { "databases", "1" },
};
#define CONFIG_SET_UNKNOWN "ERR Unknown option or number of arguments for CONFIG SET - '%s'"
#define CONFIG_MAX_NAMES 128   /* settings + persistence directives + extras */
#define CONFIG_BUG11_HOLD_US 3000   /* BUG 11's amplifier: > its 1 ms sleep */

/* Change reports. At loglevel verbose or debug a CONFIG SET is logged as
 * several lines: who asked, then each setting from its old value to its
 * new one, with the generation produced. report_lock keeps the lines of one
 * change together, and changes in generation order (it is held across the
 * publish), when clients on two workers change the config at once. At
 * notice or warning a change is one line, one write(2): no lock, so that
 * CONFIG SET takes no global lock there. Whether a change takes the lock
 * is decided once per change, from the request's snapshot.
 * lock order: before config/reload.c's change_lock (docs/locking.md).
 * Error-checking: an unlock by a thread that does not hold it is an error
 * return, logged, not a silent release of another thread's lock. */
static pthread_mutex_t report_lock = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;

static void report_lock_take(void)
{
    int e = pthread_mutex_lock(&report_lock);
    if (e)
        srv_log(CFG_LOG_WARNING, "CONFIG SET: taking the change report lock failed: %s",
                strerror(e));
}

static void report_lock_give(void)
{
    int e = pthread_mutex_unlock(&report_lock);
    if (e)
        srv_log(CFG_LOG_WARNING, "CONFIG SET: releasing the change report lock failed: %s",
                strerror(e));
}

static size_t config_names(const char **names)
{
    size_t n = 0;

    for (size_t i = 0; cfg_names[i] != NULL && n < CONFIG_MAX_NAMES; i++)
        names[n++] = cfg_names[i];
    for (size_t i = 0; i < NSUBS(config_extras) && n < CONFIG_MAX_NAMES; i++)
        names[n++] = config_extras[i].name;
    for (int i = 0; cfg_persist_name(i) != NULL && n < CONFIG_MAX_NAMES; i++)
        names[n++] = cfg_persist_name(i);
    return n;
}

static void config_value(const struct cfg *cfg, const char *name, char *buf,
                         size_t cap)
{
    for (size_t i = 0; i < NSUBS(config_extras); i++)
        if (strcmp(name, config_extras[i].name) == 0) {
            snprintf(buf, cap, "%s", config_extras[i].value);
            return;
        }
    int persist = cfg_persist_index(name);
    if (persist >= 0)
        cfg_persist_value(persist, buf, cap);
    else if (cfg_get(cfg, name, buf, cap) < 0)
        buf[0] = '\0';
}

/* Redis's test (strpbrk(name, "[*?")): a backslash alone does not make a
 * pattern, so "tim\\eout" is an exact name (an unknown one). */
static bool has_glob(const struct proto_arg *a)
{
    for (size_t i = 0; i < a->len; i++)
        if (strchr("*?[", a->ptr[i]) != NULL && a->ptr[i] != '\0')
            return true;
    return false;
}

/* CONFIG GET pattern [pattern ...]: each setting once. A pattern without
 * glob characters is echoed back as typed, like Redis does. */
SRV_HANDLER(srv_cmd_config_get)
{
    const struct cfg *cfg = c->cfg;
    const char *names[CONFIG_MAX_NAMES];
    const struct proto_arg *shown_as[CONFIG_MAX_NAMES] = { 0 };
    bool hit[CONFIG_MAX_NAMES] = { false };
    size_t n = config_names(names), found = 0;
    char value[CFG_VALUE_MAX];

    for (size_t p = 2; p < argc; p++) {
        bool exact = !has_glob(&argv[p]);

        for (size_t i = 0; i < n; i++) {
            size_t len = strlen(names[i]);
            bool match = exact ? argv[p].len == len &&
                                 strncasecmp(argv[p].ptr, names[i], len) == 0
                               : srv_glob_match(argv[p].ptr, argv[p].len, names[i], len, 1);
            if (hit[i] || !match)
                continue;
            hit[i] = true;
            shown_as[i] = exact ? &argv[p] : NULL;
            found++;
        }
    }
    srv_reply_array(c, (long long)found * 2);
    for (size_t i = 0, shown = 0; i < n; i++) {
        if (!hit[i])
            continue;
        if (shown_as[i] != NULL)
            srv_reply_bulk(c, shown_as[i]->ptr, shown_as[i]->len);
        else
            srv_reply_bulk_cstr(c, names[i]);
        /* Amplifier of BUG 11 (config/snapshot.c frees a replaced snapshot
         * after a 1 ms sleep, not after a grace period): with bug-amplify,
         * a reader that keeps its snapshot longer than that, as one
         * preempted in its section does. Never runs unless 11 is selected. */
        if (INJECT_SELECTED(11) && INJECT_AMPLIFY() && shown++ > 0)
            usleep(CONFIG_BUG11_HOLD_US);
        config_value(cfg, names[i], value, sizeof(value));
        srv_reply_bulk_cstr(c, value);
    }
}

/* The verbose part of a change report: each setting that differs. */
static void report_changes(const struct cfg *was, const struct cfg *now)
{
    char a[CFG_VALUE_MAX], b[CFG_VALUE_MAX];

    for (size_t i = 0; cfg_names[i] != NULL; i++) {
        cfg_get(was, cfg_names[i], a, sizeof(a));
        cfg_get(now, cfg_names[i], b, sizeof(b));
        if (strcmp(a, b) != 0 && cfg_is_sensitive(cfg_names[i]))
            srv_log(CFG_LOG_VERBOSE, "CONFIG SET:   %s: changed (generation %llu)",
                    cfg_names[i], (unsigned long long)now->generation);
        else if (strcmp(a, b) != 0)
            srv_log(CFG_LOG_VERBOSE, "CONFIG SET:   %s: %s -> %s (generation %llu)",
                    cfg_names[i], a, b, (unsigned long long)now->generation);
    }
}

/* The persistence directives of a CONFIG SET (config/persist.c): each
 * must ask for what is already true, or the whole SET is refused (all or
 * nothing, as for settings). Those accepted change nothing: they leave the
 * list, and *n counts what is left. Returns -1 when it replied. */
static int config_set_persist(struct srv_conn *c, char **names, char **values, size_t *n)
{
    char err[CFG_ERRLEN];
    size_t kept = 0;

    for (size_t i = 0; i < *n; i++)   /* names first, as cfg_config_set */
        if (cfg_persist_index(names[i]) < 0 && !cfg_canonical_name(names[i])) {
            srv_reply_errorf(c, CONFIG_SET_UNKNOWN, names[i]);
            return -1;
        }
    for (size_t i = 0; i < *n; i++) {
        int persist = cfg_persist_index(names[i]);
        if (persist >= 0 && cfg_persist_check_set(persist, values[i], err, sizeof(err)) < 0) {
            srv_reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%s') - %s",
                             names[i], err);
            return -1;
        }
    }
    for (size_t i = 0; i < *n; i++) {
        if (cfg_persist_index(names[i]) >= 0) {
            free(names[i]);
            free(values[i]);
            continue;
        }
        names[kept] = names[i];
        values[kept++] = values[i];
    }
    *n = kept;
    return 0;
}

/* CONFIG SET name value [name value ...]: all or nothing, one new
 * snapshot for the lot. */
SRV_HANDLER(srv_cmd_config_set)
{
    size_t n = (argc - 2) / 2, bad = 0;
    char err[CFG_ERRLEN];
    char **names = NULL, **values = NULL;

    if ((argc - 2) % 2 != 0) {
        srv_reply_error(c, SRV_ERR_SYNTAX);
        return;
    }
    names = calloc(n, sizeof(*names));
    values = calloc(n, sizeof(*values));
    if (!names || !values)
        goto out_nomem;
    for (size_t i = 0; i < n; i++) {
        const struct proto_arg *k = &argv[2 + 2 * i], *v = &argv[3 + 2 * i];
        if (k->len > CONFIG_MAX_VALUE || v->len > CONFIG_MAX_VALUE ||
            memchr(v->ptr, 0, v->len) || memchr(k->ptr, 0, k->len)) {
            srv_reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%.*s') - "
                             "argument too long or not text", (int)(k->len > 64 ? 64 : k->len), k->ptr);
            goto out_free;
        }
        names[i] = malloc(k->len + 1);
        values[i] = malloc(v->len + 1);
        if (!names[i] || !values[i])
            goto out_nomem;
        srv__arg_cstr(k, names[i], k->len + 1);
        srv__arg_cstr(v, values[i], v->len + 1);
    }
    if (config_set_persist(c, names, values, &n) < 0)
        goto out_free;
    if (n == 0) {   /* persistence directives only, each already so */
        srv_reply_ok(c);
        goto out_free;
    }
    bool blocks;   /* this change is several log lines: under report_lock */
    if (!INJECT(22)) {
        blocks = c->cfg->loglevel <= CFG_LOG_VERBOSE;   /* once, from our snapshot */
    } else {
        /* BUG 22 (conditional locking): the decision is read from the live
         * log level, here for the lock and again below for the unlock. A
         * reload (or another CONFIG SET) that changes loglevel in between
         * makes them disagree: a lock never released (every later verbose
         * CONFIG SET waits on it) or an unlock of a lock not held. */
        blocks = cfg_loglevel_now() <= CFG_LOG_VERBOSE;
        inject_window();
    }
    if (blocks)
        report_lock_take();
    /* The levers: settings behind enable-protected-configs or
     * enable-bug-lab only from a client that lever allows. */
    int rc = cfg_config_set(n, (const char *const *)names, (const char *const *)values,
                            cfg_guards_allowed(c->cfg, c->local), &bad, err, sizeof(err));
    if (rc == -2) {
        srv_reply_errorf(c, CONFIG_SET_UNKNOWN, names[bad]);
    } else if (rc < 0) {
        srv_reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%s') - %s",
                         names[bad], err);
    } else {
        char what[256];
        size_t used = 0;
        for (size_t i = 0; i < n && used < sizeof(what); i++)
            used += (size_t)snprintf(what + used, sizeof(what) - used, " %s=%s",
                                     cfg_canonical_name(names[i]),
                                     cfg_is_sensitive(names[i]) ? "(redacted)" : values[i]);
        const struct cfg *now = cfg_read_lock();
        srv_log(CFG_LOG_NOTICE, "CONFIG SET by client id=%llu:%s (config generation %llu)",
                (unsigned long long)c->id, what, (unsigned long long)now->generation);
        if (blocks)
            report_changes(c->cfg, now);
        cfg_read_unlock(now);
        srv_reply_ok(c);
    }
    if (INJECT_SELECTED(22)) {   /* BUG 22: the second read of the live level */
        inject_window();
        blocks = cfg_loglevel_now() <= CFG_LOG_VERBOSE;
    }
    if (blocks)
        report_lock_give();
    goto out_free;
out_nomem:
    srv_reply_error(c, SRV_ERR_NOMEM);
out_free:
    for (size_t i = 0; i < n && names && values; i++) {
        free(names[i]);
        free(values[i]);
    }
    free(names);
    free(values);
}

/* CONFIG REWRITE: the running settings back into the file we started
 * with. Another CONFIG SET may land meanwhile; the file then holds the
 * snapshot this request saw, as if the SET had come just after. A client
 * that could not CONFIG SET a lever's settings cannot persist them either
 * (a bug a local client switched on live stays out of the file): their
 * lines stay as the file has them. */
SRV_HANDLER(srv_cmd_config_rewrite)
{
    char err[CFG_ERRLEN];

    if (!cfg_file()[0]) {
        srv_reply_error(c, "ERR The server is running without a config file");
        return;
    }
    /* The users as user lines, as Redis writes them (srv_acl_config_lines
     * says when none are) */
    char **users = srv_acl_config_lines(c->cfg);
    if (users == NULL) {
        srv_reply_error(c, SRV_ERR_NOMEM);
        return;
    }
    int rc = cfg_rewrite_file_guarded(c->cfg, cfg_file(), cfg_guards_allowed(c->cfg, c->local),
                                      (const char *const *)users, err, sizeof(err));
    srv_acl_free_lines(users);
    if (rc) {
        srv_log(CFG_LOG_WARNING, "CONFIG REWRITE failed: %s", err);
        srv_reply_errorf(c, "ERR Rewriting config file: %s", err);
        return;
    }
    srv_log(CFG_LOG_NOTICE, "CONFIG REWRITE executed with success.");
    srv_reply_ok(c);
}

SRV_HANDLER(srv_cmd_config_resetstat)
{
    srv_info_resetstat();
    srv_reply_ok(c);
}

SRV_HANDLER(srv_cmd_config_help)
{
    static const char *const lines[] = {
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value> [<directive> <value> ...]",
        "    Set the configuration <directive> to <value> (all or none).",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        NULL,
    };
    srv__reply_help(c, "CONFIG", lines);
}

/* ---- SIGHUP ------------------------------------------------------------------- */

static void log_note(void *arg, const char *msg)
{
    (void)arg;
    srv_log(CFG_LOG_NOTICE, "Reload: %s", msg);
}

void srv_config_reload(void)
{
    char err[CFG_ERRLEN];

    srv_log(CFG_LOG_NOTICE, "Received SIGHUP, reloading the configuration from %s",
            cfg_file()[0] ? cfg_file() : "(none)");
    uint64_t t0 = srv_mono_ns();
    const struct cfg *now = cfg_read_lock();
    /* The file's user lines are checked first: bad ones refuse the whole
     * reload, as a bad setting does (the aclfile is fixed at start-up). */
    int rc = srv_acl_reload_check(now, err, sizeof(err));
    cfg_read_unlock(now);
    if (rc == 0) {
        rc = cfg_reload(err, sizeof(err), log_note, NULL);
        if (rc == 0)
            srv_acl_reload_apply();
    }
    srv_latency_sample(SRV_LAT_CONFIG_RELOAD, (srv_mono_ns() - t0) / 1000000);
    srv_latency_eviction();   /* a smaller maxmemory evicts at once */
    now = cfg_read_lock();
    unsigned long long gen = (unsigned long long)now->generation;
    cfg_read_unlock(now);
    if (rc == -2)
        srv_log(CFG_LOG_WARNING, "Nothing to reload: %s", err);
    else if (rc < 0)
        srv_log(CFG_LOG_WARNING, "Config reload FAILED, still running generation %llu: %s",
                gen, err);
    else
        srv_log(CFG_LOG_NOTICE, "Config reloaded: now generation %llu", gen);
}
