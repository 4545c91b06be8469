/*
 * Users from files and back: the config file's `user` lines and the
 * aclfile at start-up (Redis refuses both at once), ACL LOAD and SAVE,
 * the lines CONFIG REWRITE writes, and a reload's user lines.
 *
 * A file is read into a staged set first, every line checked, and the
 * users replaced only when all of it is good (srv_acl__replace): an
 * invalid file changes nothing.
 *
 * Context: ACL LOAD / SAVE / CONFIG REWRITE on a worker inside their
 * handlers; start-up and reload on the main thread. Blocks on file I/O.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"

#define ACL_FILE_MAX (64 * 1024 * 1024)   /* an ACL file, not a data file */

/* ---- staged sets --------------------------------------------------------------------- */

int srv_acl__staged_reserve(struct srv_acl_staged *st, size_t n)
{
    if (n <= st->cap)
        return 0;
    char **names = realloc(st->names, n * sizeof(*names));
    if (names)
        st->names = names;
    size_t *lens = names ? realloc(st->lens, n * sizeof(*lens)) : NULL;
    if (lens)
        st->lens = lens;
    struct srv_acl_rules **rules = lens ? realloc(st->rules, n * sizeof(*rules)) : NULL;
    if (rules == NULL)
        return -ENOMEM;
    st->rules = rules;
    st->cap = n;
    return 0;
}

void srv_acl__staged_free(struct srv_acl_staged *st)
{
    for (size_t i = 0; i < st->n; i++) {
        free(st->names[i]);
        srv_acl_rules_unref(st->rules[i]);
    }
    free(st->names);
    free(st->lens);
    free(st->rules);
    memset(st, 0, sizeof(*st));
}

static ssize_t staged_find(const struct srv_acl_staged *st, const char *name, size_t len)
{
    for (size_t i = 0; i < st->n; i++)
        if (st->lens[i] == len && memcmp(st->names[i], name, len) == 0)
            return (ssize_t)i;
    return -1;
}

/* Append a user (its rules start as a new user's). */
static struct srv_acl_rules *staged_add(struct srv_acl_staged *st, const char *name, size_t len)
{
    struct srv_acl_rules *r;

    if (srv_acl__staged_reserve(st, st->n < 4 ? 4 : st->n * 2) < 0 ||
        (r = srv_acl_rules_new()) == NULL)
        return NULL;
    st->names[st->n] = malloc(len + 1);
    if (st->names[st->n] == NULL) {
        srv_acl_rules_unref(r);
        return NULL;
    }
    memcpy(st->names[st->n], name, len);
    st->names[st->n][len] = '\0';
    st->lens[st->n] = len;
    st->rules[st->n++] = r;
    return r;
}

/* ---- errors as Redis words them -------------------------------------------------------- */

struct errs {
    char *text;
    size_t len;
    int oom;
};

static void errs_add(struct errs *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void errs_add(struct errs *e, const char *fmt, ...)
{
    va_list ap;
    char line[1024];
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0 || e->oom)
        return;
    if ((size_t)n >= sizeof(line))
        n = sizeof(line) - 1;
    char *t = realloc(e->text, e->len + (size_t)n + 1);
    if (t == NULL) {
        e->oom = 1;
        return;
    }
    memcpy(t + e->len, line, (size_t)n + 1);
    e->text = t;
    e->len += (size_t)n;
}

/* ---- the aclfile ------------------------------------------------------------------------ */

static char *slurp(const char *path, size_t *len, int *err)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t n = 0;

    if (f == NULL) {
        *err = errno;
        return NULL;
    }
    buf = malloc(ACL_FILE_MAX + 1);
    if (buf != NULL)
        n = fread(buf, 1, ACL_FILE_MAX + 1, f);
    if (buf == NULL || ferror(f) || n > ACL_FILE_MAX) {
        *err = buf == NULL ? ENOMEM : n > ACL_FILE_MAX ? EFBIG : EIO;
        free(buf);
        buf = NULL;
    } else {
        buf[n] = '\0';
        *len = n;
    }
    fclose(f);
    return buf;
}

/* One line of an aclfile, as Redis's ACLLoadFromFile reads it: trimmed,
 * split on single spaces (no quoting: empty words are no-ops), "user NAME
 * rules...". Errors are added to e. */
