/*
 * test_t_list: the list type (cache/quicklist.c, cache/t_list.c,
 * cache/listops.c, and blocking.c's LMPOP/LMOVE).
 *
 * Unit tests pin the encodings and the conversion, the node limits of
 * list-max-listpack-size, WRONGTYPE, memory accounting (MEMORY USAGE is
 * what the shard is charged, charged as it grows, all back on DEL), COPY
 * and RENAME of both encodings, and lazy free of a big list. The property
 * test runs random command sequences on a few keys against a plain model
 * (an array of strings per key), with list-max-listpack-size small and
 * changing (entry counts and byte sizes, elements up to 3 KB) so that
 * every node path runs: conversion, full nodes, splits, merges, LSET
 * across a full node, LTRIM and pops across nodes; after every step it
 * checks the cache's invariants (cache__check_invariants: every
 * listpack, node links, counts, bytes, the memory sum) and the content.
 */
#include <limits.h>
#include <unistd.h>

#include "test_util.h"

#include "t_list.h"

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void set_fill(struct cache *c, int64_t fill)
{
    struct cache_type_limits l;
    cache_type_limits_default(&l);
    l.list_max_listpack_size = fill;
    cache_set_type_limits(c, &l);
}

static int push(struct cache *c, const char *k, int where, const char *v)
{
    struct cache_str e = {S(v)};
    uint64_t len;
    int rc = cache_lpush(c, S(k), where, &e, 1, 0, 1, &len);
    return rc < 0 ? rc : (int)len;
}

static const char *enc_of(struct cache *c, const char *k)
{
    const char *e = NULL;
    int t;
    if (cache_type(c, S(k), 1, &t, &e) != CACHE_OK)
        return "none";
    return e;
}

/* "a b c": the whole list, for comparisons. */
static char *range_str(struct cache *c, const char *k)
{
    static char buf[1 << 16];
    struct cache_keys out = {0};
    uint64_t total;
    size_t pos = 0, len, used = 0;
    const char *s;
    assert_int_equal(cache_lrange(c, S(k), 0, -1, SIZE_MAX, 1, &out, &total) >= 0, 1);
    buf[0] = 0;
    while ((s = cache_keys_next(&out, &pos, &len)) != NULL) {
        used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%.*s",
                                 used ? " " : "", (int)len, s);
    }
    cache_keys_free(&out);
    return buf;
}

