/*
 * lcs.c: LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n]: the longest common
 * subsequence of two strings, with Redis 7.0's answers bit for bit.
 *
 * Redis fills a table of (alen+1)*(blen+1) uint32_t LCS lengths and walks
 * it back from the end; it refuses when the table would pass
 * proto-max-bulk-len (512 MB: 128M cells, two strings of ~11,585 bytes),
 * and at that size it computes for seconds on its one thread (measured:
 * 1.8 s for two 5,000-byte strings on the shared test host).
 *
 * Here the same limit refuses the same requests (the caller passes it as
 * max_table, and never more than 512 MB whatever proto-max-bulk-len
 * says), but the table is kept one bit per cell, 64 cells a word, with
 * the bit-parallel recurrence of Allison and Dix as Hyyro (2004) writes
 * it: row r's word vector V_r has a 0 where the LCS length grows along
 * the row, V_r = (V + U) | (V & ~M) with U = V & M, M the positions of
 * the row's byte in the other string. So at the limit it takes 16 MB of
 * rows (plus at most as much for the match vectors) instead of 512 MB,
 * and a few milliseconds; the walk back reads any LCS(i, j) from the
 * rows, making Redis's exact choices at each step, so the subsequence
 * and the ranges it reports are Redis's own.
 *
 * The rows go along the shorter string, the bits along the longer (the
 * table is symmetric), so a row is never mostly padding. Both keys'
 * shards stay locked for the computation (the strings are read in place,
 * never copied: at the limit one of them may be 128 MB long while the
 * other is one byte).
 */
#include <stdlib.h>
#include <string.h>

#include "cache_int.h"
#include "multikey.h"

struct lcs {
    const unsigned char *a, *b;    /* Redis's a (key1) and b (key2) */
    uint32_t alen, blen;
    bool swapped;                  /* rows go along b (b is shorter) */
    uint32_t m, n;                 /* rows (the shorter length), bits */
    size_t words;                  /* per row */
    uint64_t *rows;                /* V_1..V_m (V_0 is all ones), or just V */
    uint64_t *pm;                  /* a match vector per byte of the row string */
    int pmi[256];                  /* byte -> its match vector, -1: none */
};

static const unsigned char *row_str(const struct lcs *t) { return t->swapped ? t->b : t->a; }
static const unsigned char *bit_str(const struct lcs *t) { return t->swapped ? t->a : t->b; }

/* The match vectors: for each byte that occurs in the row string, the
 * positions of the bit string holding it. */
static int build_pm(struct lcs *t)
{
    const unsigned char *rs = row_str(t), *bs = bit_str(t);
    size_t k = 0;

    memset(t->pmi, -1, sizeof(t->pmi));
    for (uint32_t r = 0; r < t->m; r++)
        if (t->pmi[rs[r]] < 0)
            t->pmi[rs[r]] = (int)k++;
    if (!(t->pm = calloc(k * t->words, sizeof(uint64_t))))
        return CACHE_E_NOMEM;
    for (uint32_t q = 0; q < t->n; q++) {
        int i = t->pmi[bs[q]];
        if (i >= 0)
            t->pm[(size_t)i * t->words + q / 64] |= 1ULL << (q % 64);
    }
    return CACHE_OK;
}

/* Fills the rows (keep: all of them, else only the last in rows[0]). */
static void forward(struct lcs *t, bool keep)
{
    const unsigned char *rs = row_str(t);
    uint64_t *v = t->rows;

    for (size_t w = 0; w < t->words; w++)
        v[w] = UINT64_MAX;
    for (uint32_t r = 0; r < t->m; r++) {
        const uint64_t *prev = v, *pm = t->pm + (size_t)t->pmi[rs[r]] * t->words;
        uint64_t carry = 0, *cur = keep && r ? v + t->words : v;
        for (size_t w = 0; w < t->words; w++) {
            uint64_t x = prev[w], u = x & pm[w];
            uint64_t sum = x + u, s2 = sum + carry;
            carry = (uint64_t)(sum < x) | (uint64_t)(s2 < sum);
            cur[w] = s2 | (x & ~pm[w]);
        }
        v = cur;
    }
}

