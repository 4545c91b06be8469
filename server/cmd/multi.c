/*
 * multi.c: MULTI, EXEC, DISCARD, WATCH, UNWATCH (Redis 7.0's replies), and
 * the one way a command runs atomically across shards (docs/locking.md,
 * "Transactions"; docs/transactions.md).
 *
 * A command that names several keys, or writes any, runs with the shards
 * of all its keys locked at once (cache_txn_lock, ascending shard index);
 * EXEC does the same with the keys of every queued command and every
 * watched key, so nothing any other worker does falls between its
 * commands. Writes mark their keys for WATCH under that lock
 * (cache_watch_touch): the check EXEC makes under its own lock sees every
 * write that came before it.
 *
 * Context: every function here runs on the connection's worker.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "commands.h"
#include "inject.h"
#include "srv.h"

/* One queued command: argv and its bytes in this allocation. */
struct srv_queued {
    const struct srv_command *cmd;
    size_t argc;
    struct proto_arg *argv;
    size_t bytes;
};

struct srv_mstate {
    struct srv_queued *q;        /* owned: the queue, in order */
    size_t n, cap;
    size_t bytes;                /* owned: what the queue holds */
    bool aborted;                /* owned: a command was refused while queueing */
    struct cache_watch **w;      /* owned: the watched keys, each added to its shard */
    size_t nw, wcap;
    /* atomic: relaxed. Set true by any worker that writes a watched key,
     * under that key's shard lock (cache_watch_touch); read by EXEC holding
     * every watched key's shard (the lock orders it after those writes),
     * and reset by the owner once no key is watched (nobody can set it). */
    _Atomic bool dirty;
};

static struct srv_mstate *mstate(struct srv_conn *c)
{
    if (c->mstate == NULL)
        c->mstate = calloc(1, sizeof(*c->mstate));
    return c->mstate;
}

static void queue_free(struct srv_mstate *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->q[i].argv);
    free(m->q);
    m->q = NULL;
    m->n = m->cap = m->bytes = 0;
    m->aborted = false;
}

static void unwatch_all(struct srv_mstate *m)
{
    for (size_t i = 0; i < m->nw; i++) {
        cache_watch_del(srv.cache, m->w[i]);
        free(m->w[i]);
    }
    free(m->w);
    m->w = NULL;
    m->nw = m->wcap = 0;
    atomic_store_explicit(&m->dirty, false, memory_order_relaxed);
}

/* Out of MULTI, nothing queued, nothing watched. */
static void multi_end(struct srv_conn *c)
{
    c->flags &= ~CONN_MULTI;
    if (c->mstate != NULL) {
        queue_free(c->mstate);
        unwatch_all(c->mstate);
    }
}

void srv_multi_reset(struct srv_conn *c)
{
    multi_end(c);
    free(c->mstate);
    c->mstate = NULL;
}

void srv_multi_reject(struct srv_conn *c)
{
    if (c->mstate != NULL)
        c->mstate->aborted = true;
}

bool srv_multi_queue(struct srv_conn *c, const struct srv_command *cmd, size_t argc,
                     const struct proto_arg *argv)
{
    struct srv_mstate *m = c->mstate;
    size_t bytes = argc * sizeof(struct proto_arg);

    if (cmd->fn == srv_cmd_exec || cmd->fn == srv_cmd_discard || cmd->fn == srv_cmd_multi ||
        cmd->fn == srv_cmd_watch || cmd->fn == srv_cmd_quit || cmd->fn == srv_cmd_reset)
        return false;
    for (size_t i = 0; i < argc; i++)
        bytes += argv[i].len;
    /* The queue is the client's memory: bounded like its query buffer. */
    if (m->bytes + bytes > c->cfg->client_query_buffer_limit) {
        srv_reply_error(c, "ERR MULTI queue is over the client-query-buffer-limit");
        m->aborted = true;
        return true;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 8;
        struct srv_queued *q = realloc(m->q, cap * sizeof(*q));
        if (q == NULL)
            goto nomem;
        m->q = q;
        m->cap = cap;
    }
    struct proto_arg *a = malloc(bytes ? bytes : 1);
    if (a == NULL)
        goto nomem;
    char *p = (char *)(a + argc);
    for (size_t i = 0; i < argc; i++) {
        memcpy(p, argv[i].ptr, argv[i].len);
        a[i].ptr = p;
        a[i].len = argv[i].len;
        p += argv[i].len;
    }
    m->q[m->n++] = (struct srv_queued){ cmd, argc, a, bytes };
    m->bytes += bytes;
    srv_reply_simple(c, "QUEUED");
    return true;
nomem:
    srv_reply_error(c, SRV_ERR_NOMEM);
    m->aborted = true;
    return true;
}

