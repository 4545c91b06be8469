/*
 * loadtest/tagged.c: values encode key, writer, seq, length and checksum;
 * verification accepts exactly the intact value of the key asked for and
 * names what is wrong with anything else (another key's value, a torn or
 * truncated one, changed bytes, garbage).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ld.h"

#define KEY "mmload:k:42"
#define KLEN (sizeof(KEY) - 1)

static size_t enc(char *buf, size_t cap, const char *key, uint32_t w, uint64_t seq, size_t size)
{
    size_t n = ld_tag_encode(buf, cap, key, strlen(key), w, seq, size);

    assert_true(n > 0);
    return n;
}

static void test_roundtrip(void **state)
{
    char buf[512];
    struct ld_tag_info in;
    size_t n = enc(buf, sizeof(buf), KEY, 7, 123456789012ull, 120);

    assert_int_equal(n, 120);
    assert_int_equal(ld_tag_verify(buf, n, KEY, KLEN, &in), LD_TAG_OK);
    assert_int_equal(in.writer, 7);
    assert_int_equal(in.seq, 123456789012ull);
    assert_int_equal(in.len, 120);
    assert_memory_equal(buf, "T|" KEY "|7|123456789012|120|",
                        strlen("T|" KEY "|7|123456789012|120|"));
    /* the checksum: '|' and 16 lower-case hex digits of FNV-1a */
    assert_int_equal(buf[n - 17], '|');
}

static void test_sizes(void **state)
{
    char v99[128];
    char buf[4096];
    size_t min = ld_tag_min_size(KLEN, 3, 9);

    /* a size below the minimum gives the minimum */
    assert_int_equal(enc(buf, sizeof(buf), KEY, 3, 9, 1), min);
    assert_int_equal(ld_tag_verify(buf, min, KEY, KLEN, NULL), LD_TAG_OK);
    /* every size from the minimum up is met exactly or one short, where
     * the length field would have to grow a digit */
    for (size_t size = min; size < 2100; size++) {
        size_t n = enc(buf, sizeof(buf), KEY, 3, 9, size);

        assert_true(n == size || n + 1 == size);
        assert_int_equal(ld_tag_verify(buf, n, KEY, KLEN, NULL), LD_TAG_OK);
    }
    /* 100 bytes cannot be met here: 99 + a payload byte needs a 3-digit
     * length field, making 101 */
    assert_int_equal(enc(v99, sizeof(v99), KEY, 7, 123456789012ull, 100), 99);
    /* too small a buffer is refused, not overrun */
    assert_int_equal(ld_tag_encode(buf, 10, KEY, KLEN, 3, 9, 64), 0);
}

static void test_wrong_key_is_cross_talk(void **state)
{
    char buf[256];
    struct ld_tag_info in;
    size_t n = enc(buf, sizeof(buf), "mmload:k:17", 2, 5, 64);

    assert_int_equal(ld_tag_verify(buf, n, KEY, KLEN, &in), LD_TAG_WRONG_KEY);
    assert_int_equal(in.other_key_len, strlen("mmload:k:17"));
    assert_memory_equal(in.other_key, "mmload:k:17", in.other_key_len);
    /* a key that extends the one asked for is another key too */
    n = enc(buf, sizeof(buf), KEY "0", 2, 5, 64);
    assert_int_equal(ld_tag_verify(buf, n, KEY, KLEN, &in), LD_TAG_WRONG_KEY);
    /* and a shorter one */
    n = enc(buf, sizeof(buf), "mmload:k:4", 2, 5, 64);
    assert_int_equal(ld_tag_verify(buf, n, KEY, KLEN, &in), LD_TAG_WRONG_KEY);
}

static void test_truncated_and_extended(void **state)
{
    char buf[256];
    size_t n = enc(buf, sizeof(buf), KEY, 1, 1, 80);

    for (size_t cut = 1; cut < n; cut++) {
        enum ld_tag_status st = ld_tag_verify(buf, n - cut, KEY, KLEN, NULL);

        assert_int_not_equal(st, LD_TAG_OK);
    }
    /* the tail of another write appended: the length field catches it */
    memcpy(buf + n, "xyz", 3);
    assert_int_equal(ld_tag_verify(buf, n + 3, KEY, KLEN, NULL), LD_TAG_BAD_LENGTH);
}

