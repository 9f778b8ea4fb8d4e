import Foundation
import MeanFieldModels

/// The outcome of a training run, saved as `summary.json` by the run driver for every task
/// (docs/run-format.md). Task-specific numbers live in `initial` and `final`, keyed exactly as in
/// `metrics.jsonl` ("R", "Q", "eval_R" for regression; "train_loss", "train_acc", "test_loss",
/// "test_acc" for image classification), so a new task needs no new summary type.
public struct RunSummary: Codable, Sendable, Equatable {
    /// "completed", "diverged" (a NaN/Inf or an exploding loss stopped it), "interrupted"
    /// (SIGINT/SIGTERM; resumable) or "halted" (stopped on request, tests).
    public var status: String
    /// The config's `task`.
    public var task: String
    /// Updates the run is configured for.
    public var totalSteps: Int
    /// The step k of the parameters θ_k the run ended at.
    public var completedSteps: Int
    /// Updates per epoch, for tasks that pass over a fixed training set in epochs (nil otherwise).
    public var stepsPerEpoch: Int?
    /// Mean-field time t reached (theory §1.4): Σ η_k, or Σ η_k/(1−μ) for momentum SGD.
    public var meanFieldTime: Double
    /// The step this session resumed from (nil for a fresh run).
    public var resumedFromStep: Int?
    public var lastCheckpoint: String?
    public var message: String?
    public var wallSeconds: Double
    /// Mean wall time of one training step (forward, backward, update) in this session.
    public var secondsPerStep: Double
    /// Peak resident memory of the process (bytes), to compare with ``MemoryEstimate``.
    public var peakMemoryBytes: Double?
    /// The task's metrics at step 0 (empty when this session resumed past it and the log lacks it).
    public var initial: [String: Double]
    /// The task's metrics at the end (the final step's evaluation, on whole sets where the task has them).
    public var final: [String: Double]
    /// The scaling factors the run trained with (theory §1.2–1.4, §1.6). Nil in a summary written
    /// before it was recorded: such a run trained with ``Parametrization/legacy``.
    public var parametrization: Parametrization?
    /// A run over K > 1 processes: the bytes rank 0 sent to the other ranks per training step in this
    /// session (the step's collectives only, not metrics lines or checkpoints; docs/distributed.md).
    public var bytesSentPerStep: Double?

    public init(status: String, task: String, totalSteps: Int, completedSteps: Int, stepsPerEpoch: Int?, meanFieldTime: Double,
                resumedFromStep: Int?, lastCheckpoint: String?, message: String?, wallSeconds: Double, secondsPerStep: Double,
                peakMemoryBytes: Double?, initial: [String: Double], final: [String: Double], parametrization: Parametrization? = nil) {
        self.status = status; self.task = task; self.totalSteps = totalSteps; self.completedSteps = completedSteps
        self.stepsPerEpoch = stepsPerEpoch; self.meanFieldTime = meanFieldTime; self.resumedFromStep = resumedFromStep
        self.lastCheckpoint = lastCheckpoint; self.message = message; self.wallSeconds = wallSeconds; self.secondsPerStep = secondsPerStep
        self.peakMemoryBytes = peakMemoryBytes; self.initial = initial; self.final = final; self.parametrization = parametrization
    }

    /// The parametrization the run trained with: the recorded one, or ``Parametrization/legacy`` for
    /// a summary written before it was recorded.
    public var trainedParametrization: Parametrization { parametrization ?? .legacy }

    enum CodingKeys: String, CodingKey {
        case status, task, totalSteps = "total_steps", completedSteps = "completed_steps", stepsPerEpoch = "steps_per_epoch"
        case meanFieldTime = "mean_field_time", resumedFromStep = "resumed_from_step", lastCheckpoint = "last_checkpoint"
        case message, wallSeconds = "wall_seconds", secondsPerStep = "seconds_per_step", peakMemoryBytes = "peak_memory_bytes"
        case initial, final, parametrization, bytesSentPerStep = "bytes_sent_per_step"
    }
}

