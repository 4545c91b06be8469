/*
 * test_reload: 500 SIGHUPs under load. Four clients run pipelined
 * SET/GET/INCR on their own keys and check every reply exactly; a fifth
 * reads CONFIG GET timeout maxmemory and INFO config_generation in a loop.
 * Meanwhile the test swaps the config file between two valid versions
 * (different maxmemory and timeout) and, one time in ten, an invalid one,
 * and sends SIGHUP, waiting for each reload to be answered.
 *
 * What must hold: every request gets its correct reply and none is lost;
 * CONFIG GET's two fields always come from one generation (the files set
 * timeout = 3600 + k and maxmemory = 2^40 + k, the convention of
 * mmcache-load's config checker); config_generation never goes back for
 * one reader; at the end the generation has grown by exactly the number
 * of valid reloads and config_reload_failures equals the invalid ones; the
 * log holds the exact error of an invalid file; the server exits 0 (and,
 * in the sanitizer builds, with no report).
 *
 * test_sighup_flood: SIGHUPs sent faster than the server can reload
 * (kill() in a loop). New connections are answered while the flood goes
 * on, and a SIGHUP after it still reloads the file as it is then.
 *
 * mmcache only: Redis has no SIGHUP reload.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define RELOADS 500
#define CLIENTS 4
#define PIPELINE 16
#define KEYS_PER_CLIENT 64
#define GB40 (1ULL << 40)

static struct harness_server srv;
static char conf_path[256];

/* atomic: relaxed; a stop flag for the load threads, orders nothing (they
 * report through pthread_join) */
static _Atomic int stop_load;

struct client_result {
    int id;
    uint64_t requests, replies, wrong;
    char first_wrong[256];
};

struct config_result {
    uint64_t reads, torn, backwards, errors;
    char first_bad[256];
};

/* ---- config files ------------------------------------------------------- */

static void write_conf(const char *text)
{
    char tmp[300];
    snprintf(tmp, sizeof(tmp), "%s.tmp", conf_path);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    /* atomic swap: the server never reads half a file */
    assert_int_equal(rename(tmp, conf_path), 0);
}

/* Generation k of the valid file: timeout 3600+k, maxmemory 2^40+k. From
 * k = 1 on it also asks for another shard count, which cannot change
 * live: the running value must be kept (and the log say so). With `more`
 * lines more, each its timeout line again: the same settings, from a file
 * whose every reload takes a while (every line is parsed and applied). */
static void write_valid_long(unsigned k, unsigned more)
{
    char text[512];
    snprintf(text, sizeof(text),
             "# valid config %u\n"
             "timeout %u\n"
             "maxmemory %llu\n"
             "maxmemory-policy %s\n"
             "%s"
             "loglevel notice\n",
             k, 3600 + k, (unsigned long long)(GB40 + k), k % 2 ? "allkeys-lru" : "volatile-lru",
             k ? "shards 512\n" : "");
    char again[32];
    int n = snprintf(again, sizeof(again), "timeout %u\n", 3600 + k);
    size_t len = strlen(text);
    char *all = malloc(len + (size_t)more * (size_t)n + 1);
    assert_non_null(all);
    memcpy(all, text, len);
    for (unsigned i = 0; i < more; i++, len += (size_t)n)
        memcpy(all + len, again, (size_t)n);
    all[len] = 0;
    write_conf(all);
    free(all);
}

static void write_valid(unsigned k)
{
    write_valid_long(k, 0);
}

static const char *const invalid_files[] = {
    "timeout 3601\nmaxmemory 1099511627777\ntimeout abc\n",
    "timeout 3601\nbogus-directive 1\n",
    "maxmemory \"unbalanced\n",
    "maxmemory 12xb\n",
    "maxmemory-policy sometimes\n",
};
#define NINVALID (sizeof(invalid_files) / sizeof(invalid_files[0]))

/* ---- the load ------------------------------------------------------------- */

