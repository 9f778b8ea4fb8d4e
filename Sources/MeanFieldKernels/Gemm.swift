// Public GEMM entry point: backend choice (Swift kernel or OpenBLAS) and argument checking.

/// Which implementation runs a GEMM.
public enum GemmBackend: String, CaseIterable, Sendable {
    /// Per shape, whichever of `swift` and `blas` measured faster (see `Gemm.preferredBackend`).
    case auto
    /// The built-in packed, cache-blocked SIMD kernel (always available).
    case swift
    /// OpenBLAS loaded at run time (falls back to `swift` when OpenBLAS is not installed).
    case blas
}

/// General matrix multiplication on row-major matrices, C = alpha·op(A)·op(B) + beta·C.
public enum Gemm {
    private static let backendStorage = LockedValue<GemmBackend>(
        environmentValue("MEANFIELD_GEMM").flatMap { GemmBackend(rawValue: $0.lowercased()) } ?? .auto)

    /// Process-wide backend choice; initialised from env `MEANFIELD_GEMM` (auto|swift|blas), default auto.
    public static var backend: GemmBackend {
        get { backendStorage.value }
        set { backendStorage.value = newValue }
    }

    /// Whether OpenBLAS was found (loads it on first call).
    public static var isBLASAvailable: Bool { OpenBLAS.library != nil }

    /// The backend that actually runs an m×n×k product under `requested`: `blas` without OpenBLAS
    /// becomes `swift`; `auto` applies the rule measured in benchmarks/RESULTS.md: OpenBLAS for
    /// large, square-ish products when its core is at least as wide as our kernel's CPU level, the
    /// Swift kernel otherwise (small and skinny products, where its lower per-call cost wins, and any
    /// product inside a `Threading.parallelFor` body, e.g. one head of a batched attention product).
    public static func resolvedBackend(_ requested: GemmBackend, m: Int, n: Int, k: Int) -> GemmBackend {
        switch requested {
        case .swift: return .swift
        case .blas: return isBLASAvailable ? .blas : .swift
        case .auto:
            // Inside a parallel loop each product runs on one thread; OpenBLAS would start its own.
            guard !Threading.isInsideParallelLoop, let library = OpenBLAS.library else { return .swift }
            let coreIsAsWide = (library.coreLevel ?? .portable) >= CPULevel.active
            let smallest = min(m, n, k)
            return coreIsAsWide && smallest >= AutoRule.minimumBLASDimension ? .blas : .swift
        }
    }

    /// The measured crossover used by `auto` (benchmarks/RESULTS.md).
    enum AutoRule {
        /// OpenBLAS is chosen only when m, n and k are all at least this.
        static let minimumBLASDimension = 512
    }

