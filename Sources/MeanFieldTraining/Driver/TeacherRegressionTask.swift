import Foundation
import MeanFieldCore
import MeanFieldModels

/// Teacher regression (`meanfield train --model resnet|rff-resnet --task teacher-regression`): a
/// ``MeanFieldResNet`` (theory §4–5: particles keep their layer, flow scale L·M) fitted to a
/// ``TeacherRegression`` with square loss.
///
/// Step k's batch is the whole training set, or with `batch-size` < `train-size` slice k mod S of
/// epoch ⌊k/S⌋'s permutation (Philox stream 2⁴⁰ + epoch). A metrics line of θ_k holds R and
/// Q = R + (λ/2)|θ|² on the whole training set and eval_R; every `ntk-every` steps also the NTK
/// Gram matrix's ntk_lambda_min, ntk_lambda_max, the PL constant pl_constant = 2λ_min(K)/n and
/// dissipation_rate = −(dR/dt)/R of the flow (≥ pl_constant: ``NeuralTangentKernel``), in Double.
/// `Scalar` is the run's precision (``TrainConfig/precision``).
public struct TeacherRegressionTask<Scalar: TensorScalar>: TrainingTask {
    public static var orderStreamBase: UInt64 { 1 << 40 }
    public let config: TrainConfig
    private var network: MeanFieldResNet?
    private var train: (inputs: Tensor<Scalar>, targets: Tensor<Scalar>)?
    private var eval: (inputs: Tensor<Scalar>, targets: Tensor<Scalar>)?
    private let penalty: GradientFlow
    /// θ₀ of the centred output (f − f₀)/γ₀ (`gamma0`, theory §1.7), and f₀ on the training and evaluation sets.
    private var initial: ParameterStore<Scalar>?
    private var trainOffsets: Tensor<Scalar>?, evalOffsets: Tensor<Scalar>?
    private var batchSize: Int { config.resolvedBatchSize }
    private var stepsPerEpoch: Int { max(1, config.trainSize / batchSize) }

    public init(config: TrainConfig) {
        self.config = config
        penalty = GradientFlow(learningRate: 0, weightDecay: config.weightDecay)
    }

    public mutating func prepare() throws -> TaskPlan {
        guard let resNet = config.resNet, config.task == TrainConfig.teacherRegressionTask else {
            throw RunError("teacher regression trains --model resnet|rff-resnet on --task teacher-regression")
        }
        network = MeanFieldResNet(config: resNet, seed: config.seed)
        let teacher = TeacherRegression(inputDimension: config.inputDim, noise: config.noise, seed: config.seed)
        var trainRandom = PhiloxRandom(seed: config.seed, stream: TeacherRegression.trainStream)
        var evalRandom = PhiloxRandom(seed: config.seed, stream: TeacherRegression.evalStream)
        train = teacher.sample(config.trainSize, random: &trainRandom)
        eval = teacher.sample(config.evalSize, random: &evalRandom)
        if config.gamma0 != nil {
            let initial: ParameterStore<Scalar> = network!.initialParameters(seed: config.seed)
            self.initial = initial
            trainOffsets = network!.evaluate(initial, inputs: train!.inputs, targets: .regression(values: train!.targets)).outputs
            evalOffsets = network!.evaluate(initial, inputs: eval!.inputs, targets: .regression(values: eval!.targets)).outputs
        }
        return TaskPlan(totalSteps: config.steps, stepsPerEpoch: batchSize < config.trainSize ? stepsPerEpoch : nil)
    }

    public func initialParameters() -> ParameterStore<Scalar> { network!.initialParameters(seed: config.seed) }

    public mutating func riskAndGradients(_ store: ParameterStore<Scalar>, step: Int) -> (risk: Double, gradients: [Tensor<Scalar>]) {
        var batch = train!
        var offsets = trainOffsets
        if batchSize < config.trainSize {
            var random = PhiloxRandom(seed: config.seed, stream: Self.orderStreamBase + UInt64(step / stepsPerEpoch))
            let order = Array(0..<config.trainSize).shuffled(using: &random)
            let position = step % stepsPerEpoch
            let indices = Array(order[(position * batchSize)..<((position + 1) * batchSize)])
            batch = (batch.inputs.gathering(indices, alongAxis: 0), batch.targets.gathering(indices, alongAxis: 0))
            offsets = offsets?.gathering(indices, alongAxis: 0)
        }
        return network!.riskAndGradients(store, inputs: batch.inputs, targets: targets(batch.targets, offsets: offsets))
    }

