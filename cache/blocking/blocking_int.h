/*
 * cache/blocking/: multi-key pops and moves (LMPOP, LMOVE, RPOPLPUSH) and the
 * blocking ones (BLPOP BRPOP BLMPOP BLMOVE BRPOPLPUSH), type-agnostic in
 * its waiting part so that the sorted sets' BZPOP* can use it.
 *
 * The design (docs/locking.md, "Blocking pops", has the argument):
 *
 *  - A key with blocked clients has a wait list, a FIFO of entries, in
 *    its shard's `bkeys` table, guarded by that shard's lock: the lock
 *    that also guards the key's value. A client blocked on n keys has one
 *    entry on each, all in one allocation, its struct cache_bpop.
 *  - cache_bpop locks every shard involved (index order), checks the keys
 *    and either pops or appends its entries, before unlocking. A push
 *    takes the same lock, and before unlocking hands what it pushed to
 *    the waiters of the key, first come first served. Checking and
 *    waiting are one critical section, pushing and serving another, on
 *    the same lock: no element can arrive unseen between them (the lost
 *    wake-up).
 *  - A wait is claimed exactly once: the serving thread CASes its state
 *    WAITING -> SERVED under the shard lock, the owner's timeout or
 *    disconnect CASes WAITING -> CANCELLED without it. Whoever wins owns
 *    what follows; the loser backs off (the owner then waits for the
 *    wake, which is on its way).
 *  - The server's wake callback is never called under a shard lock: the
 *    served waits are collected in a struct cache__serve and woken by
 *    cache__serve_end once every lock is released. A served move whose
 *    destination lives in a shard the server does not hold is finished
 *    there too, before its wake.
 *
 * The parts: waits.c (the wait lists and the claim), serve.c (serving
 * the waiters of a key that got elements, the moves and give-backs that
 * finish after the unlock, the wakes), bpop.c (the requests: check and
 * pop, or wait; cancel; take the outcome).
 *
 * Context: any thread; the owner of a cache_bpop is the one thread that
 * created it (a worker), and only it cancels or takes it.
 */
#ifndef MMCACHE_BLOCKING_INT_H
#define MMCACHE_BLOCKING_INT_H

#include <stdbool.h>
#include <string.h>

#include "t_list.h"

enum { BP_WAITING = 0, BP_SERVED, BP_CANCELLED };

/* A key with blocked clients. */
struct cache__bkey {
    struct cache__tnode node;          /* guarded by: shard lock; hash: the key's */
    struct cache__bent *head, *tail;   /* guarded by: shard lock; the FIFO */
    uint32_t klen;                     /* immutable */
    char key[];                        /* immutable */
};

/* One wait on one key. */
struct cache__bent {
    struct cache__bent *prev, *next;   /* guarded by: the key's shard lock */
    struct cache__bkey *bk;            /* guarded by: same; NULL once unlinked */
    struct cache_bpop *w;              /* immutable */
    const char *key;                   /* immutable: bytes in w's allocation */
    size_t klen;                       /* immutable */
    uint64_t h;                        /* immutable: the key's hash */
};

struct cache_bpop {
    /* WAITING -> SERVED by a serving thread (CAS under the shard lock of
     * the key it serves), or WAITING -> CANCELLED by the owner (CAS, no
     * lock). acq_rel: the winner's later writes are its own; the pairing
     * that publishes the result is the wake's (the server's lock between
     * the serving thread and the owner). */
    _Atomic int state;
    int from, to;                      /* immutable */
    bool zset;                         /* immutable: a sorted set pop (kinds.c) */
    uint64_t count;                    /* immutable */
    void (*wake)(void *arg);           /* immutable */
    void *arg;                         /* immutable */
    /* The serving thread's lists (struct cache__serve), between its claim
     * and the wake. owned by: the thread that claimed it. */
    struct cache_bpop *snext, *rnext;
    /* The outcome. owned by: the claiming thread until the wake, then
     * the owner (the wake publishes them: see `state`). */
    int rc;
    uint32_t served;                   /* the key it was served from */
    struct cache_keys res;             /* the popped elements */
    const char *dst;                   /* immutable: a move's destination */
    size_t dlen;                       /* immutable: dst's length */
    uint64_t dh;                       /* immutable: dst's hash */
    size_t nkeys;                      /* immutable */
    struct cache__bent ent[];          /* one per key; key bytes follow */
};

/* ---- waits.c: the wait lists ---------------------------------------------
 * Context: s locked (the key's shard). */
struct cache__bkey *cache__bkey_find(struct shard *s, uint64_t h, const char *key,
                                     size_t klen);
/* The wait list of key, created if missing; NULL on ENOMEM. */
struct cache__bkey *cache__bkey_get(struct shard *s, uint64_t h, const char *key,
                                    size_t klen);
void cache__bkey_drop_if_empty(struct shard *s, struct cache__bkey *b);
void cache__bent_append(struct cache__bkey *b, struct cache__bent *e);
void cache__bent_unlink(struct cache__bent *e);
/* Context: no shard lock held; w no longer WAITING. */
void cache__bpop_unlink_all(struct cache *c, struct cache_bpop *w);
/* WAITING -> SERVED; false when its owner cancelled it first. */
bool cache__bpop_claim(struct cache_bpop *w);

/* ---- serve.c: elements back into a key --------------------------------- */
int cache__push_records_locked(struct shard *s, uint64_t h, const char *key,
                               size_t klen, int where, const struct cache_keys *elems,
                               int64_t now);
void cache__give_back(struct cache *c, struct cache__serve *sv, struct cache_bpop *w,
                      int64_t now);

/* ---- kinds.c: the types popped (a list, or a sorted set for w->zset) ---- */
int cache__bkind_type(const struct cache_bpop *w);
bool cache__bkind_fits(const struct cache_bpop *w, const struct item *it);
size_t cache__bkind_len(const struct item *it);   /* 0 for other types */
/* Pops w's count from w's end of *itp into out (member and score records
 * for a sorted set). Context: s locked. */
int cache__bkind_pop_locked(struct shard *s, struct item **itp, const struct cache_bpop *w,
                            struct cache_keys *out);
/* w's popped elements back into the key e (a client gone before its
 * reply): a list's at the end they came from, in reverse; a sorted set's
 * members with their scores unless there again. OK, WRONGTYPE (the key is
 * another type now: dropped), E_NOMEM. Context: s locked. */
int cache__bkind_back_locked(struct shard *s, const struct cache__bent *e,
                             const struct cache_bpop *w, int64_t now);

#endif
