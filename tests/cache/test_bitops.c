/*
 * bitops.c and bitmulti.c: the bit commands through the cache API (Redis
 * 7.0's answers, checked against redis-server in
 * tests/integration/test_bitmaps.c), memory accounting and maxmemory for
 * strings they grow (refused before anything is allocated: the test is
 * linked with malloc, calloc and realloc wrapped, to see the largest
 * request), and a property test: random operations on a few keys against
 * a byte-array model, the cache's invariants checked as it goes.
 */
#include "test_util.h"
#include "bits.h"
#include "bit_model.h"

/* ---- the largest allocation asked for while watching ----------------------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
static size_t biggest;   /* owned by: the cmocka thread (watch on/off around one call) */
static bool watching;

void *__wrap_malloc(size_t n)
{
    if (watching && n > biggest)
        biggest = n;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
    if (watching && n * m > biggest)
        biggest = n * m;
    return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
    if (watching && n > biggest)
        biggest = n;
    return __real_realloc(p, n);
}

static void watch(bool on)
{
    watching = on;
    if (on)
        biggest = 0;
}

static struct cache *c;

static int setup(void **state) { c = mk(4, 0, CACHE_ALLKEYS_LRU); return 0; }
static int teardown(void **state)
{
    assert_int_equal(cache__check_invariants(c), 0);
    cache_destroy(c);
    return 0;
}

static const struct cache_bitrange whole = {0};

static uint64_t count(const char *k)
{
    uint64_t n = 99;
    int rc = cache_bitcount(c, S(k), &whole, 1, &n);
    assert_true(rc == CACHE_OK || rc == CACHE_NOTFOUND);
    return n;
}

static void test_getbit_setbit(void **state)
{
    int bit = -1, old = -1;
    int64_t at;

    assert_int_equal(cache_getbit(c, S("k"), 100, 1, &bit), CACHE_NOTFOUND);
    assert_int_equal(bit, 0);
    assert_int_equal(cache_setbit(c, S("k"), 7, 1, 1, &old), CACHE_OK);
    assert_int_equal(old, 0);
    assert_string_equal(get(c, "k", 1), "\x01");   /* one byte, bit 7 its lowest */
    assert_int_equal(cache_setbit(c, S("k"), 7, 1, 1, &old), CACHE_OK);
    assert_int_equal(old, 1);
    assert_int_equal(cache_getbit(c, S("k"), 7, 1, &bit), CACHE_OK);
    assert_int_equal(bit, 1);
    assert_int_equal(cache_getbit(c, S("k"), 8000, 1, &bit), CACHE_OK);
    assert_int_equal(bit, 0);
    /* growing keeps the bytes and the TTL, pads with zeros */
    assert_int_equal(cache_expire(c, S("k"), 50000, 0, 1), CACHE_OK);
    assert_int_equal(cache_setbit(c, S("k"), 8 * 20 + 1, 1, 1, &old), CACHE_OK);
    struct cache_val v = {0};
    assert_int_equal(cache_get(c, S("k"), 1, &v), CACHE_OK);
    assert_int_equal(v.len, 21);
    assert_memory_equal(v.data, "\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x40", 21);
    assert_int_equal(cache_ttl(c, S("k"), 1, &at), CACHE_OK);
    assert_int_equal(at, 50000);
    assert_int_equal(cache_setbit(c, S("k"), 8 * 20 + 1, 0, 1, &old), CACHE_OK);
    assert_int_equal(old, 1);
    assert_int_equal(count("k"), 1);
    /* another type: nothing changes */
    struct cache_kv fv = {S("f"), S("v")};
    assert_int_equal(cache_hset(c, S("h"), &fv, 1, 0, 1, &(uint64_t){0}), CACHE_OK);
    assert_int_equal(cache_setbit(c, S("h"), 0, 1, 1, &old), CACHE_E_WRONGTYPE);
    assert_int_equal(cache_getbit(c, S("h"), 0, 1, &bit), CACHE_E_WRONGTYPE);
    free(v.data);
}

