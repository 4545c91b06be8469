/*
 * After the client threads are joined: the end-of-run checks (counters read
 * back, INFO compared with what was sent), the config restored, and each
 * checker's one-line detail for the report.
 *
 * "Unsure" requests (sent on a connection that was lost before the reply
 * came) may or may not have run, so an expectation becomes a range:
 * [acknowledged, acknowledged + unsure]. A run with unsure requests has
 * failed already (a lost connection fails it); the range only keeps the
 * counter and stats checkers from blaming the wrong thing.
 *
 * Context: main thread, client threads joined (their state is ordered by
 * pthread_join and read without locks).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_int.h"

#define BATCH 256

struct totals {
    uint64_t commands, unsure, hits, misses, unsure_keys, reads, sets, coll_hits;
    uint64_t info_reads, cfg_gets, cfg_sets;
    unsigned info_conns, cfg_readers;
    int64_t cfg_kmax;
};

static void sum_threads(const struct ld_run *r, struct totals *s)
{
    memset(s, 0, sizeof(*s));
    s->cfg_kmax = LD_GEN_NONE;
    for (unsigned i = 0; i < r->o->threads; i++) {
        const struct ld_thread *t = &r->threads[i];

        s->commands += t->st.commands;
        s->unsure += t->st.unsure;
        s->hits += t->st.hits;
        s->coll_hits += t->st.coll_hits;
        s->misses += t->st.misses;
        s->unsure_keys += t->st.unsure_keys;
        s->reads += t->st.by_op[LD_GET] + t->st.by_op[LD_MGET];
        s->sets += t->st.by_op[LD_SET];
        s->info_reads += t->st.info_reads;
        s->cfg_gets += t->st.cfg_gets;
        s->cfg_sets += t->st.cfg_sets;
        for (unsigned j = 0; j < t->nconns; j++) {
            const struct ld_conn *c = &t->conns[j];

            s->info_conns += c->kind == LD_CONN_INFO;
            s->cfg_readers += c->kind == LD_CONN_CFG_READ;
            if (c->kind == LD_CONN_CFG_READ && c->cfg_last_k > s->cfg_kmax)
                s->cfg_kmax = c->cfg_last_k;
        }
    }
}

/* ---- counter ---- */
struct counter_ctx {
    struct ld_run *r;
    uint64_t *acked, *unsure;        /* [counters + clients]: shared, then own */
    uint64_t first;                  /* index of the batch's first counter */
    uint64_t total_acked, lost, extra, wrong;
};

static void counter_name(const struct ld_run *r, uint64_t idx, char *key)
{
    if (idx < r->o->counters)
        ld__key(r, key, 'c', idx);
    else
        ld__key(r, key, 'p', idx - r->o->counters);
}

