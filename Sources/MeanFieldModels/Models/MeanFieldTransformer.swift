import MeanFieldCore

/// The mean-field Transformer of theory §1.2–1.3 written on the autodiff core: the reference
/// implementation every faster path is checked against.
///
/// Tokens are columns: `H ∈ R^{B×D×n}` (batch, dimension, tokens). Layer ℓ applies
///   H ← H + (1/L^α)·(1/M) Σ_j W_OV,j · H · A_j(H),   A_j = softmax_keys(Hᵀ W_KQ,j H / τ)  (§1.2)
///   H ← H + (1/L^α)·(1/M′) Σ_j a_j σ(b_jᵀ H + c_j)
/// with all M heads of a layer computed as one batched product over a heads axis: "all heads of
/// layer ℓ" is one tensor, not a loop.
public struct MeanFieldTransformer: Sendable {
    public let config: TransformerConfig

    public init(config: TransformerConfig) { self.config = config }

    // Parameter names. Each particle tensor has the layer's heads (or units) on axis 0.
    public static func keyQueryName(_ layer: Int) -> String { "layer\(layer).attention.keyQuery" }       // [M, D, D]
    public static func outputValueName(_ layer: Int) -> String { "layer\(layer).attention.outputValue" } // [M, D, D]
    public static func queryName(_ layer: Int) -> String { "layer\(layer).attention.query" }             // [M, d_h, D]
    public static func keyName(_ layer: Int) -> String { "layer\(layer).attention.key" }                 // [M, d_h, D]
    public static func valueName(_ layer: Int) -> String { "layer\(layer).attention.value" }             // [M, d_h, D]
    public static func outputName(_ layer: Int) -> String { "layer\(layer).attention.output" }           // [M, D, d_h]
    public static func ffnInName(_ layer: Int) -> String { "layer\(layer).ffn.in" }                      // [M′, D]  (b)
    public static func ffnBiasName(_ layer: Int) -> String { "layer\(layer).ffn.bias" }                  // [M′]     (c)
    public static func ffnOutName(_ layer: Int) -> String { "layer\(layer).ffn.out" }                    // [M′, D]  (a)
    public static let readoutWeightName = "readout.weight"                                                 // [C, D]
    public static let readoutBiasName = "readout.bias"                                                     // [C]

    /// Draws the initial particles i.i.d. from ρ₀ = N(0, σ²) entry-wise (theory §1.4), σ =
    /// `config.resolvedInitStd`, one Philox stream per parameter tensor (stream = 1 + its index), so
    /// the draws of one tensor never depend on the size of another. The readout starts at zero.
    public func initialParameters<Scalar: TensorScalar>(seed: UInt64, as _: Scalar.Type = Scalar.self) -> ParameterStore<Scalar> {
        var store = ParameterStore<Scalar>()
        let D = config.dimension, M = config.heads, units = config.ffnUnits, width = config.headDimension
        let std = Scalar(config.resolvedInitStd)
        var streamIndex: UInt64 = 1
        func draw(_ shape: [Int]) -> Tensor<Scalar> {
            var random = PhiloxRandom(seed: seed, stream: streamIndex)
            streamIndex += 1
            return random.normal(shape, standardDeviation: std)
        }
        // Flow scale s and decay factor c = s·w (w = 1/(L·M), Q's weight) of heads and units
        // (theory §1.3, §1.6; ``Parametrization``).
        let scaling = config.parametrization, L = config.layers, alpha = config.residualExponent
        let headScale = scaling.flowScale(layers: L, exponent: alpha, particlesPerLayer: M)
        let unitScale = scaling.flowScale(layers: L, exponent: alpha, particlesPerLayer: max(units, 1))
        let decay = scaling.decayFactor(layers: L, exponent: alpha)
        for layer in 0..<config.layers {
            switch config.attention {
            case .merged:
                store.set(Self.keyQueryName(layer), draw([M, D, D]), flowScale: headScale, decayFactor: decay)
                store.set(Self.outputValueName(layer), draw([M, D, D]), flowScale: headScale, decayFactor: decay)
            case .factored:
                store.set(Self.queryName(layer), draw([M, width, D]), flowScale: headScale, decayFactor: decay)
                store.set(Self.keyName(layer), draw([M, width, D]), flowScale: headScale, decayFactor: decay)
                store.set(Self.valueName(layer), draw([M, width, D]), flowScale: headScale, decayFactor: decay)
                store.set(Self.outputName(layer), draw([M, D, width]), flowScale: headScale, decayFactor: decay)
            }
            if units > 0 {
                store.set(Self.ffnInName(layer), draw([units, D]), flowScale: unitScale, decayFactor: decay)
                store.set(Self.ffnBiasName(layer), draw([units]), flowScale: unitScale, decayFactor: decay)
                store.set(Self.ffnOutName(layer), draw([units, D]), flowScale: unitScale, decayFactor: decay)
            }
        }
        if config.readout.isClassification {
            let scale = Parametrization.ordinaryFlowScale
            store.set(Self.readoutWeightName, .zeros([config.classes, D]), flowScale: scale, decayFactor: Parametrization.ordinaryDecayFactor)
            store.set(Self.readoutBiasName, .zeros([config.classes]), flowScale: scale, decayFactor: Parametrization.ordinaryDecayFactor)
        }
        return store
    }

