/*
 * Output: the progress line (a terminal only), the summary (throughput,
 * latency percentiles, errors by kind, each checker's verdict with its
 * first failures) and the same as JSON with --json. Also decides the exit
 * code: 0 only when every enabled checker passed (or was skipped with its
 * reason shown), no connection was lost, and no error reply came back
 * (unless --allow-errors).
 *
 * Context: main thread; ld__report() after the client threads are joined,
 * so the lock-guarded checker state is read without the lock: no other
 * thread is left to write it.
 */
#include <stdio.h>
#include <string.h>

#include "ld_int.h"

enum verdict { V_PASSED, V_FAILED, V_SKIPPED };

static const char *const verdict_names[] = { "passed", "failed", "skipped" };

static enum verdict verdict_of(const struct ld_checker *k)
{
    if (k->failures > 0)
        return V_FAILED;
    return k->skipped[0] != '\0' ? V_SKIPPED : V_PASSED;
}

void ld__progress(struct ld_run *r, double elapsed_s, uint64_t ops, double rate)
{
    fprintf(stderr, "\r[%6.1fs] %12llu ops %10.0f ops/s  errors %llu  lost conns %llu  "
            "checker failures %llu ", elapsed_s, (unsigned long long)ops, rate,
            (unsigned long long)atomic_load_explicit(&r->errors, memory_order_relaxed),
            (unsigned long long)atomic_load_explicit(&r->conn_failures, memory_order_relaxed),
            (unsigned long long)atomic_load_explicit(&r->failures, memory_order_relaxed));
    fflush(stderr);
}

static const double pcts[] = { 50, 90, 99, 99.9 };
static const char *const pct_names[] = { "p50", "p90", "p99", "p99.9" };
#define NPCTS (sizeof(pcts) / sizeof(pcts[0]))

/* What both the text and the JSON report print. */
struct summary {
    uint64_t ops, by_op[LD_NOPS], bench_done;
    double secs, rate;
    double pct_us[NPCTS], max_us;
};

static void summarise(const struct ld_run *r, struct summary *s)
{
    static struct ld_hist lat;          /* main thread only; 58 KiB off the stack */

    memset(s, 0, sizeof(*s));
    ld_hist_init(&lat);
    for (unsigned i = 0; r->threads != NULL && i < r->o->threads; i++) {
        const struct ld_thread *t = &r->threads[i];

        for (int op = 0; op < LD_NOPS; op++)
            s->by_op[op] += t->st.by_op[op];
        s->ops += atomic_load_explicit(&t->st.ops, memory_order_relaxed);
        s->bench_done += t->st.bench_done;
        ld_hist_merge(&lat, &t->st.lat);
    }
    s->secs = r->end_ns > r->start_ns ? (double)(r->end_ns - r->start_ns) / 1e9 : 0;
    s->rate = s->secs > 0 ? (double)s->ops / s->secs : 0;
    for (size_t i = 0; i < NPCTS; i++)
        s->pct_us[i] = (double)ld_hist_percentile(&lat, pcts[i]) / 1e3;
    s->max_us = (double)lat.max / 1e3;
}

