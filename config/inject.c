/* inject: the bug-lab switch's per-thread selection and tried counters. */
#include "inject.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>

_Thread_local uint32_t inject__mask INJECT__TLS;
_Thread_local struct inject__counts inject__own INJECT__TLS;

/* lock order: leaf. Guards the list of listed threads' counts, what exited
 * threads counted, and the baseline CONFIG RESETSTAT keeps (the owners
 * never reset their own). */
static pthread_mutex_t counts_lock = PTHREAD_MUTEX_INITIALIZER;
static struct inject__counts *counts_head;      /* guarded by: counts_lock */
static uint64_t counts_retired[INJECT_MAX + 1];  /* guarded by: counts_lock */
static uint64_t counts_base[INJECT_MAX + 1];     /* guarded by: counts_lock */
static pthread_key_t counts_key;                 /* immutable after counts_once */
static pthread_once_t counts_once = PTHREAD_ONCE_INIT;

/* Thread exit: its counts move to the retired total, its block (freed
 * with the thread's TLS) leaves the list. */
static void counts_exit(void *arg)
{
    struct inject__counts *c = arg;
    pthread_mutex_lock(&counts_lock);
    for (struct inject__counts **p = &counts_head; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    for (int i = 0; i <= INJECT_MAX; i++)
        counts_retired[i] += atomic_load_explicit(&c->n[i], memory_order_relaxed);
    pthread_mutex_unlock(&counts_lock);
}

static void counts_init(void)
{
    pthread_key_create(&counts_key, counts_exit);
}

void inject__register(void)
{
    pthread_once(&counts_once, counts_init);
    inject__own.listed = true;
    pthread_mutex_lock(&counts_lock);
    inject__own.next = counts_head;
    counts_head = &inject__own;
    pthread_mutex_unlock(&counts_lock);
    pthread_setspecific(counts_key, &inject__own);
}

static uint64_t sum_locked(int id)
{
    uint64_t t = counts_retired[id];
    for (struct inject__counts *c = counts_head; c; c = c->next)
        t += atomic_load_explicit(&c->n[id], memory_order_relaxed);
    return t;
}

void inject_window(void)
{
    if (INJECT_AMPLIFY())
        sched_yield();
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void inject_spin(unsigned ns)
{
    uint64_t end = now_ns() + ns;
    while (now_ns() < end) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
}

uint64_t inject_tried(int id)
{
    if (id < 1 || id > INJECT_MAX)
        return 0;
    pthread_mutex_lock(&counts_lock);
    /* Each owner's count only grows (per-location coherence): a later sum
     * is at or above the baseline taken from an earlier one. */
    uint64_t t = sum_locked(id) - counts_base[id];
    pthread_mutex_unlock(&counts_lock);
    return t;
}

uint64_t inject_tried_total(int id)
{
    if (id < 1 || id > INJECT_MAX)
        return 0;
    pthread_mutex_lock(&counts_lock);
    uint64_t t = sum_locked(id);
    pthread_mutex_unlock(&counts_lock);
    return t;
}

void inject_tried_reset(void)
{
    pthread_mutex_lock(&counts_lock);
    for (int i = 0; i <= INJECT_MAX; i++)
        counts_base[i] = sum_locked(i);
    pthread_mutex_unlock(&counts_lock);
}
