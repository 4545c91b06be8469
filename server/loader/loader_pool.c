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

#include "inject.h"
#include "loader_int.h"
#include "srv.h"

/* One queued load. Owned by the queue, then by the thread running it. */
struct loader_job {
    struct sf_call *call;            /* a reference of its own */
    struct origin *origin;           /* a reference of its own */
    const struct origin_ops *ops;    /* the code to load with: origin->ops */
    struct origin_params params;     /* copied from the leader's snapshot */
    int64_t negative_ttl_ms;
    int64_t ttl_ms;                  /* loader-ttl, 0 = no expiry */
    uint32_t inject_mask;            /* the leader's bug-lab selection (its snapshot's) */
    bool counted;                    /* in pending since it was queued (bug 5) */
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
                                        never misses a load not yet picked up: shutdown
                                        drains (pending == 0), then stops the threads,
                                        which exit without looking at the queue */
    bool stopping;                   /* guarded by: lock; set once pending is 0 */
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
    inject_thread_start();
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->work, &p->lock);
        /* Stopping is set only once the drain saw pending == 0: every load
         * queued has run, so there is nothing left to look at. */
        if (p->stopping)
            break;
        struct loader_job *j = p->head;
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        pthread_mutex_unlock(&p->lock);
        inject_enter(j->inject_mask);   /* the load runs under its leader's selection */
        if (!j->counted) {
            /* BUG 5 (WaitGroup.Add inside goroutine): the submitter did not
             * count this load; it counts itself now that it runs. Until it
             * does, a drain sees pending == 0 while it is on its way (and
             * loads still queued are never counted at all): shutdown stops
             * the threads and destroys what loads use. (Bug 5 is chosen in
             * loader_start, by the submitter; the amplifier widens the gap.) */
            inject_window();
            pthread_mutex_lock(&p->lock);
            p->pending++;
            pthread_mutex_unlock(&p->lock);
        }
        job_run(j, &cached);
        pthread_mutex_lock(&p->lock);
        if (--p->pending == 0)
            pthread_cond_broadcast(&p->idle);
    }
    pthread_mutex_unlock(&p->lock);
    free(cached.data);
    return NULL;
}

/* Build the pool in *p (zeroed memory): every field, then the threads.
 * -1 when no thread could start (nothing to free but p->threads). */
static int pool_init(struct loader_pool *p, unsigned n)
{
    *p = (struct loader_pool){ 0 };
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->idle, NULL);
    p->threads = calloc(n, sizeof(pthread_t));
    for (; p->threads && p->nthreads < n; p->nthreads++)
        if (pthread_create(&p->threads[p->nthreads], NULL, pool_thread, p) != 0)
            break;
    if (p->nthreads == 0) {
        free(p->threads);
        return -1;
    }
    if (p->nthreads < n)
        srv_log(CFG_LOG_WARNING, "Loader: started %u of %u threads", p->nthreads, n);
    /* Counted here, where a pool really comes to be (INFO loader_pool_inits:
     * more than 1 means two pools were built: bug 6). */
    atomic_fetch_add_explicit(&pool_inits, 1, memory_order_relaxed);
    return 0;
}

static struct loader_pool *pool_create(unsigned n)
{
    struct loader_pool *p = calloc(1, sizeof(*p));
    if (p && pool_init(p, n) != 0) {
        free(p);
        p = NULL;
    }
    return p;
}