static void test_bitcount_bitpos(void **state)
{
    struct cache_bitrange r = {.start = 1, .end = 1, .given = 1, .end_given = 1};
    uint64_t n;
    int64_t pos;

    assert_int_equal(set(c, "s", "foobar", 1), CACHE_OK);
    assert_int_equal(count("s"), 26);
    assert_int_equal(cache_bitcount(c, S("s"), &r, 1, &n), CACHE_OK);
    assert_int_equal(n, 6);
    r = (struct cache_bitrange){.start = 5, .end = 30, .given = 1, .end_given = 1, .bit = 1};
    assert_int_equal(cache_bitcount(c, S("s"), &r, 1, &n), CACHE_OK);
    assert_int_equal(n, 17);
    assert_int_equal(cache_bitcount(c, S("none"), &r, 1, &n), CACHE_NOTFOUND);
    assert_int_equal(n, 0);
    /* BITPOS: a missing key is all zeros; "\xff\xff" has no 0 but reads
     * as zero-padded unless an end is given; "" holds no bit at all */
    assert_int_equal(cache_bitpos(c, S("none"), 0, &whole, 1, &pos), CACHE_NOTFOUND);
    assert_int_equal(pos, 0);
    assert_int_equal(cache_bitpos(c, S("none"), 1, &whole, 1, &pos), CACHE_NOTFOUND);
    assert_int_equal(pos, -1);
    assert_int_equal(set(c, "ff", "\xff\xff", 1), CACHE_OK);
    assert_int_equal(cache_bitpos(c, S("ff"), 0, &whole, 1, &pos), CACHE_OK);
    assert_int_equal(pos, 16);
    r = (struct cache_bitrange){.start = 0, .end = -1, .given = 1, .end_given = 1};
    assert_int_equal(cache_bitpos(c, S("ff"), 0, &r, 1, &pos), CACHE_OK);
    assert_int_equal(pos, -1);
    assert_int_equal(cache_bitpos(c, S("ff"), 1, &r, 1, &pos), CACHE_OK);
    assert_int_equal(pos, 0);
    assert_int_equal(set(c, "e", "", 1), CACHE_OK);
    assert_int_equal(cache_bitpos(c, S("e"), 0, &whole, 1, &pos), CACHE_OK);
    assert_int_equal(pos, -1);
    assert_int_equal(cache_set(c, S("z"), "\x00\x01", 2, 0, 0, 1, NULL, NULL), CACHE_OK);
    assert_int_equal(cache_bitpos(c, S("z"), 1, &whole, 1, &pos), CACHE_OK);
    assert_int_equal(pos, 15);
}

static void test_bitfield(void **state)
{
    struct cache_bfop ops[] = {
        {.kind = CACHE_BF_GET, .bits = 8, .offset = 0},
        {.kind = CACHE_BF_SET, .bits = 8, .offset = 8, .value = 300},   /* wraps: 44 */
        {.kind = CACHE_BF_INCRBY, .bits = 8, .sign = 1, .offset = 8, .value = -200},
        {.kind = CACHE_BF_INCRBY, .bits = 8, .sign = 1, .offset = 8, .value = -200,
         .ow = CACHE_BF_SAT},
        {.kind = CACHE_BF_SET, .bits = 8, .offset = 16, .value = 999, .ow = CACHE_BF_FAIL},
        {.kind = CACHE_BF_GET, .bits = 8, .offset = 8},
    };
    struct cache_bfres res[6];
    int found;

    /* GETs alone on a missing key: zeros, nothing created */
    assert_int_equal(cache_bitfield(c, S("b"), ops, 1, 1, res, &found), CACHE_OK);
    assert_int_equal(found, 0);
    assert_int_equal(res[0].v, 0);
    assert_null(get(c, "b", 1));
    assert_int_equal(cache_bitfield(c, S("b"), ops, 6, 1, res, &found), CACHE_OK);
    int64_t want[] = {0, 0, 100, -100, 0, 156};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(res[i].nil, i == 4);
        if (i != 4)
            assert_int_equal(res[i].v, want[i]);
    }
    /* the string grew to hold the FAILed field too, as Redis grows it */
    struct cache_val v = {0};
    assert_int_equal(cache_get(c, S("b"), 1, &v), CACHE_OK);
    assert_int_equal(v.len, 3);
    assert_memory_equal(v.data, "\x00\x9c\x00", 3);
    struct cache_kv fv = {S("f"), S("v")};
    assert_int_equal(cache_hset(c, S("h"), &fv, 1, 0, 1, &(uint64_t){0}), CACHE_OK);
    assert_int_equal(cache_bitfield(c, S("h"), ops, 1, 1, res, &found), CACHE_E_WRONGTYPE);
    assert_int_equal(found, 1);
    free(v.data);
}

