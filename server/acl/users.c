/*
 * The users every worker shares, and how a connection refers to one.
 *
 * Synchronisation (docs/locking.md, "ACL"):
 *  - acl_lock guards the set of users (sorted by name) and each user's
 *    rules pointer. It is taken by what changes users (ACL SETUSER,
 *    DELUSER, LOAD, requirepass, a reload), by AUTH and by a connection
 *    refreshing its rules, never by a command that only runs. Nothing is
 *    called under it but allocation and the pure rules code; the config
 *    apply hook takes it (config locks come first), and no code holding it
 *    publishes a config, takes a shard lock or a worker's reg_lock.
 *  - Rules are immutable once in a user (acl.h) and reference counted: a
 *    change builds a new object and swaps the pointer, so a connection may
 *    keep the rules it took without any lock.
 *  - srv_acl_generation counts changes: bumped (release) under acl_lock
 *    after each one. Each connection keeps the generation its rules were
 *    taken at; dispatch compares it with an acquire load before every
 *    command, and only when it moved takes acl_lock to refresh. So the
 *    command path costs one load and one compare, plus one flag test for
 *    a user with +@all ~* (the fast path).
 *  - A user (identity) lives while the set or a connection refers to it:
 *    refs, an atomic count. Deleting marks it `deleted`; each worker's
 *    next tick closes its clients of it (srv_acl_sweep), and a command
 *    that comes first sees the mark when it refreshes.
 *
 * Context: the handlers' functions run on a worker inside srv_dispatch;
 * start-up and reload on the main (acceptor) thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "conn.h"

struct srv_acl_user {
    _Atomic unsigned refs;         /* atomic: the set's reference and each connection's;
                                      acq_rel on the decrement that may free (pairs with
                                      the other holders' decrements) */
    _Atomic bool deleted;          /* atomic: release store under acl_lock by the deleter,
                                      acquire loads by srv_acl_sweep and refreshes */
    struct srv_acl_rules *rules;   /* guarded by: acl_lock; never NULL */
    size_t len;                    /* immutable */
    char name[];                   /* immutable; NUL-terminated for printing */
};

/* lock order: after the config locks (the apply hook takes it); a leaf
 * otherwise. Guards the fields marked so. */
static pthread_mutex_t acl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct srv_acl_user **users;    /* guarded by: acl_lock; sorted by name */
static size_t nusers, capusers;        /* guarded by: acl_lock */
static struct srv_acl_user *default_user;   /* immutable after srv_acl__init_default */

_Atomic uint64_t srv_acl_generation = 1;
_Atomic bool srv_acl_default_needs_auth;
_Atomic bool srv_acl_default_is_nopass = true;
/* atomic: release by a deleter (after the user's mark), acquire by each
 * worker's srv_acl_sweep: counts users deleted since start */
static _Atomic uint64_t deletions;

/* ---- users ------------------------------------------------------------------------ */

static struct srv_acl_user *user_new(const char *name, size_t len, struct srv_acl_rules *rules)
{
    struct srv_acl_user *u = malloc(sizeof(*u) + len + 1);

    if (u == NULL)
        return NULL;
    atomic_init(&u->refs, 1);
    atomic_init(&u->deleted, false);
    u->rules = rules;
    u->len = len;
    memcpy(u->name, name, len);
    u->name[len] = '\0';
    return u;
}

static void user_ref(struct srv_acl_user *u)
{
    /* relaxed: the caller holds a reference or acl_lock (the set's) */
    atomic_fetch_add_explicit(&u->refs, 1, memory_order_relaxed);
}

static void user_unref(struct srv_acl_user *u)
{
    if (u != NULL && atomic_fetch_sub_explicit(&u->refs, 1, memory_order_acq_rel) == 1) {
        srv_acl_rules_unref(u->rules);   /* no one else can reach u now */
        free(u);
    }
}

const char *srv_acl_user_name(const struct srv_acl_user *u)
{
    return u->name;
}