static void test_every_byte_flip_detected(void **state)
{
    char buf[256];
    size_t n = enc(buf, sizeof(buf), KEY, 4, 77, 96);

    for (size_t i = 0; i < n; i++)
        for (int bit = 0; bit < 8; bit++) {
            buf[i] ^= (char)(1 << bit);
            assert_int_not_equal(ld_tag_verify(buf, n, KEY, KLEN, NULL), LD_TAG_OK);
            buf[i] ^= (char)(1 << bit);
        }
    assert_int_equal(ld_tag_verify(buf, n, KEY, KLEN, NULL), LD_TAG_OK);
}

static void test_torn_between_two_writes(void **state)
{
    char a[256], b[256], torn[256];
    size_t n = enc(a, sizeof(a), KEY, 1, 10, 128);

    assert_int_equal(enc(b, sizeof(b), KEY, 2, 11, 128), n);
    /* first half of one writer's value, second half of the other's */
    memcpy(torn, a, n / 2);
    memcpy(torn + n / 2, b + n / 2, n - n / 2);
    assert_int_equal(ld_tag_verify(torn, n, KEY, KLEN, NULL), LD_TAG_BAD_CHECKSUM);
}

static void test_garbage(void **state)
{
    static const char *const junk[] = {
        "", "T", "T|", "hello world", "\0\0\0\0\0\0\0\0", "T|" KEY,
        "T|" KEY "|", "T|" KEY "|x|1|40|", "T|" KEY "|1|2|", "T|" KEY "|99999999999|1|30|a|0",
    };
    char freed[64];

    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        assert_int_not_equal(ld_tag_verify(junk[i], strlen(junk[i]), KEY, KLEN, NULL), LD_TAG_OK);
    assert_int_equal(ld_tag_verify("hello world", 11, KEY, KLEN, NULL), LD_TAG_NOT_TAGGED);
    memset(freed, 0x5a, sizeof(freed));     /* what freed memory may look like */
    assert_int_equal(ld_tag_verify(freed, sizeof(freed), KEY, KLEN, NULL), LD_TAG_NOT_TAGGED);
    /* writer field beyond 32 bits */
    assert_int_equal(ld_tag_verify(junk[9], strlen(junk[9]), KEY, KLEN, NULL), LD_TAG_BAD_FORMAT);
}

static void test_checksum_field_not_hex(void **state)
{
    char buf[256];
    size_t n = enc(buf, sizeof(buf), KEY, 1, 1, 64);

    buf[n - 1] = 'G';
    assert_int_equal(ld_tag_verify(buf, n, KEY, KLEN, NULL), LD_TAG_BAD_CHECKSUM);
}

static void test_fnv_known_values(void **state)
{
    /* FNV-1a 64 reference values */
    assert_true(ld_fnv1a64("", 0) == 0xcbf29ce484222325ull);
    assert_true(ld_fnv1a64("a", 1) == 0xaf63dc4c8601ec8cull);
    assert_true(ld_fnv1a64("foobar", 6) == 0x85944171f73967e8ull);
}

static void test_excerpt(void **state)
{
    char out[32];

    ld_excerpt(out, sizeof(out), "ab\x01\xff", 4, 40);
    assert_string_equal(out, "ab\\x01\\xff");
    ld_excerpt(out, sizeof(out), "abcdefghij", 10, 4);
    assert_string_equal(out, "abcd...");
    ld_excerpt(out, 4, "abcdefghij", 10, 40);    /* bounded by cap */
    assert_int_equal(strlen(out), 3);
}

static void test_status_strings(void **state)
{
    for (int st = LD_TAG_OK; st <= LD_TAG_BAD_CHECKSUM; st++)
        assert_string_not_equal(ld_tag_status_str((enum ld_tag_status)st), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_wrong_key_is_cross_talk),
        cmocka_unit_test(test_truncated_and_extended),
        cmocka_unit_test(test_every_byte_flip_detected),
        cmocka_unit_test(test_torn_between_two_writes),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_checksum_field_not_hex),
        cmocka_unit_test(test_fnv_known_values),
        cmocka_unit_test(test_excerpt),
        cmocka_unit_test(test_status_strings),
    };

    return cmocka_run_group_tests_name("loadtest_tagged", tests, NULL, NULL);
}
