/*
 * Bitmap commands: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD
 * BITFIELD_RO, as Redis 7.0 (RESP2): the same checks in the same order,
 * so the same error wins, and the same keyspace hits and misses.
 *
 * Redis looks BITCOUNT's and BITPOS's key up before it reads their range
 * arguments: a missing key answers 0 (-1) whatever the range says, and a
 * key of another type answers WRONGTYPE before a syntax error. Here the
 * arguments are parsed first, and only when they are bad (the rare path)
 * is the key's type asked, to answer what Redis would.
 *
 * Bit offsets are bounded by proto-max-bulk-len as in Redis, and never
 * past mmcache's largest string (CACHE_MAX_STRING, 512 MB) whatever that
 * setting says.
 *
 * Context: the conn's worker thread, inside srv_dispatch().
 */
#include <stdlib.h>

#include "commands.h"
#include "srv.h"

#define ERR_OFFSET "ERR bit offset is not an integer or out of range"
#define ERR_BIT "ERR bit is not an integer or out of range"
#define ERR_BFTYPE "ERR Invalid bitfield type. Use something like i16 u8. " \
                   "Note that u64 is not supported but i64 is."

/* Redis's getBitOffsetFromArgument: a bit offset whose byte is inside
 * the largest string; with field_bits, "#n" means n fields of that many
 * bits (the product wraps as Redis's does: a client that asks for
 * field 2^60 of an i64 gets field 0, not an error). */
static int bit_offset(struct srv_conn *c, const struct proto_arg *a, unsigned field_bits,
                      uint64_t *out)
{
    uint64_t max = (uint64_t)c->cfg->proto_max_bulk_len;
    bool hash = field_bits && a->len > 0 && a->ptr[0] == '#';
    long long v;

    if (max > CACHE_MAX_STRING)
        max = CACHE_MAX_STRING;
    if (proto_str2ll(a->ptr + hash, a->len - hash, &v) < 0)
        goto out_err;
    if (hash)
        v = (long long)((uint64_t)v * field_bits);
    if (v < 0 || (uint64_t)v >> 3 >= max)
        goto out_err;
    *out = (uint64_t)v;
    return 0;
out_err:
    srv_reply_error(c, ERR_OFFSET);
    return -1;
}

/* A read's reply: its keyspace hit or miss, then the number or the error. */
static void reply_read(struct srv_conn *c, int rc, long long v)
{
    srv__stat_rc(c, rc);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_int(c, v);
}

SRV_HANDLER(srv_cmd_getbit)
{
    uint64_t offset;
    int bit;

    if (bit_offset(c, &argv[2], 0, &offset) < 0)
        return;
    int rc = cache_getbit(srv.cache, argv[1].ptr, argv[1].len, offset, NOW(c), &bit);
    reply_read(c, rc, bit);
}

SRV_HANDLER(srv_cmd_setbit)
{
    uint64_t offset;
    long long on;
    int old;

    if (bit_offset(c, &argv[2], 0, &offset) < 0 || srv__arg_ll(c, &argv[3], &on, ERR_BIT) < 0)
        return;
    if (on & ~1LL) {
        srv_reply_error(c, ERR_BIT);
        return;
    }
    int rc = cache_setbit(srv.cache, argv[1].ptr, argv[1].len, offset, (int)on, NOW(c), &old);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_int(c, old);
}

/* ---- BITCOUNT, BITPOS -------------------------------------------------------------- */

/* BYTE or BIT: 0 or 1; -1 for anything else. */
static int range_unit(const struct proto_arg *a)
{
    return srv__arg_is(a, "bit") ? 1 : srv__arg_is(a, "byte") ? 0 : -1;
}

/* Arguments that Redis reads only after looking the key up were bad (err)
 * or settled the answer (err NULL: `none`): answer as Redis would, after
 * the lookup it made first. */
static void reply_after_lookup(struct srv_conn *c, const struct proto_arg *key,
                               const char *err, long long missing, long long none)
{
    int type = -1;
    int rc = cache_type(srv.cache, key->ptr, key->len, NOW(c), &type, NULL);

    srv__stat_lookup(c, rc == CACHE_OK);
    if (rc != CACHE_OK)
        srv_reply_int(c, missing);
    else if (type != CACHE_TYPE_STRING)
        srv_reply_error(c, SRV_ERR_WRONGTYPE);
    else if (err)
        srv_reply_error(c, err);
    else
        srv_reply_int(c, none);
}

