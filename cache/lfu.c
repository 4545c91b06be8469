/*
 * lfu.c: the LFU counter of the allkeys-lfu and volatile-lfu policies,
 * and OBJECT's view of an item.
 *
 * The counter is Redis's idea (a Morris counter), written here for an
 * item that already keeps the time of its last access: 8 bits in the
 * header's LRU/LFU word (item_lfu) count accesses on a log scale. A hit
 * increments a counter c with probability 1 / ((c - INIT) * log_factor + 1)
 * (always below INIT, never past 255), so with the default factor 10 a
 * key needs about a million hits to reach 255. Before each hit, and when
 * eviction or OBJECT FREQ reads it, the counter loses one per
 * decay_minutes that passed since the item's last access. The last access
 * is lru_ms (lru.c), which every hit refreshes once its 1 s window has
 * passed: no second timestamp, so the header does not grow. The clock is
 * 24 bits of 256 ms ticks (cache_int.h), so an item untouched for about a
 * multiple of ~49.7 days looks recently used and keeps its counter
 * undecayed (as the LRU order already accepts), and one last touched up
 * to a day "after" now (the clock stepped back) counts as idle 0 rather
 * than decaying to nothing (item_idle_ms).
 *
 * New items start at CACHE__LFU_INIT, so that a key just written is not
 * the first one evicted. The counter is kept only while an LFU policy is
 * on (a relaxed load of the policy per hit); switching policy at run time
 * leaves old counters as they were, as Redis does.
 *
 * Context: every _locked function expects the item's shard lock held;
 * the counter is guarded by it like every other header field.
 */
#include <math.h>

#include "cache_int.h"

int cache_policy_is_lfu(enum cache_policy p)
{
    return p == CACHE_ALLKEYS_LFU || p == CACHE_VOLATILE_LFU;
}

bool cache__lfu_on(const struct cache *c)
{
    return cache_policy_is_lfu(atomic_load_explicit(&c->policy, memory_order_relaxed));
}

void cache_set_lfu(struct cache *c, int log_factor, int decay_minutes, int samples)
{
    if (log_factor < 0)
        log_factor = 0;
    if (decay_minutes < 0)
        decay_minutes = 0;
    if (samples < 1)
        samples = 1;
    if (samples > CACHE_EVICT_SAMPLES_MAX)
        samples = CACHE_EVICT_SAMPLES_MAX;
    atomic_store_explicit(&c->lfu_log_factor, log_factor, memory_order_relaxed);
    atomic_store_explicit(&c->lfu_decay_min, decay_minutes, memory_order_relaxed);
    atomic_store_explicit(&c->evict_samples, samples, memory_order_relaxed);
}

unsigned cache__lfu_decay(unsigned counter, uint32_t idle_ms, int decay_minutes)
{
    uint32_t periods;

    if (decay_minutes <= 0)
        return counter;
    periods = idle_ms / 60000u / (uint32_t)decay_minutes;
    return periods >= counter ? 0 : counter - periods;
}

unsigned cache__lfu_incr(unsigned counter, int log_factor, uint64_t rnd)
{
    double base, p, r;

    if (counter >= 255)
        return 255;
    base = counter > CACHE__LFU_INIT ? (double)(counter - CACHE__LFU_INIT) : 0.0;
    p = 1.0 / (base * (double)log_factor + 1.0);
    r = (double)(rnd >> 11) * 0x1.0p-53;   /* uniform in [0, 1) */
    return r < p ? counter + 1 : counter;
}

unsigned cache__lfu_now_locked(const struct cache *c, const struct item *it, int64_t now)
{
    return cache__lfu_decay(item_lfu(it), item_idle_ms(it, now),
                            atomic_load_explicit(&c->lfu_decay_min, memory_order_relaxed));
}

void cache__lfu_hit_locked(struct shard *s, struct item *it, int64_t now)
{
    unsigned n = cache__lfu_now_locked(s->c, it, now);

    ASSERT_LOCKED(s);
    n = cache__lfu_incr(n, atomic_load_explicit(&s->c->lfu_log_factor, memory_order_relaxed),
                        cache__rand());
    item_set_lfu(it, n);
}

int cache_object(struct cache *c, const char *key, size_t klen, int64_t now,
                 struct cache_object_info *o)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    struct item *it;

    cache__shard_lock(s);
    it = cache__lookup_locked(s, h, key, klen, now);
    if (it) {
        o->type = it->type;
        o->encoding = cache__enc_name(it);
        o->idle_ms = item_idle_ms(it, now);
        o->freq = cache__lfu_now_locked(c, it, now);
    }
    cache__shard_unlock(s);
    return it ? CACHE_OK : CACHE_NOTFOUND;
}
