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
// - W rows' partial vectors reduced at once, lane r of the result from row r (the same rows' softmax
//   maxima, sums and backward totals): a transpose folded into the halving tree of one row's
//   horizontal reduction, W − 1 combining steps (two shuffles and an operation each) for the W rows
//   instead of log₂W steps and a lane insert per row.
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

/// max(low, high) as Swift's `low.replace(with: high, where: high .> low)`: `high` where it is
/// greater, else `low` (a NaN in `high` is ignored).
MF_VECTOR_INLINE mf_f32x16 mf_greater_f32x16(mf_f32x16 low, mf_f32x16 high) {
    mf_i32x16 take = high > low;
    return (mf_f32x16)(((mf_i32x16)high & take) | ((mf_i32x16)low & ~take));
}
MF_VECTOR_INLINE mf_f32x8 mf_greater_f32x8(mf_f32x8 low, mf_f32x8 high) {
    mf_i32x8 take = high > low;
    return (mf_f32x8)(((mf_i32x8)high & take) | ((mf_i32x8)low & ~take));
}
MF_VECTOR_INLINE mf_f32x16 mf_combine_f32x16(mf_f32x16 low, mf_f32x16 high, int maximum) {
    return maximum ? mf_greater_f32x16(low, high) : low + high;
}
MF_VECTOR_INLINE mf_f32x8 mf_combine_f32x8(mf_f32x8 low, mf_f32x8 high, int maximum) {
    return maximum ? mf_greater_f32x8(low, high) : low + high;
}

/// Lane r = the maximum (`maximum` ≠ 0) or the sum of the 16 lanes of row r's vector (`rows` holds
/// 16 vectors one after another, any alignment), combined in the order of one vector's halving tree
/// (lanes 0–7 with 8–15, then 0–3 with 4–7, 0–1 with 2–3, 0 with 1), so each lane has the bits of that
/// row's own reduction. Each stage halves the partials per row and the number of vectors: w_i = rows
/// 2i, 2i+1 (8 partials each); x_i = rows 4i…4i+3 (4 each, one per 128-bit block); y_i and z
/// interleave inside the blocks, leaving lane 4j + t = row j + 4t, put back in order by the last
/// shuffle.
MF_VECTOR_INLINE mf_f32x16 mf_reduce_rows_f32x16(const float *rows, int maximum) {
    mf_f32x16 w[8], x[4], y[2];
    for (int i = 0; i < 8; i++) {
        mf_f32x16 a, b;
        __builtin_memcpy(&a, rows + 32 * i, sizeof a);
        __builtin_memcpy(&b, rows + 32 * i + 16, sizeof b);
        w[i] = mf_combine_f32x16(__builtin_shufflevector(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23),
                                 __builtin_shufflevector(a, b, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31), maximum);
    }
    for (int i = 0; i < 4; i++) {
        mf_f32x16 a = w[2 * i], b = w[2 * i + 1];
        x[i] = mf_combine_f32x16(__builtin_shufflevector(a, b, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27),
                                 __builtin_shufflevector(a, b, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31), maximum);
    }
    for (int i = 0; i < 2; i++) {
        mf_f32x16 a = x[2 * i], b = x[2 * i + 1];
        y[i] = mf_combine_f32x16(__builtin_shufflevector(a, b, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29),
                                 __builtin_shufflevector(a, b, 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31), maximum);
    }
    mf_f32x16 z = mf_combine_f32x16(__builtin_shufflevector(y[0], y[1], 0, 2, 16, 18, 4, 6, 20, 22, 8, 10, 24, 26, 12, 14, 28, 30),
                                    __builtin_shufflevector(y[0], y[1], 1, 3, 17, 19, 5, 7, 21, 23, 9, 11, 25, 27, 13, 15, 29, 31), maximum);
    return __builtin_shufflevector(z, z, 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
}

/// Lane r = the maximum or the sum of the 8 lanes of row r's vector (8 vectors at `rows`), in one
/// vector's halving-tree order (as `mf_reduce_rows_f32x16`; after the last stage lane 4j + t = row
/// j + 2t).
MF_VECTOR_INLINE mf_f32x8 mf_reduce_rows_f32x8(const float *rows, int maximum) {
    mf_f32x8 w[4], x[2];
    for (int i = 0; i < 4; i++) {
        mf_f32x8 a, b;
        __builtin_memcpy(&a, rows + 16 * i, sizeof a);
        __builtin_memcpy(&b, rows + 16 * i + 8, sizeof b);
        w[i] = mf_combine_f32x8(__builtin_shufflevector(a, b, 0, 1, 2, 3, 8, 9, 10, 11),
                                __builtin_shufflevector(a, b, 4, 5, 6, 7, 12, 13, 14, 15), maximum);
    }
    for (int i = 0; i < 2; i++) {
        mf_f32x8 a = w[2 * i], b = w[2 * i + 1];
        x[i] = mf_combine_f32x8(__builtin_shufflevector(a, b, 0, 1, 8, 9, 4, 5, 12, 13),
                                __builtin_shufflevector(a, b, 2, 3, 10, 11, 6, 7, 14, 15), maximum);
    }
    mf_f32x8 z = mf_combine_f32x8(__builtin_shufflevector(x[0], x[1], 0, 2, 8, 10, 4, 6, 12, 14),
                                  __builtin_shufflevector(x[0], x[1], 1, 3, 9, 11, 5, 7, 13, 15), maximum);
    return __builtin_shufflevector(z, z, 0, 4, 1, 5, 2, 6, 3, 7);
}

#undef MF_VECTOR_INLINE
#endif
