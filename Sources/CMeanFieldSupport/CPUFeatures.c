// CPU feature detection for the run-time choice of GEMM micro-kernel (see docs/architecture.md).
#define _GNU_SOURCE
#include "CMeanFieldSupport.h"
#include <unistd.h>
#if defined(__linux__)
#include <sched.h>
#endif

int mf_cpu_max_level(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    // __builtin_cpu_supports checks CPUID and (for AVX/AVX-512) that the OS saves the wider registers.
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        return MF_CPU_LEVEL_AVX512;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2") &&
        __builtin_cpu_supports("f16c")) {
        return MF_CPU_LEVEL_AVX2;
    }
#endif
    return MF_CPU_LEVEL_PORTABLE;
}

int mf_cpu_count(void) {
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        int count = CPU_COUNT(&set);
        if (count > 0) return count;
    }
#endif
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)online : 1;
}

#include <time.h>

// Thread CPU time: a descheduled thread (a busy machine) does not make the clock read low.
static double seconds_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

double mf_measure_clock_ghz(int milliseconds) {
#if defined(__x86_64__)
    // A chain of 16 dependent 64-bit multiplies per round, 3 cycles each on every x86-64 core of the
    // last fifteen years (Intel since Nehalem, AMD since Zen). Not `add $1, reg`: Golden Cove
    // (Sapphire Rapids, Alder Lake P-cores) folds immediate adds at rename, and such a chain ran
    // at 7.5–10.9 "GHz" on a 2.9 GHz Xeon (register-register adds and multiplies: 2.87 GHz).
    const long cycles_per_round = 16 * 3;
    double best = 0;
    for (int trial = 0; trial < 3; trial++) {
        long rounds = 0, value = 1, factor = 3;
        double start = seconds_now(), elapsed = 0;
        while (elapsed * 3000.0 < milliseconds) {
            for (int i = 0; i < 100000; i++) {
                __asm__ volatile(
                    "imul %1, %0\n\timul %1, %0\n\timul %1, %0\n\timul %1, %0\n\t"
                    "imul %1, %0\n\timul %1, %0\n\timul %1, %0\n\timul %1, %0\n\t"
                    "imul %1, %0\n\timul %1, %0\n\timul %1, %0\n\timul %1, %0\n\t"
                    "imul %1, %0\n\timul %1, %0\n\timul %1, %0\n\timul %1, %0\n\t"
                    : "+r"(value) : "r"(factor));
            }
            rounds += 100000;
            elapsed = seconds_now() - start;
        }
        double ghz = (double)(rounds * cycles_per_round) / elapsed * 1e-9;
        if (ghz > best) best = ghz;
    }
    return best;
#else
    (void)milliseconds;
    return 0;
#endif
}
