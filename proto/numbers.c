/*
 * Number <-> text conversions with Redis's exact rules.
 *
 * Clients see these rules directly (INCR on "01" fails, INCRBYFLOAT prints
 * "10.6" and not "10.59999..."), so they follow Redis's util.c to the
 * letter rather than what strtoll/printf would accept or print.
 *
 * All functions are pure: no shared state, callable from any thread.
 */
#include "proto.h"
#include "proto_int.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Pairs "00".."99": halves the divisions when formatting (Redis's trick). */
static const char digit_pairs[201] =
    "0001020304050607080910111213141516171819"
    "2021222324252627282930313233343536373839"
    "4041424344454647484950515253545556575859"
    "6061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

unsigned proto__digits10(uint64_t v)
{
    unsigned n = 1;

    /* Four digits per step: most values on the reply path are short. */
    for (;;) {
        if (v < 10) return n;
        if (v < 100) return n + 1;
        if (v < 1000) return n + 2;
        if (v < 10000) return n + 3;
        v /= 10000U;
        n += 4;
    }
}

size_t proto__u64_fmt(char *dst, uint64_t v)
{
    size_t len = proto__digits10(v);
    size_t i = len - 1;

    while (v >= 100) {
        unsigned k = (unsigned)(v % 100) * 2;
        v /= 100;
        dst[i] = digit_pairs[k + 1];
        dst[i - 1] = digit_pairs[k];
        i -= 2;
    }
    if (v < 10) {
        dst[i] = (char)('0' + v);
    } else {
        unsigned k = (unsigned)v * 2;
        dst[i] = digit_pairs[k + 1];
        dst[i - 1] = digit_pairs[k];
    }
    return len;
}

size_t proto__ll_fmt(char *dst, long long v)
{
    if (v >= 0)
        return proto__u64_fmt(dst, (uint64_t)v);
    /* Negate in unsigned arithmetic: -LLONG_MIN does not fit a long long. */
    dst[0] = '-';
    return 1 + proto__u64_fmt(dst + 1, (uint64_t)0 - (uint64_t)v);
}

size_t proto_ll2str(char *buf, size_t cap, long long v)
{
    char tmp[PROTO__LL_MAX_CHARS];
    size_t n = proto__ll_fmt(tmp, v);

    if (n + 1 > cap)
        return 0;           /* as Redis's ll2string: no room, nothing written */
    memcpy(buf, tmp, n);
    buf[n] = '\0';
    return n;
}

/*
 * Redis's string2ll(): the whole of s[0..n) must be the canonical decimal
 * form of the value, so that text -> number -> text is the identity. This
 * is why "+1", "01", "-0", " 1" and "" are all rejected.
 */
int proto_str2ll(const char *s, size_t n, long long *out)
{
    size_t i = 0;
    int negative = 0;
    uint64_t v;

    if (n == 0 || n > PROTO__LL_MAX_CHARS)
        return -1;
    if (n == 1 && s[0] == '0') {
        if (out) *out = 0;
        return 0;
    }
    if (s[0] == '-') {
        negative = 1;
        if (++i == n)
            return -1;
    }
    if (s[i] < '1' || s[i] > '9')
        return -1;
    v = (uint64_t)(s[i++] - '0');
    for (; i < n; i++) {
        unsigned d;

        if (s[i] < '0' || s[i] > '9')
            return -1;
        d = (unsigned)(s[i] - '0');
        if (v > UINT64_MAX / 10 || v * 10 > UINT64_MAX - d)
            return -1;
        v = v * 10 + d;
    }
    if (negative) {
        if (v > (uint64_t)LLONG_MAX + 1)
            return -1;
        if (out) *out = (long long)((uint64_t)0 - v);
    } else {
        if (v > (uint64_t)LLONG_MAX)
            return -1;
        if (out) *out = (long long)v;
    }
    return 0;
}