/* BITCOUNT key [start end [BYTE|BIT]]: NULL, or the error to answer
 * (*zero: Redis answers 0 before reading the unit, for a negative range
 * that ends before it starts). */
static const char *bitcount_args(size_t argc, const struct proto_arg *argv,
                                 struct cache_bitrange *r, bool *zero)
{
    *zero = false;
    if (argc == 2)
        return NULL;
    if (argc != 4 && argc != 5)
        return SRV_ERR_SYNTAX;
    if (proto_str2ll(argv[2].ptr, argv[2].len, &r->start) < 0 ||
        proto_str2ll(argv[3].ptr, argv[3].len, &r->end) < 0)
        return SRV_ERR_NOTINT;
    if (r->start < 0 && r->end < 0 && r->start > r->end) {
        *zero = true;
        return NULL;
    }
    if (argc == 5 && (r->bit = range_unit(&argv[4])) < 0)
        return SRV_ERR_SYNTAX;
    r->given = r->end_given = 1;
    return NULL;
}

SRV_HANDLER(srv_cmd_bitcount)
{
    struct cache_bitrange r = {0};
    bool zero;
    uint64_t n;
    const char *err = bitcount_args(argc, argv, &r, &zero);

    if (err || zero) {
        reply_after_lookup(c, &argv[1], err, 0, 0);
        return;
    }
    int rc = cache_bitcount(srv.cache, argv[1].ptr, argv[1].len, &r, NOW(c), &n);
    reply_read(c, rc, (long long)n);
}

/* BITPOS key bit [start [end [BYTE|BIT]]], after the bit: NULL or the
 * error (Redis reads the start, then the unit, then the end). */
static const char *bitpos_args(size_t argc, const struct proto_arg *argv,
                               struct cache_bitrange *r)
{
    if (argc == 3)
        return NULL;
    if (argc > 6)
        return SRV_ERR_SYNTAX;
    if (proto_str2ll(argv[3].ptr, argv[3].len, &r->start) < 0)
        return SRV_ERR_NOTINT;
    if (argc == 6 && (r->bit = range_unit(&argv[5])) < 0)
        return SRV_ERR_SYNTAX;
    if (argc >= 5 && proto_str2ll(argv[4].ptr, argv[4].len, &r->end) < 0)
        return SRV_ERR_NOTINT;
    r->given = 1;
    r->end_given = argc >= 5;
    return NULL;
}

SRV_HANDLER(srv_cmd_bitpos)
{
    struct cache_bitrange r = {0};
    long long bit;
    int64_t pos;

    if (srv__arg_ll(c, &argv[2], &bit, NULL) < 0)
        return;
    if (bit != 0 && bit != 1) {
        srv_reply_error(c, "ERR The bit argument must be 1 or 0.");
        return;
    }
    const char *err = bitpos_args(argc, argv, &r);
    if (err) {
        reply_after_lookup(c, &argv[1], err, bit ? -1 : 0, 0);
        return;
    }
    int rc = cache_bitpos(srv.cache, argv[1].ptr, argv[1].len, (int)bit, &r, NOW(c), &pos);
    reply_read(c, rc, pos);
}

/* ---- BITOP ---------------------------------------------------------------------------- */

/* BITOP AND|OR|XOR|NOT destkey key [key ...] */
SRV_HANDLER(srv_cmd_bitop)
{
    static const char *const ops[] = {"and", "or", "xor", "not"};
    struct srv_strv sv;
    uint64_t hits, misses;
    size_t len;
    int op = -1;

    for (int i = 0; i < 4 && op < 0; i++)
        if (srv__arg_is(&argv[1], ops[i]))
            op = i;
    if (op < 0) {
        srv_reply_error(c, SRV_ERR_SYNTAX);
        return;
    }
    if (op == CACHE_BITOP_NOT && argc != 4) {
        srv_reply_error(c, "ERR BITOP NOT must be called with a single source key.");
        return;
    }
    if (srv__strv(c, argv, 3, argc, &sv) < 0)
        return;
    int rc = cache_bitop(srv.cache, op, argv[2].ptr, argv[2].len, sv.v, sv.n, NOW(c),
                         &len, &hits, &misses);
    srv__stat_lookups(c, hits, misses);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_int(c, (long long)len);
    srv__strv_free(&sv);
}

/* ---- BITFIELD, BITFIELD_RO -------------------------------------------------------------- */

