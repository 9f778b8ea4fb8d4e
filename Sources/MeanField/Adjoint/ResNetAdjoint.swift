import MeanFieldCore

/// Parameter gradients of the mean-field ResNet (``MeanFieldResNet``) by the explicit adjoint
/// recursion of theory §2 and §4, written out by hand (no autodiff inside the recursion):
///
/// Forward: X_0 = x Eᵀ + e, Z_ℓ = X_ℓ W_ℓᵀ + b_ℓ, X_{ℓ+1} = X_ℓ + c σ(Z_ℓ) U_ℓ, c = 1/(L^α M)
/// (random-feature blocks: W_ℓ, b_ℓ → Ω, β fixed, σ → φ, U_ℓ → Θ_ℓ).
/// Backward, the discrete dP/ds = −(∂F/∂X)ᵀP with P_L = ∂loss/∂X_L:
///   G_ℓ = c (P_{ℓ+1} U_ℓᵀ) ⊙ σ′(Z_ℓ)              `[B, M]`
///   P_ℓ = P_{ℓ+1} + G_ℓ W_ℓ                        (= (∂Φ_ℓ/∂X)ᵀ P_{ℓ+1})
///   ∇U_ℓ = c σ(Z_ℓ)ᵀ P_{ℓ+1},  ∇W_ℓ = G_ℓᵀ X_ℓ,  ∇b_ℓ = Σ_rows G_ℓ
/// i.e. each particle's gradient is ∇_θ ⟨P_{ℓ+1}, c σ(⟨w, X_ℓ⟩ + b) u⟩ (theory §2). The readout
/// (outputs O = X_L Rᵀ + c_out, ∂loss/∂O from the loss alone): ∇R = (∂loss/∂O)ᵀ X_L,
/// P_L = (∂loss/∂O) R; the embedding: ∇E = P_0ᵀ x, ∇e = Σ_rows P_0.
/// ``MeanFieldResNet/riskAndGradients(_:inputs:targets:)`` (whole-depth reverse mode) is the
/// independent reference.
public enum ResNetAdjoint {
    public static func compute<Scalar: TensorScalar>(model: MeanFieldResNet, store: ParameterStore<Scalar>, inputs: Tensor<Scalar>,
                                                     targets: ResNetTargets<Scalar>) -> AdjointGradients.Result<Scalar> {
        let config = model.config
        let constants = Dictionary(uniqueKeysWithValues: store.names.map { ($0, Variable.constant(store[$0])) })
        let states = model.forwardStates(Variable.constant(inputs), parameters: constants).map(\.value)
        let layers = config.layers
        var byName: [String: Tensor<Scalar>] = [:]

        // The loss's own derivative ∂loss/∂O (the only autodiff here: one op on the outputs).
        let readoutWeight = store[MeanFieldResNet.readoutWeightName]
        let outputs = Variable(states[layers].matmul(readoutWeight, transposeOther: true) + store[MeanFieldResNet.readoutBiasName])
        let risk = MeanFieldResNet.risk(outputs, targets)
        let outputGradient = gradients(of: risk, withRespectTo: [outputs])[0]                  // [B, C]
        byName[MeanFieldResNet.readoutWeightName] = outputGradient.matmul(states[layers], transposeSelf: true)
        byName[MeanFieldResNet.readoutBiasName] = outputGradient.sum(alongAxes: [0])
        var adjoints = [Tensor<Scalar>](repeating: outputGradient.matmul(readoutWeight), count: layers + 1)

        let c = Scalar(config.residualStep / config.unitDivisor)
        let (featureIn, featureBias): (Tensor<Scalar>?, Tensor<Scalar>?) = config.block == .randomFeatures
            ? (model.features.omega.converted(to: Scalar.self), model.features.phase.converted(to: Scalar.self)) : (nil, nil)
        let function: UnaryFunction, gain: Scalar
        switch (config.block, config.featureMap) {
        case (.twoLayer, _): (function, gain) = (config.activation.unaryFunction, 1)
        case (.randomFeatures, .cos): (function, gain) = (.cos, Scalar(2.0.squareRoot()))
        case (.randomFeatures, .relu): (function, gain) = (.relu, 1)
        }
        for layer in stride(from: layers - 1, through: 0, by: -1) {
            let state = states[layer], above = adjoints[layer + 1]
            let weightIn = featureIn ?? store[MeanFieldResNet.inName(layer)]
            let bias = featureBias ?? store[MeanFieldResNet.biasName(layer)]
            let weightOut = store[MeanFieldResNet.outName(layer)]
            let preActivation = state.matmul(weightIn, transposeOther: true) + bias                      // Z  [B, M]
            let (activated, slope) = elementwise(preActivation, function, gain: gain)                     // σ(Z), σ′(Z)
            let g = above.matmul(weightOut, transposeOther: true) * slope * c                             // G  [B, M]
            byName[MeanFieldResNet.outName(layer)] = activated.matmul(above, transposeSelf: true) * c     // [M, D]
            if featureIn == nil {
                byName[MeanFieldResNet.inName(layer)] = g.matmul(state, transposeSelf: true)             // [M, D]
                byName[MeanFieldResNet.biasName(layer)] = g.sum(alongAxes: [0])                          // [M]
            }
            adjoints[layer] = above + g.matmul(weightIn)
        }
        byName[MeanFieldResNet.embeddingWeightName] = adjoints[0].matmul(inputs, transposeSelf: true)    // [D, q]
        byName[MeanFieldResNet.embeddingBiasName] = adjoints[0].sum(alongAxes: [0])
        return AdjointGradients.Result(risk: Double(risk.value.scalar), gradients: store.names.map { byName[$0]! },
                                       states: states, adjoints: adjoints)
    }

    /// gain·f(z) and gain·f′(z), element-wise.
    static func elementwise<Scalar: TensorScalar>(_ z: Tensor<Scalar>, _ function: UnaryFunction, gain: Scalar) -> (Tensor<Scalar>, Tensor<Scalar>) {
        let values = z.scalars.map { function.value($0) }
        let slopes = zip(z.scalars, values).map { gain * function.derivative(x: $0, y: $1) }
        return (Tensor(shape: z.shape, scalars: values.map { gain * $0 }), Tensor(shape: z.shape, scalars: slopes))
    }
}
