// Run-time choice of the element-wise kernels (Shared/ElementwiseBodies.swift) by CPU level, the
// same way the GEMM picks its micro-kernel (CPUDispatch.swift). The portable copy is this module's.
#if canImport(MeanFieldKernelsAVX512)
import MeanFieldKernelsAVX512
#endif
#if canImport(MeanFieldKernelsAVX2)
import MeanFieldKernelsAVX2
#endif

// Vector types of the portable copy (SSE2 / NEON: 128-bit vectors).
typealias ElementwiseFloatVector = SIMD4<Float>
typealias ElementwiseFloatBits = SIMD4<Int32>
typealias ElementwiseDoubleVector = SIMD2<Double>
typealias ElementwiseDoubleBits = SIMD2<Int64>

/// Row-wise kernels of the fused Transformer engine at `CPULevel.active` (arguments and layouts as
/// in Shared/ElementwiseBodies.swift). Results are independent of how callers split rows.
public enum Elementwise {
    @usableFromInline static let level = CPULevel.active

    public static func softmaxRows<S: ElementwiseScalar>(_ rows: UnsafeMutablePointer<S>, rowCount: Int, tokens n: Int) {
        S.dispatch(level).softmaxRows(rows, rowCount, n)
    }
    public static func softmaxBackward<S: ElementwiseScalar>(weights: UnsafePointer<S>, gradient: UnsafeMutablePointer<S>,
                                                             rowCount: Int, tokens n: Int, scale: S) {
        S.dispatch(level).softmaxBackward(weights, gradient, rowCount, n, scale)
    }
    public static func layerNormForward<S: ElementwiseScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>,
                                                              inverseStd: UnsafeMutablePointer<S>, rows: Int, width: Int) {
        S.dispatch(level).layerNormForward(x, y, inverseStd, rows, width)
    }
    public static func layerNormBackward<S: ElementwiseScalar>(y: UnsafePointer<S>, inverseStd: UnsafePointer<S>, dy: UnsafePointer<S>,
                                                               residual: UnsafePointer<S>, dx: UnsafeMutablePointer<S>, rows: Int, width: Int) {
        S.dispatch(level).layerNormBackward(y, inverseStd, dy, residual, dx, rows, width)
    }
    public static func biasRelu<S: ElementwiseScalar>(_ values: UnsafeMutablePointer<S>, bias: UnsafePointer<S>, rows: Int, units: Int) {
        S.dispatch(level).biasRelu(values, bias, rows, units)
    }
    public static func reluMask<S: ElementwiseScalar>(_ g: UnsafeMutablePointer<S>, _ x: UnsafePointer<S>, count: Int) {
        S.dispatch(level).reluMask(g, x, count)
    }
    public static func columnSums<S: ElementwiseScalar>(_ matrix: UnsafePointer<S>, rows: Int, stride: Int, count: Int,
                                                        into sums: UnsafeMutablePointer<S>) {
        S.dispatch(level).columnSums(matrix, rows, stride, count, sums)
    }
    public static func headMajor<S: ElementwiseScalar>(_ source: UnsafePointer<S>, _ target: UnsafeMutablePointer<S>, tokens: Int,
                                                       heads: Int, width: Int, toHeadMajor: Bool) {
        S.dispatch(level).headMajor(source, target, tokens, heads, width, toHeadMajor)
    }
}

/// The kernels of one CPU level for one scalar type (a table of plain function references).
public struct ElementwiseTable<S> {
    let softmaxRows: (UnsafeMutablePointer<S>, Int, Int) -> Void
    let softmaxBackward: (UnsafePointer<S>, UnsafeMutablePointer<S>, Int, Int, S) -> Void
    let layerNormForward: (UnsafePointer<S>, UnsafeMutablePointer<S>, UnsafeMutablePointer<S>, Int, Int) -> Void
    let layerNormBackward: (UnsafePointer<S>, UnsafePointer<S>, UnsafePointer<S>, UnsafePointer<S>, UnsafeMutablePointer<S>, Int, Int) -> Void
    let biasRelu: (UnsafeMutablePointer<S>, UnsafePointer<S>, Int, Int) -> Void
    let reluMask: (UnsafeMutablePointer<S>, UnsafePointer<S>, Int) -> Void
    let columnSums: (UnsafePointer<S>, Int, Int, Int, UnsafeMutablePointer<S>) -> Void
    let headMajor: (UnsafePointer<S>, UnsafeMutablePointer<S>, Int, Int, Int, Bool) -> Void
}

