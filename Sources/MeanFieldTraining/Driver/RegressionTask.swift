import Foundation
import MeanFieldCore
import MeanFieldModels

/// In-context linear regression (theory §1.1) with the mean-field Transformer on any
/// ``TransformerEngine``: the task of `meanfield train` (and `meanfield demo`).
///
/// Step k's batch is ``RegressionData/batch(step:)``. A metrics line of θ_k holds R (step k's
/// batch), Q = R + (λ/2)|θ|² (theory §1.3), eval_R (the fixed evaluation set) and the particle
/// spread per layer (`spread_attention`, `spread_ffn`). The summary's final R and Q are on the
/// whole fixed training set (the last batch's R with fresh prompts).
public struct RegressionTask<Engine: TransformerEngine>: TrainingTask {
    public typealias Scalar = Engine.Scalar
    /// The resolved config (``TrainConfig/resolved(defaultThreads:)``).
    public let config: TrainConfig
    public var engine: Engine
    private var data: RegressionData<Scalar>
    private let penalty: GradientFlow
    /// θ₀ of the centred output (f − f₀)/γ₀ (`gamma0`, theory §1.7), and f₀ on the evaluation set.
    private let initial: ParameterStore<Scalar>?
    private var evalOffsets: Tensor<Scalar>?

    public init(config: TrainConfig, engine: Engine) {
        self.config = config
        self.engine = engine
        data = RegressionData(config: config)
        penalty = GradientFlow(learningRate: 0, weightDecay: config.weightDecay)
        initial = config.gamma0 == nil ? nil : config.initialParameters()
    }

    /// The regression targets of `tokens`, centred at θ₀'s predictions of them with `gamma0`
    /// (`offsets`: those predictions when already known).
    private mutating func targets(_ tokens: Tensor<Scalar>, _ values: Tensor<Scalar>, offsets: Tensor<Scalar>? = nil) -> Targets<Scalar> {
        let plain = Targets<Scalar>.regression(values: values, labelRow: data.task.labelRow)
        guard let initial else { return plain }
        return plain.centredOutput(initialOutputs: offsets ?? engine.evaluate(initial, tokens: tokens, targets: plain).outputs, gamma0: config.gamma0)
    }

    public func prepare() throws -> TaskPlan {
        TaskPlan(totalSteps: config.steps, stepsPerEpoch: data.train == nil ? nil : data.stepsPerEpoch)
    }

    public func initialParameters() -> ParameterStore<Scalar> { config.initialParameters() }

    public mutating func riskAndGradients(_ store: ParameterStore<Scalar>, step: Int) -> (risk: Double, gradients: [Tensor<Scalar>]) {
        let batch = data.batch(step: step)
        let targets = targets(batch.tokens, batch.targets)
        return engine.riskAndGradients(store, tokens: batch.tokens, targets: targets)
    }

    public mutating func riskAndGradients(_ store: ParameterStore<Scalar>, step: Int, shard: BatchShard) throws -> (risk: Double, gradients: [Tensor<Scalar>], examples: Int) {
        let batch = data.batch(step: step)
        let tokens = try shard.slice(batch.tokens, what: "prompts"), values = try shard.slice(batch.targets, what: "prompts")
        let (risk, gradients) = engine.riskAndGradients(store, tokens: tokens, targets: targets(tokens, values))
        return (risk, gradients, tokens.shape[0])
    }

    private mutating func risk(_ store: ParameterStore<Scalar>, on set: (tokens: Tensor<Scalar>, targets: Tensor<Scalar>)) -> Double {
        let targets = targets(set.tokens, set.targets)
        return engine.evaluate(store, tokens: set.tokens, targets: targets).risk
    }

    /// R on the evaluation set (its f₀ computed once).
    private mutating func evalRisk(_ store: ParameterStore<Scalar>) -> Double {
        let eval = data.eval
        if let initial, evalOffsets == nil {
            let plain = Targets<Scalar>.regression(values: eval.targets, labelRow: data.task.labelRow)
            evalOffsets = engine.evaluate(initial, tokens: eval.tokens, targets: plain).outputs
        }
        let targets = targets(eval.tokens, eval.targets, offsets: evalOffsets)
        return engine.evaluate(store, tokens: eval.tokens, targets: targets).risk
    }

    public mutating func metrics(_ store: ParameterStore<Scalar>, step: Int, batchRisk: Double) -> TaskMetrics {
        let spread = TrainingMetrics.particleSpread(store, layers: config.layers)
        var lists = ["spread_attention": spread.attention]
        if !spread.ffn.isEmpty { lists["spread_ffn"] = spread.ffn }
        return TaskMetrics(numbers: ["R": batchRisk, "Q": penalty.objective(risk: batchRisk, store: store),
                                     "eval_R": evalRisk(store)], lists: lists)
    }

    public mutating func finalMetrics(_ store: ParameterStore<Scalar>, lastLogged: [String: Double]) -> [String: Double] {
        var final = lastLogged
        if let train = data.train { final["R"] = risk(store, on: train) }
        if let trainRisk = final["R"] { final["Q"] = penalty.objective(risk: trainRisk, store: store) }
        final["eval_R"] = evalRisk(store)
        return final
    }

    public func randomState(beforeStep step: Int) -> String { data.randomState(beforeStep: step) }
}

/// The regression run of `meanfield train` on an engine.
public typealias Trainer<Engine: TransformerEngine> = TrainingRun<RegressionTask<Engine>>

extension TrainingRun {
    /// A run of in-context regression on `engine`.
    public init<Engine: TransformerEngine>(config: TrainConfig, engine: Engine) where Task == RegressionTask<Engine> {
        self.init(task: RegressionTask(config: config, engine: engine))
    }
}
