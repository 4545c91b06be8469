/*
 * fake_zset: the sorted sets of the fake RESP server, enough for
 * mmcache-load's zset checker: ZADD (NX XX GT LT CH) ZINCRBY ZREM ZSCORE
 * ZRANGE key 0 -1 WITHSCORES ZPOPMIN BZPOPMIN (answered at once, as the
 * fake BRPOP), each key a list of member and score elements kept in no
 * order (ZRANGE sorts a copy, ZPOPMIN looks for the lowest), in the
 * server's key table. Faults: zset-wrong-score (a ZADD or ZINCRBY answers
 * right and stores the score plus one), zset-disorder (a ZRANGE swaps two
 * neighbours), zpop-dup (a ZPOPMIN answers the lowest member and leaves
 * it there).
 *
 * Context: the fake server's one thread.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fake_server.h"

static struct elem *find(struct item *it, const char *m, size_t n)
{
    for (size_t i = 0; it != NULL && i < it->nel; i++)
        if (it->el[i].flen == n && memcmp(it->el[i].f, m, n) == 0)
            return &it->el[i];
    return NULL;
}

static double score_of(const struct elem *e)
{
    return strtod(e->v, NULL);
}

/* Sets member m's score (the element made when new). */
static void put(struct item *it, const char *m, size_t n, double d)
{
    struct elem *e = find(it, m, n);
    char buf[40];

    if (e == NULL) {
        if (it->nel == it->elcap) {
            it->elcap = it->elcap ? it->elcap * 2 : 8;
            it->el = realloc(it->el, it->elcap * sizeof(*it->el));
        }
        e = &it->el[it->nel++];
        e->f = fake_dup(m, n);
        e->flen = n;
        e->v = NULL;
    }
    free(e->v);
    e->vlen = (size_t)snprintf(buf, sizeof(buf), "%.17g", d);
    e->v = fake_dup(buf, e->vlen);
}

static void del(struct item *it, struct elem *e)
{
    free(e->f);
    free(e->v);
    *e = it->el[--it->nel];
}

static void reply_score(struct conn *c, double d)
{
    char buf[40];

    bulk(c, buf, (size_t)snprintf(buf, sizeof(buf), "%.17g", d));
}

static int cmp_elem(const void *a, const void *b)
{
    const struct elem *x = a, *y = b;
    double dx = score_of(x), dy = score_of(y);
    size_t n = x->flen < y->flen ? x->flen : y->flen;
    int c = memcmp(x->f, y->f, n);

    if (dx != dy)
        return dx < dy ? -1 : 1;
    return c ? c : (x->flen > y->flen) - (x->flen < y->flen);
}

/* ZADD key [NX|XX|GT|LT|CH ...] score member ...: the count. */
static void zadd(struct conn *c, redisReply **a, size_t n, struct item *it)
{
    bool nx = false, xx = false, gt = false, lt = false, ch = false;
    long long count = 0;
    size_t i = 2;

    for (; i < n; i++) {
        const char *o = a[i]->str;
        if (strcasecmp(o, "NX") == 0) nx = true;
        else if (strcasecmp(o, "XX") == 0) xx = true;
        else if (strcasecmp(o, "GT") == 0) gt = true;
        else if (strcasecmp(o, "LT") == 0) lt = true;
        else if (strcasecmp(o, "CH") == 0) ch = true;
        else break;
    }
    for (; i + 1 < n; i += 2) {
        double d = strtod(a[i]->str, NULL);
        struct elem *e = find(it, a[i + 1]->str, a[i + 1]->len);
        double wrong = turn(F_ZSET_SCORE) ? 1 : 0;   /* counted right, stored wrong */
        if (e == NULL && !xx) {
            put(it, a[i + 1]->str, a[i + 1]->len, d + wrong);
            count++;
        } else if (e != NULL && !nx) {
            double cur = score_of(e);
            if ((gt && d <= cur) || (lt && d >= cur) || d == cur)
                continue;
            put(it, a[i + 1]->str, a[i + 1]->len, d + wrong);
            count += ch;
        }
    }
    outf(c, ":%lld\r\n", count);
}

