/*
 * The loader pool: a fixed number of threads (loader-threads) that run
 * origin calls, which block, off the workers' loops. It is created on the
 * first load (a server without a loader never starts these threads), by
 * double-checked locking done right: the fast path is an acquire load that
 * pairs with the release store publishing the fully built pool.
 *
 * The origin in use is kept here too: built from the snapshot's `loader`
 * spec by the first load that needs it, replaced when a reload or CONFIG
 * SET names another, and freed when the last load using it returns.
 *
 * A load is bounded by its deadline (loader-timeout-ms after it started):
 * one that waited in the queue past it never calls the origin, and each
 * origin returns by the deadline. So a stuck origin costs a thread for at
 * most that long, and shutdown waits at most that long.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loader_int.h"
#include "srv.h"

/* One queued load. Owned by the queue, then by the thread running it. */
struct loader_job {
    struct sf_call *call;            /* a reference of its own */
    struct origin *origin;           /* a reference of its own */
    struct origin_params params;     /* copied from the leader's snapshot */
    int64_t negative_ttl_ms;
    int64_t ttl_ms;                  /* loader-ttl, 0 = no expiry */
    struct loader_job *next;
};

struct loader_pool {
    unsigned nthreads;               /* immutable after creation */
    pthread_t *threads;              /* immutable after creation */
    pthread_mutex_t lock;            /* lock order: leaf; guards the fields below */
    pthread_cond_t work;             /* signalled: a job was queued, or stopping */
    pthread_cond_t idle;             /* signalled: pending reached 0 */
    struct loader_job *head, *tail;  /* guarded by: lock */
    uint64_t pending;                /* guarded by: lock; queued + running. Counted
                                        by the submitter when it queues, so a drain
                                        never misses a load not yet picked up */
    bool stopping;                   /* guarded by: lock */
};

/* atomic: release by the creator once the pool is built, acquire by every
 * reader (the fast path of double-checked locking). */
static _Atomic(struct loader_pool *) pool;
static pthread_mutex_t pool_create_lock = PTHREAD_MUTEX_INITIALIZER;   /* lock order: leaf */
static _Atomic uint64_t pool_inits;    /* atomic: relaxed; a figure for INFO */
/* atomic: shutdown stores true (release); origins poll it (acquire) */
static _Atomic bool pool_cancel;

/* lock order: leaf. Guards cur_origin (the slot holds one reference). */
static pthread_mutex_t origin_lock = PTHREAD_MUTEX_INITIALIZER;
static struct origin *cur_origin;      /* guarded by: origin_lock */

static void job_run(struct loader_job *j, struct cache_val *cached);

/* CLOCK_MONOTONIC in microseconds, for the latency histogram (deadlines
 * are in ms: origin_now_ms). */
static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void *pool_thread(void *arg)
{
    struct loader_pool *p = arg;
    struct cache_val cached = { 0 };   /* owned: this thread; values re-checked in the cache */
    pthread_setname_np(pthread_self(), "mmc-loader");
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->work, &p->lock);
        struct loader_job *j = p->head;
        if (!j)
            break;   /* stopping, and nothing left to run */
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        pthread_mutex_unlock(&p->lock);
        job_run(j, &cached);
        pthread_mutex_lock(&p->lock);
        if (--p->pending == 0)
            pthread_cond_broadcast(&p->idle);
    }
    pthread_mutex_unlock(&p->lock);
    free(cached.data);
    return NULL;
}

static struct loader_pool *pool_create(unsigned n)
{
    struct loader_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->threads = calloc(n, sizeof(pthread_t));
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->idle, NULL);
    for (; p->threads && p->nthreads < n; p->nthreads++)
        if (pthread_create(&p->threads[p->nthreads], NULL, pool_thread, p) != 0)
            break;
    if (p->nthreads == 0) {
        free(p->threads);
        free(p);
        return NULL;
    }
    if (p->nthreads < n)
        srv_log(CFG_LOG_WARNING, "Loader: started %u of %u threads", p->nthreads, n);
    return p;
}

/* The pool, created by the first caller. */
static struct loader_pool *pool_get(unsigned nthreads)
{
    struct loader_pool *p = atomic_load_explicit(&pool, memory_order_acquire);
    if (p)
        return p;
    pthread_mutex_lock(&pool_create_lock);
    p = atomic_load_explicit(&pool, memory_order_relaxed);   /* the lock orders it */
    if (!p) {
        p = pool_create(nthreads);
        if (p) {
            atomic_fetch_add_explicit(&pool_inits, 1, memory_order_relaxed);
            atomic_store_explicit(&pool, p, memory_order_release);
            srv_log(CFG_LOG_NOTICE, "Loader: %u threads started", p->nthreads);
        }
    }
    pthread_mutex_unlock(&pool_create_lock);
    return p;
}

/* The origin the snapshot names, with a reference for the caller; the
 * slot's origin is replaced when the spec changed. NULL with err. */
static struct origin *origin_for(const struct cfg *cfg, char *err, size_t errlen)
{
    char spec[sizeof(cur_origin->spec)];
    cfg_loader_spec(cfg, spec, sizeof(spec));
    pthread_mutex_lock(&origin_lock);
    struct origin *o = cur_origin;
    if (!o || strcmp(o->spec, spec) != 0) {
        o = origin_create(cfg->loader, cfg->loader_arg, cfg->generation, err, errlen);
        if (o) {
            if (cur_origin)
                origin_put(cur_origin);
            cur_origin = o;
            srv_log(CFG_LOG_NOTICE, "Loader: origin is now %s", o->spec);
        }
    }
    if (o)
        origin_get(o);
    pthread_mutex_unlock(&origin_lock);
    return o;
}

