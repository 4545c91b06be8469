/*
 * server internals shared by the server's own files: workers, connections,
 * the command table and reply helpers. Only server/ includes <uv.h>.
 *
 * Threads (docs/architecture.md): one acceptor (main thread, its own loop,
 * signals, the timer that samples ops/sec), `threads` workers (each owns a
 * loop and its connections end to end).
 */
#ifndef MMCACHE_SRV_H
#define MMCACHE_SRV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <uv.h>

#include "cache.h"
#include "config.h"
#include "proto.h"

#define SRV_VERSION "7.0.0"        /* the Redis API level we speak; redis_version */
#define MMCACHE_VERSION "0.1.0"
#define SRV_CACHELINE 64

#include "sanitizer.h"   /* SRV_TSAN, SRV_ASAN */

struct srv_ring;

/* Per-worker counters. Each field has one writer, the owning worker
 * (store of load+1, no read-modify-write needed); INFO on any worker sums
 * them with relaxed loads. Each counter only grows, so a reader that sums
 * them twice never sees the total go backwards (seed task 19). Padded so
 * two workers' counters never share a cache line (seed task 10). */
struct srv_stats {
    _Atomic uint64_t commands;         /* atomic: relaxed; owner writes, INFO sums */
    _Atomic uint64_t hits;             /* atomic: relaxed; owner writes, INFO sums */
    _Atomic uint64_t misses;           /* atomic: relaxed; owner writes, INFO sums */
    _Atomic uint64_t conns_received;   /* atomic: relaxed; owner writes, INFO sums */
    _Atomic uint64_t net_in;           /* atomic: relaxed; owner writes, INFO sums */
    _Atomic uint64_t net_out;          /* atomic: relaxed; owner writes, INFO sums */
    _Atomic uint64_t clients;          /* atomic: relaxed; owner writes: current conns */
    _Atomic uint64_t blocked;          /* atomic: relaxed; owner writes: conns blocked
                                          in a blocking pop now */
    _Atomic uint64_t reads;            /* atomic: relaxed; owner writes: reads that brought
                                          bytes (total_reads_processed) */
    _Atomic uint64_t writes;           /* atomic: relaxed; owner writes: flushes of pending
                                          replies (total_writes_processed) */
} __attribute__((aligned(SRV_CACHELINE)));

/* INFO commandstats: one worker's counters of one command (indexed by
 * srv_command.id). Single writer, the owning worker (store of load+n, as
 * SRV_STAT_ADD); INFO on any worker sums them with relaxed loads. Relaxed
 * is enough: each counter is read on its own (no figure is derived from
 * two workers' counters in one order), an aligned 8-byte atomic never
 * tears, and per-location coherence keeps each total from going
 * backwards between two INFOs. INFO may read a call's calls and not yet
 * its usec (Redis, single-threaded, never shows that): usec_per_call is
 * then off by that one call, which a rate does not need to be exact for. */
struct srv_cmdstat {
    _Atomic uint64_t calls;      /* atomic: relaxed; owner writes, INFO sums */
    _Atomic uint64_t ns;         /* atomic: relaxed; owner writes, INFO sums (INFO shows usec) */
    _Atomic uint64_t rejected;   /* atomic: relaxed; owner writes: refused before the handler */
    _Atomic uint64_t failed;     /* atomic: relaxed; owner writes: the handler replied an error */
};

/* INFO errorstats: one worker's error replies by their first word
 * ("ERR", "WRONGTYPE", ...). A slot's prefix is written by the owner once,
 * before the release store of n that publishes it; INFO acquire-loads n
 * (pairs with that store) and reads only slots below it, whose prefixes
 * never change again. Beyond SRV_ERRSTAT_MAX distinct prefixes (Redis
 * stops at 128 too) an error counts in `replied` only. */
#define SRV_ERRSTAT_MAX 128
#define SRV_ERRPREFIX_MAX 32
struct srv_errstat {
    char prefix[SRV_ERRPREFIX_MAX];   /* immutable once published by srv_errstats.n */
    _Atomic uint64_t count;           /* atomic: relaxed; owner writes, INFO sums */
};
struct srv_errstats {
    _Atomic uint64_t replied;   /* atomic: relaxed; owner writes: every error reply
                                   (total_error_replies; dispatch compares it) */
    _Atomic unsigned n;         /* atomic: release by the owner, acquire by INFO (see above) */
    struct srv_errstat slot[SRV_ERRSTAT_MAX];
};

/* Bump a counter of the calling worker's own stats (single writer). */
#define SRV_STAT_ADD(st, field, n)                                           \
    atomic_store_explicit(&(st)->field,                                      \
        atomic_load_explicit(&(st)->field, memory_order_relaxed) + (n),      \
        memory_order_relaxed)

/* Raise a peak of the calling worker's own (single writer). */
#define SRV_PEAK_NOTE(p, v)                                                  \
    do {                                                                     \
        uint64_t v_ = (v);                                                   \
        if (v_ > atomic_load_explicit((p), memory_order_relaxed))            \
            atomic_store_explicit((p), v_, memory_order_relaxed);            \
    } while (0)

/* Bug lab 15 and 23 (docs/bugs.md): a worker's command counter where a
 * packed layout places it, across a cache-line boundary. It is only
 * written while bug 15 or 23 is selected, and INFO adds it to the total (0
 * otherwise). At offset 63 its lowest byte ends one line and bytes 1..7
 * start the next: a locked RMW on it is a split lock (15), and every 256th
 * increment carries across the boundary, where a load can tear (23).
 * `bug-misalign no` puts it at offset 56, 8-byte aligned inside one line:
 * the same code with the mechanism removed (the bugs' differential runs). */