/* ---- the keys a command, or a whole transaction, locks ------------------ */

struct keyset {
    struct cache_str *v;
    size_t n, cap;
    const struct proto_arg *argv;
    bool failed;                  /* out of memory */
    struct cache_str small[8];
};

static int keyset_push(struct keyset *k, const char *s, size_t len)
{
    if (k->n == k->cap) {
        size_t cap = 2 * k->cap;
        struct cache_str *v = k->v == k->small ? malloc(cap * sizeof(*v))
                                               : realloc(k->v, cap * sizeof(*v));
        if (v == NULL) {
            k->failed = true;
            return 1;
        }
        if (k->v == k->small)
            memcpy(v, k->small, sizeof(k->small));
        k->v = v;
        k->cap = cap;
    }
    k->v[k->n++] = (struct cache_str){ s, len };
    return 0;
}

static int add_key(void *arg, size_t idx, unsigned kflags)
{
    struct keyset *k = arg;

    (void)kflags;
    return keyset_push(k, k->argv[idx].ptr, k->argv[idx].len);
}

static void keyset_init(struct keyset *k)
{
    k->v = k->small;
    k->n = 0;
    k->cap = sizeof(k->small) / sizeof(k->small[0]);
    k->failed = false;
}

static void keyset_free(struct keyset *k)
{
    if (k->v != k->small)
        free(k->v);
}

struct touch {
    const struct proto_arg *argv;
};

static int touch_key(void *arg, size_t idx, unsigned kflags)
{
    const struct proto_arg *a = &((struct touch *)arg)->argv[idx];

    if (kflags & SRV_KEY_W)
        cache_watch_touch(srv.cache, a->ptr, a->len);
    return 0;
}

/* After a write, under the lock it ran in: its written keys changed. */
static void touch_written(const struct srv_command *cmd, size_t argc,
                          const struct proto_arg *argv)
{
    struct touch t = { argv };

    if (cmd->flags & CMD_WRITE)
        srv_command_keys(cmd, argc, argv, touch_key, &t);
}

/* How a queued command is run inside EXEC's locks. */
enum txn_class {
    TXN_KEYS,      /* the shards of its keys */
    TXN_ALL,       /* no declared keys, but the keyspace: every shard
                      (FLUSHALL, KEYS, SCAN, DBSIZE, RANDOMKEY) */
    TXN_NONE,      /* touches no key (PING, ECHO, TIME, SELECT) */
    TXN_OUTSIDE,   /* takes server locks ordered before the shards (CONFIG,
                      CLIENT, ACL, INFO, HELLO, ...): run with EXEC's
                      shard locks released */
};

static enum txn_class txn_class(const struct srv_command *cmd)
{
    if (cmd->first_key > 0)
        return TXN_KEYS;
    if (cmd->categories & ACL_KEYSPACE)
        return TXN_ALL;
    if ((cmd->flags & CMD_FAST) && !(cmd->flags & (CMD_NO_AUTH | CMD_ADMIN)))
        return TXN_NONE;
    return TXN_OUTSIDE;
}

/* A write of one key (SET, INCR, SETEX, ...), the common case: the same
 * lock and WATCH mark as the general path below, without its key walk and
 * key set. argv[idx] is read again after the handler, as the walk did.
 * Not inlined, so that srv__run keeps no frame for a one-key read. */
static void __attribute__((noinline)) run_one_write(struct srv_conn *c,
                                                    const struct srv_command *cmd,
                                                    size_t argc, struct proto_arg *argv,
                                                    size_t idx, bool written)
{
    struct cache_str key = { argv[idx].ptr, argv[idx].len };
    struct cache_txn t;

    if (cache_txn_lock(srv.cache, &t, &key, 1, 0) != CACHE_OK) {
        srv_reply_error(c, SRV_ERR_NOMEM);
        return;
    }
    cmd->fn(c, argc, argv);
    if (written)
        cache_watch_touch(srv.cache, argv[idx].ptr, argv[idx].len);
    cache_txn_unlock(srv.cache, &t, NOW(c));
}

/* Any other command: its keys found by the walk over its row (DEL k ...,
 * MGET, MSET, FLUSHALL). Not inlined either. */
