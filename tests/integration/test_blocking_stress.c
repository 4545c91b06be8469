/*
 * test_blocking_stress: pushers and blocking poppers on 2 workers, meant
 * for the TSan build (the server's blocked clients: uv_async wakes, the
 * workers' blk_lock, cancel racing serve, closes while blocked).
 *
 * Pushers LPUSH numbered elements to three keys; poppers BRPOP, BLPOP or
 * BLMPOP one to three of them with short timeouts, and sometimes leave
 * while blocked (shutdown of their sending side: the server closes them;
 * anything it sent before that is still read) or get killed by a killer
 * thread (CLIENT KILL ID). Every element must end up received exactly
 * once, counting what is left in the lists at the end: none lost with a
 * client that went away, none handed out twice. Passes against
 * redis-server too (where a client gone with its element loses it: so
 * there the count only checks no duplicates and nothing unknown).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "harness.h"

#define NPUSHERS 2
#define NPOPPERS 4
#define PER_PUSHER 3000
#define NKEYS 3

static struct harness_server srv;
static const char *const keys[NKEYS] = {"sq0", "sq1", "sq2"};
static atomic_uint seen[NPUSHERS][PER_PUSHER];
static atomic_int pushers_done, bad;
static _Atomic long long popper_id[NPOPPERS];
static atomic_ulong n_left, n_killed, n_served;

static uint64_t xs(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void record(const char *s, size_t len)
{
    unsigned p, q;
    char buf[32];
    if (len >= sizeof(buf))
        goto unknown;
    memcpy(buf, s, len);
    buf[len] = 0;
    if (sscanf(buf, "p%u:%u", &p, &q) != 2 || p >= NPUSHERS || q >= PER_PUSHER)
        goto unknown;
    atomic_fetch_add(&seen[p][q], 1);
    return;
unknown:
    fprintf(stderr, "unknown element '%.*s'\n", (int)(len < 40 ? len : 40), s);
    atomic_fetch_add(&bad, 1);
}

/* Records what a pop reply holds: [key, elem], [key, [elems]], or nil. */
static void record_reply(const redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
        return;
    const redisReply *v = r->element[1];
    if (v->type == REDIS_REPLY_STRING) {
        record(v->str, v->len);
        atomic_fetch_add(&n_served, 1);
    } else if (v->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < v->elements; i++)
            record(v->element[i]->str, v->element[i]->len);
        atomic_fetch_add(&n_served, 1);
    }
}

static void *pusher(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    uint64_t r = 0x51ull * (id + 3);
    redisContext *c = harness_connect(&srv);
    for (unsigned i = 0; c && i < PER_PUSHER; i++) {
        redisReply *rep = redisCommand(c, "LPUSH %s p%u:%u", keys[xs(&r) % NKEYS], id, i);
        if (!rep || rep->type != REDIS_REPLY_INTEGER)
            atomic_fetch_add(&bad, 1);
        if (rep)
            freeReplyObject(rep);
        if (xs(&r) % 3 == 0)
            usleep(100);   /* slow enough that poppers block */
    }
    if (c)
        redisFree(c);
    atomic_fetch_add(&pushers_done, 1);
    return NULL;
}

static bool lists_empty(redisContext *c)
{
    redisReply *r = redisCommand(c, "EXISTS %s %s %s", keys[0], keys[1], keys[2]);
    bool empty = r && r->type == REDIS_REPLY_INTEGER && r->integer == 0;
    if (r)
        freeReplyObject(r);
    return empty;
}