static void file_line(struct srv_acl_staged *st, const char *path, int lineno, char *line,
                      struct errs *e)
{
    char *end = line + strlen(line);
    char *word, *next;
    struct srv_acl_rules *r;

    while (*line == ' ' || *line == '\t' || *line == '\r' || *line == '\n')
        line++;
    while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
        *--end = '\0';
    if (*line == '\0')
        return;
    next = strchr(line, ' ');
    if (next == NULL || (size_t)(next - line) != 4 || strncmp(line, "user", 4) != 0) {
        errs_add(e, "%s:%d should start with user keyword followed by the username. ", path,
                 lineno);
        return;
    }
    word = next + 1;
    next = strchr(word, ' ');
    size_t nlen = next ? (size_t)(next - word) : strlen(word);
    if (srv_acl_has_spaces(word, nlen)) {
        errs_add(e, "'%s:%d: username '%.*s' contains invalid characters. ", path, lineno,
                 (int)nlen, word);
        return;
    }
    if (staged_find(st, word, nlen) >= 0) {
        errs_add(e, "WARNING: Duplicate user '%.*s' found on line %d. ", (int)nlen, word, lineno);
        return;
    }
    if ((r = staged_add(st, word, nlen)) == NULL) {
        e->oom = 1;
        return;
    }
    while (next != NULL) {
        word = next + 1;
        next = strchr(word, ' ');
        size_t wlen = next ? (size_t)(next - word) : strlen(word);
        int rc = srv_acl_rules_apply(r, word, wlen);

        if (rc < 0) {   /* Redis 7.0 reports a line's first error */
            errs_add(e, "%s:%d: %s. ", path, lineno, srv_acl_strerror(rc));
            return;
        }
    }
}

/* The aclfile into st; Redis's errors into e (nothing added: all good). */
static void read_aclfile(const char *path, struct srv_acl_staged *st, struct errs *e)
{
    size_t len = 0;
    int err = 0, lineno = 0;
    char *buf = slurp(path, &len, &err), *line, *save = NULL;

    if (buf == NULL) {
        errs_add(e, "Error loading ACLs, opening file '%s': %s", path, strerror(err));
        return;
    }
    /* strtok would skip empty lines and so miscount: walk by hand */
    for (line = buf; line != NULL; line = save) {
        save = strchr(line, '\n');
        if (save != NULL)
            *save++ = '\0';
        lineno++;
        file_line(st, path, lineno, line, e);
        if (save != NULL && *save == '\0')
            break;
    }
    free(buf);
}

int srv_acl_load_file(const char *path, char **err)
{
    struct srv_acl_staged st = {0};
    struct errs e = {0};
    int rc = -1;

    *err = NULL;
    read_aclfile(path, &st, &e);
    if (e.len == 0 && !e.oom) {
        /* Redis: without a "user default" line, the default user is a new
         * one: on nopass ~* &* +@all */
        struct srv_acl_rules *def = NULL;

        if (staged_find(&st, "default", 7) >= 0 || (def = srv_acl_rules_new_default()) != NULL)
            rc = srv_acl__replace(&st, def);
    }
    if (rc == 0) {
        free(e.text);
    } else if (e.oom || e.len == 0) {
        free(e.text);
        *err = strdup("Out of memory loading the ACL file");
    } else {
        if (strncmp(e.text, "Error loading ACLs", 18) != 0)
            errs_add(&e, "WARNING: ACL errors detected, no change to the previously active "
                         "ACL rules was performed");
        *err = e.text;
    }
    srv_acl__staged_free(&st);
    return rc;
}

char **srv_acl_lines(void)
{
    struct srv_acl_staged st;
    char **lines;
    int oom = 0;

    if (srv_acl_snapshot(&st) < 0)
        return NULL;
    lines = calloc(st.n + 1, sizeof(*lines));
    for (size_t i = 0; lines != NULL && i < st.n; i++) {
        struct proto_buf b;

        proto_buf_init(&b);
        if (proto_buf_append(&b, "user ", 5) < 0 || proto_buf_append(&b, st.names[i], st.lens[i]) < 0 ||
            proto_buf_append(&b, " ", 1) < 0 || srv_acl_rules_describe(st.rules[i], &b) < 0 ||
            proto_buf_append(&b, "", 1) < 0) {
            oom = 1;
            proto_buf_free(&b);
            break;
        }
        lines[i] = b.data;   /* NUL-terminated above */
    }
    srv_acl__staged_free(&st);
    if (oom) {
        srv_acl_free_lines(lines);
        return NULL;
    }
    return lines;
}

