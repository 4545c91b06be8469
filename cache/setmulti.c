/*
 * setmulti.c: the set commands on several keys, atomic across shards:
 * SMOVE, and SINTER, SUNION, SDIFF, their STORE forms and SINTERCARD
 * (cache_setop).
 *
 * Every call locks the shards of all its keys at once, in ascending shard
 * index (cache__mlock, multikey.c: the lock order of docs/locking.md), and
 * does the whole command before unlocking: no other client, on any
 * worker, sees an SMOVE's member in both sets or in neither, or a STORE's
 * destination half written; a result reflects one instant of all its
 * sources. As for COPY and MSET, nothing is evicted while the locks are
 * held: a STORE whose result does not fit unlocks everything, evicts one
 * shard at a time and starts over.
 */
#include <stdlib.h>
#include <string.h>

#include "t_set.h"
#include "multikey.h"

/* ---- SMOVE -------------------------------------------------------------------- */

/* Redis's order of checks: no source is 0 (whatever dst is), then either
 * key of another type, then src == dst, then membership. The member is
 * added to dst before it leaves src, so running out of memory half way
 * changes nothing; SMOVE is not refused for maxmemory (it is not denyoom
 * in Redis: it moves a member, it does not add one). */
int cache_smove(struct cache *c, const char *src, size_t slen, const char *dst,
                size_t dlen, const char *member, size_t mlen, int64_t now)
{
    uint64_t hash[2] = {cache__hash(c, src, slen), cache__hash(c, dst, dlen)};
    struct shard *ss = cache__shard_of(c, hash[0]), *sd = cache__shard_of(c, hash[1]);
    struct cache_mlock lk;
    struct cache__smem m;
    int rc;

    if (dlen > CACHE_MAX_STRING || mlen > CACHE_MAX_STRING)
        return CACHE_E_TOOBIG;
    if ((rc = cache__mlock_init(c, &lk, hash, 2)) != CACHE_OK)
        return rc;
    cache__smem_str(&m, member, mlen);
    cache__mlock_lock(c, &lk);
    struct item *sit = cache__lookup_locked(ss, hash[0], src, slen, now);
    struct item *dit = sit ? cache__lookup_locked(sd, hash[1], dst, dlen, now) : NULL;
    if (!sit) {
        rc = CACHE_NOTFOUND;
    } else if (sit->type != CACHE_TYPE_SET || (dit && dit->type != CACHE_TYPE_SET)) {
        rc = CACHE_E_WRONGTYPE;
    } else if (!cache__set_has_locked(ss, sit, &m)) {
        rc = CACHE_NOELEM;
    } else if (cache__same_key(src, slen, dst, dlen)) {
        rc = CACHE_OK;   /* a member already where it is asked to go */
    } else {
        if (!dit) {
            if (!(dit = cache__set_new(c, hash[1], dst, dlen, &m, 1))) {
                rc = CACHE_E_NOMEM;
                goto out_unlock;
            }
            cache__link_locked(sd, dit, now);
        }
        int r = cache__set_add_locked(sd, &dit, &m);
        if (r >= 0) {
            (void)cache__set_rem_locked(ss, &sit, &m);
            if (cache__set_card(sit) == 0) {
                cache__delete_locked(ss, sit, CACHE__WHY_SERVER_DEL);
                cache__shard_tidy_locked(ss);
            } else {
                cache__lru_bump_locked(ss, sit, now);
            }
        }
        rc = r < 0 ? r : CACHE_OK;
        if (cache__set_card(dit) == 0) {   /* created, then the add failed */
            cache__delete_locked(sd, dit, CACHE__WHY_SERVER_DEL);
            cache__shard_tidy_locked(sd);
        } else {
            cache__lru_bump_locked(sd, dit, now);
        }
    }
out_unlock:
    cache__mlock_unlock(c, &lk);
    cache__mlock_free(&lk);
    return rc;
}

/* ---- SINTER, SUNION, SDIFF and their STORE forms, SINTERCARD ----------------- */

