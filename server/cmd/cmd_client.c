/*
 * Connection commands: CLIENT, HELLO, QUIT, RESET (AUTH is cmd_acl.c's).
 * CLIENT KILL and UNBLOCK act on any worker's connections through that
 * worker (srv_clients_act).
 *
 * A connection's name is written only by its own worker (here, through
 * srv_conn_setname(), which takes the worker's reg_lock so that CLIENT LIST
 * on another worker can read it); the owner may read it without the lock.
 *
 * Context: the conn's worker thread, inside srv_dispatch().
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "commands.h"
#include "srv.h"

/* Redis allows only '!'..'~' in a client name; "" clears the name. */
static int set_name(struct srv_conn *c, const struct proto_arg *name)
{
    for (size_t i = 0; i < name->len; i++) {
        if (name->ptr[i] < '!' || name->ptr[i] > '~') {
            srv_reply_error(c, "ERR Client names cannot contain spaces, newlines "
                               "or special characters.");
            return -1;
        }
    }
    if (srv_conn_setname(c, name->len ? name->ptr : NULL, name->len) < 0) {
        srv_reply_error(c, SRV_ERR_NOMEM);
        return -1;
    }
    return 0;
}

SRV_HANDLER(srv_cmd_client_id)
{
    srv_reply_int(c, (long long)c->id);
}

SRV_HANDLER(srv_cmd_client_getname)
{
    /* The owner is the only writer of c->name: no lock to read it here. */
    if (c->name == NULL)
        srv_reply_null(c);
    else
        srv_reply_bulk_cstr(c, c->name);
}

SRV_HANDLER(srv_cmd_client_setname)
{
    if (set_name(c, &argv[2]) == 0)
        srv_reply_ok(c);
}

/* CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2; clients send it). */
SRV_HANDLER(srv_cmd_client_setinfo)
{
    if (srv__arg_is(&argv[2], "lib-name") || srv__arg_is(&argv[2], "lib-ver"))
        srv_reply_ok(c);
    else
        srv_reply_errorf(c, "ERR Unrecognized option '%.*s'",
                         (int)(argv[2].len < 128 ? argv[2].len : 128), argv[2].ptr);
}

