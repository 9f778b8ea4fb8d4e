import Foundation

/// Where one run of a sweep stands, read from its folder `DIR/runs/<name>` (written by
/// `meanfield train`): this decides whether the sweep skips it, resumes it or starts it.
public enum SweepRunState: Equatable, Sendable {
    /// No folder, or a folder without a checkpoint: the run starts (anew).
    case notStarted(folderExists: Bool)
    /// A checkpoint but no final summary (killed, or halted): the run continues with `--resume`.
    case interrupted
    /// summary.json gives the final status: "completed", or "diverged" (a NaN/Inf stopped it;
    /// running it again would diverge again, so it is not rerun).
    case finished(status: String)

    /// True when the sweep does not run it again.
    public var isFinal: Bool { if case .finished = self { return true } else { return false } }

    /// Reads the state of the run in `directory`.
    public static func inspect(_ directory: String) -> SweepRunState {
        if let summary = try? RunFolder.readSummary(in: directory, metrics: []),
           summary.status == "completed" || summary.status == "diverged" {
            return .finished(status: summary.status)
        }
        if !RunFolder.checkpoints(in: directory).isEmpty { return .interrupted }
        return .notStarted(folderExists: FileManager.default.fileExists(atPath: directory))
    }
}

/// `DIR/summary.csv`: one row per run of a sweep with its final numbers, the table the report
/// and the limit diagnostics read. Columns, in this order:
///
/// `name`, one column per grid flag (in grid order), `status`, `steps`, `t`, `R`, `eval_R`, `Q`,
/// `train_acc`, `test_acc`, `wall_seconds`.
///
/// Values come from the run's final `summary.json` (``RunSummary``, status completed or diverged:
/// completed steps, mean-field time, its final values — R on the whole training set, evaluation
/// risk, objective Q, accuracies — and wall time) and, where it has none (a run still going or
/// interrupted, or a key an image run does not write), from the last line of `metrics.jsonl`.
/// For image tasks R and eval_R hold the training and test cross-entropy loss. A value that is
/// absent is an empty cell. `status` is the summary's (`completed`, `diverged`), else `failed`
/// (the sweep saw the process fail), `interrupted` (a checkpoint, no summary), `incomplete`
/// (a folder, no checkpoint yet) or `pending` (not started).
public enum SweepSummary {
    public static let fileName = "summary.csv"

    /// The metric columns after the grid flags and `status`.
    public static let metricColumns = ["steps", "t", "R", "eval_R", "Q", "train_acc", "test_acc", "wall_seconds"]

    /// For each metric column: the summary's value, then keys of the last metrics line, tried in order.
    static let sources: [String: (summary: @Sendable (RunSummary) -> Double?, metrics: [String])] = [
        "steps": ({ Double($0.completedSteps) }, ["step"]),
        "t": ({ $0.meanFieldTime.isFinite ? $0.meanFieldTime : nil }, ["t"]),
        "R": ({ $0.final["R"] ?? $0.final["train_loss"] }, ["R", "train_loss"]),
        "eval_R": ({ $0.final["eval_R"] ?? $0.final["test_loss"] }, ["eval_R", "test_loss"]),
        "Q": ({ $0.final["Q"] }, ["Q"]),
        "train_acc": ({ $0.final["train_acc"] }, ["train_acc"]),
        "test_acc": ({ $0.final["test_acc"] }, ["test_acc"]),
        "wall_seconds": ({ $0.wallSeconds.isFinite ? $0.wallSeconds : nil }, []),
    ]

    /// The header and one row per run of `manifest`, read from `directory/runs/<name>/` alone, so
    /// that each row agrees with its run's files. `statuses` (from the process runner) gives the
    /// status of a run whose folder has no final summary, e.g. `failed` for a run whose process
    /// exited with an error; a final summary.json (completed, diverged) always wins.
    public static func table(directory: String, manifest: SweepManifest, statuses: [String: String] = [:]) -> [[String]] {
        let flags = manifest.grid.axes.map(\.flag)
        var rows = [["name"] + flags + ["status"] + metricColumns]
        for run in manifest.runs {
            let folder = directory + "/runs/" + run.name
            let state = SweepRunState.inspect(folder)
            let metrics = (try? RunFolder.readMetrics(in: folder)) ?? []
            // summary.json's values only when it is the run's final summary: an interrupted run's
            // is older than its metrics log once it has been resumed.
            let summary = state.isFinal ? try? RunFolder.readSummary(in: folder, metrics: metrics) : nil
            let last = metrics.last
            // The runner's word counts only where the folder has no final summary, and never as a final status.
            let given = statuses[run.name].flatMap { $0 == "completed" || $0 == "diverged" ? nil : $0 }
            let status: String
            switch state {
            case .finished(let final): status = final
            case .interrupted: status = given ?? "interrupted"
            case .notStarted(let exists): status = given ?? (exists ? "incomplete" : "pending")
            }
            let values = metricColumns.map { column -> String in
                let source = sources[column]!
                if let summary, let value = source.summary(summary) { return text(value, integer: column == "steps") }
                for key in source.metrics { if let value = last?[key] { return text(value, integer: column == "steps") } }
                return ""
            }
            rows.append([run.name] + flags.map { run.value(of: $0) ?? "" } + [status] + values)
        }
        return rows
    }

    /// The table as CSV text (RFC 4180 quoting where a cell needs it; `\n` line ends).
    public static func csv(_ rows: [[String]]) -> String { CSVTable.text(rows) }

    /// Writes `directory/summary.csv` for `manifest` and returns the table.
    @discardableResult
    public static func write(directory: String, manifest: SweepManifest, statuses: [String: String] = [:]) throws -> [[String]] {
        let rows = table(directory: directory, manifest: manifest, statuses: statuses)
        let url = URL(fileURLWithPath: directory).appendingPathComponent(fileName)
        do { try Data(csv(rows).utf8).write(to: url, options: .atomic) } catch {
            throw RunError("cannot write \(url.path): \(error.localizedDescription)")
        }
        return rows
    }

    /// A number as a cell: Swift's shortest round-trip form ("nan", "inf" for a diverged run's
    /// values); `integer` columns without ".0".
    static func text(_ value: Double, integer: Bool) -> String {
        if integer, value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
