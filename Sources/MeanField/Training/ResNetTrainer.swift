import Foundation
import MeanFieldCore

/// The training loop of `meanfield train --model resnet|rff-resnet --task teacher-regression`: a
/// ``MeanFieldResNet`` on ``TeacherRegression`` with square loss, any ``Optimizer`` and schedule,
/// in mean-field time (theory §1.4, §4: particles keep their layer, flow scale L·M).
///
/// Step k (k = 0 … steps) computes R and ∇R at θ_k on its batch (the whole training set, or an
/// epoch permutation's slice), checks for NaN/Inf, logs a metrics line (step, t, lr, R on the
/// training set, eval_R, Q, grad_norm, param_norm) every `log-every` steps, and every `ntk-every`
/// steps also the NTK Gram matrix's ntk_lambda_min, ntk_lambda_max, the PL constant
/// pl_constant = 2λ_min(K)/n and dissipation_rate = −(dR/dt)/R of the flow (≥ pl_constant:
/// ``NeuralTangentKernel``), computed in Double on the training set. Checkpoints and `--resume`
/// follow ``Trainer``: a checkpoint of step k holds θ_k; the resumed log equals an uninterrupted one.
public struct ResNetTrainer {
    public typealias Scalar = Float
    public static let orderStreamBase: UInt64 = 1 << 40

    public let config: TrainConfig
    public var showProgress = true

    public init(config: TrainConfig) { self.config = config }

