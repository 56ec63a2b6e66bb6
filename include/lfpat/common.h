/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/common.h — time, return codes, layout and visibility shared by every
 * lfpat header.
 *
 * Return codes (errno values, returned, never stored in errno):
 *   0          success
 *   EAGAIN     a try-operation cannot proceed now (full, empty, no permit,
 *              rate exceeded)
 *   ETIMEDOUT  the absolute deadline passed before the operation could proceed
 *   ECANCELED  the caller's lfp_cancel token fired
 *   EPIPE      the object is closed
 *   EINVAL     bad argument (NULL, zero capacity, weight above capacity, ...)
 *   EOVERFLOW  release beyond what was acquired / counter would overflow
 *   ENOMEM     allocation failed
 *
 * Bad pointers: every int-returning call returns EINVAL for a NULL object or
 * NULL out pointer (tests/null_probe checks each one). Calls that return a
 * value rather than a code (getters such as lfp_mpmc_capacity or
 * lfp_counter_get, counter adds) and void calls require a valid, initialised
 * object, unless their comment says NULL is ignored: they have no way to
 * report an error. lfp_cancel_reason and lfp_cancel_fired accept NULL ("no
 * token", which never fires).
 *
 * Time: int64_t nanoseconds of CLOCK_MONOTONIC. Blocking calls take an
 * absolute deadline; LFP_FOREVER means none. A blocking call that can
 * complete at once completes, even when its deadline has passed or its token
 * has fired: success is preferred over ETIMEDOUT and ECANCELED.
 */
#ifndef LFPAT_COMMON_H
#define LFPAT_COMMON_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* C and C++. The headers spell atomics as C11 does in the form C++23's
 * <stdatomic.h> makes valid C++ too: _Atomic(T) (parenthesised), the
 * atomic_*_explicit calls and the memory_order_* constants. In C++ that is
 * std::atomic<T> and the std:: calls; from C++23 <stdatomic.h> provides the
 * mapping, before C++23 it is made here, identically. std::atomic<T> has the
 * size, alignment and representation of C's _Atomic(T) for every T used here
 * (lock-free integers and pointers with gcc and clang), the compatibility
 * C++23 relies on, so a C++ caller shares objects with the C library and the
 * inline fast paths compile to the same instructions (tests/cxx checks both
 * languages and standards). _Thread_local is spelled LFP_THREAD_LOCAL. */
#ifdef __cplusplus
extern "C++" {
#include <atomic>
}
#if __cplusplus > 202002L && defined(__has_include)
#if __has_include(<stdatomic.h>)
#include <stdatomic.h>
#endif
#endif
#ifndef __cpp_lib_stdatomic_h
#define _Atomic(_Tp) std::atomic<_Tp>
extern "C++" {
using std::memory_order;
using std::memory_order_relaxed;
using std::memory_order_acquire;
using std::memory_order_release;
using std::memory_order_acq_rel;
using std::memory_order_seq_cst;
using std::atomic_load_explicit;
using std::atomic_store_explicit;
using std::atomic_exchange_explicit;
using std::atomic_compare_exchange_strong_explicit;
using std::atomic_compare_exchange_weak_explicit;
using std::atomic_fetch_add_explicit;
using std::atomic_fetch_sub_explicit;
using std::atomic_fetch_or_explicit;
using std::atomic_fetch_and_explicit;
using std::atomic_thread_fence;
using std::atomic_signal_fence;
}
#endif
/* __thread: a C++ thread_local of external linkage is read through a TLS
 * wrapper call (for a possible dynamic initialiser); the variable below is
 * constant-initialised in C, so the GNU spelling reads it directly as C does. */
#if defined(__GNUC__)
#define LFP_THREAD_LOCAL __thread
#else
#define LFP_THREAD_LOCAL thread_local
#endif
#else
#include <stdalign.h>
#include <stdatomic.h>
#define LFP_THREAD_LOCAL _Thread_local
#endif

/* Supported targets: 64-bit (LP64) Linux on x86-64 and arm64, with gcc or
 * clang. The rate limiters' exact arithmetic uses unsigned __int128 and the
 * queues keep their closed flag in the top bit of a 64-bit size_t, so a
 * 32-bit target cannot work: say so here rather than with a later error. */
#if !defined(__LP64__) && !defined(_LP64)
#error "lfpat supports 64-bit (LP64) targets only: it needs unsigned __int128 and a 64-bit size_t"
#endif

#ifdef __cplusplus
extern "C" {
#endif

#if defined(LFP_BUILDING) && defined(__GNUC__)
#define LFP_API __attribute__((visibility("default")))
#else
#define LFP_API
#endif

/* The coherence granule on the machines lfpat targets (x86-64, arm64). Hot
 * atomics written by different threads are kept this far apart. */
#define LFP_CACHELINE 64

/* No deadline. */
#define LFP_FOREVER INT64_MAX

#if defined(__GNUC__)
#define LFP_LIKELY(x) __builtin_expect(!!(x), 1)
#define LFP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define LFP_LIKELY(x) (x)
#define LFP_UNLIKELY(x) (x)
#endif

/* LFP_TSAN: 1 when compiled under ThreadSanitizer (gcc or clang). TSan does
 * not model atomic_thread_fence (gcc rejects it under -Werror=tsan), so the
 * few places that need a fence use an equivalent read-modify-write there. */
#if defined(__SANITIZE_THREAD__)
#define LFP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LFP_TSAN 1
#endif
#endif
#ifndef LFP_TSAN
#define LFP_TSAN 0
#endif

/* CLOCK_MONOTONIC in nanoseconds (vDSO, no system call; ~30 ns here). */
LFP_API int64_t lfp_now(void);

/* lfp_now() + ns, saturating at LFP_FOREVER; a negative ns gives a deadline
 * in the past. */
LFP_API int64_t lfp_after(int64_t ns);

/* Saturating addition of two time values, clamped to [INT64_MIN, LFP_FOREVER]. */
static inline int64_t lfp_time_add(int64_t t, int64_t d);

/* A small dense index for the calling thread: the lowest index not held by
 * another live thread, assigned on first use and given back when the thread
 * exits. Striped structures use it to give each live thread its own cell.
 * A slot's release at thread exit happens-before its next assignment, so data
 * owned by "the thread holding slot s" passes safely from one to the next.
 * Progress: wait-free after the first call on a thread (a thread-local read);
 * the first call takes a process-wide mutex. */
static inline unsigned lfp_thread_slot(void);

#ifdef __cplusplus
}
#endif

/* The inline definitions (internal, not part of the API). */
#include "lfpat/internal/common.h"
#endif
