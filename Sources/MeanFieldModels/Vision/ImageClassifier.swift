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

    public init(network: MeanFieldResNet) { self.network = network }

    public func initialParameters(seed: UInt64) -> ParameterStore<Scalar> { network.initialParameters(seed: seed) }

    public mutating func riskAndGradients(_ store: ParameterStore<Scalar>, images: Tensor<Scalar>, labels: [Int]) -> (risk: Double, gradients: [Tensor<Scalar>]) {
        network.riskAndGradients(store, inputs: flattened(images), targets: .classification(labels: labels))
    }

    public mutating func evaluate(_ store: ParameterStore<Scalar>, images: Tensor<Scalar>, labels: [Int]) -> (risk: Double, logits: Tensor<Scalar>) {
        let result = network.evaluate(store, inputs: flattened(images), targets: .classification(labels: labels))
        return (result.risk, result.outputs)
    }

    func flattened(_ images: Tensor<Scalar>) -> Tensor<Scalar> {
        images.reshaped([images.shape[0], images.count / max(1, images.shape[0])])
    }
}
