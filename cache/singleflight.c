/*
 * singleflight.c: one in-flight load per key (the contract: singleflight.h).
 *
 * The table is an array of stripes. A key hashes (XXH3, seeded per table)
 * to one stripe by the high bits of its hash and to one of the stripe's
 * SF_BUCKETS chains by the low bits. A chain holds the key's entry, which
 * is the struct sf_call itself, in one of two states: in flight (loading,
 * waiters may register) or negative (finished with NOTFOUND/ERROR, kept
 * until neg_until). At most one entry per key exists: sf_join answers from
 * a valid negative entry and only creates a call when the key has none.
 *
 * References: the table holds one on every call it links (in flight or
 * negative) and drops it when it unlinks the call; sf_join gives one to
 * each caller. The last sf_call_put frees. Freeing never runs caller code
 * nor takes a stripe lock (a call whose count can reach zero is no longer
 * in the table), so a call may outlive sf_destroy: `live` counts the calls
 * plus one for the table itself, and whoever takes it to zero frees the
 * table struct.
 *
 * Publication of the outcome: sf_complete writes value/err and then status
 * under the stripe lock. A done callee runs under that lock (after the
 * writes, on the same thread) and hands the call over through its own
 * queue lock; a later SF_NEGATIVE joiner reads after taking the same
 * stripe lock. Either way the completer's writes happen before the reads.
 * status is also a release store / acquire load, so a holder that sees a
 * final status sees the outcome without any lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "cache_int.h"
#include "singleflight.h"

#define SF_BUCKETS 64u          /* per stripe; entries are few, see below */
#define SF_DEFAULT_STRIPES 64u
#define SF_DEFAULT_MAX_NEGATIVE 4096u

/* An entry's place in the table. */
enum sf_state { SF_ST_INFLIGHT, SF_ST_NEGATIVE, SF_ST_GONE };

static const char sf_oom_msg[] = "out of memory";

struct sf_call {
    _Atomic unsigned refs;      /* atomic: acq_rel on put, see sf_call_put */
    struct sf_table *t;         /* immutable after init */
    uint64_t hash;              /* immutable after init */
    unsigned stripe;            /* immutable after init */

    /* Protected by the stripe lock: */
    struct sf_call *hnext;      /* guarded by: stripe lock; bucket chain */
    struct sf_call *nnext, *nprev;  /* guarded by: stripe lock; negative list */
    enum sf_state state;        /* guarded by: stripe lock */
    int64_t neg_until;          /* guarded by: stripe lock; NEGATIVE only */
    struct sf_waiter *wh, *wt;  /* guarded by: stripe lock; FIFO of waiters */
    _Atomic unsigned nwaiters;  /* atomic: relaxed; written under the stripe
                                   lock, read anywhere as a hint */

    /* The outcome: written once by sf_complete under the stripe lock,
     * before the release store of status; read-only afterwards. */
    _Atomic int status;         /* atomic: release store in sf_complete,
                                   pairs with the acquire in sf_call_status */
    void *value;                /* see above; SF_VALUE only */
    size_t vlen;                /* see above */
    const char *err;            /* see above; malloc'd or sf_oom_msg */

    size_t klen;                /* immutable after init */
    char key[];                 /* immutable after init */
};

/* Entries are at most max_inflight + max_negative (a few thousand), spread
 * over nstripes * SF_BUCKETS chains (4096 by default): a fixed bucket
 * array keeps chains short without any resizing under the lock. */
struct sf_stripe {
    pthread_mutex_t lock;       /* a leaf, see singleflight.h */
#ifndef NDEBUG
    pthread_t owner;            /* guarded by: lock; debug owner check */
    bool owned;                 /* guarded by: lock */
#endif
    struct sf_call *b[SF_BUCKETS];  /* guarded by: lock */
    struct sf_call *neg;        /* guarded by: lock; negative entries */
} __attribute__((aligned(64)));

