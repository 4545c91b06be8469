/*
 * proto internals shared by the encoder and the number helpers.
 * Not part of the public contract: only the .c files of proto include it.
 */
#ifndef MMCACHE_PROTO_INT_H
#define MMCACHE_PROTO_INT_H

#include <stddef.h>
#include <stdint.h>

/* Longest decimal text of a 64-bit integer: "-9223372036854775808". */
#define PROTO__LL_MAX_CHARS 20

/* Number of decimal digits in v (1 for 0). */
unsigned proto__digits10(uint64_t v);

/*
 * Write v in decimal into dst, which has room for proto__digits10(v)
 * bytes; no NUL. Returns the length. The reply path formats every length
 * header and integer with this, so it avoids snprintf's format parsing.
 */
size_t proto__u64_fmt(char *dst, uint64_t v);

/* Same for a signed value; room for 20 bytes always suffices. */
size_t proto__ll_fmt(char *dst, long long v);

#endif
