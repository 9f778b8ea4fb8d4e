import MeanFieldCore

/// The centred output of theory §1.6 (train key `gamma0`): the model's output becomes
///
///     f̃_θ(x) = (f_θ(x) − f_θ₀(x)) / γ₀,
///
/// with f the prediction (regression) or the logits (classification) and θ₀ the run's initial
/// parameters. γ₀ is the feature-learning strength: as γ₀ → 0 the parameters move O(γ₀) while f̃
/// moves O(1), so training becomes lazy (the linearized model around θ₀).
///
/// The engines take it as ``Targets/centred(_:initialOutputs:gamma0:)`` (and
/// ``ResNetTargets/centred(_:initialOutputs:gamma0:)``): the outputs f_θ₀ of the batch at θ₀ and γ₀;
/// the models that see images hold one of these and compute f_θ₀ for every batch.
public struct OutputCentring<Scalar: TensorScalar>: Sendable {
    /// θ₀: the parameters the output is centred at.
    public var initial: ParameterStore<Scalar>
    /// γ₀ > 0.
    public var gamma0: Double

    public init(initial: ParameterStore<Scalar>, gamma0: Double) {
        precondition(gamma0 > 0 && gamma0.isFinite, "OutputCentring: γ₀ must be a finite number > 0, got \(gamma0)")
        self.initial = initial
        self.gamma0 = gamma0
    }
}

extension Targets {
    /// These targets scored against the centred output (f − `initialOutputs`)/γ₀; `gamma0` nil: unchanged.
    public func centredOutput(initialOutputs: @autoclosure () -> Tensor<Scalar>, gamma0: Double?) -> Targets {
        guard let gamma0 else { return self }
        return .centred(self, initialOutputs: initialOutputs(), gamma0: gamma0)
    }

    /// The plain targets and the centring (f₀ and 1/γ₀) when there is one.
    var parts: (base: Targets, centring: (offset: Tensor<Scalar>, scale: Scalar)?) {
        guard case let .centred(base, initial, gamma0) = self else { return (self, nil) }
        if case .centred = base { preconditionFailure("Targets: a centred output cannot be centred again") }
        return (base, (initial, Scalar(1 / gamma0)))
    }
}

extension ResNetTargets {
    /// These targets scored against the centred output (f − `initialOutputs`)/γ₀; `gamma0` nil: unchanged.
    public func centredOutput(initialOutputs: @autoclosure () -> Tensor<Scalar>, gamma0: Double?) -> ResNetTargets {
        guard let gamma0 else { return self }
        return .centred(self, initialOutputs: initialOutputs(), gamma0: gamma0)
    }
}
