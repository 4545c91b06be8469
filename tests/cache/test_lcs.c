/*
 * lcs.c: cache_lcs against Redis 7.0's algorithm as its source reads (a
 * table of uint32_t lengths, walked back from the end), on random
 * strings of small and large alphabets, shorter and longer either way
 * round (the bit rows go along the shorter one), every option; and the
 * limit on the table, refused before any work.
 */
#include "test_util.h"

struct model {
    uint64_t len;
    char str[1024];
    struct cache_lcs_match m[1024];
    size_t nm;
};

/* Redis's lcsCommand, its table and its walk, in plain C. */
static void model_lcs(const char *a, uint32_t alen, const char *b, uint32_t blen,
                      long long minmatchlen, struct model *out)
{
    uint32_t *t = calloc(((size_t)alen + 1) * (blen + 1), sizeof(uint32_t));
#define L(i, j) t[(size_t)(i) * (blen + 1) + (j)]
    assert_non_null(t);
    for (uint32_t i = 1; i <= alen; i++)
        for (uint32_t j = 1; j <= blen; j++)
            L(i, j) = a[i - 1] == b[j - 1] ? L(i - 1, j - 1) + 1
                      : L(i - 1, j) > L(i, j - 1) ? L(i - 1, j) : L(i, j - 1);
    uint32_t idx = L(alen, blen), i = alen, j = blen;
    uint32_t as = alen, ae = 0, bs = 0, be = 0;
    out->len = idx;
    out->nm = 0;
    while (i > 0 && j > 0) {
        int emit = 0;
        if (a[i - 1] == b[j - 1]) {
            out->str[idx - 1] = a[i - 1];
            if (as == alen) {
                as = ae = i - 1;
                bs = be = j - 1;
            } else if (as == i && bs == j) {
                as--;
                bs--;
            } else {
                emit = 1;
            }
            if (as == 0 || bs == 0)
                emit = 1;
            idx--, i--, j--;
        } else {
            if (L(i - 1, j) > L(i, j - 1))
                i--;
            else
                j--;
            if (as != alen)
                emit = 1;
        }
        uint32_t ml = ae - as + 1;
        if (emit) {
            if (minmatchlen == 0 || ml >= minmatchlen)
                out->m[out->nm++] = (struct cache_lcs_match){as, ae, bs, be};
            as = alen;
        }
    }
#undef L
    free(t);
}

static struct cache *c;

static int setup(void **state) { c = mk(4, 0, CACHE_ALLKEYS_LRU); return 0; }
static int teardown(void **state)
{
    assert_int_equal(cache__check_invariants(c), 0);
    cache_destroy(c);
    return 0;
}

static void rand_str(char *s, size_t n, const char *alpha)
{
    size_t k = strlen(alpha);
    for (size_t i = 0; i < n; i++)
        s[i] = alpha[rnd() % k];
}

static void test_against_model(void **state)
{
    static const char *const alphas[] = {"ab", "abc", "abcdefghij", "\x01\xff", "0123456789xyz"};
    static char a[1024], b[1024];
    struct model want;

    for (int round = 0; round < 3000; round++) {
        const char *alpha = alphas[rnd() % 5];
        size_t la = rnd() % (rnd() % 3 ? 40 : 700), lb = rnd() % (rnd() % 3 ? 40 : 700);
        rand_str(a, la, alpha);
        rand_str(b, lb, alpha);
        if (rnd() % 4 == 0 && la > 10 && lb > 10)   /* long runs in common */
            memcpy(b + lb / 3, a + la / 3, (la < lb ? la : lb) / 2);
        assert_int_equal(cache_set(c, S("a"), a, la, 0, 0, 1, NULL, NULL), CACHE_OK);
        assert_int_equal(cache_set(c, S("b"), b, lb, 0, 0, 1, NULL, NULL), CACHE_OK);
        long long minlen = rnd() % 3 ? 0 : (long long)(rnd() % 6);
        model_lcs(a, (uint32_t)la, b, (uint32_t)lb, minlen, &want);
        for (int mode = 0; mode < 3; mode++) {   /* LEN, the string, IDX */
            struct cache_lcs_req req = {.max_table = 512u << 20, .want_str = mode == 1,
                                        .want_idx = mode == 2, .minmatchlen = minlen};
            struct cache_lcs_result res;
            assert_int_equal(cache_lcs(c, S("a"), S("b"), &req, 1, &res), CACHE_OK);
            assert_int_equal(res.len, want.len);
            assert_true(res.found_a && res.found_b);
            if (mode == 1) {
                assert_int_equal(res.str.len, want.len);
                if (want.len)
                    assert_memory_equal(res.str.data, want.str, want.len);
            }
            if (mode == 2) {
                assert_int_equal(res.nm, want.nm);
                if (want.nm)
                    assert_memory_equal(res.m, want.m, want.nm * sizeof(want.m[0]));
            }
            free(res.str.data);
            free(res.m);
        }
    }
}