struct sf_table {
    struct sf_stripe *stripes;  /* immutable after init; freed by sf_destroy */
    unsigned nstripes;          /* immutable after init */
    unsigned bits;              /* immutable after init: log2(nstripes) */
    unsigned max_negative;      /* immutable after init */
    uint64_t seed;              /* immutable after init */
    /* Figures and bounds. Relaxed: nothing is published through them; the
     * bounds are exact because every change is one atomic read-modify-write
     * (a CAS that refuses to pass the limit), whatever the stripe. */
    _Atomic uint64_t loading __attribute__((aligned(64)));  /* atomic: relaxed */
    _Atomic uint64_t negative;  /* atomic: relaxed */
    /* Calls not yet freed, plus 1 held by the table until sf_destroy. */
    _Atomic uint64_t live __attribute__((aligned(64)));  /* atomic: acq_rel;
                                   the decrement to zero frees the table */
};

/* ---- helpers -------------------------------------------------------------- */

static void stripe_lock(struct sf_stripe *s)
{
    pthread_mutex_lock(&s->lock);
#ifndef NDEBUG
    s->owner = pthread_self();
    s->owned = true;
#endif
}

static void stripe_unlock(struct sf_stripe *s)
{
#ifndef NDEBUG
    s->owned = false;
#endif
    pthread_mutex_unlock(&s->lock);
}

#ifndef NDEBUG
/* Only meaningful for the calling thread's own lock (see shard.c). */
static bool stripe_held(const struct sf_stripe *s)
{
    return s->owned && pthread_equal(s->owner, pthread_self());
}
#define ASSERT_STRIPE_LOCKED(s) assert(stripe_held(s))
#else
#define ASSERT_STRIPE_LOCKED(s) ((void)(s))
#endif

static struct sf_stripe *stripe_of(struct sf_table *t, const struct sf_call *c)
{
    return &t->stripes[c->stripe];
}

/* Adds 1 to *ctr unless that would pass max (0: no limit). */
static bool ctr_take(_Atomic uint64_t *ctr, uint64_t max)
{
    if (max == 0) {
        atomic_fetch_add_explicit(ctr, 1, memory_order_relaxed);
        return true;
    }
    uint64_t n = atomic_load_explicit(ctr, memory_order_relaxed);
    do {
        if (n >= max)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(ctr, &n, n + 1,
                                                    memory_order_relaxed,
                                                    memory_order_relaxed));
    return true;
}

static void ctr_drop(_Atomic uint64_t *ctr)
{
    atomic_fetch_sub_explicit(ctr, 1, memory_order_relaxed);
}

static void table_put(struct sf_table *t)
{
    /* Release: our uses of t happen before the free; acquire on the last
     * one: the freeing thread sees every other thread's uses finished. */
    if (atomic_fetch_sub_explicit(&t->live, 1, memory_order_acq_rel) == 1)
        free(t);
}

/* Context: stripe lock held. */
static struct sf_call *find_locked(struct sf_stripe *s, uint64_t h,
                                   const char *key, size_t klen)
{
    struct sf_call *c;

    ASSERT_STRIPE_LOCKED(s);
    for (c = s->b[h & (SF_BUCKETS - 1)]; c; c = c->hnext)
        if (c->hash == h && c->klen == klen && memcmp(c->key, key, klen) == 0)
            return c;
    return NULL;
}

/* Unlinks c from its chain (and the negative list); the caller then owns
 * the table's reference. Context: stripe lock held. */
static void unlink_locked(struct sf_table *t, struct sf_stripe *s,
                          struct sf_call *c)
{
    struct sf_call **pp = &s->b[c->hash & (SF_BUCKETS - 1)];

    ASSERT_STRIPE_LOCKED(s);
    while (*pp != c)
        pp = &(*pp)->hnext;
    *pp = c->hnext;
    c->hnext = NULL;
    if (c->state == SF_ST_NEGATIVE) {
        if (c->nprev)
            c->nprev->nnext = c->nnext;
        else
            s->neg = c->nnext;
        if (c->nnext)
            c->nnext->nprev = c->nprev;
        c->nnext = c->nprev = NULL;
        ctr_drop(&t->negative);
    }
    c->state = SF_ST_GONE;
}

