/*
 * test_t_set: the set type (cache/t_set.c, cache/t_set_table.c).
 *
 * Unit tests pin the three encodings and every conversion between them
 * (Redis 7.2's rules), WRONGTYPE both ways, memory accounting (MEMORY
 * USAGE equals what the shard is charged, as the set grows through every
 * encoding; DEL gives it all back), COPY/RENAME of each encoding and
 * building a set from a list of members (the STORE commands). The
 * property test runs random command sequences over a few keys against a
 * plain model (a list of members per key), with thresholds small and
 * changing so that all three encodings and every conversion happen, and
 * checks after every step the cache's invariants (cache__check_invariants:
 * the set's own check and the memory sum), the model, that an intset
 * holds only integers, and that no set ever goes back to a more compact
 * encoding.
 */
#include <limits.h>
#include <time.h>

#include "test_util.h"

#include "t_set.h"

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void limits(struct cache *c, uint64_t is_max, uint64_t lp_max, uint64_t lp_value)
{
    struct cache_type_limits l;
    cache_type_limits_default(&l);
    l.set_max_intset_entries = is_max;
    l.set_max_listpack_entries = lp_max;
    l.set_max_listpack_value = lp_value;
    cache_set_type_limits(c, &l);
}

static int sadd1(struct cache *c, const char *k, const char *m)
{
    struct cache_str s = {S(m)};
    uint64_t added;
    int rc = cache_sadd(c, S(k), &s, 1, 1, &added);
    return rc < 0 ? rc : (int)added;
}

static int srem1(struct cache *c, const char *k, const char *m)
{
    struct cache_str s = {S(m)};
    uint64_t n;
    int rc = cache_srem(c, S(k), &s, 1, 1, &n);
    return rc < 0 ? rc : (int)n;
}

static const char *enc_of(struct cache *c, const char *k)
{
    const char *e = NULL;
    int t;
    if (cache_type(c, S(k), 1, &t, &e) != CACHE_OK)
        return "none";
    return e;
}

static uint64_t card(struct cache *c, const char *k)
{
    uint64_t n;
    assert_true(cache_scard(c, S(k), 1, &n) >= 0);
    return n;
}

static void test_basic_and_wrongtype(void **st)
{
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    struct cache_val v = {0};

    assert_int_equal(sadd1(c, "s", "1"), 1);
    assert_int_equal(sadd1(c, "s", "1"), 0);
    assert_int_equal(sadd1(c, "s", "a"), 1);
    assert_int_equal(cache_sismember(c, S("s"), S("a"), 1), CACHE_OK);
    assert_int_equal(cache_sismember(c, S("s"), S("b"), 1), CACHE_NOELEM);
    assert_int_equal(cache_sismember(c, S("s"), S("01"), 1), CACHE_NOELEM);   /* not "1" */
    assert_int_equal(cache_sismember(c, S("nokey"), S("a"), 1), CACHE_NOTFOUND);
    assert_int_equal(card(c, "s"), 2);
    assert_int_equal(card(c, "nokey"), 0);
    assert_int_equal(set(c, "str", "x", 1), CACHE_OK);
    assert_int_equal(sadd1(c, "str", "a"), CACHE_E_WRONGTYPE);
    assert_int_equal(srem1(c, "str", "a"), CACHE_E_WRONGTYPE);
    assert_int_equal(cache_sismember(c, S("str"), S("a"), 1), CACHE_E_WRONGTYPE);
    assert_int_equal(cache_get(c, S("s"), 1, &v), CACHE_E_WRONGTYPE);
    long long r;
    assert_int_equal(cache_incr(c, S("s"), 1, 1, &r), CACHE_E_WRONGTYPE);
    struct cache_kv kv = {S("f"), S("v")};
    uint64_t n;
    assert_int_equal(cache_hset(c, S("s"), &kv, 1, 0, 1, &n), CACHE_E_WRONGTYPE);
    assert_int_equal(card(c, "s"), 2);
    /* the last member out: the key goes */
    assert_int_equal(srem1(c, "s", "1"), 1);
    assert_int_equal(srem1(c, "s", "a"), 1);
    assert_int_equal(cache_exists(c, S("s"), 1), CACHE_NOTFOUND);
    ASSERT_INV(c);
    free(v.data);
    cache_destroy(c);
}

