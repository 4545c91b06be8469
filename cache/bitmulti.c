/*
 * bitmulti.c: BITOP, atomic across shards.
 *
 * Like the set STOREs (setmulti.c), a BITOP locks the shards of its
 * destination and every source at once, in ascending shard index
 * (cache__mlock, multikey.c: the lock order of docs/locking.md), and
 * computes the result and replaces the destination before unlocking: no
 * client on any worker sees a destination built from two different
 * instants of its sources, or half written.
 *
 * Memory: the result's size is known once the sources are looked up (the
 * longest of them): the room for it is checked, then it is allocated with
 * no lock held and the sources looked up again (a result of another size
 * by then: allocated again). As for COPY and MSET nothing is evicted
 * while the locks are held: a result that needs room unlocks everything,
 * evicts one shard at a time and starts over from the sources as they
 * are then.
 *
 * Lock hold: the result is computed under the locks, at memory speed
 * (two 512 MB sources: docs/types.md, "Bitmaps", has the figures); a
 * BITOP on big strings stalls the clients of its keys' shards for that
 * long, as Redis stalls all its clients.
 */
#include <stdlib.h>
#include <string.h>

#include "bits.h"
#include "cache_int.h"
#include "multikey.h"
#include "t_string.h"

struct bitop_run {
    struct cache *c;
    int op;
    const struct cache_str *srcs;
    size_t n;
    const char *dst;
    size_t dlen;
    uint64_t *hash;                /* the sources', then the destination's */
    const unsigned char **p;       /* each source's bytes (NULL: missing) */
    size_t *len;                   /* and length */
    size_t maxlen;
    uint64_t hits, misses;
};

/* Looks the sources up in order, as Redis: a missing one is the empty
 * string, the first of another type ends it with WRONGTYPE. */
static int lookup_sources_locked(struct bitop_run *r, int64_t now)
{
    r->maxlen = 0;
    r->hits = r->misses = 0;
    for (size_t j = 0; j < r->n; j++) {
        struct shard *s = cache__shard_of(r->c, r->hash[j]);
        struct item *it = cache__lookup_locked(s, r->hash[j], r->srcs[j].s,
                                               r->srcs[j].len, now);
        r->p[j] = NULL;
        r->len[j] = 0;
        if (!it) {
            r->misses++;
            continue;
        }
        r->hits++;
        if (it->type != CACHE_TYPE_STRING)
            return CACHE_E_WRONGTYPE;
        cache__lru_touch_locked(s, it, now);
        r->p[j] = (const unsigned char *)item_val(it);
        r->len[j] = it->vlen;
        if (it->vlen > r->maxlen)
            r->maxlen = it->vlen;
    }
    return CACHE_OK;
}

/* run_locked's answer: allocate the result (r->maxlen bytes) with no
 * lock held, and run again. */
#define ALLOC_FIRST (CACHE__AGAIN + 1)

/* Context: all of r's shards locked. CACHE__AGAIN with *need: over
 * maxmemory, unlock to evict and run again; ALLOC_FIRST: *nw is missing
 * or the wrong size. The result is computed into *nw, which was
 * allocated and touched with no lock held: a 512 MB result's first-touch
 * page faults (seconds on a host where they are slow) stall no client. */
static int run_locked(struct bitop_run *r, int64_t now, int64_t *need, struct item **nw)
{
    int rc = lookup_sources_locked(r, now);
    uint64_t hd = r->hash[r->n];
    struct shard *sd = cache__shard_of(r->c, hd);

    if (rc != CACHE_OK)
        return rc;
    struct item *dit = cache__lookup_locked(sd, hd, r->dst, r->dlen, now);
    if (r->maxlen == 0) {   /* every source empty or missing: dst goes */
        if (dit) {
            cache__delete_locked(sd, dit, CACHE__WHY_SERVER_DEL);
            cache__shard_tidy_locked(sd);
        }
        return CACHE_OK;
    }
    int64_t base = dit ? -(int64_t)cache__item_size(dit)
                       : (int64_t)cache__table_grow_cost_locked(sd);
    bool ready = *nw && cache__str_prepared_fits(*nw, r->maxlen);
    *need = ready ? (int64_t)cache__item_size(*nw) + base
                  : (int64_t)(ITEM_HDR + item_key_room(r->dlen) + r->maxlen) + base;
    enum cache__admit adm = cache__admit_locked(sd, *need);
    if (adm != CACHE__FITS) {
        cache__mem_flush_locked(sd);   /* seen by the shards that will evict */
        return adm == CACHE__REFUSE ? CACHE_E_OOM : CACHE__AGAIN;
    }
    if (!ready)
        return ALLOC_FIRST;   /* room checked before allocating */
    (*nw)->vlen = (uint32_t)r->maxlen;
    cache__bitop(r->op, (unsigned char *)item_val(*nw), r->maxlen, r->p, r->len, r->n);
    if (dit)
        cache__replace_locked(sd, dit, *nw, now);   /* its TTL and type go with it */
    else
        cache__link_locked(sd, *nw, now);
    *nw = NULL;
    return CACHE_OK;
}

int cache_bitop(struct cache *c, int op, const char *dst, size_t dlen,
                const struct cache_str *srcs, size_t n, int64_t now, size_t *len,
                uint64_t *hits, uint64_t *misses)
{
    struct bitop_run r = {.c = c, .op = op, .srcs = srcs, .n = n, .dst = dst, .dlen = dlen};
    struct cache_mlock lk = {0};
    struct item *nw = NULL;
    int64_t need = 0;
    int rc = CACHE_E_NOMEM, tries = 0;

    *len = 0;
    *hits = *misses = 0;
    if (dlen > CACHE_MAX_STRING)
        return CACHE_E_TOOBIG;
    r.hash = malloc((n + 1) * sizeof(*r.hash));
    r.p = malloc(n * sizeof(*r.p));
    r.len = malloc(n * sizeof(*r.len));
    if (!r.hash || !r.p || !r.len)
        goto out_free;
    for (size_t j = 0; j < n; j++)
        r.hash[j] = cache__hash(c, srcs[j].s, srcs[j].len);
    r.hash[n] = cache__hash(c, dst, dlen);
    if ((rc = cache__mlock_init(c, &lk, r.hash, n + 1)) != CACHE_OK)
        goto out_free;
    for (;;) {
        cache__mlock_lock(c, &lk);
        rc = run_locked(&r, now, &need, &nw);
        cache__mlock_unlock(c, &lk);
        if (rc == ALLOC_FIRST) {
            free(nw);   /* a plain string: one allocation */
            if (!(nw = cache__item_new(r.hash[n], dst, dlen, NULL, 0, r.maxlen))) {
                rc = CACHE_E_NOMEM;
                break;
            }
            memset(item_val(nw), 0, r.maxlen);   /* fault its pages in here */
            continue;
        }
        if (rc != CACHE__AGAIN)
            break;
        if (tries++ >= CACHE_EVICT_TRIES || cache__evict_others(c, NULL, need, now) != CACHE_OK) {
            rc = CACHE_E_OOM;
            break;
        }
    }
    if (rc == CACHE_OK)
        *len = r.maxlen;
    *hits = r.hits;
    *misses = r.misses;
    free(nw);
    cache__mlock_free(&lk);
out_free:
    free(r.hash);
    free(r.p);
    free(r.len);
    return rc;
}
