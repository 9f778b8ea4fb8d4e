// The adjoint (backward-ODE) recursion of theory §2 against whole-depth reverse-mode autodiff, in
// Double: every parameter gradient ≤ 1e-10 relative, P_0 equal to the input gradient, and P_L
// against central differences of the loss in X_L.
import MeanField
import MeanFieldCore
import Testing

private let adjointConfigs: [TransformerConfig] = [
    TransformerConfig(dimension: 3, heads: 2, ffnUnits: 0, layers: 3, scoreMap: .softmax, initStd: 0.4),
    TransformerConfig(dimension: 4, heads: 3, ffnUnits: 3, layers: 4, scoreMap: .linear, activation: .gelu, initStd: 0.4),
    TransformerConfig(dimension: 4, heads: 2, ffnUnits: 3, layers: 2, scoreMap: .relu, activation: .silu, initStd: 0.4),
    TransformerConfig(dimension: 5, heads: 2, ffnUnits: 2, layers: 3, attention: .factored, headDimension: 2,
                      residualExponent: 0.5, activation: .tanh, preNorm: true, initStd: 0.5),
    TransformerConfig(dimension: 4, heads: 4, ffnUnits: 5, layers: 2, preNorm: true, readout: .classification, classes: 3, initStd: 0.5),
    TransformerConfig(dimension: 6, heads: 5, ffnUnits: 7, layers: 6, temperature: 0.8, activation: .relu),
]

private func problem(_ config: TransformerConfig) -> (ParameterStore<Double>, Tensor<Double>, Targets<Double>) {
    var store: ParameterStore<Double> = MeanFieldTransformer(config: config).initialParameters(seed: 31)
    var random = PhiloxRandom(seed: 5)
    let tokens: Tensor<Double> = random.normal([3, config.dimension, 5])
    if config.readout == .classification {
        store[MeanFieldTransformer.readoutWeightName] = random.normal([config.classes, config.dimension])
        store[MeanFieldTransformer.readoutBiasName] = random.normal([config.classes])
        return (store, tokens, .classification(labels: [0, 2, 1]))
    }
    return (store, tokens, .regression(values: random.normal([3]), labelRow: config.dimension - 1))
}

@Test(arguments: adjointConfigs)
func adjointGradientsMatchWholeDepthAutodiff(_ config: TransformerConfig) {
    let (store, tokens, targets) = problem(config)
    let adjoint = AdjointGradients.compute(model: MeanFieldTransformer(config: config), store: store, tokens: tokens, targets: targets)
    var reference = AutodiffEngine<Double>(config: config)
    let whole = reference.riskAndGradients(store, tokens: tokens, targets: targets, withInputGradient: true)
    #expect(abs(adjoint.risk - whole.risk) <= 1e-14 * max(1, abs(whole.risk)))
    for (name, (a, b)) in zip(store.names, zip(adjoint.gradients, whole.gradients)) {
        #expect(AdjointGradients.relativeDifference(a, b) <= 1e-10, "\(name)")
    }
    // P_0 = ∂loss/∂X_0, the input gradient of the whole-depth pass.
    #expect(AdjointGradients.relativeDifference(adjoint.adjoints[0], whole.inputGradient!) <= 1e-10)
    #expect(adjoint.adjoints.count == config.layers + 1 && adjoint.states.count == config.layers + 1)
}

@Test func finalAdjointIsTheLossGradientAtTheOutputByFiniteDifferences() {
    let config = adjointConfigs[0]
    let (store, tokens, targets) = problem(config)
    let adjoint = AdjointGradients.compute(model: MeanFieldTransformer(config: config), store: store, tokens: tokens, targets: targets)
    guard case let .regression(values, labelRow) = targets else { return }
    // The loss as a function of X_L: ½ mean over the batch of (X_L[b, labelRow, last] − y_b)².
    func loss(_ output: Tensor<Double>) -> Double {
        let n = output.shape[2], D = output.shape[1]
        return (0..<output.shape[0]).reduce(0.0) { sum, b in
            let residual = output.scalars[(b * D + labelRow) * n + n - 1] - values.scalars[b]
            return sum + 0.5 * residual * residual
        } / Double(output.shape[0])
    }
    let top = adjoint.states[config.layers]
    #expect(abs(loss(top) - adjoint.risk) <= 1e-12 * max(1, adjoint.risk))
    for index in 0..<top.count {
        var plus = top, minus = top
        plus.withUnsafeMutableBufferPointer { $0[index] += 1e-5 }
        minus.withUnsafeMutableBufferPointer { $0[index] -= 1e-5 }
        let difference = (loss(plus) - loss(minus)) / 2e-5
        #expect(abs(difference - adjoint.adjoints[config.layers].scalars[index]) <= 1e-8 * max(1, adjoint.risk), "index \(index)")
    }
}
