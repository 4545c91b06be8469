/*
 * mmcache-load: a load generator that checks the answers. main() runs the
 * phases in order: options, set-up on the control connection, the client
 * threads (watching the clock, SIGINT/SIGTERM and --server-pid meanwhile),
 * the final checks, the report. See ld_int.h for the threads and what they
 * share, loadtest/README.md for the checkers.
 *
 * Context: the main thread.
 */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ld_int.h"

#define WATCH_NS 50000000ull             /* main loop: every 50 ms */

/* Set by the SIGINT/SIGTERM handler, polled by main (async-signal-safe). */
static volatile sig_atomic_t got_signal;

static void on_signal(int sig) { got_signal = sig; }

static int resolve(struct ld_run *r, char *err, size_t cap)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res;
    char port[16];
    int rc;

    snprintf(port, sizeof(port), "%d", r->o->port);
    rc = getaddrinfo(r->o->host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, cap, "%s: %s", r->o->host, gai_strerror(rc));
        return -1;
    }
    memcpy(&r->addr, res->ai_addr, res->ai_addrlen);
    r->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* Connections of thread i: load connections i, i+T, ...; then one INFO
 * poller and one CONFIG GET reader per thread, the writer on thread 0;
 * with the queue checker, producer i and two consumers (RPOP, BRPOP);
 * then the hash and set checkers' clients (LD_COLL_CONNS each), the bank's
 * transfer clients and auditor, monotonic-sum's writers and reader. */