static void test_bitop(void **state)
{
    struct cache_str src[] = {{S("a")}, {S("b")}, {S("none")}};
    uint64_t hits, misses;
    size_t len;
    int64_t at;

    assert_int_equal(set(c, "a", "\xf0\x0f\xff", 1), CACHE_OK);
    assert_int_equal(set(c, "b", "\x3c", 1), CACHE_OK);
    assert_int_equal(set_ex(c, "d", "old", 90000, 1), CACHE_OK);
    assert_int_equal(cache_bitop(c, CACHE_BITOP_OR, S("d"), src, 3, 1, &len, &hits, &misses),
                     CACHE_OK);
    assert_int_equal(len, 3);
    assert_int_equal(hits, 2);
    assert_int_equal(misses, 1);
    assert_memory_equal(get(c, "d", 1), "\xfc\x0f\xff", 3);
    assert_int_equal(cache_ttl(c, S("d"), 1, &at), CACHE_OK);
    assert_int_equal(at, 0);   /* the destination's TTL goes */
    assert_int_equal(cache_bitop(c, CACHE_BITOP_AND, S("d"), src, 2, 1, &len, &hits, &misses),
                     CACHE_OK);
    assert_memory_equal(get(c, "d", 1), "\x30\x00\x00", 3);
    assert_int_equal(cache_bitop(c, CACHE_BITOP_XOR, S("a"), src, 2, 1, &len, &hits, &misses),
                     CACHE_OK);   /* a destination that is a source */
    assert_memory_equal(get(c, "a", 1), "\xcc\x0f\xff", 3);
    assert_int_equal(cache_bitop(c, CACHE_BITOP_NOT, S("d"), src + 1, 1, 1, &len, &hits,
                                 &misses), CACHE_OK);
    assert_memory_equal(get(c, "d", 1), "\xc3", 1);
    /* all sources empty or missing: the destination, of any type, goes */
    struct cache_kv fv = {S("f"), S("v")};
    assert_int_equal(cache_hset(c, S("h"), &fv, 1, 0, 1, &(uint64_t){0}), CACHE_OK);
    assert_int_equal(set(c, "e", "", 1), CACHE_OK);
    struct cache_str empty[] = {{S("none")}, {S("e")}};
    assert_int_equal(cache_bitop(c, CACHE_BITOP_OR, S("h"), empty, 2, 1, &len, &hits, &misses),
                     CACHE_OK);
    assert_int_equal(len, 0);
    assert_int_equal(cache_exists(c, S("h"), 1), CACHE_NOTFOUND);
    /* a source of another type: WRONGTYPE, the destination untouched */
    assert_int_equal(cache_hset(c, S("h"), &fv, 1, 0, 1, &(uint64_t){0}), CACHE_OK);
    struct cache_str withh[] = {{S("a")}, {S("h")}};
    assert_int_equal(cache_bitop(c, CACHE_BITOP_OR, S("d"), withh, 2, 1, &len, &hits, &misses),
                     CACHE_E_WRONGTYPE);
    assert_memory_equal(get(c, "d", 1), "\xc3", 1);
}

/* ---- memory ------------------------------------------------------------------ */

static void test_grow_accounting(void **state)
{
    struct cache_stats st0, st1;
    size_t bytes;
    int old;

    cache_stats(c, &st0);
    assert_int_equal(cache_setbit(c, S("g"), 8 * 1000000 - 1, 1, 1, &old), CACHE_OK);
    cache_stats(c, &st1);
    assert_int_equal(cache_memory_usage(c, S("g"), 1, &bytes), CACHE_OK);
    assert_true(bytes >= 1000000 && bytes < 1100000);   /* a new string: exact */
    assert_true(st1.used_memory - st0.used_memory >= bytes);
    /* growing: Redis's slack (double, at most 1 MB more) */
    assert_int_equal(cache_setbit(c, S("g"), 8 * 1500000, 1, 1, &old), CACHE_OK);
    assert_int_equal(cache_memory_usage(c, S("g"), 1, &bytes), CACHE_OK);
    assert_true(bytes >= 2500001 && bytes < 2700000);
    assert_int_equal(count("g"), 2);
    assert_int_equal(cache__check_invariants(c), 0);   /* the sums match */
    /* a large gap is prepared with the lock dropped: the old bytes and
     * the TTL still come along */
    assert_int_equal(set_ex(c, "p", "keep these bytes", 90000, 1), CACHE_OK);
    assert_int_equal(cache_setbit(c, S("p"), 8 * 3000000 + 7, 1, 1, &old), CACHE_OK);
    struct cache_val v = {0};
    assert_int_equal(cache_get(c, S("p"), 1, &v), CACHE_OK);
    assert_int_equal(v.len, 3000001);
    assert_memory_equal(v.data, "keep these bytes", 16);
    for (size_t i = 16; i < 3000000; i++)
        assert_int_equal(v.data[i], 0);
    assert_int_equal(v.data[3000000], 1);
    int64_t at;
    assert_int_equal(cache_ttl(c, S("p"), 1, &at), CACHE_OK);
    assert_int_equal(at, 90000);
    free(v.data);
}

