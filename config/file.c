/*
 * The config file: Redis's format (`directive value` lines, # comments,
 * quoted strings), read into a struct cfg, and written back by CONFIG
 * REWRITE keeping the operator's comments and order.
 */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_MAX_ARGS 16   /* client-output-buffer-limit: the name and 3 groups of 4 */
#define FILE_MAX_BYTES (1024 * 1024)   /* a config file, not a data file */
#define FILE_USER_MAX_ARGS 4096        /* words of one `user` line */

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = tolower(ch);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* One "double quoted" argument starting at *pp (just after the quote):
 * unescape in place into out. Returns 0 and leaves *pp after the closing
 * quote, or -1 when the quote is never closed. */
static int dquoted(char **pp, char **out)
{
    char *p = *pp, *w = p;
    *out = w;
    for (;; p++) {
        if (!*p)
            return -1;
        if (*p == '"') {
            *w = 0;
            *pp = p + 1;
            return 0;
        }
        if (*p == '\\' && p[1] == 'x' && hexval(p[2]) >= 0 && hexval(p[3]) >= 0) {
            *w++ = (char)(hexval(p[2]) * 16 + hexval(p[3]));
            p += 3;
        } else if (*p == '\\' && p[1]) {
            p++;
            switch (*p) {
            case 'n': *w++ = '\n'; break;
            case 'r': *w++ = '\r'; break;
            case 't': *w++ = '\t'; break;
            case 'b': *w++ = '\b'; break;
            case 'a': *w++ = '\a'; break;
            default: *w++ = *p; break;
            }
        } else {
            *w++ = *p;
        }
    }
}

static int squoted(char **pp, char **out)
{
    char *p = *pp, *w = p;
    *out = w;
    for (;; p++) {
        if (!*p)
            return -1;
        if (*p == '\'') {
            *w = 0;
            *pp = p + 1;
            return 0;
        }
        if (*p == '\\' && p[1] == '\'')
            p++;
        *w++ = *p;
    }
}

int cfg_split_line(char *buf, char **argv, int max)
{
    char *p = buf;
    int n = 0;
    for (;;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p)
            return n;
        if (n == max)
            return -1;
        char *arg;
        if (*p == '"' || *p == '\'') {
            char q = *p++;
            if ((q == '"' ? dquoted(&p, &arg) : squoted(&p, &arg)) < 0)
                return -1;
            /* a closing quote must end the argument, as in Redis */
            if (*p && !isspace((unsigned char)*p))
                return -1;
            if (*p)
                p++;
        } else {
            arg = p;
            while (*p && !isspace((unsigned char)*p))
                p++;
            if (*p)
                *p++ = 0;
        }
        argv[n++] = arg;
    }
}

/* The whole file into a NUL-terminated buffer. */
static char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open the config file: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(FILE_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, FILE_MAX_BYTES + 1, f) : 0;
    int bad = !buf || ferror(f) || n > FILE_MAX_BYTES;
    if (bad) {
        snprintf(err, errlen, "%s: cannot read the config file: %s", path,
                 !buf ? "out of memory" : n > FILE_MAX_BYTES ? "larger than 1 MB" : strerror(errno));
        free(buf);
        buf = NULL;
    } else {
        buf[n] = 0;
        *len = n;
    }
    fclose(f);
    return buf;
}

/* Next line of buf at *pos (the newline replaced by NUL); NULL at the end. */
static char *next_line(char *buf, size_t len, size_t *pos)
{
    if (*pos >= len)
        return NULL;
    char *line = buf + *pos;
    char *nl = memchr(line, '\n', len - *pos);
    if (nl) {
        *nl = 0;
        *pos = (size_t)(nl - buf) + 1;
    } else {
        *pos = len;
    }
    size_t l = strlen(line);
    if (l && line[l - 1] == '\r')
        line[l - 1] = 0;
    return line;
}

/* The directive on a line, or 0 (comment, blank) / -1 (bad quoting). */
static int parse_line(char *line, char **argv, int max)
{
    char *p = line;
    while (isspace((unsigned char)*p))
        p++;
    if (!*p || *p == '#')
        return 0;
    return cfg_split_line(p, argv, max);
}

/* The directive of a line cfg_split_line refused, for the message: its
 * first word (the splitter may have cut the line after it), canonical
 * when it names a setting. */
static const char *first_word(char *line)
{
    char *p = line + strspn(line, " \t\v\f\r\"'");
    p[strcspn(p, " \t\v\f\r\"'")] = 0;
    if (strlen(p) > 64)
        p[64] = 0;
    const char *name = cfg_canonical_name(p);
    return name ? name : p;
}

/* The value of a directive line: argv[1], or for a setting that takes
 * words (`loader redis 127.0.0.1:6380`) every word joined by one space. */
