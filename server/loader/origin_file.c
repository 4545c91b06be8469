/*
 * `loader file DIR`: the value of key K is the content of the regular file
 * DIR/K. A cache client chooses K, so K must never reach anything outside
 * DIR: only keys that are plain file names (origin_key_is_safe_filename:
 * no '/', no leading '.', so no "..") are looked up at all, relative to a
 * directory fd opened once at create (so a DIR renamed or replaced later
 * does not redirect us), and no symbolic link is followed: openat2 with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, where the
 * kernel has it (it would hold even if a key with '/' got through), else
 * openat with O_NOFOLLOW (the key is one component). Anything that is
 * not a regular file (a directory, a FIFO, a socket) is a miss. A DIR on
 * procfs or sysfs (/proc/self: environ, maps) is refused at create: those
 * are the process's and the kernel's, never values.
 *
 * A file is read only if fstat says it fits max_value_len, into a buffer
 * of that size at most: one that grows meanwhile is refused once it passes.
 *
 * Shared state: only immutable fields; each load has its own fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/openat2.h>

#include "origin.h"
#include "../sanitizer.h"
#include "origin_kind.h"

struct origin_file {
    struct origin head;            /* immutable after create (origin.c fills it) */
    int dirfd;                     /* immutable after create; closed by destroy */
    char dir[CFG_LOADER_ARGLEN];   /* immutable after create: for messages */
};

static struct origin *file_create(const char *arg, uint64_t epoch, char *err,
                                  size_t errlen)
{
    /* Absolute only: a relative DIR would mean whatever the working
     * directory is at the next reload. */
    if (arg[0] != '/') {
        snprintf(err, errlen, "file: directory must be an absolute path (got '%.200s')", arg);
        return NULL;
    }
    struct origin_file *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(err, errlen, "file: out of memory");
        return NULL;
    }
    f->dirfd = open(arg, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (f->dirfd < 0) {
        snprintf(err, errlen, "file %.200s: %s", arg, strerror(errno));
        free(f);
        return NULL;
    }
    struct statfs fs;
    if (fstatfs(f->dirfd, &fs) == 0 &&
        (fs.f_type == PROC_SUPER_MAGIC || fs.f_type == SYSFS_MAGIC)) {
        snprintf(err, errlen, "file %.200s: on %s, not a directory of values", arg,
                 fs.f_type == PROC_SUPER_MAGIC ? "procfs" : "sysfs");
        close(f->dirfd);
        free(f);
        return NULL;
    }
    snprintf(f->dir, sizeof(f->dir), "%s", arg);
    return &f->head;
}

/* Read all of fd into a new buffer of at most max + 1 bytes (one over,
 * so that a file longer than max is seen to be). size_hint (from fstat,
 * <= max) sizes it; the loop still reads to EOF, because the file may
 * have changed since. */
static enum origin_rc read_all(const struct origin_file *f, const char *name,
                               int fd, size_t size_hint, uint64_t max,
                               struct origin_result *out)
{
    size_t limit = max < SIZE_MAX ? (size_t)max + 1 : SIZE_MAX;
    size_t cap = size_hint < limit ? size_hint + 1 : limit;
    size_t len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return origin__errf(out, "file %s/%s: out of memory (%zu bytes)", f->dir, name, cap);
    for (;;) {
        if (len == cap) {
            if (cap == limit) {   /* it grew past max after fstat */
                free(buf);
                return origin__too_large(out, len);
            }
            size_t ncap = cap < limit / 2 ? cap * 2 : limit;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                return origin__errf(out, "file %s/%s: out of memory", f->dir, name);
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            return origin__errf(out, "file %s/%s: %s", f->dir, name, strerror(e));
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if ((uint64_t)len > max) {
        free(buf);
        return origin__too_large(out, len);
    }
    out->data = buf;
    out->len = len;
    return ORIGIN_VALUE;
}

/* Open name under f's directory, following no link of any kind. -1 with
 * errno (ELOOP or EXDEV for a link, ENOENT for none). */
static int open_beneath(const struct origin_file *f, const char *name)
{
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
     * writer forever; for a regular file it changes nothing. */
    int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
    /* Under ThreadSanitizer, openat() only: TSan sees no fd that the raw
     * openat2 syscall creates, and libuv closes sockets by raw syscall
     * too, so closing a file that reused a client socket's number looked
     * like a race on that socket and halted the server (a false report).
     * The key is one path component (origin_key_is_safe_filename), so
     * O_NOFOLLOW refuses a link there as openat2 would. */
#if defined(SYS_openat2) && !SRV_TSAN
    struct open_how how = {
        .flags = (uint64_t)flags,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    long fd = syscall(SYS_openat2, f->dirfd, name, &how, sizeof(how));
    if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
        return (int)fd;
    /* no openat2 (kernel < 5.6, or a seccomp filter that refuses it) */
#endif
    return openat(f->dirfd, name, flags);
}

static enum origin_rc file_load(struct origin *o, const char *key, size_t klen,
                                const struct origin_params *p,
                                const _Atomic bool *cancel,
                                struct origin_result *out)
{
    const struct origin_file *f = (const struct origin_file *)o;
    /* A key that could name something outside DIR (or a hidden file) is
     * simply not there: the file system is not even asked. */
    if (!origin_key_is_safe_filename(key, klen))
        return ORIGIN_NOTFOUND;
    char name[256];   /* safe names are 1..255 bytes, no NUL */
    memcpy(name, key, klen);
    name[klen] = '\0';

    int fd = open_beneath(f, name);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT)
            return ORIGIN_NOTFOUND;
        /* An error, not a miss: the operator put a link there and should
         * learn (from the log) that it is refused, rather than see the key
         * missing. */
        if (e == ELOOP || e == EXDEV)
            return origin__errf(out, "file %s/%s: symbolic link not followed", f->dir, name);
        return origin__errf(out, "file %s/%s: %s", f->dir, name, strerror(e));
    }

    enum origin_rc rc;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = origin__errf(out, "file %s/%s: %s", f->dir, name, strerror(errno));
        goto out_close;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = ORIGIN_NOTFOUND;   /* a directory, FIFO, socket or device */
        goto out_close;
    }
    /* Refused before reading: no point copying 2 GB to throw it away. */
    if ((uint64_t)st.st_size > p->max_value_len) {
        rc = origin__too_large(out, (uint64_t)st.st_size);
        goto out_close;
    }
    rc = read_all(f, name, fd, (size_t)st.st_size, p->max_value_len, out);
out_close:
    close(fd);
    return rc;
}

static void file_destroy(struct origin *o)
{
    struct origin_file *f = (struct origin_file *)o;
    close(f->dirfd);
    free(f);
}

const struct origin_ops origin_file_ops = {
    .kind = "file",
    .create = file_create,
    .load = file_load,
    .destroy = file_destroy,
};
