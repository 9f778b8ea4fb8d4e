import MeanFieldKernels
import RealModule

/// The scalar types a ``Tensor`` can hold: `Float` (fast training) and `Double` (gradient checks,
/// convergence measurements). `Real` (swift-numerics) supplies `exp`, `log`, `tanh`, `erf`, ….
///
/// The one type-specific requirement is GEMM, which forwards to the kernel library
/// (`MeanFieldKernels.Gemm`, a packed SIMD kernel or the system BLAS).
public protocol TensorScalar: BinaryFloatingPoint, Real, Sendable, Codable
where RawSignificand: FixedWidthInteger {
    /// Row-major `C[m×n] = alpha·op(A)·op(B) + beta·C` (see `Gemm.gemm`).
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)

    /// Uniform value in [0, 1) from one 128-bit Philox block (see ``PhiloxRandom``).
    /// `Float` uses 24 bits of one word; `Double` uses 53 bits of two words.
    static func unitInterval(_ word0: UInt32, _ word1: UInt32) -> Self

    /// How many values one 128-bit Philox block yields (4 for `Float`, 2 for `Double`).
    static var valuesPerRandomBlock: Int { get }

    /// Short name used in messages and checkpoints ("f32", "f64").
    static var dtypeName: String { get }
}

extension Float: TensorScalar {
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        Gemm.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                  alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
    public static func unitInterval(_ word0: UInt32, _ word1: UInt32) -> Float {
        Float(word0 >> 8) * (1.0 / 16_777_216.0)
    }
    public static var valuesPerRandomBlock: Int { 4 }
    public static var dtypeName: String { "f32" }
}

extension Double: TensorScalar {
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        Gemm.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                  alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
    public static func unitInterval(_ word0: UInt32, _ word1: UInt32) -> Double {
        let bits = (UInt64(word0) << 21) ^ UInt64(word1 >> 11)   // 53 random bits
        return Double(bits & ((1 << 53) - 1)) * (1.0 / 9_007_199_254_740_992.0)
    }
    public static var valuesPerRandomBlock: Int { 2 }
    public static var dtypeName: String { "f64" }
}
