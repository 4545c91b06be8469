/*
 * hoist: bug 1 of the bug lab ("works on my machine") in a dozen lines.
 * server/net/worker.c srv_workers_wait_stop_seen polls a plain bool that
 * a worker thread sets (INJECT(1)), with the same relaxing spin (x86
 * `pause`, a raw sched_yield syscall every 64 turns: extended inline asm
 * that clobbers no memory, so the compiler may assume the flag does not
 * change). Built twice by CMake, at -O0 (micro_hoist_O0) and -O3, the
 * Release level (micro_hoist_O3); loadtest/micro/run disassembles
 * wait_plain and wait_atomic of both and runs both.
 *
 * Run (`plain` or `atomic`): a second thread sets that flag after 50 ms
 * while main waits for it with wait_plain or wait_atomic; exit 0 when the
 * wait ends. At -O3 the plain wait loads the flag once, before its loop, and never
 * ends: the run script kills it after a bound and reports that.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <pthread.h>
#include <sys/syscall.h>

static bool flag_plain;                 /* the bug: set by another thread, no synchronisation */
static atomic_bool flag_atomic;         /* atomic: release store, acquire load */

static inline void relax(unsigned *turns)
{
#if defined(__x86_64__)
    /* Extended asm with no clobbers, as worker.c writes it. A basic asm,
     * `asm volatile("pause")` with no colons, would be taken to touch all
     * memory: gcc would then reload the flag and hide the bug. */
    __asm__ __volatile__("pause" :::);
    if ((++*turns & 63) == 0) {
        long rc;
        __asm__ __volatile__("syscall" : "=a"(rc) : "0"((long)SYS_sched_yield) : "rcx", "r11");
        (void)rc;
    }
#else
    (void)turns;   /* elsewhere a call would hide the bug: the demo is x86-64's */
#endif
}

__attribute__((noinline)) void wait_plain(void)
{
    unsigned turns = 0;
    while (!flag_plain)
        relax(&turns);
}

__attribute__((noinline)) void wait_atomic(void)
{
    unsigned turns = 0;
    while (!atomic_load_explicit(&flag_atomic, memory_order_acquire))
        relax(&turns);
}

static void *setter(void *p)
{
    bool plain = *(bool *)p;
    nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    if (plain)
        flag_plain = true;
    else
        atomic_store_explicit(&flag_atomic, true, memory_order_release);
    return NULL;
}

/* Usage: micro_hoist_O0|O3 plain|atomic. Exit 0 when the wait ends. */
int main(int argc, char **argv)
{
    pthread_t t;
    bool plain = argc > 1 && argv[1][0] == 'p';
    if (pthread_create(&t, NULL, setter, &plain) != 0)
        return 2;
    if (plain)
        wait_plain();
    else
        wait_atomic();
    printf("wait_%s: saw the flag\n", plain ? "plain" : "atomic");
    pthread_join(t, NULL);
    return 0;
}
