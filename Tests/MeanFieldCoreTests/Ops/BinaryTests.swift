/// Element-wise arithmetic with broadcasting (Ops/Binary.swift). References: NumPy (Fixtures/binary.json,
/// scripts/make_core_fixtures.py) for values, NumPy's broadcasting rule written out by hand for shapes.
import Testing
@testable import MeanFieldCore

@Suite("Binary ops")
struct BinaryTests {
    @Test("+ − × ÷ with broadcasting and scalars match NumPy in Double and Float")
    func valuesMatchNumPy() throws {
        try checkFixtures("binary", tolerance: FixtureTolerance(doubleRelative: 1e-15, doubleAbsolute: 0))
    }

    @Test("broadcastShape follows NumPy's rule", arguments: [
        ([3, 4], [4], [3, 4]), ([3, 1], [1, 4], [3, 4]), ([], [2, 3], [2, 3]), ([2, 1, 3], [4, 1], [2, 4, 3]),
        ([1], [0], [0]), ([5, 0], [1, 1], [5, 0]), ([1, 1, 1], [], [1, 1, 1]),
    ] as [([Int], [Int], [Int])])
    func broadcastShapes(_ a: [Int], _ b: [Int], _ expected: [Int]) {
        #expect(broadcastShape(a, b, op: "test") == expected)
        #expect(broadcastShape(b, a, op: "test") == expected)
    }

    @Test("Broadcast strides are zero on broadcast axes and row-major elsewhere")
    func strides() {
        #expect(broadcastStrides([3, 1], to: [2, 3, 4]) == [0, 1, 0])
        #expect(broadcastStrides([2, 3, 4], to: [2, 3, 4]) == [12, 4, 1])
        #expect(broadcastStrides([], to: [2]) == [0])
    }

    @Test("Every broadcasting layout gives the element the index rule picks")
    func broadcastIndexRule() {
        // c[i, j, k] = a[i, 0, k] * 10 + b[j, 0] for a [2, 1, 3], b [4, 1]: checked element by element.
        let a = Tensor<Double>(shape: [2, 1, 3], scalars: (0..<6).map(Double.init))
        let b = Tensor<Double>(shape: [4, 1], scalars: [100, 200, 300, 400])
        let c = a * 10 + b
        #expect(c.shape == [2, 4, 3])
        for i in 0..<2 { for j in 0..<4 { for k in 0..<3 { #expect(c[i, j, k] == a[i, 0, k] * 10 + b[j, 0]) } } }
    }

    @Test("Empty tensors broadcast to empty results")
    func emptyTensors() {
        let empty = Tensor<Float>.zeros([0, 3])
        #expect((empty + Tensor<Float>.ones([3])).shape == [0, 3])
        #expect((empty * 2).shape == [0, 3])
        #expect((Tensor<Float>.ones([1, 3]) - empty).shape == [0, 3])
    }

    @Test("addScaled is self += scale · other")
    func addScaled() {
        var x = Tensor<Double>([1, 2, 3])
        x.addScaled(Tensor([10, 20, 30]), by: -0.5)
        #expect(x.scalars == [-4, -8, -12])
    }

    @Test("Shapes that do not broadcast stop, naming the op and both shapes")
    func mismatchStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3]) + Tensor<Float>.zeros([4])
        }
        let message = standardErrorText(result)
        #expect(message.contains("add") && message.contains("[2, 3]") && message.contains("[4]"), "stderr: \(message)")

        let divide = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>.ones([3, 1, 2]) / Tensor<Double>.ones([5, 3])
        }
        let divideMessage = standardErrorText(divide)
        #expect(divideMessage.contains("divide") && divideMessage.contains("[3, 1, 2]") && divideMessage.contains("[5, 3]"),
                "stderr: \(divideMessage)")
    }

    @Test("addScaled with different shapes stops, naming both shapes")
    func addScaledMismatchStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var x = Tensor<Float>.zeros([2, 3])
            x.addScaled(Tensor<Float>.zeros([3, 2]), by: 1)
        }
        let message = standardErrorText(result)
        #expect(message.contains("addScaled") && message.contains("[2, 3]") && message.contains("[3, 2]"), "stderr: \(message)")
    }
}
