/*
 * mmcache-load internals: one run, its client threads, their connections
 * and the checkers' shared state.
 *
 * Threads:
 *   main      parses options, prepares the keyspace on its own blocking
 *             control connection (ctl.c), starts the client threads, watches
 *             the clock, the server PID and SIGINT, prints progress, joins,
 *             runs the final checks and the report.
 *   client    `--threads` of them, each an epoll loop over its share of
 *             connections: load connections (the workload), and the
 *             checkers' own connections (one INFO poller and one CONFIG GET
 *             reader per thread, the CONFIG SET writer on thread 0).
 *
 * What crosses threads is listed in struct ld_run with its rule; everything
 * in struct ld_thread and ld_conn is owned by its client thread while it
 * runs and read by main only after pthread_join() (which orders it).
 *
 * Lock: ld_run.lock only, a leaf: nothing else is locked or called out
 * under it. It guards the rare paths (a failure's evidence, an error kind).
 */
#ifndef MMCACHE_LD_INT_H
#define MMCACHE_LD_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <hiredis/hiredis.h>

#include "ld.h"

#define LD_EVIDENCE_MAX 5            /* failures kept per checker */
#define LD_LINE 384                  /* one evidence line */
#define LD_ERRKINDS_MAX 32
#define LD_OWN_CACHE 256             /* own-write cache per connection */
#define LD_PRIVATE UINT32_MAX        /* INCR of the client's own counter */
#define LD_GEN_NONE INT64_MIN        /* a config field outside the convention */
#define LD_CFG_TIMEOUT_BASE 3600ull
#define LD_CFG_MAXMEM_BASE 1099511627776ull     /* 2^40 */
#define LD_QUEUE_KEYS 2                  /* <prefix>:q:0 and :1 (sorted sets: :y:) */
#define LD_QUEUE_MAX (1u << 18)          /* elements a producer pushes at most */

/* What a request was, beyond the workload's enum ld_op. */
enum ld_kind {
    LD_K_INFO = LD_NOPS, LD_K_CFG_GET, LD_K_CFG_SET,
    LD_K_LPUSH, LD_K_RPOP, LD_K_BRPOP,                          /* queue.c */
    LD_K_HSET, LD_K_HGET, LD_K_HINCRBY, LD_K_HGETALL,           /* hashchk.c */
    LD_K_SADD, LD_K_SREM, LD_K_SISMEMBER, LD_K_SMEMBERS,       /* setchk.c */
    LD_K_ZADD, LD_K_ZINCRBY, LD_K_ZREM, LD_K_ZSCORE, LD_K_ZRANGE, /* zsetchk.c */
    LD_K_ZQADD, LD_K_ZPOPMIN, LD_K_BZPOPMIN,                    /* queue.c, sorted sets */
    LD_K_MULTI, LD_K_QUEUED, LD_K_EXEC, LD_K_WATCH,             /* bank.c, msum.c */
    LD_K_BGET, LD_K_AUDIT_MGET, LD_K_MS_INCRBY, LD_K_MS_MGET,
    LD_K_B_MSET, LD_K_B_MGET,                                   /* bench.c */
};

/* The queues of queue.c: a list (the queue checker) and a sorted set
 * whose scores are the seqs (the zset checker's ZPOPMIN part). */
enum ld_queue { LD_Q_LIST, LD_Q_ZSET, LD_NQUEUES };

/* One outstanding request: what its reply must be checked against. */
struct ld_req {
    uint8_t kind;                    /* enum ld_op or enum ld_kind */
    uint8_t nkeys;                   /* MGET */
    uint32_t counter;                /* INCR: shared index or LD_PRIVATE */
    uint32_t keys[LD_MGET_MAX];      /* GET/SET/DEL use keys[0] */
    uint64_t seq;                    /* SET: seq written; GET/MGET: see workload.c */
    int64_t gen;                     /* CFG_SET: k written; CFG_GET: k acked at send */
    uint64_t sent_ns;
};

