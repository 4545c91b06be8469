/*
 * test_t_hash: the hash type (cache/t_hash.c, cache/hashops.c).
 *
 * Unit tests pin the encodings and their conversions, WRONGTYPE, memory
 * accounting (MEMORY USAGE equals what the shard is charged; a hash that
 * grows by HSET is charged as it grows; everything comes back on DEL),
 * COPY/RENAME of both encodings, and HRANDFIELD/HSCAN's contracts. The
 * property test runs random command sequences on a few keys against a
 * plain model (field -> value per key), with thresholds small and
 * changing so that both encodings and every conversion are exercised,
 * and checks the cache's invariants (cache__check_invariants: tables,
 * listpacks, accounting) and the model after every step.
 */
#include <limits.h>

#define TEST_RNG_SEED 0x853C49E6748FEA9Bull
#include "test_util.h"

#include "t_hash.h"


static void small_limits(struct cache *c, uint64_t entries, uint64_t value)
{
    struct cache_type_limits l;
    cache_type_limits_default(&l);
    l.hash_max_listpack_entries = entries;
    l.hash_max_listpack_value = value;
    cache_set_type_limits(c, &l);
}

static int hset1(struct cache *c, const char *k, const char *f, const char *v)
{
    struct cache_kv kv = {S(f), S(v)};
    uint64_t added;
    int rc = cache_hset(c, S(k), &kv, 1, 0, 1, &added);
    return rc < 0 ? rc : (int)added;
}

static const char *enc_of(struct cache *c, const char *k)
{
    const char *e = NULL;
    int t;
    if (cache_type(c, S(k), 1, &t, &e) != CACHE_OK)
        return "none";
    return e;
}

static void test_basic_and_wrongtype(void **st)
{
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    struct cache_val v = {0};
    uint64_t n;

    assert_int_equal(hset1(c, "h", "a", "1"), 1);
    assert_int_equal(hset1(c, "h", "a", "2"), 0);
    assert_int_equal(cache_hget(c, S("h"), S("a"), 1, &v), CACHE_OK);
    assert_memory_equal(v.data, "2", 1);
    assert_int_equal(cache_hget(c, S("h"), S("zz"), 1, &v), CACHE_NOELEM);
    assert_int_equal(cache_hget(c, S("nokey"), S("a"), 1, &v), CACHE_NOTFOUND);
    assert_int_equal(cache_card(c, CACHE_TYPE_HASH, S("h"), 1, &n), CACHE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(enc_of(c, "h"), "listpack");

    /* strings and hashes refuse each other's commands, and nothing changes */
    assert_int_equal(set(c, "s", "x", 1), CACHE_OK);
    assert_int_equal(hset1(c, "s", "a", "1"), CACHE_E_WRONGTYPE);
    assert_int_equal(cache_hget(c, S("s"), S("a"), 1, &v), CACHE_E_WRONGTYPE);
    assert_int_equal(cache_get(c, S("h"), 1, &v), CACHE_E_WRONGTYPE);
    long long r;
    assert_int_equal(cache_incr(c, S("h"), 1, 1, &r), CACHE_E_WRONGTYPE);
    size_t len;
    assert_int_equal(cache_append(c, S("h"), S("x"), 1, &len), CACHE_E_WRONGTYPE);
    assert_int_equal(cache_strlen(c, S("h"), 1, &len), CACHE_E_WRONGTYPE);
    struct cache_val old = {0};
    int found;
    assert_int_equal(cache_set(c, S("h"), S("v"), CACHE_SET_GET, 0, 1, &old, &found),
                     CACHE_E_WRONGTYPE);
    assert_string_equal(enc_of(c, "h"), "listpack");
    /* plain SET overwrites any type */
    assert_int_equal(cache_set(c, S("h"), S("v"), 0, 0, 1, NULL, NULL), CACHE_OK);
    assert_string_equal(get(c, "h", 1), "v");
    ASSERT_INV(c);
    free(v.data);
    free(old.data);
    cache_destroy(c);
}

static void test_conversions(void **st)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);
    char f[32], val[128];

    small_limits(c, 4, 8);
    for (int i = 0; i < 4; i++) {
        snprintf(f, sizeof(f), "f%d", i);
        assert_int_equal(hset1(c, "h", f, "v"), 1);
    }
    assert_string_equal(enc_of(c, "h"), "listpack");
    assert_int_equal(hset1(c, "h", "f4", "v"), 1);          /* 5 > 4 entries */
    assert_string_equal(enc_of(c, "h"), "hashtable");
    ASSERT_INV(c);
    assert_int_equal(hset1(c, "g", "short", "123456789"), 1);   /* 9 > 8 bytes */
    assert_string_equal(enc_of(c, "g"), "hashtable");
    assert_int_equal(hset1(c, "k", "123456789", "v"), 1);       /* a long field too */
    assert_string_equal(enc_of(c, "k"), "hashtable");
    /* never back: deleting down to one field keeps the table */
    struct cache_str d[4] = {{S("f0")}, {S("f1")}, {S("f2")}, {S("f3")}};
    uint64_t n;
    assert_int_equal(cache_hdel(c, S("h"), d, 4, 1, &n), CACHE_OK);
    assert_int_equal(n, 4);
    assert_string_equal(enc_of(c, "h"), "hashtable");
    /* raised limits apply to new keys */
    small_limits(c, 1000, 100);
    for (int i = 0; i < 100; i++) {
        snprintf(f, sizeof(f), "%d", i * 1000);   /* integers: stored as such */
        memset(val, 'x', 90);
        val[90] = 0;
        assert_int_equal(hset1(c, "big-lp", f, i % 2 ? val : f), 1);
    }
    assert_string_equal(enc_of(c, "big-lp"), "listpack");
    ASSERT_INV(c);
    cache_destroy(c);
}

