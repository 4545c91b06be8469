/*
 * origin.h's common part: the table of kinds, the shared head, the
 * reference count, and the checks every load gets whatever its kind
 * (deadline and cancel on entry, max_value_len on exit), so that each kind
 * only has to fetch bytes; and the helpers of origin_kind.h.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "origin.h"
#include "origin_kind.h"

/* One line per kind; a new kind is one more line (and its file). */
static const struct origin_ops *const kinds[] = {
    [CFG_LOADER_SYNTHETIC] = &origin_synthetic_ops,
    [CFG_LOADER_REDIS] = &origin_redis_ops,
    [CFG_LOADER_FILE] = &origin_file_ops,
};

#define ORIGIN_SLICE_MS 10   /* how late a sleeper may notice *cancel */

struct origin *origin_create(enum cfg_loader kind, const char *arg,
                             uint64_t epoch, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    if (kind == CFG_LOADER_NONE)
        return NULL;   /* no loader: not an error, err stays "" */
    if ((unsigned)kind >= sizeof(kinds) / sizeof(kinds[0]) || !kinds[kind]) {
        snprintf(err, errlen, "unknown loader kind %d", (int)kind);
        return NULL;
    }
    if (!arg)
        arg = "";
    if (strlen(arg) >= CFG_LOADER_ARGLEN) {
        snprintf(err, errlen, "%s: argument longer than %d bytes",
                 kinds[kind]->kind, CFG_LOADER_ARGLEN - 1);
        return NULL;
    }

    const struct origin_ops *ops = kinds[kind];
    struct origin *o = ops->create(arg, epoch, err, errlen);
    if (!o)
        return NULL;
    /* The kind allocated the whole struct; the head is ours to fill, once,
     * before anyone else can see o (immutable from here on). */
    o->ops = ops;
    o->kind = kind;
    if (*arg)
        snprintf(o->spec, sizeof(o->spec), "%s %s", ops->kind, arg);
    else
        snprintf(o->spec, sizeof(o->spec), "%s", ops->kind);
    o->epoch = epoch;
    atomic_init(&o->refs, 1);
    return o;
}

void origin_get(struct origin *o)
{
    /* Relaxed: the caller already holds a reference, so o cannot be freed
     * under us and nothing is published by taking another one. */
    unsigned old = atomic_fetch_add_explicit(&o->refs, 1, memory_order_relaxed);
    assert(old > 0);
    (void)old;
}

void origin_put(struct origin *o)
{
    if (!o)
        return;
    /* acq_rel: the release orders this holder's last use of o before the
     * decrement; the acquire on the decrement that reaches zero pairs with
     * every other holder's release, so destroy sees all their writes. */
    unsigned old = atomic_fetch_sub_explicit(&o->refs, 1, memory_order_acq_rel);
    assert(old > 0);
    if (old == 1)
        o->ops->destroy(o);
}

const struct origin_ops *origin_kind_ops(enum cfg_loader kind)
{
    if ((unsigned)kind >= sizeof(kinds) / sizeof(kinds[0]))
        return NULL;
    return kinds[kind];
}

enum origin_rc origin_load(struct origin *o, const char *key, size_t klen,
                           const struct origin_params *p,
                           const _Atomic bool *cancel, struct origin_result *out)
{
    return origin_load_as(o->ops, o, key, klen, p, cancel, out);
}