static int make_threads(struct ld_run *r)
{
    const struct ld_opts *o = r->o;
    bool cfg = ld__on(r, LD_CHK_CONFIG) && r->cfg_base_ok;
    bool bank = ld__on(r, LD_CHK_BANK) && r->txn_ok, msum = ld__on(r, LD_CHK_MSUM) && r->txn_ok;

    r->threads = calloc(o->threads, sizeof(*r->threads));
    if (r->threads == NULL)
        return -ENOMEM;
    for (unsigned i = 0; i < o->threads; i++)
        r->threads[i].epfd = -1;        /* free_threads() may meet any of them */
    for (unsigned i = 0; i < o->threads; i++) {
        struct ld_thread *t = &r->threads[i];
        unsigned nload = o->clients / o->threads + (i < o->clients % o->threads);
        unsigned *n = &t->nconns;       /* counts initialised connections */

        t->run = r;
        t->idx = i;
        t->epfd = epoll_create1(EPOLL_CLOEXEC);
        t->rng = o->seed * 0x9e3779b97f4a7c15ull + i + 1;
        t->scratch_cap = o->value_size + 256;
        t->scratch = malloc(t->scratch_cap);
        t->st.incr_acked = calloc(o->counters, sizeof(uint64_t));
        t->st.incr_unsure = calloc(o->counters, sizeof(uint64_t));
        t->st.incr_seen = calloc(o->counters ? o->counters : 1, sizeof(struct ld_vals));
        ld_hist_init(&t->st.lat);
        /* the load, INFO, two config, 3 per queue, the collection checkers',
         * the bank's transfer clients and auditor, the sum's writers and reader */
        t->conns = calloc(nload + 3 + 3 * LD_NQUEUES + 3 * LD_COLL_CONNS +
                          LD_BANK_CONNS + 1 + LD_MSUM_WRITERS + 1, sizeof(*t->conns));
        if (t->epfd < 0 || t->scratch == NULL || t->st.incr_acked == NULL ||
            t->st.incr_unsure == NULL || t->st.incr_seen == NULL || t->conns == NULL)
            return -ENOMEM;
        for (unsigned j = 0; j < nload; j++) {
            struct ld_conn *c = &t->conns[*n];
            uint32_t id = i + j * o->threads;

            if (ld__conn_init(c, t, LD_CONN_LOAD) < 0)
                return -ENOMEM;
            (*n)++;
            c->id = id;
            c->budget = o->requests == 0 ? UINT64_MAX
                      : o->requests / o->clients + (id < o->requests % o->clients);
        }
        if (ld__on(r, LD_CHK_MONOTONIC)) {
            if (ld__conn_init(&t->conns[*n], t, LD_CONN_INFO) < 0)
                return -ENOMEM;
            (*n)++;
        }
        if (cfg) {
            if (ld__conn_init(&t->conns[*n], t, LD_CONN_CFG_READ) < 0)
                return -ENOMEM;
            (*n)++;
        }
        if (cfg && o->config_writer && i == 0) {
            if (ld__conn_init(&t->conns[*n], t, LD_CONN_CFG_WRITE) < 0)
                return -ENOMEM;
            t->conns[(*n)++].cfg_k = r->cfg_base_k;
        }
        for (unsigned q = 0; q < 3 * LD_NQUEUES; q++) {   /* a list's, a sorted set's */
            struct ld_conn *c = &t->conns[*n];
            enum ld_queue which = q < 3 ? LD_Q_LIST : LD_Q_ZSET;
            if (!ld__on(r, which == LD_Q_LIST ? LD_CHK_QUEUE : LD_CHK_ZSET))
                continue;
            if (ld__conn_init(c, t, q % 3 == 0 ? LD_CONN_QPUSH : LD_CONN_QPOP) < 0)
                return -ENOMEM;
            (*n)++;
            c->id = i;                /* producer i */
            c->q_which = which;
            /* one consumer blocking (BRPOP/BZPOPMIN), one not; a proxy
             * forwards no blocking command (twemproxy refuses them) */
            c->q_block = q % 3 == 2 && !o->proxy;
        }
        for (unsigned j = 0; ld__on(r, LD_CHK_HASH) && j < LD_COLL_CONNS; j++) {
            if (ld__conn_init(&t->conns[*n], t, LD_CONN_HASH) < 0 ||
                ld__hash_init(&t->conns[*n], i * LD_COLL_CONNS + j) < 0)
                return -ENOMEM;
            (*n)++;
        }
        for (unsigned j = 0; ld__on(r, LD_CHK_SET) && j < LD_COLL_CONNS; j++) {
            if (ld__conn_init(&t->conns[*n], t, LD_CONN_SET) < 0 ||
                ld__set_init(&t->conns[*n], i * LD_COLL_CONNS + j) < 0)
                return -ENOMEM;
            (*n)++;
        }
        for (unsigned j = 0; ld__on(r, LD_CHK_ZSET) && j < LD_COLL_CONNS; j++) {
            if (ld__conn_init(&t->conns[*n], t, LD_CONN_ZSET) < 0 ||
                ld__zset_init(&t->conns[*n], i * LD_COLL_CONNS + j) < 0)
                return -ENOMEM;
            (*n)++;
        }
        /* the bank's transfer clients and auditor; the sum's writers and
         * reader (only when the server took MULTI at set-up) */
        for (unsigned j = 0; bank && j <= LD_BANK_CONNS; j++) {
            enum ld_conn_kind kind = j < LD_BANK_CONNS ? LD_CONN_BANK : LD_CONN_AUDIT;
            if (ld__conn_init(&t->conns[*n], t, kind) < 0 ||
                ld__bank_init(&t->conns[*n], kind == LD_CONN_AUDIT ? i
                              : i * LD_BANK_CONNS + j) < 0)
                return -ENOMEM;
            (*n)++;
        }
        for (unsigned j = 0; msum && j <= LD_MSUM_WRITERS; j++) {
            enum ld_conn_kind kind = j < LD_MSUM_WRITERS ? LD_CONN_MSUM_W : LD_CONN_MSUM_R;
            if (ld__conn_init(&t->conns[*n], t, kind) < 0 ||
                ld__msum_init(&t->conns[*n], kind == LD_CONN_MSUM_R ? i
                              : i * LD_MSUM_WRITERS + j) < 0)
                return -ENOMEM;
            (*n)++;
        }
    }
    return 0;
}