/* HDEL of the last field deletes the key; HSETNX only sets new fields. */
static void test_empty_and_nx(void **st)
{
    struct cache *c = mk(2, 0, CACHE_ALLKEYS_LRU);
    struct cache_str d[2] = {{S("a")}, {S("b")}};
    struct cache_kv kv = {S("a"), S("9")};
    uint64_t n, added;

    assert_int_equal(hset1(c, "h", "a", "1"), 1);
    assert_int_equal(cache_hset(c, S("h"), &kv, 1, CACHE_HSET_NX, 1, &added), CACHE_OK);
    assert_int_equal(added, 0);
    assert_int_equal(cache_hdel(c, S("h"), d, 2, 1, &n), CACHE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(cache_exists(c, S("h"), 1), CACHE_NOTFOUND);
    assert_int_equal(cache_dbsize(c), 0);
    /* a failed HINCRBY on a new key leaves no empty hash behind */
    long long r;
    assert_int_equal(cache_hincrby(c, S("n"), S("f"), 1, 1, &r), CACHE_OK);
    assert_int_equal(r, 1);
    assert_int_equal(hset1(c, "n", "g", "x"), 1);
    assert_int_equal(cache_hincrby(c, S("n"), S("g"), 1, 1, &r), CACHE_E_NOTINT);
    assert_int_equal(cache_hincrby(c, S("n"), S("f"), LLONG_MAX, 1, &r), CACHE_E_OVERFLOW);
    char buf[CACHE_LD_MAX_CHARS];
    size_t len;
    assert_int_equal(cache_hincrbyfloat(c, S("n"), S("f"), 0.5L, 1, buf, sizeof(buf), &len),
                     CACHE_OK);
    assert_string_equal(buf, "1.5");
    assert_int_equal(cache_hincrbyfloat(c, S("n"), S("g"), 1, 1, buf, sizeof(buf), &len),
                     CACHE_E_NOTFLOAT);
    ASSERT_INV(c);
    cache_destroy(c);
}

/* MEMORY USAGE is what the shard is charged; growth is charged as it
 * happens; DEL gives every byte back. */
static void test_memory_accounting(void **st)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);
    uint64_t base = used(c), prev = base;
    char f[32];
    size_t usage;

    small_limits(c, 16, 64);
    for (int i = 0; i < 2000; i++) {
        snprintf(f, sizeof(f), "field:%d", i);
        assert_int_equal(hset1(c, "h", f, "some value"), 1);
        assert_int_equal(cache_memory_usage(c, S("h"), 1, &usage), CACHE_OK);
        /* one key in the shard: used_memory is its 4 buckets and this key */
        assert_int_equal(used(c) - base, usage);
        /* charged as it grows (less an old bucket array a finished
         * resize gave back) */
        assert_true(used(c) + 8 * 4096 >= prev);
        prev = used(c);
        if (i % 97 == 0)
            ASSERT_INV(c);
    }
    assert_true(used(c) > base + 2000 * 20);
    assert_int_equal(cache_del(c, S("h"), 1), CACHE_OK);
    ASSERT_INV(c);
    assert_true(used(c) <= base + 64);   /* maybe a resized bucket array */
    cache_destroy(c);
}

