// The mean-field ResNet (theory §4–5): the hand-written adjoint recursion against whole-depth
// reverse-mode autodiff (≤ 1e-10 relative in Double), autodiff against central differences, and the
// flow scales of conditional OT.
import MeanField
import MeanFieldCore
import Testing

private let resNetConfigs: [ResNetConfig] = [
    ResNetConfig(inputDimension: 3, hiddenDimension: 4, layers: 3, units: 5, outputs: 1, initStd: 0.6),
    ResNetConfig(inputDimension: 2, hiddenDimension: 5, layers: 6, units: 3, activation: .tanh, outputs: 2, residualExponent: 0.5, initStd: 0.7),
    ResNetConfig(inputDimension: 4, hiddenDimension: 3, layers: 2, units: 4, activation: .gelu, outputs: 3, initStd: 0.5),
    ResNetConfig(inputDimension: 3, hiddenDimension: 4, layers: 4, units: 7, block: .randomFeatures, featureMap: .cos, featureScale: 0.8, outputs: 1),
    ResNetConfig(inputDimension: 2, hiddenDimension: 3, layers: 3, units: 6, block: .randomFeatures, featureMap: .relu, outputs: 4),
]

/// A problem with random (non-zero) parameters everywhere, so every gradient is non-trivial.
private func problem(_ config: ResNetConfig, classification: Bool) -> (MeanFieldResNet, ParameterStore<Double>, Tensor<Double>, ResNetTargets<Double>) {
    let model = MeanFieldResNet(config: config, seed: 9)
    var store: ParameterStore<Double> = model.initialParameters(seed: 9)
    var random = PhiloxRandom(seed: 77)
    for name in store.names { store[name] = random.normal(store[name].shape, standardDeviation: 0.5) }
    let inputs: Tensor<Double> = random.normal([5, config.inputDimension])
    if classification && config.outputs > 1 {  // one class: the cross-entropy is constant
        return (model, store, inputs, .classification(labels: (0..<5).map { $0 % config.outputs }))
    }
    return (model, store, inputs, .regression(values: random.normal([5, config.outputs])))
}

@Test(arguments: resNetConfigs, [false, true])
func resNetAdjointMatchesWholeDepthAutodiff(_ config: ResNetConfig, classification: Bool) {
    let (model, store, inputs, targets) = problem(config, classification: classification)
    let adjoint = ResNetAdjoint.compute(model: model, store: store, inputs: inputs, targets: targets)
    let whole = model.riskAndGradients(store, inputs: inputs, targets: targets)
    #expect(abs(adjoint.risk - whole.risk) <= 1e-14 * max(1, abs(whole.risk)))
    for (name, (a, b)) in zip(store.names, zip(adjoint.gradients, whole.gradients)) {
        #expect(AdjointGradients.relativeDifference(a, b) <= 1e-10, "\(name)")
        #expect(b.scalars.contains { $0 != 0 }, "\(name): a zero reference gradient tests nothing")
    }
    #expect(adjoint.states.count == config.layers + 1 && adjoint.adjoints.count == config.layers + 1)
}

@Test(arguments: resNetConfigs)
func resNetAutodiffMatchesCentralDifferences(_ config: ResNetConfig) {
    let (model, store, inputs, targets) = problem(config, classification: false)
    let whole = model.riskAndGradients(store, inputs: inputs, targets: targets)
    let h = 1e-6
    for (index, name) in store.names.enumerated() {
        // Three entries of each tensor (first, middle, last).
        let count = store[name].count
        for entry in Set([0, count / 2, count - 1]) {
            var plus = store, minus = store
            var up = store[name].scalars, down = up
            up[entry] += h; down[entry] -= h
            plus[name] = Tensor(shape: store[name].shape, scalars: up)
            minus[name] = Tensor(shape: store[name].shape, scalars: down)
            let numeric = (model.evaluate(plus, inputs: inputs, targets: targets).risk - model.evaluate(minus, inputs: inputs, targets: targets).risk) / (2 * h)
            let analytic = whole.gradients[index].scalars[entry]
            #expect(abs(numeric - analytic) <= 1e-6 * max(1, abs(analytic)), "\(name)[\(entry)]: \(numeric) vs \(analytic)")
        }
    }
}

@Test func resNetParticlesCarryTheConditionalOTFlowScale() {
    let config = ResNetConfig(inputDimension: 3, hiddenDimension: 4, layers: 5, units: 7, outputs: 2)
    let store: ParameterStore<Float> = MeanFieldResNet(config: config, seed: 0).initialParameters(seed: 0)
    for name in store.names {
        let expected = name.hasPrefix("layer") ? 35.0 : 1.0
        #expect(store.flowScales[name] == expected, "\(name)")
    }
    #expect(Double(store.scalarCount) == config.parameterCount)
    let features = ResNetConfig(inputDimension: 3, hiddenDimension: 4, layers: 5, units: 7, block: .randomFeatures, outputs: 2)
    let rff: ParameterStore<Float> = MeanFieldResNet(config: features, seed: 0).initialParameters(seed: 0)
    #expect(Double(rff.scalarCount) == features.parameterCount)
    #expect(rff.names.filter { $0.hasPrefix("layer") }.allSatisfy { rff[$0].scalars.allSatisfy { $0 == 0 } }, "Θ_ℓ starts at 0 (theory §5)")
}

@Test func resNetResidualStepFollowsTheDepthLimit() {
    // With the same particles (and embedding and readout) in every layer, X_L of a 1/L-step ResNet approaches the depth ODE's
    // solution: doubling L halves the gap to a very deep reference (Euler is first order).
    func output(layers: Int) -> Double {
        let config = ResNetConfig(inputDimension: 2, hiddenDimension: 3, layers: layers, units: 4, activation: .tanh, outputs: 1)
        let model = MeanFieldResNet(config: config, seed: 1)
        var store: ParameterStore<Double> = model.initialParameters(seed: 1)
        var random = PhiloxRandom(seed: 4)
        let w: Tensor<Double> = random.normal([4, 3]), b: Tensor<Double> = random.normal([4]), u: Tensor<Double> = random.normal([4, 3], standardDeviation: 2)
        store[MeanFieldResNet.readoutWeightName] = Tensor(shape: [1, 3], scalars: [1, -0.5, 0.25])
        for layer in 0..<layers {
            store[MeanFieldResNet.inName(layer)] = w; store[MeanFieldResNet.biasName(layer)] = b; store[MeanFieldResNet.outName(layer)] = u
        }
        let inputs = Tensor<Double>(shape: [1, 2], scalars: [0.5, -1])
        return model.evaluate(store, inputs: inputs, targets: .regression(values: .zeros([1, 1]))).outputs.scalars[0]
    }
    let limit = output(layers: 4096)
    let gap32 = abs(output(layers: 32) - limit), gap64 = abs(output(layers: 64) - limit)
    #expect(gap32 > 1e-4)
    #expect(abs(gap32 / gap64 - 2) < 0.15, "ratio \(gap32 / gap64)")
}
