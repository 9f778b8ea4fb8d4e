import MeanFieldCore

/// A network that classifies images: what ``ImageClassificationTask`` needs from a model. The Vision
/// Transformer and the mean-field ResNets (on flattened images) conform.
public protocol ImageClassifier<Scalar> {
    associatedtype Scalar: TensorScalar
    /// Fresh parameters drawn from `seed`.
    func initialParameters(seed: UInt64) -> ParameterStore<Scalar>
    /// R (mean cross-entropy) of a batch `[B, C, H, W]` and ∇R in `store.names` order.
    mutating func riskAndGradients(_ store: ParameterStore<Scalar>, images: Tensor<Scalar>, labels: [Int]) -> (risk: Double, gradients: [Tensor<Scalar>])
    /// R and the logits `[B, classes]`, without gradients.
    mutating func evaluate(_ store: ParameterStore<Scalar>, images: Tensor<Scalar>, labels: [Int]) -> (risk: Double, logits: Tensor<Scalar>)
}

extension VisionTransformer: ImageClassifier {}

/// A ``MeanFieldResNet`` on images flattened to vectors of C·H·W pixels (theory §5's image runs).
public struct ResNetImageClassifier<Scalar: TensorScalar>: ImageClassifier {
    public let network: MeanFieldResNet
    /// The centred output (logits − logits at θ₀)/γ₀ of theory §1.6 (train key `gamma0`); nil: the logits.
    public var centring: OutputCentring<Scalar>?

    public init(network: MeanFieldResNet) { self.network = network }

    public func initialParameters(seed: UInt64) -> ParameterStore<Scalar> { network.initialParameters(seed: seed) }

    public mutating func riskAndGradients(_ store: ParameterStore<Scalar>, images: Tensor<Scalar>, labels: [Int]) -> (risk: Double, gradients: [Tensor<Scalar>]) {
        let inputs = flattened(images)
        return network.riskAndGradients(store, inputs: inputs, targets: targets(inputs, labels: labels))
    }

    public mutating func evaluate(_ store: ParameterStore<Scalar>, images: Tensor<Scalar>, labels: [Int]) -> (risk: Double, logits: Tensor<Scalar>) {
        let inputs = flattened(images)
        let result = network.evaluate(store, inputs: inputs, targets: targets(inputs, labels: labels))
        return (result.risk, result.outputs)
    }

    /// The labels, centred at θ₀'s logits of this batch when ``centring`` is set.
    func targets(_ inputs: Tensor<Scalar>, labels: [Int]) -> ResNetTargets<Scalar> {
        let plain = ResNetTargets<Scalar>.classification(labels: labels)
        guard let centring else { return plain }
        return plain.centredOutput(initialOutputs: network.evaluate(centring.initial, inputs: inputs, targets: plain).outputs, gamma0: centring.gamma0)
    }

    func flattened(_ images: Tensor<Scalar>) -> Tensor<Scalar> {
        images.reshaped([images.shape[0], images.count / max(1, images.shape[0])])
    }
}
