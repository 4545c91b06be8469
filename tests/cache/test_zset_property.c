/*
 * test_zset_property: the sorted set type against a model (cache/t_zset*.c,
 * zsetops.c, zsetrange.c, zsetmulti.c). Random command sequences over a
 * few keys (ZADD with every flag, ZREM, ZPOPMIN/MAX, ZREMRANGEBY*, the
 * STORE commands with weights and aggregates, ZRANGESTORE, COPY, RENAME,
 * DEL) run against a plain model (members and scores per key, sorted on
 * demand), with thresholds small and changing so that both encodings and
 * the conversion happen; the reads (ZRANGE in every form, ZCOUNT,
 * ZLEXCOUNT, ZRANK, ZSCORE, ZUNION, ZINTERCARD) are compared with the
 * model. After every step: the cache's invariants (cache__check_invariants:
 * the type's own check, the tree's, the memory sum), the whole of every
 * key, and that no set goes back to a listpack. MMCACHE_PROP_ITERS sets
 * the length.
 */
#include <math.h>

#define TEST_RNG_SEED 0x9E3779B97F4A7C15ull
#include "test_util.h"

#include "zset_util.h"
#include "zset_model.h"

#define NKEYS 4
static struct mz model[NKEYS];
static const char *const keys[NKEYS] = {"z0", "z1", "z2", "{z0}x"};

static const double scores[] = {-INFINITY, -2.5, -1, -0.0, 0, 0.5, 1, 1.5, 2, 3, 1e300, INFINITY};
static const double weights[] = {0, 1, 2, -1, 0.5};

static void rand_member(char *buf, size_t *len)
{
    unsigned r = (unsigned)rnd();
    switch (r % 4) {
    case 0: *len = (size_t)snprintf(buf, MLEN, "%u", r / 4 % 40); break;   /* integers */
    case 1: *len = (size_t)snprintf(buf, MLEN, "-%u", r / 4 % 5); break;
    case 2: *len = (size_t)snprintf(buf, MLEN, "m%u", r / 4 % 300); break;
    default:                                                                 /* long ones */
        *len = 1 + r / 4 % 30;
        memset(buf, 'a' + (int)(r / 128 % 3), *len);
    }
}

/* records (member, score) against the model's members idx[from..from+n) */
static void expect_recs(const struct cache_keys *out, const struct mz *z, const int *idx,
                        int n, int step, bool withscores)
{
    size_t pos = 0, len;
    const char *s;

    assert_int_equal(out->count, (size_t)n * (withscores ? 2 : 1));
    for (int i = 0; i < n; i++) {
        s = cache_keys_next(out, &pos, &len);
        assert_int_equal(len, z->len[idx[i * step]]);
        assert_memory_equal(s, z->m[idx[i * step]], len);
        if (withscores) {
            s = cache_keys_next(out, &pos, &len);
            assert_int_equal(len, sizeof(double));
            assert_true(cache_keys_score(s) == z->sc[idx[i * step]]);
        }
    }
}

/* Many members at once: sets of a few hundred, trees of several leaves. */
static void op_bulk(struct cache *c, int k)
{
    static char m[200][MLEN];
    struct cache_zpair p[200];
    struct cache_zadd_result r, mr;
    size_t n = 20 + rnd() % 180;

    for (size_t i = 0; i < n; i++) {
        rand_member(m[i], &p[i].len);
        p[i].m = m[i];
        p[i].score = k == NKEYS - 1 ? 0 : scores[rnd() % (sizeof(scores) / sizeof(scores[0]))];
    }
    assert_int_equal(model_zadd(&model[k], p, n, 0, &mr), CACHE_OK);
    assert_int_equal(cache_zadd(c, S(keys[k]), p, n, 0, 1, &r), CACHE_OK);
    assert_int_equal(r.added, mr.added);
    assert_int_equal(r.updated, mr.updated);
}

