/* SPDX-License-Identifier: MIT */
/* macros.h - small compiler helpers shared by every liblog source file. */
#ifndef PL_MACROS_H
#define PL_MACROS_H

#define PL_EXPORT	      __attribute__((visibility("default")))
#define likely(x)	      __builtin_expect(!!(x), 1)
#define unlikely(x)	      __builtin_expect(!!(x), 0)
#define _cleanup_(f)	      __attribute__((cleanup(f)))
#define _must_check_	      __attribute__((warn_unused_result))
#define _nonnull_(...)	      __attribute__((nonnull(__VA_ARGS__)))
#define _printf_format_(a, b) __attribute__((format(printf, a, b)))
#define _unused_	      __attribute__((unused))
#define ARRAY_SIZE(a)	      (sizeof(a) / sizeof((a)[0]))
#define PL_MIN(a, b)	      ((a) < (b) ? (a) : (b))
#define PL_MAX(a, b)	      ((a) > (b) ? (a) : (b))
#define PL_ALIGN_UP(x, a)     (((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))

/* Thread-local state read on the recording hot path. initial-exec: one load relative to
 * the thread pointer, where the default model of position-independent code (libperflog.so,
 * or liblog linked into the Python extension) calls __tls_get_addr() at each access
 * (measured: ~2 % of a recorded Python call). It takes a few bytes of the static TLS
 * space glibc keeps for libraries loaded later with dlopen(). */
#define PL_TLS __thread __attribute__((tls_model("initial-exec")))

/* Cache line size for separating producer-owned and consumer-owned fields. */
#define PL_CACHELINE 64

/* Relaxed/acquire/release atomics, spelled once. */
#define load_relaxed(p)	    __atomic_load_n((p), __ATOMIC_RELAXED)
#define load_acquire(p)	    __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define store_relaxed(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

#endif /* PL_MACROS_H */
