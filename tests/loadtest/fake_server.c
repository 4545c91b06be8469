/*
 * ld_fake_server: a tiny single-threaded RESP server (epoll) that is
 * correct until told to break in one specific way, so that the tests can
 * show each mmcache-load checker failing for the right reason.
 *
 *   ld_fake_server --port-file PATH [--fault MODE] [--after N] [--every K]
 *
 * Binds 127.0.0.1:0 and writes the port to PATH. Commands: PING, GET, SET,
 * DEL, INCR, MGET, INFO, CONFIG GET/SET, QUIT, the lists of the queue
 * checker (fake_list.c: LPUSH RPOP BRPOP LRANGE LLEN), and for the hash
 * and set checkers (fake_coll.c) HSET, HGET, HINCRBY, HGETALL, SADD, SREM,
 * SISMEMBER, SMEMBERS, for the zset checker (fake_zset.c) ZADD, ZINCRBY,
 * ZREM, ZSCORE, ZRANGE, ZPOPMIN, BZPOPMIN; INCRBY, DECRBY and for the bank
 * and monotonic-sum checkers MULTI EXEC DISCARD WATCH UNWATCH (fake_txn.c). INFO and its counters follow Redis 7 (a command counts once it
 * has run; unknown commands do not count; GET and each MGET key count a
 * hit or a miss, the hash and set reads one for their key).
 *
 * Faults start after N commands (default 200) and hit every K-th chance
 * (default 10):
 *   none            correct
 *   wrong-value     a GET answers with another key's value
 *   corrupt         a GET answers with one byte of the value changed
 *   drop-incr       an INCR answers n+1 but does not store it
 *   drop-incr-exit  drop-incr, then SIGKILL itself at command 10*N: the
 *                   counters cannot be read back, the repeated INCR
 *                   replies must still show the lost updates
 *   stall           stop answering anything, keep the connections open
 *   reset           close the connection of the N-th command with a RST
 *   exit            SIGKILL itself at the N-th command
 *   stats-undercount  total_commands_processed skips a command
 *   info-backwards  an INFO shows total_commands_processed 1000 lower
 *   config-torn     a CONFIG GET shows the new timeout with the old maxmemory
 *   config-stale    a CONFIG GET shows the generation before the last SET
 *   config-refuse   CONFIG SET answers "-ERR CONFIG SET is not supported yet"
 *   queue-lose      an RPOP/BRPOP takes an element and answers nil (lost)
 *   queue-dup       an RPOP answers an element and leaves it in the list
 *   queue-reorder   a pop hands out a producer's newer element before its older
 *                   one (kept back for the same client's next pop)
 *   hash-wrong-value  an HGET answers with another field's value
 *   drop-hincr      an HINCRBY answers n+1 but does not store it
 *   set-missing     an SADD answers as if it added a member, and does not
 *   set-extra       an SREM answers as if it removed a member, and does not
 *   zset-wrong-score  a ZADD or ZINCRBY answers right and stores the score plus 1
 *   zset-disorder   a ZRANGE answers two neighbours swapped
 *   zpop-dup        a ZPOPMIN answers the lowest member and leaves it there
 *   txn-interleave  an EXEC runs its commands one per turn, others between
 *   txn-half        an EXEC answers for all its commands, the second one's
 *                   write undone
 *   mget-torn       an MGET answers its last key with the value that key had
 *                   before its last write
 *   watch-ignore    an EXEC runs although a watched key changed
 */
#define _GNU_SOURCE            /* accept4 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "fake_server.h"

#define NBUCKETS 16384

static const char *const fault_names[] = {
    "none", "wrong-value", "corrupt", "drop-incr", "stall", "reset", "exit",
    "stats-undercount", "info-backwards", "config-torn", "config-stale", "config-refuse",
    "queue-lose", "queue-dup", "queue-reorder",
    "hash-wrong-value", "drop-hincr", "set-missing", "set-extra",
    "zset-wrong-score", "zset-disorder", "zpop-dup", "drop-incr-exit",
    "txn-interleave", "txn-half", "mget-torn", "watch-ignore",
};

