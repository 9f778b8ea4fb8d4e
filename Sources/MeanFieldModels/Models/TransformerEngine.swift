import MeanFieldCore

/// What a batch is scored against (theory §1.3).
public enum Targets<Scalar: TensorScalar>: Sendable {
    /// Regression: ŷ = [H^{(L)}]_{labelRow, last token}; R = ½·mean(ŷ − y)². `values`: `[B]`.
    case regression(values: Tensor<Scalar>, labelRow: Int)
    /// Classification: logits from the mean-pooled tokens (or the class token, ``ReadoutKind/classToken``);
    /// R = mean cross-entropy. `labels`: B ints.
    case classification(labels: [Int])
    /// The same targets scored against the centred output (f − f₀)/γ₀ (theory §1.6, ``OutputCentring``):
    /// `initialOutputs` are f₀, the outputs of the batch at θ₀ (`[B]` or `[B, C]`). The risk, its
    /// gradients and the outputs returned are those of the centred output.
    indirect case centred(Targets, initialOutputs: Tensor<Scalar>, gamma0: Double)
}

/// Computes the risk R of a batch and its gradient ∇R with respect to every parameter of a store.
/// The trainer and every experiment talk to a model only through this: the autodiff reference
/// (``AutodiffEngine``) and hand-fused fast paths are interchangeable, and tests check that they agree.
public protocol TransformerEngine {
    associatedtype Scalar: TensorScalar
    /// The model this engine computes.
    var config: TransformerConfig { get }
    /// R and ∇R (one tensor per parameter, in `store.names` order, each of its parameter's shape).
    /// `tokens`: `[B, D, n]`.
    mutating func riskAndGradients(_ store: ParameterStore<Scalar>, tokens: Tensor<Scalar>, targets: Targets<Scalar>) -> (risk: Double, gradients: [Tensor<Scalar>])
    /// The same, and with `withInputGradient` also ∂R/∂tokens (`[B, D, n]`, the layout of `tokens`),
    /// for models whose tokens are themselves computed from parameters (the ViT's patch and position
    /// embeddings). `inputGradient` is nil when not asked for.
    mutating func riskAndGradients(_ store: ParameterStore<Scalar>, tokens: Tensor<Scalar>, targets: Targets<Scalar>,
                                   withInputGradient: Bool) -> (risk: Double, gradients: [Tensor<Scalar>], inputGradient: Tensor<Scalar>?)
    /// R and the model outputs (predictions `[B]` or logits `[B, C]`) without gradients.
    mutating func evaluate(_ store: ParameterStore<Scalar>, tokens: Tensor<Scalar>, targets: Targets<Scalar>) -> (risk: Double, outputs: Tensor<Scalar>)
}

/// The reference engine: ``MeanFieldTransformer`` on the reverse-mode autodiff core.
public struct AutodiffEngine<Scalar: TensorScalar>: TransformerEngine {
    public let model: MeanFieldTransformer
    public var config: TransformerConfig { model.config }

    public init(config: TransformerConfig) { model = MeanFieldTransformer(config: config) }

    public mutating func riskAndGradients(_ store: ParameterStore<Scalar>, tokens: Tensor<Scalar>, targets: Targets<Scalar>) -> (risk: Double, gradients: [Tensor<Scalar>]) {
        let result = riskAndGradients(store, tokens: tokens, targets: targets, withInputGradient: false)
        return (result.risk, result.gradients)
    }

    public mutating func riskAndGradients(_ store: ParameterStore<Scalar>, tokens: Tensor<Scalar>, targets: Targets<Scalar>,
                                          withInputGradient: Bool) -> (risk: Double, gradients: [Tensor<Scalar>], inputGradient: Tensor<Scalar>?) {
        let variables = store.names.map { Variable(store[$0]) }
        let input = Variable(tokens, requiresGradient: withInputGradient)
        let (risk, _) = riskGraph(Dictionary(uniqueKeysWithValues: zip(store.names, variables)), tokens: input, targets: targets)
        var all = gradients(of: risk, withRespectTo: withInputGradient ? variables + [input] : variables)
        let inputGradient = withInputGradient ? all.removeLast() : nil
        return (Double(risk.value.scalar), all, inputGradient)
    }

    public mutating func evaluate(_ store: ParameterStore<Scalar>, tokens: Tensor<Scalar>, targets: Targets<Scalar>) -> (risk: Double, outputs: Tensor<Scalar>) {
        let constants = Dictionary(uniqueKeysWithValues: store.names.map { ($0, Variable.constant(store[$0])) })
        let (risk, outputs) = riskGraph(constants, tokens: Variable.constant(tokens), targets: targets)
        return (Double(risk.value.scalar), outputs.value)
    }

    /// R = ½·mean(ŷ − y)² (regression) or mean cross-entropy (classification), and the outputs
    /// (centred, (f − f₀)/γ₀, for ``Targets/centred(_:initialOutputs:gamma0:)``).
    func riskGraph(_ parameters: [String: Variable<Scalar>], tokens: Variable<Scalar>, targets: Targets<Scalar>) -> (risk: Variable<Scalar>, outputs: Variable<Scalar>) {
        let output = model.forward(tokens, parameters: parameters)
        let (base, centring) = targets.parts
        var outputs: Variable<Scalar>
        switch base {
        case let .regression(_, labelRow): outputs = model.regressionReadout(output, labelRow: labelRow)
        case .classification: outputs = model.classificationReadout(output, parameters: parameters)
        case .centred: preconditionFailure("unreachable: parts unwraps the centring")
        }
        if let centring { outputs = (outputs - Variable.constant(centring.offset)) * centring.scale }
        switch base {
        case let .regression(values, _): return ((outputs - Variable.constant(values)).squared().mean() * Scalar(0.5), outputs)
        case let .classification(labels): return (outputs.crossEntropy(labels: labels), outputs)
        case .centred: preconditionFailure("unreachable: parts unwraps the centring")
        }
    }
}
