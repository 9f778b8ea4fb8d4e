// C-level support for MeanFieldKernels: CPU feature detection and a small persistent thread pool;
// and for sweeps (MeanField): the parent-death signal and a signal-safe list of child processes.
//
// Why C: C11 atomics and pthreads give a well-defined memory model on every platform we build for
// (Swift's `Synchronization.Atomic` needs macOS 15, the package supports macOS 13), and
// `pthread_setaffinity_np` is not exposed by Swift's Glibc module.
#ifndef CMEANFIELDSUPPORT_H
#define CMEANFIELDSUPPORT_H

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction-set levels, ordered: a CPU that supports a level supports all lower ones.
enum {
    MF_CPU_LEVEL_PORTABLE = 0, ///< Whatever the compiler targets by default (SSE2 on x86-64, NEON on arm64).
    MF_CPU_LEVEL_AVX2 = 1,     ///< x86-64-v3: AVX2 + FMA (+ BMI, F16C, ...).
    MF_CPU_LEVEL_AVX512 = 2,   ///< x86-64-v4: AVX-512 F/BW/CD/DQ/VL.
};

/// The highest level this CPU and OS support (CPUID + XGETBV via `__builtin_cpu_supports`).
int mf_cpu_max_level(void);

/// Number of logical CPUs this process may run on (affinity mask if available, else online CPUs).
int mf_cpu_count(void);

/// Measures the core clock of the calling thread in GHz by timing a chain of dependent integer
/// multiplies (three cycles each on x86-64), for about `milliseconds`; 0 where not implemented (non-x86).
double mf_measure_clock_ghz(int milliseconds);

/// FP32 FLOP/s of one core (GFLOP/s), measured by timing twelve independent chains of fused
/// multiply-adds with the vector width of `level` (an `MF_CPU_LEVEL_*` the CPU supports) for about
/// `milliseconds`; the best of five trials.
double mf_measure_fp32_peak_gflops(int level, int milliseconds);

/// Task body called by the pool: `body(context, index)`.
typedef void (*mf_task_body)(void *context, long index);

/// Runs `body(context, i)` for every i in 0..<count on the persistent pool; the calling thread
/// participates. Indices are handed out dynamically (atomic counter), so any `i` may run on any
/// thread, in any order; every index runs exactly once and the call returns when all have finished.
/// Called from inside a task (re-entrant), or while another thread is using the pool, or with a
/// pool of one thread, it runs the loop serially on the calling thread.
void mf_pool_run(long count, mf_task_body body, void *context);

/// Sets the number of threads that `mf_pool_run` uses (callers included); starts or parks workers.
/// Values < 1 are treated as 1. Must not be called from inside a task.
void mf_pool_set_threads(int threads);

/// The number of threads `mf_pool_run` uses (the caller included).
int mf_pool_threads(void);

/// Whether the calling thread is currently running a pool task (used to run nested loops serially).
int mf_pool_in_task(void);

/// Asks the CPU to bring the cache line at `address` into cache for writing (a hint; never faults).
/// `static inline`, so Swift callers compile it to one prefetch instruction.
static inline void mf_prefetch_for_write(const void *address) { __builtin_prefetch(address, 1, 3); }

/// Asks the CPU to bring the cache line at `address` into cache for reading (a hint; never faults).
static inline void mf_prefetch_for_read(const void *address) { __builtin_prefetch(address, 0, 3); }

/// Returns `pointer` unchanged, hiding from the optimizer that it is (an earlier value plus) another
/// pointer: an empty `asm` that pins it in a register. The micro-kernels walk A with several base
/// pointers (rows 0, 4, 8, 12 of a tile) so that each step's 16 loads need no address arithmetic;
/// LLVM's loop strength reduction otherwise rewrites them as one pointer plus offsets and rebuilds
/// the addresses with a chain of dependent adds each step (a 16-cycle chain against 8 cycles of FMAs).
static inline const void *mf_opaque_pointer(const void *pointer) {
    __asm__("" : "+r"(pointer));
    return pointer;
}

/// Returns a 64-byte-aligned scratch buffer of at least `bytes` bytes, reusing released ones (GEMM
/// packing buffers are megabytes: allocating them per call costs page faults). `*capacity` receives
/// the buffer's real size, to pass back to `mf_scratch_release`. Thread-safe. NULL if out of memory.
void *mf_scratch_acquire(unsigned long bytes, unsigned long *capacity);

/// Bytes of one transparent huge page, and the smallest buffer `mf_allocate_zeroed` advises as huge pages.
enum { MF_HUGE_PAGE_BYTES = 1 << 21 };

/// Returns `bytes` zeroed bytes, 64-byte aligned; from `MF_HUGE_PAGE_BYTES` on (Linux), whole huge
/// pages aligned to one and advised as transparent huge pages before the first touch.
/// `*huge_page_bytes` receives the bytes the kernel accepted that advice for (`bytes` rounded up to
/// whole huge pages), else 0. NULL if out of memory. Free with `mf_free`.
void *mf_allocate_zeroed(unsigned long bytes, unsigned long *huge_page_bytes);

/// Frees a buffer from `mf_allocate_zeroed`.
void mf_free(void *buffer);

/// Gives a buffer from `mf_scratch_acquire` back for reuse (or frees it when the cache is full).
void mf_scratch_release(void *buffer, unsigned long capacity);

/// Maps the regular file at `path` read-only (MAP_PRIVATE) and returns its address, its size in
/// `*size`: a reader of a large file (a checkpoint) then holds no copy of it. NULL with *size = 0
/// for an empty file; NULL with *size = -1 and errno set when it cannot be opened or mapped.
/// Release with `mf_unmap_file`.
void *mf_map_file(const char *path, long *size);
void mf_unmap_file(void *address, long size);

/// Linux: asks the kernel to send `signal` to the calling process when its parent ends (however it
/// ends, SIGKILL included): prctl(PR_SET_PDEATHSIG). The "parent" is the thread that started this
/// process; the setting survives exec but not fork. 0 on success; -1 (errno ENOSYS) elsewhere.
int mf_set_parent_death_signal(int signal);

/// A process-wide list of child pids that `mf_children_signal` signals (at most 1024). Lock-free:
/// `mf_children_signal` is async-signal-safe, for a signal handler that forwards a stop to the
/// children. `mf_children_add` returns 0, or -1 when the list is full (or pid ≤ 0).
int mf_children_add(int pid);
void mf_children_remove(int pid);
/// Sends `signal` to every listed child; returns how many were sent.
int mf_children_signal(int signal);

#include "VectorIntrinsics.h"

#ifdef __cplusplus
}
#endif
#endif
