/*
 * harness: start the server under test as a child process on a free
 * loopback port, talk to it, stop it by PID.
 *
 * Which binary: $MMCACHE_BIN, else the path CMake compiled in
 * (MMCACHE_DEFAULT_BIN). With MMCACHE_TEST_AGAINST=redis the harness starts
 * `redis-server --save '' --appendonly no ...` instead, which is how the
 * expectations in these tests are checked against the real Redis 7.
 *
 * Every server's stdout+stderr go to a log file; harness_finish() prints
 * the logs when a test group failed and removes them otherwise.
 *
 * Context: single-threaded test code, except harness_connect*() which any
 * thread may call.
 */
#ifndef MMCACHE_HARNESS_H
#define MMCACHE_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

#include "skip.h"

struct harness_server {
    pid_t pid;            /* 0 when not running */
    int port;
    char log[256];        /* path of the captured stdout/stderr */
};

/*
 * How long a test waits for what must happen (a reply, a close, a count
 * reached): a bound on a hang, never a claim about speed. A 10 MB SET took
 * over 5 s under TSan beside two CPU-bound processes on the shared 2-core
 * host. Waits for what must NOT happen (no close, no reply) stay short.
 */
#define HARNESS_WAIT_MS 60000

/* True under MMCACHE_TEST_AGAINST=redis. */
int harness_is_redis(void);

/*
 * What a test checks from here on is mmcache's own, not Redis's (its own
 * settings, INFO fields, log lines, loader, reload): under
 * MMCACHE_TEST_AGAINST=redis the test is skipped, saying so, and the file
 * ends as Skipped (tests/skip.h). Needs <cmocka.h>.
 */
#define HARNESS_MMCACHE_ONLY(what)                                      \
    do {                                                                \
        if (harness_is_redis())                                         \
            TEST_SKIP("mmcache's own, not Redis's: %s", (what));       \
    } while (0)

/* A whole test file that is mmcache's own: under MMCACHE_TEST_AGAINST=redis,
 * say so and return the exit code that ctest shows as Skipped; else -1. */
int harness_file_mmcache_only(const char *what);

/*
 * Start a server on a free 127.0.0.1 port and wait (bounded) until PING
 * answers PONG. `args` (NULL-terminated, may be NULL) go to both kinds of
 * server; `mm_args` only to mmcache, `redis_args` only to redis-server,
 * for settings whose spelling differs. Retries with a new port when the
 * server does not come up. Returns 0 or -1 (the log has been printed).
 */
int harness_start(struct harness_server *s, const char *const *args,
                  const char *const *mm_args, const char *const *redis_args);

/*
 * harness_start() with a config file as the first argument (`server FILE
 * --port P ...`), the one place redis-server reads one; mmcache takes it
 * there too. Flags after it override the file in both.
 */
int harness_start_file(struct harness_server *s, const char *conf,
                       const char *const *args, const char *const *mm_args,
                       const char *const *redis_args);

/* The mmcache binary: $MMCACHE_BIN, else the path CMake compiled in (for
 * tests that run it themselves, whatever MMCACHE_TEST_AGAINST says). */
const char *harness_mmcache_bin(void);

/* A 127.0.0.1 port that was free a moment ago (bind to port 0, read it
 * back, close): another process may take it before the caller does. */
int harness_free_port(void);

/*
 * Run mmcache (harness_mmcache_bin()) with `args` (NULL-terminated, may be
 * NULL) after argv[0], for tests that need a command line the harness
 * does not write (no --port, a file with errors): stdout and stderr into
 * `out` (emptied first), stdin from /dev/null, SIGKILLed should the test
 * process die. Returns the PID or -1; the caller waits for it
 * (harness_await_ready(), harness_wait_exit()).
 */
pid_t harness_spawn_mmcache(const char *const *args, const char *out);

/*
 * Wait (bounded, 10 s) until the server the caller started as `pid`
 * answers PING on `port`: then 0, with s->pid and s->port set (nothing
 * else of *s is touched). -1 when it exited first, or never answered and
 * was killed; it has been reaped either way.
 */
int harness_await_ready(struct harness_server *s, pid_t pid, int port);

/* 1 when a server on 127.0.0.1:port answers PING with PONG (or with
 * NOAUTH: it wants a password first) within 300 ms, else 0. */
int harness_ping(int port);

/*
 * SIGTERM the server by PID and wait up to `bound_ms` (SIGKILL after).
 * Returns the exit status (0..255), 128+signal when killed by a signal,
 * or -1 on error. The log file is kept for harness_finish().
 */
