/*
 * Property test (seed task 15): random sequences of get/set/del/expire/
 * incr/append/rename/... against a simple reference model, with the
 * structural invariants checked along the way. A failure prints the seed
 * and the shard count; rerun one case with
 *     CACHE_PROP_SEED=<seed> CACHE_PROP_SHARDS=<n> ./test_cache_property
 */
#include "test_util.h"

#define NKEYS 64
#define MAXV 64

struct ref {
    int present;
    char v[4096];
    size_t len;
    int64_t exp;
};

static struct ref model[NKEYS];

static void keyname(int i, char *k) { sprintf(k, "key:%d", i); }

static int live(int i, int64_t now)
{
    if (model[i].present && model[i].exp && model[i].exp <= now)
        model[i].present = 0;
    return model[i].present;
}

static int run_case(uint64_t seed, unsigned nshards, int nops)
{
    struct cache *c = mk(nshards, 0, CACHE_ALLKEYS_LRU);
    struct cache_val out = {0};
    char k[32], k2[32], v[MAXV + 1];
    int64_t now = 1000;
    int ok = 1;

    memset(model, 0, sizeof(model));
    rnd_seed(seed * 2654435761u + 1);
#define CHECK(cond) do { if (!(cond)) { \
        print_error("seed %lu shards %u op %d: %s (line %d)\n", \
                    (unsigned long)seed, nshards, op, #cond, __LINE__); \
        ok = 0; goto out; } } while (0)

    for (int op = 0; op < nops; op++) {
        int i = (int)(rnd() % NKEYS), j = (int)(rnd() % NKEYS);
        keyname(i, k);
        keyname(j, k2);
        now += (int64_t)(rnd() % 50);
        size_t vl = rnd() % MAXV;
        for (size_t x = 0; x < vl; x++)
            v[x] = (char)('a' + rnd() % 26);
        int r = (int)(rnd() % 100), rc;
        if (r < 25) {                          /* GET */
            rc = cache_get(c, S(k), now, &out);
            if (live(i, now)) {
                CHECK(rc == CACHE_OK && out.len == model[i].len &&
                      memcmp(out.data, model[i].v, out.len) == 0);
            } else {
                CHECK(rc == CACHE_NOTFOUND);
            }
        } else if (r < 45) {                   /* SET [EX] [NX|XX] */
            int flags = (int)(rnd() % 3 == 0 ? (rnd() % 2 ? CACHE_SET_NX : CACHE_SET_XX) : 0);
            int64_t exp = rnd() % 3 == 0 ? now + (int64_t)(rnd() % 2000) + 1 : 0;
            rc = cache_set(c, S(k), v, vl, flags, exp, now, NULL, NULL);
            int l = live(i, now);
            if ((flags & CACHE_SET_NX && l) || (flags & CACHE_SET_XX && !l)) {
                CHECK(rc == CACHE_NOTSET);
            } else {
                CHECK(rc == CACHE_OK);
                model[i].present = 1;
                memcpy(model[i].v, v, vl);
                model[i].len = vl;
                model[i].exp = exp;
            }
        } else if (r < 55) {                   /* DEL */
            rc = cache_del(c, S(k), now);
            CHECK(rc == (live(i, now) ? CACHE_OK : CACHE_NOTFOUND));
            model[i].present = 0;
        } else if (r < 63) {                   /* EXPIRE / PERSIST */
            int64_t exp = now + (int64_t)(rnd() % 3000) - 200;
            if (rnd() % 4 == 0) {
                rc = cache_persist(c, S(k), now);
                if (!live(i, now))
                    CHECK(rc == CACHE_NOTFOUND);
                else if (!model[i].exp)
                    CHECK(rc == CACHE_NOTSET);
                else {
                    CHECK(rc == CACHE_OK);
                    model[i].exp = 0;
                }
            } else {
                rc = cache_expire(c, S(k), exp, 0, now);
                if (!live(i, now)) {
                    CHECK(rc == CACHE_NOTFOUND);
                } else {
                    CHECK(rc == CACHE_OK);
                    if (exp <= now)
                        model[i].present = 0;
                    else
                        model[i].exp = exp;
                }
            }
        } else if (r < 73) {                   /* INCRBY */
            long long d = (long long)(rnd() % 2001) - 1000, res;
            rc = cache_incr(c, S(k), d, now, &res);
            long long cur = 0;
            int isint = 1;
            if (live(i, now))
                isint = cache__string2ll(model[i].v, model[i].len, &cur);
            if (!isint) {
                CHECK(rc == CACHE_E_NOTINT);
            } else {
                CHECK(rc == CACHE_OK && res == cur + d);
                if (!model[i].present)
                    model[i].exp = 0;
                model[i].present = 1;
                model[i].len = (size_t)sprintf(model[i].v, "%lld", res);
            }
        } else if (r < 81) {                   /* APPEND */
            size_t n;
            if (!live(i, now)) {
                model[i].len = 0;
                model[i].exp = 0;
            }
            if (model[i].len + vl > sizeof(model[i].v))
                continue;
            rc = cache_append(c, S(k), v, vl, now, &n);
            memcpy(model[i].v + model[i].len, v, vl);
            model[i].len += vl;
            model[i].present = 1;
            CHECK(rc == CACHE_OK && n == model[i].len);
        } else if (r < 88) {                   /* RENAME [NX] */
            int nx = (int)(rnd() % 3 == 0);
            rc = cache_rename(c, S(k), S(k2), nx, now);
            if (!live(i, now)) {
                CHECK(rc == CACHE_NOTFOUND);
            } else if (i == j) {
                CHECK(rc == (nx ? CACHE_NOTSET : CACHE_OK));
            } else if (nx && live(j, now)) {
                CHECK(rc == CACHE_NOTSET);
            } else {
                CHECK(rc == CACHE_OK);
                model[j] = model[i];
                model[i].present = 0;
            }
        } else if (r < 92) {                   /* TTL */
            int64_t at;
            rc = cache_ttl(c, S(k), now, &at);
            if (live(i, now))
                CHECK(rc == CACHE_OK && at == model[i].exp);
            else
                CHECK(rc == CACHE_NOTFOUND);
        } else if (r < 96) {                   /* GETRANGE / SETRANGE */
            size_t off = rnd() % 80, n;
            if (!live(i, now)) {
                model[i].len = 0;
                model[i].exp = 0;
            }
            rc = cache_setrange(c, S(k), off, v, vl, now, &n);
            CHECK(rc == CACHE_OK);
            if (vl) {
                if (off > model[i].len)
                    memset(model[i].v + model[i].len, 0, off - model[i].len);
                memcpy(model[i].v + off, v, vl);
                if (off + vl > model[i].len)
                    model[i].len = off + vl;
                model[i].present = 1;
            }
            CHECK(n == (model[i].present ? model[i].len : 0));
        } else {                               /* active expiry */
            uint64_t d = cache_active_expire(c, (unsigned)rnd(), 2, 8, now);
            (void)d;
            uint64_t n = 0;
            for (int x = 0; x < NKEYS; x++) {
                (void)live(x, now);
            }
            (void)n;
        }
        if (op % 97 == 0 || nops - op < 2) {
            CHECK(cache__check_invariants(c) == 0);
            /* dbsize counts unreaped expired keys too: at least the live. */
            uint64_t nl = 0;
            for (int x = 0; x < NKEYS; x++)
                nl += live(x, now);
            CHECK(cache_dbsize(c) >= nl);
        }
    }
    /* Final: every key agrees with the model. */
    for (int i = 0; i < NKEYS; i++) {
        int op = nops;
        keyname(i, k);
        int rc = cache_get(c, S(k), now, &out);
        CHECK(rc == (live(i, now) ? CACHE_OK : CACHE_NOTFOUND));
    }
out:
    free(out.data);
    cache_destroy(c);
    return ok;
}

static void test_property(void **state)
{
    const char *es = getenv("CACHE_PROP_SEED"), *en = getenv("CACHE_PROP_SHARDS");
    if (es) {
        assert_true(run_case(strtoull(es, NULL, 10),
                             en ? (unsigned)atoi(en) : 1, 20000));
        return;
    }
    unsigned shards[] = {1, 4, 64};
    for (unsigned s = 0; s < 3; s++)
        for (uint64_t seed = 1; seed <= 5; seed++)
            if (!run_case(seed, shards[s], 20000))
                fail_msg("rerun: CACHE_PROP_SEED=%lu CACHE_PROP_SHARDS=%u",
                         (unsigned long)seed, shards[s]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_property),
    };
    return cmocka_run_group_tests_name("cache_property", tests, NULL, NULL);
}
