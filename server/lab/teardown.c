/*
 * The teardown's crash report (bug-lab rule 9, "always stoppable", and
 * rule 8, a verdict names its cause).
 *
 * Bugs 3 and 13 write a shard's table, LRU list and TTL index with no
 * exclusion; bug 8 appends to one cache-wide buffer from every worker.
 * What they break often stays hidden while the server runs (two INCRs of
 * one counter race, the item one of them replaced is freed while the other
 * still links it) and is met at exit, when cache_destroy walks every list
 * and frees every item: jemalloc gets a pointer it already freed, and the
 * process dies of SIGSEGV a moment after SIGTERM. In the bug-13 demo that
 * was 9 stops in 10: correct for the bug, confusing for the audience.
 *
 * So, only when one of those bugs ran in this process, the main thread
 * catches a fatal signal while it frees the cache and ends with a log line
 * that says what happened and names the bug, then _exit(1). A free that
 * blocks on the allocator's lock instead (the damage can leave it held)
 * is ended by the stop guard, which watches main's CPU meanwhile. The line is
 * formatted before the free (a handler may only write). With none of them
 * run, nothing is caught: a crash there would be a defect of the correct
 * code, and must show as one. Sanitizer builds keep their own handlers:
 * their report of the bad free is the better evidence.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "inject.h"
#include "srv.h"

#define TEARDOWN_SANITIZER (SRV_ASAN || SRV_TSAN)

/* The bugs whose mechanism corrupts what cache_destroy frees. */
static const int corrupters[] = {3, 8, 13};
/* The signals a bad free or a walk through freed items ends in. */
static const int fatal[] = {SIGSEGV, SIGBUS, SIGABRT};
#define NFATAL (sizeof(fatal) / sizeof(fatal[0]))

/* owned by: the main thread; written before the handlers are installed
 * (sigaction orders them before any delivery), read by the handler on the
 * same thread. */
static char lines[NFATAL][1024];
static size_t line_len[NFATAL];
static struct sigaction saved[NFATAL];
static bool armed;
/* owned by: the main thread; written before srv_stop_guard_teardown
 * publishes it (release), immutable until srv_teardown_guard_end. */
static char ran[256];

static void on_fatal(int sig)
{
    for (size_t i = 0; i < NFATAL; i++)
        if (fatal[i] == sig) {
            ssize_t w = write(STDERR_FILENO, lines[i], line_len[i]);
            (void)w;
        }
    _exit(1);
}

/* "bug 13 (mutex copied by value: its path ran 2071732 times)" for each
 * corrupter that ran; false when none did. */
static bool which_ran(char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof(corrupters) / sizeof(corrupters[0]); i++) {
        uint64_t t = inject_tried_total(corrupters[i]);
        if (t == 0 || n >= cap)
            continue;
        n += (size_t)snprintf(buf + n, cap - n, "%sbug %d (%s: its path ran %" PRIu64 " times)",
                              n ? " and " : "", corrupters[i], cfg_bug(corrupters[i])->title, t);
    }
    return n > 0;
}

void srv_teardown_guard_begin(void)
{
    if (TEARDOWN_SANITIZER || !which_ran(ran, sizeof(ran)))
        return;
    for (size_t i = 0; i < NFATAL; i++)
        line_len[i] = srv_log_prepare(
            lines[i], sizeof(lines[i]), CFG_LOG_WARNING,
            "Freeing the cache at exit crashed (SIG%s). Injected %s: unguarded writes to the "
            "shard tables, LRU lists and items, whose damage freeing every item meets again. "
            "Exiting now, status 1, without freeing the rest",
            sigabbrev_np(fatal[i]) ? sigabbrev_np(fatal[i]) : "?", ran);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_fatal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    for (size_t i = 0; i < NFATAL; i++)
        sigaction(fatal[i], &sa, &saved[i]);
    armed = true;
    /* A free that blocks instead (the allocator's lock, taken by a free
     * that the damage cut short): the stop guard ends it. */
    srv_stop_guard_teardown(ran);
}

void srv_teardown_guard_end(void)
{
    if (!armed)
        return;
    srv_stop_guard_teardown(NULL);
    for (size_t i = 0; i < NFATAL; i++)
        sigaction(fatal[i], &saved[i], NULL);
    armed = false;
}
