/*
 * snapshot_int.h: what config/'s own files share about snapshots beyond
 * config.h. Not for other modules.
 */
#ifndef MMCACHE_CONFIG_SNAPSHOT_INT_H
#define MMCACHE_CONFIG_SNAPSHOT_INT_H

#include <pthread.h>

#include "config.h"

/*
 * A count-down latch (a Go WaitGroup): armed with a count, counted down by
 * other threads, waited on by one. Reusable: re-armed for the next round
 * once the previous round's wait has returned, never before (the caller
 * guarantees it; config/reload.c does so with its own lock).
 */
struct cfg__latch {
    pthread_mutex_t lock;
    pthread_cond_t zero;
    unsigned count;              /* guarded by: lock */
};
#define CFG__LATCH_INIT { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 }

/* Context: no wait in progress on l, and the previous round's wait returned. */
void cfg__latch_arm(struct cfg__latch *l, unsigned count);
/* Context: any thread; does not block beyond l's own lock. */
void cfg__latch_count_down(struct cfg__latch *l);
/* Returns once the count is 0. Context: one waiter per round; blocks. */
void cfg__latch_wait(struct cfg__latch *l);

/*
 * cfg_publish, and when `freed` is not NULL: arm it with 1 and count it
 * down once the snapshot this publish replaces has been freed (after its
 * grace period). The caller waits on it outside every lock a reader may
 * wait for and outside any read-side section, or the grace period never
 * ends. Context: as cfg_publish.
 */
int cfg__publish(const struct cfg *next, struct cfg__latch *freed);

#endif
