/*
 * t_string.h: what the string commands (strops.c) share with the bit
 * commands (bitops.c) about a string value's bytes: growing one.
 */
#ifndef MMCACHE_T_STRING_H
#define MMCACHE_T_STRING_H

#include "cache_int.h"

/* ---- strops.c: a string value's bytes ------------------------------------
 * Context: shard lock held; may drop and retake it (CACHE__AGAIN: redo
 * the lookup). Makes *itp an item for key whose value is `newlen` bytes:
 * the first min(old->vlen, newlen) of them old's value, the rest zero,
 * for the caller to fill; keeps old's TTL. Reuses old in place when it
 * has room (no memory change), otherwise allocates with `slack` extra
 * room, after making room for it under maxmemory: a value that cannot
 * fit is refused (CACHE_E_OOM) before anything is allocated.
 * pre (NULL: never): when the new zero room is large (1 MB or more), the
 * new string is allocated and its pages touched with the lock dropped,
 * left in *pre, and CACHE__AGAIN answered; the retry takes it from there.
 * So the page faults of a SETBIT at bit 2^32-1 (seconds on a host where
 * they are slow) happen with no lock held, and no later read of the
 * string faults under one. The caller frees *pre when it is done. */
int cache__str_resize_locked(struct shard *s, uint64_t h, const char *key,
                             size_t klen, struct item *old, size_t newlen,
                             size_t slack, int64_t now, int *tries,
                             struct item **pre, struct item **itp);
/* The room a growing string takes beyond newlen (as Redis's sds: double,
 * at most 1 MB more). */
size_t cache__str_slack(size_t newlen);

/* Does p, a string item allocated ahead (for an earlier look at the
 * sizes), fit a value of `want` bytes without wasting much? */
static inline bool cache__str_prepared_fits(const struct item *p, size_t want)
{
    size_t cap = cache__item_vcap(p);
    return cap >= want && cap - want <= want / 4 + 64;
}

#endif
