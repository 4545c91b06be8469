/*
 * The snapshot lifecycle (config/snapshot.c): a reader holding snapshot N
 * while N+1 and N+2 are published still reads N intact, N is freed only
 * after that reader leaves, and many readers racing many publishes always
 * see whole snapshots with generations that never go back. Freed
 * snapshots are counted through cfg_free_hook; ASan checks that nothing
 * is read after free and that nothing leaks, TSan that the annotated
 * RCU ordering covers every access.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

#define MAX_FREED 8192

/* guarded by: freed_lock (the hook runs on liburcu's call_rcu thread) */
static pthread_mutex_t freed_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t freed[MAX_FREED];
static size_t nfreed;

static void on_free(const struct cfg *c)
{
    pthread_mutex_lock(&freed_lock);
    if (nfreed < MAX_FREED)
        freed[nfreed] = c->generation;
    nfreed++;
    pthread_mutex_unlock(&freed_lock);
}

static bool was_freed(uint64_t gen)
{
    bool hit = false;
    pthread_mutex_lock(&freed_lock);
    for (size_t i = 0; i < nfreed && i < MAX_FREED; i++)
        hit |= freed[i] == gen;
    pthread_mutex_unlock(&freed_lock);
    return hit;
}

static size_t count_freed(void)
{
    pthread_mutex_lock(&freed_lock);
    size_t n = nfreed;
    pthread_mutex_unlock(&freed_lock);
    return n;
}

/* A snapshot whose fields all derive from k, so that a torn or freed one
 * shows: timeout = k, maxclients = 1000 + k, maxmemory = 2^40 + k. */
static void make(struct cfg *c, unsigned k)
{
    cfg_defaults(c);
    c->timeout = k;
    c->maxclients = 1000 + k;
    c->maxmemory = (1ULL << 40) + k;
    snprintf(c->bind, sizeof(c->bind), "10.0.%u.%u", (k >> 8) & 255, k & 255);
}

static bool whole(const struct cfg *c)
{
    char bind[64];
    unsigned k = c->timeout;
    snprintf(bind, sizeof(bind), "10.0.%u.%u", (k >> 8) & 255, k & 255);
    return c->maxclients == 1000 + k && c->maxmemory == (1ULL << 40) + k &&
           strcmp(c->bind, bind) == 0;
}

/* ---- one reader across two publishes ------------------------------------ */

/* guarded by: step_lock; the reader and the test take turns */
static pthread_mutex_t step_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t step_cond = PTHREAD_COND_INITIALIZER;
static int step;
static bool reader_intact;
static uint64_t reader_gen;

static void wait_step(int want)
{
    pthread_mutex_lock(&step_lock);
    while (step < want)
        pthread_cond_wait(&step_cond, &step_lock);
    pthread_mutex_unlock(&step_lock);
}

static void set_step(int s)
{
    pthread_mutex_lock(&step_lock);
    step = s;
    pthread_cond_broadcast(&step_cond);
    pthread_mutex_unlock(&step_lock);
}

static void *slow_reader(void *arg)
{
    (void)arg;
    cfg_thread_register();
    const struct cfg *c = cfg_read_lock();
    struct cfg copy = *c;
    pthread_mutex_lock(&step_lock);
    reader_gen = c->generation;
    pthread_mutex_unlock(&step_lock);
    set_step(1);                    /* holding N */
    wait_step(2);                   /* N+1, N+2 published meanwhile */
    bool intact = memcmp(&copy, c, sizeof(copy)) == 0 && whole(c);
    pthread_mutex_lock(&step_lock);
    reader_intact = intact;
    pthread_mutex_unlock(&step_lock);
    cfg_read_unlock(c);
    cfg_thread_unregister();
    return NULL;
}