/* The largest string: SETBIT at bit 2^32-1 makes it 512 MB, as Redis
 * does, accounted as such. */
static void test_setbit_last_bit(void **state)
{
    size_t bytes;
    int old, bit;

    assert_int_equal(cache_setbit(c, S("big"), 4294967295ULL, 1, 1, &old), CACHE_OK);
    assert_int_equal(cache_strlen(c, S("big"), 1, &bytes), CACHE_OK);
    assert_int_equal(bytes, CACHE_MAX_STRING);
    assert_int_equal(cache_getbit(c, S("big"), 4294967295ULL, 1, &bit), CACHE_OK);
    assert_int_equal(bit, 1);
    assert_int_equal(count("big"), 1);
    assert_int_equal(cache_memory_usage(c, S("big"), 1, &bytes), CACHE_OK);
    assert_true(bytes >= CACHE_MAX_STRING);
    assert_int_equal(cache_del(c, S("big"), 1), CACHE_OK);
}

/* A value that cannot fit is refused before anything is allocated: the
 * largest allocation while refusing stays small (a mutation that reserves
 * after allocating asks for 512 MB here). */
static void test_oom_before_alloc(void **state)
{
    struct cache *m = mk(4, 100u << 20, CACHE_ALLKEYS_LRU);
    struct cache_stats st0, st1;
    size_t n;
    int old;

    assert_int_equal(cache_set(m, S("x"), S("abc"), 0, 0, 1, NULL, NULL), CACHE_OK);
    cache_stats(m, &st0);
    watch(true);
    assert_int_equal(cache_setbit(m, S("huge"), 4294967295ULL, 1, 1, &old), CACHE_E_OOM);
    assert_int_equal(cache_setbit(m, S("x"), 4294967295ULL, 1, 1, &old), CACHE_E_OOM);
    assert_int_equal(cache_setrange(m, S("x"), CACHE_MAX_STRING - 1, "z", 1, 1, &n),
                     CACHE_E_OOM);
    struct cache_bfop op = {.kind = CACHE_BF_SET, .bits = 64, .sign = 1,
                            .offset = 8ULL * (CACHE_MAX_STRING - 1)};
    struct cache_bfres res;
    int found;
    assert_int_equal(cache_bitfield(m, S("x"), &op, 1, 1, &res, &found), CACHE_E_OOM);
    watch(false);
    assert_true(biggest < (1u << 20));
    cache_stats(m, &st1);
    assert_int_equal(st1.used_memory, st0.used_memory);
    assert_int_equal(st1.evicted_keys, 0);   /* nothing evicted for it either */
    assert_string_equal(get(m, "x", 1), "abc");
    assert_int_equal(cache_exists(m, S("huge"), 1), CACHE_NOTFOUND);
    assert_int_equal(cache__check_invariants(m), 0);
    cache_destroy(m);
}

/* Under noeviction a write is refused once memory is over the limit (the
 * write that crosses it goes through, as in Redis); a BITOP destination
 * too. */
static void test_noeviction(void **state)
{
    struct cache *m = mk(1, 1u << 20, CACHE_NOEVICTION);
    struct cache_str src[] = {{S("a")}};
    uint64_t hits, misses;
    size_t len;
    int old;

    assert_int_equal(cache_setbit(m, S("a"), 8 * 1200000, 1, 1, &old), CACHE_OK);   /* crosses */
    assert_int_equal(cache_setbit(m, S("b"), 0, 1, 1, &old), CACHE_E_OOM);
    assert_int_equal(cache_bitop(m, CACHE_BITOP_NOT, S("d"), src, 1, 1, &len, &hits, &misses),
                     CACHE_E_OOM);
    assert_int_equal(cache_exists(m, S("d"), 1), CACHE_NOTFOUND);
    assert_int_equal(cache_setbit(m, S("a"), 0, 1, 1, &old), CACHE_OK);   /* in place: no more memory */
    assert_int_equal(cache__check_invariants(m), 0);
    cache_destroy(m);
}

