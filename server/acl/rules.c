/*
 * One user's rules: Redis 7.0's rule words (ACLSetUser / ACLSetSelector)
 * applied to a private copy, and the password digests. The command rules
 * are a bitmap over the rows of commands.def (acl_int.h); describe.c
 * writes them back as text.
 *
 * Context: any thread. A rules object being built is private to its
 * builder; once shared it is never written again (acl.h).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "acl.h"
#include "acl_int.h"

/* ---- lifetime ---------------------------------------------------------------- */

struct srv_acl_rules *srv_acl_rules_new(void)
{
    struct srv_acl_rules *r = calloc(1, sizeof(*r));

    if (r != NULL)
        atomic_init(&r->refs, 1);
    return r;
}

static void free_patterns(struct srv_acl_pattern **p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(p[i]);
    free(p);
}

static void rules_free(struct srv_acl_rules *r)
{
    free(r->pass);
    free_patterns(r->keys, r->nkeys);
    free_patterns(r->chans, r->nchans);
    free(r);
}

void srv_acl_rules_ref(struct srv_acl_rules *r)
{
    /* relaxed: the caller already holds a reference, so r cannot go */
    atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
}

void srv_acl_rules_unref(struct srv_acl_rules *r)
{
    /* acq_rel: the last holder frees after every other holder's reads
     * (their release-decrements pair with this acquire) */
    if (r != NULL && atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1)
        rules_free(r);
}

static struct srv_acl_pattern **copy_patterns(struct srv_acl_pattern *const *p, size_t n,
                                              int *oom)
{
    struct srv_acl_pattern **out;

    if (n == 0)
        return NULL;
    out = calloc(n, sizeof(*out));
    for (size_t i = 0; out != NULL && i < n; i++) {
        out[i] = malloc(sizeof(*p[i]) + p[i]->len + 1);
        if (out[i] == NULL) {
            free_patterns(out, i);
            out = NULL;
            break;
        }
        memcpy(out[i], p[i], sizeof(*p[i]) + p[i]->len + 1);
    }
    if (out == NULL)
        *oom = 1;
    return out;
}

struct srv_acl_rules *srv_acl_rules_copy(const struct srv_acl_rules *src)
{
    struct srv_acl_rules *r = srv_acl_rules_new();
    int oom = 0;

    if (r == NULL)
        return NULL;
    r->flags = src->flags;
    memcpy(r->cmds, src->cmds, sizeof(r->cmds));
    if (src->npass) {
        r->pass = malloc(src->npass * sizeof(*r->pass));
        if (r->pass == NULL)
            oom = 1;
        else
            memcpy(r->pass, src->pass, src->npass * sizeof(*r->pass));
        r->npass = oom ? 0 : src->npass;
    }
    r->keys = copy_patterns(src->keys, src->nkeys, &oom);
    r->nkeys = r->keys ? src->nkeys : 0;
    r->chans = copy_patterns(src->chans, src->nchans, &oom);
    r->nchans = r->chans ? src->nchans : 0;
    if (oom) {
        rules_free(r);
        return NULL;
    }
    return r;
}

/* ---- passwords ----------------------------------------------------------------- */

void srv_acl_digest(const void *pw, size_t len, unsigned char out[SRV_ACL_DIGEST_LEN])
{
    unsigned int n = SRV_ACL_DIGEST_LEN;

    /* EVP_Digest fails only without memory for its context: then no
     * password can match the all-zero digest's owner but that digest. */
    if (EVP_Digest(pw, len, out, &n, EVP_sha256(), NULL) != 1)
        memset(out, 0, SRV_ACL_DIGEST_LEN);
}