/* Context: stripe lock held. */
static void waiter_add_locked(struct sf_stripe *s, struct sf_call *c,
                              struct sf_waiter *w)
{
    ASSERT_STRIPE_LOCKED(s);
    w->next = NULL;
    w->prev = c->wt;
    if (c->wt)
        c->wt->next = w;
    else
        c->wh = w;
    c->wt = w;
    w->linked = true;
    CTR_ADD_LOCKED(c->nwaiters, 1);
}

/* Context: stripe lock held. */
static void waiter_del_locked(struct sf_stripe *s, struct sf_call *c,
                              struct sf_waiter *w)
{
    ASSERT_STRIPE_LOCKED(s);
    if (w->prev)
        w->prev->next = w->next;
    else
        c->wh = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        c->wt = w->prev;
    w->next = w->prev = NULL;
    w->linked = false;
    CTR_ADD_LOCKED(c->nwaiters, -1);
}

/* ---- table ---------------------------------------------------------------- */

struct sf_table *sf_create(const struct sf_opts *o)
{
    unsigned n = o && o->nstripes ? o->nstripes : SF_DEFAULT_STRIPES;
    struct sf_table *t;

    if (n > 65536 || (n & (n - 1)) != 0) {
        errno = EINVAL;
        return NULL;
    }
    t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    if (posix_memalign((void **)&t->stripes, 64, sizeof(*t->stripes) * n) != 0) {
        free(t);
        errno = ENOMEM;
        return NULL;
    }
    memset(t->stripes, 0, sizeof(*t->stripes) * n);
    for (unsigned i = 0; i < n; i++)
        pthread_mutex_init(&t->stripes[i].lock, NULL);
    t->nstripes = n;
    while ((1u << t->bits) < n)
        t->bits++;
    t->max_negative = o && o->max_negative ? o->max_negative
                                           : SF_DEFAULT_MAX_NEGATIVE;
    /* Seeded: keys come from clients, who must not be able to pile every
     * entry into one chain. */
    t->seed = cache__rand();
    atomic_init(&t->loading, 0);
    atomic_init(&t->negative, 0);
    atomic_init(&t->live, 1);
    return t;
}

void sf_destroy(struct sf_table *t)
{
    if (!t)
        return;
    assert(atomic_load_explicit(&t->loading, memory_order_relaxed) == 0);
    for (unsigned i = 0; i < t->nstripes; i++) {
        struct sf_stripe *s = &t->stripes[i];
        /* No call in flight: only negative entries remain in the chains.
         * Nobody else uses t; the lock is only for the _locked asserts. */
        stripe_lock(s);
        while (s->neg) {
            struct sf_call *c = s->neg;
            unlink_locked(t, s, c);
            sf_call_put(c);   /* no caller code, no stripe lock: fine here */
        }
        stripe_unlock(s);
        pthread_mutex_destroy(&s->lock);
    }
    free(t->stripes);
    t->stripes = NULL;
    table_put(t);   /* freed now, or by the put of the last call still held */
}

unsigned sf_nstripes(const struct sf_table *t) { return t->nstripes; }

void sf_stats(const struct sf_table *t, struct sf_stats *out)
{
    /* Relaxed: separate figures, each one a value the table really had. */
    out->loading = RLX_LOAD(t->loading);
    out->negative = RLX_LOAD(t->negative);
    out->calls_live = RLX_LOAD(t->live) - 1;   /* less the table's own */
}

/* ---- join, leave, complete ------------------------------------------------ */

/* A new in-flight call holding two references: the table's and the
 * caller's. Context: stripe lock held (malloc only). */
static struct sf_call *call_new_locked(struct sf_table *t, unsigned stripe,
                                       uint64_t h, const char *key, size_t klen)
{
    struct sf_call *c;

    ASSERT_STRIPE_LOCKED(&t->stripes[stripe]);
    c = calloc(1, sizeof(*c) + klen);
    if (!c)
        return NULL;
    atomic_init(&c->refs, 2);
    c->t = t;
    c->hash = h;
    c->stripe = stripe;
    c->state = SF_ST_INFLIGHT;
    atomic_init(&c->status, SF_PENDING);
    c->klen = klen;
    memcpy(c->key, key, klen);
    atomic_fetch_add_explicit(&t->live, 1, memory_order_relaxed);
    return c;
}

