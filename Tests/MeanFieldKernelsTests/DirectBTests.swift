// Short products read a full-width, untransposed B panel in place (SwiftGemm.swift, "Short C"): the
// results must be bitwise those of the packed path, for every kernel, transpose and thread count.
import Testing
@testable import MeanFieldKernels

@Suite("B read in place")
struct DirectBTests {
    /// Shapes with at most 16 row panels (direct B) and full-width as well as ragged column panels.
    static let cases = [GemmCase(m: 49, n: 16, k: 49), GemmCase(m: 49, n: 64, k: 16, alpha: 0.25, beta: 1),
                        GemmCase(m: 17, n: 40, k: 300, alpha: 0.5, beta: -1.5, padding: 3),
                        GemmCase(m: 8, n: 32, k: 513, alpha: 2, beta: 0, padding: 1)].flatMap { $0.allTransposes() }

    func expectSameBits<Scalar: GemmScalar & Sendable>(_ kernel: MicroKernel<Scalar>, _: Scalar.Type) {
        for problem in Self.cases {
            let fixture = GemmFixture<Scalar>(problem, seed: 11)
            func run(direct: Bool, threads: Int) -> [Scalar] {
                runGemm(fixture) { a, b, c in
                    swiftGemm(transposeA: problem.transposeA, transposeB: problem.transposeB, m: problem.m, n: problem.n,
                              k: problem.k, alpha: Scalar(problem.alpha), a: a, lda: problem.lda, b: b, ldb: problem.ldb,
                              beta: Scalar(problem.beta), c: c, ldc: problem.ldc, kernel: kernel, threads: threads,
                              allowsDirectB: direct)
                }
            }
            let packed = run(direct: false, threads: 1)
            #expect(fixture.worstErrorRatio(packed) <= 1, "\(problem)")
            for threads in [1, 2] {
                let direct = run(direct: true, threads: threads)
                let sameBits = direct.withUnsafeBytes { d in packed.withUnsafeBytes { p in d.elementsEqual(p) } }
                #expect(sameBits, "\(kernel.level) \(kernel.columns) columns, \(problem), \(threads) threads")
            }
        }
    }

    @Test("in place equals packed, bitwise, at every level here")
    func directEqualsPacked() {
        for level in CPULevel.available {
            expectSameBits(Float.microKernel(for: level), Float.self)
            expectSameBits(Double.microKernel(for: level), Double.self)
            if let narrow = Float.narrowMicroKernel(for: level) { expectSameBits(narrow, Float.self) }
        }
    }
}
