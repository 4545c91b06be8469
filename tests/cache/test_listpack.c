/*
 * test_listpack: the compact encoding (cache/listpack.c).
 *
 * Unit tests pin the format's edges (every encoding boundary, the
 * backlen widths, integers vs strings); the property test runs random
 * insert / replace / delete / seek / find sequences against a plain
 * array of strings and checks, after every operation, that the block
 * validates and reads back exactly the model, forward and backward.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "listpack.h"
#define TEST_RNG_SEED 0x9E3779B97F4A7C15ull
#include "test_util.h"

/* A block with room: tests grow it with realloc like a caller would. */
struct blk {
    unsigned char *p;
    size_t cap;
};

static void blk_init(struct blk *b)
{
    b->cap = 64;
    b->p = malloc(b->cap);
    assert_non_null(b->p);
    cache__lp_init(b->p);
}

static void blk_room(struct blk *b, long long grow)
{
    size_t want = cache__lp_bytes(b->p) + (grow > 0 ? (size_t)grow : 0);
    if (want > b->cap) {
        b->cap = want * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
}

static size_t append(struct blk *b, const char *s, size_t len)
{
    struct cache__lp_key k;
    cache__lp_key_str(&k, s, len);
    blk_room(b, (long long)cache__lp_insert_need(&k));
    return cache__lp_insert(b->p, cache__lp_bytes(b->p), &k);
}

static void expect_at(const unsigned char *lp, size_t pos, const char *s, size_t len)
{
    struct cache__lp_ent e;
    char buf[CACHE__LP_INTBUF];
    size_t n;
    cache__lp_get(lp, pos, &e);
    const char *p = cache__lp_ent_str(&e, buf, &n);
    assert_int_equal(n, len);
    assert_memory_equal(p, s, len);
    assert_int_equal(cache__lp_ent_strlen(&e), len);
}

static void test_empty(void **st)
{
    unsigned char b[CACHE__LP_HDR];
    cache__lp_init(b);
    assert_int_equal(cache__lp_bytes(b), CACHE__LP_HDR);
    assert_int_equal(cache__lp_count(b), 0);
    assert_int_equal(cache__lp_first(b), 0);
    assert_int_equal(cache__lp_last(b), 0);
    assert_int_equal(cache__lp_seek(b, 0), 0);
    assert_int_equal(cache__lp_seek(b, -1), 0);
    assert_int_equal(cache__lp_validate(b, CACHE__LP_HDR), 0);
}

/* Each value and the entry size it must take (body + backlen). */
static void test_encodings(void **st)
{
    static const struct { const char *s; size_t size; int isint; } cases[] = {
        {"0", 2, 1}, {"127", 2, 1}, {"128", 3, 1}, {"-1", 3, 1},
        {"4095", 3, 1}, {"-4096", 3, 1}, {"4096", 4, 1}, {"-4097", 4, 1},
        {"32767", 4, 1}, {"-32768", 4, 1}, {"32768", 5, 1}, {"8388607", 5, 1},
        {"-8388608", 5, 1}, {"8388608", 6, 1}, {"2147483647", 6, 1},
        {"-2147483648", 6, 1}, {"2147483648", 10, 1},
        {"9223372036854775807", 10, 1}, {"-9223372036854775808", 10, 1},
        {"9223372036854775808", 21, 0}, /* past int64: a string */
        {"", 2, 0}, {"a", 3, 0}, {"01", 4, 0}, {"+1", 4, 0}, {"-0", 4, 0},
        {" 1", 4, 0}, {"1.5", 5, 0},
    };
    struct blk b;
    blk_init(&b);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cache__lp_key k;
        cache__lp_key_str(&k, cases[i].s, strlen(cases[i].s));
        assert_int_equal(k.isint, cases[i].isint);
        assert_int_equal(cache__lp_encoded_size(&k), cases[i].size);
        size_t pos = append(&b, cases[i].s, strlen(cases[i].s));
        assert_int_equal(cache__lp_entry_size(b.p, pos), cases[i].size);
        expect_at(b.p, pos, cases[i].s, strlen(cases[i].s));
        assert_true(cache__lp_eq(b.p, pos, &k));
    }
    assert_int_equal(cache__lp_validate(b.p, cache__lp_bytes(b.p)), 0);
    free(b.p);
}