/* V_r, 1..m; NULL for row 0 (all ones). */
static const uint64_t *row(const struct lcs *t, uint32_t r)
{
    return r ? t->rows + (size_t)(r - 1) * t->words : NULL;
}

/* The 0 bits of v before bit p: the LCS along v's row over p bits. */
static uint64_t zeros(const uint64_t *v, uint32_t p)
{
    uint64_t ones = 0;
    size_t w = p / 64;

    for (size_t i = 0; i < w; i++)
        ones += (uint64_t)__builtin_popcountll(v[i]);
    if (p % 64)
        ones += (uint64_t)__builtin_popcountll(v[w] & ((1ULL << (p % 64)) - 1));
    return p - ones;
}

static uint64_t val(const struct lcs *t, uint32_t r, uint32_t p)
{
    return r ? zeros(row(t, r), p) : 0;
}

/* 1 when the LCS along row r grows at bit q. */
static uint64_t grows(const struct lcs *t, uint32_t r, uint32_t q)
{
    const uint64_t *v = row(t, r);
    return v ? !((v[q / 64] >> (q % 64)) & 1) : 0;
}

static int push_match(struct cache_lcs_result *res, size_t *cap,
                      const struct cache_lcs_match *m)
{
    if (res->nm == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        struct cache_lcs_match *p = realloc(res->m, nc * sizeof(*p));
        if (!p)
            return CACHE_E_NOMEM;
        res->m = p;
        *cap = nc;
    }
    res->m[res->nm++] = *m;
    return CACHE_OK;
}

/*
 * Redis's walk back from (alen, blen), step for step: on a match the byte
 * goes into the subsequence and extends the current range; otherwise it
 * goes toward the larger of LCS(i-1, j) and LCS(i, j-1) (j on a tie),
 * ending the current range. Kept: cur = LCS at (r, p), below = at (r-1,
 * p), in row coordinates; a step along a row updates both in O(1), a step
 * down a row counts the row below afresh (m times at most).
 */
static int walk_back(const struct lcs *t, const struct cache_lcs_req *req,
                     struct cache_lcs_result *res)
{
    uint32_t i = t->alen, j = t->blen;
    uint32_t r = t->m, p = t->n;
    uint64_t cur = val(t, r, p), below = r ? val(t, r - 1, p) : 0, idx = cur;
    uint32_t as = t->alen, ae = 0, bs = 0, be = 0;   /* as == alen: no range */
    char *out = req->want_str ? res->str.data : NULL;
    size_t cap = 0;

    while (i > 0 && j > 0) {
        bool emit = false, down, along;
        if (t->a[i - 1] == t->b[j - 1]) {
            if (out)
                out[idx - 1] = (char)t->a[i - 1];
            if (as == t->alen) {
                as = ae = i - 1;
                bs = be = j - 1;
            } else if (as == i && bs == j) {
                as--;
                bs--;
            } else {
                emit = true;
            }
            if (as == 0 || bs == 0)
                emit = true;
            idx--;
            i--;
            j--;
            down = along = true;
        } else {
            uint64_t stay = cur - grows(t, r, p - 1);   /* LCS one bit back */
            uint64_t l1 = t->swapped ? stay : below;    /* LCS(i-1, j) */
            uint64_t l2 = t->swapped ? below : stay;    /* LCS(i, j-1) */
            bool dec_i = l1 > l2;
            if (dec_i)
                i--;
            else
                j--;
            down = dec_i != t->swapped;   /* the row string is a unless swapped */
            along = !down;
            if (as != t->alen)
                emit = true;
        }
        if (along) {
            uint64_t g = grows(t, r - 1, p - 1);
            cur = down ? below - g : cur - grows(t, r, p - 1);
            below -= g;
            p--;
        }
        if (down) {
            if (!along)
                cur = below;
            r--;
            below = r ? val(t, r - 1, p) : 0;
        }
        uint32_t len = ae - as + 1;
        if (emit) {
            if (req->want_idx && (req->minmatchlen == 0 || len >= req->minmatchlen)) {
                struct cache_lcs_match m = {as, ae, bs, be};
                if (push_match(res, &cap, &m) != CACHE_OK)
                    return CACHE_E_NOMEM;
            }
            as = t->alen;
        }
    }
    return CACHE_OK;
}

