/// Gradients of every differentiable op (Autodiff/Variable+Ops.swift) against central finite
/// differences in `Double` (Support/GradientCheck.swift): max relative error ≤ 1e-6, on shapes with
/// broadcasting, size-1 axes and rank 0. Inputs are drawn away from kinks (relu/abs at 0, ties of
/// max) and poles (log, sqrt, 1/x, division). Forward values are checked in the Ops tests.
import Testing
@testable import MeanFieldCore

/// One op to check: how to make its inputs and how to apply it.
struct GradientCase: CustomTestStringConvertible, Sendable {
    let name: String
    let makeInputs: @Sendable (inout TestRandom) -> [Tensor<Double>]
    let apply: @Sendable ([Variable<Double>]) -> Variable<Double>

    var testDescription: String { name }

    /// Inputs uniform in [-2, 2) of the given shapes.
    init(_ name: String, shapes: [[Int]], apply: @escaping @Sendable ([Variable<Double>]) -> Variable<Double>) {
        self.name = name
        self.makeInputs = { random in shapes.map { random.tensor($0) } }
        self.apply = apply
    }

    init(_ name: String, inputs: @escaping @Sendable (inout TestRandom) -> [Tensor<Double>],
         apply: @escaping @Sendable ([Variable<Double>]) -> Variable<Double>) {
        self.name = name
        self.makeInputs = inputs
        self.apply = apply
    }
}

/// Shape pairs that exercise NumPy broadcasting, including size-1 axes and rank 0.
let broadcastingShapePairs: [([Int], [Int])] = [
    ([3, 4], [3, 4]), ([3, 4], [4]), ([4], [3, 4]), ([3, 1], [1, 4]), ([2, 1, 3], [4, 1]),
    ([1], [2, 3]), ([], [2, 3]), ([2, 3], []), ([1, 1], [1]), ([], []), ([2, 3, 1], [2, 1, 4]),
    ([3, 4], [3, 1]), ([2, 3, 4], [2, 1, 1]),
]

let arithmeticCases: [GradientCase] = broadcastingShapePairs.flatMap { shapeA, shapeB -> [GradientCase] in
    let label = "\(shapeA) ∘ \(shapeB)"
    return [
        GradientCase("add \(label)", shapes: [shapeA, shapeB]) { $0[0] + $0[1] },
        GradientCase("subtract \(label)", shapes: [shapeA, shapeB]) { $0[0] - $0[1] },
        GradientCase("multiply \(label)", shapes: [shapeA, shapeB]) { $0[0] * $0[1] },
        GradientCase("divide \(label)", inputs: { [$0.tensor(shapeA), $0.tensorAwayFromZero(shapeB, 0.5, 2)] }) { $0[0] / $0[1] },
    ]
} + [
    GradientCase("add scalar", shapes: [[2, 3]]) { $0[0] + 2.5 },
    GradientCase("subtract scalar", shapes: [[2, 3]]) { $0[0] - 2.5 },
    GradientCase("multiply by scalar", shapes: [[2, 3]]) { $0[0] * -1.5 },
    GradientCase("scalar times", shapes: [[2, 3]]) { -1.5 * $0[0] },
    GradientCase("divide by scalar", shapes: [[2, 3]]) { $0[0] / 4 },
    GradientCase("negate", shapes: [[2, 3]]) { -$0[0] },
    GradientCase("same variable on both sides", shapes: [[3]]) { $0[0] * $0[0] + $0[0] },
]

let unaryCases: [GradientCase] = UnaryFunction.allCases.flatMap { function -> [GradientCase] in
    [[3, 4], [1], []].map { shape in
        GradientCase("\(function) \(shape)", inputs: { random in
            switch function {
            case .log, .sqrt: return [random.tensor(shape, 0.3, 3)]
            case .relu, .abs, .reciprocal: return [random.tensorAwayFromZero(shape, 0.2, 2)]
            case .exp, .gelu, .tanh, .sigmoid, .silu, .cos: return [random.tensor(shape, -3, 3)]
            case .negate, .square: return [random.tensor(shape)]
            }
        }) { $0[0].map(function) }
    }
} + [
    GradientCase("named unary methods chained", inputs: { [$0.tensor([2, 3], 0.3, 2)] }) { x in
        x[0].exp().log().relu().gelu().tanh().sigmoid().silu().squared().squareRoot()
    },
]

