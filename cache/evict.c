/*
 * evict.c: memory accounting against maxmemory, and eviction.
 *
 * Accounting. Each shard keeps its exact usage (mem: usable sizes of its
 * items, bucket arrays and TTL index) under its lock. A global estimate,
 * cache->mem_global, receives each shard's delta in one relaxed fetch_add
 * once the delta reaches mem_batch bytes, so a write does no global
 * read-modify-write in the common case. A writer holding shard s estimates
 *     used = mem_global - s.mem_flushed + s.mem + (nshards-1) * mem_batch
 * counting every other shard's unflushed delta as at its worst, so with
 * one thread writing the exact sum never exceeds maxmemory. mem_batch is
 * maxmemory / (nshards * 64) capped to 64 KiB, so the reserve costs under
 * 1/64 of maxmemory. Concurrent writers in different shards can each pass
 * the check at once; the overshoot is bounded by their in-flight items.
 *
 * Eviction. A write that adds `need` bytes first evicts from its own shard
 * (under the lock it already holds: no second lock). If that shard has no
 * candidate left, the caller unlocks and cache__evict_others() visits the
 * other shards one lock at a time, then the write retries from scratch.
 * Policies: allkeys-lru takes the LRU tail; volatile-lru the oldest TTL'd
 * item among the 64 nearest the tail, else the oldest of 16 sampled from
 * the TTL index (approximate, like Redis); allkeys-random a random item.
 * volatile-random: a random TTL'd item of the own shard.
 *
 * The sampled policies (allkeys-lfu, volatile-lfu, volatile-ttl) weigh
 * maxmemory-samples items of the whole cache, as Redis weighs samples of
 * its keyspace: a shard holds too few keys for its own sample to mean
 * anything (2 MB over 1024 shards is 2 keys of 1 KB each: the hot one
 * would go). So the writer does not evict from its own shard:
 * cache__reserve_locked answers AGAIN, the caller unlocks, and
 * evict_sampled() locks up to `samples` shards that have candidates, in
 * ascending order (the shard lock order), takes the best of their
 * samples, evicts it, and unlocks them all: one lock set per eviction.
 * allkeys-lfu compares the LFU counters decayed to now (lfu.c), the
 * longest idle on a tie; volatile-lfu the same among TTL'd items;
 * volatile-ttl the soonest expire_at. Unlike Redis, no eviction pool
 * carries good candidates from one eviction to the next.
 *
 * Timing. Each eviction (the own-shard loop in cache__reserve_locked, and
 * cache__evict_others) reads the monotonic clock at its start and end and
 * adds the difference to cache__evict_ns, the evicting thread's own
 * counter (cache_evict_ns_take): only a write that evicts reads a clock.
 */
#include <time.h>

#include "cache_int.h"

#define EVICT_BATCH 64u          /* evictions per lock hold in other shards */
#define VOLATILE_TAIL_WALK 64
#define VOLATILE_SAMPLES 16

_Thread_local uint64_t cache__evict_ns;   /* owned by: its thread */

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* An eviction that began at t0 (mono_ns) ends: count its time. */
static void evict_timed(uint64_t t0)
{
    cache__evict_ns += mono_ns() - t0;
}

/* Context: shard lock held. Moves the pending delta into the global. */
void cache__mem_flush_locked(struct shard *s)
{
    int64_t mem = (int64_t)RLX_LOAD(s->mem);
    int64_t pending = mem - s->mem_flushed;

    ASSERT_LOCKED(s);
    if (pending) {
        atomic_fetch_add_explicit(&s->c->mem_global, pending,
                                  memory_order_relaxed);
        s->mem_flushed = mem;
    }
}

/* Context: shard lock held. Would `need` more bytes exceed maxmemory? */
bool cache__over_locked(struct shard *s, int64_t need)
{
    struct cache *c = s->c;
    uint64_t max = atomic_load_explicit(&c->maxmemory, memory_order_relaxed);

    ASSERT_LOCKED(s);
    if (max == 0)
        return false;
    int64_t batch = atomic_load_explicit(&c->mem_batch, memory_order_relaxed);
    int64_t used = atomic_load_explicit(&c->mem_global, memory_order_relaxed)
                   - s->mem_flushed + (int64_t)RLX_LOAD(s->mem)
                   + (int64_t)(c->nshards - 1) * batch;
    return used + need > (int64_t)max;
}

static int policy_of(const struct cache *c)
{
    return atomic_load_explicit(&c->policy, memory_order_relaxed);
}

