/*
 * Keyspace commands: DEL, EXISTS, TTLs, RENAME/COPY, KEYS/SCAN, FLUSHALL,
 * SELECT, MEMORY, OBJECT. mmcache has one database (db0); every command
 * here works on a key of any type.
 *
 * Context: the conn's worker thread, inside srv_dispatch().
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "srv.h"

/* ---- DEL, EXISTS, TOUCH, TYPE ------------------------------------------------- */

/* DEL / UNLINK key [key ...]: how many existed. UNLINK hands a large
 * value to the lazy-free thread; DEL does when lazyfree-lazy-user-del is
 * set (the cache knows the setting). */
SRV_HANDLER(srv_cmd_del)
{
    long long n = 0;

    for (size_t i = 1; i < argc; i++)
        n += cache_del(srv.cache, argv[i].ptr, argv[i].len, NOW(c)) == CACHE_OK;
    srv_reply_int(c, n);
}

SRV_HANDLER(srv_cmd_unlink)
{
    long long n = 0;

    for (size_t i = 1; i < argc; i++)
        n += cache_unlink(srv.cache, argv[i].ptr, argv[i].len, NOW(c)) == CACHE_OK;
    srv_reply_int(c, n);
}

/* EXISTS key [key ...]: a key named twice counts twice, as in Redis. */
SRV_HANDLER(srv_cmd_exists)
{
    long long n = 0;

    for (size_t i = 1; i < argc; i++) {
        int found = cache_exists(srv.cache, argv[i].ptr, argv[i].len, NOW(c)) == CACHE_OK;

        srv__stat_lookup(c, found);
        n += found;
    }
    srv_reply_int(c, n);
}

SRV_HANDLER(srv_cmd_touch)
{
    long long n = 0;

    for (size_t i = 1; i < argc; i++) {
        int found = cache_touch(srv.cache, argv[i].ptr, argv[i].len, NOW(c)) == CACHE_OK;

        srv__stat_lookup(c, found);
        n += found;
    }
    srv_reply_int(c, n);
}

SRV_HANDLER(srv_cmd_type)
{
    int type = -1;
    int rc = cache_type(srv.cache, argv[1].ptr, argv[1].len, NOW(c), &type, NULL);

    srv__stat_rc(c, rc);
    srv_reply_simple(c, cache_type_name(rc == CACHE_OK ? type : -1));
}

/* ---- EXPIRE family ------------------------------------------------------------- */

/* EXPIRE key time [NX|XX|GT|LT]: `basetime` is now for the relative forms
 * and 0 for the *AT forms; Redis's checks, in Redis's order. */
static void expire_generic(struct srv_conn *c, size_t argc, struct proto_arg *argv,
                           int64_t basetime, int seconds, const char *cmd)
{
    int flags = 0, rc;
    long long when;

    for (size_t j = 3; j < argc; j++) {
        if (srv__arg_is(&argv[j], "nx"))
            flags |= CACHE_EXP_NX;
        else if (srv__arg_is(&argv[j], "xx"))
            flags |= CACHE_EXP_XX;
        else if (srv__arg_is(&argv[j], "gt"))
            flags |= CACHE_EXP_GT;
        else if (srv__arg_is(&argv[j], "lt"))
            flags |= CACHE_EXP_LT;
        else {
            srv_reply_errorf(c, "ERR Unsupported option %.*s",
                             (int)argv[j].len, argv[j].ptr);
            return;
        }
    }
    if ((flags & CACHE_EXP_NX) && (flags & ~CACHE_EXP_NX)) {
        srv_reply_error(c, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return;
    }
    if ((flags & CACHE_EXP_GT) && (flags & CACHE_EXP_LT)) {
        srv_reply_error(c, "ERR GT and LT options at the same time are not compatible");
        return;
    }
    if (srv__arg_ll(c, &argv[2], &when, NULL) < 0)
        return;
    /* A negative time is allowed (it deletes the key); overflow is not. */
    if (seconds) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000)
            goto invalid;
        when *= 1000;
    }
    if (when > LLONG_MAX - basetime)
        goto invalid;
    when += basetime;

    rc = cache_expire(srv.cache, argv[1].ptr, argv[1].len, when, flags, NOW(c));
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_int(c, rc == CACHE_OK);
    return;
invalid:
    srv_reply_errorf(c, "ERR invalid expire time in '%s' command", cmd);
}

