/*
 * Tagged values: T|<key>|<writer>|<seq>|<len>|<payload>|<fnv1a64 hex>.
 *
 * Why this shape: a reader must tell apart, without any shared state, the
 * three ways a cache hands back the wrong bytes: another key's value
 * (cross-talk between connections or a hash mix-up: the key field), a value
 * cut or spliced from two writes (torn: the length field and the checksum),
 * and bytes that were never a value (freed or reused memory: no "T|", or a
 * bad checksum). FNV-1a is not cryptographic, it only has to notice
 * accidents, and it is a few lines with no table.
 *
 * Context: pure functions, any thread.
 */
#include <stdio.h>
#include <string.h>

#include "ld.h"

#define SUM_HEX 16          /* digits of the checksum */

uint64_t ld_fnv1a64(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static size_t digits(uint64_t v)
{
    size_t n = 1;

    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

/* "T|" key "|" writer "|" seq "|" len "|" payload "|" sum: the length field
 * counts itself, so it is solved for below. */
static size_t fixed_part(size_t keylen, uint32_t writer, uint64_t seq)
{
    return 2 + keylen + 1 + digits(writer) + 1 + digits(seq) + 1 + 1 + 1 + SUM_HEX;
}

static size_t total_len(size_t fixed, size_t payload)
{
    size_t len = fixed + payload + 1;    /* guess: a 1-digit length field */

    /* the length field's own width changes the length: settle it */
    while (fixed + payload + digits(len) != len)
        len = fixed + payload + digits(len);
    return len;
}

size_t ld_tag_min_size(size_t keylen, uint32_t writer, uint64_t seq)
{
    return total_len(fixed_part(keylen, writer, seq), 0);
}

size_t ld_tag_encode(char *buf, size_t cap, const char *key, size_t keylen,
                     uint32_t writer, uint64_t seq, size_t size)
{
    size_t fixed = fixed_part(keylen, writer, seq);
    size_t len = total_len(fixed, 0), payload = 0, pos;
    uint64_t x = ((uint64_t)writer << 40) ^ seq ^ 0x9e3779b97f4a7c15ull;
    int n;

    if (size > len) {
        /* adding payload can widen the length field: shrink until it fits */
        payload = size - len;
        while (payload > 0 && total_len(fixed, payload) > size)
            payload--;
        len = total_len(fixed, payload);
    }
    if (len + 1 > cap)      /* +1: snprintf's terminator below */
        return 0;
    buf[0] = 'T';
    buf[1] = '|';
    memcpy(buf + 2, key, keylen);
    pos = 2 + keylen;
    n = snprintf(buf + pos, cap - pos, "|%u|%llu|%zu|", writer,
                 (unsigned long long)seq, len);
    pos += (size_t)n;
    for (size_t i = 0; i < payload; i++) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        buf[pos++] = (char)('a' + (x * 0x2545f4914f6cdd1dull >> 59) % 26);
    }
    snprintf(buf + pos, cap - pos, "|%016llx",
             (unsigned long long)ld_fnv1a64(buf, pos));
    return len;
}

/* Parse a decimal field ending at '|'; advances *p past the '|'. */
static int field(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;

    if (s >= end || *s < '0' || *s > '9')
        return -1;
    while (s < end && *s >= '0' && *s <= '9') {
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
        s++;
    }
    if (s >= end || *s != '|')
        return -1;
    *p = s + 1;
    *out = v;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

enum ld_tag_status ld_tag_verify(const char *val, size_t len, const char *key,
                                 size_t keylen, struct ld_tag_info *info)
{
    struct ld_tag_info tmp;
    const char *p, *end = val + len;
    uint64_t writer, seq, vlen, sum = 0;

    if (info == NULL)
        info = &tmp;
    memset(info, 0, sizeof(*info));
    if (len < 3 || val[0] != 'T' || val[1] != '|')
        return LD_TAG_NOT_TAGGED;
    if (len < 2 + keylen + 1 || memcmp(val + 2, key, keylen) != 0 ||
        val[2 + keylen] != '|') {
        /* name the key the value claims: up to the next '|', bounded */
        const char *q = memchr(val + 2, '|', len - 2);

        info->other_key = val + 2;
        info->other_key_len = q != NULL ? (size_t)(q - (val + 2)) : len - 2;
        /* a key field that does not end is not another key's value */
        return q != NULL ? LD_TAG_WRONG_KEY : LD_TAG_BAD_FORMAT;
    }
    p = val + 2 + keylen + 1;
    if (field(&p, end, &writer) < 0 || writer > UINT32_MAX ||
        field(&p, end, &seq) < 0 || field(&p, end, &vlen) < 0)
        return LD_TAG_BAD_FORMAT;
    info->writer = (uint32_t)writer;
    info->seq = seq;
    info->len = (size_t)vlen;
    if (vlen != len)
        return LD_TAG_BAD_LENGTH;
    if (len < (size_t)(p - val) + 1 + SUM_HEX || end[-SUM_HEX - 1] != '|')
        return LD_TAG_BAD_FORMAT;
    for (const char *h = end - SUM_HEX; h < end; h++) {
        int d = hexval(*h);

        if (d < 0)
            return LD_TAG_BAD_CHECKSUM;
        sum = sum << 4 | (uint64_t)d;
    }
    if (sum != ld_fnv1a64(val, len - SUM_HEX - 1))
        return LD_TAG_BAD_CHECKSUM;
    return LD_TAG_OK;
}

const char *ld_tag_status_str(enum ld_tag_status st)
{
    switch (st) {
    case LD_TAG_OK: return "ok";
    case LD_TAG_NOT_TAGGED: return "not a tagged value (garbage)";
    case LD_TAG_WRONG_KEY: return "value of another key (cross-talk)";
    case LD_TAG_BAD_FORMAT: return "malformed tagged value";
    case LD_TAG_BAD_LENGTH: return "length differs from the length field (torn or truncated)";
    case LD_TAG_BAD_CHECKSUM: return "checksum mismatch (corrupted)";
    }
    return "?";
}

void ld_excerpt(char *out, size_t cap, const char *p, size_t n, size_t max_in)
{
    size_t o = 0;

    if (cap == 0)
        return;
    for (size_t i = 0; i < n && i < max_in; i++) {
        unsigned char c = (unsigned char)p[i];

        if (c >= 0x20 && c < 0x7f && c != '\\') {
            if (o + 1 >= cap)
                break;
            out[o++] = (char)c;
        } else {
            if (o + 4 >= cap)
                break;
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
        }
    }
    if (n > max_in && o + 3 < cap) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}