static void free_threads(struct ld_run *r)
{
    if (r->threads == NULL)
        return;
    for (unsigned i = 0; i < r->o->threads; i++) {
        struct ld_thread *t = &r->threads[i];

        for (unsigned j = 0; j < t->nconns; j++)
            ld__conn_free(&t->conns[j]);
        if (t->epfd >= 0)
            close(t->epfd);
        free(t->conns);
        free(t->scratch);
        free(t->st.incr_acked);
        free(t->st.incr_unsure);
        for (unsigned c = 0; t->st.incr_seen != NULL && c < r->o->counters; c++)
            free(t->st.incr_seen[c].v);
        free(t->st.incr_seen);
    }
    free(r->threads);
}

/* Is the server process still there? A zombie has exited: only its parent
 * (the script that started it) can collect the status and the signal. */
static bool server_alive(pid_t pid, char *why, size_t cap)
{
    char path[64], buf[512], *p;
    FILE *f;

    if (kill(pid, 0) < 0 && errno == ESRCH) {
        snprintf(why, cap, "server pid %d is gone (exited; its parent has the status)", (int)pid);
        return false;
    }
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return true;
    p = fgets(buf, sizeof(buf), f) != NULL ? strrchr(buf, ')') : NULL;
    fclose(f);
    if (p != NULL && (p[2] == 'Z' || p[2] == 'X')) {
        snprintf(why, cap, "server pid %d exited (a zombie until its parent collects "
                 "the status and signal)", (int)pid);
        return false;
    }
    return true;
}

static uint64_t total_ops(const struct ld_run *r)
{
    uint64_t n = 0;

    for (unsigned i = 0; i < r->o->threads; i++)
        n += atomic_load_explicit(&r->threads[i].st.ops, memory_order_relaxed);
    return n;
}

/* While the client threads run: deadline, signals, the server PID, progress. */
static void watch(struct ld_run *r)
{
    const struct ld_opts *o = r->o;
    bool progress = o->progress == 1 || (o->progress == -1 && isatty(STDERR_FILENO));
    uint64_t deadline = o->duration_s > 0 ? r->start_ns + (uint64_t)(o->duration_s * 1e9) : 0;
    uint64_t last_print = r->start_ns, last_ops = 0;
    struct timespec pause = { 0, (long)WATCH_NS };
    char why[LD_LINE];

    while (atomic_load_explicit(&r->threads_active, memory_order_relaxed) > 0) {
        uint64_t now;

        nanosleep(&pause, NULL);
        now = ld__now_ns();
        if ((got_signal || (deadline && now >= deadline)) &&
            !atomic_load_explicit(&r->stop, memory_order_relaxed))
            atomic_store_explicit(&r->stop, true, memory_order_relaxed);
        if (o->server_pid > 0 && !r->server_gone && !server_alive(o->server_pid, why, sizeof(why))) {
            r->server_gone = true;
            ld__error(r, "server gone", "%s, %.2f s into the run", why,
                      (double)(now - r->start_ns) / 1e9);
            if (ld__on(r, LD_CHK_LIVENESS))
                ld__fail(r, LD_CHK_LIVENESS, "%s, %.2f s into the run", why,
                         (double)(now - r->start_ns) / 1e9);
            atomic_fetch_add_explicit(&r->conn_failures, 1, memory_order_relaxed);
            atomic_store_explicit(&r->stop, true, memory_order_relaxed);
        }
        if (progress && now - last_print >= 1000000000ull) {
            uint64_t ops = total_ops(r);

            ld__progress(r, (double)(now - r->start_ns) / 1e9, ops,
                         (double)(ops - last_ops) * 1e9 / (double)(now - last_print));
            last_print = now;
            last_ops = ops;
        }
    }
    if (progress)
        fputc('\n', stderr);
}

static int run_threads(struct ld_run *r)
{
    unsigned started = 0;
    int rc = 0;

    atomic_store(&r->threads_active, r->o->threads);
    atomic_store(&r->load_active, r->nload);
    r->start_ns = ld__now_ns();
    for (; started < r->o->threads; started++)
        if (pthread_create(&r->threads[started].tid, NULL, ld__thread_main,
                           &r->threads[started]) != 0) {
            /* the ones running stop at once; the rest never count */
            atomic_store(&r->stop, true);
            atomic_fetch_sub(&r->threads_active, r->o->threads - started);
            ld__error(r, "thread", "pthread_create failed");
            rc = -1;
            break;
        }
    watch(r);
    for (unsigned i = 0; i < started; i++)
        pthread_join(r->threads[i].tid, NULL);
    r->end_ns = r->start_ns;
    for (unsigned i = 0; i < started; i++)
        if (r->threads[i].st.last_reply_ns > r->end_ns)
            r->end_ns = r->threads[i].st.last_reply_ns;
    return rc;
}