static void fill_ints(struct cache *c, const char *k, int from, int to)
{
    char m[32];
    for (int i = from; i < to; i++) {
        snprintf(m, sizeof(m), "%d", i);
        assert_int_equal(sadd1(c, k, m), 1);
    }
}

static void test_conversions(void **st)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);

    limits(c, 4, 6, 8);
    fill_ints(c, "i", 0, 4);
    assert_string_equal(enc_of(c, "i"), "intset");
    fill_ints(c, "i", 4, 5);                               /* 5 > 4 integers */
    assert_string_equal(enc_of(c, "i"), "hashtable");

    fill_ints(c, "l", 0, 3);
    assert_int_equal(sadd1(c, "l", "abc"), 1);             /* a string: listpack */
    assert_string_equal(enc_of(c, "l"), "listpack");
    assert_int_equal(sadd1(c, "l", "9"), 1);               /* integers stay in it */
    assert_int_equal(sadd1(c, "l", "x"), 1);
    assert_int_equal(card(c, "l"), 6);
    assert_string_equal(enc_of(c, "l"), "listpack");
    assert_int_equal(sadd1(c, "l", "y"), 1);               /* a 7th: table */
    assert_string_equal(enc_of(c, "l"), "hashtable");

    assert_int_equal(sadd1(c, "v", "a"), 1);
    assert_string_equal(enc_of(c, "v"), "listpack");       /* a string first */
    assert_int_equal(sadd1(c, "v", "123456789"), 1);       /* 9 > 8 bytes */
    assert_string_equal(enc_of(c, "v"), "hashtable");

    /* an intset whose integers are too long for a listpack: a table */
    assert_int_equal(sadd1(c, "w", "-12345678"), 1);       /* 9 digits */
    assert_int_equal(sadd1(c, "w", "a"), 1);
    assert_string_equal(enc_of(c, "w"), "hashtable");
    /* an intset full up to the listpack's size: a table */
    fill_ints(c, "f", 0, 4);
    limits(c, 4, 4, 8);
    assert_int_equal(sadd1(c, "f", "a"), 1);
    assert_string_equal(enc_of(c, "f"), "hashtable");

    /* never back: deleting down to one member keeps the table */
    for (int i = 0; i < 4; i++) {
        char m[8];
        snprintf(m, sizeof(m), "%d", i);
        assert_int_equal(srem1(c, "i", m), 1);
    }
    assert_int_equal(card(c, "i"), 1);
    assert_string_equal(enc_of(c, "i"), "hashtable");

    /* a new key sized by its first SADD (Redis 7.2's setTypeCreate) */
    limits(c, 4, 4, 8);
    struct cache_str many[6] = {{S("1")}, {S("2")}, {S("3")}, {S("4")}, {S("5")}, {S("6")}};
    uint64_t added;
    assert_int_equal(cache_sadd(c, S("big"), many, 6, 1, &added), CACHE_OK);
    assert_int_equal(added, 6);
    assert_string_equal(enc_of(c, "big"), "hashtable");
    /* and an existing compact one converted before a big SADD */
    assert_int_equal(sadd1(c, "pre", "1"), 1);
    assert_int_equal(cache_sadd(c, S("pre"), many, 6, 1, &added), CACHE_OK);
    assert_int_equal(added, 5);
    assert_string_equal(enc_of(c, "pre"), "hashtable");

    /* canonical integers only: "007", "+1", "-0" are strings */
    limits(c, 512, 128, 64);
    assert_int_equal(sadd1(c, "canon", "7"), 1);
    assert_string_equal(enc_of(c, "canon"), "intset");
    assert_int_equal(sadd1(c, "canon", "007"), 1);
    assert_string_equal(enc_of(c, "canon"), "listpack");
    assert_int_equal(sadd1(c, "canon", "-0"), 1);
    assert_int_equal(sadd1(c, "canon", "+1"), 1);
    assert_int_equal(card(c, "canon"), 4);
    assert_int_equal(cache_sismember(c, S("canon"), S("7"), 1), CACHE_OK);
    assert_int_equal(cache_sismember(c, S("canon"), S("0"), 1), CACHE_NOELEM);
    /* integers of every width in one intset */
    const char *wide[] = {"1", "-40000", "3000000000", "-9223372036854775808",
                          "9223372036854775807"};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(sadd1(c, "wide", wide[i]), 1);
    assert_string_equal(enc_of(c, "wide"), "intset");
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(cache_sismember(c, S("wide"), S(wide[i]), 1), CACHE_OK);
    assert_int_equal(cache_sismember(c, S("wide"), S("9223372036854775808"), 1), CACHE_NOELEM);
    ASSERT_INV(c);
    cache_destroy(c);
}

