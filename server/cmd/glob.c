/*
 * Redis's glob (util.c stringmatchlen): `*`, `?`, `[abc]`, `[^a]`, `[a-z]`
 * and `\x`, optionally ignoring ASCII case.
 *
 * Redis recurses at each `*`; here the match is iterative with one
 * backtrack point (the last `*` seen), which gives the same answers in
 * O(pattern * string) time and constant stack, so a hostile pattern such as
 * "*a*a*a*a*...b" against a long key can neither blow the stack nor run for
 * exponential time.
 *
 * One difference: Redis gives up (no match) past 1000 nested stars; this
 * needs no such limit.
 *
 * Context: any thread; pure.
 */
#include <ctype.h>
#include <stddef.h>

#include "srv.h"

static int fold(int ch, int nocase)
{
    return nocase ? tolower(ch) : ch;
}

/* Match one character class starting just after its '['. *p is advanced
 * to the class's closing ']' (or to the pattern's last byte when there is
 * none, as Redis does). */
static int class_match(const unsigned char *pat, size_t plen, size_t *p,
                       int ch, int nocase)
{
    size_t i = *p;
    int negate = 0, match = 0;

    if (i < plen && pat[i] == '^') {
        negate = 1;
        i++;
    }
    for (;;) {
        if (i + 1 < plen && pat[i] == '\\') {
            i++;
            if (pat[i] == ch)
                match = 1;
        } else if (i >= plen) {
            i--;            /* unterminated: stop on the last byte */
            break;
        } else if (pat[i] == ']') {
            break;
        } else if (i + 2 < plen && pat[i + 1] == '-') {
            int lo = fold(pat[i], nocase), hi = fold(pat[i + 2], nocase);
            int x = fold(ch, nocase);

            if (lo > hi) {
                int t = lo;
                lo = hi;
                hi = t;
            }
            if (x >= lo && x <= hi)
                match = 1;
            i += 2;
        } else if (fold(pat[i], nocase) == fold(ch, nocase)) {
            match = 1;
        }
        i++;
    }
    *p = i;
    return negate ? !match : match;
}

/* Does the single-character token at pat[*p] match ch? Advances *p past
 * the token on success. `*` is handled by the caller. */
static int token_match(const unsigned char *pat, size_t plen, size_t *p,
                       int ch, int nocase)
{
    size_t i = *p;
    int ok;

    switch (pat[i]) {
    case '?':
        ok = 1;
        break;
    case '[':
        i++;
        ok = class_match(pat, plen, &i, ch, nocase);
        break;
    case '\\':
        if (i + 1 < plen)
            i++;
        /* fall through */
    default:
        ok = fold(pat[i], nocase) == fold(ch, nocase);
        break;
    }
    if (ok)
        *p = i + 1;
    return ok;
}

int srv_glob_match(const char *pattern, size_t plen, const char *string,
                   size_t slen, int nocase)
{
    const unsigned char *pat = (const unsigned char *)pattern;
    const unsigned char *s = (const unsigned char *)string;
    size_t p = 0, i = 0;
    size_t star_p = 0, star_i = 0;  /* where to resume after the last '*' */
    int have_star = 0;

    /* Redis quirk, kept: its loop runs only while both sides have bytes
     * left, so an empty string matches only an empty pattern ("*" does
     * not match ""; KEYS and SCAN special-case a lone "*" before this). */
    if (slen == 0)
        return plen == 0;
    while (i < slen) {
        if (p < plen && pat[p] == '*') {
            while (p < plen && pat[p] == '*')
                p++;
            if (p == plen)
                return 1;           /* a trailing '*' takes the rest */
            have_star = 1;
            star_p = p;
            star_i = i;
            continue;
        }
        if (p < plen && token_match(pat, plen, &p, s[i], nocase)) {
            i++;
            continue;
        }
        if (!have_star)
            return 0;
        /* Let the last '*' swallow one more character and retry. */
        p = star_p;
        i = ++star_i;
    }
    while (p < plen && pat[p] == '*')
        p++;
    return p == plen;
}
