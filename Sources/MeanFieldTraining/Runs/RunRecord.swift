import Foundation
import MeanFieldModels

/// One line of `metrics.jsonl`: its numbers (step, t, R, …) and its lists of numbers (per-layer
/// spreads). ±∞/NaN are read from "inf", "-inf", "nan" and from format 1's ±1e999 and null.
public struct MetricsRecord: Sendable, Equatable {
    public var numbers: [String: Double]
    public var lists: [String: [Double]]

    public init(numbers: [String: Double], lists: [String: [Double]] = [:]) {
        self.numbers = numbers
        self.lists = lists
    }

    /// The number `key`, nil when the line does not have it.
    public subscript(key: String) -> Double? { numbers[key] }
}

/// The readers of the single run files (docs/run-format.md), for callers that need one file
/// without the whole folder (the sweep runner's bookkeeping, resuming); ``RunRecord`` reads them
/// all. A missing file is nil (or empty); a file that exists but cannot be read is a one-line
/// error naming it.
public enum RunFolder {
    static func file(_ directory: String, _ name: String) -> String { directory + "/" + name }

    /// Whether `path` looks like a run folder (it has metrics.jsonl or config.json).
    public static func isRun(_ path: String) -> Bool {
        let manager = FileManager.default
        return manager.fileExists(atPath: file(path, RunFormat.metricsFile)) || manager.fileExists(atPath: file(path, RunFormat.configFile))
    }

