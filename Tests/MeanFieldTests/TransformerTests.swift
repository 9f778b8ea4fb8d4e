// The mean-field Transformer (theory §1.2–1.3) against independent references: a hand-written
// loop computation for M = L = 1, invariance under permuting particles, and central finite
// differences for the whole-model gradient in Double.
import Foundation
import MeanField
import MeanFieldCore
import Testing

private func constants(_ store: ParameterStore<Double>) -> [String: Variable<Double>] {
    Dictionary(uniqueKeysWithValues: store.names.map { ($0, Variable.constant(store[$0])) })
}

@Test func singleHeadSingleLayerMatchesHandComputation() {
    let config = TransformerConfig(dimension: 3, heads: 1, ffnUnits: 1, layers: 1, temperature: 0.7, activation: .tanh)
    let model = MeanFieldTransformer(config: config)
    let store: ParameterStore<Double> = model.initialParameters(seed: 11)
    var random = PhiloxRandom(seed: 5)
    let tokens: Tensor<Double> = random.normal([1, 3, 4])
    let output = model.forward(Variable.constant(tokens), parameters: constants(store)).value

    // Hand computation with plain loops: H ← H + W_OV H softmax_keys(Hᵀ W_KQ H / τ); then
    // H ← H + a σ(bᵀH + c) (M = M′ = L = 1).
    let D = 3, n = 4
    func h(_ k: Int, _ j: Int) -> Double { tokens[0, k, j] }
    let wkq = store[MeanFieldTransformer.keyQueryName(0)], wov = store[MeanFieldTransformer.outputValueName(0)]
    var scores = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
    for i in 0..<n { for j in 0..<n {
        var s = 0.0
        for p in 0..<D { for q in 0..<D { s += h(p, i) * wkq[0, p, q] * h(q, j) } }
        scores[i][j] = s / 0.7
    } }
    var attended = [[Double]](repeating: [Double](repeating: 0, count: n), count: D)
    for j in 0..<n {
        let maximum = (0..<n).map { scores[$0][j] }.max()!
        let weights = (0..<n).map { Foundation.exp(scores[$0][j] - maximum) }
        let total = weights.reduce(0, +)
        for k in 0..<D {
            var value = 0.0
            for i in 0..<n {
                var projected = 0.0
                for q in 0..<D { projected += wov[0, k, q] * h(q, i) }
                value += projected * weights[i] / total
            }
            attended[k][j] = h(k, j) + value
        }
    }
    let b = store[MeanFieldTransformer.ffnInName(0)], c = store[MeanFieldTransformer.ffnBiasName(0)]
    let a = store[MeanFieldTransformer.ffnOutName(0)]
    for j in 0..<n {
        var pre = c[0]
        for k in 0..<D { pre += b[0, k] * attended[k][j] }
        for k in 0..<D {
            let expected = attended[k][j] + a[0, k] * Foundation.tanh(pre)
            #expect(abs(output[0, k, j] - expected) < 1e-12)
        }
    }
}

@Test func permutingHeadsAndUnitsLeavesOutputUnchanged() {
    let config = TransformerConfig(dimension: 4, heads: 5, ffnUnits: 6, layers: 2)
    let model = MeanFieldTransformer(config: config)
    let store: ParameterStore<Double> = model.initialParameters(seed: 3)
    var random = PhiloxRandom(seed: 9)
    let tokens = Variable<Double>.constant(random.normal([2, 4, 5]))
    var permuted = store
    for layer in 0..<2 {
        let headOrder = [3, 0, 4, 1, 2], unitOrder = [5, 2, 0, 1, 4, 3]
        for name in [MeanFieldTransformer.keyQueryName(layer), MeanFieldTransformer.outputValueName(layer)] {
            permuted[name] = store[name].gathering(headOrder, alongAxis: 0)
        }
        for name in [MeanFieldTransformer.ffnInName(layer), MeanFieldTransformer.ffnBiasName(layer), MeanFieldTransformer.ffnOutName(layer)] {
            permuted[name] = store[name].gathering(unitOrder, alongAxis: 0)
        }
    }
    #expect(permuted != store)
    let original = model.forward(tokens, parameters: constants(store)).value
    let shuffled = model.forward(tokens, parameters: constants(permuted)).value
    let difference = zip(original.scalars, shuffled.scalars).map { abs($0 - $1) }.max()!
    #expect(difference < 1e-12)
}

/// Configurations the gradient check covers: merged/factored, every score map, with/without FF,
/// pre-norm on/off, α = 1 and ½, regression and classification readouts.
private let gradientConfigs: [TransformerConfig] = [
    TransformerConfig(dimension: 3, heads: 2, ffnUnits: 0, layers: 2, scoreMap: .softmax, initStd: 0.4),
    TransformerConfig(dimension: 3, heads: 2, ffnUnits: 3, layers: 2, scoreMap: .linear, activation: .gelu, initStd: 0.4),
    TransformerConfig(dimension: 3, heads: 2, ffnUnits: 3, layers: 2, scoreMap: .relu, activation: .silu, initStd: 0.4),
    TransformerConfig(dimension: 3, heads: 2, ffnUnits: 2, layers: 2, attention: .factored, headDimension: 2,
                      residualExponent: 0.5, activation: .tanh, preNorm: true, initStd: 0.5),
    TransformerConfig(dimension: 4, heads: 3, ffnUnits: 0, layers: 1, attention: .factored, headDimension: 2,
                      scoreMap: .linear, activation: .sigmoid, initStd: 0.5),
    TransformerConfig(dimension: 3, heads: 2, ffnUnits: 2, layers: 2, preNorm: true, readout: .classification, classes: 3, initStd: 0.5),
]