/* MEMORY USAGE is what the shard is charged, through all three encodings;
 * DEL gives every byte back. */
static void test_memory_accounting(void **st)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);
    uint64_t base = used(c);
    char m[32];
    size_t usage;

    limits(c, 64, 128, 64);
    for (int i = 0; i < 3000; i++) {
        if (i < 100)
            snprintf(m, sizeof(m), "%d", i * 7);              /* intset */
        else
            snprintf(m, sizeof(m), "member:%d", i);           /* listpack, then table */
        assert_int_equal(sadd1(c, "s", m), 1);
        assert_int_equal(cache_memory_usage(c, S("s"), 1, &usage), CACHE_OK);
        assert_int_equal(used(c) - base, usage);
        if (i % 97 == 0)
            ASSERT_INV(c);
    }
    assert_string_equal(enc_of(c, "s"), "hashtable");
    assert_true(used(c) > base + 3000 * 10);
    for (int i = 100; i < 2000; i++) {                        /* shrinking is charged too */
        snprintf(m, sizeof(m), "member:%d", i);
        assert_int_equal(srem1(c, "s", m), 1);
    }
    assert_int_equal(cache_memory_usage(c, S("s"), 1, &usage), CACHE_OK);
    assert_int_equal(used(c) - base, usage);
    ASSERT_INV(c);
    assert_int_equal(cache_del(c, S("s"), 1), CACHE_OK);
    ASSERT_INV(c);
    assert_true(used(c) <= base + 64);
    cache_destroy(c);
}

/* COPY is deep for every encoding, RENAME moves a table whole. */
static void test_copy_rename(void **st)
{
    struct cache *c = mk(8, 0, CACHE_ALLKEYS_LRU);
    char m[32];

    limits(c, 8, 16, 64);
    fill_ints(c, "is", 0, 5);
    fill_ints(c, "lp", 0, 3);
    assert_int_equal(sadd1(c, "lp", "x"), 1);
    for (int i = 0; i < 50; i++) {
        snprintf(m, sizeof(m), "m%d", i);
        assert_int_equal(sadd1(c, "ht", m), 1);
    }
    const char *src[] = {"is", "lp", "ht"}, *enc[] = {"intset", "listpack", "hashtable"};
    for (int i = 0; i < 3; i++) {
        char dst[16];
        snprintf(dst, sizeof(dst), "%s.copy", src[i]);
        assert_int_equal(cache_copy(c, S(src[i]), S(dst), 0, 1), CACHE_OK);
        assert_string_equal(enc_of(c, dst), enc[i]);
        assert_int_equal(card(c, dst), card(c, src[i]));
        assert_int_equal(sadd1(c, dst, "new"), 1);             /* the copy is its own */
        assert_int_equal(cache_sismember(c, S(src[i]), S("new"), 1), CACHE_NOELEM);
    }
    ASSERT_INV(c);
    assert_int_equal(cache_rename(c, S("ht"), S("moved"), 0, 1), CACHE_OK);
    assert_int_equal(cache_sismember(c, S("moved"), S("m49"), 1), CACHE_OK);
    assert_int_equal(cache_rename(c, S("is"), S("lp"), 0, 1), CACHE_OK);   /* over a set */
    assert_string_equal(enc_of(c, "lp"), "intset");
    ASSERT_INV(c);
    cache_destroy(c);
}