void loader_start(struct sf_call *call, const struct cfg *cfg)
{
    char err[ORIGIN_ERRLEN] = "";
    struct loader_job *j = calloc(1, sizeof(*j));
    struct origin *o = j ? origin_for(cfg, err, sizeof(err)) : NULL;
    struct loader_pool *p = o ? pool_get(cfg->loader_threads) : NULL;
    if (!p) {
        if (!err[0])
            snprintf(err, sizeof(err), "%s", j && o ? "cannot start loader threads" : "out of memory");
        LOADER_COUNT(errors);
        sf_complete(loader_sf, call, SF_ERROR, NULL, 0, err, origin_now_ms(),
                    (int64_t)cfg->loader_negative_ttl * 1000);
        if (o)
            origin_put(o);
        free(j);
        return;
    }
    sf_call_get(call);
    j->call = call;
    j->origin = o;
    j->params = (struct origin_params){
        .deadline_ms = origin_now_ms() + cfg->loader_timeout_ms,
        .synthetic_latency_ms = cfg->loader_synthetic_latency_ms,
        .synthetic_value_size = cfg->loader_synthetic_value_size,
        .synthetic_error_rate = cfg->loader_synthetic_error_rate,
        .max_value_len = (uint64_t)cfg->proto_max_bulk_len,
    };
    j->negative_ttl_ms = (int64_t)cfg->loader_negative_ttl * 1000;
    j->ttl_ms = (int64_t)cfg->loader_ttl * 1000;
    pthread_mutex_lock(&p->lock);
    p->pending++;   /* by the submitter, before the job can run */
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->lock);
}

/* Run one load: the cache first (a load that finished just before this
 * call began has stored the value), then the origin; store what it gave,
 * then complete the call, which answers every waiter. */
static void job_run(struct loader_job *j, struct cache_val *cached)
{
    size_t klen;
    const char *key = sf_call_key(j->call, &klen);
    struct origin_result out = { 0 };
    enum sf_status st;
    const void *data = NULL;
    size_t len = 0;
    int64_t start = origin_now_ms();

    if (start >= j->params.deadline_ms) {
        snprintf(out.err, sizeof(out.err), "%s", LOADER_TIMEOUT_MSG);   /* queued too long */
        st = SF_ERROR;
    } else if (cache_get(srv.cache, key, klen, srv_now_ms(), cached) == CACHE_OK) {
        LOADER_COUNT(cache_rechecks);
        st = SF_VALUE;
        data = cached->data;
        len = cached->len;
    } else {
        LOADER_COUNT(origin_calls);
        uint64_t t0 = now_us();
        enum origin_rc rc = origin_load(j->origin, key, klen, &j->params, &pool_cancel, &out);
        loader_record_latency(now_us() - t0);
        if (rc == ORIGIN_VALUE) {
            st = SF_VALUE;
            data = out.data;
            len = out.len;
            int64_t now = srv_now_ms();
            /* NX: a client's SET made during the load is newer; keep it.
             * Not stored (OOM) still answers the waiters. */
            cache_set(srv.cache, key, klen, out.data, out.len, CACHE_SET_NX,
                      j->ttl_ms ? now + j->ttl_ms : 0, now, NULL, NULL);
        } else {
            st = rc == ORIGIN_NOTFOUND ? SF_NOTFOUND : SF_ERROR;
            /* Out of time: the same answer as a waiter's own timer gives,
             * whichever of the two comes first. */
            if (st == SF_ERROR && origin_now_ms() >= j->params.deadline_ms)
                snprintf(out.err, sizeof(out.err), "%s", LOADER_TIMEOUT_MSG);
        }
    }
    if (st == SF_ERROR)
        LOADER_COUNT(errors);
    else if (st == SF_NOTFOUND)
        LOADER_COUNT(not_found);
    sf_complete(loader_sf, j->call, st, data, len, out.err, origin_now_ms(), j->negative_ttl_ms);
    free(out.data);
    sf_call_put(j->call);
    origin_put(j->origin);
    free(j);
}

void srv_loader_spec_changed(void)
{
    pthread_mutex_lock(&origin_lock);
    if (cur_origin)
        origin_put(cur_origin);   /* loads using it hold their own reference */
    cur_origin = NULL;
    pthread_mutex_unlock(&origin_lock);
}

void loader_pool_shutdown(void)
{
    struct loader_pool *p = atomic_load_explicit(&pool, memory_order_acquire);
    atomic_store_explicit(&pool_cancel, true, memory_order_release);
    if (p) {
        pthread_mutex_lock(&p->lock);
        p->stopping = true;
        pthread_cond_broadcast(&p->work);
        while (p->pending)
            pthread_cond_wait(&p->idle, &p->lock);
        pthread_mutex_unlock(&p->lock);
        for (unsigned i = 0; i < p->nthreads; i++)
            pthread_join(p->threads[i], NULL);
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->work);
        pthread_cond_destroy(&p->idle);
        free(p->threads);
        free(p);
        atomic_store_explicit(&pool, NULL, memory_order_relaxed);
    }
    srv_loader_spec_changed();
}

void loader_pool_info(struct loader_pool_info *out)
{
    struct loader_pool *p = atomic_load_explicit(&pool, memory_order_acquire);
    memset(out, 0, sizeof(*out));
    out->inits = atomic_load_explicit(&pool_inits, memory_order_relaxed);
    if (p) {
        out->threads = p->nthreads;
        pthread_mutex_lock(&p->lock);
        out->pending = p->pending;
        pthread_mutex_unlock(&p->lock);
    }
    pthread_mutex_lock(&origin_lock);
    if (cur_origin)
        snprintf(out->origin, sizeof(out->origin), "%s", cur_origin->spec);
    pthread_mutex_unlock(&origin_lock);
}