static void __attribute__((noinline)) run_keys(struct srv_conn *c,
                                               const struct srv_command *cmd,
                                               size_t argc, struct proto_arg *argv)
{
    struct keyset k;
    struct cache_txn t;
    bool all = false;

    keyset_init(&k);
    k.argv = argv;
    if (cmd->first_key > 0)
        srv_command_keys(cmd, argc, argv, add_key, &k);
    else
        all = (cmd->flags & CMD_WRITE) && (cmd->categories & ACL_KEYSPACE);   /* FLUSHALL */
    if (!all && (k.n == 0 || (k.n == 1 && !(cmd->flags & CMD_WRITE)))) {
        keyset_free(&k);   /* one key read, or none: the cache's own lock will do */
        cmd->fn(c, argc, argv);
        return;
    }
    if (k.failed || cache_txn_lock(srv.cache, &t, k.v, k.n, all) != CACHE_OK) {
        keyset_free(&k);
        srv_reply_error(c, SRV_ERR_NOMEM);
        return;
    }
    cmd->fn(c, argc, argv);
    touch_written(cmd, argc, argv);
    cache_txn_unlock(srv.cache, &t, NOW(c));
    keyset_free(&k);
}

void srv__run(struct srv_conn *c, const struct srv_command *cmd, size_t argc,
              struct proto_arg *argv)
{
    bool one = cmd->one_key && argc > (size_t)cmd->first_key;

    /* A one-key read (GET) runs as it is everywhere, in EXEC or not: the
     * cache's own lock of its shard will do. */
    if (one && !(cmd->flags & CMD_WRITE)) {
        cmd->fn(c, argc, argv);
        return;
    }
    /* Bug 3's unlocked SET must race as it always did: no lock around it. */
    if ((c->flags & CONN_EXEC) || (inject_mask() & INJECT_BIT(3))) {
        cmd->fn(c, argc, argv);
        return;
    }
    if (one)
        run_one_write(c, cmd, argc, argv, (size_t)cmd->first_key, cmd->one_key & SRV_KEY_W);
    else
        run_keys(c, cmd, argc, argv);
}

/* ---- the commands ----------------------------------------------------------- */

SRV_HANDLER(srv_cmd_multi)
{
    (void)argc;
    (void)argv;
    if (c->flags & CONN_MULTI) {
        srv_reply_error(c, "ERR MULTI calls can not be nested");
        return;
    }
    if (mstate(c) == NULL) {
        srv_reply_error(c, SRV_ERR_NOMEM);
        return;
    }
    c->flags |= CONN_MULTI;
    srv_reply_ok(c);
}

SRV_HANDLER(srv_cmd_discard)
{
    (void)argc;
    (void)argv;
    if (!(c->flags & CONN_MULTI)) {
        srv_reply_error(c, "ERR DISCARD without MULTI");
        return;
    }
    multi_end(c);
    srv_reply_ok(c);
}

