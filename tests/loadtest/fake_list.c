/*
 * fake_list: the lists of the fake RESP server, enough for mmcache-load's
 * queue checker: LPUSH RPOP BRPOP LRANGE LLEN, and DEL through
 * fake_list_del. BRPOP answers at once (nil when the list is empty, as a
 * timeout would): the fake serves one client at a time and the checker
 * does not time it. Three faults: queue-lose (a pop takes an element and
 * answers nil), queue-dup (an RPOP answers an element and keeps it),
 * queue-reorder (an LPUSH puts its element under the head).
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
    size_t n, cap;
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
        }
        char *v = malloc(a[i]->len + 1);
        memcpy(v, a[i]->str, a[i]->len);
        size_t at = l->n;
        if (l->n > 0 && turn(F_QUEUE_REORDER))
            at--;   /* under the head: the two newest swap places */
        memmove(&l->e[at + 1], &l->e[at], (l->n - at) * sizeof(*l->e));
        memmove(&l->len[at + 1], &l->len[at], (l->n - at) * sizeof(*l->len));
        l->e[at] = v;
        l->len[at] = a[i]->len;
        l->n++;
    }
    outf(c, ":%zu\r\n", l->n);
}

/* Takes the tail into *v (the caller frees); false when there is none. */
static bool rpop(const redisReply *k, bool keep, char **v, size_t *len)
{
    struct flist **pp = find(k->str, k->len), *l = *pp;

    if (l == NULL)
        return false;
    *v = l->e[0];
    *len = l->len[0];
    if (keep) {   /* queue-dup: answered, and left where it was */
        *v = malloc(*len + 1);
        memcpy(*v, l->e[0], *len);
        return true;
    }
    memmove(&l->e[0], &l->e[1], (l->n - 1) * sizeof(*l->e));
    memmove(&l->len[0], &l->len[1], (l->n - 1) * sizeof(*l->len));
    if (--l->n == 0) {
        *pp = l->next;
        list_free(l);
    }
    return true;
}

static void pop_reply(struct conn *c, redisReply *key, bool blocking)
{
    char *v;
    size_t len;

    if (!rpop(key, !blocking && turn(F_QUEUE_DUP), &v, &len)) {
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
    long long n = l ? (long long)l->n : 0, start = atoll(a[2]->str), end = atoll(a[3]->str);

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
    for (long long i = start; i <= end; i++)   /* index 0 is the head */
        bulk(c, l->e[n - 1 - i], l->len[n - 1 - i]);
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
        outf(c, ":%zu\r\n", l ? l->n : 0);
    } else {
        return false;
    }
    return true;
}
