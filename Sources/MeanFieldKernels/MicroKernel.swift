// The micro-kernel table: which tile, which cache blocking, for each CPU level and scalar type.
#if canImport(MeanFieldKernelsAVX512)
import MeanFieldKernelsAVX512
#endif
#if canImport(MeanFieldKernelsAVX2)
import MeanFieldKernelsAVX2
#endif

/// One GEMM micro-kernel and the cache blocking that goes with it (GotoBLAS/BLIS scheme: a
/// `depthBlock × columns` packed B micro-panel stays in L1, a `rowBlock × depthBlock` block of A in L2,
/// a `depthBlock × columnBlock` packed block of B in L3).
struct MicroKernel<Scalar> {
    /// (depth, a, aRowStride, aDepthStride, b, bDepthStride, c, ldc, alpha, beta): C[rows×columns] ←
    /// alpha · A · B + beta · C (layout: Shared/MicroKernelBodies.swift).
    typealias Function = (Int, UnsafePointer<Scalar>, Int, Int, UnsafePointer<Scalar>, Int,
                          UnsafeMutablePointer<Scalar>, Int, Scalar, Scalar) -> Void
    /// (rows, columns, depth, a, aRowStride, aDepthStride, b, bDepthStride, c, ldc, alpha, beta): the
    /// same for the first `rows` ≤ `self.rows` rows and `columns` ≤ `self.columns` columns only, C
    /// written in place (`microKernelEdgeRows`).
    typealias EdgeFunction = (Int, Int, Int, UnsafePointer<Scalar>, Int, Int, UnsafePointer<Scalar>, Int,
                              UnsafeMutablePointer<Scalar>, Int, Scalar, Scalar) -> Void

    /// The instruction-set level the kernel was compiled for.
    let level: CPULevel
    /// MR: rows of the register tile.
    let rows: Int
    /// NR: columns of the register tile (two SIMD vectors).
    let columns: Int
    /// KC: depth of one packed panel.
    let depthBlock: Int
    /// MC: rows of A per L2-resident block (a multiple of `rows`).
    let rowBlock: Int
    /// NC: columns of B per packed block (a multiple of `columns`).
    let columnBlock: Int
    let function: Function
    /// The ragged tiles' kernel (last row panel, last column panel): bitwise the same sums.
    let edgeFunction: EdgeFunction
    /// (columns, depth, a, aRowStride, aDepthStride, b, bDepthStride, b2, c, ldc, alpha, beta):
    /// full-height tiles of the last two column panels together when the last is at most
    /// `self.columns / 2` wide, `columns` (> `self.columns`) wide, B's last columns from `b2` with B's
    /// depth stride (`microKernel8RowsThreeVectors`); nil where the registers do not allow it.
    /// Laid out as the edge function (alpha and beta last): the closure's thunk then only loads them
    /// and jumps; with `columns` after them it re-pushed the stack arguments and stalled on them (10% of
    /// a cache-resident 65×16·16×65 product).
    typealias WideEdgeFunction = (Int, Int, UnsafePointer<Scalar>, Int, Int, UnsafePointer<Scalar>, Int, UnsafePointer<Scalar>,
                                  UnsafeMutablePointer<Scalar>, Int, Scalar, Scalar) -> Void
    var wideEdgeFunction: WideEdgeFunction? = nil
    /// (columns, depth, a, aDepthStride, bPairs, c, ldc, alpha, beta): a full-height tile of a product
    /// at most `self.columns / 2` wide whose A rows are adjacent (A transposed, in place), two rows per
    /// vector, B as a row-pair panel (SwiftGemmRowPairs.swift); nil where there is none.
    typealias RowPairFunction = (Int, Int, UnsafePointer<Scalar>, Int, UnsafePointer<Scalar>, UnsafeMutablePointer<Scalar>, Int,
                                 Scalar, Scalar) -> Void
    var rowPairFunction: RowPairFunction? = nil
    /// A function for whole products of a few widths, a few rows at a time across the whole width
    /// (SwiftGemmFullWidth.swift).
    struct FullWidth {
        /// The edge function's arguments with any number of rows: every row of a product `columns` wide.
        let function: EdgeFunction
        /// The product widths `function` takes (65…80 for the AVX-512 Float kernel, 65…72 for the Double
        /// one: the ViT's 65 tokens); its transposed-B panel is `upperBound` wide.
        let columns: ClosedRange<Int>
    }
    /// nil where the kernel has no full-width function.
    var fullWidth: FullWidth? = nil
}