/* The pool, created by the first caller. */
static struct loader_pool *pool_get(unsigned nthreads)
{
    struct loader_pool *p;
    if (!INJECT(6) && !INJECT(7)) {
        p = atomic_load_explicit(&pool, memory_order_acquire);
        if (p)
            return p;
        pthread_mutex_lock(&pool_create_lock);
        p = atomic_load_explicit(&pool, memory_order_relaxed);   /* the lock orders it */
        if (!p) {
            p = pool_create(nthreads);
            if (p) {
                atomic_store_explicit(&pool, p, memory_order_release);
                srv_log(CFG_LOG_NOTICE, "Loader: %u threads started", p->nthreads);
            }
        }
        pthread_mutex_unlock(&pool_create_lock);
        return p;
    }
    if (INJECT_SELECTED(6)) {
        /* BUG 6 (lazy init race): check, then create, with no lock between:
         * every caller that saw no pool builds one (threads and all) and
         * the last store wins; the others' pools run their creators' loads
         * and then idle, never drained nor freed. */
        p = atomic_load_explicit(&pool, memory_order_acquire);
        if (p)
            return p;
        inject_window();
        p = pool_create(nthreads);
        if (p) {
            atomic_store_explicit(&pool, p, memory_order_release);
            srv_log(CFG_LOG_NOTICE, "Loader: %u threads started", p->nthreads);
        }
        return p;
    }
    {
        /* BUG 7 (broken double-checked locking): the fast path reads the
         * pointer with a relaxed load, and the creator publishes it with a
         * relaxed store: nothing orders the pool's fields before the
         * pointer for a caller that skips the lock (nor for INFO, which
         * reads it the same way: loader_pool_info). Such a caller may see
         * the pointer and fields not yet written: it queues into a pool
         * whose lock, queue and threads are still being set up. On x86-64
         * with gcc the stores stay in order (TSO, and pool_create is a
         * call the store cannot move above): only TSan sees the race. */
        p = atomic_load_explicit(&pool, memory_order_relaxed);
        if (p)
            return p;
        pthread_mutex_lock(&pool_create_lock);
        p = atomic_load_explicit(&pool, memory_order_relaxed);
        if (!p && !INJECT_AMPLIFY()) {
            p = pool_create(nthreads);
            if (p) {
                atomic_store_explicit(&pool, p, memory_order_relaxed);
                srv_log(CFG_LOG_NOTICE, "Loader: %u threads started", p->nthreads);
            }
        } else if (!p) {
            /* Amplifier: the order the C memory model allows a relaxed
             * store to take (the pointer visible before the fields), done
             * by hand: publish a zeroed pool, yield and spin 20 ms (once
             * per process), then build it; pool_init wipes whatever a
             * fast-path caller queued meanwhile. */
            p = calloc(1, sizeof(*p));
            if (p) {
                atomic_store_explicit(&pool, p, memory_order_relaxed);
                inject_window();
                inject_spin(20000000);
                if (pool_init(p, nthreads) == 0)
                    srv_log(CFG_LOG_NOTICE, "Loader: %u threads started", p->nthreads);
            }
        }
        pthread_mutex_unlock(&pool_create_lock);
        return p;
    }
}

/* The origin the snapshot names, with a reference for the caller, and the
 * code to load from it with (*ops: its own kind's); the slot's origin is
 * replaced when the spec changed. NULL with err. */
static struct origin *origin_for(const struct cfg *cfg, const struct origin_ops **ops,
                                 char *err, size_t errlen)
{
    char spec[sizeof(cur_origin->spec)];
    struct origin *o;
    if (!INJECT(19)) {
        cfg_loader_spec(cfg, spec, sizeof(spec));
        pthread_mutex_lock(&origin_lock);
        o = cur_origin;
        if (!o || strcmp(o->spec, spec) != 0) {
            o = origin_create(cfg->loader, cfg->loader_arg, cfg->generation, err, errlen);
            if (o) {
                if (cur_origin)
                    origin_put(cur_origin);
                cur_origin = o;
                srv_log(CFG_LOG_NOTICE, "Loader: origin is now %s", o->spec);
            }
        }
        if (o) {
            origin_get(o);
            *ops = o->ops;   /* the kind of the object itself */
        }
        pthread_mutex_unlock(&origin_lock);
        return o;
    }
    /* BUG 19 (atomic.Value type confusion): the slot is trusted to hold an
     * origin of the kind this request's snapshot names ("the apply hook
     * empties it when the spec changes"), and the load runs that kind's
     * code on it. But the snapshot is published before the hook runs, and
     * a request that began under the old snapshot may get here after a
     * request under the new one refilled the slot: the slot then holds the
     * other kind, and e.g. the file kind reads a dirfd past the end of a
     * synthetic origin. The amplifier yields between the two reads. */
    inject_window();
    pthread_mutex_lock(&origin_lock);
    o = cur_origin;
    if (!o) {
        o = origin_create(cfg->loader, cfg->loader_arg, cfg->generation, err, errlen);
        if (o) {
            cur_origin = o;
            srv_log(CFG_LOG_NOTICE, "Loader: origin is now %s", o->spec);
        }
    }
    if (o) {
        origin_get(o);
        *ops = origin_kind_ops(cfg->loader);   /* the kind the snapshot names */
    }
    pthread_mutex_unlock(&origin_lock);
    if (o && !*ops) {   /* the snapshot says none: nothing to load with */
        origin_put(o);
        o = NULL;
    }
    return o;
}

/* Origin failures, logged at most once a second (a client can make them
 * happen at any rate: a miss per key). */
static struct srv_log_throttle origin_errors;

/* What a failed load's clients are told. The origin's own words name
 * paths and addresses and tell a refused connection from a reset one:
 * they go to the log; the clients get the origin's public text, or only
 * that it failed. A timeout stays one (a slow origin, or a silent one). */
