import MeanFieldCore

/// The mean-field Transformer of PAPERS §1.2 with merged heads, written on the autodiff core.
///
/// Tokens are columns: `H ∈ R^{B×D×n}` (batch, dimension, tokens). Layer ℓ applies
///   H ← H + (1/L^α)·(1/M) Σ_j W_OV,j · H · softmax(Hᵀ W_KQ,j H / τ)      (softmax over keys)
///   H ← H + (1/L^α)·(1/M′) Σ_j a_j σ(b_jᵀ H + c_j)
/// with all M heads of a layer computed as one batched product (the heads axis is a tensor axis:
/// "all heads of layer ℓ" is a view, not a loop).
public struct MeanFieldTransformer: Sendable {
    public let config: TransformerConfig

    public init(config: TransformerConfig) { self.config = config }

    /// Parameter names of layer `layer`.
    public static func keyQueryName(_ layer: Int) -> String { "layer\(layer).attention.keyQuery" }
    public static func outputValueName(_ layer: Int) -> String { "layer\(layer).attention.outputValue" }
    public static func ffnInName(_ layer: Int) -> String { "layer\(layer).ffn.in" }
    public static func ffnBiasName(_ layer: Int) -> String { "layer\(layer).ffn.bias" }
    public static func ffnOutName(_ layer: Int) -> String { "layer\(layer).ffn.out" }

    /// Draws the initial particles i.i.d. from ρ₀ = N(0, initStd²) entry-wise (PAPERS §1.4), one
    /// Philox stream per parameter tensor (stream = 1 + its index), so adding a layer never changes
    /// the draws of the others.
    public func initialParameters<Scalar: TensorScalar>(seed: UInt64, as _: Scalar.Type = Scalar.self) -> ParameterStore<Scalar> {
        var store = ParameterStore<Scalar>()
        let D = config.dimension, M = config.heads, units = config.ffnUnits
        let std = Scalar(config.initStd)
        var streamIndex: UInt64 = 1
        func draw(_ shape: [Int]) -> Tensor<Scalar> {
            var random = PhiloxRandom(seed: seed, stream: streamIndex)
            streamIndex += 1
            return random.normal(shape, standardDeviation: std)
        }
        for layer in 0..<config.layers {
            store.set(Self.keyQueryName(layer), draw([M, D, D]), particles: M)
            store.set(Self.outputValueName(layer), draw([M, D, D]), particles: M)
            if units > 0 {
                store.set(Self.ffnInName(layer), draw([units, D]), particles: units)
                store.set(Self.ffnBiasName(layer), draw([units]), particles: units)
                store.set(Self.ffnOutName(layer), draw([units, D]), particles: units)
            }
        }
        return store
    }

    /// The output tokens `H^{(L)}` for input tokens `tokens` (`[B, D, n]`), given the parameters as
    /// autodiff variables (keyed like the store).
    public func forward<Scalar: TensorScalar>(_ tokens: Variable<Scalar>, parameters: [String: Variable<Scalar>]) -> Variable<Scalar> {
        let shape = tokens.shape
        precondition(shape.count == 3 && shape[1] == config.dimension,
                     "MeanFieldTransformer.forward: tokens must be [batch, \(config.dimension), tokens], got \(shape)")
        let (batch, D, n) = (shape[0], shape[1], shape[2])
        let step = Scalar(config.residualStep)
        let inverseTemperature = Scalar(1 / config.temperature)
        var H = tokens
        for layer in 0..<config.layers {
            // Attention half-step. Hb: [B, 1, D, n]; weights [M, D, D] broadcast against the batch.
            let Hb = H.reshaped([batch, 1, D, n])
            let keyQuery = parameters[Self.keyQueryName(layer)]!, outputValue = parameters[Self.outputValueName(layer)]!
            let projected = keyQuery.matmul(Hb)                                      // [B, M, D, n] = W_KQ H
            let scores = Hb.matmul(projected, transposeSelf: true) * inverseTemperature // [B, M, n, n] = Hᵀ W_KQ H / τ
            let weights: Variable<Scalar>
            switch config.scoreMap {
            case .softmax: weights = scores.softmax(axis: 2)                           // over keys i, per query column j
            case .linear: weights = scores
            }
            let values = outputValue.matmul(Hb)                                       // [B, M, D, n] = W_OV H
            let heads = values.matmul(weights)                                        // [B, M, D, n]
            H = H + heads.mean(alongAxes: [1]) * step
            // Feed-forward half-step: Z = b H + c ([B, M′, n]); out = aᵀ σ(Z) / M′ ([B, D, n]).
            if config.ffnUnits > 0 {
                let inWeights = parameters[Self.ffnInName(layer)]!, bias = parameters[Self.ffnBiasName(layer)]!
                let outWeights = parameters[Self.ffnOutName(layer)]!
                let preActivation = inWeights.matmul(H) + bias.reshaped([config.ffnUnits, 1])
                let activated = preActivation.map(config.activation.unaryFunction)
                let out = outWeights.matmul(activated, transposeSelf: true)           // [B, D, n]
                H = H + out * (step / Scalar(config.ffnUnits))
            }
        }
        return H
    }

    /// Regression readout ŷ = [H^{(L)}]_{d+1, N+1} (PAPERS §1.3): the label coordinate (`labelRow`)
    /// of the last (query) token, for each batch element: shape `[B]`.
    public func regressionReadout<Scalar: TensorScalar>(_ output: Variable<Scalar>, labelRow: Int) -> Variable<Scalar> {
        let shape = output.shape
        return output.slice(axis: 1, labelRow..<(labelRow + 1)).slice(axis: 2, (shape[2] - 1)..<shape[2]).reshaped([shape[0]])
    }
}