#define SRV_SPLIT_MISALIGNED 63     /* bytes of the counter's first line: 64 - 63 = 1 */
#define SRV_SPLIT_ALIGNED 56
struct srv_stats_split {
    unsigned char bytes[2 * SRV_CACHELINE];  /* the counter at srv.split_off (MISALIGNED on
                            purpose unless bug-misalign no): written by the owner worker
                            with __atomic builtins (15: fetch_add; 23: store of load+1),
                            read by INFO on any worker with __atomic_load_n; none of these
                            accesses is atomic on x86-64 when it crosses a line, except
                            the locked RMW (a split lock) */
} __attribute__((aligned(SRV_CACHELINE)));

/* Bug lab 2 (dispatch.c): counters shared by all workers, bumped with a
 * plain ++ while bug 2 is selected. INFO adds them to the per-worker
 * totals (0 otherwise). */
struct srv_shared_stats {
    uint64_t commands, hits, misses;   /* guarded by: NOTHING (bug 2): written with a
                                          plain ++ by every worker, read by INFO with
                                          relaxed atomic loads; untouched unless bug 2
                                          is selected */
};
extern struct srv_shared_stats srv_shared_stats;

/* Connection flags, owned by: the conn's worker thread. */
#define CONN_CLOSE_AFTER_REPLY 0x01   /* QUIT, protocol error, OOM */
#define CONN_CLOSING           0x02   /* uv_close called: never twice */
#define CONN_PENDING           0x04   /* on the worker's flush list */
#define CONN_READING           0x08
#define CONN_WRITING           0x10   /* a uv_write is in flight */
#define CONN_WAITING           0x20   /* a GET waits for a load: run nothing more */
#define CONN_CLOSE_ASAP        0x40   /* over its output limit: nothing more is run or
                                         written, closed at the end of the batch (Redis's
                                         CLIENT_CLOSE_ASAP) */
#define CONN_BLOCKED           0x80   /* a blocking pop waits: run nothing more */
#define CONN_MULTI             0x100  /* inside MULTI: commands are queued (multi.c) */
#define CONN_EXEC              0x200  /* EXEC runs its queue: under its shard locks, no
                                         command may wait (no load, no blocking pop) */
#define CONN_PAUSED            0x400  /* CLIENT PAUSE holds its next command (net/pause.c) */

struct srv_worker;
struct loader_wait;
struct srv_out_chunk;
struct srv_blocked;
struct srv_connreq;
struct srv_acl_user;
struct srv_acl_rules;
struct srv_mstate;
struct srv_monitor;

/* A connection's place in the ACL (server/acl/users.c, docs/locking.md). */
struct srv_acl_conn {
    struct srv_acl_user *user;     /* a counted reference; written by the owner under
                                      w->reg_lock (CLIENT LIST on any worker reads the
                                      name under it), read freely by the owner */
    struct srv_acl_rules *rules;   /* owned by: worker; a counted reference to the user's
                                      rules as of gen */
    uint64_t gen;                  /* owned: srv_acl_generation when rules was taken */
    bool authenticated;            /* owned: Redis's c->authenticated */
    bool ever_authenticated;       /* owned: authenticated at least once (pre-auth output cap) */
};

/* CLIENT LIST's view of a connection's buffers, which only its worker may
 * touch: the owner publishes them (srv_conn_publish_mem: relaxed stores)
 * after each batch of commands and each write; CLIENT LIST on any worker
 * reads them with relaxed loads. Each figure is a moment old, never torn,
 * and the fields need not agree with one another (two relaxed reads of a
 * running client's buffers could not either). */
struct srv_conn_mem {
    _Atomic size_t qbuf;           /* atomic: relaxed; owner writes: unparsed input */
    _Atomic size_t qbuf_free;      /* atomic: relaxed; owner writes: room in its own buffer */
    _Atomic size_t rbs;            /* atomic: relaxed; owner writes: its own buffer's size */
    _Atomic size_t omem;           /* atomic: relaxed; owner writes: replies not yet written */
    _Atomic size_t totmem;         /* atomic: relaxed; owner writes: all it holds */
};

