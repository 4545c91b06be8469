/*
 * Helpers of the blocking pop tests (test_blocking.c, test_zblocking.c):
 * a connection on a chosen worker, a command sent without waiting for its
 * reply, and the check of a served pop's reply. Include after
 * cmd_fixture.h (it uses the group's `srv`).
 */
#ifndef MMCACHE_BLOCKING_UTIL_H
#define MMCACHE_BLOCKING_UTIL_H

/* The worker a connection is on (mmcache's CLIENT INFO worker=), -1 for
 * a server that does not say (Redis). */
static __attribute__((unused)) int worker_of(redisContext *x)
{
    redisReply *r = CMD(x, "CLIENT INFO");
    const char *w = r->type == REDIS_REPLY_STRING ? strstr(r->str, " worker=") : NULL;
    int n = w ? atoi(w + 8) : -1;
    freeReplyObject(r);
    return n;
}

/* A connection on worker `want` (connecting again until the acceptor's
 * round robin puts one there); any connection on a one-worker server. */
static __attribute__((unused)) redisContext *on_worker(int want)
{
    for (int i = 0; i < 16; i++) {
        redisContext *x = harness_connect(&srv);
        assert_non_null(x);
        int w = worker_of(x);
        if (w < 0 || w == want)
            return x;
        redisFree(x);
    }
    fail_msg("no connection landed on worker %d", want);
    return NULL;
}

static __attribute__((unused)) long long client_id(redisContext *x)
{
    redisReply *r = CMD(x, "CLIENT ID");
    long long id = r->integer;
    freeReplyObject(r);
    return id;
}

/* Sends a command without waiting for its reply. */
static __attribute__((unused)) void send_only(redisContext *x, const char *fmt, ...)
{
    va_list ap;
    int done = 0;
    va_start(ap, fmt);
    assert_int_equal(redisvAppendCommand(x, fmt, ap), REDIS_OK);
    va_end(ap);
    while (!done)
        assert_int_equal(redisBufferWrite(x, &done), REDIS_OK);
}

static __attribute__((unused)) redisReply *get_reply(redisContext *x)
{
    redisReply *r = NULL;
    if (redisGetReply(x, (void **)&r) != REDIS_OK)
        fail_msg("no reply: %s", x->errstr);
    return r;
}

/* "key elem" for [key, elem]; "elem" for a bulk; "(nil)". */
static __attribute__((unused)) void expect_popped(redisContext *x, const char *want)
{
    char got[512];
    redisReply *r = get_reply(x);
    if (r->type == REDIS_REPLY_ARRAY)
        chk_joined(r, 0, 0, got, sizeof(got));
    else if (r->type == REDIS_REPLY_NIL)
        snprintf(got, sizeof(got), "(nil)");
    else
        snprintf(got, sizeof(got), "%s%.*s", r->type == REDIS_REPLY_ERROR ? "-" : "",
                 (int)r->len, r->str);
    freeReplyObject(r);
    if (strcmp(got, want) != 0)
        fail_msg("got \"%s\", want \"%s\"", got, want);
}

#endif