static struct item *victim_volatile_locked(struct shard *s,
                                           const struct item *protect,
                                           int64_t now)
{
    struct item *it = s->lru_tail, *best = NULL;

    for (int i = 0; it && i < VOLATILE_TAIL_WALK; i++, it = it->prev)
        if (it->has_ttl && it != protect)
            return it;
    for (int i = 0; RLX_LOAD(s->nttl) && i < VOLATILE_SAMPLES; i++) {
        it = cache__ttl_random_locked(s);
        if (it == protect)
            continue;
        if (!best || item_idle_ms(it, now) > item_idle_ms(best, now))
            best = it;
    }
    return best;
}

/* One sampled item: from the key table, or (volatile) the TTL index. */
static struct item *sample_locked(struct shard *s, bool volatile_only)
{
    if (!volatile_only)
        return cache__table_random_locked(s);
    return cache__ttl_random_locked(s);
}

/* Is a (of shard sa) a better victim than b (of sb) under the policy? */
static bool better_victim(int policy, const struct cache *c,
                          const struct shard *sa, const struct item *a,
                          const struct shard *sb, const struct item *b, int64_t now)
{
    uint32_t idle_a = item_idle_ms(a, now), idle_b = item_idle_ms(b, now);
    unsigned fa, fb;

    if (policy == CACHE_VOLATILE_TTL)
        return cache__expire_of_locked(sa, a) < cache__expire_of_locked(sb, b);
    fa = cache__lfu_now_locked(c, a, now);
    fb = cache__lfu_now_locked(c, b, now);
    return fa < fb || (fa == fb && idle_a > idle_b);
}

static bool sampled_policy(int policy)
{
    return policy == CACHE_ALLKEYS_LFU || policy == CACHE_VOLATILE_LFU ||
           policy == CACHE_VOLATILE_TTL;
}

/* allkeys-lfu, volatile-lfu, volatile-ttl: the best of `samples` items. */
static struct item *victim_sampled_locked(struct shard *s, int policy, int samples,
                                          const struct item *protect, int64_t now)
{
    bool vol = policy != CACHE_ALLKEYS_LFU;
    struct item *best = NULL;

    ASSERT_LOCKED(s);
    for (int i = 0; i < samples; i++) {
        struct item *it = sample_locked(s, vol);

        if (it == NULL || it == protect)
            continue;
        if (best == NULL || better_victim(policy, s->c, s, it, s, best, now))
            best = it;
    }
    return best;
}

/* Context: shard lock held. Picks a victim per policy, never `protect`. */
static struct item *victim_locked(struct shard *s, const struct item *protect,
                                  int64_t now)
{
    struct item *it;

    switch (policy_of(s->c)) {
    case CACHE_ALLKEYS_LRU:
        it = s->lru_tail;
        if (it && it == protect)
            it = it->prev;
        return it;
    case CACHE_VOLATILE_LRU:
        return victim_volatile_locked(s, protect, now);
    case CACHE_ALLKEYS_RANDOM:
        for (int i = 0; i < 4; i++) {
            it = cache__table_random_locked(s);
            if (it != protect)
                return it;
        }
        it = s->lru_tail;
        if (it && it == protect)
            it = it->prev;
        return it;
    case CACHE_VOLATILE_RANDOM:
        for (int i = 0; i < 4; i++) {
            it = sample_locked(s, true);
            if (it != protect)
                return it;
        }
        return NULL;
    case CACHE_ALLKEYS_LFU:
    case CACHE_VOLATILE_LFU:
    case CACHE_VOLATILE_TTL:   /* evict_sampled's way; here only for bug 17's path */
        return victim_sampled_locked(s, policy_of(s->c), 5, protect, now);
    default:
        return NULL;
    }
}

/* Context: shard lock held. Evicts one item; false if none can go. */
static bool evict_one_locked(struct shard *s, const struct item *protect,
                             int64_t now)
{
    struct item *it = victim_locked(s, protect, now);

    if (!it)
        return false;
    cache__delete_locked(s, it, CACHE__WHY_EVICT);
    CTR_ADD_LOCKED(s->evicted, 1);
    return true;
}

enum cache__admit cache__admit_locked(struct shard *s, int64_t need)
{
    uint64_t max = atomic_load_explicit(&s->c->maxmemory, memory_order_relaxed);

