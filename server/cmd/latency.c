/*
 * LATENCY LATEST/HISTORY/RESET/DOCTOR/HELP: Redis 7.0's latency monitor.
 * Events of at least latency-monitor-threshold ms (0: none recorded) are
 * kept per event as Redis keeps them: the last SRV_LATENCY_SAMPLES
 * seconds that had one (two in the same second keep the larger), and the
 * largest ever seen.
 *
 * Events: "command" and "fast-command" (a call, by its command's fast
 * flag, as Redis names them), "expire-cycle" (a worker's active expiry
 * pass), "config-reload" (SIGHUP), "loader" (one origin call),
 * "eviction-cycle" (the time one command's writes, a loader fill or a
 * reload spent evicting keys to stay under maxmemory, measured by the
 * cache: srv_latency_eviction). Redis's per-key "eviction-del" is not
 * kept: the cache times each eviction, not each key's delete.
 *
 * Every thread that records (workers, the acceptor, loader threads) takes
 * latency_lock, a leaf; so does each LATENCY command while it reads or
 * formats. The threshold is copied out of each published snapshot into
 * `threshold_ms` by the config apply hook, so threads that hold no
 * snapshot (loader threads) read it too.
 *
 * Context: any thread.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "srv.h"

#define SRV_LATENCY_SAMPLES 160   /* Redis's LATENCY_TS_LEN */

static const char *const event_names[SRV_LAT_EVENTS] = {
    [SRV_LAT_COMMAND] = "command",
    [SRV_LAT_FAST_COMMAND] = "fast-command",
    [SRV_LAT_EXPIRE_CYCLE] = "expire-cycle",
    [SRV_LAT_CONFIG_RELOAD] = "config-reload",
    [SRV_LAT_LOADER] = "loader",
    [SRV_LAT_EVICTION_CYCLE] = "eviction-cycle",
};

struct lat_sample {
    int64_t time_s;   /* 0: an empty slot */
    uint64_t ms;
};

struct lat_series {
    struct lat_sample s[SRV_LATENCY_SAMPLES];
    unsigned idx;     /* the next slot to write */
    uint64_t max_ms;
    bool any;         /* a sample was recorded since the last reset */
};

static pthread_mutex_t latency_lock = PTHREAD_MUTEX_INITIALIZER;   /* lock order: leaf */
static struct lat_series series[SRV_LAT_EVENTS];   /* guarded by: latency_lock */
/* atomic: relaxed; the config apply hook writes, recorders read (a
 * threshold a moment old only decides one more or one less sample) */
static _Atomic long long threshold_ms;

void srv_latency_set_threshold(long long ms)
{
    atomic_store_explicit(&threshold_ms, ms, memory_order_relaxed);
}

void srv_latency_sample(enum srv_lat_event ev, uint64_t ms)
{
    long long thr = atomic_load_explicit(&threshold_ms, memory_order_relaxed);

    if (thr <= 0 || ms < (uint64_t)thr)
        return;
    int64_t now = (int64_t)time(NULL);
    pthread_mutex_lock(&latency_lock);
    struct lat_series *ts = &series[ev];
    struct lat_sample *prev = &ts->s[(ts->idx + SRV_LATENCY_SAMPLES - 1) % SRV_LATENCY_SAMPLES];
    if (ms > ts->max_ms)
        ts->max_ms = ms;
    ts->any = true;
    if (prev->time_s == now) {   /* one sample a second: the larger */
        if (ms > prev->ms)
            prev->ms = ms;
    } else {
        ts->s[ts->idx] = (struct lat_sample){now, ms};
        ts->idx = (ts->idx + 1) % SRV_LATENCY_SAMPLES;
    }
    pthread_mutex_unlock(&latency_lock);
}

/* The event named a, or -1. */
static int event_of(const struct proto_arg *a)
{
    for (int i = 0; i < SRV_LAT_EVENTS; i++)
        if (srv__arg_is(a, event_names[i]))
            return i;
    return -1;
}

/* LATENCY LATEST: per event: name, time and ms of its last sample, max. */
SRV_HANDLER(srv_cmd_latency_latest)
{
    long long n = 0;

    pthread_mutex_lock(&latency_lock);
    for (int i = 0; i < SRV_LAT_EVENTS; i++)
        n += series[i].any;
    srv_reply_array(c, n);
    for (int i = 0; i < SRV_LAT_EVENTS; i++) {
        const struct lat_series *ts = &series[i];
        const struct lat_sample *last =
            &ts->s[(ts->idx + SRV_LATENCY_SAMPLES - 1) % SRV_LATENCY_SAMPLES];
        if (!ts->any)
            continue;
        srv_reply_array(c, 4);
        srv_reply_bulk_cstr(c, event_names[i]);
        srv_reply_int(c, (long long)last->time_s);
        srv_reply_int(c, (long long)last->ms);
        srv_reply_int(c, (long long)ts->max_ms);
    }
    pthread_mutex_unlock(&latency_lock);
}

