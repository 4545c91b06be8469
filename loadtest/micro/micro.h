/*
 * micro.h: what the hands-on micro-benchmarks share (loadtest/micro/,
 * docs/hands-on.md): options, a clock, threads started together, and the
 * median of repeated runs.
 *
 * Each benchmark is one binary that answers one question, runs a bounded
 * number of iterations, and prints its results as tab-separated rows under
 * a '#'-prefixed header, which loadtest/micro/run turns into the page's
 * tables and plots. `--smoke` runs tiny counts and makes the binary's
 * correctness checks the exit status (the CTest entries); `--reps N` is
 * how many runs each median is taken over; `--iters N` scales the work.
 */
#ifndef MMCACHE_MICRO_H
#define MMCACHE_MICRO_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MICRO_LINE 64   /* x86-64's cache line, the unit of false sharing */

struct micro_opts {
    int smoke;      /* tiny counts; checks decide the exit status */
    long iters;     /* per thread, per run */
    int reps;       /* runs per median */
};

static inline void micro_usage(const char *prog, long def_iters)
{
    fprintf(stderr, "usage: %s [--smoke] [--iters N (%ld)] [--reps N (5)]\n", prog, def_iters);
    exit(2);
}

/* Defaults: def_iters, 5 repetitions; --smoke: iters/1000 (at least
 * 1000), 1 repetition. */
static inline void micro_opts_parse(int argc, char **argv, struct micro_opts *o,
                                    long def_iters)
{
    o->smoke = 0;
    o->iters = def_iters;
    o->reps = 5;
    for (int i = 1; i < argc; i++) {
        char *end;
        if (strcmp(argv[i], "--smoke") == 0) {
            o->smoke = 1;
            o->iters = def_iters / 1000 > 1000 ? def_iters / 1000 : 1000;
            o->reps = 1;
        } else if (strcmp(argv[i], "--iters") == 0 && i + 1 < argc) {
            o->iters = strtol(argv[++i], &end, 10);
            if (*end || o->iters < 1 || o->iters > 1000000000L)
                micro_usage(argv[0], def_iters);
        } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            o->reps = (int)strtol(argv[++i], &end, 10);
            if (*end || o->reps < 1 || o->reps > 99)
                micro_usage(argv[0], def_iters);
        } else {
            micro_usage(argv[0], def_iters);
        }
    }
}

static inline uint64_t micro_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int micro_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of v[0..n) (sorts v). */
static inline double micro_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), micro_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct micro_start {
    void *(*fn)(void *);
    void *arg;
    pthread_barrier_t *go;
    uint64_t t0, t1;     /* owned by: the thread; read by main after join */
    uint64_t cpu;        /* the same: CPU time the thread got for fn */
};

/* Of the last micro_run_threads: the CPU time its threads got over
 * threads x wall time. Near 1: they really ran side by side; near 1/n:
 * they took turns on one core (a busy box), and nothing could contend.
 * Owned by: the main thread. */
static double micro_cpu_share;

static inline uint64_t micro_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void *micro_trampoline(void *p)
{
    struct micro_start *s = p;
    pthread_barrier_wait(s->go);
    s->t0 = micro_now_ns();
    uint64_t c0 = micro_thread_cpu_ns();
    void *r = s->fn(s->arg);
    s->cpu = micro_thread_cpu_ns() - c0;   /* inside [t0, t1] */
    s->t1 = micro_now_ns();
    return r;
}

/* Runs fn(args + i * argsz) on n threads released together; returns the
 * nanoseconds from the first thread's start to the last one's end, each
 * stamped by the thread itself (main may not run at once after the
 * release on a busy box). Exits if a thread cannot be created. */
static inline uint64_t micro_run_threads(int n, void *(*fn)(void *), void *args,
                                         size_t argsz)
{
    pthread_t t[16];
    struct micro_start st[16];
    pthread_barrier_t go;
    if (n < 1 || n > 16)
        return 0;
    pthread_barrier_init(&go, NULL, (unsigned)n + 1);
    for (int i = 0; i < n; i++) {
        st[i] = (struct micro_start){.fn = fn, .arg = (char *)args + (size_t)i * argsz, .go = &go};
        if (pthread_create(&t[i], NULL, micro_trampoline, &st[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(1);
        }
    }
    pthread_barrier_wait(&go);
    uint64_t t0 = UINT64_MAX, t1 = 0, cpu = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        t0 = st[i].t0 < t0 ? st[i].t0 : t0;
        t1 = st[i].t1 > t1 ? st[i].t1 : t1;
        cpu += st[i].cpu;
    }
    pthread_barrier_destroy(&go);
    micro_cpu_share = t1 > t0 ? (double)cpu / ((double)(t1 - t0) * n) : 1;
    return t1 - t0;
}

#endif