/// Float and Double: the scalar types with element-wise kernels.
public protocol ElementwiseScalar: BinaryFloatingPoint {
    static func dispatch(_ level: CPULevel) -> ElementwiseTable<Self>
}

extension Float: ElementwiseScalar {
    private static let tables: [ElementwiseTable<Float>] = CPULevel.allCases.map { level in
        switch level {
        case .avx512:
            #if canImport(MeanFieldKernelsAVX512)
            typealias K = MeanFieldKernelsAVX512.ElementwiseKernels
            return ElementwiseTable(softmaxRows: K.softmaxRows, softmaxBackward: K.softmaxBackward,
                                    layerNormForward: K.layerNormForward, layerNormBackward: K.layerNormBackward,
                                    biasRelu: K.biasRelu, reluMask: K.reluMask, columnSums: K.columnSums, headMajor: K.headMajor)
            #else
            fallthrough
            #endif
        case .avx2:
            #if canImport(MeanFieldKernelsAVX2)
            typealias K = MeanFieldKernelsAVX2.ElementwiseKernels
            return ElementwiseTable(softmaxRows: K.softmaxRows, softmaxBackward: K.softmaxBackward,
                                    layerNormForward: K.layerNormForward, layerNormBackward: K.layerNormBackward,
                                    biasRelu: K.biasRelu, reluMask: K.reluMask, columnSums: K.columnSums, headMajor: K.headMajor)
            #else
            fallthrough
            #endif
        case .portable:
            typealias K = ElementwiseKernels
            return ElementwiseTable(softmaxRows: K.softmaxRows, softmaxBackward: K.softmaxBackward,
                                    layerNormForward: K.layerNormForward, layerNormBackward: K.layerNormBackward,
                                    biasRelu: K.biasRelu, reluMask: K.reluMask, columnSums: K.columnSums, headMajor: K.headMajor)
        }
    }
    public static func dispatch(_ level: CPULevel) -> ElementwiseTable<Float> { tables[level.rawValue] }
}

extension Double: ElementwiseScalar {
    private static let tables: [ElementwiseTable<Double>] = CPULevel.allCases.map { level in
        switch level {
        case .avx512:
            #if canImport(MeanFieldKernelsAVX512)
            typealias K = MeanFieldKernelsAVX512.ElementwiseKernels
            return ElementwiseTable(softmaxRows: K.softmaxRows, softmaxBackward: K.softmaxBackward,
                                    layerNormForward: K.layerNormForward, layerNormBackward: K.layerNormBackward,
                                    biasRelu: K.biasRelu, reluMask: K.reluMask, columnSums: K.columnSums, headMajor: K.headMajor)
            #else
            fallthrough
            #endif
        case .avx2:
            #if canImport(MeanFieldKernelsAVX2)
            typealias K = MeanFieldKernelsAVX2.ElementwiseKernels
            return ElementwiseTable(softmaxRows: K.softmaxRows, softmaxBackward: K.softmaxBackward,
                                    layerNormForward: K.layerNormForward, layerNormBackward: K.layerNormBackward,
                                    biasRelu: K.biasRelu, reluMask: K.reluMask, columnSums: K.columnSums, headMajor: K.headMajor)
            #else
            fallthrough
            #endif
        case .portable:
            typealias K = ElementwiseKernels
            return ElementwiseTable(softmaxRows: K.softmaxRows, softmaxBackward: K.softmaxBackward,
                                    layerNormForward: K.layerNormForward, layerNormBackward: K.layerNormBackward,
                                    biasRelu: K.biasRelu, reluMask: K.reluMask, columnSums: K.columnSums, headMajor: K.headMajor)
        }
    }
    public static func dispatch(_ level: CPULevel) -> ElementwiseTable<Double> { tables[level.rawValue] }
}