static void op_zadd(struct cache *c, int k)
{
    static const int fl[] = {0, CACHE_ZADD_NX, CACHE_ZADD_XX, CACHE_ZADD_GT, CACHE_ZADD_LT,
                             CACHE_ZADD_XX | CACHE_ZADD_GT, CACHE_ZADD_INCR,
                             CACHE_ZADD_INCR | CACHE_ZADD_NX, CACHE_ZADD_INCR | CACHE_ZADD_LT};
    char m[3][MLEN];
    struct cache_zpair p[3];
    struct cache_zadd_result r, mr;
    int flags = fl[rnd() % (sizeof(fl) / sizeof(fl[0]))];
    size_t n = flags & CACHE_ZADD_INCR ? 1 : 1 + rnd() % 3;

    for (size_t i = 0; i < n; i++) {
        rand_member(m[i], &p[i].len);
        p[i].m = m[i];
        /* the last key keeps one score, for the lex ranges */
        p[i].score = k == NKEYS - 1 ? 0 : scores[rnd() % (sizeof(scores) / sizeof(scores[0]))];
    }
    int mrc = model_zadd(&model[k], p, n, flags, &mr);
    int rc = cache_zadd(c, S(keys[k]), p, n, flags, 1, &r);
    assert_int_equal(rc, mrc);
    if (rc == CACHE_OK) {
        assert_int_equal(r.added, mr.added);
        assert_int_equal(r.updated, mr.updated);
        assert_int_equal(r.processed, mr.processed);
        if ((flags & CACHE_ZADD_INCR) && r.processed)
            assert_true(r.score == mr.score);
    }
}

/* ---- ranges ------------------------------------------------------------------- */

static void rand_range(struct cache_zrange *r, char *lo, char *hi)
{
    size_t l1, l2;

    memset(r, 0, sizeof(*r));
    r->by = (int)(rnd() % 3);
    r->rev = (int)(rnd() % 2);
    r->start = (long long)(rnd() % 14) - 7;
    r->end = (long long)(rnd() % 14) - 7;
    r->score.min = scores[rnd() % 12];
    r->score.max = scores[rnd() % 12];
    r->score.minex = (int)(rnd() % 2);
    r->score.maxex = (int)(rnd() % 2);
    rand_member(lo, &l1);
    rand_member(hi, &l2);
    r->lex.min = (struct cache_zlex_bound){lo, l1, (int)(rnd() % 4)};
    r->lex.max = (struct cache_zlex_bound){hi, l2, (int)(rnd() % 4)};
    r->offset = rnd() % 4 ? 0 : (long long)(rnd() % 5) - 1;
    r->limit = rnd() % 3 ? -1 : (long long)(rnd() % 5);
    r->withscores = 1;
}

static bool range_comparable(const struct mz *z, const struct cache_zrange *r)
{
    return r->by != CACHE_ZBY_LEX || same_scores(z);   /* lex needs one score */
}

static void op_read(struct cache *c, int k)
{
    struct cache_zrange r;
    char lo[MLEN], hi[MLEN];
    struct cache_keys out = {0};
    int sel[MAXM], n;
    uint64_t total, count;

    rand_range(&r, lo, hi);
    assert_true(cache_zrange(c, S(keys[k]), &r, SIZE_MAX, 1, &out, &total) >= 0);
    if (range_comparable(&model[k], &r)) {
        model_range(&model[k], &r, sel, &n);
        assert_int_equal(total, n);
        expect_recs(&out, &model[k], sel, n, 1, true);
        if (r.by != CACHE_ZBY_RANK) {   /* ZCOUNT / ZLEXCOUNT: no LIMIT */
            r.offset = 0;
            r.limit = -1;
            model_range(&model[k], &r, sel, &n);
            assert_int_equal(cache_zcount(c, S(keys[k]), &r, 1, &count) >= 0, 1);
            assert_int_equal(count, n);
        }
    }
    cache_keys_free(&out);
    /* ZSCORE and ZRANK of a random member */
    char m[MLEN];
    size_t len;
    uint64_t rank;
    rand_member(m, &len);
    int i = mfind(&model[k], m, len);
    double d;
    int rc = cache_zscore(c, S(keys[k]), m, len, 1, &d);
    assert_int_equal(rc, model[k].n == 0 ? CACHE_NOTFOUND : i < 0 ? CACHE_NOELEM : CACHE_OK);
    if (i >= 0) {
        assert_true(d == model[k].sc[i]);
        int idx[MAXM];
        msorted(&model[k], idx);
        int pos = 0;
        while (idx[pos] != i)
            pos++;
        int rev = (int)(rnd() % 2);
        assert_int_equal(cache_zrank(c, S(keys[k]), m, len, rev, 1, &rank), CACHE_OK);
        assert_int_equal(rank, rev ? model[k].n - 1 - pos : pos);
    }
}

