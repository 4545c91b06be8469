/*
 * test_quicklist: the nodes behind a large list (cache/quicklist.c),
 * without the list type on top: the size and count limits of
 * list-max-listpack-size at their edges, linking at both ends and in the
 * middle, growing a node until it moves (its neighbours must follow),
 * shrinking it, splitting and merging (merge refused past the limit),
 * the deep copy, the structural check catching each kind of damage, and
 * a property test: random pushes at both ends and in the middle, deletes,
 * splits, merges and copies against a plain array of strings, with
 * cache__ql_check and the byte count (what the node allocations really
 * use) checked after every step.
 */
#include <malloc.h>

#include "test_util.h"

#include "quicklist.h"

/* ---- helpers: a listpack entry in and out of a node ---- */

static void key_of(struct cache__lp_key *k, const char *s)
{
    cache__lp_key_str(k, s, strlen(s));
}

/* Inserts s before the entry at pos of *np (0: append); the node may move. */
static void node_insert(struct cache__quicklist *ql, struct cache__qnode **np, size_t pos,
                        const char *s)
{
    struct cache__lp_key k;
    key_of(&k, s);
    size_t bytes = cache__lp_bytes((*np)->lp);
    assert_int_equal(cache__ql_node_room(NULL, ql, np, bytes + cache__lp_insert_need(&k)),
                     CACHE_OK);
    cache__lp_insert((*np)->lp, pos ? pos : bytes, &k);
    ql->count++;
}

/* The node's entries joined by ' ' into buf. */
static void node_str(const struct cache__qnode *n, char *buf, size_t cap)
{
    char ib[CACHE__LP_INTBUF];
    size_t used = 0, len;
    struct cache__lp_ent e;
    buf[0] = 0;
    for (size_t p = cache__lp_first(n->lp); p; p = cache__lp_next(n->lp, p)) {
        cache__lp_get(n->lp, p, &e);
        const char *s = cache__lp_ent_str(&e, ib, &len);
        used += (size_t)snprintf(buf + used, cap - used, "%s%.*s", used ? " " : "", (int)len, s);
    }
}

/* What ql->bytes must be: the header and every node, as allocated. */
static size_t real_bytes(const struct cache__quicklist *ql)
{
    size_t b = malloc_usable_size((void *)ql);
    for (const struct cache__qnode *n = ql->head; n; n = n->next)
        b += malloc_usable_size((void *)n);
    return b;
}

/* ---- the limits ---- */

static void test_limits(void **st)
{
    (void)st;
    /* negative fill: bytes only, 4/8/16/32/64 KiB, below -5 still 64 KiB */
    assert_true(cache__ql_fits(-1, 4096, 1000));
    assert_false(cache__ql_fits(-1, 4097, 2));
    assert_true(cache__ql_fits(-2, 8192, 5000));
    assert_false(cache__ql_fits(-2, 8193, 2));
    assert_true(cache__ql_fits(-5, 65536, 2));
    assert_false(cache__ql_fits(-5, 65537, 2));
    assert_true(cache__ql_fits(-100, 65536, 2));
    assert_false(cache__ql_fits(-100, 65537, 2));
    /* positive fill: entries, and never past 8 KiB; capped at 32767 */
    assert_true(cache__ql_fits(5, 100, 5));
    assert_false(cache__ql_fits(5, 100, 6));
    assert_false(cache__ql_fits(5, 8193, 2));
    assert_true(cache__ql_fits(40000, 8000, 32767));
    assert_false(cache__ql_fits(40000, 8000, 32768));
    assert_false(cache__ql_fits(0, 16, 1));
    /* one entry is always allowed in a node, whatever its size */
    assert_true(cache__ql_allows(0, 16, 1));
    assert_true(cache__ql_allows(-1, 1 << 20, 1));
    assert_false(cache__ql_allows(-1, 1 << 20, 2));
    assert_false(cache__ql_allows(1, 16, 2));
}

/* ---- nodes: link, grow until moved, shrink, delete ---- */