static int counter_check(void *arg, unsigned i, const redisReply *rep)
{
    struct counter_ctx *x = arg;
    struct ld_run *r = x->r;
    uint64_t idx = x->first + i, lo = x->acked[idx], hi = lo + x->unsure[idx];
    char key[LD_PREFIX_MAX + 32], *end = NULL;
    long long v = 0;

    r->ctl_commands++;
    counter_name(r, idx, key);
    if (rep->type == REDIS_REPLY_NIL) {
        r->ctl_misses++;
    } else if (rep->type == REDIS_REPLY_STRING) {
        r->ctl_hits++;
        v = strtoll(rep->str, &end, 10);
    }
    if (rep->type != REDIS_REPLY_NIL && (end == NULL || *end != '\0' || v < 0)) {
        x->wrong++;
        ld__fail(r, LD_CHK_COUNTER, "GET %s: expected %llu, got a reply that is not a "
                 "count (type %d)", key, (unsigned long long)lo, rep->type);
        return 0;
    }
    if ((uint64_t)v >= lo && (uint64_t)v <= hi)
        return 0;
    x->wrong++;
    if ((uint64_t)v < lo)
        x->lost += lo - (uint64_t)v;
    else
        x->extra += (uint64_t)v - hi;
    if (lo == hi)
        ld__fail(r, LD_CHK_COUNTER, "counter %s: expected %llu (INCRs acknowledged), "
                 "got %lld (%s %llu)", key, (unsigned long long)lo, v,
                 (uint64_t)v < lo ? "lost" : "extra",
                 (unsigned long long)((uint64_t)v < lo ? lo - (uint64_t)v : (uint64_t)v - hi));
    else
        ld__fail(r, LD_CHK_COUNTER, "counter %s: expected %llu..%llu (acknowledged.."
                 "+unanswered INCRs), got %lld", key, (unsigned long long)lo,
                 (unsigned long long)hi, v);
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* INCR replies of shared counter c that repeat a value another INCR was
 * given: each is an acknowledged INCR lost, seen without reading the
 * counter back. Fails the checker with the first example. */
static uint64_t counter_repeats(struct ld_run *r, unsigned c)
{
    size_t n = 0, k = 0;
    for (unsigned i = 0; i < r->o->threads; i++)
        n += r->threads[i].st.incr_seen[c].n;
    int64_t *all = n ? malloc(n * sizeof(*all)) : NULL;
    if (all == NULL)
        return 0;
    for (unsigned i = 0; i < r->o->threads; i++) {
        const struct ld_vals *s = &r->threads[i].st.incr_seen[c];
        if (s->n == 0)
            continue;   /* s->v may be NULL: no memcpy from it, even of 0 bytes */
        memcpy(all + k, s->v, s->n * sizeof(*all));
        k += s->n;
    }
    qsort(all, n, sizeof(*all), cmp_i64);
    uint64_t rep = 0;
    int64_t first = 0;
    for (size_t i = 1; i < n; i++)
        if (all[i] == all[i - 1] && rep++ == 0)
            first = all[i];
    free(all);
    if (rep) {
        char key[LD_PREFIX_MAX + 32];
        ld__key(r, key, 'c', c);
        ld__fail(r, LD_CHK_COUNTER, "INCR %s: %llu replies repeated a value another INCR "
                 "had been given (%lld, for one): %llu acknowledged INCRs lost", key,
                 (unsigned long long)rep, (long long)first, (unsigned long long)rep);
    }
    return rep;
}

static void counter_final(struct ld_run *r, struct ld_ctl *k)
{
    uint64_t repeats = 0;
    for (unsigned c = 0; c < r->o->counters; c++)
        repeats += counter_repeats(r, c);
    uint64_t n = (uint64_t)r->o->counters + r->nload;
    struct counter_ctx x = { .r = r };
    char err[LD_LINE], keys[BATCH][LD_PREFIX_MAX + 32];
    struct ld_checker *ck = &r->chk[LD_CHK_COUNTER];

    x.acked = calloc(n, sizeof(uint64_t));
    x.unsure = calloc(n, sizeof(uint64_t));
    if (x.acked == NULL || x.unsure == NULL)
        goto out_free;
    for (unsigned i = 0; i < r->o->threads; i++) {
        const struct ld_thread *t = &r->threads[i];

        for (unsigned c = 0; c < r->o->counters; c++) {
            x.acked[c] += t->st.incr_acked[c];
            x.unsure[c] += t->st.incr_unsure[c];
        }
        for (unsigned j = 0; j < t->nconns; j++)
            if (t->conns[j].kind == LD_CONN_LOAD) {
                x.acked[r->o->counters + t->conns[j].id] = t->conns[j].priv_acked;
                x.unsure[r->o->counters + t->conns[j].id] = t->conns[j].priv_unsure;
            }
    }
    for (uint64_t i = 0; i < n; i++)
        x.total_acked += x.acked[i];
    for (x.first = 0; x.first < n; x.first += BATCH) {
        char *cmds[BATCH];
        int lens[BATCH];
        unsigned m = 0;
        int rc;

        for (; m < BATCH && x.first + m < n; m++) {
            const char *argv[2] = { "GET", keys[m] };

            counter_name(r, x.first + m, keys[m]);
            lens[m] = redisFormatCommandArgv(&cmds[m], 2, argv, NULL);
        }
        rc = k != NULL ? ld__ctl_pipeline(k, cmds, lens, m, counter_check, &x, err, sizeof(err)) : -1;
        for (unsigned i = 0; i < m; i++)
            redisFreeCommand(cmds[i]);
        if (rc < 0) {
            if (repeats == 0) {
                ld__skip(r, LD_CHK_COUNTER, "could not read the counters at the end: %s",
                         k != NULL ? err : "no control connection");
                goto out_free;
            }
            snprintf(ck->detail, sizeof(ck->detail), "%llu of %llu acknowledged INCRs lost "
                     "(at least: INCR replies that repeated a value; the counters could not "
                     "be read at the end: %.120s)", (unsigned long long)repeats,
                     (unsigned long long)x.total_acked, k != NULL ? err : "no control connection");
            goto out_free;
        }
    }
    if (x.wrong == 0 && repeats == 0)
        snprintf(ck->detail, sizeof(ck->detail), "%u shared + %u own counters: %llu INCRs "
                 "acknowledged, every total exact", r->o->counters, r->nload,
                 (unsigned long long)x.total_acked);
    else
        snprintf(ck->detail, sizeof(ck->detail), "%llu of %llu acknowledged INCRs lost, "
                 "%llu extra; %llu of %llu counters wrong; %llu INCR replies repeated a value",
                 (unsigned long long)(x.lost > repeats ? x.lost : repeats),
                 (unsigned long long)x.total_acked, (unsigned long long)x.extra,
                 (unsigned long long)x.wrong, (unsigned long long)n,
                 (unsigned long long)repeats);
out_free:
    free(x.acked);
    free(x.unsure);
}

/* ---- stats ---- */
static bool stat_ok(struct ld_run *r, const char *name, uint64_t base, uint64_t now,
                    uint64_t want, uint64_t unsure)
{
    uint64_t moved = now - base;

    if (now >= base && moved >= want && moved <= want + unsure)
        return true;
    ld__fail(r, LD_CHK_STATS, "INFO %s: expected it to move by %llu%s (what this tool "
             "sent), got %lld (%llu -> %llu)%s", name, (unsigned long long)want,
             unsure > 0 ? " plus up to the unanswered" : "", (long long)(now - base),
             (unsigned long long)base, (unsigned long long)now,
             r->base_clients > 1 ? "; other clients were connected at the start" : "");
    return false;
}

static void stats_final(struct ld_run *r, struct ld_ctl *k, const struct totals *s)
{
    struct ld_checker *ck = &r->chk[LD_CHK_STATS];
    uint64_t now[3], want[3], unsure[3];
    char err[LD_LINE];
    bool ok = true;

    if (ck->skipped[0] != '\0')
        return;
    if (k == NULL || ld__read_info(k, now, NULL, err, sizeof(err)) < 0) {
        ld__skip(r, LD_CHK_STATS, "no INFO at the end: %s", k != NULL ? err : "no control connection");
        return;
    }
    /* +1: the baseline INFO, which only a later INFO can count */
    want[0] = 1 + s->commands + r->ctl_commands;
    want[1] = s->hits + s->coll_hits + r->ctl_hits;
    want[2] = s->misses + r->ctl_misses;
    unsure[0] = s->unsure;
    unsure[1] = unsure[2] = s->unsure_keys;
    ok &= stat_ok(r, "total_commands_processed", r->info_base[0], now[0], want[0], unsure[0]);
    ok &= stat_ok(r, "keyspace_hits", r->info_base[1], now[1], want[1], unsure[1]);
    ok &= stat_ok(r, "keyspace_misses", r->info_base[2], now[2], want[2], unsure[2]);
    snprintf(ck->detail, sizeof(ck->detail), "total_commands_processed +%llu, "
             "keyspace_hits +%llu, keyspace_misses +%llu: %s",
                 (unsigned long long)(now[0] - r->info_base[0]),
                 (unsigned long long)(now[1] - r->info_base[1]),
             (unsigned long long)(now[2] - r->info_base[2]),
             ok ? "what this tool sent" : "not what this tool sent");
}

/* Put back the settings the run found, so the server is left as it was. */
static void config_restore(struct ld_run *r, struct ld_ctl *k, const struct totals *s)
{
    char t[24], m[24], err[LD_LINE];
    const char *argv[] = { "CONFIG", "SET", "timeout", t, "maxmemory", m };
    redisReply *rep;

    if (!r->o->config_writer || s->cfg_sets == 0 || !r->cfg_base_ok || k == NULL)
        return;
    snprintf(t, sizeof(t), "%llu", (unsigned long long)r->cfg_base_timeout);
    snprintf(m, sizeof(m), "%llu", (unsigned long long)r->cfg_base_maxmem);
    rep = ld__ctl_cmd(k, err, sizeof(err), 6, argv);
    if (rep == NULL || rep->type != REDIS_REPLY_STATUS)
        ld__error(r, "config restore", "CONFIG SET timeout %s maxmemory %s: %s", t, m,
                  rep == NULL ? err : rep->type == REDIS_REPLY_ERROR ? rep->str : "?");
    if (rep != NULL)
        freeReplyObject(rep);
}

static void details(struct ld_run *r, const struct totals *s)
{
    struct ld_hist lat;

#define DETAIL(c, ...) snprintf(r->chk[c].detail, sizeof(r->chk[c].detail), __VA_ARGS__)
    DETAIL(LD_CHK_TAGGED, "%llu reads verified (%llu values, %llu nil), %llu tagged SETs",
           (unsigned long long)s->reads, (unsigned long long)s->hits,
           (unsigned long long)s->misses, (unsigned long long)s->sets);
    DETAIL(LD_CHK_MONOTONIC, "%llu INFO readings on %u connections", (unsigned long long)
           s->info_reads, s->info_conns);
    if (r->o->config_writer)
        DETAIL(LD_CHK_CONFIG, "%llu CONFIG GET snapshots on %u readers, %llu CONFIG SETs "
               "acknowledged (generations %lld..%lld)", (unsigned long long)s->cfg_gets,
               s->cfg_readers, (unsigned long long)s->cfg_sets,
               (long long)r->cfg_base_k + 1, (long long)r->cfg_base_k + (long long)s->cfg_sets);
    else
        DETAIL(LD_CHK_CONFIG, "%llu CONFIG GET snapshots on %u readers, latest generation "
               "seen %lld (changes come from outside: no --config-writer)",
               (unsigned long long)s->cfg_gets, s->cfg_readers,
               s->cfg_kmax == LD_GEN_NONE ? -1LL : (long long)s->cfg_kmax);
    ld_hist_init(&lat);
    for (unsigned i = 0; i < r->o->threads; i++)
        ld_hist_merge(&lat, &r->threads[i].st.lat);
    if (r->chk[LD_CHK_LIVENESS].failures == 0)
        DETAIL(LD_CHK_LIVENESS, "every request answered within %u ms (slowest %.3f ms)",
               r->o->reply_timeout_ms, (double)lat.max / 1e6);
    else
        DETAIL(LD_CHK_LIVENESS, "%llu problems: stalls, resets, a server gone",
               (unsigned long long)r->chk[LD_CHK_LIVENESS].failures);
#undef DETAIL
}

void ld__final(struct ld_run *r, struct ld_ctl *k)
{
    struct totals s;

    sum_threads(r, &s);
    details(r, &s);
    if (ld__on(r, LD_CHK_COUNTER))
        counter_final(r, k);
    if (ld__on(r, LD_CHK_QUEUE))
        ld__queue_final(r, k, LD_Q_LIST);   /* before stats: its LRANGEs count */
    if (ld__on(r, LD_CHK_HASH))
        ld__hash_final(r, k);    /* before stats: their reads count */
    if (ld__on(r, LD_CHK_SET))
        ld__set_final(r, k);
    if (ld__on(r, LD_CHK_ZSET)) {
        ld__zset_final(r, k);
        ld__queue_final(r, k, LD_Q_ZSET);   /* its ZPOPMIN part, after: the detail */
    }
    if (ld__on(r, LD_CHK_BANK))
        ld__bank_final(r, k);
    if (ld__on(r, LD_CHK_MSUM))
        ld__msum_final(r, k);
    if (ld__on(r, LD_CHK_STATS))
        stats_final(r, k, &s);
    config_restore(r, k, &s);
}