/* COPY is deep (changing the copy leaves the source), RENAME moves a
 * table-encoded hash whole; both keep the accounting exact. */
static void test_copy_rename(void **st)
{
    struct cache *c = mk(8, 0, CACHE_ALLKEYS_LRU);
    struct cache_val v = {0};
    char f[32];

    small_limits(c, 4, 64);
    for (int i = 0; i < 50; i++) {
        snprintf(f, sizeof(f), "f%d", i);
        assert_int_equal(hset1(c, "src", f, f), 1);
    }
    assert_int_equal(hset1(c, "small", "a", "1"), 1);
    assert_int_equal(cache_copy(c, S("src"), S("dst"), 0, 1), CACHE_OK);
    assert_int_equal(cache_copy(c, S("small"), S("small2"), 0, 1), CACHE_OK);
    assert_int_equal(hset1(c, "dst", "f1", "changed"), 0);
    assert_int_equal(cache_hget(c, S("src"), S("f1"), 1, &v), CACHE_OK);
    assert_memory_equal(v.data, "f1", 2);
    assert_string_equal(enc_of(c, "dst"), "hashtable");
    assert_string_equal(enc_of(c, "small2"), "listpack");
    ASSERT_INV(c);
    assert_int_equal(cache_rename(c, S("src"), S("moved"), 0, 1), CACHE_OK);
    assert_int_equal(cache_hget(c, S("moved"), S("f49"), 1, &v), CACHE_OK);
    assert_int_equal(cache_rename(c, S("small2"), S("dst"), 0, 1), CACHE_OK);   /* over a table */
    assert_string_equal(enc_of(c, "dst"), "listpack");
    ASSERT_INV(c);
    free(v.data);
    cache_destroy(c);
}

/* ---- HRANDFIELD, HSCAN ---------------------------------------------------- */

static size_t count_records(const struct cache_keys *k)
{
    return k->count;
}

static void test_hrandfield(void **st)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);
    char f[32];

    small_limits(c, 10, 64);
    for (int round = 0; round < 2; round++) {   /* listpack, then table */
        const char *key = round ? "t" : "l";
        int size = round ? 100 : 8;
        for (int i = 0; i < size; i++) {
            snprintf(f, sizeof(f), "f%d", i);
            hset1(c, key, f, f);
        }
        assert_string_equal(enc_of(c, key), round ? "hashtable" : "listpack");
        long long counts[] = {0, 1, 3, size - 1, size, size + 5, -1, -5, -(size + 7)};
        for (size_t j = 0; j < sizeof(counts) / sizeof(counts[0]); j++) {
            struct cache_keys out = {0};
            int sample;
            long long cnt = counts[j];
            assert_int_equal(cache_hrandfield(c, S(key), cnt, 1, 1, &out, &sample), CACHE_OK);
            size_t want = cnt >= 0 ? (size_t)(cnt < size ? cnt : size)
                                   : (size_t)(-cnt > size ? size : -cnt);
            assert_int_equal(sample, cnt < 0 && -cnt > size);
            assert_int_equal(count_records(&out), 2 * want);
            /* pairs are real; positive counts give distinct fields */
            char seen[128] = {0};
            const char *s;
            size_t pos = 0, len, vlen;
            while ((s = cache_keys_next(&out, &pos, &len)) != NULL) {
                const char *v = cache_keys_next(&out, &pos, &vlen);
                assert_int_equal(len, vlen);
                assert_memory_equal(s, v, len);   /* values equal their fields */
                int idx = atoi(s + 1);
                assert_true(idx >= 0 && idx < size);
                if (cnt >= 0 || sample)
                    assert_false(seen[idx]);
                seen[idx] = 1;
            }
            cache_keys_free(&out);
        }
    }
    struct cache_keys out = {0};
    int sample;
    assert_int_equal(cache_hrandfield(c, S("none"), 5, 0, 1, &out, &sample), CACHE_NOTFOUND);
    assert_int_equal(out.count, 0);
    cache_destroy(c);
}

