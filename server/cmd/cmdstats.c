/*
 * INFO commandstats and errorstats: per-command calls, time, rejections
 * and failures, and error replies by their first word. Each worker counts
 * in its own struct srv_cmdstat array and struct srv_errstats (srv.h says
 * how each is synchronised); INFO sums the workers' counters when it runs.
 *
 * CONFIG RESETSTAT does not store into the workers' counters (one thread
 * must not store into another's single-writer counter): it records what
 * it reads as a baseline, under base_lock, and INFO shows the difference,
 * as info.c does for the stats section. A command or an error whose
 * difference is 0 is not shown, as Redis shows none after a reset.
 *
 * Context: srv__errstat_count on the connection's worker; the rest on any
 * worker, inside srv_dispatch().
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "srv.h"

struct errsum {
    char prefix[SRV_ERRPREFIX_MAX];
    uint64_t count;
};

struct errsums {
    size_t n;
    uint64_t replied;
    struct errsum e[SRV_ERRSTAT_MAX];
};

/* lock order: leaf (the counters it reads are lock-free). */
static pthread_mutex_t base_lock = PTHREAD_MUTEX_INITIALIZER;
static struct srv_cmdsum *cmd_base;    /* guarded by: base_lock; NULL until the first reset */
static struct errsums err_base;    /* guarded by: base_lock */

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

/* ---- counting (the worker) ---------------------------------------------- */

void srv__errstat_count(struct srv_conn *c, const char *msg)
{
    struct srv_errstats *es = c->w->errstats;
    size_t len = strcspn(msg, " ");
    unsigned n = atomic_load_explicit(&es->n, memory_order_relaxed);   /* ours */

    SRV_STAT_ADD(es, replied, 1);
    if (len >= SRV_ERRPREFIX_MAX)
        len = SRV_ERRPREFIX_MAX - 1;
    for (unsigned i = 0; i < n; i++)
        if (strncmp(es->slot[i].prefix, msg, len) == 0 && es->slot[i].prefix[len] == '\0') {
            SRV_STAT_ADD(&es->slot[i], count, 1);
            return;
        }
    if (n == SRV_ERRSTAT_MAX)
        return;   /* counted in replied only */
    memcpy(es->slot[n].prefix, msg, len);
    es->slot[n].prefix[len] = '\0';
    atomic_store_explicit(&es->slot[n].count, 1, memory_order_relaxed);
    /* release: pairs with the acquire in errs_raw; the prefix is complete
     * before a reader can see the slot */
    atomic_store_explicit(&es->n, n + 1, memory_order_release);
}

/* ---- reading (any worker) ------------------------------------------------- */

static void cmds_raw(struct srv_cmdsum *sum)
{
    memset(sum, 0, srv_command_count * sizeof(*sum));
    for (unsigned w = 0; w < srv.nworkers; w++) {
        const struct srv_cmdstat *cs = srv.workers[w].cmdstats;
        for (size_t i = 0; i < srv_command_count; i++) {
            sum[i].calls += LOAD(cs[i].calls);
            sum[i].ns += LOAD(cs[i].ns);
            sum[i].rejected += LOAD(cs[i].rejected);
            sum[i].failed += LOAD(cs[i].failed);
        }
    }
}

static struct errsum *errs_find(struct errsums *s, const char *prefix, bool add)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->e[i].prefix, prefix) == 0)
            return &s->e[i];
    if (!add || s->n == SRV_ERRSTAT_MAX)
        return NULL;
    struct errsum *e = &s->e[s->n++];
    memcpy(e->prefix, prefix, sizeof(e->prefix));
    e->count = 0;
    return e;
}

static void errs_raw(struct errsums *s)
{
    s->n = 0;
    s->replied = 0;
    for (unsigned w = 0; w < srv.nworkers; w++) {
        struct srv_errstats *es = srv.workers[w].errstats;
        /* acquire: pairs with the release in srv__errstat_count */
        unsigned n = atomic_load_explicit(&es->n, memory_order_acquire);
        s->replied += LOAD(es->replied);
        for (unsigned i = 0; i < n; i++) {
            struct errsum *e = errs_find(s, es->slot[i].prefix, true);
            if (e != NULL)
                e->count += LOAD(es->slot[i].count);
        }
    }
}