/* The STORE commands' builder: the encoding a new key holding those
 * members would have. */
static void test_build(void **st)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);
    struct cache_keys k = {0};
    char m[32];

    limits(c, 4, 6, 8);
    struct {
        const char *members[8];
        const char *enc;
    } cases[] = {
        {{"1", "2", "3", "4"}, "intset"},
        {{"1", "2", "3", "4", "5"}, "hashtable"},
        {{"1", "a", "3"}, "listpack"},
        {{"a", "b", "c", "d", "e", "f"}, "listpack"},
        {{"a", "b", "c", "d", "e", "f", "g"}, "hashtable"},
        {{"a", "123456789"}, "hashtable"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = 0;
        for (; n < 8 && cases[i].members[n]; n++)
            assert_int_equal(cache__keys_push(&k, S(cases[i].members[n])), CACHE_OK);
        struct item *it = cache__set_build(c, 1, S("k"), &k);
        assert_non_null(it);
        assert_string_equal(cache__enc_name(it), cases[i].enc);
        assert_int_equal(cache__set_card(it), n);
        assert_int_equal(cache__item_check(it), 0);
        cache__item_destroy(it);
        cache_keys_free(&k);
    }
    assert_null(cache__set_build(c, 1, S("k"), &k));           /* empty: no set */
    for (int i = 0; i < 1000; i++) {
        snprintf(m, sizeof(m), "%d", i);
        cache__keys_push(&k, S(m));
    }
    struct item *it = cache__set_build(c, 1, S("k"), &k);
    assert_string_equal(cache__enc_name(it), "hashtable");
    assert_int_equal(cache__item_check(it), 0);
    cache__item_destroy(it);
    cache_keys_free(&k);
    cache_destroy(c);
}

/* A large set is freed off the shard lock like a large hash: by the
 * lazy-free thread for UNLINK, and for an overwrite (a STORE's
 * destination) with lazyfree-lazy-server-del; a small one on the spot. */