/* A full HSCAN returns every field present throughout, across resizes. */
static void test_hscan(void **st)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);
    char f[32];

    small_limits(c, 8, 64);
    for (int i = 0; i < 500; i++) {
        snprintf(f, sizeof(f), "f%d", i);
        hset1(c, "h", f, "v");
    }
    char seen[1000] = {0};
    uint64_t cur = 0;
    int calls = 0, extra = 500;
    do {
        struct cache_keys out = {0};
        assert_int_equal(cache_hscan(c, S("h"), cur, 10, 1, &out, &cur), CACHE_OK);
        const char *s;
        size_t pos = 0, len;
        while ((s = cache_keys_next(&out, &pos, &len)) != NULL) {
            seen[atoi(s + 1)] = 1;
            (void)cache_keys_next(&out, &pos, &len);
        }
        cache_keys_free(&out);
        /* grow it meanwhile: resizes between calls */
        for (int k = 0; k < 20 && extra < 1000; k++, extra++) {
            snprintf(f, sizeof(f), "f%d", extra);
            hset1(c, "h", f, "v");
        }
        calls++;
    } while (cur != 0);
    for (int i = 0; i < 500; i++)
        assert_true(seen[i]);
    assert_true(calls > 5);
    /* a listpack comes whole, cursor 0 */
    hset1(c, "l", "a", "1");
    struct cache_keys out = {0};
    assert_int_equal(cache_hscan(c, S("l"), 0, 1, 1, &out, &cur), CACHE_OK);
    assert_int_equal(cur, 0);
    assert_int_equal(out.count, 2);
    cache_keys_free(&out);
    cache_destroy(c);
}

/* ---- property test ---------------------------------------------------------- */

#define NKEYS 3
#define MAXF 4096

struct mhash {
    int n;
    char *f[MAXF], *v[MAXF];
    size_t fl[MAXF], vl[MAXF];
};
static struct mhash model[NKEYS];
static const char *const keys[NKEYS] = {"k0", "k1", "k2"};

static int mfind(struct mhash *m, const char *f, size_t fl)
{
    for (int i = 0; i < m->n; i++)
        if (m->fl[i] == fl && memcmp(m->f[i], f, fl) == 0)
            return i;
    return -1;
}

static void mset(struct mhash *m, const char *f, size_t fl, const char *v, size_t vl)
{
    int i = mfind(m, f, fl);
    if (i < 0) {
        assert_true(m->n < MAXF);
        i = m->n++;
        m->f[i] = malloc(fl + 1);
        memcpy(m->f[i], f, fl);
        m->fl[i] = fl;
    } else {
        free(m->v[i]);
    }
    m->v[i] = malloc(vl + 1);
    memcpy(m->v[i], v, vl);
    m->v[i][vl] = '\0';   /* for sscanf */
    m->vl[i] = vl;
}

static void mdel_at(struct mhash *m, int i)
{
    free(m->f[i]);
    free(m->v[i]);
    m->n--;
    m->f[i] = m->f[m->n];
    m->v[i] = m->v[m->n];
    m->fl[i] = m->fl[m->n];
    m->vl[i] = m->vl[m->n];
}

static void mclear(struct mhash *m)
{
    while (m->n)
        mdel_at(m, 0);
}