    /// Row-major C[m×n] = alpha·op(A)·op(B) + beta·C, op(X) = Xᵀ when transposeX. lda/ldb/ldc are
    /// the row strides of the stored matrices (as in cblas row-major): A is stored m×k (k×m when
    /// transposed), B k×n (n×k when transposed). beta == 0 never reads C (NaNs in C are ignored).
    /// Results do not depend on the thread count (Swift backend: bitwise).
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, backend: GemmBackend? = nil
    ) {
        let profileStart = GemmProfile.isRecording ? GemmProfile.now() : nil
        defer { if let profileStart { GemmProfile.record(.init(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, scalarBytes: 4, insideParallelLoop: Threading.isInsideParallelLoop), since: profileStart) } }
        checkArguments(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
        if m == 0 || n == 0 { return }
        if resolvedBackend(backend ?? self.backend, m: m, n: n, k: k) == .blas, let library = OpenBLAS.library,
           k > 0, fitsInBLASInt(m, n, k, lda, ldb, ldc) {
            library.sgemm(OpenBLAS.rowMajor, transposeA ? OpenBLAS.transpose : OpenBLAS.noTranspose,
                          transposeB ? OpenBLAS.transpose : OpenBLAS.noTranspose, Int32(m), Int32(n), Int32(k),
                          alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
            return
        }
        gemm(level: CPULevel.active, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
             alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }

    /// Double-precision version of `gemm` (same arguments and guarantees).
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int, backend: GemmBackend? = nil
    ) {
        let profileStart = GemmProfile.isRecording ? GemmProfile.now() : nil
        defer { if let profileStart { GemmProfile.record(.init(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, scalarBytes: 8, insideParallelLoop: Threading.isInsideParallelLoop), since: profileStart) } }
        checkArguments(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
        if m == 0 || n == 0 { return }
        if resolvedBackend(backend ?? self.backend, m: m, n: n, k: k) == .blas, let library = OpenBLAS.library,
           k > 0, fitsInBLASInt(m, n, k, lda, ldb, ldc) {
            library.dgemm(OpenBLAS.rowMajor, transposeA ? OpenBLAS.transpose : OpenBLAS.noTranspose,
                          transposeB ? OpenBLAS.transpose : OpenBLAS.noTranspose, Int32(m), Int32(n), Int32(k),
                          alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
            return
        }
        gemm(level: CPULevel.active, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
             alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }

    /// The Swift kernel at a chosen CPU level (tests and benchmarks use it to check every level this
    /// machine can run). `level` must be in `CPULevel.available`; `threads` defaults to
    /// `Threading.threadCount` (extra threads beyond the pool's size are not created).
    public static func gemm(
        level: CPULevel, threads: Int? = nil, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        precondition(level <= CPULevel.hostMaximum, "Gemm: CPU level \(level) is not available on this machine")
        checkArguments(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
        // Narrow products (n ≤ 16, e.g. the per-head attention products) on the narrow tile where
        // the level has one: the same sums, without the wide tile's idle columns.
        let narrow = n <= Float.narrowColumnLimit ? Float.narrowMicroKernel(for: level) : nil
        swiftGemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                  b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, kernel: narrow ?? Float.microKernel(for: level),
                  threads: min(threads ?? Threading.threadCount, Threading.threadCount))
    }

    /// Double-precision version of `gemm(level:…)`.
    public static func gemm(
        level: CPULevel, threads: Int? = nil, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        precondition(level <= CPULevel.hostMaximum, "Gemm: CPU level \(level) is not available on this machine")
        checkArguments(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
        swiftGemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                  b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, kernel: Double.microKernel(for: level),
                  threads: min(threads ?? Threading.threadCount, Threading.threadCount))
    }

    /// One line: the backend that runs, the CPU level of the Swift kernel, and OpenBLAS's core
    /// (with a warning when it is below the CPU) or "OpenBLAS not found".
    public static func backendDescription() -> String {
        let kernel = Float.microKernel(for: CPULevel.active)
        var parts = ["gemm backend: \(backend.rawValue)",
                     "swift kernel: \(CPULevel.active) (\(kernel.rows)×\(kernel.columns) Float tile; CPU max \(CPULevel.hostMaximum))",
                     "threads: \(Threading.threadCount)"]
        if let library = OpenBLAS.library {
            parts.append("OpenBLAS: \(library.path), core \(library.coreName)")
            if let warning = library.coreWarning { parts.append(warning) }
        } else {
            parts.append("OpenBLAS not found")
        }
        return parts.joined(separator: "; ")
    }

    private static func checkArguments(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                                       lda: Int, ldb: Int, ldc: Int) {
        precondition(m >= 0 && n >= 0 && k >= 0, "Gemm: negative size m=\(m) n=\(n) k=\(k)")
        precondition(lda >= max(1, transposeA ? m : k), "Gemm: lda=\(lda) is less than the width of A")
        precondition(ldb >= max(1, transposeB ? k : n), "Gemm: ldb=\(ldb) is less than the width of B")
        precondition(ldc >= max(1, n), "Gemm: ldc=\(ldc) is less than n=\(n)")
    }

    private static func fitsInBLASInt(_ values: Int...) -> Bool { values.allSatisfy { $0 <= Int(Int32.max) } }
}