/* The whole server: one thread, so nothing here is shared. */
static struct {
    enum fault fault;
    unsigned long long after, every;
    unsigned long long commands, cmds_counted, hits, misses, chances;
    unsigned long long timeout, maxmem, prev_timeout, prev_maxmem;
    unsigned long long ver;            /* the last string write's version */
    bool reset_done;                   /* the reset fault has closed its connection */
    struct item *table[NBUCKETS];
    struct item *last_set;
    struct conn *conns;
    int epfd;
    volatile sig_atomic_t stop;
} S;

static void on_term(int sig) { S.stop = 1; }

static uint64_t hash(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;

    while (n--)
        h = (h ^ (unsigned char)*p++) * 1099511628211ull;
    return h;
}

struct item **fake_find(const char *k, size_t n)
{
    struct item **pp = &S.table[hash(k, n) % NBUCKETS];

    while (*pp && !((*pp)->klen == n && memcmp((*pp)->key, k, n) == 0))
        pp = &(*pp)->next;
    return pp;
}

static void set_value(const char *k, size_t kn, const char *v, size_t vn)
{
    struct item **pp = fake_find(k, kn), *it = *pp;

    if (it == NULL) {
        it = calloc(1, sizeof(*it));
        it->key = malloc(kn);
        memcpy(it->key, k, kn);
        it->klen = kn;
        *pp = it;
    }
    free(it->old);
    it->old = it->val;                 /* NULL: there was none */
    it->oldlen = it->vlen;
    it->val = malloc(vn ? vn : 1);
    memcpy(it->val, v, vn);
    it->vlen = vn;
    it->ver = ++S.ver;
    S.last_set = it;
}

void fake_undo_write(const char *k, size_t n)
{
    struct item *it = *fake_find(k, n);

    if (it == NULL || it->old == NULL)
        return;
    free(it->val);
    it->val = it->old;
    it->vlen = it->oldlen;
    it->old = NULL;
    it->ver = ++S.ver;
}

static void item_free(struct item *it)
{
    for (size_t i = 0; i < it->nel; i++) {
        free(it->el[i].f);
        free(it->el[i].v);
    }
    free(it->el);
    free(it->key);
    free(it->val);
    free(it->old);
    free(it);
}

int fake_del_key(const char *k, size_t n)
{
    struct item **pp = fake_find(k, n), *it = *pp;

    if (it == NULL)
        return 0;
    *pp = it->next;
    if (S.last_set == it)
        S.last_set = NULL;
    item_free(it);
    return 1;
}