/// The scalar types the GEMM supports (Float, Double).
protocol GemmScalar: BinaryFloatingPoint {
    /// The micro-kernel for `level` (which must be in `CPULevel.available`).
    static func microKernel(for level: CPULevel) -> MicroKernel<Self>
}

extension Float: GemmScalar {
    static func microKernel(for level: CPULevel) -> MicroKernel<Float> {
        switch level {
        case .avx512:
            #if canImport(MeanFieldKernelsAVX512)
            return MicroKernel(level: .avx512, rows: 8, columns: 32, depthBlock: 256, rowBlock: 192,
                               columnBlock: 4096, function: AVX512Kernels.floatMicroKernel,
                               edgeFunction: AVX512Kernels.floatEdgeRows, wideEdgeFunction: AVX512Kernels.floatWideEdge,
                               fullWidth: .init(function: AVX512Kernels.floatFullWidthRows, columns: 65...80))
            #else
            fallthrough
            #endif
        case .avx2:
            #if canImport(MeanFieldKernelsAVX2)
            // KC = 512, MC = 72: best of KC ∈ {128…1024} × MC ∈ {36…288} on Zen 3 (benchmarks/RESULTS.md).
            return MicroKernel(level: .avx2, rows: 6, columns: 16, depthBlock: 512, rowBlock: 72,
                               columnBlock: 4096, function: AVX2Kernels.floatMicroKernel,
                               edgeFunction: AVX2Kernels.floatEdgeRows)
            #else
            fallthrough
            #endif
        case .portable:
            return MicroKernel(level: .portable, rows: 6, columns: 8, depthBlock: 256, rowBlock: 96,
                               columnBlock: 4096, function: PortableKernels.floatMicroKernel,
                               edgeFunction: PortableKernels.floatEdgeRows)
        }
    }
}

extension Float {
    /// Products at most this many columns wide use ``narrowMicroKernel(for:)`` where there is one.
    static let narrowColumnLimit = 16

    /// The 16×16 AVX-512 tile for products at most 16 columns wide (``AVX512Kernels/floatNarrowMicroKernel``,
    /// one full-width vector per row), or nil at levels without one (there the regular tile is already
    /// at most 16 wide). Same depth blocking as the 8×32 tile, so every element of C sums its terms in
    /// the same order.
    static func narrowMicroKernel(for level: CPULevel) -> MicroKernel<Float>? {
        #if canImport(MeanFieldKernelsAVX512)
        if level == .avx512 {
            return MicroKernel(level: .avx512, rows: 16, columns: 16, depthBlock: 256, rowBlock: 192,
                               columnBlock: 4096, function: AVX512Kernels.floatNarrowMicroKernel,
                               edgeFunction: AVX512Kernels.floatNarrowEdgeRows, rowPairFunction: AVX512Kernels.floatRowPairTile)
        }
        #endif
        return nil
    }
}

extension Double: GemmScalar {
    static func microKernel(for level: CPULevel) -> MicroKernel<Double> {
        switch level {
        case .avx512:
            #if canImport(MeanFieldKernelsAVX512)
            return MicroKernel(level: .avx512, rows: 8, columns: 16, depthBlock: 256, rowBlock: 96,
                               columnBlock: 2048, function: AVX512Kernels.doubleMicroKernel,
                               edgeFunction: AVX512Kernels.doubleEdgeRows, wideEdgeFunction: AVX512Kernels.doubleWideEdge,
                               fullWidth: .init(function: AVX512Kernels.doubleFullWidthRows, columns: 65...72))
            #else
            fallthrough
            #endif
        case .avx2:
            #if canImport(MeanFieldKernelsAVX2)
            return MicroKernel(level: .avx2, rows: 6, columns: 8, depthBlock: 512, rowBlock: 36,
                               columnBlock: 2048, function: AVX2Kernels.doubleMicroKernel,
                               edgeFunction: AVX2Kernels.doubleEdgeRows)
            #else
            fallthrough
            #endif
        case .portable:
            return MicroKernel(level: .portable, rows: 6, columns: 4, depthBlock: 256, rowBlock: 48,
                               columnBlock: 2048, function: PortableKernels.doubleMicroKernel,
                               edgeFunction: PortableKernels.doubleEdgeRows)
        }
    }
}
