/*
 * Concurrent pushers and blocking poppers on shared lists (meant to run
 * under TSan): pushers LPUSH numbered elements to a few keys; poppers
 * block on 1 to 3 of them with short timeouts (cancel racing serve),
 * sometimes "disconnect" after being served (the elements go back),
 * pop without blocking, move elements between keys with LMOVE and with
 * blocking moves; a thread runs RENAMEs of the lists. Keys live in
 * different shards and, in a second run, all in one.
 *
 * Checks: every element pushed is received exactly once, counting what
 * is left in the lists at the end (none lost, none duplicated), every
 * wait ends (a served wait's wake comes), no wait list is left behind,
 * and the cache's invariants hold (the lost wake-up among them).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "test_util.h"

#define NPUSHERS 2
#define NPOPPERS 3
#define PER_PUSHER 6000
#define NKEYS 4

static const char *const qk[NKEYS] = {"q0", "q1", "q2", "q3"};
static atomic_int pushers_done;
static atomic_uint seen[NPUSHERS][PER_PUSHER];
/* What the run exercised (printed, so a run that raced nothing shows). */
static atomic_ulong n_now, n_served, n_cancelled, n_late, n_gone;

struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool woken;
};

static void on_wake(void *arg)
{
    struct waiter *w = arg;
    pthread_mutex_lock(&w->mu);
    w->woken = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Waits up to ms for the wake; true if it came. */
static bool wait_wake(struct waiter *w, long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (ms % 1000) * 1000000;
    ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000;
    ts.tv_nsec %= 1000000000;
    pthread_mutex_lock(&w->mu);
    while (!w->woken && pthread_cond_timedwait(&w->cv, &w->mu, &ts) == 0)
        ;
    bool ok = w->woken;
    w->woken = false;
    pthread_mutex_unlock(&w->mu);
    return ok;
}

static uint64_t xs(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Records every element of out (after `skip` key records). */
static void count(const struct cache_keys *out, size_t skip)
{
    const char *s;
    size_t pos = 0, len;
    for (size_t i = 0; (s = cache_keys_next(out, &pos, &len)) != NULL; i++) {
        if (i < skip)
            continue;
        unsigned p, q;
        char buf[32];
        assert_true(len < sizeof(buf));
        memcpy(buf, s, len);
        buf[len] = 0;
        assert_int_equal(sscanf(buf, "p%u:%u", &p, &q), 2);
        assert_true(p < NPUSHERS && q < PER_PUSHER);
        atomic_fetch_add(&seen[p][q], 1);
    }
}

static void *pusher(void *arg)
{
    struct cache *c = ((void **)arg)[0];
    unsigned id = (unsigned)(uintptr_t)((void **)arg)[1];
    uint64_t r = 0x1234567ull * (id + 1);
    char v[32];
    for (unsigned i = 0; i < PER_PUSHER; i++) {
        snprintf(v, sizeof(v), "p%u:%u", id, i);
        struct cache_str e = {S(v)};
        uint64_t len;
        assert_int_equal(cache_lpush(c, S(qk[xs(&r) % NKEYS]), CACHE_LIST_HEAD, &e, 1, 0,
                                     1, &len), CACHE_OK);
        if (xs(&r) % 4 == 0) {   /* slow enough that poppers find the lists empty */
            struct timespec ts = {0, 20000};
            nanosleep(&ts, NULL);
        }
    }
    atomic_fetch_add(&pushers_done, 1);
    return NULL;
}

static bool lists_empty(struct cache *c)
{
    for (int k = 0; k < NKEYS; k++) {
        uint64_t n;
        cache_card(c, CACHE_TYPE_LIST, S(qk[k]), 1, &n);
        if (n)
            return false;
    }
    return true;
}

static void *popper(void *arg)
{
    struct cache *c = ((void **)arg)[0];
    uint64_t r = 0xABCDEFull * ((uintptr_t)((void **)arg)[1] + 7);
    struct waiter w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    int idle = 0;

    while (idle < 50) {
        struct cache_str keys[3];
        size_t nk = 1 + xs(&r) % 3;
        for (size_t i = 0; i < nk; i++) {
            keys[i].s = qk[xs(&r) % NKEYS];
            keys[i].len = 2;
        }
        unsigned op = (unsigned)(xs(&r) % 10);
        const char *dst = op == 9 ? qk[xs(&r) % NKEYS] : NULL;
        struct cache_bpop_req req = {.keys = keys, .nkeys = dst ? 1 : nk,
                                     .from = CACHE_LIST_TAIL, .count = 1 + xs(&r) % 2,
                                     .dst = dst, .dlen = 2, .to = CACHE_LIST_HEAD,
                                     .wake = op >= 2 ? on_wake : NULL, .arg = &w};
        struct cache_keys out = {0};
        struct cache_bpop *h;
        int rc = cache_bpop(c, &req, 1, &out, &h);
        bool got = rc == CACHE_OK;
        if (got)
            atomic_fetch_add(&n_now, 1);
        assert_true(rc == CACHE_OK || rc == CACHE_NOTFOUND || rc == CACHE_BLOCKED);
        if (rc == CACHE_OK && !dst)
            count(&out, 1);
        if (rc == CACHE_BLOCKED) {
            bool woke = wait_wake(&w, 1 + (long)(xs(&r) % 2));
            if (!woke && cache_bpop_cancel(c, h) == CACHE_OK) {
                h = NULL;
                atomic_fetch_add(&n_cancelled, 1);
            } else if (!woke) {
                assert_true(wait_wake(&w, 10000));   /* served: the wake comes */
                atomic_fetch_add(&n_late, 1);
            }
            if (h) {
                got = true;
                int gone = xs(&r) % 20 == 0;   /* a client gone before its reply */
                atomic_fetch_add(gone ? &n_gone : &n_served, 1);
                cache_keys_free(&out);
                memset(&out, 0, sizeof(out));
                assert_int_equal(cache_bpop_take(c, h, gone, &out, 1), CACHE_OK);
                if (!gone && !dst)
                    count(&out, 1);
            }
        }
        if (got)
            idle = 0;
        else if (atomic_load(&pushers_done) == NPUSHERS && lists_empty(c))
            idle++;
        cache_keys_free(&out);
    }
    return NULL;
}

static void *renamer(void *arg)
{
    struct cache *c = arg;
    uint64_t r = 99;
    while (atomic_load(&pushers_done) < NPUSHERS) {
        int a = (int)(xs(&r) % NKEYS), b = (int)(xs(&r) % NKEYS);
        if (a != b)
            (void)cache_rename(c, S(qk[a]), S(qk[b]), 1, 1);   /* RENAMENX: nothing lost */
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void run(unsigned nshards)
{
    struct cache *c = mk(nshards, 0, CACHE_ALLKEYS_LRU);
    pthread_t pu[NPUSHERS], po[NPOPPERS], rn;
    void *pa[NPUSHERS][2], *oa[NPOPPERS][2];

    memset(seen, 0, sizeof(seen));
    atomic_store(&n_now, 0);
    atomic_store(&n_served, 0);
    atomic_store(&n_gone, 0);
    atomic_store(&n_cancelled, 0);
    atomic_store(&n_late, 0);
    atomic_store(&pushers_done, 0);
    struct cache_type_limits l;
    cache_type_limits_default(&l);
    l.list_max_listpack_size = 4;   /* many nodes */
    cache_set_type_limits(c, &l);
    for (int i = 0; i < NPOPPERS; i++) {
        oa[i][0] = c;
        oa[i][1] = (void *)(uintptr_t)i;
        pthread_create(&po[i], NULL, popper, oa[i]);
    }
    pthread_create(&rn, NULL, renamer, c);
    for (int i = 0; i < NPUSHERS; i++) {
        pa[i][0] = c;
        pa[i][1] = (void *)(uintptr_t)i;
        pthread_create(&pu[i], NULL, pusher, pa[i]);
    }
    for (int i = 0; i < NPUSHERS; i++)
        pthread_join(pu[i], NULL);
    pthread_join(rn, NULL);
    for (int i = 0; i < NPOPPERS; i++)
        pthread_join(po[i], NULL);
    /* What the poppers left (none, normally): drain it. */
    for (int k = 0; k < NKEYS; k++) {
        struct cache_keys out = {0};
        if (cache_lpop(c, S(qk[k]), CACHE_LIST_HEAD, UINT64_MAX, 1, &out) == CACHE_OK)
            count(&out, 0);
        cache_keys_free(&out);
    }
    unsigned lost = 0, dup = 0;
    for (int p = 0; p < NPUSHERS; p++)
        for (int q = 0; q < PER_PUSHER; q++) {
            unsigned n = atomic_load(&seen[p][q]);
            lost += n == 0;
            dup += n > 1;
        }
    if (lost || dup)
        fail_msg("%u elements lost, %u received more than once", lost, dup);
    fprintf(stderr, "%u shards: popped at once %lu, served blocked %lu (gone %lu), "
            "cancelled %lu, cancel lost to a serve %lu\n", nshards, atomic_load(&n_now),
            atomic_load(&n_served), atomic_load(&n_gone), atomic_load(&n_cancelled),
            atomic_load(&n_late));
    assert_int_equal(cache_blocked_keys(c), 0);
    ASSERT_INV(c);
    cache_destroy(c);
}

static void test_spread(void **st) { run(8); }
static void test_one_shard(void **st) { run(1); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spread),
        cmocka_unit_test(test_one_shard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