static size_t gen_field(char *buf)
{
    if (rnd() % 8 == 0) {   /* long: forces a table */
        size_t n = 20 + rnd() % 60;
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)('A' + rnd() % 26);
        return n;
    }
    if (rnd() % 3 == 0)     /* an integer field */
        return (size_t)sprintf(buf, "%d", (int)(rnd() % 400) - 200);
    return (size_t)sprintf(buf, "f%u", (unsigned)(rnd() % 200));
}

static size_t gen_value(char *buf)
{
    switch (rnd() % 4) {
    case 0: return (size_t)sprintf(buf, "%lld", (long long)(rnd() % 100000) - 50000);
    case 1: {
        size_t n = rnd() % 100;
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)(rnd() & 0xFF);
        return n;
    }
    default: return (size_t)sprintf(buf, "v%u", (unsigned)(rnd() % 1000));
    }
}

/* The whole hash equals the model (HGETALL as a set, HLEN, every HGET). */
static void check_key(struct cache *c, int k)
{
    struct mhash *m = &model[k];
    struct cache_keys out = {0};
    struct cache_val v = {0};
    uint64_t n;

    int rc = cache_hgetall(c, S(keys[k]), CACHE_H_FIELDS | CACHE_H_VALUES, 1, &out);
    assert_int_equal(rc, m->n ? CACHE_OK : CACHE_NOTFOUND);
    assert_int_equal(out.count, 2 * (size_t)m->n);
    const char *f, *val;
    size_t pos = 0, fl, vl;
    while ((f = cache_keys_next(&out, &pos, &fl)) != NULL) {
        val = cache_keys_next(&out, &pos, &vl);
        int i = mfind(m, f, fl);
        if (i < 0)
            fprintf(stderr, "key %s: field '%.*s' (%zu) not in the model (n=%d, enc %s)\n",
                    keys[k], (int)fl, f, fl, m->n, enc_of(c, keys[k]));
        assert_true(i >= 0);
        assert_int_equal(vl, m->vl[i]);
        assert_memory_equal(val, m->v[i], vl);
    }
    cache_keys_free(&out);
    assert_int_equal(cache_card(c, CACHE_TYPE_HASH, S(keys[k]), 1, &n),
                     m->n ? CACHE_OK : CACHE_NOTFOUND);
    assert_int_equal(n, (uint64_t)m->n);
    for (int i = 0; i < m->n; i++) {
        assert_int_equal(cache_hget(c, S(keys[k]), m->f[i], m->fl[i], 1, &v), CACHE_OK);
        assert_int_equal(v.len, m->vl[i]);
        assert_memory_equal(v.data, m->v[i], v.len);
    }
    free(v.data);
}

