/// The scalar protocol (Tensor/TensorScalar.swift): the Philox word → [0, 1) conversions, checked
/// against their closed forms (top 24 bits / 2²⁴ for Float, 53 bits / 2⁵³ for Double), and GEMM
/// forwarding, checked against a naive triple loop.
import Testing
@testable import MeanFieldCore

@Suite("TensorScalar")
struct TensorScalarTests {
    @Test("Float.unitInterval is the top 24 bits of word 0 over 2²⁴, ignoring word 1")
    func floatUnitInterval() {
        #expect(Float.unitInterval(0, 0xFFFF_FFFF) == 0)
        #expect(Float.unitInterval(0xFFFF_FFFF, 0) == Float(0xFF_FFFF) / 16_777_216)
        #expect(Float.unitInterval(0xFFFF_FFFF, 0) < 1)
        #expect(Float.unitInterval(0x8000_0000, 0) == 0.5)
        #expect(Float.unitInterval(0x0000_0100, 0) == 0x1p-24)
        #expect(Float.unitInterval(0x0000_00FF, 0) == 0)
    }

    @Test("Double.unitInterval uses 32 bits of word 0 and the top 21 of word 1 (53 bits) over 2⁵³")
    func doubleUnitInterval() {
        #expect(Double.unitInterval(0, 0) == 0)
        #expect(Double.unitInterval(0xFFFF_FFFF, 0xFFFF_FFFF) == 1 - 0x1p-53)
        #expect(Double.unitInterval(0x8000_0000, 0) == 0.5)
        #expect(Double.unitInterval(0, 0x0000_0800) == 0x1p-53)
        #expect(Double.unitInterval(0, 0x0000_07FF) == 0)
        #expect(Double.unitInterval(1, 0) == 0x1p-32)
    }

    @Test("valuesPerRandomBlock and dtypeName")
    func constants() {
        #expect(Float.valuesPerRandomBlock == 4 && Double.valuesPerRandomBlock == 2)
        #expect(Float.dtypeName == "f32" && Double.dtypeName == "f64")
    }

    @Test("gemm computes alpha·op(A)·op(B) + beta·C with leading dimensions, as a triple loop does")
    func gemmForwarding() {
        var random = TestRandom(seed: 21)
        let m = 5, n = 3, k = 4, lda = 7, ldb = 6, ldc = 5
        for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
            let a = (0..<(8 * lda)).map { _ in random.uniform(-1, 1) }, b = (0..<(8 * ldb)).map { _ in random.uniform(-1, 1) }
            let c0 = (0..<(m * ldc)).map { _ in random.uniform(-1, 1) }
            var c = c0
            a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                Double.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.5, a: pa.baseAddress!, lda: lda,
                            b: pb.baseAddress!, ldb: ldb, beta: -2, c: pc.baseAddress!, ldc: ldc)
            } } }
            for i in 0..<m {
                for j in 0..<n {
                    var total = 0.0
                    for p in 0..<k { total += (transposeA ? a[p * lda + i] : a[i * lda + p]) * (transposeB ? b[j * ldb + p] : b[p * ldb + j]) }
                    let expected = 0.5 * total - 2 * c0[i * ldc + j]
                    #expect(Swift.abs(c[i * ldc + j] - expected) <= 1e-14, "transposeA \(transposeA) transposeB \(transposeB) (\(i), \(j))")
                }
                for j in n..<ldc { #expect(c[i * ldc + j] == c0[i * ldc + j], "padding column \(j) must not be written") }
            }
        }
    }
}