/// (shape, axes) pairs for the reductions: all axes, single axes (negative too), several, size-1 axes.
let reductionAxes: [([Int], [Int])] = [
    ([2, 3, 4], []), ([2, 3, 4], [0]), ([2, 3, 4], [1]), ([2, 3, 4], [-1]), ([2, 3, 4], [0, 2]),
    ([2, 3, 4], [2, 0]), ([1, 5], [0]), ([4, 1], [1]), ([5], [0]), ([], []),
]

let reductionCases: [GradientCase] = reductionAxes.flatMap { shape, axes -> [GradientCase] in
    [false, true].flatMap { keep -> [GradientCase] in
        let label = "\(shape) axes \(axes) keep \(keep)"
        return [
            GradientCase("sum \(label)", shapes: [shape]) { $0[0].sum(alongAxes: axes, keepingDimensions: keep) },
            GradientCase("mean \(label)", shapes: [shape]) { $0[0].mean(alongAxes: axes, keepingDimensions: keep) },
            GradientCase("max \(label)", inputs: { [$0.tensorWithoutTies(shape)] }) {
                $0[0].max(alongAxes: axes, keepingDimensions: keep)
            },
            GradientCase("logSumExp \(label)", shapes: [shape]) { $0[0].logSumExp(alongAxes: axes, keepingDimensions: keep) },
        ]
    }
}

/// (batch of A, batch of B, m, k, n) for matmul: plain, size-1, and broadcast batch axes.
let matmulLayouts: [([Int], [Int], Int, Int, Int)] = [
    ([], [], 3, 4, 2), ([], [], 1, 1, 1), ([], [], 4, 1, 3), ([2], [2], 3, 2, 4),
    ([2, 3], [], 2, 3, 2), ([], [3], 2, 2, 3), ([2, 1], [3], 3, 2, 2), ([1], [2], 2, 3, 1),
]

let matmulCases: [GradientCase] = matmulLayouts.flatMap { batchA, batchB, m, k, n -> [GradientCase] in
    [(false, false), (false, true), (true, false), (true, true)].map { transposeA, transposeB in
        let shapeA = batchA + (transposeA ? [k, m] : [m, k]), shapeB = batchB + (transposeB ? [n, k] : [k, n])
        return GradientCase("matmul \(shapeA)\(transposeA ? "ᵀ" : "") · \(shapeB)\(transposeB ? "ᵀ" : "")", shapes: [shapeA, shapeB]) {
            $0[0].matmul($0[1], transposeSelf: transposeA, transposeOther: transposeB)
        }
    }
} + [
    GradientCase("Gram matrix x·xᵀ (one variable on both sides)", shapes: [[2, 3, 4]]) { $0[0].matmul($0[0], transposeOther: true) },
    GradientCase("xᵀ·x", shapes: [[3, 2]]) { $0[0].matmul($0[0], transposeSelf: true) },
]

