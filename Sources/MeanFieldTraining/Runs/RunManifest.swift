import Foundation
import MeanFieldModels
import MeanFieldKernels
import MeanFieldProvenance

/// What a run records about where and how it ran (reproducibility): `manifest.json`
/// (docs/run-format.md). `runFormat` is the run-folder format version the run was written in
/// (``RunFormat/version``; nil in format-1 folders, which had no such key).
public struct RunManifest: Codable, Sendable, Equatable {
    public var runFormat: Int?
    public var command: [String]
    public var seed: UInt64
    public var threads: Int
    public var scalarType: String
    public var meanfieldVersion: String
    public var swiftVersion: String
    /// The commit the binary was built from (``BuildProvenance/commit``), never the current
    /// directory's; "unknown" for a binary built outside a git checkout.
    public var gitCommit: String
    /// Whether the built tree had local changes (``BuildProvenance/treeModified``); nil when unknown
    /// (no commit, or a manifest written before this was recorded: there `git_commit` may end in
    /// "-dirty").
    public var sourceTreeModified: Bool?
    public var gemmBackend: String
    public var cpu: String
    public var operatingSystem: String
    public var startedAt: String
    /// How the session was spread over an MPI job (``DistributedMode``: "data") and over how many
    /// processes; nil for a session in one process.
    public var distributed: String? = nil
    public var ranks: Int? = nil

    enum CodingKeys: String, CodingKey {
        case runFormat = "run_format", command, seed, threads, scalarType = "scalar_type", meanfieldVersion = "meanfield_version"
        case swiftVersion = "swift_version", gitCommit = "git_commit", sourceTreeModified = "source_tree_modified", gemmBackend = "gemm_backend", cpu
        case operatingSystem = "operating_system", startedAt = "started_at", distributed, ranks
    }

    /// Collects the environment facts for a run started now.
    public static func current(seed: UInt64, scalarType: String) -> RunManifest {
        RunManifest(
            runFormat: RunFormat.version, command: CommandLine.arguments, seed: seed, threads: Threading.threadCount, scalarType: scalarType,
            meanfieldVersion: MeanFieldVersion.current, swiftVersion: MeanFieldVersion.swiftCompiler,
            gitCommit: BuildProvenance.commit, sourceTreeModified: BuildProvenance.treeModified, gemmBackend: Gemm.backendDescription(),
            cpu: MeanFieldVersion.cpuModel(), operatingSystem: ProcessInfo.processInfo.operatingSystemVersionString,
            startedAt: ISO8601DateFormatter().string(from: Date()))
    }
}

extension RunManifest {
    /// Lenient: a fact an older build did not record reads as "unknown" (0 for numbers).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func text(_ key: CodingKeys) -> String { ((try? c.decodeIfPresent(String.self, forKey: key)) ?? nil) ?? "unknown" }
        self.init(runFormat: try c.decodeIfPresent(Int.self, forKey: .runFormat),
                  command: ((try? c.decodeIfPresent([String].self, forKey: .command)) ?? nil) ?? [],
                  seed: ((try? c.decodeIfPresent(UInt64.self, forKey: .seed)) ?? nil) ?? 0,
                  threads: ((try? c.decodeIfPresent(Int.self, forKey: .threads)) ?? nil) ?? 0,
                  scalarType: text(.scalarType), meanfieldVersion: text(.meanfieldVersion), swiftVersion: text(.swiftVersion),
                  gitCommit: text(.gitCommit),
                  sourceTreeModified: (try? c.decodeIfPresent(Bool.self, forKey: .sourceTreeModified)) ?? nil, gemmBackend: text(.gemmBackend), cpu: text(.cpu),
                  operatingSystem: text(.operatingSystem), startedAt: text(.startedAt),
                  distributed: (try? c.decodeIfPresent(String.self, forKey: .distributed)) ?? nil,
                  ranks: (try? c.decodeIfPresent(Int.self, forKey: .ranks)) ?? nil)
    }

    /// The name of the manifest a session writes: `manifest.json` for a fresh run,
    /// `manifest-resume-step-NNNNNNNN.json` for a session resumed from step N.
    public static func fileName(resumedFromStep step: Int?) -> String {
        step.map { String(format: "manifest-resume-step-%08d.json", $0) } ?? RunFormat.manifestFile
    }
}

/// Version facts recorded in every run.
public enum MeanFieldVersion {
    /// The tool's semantic version.
    public static let current = "0.1.0"

    /// The compiler that built the tool (major.minor, from compile-time checks).
    public static var swiftCompiler: String {
        #if compiler(>=6.4)
        return "6.4+"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }

    /// `meanfield --version`: the version, the commit the binary was built from and whether its tree
    /// had local changes, and the compiler.
    public static var versionLine: String {
        "meanfield \(current), commit \(BuildProvenance.description), Swift \(swiftCompiler)"
    }

    /// The CPU model from /proc/cpuinfo (Linux) or "unknown".
    public static func cpuModel() -> String {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
              let value = line.split(separator: ":", maxSplits: 1).last else { return "unknown" }
        return value.trimmingCharacters(in: .whitespaces)
    }
}