static void test_link_grow_shrink(void **st)
{
    (void)st;
    char buf[1 << 14];
    struct cache__quicklist *ql = cache__ql_new();
    assert_non_null(ql);
    assert_int_equal(ql->bytes, malloc_usable_size(ql));

    struct cache__qnode *b = cache__ql_node_new(NULL, ql, 0);
    cache__ql_link(ql, b, NULL);                 /* the only node */
    node_insert(ql, &b, 0, "b");
    struct cache__qnode *a = cache__ql_node_new(NULL, ql, 0);
    cache__ql_link(ql, a, NULL);                 /* at the head */
    node_insert(ql, &a, 0, "a");
    struct cache__qnode *d = cache__ql_node_new(NULL, ql, 0);
    cache__ql_link(ql, d, ql->tail);             /* at the tail */
    node_insert(ql, &d, 0, "d");
    struct cache__qnode *c = cache__ql_node_new(NULL, ql, 0);
    cache__ql_link(ql, c, b);                    /* in the middle */
    node_insert(ql, &c, 0, "c");
    assert_int_equal(ql->nnodes, 4);
    assert_int_equal(cache__ql_check(ql), 0);
    assert_ptr_equal(ql->head, a);
    assert_ptr_equal(ql->tail, d);

    /* grow the middle node far past its allocation: realloc moves it, and
     * b, d and the ends must point at the new place */
    char big[3000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    for (int i = 0; i < 20; i++)
        node_insert(ql, &c, 0, big);
    assert_ptr_equal(b->next, c);
    assert_ptr_equal(d->prev, c);
    assert_int_equal(cache__ql_check(ql), 0);
    assert_int_equal(ql->bytes, real_bytes(ql));

    /* drain it back to one entry and fit: the allocation shrinks */
    size_t before = malloc_usable_size(c);
    size_t first = cache__lp_first(c->lp);
    assert_int_equal(cache__lp_delete(c->lp, cache__lp_next(c->lp, first), 20), 20);
    ql->count -= 20;
    cache__ql_node_fit(NULL, ql, &c);
    assert_true(malloc_usable_size(c) < before / 2);
    assert_ptr_equal(b->next, c);
    assert_ptr_equal(d->prev, c);
    node_str(c, buf, sizeof(buf));
    assert_string_equal(buf, "c");
    assert_int_equal(cache__ql_check(ql), 0);

    /* delete the head, then the tail: the ends follow */
    ql->count -= cache__lp_count(a->lp);
    cache__ql_node_del(NULL, ql, a);
    assert_ptr_equal(ql->head, b);
    assert_null(b->prev);
    ql->count -= cache__lp_count(d->lp);
    cache__ql_node_del(NULL, ql, d);
    assert_ptr_equal(ql->tail, c);
    assert_null(c->next);
    assert_int_equal(cache__ql_check(ql), 0);
    assert_int_equal(ql->bytes, real_bytes(ql));
    cache__ql_free(ql);
}

/* ---- split, merge, dup ---- */

static struct cache__quicklist *one_node(int n, struct cache__qnode **out)
{
    struct cache__quicklist *ql = cache__ql_new();
    struct cache__qnode *node = cache__ql_node_new(NULL, ql, 0);
    char s[16];
    cache__ql_link(ql, node, NULL);
    for (int i = 0; i < n; i++) {
        snprintf(s, sizeof(s), i % 2 ? "e%d" : "%d", i);   /* strings and ints */
        node_insert(ql, &node, 0, s);
    }
    *out = node;
    return ql;
}

static void test_split_merge_dup(void **st)
{
    (void)st;
    char buf[4096];
    struct cache__qnode *n;
    struct cache__quicklist *ql = one_node(10, &n);

    struct cache__qnode *m = cache__ql_split(NULL, ql, n, cache__lp_seek(n->lp, 3));
    assert_non_null(m);
    node_str(n, buf, sizeof(buf));
    assert_string_equal(buf, "0 e1 2");
    node_str(m, buf, sizeof(buf));
    assert_string_equal(buf, "e3 4 e5 6 e7 8 e9");
    assert_int_equal(ql->nnodes, 2);
    assert_int_equal(cache__ql_check(ql), 0);
    assert_int_equal(ql->bytes, real_bytes(ql));

    /* a merge past the limit (5 entries) is refused, nothing changes */
    assert_null(cache__ql_try_merge(NULL, ql, n, 5));
    assert_int_equal(ql->nnodes, 2);
    assert_int_equal(cache__ql_check(ql), 0);
    /* the last node has nothing after it to merge */
    assert_null(cache__ql_try_merge(NULL, ql, m, -2));

    /* the copy is deep and equal */
    struct cache__quicklist *d = cache__ql_dup(ql);
    assert_non_null(d);
    assert_int_equal(cache__ql_check(d), 0);
    assert_int_equal(d->count, ql->count);
    assert_int_equal(d->nnodes, 2);
    assert_ptr_not_equal(d->head, ql->head);

    /* within the limit it merges back into one node */
    struct cache__qnode *a = cache__ql_try_merge(NULL, ql, n, 10);
    assert_non_null(a);
    node_str(a, buf, sizeof(buf));
    assert_string_equal(buf, "0 e1 2 e3 4 e5 6 e7 8 e9");
    assert_int_equal(ql->nnodes, 1);
    assert_int_equal(cache__ql_check(ql), 0);
    assert_int_equal(ql->bytes, real_bytes(ql));
    /* the copy did not change with it */
    node_str(d->head, buf, sizeof(buf));
    assert_string_equal(buf, "0 e1 2");
    cache__ql_free(d);
    cache__ql_free(ql);
}

/* cache__ql_check must fail on each kind of damage (else the invariant
 * checks of every list test prove nothing). */
static void test_check_catches(void **st)
{
    (void)st;
    struct cache__qnode *n;
    struct cache__quicklist *ql = one_node(6, &n);
    assert_non_null(cache__ql_split(NULL, ql, n, cache__lp_seek(n->lp, 2)));
    assert_int_equal(cache__ql_check(ql), 0);

    ql->count++;
    assert_int_equal(cache__ql_check(ql), -1);
    ql->count--;
    ql->bytes += 8;
    assert_int_equal(cache__ql_check(ql), -1);
    ql->bytes -= 8;
    ql->nnodes = 1;
    assert_int_equal(cache__ql_check(ql), -1);
    ql->nnodes = 2;
    struct cache__qnode *saved = ql->tail->prev;
    ql->tail->prev = NULL;
    assert_int_equal(cache__ql_check(ql), -1);
    ql->tail->prev = saved;
    ql->tail = ql->head;
    assert_int_equal(cache__ql_check(ql), -1);
    ql->tail = ql->head->next;
    uint32_t cnt = cache__lp_count(ql->head->lp), bad = cnt + 1;
    memcpy(ql->head->lp + 4, &bad, 4);   /* a listpack's count */
    assert_int_equal(cache__ql_check(ql), -1);
    memcpy(ql->head->lp + 4, &cnt, 4);
    assert_int_equal(cache__ql_check(ql), 0);
    cache__ql_free(ql);
}

/* ---- the property test ---- */

#define MAXE 2000

static char *model[MAXE];
static size_t nmodel;

static char *rand_elem(void)
{
    uint64_t r = rnd() % 10;
    size_t len = r < 7 ? 1 + rnd() % 8 : r < 9 ? 20 + rnd() % 200 : 1000 + rnd() % 5000;
    char *s = malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        s[i] = (char)('0' + rnd() % 10);   /* digits: some are integers */
    if (len > 1 && s[0] == '0')
        s[0] = '1';
    s[len] = 0;
    return s;
}

/* The node holding the model's element i, and the element's position. */
static struct cache__qnode *locate(struct cache__quicklist *ql, size_t i, size_t *pos)
{
    struct cache__qnode *n = ql->head;
    while (i >= cache__lp_count(n->lp)) {
        i -= cache__lp_count(n->lp);
        n = n->next;
    }
    *pos = cache__lp_seek(n->lp, (long long)i);
    return n;
}

static void compare(struct cache__quicklist *ql, int64_t fill)
{
    char ib[CACHE__LP_INTBUF];
    size_t i = 0, len;
    struct cache__lp_ent e;

    assert_int_equal(ql->count, nmodel);
    assert_int_equal(ql->bytes, real_bytes(ql));
    for (const struct cache__qnode *n = ql->head; n; n = n->next) {
        /* every node keeps to the limit it was built under (or is one entry) */
        assert_true(cache__ql_allows(fill, cache__ql_node_need(n), cache__lp_count(n->lp)));
        for (size_t p = cache__lp_first(n->lp); p; p = cache__lp_next(n->lp, p), i++) {
            cache__lp_get(n->lp, p, &e);
            const char *s = cache__lp_ent_str(&e, ib, &len);
            assert_true(len == strlen(model[i]) && memcmp(s, model[i], len) == 0);
        }
    }
    assert_int_equal(i, nmodel);
}

/* Inserts a new element at model index i (i == nmodel: the end), in the
 * node that holds that place if the limit allows, else in a node of its
 * own after a split. */
static void p_insert(struct cache__quicklist *ql, size_t i, int64_t fill)
{
    char *s = rand_elem();
    struct cache__lp_key k;
    key_of(&k, s);
    struct cache__qnode *n;
    size_t pos;
    if (nmodel == 0 || i == nmodel) {
        n = ql->tail;
        pos = 0;   /* append */
    } else {
        n = locate(ql, i, &pos);
    }
    if (n && cache__ql_allows(fill, cache__ql_node_need(n) + cache__lp_insert_need(&k),
                              cache__lp_count(n->lp) + 1)) {
        node_insert(ql, &n, pos, s);
    } else {
        struct cache__qnode *after = n;
        if (n && pos && pos != cache__lp_first(n->lp)) {
            assert_non_null(cache__ql_split(NULL, ql, n, pos));   /* n keeps what is before */
        } else if (n && pos) {
            after = n->prev;   /* before the node's first entry */
        }
        struct cache__qnode *m = cache__ql_node_new(NULL, ql, cache__lp_insert_need(&k));
        cache__ql_link(ql, m, after);
        node_insert(ql, &m, 0, s);
    }
    memmove(model + i + 1, model + i, (nmodel - i) * sizeof(*model));
    model[i] = s;
    nmodel++;
}

static void p_delete(struct cache__quicklist *ql, size_t i)
{
    size_t pos;
    struct cache__qnode *n = locate(ql, i, &pos);
    assert_int_equal(cache__lp_delete(n->lp, pos, 1), 1);
    ql->count--;
    if (cache__lp_count(n->lp) == 0)
        cache__ql_node_del(NULL, ql, n);
    else
        cache__ql_node_fit(NULL, ql, &n);
    free(model[i]);
    memmove(model + i, model + i + 1, (nmodel - i - 1) * sizeof(*model));
    nmodel--;
}

static void test_property(void **st)
{
    (void)st;
    static const int64_t fills[] = {1, 2, 3, 7, 128, -1, -2, -5, 0};
    struct cache__quicklist *ql = cache__ql_new();

    for (int round = 0; round < 60; round++) {
        int64_t fill = fills[round % 9];
        /* a smaller limit than the nodes were built under: start over */
        while (nmodel)
            p_delete(ql, nmodel - 1);
        for (int step = 0; step < 400; step++) {
            uint64_t op = rnd() % 10;
            if (op < 5 && nmodel < MAXE) {
                uint64_t w = rnd() % 3;   /* head, tail, anywhere */
                p_insert(ql, w == 0 ? 0 : w == 1 ? nmodel : rnd() % (nmodel + 1), fill);
            } else if (op < 8 && nmodel) {
                p_delete(ql, rnd() % nmodel);
            } else if (op < 9 && ql->head) {
                struct cache__qnode *n = ql->head;
                for (uint64_t j = rnd() % ql->nnodes; j; j--)
                    n = n->next;
                (void)cache__ql_try_merge(NULL, ql, n, fill);
            } else if (nmodel) {
                struct cache__quicklist *d = cache__ql_dup(ql);
                assert_non_null(d);
                cache__ql_free(ql);
                ql = d;
            }
            if (nmodel)
                assert_int_equal(cache__ql_check(ql), 0);
            compare(ql, fill);
        }
    }
    while (nmodel)
        p_delete(ql, nmodel - 1);
    cache__ql_free(ql);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_link_grow_shrink),
        cmocka_unit_test(test_split_merge_dup),
        cmocka_unit_test(test_check_catches),
        cmocka_unit_test(test_property),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