/* ---- property: random operations against a byte-array model ---------------------- */

#define NKEYS 4
#define MAXB 300   /* bytes a key reaches */

struct mkey {
    bool present;
    unsigned char b[MAXB + 8];
    size_t len;
};
static struct mkey model[NKEYS];
static const char *const pkeys[NKEYS] = {"p0", "p1", "p2", "p3"};

static void model_grow(struct mkey *k, size_t len)
{
    if (!k->present) {
        k->present = true;
        k->len = 0;
    }
    if (len > k->len) {
        memset(k->b + k->len, 0, len - k->len);
        k->len = len;
    }
}

static void check_key(int i)
{
    struct cache_val v = {0};
    int rc = cache_get(c, S(pkeys[i]), 1, &v);
    assert_int_equal(rc, model[i].present ? CACHE_OK : CACHE_NOTFOUND);
    if (model[i].present) {
        assert_int_equal(v.len, model[i].len);
        assert_memory_equal(v.data, model[i].b, v.len);
    }
    free(v.data);
}

static long long rnd_index(void)
{
    return (long long)(rnd() % 900) - 450;
}

static void random_range(struct cache_bitrange *r, bool pos)
{
    r->given = rnd() % 4 != 0;
    r->end_given = r->given && (!pos || rnd() % 3);
    r->bit = r->end_given && rnd() % 2;
    r->start = rnd_index();
    r->end = rnd_index();
}

static void prop_count_pos(int i)
{
    struct mkey *k = &model[i];
    struct cache_bitrange r;
    uint64_t from, to, n;
    int64_t pos;

    random_range(&r, false);
    r.end_given = r.given;
    assert_int_equal(cache_bitcount(c, S(pkeys[i]), &r, 1, &n),
                     k->present ? CACHE_OK : CACHE_NOTFOUND);
    uint64_t want = 0;
    if (k->present && model_range((long long)k->len, r.given, r.start, r.end, true, r.bit,
                                  &from, &to))
        for (uint64_t b = from; b <= to; b++)
            want += (uint64_t)model_bit(k->b, b);
    assert_int_equal(n, want);
    random_range(&r, true);
    int bit = (int)(rnd() & 1);
    assert_int_equal(cache_bitpos(c, S(pkeys[i]), bit, &r, 1, &pos),
                     k->present ? CACHE_OK : CACHE_NOTFOUND);
    int64_t wp = -1;
    if (!k->present) {
        wp = bit ? -1 : 0;
    } else if (model_range((long long)k->len, r.given, r.start, r.end, r.end_given, r.bit,
                           &from, &to)) {
        for (uint64_t b = from; b <= to && wp < 0; b++)
            if (model_bit(k->b, b) == bit)
                wp = (int64_t)b;
        if (wp < 0 && bit == 0 && !r.end_given)
            wp = (int64_t)to + 1;
    }
    assert_int_equal(pos, wp);
}

static void prop_bitop(void)
{
    int op = (int)(rnd() % 4), d = (int)(rnd() % NKEYS);
    size_t n = op == CACHE_BITOP_NOT ? 1 : 1 + rnd() % 3, maxlen = 0;
    struct cache_str src[3];
    const unsigned char *p[3];
    size_t len[3];
    unsigned char out[MAXB + 8];
    uint64_t hits, misses;
    size_t got;

    for (size_t j = 0; j < n; j++) {
        int s = (int)(rnd() % NKEYS);
        src[j] = (struct cache_str){S(pkeys[s])};
        p[j] = model[s].present ? model[s].b : NULL;
        len[j] = model[s].present ? model[s].len : 0;
        maxlen = len[j] > maxlen ? len[j] : maxlen;
    }
    if (maxlen)
        cache__bitop(op, out, maxlen, p, len, n);   /* bits.c: test_bits.c checks it */
    assert_int_equal(cache_bitop(c, op, S(pkeys[d]), src, n, 1, &got, &hits, &misses), CACHE_OK);
    assert_int_equal(got, maxlen);
    model[d].present = maxlen > 0;
    model[d].len = maxlen;
    memcpy(model[d].b, out, maxlen);
}

