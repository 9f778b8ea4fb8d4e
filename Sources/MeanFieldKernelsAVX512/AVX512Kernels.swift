// GEMM micro-kernels compiled for x86-64-v4 (AVX-512). Only call these after a CPUID check
// (MeanFieldKernels/CPUDispatch.swift): they contain AVX-512 instructions.
import CMeanFieldSupport

/// Micro-kernels for CPUs with AVX-512: 8 × 32 `Float` tiles (16 `SIMD16<Float>` accumulators) and
/// 8 × 16 `Double` tiles (16 `SIMD8<Double>` accumulators). Operand layout: `MicroKernelBodies.swift`.
public enum AVX512Kernels {
    /// C[8×32] ← alpha · A[8×depth] · B[depth×32] + beta · C.
    public static func floatMicroKernel(
        depth: Int, a: UnsafePointer<Float>, aRowStride: Int, aDepthStride: Int,
        b: UnsafePointer<Float>, bDepthStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) {
        withPackedStrideSpecialization(rows: 8, aRowStride: aRowStride, aDepthStride: aDepthStride) {
            microKernel8Rows(SIMD16<Float>.self, FusedMultiplyAdd.self, depth: depth, a: a, aRowStride: $0, aDepthStride: $1,
                             b: b, bDepthStride: bDepthStride, c: c, ldc: ldc, alpha: alpha, beta: beta)
        }
    }

    /// C[16×16] ← alpha · A[16×depth] · B[depth×16] + beta · C for `Float`: one `SIMD16<Float>`
    /// accumulator per row (16 of them). For products at most 16 columns wide (the per-head
    /// attention products of width d_h = 16), where the 8×32 tile would compute half its columns in
    /// vain. Each element of C sums the same terms in the same order as in the 8×32 tile, so the
    /// results are bitwise the same.
    public static func floatNarrowMicroKernel(
        depth: Int, a: UnsafePointer<Float>, aRowStride: Int, aDepthStride: Int,
        b: UnsafePointer<Float>, bDepthStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) {
        withPackedStrideSpecialization(rows: 16, aRowStride: aRowStride, aDepthStride: aDepthStride) {
            microKernel16RowsOneVector(SIMD16<Float>.self, FusedMultiplyAdd.self, depth: depth, a: a, aRowStride: $0,
                                       aDepthStride: $1, b: b, bDepthStride: bDepthStride, c: c, ldc: ldc,
                                       alpha: alpha, beta: beta)
        }
    }

    /// C[8×16] ← alpha · A[8×depth] · B[depth×16] + beta · C.
    public static func doubleMicroKernel(
        depth: Int, a: UnsafePointer<Double>, aRowStride: Int, aDepthStride: Int,
        b: UnsafePointer<Double>, bDepthStride: Int, c: UnsafeMutablePointer<Double>, ldc: Int, alpha: Double, beta: Double
    ) {
        withPackedStrideSpecialization(rows: 8, aRowStride: aRowStride, aDepthStride: aDepthStride) {
            microKernel8Rows(SIMD8<Double>.self, FusedMultiplyAdd.self, depth: depth, a: a, aRowStride: $0, aDepthStride: $1,
                             b: b, bDepthStride: bDepthStride, c: c, ldc: ldc, alpha: alpha, beta: beta)
        }
    }

    /// C[8×(32 + columns − 32)] for the last two column panels of a product whose last panel is at most
    /// 16 wide (`columns` in 33…48): B's first 32 columns from `b`, the rest from `b2` (same depth
    /// stride; `microKernel8RowsThreeVectors`).
    public static func floatWideEdge(
        columns: Int, depth: Int, a: UnsafePointer<Float>, aRowStride: Int, aDepthStride: Int, b: UnsafePointer<Float>,
        bDepthStride: Int, b2: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) {
        withPackedStrideSpecialization(rows: 8, aRowStride: aRowStride, aDepthStride: aDepthStride) {
            microKernel8RowsThreeVectors(SIMD16<Float>.self, FusedMultiplyAdd.self, depth: depth, a: a, aRowStride: $0,
                                         aDepthStride: $1, b: b, bDepthStride: bDepthStride, b2: b2,
                                         c: c, ldc: ldc, alpha: alpha, beta: beta, columns: columns)
        }
    }

