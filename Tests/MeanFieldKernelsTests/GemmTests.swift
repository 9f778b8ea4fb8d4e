// GEMM against a naive Double triple loop: every CPU level of the Swift kernel, and OpenBLAS.
import Testing
import MeanFieldKernels

@Suite("GEMM correctness")
struct GemmTests {
    @Test("Swift kernel, Float, every CPU level available here", arguments: CPULevel.available)
    func swiftFloat(level: CPULevel) {
        for fixture in floatFixtures {
            let problem = fixture.problem
            let result = runGemm(fixture) { a, b, c in
                Gemm.gemm(level: level, transposeA: problem.transposeA, transposeB: problem.transposeB,
                          m: problem.m, n: problem.n, k: problem.k, alpha: Float(problem.alpha), a: a, lda: problem.lda,
                          b: b, ldb: problem.ldb, beta: Float(problem.beta), c: c, ldc: problem.ldc)
            }
            let ratio = fixture.worstErrorRatio(result)
            #expect(ratio <= 1, "level \(level), \(problem): error \(ratio) × tolerance")
        }
    }

    @Test("Swift kernel, Double, every CPU level available here", arguments: CPULevel.available)
    func swiftDouble(level: CPULevel) {
        for fixture in doubleFixtures {
            let problem = fixture.problem
            let result = runGemm(fixture) { a, b, c in
                Gemm.gemm(level: level, transposeA: problem.transposeA, transposeB: problem.transposeB,
                          m: problem.m, n: problem.n, k: problem.k, alpha: problem.alpha, a: a, lda: problem.lda,
                          b: b, ldb: problem.ldb, beta: problem.beta, c: c, ldc: problem.ldc)
            }
            let ratio = fixture.worstErrorRatio(result)
            #expect(ratio <= 1, "level \(level), \(problem): error \(ratio) × tolerance")
        }
    }

    @Test("AVX-512 kernel runs when the CPU has AVX-512",
          .enabled(if: CPULevel.hostMaximum == .avx512,
                   "skipped: this CPU has no AVX-512 (or this build has no AVX-512 kernel); the AVX-512 kernel is untested here"))
    func avx512IsAvailable() {
        #expect(CPULevel.available.contains(.avx512))
    }

    @Test("Public entry point with each backend", arguments: [GemmBackend.swift, .blas, .auto])
    func publicEntryPoint(backend: GemmBackend) throws {
        if backend == .blas && !Gemm.isBLASAvailable {
            print("GemmTests: OpenBLAS not found (libopenblas.so.0): the blas backend falls back to swift")
        }
        for (floatFixture, doubleFixture) in zip(floatFixtures, doubleFixtures) {
            let problem = floatFixture.problem
            let floatResult = runGemm(floatFixture) { a, b, c in
                Gemm.gemm(transposeA: problem.transposeA, transposeB: problem.transposeB, m: problem.m, n: problem.n,
                          k: problem.k, alpha: Float(problem.alpha), a: a, lda: problem.lda, b: b, ldb: problem.ldb,
                          beta: Float(problem.beta), c: c, ldc: problem.ldc, backend: backend)
            }
            let floatRatio = floatFixture.worstErrorRatio(floatResult)
            #expect(floatRatio <= 1, "Float \(backend), \(problem): error \(floatRatio) × tolerance")
            let doubleResult = runGemm(doubleFixture) { a, b, c in
                Gemm.gemm(transposeA: problem.transposeA, transposeB: problem.transposeB, m: problem.m, n: problem.n,
                          k: problem.k, alpha: problem.alpha, a: a, lda: problem.lda, b: b, ldb: problem.ldb,
                          beta: problem.beta, c: c, ldc: problem.ldc, backend: backend)
            }
            let doubleRatio = doubleFixture.worstErrorRatio(doubleResult)
            #expect(doubleRatio <= 1, "Double \(backend), \(problem): error \(doubleRatio) × tolerance")
        }
    }

    @Test("OpenBLAS backend is found and reports its core",
          .enabled(if: Gemm.isBLASAvailable, "skipped: OpenBLAS not found (apt install libopenblas0-pthread)"))
    func blasDescription() {
        let description = Gemm.backendDescription()
        #expect(description.contains("OpenBLAS: "), "\(description)")
        #expect(Gemm.resolvedBackend(.blas, m: 4, n: 4, k: 4) == .blas)
    }

    @Test("Without OpenBLAS, blas and auto fall back to swift")
    func fallbackWhenBLASMissing() {
        if !Gemm.isBLASAvailable {
            #expect(Gemm.resolvedBackend(.blas, m: 1024, n: 1024, k: 1024) == .swift)
            #expect(Gemm.resolvedBackend(.auto, m: 1024, n: 1024, k: 1024) == .swift)
        }
        #expect(Gemm.resolvedBackend(.swift, m: 1024, n: 1024, k: 1024) == .swift)
        #expect(Gemm.backendDescription().contains("swift kernel: \(CPULevel.active)"))
    }
}

@Suite("GEMM reproducibility")
struct GemmReproducibilityTests {
    /// Bitwise-equal results on 1 and 2 threads, on shapes that are threaded (above the threshold)
    /// and ragged in every dimension. The last three are deep products with A read in place, which on
    /// 2 threads split their column panels and pack B per thread through every depth block (the
    /// weight-gradient path of SwiftGemm.swift) while 1 thread runs the shared-B loop.
    @Test("Same bits on 1 and 2 threads", arguments: CPULevel.available)
    func threadCountIndependence(level: CPULevel) {
        let problems = [
            GemmCase(m: 257, n: 300, k: 513, alpha: 0.75, beta: 0.5, padding: 2),
            GemmCase(m: 1001, n: 64, k: 64),
            GemmCase(m: 5, n: 2000, k: 129, transposeA: true, transposeB: true),
            GemmCase(m: 256, n: 64, k: 2000, transposeA: true, beta: 0.5),
            GemmCase(m: 192, n: 64, k: 1500, alpha: 0.75),
            GemmCase(m: 37, n: 250, k: 600, transposeA: true, transposeB: true, beta: 0.5, padding: 1),
        ]
        for problem in problems {
            let fixture = GemmFixture<Float>(problem)
            func run(threads: Int) -> [Float] {
                runGemm(fixture) { a, b, c in
                    Gemm.gemm(level: level, threads: threads, transposeA: problem.transposeA,
                              transposeB: problem.transposeB, m: problem.m, n: problem.n, k: problem.k,
                              alpha: Float(problem.alpha), a: a, lda: problem.lda, b: b, ldb: problem.ldb,
                              beta: Float(problem.beta), c: c, ldc: problem.ldc)
                }
            }
            let serial = run(threads: 1), threaded = run(threads: 2)
            #expect(serial.map(\.bitPattern) == threaded.map(\.bitPattern), "level \(level), \(problem)")
            #expect(fixture.worstErrorRatio(serial) <= 1, "level \(level), \(problem)")
        }
    }
}