extension RunSummary {
    /// The metrics a summary carries for regression and image runs, in `initial` and `final`.
    static let regressionKeys = ["R", "Q", "eval_R"], imageKeys = ["train_loss", "train_acc", "test_loss", "test_acc"]

    /// A format-1 summary (camelCase: `TrainSummary` of regression runs, `ImageTrainSummary` of
    /// image runs) in this type. `config` and `metrics` fill what the old files lack: the task,
    /// the number of steps of an image run, the step-0 metrics.
    ///
    /// finalTrainRisk → final R, finalObjective → final Q, finalEvalRisk → final eval_R,
    /// initialTrainRisk → initial R; finalTrainLoss / finalTrainAccuracy / finalTestLoss /
    /// finalTestAccuracy → final train_loss / train_acc / test_loss / test_acc; steps → total_steps
    /// and completed_steps (image runs: completed = epochs × steps per epoch, total = the config's
    /// epochs × steps per epoch); resumedFromEpoch → resumed_from_step. Facts the old file did not
    /// record (seconds per step of a regression run, wall time of a hand-written file) are NaN.
    static func legacy(_ fields: [String: JSONValue], config: TrainConfig?, metrics: [MetricsRecord]) -> RunSummary {
        func number(_ key: String) -> Double? { fields[key]?.number }
        func integer(_ key: String) -> Int? {
            guard let value = number(key), value.isFinite, value == value.rounded(), abs(value) < 1e15 else { return nil }
            return Int(value)
        }
        let imageFields = ["finalTrainLoss", "finalTrainAccuracy", "finalTestLoss", "finalTestAccuracy", "epochs", "trainImages"]
        let isImage = config?.isImageTask ?? imageFields.contains { fields[$0] != nil }
        let steps = integer("steps") ?? 0
        var total = steps, stepsPerEpoch: Int?, resumedFrom = integer("resumedFromStep")
        var final: [String: Double] = [:]
        if isImage {
            let epochs = integer("epochs") ?? 0
            if epochs > 0, steps > 0 {
                stepsPerEpoch = steps / epochs
            } else if let images = integer("trainImages"), let config {
                stepsPerEpoch = config.batchSize == 0 ? 1 : max(1, images / config.batchSize)
            }
            if let perEpoch = stepsPerEpoch {
                if let config, config.epochs > 0 { total = TrainBound.count.product(config.epochs, perEpoch) ?? total }
                resumedFrom = integer("resumedFromEpoch").flatMap { TrainBound.count.product($0, perEpoch) }
            }
            for (key, old) in zip(imageKeys, ["finalTrainLoss", "finalTrainAccuracy", "finalTestLoss", "finalTestAccuracy"]) {
                final[key] = number(old)
            }
        } else {
            for (key, old) in zip(regressionKeys, ["finalTrainRisk", "finalObjective", "finalEvalRisk"]) { final[key] = number(old) }
        }
        var initial: [String: Double] = [:]
        if let first = metrics.first(where: { $0["step"] == 0 }) {
            for key in isImage ? imageKeys : regressionKeys { initial[key] = first[key] }
        }
        if let risk = number("initialTrainRisk") { initial["R"] = risk }
        return RunSummary(
            status: fields["status"]?.string ?? "unknown", task: config?.task ?? "", totalSteps: total, completedSteps: steps,
            stepsPerEpoch: stepsPerEpoch, meanFieldTime: number("meanFieldTime") ?? .nan, resumedFromStep: resumedFrom,
            lastCheckpoint: fields["lastCheckpoint"]?.string, message: fields["message"]?.string,
            wallSeconds: number("wallSeconds") ?? .nan, secondsPerStep: number("secondsPerStep") ?? .nan,
            peakMemoryBytes: number("peakMemoryBytes"), initial: initial, final: final)
    }
}