size_t srv_acl_user_name_len(const struct srv_acl_user *u)
{
    return u->len;
}

static int name_cmp(const struct srv_acl_user *u, const char *name, size_t len)
{
    int d = memcmp(u->name, name, u->len < len ? u->len : len);

    return d ? d : (u->len > len) - (u->len < len);
}

/* The index of name in users[], or where it would go (~index - 1 form:
 * returns -(pos + 1)). Context: acl_lock held. */
static ssize_t find_locked(const char *name, size_t len)
{
    size_t lo = 0, hi = nusers;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int d = name_cmp(users[mid], name, len);

        if (d == 0)
            return (ssize_t)mid;
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -(ssize_t)lo - 1;
}

static int insert_locked(struct srv_acl_user *u, size_t pos)
{
    if (nusers == capusers) {
        size_t cap = capusers ? capusers * 2 : 8;
        void *n = realloc(users, cap * sizeof(*users));

        if (n == NULL)
            return -ENOMEM;
        users = n;
        capusers = cap;
    }
    memmove(users + pos + 1, users + pos, (nusers - pos) * sizeof(*users));
    users[pos] = u;
    nusers++;
    return 0;
}

/* Take u out of the set and mark it: its clients go (srv_acl_sweep). The
 * set's reference is returned to the caller, to drop once unlocked. */
static struct srv_acl_user *remove_locked(size_t pos)
{
    struct srv_acl_user *u = users[pos];

    memmove(users + pos, users + pos + 1, (nusers - pos - 1) * sizeof(*users));
    nusers--;
    atomic_store_explicit(&u->deleted, true, memory_order_release);
    return u;
}

/* Give u new rules (the caller's reference moves into u); the old ones
 * are returned for the caller to drop once unlocked. */
static struct srv_acl_rules *swap_rules_locked(struct srv_acl_user *u, struct srv_acl_rules *r)
{
    struct srv_acl_rules *old = u->rules;

    u->rules = r;
    return old;
}

/* A change is complete: connections refresh before their next command. */
static void changed_locked(void)
{
    const struct srv_acl_rules *d = default_user->rules;

    /* Redis's authRequired(): the default user has a password, or is off */
    atomic_store_explicit(&srv_acl_default_needs_auth,
                          !(d->flags & SRV_ACL_NOPASS) || !(d->flags & SRV_ACL_ON),
                          memory_order_relaxed);
    atomic_store_explicit(&srv_acl_default_is_nopass, (d->flags & SRV_ACL_NOPASS) != 0,
                          memory_order_relaxed);
    /* release: pairs with the acquire in srv_acl_gate / srv_acl_refresh */
    atomic_fetch_add_explicit(&srv_acl_generation, 1, memory_order_release);
}

/* Tell the workers: each closes its clients of deleted users at its next
 * tick (srv_acl_sweep). A tick, not a wake-up: a worker that is shutting
 * down may have closed its async handle already. */
static void deleted_users(uint64_t n)
{
    /* release: the users' marks (stored before) are seen by the acquire
     * in srv_acl_sweep that reads the new count */
    if (n != 0)
        atomic_fetch_add_explicit(&deletions, n, memory_order_release);
}

int srv_acl__init_default(void)
{
    struct srv_acl_rules *r = srv_acl_rules_new_default();
    int rc = -ENOMEM;

    pthread_mutex_lock(&acl_lock);
    default_user = r ? user_new("default", 7, r) : NULL;
    if (default_user != NULL && (rc = insert_locked(default_user, 0)) == 0)
        changed_locked();
    pthread_mutex_unlock(&acl_lock);
    return rc;
}

/* ---- changing users ----------------------------------------------------------------- */

