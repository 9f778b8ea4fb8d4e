import Foundation
import MeanFieldCore
import MeanFieldKernels
import MeanFieldModels

/// The one training loop of MeanField: it takes any ``TrainingTask`` from a fresh start or a
/// checkpoint to its last step, in mean-field time t = Σ_{i<k} τ_i (theory §1.4), τ the time the
/// optimizer says a step of rate η_i advances (``Optimizer/meanFieldTime(ofStepAt:)``: η for Euler
/// and AdamW, η/(1−μ) for heavy ball). A resumed run keeps the checkpoint's ``Parametrization``.
///
/// Step k (k = start … total) computes R and ∇R at θ_k on step k's batch and then:
/// 1. stops the run if R, Q = R + (λ/2)|θ|², ∇R or θ is not finite or R exploded (status "diverged";
///    the last checkpoint written stays the last good one);
/// 2. logs the metrics line of θ_k when due (`log-every` steps, `log-every-epochs` epochs, step 0
///    and the last step): step, t, lr, param_norm, grad_norm, batch_loss (mean batch loss of the
///    steps since the previous line), epoch (runs given in epochs) and the task's numbers, and
///    the same numbers as TensorBoard scalars (``TensorBoardLog``, unless `tensorboard` is false);
/// 3. writes the checkpoint of θ_k when due (`checkpoint-every` steps, `checkpoint-every-epochs`
///    epochs — both count step 0, the initial state — and the last step);
/// 4. for k < total, updates θ_k → θ_{k+1} and advances t; on SIGINT/SIGTERM it then checkpoints
///    θ_{k+1} and stops (status "interrupted").
/// A checkpoint of step k holds θ_k, the optimizer state after k updates and the driver's state
/// before step k (the batch-loss window). Resuming from it keeps the log's lines of steps before k
/// and replays from step k, so the log and the parameters equal an uninterrupted run's, byte for
/// byte (a line written at the last step of a shorter run is logged again only if due).
///
/// Data-parallel (``processGroup`` with K > 1 processes, docs/distributed.md): every rank runs this
/// loop on the same θ; step k's R and ∇R are each rank's share of the batch (``BatchShard``), summed
/// in rank order with weights n_r/B (``ProcessGroup/sumInRankOrder(_:)``), so every rank applies the
/// same update. Rank 0 alone takes the lock and writes the run folder; a stop signal on any rank
/// stops every rank after the same step (the flag rides in the step's sum).
///
/// Particle-parallel (``particles`` set as well): every rank holds its share of every layer's heads
/// and units (``ParticleShare``) and runs this loop on the whole batch; the task's engine sums the
/// blocks' partial outputs over the ranks, so R and the replicated parameters' gradients are the same
/// on every rank, and each rank updates its own particles. The ranks' divergence verdicts and stop
/// requests are summed every step; metrics lines, checkpoints and the summary see the whole model,
/// gathered from the shares (every rank computes the line, rank 0 writes it).
public struct TrainingRun<Task: TrainingTask> {
    public typealias Scalar = Task.Scalar
    public var task: Task
    public var showProgress = true
    /// Print the task's console lines and end-of-run report.
    public var printReport = true
    /// Stop after this step as if the process were killed (no final checkpoint or summary): tests.
    public var haltAfterStep: Int?
    /// The MPI job this run is spread over (`--distributed data` or `particle`), nil for one process.
    public var processGroup: ProcessGroup?
    /// This rank's share of the particles (`--distributed particle`): the task's engine must have been
    /// built with the same share.
    public var particles: ParticleShare?

    public init(task: Task) { self.task = task }

    public var config: TrainConfig { task.config }