static void tell_error(const struct loader_job *j, struct origin_result *out)
{
    if (strcmp(out->err, LOADER_TIMEOUT_MSG) == 0)
        return;
    srv_log_throttled(&origin_errors, CFG_LOG_WARNING, "Loader: a load from %s failed: %s",
                      j->origin->spec, out->err);
    snprintf(out->err, sizeof(out->err), "%s", out->pub ? out->pub : LOADER_ORIGIN_FAILED);
}

void loader_start(struct sf_call *call, const struct cfg *cfg)
{
    char err[ORIGIN_ERRLEN] = "";
    struct loader_job *j = calloc(1, sizeof(*j));
    const struct origin_ops *ops = NULL;
    struct origin *o = j ? origin_for(cfg, &ops, err, sizeof(err)) : NULL;
    struct loader_pool *p = o ? pool_get(cfg->loader_threads) : NULL;
    if (!p) {
        if (j && !o && err[0]) {   /* the origin could not be made: its words name it */
            srv_log_throttled(&origin_errors, CFG_LOG_WARNING, "Loader: %s", err);
            snprintf(err, sizeof(err), "%s", LOADER_ORIGIN_FAILED);
        }
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
    j->ops = ops;
    j->params = (struct origin_params){
        .deadline_ms = origin_now_ms() + cfg->loader_timeout_ms,
        .synthetic_latency_ms = cfg->loader_synthetic_latency_ms,
        .synthetic_value_size = cfg->loader_synthetic_value_size,
        .synthetic_error_rate = cfg->loader_synthetic_error_rate,
        /* never more than a client could SET */
        .max_value_len = cfg->loader_max_value_size < (uint64_t)cfg->proto_max_bulk_len
                             ? cfg->loader_max_value_size : (uint64_t)cfg->proto_max_bulk_len,
    };
    j->negative_ttl_ms = (int64_t)cfg->loader_negative_ttl * 1000;
    j->ttl_ms = (int64_t)cfg->loader_ttl * 1000;
    j->inject_mask = cfg_inject_mask(cfg);
    pthread_mutex_lock(&p->lock);
    if (!INJECT(5)) {
        p->pending++;   /* by the submitter, before the job can run */
        j->counted = true;
    }   /* else BUG 5: the job counts itself when it starts (pool_thread) */
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
        enum origin_rc rc = origin_load_as(j->ops, j->origin, key, klen, &j->params,
                                          &pool_cancel, &out);
        uint64_t took = now_us() - t0;
        loader_record_latency(took);
        srv_latency_sample(SRV_LAT_LOADER, took / 1000);
        if (rc == ORIGIN_VALUE) {
            st = SF_VALUE;
            data = out.data;
            len = out.len;
            int64_t now = srv_now_ms();
            /* NX: a client's SET made during the load is newer; keep it.
             * Not stored (OOM) still answers the waiters. */
            cache_set(srv.cache, key, klen, out.data, out.len, CACHE_SET_NX,
                      j->ttl_ms ? now + j->ttl_ms : 0, now, NULL, NULL);
            srv_latency_eviction();
        } else {
            st = rc == ORIGIN_NOTFOUND ? SF_NOTFOUND : SF_ERROR;
            /* Out of time: the same answer as a waiter's own timer gives,
             * whichever of the two comes first. */
            if (st == SF_ERROR && origin_now_ms() >= j->params.deadline_ms)
                snprintf(out.err, sizeof(out.err), "%s", LOADER_TIMEOUT_MSG);
        }
    }
    if (st == SF_ERROR) {
        LOADER_COUNT(errors);
        tell_error(j, &out);
    }
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
        /* Drain, then stop: once pending is 0 nothing is queued or running
         * (queued loads end at once: cancelled), so the threads may leave
         * without looking at the queue. */
        pthread_mutex_lock(&p->lock);
        while (p->pending)
            pthread_cond_wait(&p->idle, &p->lock);
        p->stopping = true;
        pthread_cond_broadcast(&p->work);
        pthread_mutex_unlock(&p->lock);
        for (unsigned i = 0; i < p->nthreads; i++)
            pthread_join(p->threads[i], NULL);
        /* The threads are gone: nothing else touches the queue. A load left
         * in it was never run and its clients never answered; with the
         * count above that cannot happen (bug 5 makes it happen). */
        unsigned left = 0;
        for (struct loader_job *j = p->head; j; j = j->next)
            left++;
        if (left)
            srv_log(CFG_LOG_WARNING, "Loader: %u loads were still queued when the loader "
                    "threads stopped: never run, their calls never completed", left);
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
    struct loader_pool *p;
    if (!INJECT(7))
        p = atomic_load_explicit(&pool, memory_order_acquire);
    else   /* BUG 7: the pointer read without acquire, as pool_get's fast path */
        p = atomic_load_explicit(&pool, memory_order_relaxed);
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