/* Is lines only the default user as requirepass makes it? */
static bool only_implied_default(char *const *lines, const char *requirepass)
{
    unsigned char d[SRV_ACL_DIGEST_LEN];
    char hex[2 * SRV_ACL_DIGEST_LEN + 1], want[128];

    if (lines[0] == NULL || lines[1] != NULL)
        return false;
    if (requirepass[0]) {
        srv_acl_digest(requirepass, strlen(requirepass), d);
        srv_acl_hex(d, hex);
        snprintf(want, sizeof(want), "user default on #%s ~* &* +@all", hex);
    } else {
        snprintf(want, sizeof(want), "user default on nopass ~* &* +@all");
    }
    return strcmp(lines[0], want) == 0;
}

char **srv_acl_config_lines(const struct cfg *cfg)
{
    char **lines = srv_acl_lines();

    if (lines != NULL && (cfg->aclfile[0] || only_implied_default(lines, cfg->requirepass))) {
        for (size_t i = 0; lines[i] != NULL; i++) {
            free(lines[i]);
            lines[i] = NULL;
        }
    }
    return lines;
}

void srv_acl_free_lines(char **lines)
{
    for (size_t i = 0; lines != NULL && lines[i] != NULL; i++)
        free(lines[i]);
    free(lines);
}

int srv_acl_save_file(const char *path)
{
    char **lines = srv_acl_lines();
    char err[CFG_ERRLEN] = "out of memory";
    struct proto_buf b;
    int rc = -1;

    proto_buf_init(&b);
    for (size_t i = 0; lines != NULL && lines[i] != NULL; i++)
        if (proto_buf_append(&b, lines[i], strlen(lines[i])) < 0 ||
            proto_buf_append(&b, "\n", 1) < 0)
            goto out_free;
    if (lines != NULL)
        rc = cfg_replace_file(path, b.data, b.len, err, sizeof(err));
out_free:
    if (rc < 0)
        srv_log(CFG_LOG_WARNING, "ACL SAVE: %s", err);
    proto_buf_free(&b);
    srv_acl_free_lines(lines);
    return rc;
}

/* ---- the config file's user lines ---------------------------------------------------------- */

/* The user lines applied last (start-up or reload), each as its word
 * count and its NUL-terminated words: a reload applies the lines again
 * only when they changed. owned by: the main thread. */
static struct proto_buf applied_lines;
/* A reload's checked lines, between srv_acl_reload_check and _apply.
 * owned by: the main thread. */
static struct srv_acl_staged pending;
static struct proto_buf pending_lines;
static bool pending_valid;

struct user_lines {
    struct srv_acl_staged *st;
    struct proto_buf joined;
    char *err;
    size_t errlen;
    const char *path;
};

/* cfg_user_line_fn: one `user NAME rules...` line into the staged set. */
static int user_line(void *arg, int lineno, int argc, char **argv)
{
    struct user_lines *ul = arg;
    struct srv_acl_rules *r;
    size_t nlen = strlen(argv[0]);

    /* the line's word count, then its words each with its NUL */
    if (proto_buf_append(&ul->joined, &argc, sizeof(argc)) < 0)
        goto out_nomem;
    for (int i = 0; i < argc; i++)
        if (proto_buf_append(&ul->joined, argv[i], strlen(argv[i]) + 1) < 0)
            goto out_nomem;
    if (srv_acl_has_spaces(argv[0], nlen)) {
        snprintf(ul->err, ul->errlen, "%s:%d: 'user': Spaces not allowed in ACL usernames",
                 ul->path, lineno);
        return -1;
    }
    if (staged_find(ul->st, argv[0], nlen) >= 0) {
        snprintf(ul->err, ul->errlen, "%s:%d: 'user': Error in user declaration '%s': %s",
                 ul->path, lineno, argv[0], srv_acl_strerror(-EALREADY));
        return -1;
    }
    if ((r = staged_add(ul->st, argv[0], nlen)) == NULL)
        goto out_nomem;
    if (nlen == 7 && memcmp(argv[0], "default", 7) == 0)
        srv_acl_rules_apply(r, "reset", 5);   /* Redis resets a listed default */
    for (int i = 1; i < argc; i++) {
        int rc = srv_acl_rules_apply(r, argv[i], strlen(argv[i]));
        if (rc < 0) {
            snprintf(ul->err, ul->errlen, "%s:%d: 'user': Error loading ACL rule '%s' for the "
                     "user named '%s': %s", ul->path, lineno, argv[i], argv[0],
                     srv_acl_strerror(rc));
            return -1;
        }
    }
    return 0;
out_nomem:
    snprintf(ul->err, ul->errlen, "%s:%d: 'user': out of memory", ul->path, lineno);
    return -1;
}

