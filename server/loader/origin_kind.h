/*
 * What the origin kinds (origin_synthetic.c, origin_redis.c,
 * origin_file.c) share with origin.c and nothing else does: how they word
 * an error, and parsing an address. Not part of the interface; only
 * origin*.c include it.
 */
#ifndef MMCACHE_ORIGIN_KIND_H
#define MMCACHE_ORIGIN_KIND_H

#include <stdint.h>

#include "origin.h"

/* printf into out->err (truncated to ORIGIN_ERRLEN-1); returns
 * ORIGIN_ERROR so a kind can `return origin__errf(out, ...)`. */
enum origin_rc origin__errf(struct origin_result *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The one wording of "over max_value_len", so a kind that refuses a value
 * early (before reading or building it) says what origin_load would. */
enum origin_rc origin__too_large(struct origin_result *out, uint64_t len);

/* Split "HOST:PORT" or "[V6]:PORT" (port 1..65535) into host, without
 * brackets, and port; for the kinds that talk to a server. -1 with err,
 * which names `kind` and the argument. */
int origin__parse_hostport(const char *kind, const char *arg, char *host, size_t hostcap,
                           int *port, char *err, size_t errlen);

#endif