struct setop_run {
    struct cache *c;
    const struct cache_setop *op;
    uint64_t *hash;          /* the sources', then (STORE) the destination's */
    struct item **items;     /* the sources (NULL: missing) */
    struct shard **shards;   /* each source's shard */
    struct cache_keys *out;  /* where members go: the caller's, or (STORE) acc */
    struct cache_keys acc;   /* STORE: the result, to build the destination from */
    struct cache__set_ht *seen;  /* SUNION: members already emitted */
    uint64_t card;
    int64_t now;
    struct cache_setop_result *res;
    struct item *nw;         /* STORE: the destination being built */
};

/* One member of the result. 1: the limit is reached, stop. */
static int emit(struct setop_run *r, const struct cache__smem *m, int *err)
{
    r->card++;
    if (!r->op->card_only && (*err = cache__keys_push(r->out, m->k.s, m->k.len)) != CACHE_OK)
        return 1;
    return r->op->limit && r->card >= r->op->limit;
}

/* Is m a member of source j? */
static bool in_source(const struct setop_run *r, size_t j, const struct cache__smem *m)
{
    return r->items[j] && cache__set_has_locked(r->shards[j], r->items[j], m);
}

static int cmp_card(const void *a, const void *b)
{
    size_t x = cache__set_card(*(struct item *const *)a);
    size_t y = cache__set_card(*(struct item *const *)b);
    return x < y ? -1 : x > y;
}

/* Members of the smallest set found in every other one (Redis's order of
 * work: the smallest first, so the fewest lookups). A missing source
 * makes the result empty. */
static int do_inter(struct setop_run *r)
{
    size_t n = r->op->nkeys;
    struct item **order = malloc(n * sizeof(*order));
    struct cache__siter i;
    struct cache__smem m;
    int err = CACHE_OK;

    if (!order)
        return CACHE_E_NOMEM;
    for (size_t j = 0; j < n; j++) {
        if (!r->items[j]) {
            free(order);
            return CACHE_OK;
        }
        order[j] = r->items[j];
    }
    qsort(order, n, sizeof(*order), cmp_card);
    cache__set_iter(order[0], &i);
    while (cache__set_next(&i, &m)) {
        bool all = true;
        for (size_t j = 0; j < n && all; j++)
            /* the same key twice is the same item: trivially in it */
            if (r->items[j] != order[0])
                all = in_source(r, j, &m);
        if (all && emit(r, &m, &err))
            break;
    }
    free(order);
    return err;
}

static int do_union(struct setop_run *r)
{
    struct cache__siter i;
    struct cache__smem m;
    int err = CACHE_OK;

    if (!(r->seen = cache__set_ht_new(16)))
        return CACHE_E_NOMEM;
    for (size_t j = 0; j < r->op->nkeys && err == CACHE_OK; j++) {
        if (!r->items[j])
            continue;
        cache__set_iter(r->items[j], &i);
        while (err == CACHE_OK && cache__set_next(&i, &m)) {
            int added = cache__set_ht_add(r->c, NULL, r->seen, m.k.s, m.k.len);
            if (added < 0)
                err = added;
            else if (added)
                (void)emit(r, &m, &err);
        }
    }
    return err;
}

/* Members of the first set in none of the others. The first key named
 * again among the others takes everything away (Redis's "sameset"). */
static int do_diff(struct setop_run *r)
{
    struct cache__siter i;
    struct cache__smem m;
    int err = CACHE_OK;

    if (!r->items[0])
        return CACHE_OK;
    for (size_t j = 1; j < r->op->nkeys; j++)
        if (r->items[j] == r->items[0])
            return CACHE_OK;
    cache__set_iter(r->items[0], &i);
    while (err == CACHE_OK && cache__set_next(&i, &m)) {
        bool other = false;
        for (size_t j = 1; j < r->op->nkeys && !other; j++)
            other = in_source(r, j, &m);
        if (!other)
            (void)emit(r, &m, &err);
    }
    return err;
}

/* Looks the sources up in order; WRONGTYPE at the first of another type
 * (the keys before it counted, as Redis counts its lookups). */
static int lookup_sources(struct setop_run *r, int64_t now, struct cache_setop_result *res)
{
    const struct cache_setop *op = r->op;

    res->hits = res->misses = 0;
    for (size_t j = 0; j < op->nkeys; j++) {
        r->shards[j] = cache__shard_of(r->c, r->hash[j]);
        r->items[j] = cache__lookup_locked(r->shards[j], r->hash[j], op->keys[j].s,
                                           op->keys[j].len, now);
        if (!r->items[j]) {
            res->misses++;
            continue;
        }
        res->hits++;
        if (r->items[j]->type != CACHE_TYPE_SET)
            return CACHE_E_WRONGTYPE;
        cache__lru_touch_locked(r->shards[j], r->items[j], now);
    }
    return CACHE_OK;
}