static uint64_t lazyfreed(struct cache *c)
{
    struct cache_stats st;
    for (int i = 0; i < 10000; i++) {       /* bounded: 10 s */
        cache_stats(c, &st);
        if (st.lazyfree_pending == 0)
            break;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(st.lazyfree_pending, 0);
    return st.lazyfreed;
}

static void big_set(struct cache *c, const char *k, int n)
{
    char m[32];
    for (int i = 0; i < n; i++) {
        snprintf(m, sizeof(m), "member:%d", i);
        assert_int_equal(sadd1(c, k, m), 1);
    }
}

static void test_lazy_free(void **st)
{
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    uint64_t base = used(c);
    struct cache_setop_result r = {0};

    big_set(c, "big", 5000);
    fill_ints(c, "small", 0, 10);
    assert_int_equal(cache_unlink(c, S("big"), 1), CACHE_OK);
    assert_int_equal(lazyfreed(c), 1);
    assert_int_equal(cache_unlink(c, S("small"), 1), CACHE_OK);   /* small: on the spot */
    assert_int_equal(lazyfreed(c), 1);
    cache_set_lazyfree(c, CACHE_LAZY_SERVER_DEL);
    big_set(c, "big", 5000);
    fill_ints(c, "small", 0, 10);
    struct cache_str src = {S("small")};
    struct cache_setop op = {.op = CACHE_SUNION, .keys = &src, .nkeys = 1, .dst = "big",
                             .dlen = 3};
    assert_int_equal(cache_setop(c, &op, 1, &r), CACHE_OK);        /* over the big set */
    assert_int_equal(lazyfreed(c), 2);
    assert_string_equal(enc_of(c, "big"), "intset");
    ASSERT_INV(c);
    assert_int_equal(cache_del(c, S("big"), 1), CACHE_OK);
    assert_int_equal(cache_del(c, S("small"), 1), CACHE_OK);
    assert_true(used(c) <= base + 4096);
    cache_destroy(c);
}

/* ---- property test ---------------------------------------------------------- */

#define NKEYS 4
#define MAXM 1024

struct mset {
    int n;
    char *m[MAXM];
    size_t len[MAXM];
    int rank;          /* the most spread-out encoding seen since created */
};
static struct mset model[NKEYS];
static const char *const keys[NKEYS] = {"k0", "k1", "k2", "{k0}x"};

static int mfind(const struct mset *s, const char *m, size_t len)
{
    for (int i = 0; i < s->n; i++)
        if (s->len[i] == len && memcmp(s->m[i], m, len) == 0)
            return i;
    return -1;
}

static bool madd(struct mset *s, const char *m, size_t len)
{
    if (mfind(s, m, len) >= 0)
        return false;
    assert_true(s->n < MAXM);
    s->m[s->n] = malloc(len + 1);
    memcpy(s->m[s->n], m, len);
    s->len[s->n++] = len;
    return true;
}

static bool mdel(struct mset *s, const char *m, size_t len)
{
    int i = mfind(s, m, len);
    if (i < 0)
        return false;
    free(s->m[i]);
    s->n--;
    s->m[i] = s->m[s->n];
    s->len[i] = s->len[s->n];
    return true;
}

static void mclear(struct mset *s)
{
    while (s->n)
        mdel(s, s->m[0], s->len[0]);
    s->rank = 0;
}

static void mcopy(struct mset *d, const struct mset *s)
{
    struct mset tmp = {0};
    for (int i = 0; i < s->n; i++)
        madd(&tmp, s->m[i], s->len[i]);
    mclear(d);
    *d = tmp;
}

/* Keys k0 and {k0}x draw mostly integers, so intsets grow there too. */
static size_t gen_member(char *buf, int k)
{
    if ((k == 0 || k == 3) && rnd() % 16 != 0)
        return (size_t)sprintf(buf, "%d", (int)(rnd() % 60) - 20);
    switch (rnd() % 8) {
    case 0: {                   /* long: past the listpack's value limit */
        size_t n = 10 + rnd() % 40;
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)('A' + rnd() % 26);
        return n;
    }
    case 1: case 2: case 3:     /* an integer, sometimes a wide one */
        if (rnd() % 8 == 0)
            return (size_t)sprintf(buf, "%lld", (long long)(rnd() % 3) * 4000000000LL - 1);
        return (size_t)sprintf(buf, "%d", (int)(rnd() % 300) - 100);
    case 4:                     /* integer-like strings */
        return (size_t)sprintf(buf, "0%u", (unsigned)(rnd() % 20));
    default:
        return (size_t)sprintf(buf, "m%u", (unsigned)(rnd() % 150));
    }
}

static int enc_rank(const char *e)
{
    return !strcmp(e, "intset") ? 1 : !strcmp(e, "listpack") ? 2 : 3;
}

/* The set equals the model: SMEMBERS as a set, SCARD, every SISMEMBER;
 * an intset holds integers only; the encoding never went back. */
static void check_key(struct cache *c, int k)
{
    struct mset *m = &model[k];
    struct cache_keys out = {0};
    const char *s;
    size_t pos = 0, len;

    int rc = cache_smembers(c, S(keys[k]), 1, &out);
    assert_int_equal(rc, m->n ? CACHE_OK : CACHE_NOTFOUND);
    assert_int_equal(out.count, (size_t)m->n);
    while ((s = cache_keys_next(&out, &pos, &len)) != NULL) {
        if (mfind(m, s, len) < 0)
            fail_msg("key %s: member '%.*s' not in the model (n=%d, enc %s)", keys[k],
                     (int)len, s, m->n, enc_of(c, keys[k]));
        if (!strcmp(enc_of(c, keys[k]), "intset")) {
            struct cache__smem sm;
            cache__smem_str(&sm, s, len);
            assert_true(sm.k.isint);
        }
    }
    cache_keys_free(&out);
    assert_int_equal(card(c, keys[k]), (uint64_t)m->n);
    for (int i = 0; i < m->n; i++)
        assert_int_equal(cache_sismember(c, S(keys[k]), m->m[i], m->len[i], 1), CACHE_OK);
    if (m->n) {
        int r = enc_rank(enc_of(c, keys[k]));
        assert_true(r >= m->rank);
        m->rank = r;
    }
}