/* LATENCY HISTORY event: its samples, oldest first; none for an event
 * never seen (or unknown), as Redis answers. */
SRV_HANDLER(srv_cmd_latency_history)
{
    int ev = event_of(&argv[2]);
    long long n = 0;

    if (ev < 0) {
        srv_reply_array(c, 0);
        return;
    }
    pthread_mutex_lock(&latency_lock);
    const struct lat_series *ts = &series[ev];
    for (unsigned j = 0; j < SRV_LATENCY_SAMPLES; j++)
        n += ts->s[j].time_s != 0;
    srv_reply_array(c, n);
    for (unsigned j = 0; j < SRV_LATENCY_SAMPLES; j++) {
        const struct lat_sample *s = &ts->s[(ts->idx + j) % SRV_LATENCY_SAMPLES];
        if (s->time_s == 0)
            continue;
        srv_reply_array(c, 2);
        srv_reply_int(c, (long long)s->time_s);
        srv_reply_int(c, (long long)s->ms);
    }
    pthread_mutex_unlock(&latency_lock);
}

/* LATENCY RESET [event ...]: forget those events (all without one); how
 * many had samples. */
SRV_HANDLER(srv_cmd_latency_reset)
{
    long long n = 0;

    pthread_mutex_lock(&latency_lock);
    for (int i = 0; i < SRV_LAT_EVENTS; i++) {
        bool named = argc == 2;
        for (size_t k = 2; k < argc && !named; k++)
            named = event_of(&argv[k]) == i;
        if (named && series[i].any) {
            memset(&series[i], 0, sizeof(series[i]));
            n++;
        }
    }
    pthread_mutex_unlock(&latency_lock);
    srv_reply_int(c, n);
}

/* LATENCY DOCTOR: a report in words, in our own. */
SRV_HANDLER(srv_cmd_latency_doctor)
{
    struct proto_buf b;
    long long thr = atomic_load_explicit(&threshold_ms, memory_order_relaxed);
    int rc = 0;
    bool any = false;

    proto_buf_init(&b);
    if (thr <= 0) {
        srv__infof(&b, &rc, "The latency monitor is off (latency-monitor-threshold is 0), so "
                            "there is nothing to report. Turn it on with CONFIG SET "
                            "latency-monitor-threshold <milliseconds>.\n");
        goto out_reply;
    }
    pthread_mutex_lock(&latency_lock);
    for (int i = 0; i < SRV_LAT_EVENTS; i++) {
        const struct lat_series *ts = &series[i];
        uint64_t sum = 0, n = 0;
        if (!ts->any)
            continue;
        for (unsigned j = 0; j < SRV_LATENCY_SAMPLES; j++)
            if (ts->s[j].time_s != 0) {
                sum += ts->s[j].ms;
                n++;
            }
        any = true;
        srv__infof(&b, &rc, "- %s: %llu latency spikes of at least %lld ms (average %llu ms, "
                            "worst %llu ms).\n", event_names[i], (unsigned long long)n, thr,
                   (unsigned long long)(n ? sum / n : 0), (unsigned long long)ts->max_ms);
    }
    pthread_mutex_unlock(&latency_lock);
    if (!any)
        srv__infof(&b, &rc, "No event of %lld ms or more was seen since the start or the last "
                            "LATENCY RESET.\n", thr);
    else
        srv__infof(&b, &rc, "\nWhere to look: SLOWLOG GET names the slow commands; "
                            "expire-cycle means many keys expire at once; eviction-cycle means "
                            "writes had to evict many keys (or large ones) to stay under "
                            "maxmemory: raise maxmemory, write smaller values, or turn on "
                            "lazyfree-lazy-eviction; loader means a slow origin; "
                            "config-reload a slow config file.\n");
out_reply:
    if (rc < 0)
        srv_reply_error(c, SRV_ERR_NOMEM);
    else
        srv_reply_bulk(c, b.data, b.len);
    proto_buf_free(&b);
}

SRV_HANDLER(srv_cmd_latency_help)
{
    static const char *const lines[] = {
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        NULL,
    };
    srv__reply_help(c, "LATENCY", lines);
}
