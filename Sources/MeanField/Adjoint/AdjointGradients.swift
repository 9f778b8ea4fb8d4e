import MeanFieldCore

/// Parameter gradients by the explicit backward (adjoint) recursion of theory §2, for the
/// mean-field Transformer, and its adjoint trajectory P(s).
///
/// Forward: X_0 = tokens, X_{ℓ+1} = Φ_ℓ(X_ℓ) (``MeanFieldTransformer/layerMap(_:layer:parameters:step:)``).
/// Backward (the discrete form of dP/ds = −(∂F/∂X)ᵀP, P(1) = ∂loss/∂X(1)):
///   P_L = ∂loss/∂X_L,  P_ℓ = (∂Φ_ℓ/∂X)ᵀ P_{ℓ+1} = P_{ℓ+1} + (1/L^α)(∂F_ℓ/∂X)ᵀ P_{ℓ+1},
///   ∇_{θ_ℓ} loss = ∇_θ ⟨P_{ℓ+1}, Φ_ℓ(X_ℓ; θ)⟩ = (1/L^α) ∇_θ ⟨P_{ℓ+1}, F_ℓ(X_ℓ; θ)⟩.
/// Each step differentiates one layer only (a vector–Jacobian product on a one-layer graph); the
/// whole-depth reverse-mode pass (``AutodiffEngine``) is the independent reference.
public enum AdjointGradients {
    /// The gradients (in the store's order), the risk, and the trajectories X(s), P(s) at s = ℓ/L.
    public struct Result<Scalar: TensorScalar> {
        public var risk: Double
        public var gradients: [Tensor<Scalar>]
        /// X_0 … X_L, each `[B, D, n]`.
        public var states: [Tensor<Scalar>]
        /// P_0 … P_L = ∂loss/∂X_ℓ, each `[B, D, n]`.
        public var adjoints: [Tensor<Scalar>]
    }

    public static func compute<Scalar: TensorScalar>(model: MeanFieldTransformer, store: ParameterStore<Scalar>,
                                                     tokens: Tensor<Scalar>, targets: Targets<Scalar>) -> Result<Scalar> {
        let constants = Dictionary(uniqueKeysWithValues: store.names.map { ($0, Variable.constant(store[$0])) })
        let states = model.forwardStates(Variable.constant(tokens), parameters: constants).map(\.value)
        let layers = model.config.layers
        var gradientByName: [String: Tensor<Scalar>] = [:]

        // P_L and the readout's gradients from the loss at X_L.
        let output = Variable(states[layers])
        let readoutNames = store.names.filter { !$0.hasPrefix("layer") }
        let readout = readoutNames.map { Variable(store[$0]) }
        var readoutParameters = constants
        for (name, variable) in zip(readoutNames, readout) { readoutParameters[name] = variable }
        let risk: Variable<Scalar>
        switch targets {
        case let .regression(values, labelRow):
            let prediction = model.regressionReadout(output, labelRow: labelRow)
            risk = (prediction - Variable.constant(values)).squared().mean() * Scalar(0.5)
        case let .classification(labels):
            risk = model.classificationReadout(output, parameters: readoutParameters).crossEntropy(labels: labels)
        case .centred:
            preconditionFailure("AdjointGradients: the adjoint check computes the plain output, not the centred one (theory §1.6)")
        }
        var top = gradients(of: risk, withRespectTo: [output] + readout)
        var adjoints = [Tensor<Scalar>](repeating: top[0], count: layers + 1)
        top.removeFirst()
        for (name, gradient) in zip(readoutNames, top) { gradientByName[name] = gradient }

        // P_ℓ and layer ℓ's gradients from ⟨P_{ℓ+1}, Φ_ℓ(X_ℓ; θ_ℓ)⟩, ℓ = L−1 … 0.
        for layer in stride(from: layers - 1, through: 0, by: -1) {
            let input = Variable(states[layer])
            let names = store.names.filter { $0.hasPrefix("layer\(layer).") }
            let variables = names.map { Variable(store[$0]) }
            var parameters = constants
            for (name, variable) in zip(names, variables) { parameters[name] = variable }
            let mapped = model.layerMap(input, layer: layer, parameters: parameters)
            let pairing = (mapped * Variable.constant(adjoints[layer + 1])).sum()
            var products = gradients(of: pairing, withRespectTo: [input] + variables)
            adjoints[layer] = products.removeFirst()
            for (name, gradient) in zip(names, products) { gradientByName[name] = gradient }
        }
        return Result(risk: Double(risk.value.scalar), gradients: store.names.map { gradientByName[$0] ?? Tensor.zeros(store[$0].shape) },
                      states: states, adjoints: adjoints)
    }

    /// ‖a − b‖ / ‖b‖ (0 when both vanish).
    public static func relativeDifference<Scalar: TensorScalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>) -> Double {
        var difference = 0.0, norm = 0.0
        for (x, y) in zip(a.scalars, b.scalars) {
            difference += (Double(x) - Double(y)) * (Double(x) - Double(y))
            norm += Double(y) * Double(y)
        }
        return norm == 0 ? difference.squareRoot() : (difference / norm).squareRoot()
    }
}
