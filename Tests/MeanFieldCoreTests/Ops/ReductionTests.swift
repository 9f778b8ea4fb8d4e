/// Reductions along axes and unbroadcast (Ops/Reduction.swift). References: NumPy/SciPy
/// (Fixtures/reduction.json: np.sum, np.mean, np.max, scipy.special.logsumexp with keepdims) and
/// closed forms (sums of integers, log Σ eˣ of equal values).
import Testing
@testable import MeanFieldCore

@Suite("Reductions")
struct ReductionTests {
    @Test("sum, mean, max, logSumExp over axis sets, with and without kept dimensions, match NumPy")
    func valuesMatchNumPy() throws {
        try checkFixtures("reduction", tolerance: FixtureTolerance(doubleRelative: 1e-14, doubleAbsolute: 1e-14))
    }

    @Test("Sums of integers are exact, with axes in any order and negative")
    func exactIntegerSums() {
        let x = Tensor<Float>(shape: [2, 3, 4], scalars: (0..<24).map(Float.init))
        #expect(x.sum().scalars == [276])
        #expect(x.sum(alongAxes: [0, 2]) == Tensor([60, 92, 124]))
        #expect(x.sum(alongAxes: [2, 0]) == x.sum(alongAxes: [-1, -3]))
        #expect(x.sum(alongAxes: [1], keepingDimensions: true).shape == [2, 1, 4])
        #expect(x.mean(alongAxes: [2]).scalars == [1.5, 5.5, 9.5, 13.5, 17.5, 21.5])
        #expect(x.max(alongAxes: [0, 1]).scalars == [20, 21, 22, 23])
    }

    @Test("logSumExp of n equal values v is v + log n, also for huge |v|")
    func logSumExpClosedForm() {
        for value in [0.0, 1e300, -1e300, 700] {
            let x = Tensor<Double>(shape: [3, 5], repeating: value)
            let expected = value + Double.log(5)
            #expect(x.logSumExp(alongAxes: [1]).scalars.allSatisfy { Swift.abs($0 - expected) <= 1e-15 * Swift.max(1, Swift.abs(expected)) })
        }
        let infinite = Tensor<Double>([-.infinity, -.infinity]).logSumExp()
        #expect(infinite.scalar == -.infinity)
    }

    @Test("A NaN anywhere along the axis makes max and logSumExp NaN, as in NumPy, wherever it sits")
    func maxPropagatesNaN() {
        let x = Tensor<Float>(shape: [3, 3], scalars: [1, .nan, 2, .nan, 1, 2, 1, 2, .nan])
        #expect(x.max(alongAxes: [1]).scalars.allSatisfy { $0.isNaN })
        #expect(x.max().scalar.isNaN)
        #expect(x.max(alongAxes: [0]).scalars.allSatisfy { $0.isNaN })
        #expect(Tensor<Double>([1, 3, 2]).max().scalar == 3)
        #expect(x.logSumExp(alongAxes: [1]).scalars.allSatisfy { $0.isNaN })
        #expect(Tensor<Double>([.nan]).logSumExp().scalar.isNaN && Tensor<Double>([.nan, -.infinity]).logSumExp().scalar.isNaN)
    }

    @Test("Reducing a rank-0 tensor over no axes returns it unchanged")
    func rankZero() {
        let x = Tensor<Double>(3)
        #expect(x.sum() == x && x.max() == x && x.mean() == x && x.logSumExp() == x)
    }

    @Test("sum over an empty axis is zero")
    func emptySum() {
        let x = Tensor<Double>.zeros([2, 0, 3])
        #expect(x.sum(alongAxes: [1]) == Tensor.zeros([2, 3]))
    }

    @Test("unbroadcast sums a gradient back to the broadcast operand's shape", arguments: [
        ([2, 3, 4], [4]), ([2, 3, 4], [3, 1]), ([2, 3, 4], []), ([2, 3, 4], [2, 1, 4]), ([3, 1], [1]),
    ] as [([Int], [Int])])
    func unbroadcast(_ shape: [Int], _ target: [Int]) {
        var random = TestRandom(seed: 3)
        let upstream = random.tensor(shape)
        let reduced = upstream.unbroadcast(to: target)
        #expect(reduced.shape == target)
        // Reference: element t of the result is the sum of upstream over all indices that broadcast onto t.
        var expected = [Double](repeating: 0, count: target.reduce(1, *))
        let strides = broadcastStrides(target, to: shape)
        for flat in 0..<upstream.count {
            var remainder = flat, offset = 0
            for axis in stride(from: shape.count - 1, through: 0, by: -1) {
                offset += (remainder % shape[axis]) * strides[axis]
                remainder /= shape[axis]
            }
            expected[offset] += upstream.scalars[flat]
        }
        expectClose(reduced, Tensor(shape: target, scalars: expected), relative: 1e-14, absolute: 1e-14, "unbroadcast \(shape) → \(target)")
    }

    @Test("An axis out of range stops, naming the op, the axis and the shape")
    func axisOutOfRangeStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3]).sum(alongAxes: [2])
        }
        let message = standardErrorText(result)
        #expect(message.contains("sum") && message.contains("axis 2") && message.contains("[2, 3]"), "stderr: \(message)")

        let negative = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3]).logSumExp(alongAxes: [-3])
        }
        let negativeMessage = standardErrorText(negative)
        #expect(negativeMessage.contains("logSumExp") && negativeMessage.contains("-3") && negativeMessage.contains("[2, 3]"),
                "stderr: \(negativeMessage)")
    }

    @Test("A repeated axis stops, naming the op and the shape")
    func repeatedAxisStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>.zeros([2, 3]).mean(alongAxes: [1, -1])
        }
        let message = standardErrorText(result)
        #expect(message.contains("mean") && message.contains("[1, -1]") && message.contains("[2, 3]"), "stderr: \(message)")
    }

    @Test("max over an empty axis stops, naming the shape")
    func maxOverEmptyAxisStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>.zeros([2, 0]).max(alongAxes: [1])
        }
        let message = standardErrorText(result)
        #expect(message.contains("max") && message.contains("[2, 0]"), "stderr: \(message)")
    }

    @Test("unbroadcast to a shape that does not broadcast stops, naming both shapes")
    func badUnbroadcastStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>.zeros([2, 3]).unbroadcast(to: [2])
        }
        let message = standardErrorText(result)
        #expect(message.contains("unbroadcast") && message.contains("[2, 3]") && message.contains("[2]"), "stderr: \(message)")
    }
}