/*
 * Redis's string2ld(): strtold over the whole string, which must be
 * consumed entirely. strtold itself would skip leading spaces and parse
 * "nan"; Redis refuses both, and refuses an overflow to +-HUGE_VAL or an
 * underflow to zero. "inf" is accepted, as Redis does (INCRBYFLOAT then
 * refuses the infinite result itself).
 */
int proto_str2ld(const char *s, size_t n, long double *out)
{
    char buf[PROTO_LD_STR_MAX];
    char *end;
    long double v;

    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);      /* strtold needs a NUL, s is length-delimited */
    buf[n] = '\0';
    if (buf[0] == ' ' || (buf[0] >= '\t' && buf[0] <= '\r'))
        return -1;
    errno = 0;
    v = strtold(buf, &end);
    if ((size_t)(end - buf) != n)
        return -1;          /* trailing garbage, or a NUL inside s */
    if (errno == ERANGE &&
        (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO))
        return -1;
    if (errno == EINVAL || isnan(v))
        return -1;
    if (out) *out = v;
    return 0;
}

/*
 * Redis's ld2string() in LD_STR_HUMAN mode, used for INCRBYFLOAT: 17
 * decimals in fixed notation, then trailing zeros and a trailing '.' cut,
 * so 10.5 + 0.1 prints "10.6" and 3e3 prints "3000" (never an exponent).
 * Returns the length, or 0 when cap is too small (PROTO_LD_STR_MAX always
 * suffices, since fixed notation of LDBL_MAX has ~4950 digits).
 */
size_t proto_ld2str(char *buf, size_t cap, long double v)
{
    size_t l;
    int r;

    if (isinf(v)) {
        /* Spelled out: libc spellings of infinity differ. */
        const char *s = v > 0 ? "inf" : "-inf";

        l = strlen(s);
        if (cap < 5)
            return 0;
        memcpy(buf, s, l + 1);
        return l;
    }
    r = snprintf(buf, cap, "%.17Lf", v);
    if (r < 0 || (size_t)r + 1 > cap)
        return 0;
    l = (size_t)r;
    if (memchr(buf, '.', l) != NULL) {
        while (buf[l - 1] == '0')
            l--;
        if (buf[l - 1] == '.')
            l--;
    }
    /* A negative value that rounds to zero printed "-0": Redis says "0". */
    if (l == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        l = 1;
    }
    buf[l] = '\0';
    return l;
}

int proto_str2d(const char *s, size_t n, double *out)
{
    char buf[PROTO_LD_STR_MAX];
    char *end;
    double v;

    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);      /* strtod needs a NUL, s is length-delimited */
    buf[n] = '\0';
    if (buf[0] == ' ' || (buf[0] >= '\t' && buf[0] <= '\r'))
        return -1;
    errno = 0;
    v = strtod(buf, &end);
    if ((size_t)(end - buf) != n)
        return -1;          /* trailing garbage, or a NUL inside s */
    if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || fpclassify(v) == FP_ZERO))
        return -1;
    if (isnan(v))
        return -1;
    if (out) *out = v;
    return 0;
}

int proto_str2d_range(const char *s, size_t n, double *out)
{
    char buf[PROTO_LD_STR_MAX];
    const char *nul = memchr(s, '\0', n);
    char *end;

    /* Redis reads the argument as a C string: a NUL ends it. */
    if (nul)
        n = (size_t)(nul - s);
    if (n >= sizeof(buf))
        return -1;          /* no float is that long (Redis: trailing garbage) */
    memcpy(buf, s, n);
    buf[n] = '\0';
    double v = strtod(buf, &end);
    if (*end != '\0' || isnan(v))
        return -1;
    if (out) *out = v;
    return 0;
}

size_t proto_d2str(char *buf, size_t cap, double v)
{
    int r;

    if (isinf(v))           /* spelled out: libc spellings of infinity differ */
        r = snprintf(buf, cap, "%s", v > 0 ? "inf" : "-inf");
    else
        r = snprintf(buf, cap, "%.17g", v);
    return r < 0 || (size_t)r >= cap ? 0 : (size_t)r;
}
