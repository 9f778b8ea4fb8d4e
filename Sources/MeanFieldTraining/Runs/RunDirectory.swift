import Foundation
import MeanFieldKernels
import MeanFieldModels

/// The one writer of a run folder (docs/run-format.md): `config.json`, `manifest.json`,
/// `metrics.jsonl` (one JSON object per logged step), `summary.json`, `confusion.json`, the
/// `checkpoints/` folder and the `tensorboard/` events files; ``RunRecord`` reads them back. Whole files are written atomically
/// (temporary file, then rename), so a crash never leaves a half-written file; metrics lines are
/// appended whole. Every JSON file is spelled as ``RunFormat`` says (snake_case keys, "inf",
/// "-inf", "nan").
public struct RunDirectory {
    public let url: URL
    private let metricsHandle: FileHandle

    /// Creates the folder (and parents) and an empty metrics log. Fails with a one-line reason if the
    /// folder cannot be written.
    ///
    /// `keepingMetrics` (for resuming a run): instead of starting an empty log, keep the lines of
    /// the existing `metrics.jsonl` for which it returns true (rewritten atomically) and append after them.
    public init(path: String, keepingMetrics keep: ((Substring) -> Bool)? = nil) throws {
        try InputPath.checkFolder(path, flag: "--out")
        url = URL(fileURLWithPath: path, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw RunError("cannot create run directory \(path): \(error.localizedDescription); pass a writable --out")
        }
        let metrics = url.appendingPathComponent(RunFormat.metricsFile)
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

    /// Writes `value` as pretty, key-sorted JSON to `name`, atomically, with ±∞/NaN as strings.
    /// For a command's own result files (varpro.json, ntk.json); the run files have typed writers.
    public func writeJSON<T: Encodable>(_ name: String, _ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try writeAtomically(name, encoder.encode(value))
    }

    /// `config.json`: the resolved train config (snake_case keys; a valid `--config` file).
    public func writeConfig(_ config: TrainConfig) throws {
        try writeAtomically(RunFormat.configFile, config.jsonData())
    }

    /// `config.json` of another command (rff-kernel, ntk-check, varpro): its settings, keys in
    /// snake_case; read back with ``RunFolder/readConfig(_:in:)``.
    public func writeConfig<Config: Encodable>(_ config: Config) throws {
        try writeAtomically(RunFormat.configFile, RunFormat.encoder().encode(config))
    }

    /// `manifest.json` (a fresh run), or `manifest-resume-step-NNNNNNNN.json` for a session
    /// resumed from step N, so the first session's manifest is kept.
    public func writeManifest(_ manifest: RunManifest, resumedFromStep step: Int? = nil) throws {
        try writeAtomically(RunManifest.fileName(resumedFromStep: step), RunFormat.encoder().encode(manifest))
    }

    /// `summary.json`.
    public func writeSummary(_ summary: RunSummary) throws {
        try writeAtomically(RunFormat.summaryFile, RunFormat.encoder().encode(summary))
    }

    /// `confusion.json` (image runs: the test set's confusion matrix).
    public func writeConfusion(_ matrix: ConfusionMatrix) throws {
        try writeAtomically(RunFormat.confusionFile, RunFormat.encoder().encode(matrix))
    }

    /// The `checkpoints/` folder (created if missing); checkpoint files in it are named
    /// ``TrainingCheckpoint/fileName(step:)``.
    public func checkpointsFolder() throws -> String {
        let folder = url.appendingPathComponent(RunFormat.checkpointsFolder).path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw RunError("cannot create \(folder): \(error.localizedDescription); pass a writable --out")
        }
        return folder
    }

    /// Starts this session's TensorBoard events file in `tensorboard/`, its first step `startStep`
    /// (older files lose their events of steps ≥ `startStep`; ``TensorBoardLog``).
    public func tensorBoardLog(startStep: Int) throws -> TensorBoardLog {
        try TensorBoardLog(folder: url.appendingPathComponent(RunFormat.tensorboardFolder).path, startStep: startStep)
    }

    /// The path of `metrics.jsonl` (for a command that renames its log, e.g. adjoint-check).
    public var metricsPath: String { url.appendingPathComponent(RunFormat.metricsFile).path }

    /// Appends one metrics record: a JSON object on one line, keys sorted, numbers in shortest
    /// round-trip form (integers without ".0"), ±∞/NaN as "inf", "-inf", "nan" (``RunFormat/metricsLine(numbers:lists:)``).
    public func appendMetrics(numbers: [String: Double], lists: [String: [Double]] = [:]) throws {
        try appendMetricsLine(RunFormat.metricsLine(numbers: numbers, lists: lists))
    }

    /// Appends one metrics record given as a complete JSON object (one line, one `write`), so a
    /// killed process leaves whole lines. Throws (disk full, folder removed) with a one-line reason.
    /// Numbers in it must be spelled with ``jsonNumber(_:)``.
    public func appendMetricsLine(_ json: String) throws {
        do {
            try metricsHandle.write(contentsOf: Data((json + "\n").utf8))
        } catch {
            throw RunError("cannot append to \(metricsPath): \(error.localizedDescription); free disk space or fix the folder's permissions, then continue with --resume \(url.path)")
        }
    }

    /// A number as the run files spell it (``RunFormat/number(_:)``).
    package static func jsonNumber(_ value: Double) -> String { RunFormat.number(value) }
}
