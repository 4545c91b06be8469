/*
 * test_list_property: the list type against a plain model (an array of
 * strings per key): random command sequences on a few keys, with
 * list-max-listpack-size small and changing (entry counts and byte sizes,
 * elements up to 3 KB) so that every node path runs: conversion, full
 * nodes, splits, merges, LSET across a full node, LTRIM and pops across
 * nodes; after every step it checks the cache's invariants
 * (cache__check_invariants: every listpack, node links, counts, bytes, the
 * memory sum) and the content.
 */
#include <limits.h>
#include <unistd.h>

#include "test_util.h"

#include "t_list.h"

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
        set_list_fill(c, fills[round % 10]);
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
        cmocka_unit_test(test_property),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