struct srv_conn {
    uv_tcp_t tcp;                  /* owned by: worker; tcp.data = this */
    struct srv_worker *w;          /* immutable after accept */
    uint64_t id;                   /* immutable after accept */
    int fd;                        /* immutable after accept */
    char addr[64];                 /* immutable after accept: peer "ip:port" */
    char laddr[64];                /* immutable after accept: local "ip:port" */
    bool local;                    /* immutable after accept: the peer is 127.0.0.1
                                      or ::1 (Redis 7.0's "local client") */
    const struct cfg *cfg;         /* owned by: worker; rcu: the snapshot of the
                                      request being run, taken by srv_dispatch in
                                      a read-side section; NULL between requests */
    int64_t ctime_ms;              /* immutable after accept */
    _Atomic int64_t last_ms;       /* atomic: relaxed; owner writes, CLIENT LIST reads */
    _Atomic(const char *) last_cmd;/* atomic: relaxed; owner writes a static name */
    char *name;                    /* guarded by: w->reg_lock for writes and foreign reads */
    unsigned flags;                /* owned by: worker */
    struct proto_parser parser;    /* owned by: worker */
    char *in;                      /* owned by: worker; the unparsed input: its own buffer
                                      (NULL when none), or w->rbuf during a batch (conn.c) */
    size_t in_start, in_len, in_cap;   /* owned: unparsed bytes are in[in_start..in_len) */
    /* Replies not yet written (net/output.c): sealed chunks, oldest
     * first, then `out`, where replies are appended. */
    struct proto_buf out;          /* owned: the newest replies */
    struct srv_out_chunk *outq;    /* owned: chunks before out; the first wq_n are in a uv_write */
    struct srv_out_chunk **outq_tail;  /* owned */
    size_t outq_bytes;             /* owned: bytes of outq not yet written */
    unsigned wq_n;                 /* owned */
    /* The normal class's client-output-buffer-limit, copied from the
     * snapshot at the start of each batch (replies made outside a request,
     * a loaded value's, use the last batch's), and since when (worker's
     * now_ms) the pending output has been over the soft limit, 0 = not. */
    struct cfg_obuf_limit obuf_limit;  /* owned */
    int64_t obuf_soft_since;       /* owned */
    uv_write_t wreq;               /* owned */
    struct srv_conn *pending_next; /* owned: flush list link */
    struct loader_wait *wait;      /* owned: the load a GET waits for (CONN_WAITING) */
    struct srv_blocked *blocked;   /* owned: the wait of a blocking pop (CONN_BLOCKED) */
    _Atomic bool is_blocked;       /* atomic: relaxed; owner writes with CONN_BLOCKED,
                                      CLIENT LIST on any worker reads (flags=b) */
    struct srv_acl_conn acl;       /* see struct srv_acl_conn */
    struct srv_mstate *mstate;     /* owned: MULTI's queue and the WATCHed keys (multi.c),
                                      NULL until the first MULTI or WATCH */
    struct srv_monitor *monitor;   /* owned by: worker; non-NULL once it ran MONITOR
                                      (net/monitor.c) */
    _Atomic bool no_evict;         /* atomic: relaxed; owner writes (CLIENT NO-EVICT),
                                      CLIENT LIST on any worker reads (flags=e) */
    _Atomic bool is_monitor;       /* atomic: relaxed; owner writes with monitor,
                                      CLIENT LIST on any worker reads (flags=O) */
    struct srv_conn_mem mem;       /* see struct srv_conn_mem */
    bool kill_posted;              /* guarded by: w->reg_lock; a CLIENT KILL asked its
                                      worker to close it: later KILLs find it no more */
    struct srv_conn *prev, *next;  /* guarded by: w->reg_lock (worker's client list) */
};

struct srv_worker {
    unsigned id;                   /* immutable after init */
    pthread_t thread;              /* immutable after start */
    uv_loop_t loop;                /* owned by: the worker thread */
    uv_async_t wake;               /* uv_async_send from any thread */
    uv_check_t flush;              /* owned: flushes replies once per loop pass */
    uv_timer_t tick;               /* owned: idle timeouts, active expiry */
    uv_tcp_t prime;                /* owned: created and closed at start-up, see
                                      srv_worker_init */
    struct srv_ring *ring;         /* SPSC: acceptor produces fds, worker consumes */
    struct srv_conn *pending;      /* owned: conns with output to flush */
    uv_async_t loaded;             /* uv_async_send from loader threads: loads done */
    pthread_mutex_t done_lock;     /* lock order: after a singleflight stripe lock (leaf) */
    struct loader_wait *done_head; /* guarded by: done_lock; finished waits to answer */
    unsigned waits;                /* owned: waits not yet ended (shutdown waits for 0) */
    uv_async_t unblocked;          /* uv_async_send from any thread: blocking pops served */
    pthread_mutex_t blk_lock;      /* lock order: a leaf, taken with no shard lock held */
    struct srv_blocked *blk_done;  /* guarded by: blk_lock; served waits to answer */
    struct srv_connreq *creq;      /* guarded by: blk_lock; CLIENT KILL/UNBLOCK of
                                      this worker's connections, from any worker */
    struct srv_monitor *monitors;  /* owned: this worker's MONITOR clients (net/monitor.c);
                                      `unblocked` also says their queues have lines */
    unsigned nblocked;             /* owned: blocking pops not yet ended (shutdown waits for 0) */
    unsigned npaused;              /* owned: its connections that CLIENT PAUSE holds */
    uint64_t acl_deletions_seen;   /* owned: users deleted when this worker last swept
                                      its clients of them (srv_acl_sweep) */
    pthread_mutex_t reg_lock;      /* lock order: 1 (before any cache shard lock); guards conns, conn->name */
    struct srv_conn *conns;        /* guarded by: reg_lock; list head */
    int64_t now_ms;                /* owned: wall clock ms, refreshed per read batch */
    char *rbuf;                    /* owned: where reads land (net/conn.c), CONN_RBUF_SIZE */
    struct cache_val scratch;      /* owned: values copied out of the cache */
    struct cache_val scratch2;     /* owned: a second one (SET ... GET, COPY) */
    _Atomic int stopping;          /* atomic: release by acceptor, acquire by worker (pairs in srv_worker_stop) */
    int64_t stop_ms;               /* owned: when the worker began draining (srv_mono_ms) */
    /* The stop handshake (srv_workers_wait_stop_seen): the worker says it
     * has seen the stop, adopted its ring and stopped reading. */
    _Atomic bool stop_seen;        /* atomic: release by the worker (on_wake), acquire by the acceptor */
    bool stop_seen_plain;          /* BUG 1 only: the same flag as a plain bool, stored by the
                                      worker beside stop_seen, polled only by the bugged
                                      handshake; guarded by: NOTHING (that is bug 1) */
    _Atomic uint64_t heartbeat;    /* atomic: relaxed; owner bumps it every tick, the watchdog reads */
    _Atomic bool exited;           /* atomic: relaxed; the worker thread sets it as it ends (the
                                      watchdog stops watching it, the stop guard's log says so;
                                      ordering nothing: whether its pthread_t may still be
                                      asked for its CPU clock is stopguard.c's `joined`) */
    struct srv_stats stats;        /* see struct srv_stats */
    /* INFO client_recent_max_input_buffer / _output_buffer: the largest
     * query buffer and pending output any of this worker's connections
     * had, [0] in this 4 s window, [1] in the one before (the tick shifts
     * them). atomic: relaxed; owner writes (SRV_PEAK_NOTE, the tick), INFO
     * reads the max of all. */
    _Atomic uint64_t peak_in[2], peak_out[2];
    struct srv_cmdstat *cmdstats;  /* immutable pointer after init; srv_command_count of
                                      them, see struct srv_cmdstat */
    struct srv_errstats *errstats; /* immutable pointer after init; see struct srv_errstats */
    _Atomic uint64_t *cmd_hist;    /* immutable pointer after init; SRV_HIST_SLOTS
                                      (metrics/timehist.h) of command times in ns: atomic:
                                      relaxed; owner writes (srv_hist_add_owned), /metrics sums */
    _Atomic(struct srv_lathist *) *lat;  /* immutable pointer after init; srv_command_count
                                      slots, each NULL until the owner's first call of that
                                      command stores its histogram (cmd/latstats.c) */
    _Atomic uint64_t lat_gen;      /* atomic: release by the owner once its histograms are
                                      zeroed for a RESETSTAT, acquire by INFO (latstats.c) */
    struct srv_stats_split split;  /* bug lab 15, 23: see struct srv_stats_split */
};

