/*
 * What the origin tests (test_origin*.c) share: params with a deadline,
 * one-call loads, and a thread that sets a cancel flag after a delay.
 * Header-only: each test is one executable.
 */
#ifndef MMCACHE_TEST_ORIGIN_FIXTURE_H
#define MMCACHE_TEST_ORIGIN_FIXTURE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "origin.h"

#define FX_MAX_VALUE (64u << 20)   /* generous: tests that need less say so */

/* Params for a load that must end within `ms` from now. */
static inline struct origin_params fx_params(int64_t ms)
{
    struct origin_params p = {0};
    p.deadline_ms = origin_now_ms() + ms;
    p.max_value_len = FX_MAX_VALUE;
    return p;
}

/* One load of a NUL-terminated key. */
static inline enum origin_rc fx_load(struct origin *o, const char *key,
                                     const struct origin_params *p,
                                     struct origin_result *res)
{
    return origin_load(o, key, strlen(key), p, NULL, res);
}

/* Sets *flag (release, as shutdown would) after delay_ms. */
struct fx_canceller {
    pthread_t tid;
    _Atomic bool *flag;
    int64_t delay_ms;
};

static inline void *fx_cancel_main(void *arg)
{
    struct fx_canceller *c = arg;
    origin_sleep_ms(c->delay_ms, NULL);
    atomic_store_explicit(c->flag, true, memory_order_release);
    return NULL;
}

static inline void fx_cancel_after(struct fx_canceller *c, _Atomic bool *flag, int64_t ms)
{
    c->flag = flag;
    c->delay_ms = ms;
    if (pthread_create(&c->tid, NULL, fx_cancel_main, c) != 0)
        abort();
}

static inline void fx_cancel_join(struct fx_canceller *c)
{
    pthread_join(c->tid, NULL);
}

#endif