enum ld_conn_kind {
    LD_CONN_LOAD, LD_CONN_INFO, LD_CONN_CFG_READ, LD_CONN_CFG_WRITE,
    LD_CONN_QPUSH, LD_CONN_QPOP,     /* the queue checker's producer / consumers */
    LD_CONN_HASH, LD_CONN_SET,       /* a client of the hash / set checker */
    LD_CONN_ZSET,                    /* a client of the zset checker (its own members) */
    LD_CONN_BANK, LD_CONN_AUDIT,     /* the bank checker's transfer client / auditor */
    LD_CONN_MSUM_W, LD_CONN_MSUM_R,  /* monotonic-sum's writer / reader */
};

/* The transaction checkers (bank.c, msum.c): per client thread this many
 * transfer clients and one auditor; two writers and one reader. */
#define LD_BANK_CONNS 2
#define LD_BANK_ACCOUNTS 16
#define LD_BANK_INITIAL 1000             /* each account's balance at the start */
#define LD_BANK_MAX_TRIES 1000           /* a WATCH retry loop gives up after this */
#define LD_MSUM_WRITERS 2
#define LD_MSUM_COUNTERS 8
#define LD_TXN_PIPE (LD_BANK_ACCOUNTS + 4)   /* replies one transaction awaits, at most */

/* The hash and set checkers' clients: this many per client thread, each
 * working on this many keys shared by all of them. */
#define LD_COLL_CONNS 2
#define LD_COLL_KEYS 4
enum ld_conn_state { LD_CS_IDLE, LD_CS_CONNECTING, LD_CS_OPEN, LD_CS_CLOSED };

#define LD_MONO_NFIELDS 10

/* Owned by: its client thread (main reads it after join). */
struct ld_conn {
    struct ld_thread *t;
    enum ld_conn_kind kind;
    enum ld_conn_state state;
    int fd;
    uint32_t id;                     /* LOAD: client id, the writer id in values */
    redisReader *rd;
    char *out;                       /* requests not yet written */
    size_t out_len, out_off, out_cap;
    bool want_out;                   /* EPOLLOUT registered */
    struct ld_req *fifo;             /* ring of outstanding requests */
    unsigned head, count, cap;
    uint64_t budget;                 /* LOAD: requests left to issue */
    uint64_t seq;                    /* LOAD: last SET seq */
    uint64_t deadline_ns;            /* CONNECTING: connect deadline */
    uint64_t next_ns;                /* INFO/CFG: next request not before */
    /* counter checker */
    uint64_t priv_acked, priv_unsure;
    int64_t priv_last;               /* last reply for the private counter */
    int64_t *shared_last;            /* [counters] last reply per shared counter */
    /* tagged checker: the last acknowledged SET of a few keys */
    struct { uint32_t key; uint64_t seq; } own[LD_OWN_CACHE];
    /* monotonic checker */
    uint64_t mono_last[LD_MONO_NFIELDS];
    bool mono_have[LD_MONO_NFIELDS];
    /* config checker */
    int64_t cfg_last_k;
    int64_t cfg_k;                   /* CFG_WRITE: last k sent */
    /* queue checker (queue.c) */
    enum ld_queue q_which;           /* QPUSH/QPOP: a list, or a sorted set */
    uint64_t q_acked, q_unsure;      /* QPUSH: pushes answered / unanswered */
    uint64_t *q_last;                /* QPOP: [producers * LD_QUEUE_KEYS] last seq
                                        popped from each producer and key */
    bool q_block;                    /* QPOP: BRPOP (BZPOPMIN), else RPOP (ZPOPMIN) */
    unsigned q_next;                 /* QPOP: the next key to pop */
    /* hash / set checker: this client's model (hashchk.c, setchk.c);
     * freed with the connection */
    void *model;
};

/* Values an INCR of a shared counter answered, in arrival order. Every
 * INCR of a counter must be given a value no other INCR got: a value
 * given twice is a lost update seen in the replies themselves, so it
 * counts even when the server dies or hangs before the counters can be
 * read back. At most LD_INCR_SEEN_MAX values a counter and thread. */
#define LD_INCR_SEEN_MAX (1u << 22)
struct ld_vals {
    int64_t *v;
    size_t n, cap;
};