/* Process-wide server state. */
struct srv {
    struct cache *cache;           /* immutable after start; the cache is thread safe */
    struct srv_worker *workers;    /* immutable after start */
    unsigned nworkers;             /* immutable after start */
    pid_t pid;                     /* immutable after start */
    int64_t start_ms;              /* immutable after start */
    uint64_t used_memory_startup;  /* immutable after start: used_memory before any client */
    _Atomic uint64_t used_memory_peak; /* atomic: relaxed; the acceptor's sampler is its one
                                      writer (a store of the max it saw), INFO reads */
    char run_id[41];               /* immutable after start */
    char executable[256];          /* immutable after start */
    int port;                      /* immutable after start: the bound port */
    unsigned split_off;            /* immutable after start: where bugs 15 and 23 keep their
                                      counter in struct srv_stats_split (bug-misalign) */
    _Atomic uint64_t next_client_id;   /* atomic: relaxed; only uniqueness matters */
    _Atomic unsigned nclients;     /* atomic: relaxed; maxclients check, INFO */
    _Atomic uint64_t rejected_conns;   /* atomic: relaxed; the acceptor (maxclients) and
                                          workers (protected mode) add */
    _Atomic uint64_t ops_per_sec;  /* atomic: relaxed; acceptor's sampler writes, INFO reads */
    uv_async_t shutdown_async;     /* any thread: ask the acceptor to shut down */
};
extern struct srv srv;

/* The counter's address in a struct srv_stats_split, for the __atomic
 * builtins: taken by arithmetic, since that it may be unaligned is the
 * point. */
static inline uint64_t *srv_split_commands(struct srv_stats_split *s)
{
    return (uint64_t *)(void *)(s->bytes + srv.split_off);
}

/* ---- provided by worker.c / conn.c / acceptor.c -------------------------- */

/* Ask the server to shut down gracefully (SHUTDOWN command, signals).
 * Context: any thread; async-signal-unsafe (uses uv_async_send). */
void srv_request_shutdown(void);
/* Sum all workers' counters into *out. Context: any thread. */
void srv_stats_sum(struct srv_stats *out);
/* Format CLIENT LIST lines for every connection of every worker into b.
 * Takes each worker's reg_lock in turn. Context: any worker. */
int srv_clients_list(struct proto_buf *b, int64_t now_ms);
/* One CLIENT LIST line for c. self: c is the caller's own connection, so
 * its buffer sizes may be read (another worker's may not).
 * Context: any worker; a foreign c only under its worker's reg_lock. */
int srv_client_format(struct proto_buf *b, const struct srv_conn *c, int64_t now_ms, int self);
/* CLIENT KILL / CLIENT UNBLOCK: the connections of every worker that
 * match (immutable fields only, read under each worker's reg_lock) are
 * acted on by their own worker, which the request is posted to
 * (blocked.c). Only blocked ones match an unblock. Returns how many
 * matched; *self says the caller's own connection was one of them (not
 * posted: the caller closes itself after its reply). Context: any worker. */
struct srv_client_filter {
    uint64_t id;                   /* 0: any */
    const char *addr, *laddr;      /* NULL: any; NUL-terminated */
    const char *user;              /* NULL: any; else an ACL user's name, user_len bytes */
    size_t user_len;
    int64_t maxage_s;              /* 0: any; else only those older than this (seconds) */
    bool skipme;
};
#define SRV_CONN_KILL        1
#define SRV_CONN_UNBLOCK     2     /* answered as its timeout would be */
#define SRV_CONN_UNBLOCK_ERR 3     /* answered -UNBLOCKED */
unsigned srv_clients_act(const struct srv_client_filter *f, int op,
                         const struct srv_conn *caller, bool *self);
/* Set a connection's name (NULL to clear) under its worker's reg_lock. */
int srv_conn_setname(struct srv_conn *c, const char *name, size_t len);

/* ---- provided by dispatch.c --------------------------------------------- */

typedef void srv_cmd_fn(struct srv_conn *c, size_t argc, struct proto_arg *argv);

#define CMD_WRITE    0x01
#define CMD_READONLY 0x02
#define CMD_DENYOOM  0x04   /* refused under noeviction when over maxmemory */
#define CMD_ADMIN    0x08
#define CMD_FAST     0x10
#define CMD_NOSCRIPT 0x20
#define CMD_NO_AUTH  0x40   /* runs before authentication: AUTH, HELLO, QUIT, RESET */
#define CMD_PROTECTED 0x80  /* Redis's PROTECTED: runs only where its lever allows the
                               client (DEBUG: enable-debug-command), checked by dispatch */
/* How a command uses its keys (Redis 7's key-spec flags), for ACL key
 * patterns (%R~ / %W~); see commands.def. */