/* The config file's user lines into st, and their words into *words.
 * 0 or -1 with err. */
static int read_user_lines(struct srv_acl_staged *st, struct proto_buf *words, char *err,
                           size_t errlen)
{
    struct user_lines ul = { .st = st, .err = err, .errlen = errlen, .path = cfg_file() };

    proto_buf_init(&ul.joined);
    proto_buf_free(words);
    if (cfg_file()[0] != '\0' && cfg_file_users(cfg_file(), user_line, &ul, err, errlen) != 0) {
        proto_buf_free(&ul.joined);
        return -1;
    }
    *words = ul.joined;
    return 0;
}

static void warn_disabled(const struct srv_acl_staged *st)
{
    for (size_t i = 0; i < st->n; i++)
        if (!(st->rules[i]->flags & SRV_ACL_ON))
            srv_log(CFG_LOG_NOTICE, "The user '%s' is disabled (there is no 'on' modifier in "
                    "the user description). Make sure this is not a configuration error.",
                    st->names[i]);
}

int srv_acl_init(const struct cfg *cfg, char *err, size_t errlen)
{
    struct srv_acl_staged st = {0};
    char *lerr = NULL;
    int rc = -1;

    if (srv_acl__init_default() < 0 ||
        (cfg->requirepass[0] && srv_acl_set_default_password(cfg->requirepass) < 0)) {
        snprintf(err, errlen, "out of memory creating the default user");
        return -1;
    }
    if (read_user_lines(&st, &applied_lines, err, errlen) < 0)
        goto out_free;
    if (st.n > 0 && cfg->aclfile[0]) {
        snprintf(err, errlen, "Configuring mmcache with users defined in the config file and "
                 "at the same time an ACL file (aclfile) is invalid. This setup is very likely "
                 "to lead to configuration errors and security holes, please define either an "
                 "ACL file or declare users directly in the config file, but not both.");
        goto out_free;
    }
    warn_disabled(&st);
    if (st.n > 0 && srv_acl__replace(&st, NULL) < 0) {
        snprintf(err, errlen, "out of memory loading the users");
        goto out_free;
    }
    if (cfg->aclfile[0] && srv_acl_load_file(cfg->aclfile, &lerr) < 0) {
        snprintf(err, errlen, "Aborting startup because of ACL errors: %s", lerr);
        goto out_free;
    }
    rc = 0;
out_free:
    free(lerr);
    srv_acl__staged_free(&st);
    return rc;
}

int srv_acl_reload_check(const struct cfg *cfg, char *err, size_t errlen)
{
    srv_acl__staged_free(&pending);
    pending_valid = false;
    if (read_user_lines(&pending, &pending_lines, err, errlen) < 0)
        return -1;
    if (pending.n > 0 && cfg->aclfile[0]) {
        snprintf(err, errlen, "%s has user lines while an aclfile is set: define users in "
                 "one place only", cfg_file());
        return -1;
    }
    pending_valid = true;
    return 0;
}

void srv_acl_reload_apply(void)
{
    if (!pending_valid || (pending_lines.len == applied_lines.len &&
                           (applied_lines.len == 0 ||
                            memcmp(pending_lines.data, applied_lines.data, applied_lines.len) == 0)))
        goto out_free;
    warn_disabled(&pending);
    if (srv_acl__replace(&pending, NULL) < 0) {
        srv_log(CFG_LOG_WARNING, "Reload: out of memory applying the user lines: users unchanged");
        goto out_free;
    }
    srv_log(CFG_LOG_NOTICE, "Reload: the user lines changed: %zu users now defined by them",
            pending.n);
    proto_buf_free(&applied_lines);
    applied_lines = pending_lines;
    proto_buf_init(&pending_lines);
out_free:
    pending_valid = false;
    srv_acl__staged_free(&pending);
    proto_buf_free(&pending_lines);
}
