import Foundation
import MeanFieldCore

/// The outcome of a `meanfield train` run (saved as `summary.json`).
public struct TrainSummary: Codable, Sendable {
    /// "completed", "diverged" (a NaN/Inf stopped it), "interrupted" (SIGINT/SIGTERM; resumable) or
    /// "halted" (stopped on request, tests).
    public var status: String
    public var steps: Int
    public var meanFieldTime: Double
    public var initialTrainRisk: Double
    /// R on the whole fixed training set at the end (the last batch's R with fresh prompts).
    public var finalTrainRisk: Double
    public var finalObjective: Double
    public var finalEvalRisk: Double
    public var resumedFromStep: Int?
    public var lastCheckpoint: String?
    public var message: String?
    public var wallSeconds: Double
    /// Peak resident memory of the process (bytes), to compare with ``MemoryEstimate``.
    public var peakMemoryBytes: Double?
}

/// The training loop of `meanfield train` (and `meanfield demo`): in-context regression
/// (theory §1.1) on any ``TransformerEngine``, with any ``Optimizer`` and learning-rate schedule,
/// in mean-field time (theory §1.4).
///
/// Step k (k = 0 … steps) computes R and ∇R at θ_k on its batch, then: checks R, Q and ∇R for
/// NaN/Inf; logs a metrics line (every `log-every` steps and at the end) with t = Σ_{i<k} η_i;
/// writes a checkpoint of θ_k (every `checkpoint-every` steps and at the end); and, for k < steps,
/// updates θ_k → θ_{k+1}. A checkpoint of step k therefore holds θ_k with the optimizer state after
/// k updates; resuming from it truncates `metrics.jsonl` to the steps before k and replays step k,
/// so the log is the one an uninterrupted run writes, byte for byte.
public struct Trainer<Engine: TransformerEngine> {
    public typealias Scalar = Engine.Scalar
    /// The resolved config (``TrainConfig/resolved(defaultThreads:)``).
    public let config: TrainConfig
    public var engine: Engine
    public var showProgress = true
    /// Stop after this step as if the process were killed (no final checkpoint or summary): tests.
    public var haltAfterStep: Int?

    public init(config: TrainConfig, engine: Engine) {
        self.config = config
        self.engine = engine
    }