let shapeCases: [GradientCase] = [
    GradientCase("reshape with an inferred extent", shapes: [[2, 3, 4]]) { $0[0].reshaped([4, -1]) },
    GradientCase("reshape to rank 0", shapes: [[1, 1]]) { $0[0].reshaped([]) },
    GradientCase("permute [2, 0, 1]", shapes: [[2, 3, 4]]) { $0[0].permuted([2, 0, 1]) },
    GradientCase("permute [1, 0]", shapes: [[3, 1]]) { $0[0].permuted([1, 0]) },
    GradientCase("transpose rank 2", shapes: [[3, 5]]) { $0[0].transposed() },
    GradientCase("transpose rank 3", shapes: [[2, 3, 4]]) { $0[0].transposed() },
    GradientCase("slice axis 0", shapes: [[3, 4]]) { $0[0].slice(axis: 0, 1..<3) },
    GradientCase("slice axis -1", shapes: [[2, 3, 4]]) { $0[0].slice(axis: -1, 1..<2) },
    GradientCase("slice the whole axis", shapes: [[2, 3]]) { $0[0].slice(axis: 1, 0..<3) },
    GradientCase("concatenate axis 1", shapes: [[2, 1], [2, 3], [2, 2]]) { Variable.concatenate($0, axis: 1) },
    GradientCase("concatenate axis -3", shapes: [[1, 2, 2], [2, 2, 2]]) { Variable.concatenate($0, axis: -3) },
    GradientCase("concatenate one piece", shapes: [[3]]) { Variable.concatenate($0, axis: 0) },
    GradientCase("split axis 1, pieces reordered", shapes: [[2, 6, 2]]) { x in
        let pieces = x[0].split(axis: 1, sizes: [1, 3, 2])
        return Variable.concatenate([pieces[2], pieces[0], pieces[1]], axis: 1)
    },
    GradientCase("split axis -1, pieces used differently", shapes: [[3, 4]]) { x in
        let pieces = x[0].split(axis: -1, sizes: [3, 1])
        return pieces[0].sum() + pieces[1].squared().sum()
    },
    GradientCase("gather axis 0 with repeats", shapes: [[3, 4]]) { $0[0].gathering([2, 0, 2, 1, 2], alongAxis: 0) },
    GradientCase("gather axis -1", shapes: [[2, 3, 4]]) { $0[0].gathering([3, 3, 0], alongAxis: -1) },
    GradientCase("gather axis 1 of size 1", shapes: [[2, 1, 3]]) { $0[0].gathering([0, 0], alongAxis: 1) },
]

let normalizationCases: [GradientCase] = [[2, 3, 4], [1, 5], [4, 1], [6]].flatMap { shape -> [GradientCase] in
    (Array(-1..<shape.count)).flatMap { axis -> [GradientCase] in
        [
            GradientCase("softmax \(shape) axis \(axis)", shapes: [shape]) { $0[0].softmax(axis: axis) },
            GradientCase("logSoftmax \(shape) axis \(axis)", shapes: [shape]) { $0[0].logSoftmax(axis: axis) },
        ]
    }
} + [
    GradientCase("layerNorm [3, 5]", shapes: [[3, 5]]) { $0[0].layerNormalized() },
    GradientCase("layerNorm [2, 2, 4] epsilon 0.1", shapes: [[2, 2, 4]]) { $0[0].layerNormalized(epsilon: 0.1) },
    GradientCase("layerNorm [7]", shapes: [[7]]) { $0[0].layerNormalized() },
    GradientCase("layerNorm [2, 1]", shapes: [[2, 1]]) { $0[0].layerNormalized() },
    GradientCase("layerNorm [1, 2]", shapes: [[1, 2]]) { $0[0].layerNormalized(epsilon: 0.5) },
]

let lossCases: [GradientCase] = [[3, 4], [5], [], [2, 1, 3]].map { shape in
    GradientCase("meanSquaredError \(shape)", shapes: [shape, shape]) { $0[0].meanSquaredError($0[1]) }
} + [
    GradientCase("crossEntropy 4×3", shapes: [[4, 3]]) { $0[0].crossEntropy(labels: [2, 0, 1, 2]) },
    GradientCase("crossEntropy 1×5", shapes: [[1, 5]]) { $0[0].crossEntropy(labels: [4]) },
    GradientCase("crossEntropy 3×1", shapes: [[3, 1]]) { $0[0].crossEntropy(labels: [0, 0, 0]) },
    GradientCase("crossEntropy scaled afterwards", shapes: [[2, 4]]) { $0[0].crossEntropy(labels: [3, 1]) * 3 },
]