int srv_acl_setuser(const char *name, size_t len, size_t nwords, const struct proto_arg *words,
                    size_t *bad)
{
    struct srv_acl_rules *draft, *old = NULL;
    struct srv_acl_user *u = NULL;
    ssize_t at;
    int rc = 0;

    pthread_mutex_lock(&acl_lock);
    at = find_locked(name, len);
    draft = at >= 0 ? srv_acl_rules_copy(users[at]->rules) : srv_acl_rules_new();
    if (draft == NULL) {
        rc = -ENOMEM;
        goto out_unlock;
    }
    for (size_t i = 0; i < nwords && rc == 0; i++)
        if ((rc = srv_acl_rules_apply(draft, words[i].ptr, words[i].len)) < 0)
            *bad = i;
    if (rc < 0) {
        srv_acl_rules_unref(draft);
        goto out_unlock;
    }
    if (at >= 0) {
        old = swap_rules_locked(users[at], draft);
    } else if ((u = user_new(name, len, draft)) == NULL ||
               insert_locked(u, (size_t)(-at - 1)) < 0) {
        *bad = nwords;
        rc = -ENOMEM;
        if (u == NULL)
            srv_acl_rules_unref(draft);
        user_unref(u);
        goto out_unlock;
    }
    changed_locked();
out_unlock:
    pthread_mutex_unlock(&acl_lock);
    srv_acl_rules_unref(old);
    return rc;
}

