// The fused engine against the autodiff reference (AutodiffEngine): risk, outputs and every
// parameter gradient, in Double (≤ 1e-10 relative) and Float (≤ 1e-4 relative to the Double
// reference), for every option of TransformerConfig; 1-vs-2-thread bit equality; workspace reuse.
import MeanField
import MeanFieldCore
import MeanFieldKernels
@testable import MeanFieldModels
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
    // More rows than one GEMM depth block (256): the weight gradients sum R = 300 rows in two blocks.
    EngineCase(config: TransformerConfig(dimension: 6, heads: 2, ffnUnits: 5, layers: 2, activation: .gelu, preNorm: true), batch: 20, tokens: 15),
    // Wide enough that the feed-forward runs in several row tiles (RowTiles.feedForward: 2^16 / 2048 = 32
    // rows each, R = 300 in 10 tiles, the last of 12 rows) summed in 8 groups, two of two tiles; and
    // the factored attention (RowTiles.attention: 64 heads of width 8, 15·1536 projections per
    // sequence, 2 sequences per tile, 10 tiles in 8 groups).
    EngineCase(config: TransformerConfig(dimension: 6, heads: 2, ffnUnits: 2048, layers: 2, activation: .relu, preNorm: true), batch: 20, tokens: 15),
    EngineCase(config: TransformerConfig(dimension: 6, heads: 64, ffnUnits: 2048, layers: 2, attention: .factored, headDimension: 8,
                                         activation: .gelu, readout: .classification, classes: 3), batch: 20, tokens: 15),
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
    // The feed-forward in 22 row tiles of 16 rows (RowTiles.feedForward), the factored attention in 10
    // tiles of 2 sequences (RowTiles.attention), the gradients of each in 8 groups.
    EngineCase(config: TransformerConfig(dimension: 16, heads: 64, ffnUnits: 4096, layers: 2, attention: .factored, headDimension: 8,
                                         activation: .relu, preNorm: true), batch: 20, tokens: 17),
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

/// Recomputing the attention weights in the backward pass gives the kept weights' bits: every case
/// above (both head layouts, every score map, temperatures 0.8 and 1.3), in Double and in Float,
/// and on 1 and 2 threads for the larger cases.
@Test(arguments: engineCases + threadCases)
private func recomputedAttentionWeightsGiveTheKeptBits(_ testCase: EngineCase) {
    func bits<Scalar: TensorScalar>(_ result: (risk: Double, gradients: [Tensor<Scalar>]), _ outputs: Tensor<Scalar>) -> [[UInt64]] {
        [[result.risk.bitPattern]] + (result.gradients + [outputs]).map { $0.scalars.map { UInt64(Double($0).bitPattern) } }
    }
    func run<Scalar: TensorScalar>(_ storage: AttentionWeightStorage, threads: Int, as type: Scalar.Type) -> [[UInt64]] {
        let (store, tokens, targets) = problem(testCase, as: type)
        var engine = FusedTransformerEngine<Scalar>(config: testCase.config, attentionWeights: storage)
        return Threading.withThreadCount(threads) {
            bits(engine.riskAndGradients(store, tokens: tokens, targets: targets), engine.evaluate(store, tokens: tokens, targets: targets).outputs)
        }
    }
    let kept = run(.kept, threads: 1, as: Double.self)
    #expect(run(.recomputed, threads: 1, as: Double.self) == kept)
    #expect(run(.recomputed, threads: 2, as: Double.self) == kept)
    #expect(run(.recomputed, threads: 2, as: Float.self) == run(.kept, threads: 1, as: Float.self))
    // The automatic choice keeps these small cases' weights.
    #expect(run(.automatic, threads: 1, as: Double.self) == kept)
}

/// Scalars of every buffer a workspace holds (its stored properties, by reflection).
private func allocatedScalars<T: TensorScalar>(_ workspace: FusedWorkspace<T>) -> Int {
    Mirror(reflecting: workspace).children.reduce(0) { total, child in
        if let buffer = child.value as? ScalarBuffer<T> { return total + buffer.count }
        if let buffers = child.value as? [ScalarBuffer<T>] { return total + buffers.reduce(0) { $0 + $1.count } }
        return total
    }
}

/// The automatic storage keeps the weights up to the limit and recomputes them beyond it, and the
/// memory plan (what the memory check refuses configs by) is what the workspace allocates.
@Test func automaticAttentionStorageFollowsTheLimit() {
    let vit = TransformerConfig(dimension: 64, heads: 4, ffnUnits: 256, layers: 4, attention: .factored, headDimension: 16,
                                preNorm: true, readout: .classification, classes: 10)
    let regression = TransformerConfig(dimension: 6, heads: 16, ffnUnits: 16, layers: 8)
    let small = FusedShape(config: vit, batch: 128, tokens: 65)                  // 4·128·4·65² = 8.7M scalars kept
    let large = FusedShape(config: vit, batch: 128, tokens: 257)                 // 4·128·4·257² = 135M > 2²⁶
    let merged = FusedShape(config: regression, batch: 4096, tokens: 41)         // 8·4096·16·41² = 881M
    #expect(!small.recomputesAttentionWeights && large.recomputesAttentionWeights && merged.recomputesAttentionWeights)
    for (shape, weights) in [(small, 4 * 128 * 4 * 65 * 65), (large, 128 * 257 * 257), (merged, 4096 * 16 * 41 * 41)] {
        let workspace = FusedWorkspace<Float>(shape)
        #expect(workspace.weights.reduce(0) { $0 + $1.count } == weights)
        #expect(Double(allocatedScalars(workspace)) == FusedShape.workspaceScalars(shape.config, batch: shape.batch, tokens: shape.tokens))
    }
}

/// Row tiles cover every row once, in order, and their groups every tile once: for the ViT
/// (R = 128·65 = 8,320 rows; the feed-forward's M′ = 256: 256-row tiles, 33 of them, the last of 128
/// rows; the attention's 192 projections: 5 sequences a tile, 26 tiles, the last of 3 sequences), the
/// regression size and shapes with fewer tiles than groups; absurd sizes do not overflow.
@Test func rowTilesPartitionTheRows() {
    let vit = RowTiles.feedForward(batch: 128, tokens: 65, units: 256)
    #expect(vit.rowsPerTile == 256 && vit.count == 33 && vit.groups == 8 && vit.rows(32) == 8192..<8320)
    let attention = RowTiles.attention(batch: 128, tokens: 65, width: 192)
    #expect(attention.rowsPerTile == 325 && attention.count == 26 && attention.rows(25) == 8125..<8320)
    let absurd = RowTiles.attention(batch: 1 << 40, tokens: 1 << 30, width: 1 << 40)
    #expect(absurd.totalRows == .max && absurd.rowsPerTile == 1 << 30 && absurd.groups == 8)
    for (rows, units) in [(8320, 256), (5376, 16), (300, 2048), (7, 3), (1, 100_000), (33, 4096)] {
        let tiles = RowTiles(rows: rows, rowsPerTile: RowTiles.scalarsPerTile / units)
        #expect((0..<tiles.count).flatMap { Array(tiles.rows($0)) } == Array(0..<rows), "\(rows)×\(units)")
        #expect((0..<tiles.groups).flatMap { Array(tiles.tiles(group: $0)) } == Array(0..<tiles.count), "\(rows)×\(units)")
        #expect((0..<tiles.groups).allSatisfy { !tiles.tiles(group: $0).isEmpty } && tiles.groups <= RowTiles.maximumGroups)
    }
}
