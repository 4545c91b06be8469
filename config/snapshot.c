/*
 * The published snapshot: RCU with liburcu's memb flavour.
 *
 * Readers: urcu_memb_read_lock() + an acquire load of `current`; the
 * snapshot they get is never written again and is not freed until they
 * call cfg_read_unlock(). The read side costs a per-thread counter update
 * and compiler barriers: the flavour's writer uses membarrier(2) to make
 * readers' accesses visible instead of fences on every read.
 *
 * Writer: build a complete struct, publish it with a release store, hand
 * the old one to call_rcu(); liburcu's call_rcu thread frees it after a
 * grace period, i.e. once every read-side section that began before the
 * swap has ended. Publishing never waits for readers, so a worker can run
 * CONFIG SET on its own loop. Why memb and not QSBR: libuv offers no hook
 * between the poll and the I/O callbacks it runs, so a worker could not go
 * offline while it sleeps in epoll_wait; explicit sections also make the
 * extent of "one snapshot per request" visible in the code. docs/config.md.
 *
 * ThreadSanitizer cannot see the ordering liburcu provides (membarrier
 * and the library's own uninstrumented code), so TSan builds state it:
 * every reader releases on the snapshot's address when it leaves, the
 * retiring writer releases too, and the reclaim callback acquires before
 * freeing. These annotations compile to nothing in other builds.
 */
#include "config.h"
#include "inject.h"
#include "snapshot_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#include <urcu/urcu-memb.h>

#if defined(__SANITIZE_THREAD__)
#define CFG_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CFG_TSAN 1
#endif
#endif
#ifdef CFG_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define TSAN_ACQUIRE(p) __tsan_acquire((void *)(p))
#define TSAN_RELEASE(p) __tsan_release((void *)(p))
/* liburcu is not instrumented, but TSan still sees the allocations it
 * makes and frees on its call_rcu thread, ordered by its own (invisible)
 * queue and futex: ignore what that library does itself. Our callback's
 * accesses stay checked. TSan reads this hook at start-up. */
const char *__tsan_default_suppressions(void);
const char *__tsan_default_suppressions(void)
{
    return "called_from_lib:liburcu-memb.so\n"
           "called_from_lib:liburcu-common.so\n";
}
#else
#define TSAN_ACQUIRE(p) ((void)(p))
#define TSAN_RELEASE(p) ((void)(p))
#endif

/* A snapshot as allocated: the public struct plus the RCU bookkeeping. */
struct snap {
    struct cfg cfg;                /* first: readers get &snap->cfg */
    struct rcu_head rcu;           /* owned by liburcu once retired */
    /* Counted down once this snapshot is freed, or NULL. Owned by the
     * publisher that replaces it (written before it is retired), then read
     * by whoever frees it: ordered by call_rcu like the free itself. */
    struct cfg__latch *freed;
};

/* rcu: written by cfg_publish under update_lock with a release store
 * (pairs with the acquire in cfg_read_lock); freed after a grace period. */
static _Atomic(struct snap *) current;
/* lock order: 0 (config updates; held while the apply hook takes cache
 * shard locks, never taken under any other lock). Serialises publishers so
 * that generations and apply hooks run in order. */
static pthread_mutex_t update_lock = PTHREAD_MUTEX_INITIALIZER;
static cfg_apply_fn *apply_hook;   /* guarded by: update_lock */
static void *apply_arg;            /* guarded by: update_lock */
/* atomic: relaxed; a count for tests and INFO, orders nothing */
static _Atomic uint64_t nlive;
/* atomic: relaxed; loggers on any thread read it, cfg_publish writes it */
static _Atomic int loglevel = CFG_LOG_NOTICE;

void (*cfg_free_hook)(const struct cfg *c);   /* set by tests before any publish */

void cfg_thread_register(void) { urcu_memb_register_thread(); }
void cfg_thread_unregister(void) { urcu_memb_unregister_thread(); }

const struct cfg *cfg_read_lock(void)
{
    urcu_memb_read_lock();
    return &atomic_load_explicit(&current, memory_order_acquire)->cfg;
}

void cfg_read_unlock(const struct cfg *c)
{
    TSAN_RELEASE(c);   /* pairs with TSAN_ACQUIRE in reclaim() */
    urcu_memb_read_unlock();
}

enum cfg_loglevel cfg_loglevel_now(void)
{
    return (enum cfg_loglevel)atomic_load_explicit(&loglevel, memory_order_relaxed);
}

uint64_t cfg_snapshots_live(void)
{
    return atomic_load_explicit(&nlive, memory_order_relaxed);
}

static struct snap *snap_alloc(void)
{
    struct snap *s = malloc(sizeof(*s));
    if (s)
        atomic_fetch_add_explicit(&nlive, 1, memory_order_relaxed);
    return s;
}

static void snap_fill(struct snap *s, const struct cfg *c, uint64_t generation)
{
    s->cfg = *c;
    s->cfg.generation = generation;
    s->freed = NULL;
}

static struct snap *snap_new(const struct cfg *c, uint64_t generation)
{
    struct snap *s = snap_alloc();
    if (s)
        snap_fill(s, c, generation);
    return s;
}

static void snap_free(struct snap *s)
{
    struct cfg__latch *freed = s->freed;
    if (cfg_free_hook)
        cfg_free_hook(&s->cfg);
    atomic_fetch_sub_explicit(&nlive, 1, memory_order_relaxed);
    free(s);
    if (freed)
        cfg__latch_count_down(freed);
}