    /// The output tokens `H^{(L)}` (`[B, D, n]`) for input tokens `tokens` (`[B, D, n]`), with the
    /// parameters given as autodiff variables keyed like the store.
    public func forward<Scalar: TensorScalar>(_ tokens: Variable<Scalar>, parameters: [String: Variable<Scalar>]) -> Variable<Scalar> {
        forwardStates(tokens, parameters: parameters).last!
    }

    /// The residual stream H^{(0)} = tokens, H^{(1)}, …, H^{(L)} after each layer (L + 1 tensors
    /// `[B, D, n]`), H^{(ℓ+1)} = H^{(ℓ)} + (1/L^α)[(1/M) Σ_j f(H^{(ℓ)}; θ_j) + (1/M′) Σ_j h(·; w_j)]
    /// (theory §1.2); the coordinate check reads the per-layer sizes from it.
    public func forwardStates<Scalar: TensorScalar>(_ tokens: Variable<Scalar>, parameters: [String: Variable<Scalar>]) -> [Variable<Scalar>] {
        let shape = tokens.shape
        precondition(shape.count == 3 && shape[1] == config.dimension,
                     "MeanFieldTransformer.forward: tokens must be [batch, \(config.dimension), tokens], got \(shape)")
        let step = Scalar(config.residualStep)
        var H = tokens
        var states = [H]
        for layer in 0..<config.layers {
            H = layerMap(H, layer: layer, parameters: parameters, step: step)
            states.append(H)
        }
        return states
    }

    /// One layer's map Φ_ℓ: H ↦ H + (1/L^α)(1/M)Σ_j f(H; θ_j), then + (1/L^α)(1/M′)Σ_j h(·; w_j)
    /// (theory §1.2); only the parameters of `layer` are read. The adjoint recursion (theory §2)
    /// differentiates it one layer at a time.
    public func layerMap<Scalar: TensorScalar>(_ input: Variable<Scalar>, layer: Int, parameters: [String: Variable<Scalar>],
                                               step: Scalar? = nil) -> Variable<Scalar> {
        let step = step ?? Scalar(config.residualStep)
        var H = input + attentionAverage(config.preNorm ? Self.normalizedTokens(input) : input, layer: layer, parameters: parameters) * step
        if config.ffnUnits > 0 {
            H = H + feedForwardAverage(config.preNorm ? Self.normalizedTokens(H) : H, layer: layer, parameters: parameters) * step
        }
        return H
    }