void srv_acl_hex(const unsigned char d[SRV_ACL_DIGEST_LEN], char out[2 * SRV_ACL_DIGEST_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";

    for (int i = 0; i < SRV_ACL_DIGEST_LEN; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * SRV_ACL_DIGEST_LEN] = '\0';
}

/* Redis's ACLCheckPasswordHash: exactly 64 lower-case hex digits. */
static int unhex(const char *s, size_t len, unsigned char out[SRV_ACL_DIGEST_LEN])
{
    if (len != 2 * SRV_ACL_DIGEST_LEN)
        return -EBADMSG;
    for (size_t i = 0; i < len; i++) {
        int v = s[i] >= '0' && s[i] <= '9' ? s[i] - '0'
              : s[i] >= 'a' && s[i] <= 'f' ? s[i] - 'a' + 10 : -1;
        if (v < 0)
            return -EBADMSG;
        if (i % 2 == 0)
            out[i / 2] = (unsigned char)(v << 4);
        else
            out[i / 2] |= (unsigned char)v;
    }
    return 0;
}

static ssize_t find_pass(const struct srv_acl_rules *r, const unsigned char d[SRV_ACL_DIGEST_LEN])
{
    for (size_t i = 0; i < r->npass; i++)
        if (memcmp(r->pass[i], d, SRV_ACL_DIGEST_LEN) == 0)
            return (ssize_t)i;
    return -1;
}

static int add_pass(struct srv_acl_rules *r, const unsigned char d[SRV_ACL_DIGEST_LEN])
{
    if (find_pass(r, d) < 0) {
        void *n = realloc(r->pass, (r->npass + 1) * sizeof(*r->pass));

        if (n == NULL)
            return -ENOMEM;
        r->pass = n;
        memcpy(r->pass[r->npass++], d, SRV_ACL_DIGEST_LEN);
    }
    r->flags &= ~SRV_ACL_NOPASS;
    return 0;
}

static int del_pass(struct srv_acl_rules *r, const unsigned char d[SRV_ACL_DIGEST_LEN])
{
    ssize_t i = find_pass(r, d);

    if (i < 0)
        return -ENODEV;
    memmove(r->pass[i], r->pass[i + 1], (r->npass - (size_t)i - 1) * sizeof(*r->pass));
    r->npass--;
    return 0;
}

static void reset_pass(struct srv_acl_rules *r)
{
    free(r->pass);
    r->pass = NULL;
    r->npass = 0;
}

bool srv_acl_rules_password_ok(const struct srv_acl_rules *r, const void *pw, size_t len)
{
    unsigned char d[SRV_ACL_DIGEST_LEN];
    bool ok = false;

    if (r->flags & SRV_ACL_NOPASS)
        return true;
    srv_acl_digest(pw, len, d);
    /* Every digest is compared, each in constant time: how long this takes
     * says how many passwords the user has, never which bytes matched. */
    for (size_t i = 0; i < r->npass; i++)
        ok |= CRYPTO_memcmp(r->pass[i], d, SRV_ACL_DIGEST_LEN) == 0;
    return ok;
}

/* ---- patterns ------------------------------------------------------------------ */

bool srv_acl_has_spaces(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\0' || isspace((unsigned char)s[i]))
            return true;
    return false;
}

/* Add text to a pattern list; an existing equal pattern gains perm. */
static int add_pattern(struct srv_acl_pattern ***list, size_t *n, const char *text,
                       size_t len, unsigned perm)
{
    struct srv_acl_pattern *p, **grown;

    for (size_t i = 0; i < *n; i++) {
        if ((*list)[i]->len == len && memcmp((*list)[i]->text, text, len) == 0) {
            (*list)[i]->perm |= perm;
            return 0;
        }
    }
    p = malloc(sizeof(*p) + len + 1);
    grown = p ? realloc(*list, (*n + 1) * sizeof(**list)) : NULL;
    if (grown == NULL) {
        free(p);
        return -ENOMEM;
    }
    p->perm = perm;
    p->len = len;
    memcpy(p->text, text, len);
    p->text[len] = '\0';
    grown[(*n)++] = p;
    *list = grown;
    return 0;
}

static void reset_patterns(struct srv_acl_pattern ***list, size_t *n)
{
    free_patterns(*list, *n);
    *list = NULL;
    *n = 0;
}

/* ~pattern, %R~pattern, %W~pattern, %RW~pattern. */
static int key_pattern(struct srv_acl_rules *r, const char *op, size_t len)
{
    unsigned perm = 0;
    size_t off = 1;

    if (r->flags & SRV_ACL_ALLKEYS)
        return -EEXIST;
    if (op[0] == '%') {
        for (; off < len; off++) {
            char ch = (char)toupper((unsigned char)op[off]);

            if (ch == 'R' && !(perm & SRV_ACL_KEY_READ)) {
                perm |= SRV_ACL_KEY_READ;
            } else if (ch == 'W' && !(perm & SRV_ACL_KEY_WRITE)) {
                perm |= SRV_ACL_KEY_WRITE;
            } else if (op[off] == '~') {
                off++;
                break;
            } else {
                return -EINVAL;
            }
        }
        /* "%R" with no '~' is an empty pattern in Redis 7.0: kept so. */
        if (perm == 0)
            return -EINVAL;
    } else {
        perm = SRV_ACL_KEY_READ | SRV_ACL_KEY_WRITE;
    }
    if (srv_acl_has_spaces(op + off, len - off))
        return -EINVAL;
    return add_pattern(&r->keys, &r->nkeys, op + off, len - off, perm);
}

/* ---- command rules ---------------------------------------------------------------- */

static uint64_t category_by_name(const char *name, size_t len)
{
    for (int bit = 0; bit < ACL_BIT_COUNT; bit++)
        if (strlen(srv_acl_category_names[bit]) == len &&
            strncasecmp(srv_acl_category_names[bit], name, len) == 0)
            return 1ull << bit;
    return 0;
}

/* +cmd, +cmd|sub, -cmd, -cmd|sub, +@cat, -@cat. */
static int command_rule(struct srv_acl_rules *r, const char *op, size_t len)
{
    bool allow = op[0] == '+';
    const struct srv_command *cmd;
    const char *bar;

    if (len >= 2 && op[1] == '@') {
        uint64_t cat = category_by_name(op + 2, len - 2);

        if (cat == 0)
            return -ENOENT;
        change_category(r->cmds, cat, allow);
    } else if ((bar = memchr(op + 1, '|', len - 1)) == NULL || !allow) {
        /* -config|set names a subcommand like any command */
        if ((cmd = srv_command_by_fullname(op + 1, len - 1)) == NULL)
            return -ENOENT;
        change_perm(r->cmds, cmd, allow);
    } else {
        const char *last = op + len - 1;

        while (last > bar && *last != '|')   /* Redis splits at the last '|' */
            last--;
        cmd = srv_command_by_fullname(op + 1, (size_t)(last - op - 1));
        if (cmd == NULL)
            return -ENOENT;
        if (cmd->parent != NULL)
            return -ECHILD;              /* +config|get|x */
        if (last == op + len - 1)
            return -EINVAL;              /* +config| */
        if (cmd->nsubs == 0)
            return -EINVAL;              /* +select|0: first-args are not kept */
        if ((cmd = srv_command_by_fullname(op + 1, len - 1)) == NULL)
            return -ENOENT;
        change_perm(r->cmds, cmd, true);
    }
    if (!allow)
        r->flags &= ~SRV_ACL_ALLCOMMANDS;
    return 0;
}

/* ---- applying a rule word -------------------------------------------------------- */

static bool word_is(const char *op, size_t len, const char *word)
{
    return strlen(word) == len && strncasecmp(op, word, len) == 0;
}

/* The root selector's words (Redis's ACLSetSelector). */
static int selector_rule(struct srv_acl_rules *r, const char *op, size_t len)
{
    if (word_is(op, len, "allkeys") || word_is(op, len, "~*")) {
        reset_patterns(&r->keys, &r->nkeys);
        r->flags |= SRV_ACL_ALLKEYS;
    } else if (word_is(op, len, "resetkeys")) {
        reset_patterns(&r->keys, &r->nkeys);
        r->flags &= ~SRV_ACL_ALLKEYS;
    } else if (word_is(op, len, "allchannels") || word_is(op, len, "&*")) {
        reset_patterns(&r->chans, &r->nchans);
        r->flags |= SRV_ACL_ALLCHANNELS;
    } else if (word_is(op, len, "resetchannels")) {
        reset_patterns(&r->chans, &r->nchans);
        r->flags &= ~SRV_ACL_ALLCHANNELS;
    } else if (word_is(op, len, "allcommands") || word_is(op, len, "+@all")) {
        all_commands(r->cmds, true);
        r->flags |= SRV_ACL_ALLCOMMANDS | SRV_ACL_FUTURE;
    } else if (word_is(op, len, "nocommands") || word_is(op, len, "-@all")) {
        all_commands(r->cmds, false);
        r->flags &= ~(SRV_ACL_ALLCOMMANDS | SRV_ACL_FUTURE);
    } else if (op[0] == '~' || op[0] == '%') {
        int rc = key_pattern(r, op, len);

        if (rc < 0)
            return rc;
        r->flags &= ~SRV_ACL_ALLKEYS;
    } else if (op[0] == '&') {
        if (r->flags & SRV_ACL_ALLCHANNELS)
            return -EISDIR;
        if (srv_acl_has_spaces(op + 1, len - 1))
            return -EINVAL;
        return add_pattern(&r->chans, &r->nchans, op + 1, len - 1, 0);
    } else if (op[0] == '+' || op[0] == '-') {
        return command_rule(r, op, len);
    } else {
        return -EINVAL;
    }
    return 0;
}

static int password_rule(struct srv_acl_rules *r, const char *op, size_t len)
{
    unsigned char d[SRV_ACL_DIGEST_LEN];

    if (op[0] == '>' || op[0] == '<') {
        srv_acl_digest(op + 1, len - 1, d);
    } else {
        int rc = unhex(op + 1, len - 1, d);

        if (rc < 0)
            return rc;
    }
    return op[0] == '>' || op[0] == '#' ? add_pass(r, d) : del_pass(r, d);
}

int srv_acl_rules_apply(struct srv_acl_rules *r, const char *op, size_t len)
{
    if (len == 0)
        return 0;                       /* Redis: an empty word does nothing */
    if (word_is(op, len, "on")) {
        r->flags |= SRV_ACL_ON;
    } else if (word_is(op, len, "off")) {
        r->flags &= ~SRV_ACL_ON;
    } else if (word_is(op, len, "skip-sanitize-payload")) {
        r->flags = (r->flags & ~SRV_ACL_SANITIZE) | SRV_ACL_SKIP_SANITIZE;
    } else if (word_is(op, len, "sanitize-payload")) {
        r->flags = (r->flags & ~SRV_ACL_SKIP_SANITIZE) | SRV_ACL_SANITIZE;
    } else if (word_is(op, len, "nopass")) {
        reset_pass(r);
        r->flags |= SRV_ACL_NOPASS;
    } else if (word_is(op, len, "resetpass")) {
        reset_pass(r);
        r->flags &= ~SRV_ACL_NOPASS;
    } else if (op[0] == '>' || op[0] == '#' || op[0] == '<' || op[0] == '!') {
        return password_rule(r, op, len);
    } else if (word_is(op, len, "clearselectors")) {
        /* no (...) selectors are kept: nothing to clear */
    } else if (word_is(op, len, "reset")) {
        reset_pass(r);
        r->flags &= ~SRV_ACL_NOPASS;
        reset_patterns(&r->keys, &r->nkeys);
        reset_patterns(&r->chans, &r->nchans);
        all_commands(r->cmds, false);
        r->flags = SRV_ACL_SANITIZE;    /* off, no *-flags, -@all */
    } else {
        return selector_rule(r, op, len);
    }
    return 0;
}

const char *srv_acl_strerror(int rc)
{
    switch (rc) {
    case -ENOENT: return "Unknown command or category name in ACL";
    case -EINVAL: return "Syntax error";
    case -EEXIST:
        return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not "
               "valid and does not have any effect. Try 'resetkeys' to start with an "
               "empty list of patterns";
    case -EISDIR:
        return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not "
               "valid and does not have any effect. Try 'resetchannels' to start with "
               "an empty list of channels";
    case -ENODEV: return "The password you are trying to remove from the user does not exist";
    case -EBADMSG:
        return "The password hash must be exactly 64 characters and contain only "
               "lowercase hexadecimal characters";
    case -EALREADY:
        return "Duplicate user found. A user can only be defined once in config files";
    case -ECHILD: return "Allowing first-arg of a subcommand is not supported";
    case -ENOMEM: return "Out of memory";
    default: return "Wrong format";
    }
}

struct srv_acl_rules *srv_acl_rules_new_default(void)
{
    struct srv_acl_rules *r = srv_acl_rules_new();

    if (r != NULL) {
        all_commands(r->cmds, true);
        r->flags = SRV_ACL_ON | SRV_ACL_NOPASS | SRV_ACL_ALLKEYS | SRV_ACL_ALLCHANNELS |
                   SRV_ACL_ALLCOMMANDS | SRV_ACL_FUTURE;
    }
    return r;
}