/* Owned by: its client thread; `ops` also read by the progress line. */
struct ld_tstats {
    _Atomic uint64_t ops;            /* atomic: relaxed; owner adds, progress reads */
    uint64_t by_op[LD_NOPS];         /* workload replies by op */
    uint64_t commands;               /* every replied command (stats checker) */
    uint64_t unsure;                 /* sent, never answered: may have run */
    uint64_t bench_done;             /* --bench txn / mget-mset: requests whose
                                        last reply (EXEC, MGET) checked out */
    uint64_t hits, misses;           /* GET/MGET keys found / not found */
    uint64_t coll_hits;              /* the hash and set checkers' reads: each one
                                        keyspace hit (their keys always exist) */
    uint64_t unsure_keys;            /* GET/MGET keys of unanswered requests */
    uint64_t *incr_acked;            /* [counters] INCRs acknowledged */
    uint64_t *incr_unsure;           /* [counters] INCRs sent, never answered */
    struct ld_vals *incr_seen;       /* [counters] the shared counters' INCR replies */
    uint64_t info_reads, cfg_gets, cfg_sets;
    uint64_t q_popped[LD_NQUEUES];   /* elements popped by RPOP (ZPOPMIN) */
    uint64_t q_bpopped[LD_NQUEUES];  /* ... by BRPOP (BZPOPMIN) */
    uint64_t q_unsure_pops[LD_NQUEUES];   /* pops sent, never answered: may have taken one */
    uint64_t last_reply_ns;
    struct ld_hist lat;              /* workload latency, ns */
};

struct ld_run;

struct ld_thread {
    struct ld_run *run;              /* immutable */
    unsigned idx;                    /* immutable */
    pthread_t tid;
    int epfd;                        /* owned by: this thread */
    struct ld_conn *conns;           /* owned by: this thread */
    unsigned nconns;
    uint64_t rng;                    /* owned by: this thread */
    char *scratch;                   /* owned by: this thread; value encoding */
    size_t scratch_cap;
    struct ld_tstats st;
};

/* Guarded by: ld_run.lock */
struct ld_checker {
    uint64_t failures;
    unsigned nevidence;
    char evidence[LD_EVIDENCE_MAX][LD_LINE];
    char skipped[LD_LINE];           /* non-empty: the checker could not run */
    char detail[LD_LINE];            /* written by main after join */
};

/* Guarded by: ld_run.lock */
struct ld_errkind {
    char kind[64];
    uint64_t count;
    char example[LD_LINE];
};

struct ld_run {
    const struct ld_opts *o;         /* immutable */
    struct ld_dist dist;             /* immutable once threads run */
    struct sockaddr_storage addr;    /* immutable once threads run */
    socklen_t addrlen;
    struct ld_thread *threads;       /* immutable once threads run */
    unsigned nload;                  /* load connections (= clients) */

    /* Requests to stop issuing; no data rides on them. */
    _Atomic bool stop;               /* atomic: relaxed; main/signal sets, threads poll */
    _Atomic unsigned load_active;    /* atomic: relaxed; load conns not finished */
    _Atomic unsigned threads_active; /* atomic: relaxed; main polls, then joins */
    /* Progress-line and exit-code tallies (also counted under lock). */
    _Atomic uint64_t failures;       /* atomic: relaxed */
    _Atomic uint64_t errors;         /* atomic: relaxed; error replies */
    _Atomic uint64_t conn_failures;  /* atomic: relaxed */
    /*
     * Highest seq each writer (clients, plus the filler at index clients)
     * has put in a SET: release-stored before the SET is written to its
     * socket, acquire-loaded by a reader that received the value, so a seq
     * above it cannot come from this run's writer.
     */
    _Atomic uint64_t *max_seq;
    /*
     * Config generation k whose CONFIG SET the writer has seen acknowledged.
     * Relaxed: a reader loads it before sending CONFIG GET, and what makes
     * "acked before sent" true is the order of the two events in real time
     * (the ack was read, then the load saw it), not any data it publishes.
     */
    _Atomic int64_t cfg_acked_k;
    _Atomic bool cfg_refused;        /* atomic: relaxed; the server said no */
    /* The hash checker's writers (its clients 0..nhash-1): as max_seq,
     * release-stored before an HSET is written, acquire-loaded by a
     * reader of the value. */
    _Atomic uint64_t *hash_max_seq;
    unsigned nhash, nset;            /* immutable once threads run: the hash and
                                        set checkers' clients */
    /* The transaction checkers. txn_ok: MULTI was accepted at set-up
     * (immutable once threads run); without it their clients never start.
     * msum_acked: increments monotonic-sum's writers had acknowledged;
     * relaxed: a reader loads it before sending a read, and what makes
     * "acknowledged before the read was sent" true is the real-time order
     * of the ack and the load, as for cfg_acked_k. */
    bool txn_ok;
    unsigned nbank;                  /* immutable once threads run: transfer clients */
    _Atomic uint64_t msum_acked;

