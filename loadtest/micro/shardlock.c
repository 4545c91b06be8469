/*
 * shardlock: the shard lock's kind under read-heavy (95/5) and balanced
 * (50/50) GET/SET mixes, with 1, 16 and 1024 shards, on 1 and 2 threads.
 *
 * Two rows per setting:
 *   impl=cache  the real cache/ module through its public API (cache.h):
 *               `adaptive` is mmcache's shard lock (PTHREAD_MUTEX_ADAPTIVE_NP,
 *               cache.c); `rwlock` is the same cache created with bug-lab
 *               control 16 selected, which makes every shard a writer-
 *               preferring rwlock that pure GETs share (strops.c get_shared).
 *               A plain (non-adaptive) mutex is not selectable without
 *               changing cache/, so:
 *   impl=model  a faithful model of a shard (a lock around a table of
 *               32-byte values: GET copies one out, SET copies one in) with
 *               all three kinds: mutex, adaptive, rwlock.
 * Keys are uniform over `nkeys` keys (10,000; 1,000 under --smoke, whose
 * set-up would otherwise dominate), all present (every GET hits).
 *
 * Prints: impl kind mix shards threads ops ns_per_op spread_pct waits
 * (ops: of all threads in one run; spread: (max - min) / median of the
 * runs' ns_per_op, the box's noise; waits: the cache's shard_lock_waits,
 * acquisitions whose trylock failed, '-' for the model).
 * Exit 1 if a GET misses or returns the wrong length.
 */
#include <stdatomic.h>

#include "cache.h"
#include "inject.h"
#include "micro.h"

static unsigned nkeys = 10000;   /* immutable once the threads run */
#define VLEN 32
#define NOW 1700000000000LL

enum kind { K_MUTEX, K_ADAPTIVE, K_RWLOCK };
static const char *kind_name[] = {"mutex", "adaptive", "rwlock"};

struct mshard {
    _Alignas(MICRO_LINE) union {
        pthread_mutex_t m;
        pthread_rwlock_t rw;
    } lock;
    char (*val)[VLEN];   /* guarded by: lock */
};

struct bench {
    enum kind kind;
    int write_pct;
    unsigned nshards;
    long iters;
    struct cache *c;            /* NULL: the model */
    struct mshard *ms;
    _Atomic int bad;            /* atomic: relaxed; read after join */
};

struct arg { struct bench *b; uint64_t seed; };

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void keyname(char *k, unsigned i) { snprintf(k, 16, "key:%u", i); }

static void model_op(struct bench *b, unsigned key, int write, char *buf)
{
    struct mshard *s = &b->ms[key & (b->nshards - 1)];
    unsigned slot = key / b->nshards;
    if (b->kind == K_RWLOCK) {
        if (write)
            pthread_rwlock_wrlock(&s->lock.rw);
        else
            pthread_rwlock_rdlock(&s->lock.rw);
    } else {
        pthread_mutex_lock(&s->lock.m);
    }
    if (write)
        memcpy(s->val[slot], buf, VLEN);
    else
        memcpy(buf, s->val[slot], VLEN);
    if (b->kind == K_RWLOCK)
        pthread_rwlock_unlock(&s->lock.rw);
    else
        pthread_mutex_unlock(&s->lock.m);
}

static void *worker(void *p)
{
    struct arg *a = p;
    struct bench *b = a->b;
    struct cache_val out = {0};
    char k[16], v[VLEN];
    uint64_t s = a->seed;

    memset(v, 'v', sizeof(v));
    if (b->c && b->kind == K_RWLOCK)
        inject_enter(INJECT_BIT(16));
    for (long i = 0; i < b->iters; i++) {
        uint64_t r = next(&s);
        unsigned key = (unsigned)(r % nkeys);
        int write = (int)((r >> 32) % 100) < b->write_pct;
        if (!b->c) {
            model_op(b, key, write, v);
            continue;
        }
        keyname(k, key);
        if (write) {
            if (cache_set(b->c, k, strlen(k), v, VLEN, 0, 0, NOW, NULL, NULL) != CACHE_OK)
                atomic_store_explicit(&b->bad, 1, memory_order_relaxed);
        } else if (cache_get(b->c, k, strlen(k), NOW, &out) != CACHE_OK || out.len != VLEN) {
            atomic_store_explicit(&b->bad, 1, memory_order_relaxed);
        }
    }
    free(out.data);
    return NULL;
}

