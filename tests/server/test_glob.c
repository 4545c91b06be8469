/* srv_glob_match: Redis's stringmatchlen semantics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "srv.h"

static int m(const char *pat, const char *s)
{
    return srv_glob_match(pat, strlen(pat), s, strlen(s), 0);
}

static int mi(const char *pat, const char *s)
{
    return srv_glob_match(pat, strlen(pat), s, strlen(s), 1);
}

static void test_literal(void **state)
{
    (void)state;
    assert_true(m("hello", "hello"));
    assert_false(m("hello", "hell"));
    assert_false(m("hell", "hello"));
    assert_false(m("hello", "Hello"));
    assert_true(mi("hello", "HeLLo"));
    assert_true(m("", ""));
    assert_false(m("", "a"));
}

static void test_star(void **state)
{
    (void)state;
    assert_true(m("*", "anything"));
    assert_true(m("h*o", "hello"));
    assert_true(m("h*o", "ho"));
    assert_false(m("h*o", "hellx"));
    assert_true(m("*llo", "hello"));
    assert_true(m("he*", "he"));
    assert_true(m("a*b*c", "aXXbYYc"));
    assert_true(m("a*b*c", "abcbc"));
    assert_false(m("a*b*c", "aXXbYY"));
    assert_true(m("***a", "a"));
    assert_true(m("a**", "a"));
    /* Redis quirk: the empty string matches only the empty pattern. */
    assert_false(m("*", ""));
}

static void test_question(void **state)
{
    (void)state;
    assert_true(m("h?llo", "hello"));
    assert_true(m("h?llo", "hallo"));
    assert_false(m("h?llo", "hllo"));
    assert_true(m("???", "abc"));
    assert_false(m("???", "ab"));
}

static void test_classes(void **state)
{
    (void)state;
    assert_true(m("h[ae]llo", "hello"));
    assert_true(m("h[ae]llo", "hallo"));
    assert_false(m("h[ae]llo", "hillo"));
    assert_true(m("h[^e]llo", "hallo"));
    assert_false(m("h[^e]llo", "hello"));
    assert_true(m("h[a-b]llo", "hbllo"));
    assert_false(m("h[a-b]llo", "hcllo"));
    assert_true(m("[z-a]", "m"));           /* reversed range */
    assert_true(mi("[A-C]x", "bX"));
    assert_false(m("[A-C]x", "bx"));
    assert_true(m("[\\]]", "]"));           /* escaped ] inside a class */
    assert_true(m("[a-]", "a"));
    assert_false(m("[]a]", "a"));           /* "[]" is an empty class */
    assert_true(m("[abc", "c"));            /* unterminated: to the end */
    assert_true(m("a[^", "ax"));
}

static void test_escape(void **state)
{
    (void)state;
    assert_true(m("h\\*llo", "h*llo"));
    assert_false(m("h\\*llo", "hello"));
    assert_true(m("\\?", "?"));
    assert_false(m("\\?", "a"));
    assert_true(m("a\\", "a\\"));           /* trailing backslash is literal */
    assert_true(m("\\[a]", "[a]"));
}

static void test_binary(void **state)
{
    (void)state;
    assert_true(srv_glob_match("a?c", 3, "a\0c", 3, 0));
    assert_true(srv_glob_match("a\0*", 3, "a\0xyz", 5, 0));
    assert_false(srv_glob_match("a\0", 2, "a\1", 2, 0));
}

/* A pattern that makes a naive recursive matcher take exponential time
 * and a deep stack must answer at once. */
static void test_pathological(void **state)
{
    size_t n = 20000;
    char *s = malloc(n + 1), *p = malloc(2 * 200 + 2);
    size_t pl = 0;

    (void)state;
    memset(s, 'a', n);
    s[n] = '\0';
    for (int i = 0; i < 200; i++) {
        p[pl++] = 'a';
        p[pl++] = '*';
    }
    p[pl++] = 'b';
    p[pl] = '\0';
    assert_false(m(p, s));
    p[pl - 1] = 'a';
    assert_true(m(p, s));
    free(s);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal),
        cmocka_unit_test(test_star),
        cmocka_unit_test(test_question),
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_pathological),
    };
    return cmocka_run_group_tests_name("glob", tests, NULL, NULL);
}