/* ZPOPMIN key / BZPOPMIN key timeout (blocking: at once, nil if empty). */
static void zpop(struct conn *c, redisReply *key, struct item *it, bool blocking)
{
    struct elem *low = NULL;

    for (size_t i = 0; it != NULL && i < it->nel; i++)
        if (low == NULL || cmp_elem(&it->el[i], low) < 0)
            low = &it->el[i];
    if (low == NULL) {
        out(c, blocking ? "*-1\r\n" : "*0\r\n", blocking ? 5 : 4);
        return;
    }
    out(c, blocking ? "*3\r\n" : "*2\r\n", 4);
    if (blocking)
        bulk(c, key->str, key->len);
    bulk(c, low->f, low->flen);
    bulk(c, low->v, low->vlen);
    if (blocking || !turn(F_ZPOP_DUP))   /* answered, left there: popped twice */
        del(it, low);
    if (it->nel == 0)
        fake_del_key(key->str, key->len);
}

static void zrange_all(struct conn *c, struct item *it)
{
    size_t n = it ? it->nel : 0;
    struct elem *v = malloc((n ? n : 1) * sizeof(*v));

    if (n)
        memcpy(v, it->el, n * sizeof(*v));
    qsort(v, n, sizeof(*v), cmp_elem);
    if (n >= 2 && turn(F_ZSET_DISORDER)) {   /* two neighbours swapped */
        struct elem t = v[0];
        v[0] = v[1];
        v[1] = t;
    }
    outf(c, "*%zu\r\n", 2 * n);
    for (size_t i = 0; i < n; i++) {
        bulk(c, v[i].f, v[i].flen);
        bulk(c, v[i].v, v[i].vlen);
    }
    free(v);
}

bool fake_zset_run(struct conn *c, redisReply **a, size_t n)
{
    static const char *const names[] = {"ZADD", "ZINCRBY", "ZREM", "ZSCORE", "ZRANGE",
                                        "ZPOPMIN", "BZPOPMIN", NULL};
    const char *name = a[0]->str;
    const char *const *p = names;
    bool wrong, write;

    while (*p && strcasecmp(*p, name) != 0)
        p++;
    if (n < 2 || *p == NULL)
        return false;
    write = strcasecmp(name, "ZADD") == 0 || strcasecmp(name, "ZINCRBY") == 0;
    struct item *it = fake_coll_item(c, a[1], T_ZSET, write, &wrong);
    if (wrong)
        return true;
    if (strcasecmp(name, "ZADD") == 0) {
        zadd(c, a, n, it);
    } else if (strcasecmp(name, "ZINCRBY") == 0 && n == 4) {
        struct elem *e = find(it, a[3]->str, a[3]->len);
        double d = (e ? score_of(e) : 0) + strtod(a[2]->str, NULL);
        reply_score(c, d);
        put(it, a[3]->str, a[3]->len, turn(F_ZSET_SCORE) ? d + 1 : d);
    } else if (strcasecmp(name, "ZREM") == 0) {
        long long count = 0;
        for (size_t i = 2; i < n; i++) {
            struct elem *e = find(it, a[i]->str, a[i]->len);
            if (e) {
                del(it, e);
                count++;
            }
        }
        if (it && it->nel == 0)
            fake_del_key(a[1]->str, a[1]->len);
        outf(c, ":%lld\r\n", count);
    } else if (strcasecmp(name, "ZSCORE") == 0 && n == 3) {
        struct elem *e = find(it, a[2]->str, a[2]->len);
        count_lookup(it != NULL);
        if (e)
            bulk(c, e->v, e->vlen);
        else
            out(c, "$-1\r\n", 5);
    } else if (strcasecmp(name, "ZRANGE") == 0) {
        count_lookup(it != NULL);
        zrange_all(c, it);
    } else if (strcasecmp(name, "ZPOPMIN") == 0 || strcasecmp(name, "BZPOPMIN") == 0) {
        zpop(c, a[1], it, name[0] == 'B' || name[0] == 'b');
    } else {
        return false;
    }
    return true;
}