static void join_words(char **argv, int argc, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = 0;
    for (int i = 1; i < argc && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", i > 1 ? " " : "", argv[i]);
}

/* Is this a `user NAME ...` line? Those are the ACL's (cfg_file_users):
 * any number of words, read apart from the settings. */
static bool is_user_line(const char *line)
{
    const char *p = line + strspn(line, " \t\v\f\r");
    return strncasecmp(p, "user", 4) == 0 && (p[4] == '\0' || isspace((unsigned char)p[4]));
}

int cfg_load_file(struct cfg *c, const char *path, char *err, size_t errlen)
{
    size_t len, pos = 0;
    char *buf = slurp(path, &len, err, errlen);
    if (!buf)
        return -1;
    char *line, *argv[FILE_MAX_ARGS];
    int lineno = 0, rc = 0;
    while (rc == 0 && (line = next_line(buf, len, &pos)) != NULL) {
        lineno++;
        if (is_user_line(line))
            continue;   /* the ACL's: cfg_file_users */
        int argc = parse_line(line, argv, FILE_MAX_ARGS);
        if (argc == 0)
            continue;
        if (argc < 0) {
            snprintf(err, errlen, "%s:%d: '%s': unbalanced quotes or too many arguments",
                     path, lineno, first_word(line));
            rc = -1;
            break;
        }
        const char *name = cfg_canonical_name(argv[0]);
        int persist = name ? -1 : cfg_persist_index(argv[0]);
        if (persist >= 0) {
            c->persist_ignored |= 1u << persist;   /* any value: never read */
        } else if (!name) {
            snprintf(err, errlen, "%s:%d: unknown directive '%s' (directives: %s, %s, %s, ...; "
                     "see mmcache.conf or mmcache --help)", path, lineno, argv[0],
                     cfg_names[0], cfg_names[1], cfg_names[2]);
            rc = -1;
        } else if (argc != 2 && !cfg_takes_words(name)) {
            snprintf(err, errlen, "%s:%d: '%s' takes exactly one value (got %d)", path,
                     lineno, name, argc - 1);
            rc = -1;
        } else {
            char e[CFG_ERRLEN], value[CFG_VALUE_MAX];
            join_words(argv, argc, value, sizeof(value));
            if (cfg_set(c, name, value, e, sizeof(e))) {
                snprintf(err, errlen, "%s:%d: '%s': %s", path, lineno, name, e);
                rc = -1;
            }
        }
    }
    free(buf);
    return rc;
}

int cfg_file_users(const char *path, cfg_user_line_fn *fn, void *arg, char *err,
                   size_t errlen)
{
    size_t len, pos = 0;
    char *buf = slurp(path, &len, err, errlen);
    char **argv = malloc(FILE_USER_MAX_ARGS * sizeof(*argv));
    char *line;
    int lineno = 0, rc = 0;

    if (!buf || !argv) {
        if (buf)
            snprintf(err, errlen, "%s: out of memory", path);
        free(buf);
        free(argv);
        return -1;
    }
    while (rc == 0 && (line = next_line(buf, len, &pos)) != NULL) {
        lineno++;
        if (!is_user_line(line))
            continue;
        int argc = parse_line(line, argv, FILE_USER_MAX_ARGS);
        if (argc < 0) {
            snprintf(err, errlen, "%s:%d: 'user': unbalanced quotes or too many arguments",
                     path, lineno);
            rc = -1;
        } else if (argc < 2) {
            snprintf(err, errlen, "%s:%d: 'user' needs a user name (user NAME RULE ...)",
                     path, lineno);
            rc = -1;
        } else {
            rc = fn(arg, lineno, argc - 1, argv + 1);
        }
    }
    free(argv);
    free(buf);
    return rc;
}

/* ---- CONFIG REWRITE ------------------------------------------------------------ */

#define REWRITE_HEADER "# Generated by CONFIG REWRITE"

struct out {
    char *data;
    size_t len, cap;
    int oom;
};

static void out_add(struct out *o, const char *s, size_t n)
{
    if (o->oom)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = (o->len + n + 1) * 2;
        char *d = realloc(o->data, cap);
        if (!d) {
            o->oom = 1;
            return;
        }
        o->data = d;
        o->cap = cap;
    }
    memcpy(o->data + o->len, s, n);
    o->len += n;
}

/* "name value\n", the value quoted when it has blanks, quotes or
 * controls (the file reader undoes this). */
