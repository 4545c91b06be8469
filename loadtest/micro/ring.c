/*
 * ring: the acceptor-to-worker hand-off through mmcache's lock-free SPSC
 * ring (server/net/ring.h, used as is) vs a mutex-guarded queue of the
 * same capacity.
 *
 *   1 thread:  the same thread pushes a batch of 64 and pops it back (the
 *              cost of the operations alone, no other core involved);
 *   2 threads: one producer, one consumer, the real hand-off; a side that
 *              finds the queue full/empty spins, yielding the CPU every 64
 *              tries (as a worker would rather sleep).
 *
 * Prints: queue threads ns_per_item (median over --reps). Exit 1 if an
 * item is lost, repeated or out of order.
 */
#include <sched.h>

#include "micro.h"
#include "ring.h"

#define CAP 1024

struct mqueue {
    pthread_mutex_t lock;
    size_t head, tail;   /* guarded by: lock */
    int slot[CAP];       /* guarded by: lock */
};

static bool mq_push(struct mqueue *q, int v)
{
    bool ok = false;
    pthread_mutex_lock(&q->lock);
    if (q->head - q->tail < CAP) {
        q->slot[q->head++ % CAP] = v;
        ok = true;
    }
    pthread_mutex_unlock(&q->lock);
    return ok;
}

static bool mq_pop(struct mqueue *q, int *v)
{
    bool ok = false;
    pthread_mutex_lock(&q->lock);
    if (q->tail != q->head) {
        *v = q->slot[q->tail++ % CAP];
        ok = true;
    }
    pthread_mutex_unlock(&q->lock);
    return ok;
}

struct bench {
    int use_ring;
    long iters;
    struct srv_ring *r;
    struct mqueue q;
    int bad;             /* written by the consumer, read after join */
};

static bool push(struct bench *b, int v) { return b->use_ring ? srv_ring_push(b->r, v) : mq_push(&b->q, v); }
static bool pop(struct bench *b, int *v) { return b->use_ring ? srv_ring_pop(b->r, v) : mq_pop(&b->q, v); }

static void backoff(unsigned *tries)
{
    if ((++*tries & 63) == 0)
        sched_yield();
}

static void *producer(void *p)
{
    struct bench *b = *(struct bench **)p;
    unsigned tries = 0;
    for (long i = 0; i < b->iters; i++)
        while (!push(b, (int)i))
            backoff(&tries);
    return NULL;
}

static void *consumer(void *p)
{
    struct bench *b = *(struct bench **)p;
    unsigned tries = 0;
    int v;
    for (long i = 0; i < b->iters; i++) {
        while (!pop(b, &v))
            backoff(&tries);
        if (v != (int)i)
            b->bad = 1;
    }
    return NULL;
}

static void *both(void *p)
{
    struct bench *b = *(struct bench **)p;
    int v;
    for (long i = 0; i < b->iters; i += 64)
        for (int pass = 0; pass < 2; pass++)
            for (long j = i; j < i + 64 && j < b->iters; j++)
                if (pass == 0 ? !push(b, (int)j) : !pop(b, &v) || v != (int)j)
                    b->bad = 1;
    return NULL;
}

static void *role(void *p)
{
    struct { struct bench *b; int id; } *a = p;
    return a->id ? consumer(&a->b) : producer(&a->b);
}

int main(int argc, char **argv)
{
    struct micro_opts o;
    int bad = 0;

    micro_opts_parse(argc, argv, &o, 5000000L);
    printf("#queue\tthreads\tns_per_item\tcpu_share\n");
    for (int use_ring = 1; use_ring >= 0; use_ring--) {
        for (int th = 1; th <= 2; th++) {
            double ns[99], share[99];
            for (int r = 0; r < o.reps; r++) {
                struct bench b = {.use_ring = use_ring, .iters = o.iters};
                pthread_mutex_init(&b.q.lock, NULL);
                b.r = srv_ring_create(CAP);
                if (!b.r)
                    return 1;
                struct { struct bench *b; int id; } a[2] = {{&b, 0}, {&b, 1}};
                uint64_t dt = th == 1 ? micro_run_threads(1, both, a, sizeof(a[0]))
                                      : micro_run_threads(2, role, a, sizeof(a[0]));
                ns[r] = (double)dt / (double)o.iters;
                share[r] = micro_cpu_share;
                bad |= b.bad;
                srv_ring_destroy(b.r);
                pthread_mutex_destroy(&b.q.lock);
            }
            printf("%s\t%d\t%.1f\t%.2f\n", use_ring ? "spsc-ring" : "mutex-queue", th,
                   micro_median(ns, o.reps), micro_median(share, o.reps));
        }
    }
    if (bad)
        fprintf(stderr, "ring: an item was lost, repeated or out of order\n");
    return bad;
}
