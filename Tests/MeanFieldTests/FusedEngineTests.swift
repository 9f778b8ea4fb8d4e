// The fused engine against the autodiff reference (AutodiffEngine): risk, outputs and every
// parameter gradient, in Double (≤ 1e-10 relative) and Float (≤ 1e-4 relative to the Double
// reference), for every option of TransformerConfig; 1-vs-2-thread bit equality; workspace reuse.
import MeanField
import MeanFieldCore
import MeanFieldKernels
import Testing

/// A config, its batch shape and whether it should be read out by classification.
private struct EngineCase: CustomTestStringConvertible, Sendable {
    let config: TransformerConfig
    let batch: Int
    let tokens: Int
    var testDescription: String {
        let c = config
        return "\(c.attention) D=\(c.dimension) M=\(c.heads) M′=\(c.ffnUnits) L=\(c.layers) \(c.scoreMap) \(c.activation)"
            + "\(c.preNorm ? " prenorm" : "") α=\(c.residualExponent) \(c.readout) B=\(batch) n=\(tokens)"
    }
}

/// TransformerTests' gradient configs, then larger ones covering every activation and readout.
private let engineCases: [EngineCase] = [
    EngineCase(config: TransformerConfig(dimension: 3, heads: 2, ffnUnits: 0, layers: 2, scoreMap: .softmax, initStd: 0.4), batch: 2, tokens: 4),
    EngineCase(config: TransformerConfig(dimension: 3, heads: 2, ffnUnits: 3, layers: 2, scoreMap: .linear, activation: .gelu, initStd: 0.4), batch: 2, tokens: 4),
    EngineCase(config: TransformerConfig(dimension: 3, heads: 2, ffnUnits: 3, layers: 2, scoreMap: .relu, activation: .silu, initStd: 0.4), batch: 2, tokens: 4),
    EngineCase(config: TransformerConfig(dimension: 3, heads: 2, ffnUnits: 2, layers: 2, attention: .factored, headDimension: 2,
                                         residualExponent: 0.5, activation: .tanh, preNorm: true, initStd: 0.5), batch: 2, tokens: 4),
    EngineCase(config: TransformerConfig(dimension: 4, heads: 3, ffnUnits: 0, layers: 1, attention: .factored, headDimension: 2,
                                         scoreMap: .linear, activation: .sigmoid, initStd: 0.5), batch: 2, tokens: 4),
    EngineCase(config: TransformerConfig(dimension: 3, heads: 2, ffnUnits: 2, layers: 2, preNorm: true, readout: .classification, classes: 3, initStd: 0.5), batch: 2, tokens: 4),
    // Larger: the regression shape (d = 5, D = 6) at small M and L, every activation.
    EngineCase(config: TransformerConfig(dimension: 6, heads: 5, ffnUnits: 7, layers: 3, temperature: 0.8, activation: .relu), batch: 5, tokens: 9),
    EngineCase(config: TransformerConfig(dimension: 6, heads: 4, ffnUnits: 6, layers: 2, activation: .sigmoid), batch: 3, tokens: 7),
    EngineCase(config: TransformerConfig(dimension: 5, heads: 3, ffnUnits: 4, layers: 2, scoreMap: .relu, activation: .tanh, preNorm: true), batch: 4, tokens: 6),
    EngineCase(config: TransformerConfig(dimension: 6, heads: 3, ffnUnits: 5, layers: 2, residualExponent: 0.5, activation: .silu,
                                         preNorm: true, readout: .classification, classes: 4), batch: 4, tokens: 5),
    // ViT-like: factored heads, pre-norm, classification on mean-pooled tokens.
    EngineCase(config: TransformerConfig(dimension: 8, heads: 2, ffnUnits: 12, layers: 2, attention: .factored, headDimension: 4,
                                         activation: .gelu, preNorm: true, readout: .classification, classes: 5), batch: 3, tokens: 9),
    EngineCase(config: TransformerConfig(dimension: 8, heads: 3, ffnUnits: 6, layers: 3, attention: .factored, headDimension: 3,
                                         temperature: 1.3, scoreMap: .relu, activation: .relu), batch: 3, tokens: 6),
    EngineCase(config: TransformerConfig(dimension: 7, heads: 2, ffnUnits: 4, layers: 2, attention: .factored, headDimension: 5,
                                         residualExponent: 0.5, scoreMap: .linear, activation: .silu, readout: .classification, classes: 3,
                                         initStd: 0.3), batch: 2, tokens: 5),
]

/// Parameters (the classification readout moved off its zero start), tokens and targets.
private func problem<Scalar: TensorScalar>(_ testCase: EngineCase, as _: Scalar.Type) -> (ParameterStore<Scalar>, Tensor<Scalar>, Targets<Scalar>) {
    let config = testCase.config
    var store: ParameterStore<Scalar> = MeanFieldTransformer(config: config).initialParameters(seed: 21)
    var random = PhiloxRandom(seed: 4)
    let tokens: Tensor<Scalar> = random.normal([testCase.batch, config.dimension, testCase.tokens])
    if config.readout == .classification {
        store[MeanFieldTransformer.readoutWeightName] = random.normal([config.classes, config.dimension])
        store[MeanFieldTransformer.readoutBiasName] = random.normal([config.classes])
        let labels = (0..<testCase.batch).map { ($0 * 7 + 1) % config.classes }
        return (store, tokens, .classification(labels: labels))
    }
    return (store, tokens, .regression(values: random.normal([testCase.batch]), labelRow: config.dimension - 1))
}