static void test_basic_and_wrongtype(void **st)
{
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    struct cache_keys out = {0};
    struct cache_val v = {0};
    uint64_t n;

    assert_int_equal(push(c, "l", CACHE_LIST_TAIL, "b"), 1);
    assert_int_equal(push(c, "l", CACHE_LIST_TAIL, "c"), 2);
    assert_int_equal(push(c, "l", CACHE_LIST_HEAD, "a"), 3);
    assert_string_equal(range_str(c, "l"), "a b c");
    assert_string_equal(enc_of(c, "l"), "listpack");
    assert_int_equal(cache_llen(c, S("l"), 1, &n), CACHE_OK);
    assert_int_equal(n, 3);
    assert_int_equal(cache_lindex(c, S("l"), -1, 1, &v), CACHE_OK);
    assert_memory_equal(v.data, "c", 1);
    assert_int_equal(cache_lindex(c, S("l"), 3, 1, &v), CACHE_NOELEM);
    assert_int_equal(cache_lindex(c, S("nokey"), 0, 1, &v), CACHE_NOTFOUND);
    assert_int_equal(cache_lpop(c, S("l"), CACHE_LIST_TAIL, 2, 1, &out), CACHE_OK);
    assert_int_equal(out.count, 2);
    assert_string_equal(range_str(c, "l"), "a");
    cache_keys_free(&out);
    memset(&out, 0, sizeof(out));
    assert_int_equal(cache_lpop(c, S("l"), CACHE_LIST_HEAD, 5, 1, &out), CACHE_OK);
    assert_int_equal(cache_exists(c, S("l"), 1), CACHE_NOTFOUND);   /* emptied: gone */
    cache_keys_free(&out);
    memset(&out, 0, sizeof(out));
    /* xx on a missing key creates nothing */
    struct cache_str e = {S("x")};
    assert_int_equal(cache_lpush(c, S("l"), CACHE_LIST_HEAD, &e, 1, 1, 1, &n), CACHE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(cache_dbsize(c), 0);

    /* strings and lists refuse each other's commands */
    assert_int_equal(set(c, "s", "x", 1), CACHE_OK);
    assert_int_equal(push(c, "s", CACHE_LIST_HEAD, "a"), CACHE_E_WRONGTYPE);
    assert_int_equal(cache_lpop(c, S("s"), CACHE_LIST_HEAD, 1, 1, &out), CACHE_E_WRONGTYPE);
    assert_int_equal(cache_llen(c, S("s"), 1, &n), CACHE_E_WRONGTYPE);
    assert_int_equal(push(c, "l", CACHE_LIST_HEAD, "a"), 1);
    assert_int_equal(cache_get(c, S("l"), 1, &v), CACHE_E_WRONGTYPE);
    struct cache_kv kv = {S("f"), S("v")};
    assert_int_equal(cache_hset(c, S("l"), &kv, 1, 0, 1, &n), CACHE_E_WRONGTYPE);
    ASSERT_INV(c);
    free(v.data);
    cache_keys_free(&out);
    cache_destroy(c);
}

/* The node limits: n > 0 entries per node; -1 (4 KiB per node, links
 * included); a compact list converts once past one node, never back. */
static void test_fill_and_conversion(void **st)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);
    char v[64];

    set_fill(c, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(push(c, "l", CACHE_LIST_TAIL, "e"), i + 1);
    assert_string_equal(enc_of(c, "l"), "listpack");
    assert_int_equal(push(c, "l", CACHE_LIST_TAIL, "e"), 4);
    assert_string_equal(enc_of(c, "l"), "quicklist");
    for (int i = 0; i < 20; i++)
        push(c, "l", CACHE_LIST_TAIL, "e");
    ASSERT_INV(c);
    uint64_t h = cache__hash(c, S("l"));
    struct shard *s = cache__shard_of(c, h);
    cache__shard_lock(s);
    struct item *it = cache__table_find_locked(s, h, S("l"));
    struct cache__quicklist *ql = cache__list_ql(it);
    assert_int_equal(ql->count, 24);
    assert_int_equal(ql->nnodes, 8);   /* 3 entries each */
    for (struct cache__qnode *n = ql->head; n; n = n->next)
        assert_true(cache__lp_count(n->lp) <= 3);
    cache__shard_unlock(s);

    /* byte limits: 100-byte elements, -1 = 4096 bytes per node */
    set_fill(c, -1);
    memset(v, 'x', 50);
    v[50] = 0;
    for (int i = 0; i < 500; i++)
        push(c, "b", CACHE_LIST_HEAD, v);
    assert_string_equal(enc_of(c, "b"), "quicklist");
    cache__shard_lock(s);
    it = cache__table_find_locked(s, cache__hash(c, S("b")), S("b"));
    ql = cache__list_ql(it);
    for (struct cache__qnode *n = ql->head; n; n = n->next) {
        assert_true(cache__ql_node_need(n) <= 4096);
        assert_true(n == ql->head || cache__ql_node_need(n) > 4096 - 60);  /* full */
    }
    cache__shard_unlock(s);
    /* popped down to one element, it stays a quicklist */
    struct cache_keys out = {0};
    assert_int_equal(cache_lpop(c, S("b"), CACHE_LIST_HEAD, 499, 1, &out), CACHE_OK);
    assert_string_equal(enc_of(c, "b"), "quicklist");
    cache_keys_free(&out);
    /* a single element larger than a node gets a node of its own */
    char *big = malloc(10000);
    memset(big, 'y', 9999);
    big[9999] = 0;
    assert_int_equal(push(c, "c", CACHE_LIST_TAIL, big), 1);
    assert_string_equal(enc_of(c, "c"), "quicklist");
    assert_int_equal(push(c, "c", CACHE_LIST_TAIL, "z"), 2);
    assert_int_equal(push(c, "c", CACHE_LIST_HEAD, "z"), 3);
    ASSERT_INV(c);
    free(big);
    cache_destroy(c);
}

/* MEMORY USAGE is what the shard is charged, at every size; DEL gives
 * every byte back; a big list is freed by the lazy-free thread on
 * UNLINK. */
