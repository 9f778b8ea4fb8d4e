// The 8-row micro-kernel body (the AVX-512 tiles) checked on any CPU through a portable SIMD4/SIMD2
// instantiation, since the AVX-512 kernel itself can only run on an AVX-512 machine.
import Testing
@testable import MeanFieldKernels

@Suite("8-row micro-kernel body")
struct EightRowKernelTests {
    @Test("Float 8×8 and Double 8×4 tiles through the GEMM driver")
    func eightRowBody() {
        let floatKernel = MicroKernel<Float>(level: .portable, rows: 8, columns: 8, depthBlock: 64, rowBlock: 32,
                                             columnBlock: 64, function: PortableKernels.floatEightRowMicroKernel,
                                             edgeFunction: PortableKernels.floatEdgeRows)
        let doubleKernel = MicroKernel<Double>(level: .portable, rows: 8, columns: 4, depthBlock: 64, rowBlock: 32,
                                               columnBlock: 64, function: PortableKernels.doubleEightRowMicroKernel,
                                               edgeFunction: PortableKernels.doubleEdgeRows)
        for threads in [1, 2] {
            for (floatFixture, doubleFixture) in zip(floatFixtures, doubleFixtures) {
                let problem = floatFixture.problem
                let floatResult = runGemm(floatFixture) { a, b, c in
                    swiftGemm(transposeA: problem.transposeA, transposeB: problem.transposeB, m: problem.m,
                              n: problem.n, k: problem.k, alpha: Float(problem.alpha), a: a, lda: problem.lda, b: b,
                              ldb: problem.ldb, beta: Float(problem.beta), c: c, ldc: problem.ldc,
                              kernel: floatKernel, threads: threads)
                }
                let floatRatio = floatFixture.worstErrorRatio(floatResult)
                #expect(floatRatio <= 1, "Float, \(threads) threads, \(problem): error \(floatRatio) × tolerance")
                let doubleResult = runGemm(doubleFixture) { a, b, c in
                    swiftGemm(transposeA: problem.transposeA, transposeB: problem.transposeB, m: problem.m,
                              n: problem.n, k: problem.k, alpha: problem.alpha, a: a, lda: problem.lda, b: b,
                              ldb: problem.ldb, beta: problem.beta, c: c, ldc: problem.ldc,
                              kernel: doubleKernel, threads: threads)
                }
                let doubleRatio = doubleFixture.worstErrorRatio(doubleResult)
                #expect(doubleRatio <= 1, "Double, \(threads) threads, \(problem): error \(doubleRatio) × tolerance")
            }
        }
    }
}