SRV_HANDLER(srv_cmd_expire)    { expire_generic(c, argc, argv, NOW(c), 1, "expire"); }
SRV_HANDLER(srv_cmd_pexpire)   { expire_generic(c, argc, argv, NOW(c), 0, "pexpire"); }
SRV_HANDLER(srv_cmd_expireat)  { expire_generic(c, argc, argv, 0, 1, "expireat"); }
SRV_HANDLER(srv_cmd_pexpireat) { expire_generic(c, argc, argv, 0, 0, "pexpireat"); }

/* TTL / PTTL / EXPIRETIME / PEXPIRETIME: -2 no key, -1 no TTL. Seconds are
 * rounded to nearest, as Redis does. */
static void ttl_generic(struct srv_conn *c, const struct proto_arg *key,
                        int output_ms, int absolute)
{
    int64_t at, ttl;
    int rc = cache_ttl(srv.cache, key->ptr, key->len, NOW(c), &at);

    if (rc < 0) {
        srv__reply_cache_err(c, rc);
        return;
    }
    srv__stat_lookup(c, rc == CACHE_OK);
    if (rc == CACHE_NOTFOUND) {
        srv_reply_int(c, -2);
        return;
    }
    if (at == 0) {
        srv_reply_int(c, -1);
        return;
    }
    ttl = absolute ? at : at - NOW(c);
    if (ttl < 0)
        ttl = 0;
    srv_reply_int(c, output_ms ? ttl : (ttl + 500) / 1000);
}

SRV_HANDLER(srv_cmd_ttl)         { ttl_generic(c, &argv[1], 0, 0); }
SRV_HANDLER(srv_cmd_pttl)        { ttl_generic(c, &argv[1], 1, 0); }
SRV_HANDLER(srv_cmd_expiretime)  { ttl_generic(c, &argv[1], 0, 1); }
SRV_HANDLER(srv_cmd_pexpiretime) { ttl_generic(c, &argv[1], 1, 1); }

SRV_HANDLER(srv_cmd_persist)
{
    int rc = cache_persist(srv.cache, argv[1].ptr, argv[1].len, NOW(c));

    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_int(c, rc == CACHE_OK);
}

/* ---- RENAME, RENAMENX, COPY ------------------------------------------------------ */

static void rename_generic(struct srv_conn *c, struct proto_arg *argv, int nx)
{
    int rc = cache_rename(srv.cache, argv[1].ptr, argv[1].len, argv[2].ptr,
                          argv[2].len, nx, NOW(c));

    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else if (rc == CACHE_NOTFOUND)
        srv_reply_error(c, SRV_ERR_NOKEY);
    else if (nx)
        srv_reply_int(c, rc == CACHE_OK);
    else
        srv_reply_ok(c);
}

SRV_HANDLER(srv_cmd_rename)   { rename_generic(c, argv, 0); }
SRV_HANDLER(srv_cmd_renamenx) { rename_generic(c, argv, 1); }

/* COPY source destination [DB destination-db] [REPLACE] */
SRV_HANDLER(srv_cmd_copy)
{
    int replace = 0, db, rc;

    for (size_t j = 3; j < argc; j++) {
        if (srv__arg_is(&argv[j], "replace")) {
            replace = 1;
        } else if (srv__arg_is(&argv[j], "db") && j + 1 < argc) {
            if (srv__arg_int(c, &argv[++j], &db) < 0)
                return;
            if (db != 0) {      /* one database only */
                srv_reply_error(c, "ERR DB index is out of range");
                return;
            }
        } else {
            srv_reply_error(c, SRV_ERR_SYNTAX);
            return;
        }
    }
    if (argv[1].len == argv[2].len && memcmp(argv[1].ptr, argv[2].ptr, argv[1].len) == 0) {
        srv_reply_error(c, "ERR source and destination objects are the same");
        return;
    }
    rc = cache_copy(srv.cache, argv[1].ptr, argv[1].len, argv[2].ptr,
                    argv[2].len, replace, NOW(c));
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_int(c, rc == CACHE_OK);
}

/* ---- KEYS, SCAN, RANDOMKEY, DBSIZE ------------------------------------------------ */

/* Reply the keys of k that match pat (all when pat is NULL) as an array.
 * Two passes: RESP wants the count before the elements. */