    /// Trains into the run directory `path` (docs/run-format.md). With `resume`, continues from the
    /// newest checkpoint in `path/checkpoints`.
    public mutating func run(directory path: String, resume: Bool = false) throws -> RunSummary {
        let started = Date()
        guard config.precision == Precision(Scalar.self) else {
            throw RunError("--precision \(config.precision.rawValue): this run was built to compute in \(Precision(Scalar.self).rawValue) "
                           + "(\(Scalar.self)); build its engine and task with the config's scalar type")
        }
        // SIGINT/SIGTERM from here on stop the run at the next step boundary, with a checkpoint.
        let signals = StopRequest()
        let plan = try task.prepare()
        let total = plan.totalSteps
        let group = processGroup.flatMap { $0.size > 1 ? $0 : nil }
        let particles = group == nil ? nil : self.particles
        guard group == nil || (config.distributed == .particle) == (particles != nil) else {
            throw RunError("--distributed \(config.distributed.rawValue): this run was built \(particles == nil ? "without" : "with") a particle share; "
                           + "build its engine with ParticleShare for --distributed particle only")
        }
        // Rank 0 writes the run folder; the other ranks read the same start and write nothing.
        let isWriter = (group?.rank ?? 0) == 0
        let whole = resume ? try TrainingStart<Scalar>.resuming(path: path, config: config, locking: isWriter)
            : isWriter ? try TrainingStart<Scalar>.fresh(path: path, config: config, store: task.initialParameters())
            : TrainingStart<Scalar>.follower(config: config, store: task.initialParameters())
        // Particle-parallel: this rank's share of θ and of the optimizer state.
        let begin = try particles.map { try whole.cut(to: $0, config: config) } ?? whole
        if let group { try Self.checkSameStart(begin.checkpoint?.step ?? 0, group: group) }
        // `begin` holds the run folder's lock (one writer at a time) until the run ends.
        defer { withExtendedLifetime(begin) {} }
        var store = begin.store
        var optimizer = begin.optimizer
        // The config as trained: with the checkpoint's scaling rules when resumed (``Parametrization``).
        var runConfig = config
        runConfig.scalingRules = begin.scalingRules
        var start = 0, meanFieldTime = 0.0, initialRisk = Double.nan
        var window = LossWindow()
        var lastCheckpoint: String?
        if let checkpoint = begin.checkpoint {
            guard checkpoint.step <= total else {
                let length = plan.stepsPerEpoch.map { "--epochs > \(checkpoint.step / $0)" } ?? "--steps > \(checkpoint.step)"
                throw RunError("--resume \(path): the run is already at step \(checkpoint.step); give \(length) to continue it")
            }
            (start, meanFieldTime, initialRisk, lastCheckpoint) = (checkpoint.step, checkpoint.meanFieldTime, checkpoint.initialRisk, begin.checkpointPath)
            window = try LossWindow(checkpointState: checkpoint.randomState, path: begin.checkpointPath ?? path)
        }

        // Keep the lines of the steps before the start step (the start step is logged again when due).
        let keep = begin.checkpoint?.keepsMetricsLine
        let directory = isWriter ? try RunDirectory(path: path, keepingMetrics: keep) : nil
        let kept = resume && isWriter ? try RunFolder.readMetrics(in: path) : []
        var initial = Self.taskNumbers(kept.first { $0["step"] == 0 }?.numbers ?? [:])
        var lastLogged = Self.taskNumbers(kept.last?.numbers ?? [:])
        let checkpointFolder = try directory.map {
            try begin.prepare($0, config: config, start: start, scalarType: config.precision.scalarName, ranks: group?.size)
        }
        // TensorBoard's copy of the metrics lines: a new events file per session, from step `start` on.
        let tensorBoard = config.tensorboard ? try directory?.tensorBoardLog(startStep: start) : nil

        var schedule = config.learningRateSchedule
        schedule.totalSteps = total
        let penalty = GradientFlow(learningRate: 0, weightDecay: config.weightDecay)
        let progress = showProgress && isWriter ? ProgressLine(total: total, start: start) : nil
        var stepSeconds = 0.0, sessionSteps = 0, stepBytesSent = 0

        func summary(_ status: String, step: Int, message: String?) -> RunSummary {
            var result = RunSummary(status: status, task: config.task, totalSteps: total, completedSteps: step, stepsPerEpoch: plan.stepsPerEpoch,
                                    meanFieldTime: meanFieldTime, resumedFromStep: resume ? start : nil, lastCheckpoint: lastCheckpoint,
                                    message: message, wallSeconds: Date().timeIntervalSince(started),
                                    secondsPerStep: stepSeconds / Double(max(1, sessionSteps)), peakMemoryBytes: ProcessSetup.peakMemoryBytes(),
                                    initial: initial, final: task.finalMetrics(particles.map { $0.gathered(store) } ?? store, lastLogged: lastLogged),
                                    parametrization: runConfig.parametrization)
            result.bytesSentPerStep = group.map { _ in Double(stepBytesSent) / Double(max(1, sessionSteps)) }
            return result
        }
        /// Writes θ_step, the optimizer state after `step` updates and the driver's state, atomically.
        /// Particle-parallel: every rank takes part in gathering the shares; rank 0 writes.
        func saveCheckpoint(step: Int, window: LossWindow) throws {
            let parameters = particles.map { $0.gathered(store) } ?? store
            let optimizerTensors = particles.map { $0.gathered(optimizer.stateTensors) } ?? optimizer.stateTensors
            guard let checkpointFolder else { return }
            let file = checkpointFolder + "/" + TrainingCheckpoint<Scalar>.fileName(step: step)
            try TrainingCheckpoint(config: runConfig, step: step, meanFieldTime: meanFieldTime, parameters: parameters,
                                   optimizerState: [:], optimizerKind: config.optimizer, optimizerUpdates: optimizer.updates,
                                   initialRisk: initialRisk, randomState: window.checkpointState(task: task.randomState(beforeStep: step)))
                .write(to: file, optimizerTensors: optimizerTensors)
            lastCheckpoint = file
        }
        func stop(_ status: String, step: Int, message: String) throws -> RunSummary {
            progress?.finish()
            let result = summary(status, step: step, message: message)
            try directory?.writeSummary(result)
            return result
        }

        for step in start...total {
            let windowBeforeStep = window
            let computeStart = Date(), sentBefore = group?.bytesSent ?? 0
            // Data-parallel: the shares' sum, and whether any rank was asked to stop (the same on every rank).
            // Particle-parallel: the engine sums the blocks over the ranks; the stop requests are summed below.
            let risk: Double, gradients: [Tensor<Scalar>], dataStop: Bool
            if let group, particles == nil {
                (risk, gradients, dataStop) = try Self.dataParallelStep(&task, store, step: step, group: group, stopAsked: signals.signal != nil)
            } else {
                ((risk, gradients), dataStop) = (task.riskAndGradients(store, step: step), false)
            }
            let computeSeconds = Date().timeIntervalSince(computeStart)
            if step == 0 { initialRisk = risk }
            var problem = Divergence.problem(loss: risk, lossName: task.lossName, initialLoss: initialRisk,
                                             objective: penalty.objective(risk: risk, store: store), gradients: gradients, store: store)
            var stopAsked = dataStop
            if let particles {
                (problem, stopAsked) = Self.particleVerdicts(problem, stopAsked: signals.signal != nil, share: particles, store: store, gradients: gradients,
                                                             loss: risk, lossName: task.lossName, initialLoss: initialRisk)
            }
            // Counted for the updates of this session (the last step's evaluation makes no update).
            if step < total { stepBytesSent += (group?.bytesSent ?? 0) - sentBefore }
            if let bad = problem {
                let message = "step \(step): \(bad) (diverged); " + Divergence.advice(config: config, step: step, firstStep: start,
                                                                                   resumedFrom: begin.checkpointPath, lastCheckpoint: lastCheckpoint)
                let result = try stop("diverged", step: step, message: message)
                // Every rank sees the same sum: rank 0 reports it, the others end quietly.
                guard isWriter else { return result }
                throw RunError(message)
            }
            let logDue = task.logDue(step: step) || config.logDue(step: step, lastStep: total, stepsPerEpoch: plan.stepsPerEpoch)
            // Particle-parallel: every rank computes the line on the whole model (its evaluations are collectives).
            if logDue, isWriter || particles != nil {
                let (wholeStore, wholeGradients) = particles.map { share in
                    (share.gathered(store), share.gathered(gradients, of: store))
                } ?? (store, gradients)
                var line = task.metrics(wholeStore, step: step, batchRisk: risk)
                line.numbers["step"] = Double(step)
                line.numbers["t"] = meanFieldTime
                line.numbers["lr"] = schedule.rate(atUpdate: step)
                line.numbers["param_norm"] = wholeStore.squaredNorm.squareRoot()
                line.numbers["grad_norm"] = TrainingMetrics.squaredNorm(wholeGradients).squareRoot()
                if let perEpoch = plan.stepsPerEpoch, config.epochs > 0 { line.numbers["epoch"] = Double(step) / Double(perEpoch) }
                if window.steps > 0 {
                    line.numbers["batch_loss"] = window.sum / Double(window.steps)
                    if task.logsTrainingSeconds { line.numbers["train_seconds"] = window.seconds }
                }
                try directory?.appendMetrics(numbers: line.numbers, lists: line.lists)
                try tensorBoard?.add(step: step, numbers: line.numbers, lists: line.lists)
                try tensorBoard?.flush()
                if step == 0 { initial = Self.taskNumbers(line.numbers) }
                lastLogged = Self.taskNumbers(line.numbers)
                window = LossWindow()
                if printReport, let text = task.consoleLine(step: step, numbers: line.numbers) {
                    progress?.finish()
                    print(text)
                }
            }
            let checkpointDue = config.checkpointDue(step: step, lastStep: total, stepsPerEpoch: plan.stepsPerEpoch)
            if checkpointDue && !(resume && step == start) { try saveCheckpoint(step: step, window: windowBeforeStep) }
            progress?.update(completed: step, fields: String(format: "t=%.3f  %@=%.5g", meanFieldTime, task.lossSymbol, risk))
            if step == haltAfterStep {
                progress?.finish()
                return summary("halted", step: step, message: "halted after step \(step)")
            }
            guard step < total else { break }
            let updateStart = Date()
            let rate = schedule.rate(atUpdate: step)
            optimizer.step(&store, gradients: gradients, learningRate: rate)
            meanFieldTime += optimizer.meanFieldTime(ofStepAt: rate)
            // A step's time: forward, backward and update (not the metrics line or the checkpoint).
            let seconds = computeSeconds + Date().timeIntervalSince(updateStart)
            window.add(risk, seconds: seconds)
            stepSeconds += seconds
            sessionSteps += 1
            // SIGINT/SIGTERM: checkpoint θ_{k+1} (the file a run checkpointing every step writes) and stop.
            if let signal = group == nil ? signals.signal : stopAsked ? signals.signal ?? SIGTERM : nil {
                try saveCheckpoint(step: step + 1, window: window)
                let message = "stopped by \(StopRequest.name(of: signal)) before step \(step + 1) of \(total); "
                    + "checkpoint \(lastCheckpoint ?? ""); continue with: meanfield train --resume \(path)"
                _ = try stop("interrupted", step: step + 1, message: message)
                throw RunInterrupted(signal: signal, message: isWriter ? message : "")
            }
        }
        progress?.finish()
        if let directory { try task.finish(directory: directory, printReport: printReport) }
        let result = summary("completed", step: total, message: nil)
        try directory?.writeSummary(result)
        return result
    }
}

