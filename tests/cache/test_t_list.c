/*
 * test_t_list: the list type (cache/quicklist.c, cache/t_list.c,
 * cache/listops.c, and blocking.c's LMPOP/LMOVE).
 *
 * Unit tests pin the encodings and the conversion, the node limits of
 * list-max-listpack-size, WRONGTYPE, memory accounting (MEMORY USAGE is
 * what the shard is charged, charged as it grows, all back on DEL), COPY
 * and RENAME of both encodings, and lazy free of a big list. The random
 * command sequences against a model are test_list_property.c; the nodes
 * alone, test_quicklist.c.
 */
#include <limits.h>
#include <unistd.h>

#include "test_util.h"

#include "t_list.h"


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
    assert_int_equal(cache_card(c, CACHE_TYPE_LIST, S("l"), 1, &n), CACHE_OK);
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
    assert_int_equal(cache_card(c, CACHE_TYPE_LIST, S("s"), 1, &n), CACHE_E_WRONGTYPE);
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

    set_list_fill(c, 3);
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
    set_list_fill(c, -1);
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

    set_list_fill(c, -2);
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

    set_list_fill(c, 2);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_and_wrongtype),
        cmocka_unit_test(test_fill_and_conversion),
        cmocka_unit_test(test_memory_accounting),
        cmocka_unit_test(test_copy_rename_lmove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