/* ---- output ---- */
void out(struct conn *c, const char *p, size_t n)
{
    if (c->out_len + n > c->out_cap) {
        while (c->out_len + n > c->out_cap)
            c->out_cap = c->out_cap ? c->out_cap * 2 : 4096;
        c->out = realloc(c->out, c->out_cap);
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
}

void outf(struct conn *c, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    out(c, buf, (size_t)n);
}

void bulk(struct conn *c, const char *p, size_t n)
{
    outf(c, "$%zu\r\n", n);
    out(c, p, n);
    out(c, "\r\n", 2);
}

/* The chosen fault, past --after. */
bool armed(enum fault f)
{
    return S.fault == f && S.commands >= S.after;
}

/* A fault's turn: armed, and every --every-th chance. */
bool turn(enum fault f)
{
    return armed(f) && ++S.chances % S.every == 0;
}

void count_lookup(bool hit)
{
    if (hit)
        S.hits++;
    else
        S.misses++;
}

/* ---- commands ---- */
static void cmd_get(struct conn *c, redisReply *k, bool last_of_mget)
{
    struct item *it = *fake_find(k->str, k->len);

    if (it == NULL) {
        S.misses++;
        out(c, "$-1\r\n", 5);
        return;
    }
    S.hits++;
    if (last_of_mget && it->old != NULL && turn(F_MGET_TORN)) {
        bulk(c, it->old, it->oldlen);   /* the value before the last write */
        return;
    }
    if (S.last_set && S.last_set != it && turn(F_WRONG_VALUE)) {
        bulk(c, S.last_set->val, S.last_set->vlen);
        return;
    }
    if (it->vlen > 0 && turn(F_CORRUPT)) {
        char *v = malloc(it->vlen);

        memcpy(v, it->val, it->vlen);
        v[it->vlen / 2] ^= 0x01;
        bulk(c, v, it->vlen);
        free(v);
        return;
    }
    bulk(c, it->val, it->vlen);
}

static void cmd_incr(struct conn *c, redisReply *k, long long by)
{
    struct item *it = *fake_find(k->str, k->len);
    long long v = 0;
    char buf[32];
    int n;

    if (it != NULL) {
        char tmp[32];

        snprintf(tmp, sizeof(tmp), "%.*s", (int)(it->vlen < 31 ? it->vlen : 31), it->val);
        v = strtoll(tmp, NULL, 10);
    }
    v += by;
    outf(c, ":%lld\r\n", v);
    if (turn(F_DROP_INCR) || turn(F_DROP_INCR_EXIT))
        return;                     /* answered, not stored: a lost update */
    n = snprintf(buf, sizeof(buf), "%lld", v);
    set_value(k->str, k->len, buf, (size_t)n);
}

static void cmd_info(struct conn *c)
{
    char buf[512];
    unsigned long long total = S.cmds_counted;
    int n;

    if (turn(F_INFO_BACK) && total >= 1000)
        total -= 1000;
    n = snprintf(buf, sizeof(buf), "# Server\r\nredis_version:7.0.0-fake\r\n\r\n# Clients\r\n"
                 "connected_clients:1\r\n\r\n# Stats\r\ntotal_commands_processed:%llu\r\n"
                 "keyspace_hits:%llu\r\nkeyspace_misses:%llu\r\n", total, S.hits, S.misses);
    bulk(c, buf, (size_t)n);
}

static void config_pair(struct conn *c, const char *name, unsigned long long v)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%llu", v);

    bulk(c, name, strlen(name));
    bulk(c, buf, (size_t)n);
}

static void cmd_config(struct conn *c, redisReply **a, size_t n)
{
    if (strcasecmp(a[1]->str, "GET") == 0) {
        unsigned long long t = S.timeout, m = S.maxmem;
        size_t found = 0;

        if (turn(F_CFG_TORN))
            m = S.prev_maxmem;
        else if (turn(F_CFG_STALE)) {
            t = S.prev_timeout;
            m = S.prev_maxmem;
        }
        for (size_t i = 2; i < n; i++)
            found += strcasecmp(a[i]->str, "timeout") == 0 || strcasecmp(a[i]->str, "maxmemory") == 0;
        outf(c, "*%zu\r\n", 2 * found);
        for (size_t i = 2; i < n; i++) {
            if (strcasecmp(a[i]->str, "timeout") == 0)
                config_pair(c, "timeout", t);
            else if (strcasecmp(a[i]->str, "maxmemory") == 0)
                config_pair(c, "maxmemory", m);
        }
        return;
    }
    if (strcasecmp(a[1]->str, "SET") == 0 && n >= 4 && n % 2 == 0) {
        if (S.fault == F_CFG_REFUSE) {
            out(c, "-ERR CONFIG SET is not supported yet\r\n", 38);
            return;
        }
        S.prev_timeout = S.timeout;
        S.prev_maxmem = S.maxmem;
        for (size_t i = 2; i + 1 < n; i += 2) {
            if (strcasecmp(a[i]->str, "timeout") == 0)
                S.timeout = strtoull(a[i + 1]->str, NULL, 10);
            else if (strcasecmp(a[i]->str, "maxmemory") == 0)
                S.maxmem = strtoull(a[i + 1]->str, NULL, 10);
        }
        out(c, "+OK\r\n", 5);
        return;
    }
    out(c, "-ERR unsupported CONFIG subcommand\r\n", 36);
}