    ASSERT_LOCKED(s);
    if (need <= 0 || max == 0)
        return CACHE__FITS;
    /* noeviction follows Redis's rule: writes are refused once memory is
     * already over the limit, and the write that crosses it is allowed,
     * so after the first refusal every write that adds memory is refused
     * until something is deleted. */
    if (policy_of(s->c) == CACHE_NOEVICTION)
        return cache__over_locked(s, 0) ? CACHE__REFUSE : CACHE__FITS;
    if (!cache__over_locked(s, need))
        return CACHE__FITS;
    /* Cannot fit even in an empty cache: fail before evicting anything. */
    if ((uint64_t)need > max)
        return CACHE__REFUSE;
    return CACHE__EVICT;
}

int cache__reserve_locked(struct shard *s, int64_t need,
                          const struct item *protect, int64_t now)
{
    switch (cache__admit_locked(s, need)) {
    case CACHE__FITS: return CACHE_OK;
    case CACHE__REFUSE: return CACHE_E_OOM;
    case CACHE__EVICT: break;
    }
    if (!INJECT(17)) {
        if (sampled_policy(policy_of(s->c)))
            return CACHE__AGAIN;   /* evict_sampled, with this lock dropped */
        uint64_t t0 = mono_ns();
        int rc = CACHE_OK;
        while (cache__over_locked(s, need)) {
            if (!evict_one_locked(s, protect, now)) {
                rc = CACHE__AGAIN;
                break;
            }
        }
        evict_timed(t0);
        return rc;
    } else {
        /* BUG 17 (recursive mutex): "evict fairly across the cache, not
         * just from this shard": calls the cache-wide evictor, which takes
         * each shard's lock in turn, from a random start, while this
         * thread already holds s's. When its walk reaches s (its start, or
         * after the shards before it could not free enough) it locks a
         * non-recursive mutex its own thread holds: the worker blocks
         * forever, and every later request for s blocks behind it. */
        return cache__evict_others(s->c, NULL, need, now);
    }
}

static bool has_candidates(const struct shard *s, int policy)
{
    if (policy == CACHE_VOLATILE_LRU || policy == CACHE_VOLATILE_LFU ||
        policy == CACHE_VOLATILE_RANDOM || policy == CACHE_VOLATILE_TTL)
        return RLX_LOAD(s->nttl) != 0;
    return RLX_LOAD(s->count) != 0;
}

/* Up to `max` shards with candidates, from a random one on, ascending. */
static int pick_shards(struct cache *c, int policy, unsigned *idx, int max)
{
    unsigned start = (unsigned)cache__rand(), mask = c->nshards - 1;
    int n = 0;

    for (unsigned j = 0; j < c->nshards && n < max; j++) {
        unsigned i = (start + j) & mask;

        if (has_candidates(&c->shards[i], policy))
            idx[n++] = i;
    }
    /* ascending: the wrapped part came first; insertion sort, n <= 64 */
    for (int a = 1; a < n; a++)
        for (int b = a; b > 0 && idx[b - 1] > idx[b]; b--) {
            unsigned t = idx[b];
            idx[b] = idx[b - 1];
            idx[b - 1] = t;
        }
    return n;
}

/* The sampled policies' eviction (see the top): one victim per round
 * from the samples of up to `samples` shards locked together, until
 * `need` fits or nothing is left to evict.
 * Context: no shard lock held; takes several, in ascending order. */
static int evict_sampled(struct cache *c, int policy, int64_t need, int64_t now)
{
    unsigned idx[CACHE_EVICT_SAMPLES_MAX];
    /* Stop with room for one more write of this size (at most 1/64 of
     * maxmemory): the writer retakes its lock only after this returns,
     * and another worker's write in between would otherwise send it
     * round again, and after CACHE_EVICT_TRIES rounds refuse it (seen
     * under TSan's slowdown with 2 workers). */
    int64_t max = (int64_t)atomic_load_explicit(&c->maxmemory, memory_order_relaxed);
    int64_t margin = need < max / 64 ? need : max / 64;

    for (;;) {
        int samples = atomic_load_explicit(&c->evict_samples, memory_order_relaxed);
        int n = pick_shards(c, policy, idx, samples);
        struct shard *best_s = NULL;
        struct item *best = NULL;
        bool over = false;

        /* Inside a transaction a shard below the ones it holds is taken
         * only if free (trylock), else left out of this sample: waiting
         * for it out of order could deadlock with another transaction. */
        int k = 0;
        for (int i = 0; i < n; i++)
            if (cache__shard_lock_other(&c->shards[idx[i]]))
                idx[k++] = idx[i];
        n = k;
        if (n == 0)
            return CACHE_E_OOM;
        /* another thread's eviction may have made room meanwhile */
        if (!cache__over_locked(&c->shards[idx[0]], need)) {
            for (int i = n - 1; i >= 0; i--)
                cache__shard_unlock(&c->shards[idx[i]]);
            return CACHE_OK;
        }
        for (int i = 0; i < n; i++) {
            struct shard *s = &c->shards[idx[i]];
            struct item *it = victim_sampled_locked(s, policy, (samples + n - 1) / n,
                                                    NULL, now);

            if (it != NULL && (best == NULL || better_victim(policy, c, s, it, best_s, best, now))) {
                best = it;
                best_s = s;
            }
        }
        if (best != NULL) {
            cache__delete_locked(best_s, best, CACHE__WHY_EVICT);
            CTR_ADD_LOCKED(best_s->evicted, 1);
            over = cache__over_locked(best_s, need + margin);
            cache__mem_flush_locked(best_s);   /* make our progress visible */
        }
        for (int i = n - 1; i >= 0; i--)
            cache__shard_unlock(&c->shards[idx[i]]);
        if (best == NULL)
            return CACHE_E_OOM;
        if (!over)
            return CACHE_OK;
    }
}

