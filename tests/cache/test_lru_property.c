/*
 * LRU property test (seed exercise): random GET / SET / DEL / TOUCH
 * sequences against a reference model of the recency order, with the
 * cache's structural invariants and the LRU order checked after EVERY
 * step. Any failure is a bug in cache/ (or in this model): it prints the
 * seed, the shard count and the step.
 *
 * The model: keys in most-recently-used-first order, each with the time
 * of its last bump. SET and TOUCH always bump; a GET bumps only when the
 * last bump is at least CACHE_LRU_BUMP_MS old (lru.c's window); DEL
 * removes. With several shards each shard's list must hold its keys in
 * the model's relative order, and the shards together exactly its keys.
 *
 * Bounded by default (a fixed set of seeds, a second or two). Longer:
 *     CACHE_LRU_PROP_SECONDS=600 build/tests/cache/test_cache_lru_property
 * runs new seeds until the time is up; rerun one failing case with
 *     CACHE_LRU_PROP_SEED=<seed> CACHE_LRU_PROP_SHARDS=<n> build/tests/cache/test_cache_lru_property
 */
#include "test_util.h"

#define NKEYS 48
#define NOPS 4000

struct mkey {
    int present;
    int64_t bump;       /* now of the last bump */
    size_t vlen;
    char v[24];
};

static struct mkey model[NKEYS];
static int order[NKEYS];    /* model's MRU-first order: key indexes */
static int norder;

static void keyname(int i, char *k) { sprintf(k, "lru:%d", i); }

static void model_remove(int i)
{
    for (int p = 0; p < norder; p++) {
        if (order[p] == i) {
            memmove(&order[p], &order[p + 1], (size_t)(norder - p - 1) * sizeof(int));
            norder--;
            return;
        }
    }
}

static void model_bump(int i, int64_t now)
{
    model_remove(i);
    memmove(&order[1], &order[0], (size_t)norder * sizeof(int));
    order[0] = i;
    norder++;
    model[i].bump = now;
}

/* The key index of an item's key, or -1. */
static int key_of(struct item *it)
{
    char k[32];
    int i;
    if (item_klen(it) >= sizeof(k) || item_klen(it) < 5)
        return -1;
    memcpy(k, item_key(it), item_klen(it));
    k[item_klen(it)] = 0;
    return sscanf(k, "lru:%d", &i) == 1 && i >= 0 && i < NKEYS ? i : -1;
}

/* Each shard's list, head to tail, follows the model's order, and the
 * shards hold exactly the model's keys. 0 or a description. */
static const char *check_order(struct cache *c)
{
    int pos[NKEYS], seen = 0;
    for (int i = 0; i < NKEYS; i++)
        pos[i] = -1;
    for (int p = 0; p < norder; p++)
        pos[order[p]] = p;
    for (unsigned s = 0; s < c->nshards; s++) {
        int last = -1;
        struct item *prev = NULL;
        for (struct item *it = c->shards[s].lru_head; it; prev = it, it = it->next) {
            int i = key_of(it);
            if (i < 0 || pos[i] < 0)
                return "a key in the LRU list that the model does not hold";
            if (pos[i] <= last)
                return "LRU list out of the model's recency order";
            if (it->prev != prev)
                return "LRU prev link does not point back";
            last = pos[i];
            seen++;
        }
        if (c->shards[s].lru_tail != prev)
            return "LRU tail is not the list's last item";
    }
    return seen == norder ? NULL : "a model key missing from every LRU list";
}