int srv_acl_deluser(size_t n, const struct proto_arg *names)
{
    struct srv_acl_user **gone = calloc(n ? n : 1, sizeof(*gone));
    size_t ngone = 0;

    if (gone == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (names[i].len == 7 && memcmp(names[i].ptr, "default", 7) == 0) {
            free(gone);
            return -EPERM;
        }
    pthread_mutex_lock(&acl_lock);
    for (size_t i = 0; i < n; i++) {
        ssize_t at = find_locked(names[i].ptr, names[i].len);

        if (at >= 0)
            gone[ngone++] = remove_locked((size_t)at);
    }
    if (ngone)
        changed_locked();
    pthread_mutex_unlock(&acl_lock);
    deleted_users(ngone);
    for (size_t i = 0; i < ngone; i++)
        user_unref(gone[i]);
    free(gone);
    return (int)ngone;
}

int srv_acl_set_default_password(const char *pw)
{
    struct srv_acl_rules *draft, *old = NULL;
    size_t len = strlen(pw);
    char *op = malloc(len + 2);
    int rc = -ENOMEM;

    if (op == NULL)
        return rc;
    op[0] = '>';
    memcpy(op + 1, pw, len + 1);
    pthread_mutex_lock(&acl_lock);
    draft = srv_acl_rules_copy(default_user->rules);
    /* Redis's ACLUpdateDefaultUserPassword: resetpass, then >pw or nopass */
    if (draft != NULL) {
        srv_acl_rules_apply(draft, "resetpass", 9);
        rc = len ? srv_acl_rules_apply(draft, op, len + 1)
                 : srv_acl_rules_apply(draft, "nopass", 6);
        if (rc == 0) {
            old = swap_rules_locked(default_user, draft);
            changed_locked();
        } else {
            srv_acl_rules_unref(draft);
        }
    }
    pthread_mutex_unlock(&acl_lock);
    srv_acl_rules_unref(old);
    memset(op, 0, len + 1);
    free(op);
    return rc;
}

/* Replace every user by those of a staged set (ACL LOAD, a reload's user
 * lines): listed users get their new rules (existing ones stay the same
 * users: their clients keep their connections), the others are deleted.
 * The default user is never deleted: it takes its listed rules, or, when
 * not listed, default_rules (NULL: it keeps its own). Consumes the staged
 * rules. */
int srv_acl__replace(struct srv_acl_staged *st, struct srv_acl_rules *default_rules)
{
    struct srv_acl_user **fresh = calloc(st->n + 1, sizeof(*fresh));
    struct srv_acl_user **gone = NULL;
    struct srv_acl_rules **old = calloc(st->n + 1, sizeof(*old));
    size_t ngone = 0, nold = 0, nfresh = 0;
    int rc = -ENOMEM;

    pthread_mutex_lock(&acl_lock);
    gone = calloc(nusers, sizeof(*gone));
    if (fresh == NULL || old == NULL || gone == NULL)
        goto out_unlock;
    /* new users first (the only step that can fail): nothing changed yet */
    for (size_t i = 0; i < st->n; i++) {
        if (find_locked(st->names[i], st->lens[i]) >= 0)
            continue;
        fresh[nfresh] = user_new(st->names[i], st->lens[i], st->rules[i]);
        if (fresh[nfresh] == NULL)
            goto out_undo;
        st->rules[i] = NULL;
        nfresh++;
    }
    if (capusers < nusers + nfresh) {
        void *n = realloc(users, (nusers + nfresh) * sizeof(*users));
        if (n == NULL)
            goto out_undo;
        users = n;
        capusers = nusers + nfresh;
    }
    /* users not listed go; listed ones take their rules */
    for (size_t i = nusers; i-- > 0;) {
        size_t j;

        for (j = 0; j < st->n; j++)
            if (st->rules[j] != NULL && name_cmp(users[i], st->names[j], st->lens[j]) == 0)
                break;
        if (j < st->n) {
            old[nold++] = swap_rules_locked(users[i], st->rules[j]);
            st->rules[j] = NULL;
        } else if (users[i] == default_user) {
            if (default_rules != NULL) {
                old[nold++] = swap_rules_locked(users[i], default_rules);
                default_rules = NULL;
            }
        } else {
            gone[ngone++] = remove_locked(i);
        }
    }
    for (size_t i = 0; i < nfresh; i++)   /* cannot fail: room was made */
        insert_locked(fresh[i], (size_t)(-find_locked(fresh[i]->name, fresh[i]->len) - 1));
    nfresh = 0;
    changed_locked();
    rc = 0;
out_undo:
    for (size_t i = 0; i < nfresh; i++)
        user_unref(fresh[i]);
out_unlock:
    pthread_mutex_unlock(&acl_lock);
    deleted_users(ngone);
    for (size_t i = 0; i < ngone; i++)
        user_unref(gone[i]);
    for (size_t i = 0; i < nold; i++)
        srv_acl_rules_unref(old[i]);
    srv_acl_rules_unref(default_rules);
    free(gone);
    free(old);
    free(fresh);
    return rc;
}

/* ---- reading users ------------------------------------------------------------------ */

struct srv_acl_rules *srv_acl_user_rules(const char *name, size_t len)
{
    struct srv_acl_rules *r = NULL;
    ssize_t at;

    pthread_mutex_lock(&acl_lock);
    if ((at = find_locked(name, len)) >= 0) {
        r = users[at]->rules;
        srv_acl_rules_ref(r);
    }
    pthread_mutex_unlock(&acl_lock);
    return r;
}

int srv_acl_snapshot(struct srv_acl_staged *out)
{
    int rc = 0;

    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&acl_lock);
    if (srv_acl__staged_reserve(out, nusers) < 0) {
        rc = -ENOMEM;
    } else {
        for (size_t i = 0; i < nusers; i++) {
            out->names[i] = strdup(users[i]->name);
            out->lens[i] = users[i]->len;
            out->rules[i] = users[i]->rules;
            srv_acl_rules_ref(out->rules[i]);
            out->n++;
            if (out->names[i] == NULL) {
                rc = -ENOMEM;
                break;
            }
        }
    }
    pthread_mutex_unlock(&acl_lock);
    if (rc < 0)
        srv_acl__staged_free(out);
    return rc;
}

/* ---- connections ---------------------------------------------------------------------- */

/* The rules to use now for c's user: c takes a reference (acl_lock held). */
static void take_rules_locked(struct srv_conn *c)
{
    struct srv_acl_rules *r = c->acl.user->rules;

    srv_acl_rules_ref(r);
    srv_acl_rules_unref(c->acl.rules);   /* maybe the last: a free, allowed here */
    c->acl.rules = r;
    c->acl.gen = atomic_load_explicit(&srv_acl_generation, memory_order_relaxed);
}