static void op_remrange(struct cache *c, int k)
{
    struct cache_zrange r;
    char lo[MLEN], hi[MLEN];
    int sel[MAXM], n;
    uint64_t removed;

    rand_range(&r, lo, hi);
    r.rev = 0;
    r.offset = 0;
    r.limit = -1;
    if (!range_comparable(&model[k], &r))
        return;
    model_range(&model[k], &r, sel, &n);
    assert_true(cache_zremrange(c, S(keys[k]), &r, 1, &removed) >= 0);
    assert_int_equal(removed, n);
    /* sel holds indexes: delete from the highest so the others stay put */
    for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++)
            if (sel[b] > sel[a]) {
                int t = sel[a];
                sel[a] = sel[b];
                sel[b] = t;
            }
    for (int a = 0; a < n; a++)
        mdel(&model[k], sel[a]);
}

static void op_pop(struct cache *c, int k)
{
    struct cache_keys out = {0};
    char names[8][MLEN];
    size_t lens[8];
    int idx[MAXM], sel[8] = {0};
    int where = (int)(rnd() % 2);
    uint64_t count = rnd() % 5;
    int n = (int)count < model[k].n ? (int)count : model[k].n;

    msorted(&model[k], idx);
    for (int i = 0; i < n; i++) {
        sel[i] = where == CACHE_ZMAX ? idx[model[k].n - 1 - i] : idx[i];
        memcpy(names[i], model[k].m[sel[i]], MLEN);
        lens[i] = model[k].len[sel[i]];
    }
    assert_true(cache_zpop(c, S(keys[k]), where, count, 1, &out) >= 0);
    expect_recs(&out, &model[k], sel, n, 1, true);
    for (int i = 0; i < n; i++)
        mdel(&model[k], mfind(&model[k], names[i], lens[i]));
    cache_keys_free(&out);
}

/* ---- the commands on several keys ------------------------------------------------- */

static void op_setop(struct cache *c, int k)
{
    struct cache_str ks[3];
    int src[3];
    double w[3];
    size_t ns = 1 + rnd() % 3;
    struct mz res;
    struct cache_zsetop op = {.op = (int)(rnd() % 3), .nkeys = ns, .keys = ks,
                              .aggregate = (int)(rnd() % 3), .max_bytes = SIZE_MAX};
    struct cache_zsetop_result out = {0};
    int idx[MAXM];

    for (size_t j = 0; j < ns; j++) {
        src[j] = (int)(rnd() % NKEYS);
        ks[j] = (struct cache_str){S(keys[src[j]])};
        w[j] = weights[rnd() % 5];
    }
    if (op.op != CACHE_ZDIFF && rnd() % 2)
        op.weights = w;
    else
        op.aggregate = op.op == CACHE_ZDIFF ? CACHE_ZAGG_SUM : op.aggregate;
    model_setop(model, op.op, src, ns, op.weights, op.aggregate, &res);
    if (rnd() % 2) {   /* the STORE form into key k */
        op.dst = keys[k];
        op.dlen = strlen(keys[k]);
        assert_int_equal(cache_zsetop(c, &op, 1, &out), CACHE_OK);
        assert_int_equal(out.card, res.n);
        model[k] = res;
        model[k].big = false;
        return;
    }
    if (op.op == CACHE_ZINTER && rnd() % 3 == 0) {
        op.card_only = 1;
        op.limit = rnd() % 4;
        assert_int_equal(cache_zsetop(c, &op, 1, &out), CACHE_OK);
        assert_int_equal(out.card, op.limit && (uint64_t)res.n > op.limit ? op.limit
                                                                          : (uint64_t)res.n);
        return;
    }
    assert_int_equal(cache_zsetop(c, &op, 1, &out), CACHE_OK);
    assert_int_equal(out.card, res.n);
    msorted(&res, idx);
    expect_recs(&out.recs, &res, idx, res.n, 1, true);
    cache_keys_free(&out.recs);
}

