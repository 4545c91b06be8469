/*
 * ld: the pieces of mmcache-load that stand on their own and are unit
 * tested (tests/loadtest/): the latency histogram, the tagged value
 * encoding, the key distributions and the option parser. The load
 * generator itself (threads, connections, checkers) is internal, see
 * ld_int.h.
 *
 * Context: every function here works on memory the caller owns and takes
 * no lock; any thread may call it on its own objects.
 */
#ifndef MMCACHE_LD_H
#define MMCACHE_LD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "hist.h"

/* ---- histogram (hist.c) --------------------------------------------------
 *
 * The project's histogram (hist/hist.h) at precision LD_HIST_PBITS over the
 * whole uint64_t range: a bucket's width is at most 1/128 of its values
 * (relative error < 0.8%), in 58 KiB. Recording is an index computation
 * and an increment; percentiles walk the buckets.
 */
#define LD_HIST_PBITS 7
#define LD_HIST_SUB (1u << LD_HIST_PBITS)
#define LD_HIST_NBUCKETS HIST_NBUCKETS(LD_HIST_PBITS, 64)

struct ld_hist {
    uint64_t count;
    uint64_t min;                /* UINT64_MAX while empty */
    uint64_t max;
    uint64_t buckets[LD_HIST_NBUCKETS];
};

void ld_hist_init(struct ld_hist *h);
void ld_hist_record(struct ld_hist *h, uint64_t v);
void ld_hist_merge(struct ld_hist *dst, const struct ld_hist *src);
/* The value at percentile pct (0..100): the highest value of the bucket
 * holding the ceil(pct% * count)-th smallest value, clamped to [min, max].
 * 0 -> min, 100 -> max; 0 when empty. */
uint64_t ld_hist_percentile(const struct ld_hist *h, double pct);

/* ---- tagged values (tagged.c) ----------------------------------------------
 *
 * Every value mmcache-load writes says what it is:
 *
 *   T|<key>|<writer>|<seq>|<len>|<payload>|<fnv1a64 hex>
 *
 * <len> is the length of the whole value, the checksum (16 lower-case hex
 * digits) covers every byte before the last '|'. The payload pads the value
 * to the requested size with letters derived from (writer, seq). A reader
 * knows the key it asked for, so "belongs to this key, complete and intact"
 * is checked without trusting anything in the value.
 */
enum ld_tag_status {
    LD_TAG_OK = 0,
    LD_TAG_NOT_TAGGED,     /* does not start with "T|" + a field: garbage */
    LD_TAG_WRONG_KEY,      /* intact value of another key: cross-talk */
    LD_TAG_BAD_FORMAT,     /* fields unparsable */
    LD_TAG_BAD_LENGTH,     /* length field != actual length: torn/truncated */
    LD_TAG_BAD_CHECKSUM,   /* bytes changed: corruption, freed memory */
};

struct ld_tag_info {
    uint32_t writer;
    uint64_t seq;
    size_t len;            /* the length field */
    /* LD_TAG_WRONG_KEY: which key the value names (points into the value) */
    const char *other_key;
    size_t other_key_len;
};

/* Smallest value that can carry this key, writer and seq. */
size_t ld_tag_min_size(size_t keylen, uint32_t writer, uint64_t seq);
/* Encode into buf: size bytes when size >= ld_tag_min_size() (one less
 * where the length field would otherwise have to grow a digit), else the
 * minimum. Returns the length, or 0 when cap is too small (needs len + 1). */
size_t ld_tag_encode(char *buf, size_t cap, const char *key, size_t keylen,
                     uint32_t writer, uint64_t seq, size_t size);
/* Check that val is an intact tagged value of key; fills *info (may be
 * NULL) as far as the value could be read. */
enum ld_tag_status ld_tag_verify(const char *val, size_t len, const char *key,
                                 size_t keylen, struct ld_tag_info *info);
const char *ld_tag_status_str(enum ld_tag_status st);
uint64_t ld_fnv1a64(const void *p, size_t n);
/* Printable excerpt of arbitrary bytes for evidence lines: at most
 * max_in input bytes, non-printables as \xNN, "..." when cut. */
void ld_excerpt(char *out, size_t cap, const char *p, size_t n, size_t max_in);