static void *popper(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    uint64_t r = 0x9E37ull * (id + 11);
    redisContext *c = NULL;
    int idle = 0;

    while (idle < 30) {
        if (!c) {
            if (!(c = harness_connect(&srv)))
                break;
            redisReply *rep = redisCommand(c, "CLIENT ID");
            atomic_store(&popper_id[id], rep ? rep->integer : 0);
            if (rep)
                freeReplyObject(rep);
        }
        const char *k1 = keys[xs(&r) % NKEYS], *k2 = keys[xs(&r) % NKEYS];
        double tmo = 0.01 * (double)(1 + xs(&r) % 5);
        switch (xs(&r) % 3) {
        case 0: redisAppendCommand(c, "BRPOP %s %f", k1, tmo); break;
        case 1: redisAppendCommand(c, "BLPOP %s %s %f", k1, k2, tmo); break;
        default: redisAppendCommand(c, "BLMPOP %f 2 %s %s RIGHT COUNT 2", tmo, k1, k2); break;
        }
        int done = 0;
        while (!done && redisBufferWrite(c, &done) == REDIS_OK)
            ;
        bool left = xs(&r) % 10 == 0;
        if (left) {
            /* leave while (maybe) blocked: what the server sent before it
             * saw us go is still ours to read */
            usleep((useconds_t)(xs(&r) % 3000));
            shutdown(c->fd, SHUT_WR);
            atomic_fetch_add(&n_left, 1);
        }
        redisReply *rep = NULL;
        if (redisGetReply(c, (void **)&rep) != REDIS_OK) {
            redisFree(c);   /* killed, or left: a new connection */
            c = NULL;
            continue;
        }
        bool got = rep->type == REDIS_REPLY_ARRAY;
        record_reply(rep);
        freeReplyObject(rep);
        if (left) {   /* it answered before it saw us go: done with it */
            redisFree(c);
            c = NULL;
        } else if (!got && atomic_load(&pushers_done) == NPUSHERS && lists_empty(c)) {
            idle++;
        } else if (got) {
            idle = 0;
        }
        if (c && c->err) {
            redisFree(c);
            c = NULL;
        }
    }
    if (c)
        redisFree(c);
    return NULL;
}

static void *killer(void *arg)
{
    uint64_t r = 77;
    redisContext *c = harness_connect(&srv);
    while (c && atomic_load(&pushers_done) < NPUSHERS) {
        long long id = atomic_load(&popper_id[xs(&r) % NPOPPERS]);
        redisReply *rep = redisCommand(c, "CLIENT KILL ID %lld", id);
        if (rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1)
            atomic_fetch_add(&n_killed, 1);
        if (rep)
            freeReplyObject(rep);
        usleep(20000);
    }
    if (c)
        redisFree(c);
    return NULL;
}

static void test_exactly_once(void **state)
{
    pthread_t pu[NPUSHERS], po[NPOPPERS], kt;

    for (int i = 0; i < NPOPPERS; i++)
        pthread_create(&po[i], NULL, popper, (void *)(uintptr_t)i);
    pthread_create(&kt, NULL, killer, NULL);
    for (int i = 0; i < NPUSHERS; i++)
        pthread_create(&pu[i], NULL, pusher, (void *)(uintptr_t)i);
    for (int i = 0; i < NPUSHERS; i++)
        pthread_join(pu[i], NULL);
    pthread_join(kt, NULL);
    for (int i = 0; i < NPOPPERS; i++)
        pthread_join(po[i], NULL);

    redisContext *c = harness_connect(&srv);
    assert_non_null(c);
    for (int k = 0; k < NKEYS; k++) {   /* what is left (none, normally) */
        redisReply *rep = CMD(c, "LRANGE %s 0 -1", keys[k]);
        for (size_t i = 0; i < rep->elements; i++)
            record(rep->element[i]->str, rep->element[i]->len);
        freeReplyObject(rep);
    }
    assert_int_equal(harness_info_ll(c, "blocked_clients"), 0);
    redisFree(c);
    unsigned lost = 0, dup = 0;
    for (int p = 0; p < NPUSHERS; p++)
        for (int q = 0; q < PER_PUSHER; q++) {
            unsigned n = atomic_load(&seen[p][q]);
            lost += n == 0;
            dup += n > 1;
        }
    fprintf(stderr, "served %lu pops; %lu clients left while blocked, %lu killed; "
            "%u elements lost, %u received twice\n", atomic_load(&n_served),
            atomic_load(&n_left), atomic_load(&n_killed), lost, dup);
    assert_int_equal(atomic_load(&bad), 0);
    assert_int_equal(dup, 0);
    /* Redis loses what a gone client was handed: mmcache's own promise */
    if (harness_is_redis())
        fprintf(stderr, "not checked against Redis (mmcache's own): nothing lost\n");
    else
        assert_int_equal(lost, 0);
}

static int group_setup(void **state)
{
    static const char *const mm[] = {"--threads", "2", NULL};
    return harness_start(&srv, NULL, mm, NULL);
}

static int group_teardown(void **state)
{
    return harness_stop(&srv, 10000) == 0 ? 0 : -1;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);   /* a popper that left may still try to write */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exactly_once),
    };
    int failed = cmocka_run_group_tests(tests, group_setup, group_teardown);
    return harness_finish(failed);
}
