// ∂R/∂tokens (TransformerEngine.riskAndGradients(_:tokens:targets:withInputGradient:)): the autodiff
// engine against central finite differences, and the fused engine against the autodiff one
// (Double, ≤ 1e-10 relative), for regression, mean-pooled and class-token classification readouts.
import MeanField
import MeanFieldCore
import Testing

private let inputGradientConfigs: [TransformerConfig] = [
    TransformerConfig(dimension: 3, heads: 2, ffnUnits: 3, layers: 2, scoreMap: .softmax, activation: .gelu, initStd: 0.4),
    TransformerConfig(dimension: 4, heads: 2, ffnUnits: 2, layers: 2, attention: .factored, headDimension: 2, residualExponent: 0.5,
                      activation: .tanh, preNorm: true, readout: .classification, classes: 3, initStd: 0.5),
    TransformerConfig(dimension: 5, heads: 3, ffnUnits: 4, layers: 2, attention: .factored, headDimension: 3, scoreMap: .relu,
                      activation: .silu, preNorm: true, readout: .classToken, classes: 4, initStd: 0.5),
    TransformerConfig(dimension: 4, heads: 2, ffnUnits: 0, layers: 3, scoreMap: .linear, readout: .classToken, classes: 3, initStd: 0.4),
]

private func inputGradientProblem(_ config: TransformerConfig) -> (ParameterStore<Double>, Tensor<Double>, Targets<Double>) {
    var store: ParameterStore<Double> = MeanFieldTransformer(config: config).initialParameters(seed: 5)
    var random = PhiloxRandom(seed: 9)
    let batch = 2, tokens = 4
    let input: Tensor<Double> = random.normal([batch, config.dimension, tokens])
    guard config.readout.isClassification else {
        return (store, input, .regression(values: random.normal([batch]), labelRow: config.dimension - 1))
    }
    store[MeanFieldTransformer.readoutWeightName] = random.normal([config.classes, config.dimension])
    store[MeanFieldTransformer.readoutBiasName] = random.normal([config.classes])
    return (store, input, .classification(labels: (0..<batch).map { ($0 * 2 + 1) % config.classes }))
}

@Test(arguments: inputGradientConfigs.indices)
func autodiffInputGradientMatchesFiniteDifferences(index: Int) {
    let config = inputGradientConfigs[index]
    let (store, tokens, targets) = inputGradientProblem(config)
    var engine = AutodiffEngine<Double>(config: config)
    let result = engine.riskAndGradients(store, tokens: tokens, targets: targets, withInputGradient: true)
    let gradient = try! #require(result.inputGradient)
    #expect(gradient.shape == tokens.shape)
    let plain = engine.riskAndGradients(store, tokens: tokens, targets: targets)
    #expect(plain.risk == result.risk)
    let h = 1e-5
    var worst = 0.0
    for entry in 0..<tokens.count {
        var plus = tokens.scalars, minus = tokens.scalars
        plus[entry] += h
        minus[entry] -= h
        let up = engine.evaluate(store, tokens: Tensor(shape: tokens.shape, scalars: plus), targets: targets).risk
        let down = engine.evaluate(store, tokens: Tensor(shape: tokens.shape, scalars: minus), targets: targets).risk
        let numeric = (up - down) / (2 * h)
        worst = max(worst, abs(numeric - gradient.scalars[entry]) / max(1e-6, abs(numeric)))
    }
    #expect(worst < 1e-5, "worst relative difference \(worst)")
}

@Test(arguments: inputGradientConfigs.indices)
func fusedInputGradientMatchesAutodiff(index: Int) {
    let config = inputGradientConfigs[index]
    let (store, tokens, targets) = inputGradientProblem(config)
    var reference = AutodiffEngine<Double>(config: config)
    var fused = FusedTransformerEngine<Double>(config: config)
    let expected = reference.riskAndGradients(store, tokens: tokens, targets: targets, withInputGradient: true)
    let actual = fused.riskAndGradients(store, tokens: tokens, targets: targets, withInputGradient: true)
    #expect(abs(actual.risk - expected.risk) <= 1e-10 * abs(expected.risk))
    let a = try! #require(actual.inputGradient), e = try! #require(expected.inputGradient)
    var difference = 0.0, norm = 0.0
    for (x, y) in zip(a.scalars, e.scalars) {
        difference += (x - y) * (x - y)
        norm += y * y
    }
    #expect((difference / norm).squareRoot() <= 1e-10)
    for (x, y) in zip(actual.gradients, expected.gradients) {
        var d = 0.0, n = 0.0
        for (p, q) in zip(x.scalars, y.scalars) { d += (p - q) * (p - q); n += q * q }
        #expect(n == 0 ? d == 0 : (d / n).squareRoot() <= 1e-10)
    }
    // Through the type-erased engine too, and without the input gradient.
    var erased = makeEngine(config: config, kind: .fused, as: Double.self)
    #expect(erased.riskAndGradients(store, tokens: tokens, targets: targets, withInputGradient: true).inputGradient == a)
    #expect(fused.riskAndGradients(store, tokens: tokens, targets: targets, withInputGradient: false).inputGradient == nil)
}
