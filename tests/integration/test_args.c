/*
 * test_args: the less-used argument paths of each command, with the exact
 * reply Redis 7.0 gives: COUNT 0 and negative counts, integers one past
 * INT64_MAX, expiry times that overflow when scaled to milliseconds,
 * options repeated or combined, empty strings, keys that do not exist.
 * Each row is one command and its whole reply in RESP; rows that begin
 * with "& " run on the state the previous row left, the others on a fresh
 * one (FLUSHALL, then k = "hello" and n = "5").
 *
 * The rows were taken from redis-server 7.0 and the file passes there
 * (MMCACHE_TEST_AGAINST=redis); what is mmcache's own (its CONFIG SET
 * messages, DEBUG, BGSAVE's reply) is tested elsewhere. A cursor or key
 * order that depends on the hash table never appears in a row (SCAN
 * replies are narrowed by MATCH to one key or none).
 *
 * Command lines are split on spaces; "..." groups words (\" and \\ inside
 * it), and a backslash outside quotes takes the next character as is. In
 * a reply, a NUL byte is written \0.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"
#include "cmd_fixture.h"
#include "harness.h"

struct arg_case {
    const char *cmd;
    const char *want;   /* the whole reply, RESP2 */
};

/* SCAN: COUNT must be a positive integer; cursor parsing; options need a value */
static const struct arg_case scan_cases[] = {
    {"SCAN 0 COUNT 0", "-ERR syntax error\r\n"},
    {"SCAN 0 count 0", "-ERR syntax error\r\n"},
    {"SCAN 0 COUNT -1", "-ERR syntax error\r\n"},
    {"SCAN 0 COUNT abc", "-ERR value is not an integer or out of range\r\n"},
    {"SCAN 0 COUNT 9223372036854775808", "-ERR value is not an integer or out of range\r\n"},
    {"SCAN 0 COUNT 10 COUNT 0", "-ERR syntax error\r\n"},
    {"SCAN 0 MATCH * COUNT 0", "-ERR syntax error\r\n"},
    {"SCAN 0 MATCH k COUNT 9223372036854775807", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n"},
    {"SCAN 0 MATCH", "-ERR syntax error\r\n"},
    {"SCAN 0 COUNT", "-ERR syntax error\r\n"},
    {"SCAN 0 TYPE", "-ERR syntax error\r\n"},
    {"SCAN 0 MATCH k TYPE string COUNT 1000", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n"},
    {"SCAN 0 MATCH k TYPE hash COUNT 1000", "*2\r\n$1\r\n0\r\n*0\r\n"},
    {"SCAN -1 MATCH nomatch", "*2\r\n$1\r\n0\r\n*0\r\n"},
    {"SCAN 18446744073709551615 MATCH nomatch", "*2\r\n$1\r\n0\r\n*0\r\n"},
    {"SCAN 18446744073709551616", "-ERR invalid cursor\r\n"},
    {"SCAN 0x0", "-ERR invalid cursor\r\n"},
    {"SCAN \"\" MATCH k COUNT 100000", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n"},
    {NULL, NULL},
};
/* KEYS: patterns that match nothing or are malformed */
static const struct arg_case keys_cases[] = {
    {"KEYS \"\"", "*0\r\n"},
    {"KEYS [", "*0\r\n"},
    {"KEYS \\\\", "*0\r\n"},
    {"KEYS k[", "*0\r\n"},
    {NULL, NULL},
};
/* SET: expiry overflow and bounds, repeated and combined options */
static const struct arg_case set_cases[] = {
    {"SET k v EX 9223372036854775807", "-ERR invalid expire time in 'set' command\r\n"},
    {"SET k v PX 9223372036854775807", "-ERR invalid expire time in 'set' command\r\n"},
    {"SET k v EX 9223372036854775", "-ERR invalid expire time in 'set' command\r\n"},
    {"SET k v EX 9223372036854776", "-ERR invalid expire time in 'set' command\r\n"},
    {"SET k v EX 9223372036854775808", "-ERR value is not an integer or out of range\r\n"},
    {"SET k v EX -9223372036854775808", "-ERR invalid expire time in 'set' command\r\n"},
    {"SET k v PX -1", "-ERR invalid expire time in 'set' command\r\n"},
    {"SET k v EX 0", "-ERR invalid expire time in 'set' command\r\n"},
    {"SET k v EXAT 0", "-ERR invalid expire time in 'set' command\r\n"},
    {"SET k v PXAT 0", "-ERR invalid expire time in 'set' command\r\n"},
    {"SET k v EXAT -1", "-ERR invalid expire time in 'set' command\r\n"},
    {"SET k v EX 1 EX 2", "+OK\r\n"},
    {"& TTL k", ":2\r\n"},
    {"SET k v ex 100 keepttl", "-ERR syntax error\r\n"},
    {"SET k v GET", "$5\r\nhello\r\n"},
    {"SET k v NX GET", "$5\r\nhello\r\n"},
    {"& GET k", "$5\r\nhello\r\n"},
    {"SET k v XX GET", "$5\r\nhello\r\n"},
    {"SET nokey v XX GET", "$-1\r\n"},
    {"& EXISTS nokey", ":0\r\n"},
    {"SET k v GET GET", "$5\r\nhello\r\n"},
    {"SET k v EXAT 1", "+OK\r\n"},
    {"& EXISTS k", ":0\r\n"},
    {"SET k v PXAT 1", "+OK\r\n"},
    {"& EXISTS k", ":0\r\n"},
    {"SET k v px 1.5", "-ERR value is not an integer or out of range\r\n"},
    {"SET k v EX \"\"", "-ERR value is not an integer or out of range\r\n"},
    {NULL, NULL},
};
/* SETNX / SETEX / PSETEX */
static const struct arg_case setex_cases[] = {
    {"SETNX k v", ":0\r\n"},
    {"SETNX \"\" v", ":1\r\n"},
    {"& GET \"\"", "$1\r\nv\r\n"},
    {"SETEX k 9223372036854775807 v", "-ERR invalid expire time in 'setex' command\r\n"},
    {"SETEX k 9223372036854776 v", "-ERR invalid expire time in 'setex' command\r\n"},
    {"SETEX k -9223372036854775808 v", "-ERR invalid expire time in 'setex' command\r\n"},
    {"PSETEX k -1 v", "-ERR invalid expire time in 'psetex' command\r\n"},
    {"PSETEX k 9223372036854775807 v", "-ERR invalid expire time in 'psetex' command\r\n"},
    {"PSETEX k 1.0 v", "-ERR value is not an integer or out of range\r\n"},
    {NULL, NULL},
};
/* GET / GETSET / GETDEL / GETEX */
static const struct arg_case get_cases[] = {
    {"GET nokey", "$-1\r\n"},
    {"GET \"\"", "$-1\r\n"},
    {"GETSET nokey v", "$-1\r\n"},
    {"& GET nokey", "$1\r\nv\r\n"},
    {"GETSET n 6", "$1\r\n5\r\n"},
    {"GETDEL nokey", "$-1\r\n"},
    {"GETDEL k", "$5\r\nhello\r\n"},
    {"& EXISTS k", ":0\r\n"},
    {"GETEX k", "$5\r\nhello\r\n"},
    {"& TTL k", ":-1\r\n"},
    {"GETEX k PERSIST", "$5\r\nhello\r\n"},
    {"GETEX nokey PERSIST", "$-1\r\n"},
    {"GETEX k EX -1", "-ERR invalid expire time in 'getex' command\r\n"},
    {"GETEX k PX 0", "-ERR invalid expire time in 'getex' command\r\n"},
    {"GETEX k EXAT 0", "-ERR invalid expire time in 'getex' command\r\n"},
    {"GETEX k EX 9223372036854775807", "-ERR invalid expire time in 'getex' command\r\n"},
    {"GETEX k PXAT 9223372036854775807", "$5\r\nhello\r\n"},
    {"GETEX k EX 1 PERSIST", "-ERR syntax error\r\n"},
    {"GETEX k PERSIST EX 1", "-ERR syntax error\r\n"},
    {"GETEX k EX", "-ERR syntax error\r\n"},
    {"GETEX nokey EX abc", "$-1\r\n"},
    {"GETEX k FOO", "-ERR syntax error\r\n"},
    {NULL, NULL},
};
/* MGET / MSET / MSETNX */
static const struct arg_case multi_cases[] = {
    {"MGET nokey nokey k", "*3\r\n$-1\r\n$-1\r\n$5\r\nhello\r\n"},
    {"MGET k k", "*2\r\n$5\r\nhello\r\n$5\r\nhello\r\n"},
    {"MSET a 1 a 2", "+OK\r\n"},
    {"& GET a", "$1\r\n2\r\n"},
    {"MSETNX a 1 b", "-ERR wrong number of arguments for 'msetnx' command\r\n"},
    {"MSETNX a 1 a 2", ":1\r\n"},
    {"& GET a", "$1\r\n2\r\n"},
    {"MSETNX a 1 k 2", ":0\r\n"},
    {"& EXISTS a", ":0\r\n"},
    {NULL, NULL},
};
/* INCR family: overflow, signs, blanks, leading zeros, floats */
static const struct arg_case incr_cases[] = {
    {"INCRBY n 9223372036854775808", "-ERR value is not an integer or out of range\r\n"},
    {"INCRBY n -9223372036854775808", ":-9223372036854775803\r\n"},
    {"DECRBY n -9223372036854775808", "-ERR decrement would overflow\r\n"},
    {"DECRBY n -9223372036854775807", "-ERR increment or decrement would overflow\r\n"},
    {"DECRBY n 9223372036854775807", ":-9223372036854775802\r\n"},
    {"INCRBY n 9223372036854775803", "-ERR increment or decrement would overflow\r\n"},
    {"& INCR n", ":6\r\n"},
    {"& GET n", "$1\r\n6\r\n"},
    {"INCRBY n 0", ":5\r\n"},
    {"INCRBY n 01", "-ERR value is not an integer or out of range\r\n"},
    {"INCRBY n -0", "-ERR value is not an integer or out of range\r\n"},
    {"INCRBY n +1", "-ERR value is not an integer or out of range\r\n"},
    {"INCRBY n \" 1\"", "-ERR value is not an integer or out of range\r\n"},
    {"INCRBY n \"1 \"", "-ERR value is not an integer or out of range\r\n"},
    {"INCRBY n 1e3", "-ERR value is not an integer or out of range\r\n"},
    {"INCRBY n \"\"", "-ERR value is not an integer or out of range\r\n"},
    {"INCR k", "-ERR value is not an integer or out of range\r\n"},
    {"SET z 007", "+OK\r\n"},
    {"& INCR z", "-ERR value is not an integer or out of range\r\n"},
    {"SET z \" 7\"", "+OK\r\n"},
    {"& INCR z", "-ERR value is not an integer or out of range\r\n"},
    {"SET z 9223372036854775807", "+OK\r\n"},
    {"& INCR z", "-ERR increment or decrement would overflow\r\n"},
    {"& GET z", "$19\r\n9223372036854775807\r\n"},
    {"SET z -9223372036854775808", "+OK\r\n"},
    {"& DECR z", "-ERR increment or decrement would overflow\r\n"},
    {"& DECRBY z 0", ":-9223372036854775808\r\n"},
    {"DECR nokey", ":-1\r\n"},
    {"DECRBY nokey -5", ":5\r\n"},
    {"INCRBYFLOAT n 1e400", "$401\r\n10000000000000000000281880683947586514586453433629052038625910693539685534008629862039363994848324160522094053927317616200295822777259255734023828976593340661017797447434546173917862448116674971723778943824391593338047470675026246684401359237513603830343735485505244955964979021825038280091068414947402456898653040951017512658092615827588920183472511643316591362664138176309734806343732497430221946880\r\n"},
    {"INCRBYFLOAT n -0", "$1\r\n5\r\n"},
    {"INCRBYFLOAT n 0x10", "$2\r\n21\r\n"},
    {"INCRBYFLOAT n \"\"", "-ERR value is not a valid float\r\n"},
    {"INCRBYFLOAT n \"1 \"", "-ERR value is not a valid float\r\n"},
    {"INCRBYFLOAT n \" 1\"", "-ERR value is not a valid float\r\n"},
    {"INCRBYFLOAT n nan", "-ERR value is not a valid float\r\n"},
    {"INCRBYFLOAT n -inf", "-ERR increment would produce NaN or Infinity\r\n"},
    {"INCRBYFLOAT n 1.5e2", "$3\r\n155\r\n"},
    {"INCRBYFLOAT n 0.1", "$3\r\n5.1\r\n"},
    {"& INCRBYFLOAT n 0.2", "$3\r\n5.3\r\n"},
    {"INCRBYFLOAT nokey 3.0", "$1\r\n3\r\n"},
    {"INCRBYFLOAT n 5.0e3", "$4\r\n5005\r\n"},
    {"SET z 1e2", "+OK\r\n"},
    {"& INCRBYFLOAT z 1", "$3\r\n101\r\n"},
    {"SET z 1.0", "+OK\r\n"},
    {"& INCR z", "-ERR value is not an integer or out of range\r\n"},
    {NULL, NULL},
};
/* APPEND / STRLEN / GETRANGE / SUBSTR / SETRANGE */
static const struct arg_case range_cases[] = {
    {"APPEND k \"\"", ":5\r\n"},
    {"APPEND nokey \"\"", ":0\r\n"},
    {"& EXISTS nokey", ":1\r\n"},
    {"STRLEN nokey", ":0\r\n"},
    {"STRLEN n", ":1\r\n"},
    {"GETRANGE k 0 -1", "$5\r\nhello\r\n"},
    {"GETRANGE k -100 100", "$5\r\nhello\r\n"},
    {"GETRANGE k 5 2", "$0\r\n\r\n"},
    {"GETRANGE k -1 -2", "$0\r\n\r\n"},
    {"GETRANGE k -1 -1", "$1\r\no\r\n"},
    {"GETRANGE k 9223372036854775807 9223372036854775807", "$0\r\n\r\n"},
    {"GETRANGE k -9223372036854775808 -1", "$5\r\nhello\r\n"},
    {"GETRANGE k 0 9223372036854775808", "-ERR value is not an integer or out of range\r\n"},
    {"GETRANGE k 0 1.5", "-ERR value is not an integer or out of range\r\n"},
    {"GETRANGE nokey 0 -1", "$0\r\n\r\n"},
    {"SUBSTR k 0 0", "$1\r\nh\r\n"},
    {"SUBSTR k 1 -2", "$3\r\nell\r\n"},
    {"SETRANGE k 536870912 x", "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"},
    {"SETRANGE k 536870911 \"\"", ":5\r\n"},
    {"SETRANGE k 9223372036854775807 x", "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"},
    {"SETRANGE k 0 \"\"", ":5\r\n"},
    {"SETRANGE k 7 x", ":8\r\n"},
    {"& STRLEN k", ":8\r\n"},
    {"& GETRANGE k 5 6", "$2\r\n\\0\\0\r\n"},
    {"SETRANGE nokey 5 \"\"", ":0\r\n"},
    {"& EXISTS nokey", ":0\r\n"},
    {"SETRANGE nokey 2 ab", ":4\r\n"},
    {"& STRLEN nokey", ":4\r\n"},
    {"& GETRANGE nokey 2 3", "$2\r\nab\r\n"},
    {"SETRANGE k abc x", "-ERR value is not an integer or out of range\r\n"},
    {"SETRANGE k -9223372036854775808 x", "-ERR offset is out of range\r\n"},
    {NULL, NULL},
};
/* DEL / UNLINK / EXISTS / TOUCH / TYPE */
static const struct arg_case keys_misc_cases[] = {
    {"DEL nokey nokey", ":0\r\n"},
    {"DEL k k", ":1\r\n"},
    {"UNLINK nokey k k", ":1\r\n"},
    {"EXISTS k k nokey", ":2\r\n"},
    {"TOUCH k k nokey", ":2\r\n"},
    {"TYPE nokey", "+none\r\n"},
    {"TYPE k", "+string\r\n"},
    {NULL, NULL},
};
/* EXPIRE family: flags, overflow, negative and zero times */
static const struct arg_case expire_cases[] = {
    {"EXPIRE k 0", ":1\r\n"},
    {"& EXISTS k", ":0\r\n"},
    {"EXPIRE k -1", ":1\r\n"},
    {"& EXISTS k", ":0\r\n"},
    {"EXPIRE nokey 10", ":0\r\n"},
    {"EXPIRE k 9223372036854775807", "-ERR invalid expire time in 'expire' command\r\n"},
    {"EXPIRE k 9223372036854775", "-ERR invalid expire time in 'expire' command\r\n"},
    {"EXPIRE k -9223372036854775808", "-ERR invalid expire time in 'expire' command\r\n"},
    {"EXPIRE k abc", "-ERR value is not an integer or out of range\r\n"},
    {"EXPIRE k 10 NX", ":1\r\n"},
    {"& EXPIRE k 20 NX", ":0\r\n"},
    {"& TTL k", ":10\r\n"},
    {"EXPIRE k 10 XX", ":0\r\n"},
    {"& TTL k", ":-1\r\n"},
    {"EXPIRE k 10 GT", ":0\r\n"},
    {"EXPIRE k 10 LT", ":1\r\n"},
    {"& EXPIRE k 20 LT", ":0\r\n"},
    {"& EXPIRE k 30 GT", ":1\r\n"},
    {"& TTL k", ":30\r\n"},
    {"EXPIRE k 10 nx", ":1\r\n"},
    {"EXPIRE k 10 NX XX", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"},
    {"EXPIRE k 10 GT LT", "-ERR GT and LT options at the same time are not compatible\r\n"},
    {"EXPIRE k 10 NX GT", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"},
    {"EXPIRE k 10 XX LT", ":0\r\n"},
    {"EXPIRE k 10 FOO", "-ERR Unsupported option FOO\r\n"},
    {"EXPIRE k 10 NX NX", ":1\r\n"},
    {"PEXPIRE k 9223372036854775807", "-ERR invalid expire time in 'pexpire' command\r\n"},
    {"PEXPIRE k 9223372036854775", ":1\r\n"},
    {"PEXPIRE k -9223372036854775808", ":1\r\n"},
    {"& EXISTS k", ":0\r\n"},
    {"EXPIREAT k 9223372036854775807", "-ERR invalid expire time in 'expireat' command\r\n"},
    {"EXPIREAT k -9223372036854775808", "-ERR invalid expire time in 'expireat' command\r\n"},
    {"EXPIREAT k 0", ":1\r\n"},
    {"& EXISTS k", ":0\r\n"},
    {"PEXPIREAT k 9223372036854775807", ":1\r\n"},
    {"& PEXPIRETIME k", ":9223372036854775807\r\n"},
    {"PEXPIREAT k 0", ":1\r\n"},
    {"PEXPIREAT k 253402300799000", ":1\r\n"},
    {"& EXPIRETIME k", ":253402300799\r\n"},
    {"& PEXPIRETIME k", ":253402300799000\r\n"},
    {"PEXPIREAT k 253402300799499", ":1\r\n"},
    {"& EXPIRETIME k", ":253402300799\r\n"},
    {"PEXPIREAT k 253402300799500", ":1\r\n"},
    {"& EXPIRETIME k", ":253402300800\r\n"},
    {"TTL nokey", ":-2\r\n"},
    {"PTTL nokey", ":-2\r\n"},
    {"TTL k", ":-1\r\n"},
    {"PTTL k", ":-1\r\n"},
    {"EXPIRETIME nokey", ":-2\r\n"},
    {"EXPIRETIME k", ":-1\r\n"},
    {"PEXPIRETIME nokey", ":-2\r\n"},
    {"PEXPIRETIME k", ":-1\r\n"},
    {"PERSIST nokey", ":0\r\n"},
    {"PERSIST k", ":0\r\n"},
    {"EXPIRE k 100", ":1\r\n"},
    {"& PERSIST k", ":1\r\n"},
    {"& TTL k", ":-1\r\n"},
    {NULL, NULL},
};
/* RENAME / RENAMENX / COPY */
static const struct arg_case rename_cases[] = {
    {"RENAME k k", "+OK\r\n"},
    {"RENAMENX k k", ":0\r\n"},
    {"RENAME nokey nokey", "-ERR no such key\r\n"},
    {"RENAMENX nokey k", "-ERR no such key\r\n"},
    {"RENAMENX k n", ":0\r\n"},
    {"RENAME k \"\"", "+OK\r\n"},
    {"& GET \"\"", "$5\r\nhello\r\n"},
    {"COPY k k", "-ERR source and destination objects are the same\r\n"},
    {"COPY k k REPLACE", "-ERR source and destination objects are the same\r\n"},
    {"COPY k n", ":0\r\n"},
    {"COPY k n REPLACE", ":1\r\n"},
    {"& GET n", "$5\r\nhello\r\n"},
    {"COPY k k2 DB 0", ":1\r\n"},
    {"COPY k k2 DB 1", "-ERR DB index is out of range\r\n"},
    {"COPY k k2 DB -1", "-ERR DB index is out of range\r\n"},
    {"COPY k k2 DB abc", "-ERR value is not an integer or out of range\r\n"},
    {"COPY k k2 DB", "-ERR syntax error\r\n"},
    {"COPY k k2 REPLACE REPLACE", ":1\r\n"},
    {"COPY nokey k2", ":0\r\n"},
    {"COPY k k2 FOO", "-ERR syntax error\r\n"},
    {NULL, NULL},
};
/* RANDOMKEY / DBSIZE / FLUSHALL / FLUSHDB / SELECT */
static const struct arg_case db_cases[] = {
    {"FLUSHALL", "+OK\r\n"},
    {"& RANDOMKEY", "$-1\r\n"},
    {"& DBSIZE", ":0\r\n"},
    {"FLUSHALL ASYNC", "+OK\r\n"},
    {"FLUSHALL SYNC", "+OK\r\n"},
    {"FLUSHALL sync", "+OK\r\n"},
    {"FLUSHALL FOO", "-ERR syntax error\r\n"},
    {"FLUSHALL SYNC ASYNC", "-ERR syntax error\r\n"},
    {"FLUSHDB ASYNC", "+OK\r\n"},
    {"FLUSHDB a b", "-ERR syntax error\r\n"},
    {"SELECT -1", "-ERR DB index is out of range\r\n"},
    {"SELECT 1", "-ERR DB index is out of range\r\n"},
    {"SELECT 9223372036854775808", "-ERR value is not an integer or out of range\r\n"},
    {"SELECT 0x0", "-ERR value is not an integer or out of range\r\n"},
    {"SELECT 00", "-ERR value is not an integer or out of range\r\n"},
    {"SELECT \"\"", "-ERR value is not an integer or out of range\r\n"},
    {NULL, NULL},
};
/* connection and server commands */
static const struct arg_case server_cases[] = {
    {"PING \"\"", "$0\r\n\r\n"},
    {"ECHO \"\"", "$0\r\n\r\n"},
    {"MEMORY USAGE nokey", "$-1\r\n"},
    {"MEMORY USAGE nokey SAMPLES 0", "$-1\r\n"},
    {"MEMORY USAGE nokey SAMPLES -1", "-ERR syntax error\r\n"},
    {"MEMORY USAGE k SAMPLES", "-ERR syntax error\r\n"},
    {"MEMORY USAGE k FOO 1", "-ERR syntax error\r\n"},
    {"MEMORY FOO", "-ERR unknown subcommand 'FOO'. Try MEMORY HELP.\r\n"},
    {"MEMORY", "-ERR wrong number of arguments for 'memory' command\r\n"},
    {"CLIENT SETNAME \"a b\"", "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
    {"CLIENT SETNAME \"a\\nb\"", "+OK\r\n"},
    {"CLIENT SETNAME \"\"", "+OK\r\n"},
    {"& CLIENT GETNAME", "$-1\r\n"},
    {"CLIENT SETNAME x y", "-ERR wrong number of arguments for 'client|setname' command\r\n"},
    {"CLIENT FOO", "-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n"},
    {"HELLO 4", "-NOPROTO unsupported protocol version\r\n"},
    {"HELLO 0", "-NOPROTO unsupported protocol version\r\n"},
    {"HELLO -1", "-NOPROTO unsupported protocol version\r\n"},
    {"HELLO abc", "-ERR Protocol version is not an integer or out of range\r\n"},
    {"HELLO 9223372036854775808", "-ERR Protocol version is not an integer or out of range\r\n"},
    {"HELLO 2 FOO", "-ERR Syntax error in HELLO option 'FOO'\r\n"},
    {"HELLO 2 AUTH a", "-ERR Syntax error in HELLO option 'AUTH'\r\n"},
    {"HELLO 2 SETNAME \"a b\"", "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
    {"WAIT 0 0", ":0\r\n"},
    {"WAIT -1 0", ":0\r\n"},
    {"WAIT 0 -1", "-ERR timeout is negative\r\n"},
    {"WAIT abc 0", "-ERR value is not an integer or out of range\r\n"},
    {"WAIT 0 abc", "-ERR timeout is not an integer or out of range\r\n"},
    {"WAIT 0 9223372036854775808", "-ERR timeout is not an integer or out of range\r\n"},
    {"SCRIPT FOO", "-ERR unknown subcommand 'FOO'. Try SCRIPT HELP.\r\n"},
    {"FUNCTION FOO", "-ERR unknown subcommand 'FOO'. Try FUNCTION HELP.\r\n"},
    {"BGSAVE FOO", "-ERR syntax error\r\n"},
    {"COMMAND INFO nosuchcmd", "*1\r\n$-1\r\n"},
    {"COMMAND FOO", "-ERR unknown subcommand 'FOO'. Try COMMAND HELP.\r\n"},
    {"COMMAND COUNT x", "-ERR wrong number of arguments for 'command|count' command\r\n"},
    {"CONFIG FOO", "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n"},
    {"CONFIG GET", "-ERR wrong number of arguments for 'config|get' command\r\n"},
    {"CONFIG GET nosuchsetting", "*0\r\n"},
    {"CONFIG SET", "-ERR wrong number of arguments for 'config|set' command\r\n"},
    {"CONFIG SET timeout", "-ERR wrong number of arguments for 'config|set' command\r\n"},
    {"CONFIG SET nosuchsetting 1", "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuchsetting'\r\n"},
    {"CONFIG RESETSTAT x", "-ERR wrong number of arguments for 'config|resetstat' command\r\n"},
    {"TIME x", "-ERR wrong number of arguments for 'time' command\r\n"},
    {"LASTSAVE x", "-ERR wrong number of arguments for 'lastsave' command\r\n"},
    {"SAVE x", "-ERR wrong number of arguments for 'save' command\r\n"},
    {"SHUTDOWN FOO", "-ERR syntax error\r\n"},
    {"SHUTDOWN NOSAVE SAVE", "-ERR syntax error\r\n"},
    {"RESET x", "-ERR wrong number of arguments for 'reset' command\r\n"},
    {NULL, NULL},
};

#define MAX_WORDS 16

/* Split `line` into words in buf (see the header). Returns the count. */
static int split(const char *line, char *buf, size_t cap, const char **argv, size_t *lens)
{
    int n = 0;
    size_t o = 0;
    const char *p = line;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        assert_true(n < MAX_WORDS);
        argv[n] = buf + o;
        size_t start = o;
        while (*p && *p != ' ') {
            if (*p == '"') {
                for (p++; *p && *p != '"'; p++) {
                    if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                        p++;
                    buf[o++] = *p;
                }
                assert_int_equal(*p, '"');
                p++;
            } else {
                if (*p == '\\' && p[1])
                    p++;
                buf[o++] = *p++;
            }
            assert_true(o < cap);
        }
        lens[n++] = o - start;
    }
    return n;
}

/* The reply in RESP2, as the server sent it (hiredis reads both nil
 * forms as NIL: written $-1), NUL-terminated. */
static void resp_of(const redisReply *r, char *out, size_t cap, size_t *len)
{
    int w = 0;
    switch (r->type) {
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        w = snprintf(out + *len, cap - *len, "%c%.*s\r\n",
                     r->type == REDIS_REPLY_STATUS ? '+' : '-', (int)r->len, r->str);
        break;
    case REDIS_REPLY_INTEGER:
        w = snprintf(out + *len, cap - *len, ":%lld\r\n", r->integer);
        break;
    case REDIS_REPLY_NIL:
        w = snprintf(out + *len, cap - *len, "$-1\r\n");
        break;
    case REDIS_REPLY_STRING:   /* a NUL byte is written \0, as the rows do */
        w = snprintf(out + *len, cap - *len, "$%zu\r\n", r->len);
        assert_true(w > 0 && (size_t)w < cap - *len);
        *len += (size_t)w;
        for (size_t i = 0; i < r->len; i++) {
            assert_true(*len + 2 < cap);
            if (r->str[i] == '\0')
                out[(*len)++] = '\\';
            out[(*len)++] = r->str[i] ? r->str[i] : '0';
        }
        w = snprintf(out + *len, cap - *len, "\r\n");
        break;
    case REDIS_REPLY_ARRAY:
        w = snprintf(out + *len, cap - *len, "*%zu\r\n", r->elements);
        assert_true(w > 0 && (size_t)w < cap - *len);
        *len += (size_t)w;
        for (size_t i = 0; i < r->elements; i++)
            resp_of(r->element[i], out, cap, len);
        return;
    default:
        fail_msg("reply type %d is not RESP2", r->type);
    }
    assert_true(w > 0 && (size_t)w < cap - *len);
    *len += (size_t)w;
}

/* RESP with its CR LF shown, for a diagnosis. */
static void show(const char *label, const char *s)
{
    fprintf(stderr, "  %s ", label);
    for (; *s; s++) {
        if (*s == '\r')
            fputs("\\r", stderr);
        else if (*s == '\n')
            fputs("\\n", stderr);
        else
            fputc(*s, stderr);
    }
    fputc('\n', stderr);
}

static void fresh_state(void)
{
    EXPECT_OK(c, "FLUSHALL");
    EXPECT_OK(c, "SET k hello");
    EXPECT_OK(c, "SET n 5");
}

/* Every row of t; all differences are listed before the test fails. */
static void run_cases(const struct arg_case *t)
{
    int bad = 0, rows = 0;
    for (; t->cmd; t++, rows++) {
        const char *line = t->cmd, *argv[MAX_WORDS];
        size_t lens[MAX_WORDS], len = 0;
        char words[1024], got[8192];
        if (strncmp(line, "& ", 2) == 0)
            line += 2;
        else
            fresh_state();
        int argc = split(line, words, sizeof(words), argv, lens);
        redisReply *r = redisCommandArgv(c, argc, argv, lens);
        if (!r)
            fail_msg("`%s`: no reply (%s)", line, c->errstr);
        resp_of(r, got, sizeof(got), &len);
        freeReplyObject(r);
        if (strcmp(got, t->want) != 0) {
            fprintf(stderr, "`%s`\n", line);
            show("expected", t->want);
            show("got     ", got);
            bad++;
        }
    }
    if (bad)
        fail_msg("%d of %d replies differ (see above)", bad, rows);
}

#define ARG_TEST(name) \
    static void test_##name(void **state) { run_cases(name##_cases); }
ARG_TEST(scan)
ARG_TEST(keys)
ARG_TEST(set)
ARG_TEST(setex)
ARG_TEST(get)
ARG_TEST(multi)
ARG_TEST(incr)
ARG_TEST(range)
ARG_TEST(keys_misc)
ARG_TEST(expire)
ARG_TEST(rename)
ARG_TEST(db)
ARG_TEST(server)

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(test_##f, test_setup)
        T(scan), T(keys), T(set), T(setex), T(get), T(multi), T(incr),
        T(range), T(keys_misc), T(expire), T(rename), T(db), T(server),
#undef T
    };
    int failed = cmocka_run_group_tests_name("integration/args", tests,
                                             group_setup, group_teardown);
    return harness_finish(failed);
}
