// The narrow 16×16 AVX-512 Float tile (products at most 16 columns wide) must give the same bits as
// the 8×32 tile it replaces: each element of C sums the same terms in the same order.
import Testing
@testable import MeanFieldKernels

@Suite("Narrow Float tile")
struct NarrowTileTests {
    @Test("16×16 tile equals the 8×32 tile bitwise (n ≤ 16)",
          .enabled(if: CPULevel.hostMaximum == .avx512, "skipped: no AVX-512 here, so there is no narrow tile"))
    func narrowEqualsWide() throws {
        let narrow = try #require(Float.narrowMicroKernel(for: .avx512))
        let wide = Float.microKernel(for: .avx512)
        #expect(narrow.columns == 16 && wide.columns == 32 && narrow.depthBlock == wide.depthBlock)
        let cases = [GemmCase(m: 49, n: 16, k: 49), GemmCase(m: 65, n: 16, k: 300, alpha: 0.5, beta: -1.5, padding: 3),
                     GemmCase(m: 9, n: 5, k: 513, alpha: 2, beta: 1, padding: 1)].flatMap { $0.allTransposes() }
        for problem in cases {
            let fixture = GemmFixture<Float>(problem, seed: 7)
            func run(_ kernel: MicroKernel<Float>, threads: Int) -> [Float] {
                runGemm(fixture) { a, b, c in
                    swiftGemm(transposeA: problem.transposeA, transposeB: problem.transposeB, m: problem.m, n: problem.n,
                              k: problem.k, alpha: Float(problem.alpha), a: a, lda: problem.lda, b: b, ldb: problem.ldb,
                              beta: Float(problem.beta), c: c, ldc: problem.ldc, kernel: kernel, threads: threads)
                }
            }
            let reference = run(wide, threads: 1)
            for threads in [1, 2] {
                #expect(run(narrow, threads: threads).map(\.bitPattern) == reference.map(\.bitPattern), "\(problem), \(threads) threads")
            }
            #expect(fixture.worstErrorRatio(reference) <= 1, "\(problem)")
        }
    }
}
