// Micro-kernels for the portable level, compiled with the module's default target (SSE2 on x86-64,
// NEON on arm64): 6 × 8 `Float` tiles (SIMD4) and 6 × 4 `Double` tiles (SIMD2), 12 accumulators that
// fit in 16 vector registers. Operand layout: Shared/MicroKernelBodies.swift.

enum PortableKernels {
    #if arch(x86_64) || arch(i386)
    /// Generic x86-64 has no FMA instruction (see `MultiplyAddStrategy`).
    typealias MultiplyAdd = SeparateMultiplyAdd
    #else
    typealias MultiplyAdd = FusedMultiplyAdd
    #endif

    /// C[6×8] ← alpha · A[6×depth] · B[depth×8] + beta · C.
    static func floatMicroKernel(
        depth: Int, a: UnsafePointer<Float>, aRowStride: Int, aDepthStride: Int,
        b: UnsafePointer<Float>, bDepthStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) {
        withPackedStrideSpecialization(rows: 6, aRowStride: aRowStride, aDepthStride: aDepthStride) {
            microKernel6Rows(SIMD4<Float>.self, MultiplyAdd.self, depth: depth, a: a, aRowStride: $0, aDepthStride: $1,
                             b: b, bDepthStride: bDepthStride, c: c, ldc: ldc, alpha: alpha, beta: beta)
        }
    }

    /// C[6×4] ← alpha · A[6×depth] · B[depth×4] + beta · C.
    static func doubleMicroKernel(
        depth: Int, a: UnsafePointer<Double>, aRowStride: Int, aDepthStride: Int,
        b: UnsafePointer<Double>, bDepthStride: Int, c: UnsafeMutablePointer<Double>, ldc: Int, alpha: Double, beta: Double
    ) {
        withPackedStrideSpecialization(rows: 6, aRowStride: aRowStride, aDepthStride: aDepthStride) {
            microKernel6Rows(SIMD2<Double>.self, MultiplyAdd.self, depth: depth, a: a, aRowStride: $0, aDepthStride: $1,
                             b: b, bDepthStride: bDepthStride, c: c, ldc: ldc, alpha: alpha, beta: beta)
        }
    }

    /// 8 × 8 `Float` tile with the 8-row body that the AVX-512 kernels use. Not used for speed (16
    /// accumulators spill on SSE2): it lets tests check `microKernel8Rows` on any CPU.
    static func floatEightRowMicroKernel(
        depth: Int, a: UnsafePointer<Float>, aRowStride: Int, aDepthStride: Int,
        b: UnsafePointer<Float>, bDepthStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) {
        withPackedStrideSpecialization(rows: 8, aRowStride: aRowStride, aDepthStride: aDepthStride) {
            microKernel8Rows(SIMD4<Float>.self, MultiplyAdd.self, depth: depth, a: a, aRowStride: $0, aDepthStride: $1,
                             b: b, bDepthStride: bDepthStride, c: c, ldc: ldc, alpha: alpha, beta: beta)
        }
    }

    /// 8 × 4 `Double` tile with the 8-row body (tests only, see `floatEightRowMicroKernel`).
    static func doubleEightRowMicroKernel(
        depth: Int, a: UnsafePointer<Double>, aRowStride: Int, aDepthStride: Int,
        b: UnsafePointer<Double>, bDepthStride: Int, c: UnsafeMutablePointer<Double>, ldc: Int, alpha: Double, beta: Double
    ) {
        withPackedStrideSpecialization(rows: 8, aRowStride: aRowStride, aDepthStride: aDepthStride) {
            microKernel8Rows(SIMD2<Double>.self, MultiplyAdd.self, depth: depth, a: a, aRowStride: $0, aDepthStride: $1,
                             b: b, bDepthStride: bDepthStride, c: c, ldc: ldc, alpha: alpha, beta: beta)
        }
    }

    /// A ragged tile (`rows` ≤ 8, `columns` ≤ 8) of an 8-column `Float` tile (6×8, or the 8×8 test tile), in place.
    static func floatEdgeRows(
        rows: Int, columns: Int, depth: Int, a: UnsafePointer<Float>, aRowStride: Int, aDepthStride: Int,
        b: UnsafePointer<Float>, bDepthStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) {
        microKernelEdgeTile(SIMD4<Float>.self, MultiplyAdd.self, tileRows: 6, rows: rows, columns: columns, depth: depth, a: a,
                            aRowStride: aRowStride, aDepthStride: aDepthStride, b: b, bDepthStride: bDepthStride, c: c,
                            ldc: ldc, alpha: alpha, beta: beta)
    }

    /// A ragged tile (`rows` ≤ 8, `columns` ≤ 4) of a 4-column `Double` tile (6×4, or the 8×4 test tile), in place.
    static func doubleEdgeRows(
        rows: Int, columns: Int, depth: Int, a: UnsafePointer<Double>, aRowStride: Int, aDepthStride: Int,
        b: UnsafePointer<Double>, bDepthStride: Int, c: UnsafeMutablePointer<Double>, ldc: Int, alpha: Double, beta: Double
    ) {
        microKernelEdgeTile(SIMD2<Double>.self, MultiplyAdd.self, tileRows: 6, rows: rows, columns: columns, depth: depth, a: a,
                            aRowStride: aRowStride, aDepthStride: aDepthStride, b: b, bDepthStride: bDepthStride, c: c,
                            ldc: ldc, alpha: alpha, beta: beta)
    }
}
