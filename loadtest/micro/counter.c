/*
 * counter: one shared counter bumped by 1 and 2 threads, four ways.
 *
 *   plain    `n++` on a shared long: a data race (undefined behaviour in
 *            C11). The long is volatile only so that -O3 keeps one load,
 *            add and store per increment instead of folding the loop into
 *            one add; two threads then interleave their load/store pairs
 *            and lose updates, which is what the row shows.
 *   atomic   atomic_fetch_add (relaxed: only the total matters): one
 *            `lock xadd`, never loses, but the line ping-pongs between
 *            cores.
 *   mutex    lock, ++, unlock.
 *   percpu   one padded slot per thread, written only by its owner
 *            (relaxed load + store, no RMW), summed on read: mmcache's
 *            per-worker counters (server/srv.h's per-worker stats).
 *
 * plain and percpu run 10x the iterations (they are that much cheaper), so
 * that two threads overlap long enough to collide on a busy box.
 *
 * Prints: variant threads expected got (median over --reps) min_got
 * lost_runs (runs that ended short) ns_per_op (median).
 * Exit 1 if any correct variant (all but plain) loses an update, or if
 * plain loses one on a single thread.
 */
#include <stdatomic.h>

#include "micro.h"

static volatile long plain_n;                 /* the race itself: no synchronisation */
static _Atomic long atomic_n;                 /* atomic: relaxed RMW, total read after join */
static long mutex_n;                          /* guarded by: mutex_lock */
static pthread_mutex_t mutex_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    _Alignas(MICRO_LINE) _Atomic long n;      /* atomic: relaxed; written by its owner only */
} slot[2];

struct arg { long iters; int id; };

static void *run_plain(void *p)
{
    struct arg *a = p;
    for (long i = 0; i < a->iters; i++)
        plain_n++;
    return NULL;
}

static void *run_atomic(void *p)
{
    struct arg *a = p;
    for (long i = 0; i < a->iters; i++)
        atomic_fetch_add_explicit(&atomic_n, 1, memory_order_relaxed);
    return NULL;
}

static void *run_mutex(void *p)
{
    struct arg *a = p;
    for (long i = 0; i < a->iters; i++) {
        pthread_mutex_lock(&mutex_lock);
        mutex_n++;
        pthread_mutex_unlock(&mutex_lock);
    }
    return NULL;
}

static void *run_percpu(void *p)
{
    struct arg *a = p;
    _Atomic long *n = &slot[a->id].n;
    for (long i = 0; i < a->iters; i++)
        atomic_store_explicit(n, atomic_load_explicit(n, memory_order_relaxed) + 1,
                              memory_order_relaxed);
    return NULL;
}

static long read_total(int v)
{
    switch (v) {
    case 0: return plain_n;
    case 1: return atomic_load(&atomic_n);
    case 2: return mutex_n;
    default: {
        long s = 0;
        for (int i = 0; i < 2; i++)
            s += atomic_load_explicit(&slot[i].n, memory_order_relaxed);
        return s;
    }
    }
}

static void reset(void)
{
    plain_n = 0;
    atomic_store(&atomic_n, 0);
    mutex_n = 0;
    for (int i = 0; i < 2; i++)
        atomic_store(&slot[i].n, 0);
}

int main(int argc, char **argv)
{
    static const char *name[] = {"plain", "atomic", "mutex", "percpu"};
    void *(*fn[])(void *) = {run_plain, run_atomic, run_mutex, run_percpu};
    struct micro_opts o;
    int bad = 0;

    micro_opts_parse(argc, argv, &o, 20000000L);
    printf("#variant\tthreads\texpected\tgot\tmin_got\tlost_runs\tns_per_op\tcpu_share\n");
    for (int v = 0; v < 4; v++) {
        for (int th = 1; th <= 2; th++) {
            double ns[99], got[99], share[99], min_got = 0;
            int lost = 0;
#ifdef __SANITIZE_THREAD__
            if (v == 0 && th == 2)
                continue;   /* the race is the point; TSan would stop the run */
#endif
            long iters = o.iters * (v == 0 || v == 3 ? 10 : 1);
            long expected = iters * th;
            for (int r = 0; r < o.reps; r++) {
                struct arg a[2] = {{iters, 0}, {iters, 1}};
                reset();
                ns[r] = (double)micro_run_threads(th, fn[v], a, sizeof(a[0])) / (double)expected;
                share[r] = micro_cpu_share;
                got[r] = (double)read_total(v);
                lost += got[r] != (double)expected;
                min_got = r == 0 || got[r] < min_got ? got[r] : min_got;
                if (got[r] != (double)expected && (v != 0 || th == 1)) {
                    fprintf(stderr, "counter: %s on %d thread(s) lost updates: %ld of %ld\n",
                            name[v], th, (long)got[r], expected);
                    bad = 1;
                }
            }
            printf("%s\t%d\t%ld\t%.0f\t%.0f\t%d/%d\t%.2f\t%.2f\n", name[v], th, expected,
                   micro_median(got, o.reps), min_got, lost, o.reps, micro_median(ns, o.reps),
                   micro_median(share, o.reps));
        }
    }
    return bad;
}
