/*
 * Verdict bookkeeping shared by every checker: a failure count per checker
 * with the first few failures kept as evidence, "skipped" reasons, and the
 * tally of error kinds. These run only when something is wrong, so one
 * leaf mutex is plenty; the relaxed atomics beside it feed the progress
 * line without taking it.
 *
 * Context: any thread; takes ld_run.lock (leaf).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ld_int.h"

uint64_t ld__now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void ld__fail(struct ld_run *r, enum ld_check c, const char *fmt, ...)
{
    struct ld_checker *k = &r->chk[c];
    char line[LD_LINE];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    atomic_fetch_add_explicit(&r->failures, 1, memory_order_relaxed);
    pthread_mutex_lock(&r->lock);
    k->failures++;
    if (k->nevidence < LD_EVIDENCE_MAX)
        memcpy(k->evidence[k->nevidence++], line, sizeof(line));
    pthread_mutex_unlock(&r->lock);
}

void ld__skip(struct ld_run *r, enum ld_check c, const char *fmt, ...)
{
    char line[LD_LINE];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&r->lock);
    if (r->chk[c].skipped[0] == '\0')
        memcpy(r->chk[c].skipped, line, sizeof(line));
    pthread_mutex_unlock(&r->lock);
}

/* Errors are grouped by kind ("ERR (get)", "reset", "reply timeout"); the
 * first message of each kind is kept as its example. */
void ld__error(struct ld_run *r, const char *kind, const char *fmt, ...)
{
    char line[LD_LINE];
    va_list ap;
    unsigned i;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&r->lock);
    for (i = 0; i < r->nerrs; i++)
        if (strcmp(r->errs[i].kind, kind) == 0)
            break;
    if (i == r->nerrs && r->nerrs < LD_ERRKINDS_MAX) {
        snprintf(r->errs[i].kind, sizeof(r->errs[i].kind), "%s", kind);
        memcpy(r->errs[i].example, line, sizeof(line));
        r->nerrs++;
    }
    if (i < r->nerrs)
        r->errs[i].count++;
    else
        r->errs[LD_ERRKINDS_MAX - 1].count++;   /* table full: lump into the last */
    pthread_mutex_unlock(&r->lock);
}