    /// C[rows×columns] ← alpha · A · B + beta · C for `Float` products 64 < `columns` ≤ 80 wide (the
    /// ViT's 65 × 65 attention scores), all rows in one call: four rows at a time across the whole width
    /// (`microKernel4RowsFiveVectors`), then the last `rows` mod 4 one by one. Operand layout as for the
    /// edge function; the same sums as the 8×32 tile, so the same bits.
    public static func floatFullWidthRows(
        rows: Int, columns: Int, depth: Int, a: UnsafePointer<Float>, aRowStride: Int, aDepthStride: Int,
        b: UnsafePointer<Float>, bDepthStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) {
        var row = 0
        while row + 4 <= rows {
            microKernel4RowsFiveVectors(SIMD16<Float>.self, FusedMultiplyAdd.self, depth: depth, a: a + row * aRowStride,
                                        aRowStride: aRowStride, aDepthStride: aDepthStride, b: b, bDepthStride: bDepthStride,
                                        c: c + row * ldc, ldc: ldc, alpha: alpha, beta: beta, columns: columns)
            row += 4
        }
        while row < rows {
            microKernel1RowFiveVectors(SIMD16<Float>.self, FusedMultiplyAdd.self, depth: depth, a: a + row * aRowStride,
                                       aDepthStride: aDepthStride, b: b, bDepthStride: bDepthStride, c: c + row * ldc,
                                       alpha: alpha, beta: beta, columns: columns)
            row += 1
        }
    }

    /// The same for `Double` products 64 < `columns` ≤ 72 wide (the ViT's scores in Float64): two rows
    /// at a time across the whole width (`microKernelRowsNineVectors`), then the last row if `rows` is
    /// odd. The same sums as the 8×16 tile, so the same bits.
    public static func doubleFullWidthRows(
        rows: Int, columns: Int, depth: Int, a: UnsafePointer<Double>, aRowStride: Int, aDepthStride: Int,
        b: UnsafePointer<Double>, bDepthStride: Int, c: UnsafeMutablePointer<Double>, ldc: Int, alpha: Double, beta: Double
    ) {
        var row = 0
        while row < rows {
            microKernelRowsNineVectors(SIMD8<Double>.self, FusedMultiplyAdd.self, rows: min(2, rows - row), depth: depth,
                                       a: a + row * aRowStride, aRowStride: aRowStride, aDepthStride: aDepthStride, b: b,
                                       bDepthStride: bDepthStride, c: c + row * ldc, ldc: ldc, alpha: alpha, beta: beta, columns: columns)
            row += 2
        }
    }

    /// The same for the 8×16 `Double` tile (`columns` in 17…24).
    public static func doubleWideEdge(
        columns: Int, depth: Int, a: UnsafePointer<Double>, aRowStride: Int, aDepthStride: Int, b: UnsafePointer<Double>,
        bDepthStride: Int, b2: UnsafePointer<Double>, c: UnsafeMutablePointer<Double>, ldc: Int, alpha: Double, beta: Double
    ) {
        withPackedStrideSpecialization(rows: 8, aRowStride: aRowStride, aDepthStride: aDepthStride) {
            microKernel8RowsThreeVectors(SIMD8<Double>.self, FusedMultiplyAdd.self, depth: depth, a: a, aRowStride: $0,
                                         aDepthStride: $1, b: b, bDepthStride: bDepthStride, b2: b2,
                                         c: c, ldc: ldc, alpha: alpha, beta: beta, columns: columns)
        }
    }