enum origin_rc origin_load_as(const struct origin_ops *ops, struct origin *o,
                              const char *key, size_t klen,
                              const struct origin_params *p,
                              const _Atomic bool *cancel, struct origin_result *out)
{
    out->data = NULL;
    out->len = 0;
    out->err[0] = '\0';
    out->pub = NULL;

    /* Checked here once for every kind: a load queued past its deadline
     * or during shutdown costs the origin nothing. */
    if (cancel && atomic_load_explicit(cancel, memory_order_acquire))
        return origin__errf(out, "cancelled");
    if (p->deadline_ms - origin_now_ms() <= 0)
        return origin__errf(out, "timeout");

    enum origin_rc rc = ops->load(o, key, klen, p, cancel, out);

    if (rc != ORIGIN_VALUE) {
        /* The caller frees data only with a value: never leak a kind's
         * half-built buffer, never hand back an error without a reason. */
        free(out->data);
        out->data = NULL;
        out->len = 0;
        if (rc == ORIGIN_ERROR && out->err[0] == '\0')
            origin__errf(out, "%s: unknown error", o->spec);
        if (rc == ORIGIN_NOTFOUND)
            out->err[0] = '\0';
        return rc;
    }
    if ((uint64_t)out->len > p->max_value_len) {
        size_t len = out->len;
        free(out->data);
        out->data = NULL;
        out->len = 0;
        return origin__too_large(out, len);
    }
    return ORIGIN_VALUE;
}

int64_t origin_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool origin_sleep_ms(int64_t ms, const _Atomic bool *cancel)
{
    int64_t end = origin_now_ms() + ms;
    for (;;) {
        /* acquire: pairs with the release store of whoever sets *cancel
         * (shutdown), so what it wrote before is visible once we stop. */
        if (cancel && atomic_load_explicit(cancel, memory_order_acquire))
            return false;
        /* Measured against the clock, not summed slices: nanosleep
         * oversleeps, and the sum would drift late. */
        int64_t left = end - origin_now_ms();
        if (left <= 0)
            return true;
        if (left > ORIGIN_SLICE_MS)
            left = ORIGIN_SLICE_MS;
        struct timespec ts = {0, (long)left * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
}

bool origin_key_is_safe_filename(const char *key, size_t klen)
{
    /* A leading '.' rules out ".", ".." and hidden files at once. */
    if (klen == 0 || klen > 255 || key[0] == '.')
        return false;
    for (size_t i = 0; i < klen; i++) {
        unsigned char c = (unsigned char)key[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

/* An IPv6 literal needs the brackets, else its last ':' could not be
 * told from the port's. */
int origin__parse_hostport(const char *kind, const char *arg, char *host, size_t hostcap,
                           int *port, char *err, size_t errlen)
{
    const char *start, *colon;
    size_t hlen;
    if (arg[0] == '[') {
        const char *close = strchr(arg, ']');
        if (!close || close[1] != ':')
            goto out_bad;
        start = arg + 1;
        hlen = (size_t)(close - start);
        colon = close + 1;
    } else {
        colon = strrchr(arg, ':');
        if (!colon || memchr(arg, ':', (size_t)(colon - arg)))
            goto out_bad;   /* no port, or an unbracketed IPv6 literal */
        start = arg;
        hlen = (size_t)(colon - arg);
    }
    if (hlen == 0 || hlen >= hostcap)
        goto out_bad;
    memcpy(host, start, hlen);
    host[hlen] = '\0';

    char *end;
    errno = 0;
    long v = strtol(colon + 1, &end, 10);
    if (colon[1] < '0' || colon[1] > '9' || *end || errno)   /* no sign, no blanks */
        goto out_bad;
    if (v < 1 || v > 65535) {
        snprintf(err, errlen, "%s '%.200s': port must be 1..65535", kind, arg);
        return -1;
    }
    *port = (int)v;
    return 0;
out_bad:
    snprintf(err, errlen, "%s '%.200s': expected HOST:PORT (IPv6 as [::1]:6380)", kind, arg);
    return -1;
}

enum origin_rc origin__errf(struct origin_result *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->err, sizeof(out->err), fmt, ap);
    va_end(ap);
    return ORIGIN_ERROR;
}

enum origin_rc origin__too_large(struct origin_result *out, uint64_t len)
{
    out->pub = "value too large";
    return origin__errf(out, "value too large (%llu bytes)", (unsigned long long)len);
}