/* STORE: the destination becomes the result, or goes when it is empty.
 * CACHE__AGAIN: over maxmemory, the locks must be dropped to evict. */
static int store(struct setop_run *r, int64_t now, struct item **nw, int64_t *need)
{
    const struct cache_setop *op = r->op;
    uint64_t hd = r->hash[op->nkeys];
    struct shard *sd = cache__shard_of(r->c, hd);
    struct item *dit = cache__lookup_locked(sd, hd, op->dst, op->dlen, now);

    if (r->acc.count == 0) {
        if (dit) {
            cache__delete_locked(sd, dit, CACHE__WHY_SERVER_DEL);
            cache__shard_tidy_locked(sd);
        }
        return CACHE_OK;
    }
    if (!(*nw = cache__set_build(r->c, hd, op->dst, op->dlen, &r->acc)))
        return CACHE_E_NOMEM;
    *need = (int64_t)cache__item_size(*nw) -
            (dit ? (int64_t)cache__item_size(dit) : -(int64_t)cache__table_grow_cost_locked(sd));
    enum cache__admit adm = cache__admit_locked(sd, *need);
    if (adm != CACHE__FITS) {
        cache__mem_flush_locked(sd);   /* seen by the shards that will evict */
        return adm == CACHE__REFUSE ? CACHE_E_OOM : CACHE__AGAIN;
    }
    if (dit)
        cache__replace_locked(sd, dit, *nw, now);   /* the old value, its TTL too, goes */
    else
        cache__link_locked(sd, *nw, now);
    *nw = NULL;
    return CACHE_OK;
}

static int run_locked(struct setop_run *r, int64_t now, struct cache_setop_result *res,
                      struct item **nw, int64_t *need)
{
    int rc = lookup_sources(r, now, res);

    if (rc != CACHE_OK)
        return rc;
    switch (r->op->op) {
    case CACHE_SINTER: rc = do_inter(r); break;
    case CACHE_SUNION: rc = do_union(r); break;
    default: rc = do_diff(r); break;
    }
    if (rc == CACHE_OK && r->op->dst)
        rc = store(r, now, nw, need);
    return rc;
}

static int attempt(void *arg, struct cache__serve *sv, int64_t *need)
{
    struct setop_run *r = arg;

    (void)sv;
    r->out = r->op->dst ? &r->acc : &r->res->members;
    r->card = 0;
    return run_locked(r, r->now, r->res, &r->nw, need);
}

/* Drops what one attempt built; Context: no shard lock held (a result
 * may be large). */
static void attempt_free(void *arg)
{
    struct setop_run *r = arg;

    if (r->nw)
        cache__item_destroy(r->nw);
    r->nw = NULL;
    if (r->seen)
        cache__set_ht_free(r->seen);
    r->seen = NULL;
    cache_keys_free(&r->acc);
}

int cache_setop(struct cache *c, const struct cache_setop *op, int64_t now,
                struct cache_setop_result *res)
{
    size_t n = op->nkeys + (op->dst != NULL);
    struct setop_run r = {.c = c, .op = op, .now = now, .res = res};
    struct cache_mlock lk = {0};
    int rc = CACHE_E_NOMEM;

    res->card = 0;
    if (op->dst && op->dlen > CACHE_MAX_STRING)
        return CACHE_E_TOOBIG;
    r.hash = cache__hash_keys(c, op->keys, op->nkeys, op->dst, op->dlen);
    r.items = malloc(op->nkeys * sizeof(*r.items));
    r.shards = malloc(op->nkeys * sizeof(*r.shards));
    if (!r.hash || !r.items || !r.shards)
        goto out_free;
    if ((rc = cache__mlock_init(c, &lk, r.hash, n)) != CACHE_OK)
        goto out_free;
    rc = cache__mlock_run(c, &lk, now, attempt, attempt_free, &r);
    res->card = r.card;
    cache__mlock_free(&lk);
out_free:
    free(r.hash);
    free(r.items);
    free(r.shards);
    return rc;
}
