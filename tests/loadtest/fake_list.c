/*
 * fake_list: the lists of the fake RESP server, enough for mmcache-load's
 * queue checker: LPUSH RPOP BRPOP LRANGE LLEN, and DEL through
 * fake_list_del. BRPOP answers at once (nil when the list is empty, as a
 * timeout would): the fake serves one client at a time and the checker
 * does not time it. Three faults: queue-lose (a pop takes an element and
 * answers nil), queue-dup (an RPOP answers an element and keeps it),
 * queue-reorder (a pop hands a producer's newer element out before its
 * older one, which it keeps back for the same client's next pop of that
 * list: that client sees the two out of the order pushed, whoever else
 * pops, and a run that ends first finds the older one still at the tail
 * while the newer was popped; swapping neighbours at LPUSH was caught only
 * when the same one of four consumers happened to pop both, about half
 * the runs). Until a chance comes, pops answer as if the list were empty,
 * so that it comes even when the consumers keep up.
 *
 * Context: the fake server's one thread.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fake_server.h"

/* A list: elements tail first (e[0] the tail, e[n-1] the head), so LPUSH
 * appends and RPOP takes e[0]. */
struct flist {
    struct flist *next;
    char *key;
    size_t klen;
    char **e;
    size_t *len;
    const struct conn **by;        /* who pushed each element (its producer) */
    size_t n, cap;
    /* queue-reorder: an element kept back from the tail, for `held_for`'s
     * next pop; it is still the list's oldest (LRANGE shows it there) */
    char *held;
    size_t held_len;
    const struct conn *held_for;
};

static struct flist *lists;

static struct flist **find(const char *k, size_t klen)
{
    struct flist **pp = &lists;

    while (*pp && !((*pp)->klen == klen && memcmp((*pp)->key, k, klen) == 0))
        pp = &(*pp)->next;
    return pp;
}

static void list_free(struct flist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->e[i]);
    free(l->e);
    free(l->len);
    free(l->by);
    free(l->held);
    free(l->key);
    free(l);
}

int fake_list_del(const char *k, size_t n)
{
    struct flist **pp = find(k, n), *l = *pp;

    if (l == NULL)
        return 0;
    *pp = l->next;
    list_free(l);
    return 1;
}

void fake_list_free_all(void)
{
    while (lists != NULL) {
        struct flist *l = lists;
        lists = l->next;
        list_free(l);
    }
}

static void lpush(struct conn *c, redisReply **a, size_t n)
{
    struct flist **pp = find(a[1]->str, a[1]->len), *l = *pp;

    if (l == NULL) {
        l = calloc(1, sizeof(*l));
        l->key = malloc(a[1]->len + 1);
        memcpy(l->key, a[1]->str, a[1]->len);
        l->klen = a[1]->len;
        *pp = l;
    }
    for (size_t i = 2; i < n; i++) {
        if (l->n == l->cap) {
            l->cap = l->cap ? 2 * l->cap : 64;
            l->e = realloc(l->e, l->cap * sizeof(*l->e));
            l->len = realloc(l->len, l->cap * sizeof(*l->len));
            l->by = realloc(l->by, l->cap * sizeof(*l->by));
        }
        char *v = malloc(a[i]->len + 1);
        memcpy(v, a[i]->str, a[i]->len);
        l->e[l->n] = v;
        l->len[l->n] = a[i]->len;
        l->by[l->n] = c;
        l->n++;
    }
    outf(c, ":%zu\r\n", l->n + (l->held != NULL));
}

/* Removes element i, handing it to *v (the caller frees). */
static void take(struct flist *l, size_t i, char **v, size_t *len)
{
    *v = l->e[i];
    *len = l->len[i];
    memmove(&l->e[i], &l->e[i + 1], (l->n - i - 1) * sizeof(*l->e));
    memmove(&l->len[i], &l->len[i + 1], (l->n - i - 1) * sizeof(*l->len));
    memmove(&l->by[i], &l->by[i + 1], (l->n - i - 1) * sizeof(*l->by));
    l->n--;
}

/* queue-reorder's chance: the tail's producer has a newer element in the
 * list too (its index, else 0) and nothing is held back yet. */