    /// `config.json` as the train config it records (either key spelling), checked as a resumed
    /// run needs it. `inconsistency`: accept a config this build's checks reject (a hand-written
    /// or older file) and pass the reason there (``TrainConfig/fromJSON(_:name:inconsistency:)``).
    public static func readConfig(in directory: String, inconsistency: ((String) -> Void)? = nil) throws -> TrainConfig {
        let path = file(directory, RunFormat.configFile)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RunError("\(path): missing; \(directory) is not a run directory (meanfield train writes config.json first)")
        }
        return try TrainConfig.fromJSON(data, name: path, inconsistency: inconsistency)
    }

    /// `config.json` of another command (``RunDirectory/writeConfig(_:)-generic``), in either key spelling.
    public static func readConfig<Config: Decodable>(_ type: Config.Type, in directory: String) throws -> Config {
        let path = file(directory, RunFormat.configFile)
        guard let data = FileManager.default.contents(atPath: path) else { throw RunError("\(path): missing") }
        do {
            return try RunFormat.decoder(convertingKeys: true).decode(Config.self, from: data)
        } catch {
            throw RunError("\(path): \(RunFormat.describe(error))")
        }
    }

    /// `manifest.json`, nil when absent. A folder written by a newer format is refused here, once:
    /// every reader of a run folder starts with it.
    public static func readManifest(in directory: String) throws -> RunManifest? {
        let path = file(directory, RunFormat.manifestFile)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let manifest = try RunFormat.decodeObject(RunManifest.self, from: data, file: path)
        if let version = manifest.runFormat, version > RunFormat.version {
            throw RunError("\(directory): written in run format \(version); this meanfield reads formats 1–\(RunFormat.version) (update meanfield)")
        }
        return manifest
    }

    /// The manifests of resumed sessions (`manifest-resume-*.json`), by file name, in name order.
    public static func readResumeManifests(in directory: String) throws -> [(file: String, manifest: RunManifest)] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix("manifest-resume-") && $0.hasSuffix(".json") }.sorted()
        return try names.map { name in
            let path = file(directory, name)
            guard let data = FileManager.default.contents(atPath: path) else { throw RunError("\(path): cannot read the file") }
            return (name, try RunFormat.decodeObject(RunManifest.self, from: data, file: path))
        }
    }

    /// Every line of `metrics.jsonl` (empty when it does not exist). A last line cut short by a
    /// crash (no final newline) is skipped; any other line that is not a JSON object is an error
    /// naming the file and line.
    public static func readMetrics(in directory: String) throws -> [MetricsRecord] {
        let path = file(directory, RunFormat.metricsFile)
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) { throw RunError("\(path): cannot read the file") }
            return []
        }
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let cut = data.last != UInt8(ascii: "\n") ? lines.popLast() : nil
        var records: [MetricsRecord] = []
        for (index, line) in lines.enumerated() {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            guard let record = metricsRecord(text) else {
                let excerpt = text.count > 60 ? String(text.prefix(60)) + "…" : text
                throw RunError("\(path):\(index + 1): not a JSON object: \(excerpt); the metrics file is corrupt (delete the line or re-run)")
            }
            records.append(record)
        }
        // A final line without its newline: whole if it parses (a hand-written file), else cut by a crash.
        if let cut, let record = metricsRecord(cut.trimmingCharacters(in: .whitespaces)) {
            records.append(record)
        } else if let cut, !cut.trimmingCharacters(in: .whitespaces).isEmpty, !cut.hasPrefix("{") {
            throw RunError("\(path):\(lines.count + 1): not a JSON object: \(cut.prefix(60))")
        }
        return records
    }

    /// One metrics line, nil if it is not a JSON object. Fields that are neither numbers nor lists
    /// of numbers are skipped.
    static func metricsRecord(_ text: String) -> MetricsRecord? {
        guard text.hasPrefix("{"), let value = try? JSONValue.parse(text), case .object(let fields) = value else { return nil }
        var record = MetricsRecord(numbers: [:])
        for (key, value) in fields {
            if case .array = value {
                if let list = value.numbers { record.lists[key] = list }
            } else if let number = value.number {
                record.numbers[key] = number
            }
        }
        return record
    }

    /// `summary.json`, nil when absent. A format-1 summary is mapped into ``RunSummary``
    /// (``RunSummary/legacy(_:config:metrics:)``) with the help of `config` and `metrics`
    /// (read from the folder when not given).
    public static func readSummary(in directory: String, config: TrainConfig? = nil, metrics: [MetricsRecord]? = nil) throws -> RunSummary? {
        let path = file(directory, RunFormat.summaryFile)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        guard case .object(let fields) = try RunFormat.parse(data, file: path) else {
            throw RunError("\(path): not a JSON object (corrupt or truncated file)")
        }
        if fields["total_steps"] != nil {
            do { return try RunFormat.decoder().decode(RunSummary.self, from: data) } catch {
                throw RunError("\(path): \(RunFormat.describe(error))")
            }
        }
        return RunSummary.legacy(fields, config: config ?? (try? readConfig(in: directory, inconsistency: { _ in })),
                                 metrics: metrics ?? (try? readMetrics(in: directory)) ?? [])
    }

    /// `confusion.json`, nil when absent.
    public static func readConfusion(in directory: String) throws -> ConfusionMatrix? {
        let path = file(directory, RunFormat.confusionFile)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try RunFormat.decodeObject(ConfusionMatrix.self, from: data, file: path)
    }

    /// The checkpoint files of `checkpoints/` (`step-NNNNNNNN.safetensors`), by step, ascending.
    public static func checkpoints(in directory: String) -> [(step: Int, path: String)] {
        TrainingCheckpoint<Float>.all(in: file(directory, RunFormat.checkpointsFolder))
    }
}

