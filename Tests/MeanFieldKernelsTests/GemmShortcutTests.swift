// The GEMM driver's shortcuts (SwiftGemm.swift): short products read full-width untransposed B panels
// in place, and the ragged last row and column panels run the kernel's edge function (in place, A
// unpacked, partial stores), a last column panel at most half a tile wide runs with the one before it
// as one wide tile, products at most half a tile wide with A transposed run two rows per vector, and
// 65-column products run a few full-width rows at a time. The results must be bitwise those of the plain packed path, padding
// included, for every kernel, transpose and thread count.
import Testing
@testable import MeanFieldKernels

@Suite("GEMM driver shortcuts")
struct GemmShortcutTests {
    /// Shapes with at most 16 row panels (direct B), full-width and ragged column panels, ragged rows
    /// of every height 1…7 (m mod 8; m mod 6 for the 6-row tiles), and more rows than direct B allows.
    static let cases = [GemmCase(m: 49, n: 16, k: 49), GemmCase(m: 49, n: 64, k: 16, alpha: 0.25, beta: 1),
                        GemmCase(m: 17, n: 40, k: 270, alpha: 0.5, beta: -1.5, padding: 3),
                        GemmCase(m: 8, n: 32, k: 260, alpha: 2, beta: 0, padding: 1),
                        GemmCase(m: 7, n: 16, k: 20), GemmCase(m: 3, n: 33, k: 9, beta: 1),
                        GemmCase(m: 50, n: 16, k: 7), GemmCase(m: 12, n: 8, k: 3, beta: 2),
                        GemmCase(m: 13, n: 16, k: 5, nanInC: true),
                        GemmCase(m: 142, n: 16, k: 30, alpha: 1.5, beta: 0.5),
                        // The regression-size attention products: ragged column panels of 6 and 21.
                        GemmCase(m: 21, n: 6, k: 336, beta: 1, padding: 2), GemmCase(m: 336, n: 21, k: 6),
                        GemmCase(m: 21, n: 6, k: 21, nanInC: true),
                        // Last column panel at most half a tile wide (the wide edge tile: 65 = 32 + 33 on the
                        // 8×32 Float tile, 40 = 16 + 24 on the 8×16 Double one), also threaded: the last panel
                        // alone in its task (8×65×1100), and in the deep-product path (8×97×700).
                        GemmCase(m: 65, n: 65, k: 16, alpha: 0.25), GemmCase(m: 17, n: 40, k: 9, beta: 1, padding: 1),
                        GemmCase(m: 16, n: 48, k: 5, nanInC: true), GemmCase(m: 9, n: 24, k: 3, alpha: 1.5, beta: -0.5),
                        GemmCase(m: 8, n: 65, k: 1100, beta: 1), GemmCase(m: 8, n: 97, k: 700),
                        // At most 8 columns with A transposed: two rows per vector on the AVX-512 narrow tile
                        // (the regression-size dV_b = A_bᵀ·G_b, 336×6 from 21; weight gradients over many
                        // rows, threaded and over three depth blocks: 128×6 from 700), with ragged rows after
                        // the paired tiles (37 = 32 + 5), one column, NaN in C, and one tile (the usual path:
                        // packing would not pay).
                        GemmCase(m: 336, n: 6, k: 21), GemmCase(m: 128, n: 6, k: 700, beta: 1, padding: 1),
                        GemmCase(m: 37, n: 8, k: 5, alpha: 0.5, beta: -1, padding: 2), GemmCase(m: 32, n: 1, k: 3, nanInC: true),
                        GemmCase(m: 21, n: 6, k: 336),
                        GemmCase(m: 48, n: 7, k: 300, alpha: 2),
                        // Full-width rows (AVX-512 Float 65…80 columns, Double 65…72; the ViT's scores 65×65 from
                        // 16 above): row counts 1–3 mod 4, a full last vector (Float 80, Double 72),
                        // exactly one depth block (256), one more (257: the usual path), and 2 threads on a
                        // product big enough to be threaded (the usual path) and on one that is not.
                        GemmCase(m: 70, n: 80, k: 30, alpha: 0.5, beta: -1, padding: 2), GemmCase(m: 3, n: 66, k: 9, beta: 1),
                        GemmCase(m: 66, n: 72, k: 256, nanInC: true), GemmCase(m: 9, n: 65, k: 257, beta: 1, padding: 1),
                        GemmCase(m: 1, n: 79, k: 4, alpha: -2)].flatMap { $0.allTransposes() }