    /// C[16×columns] ← alpha · A[16×depth] · B[depth×columns] + beta · C for `Float` products at most 8
    /// columns wide whose A has its rows next to each other (A transposed, read in place with depth
    /// stride `aDepthStride`), B given as a row-pair panel (`depth` rows of 16: lanes 2j and 2j + 1
    /// hold B[p, j], zeros past `columns`; SwiftGemmRowPairs.swift packs it). Two rows share one
    /// vector: lane 2j + h of accumulator i holds C[2i + h, j], so a step is one B load, 8 two-row
    /// broadcasts of A and 8 FMAs, where the 16×16 tile spends 16 FMAs on 6 of 16 lanes (the
    /// regression-size D = 6 products). Each element is the same FMA chain over p = 0, 1, … and the
    /// same store expression as in the 16×16 tile: the same bits.
    public static func floatRowPairTile(
        columns: Int, depth: Int, a: UnsafePointer<Float>, aDepthStride: Int, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) {
        typealias V = SIMD16<Float>
        /// Rows `row`, `row + 1` of A at this step in every lane pair (one 64-bit broadcast).
        @inline(__always) func rowPair(_ pointer: UnsafePointer<Float>, _ row: Int) -> V {
            unsafeBitCast(SIMD8<UInt64>(repeating: UnsafeRawPointer(pointer + row).loadUnaligned(as: UInt64.self)), to: V.self)
        }
        var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V(), c5 = V(), c6 = V(), c7 = V()
        var aPointer = a, bPointer = b
        for _ in 0..<depth {
            let b0 = UnsafeRawPointer(bPointer).loadUnaligned(as: V.self)
            c0 = c0.addingProduct(rowPair(aPointer, 0), b0)
            c1 = c1.addingProduct(rowPair(aPointer, 2), b0)
            c2 = c2.addingProduct(rowPair(aPointer, 4), b0)
            c3 = c3.addingProduct(rowPair(aPointer, 6), b0)
            c4 = c4.addingProduct(rowPair(aPointer, 8), b0)
            c5 = c5.addingProduct(rowPair(aPointer, 10), b0)
            c6 = c6.addingProduct(rowPair(aPointer, 12), b0)
            c7 = c7.addingProduct(rowPair(aPointer, 14), b0)
            aPointer = opaque(aPointer + aDepthStride)
            bPointer += 16
        }
        // Even lanes (the first row of the pair) to lanes 0–7, odd lanes to 8–15.
        let split = SIMD16<Int32>(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15)
        @inline(__always) func store(_ accumulator: V, _ row: Int) {
            let rows = mf_permute_f32x16(accumulator, split)
            storeTileVector(c + row * ldc, rows.lowHalf, alpha: alpha, beta: beta, columns: columns)
            storeTileVector(c + (row + 1) * ldc, rows.highHalf, alpha: alpha, beta: beta, columns: columns)
        }
        store(c0, 0); store(c1, 2); store(c2, 4); store(c3, 6); store(c4, 8); store(c5, 10); store(c6, 12); store(c7, 14)
    }

    /// A ragged tile of an 8×32 `Float` tile (`rows` ≤ 8, `columns` ≤ 32), written to C in place.
    public static func floatEdgeRows(
        rows: Int, columns: Int, depth: Int, a: UnsafePointer<Float>, aRowStride: Int, aDepthStride: Int,
        b: UnsafePointer<Float>, bDepthStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) {
        microKernelEdgeTile(SIMD16<Float>.self, FusedMultiplyAdd.self, tileRows: 8, rows: rows, columns: columns, depth: depth, a: a,
                            aRowStride: aRowStride, aDepthStride: aDepthStride, b: b, bDepthStride: bDepthStride, c: c,
                            ldc: ldc, alpha: alpha, beta: beta)
    }

    /// A ragged tile of the 16×16 narrow `Float` tile (`rows` ≤ 16, `columns` ≤ 16), written to C in
    /// place; fewer than 16 rows as rows of two `SIMD8<Float>` (same order of terms, same bits).
    public static func floatNarrowEdgeRows(
        rows: Int, columns: Int, depth: Int, a: UnsafePointer<Float>, aRowStride: Int, aDepthStride: Int,
        b: UnsafePointer<Float>, bDepthStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) {
        if rows == 16 {  // full rows, ragged columns: the full tile's body with partial stores
            withPackedStrideSpecialization(rows: 16, aRowStride: aRowStride, aDepthStride: aDepthStride) {
                microKernel16RowsOneVector(SIMD16<Float>.self, FusedMultiplyAdd.self, depth: depth, a: a, aRowStride: $0, aDepthStride: $1, b: b,
                    bDepthStride: bDepthStride, c: c, ldc: ldc, alpha: alpha, beta: beta, columns: columns)
            }
        } else {
            microKernelEdgeRows(SIMD8<Float>.self, FusedMultiplyAdd.self, rows: rows, depth: depth, a: a, aRowStride: aRowStride,
                                aDepthStride: aDepthStride, b: b, bDepthStride: bDepthStride, c: c, ldc: ldc,
                                alpha: alpha, beta: beta, columns: columns)
        }
    }

    /// A ragged tile of an 8×16 `Double` tile (`rows` ≤ 8, `columns` ≤ 16), written to C in place.
    public static func doubleEdgeRows(
        rows: Int, columns: Int, depth: Int, a: UnsafePointer<Double>, aRowStride: Int, aDepthStride: Int,
        b: UnsafePointer<Double>, bDepthStride: Int, c: UnsafeMutablePointer<Double>, ldc: Int, alpha: Double, beta: Double
    ) {
        microKernelEdgeTile(SIMD8<Double>.self, FusedMultiplyAdd.self, tileRows: 8, rows: rows, columns: columns, depth: depth, a: a,
                            aRowStride: aRowStride, aDepthStride: aDepthStride, b: b, bDepthStride: bDepthStride, c: c,
                            ldc: ldc, alpha: alpha, beta: beta)
    }
}