static void test_memory_accounting(void **st)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);
    uint64_t base = used(c);
    char v[32];
    size_t usage;

    set_fill(c, -2);
    for (int i = 0; i < 20000; i++) {
        snprintf(v, sizeof(v), "element:%d", i);
        assert_int_equal(push(c, "l", i % 3 ? CACHE_LIST_TAIL : CACHE_LIST_HEAD, v), i + 1);
        if (i % 997 == 0) {
            assert_int_equal(cache_memory_usage(c, S("l"), 1, &usage), CACHE_OK);
            assert_int_equal(used(c) - base, usage);
            ASSERT_INV(c);
        }
    }
    assert_int_equal(cache_memory_usage(c, S("l"), 1, &usage), CACHE_OK);
    /* ~15 bytes of listpack per element, nodes full to the 8 KiB class */
    assert_true(usage < 20000 * 17);
    assert_int_equal(cache_ltrim(c, S("l"), 100, -100, 1), CACHE_OK);
    ASSERT_INV(c);
    assert_int_equal(cache_del(c, S("l"), 1), CACHE_OK);
    ASSERT_INV(c);
    assert_true(used(c) <= base + 64);
    for (int i = 0; i < 100000; i++)   /* ~150 nodes: more than 64 frees */
        push(c, "big", CACHE_LIST_TAIL, "abcdefghij");
    assert_int_equal(cache_unlink(c, S("big"), 1), CACHE_OK);
    struct cache_stats stt;
    for (int i = 0; i < 2000; i++) {
        cache_stats(c, &stt);
        if (stt.lazyfreed >= 1)
            break;
        usleep(1000);
    }
    assert_int_equal(stt.lazyfreed, 1);
    ASSERT_INV(c);
    cache_destroy(c);
}

static void test_copy_rename_lmove(void **st)
{
    struct cache *c = mk(8, 0, CACHE_ALLKEYS_LRU);
    struct cache_val v = {0};
    struct cache_keys out = {0};

    set_fill(c, 2);
    for (int i = 0; i < 7; i++) {
        char e[8];
        snprintf(e, sizeof(e), "%d", i);
        push(c, "q", CACHE_LIST_TAIL, e);
        push(c, "small", CACHE_LIST_TAIL, e);
    }
    assert_int_equal(cache_copy(c, S("q"), S("q2"), 0, 1), CACHE_OK);
    assert_int_equal(cache_rename(c, S("q2"), S("q3"), 0, 1), CACHE_OK);
    assert_string_equal(range_str(c, "q3"), "0 1 2 3 4 5 6");
    assert_int_equal(push(c, "q3", CACHE_LIST_HEAD, "x"), 8);
    assert_string_equal(range_str(c, "q"), "0 1 2 3 4 5 6");   /* a deep copy */
    ASSERT_INV(c);
    /* LMOVE: between keys, onto itself (rotation), from a missing key */
    struct cache_str k = {S("q")};
    struct cache_bpop *h;
    struct cache_bpop_req r = {.keys = &k, .nkeys = 1, .from = CACHE_LIST_TAIL,
                               .count = 1, .dst = "q3", .dlen = 2, .to = CACHE_LIST_HEAD};
    assert_int_equal(cache_bpop(c, &r, 1, &out, &h), CACHE_OK);
    assert_int_equal(out.count, 1);
    assert_string_equal(range_str(c, "q3"), "6 x 0 1 2 3 4 5 6");
    r.dst = "q";
    r.dlen = 1;
    assert_int_equal(cache_bpop(c, &r, 1, &out, &h), CACHE_OK);
    assert_string_equal(range_str(c, "q"), "5 0 1 2 3 4");
    k.s = "none";
    k.len = 4;
    assert_int_equal(cache_bpop(c, &r, 1, &out, &h), CACHE_NOTFOUND);
    assert_int_equal(set(c, "str", "v", 1), CACHE_OK);
    k.s = "q";
    k.len = 1;
    r.dst = "str";
    r.dlen = 3;
    assert_int_equal(cache_bpop(c, &r, 1, &out, &h), CACHE_E_WRONGTYPE);
    assert_string_equal(range_str(c, "q"), "5 0 1 2 3 4");   /* nothing moved */
    ASSERT_INV(c);
    free(v.data);
    cache_keys_free(&out);
    cache_destroy(c);
}

/* ---- the property test ---------------------------------------------------- */

#define NKEYS 4
#define MAXLEN 400