/* Context: no shard lock held, or only an open transaction's; takes one
 * shard lock at a time (the bug-17 site: calling this while holding a
 * shard lock would re-lock it), or, for the sampled policies, several in
 * ascending order; a transaction's out-of-order ones by trylock only. */
static int evict_others(struct cache *c, const struct shard *skip,
                        int64_t need, int64_t now)
{
    unsigned start = skip ? skip->id + 1 : (unsigned)cache__rand();
    int policy = policy_of(c);

    if (policy == CACHE_NOEVICTION)
        return CACHE_E_OOM;
    if (sampled_policy(policy))
        return evict_sampled(c, policy, need, now);
    for (unsigned j = 0; j < c->nshards; j++) {
        struct shard *s = &c->shards[(start + j) & (c->nshards - 1)];
        if (s == skip || !has_candidates(s, policy))
            continue;
        for (;;) {
            bool over, more = true;
            unsigned n = 0;
            if (!cache__shard_lock_other(s))
                break;   /* inside a transaction: busy and out of order */
            while ((over = cache__over_locked(s, need)) && n < EVICT_BATCH &&
                   (more = evict_one_locked(s, NULL, now)))
                n++;
            cache__mem_flush_locked(s);   /* make our progress visible */
            cache__shard_unlock(s);
            if (!over)
                return CACHE_OK;
            if (!more)
                break;   /* this shard is out of candidates */
        }
    }
    return CACHE_E_OOM;
}

/* Context: shard lock held; may drop and retake it. The single-key write
 * path: reserve in the own shard, and if that shard has nothing left to
 * give, unlock, evict from the others, relock and answer CACHE__AGAIN so
 * the caller redoes its lookup (the shard may have changed meanwhile).
 * After CACHE_EVICT_TRIES rounds, CACHE_E_OOM. */
/* evict_others, its time counted in cache__evict_ns. */
int cache__evict_others(struct cache *c, const struct shard *skip,
                        int64_t need, int64_t now)
{
    uint64_t t0 = mono_ns();
    int rc = evict_others(c, skip, need, now);

    evict_timed(t0);
    return rc;
}

int cache__reserve_or_evict_locked(struct shard *s, int64_t need,
                                   const struct item *protect, int64_t now,
                                   int *tries)
{
    int rc = cache__reserve_locked(s, need, protect, now);

    if (rc != CACHE__AGAIN)
        return rc;
    if ((*tries)++ >= CACHE_EVICT_TRIES)
        return CACHE_E_OOM;
    /* The other shards judge "over" counting our unflushed delta as part
     * of their reserve; we count it exactly, on top of a reserve for
     * theirs. Publish it first, or they stop evicting up to one batch
     * short of what our retry needs, and every retry is refused. */
    cache__mem_flush_locked(s);
    cache__shard_unlock(s);
    rc = cache__evict_others(s->c, s, need, now);
    cache__shard_lock(s);
    return rc == CACHE_OK ? CACHE__AGAIN : CACHE_E_OOM;
}

int cache_over_maxmemory(struct cache *c)
{
    uint64_t max = atomic_load_explicit(&c->maxmemory, memory_order_relaxed);
    if (max == 0)
        return 0;
    /* Each shard's unreported delta is below mem_batch, so this bounds
     * every shard's own estimate in cache__over_locked() from above. */
    int64_t batch = atomic_load_explicit(&c->mem_batch, memory_order_relaxed);
    int64_t used = atomic_load_explicit(&c->mem_global, memory_order_relaxed)
                   + (int64_t)c->nshards * batch;
    return used > (int64_t)max;
}