int harness_stop(struct harness_server *s, int bound_ms);

/* Wait (bounded) for an already-signalled or exiting server; same result
 * as harness_stop(). Does not send a signal. */
int harness_wait_exit(struct harness_server *s, int bound_ms);

/* Print a server's log to stderr (with a header). */
void harness_print_log(const struct harness_server *s);

/* Print every log of this process when failed != 0, then delete them.
 * Returns the exit code for main: 1 when failed, TEST_SKIP_RC when a test
 * was skipped, else 0. */
int harness_finish(int failed);

/* hiredis connection with HARNESS_WAIT_MS connect and command timeouts;
 * NULL on error. */
redisContext *harness_connect(const struct harness_server *s);

/* Raw blocking TCP socket to the server with a receive timeout; -1 on
 * error. */
int harness_raw_connect(int port, int rcv_timeout_ms);

/*
 * The same from a chosen source address (NULL: the kernel's choice).
 * A client bound to 127.0.0.2 reaches a server on 127.0.0.1 but is not
 * local in Redis 7.0's sense (only 127.0.0.1 and ::1 are): how the tests
 * play a remote client without leaving the machine.
 */
int harness_raw_connect_from(const char *src_ip, int port, int rcv_timeout_ms);
/* hiredis over harness_raw_connect_from() (HARNESS_WAIT_MS timeouts);
 * NULL on error. */
redisContext *harness_connect_from(const struct harness_server *s, const char *src_ip);

/* Write all of buf (blocking). 0 or -1. */
int harness_write_all(int fd, const void *buf, size_t len);

/*
 * Read until `want` bytes have arrived, EOF, an error, or timeout_ms
 * passed. Returns bytes read; *eof is set to 1 when the peer closed
 * (EOF or ECONNRESET).
 */
size_t harness_read_until(int fd, char *buf, size_t want, int timeout_ms,
                          int *eof);

/* Wait until the peer closes (EOF/RST) within timeout_ms, discarding any
 * data. Returns 1 when closed, 0 on timeout. Bytes read go to *nread. */
int harness_wait_closed(int fd, int timeout_ms, size_t *nread);

/*
 * Eviction runs before each command, so the command that reads used_memory
 * (INFO) sees its own working memory on top: Redis 7 reports up to ~1.3 KB
 * over maxmemory there. Allow one command's worth, not a trend.
 */
#define HARNESS_MEM_SLACK (64 * 1024)

/*
 * SET `prefix`:0 .. `prefix`:n-1 to vlen bytes of 'x', pipelined 500 at a
 * time. Returns the number of error replies (the first one into err when
 * err is not NULL), or -1 when the connection was lost. With max_used,
 * INFO's used_memory is read after each batch, the highest kept in
 * *max_used, and a line goes to stderr when it passes maxmem +
 * HARNESS_MEM_SLACK.
 */
long harness_fill(redisContext *c, const char *prefix, long n, size_t vlen,
                  char *err, size_t errcap, long long *max_used,
                  long long maxmem);

/* A raw connection (HARNESS_WAIT_MS timeouts) that has sent one PING and
 * read its reply, so the server has surely accepted it, and now stays
 * idle. -1 on error. */
int harness_idle_client(int port);

/*
 * The idle timeout at work: wait up to bound_ms for the server to close
 * `idle_fd` without a word, while `busy` sends a PING every ~200 ms.
 * Returns the milliseconds it took; -1 when it stayed open; -2 when busy
 * got no PONG or the idle client was sent data (said on stderr).
 */
long long harness_wait_idle_closed(redisContext *busy, int idle_fd, int bound_ms);

/* Value of `field` in an INFO reply ("field:value\r\n"), as long long;
 * -1 when missing. */
long long harness_info_ll(redisContext *c, const char *field);

/* A field of /proc/PID/status in kB ("VmRSS", "VmHWM": resident now, and
 * its peak); -1 when missing. */
long long harness_proc_kb(pid_t pid, const char *field);

/* 1 when the process runs under a sanitizer's runtime (its shadow memory
 * inflates RSS: TSan's about 5x what the program touches, ASan's more
 * than 1x plus its quarantine), for tests that bound memory. */
int harness_proc_sanitized(pid_t pid);

/* A whole (text) file, NUL-terminated, malloc'd; NULL when it cannot be
 * read. And a file written with text (0 or -1). */
char *harness_read_file(const char *path);
int harness_write_file(const char *path, const char *text);

/* Monotonic milliseconds. */
long long harness_now_ms(void);

void harness_sleep_ms(int ms);

#endif
