/*
 * test_set_property: the set type against a model (cache/t_set.c,
 * setops.c, setmulti.c). Random command sequences over a few keys (SADD,
 * SREM, SPOP, SRANDMEMBER, SMOVE, the STORE commands, SINTERCARD, COPY,
 * DEL) run against a plain model (a list of members per key), with
 * thresholds small and changing so that all three encodings and every
 * conversion happen; after every step: the cache's invariants
 * (cache__check_invariants: the set's own check and the memory sum), the
 * model, that an intset holds only integers, and that no set ever goes
 * back to a more compact encoding. MMCACHE_PROP_ITERS sets the length.
 */
#include <limits.h>

#include "test_util.h"

#include "t_set.h"
#include "set_util.h"


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
        cmocka_unit_test(test_property),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