    /// Square-loss targets, centred at θ₀'s outputs `offsets` with `gamma0`.
    private func targets(_ values: Tensor<Scalar>, offsets: Tensor<Scalar>?) -> ResNetTargets<Scalar> {
        let plain = ResNetTargets<Scalar>.regression(values: values)
        guard let offsets else { return plain }
        return plain.centredOutput(initialOutputs: offsets, gamma0: config.gamma0)
    }

    private func risk(_ store: ParameterStore<Scalar>, on set: (inputs: Tensor<Scalar>, targets: Tensor<Scalar>), offsets: Tensor<Scalar>?) -> Double {
        network!.evaluate(store, inputs: set.inputs, targets: targets(set.targets, offsets: offsets)).risk
    }

    public func logDue(step: Int) -> Bool { config.ntkEvery > 0 && step % config.ntkEvery == 0 }

    public mutating func metrics(_ store: ParameterStore<Scalar>, step: Int, batchRisk: Double) -> TaskMetrics {
        let trainRisk = batchSize < config.trainSize ? risk(store, on: train!, offsets: trainOffsets) : batchRisk
        var numbers = ["R": trainRisk, "Q": penalty.objective(risk: trainRisk, store: store), "eval_R": risk(store, on: eval!, offsets: evalOffsets)]
        if config.ntkEvery > 0 && (step % config.ntkEvery == 0 || step == config.steps) {
            var targets = train!.targets.converted(to: Double.self)
            var kernelScale = 1.0
            if let gamma0 = config.gamma0, let trainOffsets {
                // The centred output f̃ = (f − f₀)/γ₀ has Jacobian J/γ₀ (K/γ₀²) and residual r̃ = r/γ₀ for the
                // plain model's residual r against the targets f₀ + γ₀y: every number below scales by 1/γ₀².
                let offsets = trainOffsets.converted(to: Double.self)
                targets = Tensor(shape: targets.shape, scalars: zip(offsets.scalars, targets.scalars).map { $0 + gamma0 * $1 })
                kernelScale = 1 / (gamma0 * gamma0)
            }
            let spectrum = NeuralTangentKernel.spectrum(model: network!, store: store.converted(to: Double.self),
                                                        inputs: train!.inputs.converted(to: Double.self), targets: targets)
            numbers["ntk_lambda_min"] = spectrum.lambdaMin * kernelScale
            numbers["ntk_lambda_max"] = spectrum.lambdaMax * kernelScale
            numbers["pl_constant"] = spectrum.plConstant * kernelScale
            numbers["dissipation_rate"] = spectrum.dissipationRate * kernelScale
        }
        return TaskMetrics(numbers: numbers)
    }

    public mutating func finalMetrics(_ store: ParameterStore<Scalar>, lastLogged: [String: Double]) -> [String: Double] {
        let trainRisk = risk(store, on: train!, offsets: trainOffsets)
        return ["R": trainRisk, "Q": penalty.objective(risk: trainRisk, store: store), "eval_R": risk(store, on: eval!, offsets: evalOffsets)]
    }

    public func randomState(beforeStep step: Int) -> String {
        "{\"seed\":\(config.seed),\"epoch\":\(step / stepsPerEpoch),\"batch_in_epoch\":\(step % stepsPerEpoch)}"
    }
}

/// The teacher-regression run of `meanfield train --model resnet|rff-resnet` in float32
/// (`TrainingRun<TeacherRegressionTask<Double>>` for `--precision float64`).
public typealias ResNetTrainer = TrainingRun<TeacherRegressionTask<Float>>

extension TrainingRun {
    public init<Scalar>(config: TrainConfig) where Task == TeacherRegressionTask<Scalar> { self.init(task: TeacherRegressionTask(config: config)) }
}
