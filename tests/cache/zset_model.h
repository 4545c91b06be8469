/*
 * zset_model.h: the plain model test_zset_property checks the sorted set
 * type against: a key's members and scores in arrays, sorted on demand,
 * and Redis 7.0's answers computed from them (ZADD with its flags, a
 * range of any form, ZUNION/ZINTER/ZDIFF with weights and aggregates in
 * Redis's order). Static functions for the one test that includes it.
 */
#ifndef MMCACHE_TESTS_ZSET_MODEL_H
#define MMCACHE_TESTS_ZSET_MODEL_H

#include <math.h>

#include "test_util.h"

#include "zset_util.h"

#define MAXM 600
#define MLEN 48

struct mz {
    int n;
    char m[MAXM][MLEN];
    size_t len[MAXM];
    double sc[MAXM];
    bool big;            /* seen as a skiplist since it was made */
};
static int mfind(const struct mz *z, const char *m, size_t len)
{
    for (int i = 0; i < z->n; i++)
        if (z->len[i] == len && memcmp(z->m[i], m, len) == 0)
            return i;
    return -1;
}

static void mdel(struct mz *z, int i)
{
    z->n--;
    memcpy(z->m[i], z->m[z->n], MLEN);
    z->len[i] = z->len[z->n];
    z->sc[i] = z->sc[z->n];
}

static int mcmp(const struct mz *z, int a, int b)
{
    if (z->sc[a] != z->sc[b])
        return z->sc[a] < z->sc[b] ? -1 : 1;
    size_t l = z->len[a] < z->len[b] ? z->len[a] : z->len[b];
    int c = memcmp(z->m[a], z->m[b], l);
    return c ? c : (z->len[a] > z->len[b]) - (z->len[a] < z->len[b]);
}

static const struct mz *sorting;   /* the set msorted is sorting */

static int cmp_idx(const void *a, const void *b)
{
    return mcmp(sorting, *(const int *)a, *(const int *)b);
}

/* The members' indexes in order. */
static void msorted(const struct mz *z, int *idx)
{
    for (int i = 0; i < z->n; i++)
        idx[i] = i;
    sorting = z;
    qsort(idx, (size_t)z->n, sizeof(*idx), cmp_idx);
}

static bool same_scores(const struct mz *z)
{
    for (int i = 1; i < z->n; i++)
        if (z->sc[i] != z->sc[0])
            return false;
    return true;
}

/* ---- ZADD ---- */

static int model_zadd(struct mz *z, const struct cache_zpair *p, size_t n, int flags,
                      struct cache_zadd_result *r)
{
    memset(r, 0, sizeof(*r));
    for (size_t k = 0; k < n; k++) {
        int i = mfind(z, p[k].m, p[k].len);
        double score = p[k].score;
        if (i >= 0) {
            if (flags & CACHE_ZADD_NX)
                continue;
            if (flags & CACHE_ZADD_INCR) {
                score += z->sc[i];
                if (isnan(score))
                    return CACHE_E_NAN;
            }
            if (((flags & CACHE_ZADD_LT) && score >= z->sc[i]) ||
                ((flags & CACHE_ZADD_GT) && score <= z->sc[i]))
                continue;
            r->processed++;
            r->score = score;
            if (score != z->sc[i]) {
                r->updated++;
                z->sc[i] = score;
            }
        } else if (!(flags & CACHE_ZADD_XX)) {
            assert_true(z->n < MAXM);
            memcpy(z->m[z->n], p[k].m, p[k].len);
            z->len[z->n] = p[k].len;
            z->sc[z->n++] = score;
            r->added++;
            r->processed++;
            r->score = score;
        }
    }
    return CACHE_OK;
}

/* ---- ranges ---- */

static int lexcmp(const struct mz *z, int i, const struct cache_zlex_bound *b)
{
    if (b->kind == CACHE_ZLEX_MINUS)
        return 1;
    if (b->kind == CACHE_ZLEX_PLUS)
        return -1;
    size_t l = z->len[i] < b->len ? z->len[i] : b->len;
    int c = memcmp(z->m[i], b->s, l);
    return c ? c : (z->len[i] > b->len) - (z->len[i] < b->len);
}

static bool in_range(const struct mz *z, int i, const struct cache_zrange *r)
{
    if (r->by == CACHE_ZBY_SCORE) {
        double v = z->sc[i];
        return (r->score.minex ? v > r->score.min : v >= r->score.min) &&
               (r->score.maxex ? v < r->score.max : v <= r->score.max);
    }
    int a = lexcmp(z, i, &r->lex.min), b = lexcmp(z, i, &r->lex.max);
    return (r->lex.min.kind != CACHE_ZLEX_INCL ? a > 0 : a >= 0) &&
           (r->lex.max.kind != CACHE_ZLEX_INCL ? b < 0 : b <= 0);
}