/// A run folder read back (written by ``RunDirectory``; docs/run-format.md): the one reader that
/// training, sweeps, diagnostics and reports use. Reads format-1 folders too (kebab-case config,
/// camelCase manifest and summary, ±1e999/null numbers) and refuses a newer format in one line.
///
/// Every file but `config.json` may be missing (a run still starting, an interrupted one).
public struct RunRecord: Sendable {
    /// The run folder.
    public let path: String
    /// The config (`config.json`), resolved unless ``configProblem`` says why not.
    public let config: TrainConfig
    /// Why `config.json` does not pass this build's consistency checks (a hand-written file, or
    /// one from a build that checked less), nil when it does. The run still loads.
    public let configProblem: String?
    /// `manifest.json` (nil when absent).
    public let manifest: RunManifest?
    /// The manifests of resumed sessions (`manifest-resume-*.json`), in file-name order.
    public let resumeManifests: [RunManifest]
    /// Every `metrics.jsonl` line, in file order.
    public let metrics: [MetricsRecord]
    /// `summary.json` (format-1 summaries mapped), nil while the run has none.
    public let summary: RunSummary?
    /// `confusion.json` (image runs).
    public let confusion: ConfusionMatrix?
    /// The checkpoints present, by step, ascending.
    public let checkpoints: [(step: Int, path: String)]
    /// The config as key → value, keys as config.json spells them (snake_case), for display.
    public let configValues: [String: JSONValue]

    /// Reads the run folder at `path`; throws one line naming the file and the problem.
    public init(path: String) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else { throw RunError("\(path): no such directory") }
        manifest = try RunFolder.readManifest(in: path)
        resumeManifests = try RunFolder.readResumeManifests(in: path).map(\.manifest)
        metrics = try RunFolder.readMetrics(in: path)
        var problem: String?
        config = try RunFolder.readConfig(in: path, inconsistency: { problem = $0 })
        configProblem = problem
        summary = try RunFolder.readSummary(in: path, config: config, metrics: metrics)
        confusion = try RunFolder.readConfusion(in: path)
        checkpoints = RunFolder.checkpoints(in: path)
        if let data = try? config.jsonData(), case .object(let fields)? = try? JSONValue.parse(String(decoding: data, as: UTF8.self)) {
            configValues = fields
        } else {
            configValues = [:]
        }
    }

    /// The folder name (the run's name in a sweep).
    public var name: String { URL(fileURLWithPath: path).lastPathComponent }

    /// The format the folder was written in (1 for folders without `run_format`).
    public var formatVersion: Int { manifest?.runFormat ?? 1 }

    /// The summary's status ("completed", "diverged", …), nil while the run has none.
    public var status: String? { summary?.status }

    /// Whether this is an image-classification run.
    public var isImageRun: Bool { config.isImageTask || hasMetric("train_loss") }

    /// Whether some metrics line has the number or list `key`.
    public func hasMetric(_ key: String) -> Bool { metrics.contains { $0.numbers[key] != nil || $0.lists[key] != nil } }

    /// The last logged value of a metric, nil when never logged.
    public func last(_ key: String) -> Double? { metrics.last { $0[key] != nil }?[key] }

    /// The first logged value of a metric.
    public func first(_ key: String) -> Double? { metrics.first { $0[key] != nil }?[key] }

    /// The risk R logged at `step`, if that step has a metrics line.
    public func risk(atStep step: Int) -> Double? { metrics.first { $0["step"] == Double(step) }?["R"] }

    /// The values of `key` against those of `along` over the metrics lines that have both
    /// (NaN is kept, so charts show the gap).
    public func series(_ key: String, along: String = "t") -> (x: [Double], y: [Double]) { points(along: along) { $0[key] } }

    /// Entry `layer` of the per-layer list `key` (e.g. spread_attention) against `along`.
    public func layerSeries(_ key: String, layer: Int, along: String = "t") -> (x: [Double], y: [Double]) {
        points(along: along) { record in record.lists[key].flatMap { layer < $0.count ? $0[layer] : nil } }
    }

    /// `value` of every metrics line that has it and `along`, against `along`.
    private func points(along: String, _ value: (MetricsRecord) -> Double?) -> (x: [Double], y: [Double]) {
        let pairs = metrics.compactMap { record in record[along].flatMap { x in value(record).map { (x, $0) } } }
        return (pairs.map(\.0), pairs.map(\.1))
    }

    /// The number of layers in the per-layer list `key` (0 if no line has it).
    public func layerCount(_ key: String) -> Int { metrics.compactMap { $0.lists[key]?.count }.max() ?? 0 }
}
