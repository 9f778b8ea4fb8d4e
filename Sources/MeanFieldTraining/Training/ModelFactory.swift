import MeanFieldCore
import MeanFieldModels

/// What a ``TrainConfig`` builds, whichever network it names: the parameter count by formula,
/// the initial parameters, and the image classifier of an image task.
extension TrainConfig {
    /// Trained scalars of the config's network, without allocating it.
    public var parameterCount: Double {
        if let vision = visionModel { return vision.transformer.parameterCount + vision.embeddingParameterCount }
        if let resNet { return resNet.parameterCount }
        return transformer.parameterCount
    }

    /// The network's initial parameters for the config's seed.
    public func initialParameters<Scalar: TensorScalar>(as _: Scalar.Type = Scalar.self) -> ParameterStore<Scalar> {
        if let vision = visionModel { return VisionTransformer<Scalar>(config: vision).initialParameters(seed: seed) }
        if let resNet { return MeanFieldResNet(config: resNet, seed: seed).initialParameters(seed: seed) }
        return MeanFieldTransformer(config: transformer).initialParameters(seed: seed)
    }

    /// The classifier an image task trains: the ViT on `engine`, or a ResNet on flattened images;
    /// with `gamma0`, its logits centred at the initial parameters (theory §1.7). `particles`: this
    /// rank's share of the ViT's heads and units in particle-parallel training.
    public func imageClassifier<Scalar: TensorScalar>(engine kind: EngineKind, particles: ParticleShare? = nil,
                                                      as _: Scalar.Type = Scalar.self) -> (any ImageClassifier<Scalar>)? {
        if let vision = visionModel {
            var model = VisionTransformer<Scalar>(config: vision, engine: kind, particles: particles)
            if let gamma0 { model.centring = OutputCentring(initial: model.initialParameters(seed: seed), gamma0: gamma0) }
            return model
        }
        if isImageTask, let resNet {
            var model = ResNetImageClassifier<Scalar>(network: MeanFieldResNet(config: resNet, seed: seed))
            if let gamma0 { model.centring = OutputCentring(initial: model.initialParameters(seed: seed), gamma0: gamma0) }
            return model
        }
        return nil
    }
}
