/*
 * fake_server.h: what the fake RESP server's parts share (fake_server.c,
 * fake_list.c, fake_coll.c, fake_zset.c). One thread: nothing here is synchronised.
 */
#ifndef MMCACHE_FAKE_SERVER_H
#define MMCACHE_FAKE_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include <hiredis/hiredis.h>

enum fault {
    F_NONE, F_WRONG_VALUE, F_CORRUPT, F_DROP_INCR, F_STALL, F_RESET, F_EXIT,
    F_STATS_UNDER, F_INFO_BACK, F_CFG_TORN, F_CFG_STALE, F_CFG_REFUSE,
    F_QUEUE_LOSE, F_QUEUE_DUP, F_QUEUE_REORDER,
    F_HASH_WRONG, F_DROP_HINCR, F_SET_MISSING, F_SET_EXTRA,
    F_ZSET_SCORE, F_ZSET_DISORDER, F_ZPOP_DUP, F_DROP_INCR_EXIT,
    F_TXN_INTERLEAVE, F_TXN_HALF, F_MGET_TORN, F_WATCH_IGNORE,
};

/* A field and its value (a hash), a member (a set: no value), or a
 * member and its score as text (a sorted set). */
struct elem {
    char *f, *v;
    size_t flen, vlen;
};

enum { T_STRING, T_HASH, T_SET, T_ZSET };

/* A key of the server's table (fake_server.c). */
struct item {
    struct item *next;
    char *key, *val;
    size_t klen, vlen;
    int type;
    struct elem *el;                 /* T_HASH, T_SET, T_ZSET */
    size_t nel, elcap;
    unsigned long long ver;          /* T_STRING: bumped by every write (WATCH) */
    char *old;                       /* T_STRING: the value before the last write */
    size_t oldlen;
};

/* A key WATCHed, and its version then (0: missing). */
struct watched {
    char *key;
    size_t klen;
    unsigned long long ver;
};

struct conn {
    struct conn *prev, *next;        /* the server's list: freed at exit */
    int fd;
    redisReader *rd;
    char *out;
    size_t out_len, out_cap;
    /* MULTI (fake_txn.c) */
    bool in_multi, took;             /* took: the command was queued, not freed */
    bool in_exec;                    /* running a queued command: the reset and
                                        exit faults wait for one from the socket */
    redisReply **queue;
    size_t nqueued, qcap, step;      /* step > 0: an EXEC running one command per turn */
    struct watched *watch;
    size_t nwatch;
};

/* Replies, appended to the connection's output. */
void out(struct conn *c, const char *p, size_t n);
void outf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void bulk(struct conn *c, const char *p, size_t n);
/* Is the fault f the one chosen, and past --after? */
bool armed(enum fault f);
/* Is it the fault f's turn (armed, and its every --every-th chance)? */
bool turn(enum fault f);
/* A read lookup for INFO's keyspace_hits / keyspace_misses. */
void count_lookup(bool hit);
/* The key table: where key k's item is or would be linked; DEL of a
 * string, hash or set key (1 if there was one). */
struct item **fake_find(const char *k, size_t n);
int fake_del_key(const char *k, size_t n);
/* Run one command (false: close the connection); a string key's value
 * put back to what it was before its last write (txn-half). */
bool fake_run(struct conn *c, redisReply *r);
void fake_undo_write(const char *k, size_t n);

/* fake_txn.c: MULTI EXEC DISCARD WATCH UNWATCH, and queueing inside
 * MULTI: true when it took the command. fake_txn_step runs the next
 * command of an EXEC that runs one per turn (true while more are left);
 * fake_txn_free drops a connection's transaction state. */
bool fake_txn_run(struct conn *c, redisReply *r);
bool fake_txn_step(struct conn *c);
void fake_txn_free(struct conn *c);

/* fake_list.c: runs a list command (true), or leaves it (false). */
bool fake_list_run(struct conn *c, redisReply **a, size_t n);
/* DEL of a list key: 1 if there was one. */
int fake_list_del(const char *k, size_t n);
void fake_list_free_all(void);

/* fake_coll.c: a NUL-terminated copy; the key's item of `type`, created
 * when `create`, NULL when missing or (*wrong: WRONGTYPE answered) of
 * another type. */
char *fake_dup(const char *p, size_t n);
struct item *fake_coll_item(struct conn *c, redisReply *k, int type, bool create, bool *wrong);
/* fake_coll.c: runs a hash or set command (true), or leaves it (false). */
bool fake_coll_run(struct conn *c, redisReply **a, size_t n);
/* fake_zset.c: the same for a sorted set command. */
bool fake_zset_run(struct conn *c, redisReply **a, size_t n);

#endif