extension TrainingRun {
    /// Step k's R and ∇R over the K ranks of `group`: each rank's share (``TrainingTask/riskAndGradients(_:step:shard:)``)
    /// weighted by its n_r, summed in rank order, divided by B = Σ n_r; the stop flags are summed too.
    /// One buffer [n_r·R_r, n_r, stop, n_r·∇R_r …] per rank, in the run's precision (a Float32 run
    /// sends half the bytes of a Float64 one).
    static func dataParallelStep(_ task: inout Task, _ store: ParameterStore<Scalar>, step: Int, group: ProcessGroup,
                                 stopAsked: Bool) throws -> (risk: Double, gradients: [Tensor<Scalar>], stopAsked: Bool) {
        let share = try task.riskAndGradients(store, step: step, shard: BatchShard(index: group.rank, count: group.size))
        if let floats = share.gradients as? [Tensor<Float>] {
            let sum = summedShares(floats, risk: share.risk, examples: share.examples, stopAsked: stopAsked) { group.sumInRankOrder(&$0) }
            return (sum.risk, sum.gradients as! [Tensor<Scalar>], sum.stopAsked)
        }
        let doubles = share.gradients.map { ($0 as? Tensor<Double>) ?? $0.converted(to: Double.self) }
        let sum = summedShares(doubles, risk: share.risk, examples: share.examples, stopAsked: stopAsked) { group.sumInRankOrder(&$0) }
        return (sum.risk, sum.gradients.map { ($0 as? Tensor<Scalar>) ?? $0.converted(to: Scalar.self) }, sum.stopAsked)
    }