static size_t reorder_pick(const struct flist *l)
{
    if (l->held != NULL)
        return 0;
    for (size_t j = 1; j < l->n; j++)
        if (l->by[j] == l->by[0])
            return turn(F_QUEUE_REORDER) ? j : 0;
    return 0;
}

/* Takes the tail into *v (the caller frees); false when there is none. */
static bool rpop(const struct conn *c, const redisReply *k, bool keep, char **v, size_t *len)
{
    struct flist **pp = find(k->str, k->len), *l = *pp;

    if (l == NULL)
        return false;
    if (l->held != NULL && l->held_for == c) {   /* what queue-reorder kept back */
        *v = l->held;
        *len = l->held_len;
        l->held = NULL;
    } else if (l->n == 0) {
        return false;   /* only the one kept back for another client */
    } else if (keep) {   /* queue-dup: answered, and left where it was */
        *len = l->len[0];
        *v = malloc(*len + 1);
        memcpy(*v, l->e[0], *len);
        return true;
    } else {
        size_t j = reorder_pick(l);
        if (j > 0) {   /* the newer one now, the older kept for c */
            take(l, j, v, len);
            take(l, 0, &l->held, &l->held_len);
            l->held_for = c;
        } else if (l->held == NULL && armed(F_QUEUE_REORDER)) {
            /* No chance yet: answer as if empty (BRPOP's timeout) and
             * keep the tail until its producer pushes a newer one, so the
             * chance comes whatever the timing: while the consumers kept
             * up, a starved ASan run saw 1,208 pushes and no chance. */
            return false;
        } else {
            take(l, 0, v, len);
        }
    }
    if (l->n == 0 && l->held == NULL) {
        *pp = l->next;
        list_free(l);
    }
    return true;
}

static void pop_reply(struct conn *c, redisReply *key, bool blocking)
{
    char *v;
    size_t len;

    if (!rpop(c, key, !blocking && turn(F_QUEUE_DUP), &v, &len)) {
        out(c, blocking ? "*-1\r\n" : "$-1\r\n", 5);
        return;
    }
    if (turn(F_QUEUE_LOSE)) {   /* taken, and never handed out */
        free(v);
        out(c, blocking ? "*-1\r\n" : "$-1\r\n", 5);
        return;
    }
    if (blocking) {
        out(c, "*2\r\n", 4);
        bulk(c, key->str, key->len);
    }
    bulk(c, v, len);
    free(v);
}

static void lrange(struct conn *c, redisReply **a)
{
    struct flist *l = *find(a[1]->str, a[1]->len);
    long long held = l && l->held, n = l ? (long long)l->n + held : 0;
    long long start = atoll(a[2]->str), end = atoll(a[3]->str);

    count_lookup(l != NULL);   /* LRANGE is a read, as Redis counts */
    if (start < 0)
        start += n;
    if (end < 0)
        end += n;
    if (start < 0)
        start = 0;
    if (end >= n)
        end = n - 1;
    if (start > end) {
        out(c, "*0\r\n", 4);
        return;
    }
    outf(c, "*%lld\r\n", end - start + 1);
    for (long long i = start; i <= end; i++) {   /* index 0 is the head */
        if (held && i == n - 1)
            bulk(c, l->held, l->held_len);   /* held back: still the oldest */
        else
            bulk(c, l->e[n - 1 - held - i], l->len[n - 1 - held - i]);
    }
}

bool fake_list_run(struct conn *c, redisReply **a, size_t n)
{
    const char *name = a[0]->str;

    if (strcasecmp(name, "LPUSH") == 0 && n >= 3)
        lpush(c, a, n);
    else if (strcasecmp(name, "RPOP") == 0 && n == 2)
        pop_reply(c, a[1], false);
    else if (strcasecmp(name, "BRPOP") == 0 && n == 3)
        pop_reply(c, a[1], true);
    else if (strcasecmp(name, "LRANGE") == 0 && n == 4)
        lrange(c, a);
    else if (strcasecmp(name, "LLEN") == 0 && n == 2) {
        struct flist *l = *find(a[1]->str, a[1]->len);
        count_lookup(l != NULL);
        outf(c, ":%zu\r\n", l ? l->n + (l->held != NULL) : 0);
    } else {
        return false;
    }
    return true;
}