static void test_reader_keeps_its_snapshot(void **state)
{
    (void)state;
    struct cfg c;
    pthread_t t;

    make(&c, 1);
    assert_int_equal(cfg_publish(&c), 0);
    const struct cfg *cur = cfg_read_lock();
    uint64_t n = cur->generation;
    cfg_read_unlock(cur);
    cfg_reclaim_barrier();
    size_t freed_before = count_freed();
    uint64_t live_before = cfg_snapshots_live();

    assert_int_equal(pthread_create(&t, NULL, slow_reader, NULL), 0);
    wait_step(1);
    make(&c, 2);
    assert_int_equal(cfg_publish(&c), 0);   /* N+1 */
    make(&c, 3);
    assert_int_equal(cfg_publish(&c), 0);   /* N+2 */

    /* Give the reclaimer every chance to (wrongly) free N or N+1. */
    struct timespec pause = {0, 300 * 1000 * 1000};
    nanosleep(&pause, NULL);
    assert_false(was_freed(n));
    assert_false(was_freed(n + 1));
    assert_int_equal(count_freed(), freed_before);
    assert_int_equal(cfg_snapshots_live(), live_before + 2);

    cur = cfg_read_lock();                   /* a new reader sees N+2 */
    assert_int_equal(cur->generation, n + 2);
    assert_int_equal(cur->timeout, 3);
    cfg_read_unlock(cur);

    set_step(2);                             /* the reader checks N, leaves */
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_true(reader_intact);
    assert_int_equal(reader_gen, n);

    cfg_reclaim_barrier();                   /* a grace period later */
    assert_true(was_freed(n));
    assert_true(was_freed(n + 1));
    assert_false(was_freed(n + 2));
    assert_int_equal(cfg_snapshots_live(), live_before);
}

/* ---- many readers, many publishes --------------------------------------- */

#define READERS 3
#define PUBLISHES 3000

static _Atomic int stop_readers;   /* atomic: relaxed; a flag, orders nothing */

struct reader_result {
    uint64_t reads, torn, backwards;
};

static void *busy_reader(void *arg)
{
    struct reader_result *r = arg;
    uint64_t last = 0;
    cfg_thread_register();
    while (!atomic_load_explicit(&stop_readers, memory_order_relaxed)) {
        const struct cfg *c = cfg_read_lock();
        r->reads++;
        if (!whole(c))
            r->torn++;
        if (c->generation < last)
            r->backwards++;
        last = c->generation;
        /* hold it a little, as a request would */
        for (volatile int i = 0; i < 200; i++)
            ;
        if (!whole(c))
            r->torn++;
        cfg_read_unlock(c);
    }
    cfg_thread_unregister();
    return NULL;
}

static void test_readers_race_publishes(void **state)
{
    (void)state;
    pthread_t t[READERS];
    struct reader_result res[READERS];
    struct cfg c;

    cfg_reclaim_barrier();
    size_t freed_before = count_freed();
    uint64_t live_before = cfg_snapshots_live();
    memset(res, 0, sizeof(res));
    atomic_store(&stop_readers, 0);
    for (int i = 0; i < READERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, busy_reader, &res[i]), 0);
    for (unsigned k = 0; k < PUBLISHES; k++) {
        make(&c, 10 + k);
        assert_int_equal(cfg_publish(&c), 0);
    }
    atomic_store(&stop_readers, 1);
    for (int i = 0; i < READERS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_true(res[i].reads > 0);
        assert_int_equal(res[i].torn, 0);
        assert_int_equal(res[i].backwards, 0);
    }
    cfg_reclaim_barrier();
    assert_int_equal(count_freed(), freed_before + PUBLISHES);
    assert_int_equal(cfg_snapshots_live(), live_before);
}

/* ---- the log level follows the snapshot ---------------------------------- */

static void test_loglevel_follows(void **state)
{
    (void)state;
    struct cfg c;
    make(&c, 7);
    c.loglevel = CFG_LOG_WARNING;
    assert_int_equal(cfg_publish(&c), 0);
    assert_int_equal(cfg_loglevel_now(), CFG_LOG_WARNING);
    c.loglevel = CFG_LOG_DEBUG;
    assert_int_equal(cfg_publish(&c), 0);
    assert_int_equal(cfg_loglevel_now(), CFG_LOG_DEBUG);
}

int main(void)
{
    struct cfg c;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_keeps_its_snapshot),
        cmocka_unit_test(test_readers_race_publishes),
        cmocka_unit_test(test_loglevel_follows),
    };

    cfg_free_hook = on_free;
    cfg_thread_register();
    make(&c, 0);
    if (cfg_publish_initial(&c))
        return 1;
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    cfg_reclaim_barrier();
    cfg_snapshot_shutdown();
    cfg_thread_unregister();
    return rc;
}
