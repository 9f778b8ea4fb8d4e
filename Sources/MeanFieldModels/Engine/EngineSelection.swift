import MeanFieldCore

/// Which implementation of the model computes risks and gradients.
public enum EngineKind: String, Codable, Sendable, CaseIterable {
    /// ``FusedTransformerEngine``: hand-written forward/backward (default for training).
    case fused
    /// ``AutodiffEngine``: the reference on the autodiff core (slower; for checks).
    case autodiff
}

/// Either engine behind one concrete type, so a trainer can pick one at run time
/// (`Trainer<AnyTransformerEngine<Float>>`).
public struct AnyTransformerEngine<Scalar: TensorScalar>: TransformerEngine {
    private enum Storage {
        case fused(FusedTransformerEngine<Scalar>)
        case autodiff(AutodiffEngine<Scalar>)
        /// Held only while a call runs, so that the engine being mutated is uniquely referenced
        /// (the fused engine re-plans its workspace when it is shared).
        case moved
    }

    private var storage: Storage
    public let kind: EngineKind
    public var config: TransformerConfig {
        switch storage {
        case let .fused(engine): return engine.config
        case let .autodiff(engine): return engine.config
        case .moved: fatalError("AnyTransformerEngine: used during its own call")
        }
    }

    /// `particles`: this rank's share of a particle-parallel run; `attentionWeights`: where the
    /// attention weights wait for the backward pass (both: the fused engine only).
    public init(config: TransformerConfig, kind: EngineKind = .fused, particles: ParticleShare? = nil,
                attentionWeights: AttentionWeightStorage = .automatic) {
        precondition(particles == nil || kind == .fused, "AnyTransformerEngine: only the fused engine splits particles over processes")
        self.kind = kind
        switch kind {
        case .fused: storage = .fused(FusedTransformerEngine(config: config, particles: particles, attentionWeights: attentionWeights))
        case .autodiff: storage = .autodiff(AutodiffEngine(config: config))
        }
    }

    public mutating func riskAndGradients(_ store: ParameterStore<Scalar>, tokens: Tensor<Scalar>, targets: Targets<Scalar>) -> (risk: Double, gradients: [Tensor<Scalar>]) {
        switch storage {
        case var .fused(engine):
            storage = .moved
            defer { storage = .fused(engine) }
            return engine.riskAndGradients(store, tokens: tokens, targets: targets)
        case var .autodiff(engine):
            storage = .moved
            defer { storage = .autodiff(engine) }
            return engine.riskAndGradients(store, tokens: tokens, targets: targets)
        case .moved: fatalError("AnyTransformerEngine: re-entered")
        }
    }

    public mutating func riskAndGradients(_ store: ParameterStore<Scalar>, tokens: Tensor<Scalar>, targets: Targets<Scalar>,
                                          withInputGradient: Bool) -> (risk: Double, gradients: [Tensor<Scalar>], inputGradient: Tensor<Scalar>?) {
        switch storage {
        case var .fused(engine):
            storage = .moved
            defer { storage = .fused(engine) }
            return engine.riskAndGradients(store, tokens: tokens, targets: targets, withInputGradient: withInputGradient)
        case var .autodiff(engine):
            storage = .moved
            defer { storage = .autodiff(engine) }
            return engine.riskAndGradients(store, tokens: tokens, targets: targets, withInputGradient: withInputGradient)
        case .moved: fatalError("AnyTransformerEngine: re-entered")
        }
    }

    public mutating func evaluate(_ store: ParameterStore<Scalar>, tokens: Tensor<Scalar>, targets: Targets<Scalar>) -> (risk: Double, outputs: Tensor<Scalar>) {
        switch storage {
        case var .fused(engine):
            storage = .moved
            defer { storage = .fused(engine) }
            return engine.evaluate(store, tokens: tokens, targets: targets)
        case var .autodiff(engine):
            storage = .moved
            defer { storage = .autodiff(engine) }
            return engine.evaluate(store, tokens: tokens, targets: targets)
        case .moved: fatalError("AnyTransformerEngine: re-entered")
        }
    }
}

/// The engine of `kind` for `config` (``EngineKind/fused`` unless a check needs the reference).
public func makeEngine<Scalar: TensorScalar>(config: TransformerConfig, kind: EngineKind = .fused, attentionWeights: AttentionWeightStorage = .automatic,
                                             as _: Scalar.Type = Scalar.self) -> AnyTransformerEngine<Scalar> {
    AnyTransformerEngine(config: config, kind: kind, attentionWeights: attentionWeights)
}