static int setup(struct bench *b, int real)
{
    char k[16], v[VLEN];
    memset(v, 'v', sizeof(v));
    b->c = NULL;
    b->ms = NULL;
    if (real) {
        struct cache_opts o = {.nshards = b->nshards, .seed = 42};
        inject_enter(b->kind == K_RWLOCK ? INJECT_BIT(16) : 0);  /* read at create */
        b->c = cache_create(&o);
        inject_enter(0);
        if (!b->c)
            return -1;
        for (unsigned i = 0; i < nkeys; i++) {
            keyname(k, i);
            if (cache_set(b->c, k, strlen(k), v, VLEN, 0, 0, NOW, NULL, NULL) != CACHE_OK)
                return -1;
        }
        return 0;
    }
    b->ms = aligned_alloc(MICRO_LINE, b->nshards * sizeof(*b->ms));
    if (!b->ms)
        return -1;
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    if (b->kind == K_ADAPTIVE)
        pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
    for (unsigned i = 0; i < b->nshards; i++) {
        if (b->kind == K_RWLOCK)
            pthread_rwlock_init(&b->ms[i].lock.rw, NULL);
        else
            pthread_mutex_init(&b->ms[i].lock.m, &ma);
        b->ms[i].val = calloc(nkeys / b->nshards + 1, VLEN);
        if (!b->ms[i].val)
            return -1;
    }
    pthread_mutexattr_destroy(&ma);
    return 0;
}

static void teardown(struct bench *b)
{
    if (b->c)
        cache_destroy(b->c);
    for (unsigned i = 0; b->ms && i < b->nshards; i++) {
        if (b->kind == K_RWLOCK)
            pthread_rwlock_destroy(&b->ms[i].lock.rw);
        else
            pthread_mutex_destroy(&b->ms[i].lock.m);
        free(b->ms[i].val);
    }
    free(b->ms);
}

int main(int argc, char **argv)
{
    static const unsigned shards[] = {1, 16, 1024};
    static const int wpct[] = {5, 50};
    struct micro_opts o;
    int bad = 0;

    micro_opts_parse(argc, argv, &o, 300000L);
    if (o.smoke)
        nkeys = 1000;
    inject_thread_start();
    printf("#impl\tkind\tmix\tshards\tthreads\tops\tns_per_op\tspread_pct\tcpu_share\twaits\n");
    for (int real = 1; real >= 0; real--)
    for (int kind = real ? K_ADAPTIVE : K_MUTEX; kind <= K_RWLOCK; kind++)
    for (int m = 0; m < 2; m++)
    for (int si = 0; si < 3; si++)
    for (int th = 1; th <= 2; th++) {
        double ns[99], waits[99], share[99];
        for (int r = 0; r < o.reps; r++) {
            struct bench b = {.kind = (enum kind)kind, .write_pct = wpct[m],
                              .nshards = shards[si], .iters = o.iters};
            struct arg a[2] = {{&b, 0x9e3779b97f4a7c15u + (uint64_t)r},
                               {&b, 0xc2b2ae3d27d4eb4fu + (uint64_t)r}};
            if (setup(&b, real) != 0) {
                fprintf(stderr, "shardlock: out of memory\n");
                return 1;
            }
            ns[r] = (double)micro_run_threads(th, worker, a, sizeof(a[0])) /
                    (double)(o.iters * th);
            share[r] = micro_cpu_share;
            waits[r] = 0;
            if (b.c) {
                struct cache_stats st;
                cache_stats(b.c, &st);
                waits[r] = (double)st.lock_waits;
            }
            if (atomic_load(&b.bad)) {
                fprintf(stderr, "shardlock: a GET missed or a SET failed (%s %s)\n",
                        real ? "cache" : "model", kind_name[kind]);
                bad = 1;
            }
            teardown(&b);
        }
        double lo = ns[0], hi = ns[0];
        for (int r = 1; r < o.reps; r++) {
            lo = ns[r] < lo ? ns[r] : lo;
            hi = ns[r] > hi ? ns[r] : hi;
        }
        double med = micro_median(ns, o.reps);
        printf("%s\t%s\t%d/%d\t%u\t%d\t%ld\t%.1f\t%.0f\t%.2f\t", real ? "cache" : "model",
               kind_name[kind], 100 - wpct[m], wpct[m], shards[si], th, o.iters * th, med,
               100 * (hi - lo) / med, micro_median(share, o.reps));
        if (real)
            printf("%.0f\n", micro_median(waits, o.reps));
        else
            printf("-\n");
    }
    return bad;
}
