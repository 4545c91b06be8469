/*
 * Redis-style log lines on stderr:
 *   "12345:M 23 Nov 2026 10:00:00.123 * Ready to accept connections"
 * Level marks as Redis: '.' debug, '-' verbose, '*' notice, '#' warning.
 * Role letter: M for the main (acceptor) thread, W for workers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "srv.h"

/* owned by: each thread (thread-local); see srv.h */
_Thread_local char srv_log_role = 'M';

/* One line, its newline included, into line[cap]; returns its length. */
static size_t format_line(char *line, size_t cap, enum cfg_loglevel level, const char *fmt,
                          va_list ap)
{
    static const char marks[] = ".-*#";
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, cap, "%d:%c ", (int)getpid(), srv_log_role);
    n += (int)strftime(line + n, cap - (size_t)n, "%d %b %Y %H:%M:%S", &tm);
    n += snprintf(line + n, cap - (size_t)n, ".%03d %c ", (int)(tv.tv_usec / 1000),
                  marks[level]);
    int m = vsnprintf(line + n, cap - (size_t)n - 1, fmt, ap);
    n = (m < 0) ? n : (n + m >= (int)cap - 1 ? (int)cap - 2 : n + m);
    line[n++] = '\n';
    return (size_t)n;
}

void srv_log(enum cfg_loglevel level, const char *fmt, ...)
{
    /* Not a request: a relaxed copy of the level, readable from any thread
     * (registered with RCU or not). */
    if (level < cfg_loglevel_now())
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    size_t n = format_line(line, sizeof(line), level, fmt, ap);
    va_end(ap);
    /* one write per line so lines from several threads never interleave */
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
}

size_t srv_log_prepare(char *line, size_t cap, enum cfg_loglevel level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = format_line(line, cap, level, fmt, ap);
    va_end(ap);
    return n;
}

#define LOG_THROTTLE_MS 1000

void srv_log_throttled(struct srv_log_throttle *t, enum cfg_loglevel level, const char *fmt, ...)
{
    if (level < cfg_loglevel_now())
        return;
    int64_t now = srv_now_ms();
    int64_t last = atomic_load_explicit(&t->last_ms, memory_order_relaxed);
    /* Relaxed: the CAS only elects which caller logs; nothing is published. */
    if (now - last < LOG_THROTTLE_MS ||
        !atomic_compare_exchange_strong_explicit(&t->last_ms, &last, now, memory_order_relaxed,
                                                 memory_order_relaxed)) {
        atomic_fetch_add_explicit(&t->held, 1, memory_order_relaxed);
        return;
    }
    uint64_t held = atomic_exchange_explicit(&t->held, 0, memory_order_relaxed);
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (held)
        srv_log(level, "%s (%llu more like it in the last %.1f s)", msg,
                (unsigned long long)held, last ? (double)(now - last) / 1000 : 0.0);
    else
        srv_log(level, "%s", msg);
}

int64_t srv_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
