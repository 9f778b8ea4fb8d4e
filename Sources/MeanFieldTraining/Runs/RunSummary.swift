import Foundation

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
    /// Mean-field time t = Σ η_k reached (theory §1.4).
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

    enum CodingKeys: String, CodingKey {
        case status, task, totalSteps = "total_steps", completedSteps = "completed_steps", stepsPerEpoch = "steps_per_epoch"
        case meanFieldTime = "mean_field_time", resumedFromStep = "resumed_from_step", lastCheckpoint = "last_checkpoint"
        case message, wallSeconds = "wall_seconds", secondsPerStep = "seconds_per_step", peakMemoryBytes = "peak_memory_bytes"
        case initial, final
    }
}