/* Run one command; returns false when the connection must close. */
bool fake_run(struct conn *c, redisReply *r)
{
    redisReply **a = r->element;
    size_t n = r->elements;
    const char *name;
    bool known = true;

    if (r->type != REDIS_REPLY_ARRAY || n == 0 || a[0]->type != REDIS_REPLY_STRING)
        return false;
    name = a[0]->str;
    if ((S.fault == F_EXIT && S.commands + 1 >= S.after && !c->in_exec) ||
        (S.fault == F_DROP_INCR_EXIT && S.commands + 1 >= 10 * S.after && !c->in_exec))
        raise(SIGKILL);
    if (S.fault == F_RESET && S.commands + 1 >= S.after && !c->in_exec && !S.reset_done) {
        struct linger lg = { 1, 0 };    /* close() sends a RST */

        S.reset_done = true;            /* once: a queued command may have had its turn */
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        S.commands++;
        return false;
    }
    if (fake_txn_run(c, r))
        ;
    else if (strcasecmp(name, "PING") == 0)
        out(c, "+PONG\r\n", 7);
    else if (strcasecmp(name, "GET") == 0 && n == 2)
        cmd_get(c, a[1], false);
    else if (strcasecmp(name, "SET") == 0 && n == 3) {
        set_value(a[1]->str, a[1]->len, a[2]->str, a[2]->len);
        out(c, "+OK\r\n", 5);
    } else if (strcasecmp(name, "DEL") == 0 && n >= 2) {
        long long d = 0;

        for (size_t i = 1; i < n; i++)
            d += fake_del_key(a[i]->str, a[i]->len) + fake_list_del(a[i]->str, a[i]->len);
        outf(c, ":%lld\r\n", d);
    } else if (strcasecmp(name, "INCR") == 0 && n == 2)
        cmd_incr(c, a[1], 1);
    else if ((strcasecmp(name, "INCRBY") == 0 || strcasecmp(name, "DECRBY") == 0) && n == 3) {
        long long by = strtoll(a[2]->str, NULL, 10);
        cmd_incr(c, a[1], toupper((unsigned char)name[0]) == 'D' ? -by : by);
    } else if (strcasecmp(name, "MGET") == 0 && n >= 2) {
        outf(c, "*%zu\r\n", n - 1);
        for (size_t i = 1; i < n; i++)
            cmd_get(c, a[i], i == n - 1);
    } else if (strcasecmp(name, "INFO") == 0)
        cmd_info(c);
    else if (strcasecmp(name, "CONFIG") == 0 && n >= 2)
        cmd_config(c, a, n);
    else if (fake_list_run(c, a, n))
        ;
    else if (fake_coll_run(c, a, n) || fake_zset_run(c, a, n))
        ;
    else if (strcasecmp(name, "QUIT") == 0) {
        out(c, "+OK\r\n", 5);
        return false;
    } else {
        outf(c, "-ERR unknown command '%.40s'\r\n", name);
        known = false;
    }
    S.commands++;
    if (known && !turn(F_STATS_UNDER))
        S.cmds_counted++;
    return true;
}

static void drop(struct conn *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        S.conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    close(c->fd);
    redisReaderFree(c->rd);
    fake_txn_free(c);
    free(c->out);
    free(c);
}

/* Run the commands that arrived (not while an EXEC runs step by step),
 * write the replies (blocking writes are fine for a test server: the
 * client always reads). */
static void process(struct conn *c)
{
    void *r;
    bool keep = true;

    while (keep && c->step == 0 && redisReaderGetReply(c->rd, &r) == REDIS_OK && r != NULL) {
        keep = fake_run(c, r);
        if (!c->took)                 /* else queued by MULTI: freed with the queue */
            freeReplyObject(r);
        c->took = false;
        if (S.fault == F_STALL && S.commands >= S.after)
            break;
    }
    for (size_t off = 0; off < c->out_len;) {
        ssize_t w = send(c->fd, c->out + off, c->out_len - off, MSG_NOSIGNAL);

        if (w < 0 && errno == EAGAIN)
            continue;
        if (w <= 0) {
            keep = false;
            break;
        }
        off += (size_t)w;
    }
    c->out_len = 0;
    if (!keep)
        drop(c);
}

