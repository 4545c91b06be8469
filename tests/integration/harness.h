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

struct harness_server {
    pid_t pid;            /* 0 when not running */
    int port;
    char log[256];        /* path of the captured stdout/stderr */
};

/* True under MMCACHE_TEST_AGAINST=redis. */
int harness_is_redis(void);

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

/* Print every log of this process when failed != 0, then delete them. */
void harness_finish(int failed);

/* hiredis connection with a 5 s connect and command timeout; NULL on
 * error. */
redisContext *harness_connect(const struct harness_server *s);

/* Raw blocking TCP socket to the server with a receive timeout; -1 on
 * error. */
int harness_raw_connect(int port, int rcv_timeout_ms);

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

/* Value of `field` in an INFO reply ("field:value\r\n"), as long long;
 * -1 when missing. */
long long harness_info_ll(redisContext *c, const char *field);

/* Monotonic milliseconds. */
long long harness_now_ms(void);

void harness_sleep_ms(int ms);

#endif