static void print_text(const struct ld_run *r, const struct summary *s, int code)
{
    const struct ld_opts *o = r->o;
    bool first = true;

    char mix[64];

    if (o->bench == LD_BENCH_MIX)
        snprintf(mix, sizeof(mix), "ratio %u:%u:%u:%u:%u", o->ratio[0], o->ratio[1],
                 o->ratio[2], o->ratio[3], o->ratio[4]);
    else
        snprintf(mix, sizeof(mix), "bench %s", o->bench == LD_BENCH_TXN ? "txn" : "mget-mset");
    printf("mmcache-load: %s:%d, %u clients on %u threads, pipeline %u, keyspace %llu %s, "
           "%s, value %zu B, prefix %s\n", o->host, o->port, o->clients,
           o->threads, o->pipeline, (unsigned long long)o->keyspace,
           o->zipf > 0 ? "zipf" : "uniform", mix, o->value_size, o->prefix);
    printf("throughput: %llu ops in %.2f s = %.0f ops/s (", (unsigned long long)s->ops,
           s->secs, s->rate);
    for (int op = 0; op < LD_NOPS; op++)
        printf("%s%s %llu", op ? ", " : "", ld_op_name((enum ld_op)op),
               (unsigned long long)s->by_op[op]);
    printf(")\n");
    if (o->bench != LD_BENCH_MIX)
        printf("bench %s: %llu requests of %u commands checked out = %.0f requests/s\n",
               o->bench == LD_BENCH_TXN ? "txn" : "mget-mset",
               (unsigned long long)s->bench_done, ld_bench_cmds(o->bench),
               s->secs > 0 ? (double)s->bench_done / s->secs : 0);
    printf("latency (us):");
    for (size_t i = 0; i < NPCTS; i++)
        printf(" %s %.1f", pct_names[i], s->pct_us[i]);
    printf(" max %.1f\nerrors:", s->max_us);
    for (unsigned i = 0; i < r->nerrs; i++) {
        printf("\n  %-22s %8llu  e.g. %s", r->errs[i].kind,
               (unsigned long long)r->errs[i].count, r->errs[i].example);
        first = false;
    }
    printf("%s\ncheckers:\n", first ? " none" : "");
    for (int c = 0; c < LD_NCHECKS; c++) {
        const struct ld_checker *k = &r->chk[c];
        enum verdict v = verdict_of(k);

        if (!ld__on(r, (enum ld_check)c))
            continue;
        if (v == V_SKIPPED)
            printf("  %-10s SKIPPED  %s\n", ld_check_name((enum ld_check)c), k->skipped);
        else
            printf("  %-10s %s  %s\n", ld_check_name((enum ld_check)c),
                   v == V_PASSED ? "passed" : "FAILED", k->detail);
        for (unsigned e = 0; e < k->nevidence; e++)
            printf("             - %s\n", k->evidence[e]);
        if (k->failures > k->nevidence)
            printf("             (%llu failures in all)\n", (unsigned long long)k->failures);
    }
    printf("result: %s (exit %d)\n", code == 0 ? "PASS" : "FAIL", code);
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20 || c >= 0x7f)   /* a server's error text may hold any byte */
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void print_json(const struct ld_run *r, const struct summary *s, int code)
{
    const struct ld_opts *o = r->o;

    printf("{\n  \"target\": \"%s:%d\",\n", o->host, o->port);
    printf("  \"options\": {\"clients\": %u, \"threads\": %u, \"pipeline\": %u, "
           "\"keyspace\": %llu, \"dist\": \"%s\", \"value_size\": %zu, \"key_prefix\": ",
           o->clients, o->threads, o->pipeline, (unsigned long long)o->keyspace,
           o->zipf > 0 ? "zipf" : "uniform", o->value_size);
    json_str(o->prefix);
    printf(", \"ratio\": [%u, %u, %u, %u, %u]},\n", o->ratio[0], o->ratio[1], o->ratio[2],
           o->ratio[3], o->ratio[4]);
    printf("  \"duration_s\": %.3f,\n  \"ops\": %llu,\n  \"ops_per_sec\": %.1f,\n",
           s->secs, (unsigned long long)s->ops, s->rate);
    if (o->bench != LD_BENCH_MIX)
        printf("  \"bench_requests\": %llu,\n", (unsigned long long)s->bench_done);
    printf("  \"ops_by_type\": {");
    for (int op = 0; op < LD_NOPS; op++)
        printf("%s\"%s\": %llu", op ? ", " : "", ld_op_name((enum ld_op)op),
               (unsigned long long)s->by_op[op]);
    printf("},\n  \"latency_us\": {");
    for (size_t i = 0; i < NPCTS; i++)
        printf("\"%s\": %.1f, ", pct_names[i], s->pct_us[i]);
    printf("\"max\": %.1f},\n", s->max_us);
    printf("  \"connection_failures\": %llu,\n  \"error_replies\": %llu,\n  \"errors\": [",
           (unsigned long long)atomic_load(&r->conn_failures),
           (unsigned long long)atomic_load(&r->errors));
    for (unsigned i = 0; i < r->nerrs; i++) {
        printf("%s\n    {\"kind\": ", i ? "," : "");
        json_str(r->errs[i].kind);
        printf(", \"count\": %llu, \"example\": ", (unsigned long long)r->errs[i].count);
        json_str(r->errs[i].example);
        printf("}");
    }
    printf("%s],\n  \"checkers\": [", r->nerrs ? "\n  " : "");
    for (int c = 0, n = 0; c < LD_NCHECKS; c++) {
        const struct ld_checker *k = &r->chk[c];

        if (!ld__on(r, (enum ld_check)c))
            continue;
        printf("%s\n    {\"name\": \"%s\", \"verdict\": \"%s\", \"failures\": %llu, "
               "\"detail\": ", n++ ? "," : "", ld_check_name((enum ld_check)c),
               verdict_names[verdict_of(k)], (unsigned long long)k->failures);
        json_str(verdict_of(k) == V_SKIPPED ? k->skipped : k->detail);
        printf(", \"evidence\": [");
        for (unsigned e = 0; e < k->nevidence; e++) {
            printf("%s", e ? ", " : "");
            json_str(k->evidence[e]);
        }
        printf("]}");
    }
    printf("\n  ],\n  \"result\": \"%s\",\n  \"exit_code\": %d\n}\n",
           code == 0 ? "pass" : "fail", code);
}

int ld__report(struct ld_run *r)
{
    struct summary s;
    int code = 0;

    summarise(r, &s);
    for (int c = 0; c < LD_NCHECKS; c++)
        if (ld__on(r, (enum ld_check)c) && verdict_of(&r->chk[c]) == V_FAILED)
            code = 1;
    if (atomic_load(&r->conn_failures) > 0)
        code = 1;
    if (atomic_load(&r->errors) > 0 && !r->o->allow_errors)
        code = 1;
    /* a skipped checker passes, but never quietly */
    for (int c = 0; c < LD_NCHECKS; c++)
        if (ld__on(r, (enum ld_check)c) && verdict_of(&r->chk[c]) == V_SKIPPED)
            fprintf(stderr, "mmcache-load: warning: checker %s SKIPPED: %s\n",
                    ld_check_name((enum ld_check)c), r->chk[c].skipped);
    if (r->o->json)
        print_json(r, &s, code);
    else
        print_text(r, &s, code);
    fflush(stdout);
    return code;
}