/* Keep the first failure's description in dst (later ones only count). */
static void keep_first(char *dst, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void keep_first(char *dst, size_t cap, const char *fmt, ...)
{
    if (dst[0] != 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}

#define bad(r, ...) ((r)->wrong++, keep_first((r)->first_wrong, sizeof((r)->first_wrong), __VA_ARGS__))
#define cbad(r, ...) keep_first((r)->first_bad, sizeof((r)->first_bad), __VA_ARGS__)

/* Per client: keys c<id>:k<n> hold "v<id>:<n>:<seq>"; counter c<id>:ctr
 * counts this client's INCRs exactly. */
static void *client_main(void *arg)
{
    struct client_result *r = arg;
    redisContext *c = harness_connect(&srv);
    char key[64], val[64], ctr[64];
    uint64_t seq[KEYS_PER_CLIENT] = {0};
    long long incrs = 0;

    if (!c) {
        bad(r, "connect failed");
        return NULL;
    }
    snprintf(ctr, sizeof(ctr), "reload:c%d:ctr", r->id);
    redisReply *rep = redisCommand(c, "DEL %s", ctr);
    freeReplyObject(rep);
    for (uint64_t round = 0; !atomic_load_explicit(&stop_load, memory_order_relaxed); round++) {
        /* one pipelined batch: SET k, GET k, INCR ctr, ... */
        int kinds[PIPELINE];
        unsigned slot[PIPELINE];
        for (int i = 0; i < PIPELINE; i++) {
            unsigned n = (unsigned)((round * PIPELINE + (uint64_t)i) % KEYS_PER_CLIENT);
            snprintf(key, sizeof(key), "reload:c%d:k%u", r->id, n);
            kinds[i] = i % 3;
            slot[i] = n;
            if (kinds[i] == 0) {
                seq[n]++;
                snprintf(val, sizeof(val), "v%d:%u:%llu", r->id, n, (unsigned long long)seq[n]);
                redisAppendCommand(c, "SET %s %s", key, val);
            } else if (kinds[i] == 1) {
                redisAppendCommand(c, "GET %s", key);
            } else {
                redisAppendCommand(c, "INCR %s", ctr);
            }
            r->requests++;
        }
        for (int i = 0; i < PIPELINE; i++) {
            void *p = NULL;
            if (redisGetReply(c, &p) != REDIS_OK || !p) {
                bad(r, "no reply (connection error: %s) after %llu replies", c->errstr,
                    (unsigned long long)r->replies);
                redisFree(c);
                return NULL;
            }
            rep = p;
            r->replies++;
            unsigned n = slot[i];
            if (kinds[i] == 0) {
                if (rep->type != REDIS_REPLY_STATUS || strcmp(rep->str, "OK") != 0)
                    bad(r, "SET reply type %d '%s'", rep->type, rep->str ? rep->str : "");
            } else if (kinds[i] == 1) {
                snprintf(val, sizeof(val), "v%d:%u:%llu", r->id, n, (unsigned long long)seq[n]);
                if (seq[n] == 0 ? rep->type != REDIS_REPLY_NIL
                                : (rep->type != REDIS_REPLY_STRING || strcmp(rep->str, val) != 0))
                    bad(r, "GET reload:c%d:k%u: want %s, got type %d '%s'", r->id, n,
                        seq[n] ? val : "nil", rep->type, rep->str ? rep->str : "");
            } else {
                incrs++;
                if (rep->type != REDIS_REPLY_INTEGER || rep->integer != incrs)
                    bad(r, "INCR %s: want %lld, got type %d %lld '%s'", ctr, incrs, rep->type,
                        rep->integer, rep->str ? rep->str : "");
            }
            freeReplyObject(rep);
        }
    }
    rep = redisCommand(c, "GET %s", ctr);
    if (!rep || rep->type != REDIS_REPLY_STRING || atoll(rep->str) != incrs)
        bad(r, "final counter: want %lld", incrs);
    freeReplyObject(rep);
    redisFree(c);
    return NULL;
}

/* CONFIG GET timeout maxmemory: both from one generation k. */
static void *config_reader_main(void *arg)
{
    struct config_result *r = arg;
    redisContext *c = harness_connect(&srv);
    long long last_gen = 0;

    if (!c) {
        r->errors++;
        return NULL;
    }
    while (!atomic_load_explicit(&stop_load, memory_order_relaxed)) {
        redisReply *rep = redisCommand(c, "CONFIG GET timeout maxmemory");
        if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 4) {
            r->errors++;
            cbad(r, "CONFIG GET: bad reply");
            freeReplyObject(rep);
            break;
        }
        const char *t = NULL, *m = NULL;
        for (size_t i = 0; i + 1 < rep->elements; i += 2) {
            if (strcmp(rep->element[i]->str, "timeout") == 0)
                t = rep->element[i + 1]->str;
            else if (strcmp(rep->element[i]->str, "maxmemory") == 0)
                m = rep->element[i + 1]->str;
        }
        long long kt = t ? atoll(t) - 3600 : -1;
        long long km = m ? (long long)(strtoull(m, NULL, 10) - GB40) : -2;
        r->reads++;
        if (kt != km) {
            r->torn++;
            cbad(r, "CONFIG GET: timeout %s and maxmemory %s are from different generations",
                 t ? t : "?", m ? m : "?");
        }
        freeReplyObject(rep);
        long long gen = harness_info_ll(c, "config_generation");
        if (gen < last_gen) {
            r->backwards++;
            cbad(r, "config_generation went back from %lld to %lld", last_gen, gen);
        }
        last_gen = gen;
    }
    redisFree(c);
    return NULL;
}

/* ---- the test ----------------------------------------------------------------- */

static long long info_now(redisContext *c, const char *field)
{
    long long v = harness_info_ll(c, field);
    if (v < 0)
        fail_msg("INFO has no %s", field);
    return v;
}

/* Start the server on valid file k (write_valid_long); a control
 * connection to it. */
static redisContext *start_with_file(unsigned k, unsigned more)
{
    write_valid_long(k, more);
    const char *const mm[] = {"--config", conf_path, NULL};
    if (harness_start(&srv, NULL, mm, NULL) != 0)
        fail_msg("server did not start");
    redisContext *ctl = harness_connect(&srv);
    assert_non_null(ctl);
    return ctl;
}

/* Wait until the reload triggered by the last SIGHUP has been answered:
 * either a new generation or one more failure. */
static int wait_reload(redisContext *c, long long gen, long long fails)
{
    long long deadline = harness_now_ms() + 10000;
    while (harness_now_ms() < deadline) {
        if (harness_info_ll(c, "config_generation") > gen ||
            harness_info_ll(c, "config_reload_failures") > fails)
            return 0;
        harness_sleep_ms(1);
    }
    return -1;
}

static int count_in_log(const char *needle)
{
    FILE *f = fopen(srv.log, "r");
    char line[2048];
    int n = 0;
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

static void test_sighup_storm(void **state)
{
    (void)state;
    pthread_t th[CLIENTS + 1];
    struct client_result cr[CLIENTS];
    struct config_result cfgr = {0};
    int valid = 0, invalid = 0;

    redisContext *ctl = start_with_file(0, 0);
    long long gen0 = info_now(ctl, "config_generation");
    long long fail0 = info_now(ctl, "config_reload_failures");

    atomic_store(&stop_load, 0);
    for (int i = 0; i < CLIENTS; i++) {
        memset(&cr[i], 0, sizeof(cr[i]));
        cr[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, client_main, &cr[i]), 0);
    }
    assert_int_equal(pthread_create(&th[CLIENTS], NULL, config_reader_main, &cfgr), 0);

    for (int i = 0; i < RELOADS; i++) {
        if (i % 10 == 4)
            write_conf(invalid_files[(i / 10) % NINVALID]);
        else
            write_valid(1 + (unsigned)(i % 2));
        long long gen = info_now(ctl, "config_generation");
        long long fails = info_now(ctl, "config_reload_failures");
        assert_int_equal(kill(srv.pid, SIGHUP), 0);
        if (wait_reload(ctl, gen, fails) != 0)
            fail_msg("reload %d was not answered within 10 s", i);
        if (i % 10 == 4)
            invalid++;
        else
            valid++;
    }
    atomic_store(&stop_load, 1);
    for (int i = 0; i <= CLIENTS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);

    for (int i = 0; i < CLIENTS; i++) {
        if (cr[i].wrong)
            fail_msg("client %d: %llu wrong replies; first: %s", i,
                     (unsigned long long)cr[i].wrong, cr[i].first_wrong);
        assert_true(cr[i].requests > 0);
        assert_int_equal(cr[i].replies, cr[i].requests);
    }
    if (cfgr.torn || cfgr.backwards || cfgr.errors)
        fail_msg("config reader: %llu torn, %llu backwards, %llu errors in %llu reads; first: %s",
                 (unsigned long long)cfgr.torn, (unsigned long long)cfgr.backwards,
                 (unsigned long long)cfgr.errors, (unsigned long long)cfgr.reads, cfgr.first_bad);
    assert_true(cfgr.reads > 0);
    print_message("%d reloads (%d invalid); config reader made %llu reads; clients %llu requests\n",
                  RELOADS, invalid, (unsigned long long)cfgr.reads,
                  (unsigned long long)(cr[0].requests + cr[1].requests + cr[2].requests + cr[3].requests));

    /* Exactly one generation per valid reload, one failure per invalid. */
    assert_int_equal(info_now(ctl, "config_generation"), gen0 + valid);
    assert_int_equal(info_now(ctl, "config_reload_failures"), fail0 + invalid);
    /* The last file was valid (k = 2). */
    assert_int_equal(info_now(ctl, "config_last_reload_ok"), 1);
    redisReply *rep = redisCommand(ctl, "CONFIG GET timeout");
    assert_non_null(rep);
    assert_int_equal(rep->elements, 2);
    assert_string_equal(rep->element[1]->str, "3602");
    freeReplyObject(rep);
    assert_int_equal(info_now(ctl, "tcp_port"), srv.port);
    redisFree(ctl);

    int st = harness_stop(&srv, 15000);
    /* The log names each invalid file's error exactly, and each reload. */
    char needle[512];
    snprintf(needle, sizeof(needle), "%s:3: 'timeout': argument must be an integer between 0 and "
             "2147483647 inclusive (got 'abc')", conf_path);
    if (count_in_log(needle) < 1 || count_in_log("Config reload FAILED") != invalid ||
        count_in_log("Config reloaded: now generation") != valid ||
        count_in_log("shards cannot change while running; keeping 1024") < 1) {
        harness_print_log(&srv);
        fail_msg("the log does not report the reloads as expected");
    }
    if (st != 0)
        harness_print_log(&srv);
    assert_int_equal(st, 0);
}

/* ---- a flood of SIGHUPs ---------------------------------------------------- */

/* How long a new connection's PING may wait during the flood: a reload or
 * two, however slow the build and the machine; a stall lasts the flood. */
#define FLOOD_PING_MS 10000
#define FLOOD_PINGS 3
/* Lines of the flood's config file: about 25 ms a reload in a release
 * build, so that the flood outruns the reloads there too, not only in the
 * sanitizer builds. */
#define FLOOD_FILE_LINES 40000
/* Between two SIGHUPs: thousands a second, far more than the reloads, and
 * a core left to the server on a small machine. */
#define FLOOD_GAP_US 200
/* Reloads that show the flood at work before the PINGs. */
#define FLOOD_RELOADS 3

/* atomic: relaxed; stops the flooder, which reports through pthread_join */
static _Atomic int stop_flood;

static void *flood_main(void *arg)
{
    unsigned long long *sent = arg;
    while (!atomic_load_explicit(&stop_flood, memory_order_relaxed) &&
           kill(srv.pid, SIGHUP) == 0) {
        ++*sent;
        usleep(FLOOD_GAP_US);
    }
    return NULL;
}

/* A new connection's PING: the milliseconds until PONG, -1 for none
 * within FLOOD_PING_MS. */
static long long fresh_ping_ms(void)
{
    char buf[8];
    int eof = 0;
    long long t0 = harness_now_ms();
    int fd = harness_raw_connect(srv.port, FLOOD_PING_MS);
    if (fd < 0)
        return -1;
    size_t got = 0;
    if (harness_write_all(fd, "PING\r\n", 6) == 0)
        got = harness_read_until(fd, buf, 7, FLOOD_PING_MS, &eof);
    close(fd);
    return got == 7 && memcmp(buf, "+PONG\r\n", 7) == 0 ? harness_now_ms() - t0 : -1;
}

/* libuv runs the callbacks of every signal queued in its pipe before it
 * polls again: while each SIGHUP ran its own reload, a flood kept the
 * acceptor from accept() until it stopped (issue 14: bug 24's scenario, a
 * new client's GET unanswered for 6 s). */
static void test_sighup_flood(void **state)
{
    (void)state;
    pthread_t flooder;
    unsigned long long sent = 0;
    long long worst = 0, ms = 0;

    redisContext *ctl = start_with_file(1, FLOOD_FILE_LINES);
    long long gen0 = info_now(ctl, "config_generation");

    atomic_store(&stop_flood, 0);
    assert_int_equal(pthread_create(&flooder, NULL, flood_main, &sent), 0);
    /* The flood is on once reloads publish (this connection was accepted
     * before it: a worker answers it whatever the acceptor does). */
    long long deadline = harness_now_ms() + 10000;
    while (harness_info_ll(ctl, "config_generation") < gen0 + FLOOD_RELOADS &&
           harness_now_ms() < deadline)
        harness_sleep_ms(10);
    for (int i = 0; i < FLOOD_PINGS && ms >= 0; i++) {
        ms = fresh_ping_ms();
        if (ms > worst)
            worst = ms;
    }
    long long gen1 = harness_info_ll(ctl, "config_generation");
    atomic_store(&stop_flood, 1);   /* before any assertion can end the test */
    assert_int_equal(pthread_join(flooder, NULL), 0);
    print_message("%llu SIGHUPs, %lld reloads while new connections PINGed (slowest %lld ms)\n",
                  sent, gen1 - gen0, worst);
    if (gen1 < gen0 + FLOOD_RELOADS)
        fail_msg("%d reloads did not publish within 10 s of the flood's start", FLOOD_RELOADS);
    if (ms < 0)
        fail_msg("a new connection got no PONG within %d ms while SIGHUPs kept coming",
                 FLOOD_PING_MS);

    /* The SIGHUPs after the last reload began are not lost in a merge. */
    write_valid(2);
    assert_int_equal(kill(srv.pid, SIGHUP), 0);
    deadline = harness_now_ms() + 10000;
    char timeout[16] = "";
    while (strcmp(timeout, "3602") != 0 && harness_now_ms() < deadline) {
        redisReply *rep = redisCommand(ctl, "CONFIG GET timeout");
        assert_true(rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2);
        snprintf(timeout, sizeof(timeout), "%s", rep->element[1]->str);
        freeReplyObject(rep);
        harness_sleep_ms(5);
    }
    assert_string_equal(timeout, "3602");
    redisFree(ctl);
    int st = harness_stop(&srv, 15000);
    if (st != 0)
        harness_print_log(&srv);
    assert_int_equal(st, 0);
}

int main(void)
{
    int own = harness_file_mmcache_only("SIGHUP reload");
    if (own >= 0)
        return own;
    snprintf(conf_path, sizeof(conf_path), "/tmp/mmcache-reload-%d.conf", (int)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sighup_storm),
        cmocka_unit_test(test_sighup_flood),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (srv.pid > 0)
        harness_stop(&srv, 5000);
    unlink(conf_path);
    return harness_finish(failed);
}