/* Does a CLIENT LIST line "id=N ..." name one of the ids? */
static bool line_has_id(const char *line, const long long *ids, size_t n)
{
    long long id = strtoll(line + 3, NULL, 10);

    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

/* CLIENT LIST [TYPE normal|master|replica|pubsub] [ID id [id ...]] */
SRV_HANDLER(srv_cmd_client_list)
{
    struct proto_buf b;
    long long *ids = NULL;
    size_t nids = 0;
    bool none = false;

    if (argc == 4 && srv__arg_is(&argv[2], "type")) {
        if (srv__arg_is(&argv[3], "master") || srv__arg_is(&argv[3], "replica") ||
            srv__arg_is(&argv[3], "slave") || srv__arg_is(&argv[3], "pubsub")) {
            none = true;
        } else if (!srv__arg_is(&argv[3], "normal")) {
            srv_reply_errorf(c, "ERR Unknown client type '%.*s'",
                             (int)(argv[3].len < 128 ? argv[3].len : 128), argv[3].ptr);
            return;
        }
    } else if (argc > 3 && srv__arg_is(&argv[2], "id")) {
        ids = malloc((argc - 3) * sizeof(*ids));
        if (ids == NULL) {
            srv_reply_error(c, SRV_ERR_NOMEM);
            return;
        }
        for (size_t i = 3; i < argc; i++, nids++) {
            if (proto_str2ll(argv[i].ptr, argv[i].len, &ids[nids]) < 0 || ids[nids] <= 0) {
                srv_reply_error(c, "ERR Invalid client ID");
                free(ids);
                return;
            }
        }
    } else if (argc != 2) {
        srv_reply_error(c, SRV_ERR_SYNTAX);
        return;
    }

    proto_buf_init(&b);
    srv_conn_publish_mem(c);   /* its own line as of now */
    if (!none && srv_clients_list(&b, c->w->now_ms) < 0) {
        srv_reply_error(c, SRV_ERR_NOMEM);
        goto out_free;
    }
    if (ids != NULL) {      /* keep only the lines of the ids asked for */
        size_t keep = 0;

        for (size_t pos = 0; pos < b.len;) {
            char *nl = memchr(b.data + pos, '\n', b.len - pos);
            size_t end = nl ? (size_t)(nl - b.data) + 1 : b.len;

            if (line_has_id(b.data + pos, ids, nids)) {
                memmove(b.data + keep, b.data + pos, end - pos);
                keep += end - pos;
            }
            pos = end;
        }
        b.len = keep;
    }
    srv_reply_bulk(c, b.data, b.len);
out_free:
    proto_buf_free(&b);
    free(ids);
}

/* CLIENT INFO: this connection's CLIENT LIST line. */
SRV_HANDLER(srv_cmd_client_info)
{
    struct proto_buf b;

    proto_buf_init(&b);
    srv_conn_publish_mem(c);
    if (srv_client_format(&b, c, c->w->now_ms, 1) < 0)
        srv_reply_error(c, SRV_ERR_NOMEM);
    else
        srv_reply_bulk(c, b.data, b.len);
    proto_buf_free(&b);
}

/* CLIENT KILL <ip:port> | CLIENT KILL [ID id] [ADDR ip:port] [LADDR
 * ip:port] [SKIPME yes|no] [TYPE normal] [USER name] [MAXAGE s] ...: each match
 * is closed by its own worker (the caller's own connection after this
 * reply). USER names an ACL user (Redis's "No such user" when there is
 * none). The options of Redis 7.0's that single out clients this server
 * does not have (TYPE master|replica|pubsub) match none. */
SRV_HANDLER(srv_cmd_client_kill)
{
    struct srv_client_filter f = { .skipme = true };
    char addr[64], laddr[64];
    bool none = false, self;

    if (argc == 3) {   /* the old form: one address, may name the caller */
        srv__arg_cstr(&argv[2], addr, sizeof(addr));
        f.addr = addr;
        f.skipme = false;
    }
    for (size_t i = 2; argc > 3 && i < argc; i += 2) {
        if (i + 1 >= argc) {
            srv_reply_error(c, SRV_ERR_SYNTAX);
            return;
        }
        struct proto_arg *v = &argv[i + 1];
        if (srv__arg_is(&argv[i], "id")) {
            long long id;
            if (proto_str2ll(v->ptr, v->len, &id) != 0 || id < 1) {
                srv_reply_error(c, "ERR client-id should be greater than 0");
                return;
            }
            f.id = (uint64_t)id;
        } else if (srv__arg_is(&argv[i], "addr")) {
            srv__arg_cstr(v, addr, sizeof(addr));
            f.addr = addr;
        } else if (srv__arg_is(&argv[i], "laddr")) {
            srv__arg_cstr(v, laddr, sizeof(laddr));
            f.laddr = laddr;
        } else if (srv__arg_is(&argv[i], "skipme") &&
                   (srv__arg_is(v, "yes") || srv__arg_is(v, "no"))) {
            f.skipme = srv__arg_is(v, "yes");
        } else if (srv__arg_is(&argv[i], "type")) {
            if (srv__arg_is(v, "master") || srv__arg_is(v, "replica") ||
                srv__arg_is(v, "slave") || srv__arg_is(v, "pubsub")) {
                none = true;
            } else if (!srv__arg_is(v, "normal")) {
                srv_reply_errorf(c, "ERR Unknown client type '%.*s'",
                                 (int)(v->len < 128 ? v->len : 128), v->ptr);
                return;
            }
        } else if (srv__arg_is(&argv[i], "maxage")) {
            long long age;
            if (proto_str2ll(v->ptr, v->len, &age) != 0 || age < 1) {
                srv_reply_error(c, SRV_ERR_SYNTAX);
                return;
            }
            f.maxage_s = age;
        } else if (srv__arg_is(&argv[i], "user")) {
            struct srv_acl_rules *r = srv_acl_user_rules(v->ptr, v->len);

            if (r == NULL) {
                srv_reply_errorf(c, "ERR No such user '%.*s'",
                                 (int)(v->len < 128 ? v->len : 128), v->ptr);
                return;
            }
            srv_acl_rules_unref(r);
            f.user = v->ptr;
            f.user_len = v->len;
        } else {
            srv_reply_error(c, SRV_ERR_SYNTAX);
            return;
        }
    }
    unsigned n = none ? 0 : srv_clients_act(&f, SRV_CONN_KILL, c, &self);
    if (argc == 3 && n == 0)
        srv_reply_error(c, "ERR No such client");
    else if (argc == 3)
        srv_reply_ok(c);
    else
        srv_reply_int(c, n);
    if (!none && self)
        c->flags |= CONN_CLOSE_AFTER_REPLY;
}

/* CLIENT NO-EVICT on|off: mmcache evicts no clients (it has no
 * maxmemory-clients), so the flag is kept and shown (flags=e), no more. */
SRV_HANDLER(srv_cmd_client_no_evict)
{
    if (srv__arg_is(&argv[2], "on") || srv__arg_is(&argv[2], "off")) {
        atomic_store_explicit(&c->no_evict, srv__arg_is(&argv[2], "on"), memory_order_relaxed);
        srv_reply_ok(c);
    } else {
        srv_reply_error(c, SRV_ERR_SYNTAX);
    }
}

/* CLIENT UNBLOCK id [TIMEOUT|ERROR]: 1 when the client was blocked (its
 * worker then ends the wait as a timeout, or with -UNBLOCKED; a serve
 * that got there first wins and the client gets its element), else 0. */
SRV_HANDLER(srv_cmd_client_unblock)
{
    int op = SRV_CONN_UNBLOCK;
    long long id;
    bool self;

    if (argc > 4) {   /* Redis 7.0's words for it */
        srv_reply_error(c, "ERR unknown subcommand or wrong number of arguments for "
                           "'unblock'. Try CLIENT HELP.");
        return;
    }
    if (argc == 4) {
        if (srv__arg_is(&argv[3], "error")) {
            op = SRV_CONN_UNBLOCK_ERR;
        } else if (!srv__arg_is(&argv[3], "timeout")) {
            srv_reply_error(c, "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    }
    if (srv__arg_ll(c, &argv[2], &id, NULL) < 0)
        return;
    struct srv_client_filter f = { .id = (uint64_t)id, .skipme = true };
    srv_reply_int(c, id > 0 && srv_clients_act(&f, op, c, &self) > 0);
}

SRV_HANDLER(srv_cmd_client_help)
{
    static const char *const lines[] = {
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "    * ID <client-id>",
        "      Kill connections by client id.",
        "    * MAXAGE <maxage>",
        "      Kill connections older than the specified age.",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "    * ID <client-id> [<client-id> ...]",
        "      Return clients of specified IDs only.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        NULL,
    };
    srv__reply_help(c, "CLIENT", lines);
}

/* HELLO [protover [AUTH username password] [SETNAME name]]: RESP2 only, so
 * the reply map is a flat array. As Redis 7.0 does it: each option takes
 * effect as it is read (a SETNAME before a failing AUTH stays), and the
 * reply needs an authenticated client. */
SRV_HANDLER(srv_cmd_hello)
{
    long long ver = 2;
    size_t j = 1;

    if (argc >= 2) {
        if (srv__arg_ll(c, &argv[1], &ver,
                        "ERR Protocol version is not an integer or out of range") < 0)
            return;
        if (ver != 2) {     /* 3 is valid Redis, but we only speak RESP2 */
            srv_reply_error(c, "NOPROTO unsupported protocol version");
            return;
        }
        j = 2;
    }
    for (; j < argc; j++) {
        size_t more = argc - 1 - j;

        if (srv__arg_is(&argv[j], "auth") && more >= 2) {
            if (srv__auth(c, &argv[0], &argv[j + 1], &argv[j + 2]) < 0)
                return;
            j += 2;
        } else if (srv__arg_is(&argv[j], "setname") && more >= 1) {
            if (set_name(c, &argv[++j]) < 0)
                return;
        } else {
            srv_reply_errorf(c, "ERR Syntax error in HELLO option '%.*s'",
                             (int)(argv[j].len < 128 ? argv[j].len : 128), argv[j].ptr);
            return;
        }
    }
    if (!c->acl.authenticated) {
        srv_reply_error(c, "NOAUTH HELLO must be called with the client already authenticated, "
                           "otherwise the HELLO AUTH <user> <pass> option can be used to "
                           "authenticate the client and select the RESP protocol version at "
                           "the same time");
        return;
    }
    srv_reply_array(c, 14);
    srv_reply_bulk_cstr(c, "server");
    srv_reply_bulk_cstr(c, "redis");
    srv_reply_bulk_cstr(c, "version");
    srv_reply_bulk_cstr(c, SRV_VERSION);
    srv_reply_bulk_cstr(c, "proto");
    srv_reply_int(c, 2);
    srv_reply_bulk_cstr(c, "id");
    srv_reply_int(c, (long long)c->id);
    srv_reply_bulk_cstr(c, "mode");
    srv_reply_bulk_cstr(c, "standalone");
    srv_reply_bulk_cstr(c, "role");
    srv_reply_bulk_cstr(c, "master");
    srv_reply_bulk_cstr(c, "modules");
    srv_reply_array(c, 0);
}

SRV_HANDLER(srv_cmd_quit)
{
    srv_reply_ok(c);
    c->flags |= CONN_CLOSE_AFTER_REPLY;
}

/* RESET: back to a fresh connection's state: no name, the default user
 * (authenticated only if it needs no password). */
SRV_HANDLER(srv_cmd_reset)
{
    if (c->name != NULL)
        srv_conn_setname(c, NULL, 0);
    srv_acl_conn_reset(c);
    srv_multi_reset(c);   /* out of MULTI, nothing watched */
    srv_monitor_remove(c);   /* Redis's RESET leaves MONITOR mode */
    srv_reply_simple(c, "RESET");
}
