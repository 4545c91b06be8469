/*
 * sanitizer.h: which sanitizer this build runs under, said once for
 * server/ (srv.h includes it; the loader's origins, which do not include
 * srv.h, include it alone).
 */
#ifndef MMCACHE_SANITIZER_H
#define MMCACHE_SANITIZER_H

/* Which sanitizer this build runs under (gcc defines __SANITIZE_*__,
 * clang answers __has_feature): SRV_TSAN, SRV_ASAN are 1 or 0. */
#if defined(__SANITIZE_THREAD__)
#define SRV_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SRV_TSAN 1
#endif
#endif
#ifndef SRV_TSAN
#define SRV_TSAN 0
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SRV_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SRV_ASAN 1
#endif
#endif
#ifndef SRV_ASAN
#define SRV_ASAN 0
#endif

#endif