/* Read what arrived, and run it. */
static void serve(struct conn *c)
{
    char buf[65536];
    ssize_t n = read(c->fd, buf, sizeof(buf));

    if (n <= 0) {
        if (n < 0 && errno == EAGAIN)
            return;
        drop(c);
        return;
    }
    if (S.fault == F_STALL && S.commands >= S.after)
        return;                       /* swallow: never answer again */
    redisReaderFeed(c->rd, buf, (size_t)n);
    process(c);
}

/* txn-interleave: each EXEC running step by step runs one more command;
 * one that finishes answers, then runs what waited behind it. Returns
 * whether any is still running. */
static bool step_all(void)
{
    bool more = false;

    for (struct conn *c = S.conns, *next; c != NULL; c = next) {
        next = c->next;
        if (c->step == 0)
            continue;
        if (fake_txn_step(c))
            more = true;
        else
            process(c);               /* may drop c: next was read before */
    }
    return more;
}

static int listen_on(const char *port_file)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    char tmp[4096];
    FILE *f;

    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 512) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0)
        return -1;
    snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
    f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "%d\n", ntohs(a.sin_port));
    fclose(f);
    return rename(tmp, port_file) == 0 ? fd : -1;   /* the reader sees all or nothing */
}

int main(int argc, char **argv)
{
    const char *port_file = NULL;
    struct epoll_event ev, evs[64];
    struct sigaction sa = { .sa_handler = on_term };
    int lfd;

    S.after = 200;
    S.every = 10;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port-file") == 0)
            port_file = argv[i + 1];
        else if (strcmp(argv[i], "--after") == 0)
            S.after = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--every") == 0)
            S.every = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--fault") == 0) {
            size_t f;

            for (f = 0; f < sizeof(fault_names) / sizeof(fault_names[0]); f++)
                if (strcmp(argv[i + 1], fault_names[f]) == 0)
                    break;
            if (f == sizeof(fault_names) / sizeof(fault_names[0])) {
                fprintf(stderr, "unknown fault %s\n", argv[i + 1]);
                return 2;
            }
            S.fault = (enum fault)f;
        }
    }
    if (port_file == NULL || S.every == 0) {
        fprintf(stderr, "usage: ld_fake_server --port-file PATH [--fault MODE] [--after N] [--every K]\n");
        return 2;
    }
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    lfd = listen_on(port_file);
    S.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (lfd < 0 || S.epfd < 0) {
        perror("ld_fake_server");
        return 1;
    }
    ev.events = EPOLLIN;
    ev.data.ptr = NULL;
    epoll_ctl(S.epfd, EPOLL_CTL_ADD, lfd, &ev);
    bool stepping = false;

    while (!S.stop) {
        int n = epoll_wait(S.epfd, evs, 64, stepping ? 1 : 100);

        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL) {
                int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
                struct conn *c;

                if (fd < 0)
                    continue;
                c = calloc(1, sizeof(*c));
                c->fd = fd;
                c->rd = redisReaderCreate();
                c->next = S.conns;
                if (S.conns != NULL)
                    S.conns->prev = c;
                S.conns = c;
                ev.events = EPOLLIN;
                ev.data.ptr = c;
                epoll_ctl(S.epfd, EPOLL_CTL_ADD, fd, &ev);
                continue;
            }
            serve(evs[i].data.ptr);
        }
        stepping = step_all();
    }
    /* free everything, so that LSan has nothing to report */
    while (S.conns != NULL)
        drop(S.conns);
    for (size_t b = 0; b < NBUCKETS; b++)
        while (S.table[b] != NULL) {
            struct item *it = S.table[b];

            S.table[b] = it->next;
            item_free(it);
        }
    fake_list_free_all();
    close(lfd);
    close(S.epfd);
    return 0;
}