    /// Particle-parallel: whether any rank saw a diverging step and whether any was asked to stop, summed
    /// over the ranks so that every rank takes the same branch. A rank's own verdict covers its share of
    /// θ and ∇R; when some rank's is bad, the message is recomputed on the whole model (gathered).
    static func particleVerdicts(_ local: String?, stopAsked: Bool, share: ParticleShare, store: ParameterStore<Scalar>,
                                 gradients: [Tensor<Scalar>], loss: Double, lossName: String, initialLoss: Double) -> (problem: String?, stopAsked: Bool) {
        var flags = [local == nil ? 0.0 : 1.0, stopAsked ? 1 : 0]
        share.group.sumInRankOrder(&flags)
        guard flags[0] > 0 else { return (nil, flags[1] > 0) }
        let wholeStore = share.gathered(store), wholeGradients = share.gathered(gradients, of: store)
        let problem = Divergence.problem(loss: loss, lossName: lossName, initialLoss: initialLoss, objective: nil,
                                         gradients: wholeGradients, store: wholeStore)
        return (problem ?? local ?? "a parameter or gradient of another rank's particles is not finite", flags[1] > 0)
    }

    /// Every rank must start from the same step (the same checkpoint): rank 0's is broadcast and compared.
    static func checkSameStart(_ start: Int, group: ProcessGroup) throws {
        var value = [Double(start)]
        group.broadcast(&value, from: 0)
        guard Int(value[0]) == start else {
            throw RunError("--distributed data: rank \(group.rank) would resume from step \(start) but rank 0 from step \(Int(value[0])); "
                           + "every rank must see the same run folder (a shared filesystem)")
        }
    }

