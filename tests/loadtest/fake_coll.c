/*
 * fake_coll: the hashes and sets of the fake RESP server, enough for
 * mmcache-load's hash and set checkers: HSET HGET HINCRBY HGETALL, SADD
 * SREM SISMEMBER SMEMBERS, each key a list of elements searched in turn,
 * in the server's key table (a string and a collection cannot share a
 * key: WRONGTYPE). Faults: hash-wrong-value (an HGET answers another
 * field's value), drop-hincr (an HINCRBY answers n+1 and does not store
 * it), set-missing (an SADD counts a member it does not store), set-extra
 * (an SREM counts a member it does not remove).
 *
 * Context: the fake server's one thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fake_server.h"

/* NUL-terminated, so that a counter reads as a number. */
static char *dup_bytes(const char *p, size_t n)
{
    char *d = malloc(n + 1);

    memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

/* The key's item of `type`, created when `create`; NULL when missing. */
static struct item *coll(struct conn *c, redisReply *k, int type, bool create, bool *wrong)
{
    struct item **pp = fake_find(k->str, k->len), *it = *pp;

    *wrong = false;
    if (it != NULL && it->type != type) {
        out(c, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 68);
        *wrong = true;
        return NULL;
    }
    if (it == NULL && create) {
        it = calloc(1, sizeof(*it));
        it->key = dup_bytes(k->str, k->len);
        it->klen = k->len;
        it->type = type;
        *pp = it;
    }
    return it;
}

static struct elem *elem_find(struct item *it, const char *f, size_t n)
{
    for (size_t i = 0; it != NULL && i < it->nel; i++)
        if (it->el[i].flen == n && memcmp(it->el[i].f, f, n) == 0)
            return &it->el[i];
    return NULL;
}

/* Adds element f (value v, or none for a set); false if it was there
 * (a hash's value is replaced). */
static bool elem_put(struct item *it, const char *f, size_t flen, const char *v, size_t vlen)
{
    struct elem *e = elem_find(it, f, flen);
    bool added = e == NULL;

    if (added) {
        if (it->nel == it->elcap) {
            it->elcap = it->elcap ? it->elcap * 2 : 8;
            it->el = realloc(it->el, it->elcap * sizeof(*it->el));
        }
        e = &it->el[it->nel++];
        e->f = dup_bytes(f, flen);
        e->flen = flen;
        e->v = NULL;
    }
    if (v != NULL) {
        free(e->v);
        e->v = dup_bytes(v, vlen);
        e->vlen = vlen;
    }
    return added;
}

static void elem_del(struct item *it, struct elem *e)
{
    free(e->f);
    free(e->v);
    *e = it->el[--it->nel];
}

static void cmd_hash(struct conn *c, redisReply **a, size_t n, const char *name)
{
    bool wrong;
    bool write = strcasecmp(name, "HSET") == 0 || strcasecmp(name, "HINCRBY") == 0;
    struct item *it = coll(c, a[1], T_HASH, write, &wrong);

    if (wrong)
        return;
    if (!write)
        count_lookup(it != NULL);
    if (strcasecmp(name, "HSET") == 0) {
        long long added = 0;
        for (size_t i = 2; i + 1 < n; i += 2)
            added += elem_put(it, a[i]->str, a[i]->len, a[i + 1]->str, a[i + 1]->len);
        outf(c, ":%lld\r\n", added);
    } else if (strcasecmp(name, "HGET") == 0) {
        struct elem *e = elem_find(it, a[2]->str, a[2]->len), *other = NULL;
        for (size_t i = 0; e && i < it->nel && !other; i++)
            if (&it->el[i] != e && it->el[i].flen == e->flen && it->el[i].f[0] == 'f')
                other = &it->el[i];      /* another tagged field */
        if (e == NULL)
            out(c, "$-1\r\n", 5);
        else if (other && turn(F_HASH_WRONG))
            bulk(c, other->v, other->vlen);
        else
            bulk(c, e->v, e->vlen);
    } else if (strcasecmp(name, "HINCRBY") == 0) {
        struct elem *e = elem_find(it, a[2]->str, a[2]->len);
        char tmp[32];
        long long v = e ? strtoll(e->v, NULL, 10) : 0;
        v += strtoll(a[3]->str, NULL, 10);
        outf(c, ":%lld\r\n", v);
        if (!turn(F_DROP_HINCR))         /* answered, not stored: a lost increment */
            elem_put(it, a[2]->str, a[2]->len, tmp, (size_t)snprintf(tmp, sizeof(tmp), "%lld", v));
    } else {                             /* HGETALL */
        outf(c, "*%zu\r\n", it ? 2 * it->nel : 0);
        for (size_t i = 0; it && i < it->nel; i++) {
            bulk(c, it->el[i].f, it->el[i].flen);
            bulk(c, it->el[i].v, it->el[i].vlen);
        }
    }
}

static void cmd_set(struct conn *c, redisReply **a, size_t n, const char *name)
{
    bool wrong, add = strcasecmp(name, "SADD") == 0, rem = strcasecmp(name, "SREM") == 0;
    struct item *it = coll(c, a[1], T_SET, add, &wrong);
    long long count = 0;

    if (wrong)
        return;
    if (!add && !rem)
        count_lookup(it != NULL);
    if (add || rem) {
        for (size_t i = 2; i < n; i++) {
            struct elem *e = elem_find(it, a[i]->str, a[i]->len);
            if (add && !e) {
                count++;
                if (!turn(F_SET_MISSING))    /* counted, not stored */
                    elem_put(it, a[i]->str, a[i]->len, NULL, 0);
            } else if (rem && e) {
                count++;
                if (!turn(F_SET_EXTRA))      /* counted, not removed */
                    elem_del(it, e);
            }
        }
        if (it && it->nel == 0)
            fake_del_key(a[1]->str, a[1]->len);
        outf(c, ":%lld\r\n", count);
    } else if (strcasecmp(name, "SISMEMBER") == 0) {
        outf(c, ":%d\r\n", elem_find(it, a[2]->str, a[2]->len) != NULL);
    } else {                             /* SMEMBERS */
        outf(c, "*%zu\r\n", it ? it->nel : 0);
        for (size_t i = 0; it && i < it->nel; i++)
            bulk(c, it->el[i].f, it->el[i].flen);
    }
}

static bool is_one_of(const char *name, const char *const *names)
{
    for (; *names; names++)
        if (strcasecmp(name, *names) == 0)
            return true;
    return false;
}

bool fake_coll_run(struct conn *c, redisReply **a, size_t n)
{
    const char *name = a[0]->str;

    if (n >= 2 && is_one_of(name, (const char *const[]){ "HSET", "HGET", "HINCRBY", "HGETALL",
                                                         NULL }))
        cmd_hash(c, a, n, name);
    else if (n >= 2 && is_one_of(name, (const char *const[]){ "SADD", "SREM", "SISMEMBER",
                                                              "SMEMBERS", NULL }))
        cmd_set(c, a, n, name);
    else
        return false;
    return true;
}
