// Measured FP32 peak: a loop of independent fused multiply-adds per ISA level, timed. The peak a
// benchmark divides by is this measurement, not an assumed FLOP/cycle figure: AMD Zen 4 executes
// AVX-512 as two 256-bit halves (32 FP32 FLOP/cycle), Intel server cores with two 512-bit FMA pipes
// reach 64, AVX2 cores 32 (docs/architecture.md, "Measured peak").
#include "CMeanFieldSupport.h"
#include <time.h>

// The thread's CPU time, not the wall clock: a trial in which the thread is descheduled (a busy
// machine) still measures the rate while it ran. (A sibling hyper-thread sharing the FMA units
// still lowers it; the best of five trials and the caller's idle machine handle that.)
static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// Twelve independent accumulator chains: enough to cover an FMA latency of 4 cycles on two pipes
// (8 in flight) with room to spare. Each round is 12 FMAs of `lanes` FP32 lanes = 24·lanes FLOP.
#define MF_FMA_CHAINS(step) step(0) step(1) step(2) step(3) step(4) step(5) step(6) step(7) step(8) step(9) step(10) step(11)

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx512f"))) static double fma_rounds_avx512(long rounds, float *sink) {
    __m512 m = _mm512_set1_ps(0.9999999f), a = _mm512_set1_ps(1e-7f);
#define DECL(i) __m512 c##i = _mm512_set1_ps((float)(i));
    MF_FMA_CHAINS(DECL)
#undef DECL
    double start = now_seconds();
    for (long r = 0; r < rounds; r++) {
#define STEP(i) c##i = _mm512_fmadd_ps(c##i, m, a);
        MF_FMA_CHAINS(STEP)
#undef STEP
    }
    double elapsed = now_seconds() - start;
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                             _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11)));
    *sink += _mm512_reduce_add_ps(s);
    return elapsed;
}

__attribute__((target("avx2,fma"))) static double fma_rounds_avx2(long rounds, float *sink) {
    __m256 m = _mm256_set1_ps(0.9999999f), a = _mm256_set1_ps(1e-7f);
#define DECL(i) __m256 c##i = _mm256_set1_ps((float)(i));
    MF_FMA_CHAINS(DECL)
#undef DECL
    double start = now_seconds();
    for (long r = 0; r < rounds; r++) {
#define STEP(i) c##i = _mm256_fmadd_ps(c##i, m, a);
        MF_FMA_CHAINS(STEP)
#undef STEP
    }
    double elapsed = now_seconds() - start;
    float lanes[8];
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                             _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));
    _mm256_storeu_ps(lanes, s);
    for (int i = 0; i < 8; i++) *sink += lanes[i];
    return elapsed;
}
#endif

// Portable: 4-lane vectors through the compiler's generic vector extension (SSE2 on x86-64, NEON on
// arm64); a multiply and an add (2 FLOP per lane) where the target has no fused instruction.
typedef float mf_v4 __attribute__((vector_size(16)));
static double fma_rounds_portable(long rounds, float *sink) {
    mf_v4 m = {0.9999999f, 0.9999999f, 0.9999999f, 0.9999999f}, a = {1e-7f, 1e-7f, 1e-7f, 1e-7f};
#define DECL(i) mf_v4 c##i = {(float)(i), (float)(i), (float)(i), (float)(i)};
    MF_FMA_CHAINS(DECL)
#undef DECL
    double start = now_seconds();
    for (long r = 0; r < rounds; r++) {
#define STEP(i) c##i = c##i * m + a;
        MF_FMA_CHAINS(STEP)
#undef STEP
    }
    double elapsed = now_seconds() - start;
    mf_v4 s = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
    *sink += s[0] + s[1] + s[2] + s[3];
    return elapsed;
}

double mf_measure_fp32_peak_gflops(int level, int milliseconds) {
    int lanes = 4;
    double (*body)(long, float *) = fma_rounds_portable;
#if defined(__x86_64__)
    if (level >= MF_CPU_LEVEL_AVX512) { body = fma_rounds_avx512; lanes = 16; }
    else if (level >= MF_CPU_LEVEL_AVX2) { body = fma_rounds_avx2; lanes = 8; }
#else
    (void)level;
#endif
    volatile float sink_out = 0;
    float sink = 0;
    // Warm-up (wakes the vector unit to its full clock; AVX-512 license changes take ~10 µs–1 ms).
    long rounds = 1 << 16;
    body(rounds, &sink);
    // Five timed trials of about milliseconds/5 each; the best one is the peak (a busy machine only
    // ever makes a trial slower).
    double best = 0, trial_seconds = (milliseconds > 0 ? milliseconds : 200) / 5000.0;
    for (int trial = 0; trial < 5; trial++) {
        double elapsed;
        while ((elapsed = body(rounds, &sink)) < 0.25 * trial_seconds && rounds < (1L << 40)) rounds *= 2;
        double gflops = (double)rounds * 12.0 * 2.0 * lanes / elapsed * 1e-9;
        if (gflops > best) best = gflops;
    }
    sink_out = sink;
    (void)sink_out;
    return best;
}
