/*
 * Command-line options of mmcache-load. Every option has a default that
 * gives a short, bounded run against 127.0.0.1:6379; a usage error is
 * reported with the option's name and the run exits 2.
 *
 * Context: main thread, before any other thread exists; the parsed struct
 * is immutable afterwards.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld.h"

#define DEFAULT_REQUESTS 100000

static const char *const check_names[LD_NCHECKS] = {
    "tagged", "counter", "stats", "monotonic", "config", "liveness", "queue",
    "hash", "set", "zset", "bank", "monotonic-sum",
};
static const char *const op_names[LD_NOPS] = { "get", "set", "incr", "del", "mget" };

static const char *const bench_names[] = { "mix", "txn", "mget-mset" };

const char *ld_check_name(enum ld_check c) { return check_names[c]; }
unsigned ld_bench_cmds(enum ld_bench b) { return b == LD_BENCH_TXN ? 4 : b == LD_BENCH_MGET_MSET ? 2 : 1; }
const char *ld_op_name(enum ld_op op) { return op_names[op]; }

void ld_opts_usage(FILE *f)
{
    fputs(
"Usage: mmcache-load [options]\n"
"Drives a Redis-compatible server over RESP and checks its answers.\n"
"\n"
"Target:   --host H (127.0.0.1)  --port P (6379)  --server-pid PID\n"
"          --proxy  the target is a proxy (twemproxy) in front of several\n"
"                   servers: no stats, monotonic, config; no BRPOP\n"
"Load:     --clients N (50)  --threads T (2)  --pipeline P (1)\n"
"          --requests N and/or --duration S (default: --requests 100000)\n"
"          --keyspace N (10000)  --dist uniform|zipf[:THETA] (uniform; zipf: 0.99)\n"
"          --ratio GET:SET:INCR:DEL:MGET (50:30:10:5:5)  --mget-keys N (4)\n"
"          --value-size BYTES (64)  --key-prefix P (mmload)  --counters N (16)\n"
"          --fill   write every key once before the run (so GETs hit)\n"
"          --bench mix|txn|mget-mset (mix): txn: each request is MULTI, INCR,\n"
"                   INCR, EXEC on two keys; mget-mset: MSET of 8 keys, then\n"
"                   MGET of them; --pipeline counts those requests\n"
"Checkers: --check LIST  tagged,counter,stats,monotonic,config,liveness,\n"
"                         queue,hash,set,zset | all | none; and, not in all\n"
"                         (they need MULTI/EXEC): bank,monotonic-sum\n"
"          (default tagged,counter,liveness)\n"
"          --config-writer  this tool runs CONFIG SET generations itself\n"
"          --config-interval-ms N (0)  --info-interval-ms N (1)\n"
"          --reply-timeout MS (5000)  --connect-timeout MS (3000)\n"
"          --allow-errors   error replies do not fail the run\n"
"Output:   --json  --progress | --no-progress (default: when stderr is a tty)\n"
"          --seed N\n"
"Exit: 0 every enabled checker passed, 1 a checker or a connection failed,\n"
"2 usage error. See loadtest/README.md.\n", f);
}

static int fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

/* Whole-string unsigned number in [lo, hi]. */
static int num(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s == NULL || *s == '\0' || *s == '-')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* *out: the checkers enabled; *named: those named one by one (not by
 * "all"), which --proxy refuses rather than drops. */
static int parse_checks(const char *s, unsigned *out, unsigned *named)
{
    char buf[256], *tok, *save = NULL;
    unsigned bits = 0, by_name = 0;

    if (strlen(s) >= sizeof(buf))
        return -1;
    strcpy(buf, s);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int found = 0;

        if (strcmp(tok, "all") == 0) {
            bits |= ((1u << LD_NCHECKS) - 1) & ~LD_CHK_TXN_MASK;
            continue;
        }
        if (strcmp(tok, "none") == 0)
            continue;
        for (int c = 0; c < LD_NCHECKS; c++)
            if (strcmp(tok, check_names[c]) == 0) {
                bits |= 1u << c;
                by_name |= 1u << c;
                found = 1;
            }
        if (!found)
            return -1;
    }
    *out = bits;
    *named = by_name;
    return 0;
}

static int parse_ratio(const char *s, unsigned ratio[LD_NOPS])
{
    const char *p = s;
    unsigned sum = 0;

    for (int i = 0; i < LD_NOPS; i++) {
        char *end;
        unsigned long v;

        if (*p < '0' || *p > '9')
            return -1;
        v = strtoul(p, &end, 10);
        if (v > 1000000 || (i < LD_NOPS - 1 ? *end != ':' : *end != '\0'))
            return -1;
        ratio[i] = (unsigned)v;
        sum += (unsigned)v;
        p = end + 1;
    }
    return sum > 0 ? 0 : -1;
}