enum sf_join_rc sf_join(struct sf_table *t, const char *key, size_t klen,
                        int64_t now_ms, unsigned max_inflight,
                        struct sf_waiter *w, struct sf_call **call)
{
    uint64_t h = XXH3_64bits_withSeed(key, klen, t->seed);
    /* Stripe from the high bits, bucket from the low bits (as the shards). */
    unsigned si = t->bits ? (unsigned)(h >> (64 - t->bits)) : 0;
    struct sf_stripe *s = &t->stripes[si];
    struct sf_call *c, *expired = NULL;
    enum sf_join_rc rc;

    assert(w && w->done);
    *call = NULL;
    stripe_lock(s);
    c = find_locked(s, h, key, klen);
    if (c && c->state == SF_ST_NEGATIVE && c->neg_until <= now_ms) {
        unlink_locked(t, s, c);
        expired = c;          /* the table's reference, put after unlock */
        c = NULL;
    }
    if (c) {
        /* Relaxed: the table's reference keeps c alive while we hold the
         * lock; the new reference is published to the caller by return. */
        atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
        if (c->state == SF_ST_NEGATIVE) {
            rc = SF_NEGATIVE;
        } else {
            waiter_add_locked(s, c, w);
            rc = SF_JOINED;
        }
        *call = c;
        goto out_unlock;
    }
    if (!ctr_take(&t->loading, max_inflight)) {
        rc = SF_FULL;
        goto out_unlock;
    }
    c = call_new_locked(t, si, h, key, klen);
    if (!c) {
        ctr_drop(&t->loading);
        rc = SF_NOMEM;
        goto out_unlock;
    }
    c->hnext = s->b[h & (SF_BUCKETS - 1)];
    s->b[h & (SF_BUCKETS - 1)] = c;
    waiter_add_locked(s, c, w);
    *call = c;
    rc = SF_LEAD;
out_unlock:
    stripe_unlock(s);
    if (expired)
        sf_call_put(expired);
    return rc;
}

bool sf_leave(struct sf_table *t, struct sf_call *call, struct sf_waiter *w)
{
    struct sf_stripe *s = stripe_of(t, call);
    bool was;

    stripe_lock(s);
    was = w->linked;
    if (was)
        waiter_del_locked(s, call, w);
    stripe_unlock(s);
    return was;
}

int sf_complete(struct sf_table *t, struct sf_call *call, enum sf_status st,
                const void *data, size_t len, const char *err,
                int64_t now_ms, int64_t negative_ttl_ms)
{
    struct sf_stripe *s = stripe_of(t, call);
    void *value = NULL;
    const char *msg = NULL;
    bool oom = false, keep, copy_late = false;
    int n = 0;

    assert(st == SF_VALUE || st == SF_NOTFOUND || st == SF_ERROR);
    /* Copies first: no malloc of unbounded size under the stripe lock. */
    if (st == SF_VALUE) {
        value = malloc(len ? len : 1);   /* non-NULL even when empty */
        if (!INJECT(20)) {
            if (value && len)
                memcpy(value, data, len);   /* the whole outcome, then publish */
        } else {
            copy_late = value && len;   /* BUG 20: see below */
        }
        oom = !value;
    } else if (st == SF_ERROR) {
        msg = strdup(err ? err : "");
        oom = !msg;
    }
    if (oom) {
        st = SF_ERROR;
        msg = sf_oom_msg;
    }

    stripe_lock(s);
    assert(call->state == SF_ST_INFLIGHT);
    call->value = value;
    call->vlen = value ? len : 0;
    call->err = msg;
    /* Release, pairs with the acquire in sf_call_status(); the stripe lock
     * already orders it for done callees and SF_NEGATIVE joiners. */
    atomic_store_explicit(&call->status, st, memory_order_release);

    /* A failed copy is our own trouble, not the origin's answer: never
     * kept, so the next caller tries again. */
    keep = !oom && negative_ttl_ms > 0 && st != SF_VALUE &&
           ctr_take(&t->negative, t->max_negative);
    if (keep) {
        call->state = SF_ST_NEGATIVE;
        call->neg_until = now_ms > INT64_MAX - negative_ttl_ms
                              ? INT64_MAX : now_ms + negative_ttl_ms;
        call->nprev = NULL;
        call->nnext = s->neg;
        if (s->neg)
            s->neg->nprev = call;
        s->neg = call;
    } else {
        unlink_locked(t, s, call);
    }
    ctr_drop(&t->loading);

    /* Each waiter's reference goes to its done callee. Read next first:
     * once done returns, w belongs to somebody else. */
    for (struct sf_waiter *w = call->wh, *next; w; w = next) {
        next = w->next;
        w->next = w->prev = NULL;
        w->linked = false;
        n++;
        w->done(w, call);
    }
    call->wh = call->wt = NULL;
    RLX_STORE(call->nwaiters, 0);
    stripe_unlock(s);

    if (copy_late) {
        /* BUG 20 (returning while a goroutine writes): the call was
         * completed and its waiters handed to their workers with the value
         * buffer allocated but not yet written ("the copy can run while the
         * wake-ups travel"): a worker that answers before the memcpy ends
         * sends whatever the buffer held, or half of the value. The call
         * is alive here: the completer holds a reference (see the contract
         * above). The amplifier yields before the copy. */
        inject_window();
        memcpy(value, data, len);
    }

    /* Kept: the table's reference stays, and call may be swept (and freed)
     * by now, so do not touch it. Not kept: we own the table's reference. */
    if (!keep)
        sf_call_put(call);
    return oom ? -1 : n;
}

