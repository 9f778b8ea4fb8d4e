// Run-time choice of the GEMM micro-kernel from the CPU's instruction-set level.
// Design and reasons: docs/architecture.md, "Kernels and CPU dispatch".
import CMeanFieldSupport

/// An instruction-set level for which MeanFieldKernels has a micro-kernel. Ordered: a CPU that
/// supports a level supports every lower one.
public enum CPULevel: Int, Comparable, CaseIterable, Sendable, CustomStringConvertible {
    /// Whatever the compiler targets by default (SSE2 on x86-64, NEON on arm64).
    case portable = 0
    /// x86-64-v3: AVX2 + FMA.
    case avx2 = 1
    /// x86-64-v4: AVX-512 (F, BW, DQ, VL).
    case avx512 = 2

    public static func < (lhs: CPULevel, rhs: CPULevel) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .portable: return "portable"
        case .avx2: return "avx2"
        case .avx512: return "avx512"
        }
    }

    /// Parses "portable", "avx2" or "avx512" (case-insensitive).
    public init?(name: String) {
        guard let level = CPULevel.allCases.first(where: { $0.description == name.lowercased() }) else { return nil }
        self = level
    }

    /// Whether this binary contains a kernel for the level (AVX2/AVX-512 kernels exist on x86-64 only).
    public var isCompiledIn: Bool {
        switch self {
        case .portable: return true
        case .avx2:
            #if canImport(MeanFieldKernelsAVX2)
            return true
            #else
            return false
            #endif
        case .avx512:
            #if canImport(MeanFieldKernelsAVX512)
            return true
            #else
            return false
            #endif
        }
    }

    /// The highest level that both this CPU (CPUID, OS register support) and this binary support.
    public static let hostMaximum: CPULevel = {
        let detected = CPULevel(rawValue: Int(mf_cpu_max_level())) ?? .portable
        return CPULevel.allCases.filter { $0 <= detected && $0.isCompiledIn }.max() ?? .portable
    }()

    /// The levels that can run on this machine, lowest first (tests run every one of them).
    public static var available: [CPULevel] { allCases.filter { $0 <= hostMaximum } }

    /// The level the Swift GEMM uses: `hostMaximum`, lowered by env `MEANFIELD_CPU_LEVEL`
    /// (portable|avx2|avx512) when set. A level above the host's is ignored (it would crash).
    public static let active: CPULevel = {
        guard let name = environmentValue("MEANFIELD_CPU_LEVEL"), let requested = CPULevel(name: name) else {
            return hostMaximum
        }
        return min(requested, hostMaximum)
    }()
}