    /*
     * The queues (queue.c), a list and a sorted set: producer p (one per
     * client thread) pushes seqs 0, 1, 2, ... Its highest sent seq + 1 is
     * release-stored before the push is written, acquire-loaded by a
     * consumer that got an element of p. popped[p * LD_QUEUE_MAX + seq]
     * counts the pops of each element (any consumer thread, relaxed
     * fetch_add: only the counts matter, read by main after join).
     */
    struct ld_queue_state {
        unsigned nprod;              /* immutable once threads run */
        _Atomic uint64_t *sent;      /* [nprod] */
        _Atomic uint8_t *popped;     /* [nprod * LD_QUEUE_MAX] */
    } q[LD_NQUEUES];
    unsigned nzset;                  /* immutable once threads run: the zset
                                        checker's own-member clients */

    pthread_mutex_t lock;            /* leaf lock, see the top of this file */
    struct ld_checker chk[LD_NCHECKS];           /* guarded by: lock */
    struct ld_errkind errs[LD_ERRKINDS_MAX];     /* guarded by: lock */
    unsigned nerrs;                              /* guarded by: lock */

    /* Set by main before the threads start; immutable while they run. */
    bool cfg_base_ok;                /* CONFIG GET worked at set-up */
    uint64_t cfg_base_timeout, cfg_base_maxmem;
    int64_t cfg_base_k;              /* the baseline's generation (0 if none) */
    uint64_t start_ns;

    /* Main thread only. */
    uint64_t end_ns;
    uint64_t ctl_commands, ctl_hits, ctl_misses;   /* after the stats baseline */
    uint64_t info_base[3];           /* total_commands_processed, hits, misses */
    long long base_clients;          /* connected_clients at the baseline */
    bool server_gone;
};

