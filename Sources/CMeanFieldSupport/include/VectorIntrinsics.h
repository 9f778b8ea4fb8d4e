// Vector operations Swift's SIMD types do not spell, as one instruction where the including Swift
// module is compiled for AVX2 or AVX-512 (MeanFieldKernelsAVX2 and MeanFieldKernelsAVX512 pass
// -march to Clang, so these `static inline` bodies are compiled — and inlined — with that module's
// instruction set), a scalar loop elsewhere. `ext_vector_type` vectors are imported by Swift as SIMDn.
//
// - The first `count` lanes of a vector, loaded from or stored to memory without touching the lanes
//   past them (masked loads and stores): the GEMM micro-kernels' ragged last column panel of C
//   (MeanFieldKernels/Shared/MicroKernelBodies.swift). Masked-off lanes are never read or written (no
//   fault past the end of a buffer); loads give 0 there. `count` must be in 0...lanes.
// - Lanes picked from a table vector by a vector of indices (a variable permute): the softmax of
//   short rows, W rows at a time (MeanFieldKernels/Shared/ElementwiseBodies.swift).
#ifndef MEANFIELD_VECTOR_INTRINSICS_H
#define MEANFIELD_VECTOR_INTRINSICS_H

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

typedef float mf_f32x16 __attribute__((ext_vector_type(16)));
typedef float mf_f32x8 __attribute__((ext_vector_type(8)));
typedef double mf_f64x8 __attribute__((ext_vector_type(8)));
typedef double mf_f64x4 __attribute__((ext_vector_type(4)));
typedef int mf_i32x16 __attribute__((ext_vector_type(16)));
typedef int mf_i32x8 __attribute__((ext_vector_type(8)));

#define MF_VECTOR_INLINE static inline __attribute__((always_inline))

MF_VECTOR_INLINE mf_f32x16 mf_load_first_f32x16(const float *p, long count) {
#if defined(__AVX512F__)
    return (mf_f32x16)_mm512_maskz_loadu_ps((__mmask16)((1u << count) - 1u), p);
#else
    mf_f32x16 v = 0;
    for (long i = 0; i < count; i++) v[i] = p[i];
    return v;
#endif
}

MF_VECTOR_INLINE void mf_store_first_f32x16(float *p, mf_f32x16 v, long count) {
#if defined(__AVX512F__)
    _mm512_mask_storeu_ps(p, (__mmask16)((1u << count) - 1u), (__m512)v);
#else
    for (long i = 0; i < count; i++) p[i] = v[i];
#endif
}

MF_VECTOR_INLINE mf_f64x8 mf_load_first_f64x8(const double *p, long count) {
#if defined(__AVX512F__)
    return (mf_f64x8)_mm512_maskz_loadu_pd((__mmask8)((1u << count) - 1u), p);
#else
    mf_f64x8 v = 0;
    for (long i = 0; i < count; i++) v[i] = p[i];
    return v;
#endif
}

MF_VECTOR_INLINE void mf_store_first_f64x8(double *p, mf_f64x8 v, long count) {
#if defined(__AVX512F__)
    _mm512_mask_storeu_pd(p, (__mmask8)((1u << count) - 1u), (__m512d)v);
#else
    for (long i = 0; i < count; i++) p[i] = v[i];
#endif
}

#if defined(__AVX2__) && !defined(__AVX512VL__)
/// AVX2 lane mask: all ones in lanes < count (vmaskmov reads the sign bit).
MF_VECTOR_INLINE __m256i mf_first_lanes_mask32(long count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
MF_VECTOR_INLINE __m256i mf_first_lanes_mask64(long count) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(count), _mm256_setr_epi64x(0, 1, 2, 3));
}
#endif

MF_VECTOR_INLINE mf_f32x8 mf_load_first_f32x8(const float *p, long count) {
#if defined(__AVX512VL__)
    return (mf_f32x8)_mm256_maskz_loadu_ps((__mmask8)((1u << count) - 1u), p);
#elif defined(__AVX2__)
    return (mf_f32x8)_mm256_maskload_ps(p, mf_first_lanes_mask32(count));
#else
    mf_f32x8 v = 0;
    for (long i = 0; i < count; i++) v[i] = p[i];
    return v;
#endif
}

MF_VECTOR_INLINE void mf_store_first_f32x8(float *p, mf_f32x8 v, long count) {
#if defined(__AVX512VL__)
    _mm256_mask_storeu_ps(p, (__mmask8)((1u << count) - 1u), (__m256)v);
#elif defined(__AVX2__)
    _mm256_maskstore_ps(p, mf_first_lanes_mask32(count), (__m256)v);
#else
    for (long i = 0; i < count; i++) p[i] = v[i];
#endif
}

MF_VECTOR_INLINE mf_f64x4 mf_load_first_f64x4(const double *p, long count) {
#if defined(__AVX512VL__)
    return (mf_f64x4)_mm256_maskz_loadu_pd((__mmask8)((1u << count) - 1u), p);
#elif defined(__AVX2__)
    return (mf_f64x4)_mm256_maskload_pd(p, mf_first_lanes_mask64(count));
#else
    mf_f64x4 v = 0;
    for (long i = 0; i < count; i++) v[i] = p[i];
    return v;
#endif
}

MF_VECTOR_INLINE void mf_store_first_f64x4(double *p, mf_f64x4 v, long count) {
#if defined(__AVX512VL__)
    _mm256_mask_storeu_pd(p, (__mmask8)((1u << count) - 1u), (__m256d)v);
#elif defined(__AVX2__)
    _mm256_maskstore_pd(p, mf_first_lanes_mask64(count), (__m256d)v);
#else
    for (long i = 0; i < count; i++) p[i] = v[i];
#endif
}

/// result[i] = table[index[i]] (indices in 0..<16).
MF_VECTOR_INLINE mf_f32x16 mf_permute_f32x16(mf_f32x16 table, mf_i32x16 index) {
#if defined(__AVX512F__)
    return (mf_f32x16)_mm512_permutexvar_ps((__m512i)index, (__m512)table);
#else
    mf_f32x16 v;
    for (int i = 0; i < 16; i++) v[i] = table[index[i] & 15];
    return v;
#endif
}

/// result[i] = table[index[i]] (indices in 0..<8).
MF_VECTOR_INLINE mf_f32x8 mf_permute_f32x8(mf_f32x8 table, mf_i32x8 index) {
#if defined(__AVX2__)
    return (mf_f32x8)_mm256_permutevar8x32_ps((__m256)table, (__m256i)index);
#else
    mf_f32x8 v;
    for (int i = 0; i < 8; i++) v[i] = table[index[i] & 7];
    return v;
#endif
}

#undef MF_VECTOR_INLINE
#endif