    /// (1/M) Σ_j f(X; θ_j) for the heads of `layer` (divided by ``TransformerConfig/headDivisor``), `X`: `[B, D, n]`.
    func attentionAverage<Scalar: TensorScalar>(_ X: Variable<Scalar>, layer: Int, parameters: [String: Variable<Scalar>]) -> Variable<Scalar> {
        let (batch, D, n) = (X.shape[0], X.shape[1], X.shape[2])
        let Xb = X.reshaped([batch, 1, D, n])                                       // broadcast over heads
        let scores: Variable<Scalar>, values: Variable<Scalar>
        switch config.attention {
        case .merged:
            let projected = parameters[Self.keyQueryName(layer)]!.matmul(Xb)          // [B, M, D, n] = W_KQ X
            scores = Xb.matmul(projected, transposeSelf: true)                          // [B, M, n, n] = Xᵀ W_KQ X
            values = parameters[Self.outputValueName(layer)]!.matmul(Xb)              // [B, M, D, n] = W_OV X
        case .factored:
            let queries = parameters[Self.queryName(layer)]!.matmul(Xb)               // [B, M, d_h, n] = Q X
            let keys = parameters[Self.keyName(layer)]!.matmul(Xb)                    // [B, M, d_h, n] = K X
            scores = keys.matmul(queries, transposeSelf: true)                          // [B, M, n, n] = (K X)ᵀ (Q X)
            let valueVectors = parameters[Self.valueName(layer)]!.matmul(Xb)          // [B, M, d_h, n] = V X
            values = parameters[Self.outputName(layer)]!.matmul(valueVectors)         // [B, M, D, n] = O V X
        }
        let scaled = scores * Scalar(config.scoreScale)
        let weights: Variable<Scalar>
        switch config.scoreMap {
        case .softmax: weights = scaled.softmax(axis: 2)                               // over keys i, per query column j
        case .linear: weights = scaled
        case .relu: weights = scaled.relu() * (1 / Scalar(n))
        }
        // (1/M) Σ_j (or 1/√M, 1: ``Parametrization/HeadScaling``) over the heads axis.
        return values.matmul(weights).sum(alongAxes: [1]) * (1 / Scalar(config.headDivisor))   // [B, D, n]
    }

    /// (1/M′) Σ_j a_j σ(b_jᵀ X + c_j) for the units of `layer`, `X`: `[B, D, n]`.
    func feedForwardAverage<Scalar: TensorScalar>(_ X: Variable<Scalar>, layer: Int, parameters: [String: Variable<Scalar>]) -> Variable<Scalar> {
        let inWeights = parameters[Self.ffnInName(layer)]!, bias = parameters[Self.ffnBiasName(layer)]!
        let outWeights = parameters[Self.ffnOutName(layer)]!
        let preActivation = inWeights.matmul(X) + bias.reshaped([config.ffnUnits, 1])  // [B, M′, n]
        let activated = preActivation.map(config.activation.unaryFunction)
        return outWeights.matmul(activated, transposeSelf: true) * (1 / Scalar(config.unitDivisor))  // [B, D, n]
    }

    /// Layer norm of each token (column) over D: `[B, D, n]` → `[B, D, n]`.
    static func normalizedTokens<Scalar: TensorScalar>(_ H: Variable<Scalar>) -> Variable<Scalar> {
        H.permuted([0, 2, 1]).layerNormalized().permuted([0, 2, 1])
    }

    /// Regression readout ŷ = [H^{(L)}]_{d+1, N+1} (theory §1.3): coordinate `labelRow` of the last
    /// (query) token, for each batch element: shape `[B]`.
    public func regressionReadout<Scalar: TensorScalar>(_ output: Variable<Scalar>, labelRow: Int) -> Variable<Scalar> {
        let shape = output.shape
        return output.slice(axis: 1, labelRow..<(labelRow + 1)).slice(axis: 2, (shape[2] - 1)..<shape[2]).reshaped([shape[0]])
    }

    /// Classification readout (theory §1.3): logits `[B, C]` = mean over tokens of H^{(L)} (or its
    /// first token, the class token, for ``ReadoutKind/classToken``), times Wᵀ, plus b.
    public func classificationReadout<Scalar: TensorScalar>(_ output: Variable<Scalar>, parameters: [String: Variable<Scalar>]) -> Variable<Scalar> {
        let pooled = config.readout == .classToken
            ? output.slice(axis: 2, 0..<1).reshaped([output.shape[0], output.shape[1]])  // [B, D]
            : output.mean(alongAxes: [2])                                              // [B, D]
        return pooled.matmul(parameters[Self.readoutWeightName]!, transposeOther: true) + parameters[Self.readoutBiasName]!
    }
}
