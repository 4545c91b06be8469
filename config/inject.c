/* inject: the bug-lab switch's per-thread selection and tried counters. */
#include "inject.h"

#include <sched.h>
#include <time.h>

_Thread_local uint32_t inject__mask;
_Atomic uint64_t inject__tried[INJECT_MAX + 1];

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
    return atomic_load_explicit(&inject__tried[id], memory_order_relaxed);
}

void inject_tried_reset(void)
{
    for (int i = 0; i <= INJECT_MAX; i++)
        atomic_store_explicit(&inject__tried[i], 0, memory_order_relaxed);
}
