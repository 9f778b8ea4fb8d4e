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
        return TaskPlan(totalSteps: config.steps, stepsPerEpoch: batchSize < config.trainSize ? stepsPerEpoch : nil)
    }

    public func initialParameters() -> ParameterStore<Scalar> { network!.initialParameters(seed: config.seed) }

    public mutating func riskAndGradients(_ store: ParameterStore<Scalar>, step: Int) -> (risk: Double, gradients: [Tensor<Scalar>]) {
        var batch = train!
        if batchSize < config.trainSize {
            var random = PhiloxRandom(seed: config.seed, stream: Self.orderStreamBase + UInt64(step / stepsPerEpoch))
            let order = Array(0..<config.trainSize).shuffled(using: &random)
            let position = step % stepsPerEpoch
            let indices = Array(order[(position * batchSize)..<((position + 1) * batchSize)])
            batch = (batch.inputs.gathering(indices, alongAxis: 0), batch.targets.gathering(indices, alongAxis: 0))
        }
        return network!.riskAndGradients(store, inputs: batch.inputs, targets: .regression(values: batch.targets))
    }

    private func risk(_ store: ParameterStore<Scalar>, on set: (inputs: Tensor<Scalar>, targets: Tensor<Scalar>)) -> Double {
        network!.evaluate(store, inputs: set.inputs, targets: .regression(values: set.targets)).risk
    }

    public func logDue(step: Int) -> Bool { config.ntkEvery > 0 && step % config.ntkEvery == 0 }

    public mutating func metrics(_ store: ParameterStore<Scalar>, step: Int, batchRisk: Double) -> TaskMetrics {
        let trainRisk = batchSize < config.trainSize ? risk(store, on: train!) : batchRisk
        var numbers = ["R": trainRisk, "Q": penalty.objective(risk: trainRisk, store: store), "eval_R": risk(store, on: eval!)]
        if config.ntkEvery > 0 && (step % config.ntkEvery == 0 || step == config.steps) {
            let spectrum = NeuralTangentKernel.spectrum(model: network!, store: store.converted(to: Double.self),
                                                        inputs: train!.inputs.converted(to: Double.self),
                                                        targets: train!.targets.converted(to: Double.self))
            numbers["ntk_lambda_min"] = spectrum.lambdaMin
            numbers["ntk_lambda_max"] = spectrum.lambdaMax
            numbers["pl_constant"] = spectrum.plConstant
            numbers["dissipation_rate"] = spectrum.dissipationRate
        }
        return TaskMetrics(numbers: numbers)
    }

    public mutating func finalMetrics(_ store: ParameterStore<Scalar>, lastLogged: [String: Double]) -> [String: Double] {
        let trainRisk = risk(store, on: train!)
        return ["R": trainRisk, "Q": penalty.objective(risk: trainRisk, store: store), "eval_R": risk(store, on: eval!)]
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
