/*
 * harness: see harness.h. Child servers are started with fork+exec, get
 * PR_SET_PDEATHSIG so that a crashed test never leaves one behind, and are
 * only ever stopped through their own PID.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MMCACHE_DEFAULT_BIN
#define MMCACHE_DEFAULT_BIN "build/mmcache"
#endif

#define START_ATTEMPTS 5
#define START_BOUND_MS 10000
#define MAX_ARGS 96
#define MAX_LOGS 64
#define FILL_BATCH 500     /* SETs in flight at once in harness_fill() */

static char logs[MAX_LOGS][256];
static int nlogs;

long long harness_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void harness_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

int harness_is_redis(void)
{
    const char *v = getenv("MMCACHE_TEST_AGAINST");
    return v && strcmp(v, "redis") == 0;
}

int harness_file_mmcache_only(const char *what)
{
    if (!harness_is_redis())
        return -1;
    printf("skipped against redis-server: mmcache's own, not Redis's: %s\n", what);
    return TEST_SKIP_RC;
}

const char *harness_mmcache_bin(void)
{
    const char *v = getenv("MMCACHE_BIN");
    return v && *v ? v : MMCACHE_DEFAULT_BIN;
}

static const char *server_bin(void)
{
    if (harness_is_redis()) {
        const char *v = getenv("REDIS_SERVER_BIN");
        return v && *v ? v : "redis-server";
    }
    return harness_mmcache_bin();
}

/* Bind 127.0.0.1:0, read the port back, close. The port may be taken
 * again before the server binds it: harness_start() retries. */
int harness_free_port(void)
{
    struct sockaddr_in sa = {0};
    socklen_t len = sizeof(sa);
    int port = -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

static int push_args(const char **argv, int n, const char *const *more)
{
    for (; more && *more && n < MAX_ARGS - 1; more++)
        argv[n++] = *more;
    return n;
}

/* fork and exec argv[0] (searched in PATH when it has no '/'), its
 * stdout+stderr into `log` opened with `oflag` (O_APPEND or O_TRUNC),
 * stdin from /dev/null, SIGKILLed when the test process dies. */
static pid_t fork_exec(const char *const *argv, const char *log, int oflag)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid != 0)
        return pid;

    /* child */
    int fd = open(log, O_WRONLY | O_CREAT | oflag, 0644);
    int nul = open("/dev/null", O_RDONLY);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
    }
    if (nul >= 0)
        dup2(nul, STDIN_FILENO);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    signal(SIGPIPE, SIG_DFL);
    execvp(argv[0], (char *const *)argv);
    fprintf(stderr, "harness: exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static pid_t spawn(const char *bin, const char *conf, int port, const char *log,
                   const char *const *args, const char *const *mm_args,
                   const char *const *redis_args)
{
    const char *argv[MAX_ARGS];
    char portbuf[16];
    int n = 0;

    snprintf(portbuf, sizeof(portbuf), "%d", port);
    argv[n++] = bin;
    if (conf)
        argv[n++] = conf;   /* redis-server reads a config file only here */
    argv[n++] = "--port";
    argv[n++] = portbuf;
    argv[n++] = "--bind";
    argv[n++] = "127.0.0.1";
    if (harness_is_redis()) {
        /* No persistence; one database so that SELECT 1 fails as it does
         * in mmcache. DEBUG stays off, as it is by default in both: a test
         * that needs it says --enable-debug-command local for both. */
        static const char *const redis_fixed[] = {
            "--save", "", "--appendonly", "no", "--databases", "1",
            "--daemonize", "no", NULL};
        n = push_args(argv, n, redis_fixed);
        n = push_args(argv, n, args);
        n = push_args(argv, n, redis_args);
    } else {
        /* Two workers unless the test says otherwise (a later flag wins):
         * the default is one worker on a 2-CPU box (config/threads.c), and
         * the suite's point under TSan includes what two workers do at
         * once. A config file's threads, if any, is left to rule. */
        static const char *const two_workers[] = {"--threads", "2", NULL};
        if (!conf)
            n = push_args(argv, n, two_workers);
        n = push_args(argv, n, args);
        n = push_args(argv, n, mm_args);
    }
    argv[n] = NULL;
    return fork_exec(argv, log, O_APPEND);
}

