/*
 * inject: the switch every bug-lab site reads (docs/bugs.md, config/bugs.def).
 *
 * A site looks like this, correct path first:
 *
 *     if (!INJECT(13)) {
 *         shard_lock(s);              // correct: lock the shard itself
 *     } else {
 *         // BUG 13: locks a copy of the mutex, so nothing is excluded
 *         ...
 *     }
 *
 * `grep -rn 'INJECT(13'` finds every site of bug 13; tests/config/
 * test_bug_sites.sh fails when a catalogued bug has no site or a site
 * names an unknown one.
 *
 * Where the selection comes from. The bugs and `bug-amplify` are settings
 * of the config snapshot. Whoever takes a snapshot for a unit of work (a
 * worker for one request, a loader thread for one load, the acceptor for
 * one accept) calls inject_enter() with cfg_inject_mask() of that snapshot,
 * so the whole unit sees one choice; the thread-local copy is what lets
 * cache/ (which knows nothing of the config) read it as a plain value.
 *
 * Cost with no bug selected: one thread-local load and one predictable
 * branch per site. This header depends on nothing but C11, so every module
 * may include it; its counters live in libinject (inject.c).
 */
#ifndef MMCACHE_INJECT_H
#define MMCACHE_INJECT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define INJECT_MAX 25                    /* bug ids are 1..25, never renumbered */
#define INJECT_AMPLIFY_BIT (1u << 31)    /* `bug-amplify yes` */
#define INJECT_BUGS_MASK 0x03fffffeu     /* bits 1..25 */

/* The selection this thread is working under: bit N = bug N, plus
 * INJECT_AMPLIFY_BIT. Owned by the thread (thread-local); written only by
 * inject_enter. */
extern _Thread_local uint32_t inject__mask;

/* How often each bugged path ran ("tried", as RaceBench counts it).
 * Relaxed: statistics only, read by INFO; ordering nothing. Only bumped
 * while a bug is selected, so the correct build never touches them. */
extern _Atomic uint64_t inject__tried[INJECT_MAX + 1];

static inline void inject_enter(uint32_t mask) { inject__mask = mask; }
static inline uint32_t inject_mask(void) { return inject__mask; }

static inline bool inject__hit(int id)
{
    atomic_fetch_add_explicit(&inject__tried[id], 1, memory_order_relaxed);
    return true;
}

/* True when bug `id` is selected for the current unit of work (and counts
 * the bugged path as tried). `id` must be a literal 1..25. */
#define INJECT(id) \
    (__builtin_expect((inject__mask >> (id)) & 1u, 0) && inject__hit(id))

/* True when bug `id` is selected, without counting: for set-up code that
 * prepares a site (allocating a misaligned slot) rather than running it. */
#define INJECT_SELECTED(id) (((inject__mask >> (id)) & 1u) != 0)

/* Amplifiers (named in the catalogue) only act when this is true. */
#define INJECT_AMPLIFY() ((inject__mask & INJECT_AMPLIFY_BIT) != 0)

/* The common amplifier: widen a race window by giving up the CPU
 * (sched_yield) when `bug-amplify` is on; nothing otherwise. Call it only
 * on a bugged path. */
void inject_window(void);

/* Spin for about `ns` nanoseconds without a system call (a window that the
 * other core can hit while this one stays on the CPU). */
void inject_spin(unsigned ns);

uint64_t inject_tried(int id);
/* Zero every tried counter (CONFIG RESETSTAT). */
void inject_tried_reset(void);

#endif
