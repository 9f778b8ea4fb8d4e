// GEMM micro-kernels compiled for x86-64-v3 (AVX2 + FMA). Only call these after a CPUID check
// (MeanFieldKernels/CPUDispatch.swift): they contain AVX2 and FMA instructions.

/// Micro-kernels for CPUs with AVX2 + FMA: 6 × 16 `Float` tiles (12 `SIMD8<Float>` accumulators) and
/// 6 × 8 `Double` tiles (12 `SIMD4<Double>` accumulators). Operand layout: `MicroKernelBodies.swift`.
public enum AVX2Kernels {
    /// C[6×16] ← alpha · A[6×depth] · B[depth×16] + beta · C.
    public static func floatMicroKernel(
        depth: Int, a: UnsafePointer<Float>, aRowStride: Int, aDepthStride: Int,
        b: UnsafePointer<Float>, bDepthStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) {
        withPackedStrideSpecialization(rows: 6, aRowStride: aRowStride, aDepthStride: aDepthStride) {
            microKernel6Rows(SIMD8<Float>.self, FusedMultiplyAdd.self, depth: depth, a: a, aRowStride: $0, aDepthStride: $1,
                             b: b, bDepthStride: bDepthStride, c: c, ldc: ldc, alpha: alpha, beta: beta)
        }
    }

    /// C[6×8] ← alpha · A[6×depth] · B[depth×8] + beta · C.
    public static func doubleMicroKernel(
        depth: Int, a: UnsafePointer<Double>, aRowStride: Int, aDepthStride: Int,
        b: UnsafePointer<Double>, bDepthStride: Int, c: UnsafeMutablePointer<Double>, ldc: Int, alpha: Double, beta: Double
    ) {
        withPackedStrideSpecialization(rows: 6, aRowStride: aRowStride, aDepthStride: aDepthStride) {
            microKernel6Rows(SIMD4<Double>.self, FusedMultiplyAdd.self, depth: depth, a: a, aRowStride: $0, aDepthStride: $1,
                             b: b, bDepthStride: bDepthStride, c: c, ldc: ldc, alpha: alpha, beta: beta)
        }
    }

    /// A ragged tile of a 6×16 `Float` tile (`rows` ≤ 6, `columns` ≤ 16), written to C in place.
    public static func floatEdgeRows(
        rows: Int, columns: Int, depth: Int, a: UnsafePointer<Float>, aRowStride: Int, aDepthStride: Int,
        b: UnsafePointer<Float>, bDepthStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) {
        microKernelEdgeTile(SIMD8<Float>.self, FusedMultiplyAdd.self, tileRows: 6, rows: rows, columns: columns, depth: depth, a: a,
                            aRowStride: aRowStride, aDepthStride: aDepthStride, b: b, bDepthStride: bDepthStride, c: c,
                            ldc: ldc, alpha: alpha, beta: beta)
    }

    /// A ragged tile of a 6×8 `Double` tile (`rows` ≤ 6, `columns` ≤ 8), written to C in place.
    public static func doubleEdgeRows(
        rows: Int, columns: Int, depth: Int, a: UnsafePointer<Double>, aRowStride: Int, aDepthStride: Int,
        b: UnsafePointer<Double>, bDepthStride: Int, c: UnsafeMutablePointer<Double>, ldc: Int, alpha: Double, beta: Double
    ) {
        microKernelEdgeTile(SIMD4<Double>.self, FusedMultiplyAdd.self, tileRows: 6, rows: rows, columns: columns, depth: depth, a: a,
                            aRowStride: aRowStride, aDepthStride: aDepthStride, b: b, bDepthStride: bDepthStride, c: c,
                            ldc: ldc, alpha: alpha, beta: beta)
    }
}