static int parse_dist(const char *s, double *theta)
{
    char *end;

    if (strcmp(s, "uniform") == 0) {
        *theta = 0;
        return 0;
    }
    if (strcmp(s, "zipf") == 0) {
        *theta = 0.99;
        return 0;
    }
    if (strncmp(s, "zipf:", 5) != 0)
        return -1;
    *theta = strtod(s + 5, &end);
    return (*end == '\0' && *theta > 0 && *theta < 1) ? 0 : -1;
}

static void defaults(struct ld_opts *o)
{
    static const unsigned ratio[LD_NOPS] = { 50, 30, 10, 5, 5 };

    memset(o, 0, sizeof(*o));
    strcpy(o->host, "127.0.0.1");
    o->port = 6379;
    o->clients = 50;
    o->threads = 2;
    o->pipeline = 1;
    o->keyspace = 10000;
    memcpy(o->ratio, ratio, sizeof(ratio));
    o->value_size = 64;
    strcpy(o->prefix, "mmload");
    o->mget_keys = 4;
    o->counters = 16;
    o->checks = 1u << LD_CHK_TAGGED | 1u << LD_CHK_COUNTER | 1u << LD_CHK_LIVENESS;
    o->info_interval_ms = 1;
    o->reply_timeout_ms = 5000;
    o->connect_timeout_ms = 3000;
    o->progress = -1;
    o->seed = 1;
}

/* Numeric options: name, range, and the field (4 or 8 bytes wide). */
struct num_opt {
    const char *name;
    uint64_t lo, hi;
    void *field;
    size_t size;
};

static int set_number(struct ld_opts *o, const char *name, const char *v,
                      char *err, size_t cap, bool *found)
{
#define N(name, lo, hi, f) { name, lo, hi, &o->f, sizeof(o->f) }
    const struct num_opt nums[] = {
        N("port", 1, 65535, port),
        N("clients", 1, 10000, clients),
        N("threads", 1, 256, threads),
        N("pipeline", 1, 4096, pipeline),
        N("requests", 1, UINT64_MAX / 2, requests),
        N("keyspace", 1, UINT32_MAX, keyspace),
        N("value-size", 1, 1 << 20, value_size),
        N("mget-keys", 1, LD_MGET_MAX, mget_keys),
        N("counters", 1, 65536, counters),
        N("config-interval-ms", 0, 60000, config_interval_ms),
        N("info-interval-ms", 0, 60000, info_interval_ms),
        N("reply-timeout", 1, 3600000, reply_timeout_ms),
        N("connect-timeout", 1, 600000, connect_timeout_ms),
        N("server-pid", 1, INT_MAX, server_pid),
        N("seed", 0, UINT64_MAX, seed),
    };
#undef N
    _Static_assert(sizeof(int) == 4 && sizeof(pid_t) == 4 && sizeof(size_t) == 8,
                   "numeric option fields are 4 or 8 bytes wide");

    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        const struct num_opt *d = &nums[i];
        uint64_t n;

        if (strcmp(name, d->name) != 0)
            continue;
        *found = true;
        if (num(v, d->lo, d->hi, &n) < 0)
            return fail(err, cap, "--%s: expected a number in [%llu, %llu], got '%s'",
                        name, (unsigned long long)d->lo, (unsigned long long)d->hi, v);
        if (d->size == 4) {
            uint32_t n32 = (uint32_t)n;     /* in range, so int and pid_t too */

            memcpy(d->field, &n32, 4);
        } else {
            memcpy(d->field, &n, 8);
        }
        return 0;
    }
    return 0;
}