static void test_missing_wrongtype_limit(void **state)
{
    struct cache_lcs_req req = {.max_table = 512u << 20, .want_str = 1};
    struct cache_lcs_result res;

    assert_int_equal(cache_lcs(c, S("x"), S("y"), &req, 1, &res), CACHE_OK);
    assert_int_equal(res.len, 0);
    assert_false(res.found_a || res.found_b);
    free(res.str.data);
    assert_int_equal(set(c, "s", "ohmytext", 1), CACHE_OK);
    assert_int_equal(set(c, "t", "mynewtext", 1), CACHE_OK);
    assert_int_equal(cache_lcs(c, S("s"), S("t"), &req, 1, &res), CACHE_OK);
    assert_int_equal(res.str.len, 6);
    assert_memory_equal(res.str.data, "mytext", 6);
    free(res.str.data);
    struct cache_kv fv = {S("f"), S("v")};
    assert_int_equal(cache_hset(c, S("h"), &fv, 1, 0, 1, &(uint64_t){0}), CACHE_OK);
    assert_int_equal(cache_lcs(c, S("s"), S("h"), &req, 1, &res), CACHE_E_WRONGTYPE);
    assert_int_equal(cache_lcs(c, S("h"), S("nokey"), &req, 1, &res), CACHE_E_WRONGTYPE);
    /* the table of (8+1) x (9+1) cells of 4 bytes: 360 bytes */
    req.max_table = 360;
    assert_int_equal(cache_lcs(c, S("s"), S("t"), &req, 1, &res), CACHE_OK);
    free(res.str.data);
    req.max_table = 359;
    assert_int_equal(cache_lcs(c, S("s"), S("t"), &req, 1, &res), CACHE_E_TOOBIG);
    assert_null(res.str.data);
}

/* At Redis's limit the work stays small: two strings of 11,000 bytes
 * (121M cells, Redis's 484 MB table) and 1 byte against 60 MB (an empty
 * answer Redis would still build a 480 MB table for; 1 against 100 MB is
 * past the limit: refused, as Redis refuses it). */
static void test_at_the_limit(void **state)
{
    size_t n = 11000, big = 60u << 20;
    char *a = malloc(100u << 20), *b = malloc(n);
    assert_non_null(a);
    assert_non_null(b);
    rand_str(a, n, "acgt");
    rand_str(b, n, "acgt");
    assert_int_equal(cache_set(c, S("a"), a, n, 0, 0, 1, NULL, NULL), CACHE_OK);
    assert_int_equal(cache_set(c, S("b"), b, n, 0, 0, 1, NULL, NULL), CACHE_OK);
    struct cache_lcs_req req = {.max_table = 512u << 20, .want_idx = 1, .minmatchlen = 8};
    struct cache_lcs_result res;
    assert_int_equal(cache_lcs(c, S("a"), S("b"), &req, 1, &res), CACHE_OK);
    assert_true(res.len > n / 2 && res.len < n);
    free(res.m);
    memset(a, 'x', big);
    assert_int_equal(cache_set(c, S("a"), a, big, 0, 0, 1, NULL, NULL), CACHE_OK);
    assert_int_equal(cache_set(c, S("b"), S("y"), 0, 0, 1, NULL, NULL), CACHE_OK);
    req = (struct cache_lcs_req){.max_table = 512u << 20, .want_str = 1};
    assert_int_equal(cache_lcs(c, S("b"), S("a"), &req, 1, &res), CACHE_OK);
    assert_int_equal(res.len, 0);
    free(res.str.data);
    memset(a, 'x', 100u << 20);
    assert_int_equal(cache_set(c, S("a"), a, 100u << 20, 0, 0, 1, NULL, NULL), CACHE_OK);
    assert_int_equal(cache_lcs(c, S("b"), S("a"), &req, 1, &res), CACHE_E_TOOBIG);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_against_model),
        T(test_missing_wrongtype_limit),
        T(test_at_the_limit),
#undef T
    };
    return cmocka_run_group_tests_name("cache/lcs", tests, NULL, NULL);
}
