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
#include <stddef.h>
#include <stdint.h>

#define INJECT_MAX 25                    /* bug ids are 1..25, never renumbered */
#define INJECT_AMPLIFY_BIT (1u << 31)    /* `bug-amplify yes` */
#define INJECT_BUGS_MASK 0x03fffffeu     /* bits 1..25 */

/* The selection this thread is working under: bit N = bug N, plus
 * INJECT_AMPLIFY_BIT. Owned by the thread (thread-local); written only by
 * inject_enter. */
/* local-exec: every program that links this is an executable (the server,
 * the tests), so a site reads it as one %fs-relative operand. */
#define INJECT__TLS __attribute__((tls_model("local-exec")))
extern _Thread_local uint32_t inject__mask INJECT__TLS;

/* How often each bugged path ran ("tried", as RaceBench counts it): per
 * thread, so that counting does not put a shared cache line (a `lock
 * add`) into the very race it counts. Each thread counts in its own
 * thread-local block with a relaxed load and store (single writer); a
 * thread that may run sites lists its block once as it starts
 * (inject_thread_start: the main, worker and loader threads), INFO sums
 * the listed blocks (inject_tried), and a thread that exits adds its
 * counts to a retired total and unlists its block. A thread that never
 * listed itself counts into a block nobody reads. The correct path never
 * touches any of it. */
struct inject__counts {
    _Atomic uint64_t n[INJECT_MAX + 1];  /* atomic: relaxed; owner writes, inject_tried sums */
    struct inject__counts *next;         /* guarded by: inject.c's counts_lock */
    bool listed;                         /* owned by: its thread */
};
extern _Thread_local struct inject__counts inject__own INJECT__TLS;
void inject__register(void) __attribute__((cold));
/* List this thread's counts (once; any later call does nothing).
 * Context: a thread that may run sites, as it starts. */
static inline void inject_thread_start(void)
{
    if (!inject__own.listed)
        inject__register();
}

#ifndef MMCACHE_NO_BUG_LAB
static inline void inject_enter(uint32_t mask) { inject__mask = mask; }
static inline uint32_t inject_mask(void) { return inject__mask; }

/* Counts the bugged path of `id` for this thread; always true. Inline and
 * call-free: a site costs the correct path the test of its bit only. */
static inline bool inject__hit(int id)
{
    atomic_store_explicit(&inject__own.n[id],
                          atomic_load_explicit(&inject__own.n[id], memory_order_relaxed) + 1,
                          memory_order_relaxed);
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

/* True when any bug of `bits` (INJECT_BIT(n) | ...) is selected. Not a
 * site: a hot function whose path holds several sites tests this once and,
 * when none of them is selected, runs its correct path with no site on the
 * way (one predictable branch instead of one per site: cache_get). */
#define INJECT_BIT(id) (1u << (id))
#define INJECT_ANY(bits) __builtin_expect((inject__mask & (bits)) != 0, 0)

#else
/* -DMMCACHE_BUG_LAB=OFF (cmake): every site compiled out, the correct
 * path alone. Only for measuring what the sites cost when no bug is
 * selected (loadtest/cost-when-off); such a server cannot inject bugs. */
static inline void inject_enter(uint32_t mask) { (void)mask; }
static inline uint32_t inject_mask(void) { return 0; }
#define INJECT(id) 0
#define INJECT_SELECTED(id) 0
#define INJECT_AMPLIFY() 0
#define INJECT_BIT(id) (1u << (id))
#define INJECT_ANY(bits) 0
#endif

/* The common amplifier: widen a race window by giving up the CPU
 * (sched_yield) when `bug-amplify` is on; nothing otherwise. Call it only
 * on a bugged path. */
void inject_window(void);

/* Spin for about `ns` nanoseconds without a system call (a window that the
 * other core can hit while this one stays on the CPU). */
void inject_spin(unsigned ns);

uint64_t inject_tried(int id);
/* The same since the process started, whatever CONFIG RESETSTAT did. */
uint64_t inject_tried_total(int id);
/* Zero every tried counter (CONFIG RESETSTAT). */
void inject_tried_reset(void);

#endif