/// Random shapes: ranks 0–4, extents 1–4, so size-1 axes appear often; each case picks its shapes
/// from its own seed.
let randomShapeCases: [GradientCase] = (0..<6).flatMap { seed -> [GradientCase] in
    var random = TestRandom(seed: 1000 + UInt64(seed))
    let rank = 1 + random.index(below: 4)
    let shape = (0..<rank).map { _ in 1 + random.index(below: 4) }
    // A broadcast partner: a suffix of the shape with some extents replaced by 1.
    let suffix = Array(shape.suffix(1 + random.index(below: rank))).map { random.index(below: 3) == 0 ? 1 : $0 }
    let axis = random.index(below: rank)
    return [
        GradientCase("random \(shape) × \(suffix) then sum over axis \(axis)", shapes: [shape, suffix]) {
            ($0[0] * $0[1]).sum(alongAxes: [axis])
        },
        GradientCase("random \(shape) / \(suffix) then logSumExp over axis \(axis)", inputs: {
            [$0.tensor(shape), $0.tensorAwayFromZero(suffix, 0.5, 2)]
        }) { ($0[0] / $0[1]).logSumExp(alongAxes: [axis], keepingDimensions: true) },
        GradientCase("random \(shape) softmax axis \(axis) then tanh", shapes: [shape]) { $0[0].softmax(axis: axis).tanh() },
    ]
}

@Suite("Gradients of every op match finite differences")
struct VariableOpsGradientTests {
    static func check(_ gradientCase: GradientCase, sourceLocation: SourceLocation = #_sourceLocation) {
        var random = TestRandom(seed: 42)
        let inputs = gradientCase.makeInputs(&random)
        expectGradientsMatch(inputs, gradientCase.name, sourceLocation: sourceLocation, gradientCase.apply)
    }

    @Test("Arithmetic with broadcasting and scalars", arguments: arithmeticCases)
    func arithmetic(_ gradientCase: GradientCase) { Self.check(gradientCase) }

    @Test("Element-wise functions", arguments: unaryCases)
    func unary(_ gradientCase: GradientCase) { Self.check(gradientCase) }

    @Test("Reductions along axes", arguments: reductionCases)
    func reductions(_ gradientCase: GradientCase) { Self.check(gradientCase) }

    @Test("Matmul: every transpose combination, batched with broadcast batch axes", arguments: matmulCases)
    func matmul(_ gradientCase: GradientCase) { Self.check(gradientCase) }

    @Test("Shape ops and gather", arguments: shapeCases)
    func shapes(_ gradientCase: GradientCase) { Self.check(gradientCase) }

    @Test("Softmax, log-softmax along every axis; layer norm", arguments: normalizationCases)
    func normalizations(_ gradientCase: GradientCase) { Self.check(gradientCase) }

    @Test("Losses", arguments: lossCases)
    func losses(_ gradientCase: GradientCase) { Self.check(gradientCase) }

    @Test("Compositions on random shapes", arguments: randomShapeCases)
    func randomShapes(_ gradientCase: GradientCase) { Self.check(gradientCase) }
}

@Suite("Gradients with closed forms")
struct VariableOpsClosedFormTests {
    @Test("max splits the gradient evenly among tied maxima")
    func maxTies() {
        let x = Variable(Tensor<Double>(shape: [2, 3], scalars: [1, 3, 3, 5, 5, 5]))
        let gradient = gradients(of: x.max(alongAxes: [1]).sum(), withRespectTo: [x])[0]
        let third: Double = 1.0 / 3
        let expected: [Double] = [0, 0.5, 0.5, third, third, third]
        #expect(gradient.scalars == expected)
    }

    @Test("relu and abs have derivative 0 at 0 (subgradient convention)")
    func kinksAtZero() {
        let x = Variable(Tensor<Double>([-1, 0, 2]))
        #expect(gradients(of: x.relu().sum(), withRespectTo: [x])[0].scalars == [0, 0, 1])
        #expect(gradients(of: x.map(.abs).sum(), withRespectTo: [x])[0].scalars == [-1, 0, 1])
    }

    @Test("crossEntropy gradient is (softmax − one-hot) / batch")
    func crossEntropyClosedForm() {
        let logits = Tensor<Double>(shape: [2, 2], scalars: [0, 0, 0, Double.log(3)])
        let x = Variable(logits)
        let gradient = gradients(of: x.crossEntropy(labels: [0, 1]), withRespectTo: [x])[0]
        // Row 0: softmax (½, ½), label 0 → (−½, ½)/2. Row 1: softmax (¼, ¾), label 1 → (¼, −¼)/2.
        expectClose(gradient, Tensor(shape: [2, 2], scalars: [-0.25, 0.25, 0.125, -0.125]), relative: 1e-15, absolute: 1e-15, "crossEntropy")
    }
}