static void prop_bitfield(int i)
{
    struct cache_bfop ops[4];
    struct cache_bfres res[4];
    size_t n = 1 + rnd() % 4, reach = 0;
    int found;

    for (size_t j = 0; j < n; j++) {
        ops[j] = (struct cache_bfop){.kind = (uint8_t)(rnd() % 3), .ow = (uint8_t)(rnd() % 3),
                                     .sign = (uint8_t)(rnd() & 1), .value = (int64_t)rnd()};
        ops[j].bits = (uint8_t)(1 + rnd() % (ops[j].sign ? 64 : 63));
        ops[j].offset = rnd() % (8 * (MAXB - 8));
        if (rnd() % 2)
            ops[j].value >>= rnd() % 64;
        if (ops[j].kind != CACHE_BF_GET && (ops[j].offset + ops[j].bits + 7) / 8 > reach)
            reach = (ops[j].offset + ops[j].bits + 7) / 8;
    }
    assert_int_equal(cache_bitfield(c, S(pkeys[i]), ops, n, 1, res, &found), CACHE_OK);
    assert_int_equal(found, model[i].present);
    if (reach)
        model_grow(&model[i], reach);
    for (size_t j = 0; j < n; j++) {
        struct cache_bfop *o = &ops[j];
        struct mkey *k = &model[i];
        size_t len = k->present ? k->len : 0;
        int64_t old = o->sign ? cache__bf_get_i(k->b, len, o->offset, o->bits)
                              : (int64_t)cache__bf_get_u(k->b, len, o->offset, o->bits);
        if (o->kind == CACHE_BF_GET) {
            assert_false(res[j].nil);
            assert_true(res[j].v == old);
            continue;
        }
        /* the overflow rules themselves: test_bits.c */
        int64_t want;
        int over;
        if (o->sign) {
            int64_t lim = 0, add = o->kind == CACHE_BF_INCRBY ? o->value : 0;
            int64_t base = o->kind == CACHE_BF_INCRBY ? old : o->value;
            over = cache__bf_overflow_i(base, add, o->bits, o->ow, &lim);
            want = over ? lim : (int64_t)((uint64_t)base + (uint64_t)add);
        } else {
            uint64_t lim = 0, base = o->kind == CACHE_BF_INCRBY ? (uint64_t)old : (uint64_t)o->value;
            int64_t add = o->kind == CACHE_BF_INCRBY ? o->value : 0;
            over = cache__bf_overflow_u(base, add, o->bits, o->ow, &lim);
            want = (int64_t)(over ? lim : base + (uint64_t)add);
        }
        assert_int_equal(res[j].nil, over && o->ow == CACHE_BF_FAIL);
        if (res[j].nil)
            continue;
        assert_true(res[j].v == (o->kind == CACHE_BF_INCRBY ? want : old));
        cache__bf_set(k->b, o->offset, o->bits, (uint64_t)want);
    }
}

static void test_property(void **state)
{
    memset(model, 0, sizeof(model));
    for (int step = 0; step < 20000; step++) {
        int i = (int)(rnd() % NKEYS), old, bit;
        uint64_t off = rnd() % (8 * MAXB);
        switch (rnd() % 8) {
        case 0:
        case 1:
            bit = (int)(rnd() & 1);
            assert_int_equal(cache_setbit(c, S(pkeys[i]), off, bit, 1, &old), CACHE_OK);
            model_grow(&model[i], off / 8 + 1);
            assert_int_equal(old, model_bit(model[i].b, off));
            cache__bit_put(model[i].b, off, bit);
            break;
        case 2:
            assert_int_equal(cache_getbit(c, S(pkeys[i]), off, 1, &bit),
                             model[i].present ? CACHE_OK : CACHE_NOTFOUND);
            assert_int_equal(bit, model[i].present && off / 8 < model[i].len
                                      ? model_bit(model[i].b, off) : 0);
            break;
        case 3:
        case 4:
            prop_count_pos(i);
            break;
        case 5:
            prop_bitop();
            break;
        case 6:
            prop_bitfield(i);
            break;
        default:
            if (rnd() % 4 == 0) {
                (void)cache_del(c, S(pkeys[i]), 1);
                model[i].present = false;
            }
        }
        check_key(i);
        if (step % 1000 == 0)
            assert_int_equal(cache__check_invariants(c), 0);
    }
    for (int i = 0; i < NKEYS; i++)
        check_key(i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_getbit_setbit),
        T(test_bitcount_bitpos),
        T(test_bitfield),
        T(test_bitop),
        T(test_grow_accounting),
        T(test_setbit_last_bit),
        T(test_oom_before_alloc),
        T(test_noeviction),
        T(test_property),
#undef T
    };
    return cmocka_run_group_tests_name("cache/bitops", tests, NULL, NULL);
}