/* ---- key distributions (dist.c) ------------------------------------------ */
struct ld_dist {
    uint64_t n;            /* keys 0..n-1 */
    double theta;          /* 0: uniform; else zipf exponent, 0 < theta < 1 */
    double zetan, alpha, eta, half_pow;   /* zipf constants (YCSB's method) */
};

/* 0 or -EINVAL (n == 0, theta out of range). O(n) for zipf. */
int ld_dist_init(struct ld_dist *d, uint64_t n, double theta);
/* Next key; rank 0 is the most frequent under zipf. */
uint64_t ld_dist_next(const struct ld_dist *d, uint64_t *rng);
/* splitmix64: small, fast, good enough for choosing keys and ops. */
uint64_t ld_rand(uint64_t *state);

/* ---- options (opts.c) ------------------------------------------------------ */
enum ld_op { LD_GET, LD_SET, LD_INCR, LD_DEL, LD_MGET, LD_NOPS };

enum ld_check {
    LD_CHK_TAGGED, LD_CHK_COUNTER, LD_CHK_STATS, LD_CHK_MONOTONIC,
    LD_CHK_CONFIG, LD_CHK_LIVENESS,
    LD_CHK_QUEUE,       /* queue.c */
    LD_CHK_HASH,        /* hashchk.c */
    LD_CHK_SET,         /* setchk.c */
    LD_CHK_ZSET,        /* zsetchk.c; its ZPOPMIN part: queue.c */
    LD_CHK_BANK,        /* bank.c: MULTI/EXEC and WATCH transfers, audits */
    LD_CHK_MSUM,        /* msum.c: "monotonic-sum" of counters on many shards */
    LD_NCHECKS
};

/* Checkers that read one server's INFO or CONFIG: a proxy spreads the keys
 * over several servers and does not forward those commands. */
#define LD_PROXY_REFUSED (1u << LD_CHK_STATS | 1u << LD_CHK_MONOTONIC | 1u << LD_CHK_CONFIG)

/* The checkers that need MULTI/EXEC: named one by one, not part of "all"
 * (a server without transactions fails them by design). */
#define LD_CHK_TXN_MASK (1u << LD_CHK_BANK | 1u << LD_CHK_MSUM)

/* --bench: the workload. MIX the --ratio mix; TXN MULTI, INCR, INCR, EXEC
 * on two random keys; MGET_MSET an MSET of LD_BENCH_KEYS keys, then an
 * MGET of the same keys (bench.c). */
enum ld_bench { LD_BENCH_MIX, LD_BENCH_TXN, LD_BENCH_MGET_MSET };
#define LD_BENCH_KEYS 8

#define LD_MGET_MAX 16
#define LD_PREFIX_MAX 64

struct ld_opts {
    char host[256];
    int port;
    unsigned clients, threads, pipeline;
    uint64_t requests;          /* 0: only --duration bounds the run */
    double duration_s;          /* 0: only --requests bounds the run */
    uint64_t keyspace;
    double zipf;                /* 0: uniform */
    unsigned ratio[LD_NOPS];
    size_t value_size;
    char prefix[LD_PREFIX_MAX];
    unsigned mget_keys;
    unsigned counters;          /* shared counters for INCR */
    unsigned checks;            /* bit (1 << enum ld_check) */
    bool config_writer;
    unsigned config_interval_ms;
    unsigned info_interval_ms;
    unsigned reply_timeout_ms, connect_timeout_ms;
    pid_t server_pid;           /* 0: none */
    bool json, fill, allow_errors;
    /* The target is a proxy (twemproxy): no checker that needs INFO or
     * CONFIG from one server (LD_PROXY_REFUSED), no blocking pops. */
    bool proxy;
    enum ld_bench bench;
    int progress;               /* -1 auto (tty), 0 off, 1 on */
    uint64_t seed;
};

/* Parse argv into *o (defaults first). Returns 0, 1 when --help was
 * printed, or -1 with a message in err (a usage error: exit 2). */
int ld_opts_parse(struct ld_opts *o, int argc, char **argv, char *err, size_t cap);
void ld_opts_usage(FILE *f);
const char *ld_check_name(enum ld_check c);
const char *ld_op_name(enum ld_op op);
/* Commands one --bench request sends: 1 (mix), 4 (txn), 2 (mget-mset). */
unsigned ld_bench_cmds(enum ld_bench b);

#endif