/* Make u c's user, under its worker's reg_lock for CLIENT LIST. */
static void set_user(struct srv_conn *c, struct srv_acl_user *u)
{
    struct srv_acl_user *was;

    user_ref(u);
    pthread_mutex_lock(&c->w->reg_lock);
    was = c->acl.user;
    c->acl.user = u;
    pthread_mutex_unlock(&c->w->reg_lock);
    user_unref(was);
}

/* Redis's clientSetDefaultAuth: the default user, authenticated when it
 * needs no password. */
static void default_auth(struct srv_conn *c)
{
    set_user(c, default_user);
    pthread_mutex_lock(&acl_lock);
    take_rules_locked(c);
    c->acl.authenticated = (default_user->rules->flags & (SRV_ACL_NOPASS | SRV_ACL_ON)) ==
                           (SRV_ACL_NOPASS | SRV_ACL_ON);
    pthread_mutex_unlock(&acl_lock);
    c->acl.ever_authenticated |= c->acl.authenticated;
}

void srv_acl_conn_init(struct srv_conn *c)
{
    default_auth(c);
}

void srv_acl_conn_reset(struct srv_conn *c)
{
    default_auth(c);
}

void srv_acl_conn_release(struct srv_conn *c)
{
    srv_acl_rules_unref(c->acl.rules);
    user_unref(c->acl.user);   /* on_close: no CLIENT LIST can see c any more */
    c->acl.rules = NULL;
    c->acl.user = NULL;
}

int srv_acl_refresh(struct srv_conn *c)
{
    if (atomic_load_explicit(&c->acl.user->deleted, memory_order_acquire)) {
        conn_close(c);           /* Redis frees a deleted user's clients */
        return -1;
    }
    pthread_mutex_lock(&acl_lock);
    take_rules_locked(c);
    pthread_mutex_unlock(&acl_lock);
    return 0;
}

int srv_acl_authenticate(struct srv_conn *c, const char *name, size_t nlen, const char *pw,
                         size_t plen)
{
    struct srv_acl_user *u = NULL;
    ssize_t at;

    pthread_mutex_lock(&acl_lock);
    at = find_locked(name, nlen);
    /* a disabled user cannot log in; a nopass one takes any password */
    if (at >= 0 && (users[at]->rules->flags & SRV_ACL_ON) &&
        srv_acl_rules_password_ok(users[at]->rules, pw, plen)) {
        u = users[at];
        user_ref(u);
    }
    pthread_mutex_unlock(&acl_lock);
    if (u == NULL)
        return -EACCES;
    set_user(c, u);
    user_unref(u);
    pthread_mutex_lock(&acl_lock);
    take_rules_locked(c);
    pthread_mutex_unlock(&acl_lock);
    c->acl.authenticated = c->acl.ever_authenticated = true;
    return 0;
}

void srv_acl_sweep(struct srv_worker *w)
{
    /* acquire: pairs with the release in deleted_users, after the marks */
    uint64_t n = atomic_load_explicit(&deletions, memory_order_acquire);

    if (n == w->acl_deletions_seen)
        return;
    w->acl_deletions_seen = n;
    /* conn_close unlinks only later (on_close), so walking on is safe */
    for (struct srv_conn *c = w->conns; c != NULL; c = c->next) {
        if (c->acl.user == NULL || (c->flags & (CONN_CLOSING | CONN_CLOSE_AFTER_REPLY)))
            continue;   /* a client that deleted its own user gets its reply first */
        if (atomic_load_explicit(&c->acl.user->deleted, memory_order_acquire)) {
            srv_log(CFG_LOG_VERBOSE, "Closing client id=%llu: its user '%s' was deleted",
                    (unsigned long long)c->id, c->acl.user->name);
            conn_close(c);
        }
    }
}

bool srv_acl_conn_user_deleted(const struct srv_conn *c)
{
    return atomic_load_explicit(&c->acl.user->deleted, memory_order_acquire);
}