static void out_directive(struct out *o, const char *name, const char *value)
{
    out_add(o, name, strlen(name));
    out_add(o, " ", 1);
    int plain = *value != 0;
    /* `loader redis 127.0.0.1:6380` reads back the same as one argument,
     * as long as its words are separated by single spaces */
    int words = cfg_takes_words(name) && !strstr(value, "  ") && value[0] != ' ' &&
                value[strlen(value) - (*value != 0)] != ' ';
    for (const char *p = value; *p; p++)
        if ((isspace((unsigned char)*p) && !(words && *p == ' ')) || *p == '"' || *p == '\'' || *p == '\\' ||
            !isprint((unsigned char)*p))
            plain = 0;
    if (plain) {
        out_add(o, value, strlen(value));
    } else {
        out_add(o, "\"", 1);
        for (const char *p = value; *p; p++) {
            char esc[8];
            if (*p == '"' || *p == '\\') {
                esc[0] = '\\';
                esc[1] = *p;
                out_add(o, esc, 2);
            } else if (!isprint((unsigned char)*p)) {
                snprintf(esc, sizeof(esc), "\\x%02x", (unsigned char)*p);
                out_add(o, esc, 4);
            } else {
                out_add(o, p, 1);
            }
        }
        out_add(o, "\"", 1);
    }
    out_add(o, "\n", 1);
}

/* Does this directive line already say what c holds? Then it stays as
 * the operator wrote it ("100mb" rather than "104857600"). */
static int line_matches(const struct cfg *c, const char *name, char **argv, int argc)
{
    if (argc != 2 && !(argc > 2 && cfg_takes_words(name)))
        return 0;
    struct cfg tmp = *c;
    char e[CFG_ERRLEN], want[CFG_VALUE_MAX], got[CFG_VALUE_MAX], value[CFG_VALUE_MAX];
    join_words(argv, argc, value, sizeof(value));
    if (cfg_set(&tmp, name, value, e, sizeof(e)))
        return 0;
    cfg_get(c, name, want, sizeof(want));
    cfg_get(&tmp, name, got, sizeof(got));
    return strcmp(want, got) == 0;
}

/* client-output-buffer-limit is the one setting that several lines build
 * together: each line sets the classes it names (`normal ...` on one,
 * `pubsub ...` on the next), as in Redis. So its lines are kept, every one
 * of them, if together they still say what c holds (applied in order onto
 * the defaults, as the file is read); otherwise the first becomes one line
 * with every class and the others go. Dropping the later lines as repeats
 * lost a pubsub line's limit at the next restart. */
#define CUMULATIVE "client-output-buffer-limit"

static bool cumulative_lines_hold(const struct cfg *c, const char *old, size_t oldlen)
{
    char *buf = old ? malloc(oldlen + 1) : NULL, *line, *argv[FILE_MAX_ARGS];
    char e[CFG_ERRLEN], value[CFG_VALUE_MAX], want[CFG_VALUE_MAX], got[CFG_VALUE_MAX];
    size_t pos = 0;
    bool ok = buf != NULL;
    struct cfg tmp;

    if (!ok)
        return false;   /* the safe answer: one full line */
    memcpy(buf, old, oldlen);
    buf[oldlen] = 0;
    cfg_defaults(&tmp);
    while (ok && (line = next_line(buf, oldlen, &pos)) != NULL) {
        int argc = parse_line(line, argv, FILE_MAX_ARGS);
        const char *name = argc > 0 ? cfg_canonical_name(argv[0]) : NULL;
        if (!name || strcmp(name, CUMULATIVE) != 0)
            continue;
        join_words(argv, argc, value, sizeof(value));
        ok = cfg_set(&tmp, name, value, e, sizeof(e)) == 0;
    }
    free(buf);
    cfg_get(c, CUMULATIVE, want, sizeof(want));
    cfg_get(&tmp, CUMULATIVE, got, sizeof(got));
    return ok && strcmp(want, got) == 0;
}

/* May this rewrite change the lines of `name`? */
static bool may_write(const char *name, unsigned allowed)
{
    return (allowed & CFG_GUARD_BIT(cfg_guard_of(name))) != 0;
}

static void out_users(struct out *o, const char *const *users)
{
    for (size_t i = 0; users[i] != NULL; i++) {
        out_add(o, users[i], strlen(users[i]));
        out_add(o, "\n", 1);
    }
}

/* The new text of the file: old lines kept or updated, then what is
 * missing; settings behind a guard not in `allowed` are left as they are.
 * users: see cfg_rewrite_file_guarded. */