/* One option with a value; returns 0, or -1 with err filled. */
static int set_value(struct ld_opts *o, const char *name, const char *v,
                     unsigned *named, char *err, size_t cap)
{
    bool found = false;
    int rc = set_number(o, name, v, err, cap, &found);

    if (found)
        return rc;
    if (strcmp(name, "host") == 0) {
        if (strlen(v) == 0 || strlen(v) >= sizeof(o->host))
            return fail(err, cap, "--host: bad host '%s'", v);
        strcpy(o->host, v);
    } else if (strcmp(name, "duration") == 0) {
        char *end;

        o->duration_s = strtod(v, &end);
        if (*end != '\0' || !(o->duration_s > 0) || o->duration_s > 86400)
            return fail(err, cap, "--duration: expected seconds in (0, 86400], got '%s'", v);
    } else if (strcmp(name, "dist") == 0) {
        if (parse_dist(v, &o->zipf) < 0)
            return fail(err, cap, "--dist: expected uniform, zipf or zipf:THETA (0 < THETA < 1), got '%s'", v);
    } else if (strcmp(name, "ratio") == 0) {
        if (parse_ratio(v, o->ratio) < 0)
            return fail(err, cap, "--ratio: expected GET:SET:INCR:DEL:MGET weights (not all 0), got '%s'", v);
    } else if (strcmp(name, "bench") == 0) {
        size_t b = 0;

        while (b < sizeof(bench_names) / sizeof(bench_names[0]) && strcmp(v, bench_names[b]) != 0)
            b++;
        if (b == sizeof(bench_names) / sizeof(bench_names[0]))
            return fail(err, cap, "--bench: expected mix, txn or mget-mset, got '%s'", v);
        o->bench = (enum ld_bench)b;
    } else if (strcmp(name, "key-prefix") == 0) {
        if (strlen(v) == 0 || strlen(v) > 48 || strpbrk(v, " \t\r\n|") != NULL)
            return fail(err, cap, "--key-prefix: 1..48 characters, no spaces or '|'");
        strcpy(o->prefix, v);
    } else if (strcmp(name, "check") == 0) {
        if (parse_checks(v, &o->checks, named) < 0)
            return fail(err, cap, "--check: unknown checker in '%s' (tagged,counter,stats,monotonic,config,liveness,queue,hash,set,zset,all,none,bank,monotonic-sum)", v);
    } else {
        return fail(err, cap, "unknown option --%s", name);
    }
    return 0;
}

static int set_flag(struct ld_opts *o, const char *name)
{
    if (strcmp(name, "json") == 0)
        o->json = true;
    else if (strcmp(name, "fill") == 0)
        o->fill = true;
    else if (strcmp(name, "allow-errors") == 0)
        o->allow_errors = true;
    else if (strcmp(name, "config-writer") == 0)
        o->config_writer = true;
    else if (strcmp(name, "proxy") == 0)
        o->proxy = true;
    else if (strcmp(name, "progress") == 0)
        o->progress = 1;
    else if (strcmp(name, "no-progress") == 0)
        o->progress = 0;
    else
        return -1;
    return 0;
}

/* --proxy: a checker named on the command line that needs one server's
 * INFO or CONFIG is a usage error that says why; "all" means those that
 * can run through the proxy. */
static int proxy_checks(struct ld_opts *o, unsigned named, char *err, size_t cap)
{
    unsigned refused = named & LD_PROXY_REFUSED;

    if (!o->proxy)
        return 0;
    if (o->config_writer)
        return fail(err, cap, "--proxy: --config-writer sends CONFIG SET, which a proxy does "
                    "not forward; change each node's config directly");
    for (int c = 0; c < LD_NCHECKS; c++)
        if (refused & 1u << c)
            return fail(err, cap, "--proxy: the %s checker cannot run through a proxy: it reads %s "
                        "of one server, a proxy spreads the keys over several and does not "
                        "forward %s (twemproxy closes the connection); run it against each "
                        "node directly", check_names[c],
                        c == LD_CHK_CONFIG ? "CONFIG GET" : "INFO",
                        c == LD_CHK_CONFIG ? "CONFIG" : "INFO");
    o->checks &= ~LD_PROXY_REFUSED;
    return 0;
}

int ld_opts_parse(struct ld_opts *o, int argc, char **argv, char *err, size_t cap)
{
    unsigned named = 0;

    defaults(o);
    for (int i = 1; i < argc; i++) {
        char name[64];
        const char *a = argv[i], *eq, *v;
        size_t nlen;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            ld_opts_usage(stdout);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0)
            return fail(err, cap, "unexpected argument '%s'", a);
        a += 2;
        eq = strchr(a, '=');
        nlen = eq != NULL ? (size_t)(eq - a) : strlen(a);
        if (nlen >= sizeof(name))
            return fail(err, cap, "unknown option --%s", a);
        memcpy(name, a, nlen);
        name[nlen] = '\0';
        if (eq == NULL && set_flag(o, name) == 0)
            continue;
        if (eq != NULL) {
            v = eq + 1;
        } else {
            if (i + 1 >= argc)
                return fail(err, cap, "--%s needs a value", name);
            v = argv[++i];
        }
        if (set_value(o, name, v, &named, err, cap) < 0)
            return -1;
    }
    if (proxy_checks(o, named, err, cap) < 0)
        return -1;
    if (o->requests == 0 && o->duration_s == 0)
        o->requests = DEFAULT_REQUESTS;
    if (o->threads > o->clients)
        o->threads = o->clients;
    if (o->config_writer && !(o->checks & 1u << LD_CHK_CONFIG))
        return fail(err, cap, "--config-writer goes with --check config");
    return 0;
}