#define CMD_KEY_READ   0x100   /* reads their values */
#define CMD_KEY_WRITE  0x200   /* inserts, updates or deletes them */
#define CMD_KEY_DEST   0x400   /* its last key is a destination: written only */
#define CMD_KEY_GETARG 0x800   /* a GET argument makes it read too (SET) */
#define CMD_KEY_FIRSTDEST 0x1000 /* its first key is a destination: written only
                                    (SINTERSTORE and the other *STORE commands) */
#define CMD_KEY_NUMKEYS 0x2000 /* keys follow a count at first_key (LMPOP numkeys
                                  key ..., BLMPOP timeout numkeys key ...); COMMAND
                                  reports 0 0 0 as Redis does for movable keys */
#define CMD_BLOCKING 0x4000  /* may block the client (BLPOP ...) */

/* More rows than commands.def will ever hold: the size of an ACL user's
 * command bitmap (dispatch.c asserts the table fits). */
#define SRV_COMMAND_MAX 256

/* ACL categories (cmd/acl_categories.def): ACL_KEYSPACE, ACL_READ, ... one
 * bit each; srv_acl_category_names[bit] is the name without '@'. */
enum {
#define ACLCAT(k, name) ACL_BIT_##k,
#include "acl_categories.def"
#undef ACLCAT
    ACL_BIT_COUNT
};
enum {
#define ACLCAT(k, name) ACL_##k = 1 << ACL_BIT_##k,
#include "acl_categories.def"
#undef ACLCAT
};
extern const char *const srv_acl_category_names[ACL_BIT_COUNT];

/* One row of cmd/commands.def. Immutable after srv_commands_init(). */
struct srv_command {
    const char *name;   /* lower case; a subcommand's own name ("get") */
    const char *fullname;   /* "get", or "config|get" for a subcommand */
    int arity;          /* Redis's: n exact, -n at least n (argv[0] included) */
    unsigned flags;     /* CMD_* */
    uint64_t categories;/* ACL_* bits: the row's, plus those its flags imply */
    int first_key, last_key, key_step;   /* for COMMAND */
    srv_cmd_fn *fn;
    const char *parent_name;        /* a subcommand's container, else NULL */
    /* set by srv_commands_init: */
    const struct srv_command *parent;   /* a subcommand's container row */
    const struct srv_command *subs;     /* a container's first subcommand row */
    unsigned nsubs;                     /* ... and how many follow it */
    unsigned id;                        /* index in srv_command_table */
    unsigned one_key;                   /* srv_command_one_key(this) */
};

/* Build the lookup table. Context: main thread, before workers start. */
void srv_commands_init(void);
/* Run one parsed command: snapshot the config, look up, check arity,
 * call the handler, bump the stats. Context: the conn's worker. */
void srv_dispatch(struct srv_conn *c, size_t argc, struct proto_arg *argv);
/* The table, for COMMAND and ACL: every row, containers' subcommands
 * right after their container (srv_command_table[i].id == i). */
extern struct srv_command srv_command_table[];
extern const size_t srv_command_count;
/* A top-level command by name, any case; NULL if there is none. */
const struct srv_command *srv_command_lookup(const char *name, size_t len);
/* The command argv names as dispatch resolves it: argv[0], or for a
 * container given a subcommand, that subcommand. NULL when there is none;
 * *container is then the container whose subcommand argv[1] is unknown,
 * or NULL when argv[0] itself is. Context: any thread. */
const struct srv_command *srv_command_resolve(size_t argc, const struct proto_arg *argv,
                                              const struct srv_command **container);
/* By full name ("get", "config|get"), any case; NULL if none. */
const struct srv_command *srv_command_by_fullname(const char *name, size_t len);
/* INFO commandstats (and latencystats, SLOWLOG, LATENCY, MONITOR) of one
 * call of cmd with argv that ran from t0 (srv_mono_ns), with the worker's
 * error count before it. Context: c's worker, inside dispatch (c->cfg set). */
void srv__count_call(struct srv_conn *c, const struct srv_command *cmd, uint64_t t0,
                     uint64_t errors, size_t argc, const struct proto_arg *argv);

/* ---- provided by keyspec.c: the keys a command names (commands.def) ------
 * fn(arg, index in argv, SRV_KEY_R | SRV_KEY_W: how the command uses it)
 * for each key, in order; a non-zero return stops the walk and is
 * returned. 0 when done, or when cmd names no key in these arguments. */
#define SRV_KEY_R 1u   /* reads its value */
#define SRV_KEY_W 2u   /* inserts, updates or deletes it */
typedef int srv_key_fn(void *arg, size_t idx, unsigned kflags);
int srv_command_keys(const struct srv_command *cmd, size_t argc,
                     const struct proto_arg *argv, srv_key_fn *fn, void *arg);
/* For srv_commands_init, the request path's shortcut past the walk:
 * SRV_KEY_ONE when every call of cmd names exactly one key, argv[first_key]
 * (GET, SET, INCR, ...), with SRV_KEY_W when srv_command_keys would say
 * the call writes it; 0 for a row whose keys depend on argv (a negative
 * last_key, a count: DEL, MGET, LMPOP) or that has none. */
#define SRV_KEY_ONE 4u
unsigned srv_command_one_key(const struct srv_command *cmd);

/* ---- provided by multi.c: MULTI/EXEC/WATCH and atomic commands ----------
 * docs/transactions.md. Context: the conn's worker. */
/* Run a command that was not queued: a command naming several keys, or
 * writing any, runs with all their shards locked at once (cache_txn_lock),
 * and a write marks its keys changed for WATCH. */
void srv__run(struct srv_conn *c, const struct srv_command *cmd, size_t argc,
              struct proto_arg *argv);
/* Inside MULTI, is cmd queued (true) or run now (EXEC, DISCARD, MULTI,
 * WATCH, QUIT, RESET)? Queues it and answers QUEUED. */
