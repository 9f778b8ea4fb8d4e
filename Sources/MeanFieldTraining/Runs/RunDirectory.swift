import Foundation
import MeanFieldKernels
import MeanFieldModels

/// A run's folder: `manifest.json` (full config, seed, versions, git commit, machine),
/// `metrics.jsonl` (one JSON object per logged step) and `summary.json`. Whole files are written
/// atomically (temporary file, then rename), so a crash never leaves a half-written file.
public struct RunDirectory {
    public let url: URL
    private let metricsHandle: FileHandle

    /// Creates the folder (and parents) and an empty metrics log. Fails with a one-line reason if the
    /// folder cannot be written.
    ///
    /// `keepingMetrics` (for resuming a run): instead of starting an empty log, keep the lines of
    /// the existing `metrics.jsonl` for which it returns true (rewritten atomically) and append after them.
    public init(path: String, keepingMetrics keep: ((Substring) -> Bool)? = nil) throws {
        url = URL(fileURLWithPath: path, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw RunError("cannot create run directory \(path): \(error.localizedDescription); pass a writable --out")
        }
        let metrics = url.appendingPathComponent("metrics.jsonl")
        var kept = Data()
        if let keep, let old = FileManager.default.contents(atPath: metrics.path) {
            // A line cut short by a crash (no final newline, or not a whole JSON object) is dropped.
            var lines = String(decoding: old, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            if old.last != UInt8(ascii: "\n") { lines.removeLast() }
            for line in lines where line.hasPrefix("{") && line.hasSuffix("}") && keep(line) {
                kept.append(contentsOf: Array((line + "\n").utf8))
            }
        }
        guard (try? kept.write(to: metrics, options: .atomic)) != nil,
              let handle = try? FileHandle(forWritingTo: metrics) else {
            throw RunError("cannot write \(metrics.path); pass a writable --out")
        }
        handle.seekToEndOfFile()
        metricsHandle = handle
    }

    /// Writes `data` to `name` atomically: a temporary file in the same folder, then rename.
    public func writeAtomically(_ name: String, _ data: Data) throws {
        try data.write(to: url.appendingPathComponent(name), options: .atomic)
    }

    /// Writes `value` as pretty, key-sorted JSON to `name`, atomically.
    public func writeJSON<T: Encodable>(_ name: String, _ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeAtomically(name, encoder.encode(value))
    }

    /// Appends one metrics record given as a complete JSON object (one line, one `write`), so a
    /// killed process leaves whole lines. Throws (disk full, folder removed) with a one-line reason.
    public func appendMetricsLine(_ json: String) throws {
        do {
            try metricsHandle.write(contentsOf: Data((json + "\n").utf8))
        } catch {
            throw RunError("cannot append to \(url.path)/metrics.jsonl: \(error.localizedDescription); free disk space or fix the folder's permissions, then continue with --resume \(url.path)")
        }
    }

    package static func jsonNumber(_ value: Double) -> String {
        if value.isNaN { return "null" }
        if value.isInfinite { return value > 0 ? "1e999" : "-1e999" }
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}

/// What a run records about where and how it ran (reproducibility).
public struct RunManifest: Codable, Sendable {
    public var command: [String]
    public var seed: UInt64
    public var threads: Int
    public var scalarType: String
    public var meanfieldVersion: String
    public var swiftVersion: String
    public var gitCommit: String
    public var gemmBackend: String
    public var cpu: String
    public var operatingSystem: String
    public var startedAt: String

    /// Collects the environment facts for a run started now.
    public static func current(seed: UInt64, scalarType: String) -> RunManifest {
        RunManifest(
            command: CommandLine.arguments, seed: seed, threads: Threading.threadCount, scalarType: scalarType,
            meanfieldVersion: MeanFieldVersion.current, swiftVersion: MeanFieldVersion.swiftCompiler,
            gitCommit: MeanFieldVersion.gitCommit(), gemmBackend: Gemm.backendDescription(),
            cpu: MeanFieldVersion.cpuModel(), operatingSystem: ProcessInfo.processInfo.operatingSystemVersionString,
            startedAt: ISO8601DateFormatter().string(from: Date()))
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

    /// `git rev-parse HEAD` of the working directory (plus "-dirty" with uncommitted changes), or
    /// "unknown" outside a git checkout.
    public static func gitCommit() -> String {
        guard let head = run(["git", "rev-parse", "HEAD"]), !head.isEmpty else { return "unknown" }
        let dirty = (run(["git", "status", "--porcelain", "--untracked-files=no"]) ?? "").isEmpty ? "" : "-dirty"
        return head + dirty
    }

    /// The CPU model from /proc/cpuinfo (Linux) or "unknown".
    public static func cpuModel() -> String {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
              let value = line.split(separator: ":", maxSplits: 1).last else { return "unknown" }
        return value.trimmingCharacters(in: .whitespaces)
    }

    private static func run(_ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
