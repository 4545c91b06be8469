/*
 * srv_ring: a bounded lock-free single-producer / single-consumer ring of
 * ints (the acceptor hands accepted sockets to one worker through it).
 *
 * One producer thread calls srv_ring_push, one consumer thread calls
 * srv_ring_pop; any other use is a bug. Capacity is a power of two.
 *
 * Ordering (the whole point of the structure):
 *   producer: writes slot[head & mask], then stores head+1 with RELEASE;
 *   consumer: loads head with ACQUIRE (pairs with that release), so the
 *             slot write happens-before its read; after reading the slot
 *             it stores tail+1 with RELEASE;
 *   producer: loads tail with ACQUIRE (pairs with the consumer's release),
 *             so it never overwrites a slot the consumer is still reading.
 * Each side caches the other's index and re-reads it only when the ring
 * looks full/empty, so the common case touches no shared cache line but
 * its own. head and tail live on separate cache lines (no false sharing).
 */
#ifndef MMCACHE_RING_H
#define MMCACHE_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define SRV_RING_LINE 64

struct srv_ring {
    /* producer's cache line */
    _Alignas(SRV_RING_LINE) _Atomic size_t head; /* atomic: release by producer, acquire by consumer */
    size_t head_own;            /* owned by: producer; its copy of head (sole writer) */
    size_t tail_cache;          /* owned by: producer; last tail it read */
    /* consumer's cache line */
    _Alignas(SRV_RING_LINE) _Atomic size_t tail; /* atomic: release by consumer, acquire by producer */
    size_t tail_own;            /* owned by: consumer; its copy of tail (sole writer) */
    size_t head_cache;          /* owned by: consumer; last head it read */
    /* read-only line */
    _Alignas(SRV_RING_LINE) size_t mask;          /* immutable after init */
    int *slot;                  /* immutable pointer; slot i: written by producer
                                   before head passes i, read by consumer before
                                   tail passes i */
};

/* cap is rounded up to a power of two. NULL on ENOMEM. */
static inline struct srv_ring *srv_ring_create(size_t cap)
{
    size_t n = 2;
    while (n < cap)
        n <<= 1;
    struct srv_ring *r = aligned_alloc(SRV_RING_LINE, sizeof(*r));
    if (!r)
        return NULL;
    r->slot = malloc(n * sizeof(int));
    if (!r->slot) {
        free(r);
        return NULL;
    }
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    r->head_own = r->tail_cache = 0;
    r->tail_own = r->head_cache = 0;
    r->mask = n - 1;
    return r;
}

static inline void srv_ring_destroy(struct srv_ring *r)
{
    if (r)
        free(r->slot);
    free(r);
}

/* Context: the producer thread only. false if full. */
static inline bool srv_ring_push(struct srv_ring *r, int v)
{
    size_t head = r->head_own;
    if (head - r->tail_cache > r->mask) {
        r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (head - r->tail_cache > r->mask)
            return false;
    }
    r->slot[head & r->mask] = v;
    r->head_own = head + 1;
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
    return true;
}

/* Context: the consumer thread only. false if empty. */
static inline bool srv_ring_pop(struct srv_ring *r, int *v)
{
    size_t tail = r->tail_own;
    if (tail == r->head_cache) {
        r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
        if (tail == r->head_cache)
            return false;
    }
    *v = r->slot[tail & r->mask];
    r->tail_own = tail + 1;
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
    return true;
}

#endif