    public mutating func run(directory path: String, resume: Bool = false) throws -> TrainSummary {
        let started = Date()
        guard let resNet = config.resNet, config.task == TrainConfig.teacherRegressionTask else {
            throw RunError("ResNetTrainer trains --model resnet|rff-resnet on --task teacher-regression")
        }
        let network = MeanFieldResNet(config: resNet, seed: config.seed)
        let task = TeacherRegression(inputDimension: config.inputDim, noise: config.noise, seed: config.seed)
        var trainRandom = PhiloxRandom(seed: config.seed, stream: TeacherRegression.trainStream)
        var evalRandom = PhiloxRandom(seed: config.seed, stream: TeacherRegression.evalStream)
        let train: (inputs: Tensor<Scalar>, targets: Tensor<Scalar>) = task.sample(config.trainSize, random: &trainRandom)
        let eval: (inputs: Tensor<Scalar>, targets: Tensor<Scalar>) = task.sample(config.evalSize, random: &evalRandom)
        let batchSize = config.resolvedBatchSize
        let stepsPerEpoch = max(1, config.trainSize / batchSize)
        func batch(step: Int) -> (inputs: Tensor<Scalar>, targets: Tensor<Scalar>) {
            guard batchSize < config.trainSize else { return train }
            var random = PhiloxRandom(seed: config.seed, stream: Self.orderStreamBase + UInt64(step / stepsPerEpoch))
            let order = Array(0..<config.trainSize).shuffled(using: &random)
            let position = step % stepsPerEpoch
            let indices = Array(order[(position * batchSize)..<((position + 1) * batchSize)])
            return (train.inputs.gathering(indices, alongAxis: 0), train.targets.gathering(indices, alongAxis: 0))
        }

        let checkpointDirectory = path + "/checkpoints"
        let gitCommit = MeanFieldVersion.gitCommit()
        var store: ParameterStore<Scalar>
        var optimizer: any Optimizer<Scalar>
        var startStep = 0, meanFieldTime = 0.0, initialRisk = Double.nan
        var lastCheckpoint: String?
        let begin = resume ? try TrainingStart<Scalar>.resuming(path: path, config: config)
            : try TrainingStart<Scalar>.fresh(path: path, config: config, store: network.initialParameters(seed: config.seed))
        store = begin.store
        optimizer = begin.optimizer
        if let checkpoint = begin.checkpoint {
            guard checkpoint.step <= config.steps else {
                throw RunError("--resume \(path): the run is already at step \(checkpoint.step); give --steps > \(checkpoint.step) to continue it")
            }
            (startStep, meanFieldTime, initialRisk, lastCheckpoint) = (checkpoint.step, checkpoint.meanFieldTime, checkpoint.initialRisk, begin.checkpointPath)
        }
        let directory = resume ? try RunDirectory(path: path, keepingMetrics: { line in Trainer<AnyTransformerEngine<Scalar>>.loggedStep(line).map { $0 < startStep } ?? false })
            : try RunDirectory(path: path)
        try begin.prepare(directory, path: path, config: config, resumeManifest: String(format: "manifest-resume-step-%08d.json", startStep), scalarType: "f32")

        let schedule = config.learningRateSchedule
        let penalty = GradientFlow(learningRate: 0, weightDecay: config.weightDecay)
        let progress = showProgress ? ProgressLine(total: config.steps, start: startStep) : nil
        func risk(_ set: (inputs: Tensor<Scalar>, targets: Tensor<Scalar>)) -> Double {
            network.evaluate(store, inputs: set.inputs, targets: .regression(values: set.targets)).risk
        }
        func summary(_ status: String, message: String?) -> TrainSummary {
            let finalRisk = risk(train)
            return TrainSummary(status: status, steps: config.steps, meanFieldTime: meanFieldTime, initialTrainRisk: initialRisk,
                                finalTrainRisk: finalRisk, finalObjective: penalty.objective(risk: finalRisk, store: store),
                                finalEvalRisk: risk(eval), resumedFromStep: resume ? startStep : nil, lastCheckpoint: lastCheckpoint,
                                message: message, wallSeconds: Date().timeIntervalSince(started), peakMemoryBytes: ProcessSetup.peakMemoryBytes())
        }
        func saveCheckpoint(step: Int) throws {
            let file = checkpointDirectory + "/" + TrainingCheckpoint<Scalar>.fileName(step: step)
            try TrainingCheckpoint(config: config, step: step, meanFieldTime: meanFieldTime, parameters: store,
                                   optimizerState: [:], optimizerKind: config.optimizer, optimizerUpdates: optimizer.updates,
                                   initialRisk: initialRisk, randomState: "{\"seed\":\(config.seed),\"epoch\":\(step / stepsPerEpoch),\"batch_in_epoch\":\(step % stepsPerEpoch)}")
                .write(to: file, optimizerTensors: optimizer.stateTensors, gitCommit: gitCommit)
            lastCheckpoint = file
        }

        let stop = StopRequest()
        for step in startStep...config.steps {
            let current = batch(step: step)
            let (batchRisk, gradients) = network.riskAndGradients(store, inputs: current.inputs, targets: .regression(values: current.targets))
            let objective = penalty.objective(risk: batchRisk, store: store)
            if step == 0 { initialRisk = batchRisk }
            if let bad = Divergence.problem(loss: batchRisk, lossName: "training risk R", initialLoss: initialRisk, objective: objective,
                                            gradients: gradients, store: store) {
                progress?.finish()
                let kept = lastCheckpoint.map { "the last good checkpoint is \($0)" } ?? "no checkpoint was written (use --checkpoint-every)"
                let message = "step \(step): \(bad) (diverged); \(kept); " + Divergence.hint(learningRate: config.lr, weightDecay: config.weightDecay)
                try Trainer<AnyTransformerEngine<Scalar>>.writeSummary(directory, summary("diverged", message: message))
                throw RunError(message)
            }
            let ntkDue = config.ntkEvery > 0 && (step % config.ntkEvery == 0 || step == config.steps)
            if step % config.logEvery == 0 || step == config.steps || ntkDue {
                let trainRisk = batchSize < config.trainSize ? risk(train) : batchRisk
                var numbers: [String: Double] = [
                    "step": Double(step), "t": meanFieldTime, "lr": schedule.rate(atUpdate: step), "R": trainRisk,
                    "Q": penalty.objective(risk: trainRisk, store: store), "eval_R": risk(eval),
                    "grad_norm": TrainingMetrics.squaredNorm(gradients).squareRoot(), "param_norm": store.squaredNorm.squareRoot(),
                ]
                if ntkDue {
                    let spectrum = NeuralTangentKernel.spectrum(model: network, store: store.converted(to: Double.self),
                                                                inputs: train.inputs.converted(to: Double.self),
                                                                targets: train.targets.converted(to: Double.self))
                    numbers["ntk_lambda_min"] = spectrum.lambdaMin
                    numbers["ntk_lambda_max"] = spectrum.lambdaMax
                    numbers["pl_constant"] = spectrum.plConstant
                    numbers["dissipation_rate"] = spectrum.dissipationRate
                }
                try directory.appendMetricsLine(TrainingMetrics.jsonLine(numbers, lists: [:]))
            }
            let checkpointDue = config.checkpointEvery > 0 && step % config.checkpointEvery == 0
            if (checkpointDue || step == config.steps) && !(resume && step == startStep) { try saveCheckpoint(step: step) }
            progress?.update(completed: step, fields: String(format: "t=%.3f  R=%.5g", meanFieldTime, batchRisk))
            if step < config.steps {
                let rate = schedule.rate(atUpdate: step)
                optimizer.step(&store, gradients: gradients, learningRate: rate)
                meanFieldTime += rate
                if let signal = stop.signal {
                    progress?.finish()
                    try saveCheckpoint(step: step + 1)
                    let message = "stopped by \(StopRequest.name(of: signal)) before step \(step + 1) of \(config.steps); "
                        + "checkpoint \(lastCheckpoint ?? ""); continue with: meanfield train --resume \(path)"
                    try Trainer<AnyTransformerEngine<Scalar>>.writeSummary(directory, summary("interrupted", message: message))
                    throw RunInterrupted(signal: signal, message: message)
                }
            }
        }
        progress?.finish()
        let result = summary("completed", message: nil)
        try Trainer<AnyTransformerEngine<Scalar>>.writeSummary(directory, result)
        return result
    }
}