/* The model's range: into sel (indexes in the order asked), *n of them. */
static void model_range(const struct mz *z, const struct cache_zrange *r, int *sel, int *n)
{
    int idx[MAXM], m = 0;

    msorted(z, idx);
    *n = 0;
    if (r->by == CACHE_ZBY_RANK) {
        long long len = z->n, s = r->start, e = r->end;
        if (s < 0) s += len;
        if (e < 0) e += len;
        if (s < 0) s = 0;
        if (s > e || s >= len)
            return;
        if (e >= len) e = len - 1;
        for (long long i = s; i <= e; i++)
            sel[(*n)++] = r->rev ? idx[z->n - 1 - i] : idx[i];
        return;
    }
    int in[MAXM];
    for (int i = 0; i < z->n; i++) {
        int j = r->rev ? idx[z->n - 1 - i] : idx[i];
        if (in_range(z, j, r))
            in[m++] = j;
    }
    if (r->offset < 0)
        return;
    for (int i = (int)r->offset; i < m && (r->limit < 0 || *n < r->limit); i++)
        sel[(*n)++] = in[i];
}

/* ---- the commands on several keys ---- */

static void agg(double *t, double v, int how)
{
    if (how == CACHE_ZAGG_SUM) {
        *t += v;
        if (isnan(*t))
            *t = 0;
    } else if (how == CACHE_ZAGG_MIN) {
        *t = v < *t ? v : *t;
    } else {
        *t = v > *t ? v : *t;
    }
}

/* Redis's result of op over the keys src[] with weights w (NULL: 1). */
static void model_setop(const struct mz *model, int op, const int *src, size_t ns,
                        const double *w, int how, struct mz *res)
{
    int order[8], idx[MAXM];
    double wt[8];

    memset(res, 0, sizeof(*res));
    for (size_t j = 0; j < ns; j++) {
        order[j] = src[j];
        wt[j] = w ? w[j] : 1.0;
    }
    if (op != CACHE_ZDIFF)   /* smallest first, stably */
        for (size_t a = 1; a < ns; a++)
            for (size_t b = a; b > 0 && model[order[b - 1]].n > model[order[b]].n; b--) {
                int t = order[b]; order[b] = order[b - 1]; order[b - 1] = t;
                double u = wt[b]; wt[b] = wt[b - 1]; wt[b - 1] = u;
            }
    const struct mz *first = &model[order[0]];
    if (op == CACHE_ZUNION) {
        for (size_t j = 0; j < ns; j++) {
            const struct mz *z = &model[order[j]];
            msorted(z, idx);
            for (int i = 0; i < z->n; i++) {
                double s = wt[j] * z->sc[idx[i]];
                if (isnan(s))
                    s = 0;
                int at = mfind(res, z->m[idx[i]], z->len[idx[i]]);
                if (at >= 0) {
                    agg(&res->sc[at], s, how);
                    continue;
                }
                memcpy(res->m[res->n], z->m[idx[i]], MLEN);
                res->len[res->n] = z->len[idx[i]];
                res->sc[res->n++] = s;
            }
        }
        return;
    }
    if (first->n == 0)
        return;
    if (op == CACHE_ZDIFF)
        for (size_t j = 1; j < ns; j++)
            if (order[j] == order[0])
                return;
    msorted(first, idx);
    for (int i = 0; i < first->n; i++) {
        const char *m = first->m[idx[i]];
        size_t len = first->len[idx[i]];
        double s = op == CACHE_ZDIFF ? first->sc[idx[i]] : wt[0] * first->sc[idx[i]];
        bool keep = true;
        if (isnan(s))
            s = 0;
        for (size_t j = 1; j < ns && keep; j++) {
            int at = mfind(&model[order[j]], m, len);
            if (op == CACHE_ZDIFF) {
                keep = at < 0;
            } else if (order[j] == order[0]) {
                agg(&s, first->sc[idx[i]] * wt[j], how);
            } else if (at < 0) {
                keep = false;
            } else {
                agg(&s, model[order[j]].sc[at] * wt[j], how);
            }
        }
        if (keep) {
            memcpy(res->m[res->n], m, MLEN);
            res->len[res->n] = len;
            res->sc[res->n++] = s;
        }
    }
}

#endif
