import MeanFieldCore

/// The mean-field ResNet of theory §4–5 (``ResNetConfig``) on the autodiff core.
///
/// Rows are samples: the state is `X ∈ R^{B×D}`. Layer ℓ applies
///   two-layer block (§4):     X ← X + (1/L^α)·(1/M) σ(X W_ℓᵀ + b_ℓ) U_ℓ
///   random-feature block (§5): X ← X + (1/L^α)·(1/r) φ(X Ωᵀ + β) Θ_ℓ
/// where row j of W_ℓ, U_ℓ (and b_{ℓ,j}) is particle j of layer ℓ, and Ω, β are fixed. Particles
/// keep their layer (conditional OT): each layer's tensors carry the flow scale L·M
/// (``ParameterStore/flowScales``), so ``GradientFlow`` and every optimizer move them by
/// −η(L·M ∇R + λθ), the mean-field time convention of theory §1.4.
public struct MeanFieldResNet: Sendable {
    public let config: ResNetConfig
    /// The fixed random features Ω `[r, D]` and phases β `[r]` of a random-feature block (empty otherwise).
    public let features: (omega: Tensor<Double>, phase: Tensor<Double>)

    public static let embeddingWeightName = "embedding.weight"                    // [D, q]
    public static let embeddingBiasName = "embedding.bias"                        // [D]
    public static func inName(_ layer: Int) -> String { "layer\(layer).in" }      // [M, D]   (w)
    public static func biasName(_ layer: Int) -> String { "layer\(layer).bias" }  // [M]      (b)
    public static func outName(_ layer: Int) -> String { "layer\(layer).out" }    // [M or r, D] (u, or θ)
    public static let readoutWeightName = "readout.weight"                        // [C, D]
    public static let readoutBiasName = "readout.bias"                            // [C]

    /// The Philox stream of the random features, apart from the parameters' streams 1, 2, ….
    public static let featureStream: UInt64 = 3 << 32

    /// `seed` draws the fixed random features (the same seed as ``initialParameters(seed:as:)`` in a run).
    public init(config: ResNetConfig, seed: UInt64) {
        self.config = config
        if config.block == .randomFeatures {
            let sigma = config.featureScale ?? 1 / Double(config.hiddenDimension).squareRoot()
            features = Self.randomFeatures(count: config.units, dimension: config.hiddenDimension, scale: sigma, map: config.featureMap, seed: seed)
        } else {
            features = (.zeros([0]), .zeros([0]))
        }
    }

    /// r fixed random features: ω ~ N(0, σ²I) `[r, d]`; β ~ U[0, 2π) for cos, N(0, σ²) for ReLU (theory §5).
    public static func randomFeatures(count: Int, dimension: Int, scale sigma: Double, map: RandomFeatureMap, seed: UInt64) -> (omega: Tensor<Double>, phase: Tensor<Double>) {
        var random = PhiloxRandom(seed: seed, stream: featureStream)
        let omega: Tensor<Double> = random.normal([count, dimension], standardDeviation: sigma)
        let phase: Tensor<Double> = map == .cos ? random.uniform([count], low: 0, high: 2 * Double.pi) : random.normal([count], standardDeviation: sigma)
        return (omega, phase)
    }

    /// Initial parameters: embedding E ~ N(0, 1/q), e = 0; two-layer particles w, b, u ~ N(0, σ₀²)
    /// (σ₀ = initStd, default 1/√D); random-feature weights Θ_ℓ = 0 (theory §5); readout
    /// R ~ N(0, 1/D), c = 0 (random, so that the NTK of the blocks is not zero at t = 0).
    /// One Philox stream per tensor (stream = 1 + its index).
    public func initialParameters<Scalar: TensorScalar>(seed: UInt64, as _: Scalar.Type = Scalar.self) -> ParameterStore<Scalar> {
        var store = ParameterStore<Scalar>()
        let D = config.hiddenDimension, q = config.inputDimension, M = config.units, L = config.layers
        var streamIndex: UInt64 = 1
        func draw(_ shape: [Int], _ std: Double) -> Tensor<Scalar> {
            var random = PhiloxRandom(seed: seed, stream: streamIndex)
            streamIndex += 1
            return random.normal(shape, standardDeviation: Scalar(std))
        }
        let std = config.initStd ?? 1 / Double(D).squareRoot()
        store.set(Self.embeddingWeightName, draw([D, q], 1 / Double(q).squareRoot()), flowScale: 1)
        store.set(Self.embeddingBiasName, .zeros([D]), flowScale: 1)
        let particleScale = Double(L * M)
        for layer in 0..<L {
            switch config.block {
            case .twoLayer:
                store.set(Self.inName(layer), draw([M, D], std), flowScale: particleScale)
                store.set(Self.biasName(layer), draw([M], std), flowScale: particleScale)
                store.set(Self.outName(layer), draw([M, D], std), flowScale: particleScale)
            case .randomFeatures:
                store.set(Self.outName(layer), .zeros([M, D]), flowScale: particleScale)
            }
        }
        store.set(Self.readoutWeightName, draw([config.outputs, D], 1 / Double(D).squareRoot()), flowScale: 1)
        store.set(Self.readoutBiasName, .zeros([config.outputs]), flowScale: 1)
        return store
    }

    /// X_0 = x Eᵀ + e for inputs `[B, q]`.
    public func embed<Scalar>(_ inputs: Variable<Scalar>, parameters p: [String: Variable<Scalar>]) -> Variable<Scalar> {
        inputs.matmul(p[Self.embeddingWeightName]!, transposeOther: true) + p[Self.embeddingBiasName]!
    }