SRV_HANDLER(srv_cmd_watch)
{
    struct srv_mstate *m;

    if (c->flags & CONN_MULTI) {
        srv_reply_error(c, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    if ((m = mstate(c)) == NULL) {
        srv_reply_error(c, SRV_ERR_NOMEM);
        return;
    }
    /* A key watched twice has two entries (no search per key: a WATCH of
     * many keys stays linear); both go dirty, both go at UNWATCH. */
    for (size_t i = 1; i < argc; i++) {
        if (m->nw == m->wcap) {
            size_t cap = m->wcap ? 2 * m->wcap : 4;
            struct cache_watch **w = realloc(m->w, cap * sizeof(*w));
            if (w == NULL)
                goto nomem;
            m->w = w;
            m->wcap = cap;
        }
        struct cache_watch *w = cache_watch_new(srv.cache, argv[i].ptr, argv[i].len,
                                                &m->dirty);
        if (w == NULL)
            goto nomem;
        cache_watch_add(srv.cache, w, NOW(c));
        m->w[m->nw++] = w;
    }
    srv_reply_ok(c);
    return;
nomem:
    srv_reply_error(c, SRV_ERR_NOMEM);
}

SRV_HANDLER(srv_cmd_unwatch)
{
    (void)argc;
    (void)argv;
    if (c->mstate != NULL)
        unwatch_all(c->mstate);
    srv_reply_ok(c);
}

/* EXEC's lock set: every queued command's keys (every shard when one
 * needs the whole keyspace) and the watched keys. 0, or -ENOMEM. */
static int exec_keys(const struct srv_mstate *m, struct keyset *k, bool *all)
{
    keyset_init(k);
    *all = false;
    for (size_t i = 0; i < m->n && !k->failed; i++) {
        enum txn_class cls = txn_class(m->q[i].cmd);
        if (cls == TXN_ALL)
            *all = true;
        k->argv = m->q[i].argv;
        if (cls == TXN_KEYS)
            srv_command_keys(m->q[i].cmd, m->q[i].argc, m->q[i].argv, add_key, k);
    }
    for (size_t i = 0; i < m->nw && !k->failed; i++)
        keyset_push(k, m->w[i]->key, m->w[i]->klen);
    return k->failed ? -ENOMEM : 0;
}

/* A watched key changed since its WATCH: by a command (dirty), or by what
 * no command does (expired, evicted, loaded). Context: EXEC's locks. */
static bool watch_broken(struct srv_conn *c, const struct srv_mstate *m)
{
    if (atomic_load_explicit(&m->dirty, memory_order_relaxed))
        return true;
    for (size_t i = 0; i < m->nw; i++)
        if (cache_watch_stale(srv.cache, m->w[i], NOW(c)))
            return true;
    return false;
}

/* Runs the queue under t (locked when *locked); a command that takes
 * server locks ordered before the shards runs with them released. */
static void exec_queue(struct srv_conn *c, struct srv_mstate *m, struct cache_txn *t,
                       const struct keyset *k, bool all, bool *locked)
{
    struct srv_worker *w = c->w;

    srv_reply_array(c, (long long)m->n);
    for (size_t i = 0; i < m->n; i++) {
        struct srv_queued *q = &m->q[i];
        enum txn_class cls = txn_class(q->cmd);

        if (cls == TXN_OUTSIDE && *locked) {
            cache_txn_unlock(srv.cache, t, NOW(c));
            *locked = false;
        } else if (cls != TXN_OUTSIDE && !*locked && (k->n > 0 || all)) {
            if (cache_txn_lock(srv.cache, t, k->v, k->n, all) != CACHE_OK) {
                srv_reply_error(c, SRV_ERR_NOMEM);
                continue;
            }
            *locked = true;
        }
        uint64_t errors = atomic_load_explicit(&w->errstats->replied, memory_order_relaxed);
        uint64_t t0 = srv_mono_ns();
        /* As Redis, the user's rules (fresh as of EXEC's own gate) are
         * checked again: a refusal is a NOPERM in its place. */
        if (srv_acl_check(c, q->cmd, q->argc, q->argv, SRV_ACL_CTX_MULTI) < 0)
            continue;
        atomic_store_explicit(&c->last_cmd, q->cmd->fullname, memory_order_relaxed);
        q->cmd->fn(c, q->argc, q->argv);
        srv__count_call(c, q->cmd, t0, errors, q->argc, q->argv);
        if (*locked)
            touch_written(q->cmd, q->argc, q->argv);
    }
}

SRV_HANDLER(srv_cmd_exec)
{
    struct srv_mstate *m = c->mstate;
    struct keyset k;
    struct cache_txn t;
    bool all, locked = false;

    (void)argc;
    (void)argv;
    if (!(c->flags & CONN_MULTI)) {
        srv_reply_error(c, "ERR EXEC without MULTI");
        return;
    }
    if (m->aborted) {
        srv_reply_error(c, "EXECABORT Transaction discarded because of previous errors.");
        multi_end(c);
        return;
    }
    if (exec_keys(m, &k, &all) < 0) {
        srv_reply_error(c, SRV_ERR_NOMEM);
        goto out;
    }
    if (k.n > 0 || all) {
        if (cache_txn_lock(srv.cache, &t, k.v, k.n, all) != CACHE_OK) {
            srv_reply_error(c, SRV_ERR_NOMEM);
            goto out;
        }
        locked = true;
    }
    if (watch_broken(c, m)) {
        srv_reply_null_array(c);   /* nothing ran */
    } else {
        c->flags = (c->flags & ~CONN_MULTI) | CONN_EXEC;
        exec_queue(c, m, &t, &k, all, &locked);
        c->flags &= ~CONN_EXEC;
    }
    if (locked)
        cache_txn_unlock(srv.cache, &t, NOW(c));
out:
    keyset_free(&k);
    multi_end(c);
}