bool srv_multi_queue(struct srv_conn *c, const struct srv_command *cmd, size_t argc,
                     const struct proto_arg *argv);
/* A command refused before it could be queued: EXEC will answer EXECABORT. */
void srv_multi_reject(struct srv_conn *c);
/* RESET, and the connection closing: out of MULTI, nothing watched. */
void srv_multi_reset(struct srv_conn *c);

/* ---- provided by reply.c: every reply goes through these ---------------- */
/* On allocation failure they mark the conn CONN_CLOSE_AFTER_REPLY (the
 * stream can no longer be kept in sync) and return -ENOMEM. Each first
 * checks the output limit (c->obuf_limit): a reply that would take the
 * pending output past the hard limit, or past the soft one for longer
 * than its seconds, is not appended; the conn is marked CONN_CLOSE_ASAP,
 * what it held is dropped, and this and every later reply return -EPIPE
 * without a copy. Handlers that loop over many replies (MGET, KEYS,
 * HGETALL, a big HRANDFIELD) stop once srv_reply_closing() is true: over
 * the limit, or an allocation failed (later appends might succeed, but
 * the stream is already broken and, with no limit set, a loop bounded
 * only by a client's count would run on). */
static inline bool srv_reply_closing(const struct srv_conn *c)
{
    return (c->flags & (CONN_CLOSE_ASAP | CONN_CLOSE_AFTER_REPLY | CONN_CLOSING)) != 0;
}
/* Bytes of reply c holds, not yet written. */
static inline size_t srv_reply_pending(const struct srv_conn *c)
{
    return c->out.len + c->outq_bytes;
}
/* Publish c's buffer sizes for CLIENT LIST (struct srv_conn_mem).
 * Context: c's worker. */
static inline void srv_conn_publish_mem(struct srv_conn *c)
{
    bool own = c->in != NULL && c->in != c->w->rbuf;   /* else the worker's read buffer */
    size_t qbuf = c->in_len - c->in_start, omem = c->out.len + c->outq_bytes;
    size_t rbs = own ? c->in_cap : 0;

    atomic_store_explicit(&c->mem.qbuf, qbuf, memory_order_relaxed);
    atomic_store_explicit(&c->mem.qbuf_free, own ? c->in_cap - c->in_len : 0,
                          memory_order_relaxed);
    atomic_store_explicit(&c->mem.rbs, rbs, memory_order_relaxed);
    atomic_store_explicit(&c->mem.omem, omem, memory_order_relaxed);
    atomic_store_explicit(&c->mem.totmem, sizeof(*c) + rbs + c->out.cap + c->outq_bytes,
                          memory_order_relaxed);
}
/* c->out at SRV_OUT_CHUNK bytes or more becomes a chunk of the output
 * queue before it would have to grow (net/output.c): 0, or -ENOMEM (then
 * out just grows). */