/* ---- check.c: verdicts, evidence, errors (any thread) ---- */
static inline bool ld__on(const struct ld_run *r, enum ld_check c)
{
    return (r->o->checks & (1u << c)) != 0;
}
void ld__fail(struct ld_run *r, enum ld_check c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ld__skip(struct ld_run *r, enum ld_check c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ld__error(struct ld_run *r, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
uint64_t ld__now_ns(void);

/* ---- conn.c: non-blocking connections (client thread) ---- */
int ld__conn_init(struct ld_conn *c, struct ld_thread *t, enum ld_conn_kind kind);
void ld__conn_free(struct ld_conn *c);
int ld__conn_start(struct ld_conn *c);
void ld__conn_event(struct ld_conn *c, uint32_t events);
int ld__conn_flush(struct ld_conn *c);
void ld__conn_lost(struct ld_conn *c, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ld__conn_close(struct ld_conn *c);
struct ld_req *ld__req_push(struct ld_conn *c, uint8_t kind);
void ld__out_array(struct ld_conn *c, unsigned n);
void ld__out_bulk(struct ld_conn *c, const char *p, size_t n);
void ld__out_u64(struct ld_conn *c, uint64_t v);
/* Decimal digits of v into buf (no terminator); returns the count. */
size_t ld__u64_str(char *buf, uint64_t v);
const char *ld__kind_name(uint8_t kind);

/* ---- worker.c: the client thread ---- */
void *ld__thread_main(void *arg);
/* Issue what the connection may issue now (client thread). */
void ld__conn_issue(struct ld_conn *c, uint64_t now);

/* ---- per-kind request building and reply checking (client thread) ---- */
size_t ld__key(const struct ld_run *r, char *buf, char kind, uint64_t n);
void ld__load_issue(struct ld_conn *c);
void ld__load_reply(struct ld_conn *c, const struct ld_req *q, const redisReply *rep);
void ld__load_unsure(struct ld_conn *c, const struct ld_req *q);
/* An error reply: counted as an error of its kind ("WRONGTYPE (HGET)"),
 * naming key; a reply of the wrong type: the connection is lost. */
void ld__reply_error(struct ld_conn *c, const struct ld_req *q, const redisReply *rep,
                     const char *key);
void ld__reply_unexpected(struct ld_conn *c, const struct ld_req *q, const redisReply *rep);
/* A score reply (a bulk string): the double it says, or false when it is
 * not a number, whole ("5abc" is not). */
bool ld__reply_double(const redisReply *e, double *d);
/* A value read back for `key` (the key its tag must name): an intact
 * tagged value from a writer 0..nwriters-1 with a seq it really sent
 * (max_seq[writer], acquire), and, when written by this client (c->id),
 * not older than own_min (its own write acknowledged before the read).
 * Failures are charged to checker chk, with the evidence. */
void ld__check_tagged(struct ld_conn *c, enum ld_check chk, const char *cmd,
                      const char *key, size_t klen, const char *val, size_t len,
                      _Atomic uint64_t *max_seq, uint32_t nwriters, uint64_t own_min);
void ld__info_issue(struct ld_conn *c);
void ld__info_reply(struct ld_conn *c, const redisReply *rep);
void ld__cfg_issue(struct ld_conn *c);
void ld__queue_issue(struct ld_conn *c);
void ld__queue_reply(struct ld_conn *c, const struct ld_req *q, const redisReply *rep);
void ld__queue_unsure(struct ld_conn *c, const struct ld_req *q);
int ld__queue_init(struct ld_run *r, enum ld_queue which);
void ld__queue_free(struct ld_run *r);
void ld__cfg_reply(struct ld_conn *c, const struct ld_req *q, const redisReply *rep);
/* "k" of one config field under the convention, or LD_GEN_NONE. */
int64_t ld__cfg_gen(uint64_t value, uint64_t base);
/* Find "field:" at a line start in INFO text; 0, -ENOENT, or -EINVAL
 * (present but not a number). */
int ld__info_field(const char *info, size_t len, const char *field, uint64_t *out);

/* ---- hashchk.c, setchk.c: the hash and set checkers ---- */
int ld__hash_init(struct ld_conn *c, uint32_t id);     /* its model; -ENOMEM */
void ld__hash_issue(struct ld_conn *c);
void ld__hash_reply(struct ld_conn *c, const struct ld_req *q, const redisReply *rep);
void ld__hash_unsure(struct ld_conn *c, const struct ld_req *q);
int ld__set_init(struct ld_conn *c, uint32_t id);
void ld__set_issue(struct ld_conn *c);
void ld__set_reply(struct ld_conn *c, const struct ld_req *q, const redisReply *rep);
void ld__set_unsure(struct ld_conn *c, const struct ld_req *q);
int ld__zset_init(struct ld_conn *c, uint32_t id);
void ld__zset_issue(struct ld_conn *c);
void ld__zset_reply(struct ld_conn *c, const struct ld_req *q, const redisReply *rep);
void ld__zset_unsure(struct ld_conn *c, const struct ld_req *q);
/* "<prefix>:h:<n>" / ":s:" / ":z:": the checkers' keys (collchk.c) */
size_t ld__coll_key(const struct ld_run *r, char *buf, char kind, unsigned n);
void ld__coll_error(struct ld_conn *c, const struct ld_req *q, const redisReply *rep);
/* A command's header, its name and key n of the kind: argc in all. */
void ld__coll_cmd(struct ld_conn *c, unsigned argc, const char *name, char kind, unsigned n);

/* ---- bench.c: --bench txn and mget-mset, on load connections ---- */
void ld__bench_issue(struct ld_conn *c);
void ld__bench_reply(struct ld_conn *c, const struct ld_req *q, const redisReply *rep);

/* ---- bank.c, msum.c: the transaction checkers ---- */
int ld__bank_init(struct ld_conn *c, uint32_t id);     /* its model; -ENOMEM */
void ld__bank_issue(struct ld_conn *c);
void ld__bank_reply(struct ld_conn *c, const struct ld_req *q, const redisReply *rep);
void ld__bank_unsure(struct ld_conn *c, const struct ld_req *q);
int ld__msum_init(struct ld_conn *c, uint32_t id);
void ld__msum_issue(struct ld_conn *c);
void ld__msum_reply(struct ld_conn *c, const struct ld_req *q, const redisReply *rep);
void ld__msum_unsure(struct ld_conn *c, const struct ld_req *q);
/* What both share: MULTI and EXEC requests, a status reply check, and an
 * integer out of a reply (a bulk string GET returns, or an integer). */
void ld__txn_cmd(struct ld_conn *c, uint8_t kind, const char *name);
/* Read keys <prefix>:<kind>:0..n-1 at once: one MGET (request kind
 * mget_kind), or MULTI, GET each, EXEC. Returns the request whose reply
 * holds the n values (the MGET or the EXEC). */
struct ld_req *ld__txn_read_issue(struct ld_conn *c, char kind, unsigned n, bool mget,
                                  uint8_t mget_kind);
bool ld__txn_status(const redisReply *rep, const char *want);
bool ld__txn_int(const redisReply *rep, int64_t *out);
/* "bulk/int type NAME 'excerpt'": a reply, for evidence lines. */
void ld__txn_show(char *buf, size_t cap, const redisReply *rep);

/* ---- ctl.c: main's blocking control connection ---- */
struct ld_ctl;
struct ld_ctl *ld__ctl_open(struct ld_run *r, char *err, size_t cap);
void ld__ctl_close(struct ld_ctl *k);
/* One command; NULL on a connection failure (err filled). */
redisReply *ld__ctl_cmd(struct ld_ctl *k, char *err, size_t cap, int argc,
                        const char **argv);
/* Send n formatted commands in one write, read their n replies and hand
 * each to check(arg, i, reply) (a non-zero return stops it). Returns 0,
 * or -1 with err filled (connection failure or check's refusal). */
int ld__ctl_pipeline(struct ld_ctl *k, char **cmds, const int *lens, unsigned n,
                     int (*check)(void *arg, unsigned i, const redisReply *rep),
                     void *arg, char *err, size_t cap);

/* ---- phases.c, final.c: set-up and final checks, run by main ---- */
int ld__setup(struct ld_run *r, struct ld_ctl *k);
/* total_commands_processed, keyspace_hits, keyspace_misses and (if not
 * NULL) connected_clients from one INFO; 0 or -1 with err filled. */
int ld__read_info(struct ld_ctl *k, uint64_t out[3], long long *clients, char *err,
                  size_t cap);
/* k is NULL when the control connection is gone. */
void ld__final(struct ld_run *r, struct ld_ctl *k);
/* queue.c: the lists (sorted sets) read back (what is left must be what
 * was pushed and not popped, in order) and the verdict. */
void ld__queue_final(struct ld_run *r, struct ld_ctl *k, enum ld_queue which);
/* The hash and set checkers' keys: deleted, then each given its anchor (a
 * field, a member, never removed, so the keys always exist: each read is
 * one keyspace hit). 0 or -1 with err filled. */
int ld__hash_setup(struct ld_run *r, struct ld_ctl *k, char *err, size_t cap);
int ld__set_setup(struct ld_run *r, struct ld_ctl *k, char *err, size_t cap);
int ld__zset_setup(struct ld_run *r, struct ld_ctl *k, char *err, size_t cap);
/* Their end-of-run reads on the control connection, and their details. */
void ld__hash_final(struct ld_run *r, struct ld_ctl *k);
void ld__set_final(struct ld_run *r, struct ld_ctl *k);
void ld__zset_final(struct ld_run *r, struct ld_ctl *k);
/* The transaction checkers: MULTI probed (a server without it fails them
 * with its answer, and r->txn_ok stays false), their keys reset; 0 or -1
 * with err filled (a connection failure). Their final reads and details. */
int ld__txn_setup(struct ld_run *r, struct ld_ctl *k, char *err, size_t cap);
/* MGET of keys <prefix>:<kind>:0..n-1 at the end (n <= LD_BANK_ACCOUNTS):
 * the array of n, or NULL with checker chk skipped, naming `what`. */
redisReply *ld__txn_read_all(struct ld_run *r, struct ld_ctl *k, char kind, unsigned n,
                             enum ld_check chk, const char *what);
void ld__bank_final(struct ld_run *r, struct ld_ctl *k);
void ld__msum_final(struct ld_run *r, struct ld_ctl *k);

/* ---- report.c ---- */
void ld__progress(struct ld_run *r, double elapsed_s, uint64_t ops, double rate);
int ld__report(struct ld_run *r);   /* returns the exit code */

#endif