static void op_sadd(struct cache *c, int k)
{
    char buf[8][64];
    struct cache_str ms[8];
    int n = 1 + (int)(rnd() % 8), fresh = 0;
    uint64_t added;

    for (int i = 0; i < n; i++) {
        ms[i].s = buf[i];
        ms[i].len = gen_member(buf[i], k);
    }
    for (int i = 0; i < n; i++)
        fresh += madd(&model[k], ms[i].s, ms[i].len);
    assert_int_equal(cache_sadd(c, S(keys[k]), ms, (size_t)n, 1, &added), CACHE_OK);
    assert_int_equal(added, (uint64_t)fresh);
}

static void op_srem(struct cache *c, int k)
{
    char buf[4][64];
    struct cache_str ms[4];
    int gone = 0;
    uint64_t n;

    for (int i = 0; i < 4; i++) {
        ms[i].s = buf[i];
        if (model[k].n && rnd() % 2) {
            int j = (int)(rnd() % (uint64_t)model[k].n);
            memcpy(buf[i], model[k].m[j], model[k].len[j]);
            ms[i].len = model[k].len[j];
        } else {
            ms[i].len = gen_member(buf[i], k);
        }
    }
    for (int i = 0; i < 4; i++)
        gone += mdel(&model[k], ms[i].s, ms[i].len);
    assert_int_equal(cache_srem(c, S(keys[k]), ms, 4, 1, &n), CACHE_OK);
    assert_int_equal(n, (uint64_t)gone);
}

static void op_spop(struct cache *c, int k)
{
    struct cache_keys out = {0};
    uint64_t count = rnd() % 5 == 0 ? 1000 : rnd() % 4;
    int before = model[k].n;
    const char *s;
    size_t pos = 0, len;

    assert_int_equal(cache_spop(c, S(keys[k]), count, 1, &out),
                     before ? CACHE_OK : CACHE_NOTFOUND);
    assert_int_equal(out.count, count < (uint64_t)before ? count : (uint64_t)before);
    while ((s = cache_keys_next(&out, &pos, &len)) != NULL)
        assert_true(mdel(&model[k], s, len));   /* a member, popped once */
    cache_keys_free(&out);
    if (model[k].n == 0)
        model[k].rank = 0;
}

static void op_srandmember(struct cache *c, int k)
{
    struct cache_keys out = {0};
    long long count = (long long)(rnd() % 40) - 20;
    int sample;
    const char *s;
    size_t pos = 0, len;

    assert_int_equal(cache_srandmember(c, S(keys[k]), count, 1, &out, &sample),
                     model[k].n ? CACHE_OK : CACHE_NOTFOUND);
    while ((s = cache_keys_next(&out, &pos, &len)) != NULL)
        assert_true(mfind(&model[k], s, len) >= 0);
    cache_keys_free(&out);
}

static void op_smove(struct cache *c, int k)
{
    int d = (int)(rnd() % NKEYS);
    char buf[64];
    size_t len;

    if (model[k].n && rnd() % 3) {
        int j = (int)(rnd() % (uint64_t)model[k].n);
        len = model[k].len[j];
        memcpy(buf, model[k].m[j], len);
    } else {
        len = gen_member(buf, k);
    }
    bool member = mfind(&model[k], buf, len) >= 0;
    int rc = cache_smove(c, S(keys[k]), S(keys[d]), buf, len, 1);
    assert_int_equal(rc, !model[k].n ? CACHE_NOTFOUND : member ? CACHE_OK : CACHE_NOELEM);
    if (member && d != k) {
        mdel(&model[k], buf, len);
        if (model[d].n == 0)
            model[d].rank = 0;
        madd(&model[d], buf, len);
        if (model[k].n == 0)
            model[k].rank = 0;
    }
}

/* SINTERSTORE, SUNIONSTORE or SDIFFSTORE of two or three keys into any
 * key, the sources included. */