@Test(arguments: gradientConfigs.indices)
func wholeModelGradientMatchesFiniteDifferences(configIndex: Int) {
    let config = gradientConfigs[configIndex]
    let model = MeanFieldTransformer(config: config)
    var store: ParameterStore<Double> = model.initialParameters(seed: 21)
    if config.readout == .classification {  // the readout starts at zero; move it off zero
        var random = PhiloxRandom(seed: 99)
        store[MeanFieldTransformer.readoutWeightName] = random.normal([config.classes, config.dimension])
        store[MeanFieldTransformer.readoutBiasName] = random.normal([config.classes])
    }
    var random = PhiloxRandom(seed: 4)
    let tokens: Tensor<Double> = random.normal([2, config.dimension, 4])
    let targets: Tensor<Double> = random.normal([2])

    func loss(_ store: ParameterStore<Double>, track: Bool) -> (Variable<Double>, [Variable<Double>]) {
        let variables = store.names.map { Variable(store[$0], requiresGradient: track) }
        let byName = Dictionary(uniqueKeysWithValues: zip(store.names, variables))
        let output = model.forward(Variable.constant(tokens), parameters: byName)
        if config.readout == .classification {
            return (model.classificationReadout(output, parameters: byName).crossEntropy(labels: [2, 0]), variables)
        }
        let prediction = model.regressionReadout(output, labelRow: 2)
        return ((prediction - Variable.constant(targets)).squared().mean() * 0.5, variables)
    }
    let (value, variables) = loss(store, track: true)
    let analytic = gradients(of: value, withRespectTo: variables)
    let step = 1e-6
    for (index, name) in store.names.enumerated() {
        for element in stride(from: 0, to: store[name].count, by: 3) {
            var plus = store, minus = store
            var up = store[name], down = store[name]
            up.withUnsafeMutableBufferPointer { $0[element] += step }
            down.withUnsafeMutableBufferPointer { $0[element] -= step }
            plus[name] = up
            minus[name] = down
            let numeric = (loss(plus, track: false).0.value.scalar - loss(minus, track: false).0.value.scalar) / (2 * step)
            let exact = analytic[index].scalars[element]
            let error = abs(numeric - exact) / max(1e-4, abs(numeric) + abs(exact))
            #expect(error < 1e-6, "config \(configIndex), \(name)[\(element)]: finite difference \(numeric) vs autodiff \(exact)")
        }
    }
}

@Test func mergedAndFactoredHeadsAgreeWhenWeightsCorrespond() {
    // With d_h = D, W_OV = O·V and W_KQ = Kᵀ·Q, the two head forms compute the same function
    // (merged with τ = √D matches factored's 1/√d_h score scale).
    let D = 4
    let factored = MeanFieldTransformer(config: TransformerConfig(dimension: D, heads: 3, ffnUnits: 2, layers: 2, attention: .factored, headDimension: D, initStd: 0.5))
    let merged = MeanFieldTransformer(config: TransformerConfig(dimension: D, heads: 3, ffnUnits: 2, layers: 2, attention: .merged, temperature: Double(D).squareRoot(), initStd: 0.5))
    let factoredStore: ParameterStore<Double> = factored.initialParameters(seed: 17)
    var mergedStore: ParameterStore<Double> = merged.initialParameters(seed: 17)
    for layer in 0..<2 {
        let q = factoredStore[MeanFieldTransformer.queryName(layer)], k = factoredStore[MeanFieldTransformer.keyName(layer)]
        let v = factoredStore[MeanFieldTransformer.valueName(layer)], o = factoredStore[MeanFieldTransformer.outputName(layer)]
        mergedStore[MeanFieldTransformer.keyQueryName(layer)] = k.matmul(q, transposeSelf: true)
        mergedStore[MeanFieldTransformer.outputValueName(layer)] = o.matmul(v)
        for name in [MeanFieldTransformer.ffnInName(layer), MeanFieldTransformer.ffnBiasName(layer), MeanFieldTransformer.ffnOutName(layer)] {
            mergedStore[name] = factoredStore[name]
        }
    }
    var random = PhiloxRandom(seed: 6)
    let tokens = Variable<Double>.constant(random.normal([3, D, 5]))
    let a = factored.forward(tokens, parameters: constants(factoredStore)).value
    let b = merged.forward(tokens, parameters: constants(mergedStore)).value
    let difference = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max()!
    #expect(difference < 1e-12)
    #expect(a.scalars.map(abs).max()! > 0.1)
}