/// ‖a − b‖ / ‖b‖ (0 when both vanish).
private func relativeError<A: TensorScalar, B: TensorScalar>(_ a: Tensor<A>, _ b: Tensor<B>) -> Double {
    precondition(a.shape == b.shape, "shapes \(a.shape) vs \(b.shape)")
    var difference = 0.0, norm = 0.0
    for (x, y) in zip(a.scalars, b.scalars) {
        difference += (Double(x) - Double(y)) * (Double(x) - Double(y))
        norm += Double(y) * Double(y)
    }
    return norm == 0 ? difference.squareRoot() : (difference / norm).squareRoot()
}

@Test(arguments: engineCases)
private func fusedMatchesAutodiffInDouble(_ testCase: EngineCase) {
    let (store, tokens, targets) = problem(testCase, as: Double.self)
    var reference = AutodiffEngine<Double>(config: testCase.config)
    var fused = FusedTransformerEngine<Double>(config: testCase.config)
    let expected = reference.riskAndGradients(store, tokens: tokens, targets: targets)
    let actual = fused.riskAndGradients(store, tokens: tokens, targets: targets)
    #expect(abs(actual.risk - expected.risk) <= 1e-10 * abs(expected.risk))
    #expect(actual.gradients.count == store.names.count)
    for (index, name) in store.names.enumerated() {
        let error = relativeError(actual.gradients[index], expected.gradients[index])
        #expect(error <= 1e-10, "\(name): relative error \(error)")
    }
    let expectedOutputs = reference.evaluate(store, tokens: tokens, targets: targets)
    let actualOutputs = fused.evaluate(store, tokens: tokens, targets: targets)
    #expect(relativeError(actualOutputs.outputs, expectedOutputs.outputs) <= 1e-10)
    #expect(abs(actualOutputs.risk - expectedOutputs.risk) <= 1e-10 * abs(expectedOutputs.risk))
}

@Test(arguments: engineCases)
private func fusedFloatMatchesDoubleReference(_ testCase: EngineCase) {
    let (store, tokens, targets) = problem(testCase, as: Double.self)
    var floatStore = ParameterStore<Float>()
    for name in store.names { floatStore.set(name, store[name].converted(), flowScale: store.flowScales[name]!) }
    let floatTargets: Targets<Float>
    switch targets {
    case let .regression(values, labelRow): floatTargets = .regression(values: values.converted(), labelRow: labelRow)
    case let .classification(labels): floatTargets = .classification(labels: labels)
    case .centred: preconditionFailure("the engine cases are not centred")
    }
    var reference = AutodiffEngine<Double>(config: testCase.config)
    var fused = FusedTransformerEngine<Float>(config: testCase.config)
    let expected = reference.riskAndGradients(store, tokens: tokens, targets: targets)
    let actual = fused.riskAndGradients(floatStore, tokens: tokens.converted(), targets: floatTargets)
    #expect(abs(actual.risk - expected.risk) <= 1e-4 * abs(expected.risk))
    for (index, name) in store.names.enumerated() {
        let error = relativeError(actual.gradients[index], expected.gradients[index])
        #expect(error <= 1e-4, "\(name): relative error \(error)")
    }
}

/// Large enough that the GEMMs, the per-sequence loop and the element-wise kernels all split work.
private let threadCases: [EngineCase] = [
    EngineCase(config: TransformerConfig(dimension: 16, heads: 4, ffnUnits: 64, layers: 2, activation: .gelu), batch: 16, tokens: 17),
    EngineCase(config: TransformerConfig(dimension: 16, heads: 4, ffnUnits: 64, layers: 2, attention: .factored, headDimension: 8,
                                         preNorm: true, readout: .classification, classes: 4), batch: 16, tokens: 17),
]

@Test(arguments: threadCases)
private func resultsAreBitwiseIndependentOfThreadCount(_ testCase: EngineCase) {
    let (store, tokens, targets) = problem(testCase, as: Float.self)
    var results: [(risk: Double, gradients: [Tensor<Float>])] = []
    for threads in [1, 2] {
        var engine = FusedTransformerEngine<Float>(config: testCase.config)
        results.append(Threading.withThreadCount(threads) { engine.riskAndGradients(store, tokens: tokens, targets: targets) })
    }
    #expect(results[0].risk.bitPattern == results[1].risk.bitPattern)
    for (index, name) in store.names.enumerated() {
        #expect(results[0].gradients[index].scalars.map(\.bitPattern) == results[1].gradients[index].scalars.map(\.bitPattern), "\(name)")
    }
}

@Test func workspaceIsReusedAcrossStepsAndReplannedForNewShapes() {
    let testCase = engineCases[9]
    let (store, tokens, targets) = problem(testCase, as: Double.self)
    var engine = FusedTransformerEngine<Double>(config: testCase.config)
    let first = engine.riskAndGradients(store, tokens: tokens, targets: targets)
    // A different batch size in between must not disturb the next step at the original size.
    let smaller = Tensor<Double>(shape: [1, tokens.shape[1], tokens.shape[2]],
                                 scalars: Array(tokens.scalars.prefix(tokens.shape[1] * tokens.shape[2])))
    _ = engine.riskAndGradients(store, tokens: smaller, targets: .classification(labels: [0]))
    var copy = engine
    let second = copy.riskAndGradients(store, tokens: tokens, targets: targets)
    let third = engine.riskAndGradients(store, tokens: tokens, targets: targets)
    #expect(first.risk == second.risk && first.risk == third.risk)
    #expect(first.gradients == second.gradients && first.gradients == third.gradients)
}