/* Before any load ran: every checker but liveness has nothing to say. */
static void skip_all(struct ld_run *r, const char *why)
{
    for (int c = 0; c < LD_NCHECKS; c++)
        if (c != LD_CHK_LIVENESS)
            ld__skip(r, (enum ld_check)c, "no load ran: %s", why);
}

int main(int argc, char **argv)
{
    static struct ld_opts opts;         /* immutable once parsed */
    struct ld_run run = { .o = &opts };
    struct sigaction sa = { .sa_handler = on_signal };
    struct ld_ctl *ctl = NULL;
    char err[LD_LINE];
    int rc, code = 1;

    rc = ld_opts_parse(&opts, argc, argv, err, sizeof(err));
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "mmcache-load: %s\nTry 'mmcache-load --help'.\n", err);
        return rc > 0 ? 0 : 2;
    }
    {
        /* one descriptor per connection: take what the hard limit allows */
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
            rl.rlim_cur = rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
        }
    }
    signal(SIGPIPE, SIG_IGN);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    pthread_mutex_init(&run.lock, NULL);
    run.nload = opts.clients;
    run.max_seq = calloc(run.nload + 1, sizeof(*run.max_seq));
    run.nhash = ld__on(&run, LD_CHK_HASH) ? opts.threads * LD_COLL_CONNS : 0;
    run.nset = ld__on(&run, LD_CHK_SET) ? opts.threads * LD_COLL_CONNS : 0;
    run.nzset = ld__on(&run, LD_CHK_ZSET) ? opts.threads * LD_COLL_CONNS : 0;
    run.nbank = ld__on(&run, LD_CHK_BANK) ? opts.threads * LD_BANK_CONNS : 0;
    run.hash_max_seq = calloc(run.nhash + 1, sizeof(*run.hash_max_seq));
    if (run.max_seq == NULL || run.hash_max_seq == NULL || ld_dist_init(&run.dist, opts.keyspace, opts.zipf) < 0) {
        fprintf(stderr, "mmcache-load: out of memory\n");
        goto out;
    }
    if (resolve(&run, err, sizeof(err)) < 0) {
        fprintf(stderr, "mmcache-load: cannot resolve %s\n", err);
        goto out;
    }
    ctl = ld__ctl_open(&run, err, sizeof(err));
    if (ctl == NULL) {
        ld__error(&run, "connect", "control connection: %s", err);
        atomic_fetch_add(&run.conn_failures, 1);
        if (ld__on(&run, LD_CHK_LIVENESS))
            ld__fail(&run, LD_CHK_LIVENESS, "control connection: %s", err);
        skip_all(&run, "cannot connect");
    } else if ((ld__on(&run, LD_CHK_QUEUE) && ld__queue_init(&run, LD_Q_LIST) < 0) ||
               (ld__on(&run, LD_CHK_ZSET) && ld__queue_init(&run, LD_Q_ZSET) < 0)) {
        fprintf(stderr, "mmcache-load: out of memory\n");
        goto out;
    } else if (ld__setup(&run, ctl) < 0) {
        atomic_fetch_add(&run.conn_failures, 1);
        skip_all(&run, "the set-up failed");
    } else if (make_threads(&run) < 0) {
        fprintf(stderr, "mmcache-load: out of memory\n");
        goto out;
    } else {
        run_threads(&run);
        ld__final(&run, ctl);
    }
    code = ld__report(&run);
out:
    ld__ctl_close(ctl);
    free_threads(&run);
    free(run.max_seq);
    ld__queue_free(&run);
    free(run.hash_max_seq);
    pthread_mutex_destroy(&run.lock);
    return code;
}