    /// The keys the driver adds to every metrics line (the rest are the task's).
    static var driverKeys: Set<String> { ["step", "t", "lr", "param_norm", "grad_norm", "epoch", "batch_loss", "train_seconds"] }

    /// The task's numbers of a metrics line: what the summary keeps as `initial` and `final`.
    static func taskNumbers(_ numbers: [String: Double]) -> [String: Double] { numbers.filter { !driverKeys.contains($0.key) } }
}

/// The ranks' shares [n_r·R_r, n_r, stop, n_r·∇R_r …] in `S`, summed by `sum` (in rank order), divided by B.
@_specialize(where S == Float)
@_specialize(where S == Double)
private func summedShares<S: TensorScalar>(_ gradients: [Tensor<S>], risk: Double, examples: Int, stopAsked: Bool,
                                           sum: (inout [S]) -> Void) -> (risk: Double, gradients: [Tensor<S>], stopAsked: Bool) {
    let weight = S(examples)
    var buffer: [S] = [weight * S(risk), weight, stopAsked ? 1 : 0]
    buffer.reserveCapacity(3 + gradients.reduce(0) { $0 + $1.count })
    for gradient in gradients { gradient.withUnsafeBufferPointer { for value in $0 { buffer.append(weight * value) } } }
    sum(&buffer)
    let total = buffer[1]
    var offset = 3
    let summed = gradients.map { gradient in
        defer { offset += gradient.count }
        return Tensor<S>(shape: gradient.shape) { out in for index in out.indices { out[index] = buffer[offset + index] / total } }
    }
    return (Double(buffer[0]) / Double(total), summed, buffer[2] > 0)
}

/// The batch losses of the steps since the last metrics line (logged as their mean, `batch_loss`).
/// Saved in checkpoints so that a resumed run logs the same mean as an uninterrupted one.
struct LossWindow {
    var sum = 0.0, steps = 0, seconds = 0.0

    init() {}

    mutating func add(_ loss: Double, seconds elapsed: Double) {
        sum += loss
        steps += 1
        seconds += elapsed
    }

    /// The checkpoint's `rng` metadata: this window and the task's random state.
    func checkpointState(task: String) -> String {
        String(format: "{\"batch_loss_seconds\":%.17g,\"batch_loss_steps\":%d,\"batch_loss_sum\":%.17g,\"task\":", seconds, steps, sum) + task + "}"
    }

    /// The window saved in a checkpoint's state; checkpoints written before the window was saved
    /// (an image run's mid-epoch `{"epoch":e,"batch":b,"batch_loss_sum":s}`) count `batch` steps.
    init(checkpointState state: String, path: String) throws {
        func field(_ key: String) -> Substring? {
            guard let range = state.range(of: "\"\(key)\":") else { return nil }
            return state[range.upperBound...].prefix { !",}".contains($0) }
        }
        // Parsed with Double(_:), exact for the %.17g it was written with.
        guard let sumText = field("batch_loss_sum") else { return }
        guard let sum = Double(sumText), let steps = Int(field("batch_loss_steps") ?? field("batch") ?? "") else {
            throw RunError("\(path): unreadable batch-loss state in the checkpoint metadata (rng = \(state)); resume from an earlier checkpoint by moving this one away")
        }
        (self.sum, self.steps) = (sum, steps)
        seconds = field("batch_loss_seconds").flatMap { Double($0) } ?? 0
    }
}
