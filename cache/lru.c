/*
 * lru.c: the per-shard intrusive LRU list (head = most recent).
 *
 * Bump window: a read moves its item to the head at most once per
 * CACHE_LRU_BUMP_MS (1 s) of the caller's clock. The item keeps a 24-bit
 * clock of the `now` of its last bump in 256 ms ticks (item_lru, in the
 * header's LRU/LFU word: cache_int.h), so idle times have 256 ms
 * resolution and the window is 4 ticks (0.77 to 1.02 s); a read compares
 * with modular arithmetic, so the 49.7-day wrap of 2^24 ticks only makes
 * a key that was untouched for about a multiple of 49 days look fresh
 * (harmless). A stamp ahead of `now` (the clock stepped back) is far from
 * the window in that arithmetic, so the next read re-stamps it.
 * Why: a hot key read by every request would otherwise rewrite four
 * pointers (and their cache lines) per GET; with the window it costs one
 * compare. The price is 1 s of resolution in the eviction order, the same
 * trade Redis makes with its coarse LRU clock. Writes (which relink the
 * item anyway) and TOUCH always move it to the head.
 *
 * Context: every function here expects the shard lock held.
 */
#include "cache_int.h"

void cache__lru_push_locked(struct shard *s, struct item *it, int64_t now)
{
    ASSERT_LOCKED(s);
    it->prev = NULL;
    it->next = s->lru_head;
    if (s->lru_head)
        s->lru_head->prev = it;
    else
        s->lru_tail = it;
    s->lru_head = it;
    item_set_lru(it, now);
}

void cache__lru_unlink_locked(struct shard *s, struct item *it)
{
    ASSERT_LOCKED(s);
    if (it->prev)
        it->prev->next = it->next;
    else
        s->lru_head = it->next;
    if (it->next)
        it->next->prev = it->prev;
    else
        s->lru_tail = it->prev;
    it->prev = it->next = NULL;
}

static void move_to_head_locked(struct shard *s, struct item *it, int64_t now)
{
    if (s->lru_head != it) {
        cache__lru_unlink_locked(s, it);
        cache__lru_push_locked(s, it, now);
    } else {
        item_set_lru(it, now);
    }
}

/* Unconditional move to the head (TOUCH, writes in place). Under an LFU
 * policy the access counts first (lfu.c), reading lru_ms before it moves. */
void cache__lru_bump_locked(struct shard *s, struct item *it, int64_t now)
{
    ASSERT_LOCKED(s);
    if (cache__lfu_on(s->c))
        cache__lfu_hit_locked(s, it, now);
    move_to_head_locked(s, it, now);
}

/* A read: counted (LFU) every time, moved to the head only if the last
 * bump is a window old. */
void cache__lru_touch_locked(struct shard *s, struct item *it, int64_t now)
{
    ASSERT_LOCKED(s);
    if (cache__lfu_on(s->c))
        cache__lfu_hit_locked(s, it, now);
    if (item_idle_ticks(it, now) >= CACHE_LRU_BUMP_TICKS)
        move_to_head_locked(s, it, now);
}
