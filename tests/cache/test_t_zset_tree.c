/*
 * test_t_zset_tree: the B+ tree of a large sorted set (cache/t_zset_tree.c)
 * against a model: a plain sorted array of the same member pointers.
 *
 * The property test runs random inserts (scores from a small set, so
 * ties are ordered by the member bytes), removals, appends in order,
 * prepends, and checks after every step the tree's structure
 * (cache__zt_check: order, counts, mins, leaf chain, fill, bytes) and
 * that it answers as the model does: the rank of a member, the member at
 * a rank, the bounds of a score range, and a walk both ways. Fixed tests
 * pin the fill of leaves built in order (the split at the ends) and the
 * bytes charged to a shard.
 */
#include <time.h>

#include "test_util.h"

#include "t_zset_tree.h"

static struct cache__zmember *mem(double score, const char *fmt, unsigned v)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), fmt, v);
    struct cache__zmember *m = malloc(sizeof(*m) + (size_t)n);

    assert_non_null(m);
    m->node.tnext = NULL;
    m->node.hash = v;
    m->score = score;
    m->len = (uint32_t)n;
    memcpy(m->data, buf, (size_t)n);
    return m;
}

/* The model: members in order. */
struct model {
    struct cache__zmember **v;
    size_t n, cap;
};

static size_t model_pos(const struct model *md, const struct cache__zmember *m)
{
    size_t lo = 0, hi = md->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cache__zt_cmp(m->score, m->data, m->len, md->v[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool model_has(const struct model *md, const struct cache__zmember *m)
{
    size_t p = model_pos(md, m);
    return p < md->n && cache__zt_cmp(m->score, m->data, m->len, md->v[p]) == 0;
}

static void model_put(struct model *md, struct cache__zmember *m)
{
    size_t p = model_pos(md, m);
    if (md->n == md->cap) {
        md->cap = md->cap ? md->cap * 2 : 64;
        md->v = realloc(md->v, md->cap * sizeof(*md->v));
        assert_non_null(md->v);
    }
    memmove(&md->v[p + 1], &md->v[p], (md->n - p) * sizeof(*md->v));
    md->v[p] = m;
    md->n++;
}

static void model_del(struct model *md, size_t p)
{
    free(md->v[p]);
    memmove(&md->v[p], &md->v[p + 1], (md->n - p - 1) * sizeof(*md->v));
    md->n--;
}

static bool below(const struct cache__zmember *m, const void *arg)
{
    return m->score < *(const double *)arg;
}

static bool above(const struct cache__zmember *m, const void *arg)
{
    return m->score > *(const double *)arg;
}

static void check_against(const struct cache__ztree *t, const struct model *md)
{
    char why[128] = "";
    struct cache__zt_pos p;

    if (cache__zt_check(t, why, sizeof(why)) != 0)
        fail_msg("%s", why);
    assert_int_equal(t->count, md->n);
    if (md->n == 0)
        return;
    /* a few ranks both ways */
    for (int k = 0; k < 4; k++) {
        size_t r = (size_t)rand() % md->n;
        cache__zt_at(t, r, &p);
        assert_ptr_equal(cache__zt_get(&p), md->v[r]);
        assert_int_equal(p.rank, r);
        cache__zt_find(t, md->v[r], &p);
        assert_int_equal(p.rank, r);
    }
    /* score bounds */
    double lo = (double)(rand() % 12) - 1, hi = lo + rand() % 4;
    size_t first = 0, last;
    while (first < md->n && md->v[first]->score < lo)
        first++;
    cache__zt_lower(t, below, &lo, &p);
    if (first == md->n) {
        assert_null(p.leaf);
    } else {
        assert_ptr_equal(cache__zt_get(&p), md->v[first]);
        assert_int_equal(p.rank, first);
    }
    last = md->n;
    while (last > 0 && md->v[last - 1]->score > hi)
        last--;
    cache__zt_upper(t, above, &hi, &p);
    if (last == 0) {
        assert_null(p.leaf);
    } else {
        assert_ptr_equal(cache__zt_get(&p), md->v[last - 1]);
        assert_int_equal(p.rank, last - 1);
    }
}

static void walk_both_ways(const struct cache__ztree *t, const struct model *md)
{
    struct cache__zt_pos p;
    size_t i = 0;

    if (md->n == 0)
        return;
    for (cache__zt_at(t, 0, &p); p.leaf; cache__zt_next(&p))
        assert_ptr_equal(cache__zt_get(&p), md->v[i++]);
    assert_int_equal(i, md->n);
    for (cache__zt_at(t, md->n - 1, &p); p.leaf; cache__zt_prev(&p))
        assert_ptr_equal(cache__zt_get(&p), md->v[--i]);
    assert_int_equal(i, 0);
}

static void run_property(unsigned seed, int steps, int maxn)
{
    struct cache__ztree t;
    struct model md = {0};
    unsigned next = 0;

    srand(seed);
    cache__zt_init(&t);
    for (int step = 0; step < steps; step++) {
        int op = rand() % 10;
        if ((op < 5 && (int)md.n < maxn) || md.n == 0) {   /* insert, ties likely */
            struct cache__zmember *m = mem((double)(rand() % 10), "m%u", (unsigned)rand() % 5000);
            if (model_has(&md, m)) {
                free(m);
                continue;
            }
            assert_int_equal(cache__zt_insert(NULL, &t, m), CACHE_OK);
            model_put(&md, m);
        } else if (op < 9) {                                /* remove */
            size_t r = (size_t)rand() % md.n;
            cache__zt_remove(NULL, &t, md.v[r]);
            model_del(&md, r);
        } else {                                            /* a run at an end */
            bool at_end = rand() % 2;
            for (int k = 0; k < 80 && (int)md.n < maxn; k++) {
                double sc = at_end ? 100.0 + next : -100.0 - next;
                struct cache__zmember *m = mem(sc, "e%u", next++);
                if (at_end)
                    assert_int_equal(cache__zt_append(NULL, &t, m), CACHE_OK);
                else
                    assert_int_equal(cache__zt_insert(NULL, &t, m), CACHE_OK);
                model_put(&md, m);
            }
        }
        check_against(&t, &md);
        if (step % 64 == 0)
            walk_both_ways(&t, &md);
    }
    while (md.n > 0) {   /* empty it from a random place each time */
        size_t r = (size_t)rand() % md.n;
        cache__zt_remove(NULL, &t, md.v[r]);
        model_del(&md, r);
        check_against(&t, &md);
    }
    assert_null(t.root);
    assert_int_equal(t.bytes, 0);
    free(md.v);
}

static void test_property_small(void **st)
{
    (void)st;
    for (unsigned seed = 1; seed <= 20; seed++)
        run_property(seed, 400, 150);   /* one to three leaves: the root's edge cases */
}

static void test_property_large(void **st)
{
    (void)st;
    unsigned seed = (unsigned)time(NULL);
    print_message("seed %u\n", seed);
    run_property(seed, 6000, 5000);     /* three levels */
}

/* Members added in order fill every leaf: the split at the end keeps the
 * left node full. Added in reverse, the same at the front. */
static void test_fill_in_order(void **st)
{
    struct cache__ztree t;
    struct cache__zmember **v = malloc(100000 * sizeof(*v));
    char why[128];

    (void)st;
    for (int rev = 0; rev < 2; rev++) {
        cache__zt_init(&t);
        for (unsigned i = 0; i < 100000; i++) {
            double sc = rev ? -(double)i : (double)i;
            v[i] = mem(sc, "m%u", i);
            assert_int_equal(rev ? cache__zt_insert(NULL, &t, v[i]) : cache__zt_append(NULL, &t, v[i]),
                             CACHE_OK);
        }
        if (cache__zt_check(&t, why, sizeof(why)) != 0)
            fail_msg("%s", why);
        size_t leaves = 0;
        for (struct cache__zt_leaf *lf = t.first; lf; lf = lf->next)
            leaves++;
        assert_true(leaves <= 100000 / CACHE__ZT_LEAF + 2);
        /* about 8.5 bytes a member, the inner levels and glibc's 8-byte
         * chunk headers included (the tests do not link jemalloc) */
        assert_true(t.bytes < 100000 * 10);
        for (unsigned i = 0; i < 100000; i++) {
            cache__zt_remove(NULL, &t, v[i]);
            free(v[i]);
        }
        assert_null(t.root);
        assert_int_equal(t.bytes, 0);
    }
    free(v);
}

/* Every node is charged to the shard as it comes and goes. */
static void test_shard_charge(void **st)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);
    struct shard *s = &c->shards[0];
    struct cache__ztree t;
    struct cache__zmember *v[3000];
    uint64_t base = used(c);

    (void)st;
    cache__zt_init(&t);
    cache__shard_lock(s);
    for (unsigned i = 0; i < 3000; i++) {
        v[i] = mem((double)(i % 7), "x%u", i);
        assert_int_equal(cache__zt_insert(s, &t, v[i]), CACHE_OK);
    }
    assert_int_equal(RLX_LOAD(s->mem) - base, t.bytes);
    for (unsigned i = 0; i < 1500; i++)
        cache__zt_remove(s, &t, v[i]);
    assert_int_equal(RLX_LOAD(s->mem) - base, t.bytes);
    cache__zt_free(s, &t);
    assert_int_equal(RLX_LOAD(s->mem), base);
    cache__shard_unlock(s);
    for (unsigned i = 0; i < 3000; i++)
        free(v[i]);
    cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_property_small),
        cmocka_unit_test(test_property_large),
        cmocka_unit_test(test_fill_in_order),
        cmocka_unit_test(test_shard_charge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