static void reply_matching(struct srv_conn *c, const struct cache_keys *k,
                           const struct proto_arg *pat)
{
    const char *key;
    size_t pos = 0, klen;
    long long n = 0;

    if (pat == NULL) {
        n = (long long)k->count;
    } else {
        while ((key = cache_keys_next(k, &pos, &klen)) != NULL)
            n += srv_glob_match(pat->ptr, pat->len, key, klen, 0);
    }
    srv_reply_array(c, n);
    pos = 0;
    /* stops once the client is over its output limit */
    while (!srv_reply_closing(c) && (key = cache_keys_next(k, &pos, &klen)) != NULL)
        if (pat == NULL || srv_glob_match(pat->ptr, pat->len, key, klen, 0))
            srv_reply_bulk(c, key, klen);
}

static int is_match_all(const struct proto_arg *pat)
{
    return pat->len == 1 && pat->ptr[0] == '*';
}

SRV_HANDLER(srv_cmd_keys)
{
    struct cache_keys keys = { 0 };

    if (cache_keys(srv.cache, NOW(c), &keys) < 0)
        srv_reply_error(c, SRV_ERR_NOMEM);
    else
        reply_matching(c, &keys, is_match_all(&argv[1]) ? NULL : &argv[1]);
    cache_keys_free(&keys);
}

/* SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] */
SRV_HANDLER(srv_cmd_scan)
{
    const struct proto_arg *pat = NULL, *type = NULL;
    struct cache_keys keys = { 0 };
    long long count = 10;
    uint64_t cursor, next;
    char buf[24];
    int err = 0;

    if (srv__arg_cursor(c, &argv[1], &cursor) < 0)
        return;
    for (size_t i = 2; i < argc; i += 2) {
        int has_value = i + 1 < argc;

        if (srv__arg_is(&argv[i], "count") && has_value) {
            if (srv__arg_ll(c, &argv[i + 1], &count, NULL) < 0)
                return;
            if (count < 1) {
                srv_reply_error(c, SRV_ERR_SYNTAX);
                return;
            }
        } else if (srv__arg_is(&argv[i], "match") && has_value) {
            pat = is_match_all(&argv[i + 1]) ? NULL : &argv[i + 1];
        } else if (srv__arg_is(&argv[i], "type") && has_value) {
            type = &argv[i + 1];
        } else {
            srv_reply_error(c, SRV_ERR_SYNTAX);
            return;
        }
    }
    /* TYPE filters in the cache, where the type is; a name that is no
     * type matches nothing, as in Redis 7.0. */
    int tfilter = -1;
    if (type != NULL && (tfilter = cache_type_from_name(type->ptr, type->len)) < 0)
        tfilter = CACHE_TYPE_COUNT;
    next = cache_scan(srv.cache, cursor, (size_t)count, tfilter, NOW(c), &keys, &err);
    if (err != 0) {
        srv_reply_error(c, SRV_ERR_NOMEM);
        goto out_free;
    }
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)next);
    srv_reply_array(c, 2);
    srv_reply_bulk_cstr(c, buf);
    reply_matching(c, &keys, pat);
out_free:
    cache_keys_free(&keys);
}

SRV_HANDLER(srv_cmd_randomkey)
{
    srv__reply_value_or_null(c, cache_randomkey(srv.cache, NOW(c), &c->w->scratch));
}

SRV_HANDLER(srv_cmd_dbsize)
{
    srv_reply_int(c, (long long)cache_dbsize(srv.cache));
}

/* FLUSHALL / FLUSHDB [ASYNC|SYNC]: one database, so both empty the cache.
 * Without an option, lazyfree-lazy-user-flush picks (Redis 7.0). */
SRV_HANDLER(srv_cmd_flushall)
{
    int async = c->cfg->lazyfree_lazy_user_flush;

    if (argc > 2 || (argc == 2 && !srv__arg_is(&argv[1], "sync") &&
                     !srv__arg_is(&argv[1], "async"))) {
        srv_reply_error(c, SRV_ERR_SYNTAX);
        return;
    }
    if (argc == 2)
        async = srv__arg_is(&argv[1], "async");
    cache_flush(srv.cache, async);
    srv_reply_ok(c);
}

SRV_HANDLER(srv_cmd_select)
{
    int db;

    if (srv__arg_int(c, &argv[1], &db) < 0)
        return;
    if (db != 0)
        srv_reply_error(c, "ERR DB index is out of range");
    else
        srv_reply_ok(c);
}

/* ---- MEMORY ---------------------------------------------------------------------- */

/* MEMORY USAGE key [SAMPLES count]: the cache keeps every value's bytes
 * exactly (a hash's fields included), so there is nothing to sample; the
 * option is checked as Redis does. */
