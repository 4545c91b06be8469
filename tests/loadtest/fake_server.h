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
};

struct conn {
    struct conn *prev, *next;        /* the server's list: freed at exit */
    int fd;
    redisReader *rd;
    char *out;
    size_t out_len, out_cap;
};

/* Replies, appended to the connection's output. */
void out(struct conn *c, const char *p, size_t n);
void outf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void bulk(struct conn *c, const char *p, size_t n);
/* Is it the fault f's turn (past --after, every --every-th chance)? */
bool turn(enum fault f);
/* A read lookup for INFO's keyspace_hits / keyspace_misses. */
void count_lookup(bool hit);
/* The key table: where key k's item is or would be linked; DEL of a
 * string, hash or set key (1 if there was one). */
struct item **fake_find(const char *k, size_t n);
int fake_del_key(const char *k, size_t n);

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
