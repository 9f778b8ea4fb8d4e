// OpenBLAS loaded at run time with dlopen: the package never links it, so it builds and runs where
// OpenBLAS is absent (the Swift GEMM is used then).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The OpenBLAS library found at run time, and the few entry points MeanField uses.
final class OpenBLAS: @unchecked Sendable {
    // cblas_?gemm(order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc), 32-bit blasint.
    typealias SgemmFunction = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float,
        UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias DgemmFunction = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Double,
        UnsafePointer<Double>?, Int32, UnsafePointer<Double>?, Int32, Double, UnsafeMutablePointer<Double>?, Int32) -> Void
    typealias SetThreadsFunction = @convention(c) (Int32) -> Void
    typealias CoreNameFunction = @convention(c) () -> UnsafeMutablePointer<CChar>?

    static let rowMajor: Int32 = 101, noTranspose: Int32 = 111, transpose: Int32 = 112

    /// Where we look, in order. `MEANFIELD_OPENBLAS_PATH` (a full path) comes first when set.
    static let candidatePaths = [
        "libopenblas.so.0", "libopenblas.so",
        "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
        "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
        "/opt/homebrew/opt/openblas/lib/libopenblas.dylib", "/usr/local/opt/openblas/lib/libopenblas.dylib",
        "libopenblas.dylib",
    ]

    let path: String
    let sgemm: SgemmFunction
    let dgemm: DgemmFunction
    private let setThreads: SetThreadsFunction?
    /// `openblas_get_corename()`, e.g. "Haswell", "SkylakeX", "Zen"; "unknown" if not exported.
    let coreName: String

    private static let loadAttempted = LockedValue(false)

    /// The library, loaded on first use; nil when no OpenBLAS with cblas_sgemm/cblas_dgemm is found.
    static let library: OpenBLAS? = {
        loadAttempted.value = true
        // OpenBLAS's idle threads spin ~0.1 s after each call (2^28 cycles) and steal a core from our
        // own pool; ask for ~2^20 cycles (≈ 0.3 ms) unless the user chose. OPENBLAS_CORETYPE is left
        // as the environment has it (reported, with a warning if below the CPU, by `coreWarning`).
        if getenv("OPENBLAS_THREAD_TIMEOUT") == nil { setenv("OPENBLAS_THREAD_TIMEOUT", "20", 0) }
        var paths = candidatePaths
        if let custom = environmentValue("MEANFIELD_OPENBLAS_PATH") { paths.insert(custom, at: 0) }
        for path in paths {
            guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else { continue }
            if let library = OpenBLAS(handle: handle, path: path) {
                library.setThreadCount(Threading.threadCount)
                return library
            }
            dlclose(handle)
        }
        return nil
    }()

    /// Whether `library` has been looked up yet (so that setting the thread count does not load it).
    static var isLoaded: Bool { loadAttempted.value }

    private init?(handle: UnsafeMutableRawPointer, path: String) {
        func symbol<T>(_ name: String, as type: T.Type) -> T? {
            guard let address = dlsym(handle, name) else { return nil }
            return unsafeBitCast(address, to: type)
        }
        guard let sgemm = symbol("cblas_sgemm", as: SgemmFunction.self),
              let dgemm = symbol("cblas_dgemm", as: DgemmFunction.self) else { return nil }
        self.path = path
        self.sgemm = sgemm
        self.dgemm = dgemm
        setThreads = symbol("openblas_set_num_threads", as: SetThreadsFunction.self)
        if let coreNameFunction = symbol("openblas_get_corename", as: CoreNameFunction.self),
           let name = coreNameFunction() {
            coreName = String(cString: name).trimmingCharactersInWhitespace()
        } else {
            coreName = "unknown"
        }
    }

    /// Sets OpenBLAS's own thread count.
    func setThreadCount(_ count: Int) { setThreads?(Int32(count)) }

    /// The instruction-set level of the OpenBLAS core (by name), nil when the name is not known.
    var coreLevel: CPULevel? {
        let name = coreName.lowercased()
        if ["skylakex", "cooperlake", "sapphirerapids", "zen4", "zen5"].contains(where: name.contains) { return .avx512 }
        if ["haswell", "zen", "excavator", "skylake", "alderlake", "atomc"].contains(where: name.contains) { return .avx2 }
        if ["sandybridge", "nehalem", "core2", "prescott", "barcelona", "bulldozer", "piledriver",
            "steamroller", "atom", "penryn", "dunnington", "opteron", "katmai", "coppermine"].contains(where: name.contains) {
            return .portable
        }
        return nil
    }

    /// A warning when the OpenBLAS core uses fewer vector instructions than the CPU has, else nil.
    var coreWarning: String? {
        guard let coreLevel, coreLevel < CPULevel.hostMaximum else { return nil }
        let setting = environmentValue("OPENBLAS_CORETYPE").map { " (OPENBLAS_CORETYPE=\($0))" } ?? ""
        return "warning: OpenBLAS core \(coreName)\(setting) uses \(coreLevel) kernels but this CPU supports "
            + "\(CPULevel.hostMaximum); unset OPENBLAS_CORETYPE or set it to a matching core (e.g. "
            + (CPULevel.hostMaximum == .avx512 ? "SkylakeX" : "Haswell") + ")"
    }
}