static long opno;
static void one_op(struct cache *c)
{
    int k = (int)(rnd() % NKEYS);
    struct mhash *m = &model[k];
    char fb[8][128], vb[8][128];
    struct cache_kv kv[8];
    uint64_t n;
    unsigned op = (unsigned)(rnd() % 12);
    if (getenv("TRACE"))
        fprintf(stderr, "#%ld op %u key %d n=%d enc %s\n", ++opno, op, k, m->n, enc_of(c, keys[k]));

    if (op < 5) {                                  /* HSET of 1..8 pairs */
        int np = 1 + (int)(rnd() % 8);
        int fresh = 0;
        for (int i = 0; i < np; i++) {
            kv[i].key = fb[i];
            kv[i].klen = gen_field(fb[i]);
            kv[i].val = vb[i];
            kv[i].vlen = gen_value(vb[i]);
        }
        for (int i = 0; i < np; i++) {
            bool dup = false;
            for (int j = 0; j < i; j++)
                dup |= kv[j].klen == kv[i].klen && !memcmp(kv[j].key, kv[i].key, kv[i].klen);
            fresh += !dup && mfind(m, kv[i].key, kv[i].klen) < 0;
        }
        assert_int_equal(cache_hset(c, S(keys[k]), kv, (size_t)np, 0, 1, &n), CACHE_OK);
        assert_int_equal(n, (uint64_t)fresh);
        for (int i = 0; i < np; i++)
            mset(m, kv[i].key, kv[i].klen, kv[i].val, kv[i].vlen);
    } else if (op < 7 && m->n) {                   /* HDEL some present, some not */
        struct cache_str d[4];
        int want = 0;
        for (int i = 0; i < 4; i++) {
            if (rnd() % 2) {
                int j = (int)(rnd() % (uint64_t)m->n);
                d[i].s = fb[i];
                memcpy(fb[i], m->f[j], m->fl[j]);
                d[i].len = m->fl[j];
            } else {
                d[i].s = fb[i];
                d[i].len = gen_field(fb[i]);
            }
        }
        for (int i = 0; i < 4; i++) {
            int j = mfind(m, d[i].s, d[i].len);
            if (j >= 0) {
                mdel_at(m, j);
                want++;
            }
        }
        assert_int_equal(cache_hdel(c, S(keys[k]), d, 4, 1, &n), CACHE_OK);
        assert_int_equal(n, (uint64_t)want);
    } else if (op == 7) {                          /* HINCRBY */
        size_t fl = gen_field(fb[0]);
        int j = mfind(m, fb[0], fl);
        long long cur = 0, r;
        bool isint = j < 0 || (m->vl[j] < 21 && sscanf(m->v[j], "%lld", &cur) == 1 &&
                               (size_t)snprintf(vb[0], 64, "%lld", cur) == m->vl[j] &&
                               !memcmp(vb[0], m->v[j], m->vl[j]));
        int rc = cache_hincrby(c, S(keys[k]), fb[0], fl, 7, 1, &r);
        if (!isint) {
            assert_int_equal(rc, CACHE_E_NOTINT);
        } else {
            assert_int_equal(rc, CACHE_OK);
            assert_int_equal(r, cur + 7);
            size_t vl = (size_t)sprintf(vb[0], "%lld", r);
            mset(m, fb[0], fl, vb[0], vl);
        }
    } else if (op == 8) {                          /* COPY to another key */
        int d = (k + 1) % NKEYS;
        int rc = cache_copy(c, S(keys[k]), S(keys[d]), 1, 1);
        assert_int_equal(rc, m->n ? CACHE_OK : CACHE_NOTFOUND);
        if (m->n) {
            mclear(&model[d]);
            for (int i = 0; i < m->n; i++)
                mset(&model[d], m->f[i], m->fl[i], m->v[i], m->vl[i]);
        }
    } else if (op == 9 && rnd() % 4 == 0) {        /* DEL or UNLINK */
        int rc = rnd() % 2 ? cache_del(c, S(keys[k]), 1) : cache_unlink(c, S(keys[k]), 1);
        assert_int_equal(rc, m->n ? CACHE_OK : CACHE_NOTFOUND);
        mclear(m);
    } else if (op == 10) {                         /* limits change live */
        small_limits(c, 1 + rnd() % 40, 8 + rnd() % 64);
    } else {                                       /* HSETNX */
        size_t fl = gen_field(fb[0]), vl = gen_value(vb[0]);
        struct cache_kv one = {fb[0], fl, vb[0], vl};
        bool fresh = mfind(m, fb[0], fl) < 0;
        assert_int_equal(cache_hset(c, S(keys[k]), &one, 1, CACHE_HSET_NX, 1, &n), CACHE_OK);
        assert_int_equal(n, fresh);
        if (fresh)
            mset(m, fb[0], fl, vb[0], vl);
    }
}

static void test_property(void **st)
{
    const char *env = getenv("MMCACHE_PROP_ITERS");
    long iters = env ? atol(env) : 20000;
    struct cache *c = mk(2, 0, CACHE_ALLKEYS_LRU);

    small_limits(c, 16, 32);
    for (long i = 0; i < iters; i++) {
        one_op(c);
        ASSERT_INV(c);
        for (int k = 0; k < NKEYS; k++)
            check_key(c, k);
    }
    for (int k = 0; k < NKEYS; k++)
        mclear(&model[k]);
    cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_and_wrongtype),
        cmocka_unit_test(test_conversions),
        cmocka_unit_test(test_empty_and_nx),
        cmocka_unit_test(test_memory_accounting),
        cmocka_unit_test(test_copy_rename),
        cmocka_unit_test(test_hrandfield),
        cmocka_unit_test(test_hscan),
        cmocka_unit_test(test_property),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