/* ---- housekeeping ---------------------------------------------------------- */

void sf_sweep(struct sf_table *t, unsigned first, unsigned n, int64_t now_ms)
{
    if (n > t->nstripes)
        n = t->nstripes;
    for (unsigned j = 0; j < n; j++) {
        struct sf_stripe *s = &t->stripes[(first + j) & (t->nstripes - 1)];
        struct sf_call *c, *next, *dead = NULL;

        stripe_lock(s);
        for (c = s->neg; c; c = next) {
            next = c->nnext;
            if (c->neg_until <= now_ms) {
                unlink_locked(t, s, c);
                c->hnext = dead;     /* unlinked: reuse the chain pointer */
                dead = c;
            }
        }
        stripe_unlock(s);
        for (c = dead; c; c = next) {   /* frees outside the lock */
            next = c->hnext;
            sf_call_put(c);
        }
    }
}

/* ---- a call ----------------------------------------------------------------- */

const char *sf_call_key(const struct sf_call *call, size_t *klen)
{
    *klen = call->klen;
    return call->key;
}

/* The outcome's fields are written before the release store of status
 * (see sf_complete) and never again: plain reads. */
enum sf_status sf_call_status(const struct sf_call *call)
{
    /* Acquire, pairs with the release store in sf_complete(). */
    return (enum sf_status)atomic_load_explicit(&call->status,
                                                memory_order_acquire);
}

const void *sf_call_value(const struct sf_call *call, size_t *len)
{
    *len = call->vlen;
    return call->value;
}

const char *sf_call_error(const struct sf_call *call) { return call->err; }

void **sf_call_value_slot(struct sf_call *call, size_t *len)
{
    *len = call->vlen;
    return &call->value;
}

unsigned sf_call_waiters(struct sf_call *call) { return RLX_LOAD(call->nwaiters); }

void sf_call_get(struct sf_call *call)
{
    /* Relaxed: the caller already holds a reference, so the call cannot
     * be freed meanwhile, and nothing is published by taking one more. */
    atomic_fetch_add_explicit(&call->refs, 1, memory_order_relaxed);
}

void sf_call_put(struct sf_call *call)
{
    /* Release: this holder's reads of the call happen before the free;
     * acquire on the last put: the freeing thread sees them all done. */
    if (atomic_fetch_sub_explicit(&call->refs, 1, memory_order_acq_rel) != 1)
        return;
    struct sf_table *t = call->t;
    free(call->value);
    if (call->err != sf_oom_msg)
        free((void *)call->err);
    free(call);
    table_put(t);
}
