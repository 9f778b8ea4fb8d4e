/// Matrix products (Ops/Matmul.swift). References: NumPy's np.matmul (Fixtures/matmul.json, every
/// transpose combination, broadcast batch axes) and a naive triple loop in Double on odd sizes.
import Testing
@testable import MeanFieldCore

/// C[b, i, j] = Σₚ op(A)[b, i, p]·op(B)[b, p, j], batch axes broadcast, the textbook way.
func naiveMatmul(_ a: Tensor<Double>, _ b: Tensor<Double>, transposeA: Bool, transposeB: Bool) -> Tensor<Double> {
    let opA = transposeA ? a.permuted(Array(0..<(a.rank - 2)) + [a.rank - 1, a.rank - 2]) : a
    let opB = transposeB ? b.permuted(Array(0..<(b.rank - 2)) + [b.rank - 1, b.rank - 2]) : b
    let m = opA.shape[opA.rank - 2], k = opA.shape[opA.rank - 1], n = opB.shape[opB.rank - 1]
    let batchShape = broadcastShape(Array(opA.shape.dropLast(2)), Array(opB.shape.dropLast(2)), op: "naive")
    let batches = batchShape.reduce(1, *)
    let stridesA = broadcastStrides(Array(opA.shape.dropLast(2)), to: batchShape)
    let stridesB = broadcastStrides(Array(opB.shape.dropLast(2)), to: batchShape)
    var result = [Double](repeating: 0, count: batches * m * n)
    for batch in 0..<batches {
        var remainder = batch, offsetA = 0, offsetB = 0
        for axis in stride(from: batchShape.count - 1, through: 0, by: -1) {
            offsetA += (remainder % batchShape[axis]) * stridesA[axis]
            offsetB += (remainder % batchShape[axis]) * stridesB[axis]
            remainder /= batchShape[axis]
        }
        for i in 0..<m {
            for j in 0..<n {
                var total = 0.0
                for p in 0..<k { total += opA.scalars[offsetA * m * k + i * k + p] * opB.scalars[offsetB * k * n + p * n + j] }
                result[batch * m * n + i * n + j] = total
            }
        }
    }
    return Tensor(shape: batchShape + [m, n], scalars: result)
}

@Suite("Matmul")
struct MatmulTests {
    @Test("All four transpose combinations, plain and batched with broadcast batch axes, match NumPy")
    func valuesMatchNumPy() throws {
        try checkFixtures("matmul", tolerance: FixtureTolerance(doubleRelative: 1e-14, doubleAbsolute: 1e-14))
    }

    @Test("Odd sizes and every transpose combination match a naive triple loop", arguments: [
        ([], [], 1, 1, 1), ([], [], 7, 33, 5), ([], [], 33, 7, 65), ([3], [], 17, 9, 1), ([2, 1], [1, 3], 5, 31, 6),
        ([], [], 129, 67, 70), ([40], [40], 9, 8, 9),
    ] as [([Int], [Int], Int, Int, Int)])
    func oddSizes(_ batchA: [Int], _ batchB: [Int], _ m: Int, _ k: Int, _ n: Int) {
        var random = TestRandom(seed: UInt64(m * 10_000 + k * 100 + n))
        for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
            let a = random.tensor(batchA + (transposeA ? [k, m] : [m, k]))
            let b = random.tensor(batchB + (transposeB ? [n, k] : [k, n]))
            let expected = naiveMatmul(a, b, transposeA: transposeA, transposeB: transposeB)
            let label = "\(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")"
            // Accumulation order may differ from the loop: allow k·ε relative to Σ|aᵢ||bᵢ| ≤ 4k.
            expectClose(a.matmul(b, transposeSelf: transposeA, transposeOther: transposeB), expected,
                        relative: 0, absolute: Double(k) * 4 * 1e-15, label)
            expectClose(a.converted(to: Float.self).matmul(b.converted(to: Float.self), transposeSelf: transposeA, transposeOther: transposeB),
                        expected, relative: 0, absolute: Double(k).squareRoot() * 4 * 1e-6, label)
        }
    }

    @Test("Products with an empty extent: zero-sized results, or zeros when k = 0")
    func emptyExtents() {
        let noInner = Tensor<Double>.ones([3, 0]).matmul(Tensor.ones([0, 2]))
        #expect(noInner == Tensor.zeros([3, 2]))
        #expect(Tensor<Float>.ones([0, 4]).matmul(Tensor.ones([4, 2])).shape == [0, 2])
        #expect(Tensor<Float>.ones([2, 0, 3, 4]).matmul(Tensor.ones([4, 2])).shape == [2, 0, 3, 2])
        let batchedNoInner = Tensor<Float>.ones([2, 3, 0]).matmul(Tensor.ones([0, 5]))
        #expect(batchedNoInner == Tensor.zeros([2, 3, 5]))
    }

    @Test("Multiplying by the identity returns the operand exactly")
    func identity() {
        var random = TestRandom(seed: 11)
        let x = random.tensor([3, 5, 4]).converted(to: Float.self)
        var eye = Tensor<Float>.zeros([4, 4])
        for i in 0..<4 { eye[i, i] = 1 }
        #expect(x.matmul(eye) == x)
        #expect(eye.matmul(x, transposeOther: true) == x.transposed())
    }

    @Test("Inner dimensions that differ stop, naming matmul and both shapes")
    func innerMismatchStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3]).matmul(Tensor<Float>.zeros([4, 5]))
        }
        let message = standardErrorText(result)
        #expect(message.contains("matmul") && message.contains("[2, 3]") && message.contains("[4, 5]"), "stderr: \(message)")

        let transposed = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3]).matmul(Tensor<Float>.zeros([2, 3]), transposeOther: true).matmul(Tensor<Float>.zeros([3, 3]))
        }
        let transposedMessage = standardErrorText(transposed)
        #expect(transposedMessage.contains("matmul") && transposedMessage.contains("[2, 2]") && transposedMessage.contains("[3, 3]"),
                "stderr: \(transposedMessage)")
    }

    @Test("Batch axes that do not broadcast stop, naming matmul and both operand shapes")
    func batchMismatchStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3, 4]).matmul(Tensor<Float>.zeros([3, 4, 5]))
        }
        let message = standardErrorText(result)
        #expect(message.contains("matmul") && message.contains("[2, 3, 4]") && message.contains("[3, 4, 5]"), "stderr: \(message)")
    }

    @Test("A rank-1 operand stops, naming matmul and both shapes")
    func rankOneStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([3]).matmul(Tensor<Float>.zeros([3, 2]))
        }
        let message = standardErrorText(result)
        #expect(message.contains("matmul") && message.contains("[3]") && message.contains("[3, 2]"), "stderr: \(message)")
    }
}