    /// Trains into the run directory `path`: `config.json`, `manifest.json`, `metrics.jsonl`,
    /// `checkpoints/step-NNNNNNNN.safetensors`, `summary.json`. With `resume`, continues from the
    /// last checkpoint in `path/checkpoints`.
    public mutating func run(directory path: String, resume: Bool = false) throws -> TrainSummary {
        let started = Date()
        let checkpointDirectory = path + "/checkpoints"
        let gitCommit = MeanFieldVersion.gitCommit()
        var data = RegressionData<Scalar>(config: config)
        let labelRow = data.task.labelRow
        var store: ParameterStore<Scalar>
        var optimizer: any Optimizer<Scalar>
        var startStep = 0, meanFieldTime = 0.0, initialRisk = Double.nan
        var lastCheckpoint: String?

        let begin = resume ? try TrainingStart<Scalar>.resuming(path: path, config: config)
            : try TrainingStart<Scalar>.fresh(path: path, config: config, store: config.initialParameters())
        store = begin.store
        optimizer = begin.optimizer
        if let checkpoint = begin.checkpoint {
            guard checkpoint.step <= config.steps else {
                throw RunError("--resume \(path): the run is already at step \(checkpoint.step); give --steps > \(checkpoint.step) to continue it")
            }
            (startStep, meanFieldTime, initialRisk, lastCheckpoint) = (checkpoint.step, checkpoint.meanFieldTime, checkpoint.initialRisk, begin.checkpointPath)
        }
        let directory = resume ? try RunDirectory(path: path, keepingMetrics: { line in Self.loggedStep(line).map { $0 < startStep } ?? false })
            : try RunDirectory(path: path)
        try begin.prepare(directory, path: path, config: config, resumeManifest: String(format: "manifest-resume-step-%08d.json", startStep),
                          scalarType: Self.scalarName)

        let schedule = config.learningRateSchedule
        let penalty = GradientFlow(learningRate: 0, weightDecay: config.weightDecay)
        let progress = showProgress ? ProgressLine(total: config.steps, start: startStep) : nil
        var lastRisk = Double.nan

        func evaluate(_ set: (tokens: Tensor<Scalar>, targets: Tensor<Scalar>)) -> Double {
            engine.evaluate(store, tokens: set.tokens, targets: .regression(values: set.targets, labelRow: labelRow)).risk
        }
        func summary(_ status: String, message: String?) -> TrainSummary {
            let finalRisk = data.train.map { evaluate($0) } ?? lastRisk
            return TrainSummary(status: status, steps: config.steps, meanFieldTime: meanFieldTime, initialTrainRisk: initialRisk,
                                finalTrainRisk: finalRisk, finalObjective: penalty.objective(risk: finalRisk, store: store),
                                finalEvalRisk: evaluate(data.eval), resumedFromStep: resume ? startStep : nil,
                                lastCheckpoint: lastCheckpoint, message: message, wallSeconds: Date().timeIntervalSince(started), peakMemoryBytes: ProcessSetup.peakMemoryBytes())
        }

        /// Writes θ_step with the optimizer state after `step` updates, atomically.
        func saveCheckpoint(step: Int) throws {
            let file = checkpointDirectory + "/" + TrainingCheckpoint<Scalar>.fileName(step: step)
            try TrainingCheckpoint(config: config, step: step, meanFieldTime: meanFieldTime, parameters: store,
                                   optimizerState: [:], optimizerKind: config.optimizer, optimizerUpdates: optimizer.updates,
                                   initialRisk: initialRisk, randomState: data.randomState(beforeStep: step))
                .write(to: file, optimizerTensors: optimizer.stateTensors, gitCommit: gitCommit)
            lastCheckpoint = file
        }

        let stop = StopRequest()
        for step in startStep...config.steps {
            let batch = data.batch(step: step)
            let (risk, gradients) = engine.riskAndGradients(store, tokens: batch.tokens, targets: .regression(values: batch.targets, labelRow: labelRow))
            let objective = penalty.objective(risk: risk, store: store)
            let gradientNorm = TrainingMetrics.squaredNorm(gradients).squareRoot()
            if step == 0 { initialRisk = risk }
            lastRisk = risk

            // A NaN/Inf or a loss that exploded stops the run; the last checkpoint written is the last good one.
            if let bad = Divergence.problem(loss: risk, lossName: "training risk R", initialLoss: initialRisk, objective: objective,
                                            gradients: gradients, store: store) {
                progress?.finish()
                let kept = lastCheckpoint.map { "the last good checkpoint is \($0)" } ?? "no checkpoint was written (use --checkpoint-every)"
                let message = "step \(step): \(bad) (diverged); \(kept); " + Divergence.hint(learningRate: config.lr, weightDecay: config.weightDecay)
                try Self.writeSummary(directory, summary("diverged", message: message))
                throw RunError(message)
            }

            if step % config.logEvery == 0 || step == config.steps {
                let spread = TrainingMetrics.particleSpread(store, layers: config.layers)
                var lists = ["spread_attention": spread.attention]
                if !spread.ffn.isEmpty { lists["spread_ffn"] = spread.ffn }
                try directory.appendMetricsLine(TrainingMetrics.jsonLine([
                    "step": Double(step), "t": meanFieldTime, "lr": schedule.rate(atUpdate: step), "R": risk, "Q": objective,
                    "eval_R": evaluate(data.eval), "grad_norm": gradientNorm, "param_norm": store.squaredNorm.squareRoot(),
                ], lists: lists))
            }
            let checkpointDue = config.checkpointEvery > 0 && step % config.checkpointEvery == 0
            if (checkpointDue || step == config.steps) && !(resume && step == startStep) {
                try saveCheckpoint(step: step)
            }
            progress?.update(completed: step, fields: String(format: "t=%.3f  R=%.5g", meanFieldTime, risk))
            if step == haltAfterStep {
                progress?.finish()
                return summary("halted", message: "halted after step \(step)")
            }
            if step < config.steps {
                let rate = schedule.rate(atUpdate: step)
                optimizer.step(&store, gradients: gradients, learningRate: rate)
                meanFieldTime += rate
                // SIGINT/SIGTERM: checkpoint θ_{k+1} (the file a run checkpointing every step writes) and stop.
                if let signal = stop.signal {
                    progress?.finish()
                    try saveCheckpoint(step: step + 1)
                    let message = "stopped by \(StopRequest.name(of: signal)) before step \(step + 1) of \(config.steps); "
                        + "checkpoint \(lastCheckpoint ?? ""); continue with: meanfield train --resume \(path)"
                    try Self.writeSummary(directory, summary("interrupted", message: message))
                    throw RunInterrupted(signal: signal, message: message)
                }
            }
        }
        progress?.finish()
        let result = summary("completed", message: nil)
        try Self.writeSummary(directory, result)
        return result
    }

    /// summary.json; a diverged run's NaN/Inf values are written as the strings "nan", "inf", "-inf".
    static func writeSummary(_ directory: RunDirectory, _ summary: TrainSummary) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try directory.writeAtomically("summary.json", encoder.encode(summary))
    }

    static var scalarName: String { MemoryLayout<Scalar>.size == 4 ? "f32" : "f64" }

    /// The `"step"` of a metrics line, or nil.
    static func loggedStep(_ line: Substring) -> Int? {
        guard let range = line.range(of: "\"step\":") else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }

    /// A resumed run must be the same run: only the length and the logging may change.
    static func checkResumable(_ saved: TrainConfig, as current: TrainConfig, path: String) throws {
        var a = saved, b = current
        a.steps = 0; b.steps = 0; a.epochs = 0; b.epochs = 0; a.threads = nil; b.threads = nil
        a.logEvery = 1; b.logEvery = 1; a.checkpointEvery = 0; b.checkpointEvery = 0
        guard a == b else {
            let differing = TrainConfig.keys.filter { key in
                (try? JSONSerialization.jsonObject(with: a.jsonData()) as? [String: Any])?[key].map { "\($0)" }
                    != (try? JSONSerialization.jsonObject(with: b.jsonData()) as? [String: Any])?[key].map { "\($0)" }
            }
            throw RunError("\(path) was written by a run with another config (\(differing.joined(separator: ", "))); --resume accepts only --steps, --epochs, --threads, --log-every, --checkpoint-every")
        }
    }

}
