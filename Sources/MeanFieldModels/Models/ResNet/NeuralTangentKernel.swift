import MeanFieldCore

/// The neural tangent kernel of a ``MeanFieldResNet`` with the mean-field flow scales of
/// theory §1.4, §1.6 and §4, and the local Polyak–Łojasiewicz constant it gives.
///
/// K_{(i,c),(k,c′)} = Σ_p s_p ∂f_c(x_i)/∂θ_p · ∂f_{c′}(x_k)/∂θ_p, with s_p the flow scale of θ_p
/// (L^(2α−1)·M for particles, 1 otherwise: ``ParameterStore/flowScales``). Under the flow dθ_p/dt = −s_p ∂R/∂θ_p of R = (1/2n) Σ_i |f(x_i) − y_i|²,
///   dR/dt = −Σ_p s_p (∂R/∂θ_p)² = −(1/n²) rᵀ K r ≤ −(λ_min(K)/n²)|r|² = −(2 λ_min(K)/n) R
/// (r the residuals): 2λ_min(K)/n is the local PL constant (theory §4).
public enum NeuralTangentKernel {
    /// λ_min, λ_max of K, the PL constant 2λ_min/n and the dissipation rate −(dR/dt)/R of the flow.
    public struct Spectrum: Sendable, Codable, Equatable {
        public var lambdaMin: Double
        public var lambdaMax: Double
        public var plConstant: Double
        /// Σ_p s_p (∂R/∂θ_p)² / R from the per-sample Jacobians: ≥ ``plConstant`` always.
        public var dissipationRate: Double
        public var risk: Double
    }

    /// The scaled Jacobian J `[n·C, P]` (row (i, c) = (√s_p ∂f_c(x_i)/∂θ_p)_p) and the outputs `[n, C]`.
    public static func jacobian(model: MeanFieldResNet, store: ParameterStore<Double>, inputs: Tensor<Double>) -> (rows: Tensor<Double>, outputs: Tensor<Double>) {
        let count = inputs.shape[0], C = model.config.outputs
        let roots = store.names.map { store.flowScales[$0]!.squareRoot() }
        var rows: [Double] = []
        var outputs: [Double] = []
        rows.reserveCapacity(count * C * store.scalarCount)
        for i in 0..<count {
            let variables = store.names.map { Variable(store[$0]) }
            let parameters = Dictionary(uniqueKeysWithValues: zip(store.names, variables))
            let output = model.forward(Variable.constant(inputs.slice(axis: 0, i..<(i + 1))), parameters: parameters)
            outputs += output.value.scalars
            for c in 0..<C {
                let grads = gradients(of: output.slice(axis: 1, c..<(c + 1)).sum(), withRespectTo: variables)
                for (root, gradient) in zip(roots, grads) { rows += gradient.scalars.map { $0 * root } }
            }
        }
        return (Tensor(shape: [count * C, store.scalarCount], scalars: rows), Tensor(shape: [count, C], scalars: outputs))
    }

    /// K = J Jᵀ `[n·C, n·C]`.
    public static func gram(model: MeanFieldResNet, store: ParameterStore<Double>, inputs: Tensor<Double>) -> Tensor<Double> {
        let rows = jacobian(model: model, store: store, inputs: inputs).rows
        return rows.matmul(rows, transposeOther: true)
    }

    /// The spectrum of K on `inputs` with the PL constant and the dissipation rate for `targets` `[n, C]`.
    public static func spectrum(model: MeanFieldResNet, store: ParameterStore<Double>, inputs: Tensor<Double>, targets: Tensor<Double>) -> Spectrum {
        let (rows, outputs) = jacobian(model: model, store: store, inputs: inputs)
        let size = rows.shape[0], count = inputs.shape[0]
        let gram = rows.matmul(rows, transposeOther: true)
        let eigenvalues = SymmetricEigen.eigenvalues(of: gram.scalars, dimension: size)
        let residuals = zip(outputs.scalars, targets.scalars).map { $0 - $1 }
        let risk = residuals.reduce(0) { $0 + $1 * $1 } / (2 * Double(count))
        // rᵀ K r / n² = |Jᵀ r|² / n².
        let pulled = Tensor(shape: [1, size], scalars: residuals).matmul(rows).scalars
        let dissipation = pulled.reduce(0) { $0 + $1 * $1 } / Double(count * count)
        // K = JJᵀ is positive semi-definite: a negative computed eigenvalue is rounding (|λ| ≲ 1e-15 λ_max) and reads 0.
        let lambdaMin = max(0, eigenvalues.min() ?? 0)
        return Spectrum(lambdaMin: lambdaMin, lambdaMax: eigenvalues.max() ?? 0, plConstant: 2 * lambdaMin / Double(count),
                        dissipationRate: risk > 0 ? dissipation / risk : 0, risk: risk)
    }
}