SRV_HANDLER(srv_cmd_memory_usage)
{
    size_t bytes;
    int rc;

    for (size_t j = 3; j < argc; j++) {
        long long samples;

        if (!srv__arg_is(&argv[j], "samples") || j + 1 >= argc) {
            srv_reply_error(c, SRV_ERR_SYNTAX);
            return;
        }
        if (srv__arg_ll(c, &argv[++j], &samples, NULL) < 0)
            return;
        if (samples < 0) {
            srv_reply_error(c, SRV_ERR_SYNTAX);
            return;
        }
    }
    rc = cache_memory_usage(srv.cache, argv[2].ptr, argv[2].len, NOW(c), &bytes);
    if (rc == CACHE_OK)
        srv_reply_int(c, (long long)bytes);
    else if (rc == CACHE_NOTFOUND)
        srv_reply_null(c);
    else
        srv__reply_cache_err(c, rc);
}

SRV_HANDLER(srv_cmd_memory_doctor)
{
    srv_reply_bulk_cstr(c, "Hi Sam, I can't find any memory issue in your instance. "
                           "I can only account for what occurs on this base.\n");
}

/* A few of Redis's MEMORY STATS fields, from the cache's accounting. */
SRV_HANDLER(srv_cmd_memory_stats)
{
    struct cache_stats st;

    cache_stats(srv.cache, &st);
    srv_reply_array(c, 6);
    srv_reply_bulk_cstr(c, "total.allocated");
    srv_reply_int(c, (long long)st.used_memory);
    srv_reply_bulk_cstr(c, "keys.count");
    srv_reply_int(c, (long long)st.keys);
    srv_reply_bulk_cstr(c, "dataset.bytes");
    srv_reply_int(c, (long long)st.used_memory);
}

SRV_HANDLER(srv_cmd_memory_malloc_stats)
{
    srv_reply_bulk_cstr(c, "Stats not supported for the current allocator");
}

SRV_HANDLER(srv_cmd_memory_purge)
{
    srv_reply_ok(c);
}

SRV_HANDLER(srv_cmd_memory_help)
{
    static const char *const lines[] = {
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        NULL,
    };
    srv__reply_help(c, "MEMORY", lines);
}

/* ---- OBJECT ----------------------------------------------------------------------- */

/* OBJECT's subcommands read the key without counting as an access (no
 * LRU move, no LFU hit), as Redis's do; a missing key is nil. */
static bool object_of(struct srv_conn *c, const struct proto_arg *key,
                      struct cache_object_info *o)
{
    if (cache_object(srv.cache, key->ptr, key->len, NOW(c), o) == CACHE_OK)
        return true;
    srv_reply_null(c);
    return false;
}

static bool policy_is_lfu(const struct srv_conn *c)
{
    return c->cfg->policy == CFG_ALLKEYS_LFU || c->cfg->policy == CFG_VOLATILE_LFU;
}

SRV_HANDLER(srv_cmd_object_encoding)
{
    struct cache_object_info o;

    if (object_of(c, &argv[2], &o))
        srv_reply_bulk_cstr(c, o.encoding);
}

/* A value is never shared between keys. */
SRV_HANDLER(srv_cmd_object_refcount)
{
    struct cache_object_info o;

    if (object_of(c, &argv[2], &o))
        srv_reply_int(c, 1);
}

/* The LFU counter (cache/lfu.c), which only an LFU policy keeps. */
SRV_HANDLER(srv_cmd_object_freq)
{
    struct cache_object_info o;

    if (!object_of(c, &argv[2], &o))
        return;
    if (policy_is_lfu(c))
        srv_reply_int(c, o.freq);
    else
        srv_reply_error(c, "ERR An LFU maxmemory policy is not selected, access "
                           "frequency not tracked. Please note that when switching "
                           "between policies at runtime LRU and LFU data will take "
                           "some time to adjust.");
}

/* Seconds since the last access; Redis does not answer it under LFU,
 * where its time field holds the counter (ours keeps both, but a client
 * written for Redis expects the error). */
SRV_HANDLER(srv_cmd_object_idletime)
{
    struct cache_object_info o;

    if (!object_of(c, &argv[2], &o))
        return;
    if (policy_is_lfu(c))
        srv_reply_error(c, "ERR An LFU maxmemory policy is selected, idle time not "
                           "tracked. Please note that when switching between policies "
                           "at runtime LRU and LFU data will take some time to adjust.");
    else
        srv_reply_int(c, (long long)(o.idle_ms / 1000));
}

SRV_HANDLER(srv_cmd_object_help)
{
    static const char *const lines[] = {
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        NULL,
    };
    srv__reply_help(c, "OBJECT", lines);
}