static int run_case(uint64_t seed, unsigned nshards)
{
    struct cache *c = mk(nshards, 0, CACHE_ALLKEYS_LRU);
    struct cache_val out = {0};
    char k[32];
    int64_t now = 100000;
    int ok = 1, op = 0;
    const char *why;

    memset(model, 0, sizeof(model));
    norder = 0;
    rnd_seed(seed * 0x9e3779b97f4a7c15u + nshards);
#define FAILED(...) do { print_error("seed %lu shards %u step %d: ", \
        (unsigned long)seed, nshards, op); print_error(__VA_ARGS__); \
        print_error("\n"); ok = 0; goto out; } while (0)

    for (op = 0; op < NOPS; op++) {
        int i = (int)(rnd() % NKEYS), r = (int)(rnd() % 100), rc;
        keyname(i, k);
        now += (int64_t)(rnd() % 400);   /* the 1 s bump window matters */
        if (r < 40) {                                /* GET */
            rc = cache_get(c, S(k), now, &out);
            if (!model[i].present) {
                if (rc != CACHE_NOTFOUND)
                    FAILED("GET %s of an absent key: rc %d", k, rc);
            } else {
                if (rc != CACHE_OK || out.len != model[i].vlen ||
                    memcmp(out.data, model[i].v, out.len) != 0)
                    FAILED("GET %s: rc %d, wrong value", k, rc);
                /* The window on the item's 24-bit clock of 256 ms ticks. */
                uint32_t ticks = (cache__lru_clock(now) - cache__lru_clock(model[i].bump)) &
                                 CACHE_LRU_CLOCK_MASK;
                if (ticks << CACHE_LRU_TICK_SHIFT >= CACHE_LRU_BUMP_MS)
                    model_bump(i, now);
            }
        } else if (r < 75) {                         /* SET */
            model[i].vlen = (size_t)(rnd() % sizeof(model[i].v));
            for (size_t x = 0; x < model[i].vlen; x++)
                model[i].v[x] = (char)('a' + rnd() % 26);
            rc = cache_set(c, S(k), model[i].v, model[i].vlen, 0, 0, now, NULL, NULL);
            if (rc != CACHE_OK)
                FAILED("SET %s: rc %d", k, rc);
            model[i].present = 1;
            model_bump(i, now);
        } else if (r < 92) {                         /* DEL */
            rc = cache_del(c, S(k), now);
            if (rc != (model[i].present ? CACHE_OK : CACHE_NOTFOUND))
                FAILED("DEL %s: rc %d, model present %d", k, rc, model[i].present);
            model[i].present = 0;
            model_remove(i);
        } else {                                     /* TOUCH */
            rc = cache_touch(c, S(k), now);
            if (rc != (model[i].present ? CACHE_OK : CACHE_NOTFOUND))
                FAILED("TOUCH %s: rc %d, model present %d", k, rc, model[i].present);
            if (model[i].present)
                model_bump(i, now);
        }
        if (cache__check_invariants(c) != 0)
            FAILED("structural invariant broken (above)");
        if ((why = check_order(c)) != NULL)
            FAILED("%s", why);
        if (cache_dbsize(c) != (uint64_t)norder)
            FAILED("dbsize %lu, model %d", (unsigned long)cache_dbsize(c), norder);
    }
out:
#undef FAILED
    free(out.data);
    cache_destroy(c);
    return ok;
}

static void test_lru_property(void **state)
{
    static const unsigned shards[] = {1, 4};
    const char *es = getenv("CACHE_LRU_PROP_SEED"), *en = getenv("CACHE_LRU_PROP_SHARDS");
    const char *et = getenv("CACHE_LRU_PROP_SECONDS");
    if (es) {
        assert_true(run_case(strtoull(es, NULL, 10), en ? (unsigned)atoi(en) : 1));
        return;
    }
    long secs = et ? atol(et) : 0;
    time_t end = time(NULL) + secs;
    uint64_t cases = 0;
    for (uint64_t seed = 1; secs > 0 ? time(NULL) < end : seed <= 10; seed++) {
        for (unsigned s = 0; s < 2; s++, cases++)
            if (!run_case(seed, shards[s]))
                fail_msg("rerun: CACHE_LRU_PROP_SEED=%lu CACHE_LRU_PROP_SHARDS=%u",
                         (unsigned long)seed, shards[s]);
    }
    print_message("lru property: %lu cases of %d steps passed\n", (unsigned long)cases, NOPS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lru_property),
    };
    return cmocka_run_group_tests_name("cache_lru_property", tests, NULL, NULL);
}
