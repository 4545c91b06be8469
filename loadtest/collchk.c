/*
 * What the hash and set checkers (hashchk.c, setchk.c) share: their keys,
 * their set-up (each key deleted, then given an anchor that is never
 * removed, so that it always exists and every read of it is exactly one
 * keyspace hit for the stats checker), and an error reply naming its key.
 *
 * Context: ld__coll_key any thread; setup main thread (control
 * connection); the rest the connection's client thread.
 */
#include <stdio.h>
#include <string.h>

#include "ld_int.h"

size_t ld__coll_key(const struct ld_run *r, char *buf, char kind, unsigned n)
{
    size_t len = strlen(r->o->prefix);

    memcpy(buf, r->o->prefix, len);
    buf[len++] = ':';
    buf[len++] = kind;
    buf[len++] = ':';
    len += ld__u64_str(buf + len, n);
    buf[len] = '\0';
    return len;
}

static int coll_setup(struct ld_run *r, struct ld_ctl *k, char kind,
                      const char *const *anchor, int anchor_argc, char *err, size_t cap)
{
    char key[LD_PREFIX_MAX + 32];
    const char *argv[4];

    for (unsigned n = 0; n < LD_COLL_KEYS; n++) {
        ld__coll_key(r, key, kind, n);
        for (int step = 0; step < 2; step++) {
            int argc = step == 0 ? 2 : anchor_argc;
            argv[0] = step == 0 ? "DEL" : anchor[0];
            argv[1] = key;
            for (int i = 2; i < argc; i++)
                argv[i] = anchor[i - 1];
            redisReply *rep = ld__ctl_cmd(k, err, cap, argc, argv);
            if (rep == NULL)
                return -1;
            int ok = rep->type == REDIS_REPLY_INTEGER;
            if (!ok)
                snprintf(err, cap, "%s %s: %s", argv[0], key,
                         rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
            freeReplyObject(rep);
            if (!ok)
                return -1;
        }
    }
    return 0;
}

int ld__hash_setup(struct ld_run *r, struct ld_ctl *k, char *err, size_t cap)
{
    static const char *const anchor[] = { "HSET", "anchor", "1" };

    return coll_setup(r, k, 'h', anchor, 4, err, cap);
}

int ld__set_setup(struct ld_run *r, struct ld_ctl *k, char *err, size_t cap)
{
    static const char *const anchor[] = { "SADD", "-1" };   /* an integer: key 0 stays an intset */

    return coll_setup(r, k, 's', anchor, 3, err, cap);
}

void ld__coll_cmd(struct ld_conn *c, unsigned argc, const char *name, char kind, unsigned n)
{
    char key[LD_PREFIX_MAX + 32];

    ld__out_array(c, argc);
    ld__out_bulk(c, name, strlen(name));
    ld__out_bulk(c, key, ld__coll_key(c->t->run, key, kind, n));
}

void ld__coll_error(struct ld_conn *c, const struct ld_req *q, const redisReply *rep)
{
    char key[LD_PREFIX_MAX + 32];

    ld__coll_key(c->t->run, key, c->kind == LD_CONN_HASH ? 'h' : 's', q->keys[0]);
    ld__reply_error(c, q, rep, key);
}
