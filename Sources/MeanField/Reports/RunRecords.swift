import Foundation

/// What a report reads from one run directory (written by `meanfield train`, see ``RunDirectory``):
/// config.json, manifest.json, metrics.jsonl, summary.json, confusion.json (image runs) and the
/// list of checkpoints. Every file but metrics.jsonl may be missing (a run still starting, an
/// interrupted one); a metrics line that is not a JSON object is an error naming file and line.
public struct RunRecords: Sendable {
    /// A confusion matrix: `counts[true class][predicted class]`.
    public struct Confusion: Sendable {
        public var classNames: [String]
        public var counts: [[Double]]
    }

    public let path: String
    public let config: [String: JSONValue]
    public let manifest: [String: JSONValue]
    public let summary: [String: JSONValue]
    /// One object per metrics line, in file order.
    public let metrics: [[String: JSONValue]]
    public let confusion: Confusion?
    /// Checkpoint files by step, ascending.
    public let checkpoints: [(step: Int, path: String)]

    /// The directory's last path component.
    public var name: String { URL(fileURLWithPath: path).lastPathComponent }

    /// Whether `path` looks like a run directory (it has metrics.jsonl or config.json).
    public static func isRun(_ path: String) -> Bool {
        let manager = FileManager.default
        return manager.fileExists(atPath: path + "/metrics.jsonl") || manager.fileExists(atPath: path + "/config.json")
    }

    /// Reads the run directory at `path`.
    public static func load(path: String) throws -> RunRecords {
        let metricsPath = path + "/metrics.jsonl"
        var metrics: [[String: JSONValue]] = []
        if let data = FileManager.default.contents(atPath: metricsPath) {
            for (number, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let text = line.trimmingCharacters(in: .whitespaces)
                if text.isEmpty { continue }
                guard let value = try? JSONValue.parse(text), let object = value.object else {
                    let excerpt = text.count > 60 ? String(text.prefix(60)) + "…" : text
                    throw RunError("\(metricsPath):\(number + 1): not a JSON object: \(excerpt)")
                }
                metrics.append(object)
            }
        } else if FileManager.default.fileExists(atPath: metricsPath) {
            throw RunError("\(metricsPath): cannot read the file")
        }
        return RunRecords(
            path: path,
            config: try objectFile(path + "/config.json") ?? [:],
            manifest: try objectFile(path + "/manifest.json") ?? [:],
            summary: try objectFile(path + "/summary.json") ?? [:],
            metrics: metrics,
            confusion: try confusionFile(path + "/confusion.json"),
            checkpoints: TrainingCheckpoint<Float>.all(in: path + "/checkpoints"))
    }

    /// A JSON object file, nil if missing; an error (one line) if present but not a JSON object.
    static func objectFile(_ path: String) throws -> [String: JSONValue]? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        guard let value = try? JSONValue.parse(String(decoding: data, as: UTF8.self)), let object = value.object else {
            throw RunError("\(path): not a JSON object (corrupt or truncated file)")
        }
        return object
    }

    static func confusionFile(_ path: String) throws -> Confusion? {
        guard let object = try objectFile(path) else { return nil }
        guard let rows = object["counts"]?.array?.compactMap(\.numbers), !rows.isEmpty else {
            throw RunError("\(path): no \"counts\" matrix")
        }
        let names = object["classNames"]?.array?.compactMap(\.string) ?? []
        return Confusion(classNames: names.count == rows.count ? names : rows.indices.map { "class \($0)" }, counts: rows)
    }

    /// Whether this is an image-classification run (its metrics have train/test loss, not R).
    public var isImageRun: Bool {
        if metrics.contains(where: { $0["train_loss"] != nil }) { return true }
        if let task = config["task"]?.string { return TrainConfig.imageTasks.contains(task) }
        return false
    }

    /// The values of `key` against those of `along` over the metrics lines that have both
    /// (missing values are skipped; NaN is kept, so charts show the gap).
    public func series(_ key: String, along: String = "t") -> (x: [Double], y: [Double]) {
        var xs: [Double] = [], ys: [Double] = []
        for record in metrics {
            guard let x = record[along]?.number, let y = record[key]?.number else { continue }
            xs.append(x)
            ys.append(y)
        }
        return (xs, ys)
    }

    /// Entry `layer` of the per-layer list `key` (e.g. spread_attention) against `along`.
    public func layerSeries(_ key: String, layer: Int, along: String = "t") -> (x: [Double], y: [Double]) {
        var xs: [Double] = [], ys: [Double] = []
        for record in metrics {
            guard let x = record[along]?.number, let list = record[key]?.numbers, layer < list.count else { continue }
            xs.append(x)
            ys.append(list[layer])
        }
        return (xs, ys)
    }

    /// The number of layers in the per-layer list `key` (0 if no line has it).
    public func layerCount(_ key: String) -> Int {
        metrics.compactMap { $0[key]?.numbers?.count }.max() ?? 0
    }

    /// Whether some metrics line has `key`.
    public func hasMetric(_ key: String) -> Bool { metrics.contains { $0[key] != nil } }

    /// The last logged value of `key` (nil if never logged).
    public func lastValue(_ key: String) -> Double? {
        metrics.last { $0[key]?.number != nil }?[key]?.number
    }

    /// A config value as a number.
    public func configNumber(_ key: String) -> Double? { config[key]?.number }
}