struct mlist {
    char *e[MAXLEN * 2];
    size_t n;
    bool str;   /* the key holds a string instead */
};
static struct mlist model[NKEYS];
static const char *const kname[NKEYS] = {"k0", "k1", "k2", "k3"};

static char *rand_elem(void)
{
    static const char *const pool[] = {"a", "b", "c", "10", "-7", "4096", "x:1"};
    uint64_t r = rnd() % 10;
    if (r < 6)
        return strdup(pool[rnd() % 7]);
    size_t len = r < 9 ? 1 + rnd() % 40 : 100 + rnd() % 3000;
    char *s = malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        s[i] = (char)('a' + rnd() % 3);
    s[len] = 0;
    return s;
}

static void m_insert(struct mlist *m, size_t at, char *e)
{
    memmove(&m->e[at + 1], &m->e[at], (m->n - at) * sizeof(char *));
    m->e[at] = e;
    m->n++;
}

static void m_delete(struct mlist *m, size_t at)
{
    free(m->e[at]);
    memmove(&m->e[at], &m->e[at + 1], (m->n - at - 1) * sizeof(char *));
    m->n--;
}

static void m_clear(struct mlist *m)
{
    while (m->n)
        m_delete(m, m->n - 1);
    m->str = false;
}

static void check_key(struct cache *c, int k)
{
    struct cache_keys out = {0};
    uint64_t total;
    int rc = cache_lrange(c, S(kname[k]), 0, -1, SIZE_MAX, 1, &out, &total);
    if (model[k].str) {
        assert_int_equal(rc, CACHE_E_WRONGTYPE);
        return;
    }
    assert_int_equal(rc, model[k].n ? CACHE_OK : CACHE_NOTFOUND);
    assert_int_equal(total, model[k].n);
    assert_int_equal(out.count, model[k].n);
    size_t pos = 0, len;
    const char *s;
    for (size_t i = 0; (s = cache_keys_next(&out, &pos, &len)) != NULL; i++) {
        assert_int_equal(len, strlen(model[k].e[i]));
        assert_memory_equal(s, model[k].e[i], len);
    }
    assert_int_equal(cache_exists(c, S(kname[k]), 1),
                     model[k].n ? CACHE_OK : CACHE_NOTFOUND);
    cache_keys_free(&out);
}

static long long rand_index(size_t n)
{
    long long r = (long long)(rnd() % (n + 4)) - 2;
    return rnd() % 2 ? r : -r - 1;
}