/* String lengths at each tag boundary, and backlens of 1..3 bytes. */
static void test_string_lengths(void **st)
{
    static const size_t lens[] = {0, 63, 64, 125, 126, 127, 128, 4095, 4096,
                                  16379, 16380, 16383, 16384, 70000};
    struct blk b;
    blk_init(&b);
    char *s = malloc(70000);
    for (size_t i = 0; i < 70000; i++)
        s[i] = (char)('a' + i % 26);
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
        append(&b, s, lens[i]);
    assert_int_equal(cache__lp_validate(b.p, cache__lp_bytes(b.p)), 0);
    /* forward and backward agree */
    size_t pos = cache__lp_first(b.p);
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        expect_at(b.p, pos, s, lens[i]);
        pos = cache__lp_next(b.p, pos);
    }
    assert_int_equal(pos, 0);
    pos = cache__lp_last(b.p);
    for (size_t i = sizeof(lens) / sizeof(lens[0]); i-- > 0;) {
        expect_at(b.p, pos, s, lens[i]);
        pos = cache__lp_prev(b.p, pos);
    }
    assert_int_equal(pos, 0);
    free(s);
    free(b.p);
}

static void test_find_skip(void **st)
{
    struct blk b;
    blk_init(&b);
    /* field,value pairs where a value equals a later field */
    const char *kv[] = {"a", "b", "b", "1", "10", "x"};
    for (int i = 0; i < 6; i++)
        append(&b, kv[i], strlen(kv[i]));
    struct cache__lp_key k;
    cache__lp_key_str(&k, "b", 1);
    size_t pos = cache__lp_find(b.p, cache__lp_first(b.p), &k, 1);
    assert_int_equal(pos, cache__lp_seek(b.p, 2));   /* the field, not the value */
    cache__lp_key_str(&k, "10", 2);
    assert_int_equal(cache__lp_find(b.p, cache__lp_first(b.p), &k, 1), cache__lp_seek(b.p, 4));
    cache__lp_key_str(&k, "x", 1);
    assert_int_equal(cache__lp_find(b.p, cache__lp_first(b.p), &k, 1), 0);
    cache__lp_key_int(&k, 1);
    assert_int_equal(cache__lp_find(b.p, cache__lp_first(b.p), &k, 0), cache__lp_seek(b.p, 3));
    free(b.p);
}

/* ---- property test ------------------------------------------------------ */

#define MODEL_MAX 300

struct model {
    char *s[MODEL_MAX];
    size_t len[MODEL_MAX];
    size_t n;
};

/* Values that exercise every encoding: small/large ints, near-ints, long
 * strings. */
static size_t gen_value(char *buf, size_t cap)
{
    switch (rnd() % 8) {
    case 0: return (size_t)snprintf(buf, cap, "%llu", (unsigned long long)(rnd() % 200));
    case 1: return (size_t)snprintf(buf, cap, "%lld", (long long)(rnd() % 20000) - 10000);
    case 2: return (size_t)snprintf(buf, cap, "%lld", (long long)rnd());
    case 3: return (size_t)snprintf(buf, cap, "0%u", (unsigned)(rnd() % 100));
    case 4: {
        size_t n = rnd() % 5000;
        for (size_t i = 0; i < n && i < cap; i++)
            buf[i] = (char)(rnd() & 0xFF);   /* binary */
        return n;
    }
    default: {
        size_t n = rnd() % 70;
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)('a' + rnd() % 26);
        return n;
    }
    }
}

static void check_model(const struct blk *b, const struct model *m)
{
    assert_int_equal(cache__lp_validate(b->p, cache__lp_bytes(b->p)), 0);
    assert_int_equal(cache__lp_count(b->p), m->n);
    size_t pos = cache__lp_first(b->p);
    for (size_t i = 0; i < m->n; i++) {
        assert_int_not_equal(pos, 0);
        expect_at(b->p, pos, m->s[i], m->len[i]);
        pos = cache__lp_next(b->p, pos);
    }
    assert_int_equal(pos, 0);
    pos = cache__lp_last(b->p);
    for (size_t i = m->n; i-- > 0;) {
        expect_at(b->p, pos, m->s[i], m->len[i]);
        pos = cache__lp_prev(b->p, pos);
    }
    assert_int_equal(pos, 0);
}

static void model_insert(struct model *m, size_t i, const char *s, size_t len)
{
    memmove(&m->s[i + 1], &m->s[i], (m->n - i) * sizeof(m->s[0]));
    memmove(&m->len[i + 1], &m->len[i], (m->n - i) * sizeof(m->len[0]));
    m->s[i] = malloc(len ? len : 1);
    memcpy(m->s[i], s, len);
    m->len[i] = len;
    m->n++;
}

static void model_delete(struct model *m, size_t i, size_t n)
{
    for (size_t j = i; j < i + n; j++)
        free(m->s[j]);
    memmove(&m->s[i], &m->s[i + n], (m->n - i - n) * sizeof(m->s[0]));
    memmove(&m->len[i], &m->len[i + n], (m->n - i - n) * sizeof(m->len[0]));
    m->n -= n;
}

