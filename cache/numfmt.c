/*
 * numfmt.c: Redis's number parsing and formatting rules (util.c), private
 * copies so that cache/ does not depend on proto/.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache_int.h"

/* Redis string2ll: optional '-', then digits with no leading zero (a lone
 * "0" is fine), no spaces, no '+', no overflow, at most 20 chars. */
int cache__string2ll(const char *s, size_t slen, long long *value)
{
    const char *p = s;
    size_t plen = 0;
    int negative = 0;
    unsigned long long v;

    if (slen == 0 || slen >= CACHE__LONG_STR_SIZE)
        return 0;
    if (slen == 1 && p[0] == '0') {
        if (value)
            *value = 0;
        return 1;
    }
    if (p[0] == '-') {
        negative = 1;
        p++;
        plen++;
        if (plen == slen)
            return 0;
    }
    if (p[0] >= '1' && p[0] <= '9') {
        v = (unsigned long long)(p[0] - '0');
        p++;
        plen++;
    } else {
        return 0;
    }
    while (plen < slen && p[0] >= '0' && p[0] <= '9') {
        if (v > ULLONG_MAX / 10)
            return 0;
        v *= 10;
        if (v > ULLONG_MAX - (unsigned long long)(p[0] - '0'))
            return 0;
        v += (unsigned long long)(p[0] - '0');
        p++;
        plen++;
    }
    if (plen < slen)
        return 0;
    if (negative) {
        if (v > (unsigned long long)(-(LLONG_MIN + 1)) + 1)
            return 0;
        if (value)
            *value = (long long)(0 - v);
    } else {
        if (v > LLONG_MAX)
            return 0;
        if (value)
            *value = (long long)v;
    }
    return 1;
}

int cache__ll2string(char *dst, size_t dstlen, long long v)
{
    int n = snprintf(dst, dstlen, "%lld", v);
    return n < 0 || (size_t)n >= dstlen ? 0 : n;
}

/* Redis string2ld: strtold over the whole string, no leading space, no
 * NaN, no overflow to HUGE_VAL or underflow to zero. */
int cache__string2ld(const char *s, size_t slen, long double *dp)
{
    char buf[CACHE_LD_MAX_CHARS];
    long double value;
    char *eptr;

    if (slen == 0 || slen >= sizeof(buf))
        return 0;
    memcpy(buf, s, slen);
    buf[slen] = '\0';
    errno = 0;
    value = strtold(buf, &eptr);
    if (isspace((unsigned char)buf[0]) || eptr[0] != '\0' ||
        (size_t)(eptr - buf) != slen ||
        (errno == ERANGE &&
         (value == HUGE_VALL || value == -HUGE_VALL ||
          fpclassify(value) == FP_ZERO)) ||
        errno == EINVAL || isnan(value))
        return 0;
    if (dp)
        *dp = value;
    return 1;
}

/* Redis ld2string(LD_STR_HUMAN): "%.17Lf", trailing zeros after the '.'
 * and a trailing '.' stripped, "-0" written as "0". Returns the length,
 * 0 if buf is too small. */
int cache__ld2string(char *buf, size_t len, long double value)
{
    int l;

    if (isinf(value)) {
        if (len < 5)
            return 0;
        if (value > 0) {
            memcpy(buf, "inf", 3);
            l = 3;
        } else {
            memcpy(buf, "-inf", 4);
            l = 4;
        }
        buf[l] = '\0';
        return l;
    }
    l = snprintf(buf, len, "%.17Lf", value);
    if (l < 0 || (size_t)l + 1 > len)
        return 0;
    if (strchr(buf, '.') != NULL) {
        char *p = buf + l - 1;
        while (*p == '0') {
            p--;
            l--;
        }
        if (*p == '.')
            l--;
    }
    if (l == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        l = 1;
    }
    buf[l] = '\0';
    return l;
}

/* INCRBY's arithmetic on a stored value (cur NULL: absent, counts as 0),
 * shared by strings (INCR) and hash fields (HINCRBY). */
int cache__incr_ll(const char *cur, size_t len, long long delta, long long *out)
{
    long long v = 0;

    if (cur && !cache__string2ll(cur, len, &v))
        return CACHE_E_NOTINT;
    if (__builtin_add_overflow(v, delta, out))
        return CACHE_E_OVERFLOW;
    return CACHE_OK;
}

/* INCRBYFLOAT's: the new value formatted as Redis does into buf (cap >=
 * CACHE_LD_MAX_CHARS); E_TOOBIG when it does not fit a smaller buf. */
int cache__incr_ld(const char *cur, size_t len, long double delta, char *buf,
                   size_t cap, size_t *outlen)
{
    long double v = 0;

    if (cur && !cache__string2ld(cur, len, &v))
        return CACHE_E_NOTFLOAT;
    v += delta;
    if (isnan(v) || isinf(v))
        return CACHE_E_NANINF;
    int n = cache__ld2string(buf, cap, v);
    if (n <= 0 || (size_t)n + 1 > cap)
        return CACHE_E_TOOBIG;
    *outlen = (size_t)n;
    return CACHE_OK;
}
