import Foundation
import MeanFieldCore
import MeanFieldModels

/// What the run driver learns from a task before the first step.
public struct TaskPlan: Sendable {
    /// Updates of the whole run.
    public var totalSteps: Int
    /// Updates per pass over a fixed training set, for tasks that count epochs (nil otherwise).
    public var stepsPerEpoch: Int?

    public init(totalSteps: Int, stepsPerEpoch: Int?) {
        self.totalSteps = totalSteps
        self.stepsPerEpoch = stepsPerEpoch
    }
}

/// The task's part of one `metrics.jsonl` line: numbers and per-layer lists (docs/run-format.md).
public struct TaskMetrics {
    public var numbers: [String: Double]
    public var lists: [String: [Double]]

    public init(numbers: [String: Double], lists: [String: [Double]] = [:]) {
        self.numbers = numbers
        self.lists = lists
    }
}

/// A task that ``TrainingRun`` trains: it owns the data and the model, gives the risk and gradients
/// of step k's batch at θ_k, and says what a metrics line of θ_k holds. The driver owns everything
/// else: start or resume, mean-field time t = Σ η_k (theory §1.4), the optimizer and schedule,
/// cadence, checkpoints, the divergence stop, signals and the summary. A new task is one new file
/// that conforms to this protocol.
///
/// Determinism contract (resume byte-identity): `riskAndGradients(_:step:)` and `randomState(beforeStep:)`
/// are pure functions of the config and the step; `metrics` of the parameters, the step and the batch risk.
public protocol TrainingTask {
    associatedtype Scalar: TensorScalar
    /// The resolved config.
    var config: TrainConfig { get }
    /// "training risk R" or "training loss": named in divergence messages.
    var lossName: String { get }
    /// The short symbol of the batch loss on the progress line ("R", "loss").
    var lossSymbol: String { get }
    /// Whether metrics lines carry `train_seconds` (wall time of the training steps since the last
    /// line); off for tasks whose logs are compared byte for byte across resumes.
    var logsTrainingSeconds: Bool { get }

    /// Reads or generates the data and checks it against the config; called once before the first step.
    mutating func prepare() throws -> TaskPlan
    /// θ₀ of a fresh run.
    func initialParameters() -> ParameterStore<Scalar>
    /// R and ∇R at θ_k on step k's batch; called for k = start, start + 1, … in order.
    mutating func riskAndGradients(_ store: ParameterStore<Scalar>, step: Int) -> (risk: Double, gradients: [Tensor<Scalar>])
    /// R and ∇R at θ_k on the share `shard` of step k's batch (data-parallel training, docs/distributed.md):
    /// R the mean over the share's examples and ∇R its gradient, `examples` their number. The shares of
    /// all ranks partition the batch, so Σ_r (n_r/B)·R_r is step k's R. Called for k = start, start + 1, … in order.
    mutating func riskAndGradients(_ store: ParameterStore<Scalar>, step: Int, shard: BatchShard) throws -> (risk: Double, gradients: [Tensor<Scalar>], examples: Int)
    /// Whether step k needs a metrics line besides the driver's cadence (e.g. an NTK measurement).
    func logDue(step: Int) -> Bool
    /// The task's numbers of the metrics line of θ_k; `batchRisk` is R of step k's batch at θ_k.
    mutating func metrics(_ store: ParameterStore<Scalar>, step: Int, batchRisk: Double) -> TaskMetrics
    /// The summary's final numbers, given the last logged line's (the default keeps them).
    mutating func finalMetrics(_ store: ParameterStore<Scalar>, lastLogged: [String: Double]) -> [String: Double]
    /// Where the task's random streams stand before step k, as one JSON object (checkpoint metadata).
    func randomState(beforeStep step: Int) -> String
    /// A console line after a logged step (nil: none).
    func consoleLine(step: Int, numbers: [String: Double]) -> String?
    /// What a completed run writes and prints at the end besides the summary (e.g. a confusion matrix).
    mutating func finish(directory: RunDirectory, printReport: Bool) throws
}

extension TrainingTask {
    public mutating func riskAndGradients(_ store: ParameterStore<Scalar>, step: Int, shard: BatchShard) throws -> (risk: Double, gradients: [Tensor<Scalar>], examples: Int) {
        throw RunError("--distributed data: --task \(config.task) with this model does not split its batches over processes yet; "
                       + "run it in one process (without mpirun and --distributed)")
    }
    public var lossName: String { "training risk R" }
    public var lossSymbol: String { "R" }
    public var logsTrainingSeconds: Bool { false }
    public func logDue(step: Int) -> Bool { false }
    public mutating func finalMetrics(_ store: ParameterStore<Scalar>, lastLogged: [String: Double]) -> [String: Double] { lastLogged }
    public func consoleLine(step: Int, numbers: [String: Double]) -> String? { nil }
    public mutating func finish(directory: RunDirectory, printReport: Bool) throws {}
}