/* call_rcu callback: a grace period has passed since `s` was retired. */
static void reclaim(struct rcu_head *head)
{
    struct snap *s = caa_container_of(head, struct snap, rcu);
    TSAN_ACQUIRE(&s->cfg);   /* pairs with the releases of readers and retire */
    snap_free(s);
}

int cfg_publish_initial(const struct cfg *c)
{
    struct snap *s = snap_new(c, 1);
    if (!s)
        return -ENOMEM;
    atomic_store_explicit(&loglevel, (int)c->loglevel, memory_order_relaxed);
    /* release: pairs with the acquire in cfg_read_lock (thread creation
     * orders it too; the pair keeps the rule uniform) */
    atomic_store_explicit(&current, s, memory_order_release);
    return 0;
}

void cfg_set_apply_hook(cfg_apply_fn *fn, void *arg)
{
    pthread_mutex_lock(&update_lock);
    apply_hook = fn;
    apply_arg = arg;
    pthread_mutex_unlock(&update_lock);
}

/* How long BUG 11 "waits for the readers" before it frees a replaced
 * snapshot: a guess, as such sleeps are ("a request takes microseconds"). */
#define BUG11_SLEEP_US 1000

/*
 * Both sites below run under the selection of the unit of work that
 * publishes (inject_enter: the CONFIG SET request's snapshot, or the
 * reload's, config/reload.c), like every other site: CONFIG SET
 * inject-bug 9 publishes correctly, and the publishes after it take the
 * bugged path.
 */
int cfg__publish(const struct cfg *next, struct cfg__latch *freed)
{
    pthread_mutex_lock(&update_lock);
    struct snap *old = atomic_load_explicit(&current, memory_order_relaxed);
    uint64_t generation = old->cfg.generation + 1;
    struct snap *s;
    if (!INJECT(9)) {
        s = snap_new(next, generation);
        if (!s)
            goto out_nomem;
        /* release: every field of *s is written before the pointer is
         * seen; pairs with the acquire in cfg_read_lock. */
        atomic_store_explicit(&current, s, memory_order_release);
    } else {
        /* BUG 9 (pointer publication): the pointer is published with a
         * plain store, which orders nothing: the fields may become visible
         * after it, and a reader that loads it reads an allocation still
         * holding what malloc returned (zeros, or an older freed snapshot)
         * or half the copy. gcc -O3 emits the pointer store before the
         * copy of the fields here (the plain store may move: checked in
         * the disassembly of the Release build); the amplified form makes
         * that order explicit and yields between the two. */
        s = snap_alloc();
        if (!s)
            goto out_nomem;
        if (INJECT_AMPLIFY()) {
            *(struct snap **)&current = s;   /* plain store, fields not written yet */
            inject_window();
            snap_fill(s, next, generation);
        } else {
            snap_fill(s, next, generation);
            *(struct snap **)&current = s;   /* plain store */
        }
    }
    atomic_store_explicit(&loglevel, (int)s->cfg.loglevel, memory_order_relaxed);
    if (apply_hook)
        apply_hook(&s->cfg, &old->cfg, apply_arg);
    pthread_mutex_unlock(&update_lock);
    if (freed)
        cfg__latch_arm(freed, 1);
    old->freed = freed;
    if (!INJECT(11)) {
        /* Readers that loaded `old` before the swap may still use it:
         * free it only after a grace period. */
        TSAN_RELEASE(&old->cfg);
        urcu_memb_call_rcu(&old->rcu, reclaim);
    } else {
        /* BUG 11 (sleep as synchronisation): "every reader is surely done
         * after a millisecond". Nothing says so: a reader preempted inside
         * its section, or one formatting a long reply, still holds `old`,
         * and reads freed memory (or the next snapshot, allocated where
         * this one was). Only a grace period knows when the last reader
         * has left. */
        usleep(BUG11_SLEEP_US);
        snap_free(old);
    }
    return 0;
out_nomem:
    pthread_mutex_unlock(&update_lock);
    return -ENOMEM;
}

int cfg_publish(const struct cfg *next)
{
    return cfg__publish(next, NULL);
}

/* ---- the latch (snapshot_int.h) -------------------------------------------- */

void cfg__latch_arm(struct cfg__latch *l, unsigned count)
{
    pthread_mutex_lock(&l->lock);
    l->count = count;
    pthread_mutex_unlock(&l->lock);
}

void cfg__latch_count_down(struct cfg__latch *l)
{
    pthread_mutex_lock(&l->lock);
    if (l->count > 0 && --l->count == 0)
        pthread_cond_broadcast(&l->zero);
    pthread_mutex_unlock(&l->lock);
}

void cfg__latch_wait(struct cfg__latch *l)
{
    pthread_mutex_lock(&l->lock);
    while (l->count > 0)
        pthread_cond_wait(&l->zero, &l->lock);
    pthread_mutex_unlock(&l->lock);
}

void cfg_reclaim_barrier(void)
{
    urcu_memb_barrier();
}

void cfg_snapshot_shutdown(void)
{
    struct snap *s = atomic_exchange_explicit(&current, NULL, memory_order_acq_rel);
    if (s)
        snap_free(s);
}