pid_t harness_spawn_mmcache(const char *const *args, const char *out)
{
    const char *argv[MAX_ARGS];
    int n = 0;
    argv[n++] = harness_mmcache_bin();
    n = push_args(argv, n, args);
    argv[n] = NULL;
    return fork_exec(argv, out, O_TRUNC);
}

int harness_ping(int port)
{
    struct timeval tv = {0, 300000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    int ok = 0;
    if (c && !c->err) {
        redisSetTimeout(c, tv);
        redisReply *r = redisCommand(c, "PING");
        /* a server that wants a password first is up too */
        ok = r && ((r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0) ||
                   (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOAUTH ", 7) == 0));
        if (r)
            freeReplyObject(r);
    }
    if (c)
        redisFree(c);
    return ok;
}

int harness_await_ready(struct harness_server *s, pid_t pid, int port)
{
    long long deadline = harness_now_ms() + START_BOUND_MS;
    int status;
    while (harness_now_ms() < deadline) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return -1;          /* exited */
        if (harness_ping(port)) {
            s->pid = pid;
            s->port = port;
            return 0;
        }
        harness_sleep_ms(20);
    }
    kill(pid, SIGKILL);         /* never answered: give up on this one */
    waitpid(pid, &status, 0);
    return -1;
}

int harness_start(struct harness_server *s, const char *const *args,
                  const char *const *mm_args, const char *const *redis_args)
{
    return harness_start_file(s, NULL, args, mm_args, redis_args);
}

int harness_start_file(struct harness_server *s, const char *conf,
                       const char *const *args, const char *const *mm_args,
                       const char *const *redis_args)
{
    const char *bin = server_bin();
    const char *tmp = getenv("TMPDIR");

    signal(SIGPIPE, SIG_IGN);
    memset(s, 0, sizeof(*s));
    if (strchr(bin, '/') && access(bin, X_OK) != 0) {
        fprintf(stderr, "harness: server binary %s: %s (set MMCACHE_BIN)\n",
                bin, strerror(errno));
        return -1;
    }
    snprintf(s->log, sizeof(s->log), "%s/mmcache-it-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    int lfd = mkstemp(s->log);
    if (lfd < 0) {
        perror("harness: mkstemp");
        return -1;
    }
    close(lfd);
    if (nlogs < MAX_LOGS)
        snprintf(logs[nlogs++], sizeof(logs[0]), "%s", s->log);

    for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
        int port = harness_free_port();
        if (port < 0)
            continue;
        FILE *lf = fopen(s->log, "a");
        if (lf) {
            fprintf(lf, "=== harness: starting %s on port %d (attempt %d)\n",
                    bin, port, attempt + 1);
            fclose(lf);
        }
        pid_t pid = spawn(bin, conf, port, s->log, args, mm_args, redis_args);
        if (pid < 0) {
            perror("harness: fork");
            return -1;
        }
        if (harness_await_ready(s, pid, port) == 0)
            return 0;
        /* exited (port taken or bad flags) or never answered: retry */
    }
    fprintf(stderr, "harness: %s did not come up after %d attempts\n", bin,
            START_ATTEMPTS);
    harness_print_log(s);
    return -1;
}

static int decode_status(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

int harness_wait_exit(struct harness_server *s, int bound_ms)
{
    int status;
    if (s->pid <= 0)
        return -1;
    long long deadline = harness_now_ms() + bound_ms;
    while (harness_now_ms() < deadline) {
        pid_t r = waitpid(s->pid, &status, WNOHANG);
        if (r == s->pid) {
            s->pid = 0;
            return decode_status(status);
        }
        if (r < 0 && errno != EINTR) {
            s->pid = 0;
            return -1;
        }
        harness_sleep_ms(5);
    }
    fprintf(stderr, "harness: pid %d still running after %d ms: SIGKILL\n",
            (int)s->pid, bound_ms);
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &status, 0);
    s->pid = 0;
    return decode_status(status);
}

int harness_stop(struct harness_server *s, int bound_ms)
{
    if (s->pid <= 0)
        return -1;
    if (kill(s->pid, SIGTERM) != 0)
        return -1;
    return harness_wait_exit(s, bound_ms);
}

static void print_file(const char *path)
{
    char buf[4096];
    size_t n;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    fprintf(stderr, "----- server log %s -----\n", path);
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        fwrite(buf, 1, n, stderr);
    fprintf(stderr, "----- end of %s -----\n", path);
    fclose(f);
}

void harness_print_log(const struct harness_server *s)
{
    if (s->log[0])
        print_file(s->log);
}

int harness_finish(int failed)
{
    for (int i = 0; i < nlogs; i++) {
        if (failed)
            print_file(logs[i]);
        if (!getenv("MMCACHE_KEEP_LOGS"))
            unlink(logs[i]);
    }
    nlogs = 0;
    return test_exit_code(failed);
}

redisContext *harness_connect(const struct harness_server *s)
{
    struct timeval tv = {HARNESS_WAIT_MS / 1000, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
    if (!c)
        return NULL;
    if (c->err) {
        fprintf(stderr, "harness: connect: %s\n", c->errstr);
        redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    return c;
}

int harness_raw_connect(int port, int rcv_timeout_ms)
{
    return harness_raw_connect_from(NULL, port, rcv_timeout_ms);
}

int harness_raw_connect_from(const char *src_ip, int port, int rcv_timeout_ms)
{
    struct sockaddr_in sa = {0}, src = {0};
    struct timeval tv = {rcv_timeout_ms / 1000, (rcv_timeout_ms % 1000) * 1000};
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (src_ip != NULL) {
        src.sin_family = AF_INET;
        if (inet_pton(AF_INET, src_ip, &src.sin_addr) != 1 ||
            bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0) {
            close(fd);
            return -1;
        }
    }
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

redisContext *harness_connect_from(const struct harness_server *s, const char *src_ip)
{
    int fd = harness_raw_connect_from(src_ip, s->port, HARNESS_WAIT_MS);
    redisContext *c;

    if (fd < 0)
        return NULL;
    c = redisConnectFd(fd);     /* owns fd from here, even on error */
    if (c != NULL && c->err) {
        fprintf(stderr, "harness: connect from %s: %s\n", src_ip, c->errstr);
        redisFree(c);
        return NULL;
    }
    return c;
}

int harness_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

size_t harness_read_until(int fd, char *buf, size_t want, int timeout_ms,
                          int *eof)
{
    size_t got = 0;
    long long deadline = harness_now_ms() + timeout_ms;
    *eof = 0;
    while (got < want) {
        long long left = deadline - harness_now_ms();
        if (left <= 0)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        ssize_t n = recv(fd, buf + got, want - got, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) {
            *eof = 1;
            break;
        }
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            break;
        }
        got += (size_t)n;
    }
    return got;
}

int harness_wait_closed(int fd, int timeout_ms, size_t *nread)
{
    char buf[65536];
    long long deadline = harness_now_ms() + timeout_ms;
    size_t total = 0;
    int closed = 0;
    while (!closed) {
        long long left = deadline - harness_now_ms();
        if (left <= 0)
            break;
        int eof;
        size_t n = harness_read_until(fd, buf, sizeof(buf), (int)left, &eof);
        total += n;
        if (eof)
            closed = 1;
        else if (n == 0)
            break;
    }
    if (nread)
        *nread = total;
    return closed;
}

long long harness_info_ll(redisContext *c, const char *field)
{
    redisReply *r = redisCommand(c, "INFO");
    long long v = -1;
    if (r && r->type == REDIS_REPLY_STRING) {
        size_t flen = strlen(field);
        const char *p = r->str;
        while (p && *p) {
            if (strncmp(p, field, flen) == 0 && p[flen] == ':') {
                v = strtoll(p + flen + 1, NULL, 10);
                break;
            }
            p = strchr(p, '\n');
            if (p)
                p++;
        }
    }
    if (r)
        freeReplyObject(r);
    return v;
}

long harness_fill(redisContext *c, const char *prefix, long n, size_t vlen,
                  char *err, size_t errcap, long long *max_used,
                  long long maxmem)
{
    char *v = malloc(vlen);
    long errors = 0;
    if (!v)
        return -1;
    memset(v, 'x', vlen);
    for (long base = 0; base < n; base += FILL_BATCH) {
        long end = base + FILL_BATCH < n ? base + FILL_BATCH : n;
        for (long i = base; i < end; i++)
            redisAppendCommand(c, "SET %s:%ld %b", prefix, i, v, vlen);
        for (long i = base; i < end; i++) {
            redisReply *r = NULL;
            if (redisGetReply(c, (void **)&r) != REDIS_OK) {
                fprintf(stderr, "harness: connection lost during fill: %s\n",
                        c->errstr);
                errors = -1;
                goto out_free;
            }
            if (r->type == REDIS_REPLY_ERROR && errors++ == 0 && err)
                snprintf(err, errcap, "%s", r->str);
            freeReplyObject(r);
        }
        if (max_used) {
            long long used = harness_info_ll(c, "used_memory");
            if (used > *max_used)
                *max_used = used;
            if (used > maxmem + HARNESS_MEM_SLACK)
                fprintf(stderr, "used_memory %lld > maxmemory %lld + %d after %ld keys\n",
                        used, maxmem, HARNESS_MEM_SLACK, end);
        }
    }
out_free:
    free(v);
    return errors;
}

int harness_idle_client(int port)
{
    char buf[16];
    int eof;
    int fd = harness_raw_connect(port, HARNESS_WAIT_MS);
    if (fd < 0)
        return -1;
    if (harness_write_all(fd, "PING\r\n", 6) != 0 ||
        harness_read_until(fd, buf, 7, HARNESS_WAIT_MS, &eof) != 7) {
        close(fd);
        return -1;
    }
    return fd;
}

long long harness_wait_idle_closed(redisContext *busy, int idle_fd, int bound_ms)
{
    long long t0 = harness_now_ms();
    while (harness_now_ms() - t0 < bound_ms) {
        redisReply *r = redisCommand(busy, "PING");
        int pong = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
        if (r)
            freeReplyObject(r);
        if (!pong) {
            fprintf(stderr, "harness: the busy client's PING got no PONG%s%s\n",
                    busy->err ? ": " : "", busy->err ? busy->errstr : "");
            return -2;
        }
        size_t n;
        int closed = harness_wait_closed(idle_fd, 200, &n);
        if (n != 0) {
            fprintf(stderr, "harness: the idle client was sent %zu bytes\n", n);
            return -2;
        }
        if (closed)
            return harness_now_ms() - t0;
    }
    return -1;
}

long long harness_proc_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    size_t flen = strlen(field);
    long long v = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            v = atoll(line + flen + 1);
            break;
        }
    fclose(f);
    return v;
}

int harness_proc_sanitized(pid_t pid)
{
    char path[64], line[512];
    int found = 0;
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    while (!found && fgets(line, sizeof(line), f))
        found = strstr(line, "libtsan") || strstr(line, "libasan");
    fclose(f);
    return found;
}

char *harness_read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    size_t cap = 4096, len = 0, n;
    char *buf = f ? malloc(cap) : NULL;

    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) {
            char *more = realloc(buf, cap * 2);
            if (!more) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = more;
            cap *= 2;
        }
    }
    if (buf)
        buf[len] = '\0';
    if (f)
        fclose(f);
    return buf;
}

int harness_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t n = strlen(text);
    int rc = fwrite(text, 1, n, f) == n ? 0 : -1;
    return fclose(f) == 0 ? rc : -1;
}