#define SRV_OUT_CHUNK (64 * 1024)
int srv_out_seal(struct srv_conn *c);
int srv_reply_ok(struct srv_conn *c);
int srv_reply_simple(struct srv_conn *c, const char *s);
int srv_reply_error(struct srv_conn *c, const char *s);          /* s: "ERR ..." */
int srv_reply_errorf(struct srv_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int srv_reply_int(struct srv_conn *c, long long v);
int srv_reply_bulk(struct srv_conn *c, const void *p, size_t n);
int srv_reply_bulk_cstr(struct srv_conn *c, const char *s);
int srv_reply_null(struct srv_conn *c);
int srv_reply_null_array(struct srv_conn *c);
int srv_reply_array(struct srv_conn *c, long long n);
/* Pre-encoded replies (MONITOR's queued lines), under the same limit. */
int srv__reply_raw(struct srv_conn *c, const void *p, size_t n);
/* Redis's standard error strings. */
#define SRV_ERR_NOTINT   "ERR value is not an integer or out of range"
#define SRV_ERR_SYNTAX   "ERR syntax error"
#define SRV_ERR_OVERFLOW "ERR increment or decrement would overflow"
#define SRV_ERR_NOTFLOAT "ERR value is not a valid float"
#define SRV_ERR_OOM      "OOM command not allowed when used memory > 'maxmemory'."
#define SRV_ERR_NOMEM    "ERR out of memory"
#define SRV_ERR_NOKEY    "ERR no such key"
#define SRV_ERR_WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"

/* ---- provided by watchdog.c --------------------------------------------- */
/* A thread that names workers whose loop has made no progress for 2 s
 * (a deadlock, bug 17). Context: main thread, after the workers started /
 * after they were joined. */
int srv_watchdog_start(void);
void srv_watchdog_stop(void);
/* INFO lines watchdog_stalled_workers, watchdog_stalls_total. Context: any. */
void srv_watchdog_info(struct proto_buf *b, int *rc);
/* A thread's CPU time in ns (its CPU clock), -1 when it cannot be read.
 * Context: any; t must not have been joined. */
int64_t srv_thread_cpu_ns(pthread_t t);

/* ---- provided by log.c -------------------------------------------------- */
/* Redis-style: "pid:role dd Mon yyyy hh:mm:ss.mmm <level char> msg".
 * Context: any thread; one write(2) per line. */
void srv_log(enum cfg_loglevel level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same line (newline included, cap >= 64) formatted now into line, for
 * a write(2) later where formatting is not allowed (a signal handler);
 * returns its length. Context: any thread. */
size_t srv_log_prepare(char *line, size_t cap, enum cfg_loglevel level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The role letter in each log line: 'M' unless the thread set another
 * ('W' a worker, 'D' the watchdog). owned by: each thread (thread-local),
 * set once when the thread starts. */
extern _Thread_local char srv_log_role;

/* A log line that a client or the OS can make happen at any rate (accept
 * errors, origin failures) goes through a throttle: at most one line a
 * second; the lines held back are counted, and the next line that passes
 * says how many ("... (41 more like it in the last 1.2 s)"). Zero-init a
 * static one per kind of line. */
struct srv_log_throttle {
    _Atomic int64_t last_ms;       /* atomic: relaxed; CAS elects the one line a second */
    _Atomic uint64_t held;         /* atomic: relaxed; lines held back since */
};
/* Context: any thread. */
void srv_log_throttled(struct srv_log_throttle *t, enum cfg_loglevel level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- provided by glob.c ------------------------------------------------- */
/* Redis's glob: * ? [abc] [^a-z] \x; nocase != 0 ignores ASCII case. */
int srv_glob_match(const char *pat, size_t plen, const char *s, size_t slen,
                   int nocase);

/* ---- provided by info.c ------------------------------------------------- */
/* INFO [section ...]: append the text of the requested sections to b. */
int srv_info(const struct cfg *cfg, struct proto_buf *b, size_t nsec, struct proto_arg *sections);
/* CONFIG RESETSTAT: INFO's counters start again from 0. Context: any thread. */
void srv_info_resetstat(void);
/* INFO stats' counters (less CONFIG RESETSTAT's baseline), for /metrics.
 * Context: any thread; takes info.c's leaf base_lock. */
struct srv_counters {
    uint64_t conns_received, commands, net_in, net_out, rejected;
    uint64_t expired, evicted, hits, misses, lock_waits;
};
void srv_info_counters(struct srv_counters *k);
/* The lock-wait profile: the SRV_LOCK_WAIT_TOP shards that waited longest
 * for their lock since start or the last CONFIG RESETSTAT (INFO's
 * shard_lock_wait_top lines, /metrics); returns how many (fewer when the
 * cache has fewer shards). Context: any thread; takes base_lock. */
#define SRV_LOCK_WAIT_TOP 5
size_t srv_info_lock_wait_top(struct cache_shard_wait top[SRV_LOCK_WAIT_TOP]);
/* ---- provided by cmd/cmdstats.c ------------------------------------------ */
/* Count an error reply of the calling worker's connection c (errorstats,
 * total_error_replies). Context: c's worker. */
void srv__errstat_count(struct srv_conn *c, const char *msg);
/* INFO commandstats / errorstats, and total_error_replies for stats;
 * CONFIG RESETSTAT's part. Context: any worker. */
void srv_cmdstats_info(struct proto_buf *b, int *rc);
void srv_errstats_info(struct proto_buf *b, int *rc);
uint64_t srv_errstats_total(void);
void srv_cmdstats_resetstat(void);
/* Every command's counters summed over the workers, less CONFIG
 * RESETSTAT's baseline: sum has srv_command_count entries, indexed by
 * srv_command.id. Context: any thread; takes cmdstats.c's leaf lock. */
struct srv_cmdsum {
    uint64_t calls, ns, rejected, failed;
};
void srv_cmdstats_read(struct srv_cmdsum *sum);

/* ---- provided by net/pause.c --------------------------------------------- */
/* CLIENT PAUSE's deadline (wall ms, 0: none); see net/pause.c. */
extern _Atomic int64_t srv_pause_until_ms;
/* Pause until until_ms, all commands or the writes (never shortening or
 * narrowing a pause in force) / end it. Context: any thread. */
int srv_pause(int64_t until_ms, bool all);
void srv_unpause(void);
/* Does the pause hold this command of c? Then c is marked paused (its
 * command stays unparsed). Call only when srv_pause_until_ms is not 0.
 * Context: c's worker. */
bool srv__pause_holds(struct srv_conn *c, size_t argc, const struct proto_arg *argv);
/* Resume w's paused connections once no pause is in force / c closes.
 * Context: w's (c's) worker. */
void srv_pause_tick(struct srv_worker *w);
void srv_pause_conn_closed(struct srv_conn *c);

/* ---- provided by net/monitor.c ------------------------------------------- */
/* How many connections are in MONITOR mode. atomic: release by
 * srv_monitor_add/remove, acquire by dispatch's check (monitor.c). */
extern _Atomic unsigned srv_monitors;
/* Show a call of cmd on c to every monitor (dispatch, when srv_monitors
 * is not 0). Context: c's worker; takes monitor_lock (a leaf). */
void srv__monitor_feed(struct srv_conn *c, const struct srv_command *cmd, size_t argc,
                       const struct proto_arg *argv);
/* c enters MONITOR mode, its queue at most limit bytes (0: none) / leaves
 * it (RESET, close). Context: c's worker. */
int srv_monitor_add(struct srv_conn *c, size_t limit);
void srv_monitor_remove(struct srv_conn *c);
/* Move the lines queued for w's monitors into their output. Context: w. */
void srv_monitor_drain(struct srv_worker *w);
/* Is argument i of a call of cmd a secret (AUTH's password, HELLO AUTH's
 * user and password), shown as "(redacted)" by SLOWLOG and MONITOR?
 * (cmd/slowlog.c) */
bool srv__arg_redacted(const struct srv_command *cmd, size_t i, const struct proto_arg *argv);

/* ---- provided by cmd/slowlog.c ------------------------------------------- */
/* Log a call of cmd on c that took usec (>= slowlog-log-slower-than), and
 * drop the oldest entries beyond slowlog-max-len. Context: c's worker;
 * takes slowlog_lock (a leaf). */
void srv__slowlog_push(struct srv_conn *c, const struct cfg *cfg, const struct srv_command *cmd,
                       size_t argc, const struct proto_arg *argv, uint64_t usec);

/* ---- provided by cmd/latency.c ------------------------------------------- */
/* LATENCY's events. srv_latency_sample records one that took ms when
 * latency-monitor-threshold is on and ms reaches it; the apply hook (and
 * start-up) give the threshold. Context: any thread; takes latency_lock,
 * a leaf, only for a sample at or over the threshold. */
enum srv_lat_event {
    SRV_LAT_COMMAND, SRV_LAT_FAST_COMMAND, SRV_LAT_EXPIRE_CYCLE, SRV_LAT_CONFIG_RELOAD,
    SRV_LAT_LOADER, SRV_LAT_EVICTION_CYCLE, SRV_LAT_EVENTS
};
void srv_latency_sample(enum srv_lat_event ev, uint64_t ms);
void srv_latency_set_threshold(long long ms);
/* After work that may have written to the cache (a command, a loader
 * fill, a config reload): the time this thread's writes spent evicting
 * since the last call, as one "eviction-cycle" sample. The cache's
 * counter is thread-local (cache_evict_ns_take): nothing to synchronise.
 * One thread-local load when nothing was evicted. Context: any thread. */
static inline void srv_latency_eviction(void)
{
    uint64_t ns = cache_evict_ns_take();

    if (__builtin_expect(ns != 0, 0))
        srv_latency_sample(SRV_LAT_EVICTION_CYCLE, ns / 1000000);
}

/* ---- provided by cmd/latstats.c ------------------------------------------ */
/* INFO latencystats: record a call of cmd that took ns on the calling
 * worker w (latency-tracking yes); the section; CONFIG RESETSTAT's part.
 * Context: srv__latstat_record on w; the others any worker;
 * worker_init/destroy the main thread. */
struct srv_lathist;
void srv__latstat_record(struct srv_worker *w, const struct srv_command *cmd, uint64_t ns);
void srv_latstats_info(struct proto_buf *b, int *rc, const struct cfg *cfg);
void srv_latstats_resetstat(void);
int srv_latstats_worker_init(struct srv_worker *w);
void srv_latstats_worker_destroy(struct srv_worker *w);

/* ---- provided by cmd_config.c ------------------------------------------- */
/* SIGHUP: reload the config file, log what changed or why nothing did.
 * Context: the acceptor thread (registered with RCU, outside a read-side
 * section); blocks on file I/O. */
void srv_config_reload(void);

/* Wall clock in ms. */
/* INFO (info.c): append one formatted line (at most 511 bytes) to b;
 * appends nothing once *rc < 0 (the first failure is kept in *rc). Every
 * INFO section formats through it. */
int srv__infof(struct proto_buf *b, int *rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The bug lab (bugs.c): the start-up banner, a log line per switch (from
 * the config apply hook), INFO `bugs`. */
void srv_bugs_startup(const struct cfg *cfg);
void srv_bugs_changed(const struct cfg *next, const struct cfg *prev);
void srv_bugs_info(struct proto_buf *b, int *rc, const struct cfg *cfg);
/* The selected bugs (a cfg inject mask) for threads that hold no snapshot:
 * the watchdog and the stop guard name them. Context: any thread. */
uint32_t srv_bugs_selected(void);

/* ---- provided by lab/stopguard.c ----------------------------------------- */
/* SIGTERM/SIGINT end the process within 8.5 s, graceful stop or not; the
 * log says why a stop ended hard. srv_stop_guard_start blocks the two
 * signals and starts the guard thread: Context: main thread, before any
 * other thread is created. srv_stop_guard_serving: the acceptor runs
 * (before it, a stop signal exits at once). Context: main thread. */
int srv_stop_guard_start(void);
void srv_stop_guard_serving(void);
/* What the main thread is doing, a string literal for the hard exit's log
 * line ("waiting for the workers to see the stop"). Context: main thread. */
void srv_stop_phase(const char *what);
/* Start the clock for a stop that no signal began (SHUTDOWN). Context: any. */
void srv_stop_guard_arm(void);
/* SIGTERM or SIGINT when a signal began the stop, else 0. Context: any. */
int srv_stop_signal(void);
/* main, after joining worker i: the guard stops reading its CPU clock. */
void srv_stop_guard_joined(unsigned i);
/* main is about to free srv.workers: the guard stops reading them.
 * Context: main thread, after the workers were joined. */
void srv_stop_guard_workers_gone(void);
/* Main frees a cache that a corrupting bug wrote (why: the bugs, a string
 * kept until the next call) or is done (NULL): while set, the guard ends a
 * stop whose free is blocked (main under 1% of a CPU for 0.5 s) at once,
 * not at the 8 s bound. Context: main thread (teardown.c). */
void srv_stop_guard_teardown(const char *why);

/* ---- provided by lab/teardown.c ------------------------------------------ */
/* Around freeing the cache at exit. When a bug that writes the cache's
 * structures without exclusion ran in this process (3, 8, 13), a crash
 * while freeing them is that corruption met again: the process logs so,
 * naming the bug, and exits (status 1) instead of dying of the signal. Arms
 * nothing otherwise, or in a sanitizer build (its report says more).
 * Context: main thread, the workers and loaders joined. */
void srv_teardown_guard_begin(void);
void srv_teardown_guard_end(void);
/* The wall clock in ms: what keys' TTLs, idle times and Redis's own
 * timeouts are measured against, as in Redis. It can step (NTP, a resumed
 * VM): the server's own bounds use srv_mono_ms. Context: any. */
int64_t srv_now_ms(void);
/* CLOCK_MONOTONIC in ns (command times: INFO commandstats). Inline: it
 * runs twice a command; the vDSO makes it no system call. Context: any. */
static inline uint64_t srv_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
/* CLOCK_MONOTONIC in ms, never 0 (callers keep 0 for "not yet"): the
 * shutdown's drain bound, its stop handshake and the stop guard, which a
 * wall clock stepping back would stretch. Context: any. */
static inline int64_t srv_mono_ms(void)
{
    return (int64_t)(srv_mono_ns() / 1000000u) + 1;
}

#endif
