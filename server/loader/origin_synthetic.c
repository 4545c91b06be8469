/*
 * `loader synthetic`: an origin that needs nothing outside the process,
 * for tests, demos and load scenarios. Every key exists; its value is
 * "key:<key>:v<epoch>" padded with '.' to synthetic_value_size bytes, so a
 * client can check any value it gets (and tell which config generation
 * built it) without knowing what was loaded. Latency and an error rate
 * are dialled in per load from the params, to play a slow or flaky
 * backend.
 *
 * No shared state: the struct is just the head (immutable), and the
 * error-rate PRNG is thread-local.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "origin.h"
#include "origin_kind.h"

struct origin_synthetic {
    struct origin head;   /* immutable after create (origin.c fills it) */
};

/* owned by: each thread (thread-local); 0 = not seeded yet */
static _Thread_local uint64_t rng_state;
/* atomic: relaxed; only makes each thread's seed different, orders nothing */
static _Atomic uint64_t rng_seeds;

/* splitmix64: spreads a counter into a well-mixed non-trivial seed. */
static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* A uniform double in [0, 1). xorshift64 is plenty for "fail about this
 * often" and, being per thread, costs no lock or shared cache line. */
static double rng_unit(void)
{
    if (rng_state == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t n = atomic_fetch_add_explicit(&rng_seeds, 1, memory_order_relaxed);
        rng_state = splitmix64(n ^ ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec);
        if (rng_state == 0)   /* xorshift's one fixed point */
            rng_state = 1;
    }
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return (double)(x >> 11) * 0x1.0p-53;
}

static struct origin *syn_create(const char *arg, uint64_t epoch, char *err,
                                 size_t errlen)
{
    if (*arg) {
        /* Refuse rather than ignore: "synthetic foo" is a typo of
         * something else, and a silent origin would hide it. */
        snprintf(err, errlen, "synthetic takes no argument (got '%.64s')", arg);
        return NULL;
    }
    struct origin_synthetic *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "synthetic: out of memory");
        return NULL;
    }
    return &s->head;
}

static enum origin_rc syn_load(struct origin *o, const char *key, size_t klen,
                               const struct origin_params *p,
                               const _Atomic bool *cancel,
                               struct origin_result *out)
{
    /* The latency, cut at the deadline: a load that cannot finish in time
     * waits until the deadline and fails, as a slow backend would. */
    int64_t left = p->deadline_ms - origin_now_ms();
    bool late = (int64_t)p->synthetic_latency_ms > left;
    if (!origin_sleep_ms(late ? left : (int64_t)p->synthetic_latency_ms, cancel))
        return origin__errf(out, "cancelled");
    if (late)
        return origin__errf(out, "timeout");

    /* Drawn after the wait: a failing backend is slow too. Rate 1 always
     * fails (the draw is < 1), rate 0 never (the draw is >= 0). */
    if (p->synthetic_error_rate > 0 && rng_unit() < p->synthetic_error_rate) {
        out->pub = "synthetic error";   /* made up: nothing of the server in it */
        return origin__errf(out, "synthetic error");
    }

    char ver[32];
    int vlen = snprintf(ver, sizeof(ver), ":v%" PRIu64, o->epoch);
    if (klen > SIZE_MAX - 4 - (size_t)vlen)
        return origin__too_large(out, UINT64_MAX);
    size_t base = 4 + klen + (size_t)vlen;
    size_t len = base > p->synthetic_value_size ? base : p->synthetic_value_size;
    /* Refused before allocating: synthetic_value_size can ask for 4 GB. */
    if ((uint64_t)len > p->max_value_len)
        return origin__too_large(out, len);

    char *v = malloc(len);
    if (!v)
        return origin__errf(out, "synthetic: out of memory (%zu bytes)", len);
    memcpy(v, "key:", 4);
    memcpy(v + 4, key, klen);   /* binary safe: the key's bytes as they are */
    memcpy(v + 4 + klen, ver, (size_t)vlen);
    memset(v + base, '.', len - base);
    out->data = v;
    out->len = len;
    return ORIGIN_VALUE;
}

static void syn_destroy(struct origin *o)
{
    free((struct origin_synthetic *)o);
}

const struct origin_ops origin_synthetic_ops = {
    .kind = "synthetic",
    .create = syn_create,
    .load = syn_load,
    .destroy = syn_destroy,
};