/* grow: inserts outweigh deletes, so the block reaches MODEL_MAX entries
 * (and the 2- and 3-byte backlens of long strings) before shrinking. */
static void one_op(struct blk *b, struct model *m, char *buf, bool grow)
{
    struct cache__lp_key k;
    size_t len, pos;
    unsigned op = (unsigned)(rnd() % 10);

    if (grow && op >= 6 && op < 8)
        op = 0;
    if (m->n == 0 || (op < 4 && m->n < MODEL_MAX)) {   /* insert anywhere */
        size_t i = m->n ? rnd() % (m->n + 1) : 0;
        len = gen_value(buf, 5000);
        cache__lp_key_str(&k, buf, len);
        blk_room(b, (long long)cache__lp_insert_need(&k));
        pos = i == m->n ? cache__lp_bytes(b->p) : cache__lp_seek(b->p, (long long)i);
        assert_int_equal(cache__lp_insert(b->p, pos, &k), pos);
        model_insert(m, i, buf, len);
    } else if (op < 6) {                               /* replace */
        size_t i = rnd() % m->n;
        len = gen_value(buf, 5000);
        cache__lp_key_str(&k, buf, len);
        pos = cache__lp_seek(b->p, -(long long)(m->n - i));   /* from the end */
        blk_room(b, cache__lp_replace_need(b->p, pos, &k));
        cache__lp_replace(b->p, pos, &k);
        free(m->s[i]);
        m->s[i] = malloc(len ? len : 1);
        memcpy(m->s[i], buf, len);
        m->len[i] = len;
    } else if (op < 8) {                               /* delete a run */
        size_t i = rnd() % m->n, n = 1 + rnd() % 4;
        if (n > m->n - i + 1)
            n = m->n - i + 1;   /* may ask past the end: it stops there */
        pos = cache__lp_seek(b->p, (long long)i);
        size_t want = n > m->n - i ? m->n - i : n;
        assert_int_equal(cache__lp_delete(b->p, pos, (uint32_t)n), want);
        model_delete(m, i, want);
    } else {                                           /* find */
        size_t i = rnd() % m->n, first = i;
        cache__lp_key_str(&k, m->s[i], m->len[i]);
        for (size_t j = 0; j < m->n; j++)
            if (m->len[j] == m->len[i] && memcmp(m->s[j], m->s[i], m->len[i]) == 0) {
                first = j;
                break;
            }
        pos = cache__lp_find(b->p, cache__lp_first(b->p), &k, 0);
        assert_int_equal(pos, cache__lp_seek(b->p, (long long)first));
    }
}

static void test_property(void **st)
{
    const char *env = getenv("MMCACHE_PROP_ITERS");
    long iters = env ? atol(env) : 20000;
    char *buf = malloc(5000);
    struct blk b;
    struct model m = {0};

    size_t maxn = 0;
    blk_init(&b);
    for (long i = 0; i < iters; i++) {
        one_op(&b, &m, buf, (i / 2000) % 2 == 0);
        check_model(&b, &m);
        if (m.n > maxn)
            maxn = m.n;
    }
    assert_true(iters < 2000 || maxn > MODEL_MAX / 2);
    model_delete(&m, 0, m.n);
    free(b.p);
    free(buf);
}

/* The checker itself: corruptions it must catch. */
static void test_validate_catches(void **st)
{
    struct blk b;
    blk_init(&b);
    append(&b, "hello", 5);
    append(&b, "42", 2);
    size_t n = cache__lp_bytes(b.p);
    assert_int_equal(cache__lp_validate(b.p, n), 0);
    assert_int_equal(cache__lp_validate(b.p, n + 1), -1);        /* size */
    b.p[CACHE__LP_HDR + 6] ^= 1;                                 /* backlen */
    assert_int_equal(cache__lp_validate(b.p, n), -1);
    b.p[CACHE__LP_HDR + 6] ^= 1;
    b.p[4] = 3;                                                  /* count */
    assert_int_equal(cache__lp_validate(b.p, n), -1);
    b.p[4] = 2;
    b.p[CACHE__LP_HDR] = 0xF7;                                   /* tag */
    assert_int_equal(cache__lp_validate(b.p, n), -1);
    free(b.p);
    /* a canonical integer stored as a string */
    unsigned char raw[CACHE__LP_HDR + 4] = {CACHE__LP_HDR + 4, 0, 0, 0, 1, 0, 0, 0,
                                            0x82, '1', '2', 3};
    assert_int_equal(cache__lp_validate(raw, sizeof(raw)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_encodings),
        cmocka_unit_test(test_string_lengths),
        cmocka_unit_test(test_find_skip),
        cmocka_unit_test(test_validate_catches),
        cmocka_unit_test(test_property),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