static void op_rangestore(struct cache *c, int k)
{
    struct cache_zrange r;
    char lo[MLEN], hi[MLEN];
    int sel[MAXM], n, from = (int)(rnd() % NKEYS);
    uint64_t card;
    struct mz res = {0};

    rand_range(&r, lo, hi);
    if (!range_comparable(&model[from], &r))
        return;
    model_range(&model[from], &r, sel, &n);
    for (int i = 0; i < n; i++) {
        memcpy(res.m[i], model[from].m[sel[i]], MLEN);
        res.len[i] = model[from].len[sel[i]];
        res.sc[i] = model[from].sc[sel[i]];
    }
    res.n = n;
    assert_int_equal(cache_zrangestore(c, S(keys[k]), S(keys[from]), &r, 1, &card), CACHE_OK);
    assert_int_equal(card, n);
    model[k] = res;
}

static void op_keyspace(struct cache *c, int k)
{
    int to = (int)(rnd() % NKEYS);

    switch (rnd() % 3) {
    case 0:
        if (cache_copy(c, S(keys[k]), S(keys[to]), 1, 1) == CACHE_OK && k != to) {
            model[to] = model[k];
            model[to].big = false;
        }
        break;
    case 1:
        if (cache_rename(c, S(keys[k]), S(keys[to]), 0, 1) == CACHE_OK && k != to) {
            model[to] = model[k];
            model[k].n = 0;
            model[k].big = false;
        }
        break;
    default:
        cache_del(c, S(keys[k]), 1);
        model[k].n = 0;
        model[k].big = false;
    }
}

/* ---- the check after each step, the loop ------------------------------------------ */

static void check_all(struct cache *c)
{
    struct cache_keys out = {0};
    int idx[MAXM];

    ASSERT_INV(c);
    for (int k = 0; k < NKEYS; k++) {
        struct mz *z = &model[k];
        zall(c, keys[k], &out);
        msorted(z, idx);
        expect_recs(&out, z, idx, z->n, 1, true);
        const char *enc = zenc_of(c, keys[k]);
        if (z->n == 0) {
            assert_string_equal(enc, "none");
            z->big = false;
        } else if (z->big) {
            assert_string_equal(enc, "skiplist");   /* never back */
        } else {
            z->big = strcmp(enc, "skiplist") == 0;
        }
    }
    cache_keys_free(&out);
}

static void test_property(void **st)
{
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    const char *env = getenv("MMCACHE_PROP_ITERS"), *seed = getenv("MMCACHE_PROP_SEED");
    long iters = env ? atol(env) : 20000;
    long bigs = 0, members = 0, most = 0;
    static const uint64_t ent[] = {0, 1, 4, 8, 16, 128}, val[] = {0, 3, 8, 64};

    (void)st;
    if (seed)
        rnd_seed(strtoull(seed, NULL, 0) * 0x9E3779B97F4A7C15ull | 1);
    for (long step = 0; step < iters; step++) {
        int k = (int)(rnd() % NKEYS);
        unsigned op = (unsigned)(rnd() % 100);
        if (op < 34)
            op_zadd(c, k);
        else if (op < 40)
            op_bulk(c, k);
        else if (op < 45) {
            char m[MLEN];
            size_t len;
            rand_member(m, &len);
            int i = mfind(&model[k], m, len);
            struct cache_str s = {m, len};
            uint64_t n;
            assert_int_equal(cache_zrem(c, S(keys[k]), &s, 1, 1, &n), CACHE_OK);
            assert_int_equal(n, i >= 0);
            if (i >= 0)
                mdel(&model[k], i);
        } else if (op < 65)
            op_read(c, k);
        else if (op < 70)
            op_remrange(c, k);
        else if (op < 78)
            op_pop(c, k);
        else if (op < 88)
            op_setop(c, k);
        else if (op < 92)
            op_rangestore(c, k);
        else if (op < 96)
            op_keyspace(c, k);
        else
            zlimits(c, ent[rnd() % 6], val[rnd() % 4]);
        check_all(c);
        for (int j = 0; j < NKEYS; j++) {
            bigs += model[j].big;
            members += model[j].n;
            most = model[j].n > most ? model[j].n : most;
        }
    }
    print_message("%ld steps; on average %.1f members a key (at most %ld), %.0f%% of keys "
                  "skiplists\n", iters, (double)members / (double)(iters * NKEYS), most,
                  100.0 * (double)bigs / (double)(iters * NKEYS));
    cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_property),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