static uint64_t since(uint64_t now, uint64_t base)
{
    return now >= base ? now - base : 0;
}

void srv_cmdstats_read(struct srv_cmdsum *sum)
{
    pthread_mutex_lock(&base_lock);
    cmds_raw(sum);
    for (size_t i = 0; cmd_base != NULL && i < srv_command_count; i++) {
        sum[i].calls = since(sum[i].calls, cmd_base[i].calls);
        sum[i].ns = since(sum[i].ns, cmd_base[i].ns);
        sum[i].rejected = since(sum[i].rejected, cmd_base[i].rejected);
        sum[i].failed = since(sum[i].failed, cmd_base[i].failed);
    }
    pthread_mutex_unlock(&base_lock);
}

void srv_cmdstats_info(struct proto_buf *b, int *rc)
{
    struct srv_cmdsum *sum = malloc(srv_command_count * sizeof(*sum));

    if (sum == NULL) {
        *rc = -ENOMEM;
        return;
    }
    srv__infof(b, rc, "# Commandstats\r\n");
    srv_cmdstats_read(sum);
    for (size_t i = 0; i < srv_command_count; i++) {
        const struct srv_cmdsum *s = &sum[i];
        if (s->calls == 0 && s->rejected == 0 && s->failed == 0)
            continue;
        srv__infof(b, rc, "cmdstat_%s:calls=%llu,usec=%llu,usec_per_call=%.2f,"
                   "rejected_calls=%llu,failed_calls=%llu\r\n", srv_command_table[i].fullname,
                   (unsigned long long)s->calls, (unsigned long long)(s->ns / 1000),
                   s->calls ? (double)s->ns / 1000.0 / (double)s->calls : 0.0,
                   (unsigned long long)s->rejected, (unsigned long long)s->failed);
    }
    free(sum);
}

/* The workers' error counts less the baseline. Context: base_lock held. */
static void errs_since_base_locked(struct errsums *s)
{
    errs_raw(s);
    s->replied = since(s->replied, err_base.replied);
    for (size_t i = 0; i < s->n; i++) {
        const struct errsum *b0 = errs_find(&err_base, s->e[i].prefix, false);
        if (b0 != NULL)
            s->e[i].count = since(s->e[i].count, b0->count);
    }
}

void srv_errstats_info(struct proto_buf *b, int *rc)
{
    struct errsums *s = malloc(sizeof(*s));

    if (s == NULL) {
        *rc = -ENOMEM;
        return;
    }
    pthread_mutex_lock(&base_lock);
    errs_since_base_locked(s);
    pthread_mutex_unlock(&base_lock);
    srv__infof(b, rc, "# Errorstats\r\n");
    for (size_t i = 0; i < s->n; i++)
        if (s->e[i].count > 0)
            srv__infof(b, rc, "errorstat_%s:count=%llu\r\n", s->e[i].prefix,
                       (unsigned long long)s->e[i].count);
    free(s);
}

uint64_t srv_errstats_total(void)
{
    uint64_t total = 0;

    pthread_mutex_lock(&base_lock);
    for (unsigned w = 0; w < srv.nworkers; w++)
        total += LOAD(srv.workers[w].errstats->replied);
    total = since(total, err_base.replied);
    pthread_mutex_unlock(&base_lock);
    return total;
}

void srv_cmdstats_resetstat(void)
{
    pthread_mutex_lock(&base_lock);
    if (cmd_base == NULL)
        cmd_base = calloc(srv_command_count, sizeof(*cmd_base));
    if (cmd_base != NULL)
        cmds_raw(cmd_base);
    else
        srv_log(CFG_LOG_WARNING, "CONFIG RESETSTAT: out of memory: commandstats not reset");
    errs_raw(&err_base);
    pthread_mutex_unlock(&base_lock);
}