/* i1..i64, u1..u63. */
static int bf_type(struct srv_conn *c, const struct proto_arg *a, struct cache_bfop *op)
{
    long long bits;

    if (a->len < 2 || (a->ptr[0] != 'i' && a->ptr[0] != 'u') ||
        proto_str2ll(a->ptr + 1, a->len - 1, &bits) < 0 || bits < 1 ||
        bits > (a->ptr[0] == 'i' ? 64 : 63)) {
        srv_reply_error(c, ERR_BFTYPE);
        return -1;
    }
    op->sign = a->ptr[0] == 'i';
    op->bits = (uint8_t)bits;
    return 0;
}

/* The subcommands into ops (room for argc / 3), as Redis's
 * bitfieldGeneric reads them: every one checked before the key is
 * touched. Replies the error and returns -1. */
static int bf_parse(struct srv_conn *c, size_t argc, const struct proto_arg *argv,
                    struct cache_bfop *ops, size_t *n, bool *writes)
{
    static const char *const kinds[] = {"get", "set", "incrby"};
    int ow = CACHE_BF_WRAP;

    *n = 0;
    *writes = false;
    for (size_t j = 2; j < argc; j++) {
        size_t more = argc - j - 1;
        int kind = -1;
        for (int k = 0; k < 3 && kind < 0; k++)
            if (srv__arg_is(&argv[j], kinds[k]) && more >= (k ? 3u : 2u))
                kind = k;
        if (kind < 0 && srv__arg_is(&argv[j], "overflow") && more >= 1) {
            const struct proto_arg *t = &argv[++j];
            ow = srv__arg_is(t, "wrap") ? CACHE_BF_WRAP : srv__arg_is(t, "sat") ? CACHE_BF_SAT
                 : srv__arg_is(t, "fail") ? CACHE_BF_FAIL : -1;
            if (ow < 0) {
                srv_reply_error(c, "ERR Invalid OVERFLOW type specified");
                return -1;
            }
            continue;
        }
        if (kind < 0) {
            srv_reply_error(c, SRV_ERR_SYNTAX);
            return -1;
        }
        struct cache_bfop *op = &ops[*n];
        op->kind = (uint8_t)kind;
        op->ow = (uint8_t)ow;
        op->value = 0;
        if (bf_type(c, &argv[j + 1], op) < 0 || bit_offset(c, &argv[j + 2], op->bits,
                                                              &op->offset) < 0)
            return -1;
        if (kind != CACHE_BF_GET) {
            *writes = true;
            long long v;
            if (srv__arg_ll(c, &argv[j + 3], &v, NULL) < 0)
                return -1;
            op->value = v;
        }
        (*n)++;
        j += kind == CACHE_BF_GET ? 2 : 3;
    }
    return 0;
}

static void bitfield(struct srv_conn *c, size_t argc, struct proto_arg *argv, bool ro)
{
    /* zeroed: GCC cannot see that bf_parse fills what is read */
    struct cache_bfop small_ops[16] = {0}, *ops = small_ops;
    struct cache_bfres small_res[16] = {0}, *res = small_res;
    size_t cap = argc / 3, n;
    bool writes;
    int found;

    if (cap > 16 && (!(ops = malloc(cap * sizeof(*ops))) || !(res = malloc(cap * sizeof(*res))))) {
        srv_reply_error(c, SRV_ERR_NOMEM);
        goto out_free;
    }
    if (bf_parse(c, argc, argv, ops, &n, &writes) < 0)
        goto out_free;
    if (ro && writes) {
        srv_reply_error(c, "ERR BITFIELD_RO only supports the GET subcommand");
        goto out_free;
    }
    int rc = cache_bitfield(srv.cache, argv[1].ptr, argv[1].len, ops, n, NOW(c), res, &found);
    if (!writes)   /* Redis counts a read lookup; a write one counts nothing */
        srv__stat_lookup(c, found);
    if (rc < 0) {
        srv__reply_cache_err(c, rc);
        goto out_free;
    }
    srv_reply_array(c, (long long)n);
    for (size_t i = 0; i < n && !srv_reply_closing(c); i++) {
        if (res[i].nil)
            srv_reply_null(c);
        else
            srv_reply_int(c, res[i].v);
    }
out_free:
    if (ops != small_ops)
        free(ops);
    if (res != small_res)
        free(res);
}

SRV_HANDLER(srv_cmd_bitfield) { bitfield(c, argc, argv, false); }
SRV_HANDLER(srv_cmd_bitfield_ro) { bitfield(c, argc, argv, true); }