    /// The block's pre-activations Z_ℓ = X W_ℓᵀ + b_ℓ (or X Ωᵀ + β) `[B, M]` and features σ(Z), φ(Z).
    public func blockFeatures<Scalar>(_ state: Variable<Scalar>, layer: Int, parameters p: [String: Variable<Scalar>]) -> Variable<Scalar> {
        switch config.block {
        case .twoLayer:
            let z = state.matmul(p[Self.inName(layer)]!, transposeOther: true) + p[Self.biasName(layer)]!
            return z.map(config.activation.unaryFunction)
        case .randomFeatures:
            let omega = Variable.constant(features.omega.converted(to: Scalar.self))
            let z = state.matmul(omega, transposeOther: true) + Variable.constant(features.phase.converted(to: Scalar.self))
            switch config.featureMap {
            case .cos: return z.map(.cos) * Scalar(2.0.squareRoot())
            case .relu: return z.relu()
            }
        }
    }

    /// Φ_ℓ(X) = X + (1/L^α)(1/M) features(X) · U_ℓ: one residual step.
    public func layerMap<Scalar>(_ state: Variable<Scalar>, layer: Int, parameters p: [String: Variable<Scalar>]) -> Variable<Scalar> {
        let scale = Scalar(config.residualStep / Double(config.units))
        return state + blockFeatures(state, layer: layer, parameters: p).matmul(p[Self.outName(layer)]!) * scale
    }

    /// X_0, X_1, …, X_L.
    public func forwardStates<Scalar>(_ inputs: Variable<Scalar>, parameters p: [String: Variable<Scalar>]) -> [Variable<Scalar>] {
        var states = [embed(inputs, parameters: p)]
        for layer in 0..<config.layers { states.append(layerMap(states[layer], layer: layer, parameters: p)) }
        return states
    }

    /// Outputs `[B, C]` = X_L Rᵀ + c.
    public func readout<Scalar>(_ state: Variable<Scalar>, parameters p: [String: Variable<Scalar>]) -> Variable<Scalar> {
        state.matmul(p[Self.readoutWeightName]!, transposeOther: true) + p[Self.readoutBiasName]!
    }

    /// The outputs `[B, C]` of inputs `[B, q]`.
    public func forward<Scalar>(_ inputs: Variable<Scalar>, parameters p: [String: Variable<Scalar>]) -> Variable<Scalar> {
        readout(forwardStates(inputs, parameters: p).last!, parameters: p)
    }
}

/// What a ResNet batch is scored against.
public enum ResNetTargets<Scalar: TensorScalar>: Sendable {
    /// R = ½·mean over samples of |f(x) − y|² (`values` `[B, C]`).
    case regression(values: Tensor<Scalar>)
    /// R = mean cross-entropy of the logits.
    case classification(labels: [Int])
    /// The same targets scored against the centred output (f − f₀)/γ₀ (theory §1.6, ``OutputCentring``);
    /// `initialOutputs` are f₀ `[B, C]`, the outputs at θ₀.
    indirect case centred(ResNetTargets, initialOutputs: Tensor<Scalar>, gamma0: Double)
}

extension MeanFieldResNet {
    /// The loss graph of a batch: R and the outputs (centred, (f − f₀)/γ₀, for centred targets).
    public func riskGraph<Scalar>(_ parameters: [String: Variable<Scalar>], inputs: Variable<Scalar>,
                                  targets: ResNetTargets<Scalar>) -> (risk: Variable<Scalar>, outputs: Variable<Scalar>) {
        var outputs = forward(inputs, parameters: parameters)
        var base = targets
        if case let .centred(inner, initial, gamma0) = targets {
            outputs = (outputs - Variable.constant(initial)) * Scalar(1 / gamma0)
            base = inner
        }
        return (Self.risk(outputs, base), outputs)
    }

    /// R of outputs `[B, C]`: ½·mean_b |f_b − y_b|², or the mean cross-entropy (of the centred
    /// outputs (f − f₀)/γ₀ for centred targets).
    public static func risk<Scalar>(_ outputs: Variable<Scalar>, _ targets: ResNetTargets<Scalar>) -> Variable<Scalar> {
        switch targets {
        case let .centred(inner, initial, gamma0):
            if case .centred = inner { preconditionFailure("ResNetTargets: a centred output cannot be centred again") }
            return risk((outputs - Variable.constant(initial)) * Scalar(1 / gamma0), inner)
        case let .regression(values):
            let batch = Scalar(outputs.shape[0])
            return (outputs - Variable.constant(values)).squared().sum() * (Scalar(0.5) / batch)
        case let .classification(labels):
            return outputs.crossEntropy(labels: labels)
        }
    }

    /// R and ∇R for every parameter of `store` (in `store.names` order), by reverse-mode autodiff.
    public func riskAndGradients<Scalar>(_ store: ParameterStore<Scalar>, inputs: Tensor<Scalar>,
                                         targets: ResNetTargets<Scalar>) -> (risk: Double, gradients: [Tensor<Scalar>]) {
        let variables = store.names.map { Variable(store[$0]) }
        let (risk, _) = riskGraph(Dictionary(uniqueKeysWithValues: zip(store.names, variables)), inputs: .constant(inputs), targets: targets)
        return (Double(risk.value.scalar), gradients(of: risk, withRespectTo: variables))
    }

    /// R and the outputs `[B, C]`, without gradients.
    public func evaluate<Scalar>(_ store: ParameterStore<Scalar>, inputs: Tensor<Scalar>,
                                 targets: ResNetTargets<Scalar>) -> (risk: Double, outputs: Tensor<Scalar>) {
        let constants = Dictionary(uniqueKeysWithValues: store.names.map { ($0, Variable.constant(store[$0])) })
        let (risk, outputs) = riskGraph(constants, inputs: .constant(inputs), targets: targets)
        return (Double(risk.value.scalar), outputs.value)
    }
}
