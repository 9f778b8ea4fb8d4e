import Foundation
import MeanFieldCore

/// A finished (or interrupted) run directory read back for diagnostics: its resolved config, its
/// `metrics.jsonl` records, its checkpoints and its summary status.
public struct RunRecord {
    /// The run's folder name (its name in a sweep).
    public let name: String
    /// The run directory.
    public let path: String
    /// The resolved config (`config.json`).
    public let config: TrainConfig
    /// The numeric fields of each `metrics.jsonl` line, in order (list fields such as per-layer
    /// spreads are skipped).
    public let metrics: [[String: Double]]
    /// `status` of `summary.json` ("completed", "diverged", …), nil while the run has none.
    public let status: String?
    /// Checkpoint steps present, ascending, with their paths.
    public let checkpoints: [(step: Int, path: String)]

    /// Reads `path`; throws one line naming the file and the problem.
    public init(path: String) throws {
        self.path = path
        name = URL(fileURLWithPath: path).lastPathComponent
        let configPath = path + "/config.json"
        guard let configData = FileManager.default.contents(atPath: configPath) else {
            throw RunError("\(configPath): missing; \(path) is not a run directory (meanfield train writes config.json first)")
        }
        config = try TrainConfig.fromJSON(configData, name: configPath)
        metrics = try Self.readMetrics(path + "/metrics.jsonl")
        if let data = FileManager.default.contents(atPath: path + "/summary.json"),
           let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            status = object["status"] as? String
        } else {
            status = nil
        }
        checkpoints = TrainingCheckpoint<Float>.all(in: path + "/checkpoints")
    }

    /// The numeric fields of every line of a `metrics.jsonl` file (empty when it does not exist).
    static func readMetrics(_ file: String) throws -> [[String: Double]] {
        guard let data = FileManager.default.contents(atPath: file) else { return [] }
        var records: [[String: Double]] = []
        // The writer spells ±∞ as ±1e999 (RunDirectory.jsonNumber; Python reads it as inf), which
        // Foundation rejects: read it as ±Double.greatestFiniteMagnitude and map that back to ±∞.
        let largest = "\(Double.greatestFiniteMagnitude)"
        for (index, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() where !line.isEmpty {
            let text = String(decoding: line, as: UTF8.self).replacingOccurrences(of: "1e999", with: largest)
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                throw RunError("\(file):\(index + 1): not a JSON object; the metrics file is corrupt (delete the line or re-run)")
            }
            records.append(object.compactMapValues { value in
                guard let number = (value as? NSNumber)?.doubleValue else { return nil }
                return abs(number) == .greatestFiniteMagnitude ? (number > 0 ? .infinity : -.infinity) : number
            })
        }
        return records
    }

    /// The last value of a metric, nil when never logged.
    public func last(_ key: String) -> Double? { metrics.last(where: { $0[key] != nil })?[key] }

    /// The first logged value of a metric.
    public func first(_ key: String) -> Double? { metrics.first(where: { $0[key] != nil })?[key] }

    /// The parameters at a checkpoint step, in `Double`, with the mean-field time t of that step
    /// (step 0 is regenerated from the seed when the run did not save it: initial particles are a
    /// pure function of the config, theory §1.4).
    public func state(atStep step: Int) throws -> (store: ParameterStore<Double>, time: Double) {
        if let entry = checkpoints.first(where: { $0.step == step }) {
            let checkpoint = try TrainingCheckpoint<Float>.read(path: entry.path)
            return (checkpoint.parameters.converted(to: Double.self), checkpoint.meanFieldTime)
        }
        guard step == 0 else { throw RunError("\(path): no checkpoint at step \(step) (has \(checkpoints.map(\.step)))") }
        // Runs train in Float, whose Philox normals differ from Double's: draw in Float, then widen.
        let initial: ParameterStore<Float> = config.initialParameters()
        return (initial.converted(to: Double.self), 0)
    }

    /// The risk R logged at `step`, if that step has a metrics line.
    public func risk(atStep step: Int) -> Double? {
        metrics.first(where: { $0["step"] == Double(step) })?["R"]
    }
}
