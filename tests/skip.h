/*
 * A test that cannot run here says so and counts as Skipped, never as
 * Passed (issue 14). TEST_SKIP(fmt, ...) prints why and skips the running
 * cmocka test; main returns test_exit_code(failed), which is TEST_SKIP_RC
 * when a test skipped and none failed; tests/CMakeLists.txt gives every
 * CTest entry SKIP_RETURN_CODE TEST_SKIP_RC, so ctest lists the file as
 * Skipped (ctest counts files: the cmocka output says which tests ran).
 * Shell tests exit TEST_SKIP_RC themselves.
 */
#ifndef MMCACHE_TEST_SKIP_H
#define MMCACHE_TEST_SKIP_H

#define TEST_SKIP_RC 77

/* One flag for the whole executable, whichever of its files skips: a weak
 * definition in each, merged by the linker. Owned by: the thread running
 * the cmocka group (tests run one after another). */
__attribute__((weak)) int test_skipped;

#define TEST_SKIP(...)                        \
    do {                                      \
        test_skipped = 1;                     \
        print_message("skipped: ");           \
        print_message(__VA_ARGS__);           \
        print_message("\n");                  \
        skip();                               \
    } while (0)

static inline int test_exit_code(int failed)
{
    return failed ? 1 : test_skipped ? TEST_SKIP_RC : 0;
}

#endif
