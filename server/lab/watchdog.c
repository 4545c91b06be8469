/*
 * The watchdog: one thread that reads every worker's heartbeat (bumped by
 * the worker's 100 ms tick, so an idle worker beats too) and names a worker
 * whose loop has not turned for WATCHDOG_STALL_MS: a deadlock, a loop that
 * never ends (a corrupted list), or a request that runs far too long. It
 * logs once per stall what it measured (how much CPU the stuck thread used
 * meanwhile: all of it is a loop, none is a thread blocked on a lock) and
 * which bugs are injected, never a guess at the cause; once more when the
 * worker moves again. INFO shows how many are stalled now and how many
 * stalls there were.
 *
 * It only reads: it cannot unstick anything, and the workers never wait
 * for it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "srv.h"

#define WATCHDOG_PERIOD_MS 250
#define WATCHDOG_STALL_MS 2000

/* Start/stop, owned by: the main thread. */
static pthread_t wd_thread;
static bool wd_running;

static pthread_mutex_t wd_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wd_cond;     /* CLOCK_MONOTONIC; signalled by srv_watchdog_stop */
static bool wd_stop;               /* guarded by: wd_lock */

static _Atomic unsigned wd_stalled;      /* atomic: relaxed; watchdog writes, INFO reads */
static _Atomic uint64_t wd_stalls_total; /* atomic: relaxed; watchdog writes, INFO reads */

/* What the watchdog last saw of one worker. Owned by: the watchdog thread. */
struct wd_seen {
    uint64_t beat;       /* the heartbeat last read */
    int64_t since_ms;    /* when it last moved (monotonic) */
    int64_t cpu_ns;      /* its thread's CPU clock then (-1: unknown) */
    bool reported;       /* this stall was logged */
};

int64_t srv_thread_cpu_ns(pthread_t t)
{
    clockid_t id;
    struct timespec ts;
    if (pthread_getcpuclockid(t, &id) != 0 || clock_gettime(id, &ts) != 0)
        return -1;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void wd_report(const struct srv_worker *w, const struct wd_seen *s, int64_t now)
{
    char bugs[128], cpu[96] = "";
    int64_t c = srv_thread_cpu_ns(w->thread);
    double stalled = (double)(now - s->since_ms) / 1000;
    if (c >= 0 && s->cpu_ns >= 0) {
        double used = (double)(c - s->cpu_ns) / 1e9;
        snprintf(cpu, sizeof(cpu), "; its thread used %.1f s of CPU meanwhile (%s)", used,
                 used > stalled / 2 ? "running: a loop that does not end?"
                                    : "waiting: blocked on a lock?");
    }
    cfg_bugs_format(srv_bugs_selected(), bugs, sizeof(bugs));
    srv_log(CFG_LOG_WARNING, "Worker %u has made no progress for %.1f s%s (injected bugs: %s)",
            w->id, stalled, cpu, bugs);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One look at every worker. */
static void wd_check(struct wd_seen *seen, int64_t now)
{
    unsigned stalled = 0;
    for (unsigned i = 0; i < srv.nworkers; i++) {
        struct srv_worker *w = &srv.workers[i];
        struct wd_seen *s = &seen[i];
        if (atomic_load_explicit(&w->exited, memory_order_relaxed))
            continue;   /* shut down: no loop left to turn */
        uint64_t beat = atomic_load_explicit(&w->heartbeat, memory_order_relaxed);
        if (beat != s->beat) {
            if (s->reported)
                srv_log(CFG_LOG_NOTICE, "Worker %u is making progress again after %.1f s",
                        w->id, (double)(now - s->since_ms) / 1000);
            s->beat = beat;
            s->since_ms = now;
            s->cpu_ns = srv_thread_cpu_ns(w->thread);
            s->reported = false;
            continue;
        }
        if (now - s->since_ms < WATCHDOG_STALL_MS)
            continue;
        stalled++;
        if (!s->reported) {
            s->reported = true;
            atomic_fetch_add_explicit(&wd_stalls_total, 1, memory_order_relaxed);
            wd_report(w, s, now);
        }
    }
    atomic_store_explicit(&wd_stalled, stalled, memory_order_relaxed);
}

static void *wd_main(void *arg)
{
    struct wd_seen *seen = arg;
    pthread_setname_np(pthread_self(), "mmc-watchdog");
    srv_log_role = 'D';
    int64_t last = mono_ms();
    for (unsigned i = 0; i < srv.nworkers; i++) {
        seen[i].beat = atomic_load_explicit(&srv.workers[i].heartbeat, memory_order_relaxed);
        seen[i].since_ms = last;
        seen[i].cpu_ns = srv_thread_cpu_ns(srv.workers[i].thread);
    }
    pthread_mutex_lock(&wd_lock);
    while (!wd_stop) {
        struct timespec dl;
        clock_gettime(CLOCK_MONOTONIC, &dl);
        dl.tv_nsec += WATCHDOG_PERIOD_MS * 1000000L;
        dl.tv_sec += dl.tv_nsec / 1000000000L;
        dl.tv_nsec %= 1000000000L;
        while (!wd_stop && pthread_cond_timedwait(&wd_cond, &wd_lock, &dl) != ETIMEDOUT)
            ;
        if (wd_stop)
            break;
        pthread_mutex_unlock(&wd_lock);
        int64_t now = mono_ms();
        /* The watchdog itself did not run for a while (the process was
         * stopped, the machine starved it): that time is nobody's stall. */
        if (now - last > WATCHDOG_PERIOD_MS + 1000)
            for (unsigned i = 0; i < srv.nworkers; i++)
                seen[i].since_ms += now - last - WATCHDOG_PERIOD_MS;
        last = now;
        wd_check(seen, now);
        pthread_mutex_lock(&wd_lock);
    }
    pthread_mutex_unlock(&wd_lock);
    free(seen);
    return NULL;
}

int srv_watchdog_start(void)
{
    struct wd_seen *seen = calloc(srv.nworkers ? srv.nworkers : 1, sizeof(*seen));
    if (!seen)
        return -ENOMEM;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&wd_cond, &ca);
    pthread_condattr_destroy(&ca);
    wd_stop = false;   /* no watchdog thread yet: nothing to race with */
    int rc = pthread_create(&wd_thread, NULL, wd_main, seen);
    if (rc) {
        free(seen);
        pthread_cond_destroy(&wd_cond);
        return -rc;
    }
    wd_running = true;
    return 0;
}

void srv_watchdog_stop(void)
{
    if (!wd_running)
        return;
    pthread_mutex_lock(&wd_lock);
    wd_stop = true;
    pthread_cond_signal(&wd_cond);
    pthread_mutex_unlock(&wd_lock);
    pthread_join(wd_thread, NULL);
    pthread_cond_destroy(&wd_cond);
    wd_running = false;
}

void srv_watchdog_info(struct proto_buf *b, int *rc)
{
    srv__infof(b, rc, "watchdog_stalled_workers:%u\r\nwatchdog_stalls_total:%llu\r\n",
               atomic_load_explicit(&wd_stalled, memory_order_relaxed),
               (unsigned long long)atomic_load_explicit(&wd_stalls_total,
                                                        memory_order_relaxed));
}
