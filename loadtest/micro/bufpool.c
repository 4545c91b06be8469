/*
 * bufpool: a request buffer taken from a per-thread pool vs a fresh
 * malloc'd one per request, on 1 and 2 threads.
 *
 * One "request": take a buffer able to hold the request (sizes cycle
 * through 64 B .. 16 KB, most small, like RESP commands), write the
 * request's bytes into it, read them back (the parse), give it back.
 *   malloc  malloc(size) + free: the allocator of this build (MICRO_ALLOC:
 *           jemalloc in a normal build, as the server links it).
 *   pool    a per-thread LIFO of 16 KB buffers: no allocator call once warm.
 *
 * Prints: variant threads allocator ns_per_req allocs_per_req (median over
 * --reps). Exit 1 if a buffer came back with the wrong bytes.
 */
#include "micro.h"

#ifndef MICRO_ALLOC
#define MICRO_ALLOC "libc"
#endif

#define BUFSZ 16384
#define POOLMAX 8

static const size_t sizes[8] = {64, 64, 128, 256, 64, 512, 4096, 16384};

struct pool {               /* owned by: its thread */
    char *free[POOLMAX];
    int n;
    long allocs;            /* allocator calls made (misses) */
};

struct arg { int pooled; long iters; long allocs; int bad; };

static char *take(struct pool *p, size_t sz, int pooled)
{
    (void)sz;
    if (pooled && p->n > 0)
        return p->free[--p->n];
    p->allocs++;
    return malloc(pooled ? BUFSZ : sz);
}

static void give(struct pool *p, char *b, int pooled)
{
    if (pooled && p->n < POOLMAX) {
        p->free[p->n++] = b;
        return;
    }
    free(b);
}

static void *run(void *v)
{
    struct arg *a = v;
    struct pool p = {.n = 0};
    unsigned sum = 0;
    for (long i = 0; i < a->iters; i++) {
        size_t sz = sizes[i & 7];
        char *b = take(&p, sz, a->pooled);
        if (!b) {
            a->bad = 1;
            break;
        }
        size_t n = sz < 256 ? sz : 256;   /* the bytes of the request */
        memset(b, (int)(i & 0x7f), n);
        b[sz - 1] = 1;
        for (size_t j = 0; j < n; j += 16)
            sum += (unsigned char)b[j];
        if ((unsigned char)b[0] != (i & 0x7f))
            a->bad = 1;
        give(&p, b, a->pooled);
    }
    while (p.n > 0)
        free(p.free[--p.n]);
    a->allocs = p.allocs;
    __asm__ __volatile__("" : : "r"(sum));   /* keep the reads */
    return NULL;
}

int main(int argc, char **argv)
{
    struct micro_opts o;
    int bad = 0;

    micro_opts_parse(argc, argv, &o, 10000000L);
    printf("#variant\tthreads\tallocator\tns_per_req\tallocs_per_req\tcpu_share\n");
    for (int pooled = 0; pooled < 2; pooled++) {
        for (int th = 1; th <= 2; th++) {
            double ns[99], al[99], share[99];
            for (int r = 0; r < o.reps; r++) {
                struct arg a[2] = {{pooled, o.iters, 0, 0}, {pooled, o.iters, 0, 0}};
                ns[r] = (double)micro_run_threads(th, run, a, sizeof(a[0])) /
                        (double)(o.iters * th);
                share[r] = micro_cpu_share;
                al[r] = 0;
                for (int i = 0; i < th; i++) {
                    al[r] += (double)a[i].allocs / (double)(o.iters * th);
                    bad |= a[i].bad;
                }
            }
            printf("%s\t%d\t%s\t%.1f\t%.4f\t%.2f\n", pooled ? "pool" : "malloc", th,
                   MICRO_ALLOC, micro_median(ns, o.reps), micro_median(al, o.reps),
                   micro_median(share, o.reps));
        }
    }
    if (bad)
        fprintf(stderr, "bufpool: a buffer held the wrong bytes\n");
    return bad;
}