/* Context: both keys' shards locked; a, b read in place. */
static int compute(struct lcs *t, const struct cache_lcs_req *req,
                   struct cache_lcs_result *res)
{
    bool walk = req->want_str || req->want_idx;
    int rc;

    t->swapped = t->alen > t->blen;
    t->m = t->swapped ? t->blen : t->alen;
    t->n = t->swapped ? t->alen : t->blen;
    if (t->m == 0)
        return CACHE_OK;   /* nothing in common with the empty string */
    t->words = ((size_t)t->n + 63) / 64;
    if ((rc = build_pm(t)) != CACHE_OK)
        return rc;
    if (!(t->rows = malloc((walk ? t->m : 1) * t->words * sizeof(uint64_t))))
        return CACHE_E_NOMEM;
    forward(t, walk);
    res->len = walk ? val(t, t->m, t->n) : zeros(t->rows, t->n);
    if (req->want_str) {
        if (!(res->str.data = malloc(res->len ? res->len : 1)))
            return CACHE_E_NOMEM;
        res->str.len = res->str.cap = res->len;
    }
    if (!walk)
        return CACHE_OK;
    return walk_back(t, req, res);
}

int cache_lcs(struct cache *c, const char *a, size_t alen, const char *b,
              size_t blen, const struct cache_lcs_req *req, int64_t now,
              struct cache_lcs_result *res)
{
    uint64_t hash[2] = {cache__hash(c, a, alen), cache__hash(c, b, blen)};
    struct shard *sa = cache__shard_of(c, hash[0]), *sb = cache__shard_of(c, hash[1]);
    struct lcs t = {0};
    struct cache_mlock lk;
    int rc;

    memset(res, 0, sizeof(*res));
    if ((rc = cache__mlock_init(c, &lk, hash, 2)) != CACHE_OK)
        return rc;
    cache__mlock_lock(c, &lk);
    struct item *ia = cache__lookup_locked(sa, hash[0], a, alen, now);
    struct item *ib = cache__lookup_locked(sb, hash[1], b, blen, now);
    res->found_a = ia != NULL;
    res->found_b = ib != NULL;
    if ((ia && ia->type != CACHE_TYPE_STRING) || (ib && ib->type != CACHE_TYPE_STRING)) {
        rc = CACHE_E_WRONGTYPE;
        goto out_unlock;
    }
    if (ia)
        cache__lru_touch_locked(sa, ia, now);
    if (ib)
        cache__lru_touch_locked(sb, ib, now);
    t.a = ia ? (const unsigned char *)item_val(ia) : (const unsigned char *)"";
    t.b = ib ? (const unsigned char *)item_val(ib) : (const unsigned char *)"";
    t.alen = ia ? ia->vlen : 0;
    t.blen = ib ? ib->vlen : 0;
    /* Redis's limit on its table, refused before any work (a string is
     * at most 512 MB + 8 here, far from the 2^32 that Redis's "String too
     * long for LCS" guards). */
    if (((uint64_t)t.alen + 1) * ((uint64_t)t.blen + 1) * sizeof(uint32_t) > req->max_table) {
        rc = CACHE_E_TOOBIG;
        goto out_unlock;
    }
    rc = compute(&t, req, res);
out_unlock:
    cache__mlock_unlock(c, &lk);
    cache__mlock_free(&lk);
    free(t.rows);
    free(t.pm);
    if (rc != CACHE_OK) {
        free(res->str.data);
        free(res->m);
        res->str.data = NULL;
        res->m = NULL;
        res->nm = 0;
    }
    return rc;
}