static int rewrite_text(const struct cfg *c, char *old, size_t oldlen, unsigned allowed,
                        const char *const *users, struct out *o)
{
    bool users_done = false;
    size_t ndone = 0, pos = 0;
    while (cfg_names[ndone])
        ndone++;
    char *done = calloc(ndone, 1);
    if (!done)
        return -1;
    char *line, *argv[FILE_MAX_ARGS], value[CFG_VALUE_MAX];
    int header = 0;
    bool cumulative_hold = cumulative_lines_hold(c, old, oldlen);
    while (old && (line = next_line(old, oldlen, &pos)) != NULL) {
        if (users != NULL && is_user_line(line)) {
            if (!users_done)
                out_users(o, users);   /* where the first one was */
            users_done = true;
            continue;
        }
        char copy[4096];
        snprintf(copy, sizeof(copy), "%s", line);
        int argc = parse_line(copy, argv, FILE_MAX_ARGS);
        const char *name = argc > 0 ? cfg_canonical_name(argv[0]) : NULL;
        if (!name) {   /* comment, blank, or not ours: keep it as it is */
            if (strcmp(line, REWRITE_HEADER) == 0)
                header = 1;   /* one header, however many rewrites appended below it */
            out_add(o, line, strlen(line));
            out_add(o, "\n", 1);
            continue;
        }
        size_t i = 0;
        while (strcmp(cfg_names[i], name) != 0)
            i++;
        if (!may_write(name, allowed)) {   /* not ours to change: every line stays */
            done[i] = 1;
            out_add(o, line, strlen(line));
            out_add(o, "\n", 1);
            continue;
        }
        bool cumulative = strcmp(name, CUMULATIVE) == 0;
        if (done[i]) {   /* a later line for the same setting: drop it */
            if (cumulative && cumulative_hold) {   /* unless it adds to the first */
                out_add(o, line, strlen(line));
                out_add(o, "\n", 1);
            }
            continue;
        }
        done[i] = 1;
        if (cumulative ? cumulative_hold : line_matches(c, name, argv, argc)) {
            out_add(o, line, strlen(line));
            out_add(o, "\n", 1);
        } else {
            cfg_get_for_file(c, name, value, sizeof(value));
            out_directive(o, name, value);
        }
    }
    struct cfg def;
    cfg_defaults(&def);
    for (size_t i = 0; i < ndone; i++) {
        char dv[CFG_VALUE_MAX];
        cfg_get(c, cfg_names[i], value, sizeof(value));
        cfg_get(&def, cfg_names[i], dv, sizeof(dv));
        if (done[i] || strcmp(value, dv) == 0 || !may_write(cfg_names[i], allowed))
            continue;
        if (!header) {
            out_add(o, REWRITE_HEADER "\n", strlen(REWRITE_HEADER) + 1);
            header = 1;
        }
        cfg_get_for_file(c, cfg_names[i], value, sizeof(value));
        out_directive(o, cfg_names[i], value);
    }
    if (users != NULL && !users_done && users[0] != NULL) {
        if (!header)
            out_add(o, REWRITE_HEADER "\n", strlen(REWRITE_HEADER) + 1);
        out_users(o, users);
    }
    free(done);
    return o->oom ? -1 : 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Where rename cannot replace the file (a bind mount, a read-only dir):
 * overwrite it in place. Not atomic, but it is what is possible. */
static int overwrite(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = write_all(fd, data, len) || ftruncate(fd, (off_t)len) || fsync(fd) ? -1 : 0;
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

int cfg_rewrite_file(const struct cfg *c, const char *path, char *err, size_t errlen)
{
    return cfg_rewrite_file_guarded(c, path, CFG_GUARDS_ALL, NULL, err, errlen);
}

int cfg_replace_file(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.rewrite-%d", path, (int)getpid());
    /* The new file keeps the old one's permissions (it holds secrets:
     * requirepass, password digests; the operator chose who reads it). */
    struct stat st;
    mode_t mode = stat(path, &st) == 0 ? (st.st_mode & 07777) : 0644;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        int bad = fchmod(fd, mode) || write_all(fd, data, len) || fsync(fd);
        close(fd);
        if (!bad && rename(tmp, path) == 0)
            return 0;
        unlink(tmp);
    }
    if (overwrite(path, data, len) == 0)
        return 0;
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    return -1;
}

int cfg_rewrite_file_guarded(const struct cfg *c, const char *path, unsigned allowed,
                             const char *const *users, char *err, size_t errlen)
{
    size_t oldlen = 0;
    char e[CFG_ERRLEN];
    char *old = slurp(path, &oldlen, e, sizeof(e));   /* missing: start afresh */
    struct out o = {0};
    int rc = -1;
    if (rewrite_text(c, old, oldlen, allowed | CFG_GUARD_BIT(CFG_GUARD_NONE), users, &o) < 0)
        snprintf(err, errlen, "out of memory rewriting %s", path);
    else
        rc = cfg_replace_file(path, o.data, o.len, err, errlen);
    free(o.data);
    free(old);
    return rc;
}
