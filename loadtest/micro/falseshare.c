/*
 * falseshare: per-thread counters, each written only by its own thread,
 * placed next to each other (one cache line holds both) or padded to a
 * line each. No data is shared, yet on 2 threads the adjacent pair makes
 * the line bounce between the cores on every store: false sharing.
 *
 * The increment is a relaxed load + store of the owner's own counter (no
 * RMW: it has one writer), as mmcache's per-worker counters do.
 *
 * Prints: layout threads ns_per_op (median over --reps). Exit 1 if a
 * counter ends wrong (it cannot: each has one writer).
 */
#include <stdatomic.h>

#include "micro.h"

struct adjacent { _Atomic long n[2]; };                 /* 16 bytes: one line */
struct padded { struct { _Alignas(MICRO_LINE) _Atomic long n; } s[2]; };

static _Alignas(MICRO_LINE) struct adjacent adj;       /* atomic: relaxed, one writer per counter */
static struct padded pad;                               /* atomic: relaxed, one writer per counter */

struct arg { _Atomic long *n; long iters; };

static void *bump(void *p)
{
    struct arg *a = p;
    for (long i = 0; i < a->iters; i++)
        atomic_store_explicit(a->n, atomic_load_explicit(a->n, memory_order_relaxed) + 1,
                              memory_order_relaxed);
    return NULL;
}

int main(int argc, char **argv)
{
    struct micro_opts o;
    int bad = 0;

    micro_opts_parse(argc, argv, &o, 50000000L);
    printf("#layout\tthreads\tns_per_op\tcpu_share\n");
    for (int layout = 0; layout < 2; layout++) {
        for (int th = 1; th <= 2; th++) {
            double ns[99], share[99];
            for (int r = 0; r < o.reps; r++) {
                _Atomic long *n[2] = {layout ? &pad.s[0].n : &adj.n[0],
                                      layout ? &pad.s[1].n : &adj.n[1]};
                struct arg a[2] = {{n[0], o.iters}, {n[1], o.iters}};
                atomic_store(n[0], 0);
                atomic_store(n[1], 0);
                /* ns per increment of one thread: 2 threads that did not
                 * disturb each other would show the 1-thread figure */
                ns[r] = (double)micro_run_threads(th, bump, a, sizeof(a[0])) / (double)o.iters;
                share[r] = micro_cpu_share;
                for (int i = 0; i < th; i++)
                    if (atomic_load(n[i]) != o.iters)
                        bad = 1;
            }
            printf("%s\t%d\t%.2f\t%.2f\n", layout ? "padded" : "adjacent", th,
                   micro_median(ns, o.reps), micro_median(share, o.reps));
        }
    }
    if (bad)
        fprintf(stderr, "falseshare: a counter ended wrong\n");
    return bad;
}