/* One random operation on key k, applied to the model and the cache. */
static void step(struct cache *c, int k)
{
    struct mlist *m = &model[k];
    const char *key = kname[k];
    struct cache_keys out = {0};
    uint64_t n;
    int rc;
    switch (rnd() % 12) {
    case 0: case 1: case 2: {   /* LPUSH / RPUSH of 1..3 */
        if (m->n > MAXLEN)
            break;
        int where = (int)(rnd() % 2);
        size_t cnt = 1 + rnd() % 3;
        struct cache_str el[3];
        char *e[3];
        for (size_t i = 0; i < cnt; i++) {
            e[i] = rand_elem();
            el[i].s = e[i];
            el[i].len = strlen(e[i]);
        }
        rc = cache_lpush(c, S(key), where, el, cnt, 0, 1, &n);
        if (m->str) {
            assert_int_equal(rc, CACHE_E_WRONGTYPE);
            for (size_t i = 0; i < cnt; i++)
                free(e[i]);
            break;
        }
        assert_int_equal(rc, CACHE_OK);
        for (size_t i = 0; i < cnt; i++)
            m_insert(m, where == CACHE_LIST_HEAD ? 0 : m->n, e[i]);
        assert_int_equal(n, m->n);
        break;
    }
    case 3: {   /* LPOP / RPOP count */
        int where = (int)(rnd() % 2);
        uint64_t cnt = rnd() % 5 == 0 ? 1000 : 1 + rnd() % 3;
        rc = cache_lpop(c, S(key), where, cnt, 1, &out);
        if (m->str) {
            assert_int_equal(rc, CACHE_E_WRONGTYPE);
            break;
        }
        assert_int_equal(rc, m->n ? CACHE_OK : CACHE_NOTFOUND);
        size_t pos = 0, len;
        const char *s;
        while ((s = cache_keys_next(&out, &pos, &len)) != NULL) {
            size_t at = where == CACHE_LIST_HEAD ? 0 : m->n - 1;
            assert_int_equal(len, strlen(m->e[at]));
            assert_memory_equal(s, m->e[at], len);
            m_delete(m, at);
        }
        break;
    }
    case 4: {   /* LSET */
        if (m->str)
            break;
        long long i = rand_index(m->n);
        char *e = rand_elem();
        rc = cache_lset(c, S(key), i, S(e), 1);
        long long ai = i < 0 ? i + (long long)m->n : i;
        if (!m->n) {
            assert_int_equal(rc, CACHE_NOTFOUND);
            free(e);
        } else if (ai < 0 || ai >= (long long)m->n) {
            assert_int_equal(rc, CACHE_NOELEM);
            free(e);
        } else {
            assert_int_equal(rc, CACHE_OK);
            free(m->e[ai]);
            m->e[ai] = e;
        }
        break;
    }
    case 5: {   /* LINSERT */
        if (m->str || m->n > MAXLEN)
            break;
        const char *pivot = m->n && rnd() % 4 ? m->e[rnd() % m->n] : "nope";
        char *pv = strdup(pivot), *e = rand_elem();
        int after = (int)(rnd() % 2);
        long long len;
        rc = cache_linsert(c, S(key), after, S(pv), S(e), 1, &len);
        assert_int_equal(rc, CACHE_OK);
        size_t at = 0;
        while (at < m->n && strcmp(m->e[at], pv) != 0)
            at++;
        if (!m->n) {
            assert_int_equal(len, 0);
            free(e);
        } else if (at == m->n) {
            assert_int_equal(len, -1);
            free(e);
        } else {
            m_insert(m, at + (size_t)after, e);
            assert_int_equal(len, (long long)m->n);
        }
        free(pv);
        break;
    }
    case 6: {   /* LREM */
        if (m->str)
            break;
        const char *v = m->n && rnd() % 3 ? m->e[rnd() % m->n] : "a";
        char *vv = strdup(v);
        long long cnt = (long long)(rnd() % 5) - 2;
        rc = cache_lrem(c, S(key), cnt, S(vv), 1, &n);
        assert_int_equal(rc, CACHE_OK);
        uint64_t removed = 0;
        if (cnt >= 0) {
            for (size_t i = 0; i < m->n;) {
                if (strcmp(m->e[i], vv) == 0 && (cnt == 0 || removed < (uint64_t)cnt)) {
                    m_delete(m, i);
                    removed++;
                } else {
                    i++;
                }
            }
        } else {
            for (size_t i = m->n; i-- > 0;)
                if (strcmp(m->e[i], vv) == 0 && removed < (uint64_t)-cnt) {
                    m_delete(m, i);
                    removed++;
                }
        }
        assert_int_equal(n, removed);
        free(vv);
        break;
    }
    case 7: {   /* LTRIM */
        if (m->str)
            break;
        long long a = rand_index(m->n), b = rand_index(m->n), len = (long long)m->n;
        assert_int_equal(cache_ltrim(c, S(key), a, b, 1), CACHE_OK);
        if (a < 0) a += len;
        if (b < 0) b += len;
        if (a < 0) a = 0;
        if (a > b || a >= len) {
            m_clear(m);
        } else {
            if (b >= len) b = len - 1;
            while ((long long)m->n > b + 1)
                m_delete(m, m->n - 1);
            for (long long i = 0; i < a; i++)
                m_delete(m, 0);
        }
        break;
    }
    case 8: {   /* LMOVE to another key (maybe itself) */
        int d = (int)(rnd() % NKEYS);
        struct cache_str src = {S(key)};
        struct cache_bpop *h;
        int from = (int)(rnd() % 2), to = (int)(rnd() % 2);
        struct cache_bpop_req r = {.keys = &src, .nkeys = 1, .from = from, .count = 1,
                                   .dst = kname[d], .dlen = 2, .to = to};
        rc = cache_bpop(c, &r, 1, &out, &h);
        if (m->str || (m->n && model[d].str)) {
            assert_int_equal(rc, CACHE_E_WRONGTYPE);
            break;
        }
        if (!m->n) {
            assert_int_equal(rc, CACHE_NOTFOUND);
            break;
        }
        assert_int_equal(rc, CACHE_OK);
        size_t at = from == CACHE_LIST_HEAD ? 0 : m->n - 1;
        char *e = m->e[at];
        memmove(&m->e[at], &m->e[at + 1], (m->n - at - 1) * sizeof(char *));
        m->n--;
        m_insert(&model[d], to == CACHE_LIST_HEAD ? 0 : model[d].n, e);
        assert_int_equal(out.count, 1);
        break;
    }
    case 9: {   /* LPOS */
        if (m->str || !m->n)
            break;
        const char *v = m->e[rnd() % m->n];
        long long rank = (long long)(rnd() % 3) + 1, cnt = (long long)(rnd() % 3);
        long long maxlen = (long long)(rnd() % 3 ? 0 : rnd() % (m->n + 1));
        if (rnd() % 2)
            rank = -rank;
        struct cache_val pv = {0};
        assert_int_equal(cache_lpos(c, S(key), S(v), rank, cnt, maxlen, 1, &pv), CACHE_OK);
        long long want[MAXLEN * 2], nw = 0, matches = 0, r = rank < 0 ? -rank : rank;
        for (long long i = 0; i < (long long)m->n && (!maxlen || i < maxlen); i++) {
            long long idx = rank > 0 ? i : (long long)m->n - 1 - i;
            if (strcmp(m->e[idx], v) == 0 && ++matches >= r) {
                want[nw++] = idx;
                if (cnt && nw >= cnt)
                    break;
            }
        }
        assert_int_equal(pv.len, (size_t)nw * sizeof(int64_t));
        for (long long i = 0; i < nw; i++) {
            int64_t got;
            memcpy(&got, pv.data + i * 8, 8);
            assert_int_equal(got, want[i]);
        }
        free(pv.data);
        break;
    }
    case 10: {   /* DEL, a SET over it, COPY or RENAME */
        int d = (int)(rnd() % NKEYS);
        uint64_t r = rnd() % 6;
        if (r == 0) {
            cache_del(c, S(key), 1);
            m_clear(m);
        } else if (r == 1) {
            set(c, key, "str", 1);
            m_clear(m);
            m->str = true;
        } else if (r == 2 && d != k && (m->n || m->str)) {
            assert_int_equal(cache_copy(c, S(key), S(kname[d]), 1, 1), CACHE_OK);
            m_clear(&model[d]);
            model[d].str = m->str;
            for (size_t i = 0; i < m->n; i++)
                model[d].e[model[d].n++] = strdup(m->e[i]);
        } else if (r == 3 && d != k && (m->n || m->str)) {
            assert_int_equal(cache_rename(c, S(key), S(kname[d]), 0, 1), CACHE_OK);
            m_clear(&model[d]);
            model[d] = *m;
            m->n = 0;
            m->str = false;
        }
        break;
    }
    case 11: {   /* LINDEX and a partial LRANGE */
        if (m->str)
            break;
        long long i = rand_index(m->n);
        struct cache_val v = {0};
        rc = cache_lindex(c, S(key), i, 1, &v);
        long long ai = i < 0 ? i + (long long)m->n : i;
        if (!m->n)
            assert_int_equal(rc, CACHE_NOTFOUND);
        else if (ai < 0 || ai >= (long long)m->n)
            assert_int_equal(rc, CACHE_NOELEM);
        else
            assert_memory_equal(v.data, m->e[ai], v.len);
        free(v.data);
        uint64_t total;
        long long a = rand_index(m->n), b = rand_index(m->n);
        assert_true(cache_lrange(c, S(key), a, b, 64, 1, &out, &total) >= 0);
        assert_true(out.count <= total);
        break;
    }
    }
    cache_keys_free(&out);
}

static void test_property(void **st)
{
    static const int64_t fills[] = {1, 2, 3, 5, 16, -1, -2, 0, -5, 100};
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);

    for (int round = 0; round < 100; round++) {
        set_fill(c, fills[round % 10]);
        for (int i = 0; i < 600; i++) {
            int k = (int)(rnd() % NKEYS);
            step(c, k);
            ASSERT_INV(c);
            check_key(c, k);
        }
        for (int k = 0; k < NKEYS; k++)
            check_key(c, k);
    }
    for (int k = 0; k < NKEYS; k++)
        m_clear(&model[k]);
    cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_and_wrongtype),
        cmocka_unit_test(test_fill_and_conversion),
        cmocka_unit_test(test_memory_accounting),
        cmocka_unit_test(test_copy_rename_lmove),
        cmocka_unit_test(test_property),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
