/*
 * scan.c: whole-keyspace iteration: SCAN, KEYS, RANDOMKEY.
 *
 * Every iteration here holds the lock of the shard it walks, and only that
 * one (shard by shard), and copies keys out before unlocking. Expired keys
 * are skipped, not deleted (deleting would resize under the cursor).
 *
 * SCAN cursor layout: low shard_bits bits = shard index, the rest = that
 * shard's reverse-binary table cursor (table.c). Shards are visited in
 * index order; a shard's cursor coming back to 0 moves to the next shard,
 * and 0 after the last shard ends the scan.
 */
#include <stdlib.h>
#include <string.h>

#include "cache_int.h"

struct emit_ctx {
    struct cache_keys *out;
    int64_t now;
    const struct shard *s;   /* the shard being scanned (its TTL index) */
    int type;       /* -1: any */
    int err;
};

static int emit_key(void *arg, struct item *it)
{
    struct emit_ctx *e = arg;

    if (item_expired(e->s, it, e->now) || (e->type >= 0 && it->type != e->type))
        return 0;
    if (cache__keys_push(e->out, item_key(it), item_klen(it)) != CACHE_OK) {
        e->err = CACHE_E_NOMEM;
        return 1;
    }
    return 0;
}

uint64_t cache_scan(struct cache *c, uint64_t cursor, size_t count, int type,
                    int64_t now, struct cache_keys *out, int *err)
{
    unsigned bits = c->shard_bits;
    unsigned si = (unsigned)(cursor & (c->nshards - 1));
    uint64_t v = bits ? cursor >> bits : cursor;
    size_t start = out->count, visits = 0;
    struct emit_ctx e = {out, now, NULL, type, 0};

    if (count == 0)
        count = 1;
    *err = 0;
    for (;;) {
        struct shard *s = &c->shards[si];
        int stop = 0;
        e.s = s;
        cache__shard_rdlock(s);   /* a pure read: shared on an rw shard */
        if (RLX_LOAD(s->count) == 0) {
            /* Nothing to return here (checked under the lock, so no key
             * present for the whole scan is skipped): one visit, not one
             * per bucket, or scanning many empty shards would take many
             * round trips (1024 shards x 4 buckets, COUNT 10: 41 calls). */
            v = 0;
            visits++;
        } else {
            do {
                v = cache__table_scan_locked(s, v, emit_key, &e, &stop);
                visits++;
            } while (v != 0 && !stop && out->count - start < count &&
                     visits < count * 10);
        }
        cache__shard_rdunlock(s);
        if (e.err) {
            *err = e.err;
            return cursor;   /* retry from where this call began */
        }
        if (v == 0) {
            if (++si == c->nshards)
                return 0;
        }
        if (out->count - start >= count || visits >= count * 10)
            break;
    }
    return (v << bits) | si;
}

/* Appends the live keys of one shard, newest first (the LRU order). */
static int copy_keys_locked(struct shard *s, int64_t now,
                            struct cache_keys *out, bool unlocked)
{
    unsigned n = 0;

    for (struct item *it = s->lru_head; it; it = it->next) {
        /* BUG 14 amplifier: give the writers a turn every 8 items. */
        if (unlocked && (++n & 7) == 0)
            inject_window();
        if (item_expired(s, it, now))
            continue;
        int rc = cache__keys_push(out, item_key(it), item_klen(it));
        if (rc != CACHE_OK)
            return rc;
    }
    return CACHE_OK;
}

/* Copies the live keys of one shard, under its lock. */
static int keys_of_shard(struct shard *s, int64_t now, struct cache_keys *out)
{
    int rc;

    if (!INJECT(14)) {
        cache__shard_rdlock(s);
        rc = copy_keys_locked(s, now, out, false);
        cache__shard_rdunlock(s);
    } else {
        /* BUG 14 (range over map while writing): "KEYS only reads", so it
         * walks the shard's LRU list without the shard lock while other
         * workers insert, move (a GET's bump, a write) and free items.
         * The walk follows next pointers that are being rewritten: it
         * ends early at an item just unlinked (next = NULL), restarts at
         * the head after one just moved there (keys twice), or steps into
         * freed memory (garbage keys, a crash). */
        rc = copy_keys_locked(s, now, out, true);
    }
    return rc;
}

int cache_keys(struct cache *c, int64_t now, struct cache_keys *out)
{
    if (!INJECT(8)) {
        for (unsigned i = 0; i < c->nshards; i++) {
            int rc = keys_of_shard(&c->shards[i], now, out);
            if (rc != CACHE_OK)
                return rc;
        }
        return CACHE_OK;
    }
    /* BUG 8 (slice header race): KEYS gathers into one buffer kept by the
     * cache, c->keys_shared {buf, len, cap}, "so a big KEYS does not
     * regrow from 256 bytes every time", and copies it out once. Every
     * append holds a shard lock, which looks safe, but two KEYS running
     * on two workers hold *different* shard locks: both read len, both
     * write at it, one resets it to 0 under the other, one reallocs buf
     * while the other writes into the old one. Results lose keys, repeat
     * keys, mix records; the copy may read freed memory. */
    struct cache_keys *k = &c->keys_shared;
    k->len = 0;
    k->count = 0;
    for (unsigned i = 0; i < c->nshards; i++) {
        int rc = keys_of_shard(&c->shards[i], now, k);
        if (rc != CACHE_OK)
            return rc;
        /* BUG 8 amplifier: hold the buffer 50 us between shards, on the
         * CPU, so a KEYS on the other worker appends or resets it in
         * between. Not inject_window(): a sched_yield on a loaded box
         * hands the core away for a whole scheduler round, so the window
         * depended on what else ran. (The K = 20 matrix of 2026-12-06
         * saw 14/20 mostly because its scenario judged only a sample of
         * the KEYS replies; loadtest/bugs/08.sh now judges all.) */
        if (INJECT_AMPLIFY())
            inject_spin(50000);
    }
    size_t len = k->len;
    char *b = malloc(len ? len : 1);
    if (!b)
        return CACHE_E_NOMEM;
    if (len)
        memcpy(b, k->buf, len);
    out->buf = b;
    out->len = out->cap = len;
    out->count = k->count;
    return CACHE_OK;
}

int cache_randomkey(struct cache *c, int64_t now, struct cache_val *out)
{
    unsigned start = (unsigned)cache__rand();

    for (unsigned j = 0; j < c->nshards; j++) {
        struct shard *s = &c->shards[(start + j) & (c->nshards - 1)];
        if (RLX_LOAD(s->count) == 0)
            continue;
        cache__shard_lock(s);
        /* Like Redis: an expired pick is reaped and another one drawn. */
        for (int tries = 0; tries < 100; tries++) {
            struct item *it = cache__table_random_locked(s);
            if (!it)
                break;
            if (item_expired(s, it, now)) {
                cache__delete_locked(s, it, CACHE__WHY_EXPIRE);
                CTR_ADD_LOCKED(s->expired, 1);
                continue;
            }
            int rc = cache__val_copy(out, item_key(it), item_klen(it));
            cache__shard_unlock(s);
            return rc;
        }
        cache__shard_tidy_locked(s);
        cache__shard_unlock(s);
    }
    return CACHE_NOTFOUND;
}