static void op_store(struct cache *c, int k)
{
    int kind = (int)(rnd() % 3), n = 2 + (int)(rnd() % 2), d = (int)(rnd() % NKEYS);
    struct cache_str src[3];
    int idx[3] = {k, (int)(rnd() % NKEYS), (int)(rnd() % NKEYS)};
    struct mset res = {0};

    for (int i = 0; i < n; i++)
        src[i] = (struct cache_str){S(keys[idx[i]])};
    for (int i = 0; i < model[k].n; i++) {
        const char *m = model[k].m[i];
        size_t len = model[k].len[i];
        bool keep = true;
        for (int j = 1; j < n; j++) {
            bool in = mfind(&model[idx[j]], m, len) >= 0;
            keep &= kind == CACHE_SINTER ? in : kind == CACHE_SDIFF ? !in : true;
        }
        if (keep)
            madd(&res, m, len);
    }
    for (int j = 1; kind == CACHE_SUNION && j < n; j++)
        for (int i = 0; i < model[idx[j]].n; i++)
            madd(&res, model[idx[j]].m[i], model[idx[j]].len[i]);
    struct cache_setop op = {.op = kind, .keys = src, .nkeys = (size_t)n, .dst = keys[d],
                             .dlen = strlen(keys[d])};
    struct cache_setop_result r = {0};
    assert_int_equal(cache_setop(c, &op, 1, &r), CACHE_OK);
    assert_int_equal(r.card, (uint64_t)res.n);
    assert_int_equal(r.members.count, 0);
    mclear(&model[d]);
    model[d] = res;
}

static void op_sintercard(struct cache *c, int k)
{
    int other = (int)(rnd() % NKEYS);
    uint64_t limit = rnd() % 3 == 0 ? 1 + rnd() % 5 : 0, want = 0;
    struct cache_str src[2] = {{S(keys[k])}, {S(keys[other])}};

    for (int i = 0; i < model[k].n; i++)
        want += mfind(&model[other], model[k].m[i], model[k].len[i]) >= 0;
    if (limit && want > limit)
        want = limit;
    struct cache_setop op = {.op = CACHE_SINTER, .keys = src, .nkeys = 2, .card_only = 1,
                             .limit = limit};
    struct cache_setop_result r = {0};
    assert_int_equal(cache_setop(c, &op, 1, &r), CACHE_OK);
    assert_int_equal(r.card, want);
}

static void one_op(struct cache *c)
{
    int k = (int)(rnd() % NKEYS);
    unsigned op = (unsigned)(rnd() % 16);

    if (op < 5) {
        op_sadd(c, k);
    } else if (op < 7) {
        op_srem(c, k);
        if (!model[k].n)
            model[k].rank = 0;
    } else if (op == 7) {
        op_spop(c, k);
    } else if (op == 8) {
        op_srandmember(c, k);
    } else if (op == 9) {
        op_smove(c, k);
    } else if (op == 10) {
        op_store(c, k);
    } else if (op == 11) {
        op_sintercard(c, k);
    } else if (op == 12) {                         /* COPY over another key */
        int d = (k + 1) % NKEYS;
        int rc = cache_copy(c, S(keys[k]), S(keys[d]), 1, 1);
        assert_int_equal(rc, model[k].n ? CACHE_OK : CACHE_NOTFOUND);
        if (model[k].n) {
            mcopy(&model[d], &model[k]);
            model[d].rank = model[k].rank;
        }
    } else if (op == 13 && rnd() % 4 == 0) {       /* DEL or UNLINK */
        int rc = rnd() % 2 ? cache_del(c, S(keys[k]), 1) : cache_unlink(c, S(keys[k]), 1);
        assert_int_equal(rc, model[k].n ? CACHE_OK : CACHE_NOTFOUND);
        mclear(&model[k]);
    } else if (op == 14) {                         /* limits change live */
        limits(c, 1 + rnd() % 40, 1 + rnd() % 40, 4 + rnd() % 40);
    }
}

static void test_property(void **st)
{
    const char *env = getenv("MMCACHE_PROP_ITERS");
    long iters = env ? atol(env) : 20000;
    struct cache *c = mk(2, 0, CACHE_ALLKEYS_LRU);

    limits(c, 16, 16, 16);
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
        cmocka_unit_test(test_memory_accounting),
        cmocka_unit_test(test_copy_rename),
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_lazy_free),
        cmocka_unit_test(test_property),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