    func expectSameBits<Scalar: GemmScalar & Sendable>(_ kernel: MicroKernel<Scalar>, _: Scalar.Type) {
        for problem in Self.cases {
            let fixture = GemmFixture<Scalar>(problem, seed: 11)
            func run(_ shortcuts: GemmShortcuts, threads: Int) -> [Scalar] {
                runGemm(fixture) { a, b, c in
                    swiftGemm(transposeA: problem.transposeA, transposeB: problem.transposeB, m: problem.m, n: problem.n,
                              k: problem.k, alpha: Scalar(problem.alpha), a: a, lda: problem.lda, b: b, ldb: problem.ldb,
                              beta: Scalar(problem.beta), c: c, ldc: problem.ldc, kernel: kernel, threads: threads,
                              shortcuts: shortcuts)
                }
            }
            let packed = run([], threads: 1)
            #expect(fixture.worstErrorRatio(packed) <= 1, "\(problem)")
            for shortcuts: GemmShortcuts in [.directB, .edgeRows, .edgeColumns, .wideEdgeColumns, .rowPairs, .fullWidthRows, .all] {
                for threads in [1, 2] {
                    let result = run(shortcuts, threads: threads)
                    let sameBits = result.withUnsafeBytes { r in packed.withUnsafeBytes { p in r.elementsEqual(p) } }
                    #expect(sameBits, "\(shortcuts) \(kernel.level) \(kernel.columns) columns, \(problem), \(threads) threads")
                }
            }
        }
    }

    /// The full-width path called directly (the driver might route a shape elsewhere): bitwise the
    /// packed path for every transpose, where the kernel has a full-width function.
    @Test("full-width rows equal the packed path, bitwise")
    func fullWidthRowsEqualPackedPath() {
        for level in CPULevel.available {
            expectFullWidthSameBits(Float.microKernel(for: level), Float.self)
            expectFullWidthSameBits(Double.microKernel(for: level), Double.self)
        }
    }

    func expectFullWidthSameBits<Scalar: GemmScalar & Sendable>(_ kernel: MicroKernel<Scalar>, _: Scalar.Type) {
        guard let fullWidth = kernel.fullWidth else { return }
        let widths = fullWidth.columns
        // Every row count mod 4 (Float's 4-row and Double's 2-row tiles), the narrowest and widest
        // widths, one depth block exactly, NaN in C.
        for problem in [GemmCase(m: 65, n: 65, k: 16, alpha: 0.25), GemmCase(m: 8, n: 67, k: 12, beta: 0.5), GemmCase(m: 70, n: widths.upperBound, k: 30, alpha: 0.5, beta: -1, padding: 2),
                        GemmCase(m: 7, n: 71, k: 256, beta: 1), GemmCase(m: 2, n: 66, k: 1, nanInC: true),
                        GemmCase(m: 1, n: 65, k: 5, alpha: -2, padding: 1)].flatMap({ $0.allTransposes() }) {
            #expect(widths.contains(problem.n))
            let fixture = GemmFixture<Scalar>(problem, seed: 5)
            let packed = runGemm(fixture) { a, b, c in
                swiftGemm(transposeA: problem.transposeA, transposeB: problem.transposeB, m: problem.m, n: problem.n, k: problem.k,
                          alpha: Scalar(problem.alpha), a: a, lda: problem.lda, b: b, ldb: problem.ldb, beta: Scalar(problem.beta),
                          c: c, ldc: problem.ldc, kernel: kernel, threads: 1, shortcuts: [])
            }
            let direct = runGemm(fixture) { a, b, c in
                fullWidthProduct(fullWidth, transposeA: problem.transposeA,
                                 transposeB: problem.transposeB, m: problem.m, n: problem.n, k: problem.k,
                                 alpha: Scalar(problem.alpha), a: a, lda: problem.lda, b: b, ldb: problem.ldb,
                                 beta: Scalar(problem.beta), c: c, ldc: problem.ldc)
            }
            #expect(fixture.worstErrorRatio(direct) <= 1, "\(problem)")
            let sameBits = direct.withUnsafeBytes { d in packed.withUnsafeBytes { p in d.elementsEqual(p) } }
            #expect(sameBits, "\(kernel.level) \(Scalar.self) \(problem)")
        }
    }

    @Test("shortcuts equal the packed path, bitwise, at every level here")
    func shortcutsEqualPackedPath() {
        for level in CPULevel.available {
            expectSameBits(Float.microKernel(for: level), Float.self)
            expectSameBits(Double.microKernel(for: level), Double.self)
            if let narrow = Float.narrowMicroKernel(for: level) { expectSameBits(narrow, Float.self) }
        }
    }
}
